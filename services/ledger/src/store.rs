//! Ledger persistence: transfers and their postings, written in one transaction.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use kit::{db::Db, db_span, deadline::Deadline};
use tracing::Instrument as _;
use uuid::Uuid;

use crate::{
    money::{Amount, Currency},
    screening::{Plan, Screening, ScreeningTimedOut},
    types::{AccountId, CurrencyBalance, Posting, Transfer, TransferRequest},
};

/// What recording a transfer did.
#[derive(Debug)]
pub enum Recorded {
    Created(Transfer),
    /// The same transfer was already recorded for this payment: nothing moved twice.
    Replayed(Transfer),
    /// A different transfer already exists for this payment.
    Conflict(Transfer),
}

#[derive(Clone)]
pub struct LedgerStore {
    db: Db,
    screening: Screening,
}

/// Why a transfer was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    ScreeningTimedOut(#[from] ScreeningTimedOut),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(sqlx::FromRow)]
struct TransferRow {
    id: Uuid,
    payment_id: Uuid,
    debit_account: String,
    credit_account: String,
    amount: i64,
    currency: String,
    created_at: DateTime<Utc>,
}

impl TransferRow {
    /// Rows were validated on the way in; a failure here means the table was edited by hand.
    fn into_transfer(self) -> anyhow::Result<Transfer> {
        let debit = AccountId::try_from(self.debit_account).map_err(anyhow::Error::msg)?;
        let credit = AccountId::try_from(self.credit_account).map_err(anyhow::Error::msg)?;
        let amount = Amount::try_from(self.amount).map_err(anyhow::Error::msg)?;
        let currency = Currency::try_from(self.currency).map_err(anyhow::Error::msg)?;
        Ok(Transfer {
            id: self.id,
            payment_id: self.payment_id,
            postings: postings_for(&debit, &credit, amount),
            debit_account: debit,
            credit_account: credit,
            amount,
            currency,
            created_at: self.created_at,
        })
    }
}

/// The two legs of a transfer: they sum to zero by construction.
fn postings_for(debit: &AccountId, credit: &AccountId, amount: Amount) -> Vec<Posting> {
    vec![
        Posting {
            account_id: debit.clone(),
            amount: -amount.minor_units(),
        },
        Posting {
            account_id: credit.clone(),
            amount: amount.minor_units(),
        },
    ]
}

const SELECT_TRANSFER: &str = "SELECT id, payment_id, debit_account, credit_account, amount, \
     currency, created_at FROM transfers WHERE payment_id = $1";

impl LedgerStore {
    pub fn new(db: Db, screening: Screening) -> Self {
        Self { db, screening }
    }

    /// Records the transfer for a payment exactly once: the transfer row and both postings
    /// commit together or not at all, and a second request for the same payment moves nothing.
    /// A large transfer is screened first (fixed) or inside the transaction (leaky: the
    /// `held-connection` scenario, see `screening.rs`).
    pub async fn record_transfer(
        &self,
        request: &TransferRequest,
        deadline: Deadline,
    ) -> Result<Recorded, RecordError> {
        let plan = self.screening.plan(request);
        self.screening.before_transaction(plan, deadline).await?;
        Ok(self.write_transfer(request, plan).await?)
    }

    async fn write_transfer(
        &self,
        request: &TransferRequest,
        plan: Plan,
    ) -> anyhow::Result<Recorded> {
        async {
            let mut tx = self.db.begin().await.context("beginning the transfer transaction")?;
            let inserted: Option<TransferRow> = sqlx::query_as(
                "INSERT INTO transfers (id, payment_id, debit_account, credit_account, amount, currency) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (payment_id) DO NOTHING \
                 RETURNING id, payment_id, debit_account, credit_account, amount, currency, created_at",
            )
            .bind(Uuid::now_v7())
            .bind(request.payment_id)
            .bind(request.debit_account.as_str())
            .bind(request.credit_account.as_str())
            .bind(request.amount.minor_units())
            .bind(request.currency.code())
            .fetch_optional(&mut *tx)
            .await
            .context("inserting the transfer")?;

            let Some(row) = inserted else {
                tx.rollback().await.context("rolling back a replayed transfer")?;
                let existing = self
                    .transfer_for_payment(request.payment_id)
                    .await?
                    .context("the conflicting transfer vanished")?;
                return Ok(if existing.matches(request) {
                    Recorded::Replayed(existing)
                } else {
                    Recorded::Conflict(existing)
                });
            };
            let transfer = row.into_transfer()?;
            self.screening.inside_transaction(plan).await;
            for posting in &transfer.postings {
                sqlx::query(
                    "INSERT INTO postings (transfer_id, account_id, currency, amount) VALUES ($1, $2, $3, $4)",
                )
                .bind(transfer.id)
                .bind(posting.account_id.as_str())
                .bind(transfer.currency.code())
                .bind(posting.amount)
                .execute(&mut *tx)
                .await
                .context("inserting a posting")?;
            }
            tx.commit().await.context("committing the transfer")?;
            Ok(Recorded::Created(transfer))
        }
        .instrument(db_span!("INSERT", "ledger.transfers"))
        .await
    }

    pub async fn transfer_for_payment(&self, payment_id: Uuid) -> anyhow::Result<Option<Transfer>> {
        async {
            let mut conn = self.db.acquire().await.context("acquiring a connection")?;
            let row: Option<TransferRow> = sqlx::query_as(SELECT_TRANSFER)
                .bind(payment_id)
                .fetch_optional(&mut *conn)
                .await
                .context("selecting the transfer")?;
            row.map(TransferRow::into_transfer).transpose()
        }
        .instrument(db_span!("SELECT", "ledger.transfers"))
        .await
    }

    pub async fn balances(&self, account: &AccountId) -> anyhow::Result<Vec<CurrencyBalance>> {
        async {
            let mut conn = self.db.acquire().await.context("acquiring a connection")?;
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT currency, sum(amount)::bigint FROM postings WHERE account_id = $1 \
                 GROUP BY currency ORDER BY currency",
            )
            .bind(account.as_str())
            .fetch_all(&mut *conn)
            .await
            .context("summing postings")?;
            rows.into_iter()
                .map(|(currency, amount)| {
                    let currency = Currency::try_from(currency).map_err(anyhow::Error::msg)?;
                    Ok(CurrencyBalance { currency, amount })
                })
                .collect()
        }
        .instrument(db_span!("SELECT", "ledger.postings"))
        .await
    }
}
