//! Risk persistence: one assessment per payment, and the customer velocity the rules read.

use anyhow::Context as _;
use kit::{db::Db, db_span};
use sqlx::PgConnection;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::types::{Assessment, AssessmentRequest};

#[derive(Clone)]
pub struct RiskStore {
    db: Db,
}

#[derive(sqlx::FromRow)]
struct AssessmentRow {
    id: Uuid,
    payment_id: Uuid,
    decision: String,
    score: i16,
    path: String,
}

impl AssessmentRow {
    fn into_assessment(self) -> anyhow::Result<Assessment> {
        Ok(Assessment {
            id: self.id,
            payment_id: self.payment_id,
            decision: self.decision.parse().map_err(anyhow::Error::msg)?,
            score: self.score,
            path: self.path.parse().map_err(anyhow::Error::msg)?,
        })
    }
}

impl RiskStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The stored assessment for a payment, if it was assessed before.
    pub async fn assessment_for(&self, payment_id: Uuid) -> anyhow::Result<Option<Assessment>> {
        async {
            let mut conn = self.db.acquire().await.context("acquiring a connection")?;
            let row: Option<AssessmentRow> = sqlx::query_as(
                "SELECT id, payment_id, decision, score, path FROM assessments WHERE payment_id = $1",
            )
            .bind(payment_id)
            .fetch_optional(&mut *conn)
            .await
            .context("selecting the assessment")?;
            row.map(AssessmentRow::into_assessment).transpose()
        }
        .instrument(db_span!("SELECT", "risk.assessments"))
        .await
    }

    /// Assessments of this customer in the last hour.
    pub async fn recent_assessments(&self, customer_id: &str) -> anyhow::Result<i64> {
        async {
            let mut conn = self.db.acquire().await.context("acquiring a connection")?;
            count_recent(&mut conn, customer_id).await
        }
        .instrument(db_span!("SELECT", "risk.assessments"))
        .await
    }

    /// Stores the assessment; if the payment was assessed concurrently, the first one wins and
    /// is returned.
    pub async fn record(
        &self,
        request: &AssessmentRequest,
        assessment: &Assessment,
    ) -> anyhow::Result<Assessment> {
        async {
            let mut conn = self.db.acquire().await.context("acquiring a connection")?;
            let row: AssessmentRow = sqlx::query_as(
                "WITH inserted AS ( \
                   INSERT INTO assessments (id, payment_id, merchant_id, customer_id, amount, currency, decision, score, path) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (payment_id) DO NOTHING \
                   RETURNING id, payment_id, decision, score, path) \
                 SELECT * FROM inserted \
                 UNION ALL \
                 SELECT id, payment_id, decision, score, path FROM assessments WHERE payment_id = $2 \
                 LIMIT 1",
            )
            .bind(assessment.id)
            .bind(request.payment_id)
            .bind(&request.merchant_id)
            .bind(&request.customer_id)
            .bind(request.amount)
            .bind(&request.currency)
            .bind(assessment.decision.as_str())
            .bind(assessment.score)
            .bind(assessment.path.as_str())
            .fetch_one(&mut *conn)
            .await
            .context("inserting the assessment")?;
            row.into_assessment()
        }
        .instrument(db_span!("INSERT", "risk.assessments"))
        .await
    }
}

/// Shared by the rules and the deep-scoring shards (which bring their own connection).
pub async fn count_recent(conn: &mut PgConnection, customer_id: &str) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM assessments \
         WHERE customer_id = $1 AND created_at > now() - interval '1 hour'",
    )
    .bind(customer_id)
    .fetch_one(conn)
    .await
    .context("counting recent assessments")
}
