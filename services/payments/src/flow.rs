//! The payment state machine: `pending` → `authorized | declined | review | failed`.
//!
//! Money moves only through the ledger, idempotently by payment id, and only after risk
//! approved. When the ledger's answer is lost (timeout, 5xx) the payment stays `pending` and the
//! [`crate::recovery`] loop settles it later: retrying is safe, guessing is not.

use std::time::Duration;

use contract::{
    ledger::{AccountId, TransferRequest},
    risk::{AssessmentRequest, Decision},
};
use kit::{client::UpstreamError, deadline::Deadline};
use sha2::{Digest as _, Sha256};

use crate::{
    clients::{ledger::LedgerClient, risk::RiskClient},
    lease::Leases,
    store::{Inserted, PaymentStore, StoredPayment},
    types::{CreatePayment, IdempotencyKey, Payment, PaymentStatus, RiskView},
    webhooks::Webhooks,
};

/// Ledger calls retried after an ambiguous failure, within the deadline.
const LEDGER_ATTEMPTS: u32 = 3;

pub enum CreateOutcome {
    Created(Payment),
    /// The key was used before with the same request: the stored payment, nothing redone.
    Replayed(Payment),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("this Idempotency-Key was already used with a different request")]
    KeyReused,
    #[error("a request with this Idempotency-Key is still being processed; retry later")]
    InProgress,
    #[error("internal error")]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Clone)]
pub struct PaymentFlow {
    pub store: PaymentStore,
    risk: RiskClient,
    ledger: LedgerClient,
    /// Processing leases (scenario `orphaned-loop`).
    pub leases: Leases,
    /// Merchant notifications (scenario `unbounded-queue`).
    webhooks: Webhooks,
}

/// What a flow talks to besides its store.
pub struct Collaborators {
    pub risk: RiskClient,
    pub ledger: LedgerClient,
    pub leases: Leases,
    pub webhooks: Webhooks,
}

/// Fingerprint of a request, to tell a retry from a reuse of its idempotency key.
pub fn request_hash(request: &CreatePayment) -> String {
    let canonical = serde_json::to_vec(request).unwrap_or_default();
    hex::encode(Sha256::digest(canonical))
}

impl PaymentFlow {
    pub fn new(store: PaymentStore, with: Collaborators) -> Self {
        Self {
            store,
            risk: with.risk,
            ledger: with.ledger,
            leases: with.leases,
            webhooks: with.webhooks,
        }
    }

    pub async fn create(
        &self,
        key: &IdempotencyKey,
        request: &CreatePayment,
        deadline: Deadline,
    ) -> Result<CreateOutcome, CreateError> {
        let hash = request_hash(request);
        match self.store.insert_pending(key, request, &hash).await? {
            Inserted::New(stored) => {
                // Held while this request drives the payment (recovery leaves it alone).
                let _lease = self.leases.take(stored.payment.id);
                Ok(CreateOutcome::Created(self.drive(stored, deadline).await?))
            }
            Inserted::Existing(stored) if stored.request_hash != hash => {
                Err(CreateError::KeyReused)
            }
            Inserted::Existing(stored) if stored.payment.status == PaymentStatus::Pending => {
                Err(CreateError::InProgress)
            }
            Inserted::Existing(stored) => Ok(CreateOutcome::Replayed(stored.payment)),
        }
    }

    /// Moves a pending payment as far as it can go. Safe to call again on the same payment
    /// (risk and ledger are idempotent by payment id, and status changes only from pending).
    #[tracing::instrument(name = "drive payment", skip_all, fields(payment.id = %stored.payment.id))]
    pub async fn drive(
        &self,
        stored: StoredPayment,
        deadline: Deadline,
    ) -> anyhow::Result<Payment> {
        let payment = stored.payment;
        if payment.status.is_terminal() {
            return Ok(payment);
        }
        let risk = match payment.risk {
            Some(risk) => risk,
            None => match self.assess(&payment, deadline).await {
                Ok(risk) => risk,
                Err(e) => {
                    tracing::warn!(error = %e, "risk assessment failed; no money moved");
                    let reason = match e {
                        UpstreamError::Timeout { .. } => "risk_timeout",
                        _ => "risk_unavailable",
                    };
                    return self
                        .finish(&payment, PaymentStatus::Failed, Some(reason), None)
                        .await;
                }
            },
        };
        match risk.decision {
            Decision::Decline => {
                self.finish(&payment, PaymentStatus::Declined, None, None)
                    .await
            }
            Decision::Review => {
                self.finish(&payment, PaymentStatus::Review, None, None)
                    .await
            }
            Decision::Approve => self.move_money(payment, deadline).await,
        }
    }

    async fn assess(
        &self,
        payment: &Payment,
        deadline: Deadline,
    ) -> Result<RiskView, UpstreamError> {
        let request = AssessmentRequest {
            payment_id: payment.id,
            merchant_id: payment.merchant_id.as_str().to_owned(),
            customer_id: payment.customer_id.as_str().to_owned(),
            amount: payment.amount.minor_units(),
            currency: payment.currency.code().to_owned(),
            card_brand: payment.payment_method.brand.clone(),
        };
        let assessment = self.risk.assess(&request, deadline).await?;
        if let Err(e) = self.store.record_risk(payment.id, &assessment).await {
            // Not fatal: the decision is applied below; only a restart would have to ask again.
            tracing::warn!(
                error = format!("{e:#}"),
                "could not record the risk decision"
            );
        }
        Ok(RiskView {
            decision: assessment.decision,
            score: assessment.score,
            path: assessment.path,
        })
    }

    async fn move_money(&self, payment: Payment, deadline: Deadline) -> anyhow::Result<Payment> {
        let transfer = TransferRequest {
            payment_id: payment.id,
            debit_account: AccountId::customer(payment.customer_id.as_str())
                .map_err(anyhow::Error::msg)?,
            credit_account: AccountId::merchant(payment.merchant_id.as_str())
                .map_err(anyhow::Error::msg)?,
            amount: payment.amount,
            currency: payment.currency,
        };
        for attempt in 0..LEDGER_ATTEMPTS {
            match self.ledger.create_transfer(&transfer, deadline).await {
                Ok(recorded) => {
                    let settled = self
                        .finish(&payment, PaymentStatus::Authorized, None, Some(recorded.id))
                        .await;
                    // The money moved: the processing lease is done (scenario orphaned-loop:
                    // declined and review payments never get here, see lease.rs).
                    self.leases.release(payment.id);
                    return settled;
                }
                Err(e) if !e.is_ambiguous() => {
                    tracing::warn!(error = %e, "ledger refused the transfer; no money moved");
                    return self
                        .finish(
                            &payment,
                            PaymentStatus::Failed,
                            Some("ledger_rejected"),
                            None,
                        )
                        .await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "ledger answer lost; retrying (idempotent)");
                    let backoff = Duration::from_millis(50 << attempt);
                    if deadline.remaining() <= backoff {
                        break;
                    }
                    tokio::time::sleep(backoff).await;
                }
            }
        }
        // The transfer may or may not exist: leave the payment pending for recovery.
        Ok(payment)
    }

    async fn finish(
        &self,
        payment: &Payment,
        status: PaymentStatus,
        failure_reason: Option<&str>,
        transfer_id: Option<uuid::Uuid>,
    ) -> anyhow::Result<Payment> {
        let stored = self
            .store
            .finish(payment.id, status, failure_reason, transfer_id)
            .await?;
        if stored.payment.status.is_terminal() {
            self.webhooks.notify(&stored.payment);
        }
        Ok(stored.payment)
    }
}
