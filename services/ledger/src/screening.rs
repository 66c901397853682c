//! Compliance screening: the `held-connection` scenario, and its fix.
//!
//! A transfer of at least `LEDGER_SCREENING_MIN_AMOUNT` (200.00) is screened against a sanctions
//! list before it is recorded — a call to an external screening service that takes its time (1 s
//! in the incident configuration). Where that call sits is the whole story:
//!
//! - **leaky** screens inside the transfer's transaction, after the transfer row is written: the
//!   transaction holds a pooled connection for the whole second. Ten connections serve ten
//!   screenings at a time; at twenty transfers a second the pool runs dry, every caller of the
//!   ledger queues for a connection (balance reads that never screen too), waits pass the
//!   callers' deadlines, and every path through the ledger falls off a cliff. No memory growth,
//!   no task growth: the pool's figures give it away — connections in use at the maximum,
//!   callers waiting (`db_client_connection_pending_requests`), waits and connection hold times
//!   (`db_client_connection_use_time_seconds`) of a second and more. (Oxide's "futurelock" and
//!   the sqlx pool timeouts of many a bug report are this shape.)
//! - **fixed** screens first, within the caller's deadline, and takes a connection only for the
//!   few milliseconds the writes need: the limit (a connection) is taken after the slow work,
//!   never across it. A screening that cannot finish in time refuses the transfer before
//!   anything is written (503, and the payment stays pending for recovery: no money moves twice).

use std::time::Duration;

use kit::{
    deadline::Deadline,
    scenarios::{Mode, ScenarioSwitch},
};
use tracing::Instrument as _;

use crate::types::TransferRequest;

#[derive(Debug, Clone, Copy)]
pub struct ScreeningSettings {
    /// `LEDGER_SCREENING_LATENCY_MS`: how long the screening service takes (1 s).
    pub latency: Duration,
    /// `LEDGER_SCREENING_MIN_AMOUNT`: transfers of at least this many minor units are screened.
    pub min_amount: i64,
}

#[derive(Clone)]
pub struct Screening {
    settings: ScreeningSettings,
    mode: ScenarioSwitch,
}

/// Where one transfer is screened, decided once when it arrives (a mode switch meanwhile does
/// not screen it twice, or not at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    NotNeeded,
    /// THE FIX: before the transaction takes a connection.
    BeforeTransaction,
    /// THE BUG: inside the transaction, holding its connection.
    InsideTransaction,
}

#[derive(Debug, thiserror::Error)]
#[error("the compliance screening did not answer within the caller's deadline")]
pub struct ScreeningTimedOut;

impl Screening {
    pub fn new(settings: ScreeningSettings, mode: ScenarioSwitch) -> Self {
        Self { settings, mode }
    }

    pub fn plan(&self, request: &TransferRequest) -> Plan {
        if request.amount.minor_units() < self.settings.min_amount {
            return Plan::NotNeeded;
        }
        match self.mode.get() {
            Mode::Leaky => Plan::InsideTransaction,
            Mode::Fixed => Plan::BeforeTransaction,
        }
    }

    /// The fix's call: bounded by the caller's deadline, before any connection is taken.
    pub async fn before_transaction(
        &self,
        plan: Plan,
        deadline: Deadline,
    ) -> Result<(), ScreeningTimedOut> {
        if plan != Plan::BeforeTransaction {
            return Ok(());
        }
        tokio::time::timeout_at(deadline.instant(), self.call(plan))
            .await
            .map_err(|_| ScreeningTimedOut)
    }

    /// The bug's call: made while the caller's transaction holds its pooled connection, and
    /// waited for however long it takes.
    pub async fn inside_transaction(&self, plan: Plan) {
        if plan == Plan::InsideTransaction {
            self.call(plan).await;
        }
    }

    /// The screening service (simulated: it answers after its latency).
    async fn call(&self, plan: Plan) {
        let span = tracing::info_span!(
            "compliance screening",
            otel.kind = "client",
            peer.service = "screening",
            leakstorm.scenario = "held-connection",
            leakstorm.holds_connection = plan == Plan::InsideTransaction,
        );
        tokio::time::sleep(self.settings.latency)
            .instrument(span)
            .await;
    }
}
