//! The required `Idempotency-Key` header as an actix-web extractor, for every service that takes
//! one (the gateway at the edge, payments behind it): a missing or malformed key is a JSON 400
//! before any work starts.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::StatusCode};
use contract::payments::{IDEMPOTENCY_KEY_HEADER, IdempotencyKey};

use crate::{error::ApiError, impl_response_error};

/// The request's parsed `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdempotencyKeyHeader(pub IdempotencyKey);

/// A missing or malformed `Idempotency-Key` header.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidIdempotencyKey(&'static str);

impl ApiError for InvalidIdempotencyKey {
    fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    fn code(&self) -> &'static str {
        "invalid_idempotency_key"
    }
}

impl_response_error!(InvalidIdempotencyKey);

impl FromRequest for IdempotencyKeyHeader {
    type Error = InvalidIdempotencyKey;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(IDEMPOTENCY_KEY_HEADER) {
            None => Err(InvalidIdempotencyKey(
                "the Idempotency-Key header is required",
            )),
            Some(value) => value
                .to_str()
                .map_err(|_| InvalidIdempotencyKey("Idempotency-Key must be visible ASCII"))
                .and_then(|v| {
                    IdempotencyKey::parse(v)
                        .map(IdempotencyKeyHeader)
                        .map_err(InvalidIdempotencyKey)
                }),
        };
        ready(parsed)
    }
}
