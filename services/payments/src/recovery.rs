//! Re-drives payments left `pending` (a lost ledger answer, or a crash mid-payment) to a terminal
//! status. It runs as a task owned by the server's lifecycle: cancelled through its token on
//! shutdown and awaited before the process exits — the owned counterpart of the detached task
//! this project demonstrates.

use std::time::Duration;

use kit::deadline::Deadline;
use tokio_util::sync::CancellationToken;

use crate::flow::PaymentFlow;

#[derive(Debug, Clone, Copy)]
pub struct RecoverySettings {
    /// How often to look for stuck payments.
    pub interval: Duration,
    /// A payment pending for longer than this is stuck (longer than any live request waits).
    pub stuck_after: Duration,
    /// Time given to each re-drive.
    pub budget: Duration,
}

pub async fn run(flow: PaymentFlow, settings: RecoverySettings, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(settings.interval) => {}
        }
        let stuck = match flow
            .store
            .stuck_pending(settings.stuck_after.as_secs_f64(), 100)
            .await
        {
            Ok(stuck) => stuck,
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "recovery: listing stuck payments failed"
                );
                continue;
            }
        };
        for stored in stuck {
            if shutdown.is_cancelled() {
                return;
            }
            let id = stored.payment.id;
            if flow.leases.is_held(id) {
                continue; // a request is still driving it
            }
            match flow.drive(stored, Deadline::after(settings.budget)).await {
                Ok(payment) => {
                    tracing::info!(payment.id = %id, status = payment.status.as_str(), "recovery: re-drove payment")
                }
                Err(e) => {
                    tracing::warn!(payment.id = %id, error = format!("{e:#}"), "recovery: re-drive failed")
                }
            }
        }
    }
}
