//! The JSON error shape every service answers with: `{"error":{"code":"...","message":"..."}}`.
//!
//! Each handler family has its own `thiserror` enum implementing [`ApiError`]; its `Display` text
//! is written for clients, while internal detail stays in the error's `source`, which is logged
//! for 5xx and never sent. [`crate::impl_response_error!`] wires such an enum into actix.

use actix_web::{
    HttpRequest, HttpResponse,
    error::{JsonPayloadError, PathError, QueryPayloadError},
    http::StatusCode,
    web,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable, snake_case.
    pub code: String,
    /// For humans; never internal error text.
    pub message: String,
}

/// A handler error that knows its status and stable code.
pub trait ApiError: std::error::Error {
    fn status(&self) -> StatusCode;
    fn code(&self) -> &'static str;
}

/// Builds the JSON error response.
pub fn json_error(status: StatusCode, code: &str, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(ErrorEnvelope {
        error: ErrorBody {
            code: code.to_owned(),
            message: redact_card_numbers(&message.into()),
        },
    })
}

/// The response for an [`ApiError`]; 5xx are logged with their whole source chain.
pub fn respond<E: ApiError + ?Sized>(err: &E) -> HttpResponse {
    let status = err.status();
    if status.is_server_error() {
        let mut chain = String::new();
        let mut source = err.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::error!(
            error.type = err.code(),
            error.message = %redact_card_numbers(&format!("{err}{chain}")),
            "request failed"
        );
    }
    let mut response = json_error(status, err.code(), err.to_string());
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            actix_web::http::header::WWW_AUTHENTICATE,
            actix_web::http::header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

/// Implements `actix_web::ResponseError` for a type implementing [`ApiError`].
#[macro_export]
macro_rules! impl_response_error {
    ($error:ty) => {
        impl ::actix_web::ResponseError for $error {
            fn status_code(&self) -> ::actix_web::http::StatusCode {
                $crate::error::ApiError::status(self)
            }

            fn error_response(&self) -> ::actix_web::HttpResponse {
                $crate::error::respond(self)
            }
        }
    };
}

/// Replaces runs of 12 or more digits (possible card numbers echoed from input, e.g. inside a
/// serde message) so they never reach a client, log line or span.
pub fn redact_card_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 12 {
            out.push_str("[redacted]");
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !digits.is_empty() && (c == ' ' || c == '-') {
            // Card numbers are often grouped: keep the separator inside the run.
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// serde echoes the offending value ("invalid type: integer `7374`, expected a string"), which
/// may be a CVC or a card number: keep what was wrong, drop the value.
pub fn without_echoed_value(message: &str) -> String {
    let Some(start) = ["invalid type: ", "invalid value: "]
        .iter()
        .find_map(|p| message.find(p).map(|i| i + p.len()))
    else {
        return message.to_owned();
    };
    let end = message[start..]
        .find(", expected")
        .map_or(message.len(), |i| start + i);
    let described = &message[start..end];
    // Keep the kind ("integer", "string", ...), drop its quoted value.
    let kind = described
        .find(['`', '"'])
        .map_or(described, |quote| described[..quote].trim_end());
    format!("{}{kind}{}", &message[..start], &message[end..])
}

/// JSON bodies: size limit, `application/json` required, and each failure its own status.
pub fn json_config(limit_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit_bytes)
        .content_type_required(true)
        .error_handler(move |err, _req| {
            let response = match &err {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => json_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the JSON body is larger than {limit_bytes} bytes"),
                ),
                JsonPayloadError::ContentType => json_error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the body as Content-Type: application/json",
                ),
                JsonPayloadError::Deserialize(e) if e.is_data() => json_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    format!(
                        "the JSON body does not match the expected shape: {}",
                        without_echoed_value(&e.to_string())
                    ),
                ),
                JsonPayloadError::Deserialize(e) => json_error(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    format!("the body is not valid JSON: {e}"),
                ),
                _ => json_error(
                    StatusCode::BAD_REQUEST,
                    "unreadable_body",
                    "the request body could not be read",
                ),
            };
            actix_web::error::InternalError::from_response(err, response).into()
        })
}

/// Path parameters that do not parse (e.g. a malformed id) name nothing that exists: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        let response = json_error(StatusCode::NOT_FOUND, "not_found", "no such resource");
        actix_web::error::InternalError::from_response(err, response).into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        let message = format!("invalid query string: {err}");
        let response = json_error(StatusCode::BAD_REQUEST, "invalid_query", message);
        actix_web::error::InternalError::from_response(err, response).into()
    })
}

/// The app-wide fallback for unknown paths.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    json_error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {} {}", req.method(), req.path()),
    )
}

/// The per-resource fallback for a known path with the wrong method.
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} is not allowed on {}", req.method(), req.path()),
    )
}

#[cfg(test)]
mod tests {
    use super::redact_card_numbers;

    #[test]
    fn echoed_values_are_dropped_but_the_reason_stays() {
        use super::without_echoed_value;
        assert_eq!(
            without_echoed_value(
                "invalid type: integer `7374`, expected a string at line 1 column 9"
            ),
            "invalid type: integer, expected a string at line 1 column 9"
        );
        assert_eq!(
            without_echoed_value("invalid value: string \"secret\", expected one of `card`"),
            "invalid value: string, expected one of `card`"
        );
        assert_eq!(
            without_echoed_value("missing field `amount`"),
            "missing field `amount`"
        );
    }

    #[test]
    fn card_numbers_are_redacted_but_short_numbers_stay() {
        assert_eq!(
            redact_card_numbers(
                "invalid type: string \"4242424242424242\", expected u64 at line 1"
            ),
            "invalid type: string \"[redacted]\", expected u64 at line 1"
        );
        assert_eq!(
            redact_card_numbers("pan 4242 4242 4242 4242."),
            "pan [redacted]."
        );
        assert_eq!(
            redact_card_numbers("amount 1200 at column 17"),
            "amount 1200 at column 17"
        );
    }
}
