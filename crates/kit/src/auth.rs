//! Reading credentials from requests, and the admin token shared by every service's admin and
//! debug routes.

use actix_web::{HttpRequest, http::StatusCode};
use sha2::{Digest as _, Sha256};

use crate::{error::ApiError, impl_response_error};

/// The token of an `Authorization: Bearer <token>` header, if present and well-formed.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The admin token (`ADMIN_TOKEN`), kept as a digest.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

impl AdminToken {
    pub fn new(token: &str) -> Self {
        Self {
            digest: Sha256::digest(token.as_bytes()).into(),
        }
    }

    /// Whether the request carries this token as a bearer token. Comparing digests keeps the
    /// comparison time independent of how much of the token matches.
    pub fn admits(&self, req: &HttpRequest) -> bool {
        bearer_token(req).is_some_and(|token| Self::new(token).digest == self.digest)
    }

    /// [`Self::admits`] as a handler's first step: `401 unauthorized` otherwise.
    pub fn authorize(&self, req: &HttpRequest) -> Result<(), AdminAuthError> {
        if self.admits(req) {
            Ok(())
        } else {
            Err(AdminAuthError::Unauthorized)
        }
    }
}

/// The answer of every admin and debug route without the admin token.
#[derive(Debug, thiserror::Error)]
pub enum AdminAuthError {
    #[error("send the admin token as Authorization: Bearer <token>")]
    Unauthorized,
}

impl ApiError for AdminAuthError {
    fn status(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }

    fn code(&self) -> &'static str {
        "unauthorized"
    }
}

impl_response_error!(AdminAuthError);
