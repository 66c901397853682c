//! The time a request has left, carried between services in [`BUDGET_HEADER`].
//!
//! The gateway turns its upstream timeout into a deadline; every hop forwards what remains, so a
//! service deep in the call chain knows when nobody is waiting for its answer any more. (actix
//! does not drop a handler when its client goes away, so this is the only signal it gets.)

use std::{
    future::{Ready, ready},
    time::Duration,
};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::StatusCode};
use tokio::time::Instant;

use crate::error::json_error;

pub use contract::BUDGET_HEADER;

/// A point in time after which nobody waits for the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn after(budget: Duration) -> Self {
        Self(Instant::now() + budget)
    }

    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    pub fn is_expired(&self) -> bool {
        self.remaining().is_zero()
    }

    pub fn instant(&self) -> Instant {
        self.0
    }

    /// The earlier of two deadlines.
    pub fn min(self, other: Deadline) -> Deadline {
        std::cmp::min(self, other)
    }

    /// The header value to send downstream.
    pub fn header_value(&self) -> String {
        self.remaining().as_millis().to_string()
    }
}

/// The budget a caller sent, if any. Extract it in a handler, then pick a deadline with
/// [`RequestBudget::deadline_or`].
#[derive(Debug, Clone, Copy)]
pub struct RequestBudget(Option<Duration>);

impl RequestBudget {
    pub fn deadline_or(self, fallback: Duration) -> Deadline {
        Deadline::after(self.0.unwrap_or(fallback))
    }

    pub fn budget(self) -> Option<Duration> {
        self.0
    }
}

#[derive(Debug, thiserror::Error)]
#[error("header {BUDGET_HEADER} must be a whole number of milliseconds")]
pub struct InvalidBudget;

impl actix_web::ResponseError for InvalidBudget {
    fn status_code(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        json_error(
            self.status_code(),
            "invalid_request_budget",
            self.to_string(),
        )
    }
}

impl FromRequest for RequestBudget {
    type Error = InvalidBudget;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(BUDGET_HEADER) {
            None => Ok(RequestBudget(None)),
            Some(value) => value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|ms| RequestBudget(Some(Duration::from_millis(ms))))
                .ok_or(InvalidBudget),
        };
        ready(parsed)
    }
}
