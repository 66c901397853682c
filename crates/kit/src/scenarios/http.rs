//! The scenario admin API (admin token): `GET /admin/scenarios` lists the scenarios this service
//! hosts with their modes; `GET|PUT /admin/scenarios/{name}` reads or switches one, with the body
//! `{"mode": "leaky" | "fixed"}`. A scenario hosted elsewhere answers 404 naming its service.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
pub use contract::scenario::{ModeBody, ScenarioList, ScenarioState};

use super::{Scenario, ScenarioSwitch, Scenarios};
use crate::{
    auth::{AdminAuthError, AdminToken},
    error::ApiError,
    impl_response_error,
};

#[derive(Debug, thiserror::Error)]
pub enum ScenarioApiError {
    #[error(transparent)]
    Unauthorized(#[from] AdminAuthError),
    #[error("{0}")]
    Unknown(String),
    #[error("scenario {0} is hosted by {host}", host = .0.host())]
    Elsewhere(Scenario),
}

impl ApiError for ScenarioApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(e) => e.status(),
            Self::Unknown(_) | Self::Elsewhere(_) => StatusCode::NOT_FOUND,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(e) => e.code(),
            Self::Unknown(_) => "unknown_scenario",
            Self::Elsewhere(_) => "scenario_hosted_elsewhere",
        }
    }
}

impl_response_error!(ScenarioApiError);

/// What the handlers share.
#[derive(Clone)]
pub struct ScenarioAdmin {
    pub scenarios: Scenarios,
    pub admin: AdminToken,
}

pub fn routes(cfg: &mut web::ServiceConfig, admin: ScenarioAdmin) {
    cfg.app_data(web::Data::new(admin))
        .service(crate::server::resource("/admin/scenarios").route(web::get().to(list)))
        .service(
            crate::server::resource("/admin/scenarios/{name}")
                .route(web::get().to(get_one))
                .route(web::put().to(put_one)),
        );
}

fn state(switch: &ScenarioSwitch) -> ScenarioState {
    ScenarioState {
        scenario: switch.scenario(),
        mode: switch.get(),
        host: switch.scenario().host().to_owned(),
    }
}

fn find<'a>(admin: &'a ScenarioAdmin, name: &str) -> Result<&'a ScenarioSwitch, ScenarioApiError> {
    let scenario: Scenario = name.parse().map_err(ScenarioApiError::Unknown)?;
    admin
        .scenarios
        .get(scenario)
        .ok_or(ScenarioApiError::Elsewhere(scenario))
}

async fn list(
    req: HttpRequest,
    admin: web::Data<ScenarioAdmin>,
) -> Result<HttpResponse, ScenarioApiError> {
    admin.admin.authorize(&req)?;
    let scenarios = admin.scenarios.all().iter().map(state).collect();
    Ok(HttpResponse::Ok().json(ScenarioList { scenarios }))
}

async fn get_one(
    req: HttpRequest,
    admin: web::Data<ScenarioAdmin>,
    name: web::Path<String>,
) -> Result<HttpResponse, ScenarioApiError> {
    admin.admin.authorize(&req)?;
    Ok(HttpResponse::Ok().json(state(find(&admin, &name)?)))
}

async fn put_one(
    req: HttpRequest,
    admin: web::Data<ScenarioAdmin>,
    name: web::Path<String>,
    body: web::Json<ModeBody>,
) -> Result<HttpResponse, ScenarioApiError> {
    admin.admin.authorize(&req)?;
    let switch = find(&admin, &name)?;
    let previous = switch.get();
    switch.set(body.mode);
    tracing::warn!(
        scenario = switch.scenario().as_str(),
        from = previous.as_str(),
        to = body.mode.as_str(),
        "leak scenario switched"
    );
    Ok(HttpResponse::Ok().json(state(switch)))
}
