//! The gateway's OpenAPI 3 document, generated from the handlers and types (utoipa) and served
//! at `/openapi.json`.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{server, types};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "leakstorm gateway",
        description = "The public edge of the leakstorm payment fleet. Demo credentials only.",
    ),
    paths(server::create_payment, server::get_payment),
    components(schemas(
        types::PaymentRequest,
        types::PaymentMethod,
        types::CardDetails,
        contract::payments::Payment,
        contract::payments::PaymentStatus,
        contract::payments::PaymentMethodView,
        contract::payments::RiskView,
        contract::risk::Decision,
        contract::risk::ScoringPath,
        kit::error::ErrorEnvelope,
        kit::error::ErrorBody,
    )),
    modifiers(&ApiKeyAuth),
    security(("api_key" = [])),
)]
pub struct ApiDoc;

struct ApiKeyAuth;

impl Modify for ApiKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as JSON, rendered once at start.
pub fn document() -> String {
    ApiDoc::openapi()
        .to_json()
        .unwrap_or_else(|_| "{}".to_owned())
}
