//! Ledger HTTP routes.

use std::time::Duration;

use actix_web::{HttpResponse, http::StatusCode, web};
use kit::{deadline::RequestBudget, error::ApiError, impl_response_error};
use uuid::Uuid;

use crate::{
    store::{LedgerStore, RecordError, Recorded},
    types::{AccountId, Balance, TransferRequest},
};

pub fn routes(cfg: &mut web::ServiceConfig, store: LedgerStore) {
    cfg.app_data(web::Data::new(store))
        .service(kit::server::resource("/v1/transfers").route(web::post().to(create_transfer)))
        .service(
            kit::server::resource("/v1/transfers/by-payment/{payment_id}")
                .route(web::get().to(transfer_for_payment)),
        )
        .service(
            kit::server::resource("/v1/accounts/{account_id}/balance")
                .route(web::get().to(balance)),
        );
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("a different transfer is already recorded for payment {0}")]
    Conflict(Uuid),
    #[error("no transfer is recorded for payment {0}")]
    NoTransfer(Uuid),
    #[error("{0}")]
    InvalidAccount(String),
    #[error(
        "compliance screening did not finish within the request's deadline; nothing was recorded, retry later"
    )]
    ScreeningUnavailable,
    #[error("internal error")]
    Unexpected(#[from] anyhow::Error),
}

impl From<RecordError> for LedgerError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::ScreeningTimedOut(_) => LedgerError::ScreeningUnavailable,
            RecordError::Unexpected(e) => LedgerError::Unexpected(e),
        }
    }
}

/// When a caller sends no budget, screen for at most this long.
const DEFAULT_CALLER_BUDGET: Duration = Duration::from_secs(10);

impl ApiError for LedgerError {
    fn status(&self) -> StatusCode {
        match self {
            LedgerError::Conflict(_) => StatusCode::CONFLICT,
            LedgerError::NoTransfer(_) => StatusCode::NOT_FOUND,
            LedgerError::InvalidAccount(_) => StatusCode::NOT_FOUND,
            LedgerError::ScreeningUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            LedgerError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            LedgerError::Conflict(_) => "transfer_conflict",
            LedgerError::NoTransfer(_) => "not_found",
            LedgerError::InvalidAccount(_) => "not_found",
            LedgerError::ScreeningUnavailable => "screening_unavailable",
            LedgerError::Unexpected(_) => "internal",
        }
    }
}

impl_response_error!(LedgerError);

/// 201 with the new transfer; 200 with the recorded one when the same request is replayed.
#[tracing::instrument(name = "create transfer", skip_all, fields(payment.id = %request.payment_id))]
async fn create_transfer(
    store: web::Data<LedgerStore>,
    budget: RequestBudget,
    request: web::Json<TransferRequest>,
) -> Result<HttpResponse, LedgerError> {
    let deadline = budget.deadline_or(DEFAULT_CALLER_BUDGET);
    match store.record_transfer(&request, deadline).await? {
        Recorded::Created(transfer) => Ok(HttpResponse::Created().json(transfer)),
        Recorded::Replayed(transfer) => Ok(HttpResponse::Ok().json(transfer)),
        Recorded::Conflict(existing) => Err(LedgerError::Conflict(existing.payment_id)),
    }
}

async fn transfer_for_payment(
    store: web::Data<LedgerStore>,
    payment_id: web::Path<Uuid>,
) -> Result<HttpResponse, LedgerError> {
    let payment_id = payment_id.into_inner();
    let transfer = store
        .transfer_for_payment(payment_id)
        .await?
        .ok_or(LedgerError::NoTransfer(payment_id))?;
    Ok(HttpResponse::Ok().json(transfer))
}

async fn balance(
    store: web::Data<LedgerStore>,
    account_id: web::Path<String>,
) -> Result<HttpResponse, LedgerError> {
    let account_id =
        AccountId::try_from(account_id.into_inner()).map_err(LedgerError::InvalidAccount)?;
    let balances = store.balances(&account_id).await?;
    Ok(HttpResponse::Ok().json(Balance {
        account_id,
        balances,
    }))
}
