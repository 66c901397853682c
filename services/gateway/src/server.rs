//! Gateway HTTP routes: the public payments API.

use std::time::Duration;

use actix_web::{HttpResponse, http::StatusCode, web};
use contract::payments::{CardSummary, CreatePayment, Payment, REPLAYED_HEADER};
use kit::error::ErrorEnvelope;
use kit::idempotency::IdempotencyKeyHeader;
use kit::{
    client::UpstreamError,
    deadline::Deadline,
    error::{ApiError, json_error},
};
use uuid::Uuid;

use crate::{
    auth::{ApiKeys, Merchant},
    payments_client::PaymentsClient,
    types::{PaymentMethod, PaymentRequest},
};

pub struct Gateway {
    pub payments: PaymentsClient,
    /// How long the gateway waits for the fleet before giving up (504).
    pub upstream_timeout: Duration,
    pub fingerprint_key: Vec<u8>,
    /// The OpenAPI document, rendered once.
    pub openapi: String,
}

pub fn routes(cfg: &mut web::ServiceConfig, gateway: web::Data<Gateway>, keys: ApiKeys) {
    cfg.app_data(gateway)
        .app_data(web::Data::new(keys))
        .route("/openapi.json", web::get().to(openapi_document))
        .service(kit::server::resource("/v1/payments").route(web::post().to(create_payment)))
        .service(kit::server::resource("/v1/payments/{id}").route(web::get().to(get_payment)));
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("merchant_id does not match the merchant of this API key")]
    MerchantMismatch,
    #[error("exp_month must be 1 to 12")]
    InvalidExpiry,
    #[error("the card has expired")]
    CardExpired,
    #[error("no such payment")]
    NotFound,
    #[error(
        "the payment was not settled within {0:?}; retry with the same Idempotency-Key to get its outcome"
    )]
    UpstreamTimeout(Duration),
    #[error("the payment service is unavailable; retry with the same Idempotency-Key")]
    UpstreamUnavailable(#[source] UpstreamError),
    /// A client error from payments (e.g. idempotency conflicts), passed on as it came.
    #[error("{message}")]
    Upstream {
        status: StatusCode,
        code: String,
        message: String,
    },
}

impl GatewayError {
    fn from_upstream(error: UpstreamError, timeout: Duration) -> Self {
        match error {
            UpstreamError::Timeout { .. } => GatewayError::UpstreamTimeout(timeout),
            UpstreamError::Rejected {
                status,
                code,
                message,
                ..
            } if status.is_client_error() => GatewayError::Upstream {
                status,
                code,
                message,
            },
            other => GatewayError::UpstreamUnavailable(other),
        }
    }
}

impl ApiError for GatewayError {
    fn status(&self) -> StatusCode {
        match self {
            GatewayError::MerchantMismatch => StatusCode::FORBIDDEN,
            GatewayError::InvalidExpiry | GatewayError::CardExpired => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            GatewayError::NotFound => StatusCode::NOT_FOUND,
            GatewayError::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            GatewayError::UpstreamUnavailable(_) => StatusCode::BAD_GATEWAY,
            GatewayError::Upstream { status, .. } => *status,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            GatewayError::MerchantMismatch => "merchant_mismatch",
            GatewayError::InvalidExpiry => "invalid_expiry",
            GatewayError::CardExpired => "card_expired",
            GatewayError::NotFound => "not_found",
            GatewayError::UpstreamTimeout(_) => "upstream_timeout",
            GatewayError::UpstreamUnavailable(_) => "upstream_unavailable",
            GatewayError::Upstream { .. } => "upstream_rejected",
        }
    }
}

impl actix_web::ResponseError for GatewayError {
    fn status_code(&self) -> StatusCode {
        ApiError::status(self)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            // Keep the upstream's own stable code rather than a generic one.
            GatewayError::Upstream {
                status,
                code,
                message,
            } => json_error(*status, code, message.as_str()),
            other => kit::error::respond(other),
        }
    }
}

