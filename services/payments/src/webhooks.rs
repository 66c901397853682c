//! Merchant webhooks: the `unbounded-queue` scenario, and its fix.
//!
//! When a payment settles, payments tells the merchant: an event (the payment and its rendered
//! receipt) goes on a queue, and one delivery loop posts events to the merchant's endpoint, which
//! takes its time (200 ms per event in the incident configuration: 5 events a second).
//!
//! - **leaky** queues on `tokio::sync::mpsc::unbounded_channel`: sending never waits and never
//!   fails, so when payments settle faster than the merchant accepts events (20 a second in a
//!   storm against 5), the queue grows without end, and every queued event holds its receipt.
//!   Memory climbs in a straight line while the task count stays flat — a task census sees
//!   nothing. The queue depth (`channel_queued_messages`) gives it away.
//! - **fixed** queues on a bounded channel (`PAYMENTS_WEBHOOK_QUEUE_CAPACITY`, 256) with
//!   `try_send`: when the queue is full the event is shed — counted in
//!   `payments_webhooks_shed_total` — instead of piling up. Nothing is lost that matters: the
//!   payment itself is in the database, and a merchant that missed an event reads
//!   `GET /v1/payments/{id}`. (Waiting for room instead, `send().await`, would move the pile-up
//!   into the request handlers.) Switched on at run time, the fix bounds the backlog the bug left
//!   too: the delivery loop moves it into the bounded queue, shedding what does not fit.
//!
//! services/clippy.toml forbids unbounded channels in the services; the leaky mode is the one
//! deliberate exception, allowed where it is made.

use std::time::Duration;

use kit::scenarios::ScenarioSwitch;
use prometheus::{Gauge, IntCounter, IntGauge};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::types::{Payment, PaymentStatus};

#[derive(Debug, Clone, Copy)]
pub struct WebhookSettings {
    /// `PAYMENTS_WEBHOOK_LATENCY_MS`: how long the merchant's endpoint takes per event (200).
    pub latency: Duration,
    /// `PAYMENTS_WEBHOOK_QUEUE_CAPACITY`: fixed mode's bound (256).
    pub capacity: usize,
    /// `PAYMENTS_WEBHOOK_RECEIPT_BYTES`: size of the rendered receipt an event carries (128 KiB).
    pub receipt_bytes: usize,
}

/// `channel_queued_messages{channel}`, `channel_capacity_messages{channel}`,
/// `channel_received_messages_total{channel}` and the outcomes.
#[derive(Clone)]
pub struct WebhookMetrics {
    pub queued: IntGauge,
    /// `+Inf` while the queue is unbounded.
    pub capacity: Gauge,
    /// `channel_received_messages_total{channel}`: events the delivery loop took off the queue.
    pub received: IntCounter,
    pub delivered: IntCounter,
    pub shed: IntCounter,
}

/// One event for the merchant.
struct Event {
    payment_id: Uuid,
    status: PaymentStatus,
    /// The receipt as the merchant gets it (rendered: what makes a queued event weigh).
    receipt: Vec<u8>,
}

/// The sending side, cloned into every request handler.
#[derive(Clone)]
pub struct Webhooks {
    mode: ScenarioSwitch,
    settings: WebhookSettings,
    metrics: WebhookMetrics,
    unbounded: mpsc::UnboundedSender<Event>,
    bounded: mpsc::Sender<Event>,
}

/// The receiving side, for [`deliver`].
pub struct Queues {
    unbounded: mpsc::UnboundedReceiver<Event>,
    bounded: mpsc::Receiver<Event>,
}

impl Webhooks {
    pub fn new(
        settings: WebhookSettings,
        metrics: WebhookMetrics,
        mode: ScenarioSwitch,
    ) -> (Self, Queues) {
        // Deliberate: the leak this scenario demonstrates (see the module documentation).
        #[allow(clippy::disallowed_methods)]
        let (unbounded, unbounded_rx) = mpsc::unbounded_channel();
        let (bounded, bounded_rx) = mpsc::channel(settings.capacity.max(1));
        let webhooks = Self {
            mode,
            settings,
            metrics,
            unbounded,
            bounded,
        };
        let queues = Queues {
            unbounded: unbounded_rx,
            bounded: bounded_rx,
        };
        (webhooks, queues)
    }

    /// Queues the event for a settled payment; never waits.
    pub fn notify(&self, payment: &Payment) {
        let event = Event {
            payment_id: payment.id,
            status: payment.status,
            receipt: vec![b'r'; self.settings.receipt_bytes],
        };
        match self.mode.get() {
            kit::scenarios::Mode::Leaky => self.notify_leaky(event),
            kit::scenarios::Mode::Fixed => self.notify_fixed(event),
        }
    }

    /// THE BUG: an unbounded queue accepts everything, so nothing ever pushes back.
    fn notify_leaky(&self, event: Event) {
        self.metrics.capacity.set(f64::INFINITY);
        if self.unbounded.send(event).is_ok() {
            self.metrics.queued.inc();
        }
    }

    /// THE FIX: a bounded queue, and shedding when it is full.
    fn notify_fixed(&self, event: Event) {
        self.metrics.capacity.set(self.settings.capacity as f64);
        match self.bounded.try_send(event) {
            Ok(()) => self.metrics.queued.inc(),
            Err(mpsc::error::TrySendError::Full(event)) => {
                self.metrics.shed.inc();
                tracing::debug!(payment.id = %event.payment_id, "webhook queue full: event shed");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

impl Webhooks {
    /// With the fix on, what the unbounded queue still holds moves to the bounded one; what does
    /// not fit is shed, as new events are.
    fn bound_the_backlog(&self, backlog: &mut mpsc::UnboundedReceiver<Event>) {
        while let Ok(event) = backlog.try_recv() {
            self.metrics.queued.dec();
            self.notify_fixed(event);
        }
    }
}

/// The delivery loop, owned by the server: one event at a time, at the merchant's pace.
pub async fn deliver(mut queues: Queues, webhooks: Webhooks, shutdown: CancellationToken) {
    loop {
        if webhooks.mode.get() == kit::scenarios::Mode::Fixed {
            webhooks.bound_the_backlog(&mut queues.unbounded);
        }
        let event = tokio::select! {
            () = shutdown.cancelled() => return,
            Some(event) = queues.unbounded.recv() => event,
            Some(event) = queues.bounded.recv() => event,
            else => return,
        };
        webhooks.metrics.queued.dec();
        webhooks.metrics.received.inc();
        // The merchant's endpoint (simulated: it answers after its latency); shutdown does not
        // wait for a slow merchant.
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(webhooks.settings.latency) => {}
        }
        tracing::debug!(
            payment.id = %event.payment_id,
            status = event.status.as_str(),
            bytes = event.receipt.len(),
            "webhook delivered"
        );
        webhooks.metrics.delivered.inc();
    }
}
