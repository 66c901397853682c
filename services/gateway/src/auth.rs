//! API-key authentication: `Authorization: Bearer <api key>`, looked up by SHA-256 digest.

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::StatusCode, web};
use anyhow::Context as _;
use contract::payments::MerchantId;
use futures::future::LocalBoxFuture;
use kit::{db::Db, db_span, error::ApiError, impl_response_error};
use sha2::{Digest as _, Sha256};
use tracing::Instrument as _;

fn key_digest(api_key: &str) -> String {
    hex::encode(Sha256::digest(api_key.as_bytes()))
}

#[derive(Clone)]
pub struct ApiKeys {
    db: Db,
}

impl ApiKeys {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Registers (or re-points) a key for a merchant; only its digest is stored.
    pub async fn register(
        &self,
        api_key: &str,
        merchant: &MerchantId,
        label: &str,
    ) -> anyhow::Result<()> {
        let mut conn = self.db.acquire().await.context("acquiring a connection")?;
        sqlx::query(
            "INSERT INTO api_keys (key_sha256, merchant_id, label) VALUES ($1, $2, $3) \
             ON CONFLICT (key_sha256) DO UPDATE SET merchant_id = EXCLUDED.merchant_id, label = EXCLUDED.label",
        )
        .bind(key_digest(api_key))
        .bind(merchant.as_str())
        .bind(label)
        .execute(&mut *conn)
        .await
        .context("registering the API key")?;
        Ok(())
    }

    async fn merchant_for(&self, api_key: &str) -> anyhow::Result<Option<MerchantId>> {
        async {
            let mut conn = self.db.acquire().await.context("acquiring a connection")?;
            let merchant: Option<String> =
                sqlx::query_scalar("SELECT merchant_id FROM api_keys WHERE key_sha256 = $1")
                    .bind(key_digest(api_key))
                    .fetch_optional(&mut *conn)
                    .await
                    .context("looking up the API key")?;
            merchant
                .map(|m| MerchantId::try_from(m).map_err(anyhow::Error::msg))
                .transpose()
        }
        .instrument(db_span!("SELECT", "gateway.api_keys"))
        .await
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("send your API key as Authorization: Bearer <api key>")]
    Missing,
    #[error("the API key is not valid")]
    Invalid,
    #[error("internal error")]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError for AuthError {
    fn status(&self) -> StatusCode {
        match self {
            AuthError::Missing | AuthError::Invalid => StatusCode::UNAUTHORIZED,
            AuthError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AuthError::Missing | AuthError::Invalid => "unauthorized",
            AuthError::Unexpected(_) => "internal",
        }
    }
}

impl_response_error!(AuthError);

/// The merchant an API key belongs to; extracting it authenticates the request.
#[derive(Debug, Clone)]
pub struct Merchant(pub MerchantId);

impl FromRequest for Merchant {
    type Error = AuthError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let keys = req.app_data::<web::Data<ApiKeys>>().cloned();
        let token = kit::auth::bearer_token(req).map(str::to_owned);
        Box::pin(async move {
            let keys = keys.context("ApiKeys is not registered as app data")?;
            let token = token.ok_or(AuthError::Missing)?;
            let merchant = keys.merchant_for(&token).await?.ok_or(AuthError::Invalid)?;
            Ok(Merchant(merchant))
        })
    }
}