/// Create a payment. Retrying with the same `Idempotency-Key` and body returns the same payment
/// and moves no money twice.
#[utoipa::path(
    post,
    path = "/v1/payments",
    request_body = PaymentRequest,
    params(("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters; a UUID is typical", min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")),
    responses(
        (status = 201, description = "The payment, settled", body = Payment),
        (status = 202, description = "The payment, still settling (recovery will finish it)", body = Payment),
        (status = 400, description = "Malformed JSON, or a missing or malformed Idempotency-Key", body = ErrorEnvelope),
        (status = 401, description = "Missing or invalid API key", body = ErrorEnvelope),
        (status = 403, description = "merchant_id is not the API key's merchant", body = ErrorEnvelope),
        (status = 409, description = "A request with this Idempotency-Key is still in progress", body = ErrorEnvelope),
        (status = 413, description = "Body over the limit", body = ErrorEnvelope),
        (status = 415, description = "Not application/json", body = ErrorEnvelope),
        (status = 422, description = "Invalid body, expired card, or the key reused with another body", body = ErrorEnvelope),
        (status = 502, description = "The fleet behind the gateway failed", body = ErrorEnvelope),
        (status = 504, description = "No settled answer within the deadline", body = ErrorEnvelope),
    ),
)]
#[tracing::instrument(name = "create payment", skip_all, fields(merchant.id = %merchant.0.as_str()))]
pub(crate) async fn create_payment(
    merchant: Merchant,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    gateway: web::Data<Gateway>,
    request: web::Json<PaymentRequest>,
) -> Result<HttpResponse, GatewayError> {
    let request = request.into_inner();
    if request.merchant_id != merchant.0 {
        return Err(GatewayError::MerchantMismatch);
    }
    let PaymentMethod::Card { card } = &request.payment_method;
    if !card.has_valid_month() {
        return Err(GatewayError::InvalidExpiry);
    }
    if card.is_expired(chrono::Utc::now().date_naive()) {
        return Err(GatewayError::CardExpired);
    }
    // From here on only the summary exists: the number and CVC go no further.
    let create = CreatePayment {
        merchant_id: request.merchant_id,
        customer_id: request.customer_id,
        amount: request.amount,
        currency: request.currency,
        card: CardSummary {
            brand: card.number.brand().to_owned(),
            last4: card.number.last4().to_owned(),
            fingerprint: card.number.fingerprint(&gateway.fingerprint_key),
        },
    };
    let deadline = Deadline::after(gateway.upstream_timeout);
    let created = gateway
        .payments
        .create(&create, &key, deadline)
        .await
        .map_err(|e| GatewayError::from_upstream(e, gateway.upstream_timeout))?;
    let mut response = if created.payment.status.is_terminal() {
        HttpResponse::Created()
    } else {
        HttpResponse::Accepted()
    };
    if created.replayed {
        response.insert_header((REPLAYED_HEADER, "true"));
    }
    Ok(response.json(created.payment))
}

/// A payment of this API key's merchant.
#[utoipa::path(
    get,
    path = "/v1/payments/{id}",
    params(("id" = uuid::Uuid, Path, description = "The payment's id")),
    responses(
        (status = 200, description = "The payment", body = Payment),
        (status = 401, description = "Missing or invalid API key", body = ErrorEnvelope),
        (status = 404, description = "No such payment for this merchant", body = ErrorEnvelope),
        (status = 502, description = "The fleet behind the gateway failed", body = ErrorEnvelope),
        (status = 504, description = "No answer within the deadline", body = ErrorEnvelope),
    ),
)]
pub(crate) async fn get_payment(
    merchant: Merchant,
    gateway: web::Data<Gateway>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, GatewayError> {
    let deadline = Deadline::after(gateway.upstream_timeout);
    let payment = gateway
        .payments
        .get(id.into_inner(), deadline)
        .await
        .map_err(|e| GatewayError::from_upstream(e, gateway.upstream_timeout))?
        // Another merchant's payment does not exist as far as this key can tell.
        .filter(|p| p.merchant_id == merchant.0)
        .ok_or(GatewayError::NotFound)?;
    Ok(HttpResponse::Ok().json(payment))
}

async fn openapi_document(gateway: web::Data<Gateway>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(gateway.openapi.clone())
}
