//! Risk HTTP routes: assessments, and the admin mode switch.

use std::{sync::Arc, time::Duration};

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use kit::{
    auth::{AdminAuthError, AdminToken},
    deadline::RequestBudget,
    error::ApiError,
    impl_response_error,
    scenarios::ScenarioSwitch,
};
use tracing::field::Empty;
use uuid::Uuid;

use crate::{
    config::RuleSettings,
    deep_scoring::{DeepScorer, Job, Outcome},
    model_scoring::{ModelOutcome, ModelScorer},
    rules::{self, RuleOutcome},
    store::RiskStore,
    types::{Assessment, AssessmentRequest, Decision, Mode, ModeBody, ScoringPath},
};

/// When a caller sends no budget, assume it waits this long (the gateway's default).
const DEFAULT_CALLER_BUDGET: Duration = Duration::from_secs(10);

pub struct RiskState {
    pub store: RiskStore,
    pub scorer: DeepScorer,
    pub model: ModelScorer,
    pub rules: RuleSettings,
    /// The `detached-spawn` scenario's mode.
    pub mode: ScenarioSwitch,
    pub admin_token: AdminToken,
}

pub fn routes(cfg: &mut web::ServiceConfig, state: Arc<RiskState>) {
    cfg.app_data(web::Data::from(state))
        .service(kit::server::resource("/v1/assessments").route(web::post().to(assess)))
        .service(
            kit::server::resource("/admin/mode")
                .route(web::get().to(get_mode))
                .route(web::put().to(put_mode)),
        );
}

#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("internal error")]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError for AssessError {
    fn status(&self) -> StatusCode {
        match self {
            AssessError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AssessError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AssessError::Invalid(_) => "invalid_assessment",
            AssessError::Unexpected(_) => "internal",
        }
    }
}

impl_response_error!(AssessError);

#[tracing::instrument(
    name = "assess",
    skip_all,
    fields(payment.id = %request.payment_id, leakstorm.mode = Empty, risk.path = Empty, risk.decision = Empty)
)]
async fn assess(
    state: web::Data<RiskState>,
    budget: RequestBudget,
    request: web::Json<AssessmentRequest>,
) -> Result<HttpResponse, AssessError> {
    if request.amount <= 0 {
        return Err(AssessError::Invalid("amount must be positive"));
    }
    if let Some(existing) = state.store.assessment_for(request.payment_id).await? {
        return Ok(HttpResponse::Ok().json(existing));
    }
    let recent = state.store.recent_assessments(&request.customer_id).await?;
    let (decision, score, path) = match rules::evaluate(&request, recent, &state.rules) {
        RuleOutcome::Decided { decision, score } => (decision, score, ScoringPath::Fast),
        RuleOutcome::NeedsDeepScoring { base_score } => {
            let job = Job {
                payment_id: request.payment_id,
                customer_id: request.customer_id.as_str().into(),
                base_score,
            };
            let mode = state.mode.get();
            tracing::Span::current().record("leakstorm.mode", mode.as_str());
            let caller = budget.deadline_or(DEFAULT_CALLER_BUDGET);
            let deep = async {
                match mode {
                    Mode::Leaky => state.scorer.score_leaky(&job, caller).await,
                    Mode::Fixed => state.scorer.score_fixed(&job, caller).await,
                }
            };
            // The fraud model scores the same payment meanwhile (scenario blocking-pileup); an
            // extra signal: without its answer, deep scoring decides alone.
            let model = state.model.score(&request.customer_id, caller);
            match tokio::join!(deep, model) {
                (Outcome::Scored(score), model) => {
                    let score = match model {
                        ModelOutcome::Scored(model) => score.max(model),
                        ModelOutcome::Unavailable => score,
                    };
                    (Decision::from_score(score), score, ScoringPath::Deep)
                }
                (Outcome::Incomplete, _) => (Decision::Review, base_score, ScoringPath::Degraded),
            }
        }
    };
    let span = tracing::Span::current();
    span.record("risk.path", path.as_str());
    span.record("risk.decision", decision.as_str());
    let candidate = Assessment {
        id: Uuid::now_v7(),
        payment_id: request.payment_id,
        decision,
        score,
        path,
    };
    let stored = state.store.record(&request, &candidate).await?;
    Ok(HttpResponse::Ok().json(stored))
}

async fn get_mode(
    req: HttpRequest,
    state: web::Data<RiskState>,
) -> Result<HttpResponse, AdminAuthError> {
    state.admin_token.authorize(&req)?;
    Ok(HttpResponse::Ok().json(ModeBody {
        mode: state.mode.get(),
    }))
}

async fn put_mode(
    req: HttpRequest,
    state: web::Data<RiskState>,
    body: web::Json<ModeBody>,
) -> Result<HttpResponse, AdminAuthError> {
    state.admin_token.authorize(&req)?;
    let previous = state.mode.get();
    state.mode.set(body.mode);
    tracing::warn!(
        from = previous.as_str(),
        to = body.mode.as_str(),
        "risk mode switched"
    );
    Ok(HttpResponse::Ok().json(ModeBody { mode: body.mode }))
}
