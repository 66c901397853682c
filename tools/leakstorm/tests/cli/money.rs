//! Money is never created, lost or moved twice: the invariant checker on real data (and proof
//! that it catches a broken ledger), and recovery of payments a crash left pending.

use std::time::{Duration, Instant};

use crate::support::Fleet;
use leakstorm::verify::check as verify;
use serde_json::json;
use sqlx::{Connection as _, PgConnection};
use uuid::Uuid;

async fn connect(fleet: &Fleet) -> PgConnection {
    PgConnection::connect(fleet.database_url())
        .await
        .expect("connect")
}

fn broken(invariants: &[verify::Invariant]) -> Vec<&'static str> {
    invariants
        .iter()
        .filter(|i| !i.holds())
        .map(|i| i.name)
        .collect()
}

#[tokio::test]
async fn verify_holds_on_real_payments_and_names_a_deliberately_unbalanced_posting() {
    let fleet = Fleet::start(vec![("risk", "RISK_MODE", "fixed")]).await;
    for amount in [1_000, 2_500, 60_000] {
        assert_eq!(fleet.pay(amount).await.0, 201);
    }
    let bound = Duration::from_secs(60);
    let invariants = verify::check(fleet.database_url(), bound)
        .await
        .expect("checks run");
    assert!(broken(&invariants).is_empty(), "{invariants:#?}");
    let authorized: i64 =
        sqlx::query_scalar("SELECT count(*) FROM payments.payments WHERE status = 'authorized'")
            .fetch_one(&mut connect(&fleet).await)
            .await
            .expect("count");
    assert!(authorized >= 2, "the checks saw real transfers");

    // Break the ledger behind the services' back (triggers off, as only an operator could).
    let mut conn = connect(&fleet).await;
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut conn)
        .await
        .expect("set");
    sqlx::query(
        "INSERT INTO ledger.postings (transfer_id, account_id, currency, amount) \
         SELECT id, 'merchant:merchant_demo', currency, 1 FROM ledger.transfers LIMIT 1",
    )
    .execute(&mut conn)
    .await
    .expect("unbalanced posting written");
    let invariants = verify::check(fleet.database_url(), bound)
        .await
        .expect("checks run");
    assert_eq!(
        broken(&invariants),
        [
            "ledger postings sum to zero overall",
            "every transfer is two postings summing to zero"
        ]
    );

    // The command says so too, and exits non-zero.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_leakstorm"))
        .args(["verify", "--database-url", fleet.database_url()])
        .output()
        .await
        .expect("runs");
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("FAIL every transfer is two postings summing to zero"),
        "{stdout}"
    );
    fleet.stop().await;
}

/// A payment row as payments writes it, left `pending` as a crash would leave it.
async fn pending_payment(conn: &mut PgConnection, risk_decision: Option<&str>) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO payments.payments (id, merchant_id, idempotency_key, request_hash, customer_id, amount, \
           currency, card_brand, card_last4, card_fingerprint, risk_decision, risk_score, risk_path, updated_at) \
         VALUES ($1, 'merchant_demo', $2, 'h', 'cus_crash', 1500, 'EUR', 'visa', '4242', 'f', $3, \
           CASE WHEN $3 IS NULL THEN NULL ELSE 10 END, CASE WHEN $3 IS NULL THEN NULL ELSE 'fast' END, \
           now() - interval '5 seconds')",
    )
    .bind(id)
    .bind(Uuid::new_v4().to_string())
    .bind(risk_decision)
    .execute(conn)
    .await
    .expect("pending payment written");
    id
}

#[tokio::test]
async fn recovery_settles_payments_a_crash_left_pending_without_moving_money_twice() {
    let fleet = Fleet::start(vec![
        ("payments", "RECOVERY_INTERVAL_MS", "300"),
        ("payments", "RECOVERY_STUCK_AFTER_MS", "1000"),
    ])
    .await;
    let mut conn = connect(&fleet).await;
    // Crashed right after creating the payment; after risk approved it; after the ledger
    // committed its transfer but before the payment was marked authorized.
    let before_risk = pending_payment(&mut conn, None).await;
    let after_risk = pending_payment(&mut conn, Some("approve")).await;
    let after_ledger = pending_payment(&mut conn, Some("approve")).await;
    let ledger = fleet.fleet().url("ledger").expect("ledger");
    let transfer: serde_json::Value = reqwest::Client::new()
        .post(format!("{ledger}/v1/transfers"))
        .json(&json!({"payment_id": after_ledger, "debit_account": "customer:cus_crash",
                      "credit_account": "merchant:merchant_demo", "amount": 1500, "currency": "EUR"}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("transfer");

    let started = Instant::now();
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM payments.payments WHERE status = 'pending'")
                .fetch_one(&mut conn)
                .await
                .expect("count");
        if pending == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "recovery settled them within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for id in [before_risk, after_risk, after_ledger] {
        let (status, transfers): (String, i64) = sqlx::query_as(
            "SELECT p.status, (SELECT count(*) FROM ledger.transfers t WHERE t.payment_id = p.id) \
             FROM payments.payments p WHERE p.id = $1",
        )
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .expect("payment");
        assert_eq!(
            (status.as_str(), transfers),
            ("authorized", 1),
            "payment {id}"
        );
    }
    let kept: Uuid = sqlx::query_scalar("SELECT transfer_id FROM payments.payments WHERE id = $1")
        .bind(after_ledger)
        .fetch_one(&mut conn)
        .await
        .expect("transfer id");
    assert_eq!(
        kept.to_string(),
        transfer["id"].as_str().expect("id"),
        "the existing transfer was reused"
    );
    let invariants = verify::check(fleet.database_url(), Duration::from_secs(60))
        .await
        .expect("checks run");
    assert!(broken(&invariants).is_empty(), "{invariants:#?}");
    fleet.stop().await;
}
