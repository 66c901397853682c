//! Payments HTTP routes (internal: the gateway authenticates merchants before calling them).

use std::time::Duration;

use actix_web::{HttpResponse, http::StatusCode, web};
use kit::{
    deadline::RequestBudget, error::ApiError, idempotency::IdempotencyKeyHeader,
    impl_response_error,
};
use uuid::Uuid;

use crate::{
    flow::{CreateError, CreateOutcome, PaymentFlow},
    types::{CreatePayment, REPLAYED_HEADER},
};

/// When the caller sends no budget, assume it waits this long (the gateway's default).
const DEFAULT_CALLER_BUDGET: Duration = Duration::from_secs(10);

pub fn routes(cfg: &mut web::ServiceConfig, flow: PaymentFlow) {
    cfg.app_data(web::Data::new(flow))
        .service(kit::server::resource("/v1/payments").route(web::post().to(create_payment)))
        .service(kit::server::resource("/v1/payments/{id}").route(web::get().to(get_payment)));
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error(transparent)]
    Create(#[from] CreateError),
    #[error("no such payment")]
    NotFound,
    #[error("internal error")]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError for PaymentError {
    fn status(&self) -> StatusCode {
        match self {
            PaymentError::Create(CreateError::KeyReused) => StatusCode::UNPROCESSABLE_ENTITY,
            PaymentError::Create(CreateError::InProgress) => StatusCode::CONFLICT,
            PaymentError::NotFound => StatusCode::NOT_FOUND,
            PaymentError::Create(CreateError::Unexpected(_)) | PaymentError::Unexpected(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            PaymentError::Create(CreateError::KeyReused) => "idempotency_key_reused",
            PaymentError::Create(CreateError::InProgress) => "idempotency_key_in_progress",
            PaymentError::NotFound => "not_found",
            PaymentError::Create(CreateError::Unexpected(_)) | PaymentError::Unexpected(_) => {
                "internal"
            }
        }
    }
}

impl_response_error!(PaymentError);

#[tracing::instrument(name = "create payment", skip_all, fields(payment.id = tracing::field::Empty))]
async fn create_payment(
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    flow: web::Data<PaymentFlow>,
    budget: RequestBudget,
    request: web::Json<CreatePayment>,
) -> Result<HttpResponse, PaymentError> {
    let deadline = budget.deadline_or(DEFAULT_CALLER_BUDGET);
    let outcome = flow.create(&key, &request, deadline).await?;
    let (payment, replayed) = match outcome {
        CreateOutcome::Created(payment) => (payment, false),
        CreateOutcome::Replayed(payment) => (payment, true),
    };
    tracing::Span::current().record("payment.id", tracing::field::display(payment.id));
    let mut response = if payment.status.is_terminal() {
        HttpResponse::Created()
    } else {
        // Still settling (the ledger's answer was lost): recovery will finish it.
        HttpResponse::Accepted()
    };
    if replayed {
        response.insert_header((REPLAYED_HEADER, "true"));
    }
    Ok(response.json(payment))
}

async fn get_payment(
    flow: web::Data<PaymentFlow>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, PaymentError> {
    let stored = flow
        .store
        .get(id.into_inner())
        .await?
        .ok_or(PaymentError::NotFound)?;
    Ok(HttpResponse::Ok().json(stored.payment))
}
