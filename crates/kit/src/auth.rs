//! Reading credentials from requests.

use actix_web::HttpRequest;

/// The token of an `Authorization: Bearer <token>` header, if present and well-formed.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
