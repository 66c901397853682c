//! The money invariants, checked on a fleet's database: what `leakstorm verify` prints and what
//! `leakstorm chaos` asserts after killing services.

use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;
use sqlx::{Connection as _, PgConnection};

/// One invariant and what the database says about it.
#[derive(Debug, Clone, Serialize)]
pub struct Invariant {
    pub name: &'static str,
    /// Rows that break it (0 when it holds).
    pub violations: i64,
    /// A few of them, for the reader.
    pub examples: Vec<String>,
}

impl Invariant {
    pub fn holds(&self) -> bool {
        self.violations == 0
    }
}

struct Check {
    name: &'static str,
    /// Returns one text row per violation.
    sql: &'static str,
}

const CHECKS: &[Check] = &[
    Check {
        name: "ledger postings sum to zero overall",
        sql: "SELECT 'sum of all postings: ' || s FROM (SELECT coalesce(sum(amount), 0) AS s FROM ledger.postings) t WHERE s <> 0",
    },
    Check {
        name: "every transfer is two postings summing to zero",
        sql: "SELECT 'transfer ' || t.id || ': ' || count(p.id) || ' postings, sum ' || coalesce(sum(p.amount), 0) \
              FROM ledger.transfers t LEFT JOIN ledger.postings p ON p.transfer_id = t.id \
              GROUP BY t.id HAVING count(p.id) <> 2 OR coalesce(sum(p.amount), 0) <> 0",
    },
    Check {
        name: "every authorized payment has exactly one transfer, of its amount and currency",
        sql: "SELECT 'payment ' || p.id || ': ' || count(t.id) || ' transfers' \
              FROM payments.payments p LEFT JOIN ledger.transfers t \
                ON t.payment_id = p.id AND t.amount = p.amount AND t.currency = p.currency \
              WHERE p.status = 'authorized' GROUP BY p.id HAVING count(t.id) <> 1",
    },
    Check {
        name: "no settled payment other than an authorized one has a transfer",
        sql: "SELECT 'payment ' || p.id || ' is ' || p.status || ' but has transfer ' || t.id \
              FROM ledger.transfers t JOIN payments.payments p ON p.id = t.payment_id \
              WHERE p.status IN ('declined', 'review', 'failed')",
    },
    Check {
        name: "every transfer belongs to a payment",
        sql: "SELECT 'transfer ' || t.id || ' for unknown payment ' || t.payment_id \
              FROM ledger.transfers t LEFT JOIN payments.payments p ON p.id = t.payment_id WHERE p.id IS NULL",
    },
    Check {
        name: "no two payments share an idempotency key",
        sql: "SELECT merchant_id || '/' || idempotency_key || ': ' || count(*) || ' payments' \
              FROM payments.payments GROUP BY merchant_id, idempotency_key HAVING count(*) > 1",
    },
];

/// Runs every check. `pending_bound` is how long a payment may stay `pending` (recovery settles
/// it within its stuck-after time plus one interval).
/// The names of the invariants that do not hold.
pub fn broken(invariants: &[Invariant]) -> Vec<&'static str> {
    invariants
        .iter()
        .filter(|i| !i.holds())
        .map(|i| i.name)
        .collect()
}

pub async fn check(database_url: &str, pending_bound: Duration) -> anyhow::Result<Vec<Invariant>> {
    let mut conn = PgConnection::connect(database_url)
        .await
        .with_context(|| "connecting to the fleet's database (--database-url)")?;
    let mut results = Vec::new();
    for check in CHECKS {
        let rows: Vec<String> = sqlx::query_scalar(check.sql)
            .fetch_all(&mut conn)
            .await
            .with_context(|| format!("checking: {}", check.name))?;
        results.push(invariant(check.name, rows));
    }
    let stuck: Vec<String> = sqlx::query_scalar(
        "SELECT 'payment ' || id || ' pending since ' || updated_at FROM payments.payments \
         WHERE status = 'pending' AND updated_at < now() - make_interval(secs => $1)",
    )
    .bind(pending_bound.as_secs_f64())
    .fetch_all(&mut conn)
    .await
    .context("checking for stuck payments")?;
    results.push(invariant(
        "no payment stays pending longer than the bound",
        stuck,
    ));
    conn.close().await.ok();
    Ok(results)
}

fn invariant(name: &'static str, rows: Vec<String>) -> Invariant {
    Invariant {
        name,
        violations: rows.len() as i64,
        examples: rows.into_iter().take(5).collect(),
    }
}

/// Totals worth printing next to the invariants.
pub async fn totals(database_url: &str) -> anyhow::Result<Vec<(String, i64)>> {
    let mut conn = PgConnection::connect(database_url)
        .await
        .context("connecting to the database")?;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT 'payments ' || status, count(*) FROM payments.payments GROUP BY status \
         UNION ALL SELECT 'transfers', count(*) FROM ledger.transfers \
         UNION ALL SELECT 'postings', count(*) FROM ledger.postings ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .context("counting payments and transfers")?;
    conn.close().await.ok();
    Ok(rows)
}
