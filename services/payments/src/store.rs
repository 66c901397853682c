//! Payments persistence. Every status change is a guarded `UPDATE ... WHERE status = 'pending'`,
//! so a payment reaches a terminal status once and never leaves it.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use contract::{
    money::{Amount, Currency},
    risk::Assessment,
};
use kit::{db::Db, db_span};
use tracing::Instrument as _;
use uuid::Uuid;

use crate::types::{
    CreatePayment, CustomerId, IdempotencyKey, MerchantId, Payment, PaymentMethodView,
    PaymentStatus, RiskView,
};

/// A payment with the bookkeeping the API does not show.
#[derive(Debug, Clone)]
pub struct StoredPayment {
    pub payment: Payment,
    pub request_hash: String,
}

pub enum Inserted {
    New(StoredPayment),
    /// A payment already exists for this merchant and idempotency key.
    Existing(StoredPayment),
}

#[derive(Clone)]
pub struct PaymentStore {
    db: Db,
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: Uuid,
    merchant_id: String,
    request_hash: String,
    customer_id: String,
    amount: i64,
    currency: String,
    card_brand: String,
    card_last4: String,
    card_fingerprint: String,
    status: String,
    risk_decision: Option<String>,
    risk_score: Option<i16>,
    risk_path: Option<String>,
    failure_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, merchant_id, request_hash, customer_id, amount, currency, card_brand, \
     card_last4, card_fingerprint, status, risk_decision, risk_score, risk_path, failure_reason, \
     created_at, updated_at";

impl PaymentRow {
    /// Rows were validated on the way in; a failure here means the table was edited by hand.
    fn into_stored(self) -> anyhow::Result<StoredPayment> {
        let msg = anyhow::Error::msg;
        let risk = match (self.risk_decision, self.risk_score, self.risk_path) {
            (Some(decision), Some(score), Some(path)) => Some(RiskView {
                decision: decision.parse().map_err(msg)?,
                score,
                path: path.parse().map_err(msg)?,
            }),
            _ => None,
        };
        Ok(StoredPayment {
            request_hash: self.request_hash,
            payment: Payment {
                id: self.id,
                status: self.status.parse().map_err(msg)?,
                amount: Amount::try_from(self.amount).map_err(msg)?,
                currency: Currency::try_from(self.currency).map_err(msg)?,
                merchant_id: MerchantId::try_from(self.merchant_id).map_err(msg)?,
                customer_id: CustomerId::try_from(self.customer_id).map_err(msg)?,
                payment_method: PaymentMethodView {
                    kind: "card".to_owned(),
                    brand: self.card_brand,
                    last4: self.card_last4,
                    fingerprint: self.card_fingerprint,
                },
                risk,
                failure_reason: self.failure_reason,
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
        })
    }
}

impl PaymentStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Creates the payment `pending`, or finds the one already made with this key. Concurrent
    /// requests with one key race on the unique index: exactly one inserts.
    pub async fn insert_pending(
        &self,
        key: &IdempotencyKey,
        request: &CreatePayment,
        request_hash: &str,
    ) -> anyhow::Result<Inserted> {
        async {
            let mut conn = self.db.acquire().await.context("acquiring a connection")?;
            let inserted: Option<PaymentRow> = sqlx::query_as(&format!(
                "INSERT INTO payments (id, merchant_id, idempotency_key, request_hash, customer_id, \
                   amount, currency, card_brand, card_last4, card_fingerprint) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (merchant_id, idempotency_key) DO NOTHING RETURNING {COLUMNS}"
            ))
            .bind(Uuid::now_v7())
            .bind(request.merchant_id.as_str())
            .bind(key.as_str())
            .bind(request_hash)
            .bind(request.customer_id.as_str())
            .bind(request.amount.minor_units())
            .bind(request.currency.code())
            .bind(&request.card.brand)
            .bind(&request.card.last4)
            .bind(&request.card.fingerprint)
            .fetch_optional(&mut *conn)
            .await
            .context("inserting the payment")?;
            if let Some(row) = inserted {
                return Ok(Inserted::New(row.into_stored()?));
            }
            let existing: PaymentRow = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM payments WHERE merchant_id = $1 AND idempotency_key = $2"
            ))
            .bind(request.merchant_id.as_str())
            .bind(key.as_str())
            .fetch_one(&mut *conn)
            .await
            .context("selecting the payment made with this idempotency key")?;
            Ok(Inserted::Existing(existing.into_stored()?))
        }
        .instrument(db_span!("INSERT", "payments.payments"))
        .await
    }

    pub async fn get(&self, id: Uuid) -> anyhow::Result<Option<StoredPayment>> {
        async {
            let mut conn = self.db.acquire().await.context("acquiring a connection")?;
            let row: Option<PaymentRow> =
                sqlx::query_as(&format!("SELECT {COLUMNS} FROM payments WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .context("selecting the payment")?;
            row.map(PaymentRow::into_stored).transpose()
        }
        .instrument(db_span!("SELECT", "payments.payments"))
        .await
    }

    /// Remembers risk's answer while the payment is still pending, so that a restart can finish
    /// the payment without asking again.
    pub async fn record_risk(&self, id: Uuid, assessment: &Assessment) -> anyhow::Result<()> {
        async {
            let mut conn = self.db.acquire().await.context("acquiring a connection")?;
            sqlx::query(
                "UPDATE payments SET risk_decision = $2, risk_score = $3, risk_path = $4, updated_at = now() \
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .bind(assessment.decision.as_str())
            .bind(assessment.score)
            .bind(assessment.path.as_str())
            .execute(&mut *conn)
            .await
            .context("recording the risk decision")?;
            Ok(())
        }
        .instrument(db_span!("UPDATE", "payments.payments"))
        .await
    }

    /// Moves a pending payment to a terminal status (once: a payment already terminal is
    /// returned unchanged).
    pub async fn finish(
        &self,
        id: Uuid,
        status: PaymentStatus,
        failure_reason: Option<&str>,
        transfer_id: Option<Uuid>,
    ) -> anyhow::Result<StoredPayment> {
        debug_assert!(status.is_terminal());
        async {
            let mut conn = self.db.acquire().await.context("acquiring a connection")?;
            let updated: Option<PaymentRow> = sqlx::query_as(&format!(
                "UPDATE payments SET status = $2, failure_reason = $3, transfer_id = $4, updated_at = now() \
                 WHERE id = $1 AND status = 'pending' RETURNING {COLUMNS}"
            ))
            .bind(id)
            .bind(status.as_str())
            .bind(failure_reason)
            .bind(transfer_id)
            .fetch_optional(&mut *conn)
            .await
            .context("finishing the payment")?;
            let row = match updated {
                Some(row) => row,
                None => sqlx::query_as(&format!("SELECT {COLUMNS} FROM payments WHERE id = $1"))
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .context("selecting the already-finished payment")?,
            };
            row.into_stored()
        }
        .instrument(db_span!("UPDATE", "payments.payments"))
        .await
    }

    /// Pending payments not touched for `older_than_secs`, oldest first.
    pub async fn stuck_pending(
        &self,
        older_than_secs: f64,
        limit: i64,
    ) -> anyhow::Result<Vec<StoredPayment>> {
        async {
            let mut conn = self.db.acquire().await.context("acquiring a connection")?;
            let rows: Vec<PaymentRow> = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM payments WHERE status = 'pending' \
                 AND updated_at < now() - make_interval(secs => $1) ORDER BY updated_at LIMIT $2"
            ))
            .bind(older_than_secs)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await
            .context("selecting stuck payments")?;
            rows.into_iter().map(PaymentRow::into_stored).collect()
        }
        // A poll every few seconds: below the export filter, so it does not fill the trace store
        // with one-span traces. Re-drives it finds are traced (see `flow::drive`).
        .instrument(tracing::debug_span!("poll stuck payments"))
        .await
    }
}
