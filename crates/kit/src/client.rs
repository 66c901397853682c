//! The traced HTTP client for calls between services.
//!
//! Every call carries W3C trace context (reqwest-tracing injects `traceparent` and opens a client
//! span with `http.request.method`, `url.full`, `server.address`, `http.response.status_code`), the
//! caller's remaining budget in [`crate::deadline::BUDGET_HEADER`], and a client-side timeout equal
//! to that budget. Typed clients in each service wrap this one.

use actix_web::http::StatusCode;
use anyhow::Context as _;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, RequestBuilder};
use reqwest_tracing::{SpanBackendWithUrl, TracingMiddleware};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    deadline::{BUDGET_HEADER, Deadline},
    error::ErrorEnvelope,
};

/// How a call to another service failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("{service} did not answer within the deadline")]
    Timeout { service: &'static str },
    #[error("{service} is unreachable")]
    Unavailable {
        service: &'static str,
        #[source]
        source: anyhow::Error,
    },
    /// The service answered with its JSON error shape (or an unreadable non-2xx body).
    #[error("{service} answered {status}: {code}")]
    Rejected {
        service: &'static str,
        status: StatusCode,
        code: String,
        message: String,
    },
    #[error("{service} sent a response that could not be decoded")]
    Decode {
        service: &'static str,
        #[source]
        source: anyhow::Error,
    },
}

impl UpstreamError {
    /// True when the callee may or may not have acted (the request might have been processed):
    /// timeouts, lost connections, 5xx. Retrying such a call must be idempotent.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            UpstreamError::Timeout { .. } | UpstreamError::Unavailable { .. } => true,
            UpstreamError::Rejected { status, .. } => status.is_server_error(),
            UpstreamError::Decode { .. } => true,
        }
    }
}

/// A successful response: its status, headers and decoded body.
#[derive(Debug)]
pub struct Reply<T> {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: T,
}

#[derive(Clone)]
pub struct ServiceClient {
    service: &'static str,
    base_url: url::Url,
    http: ClientWithMiddleware,
}

impl ServiceClient {
    /// `service` names the callee in errors; `base_url` e.g. `http://127.0.0.1:8082`.
    pub fn new(service: &'static str, base_url: &str) -> anyhow::Result<Self> {
        let base_url = url::Url::parse(base_url)
            .with_context(|| format!("parsing the base URL of {service}: {base_url:?}"))?;
        let http = reqwest::Client::builder()
            // Idle keep-alive connections are live tasks in the callee: closing them soon after
            // traffic stops lets `runtime_alive_tasks` return to baseline.
            .pool_idle_timeout(std::time::Duration::from_secs(1))
            .build()
            .context("building the HTTP client")?;
        let http = ClientBuilder::new(http)
            .with(TracingMiddleware::<SpanBackendWithUrl>::new())
            .build();
        Ok(Self {
            service,
            base_url,
            http,
        })
    }

    pub fn base_url(&self) -> &url::Url {
        &self.base_url
    }

    fn url(&self, path: &str) -> Result<url::Url, UpstreamError> {
        self.base_url
            .join(path)
            .map_err(|e| UpstreamError::Unavailable {
                service: self.service,
                source: anyhow::Error::new(e).context(format!("joining {path:?} to the base URL")),
            })
    }

    pub async fn post_json<B, T>(
        &self,
        path: &str,
        body: &B,
        deadline: Deadline,
        headers: &[(&str, &str)],
    ) -> Result<Reply<T>, UpstreamError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send_json(reqwest::Method::POST, path, body, deadline, headers)
            .await
    }

    pub async fn put_json<B, T>(
        &self,
        path: &str,
        body: &B,
        deadline: Deadline,
        headers: &[(&str, &str)],
    ) -> Result<Reply<T>, UpstreamError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send_json(reqwest::Method::PUT, path, body, deadline, headers)
            .await
    }

    async fn send_json<B, T>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
        deadline: Deadline,
        headers: &[(&str, &str)],
    ) -> Result<Reply<T>, UpstreamError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let request = self.http.request(method, self.url(path)?).json(body);
        self.send(request, deadline, headers).await
    }

    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        deadline: Deadline,
        headers: &[(&str, &str)],
    ) -> Result<Reply<T>, UpstreamError> {
        let request = self.http.get(self.url(path)?);
        self.send(request, deadline, headers).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        mut request: RequestBuilder,
        deadline: Deadline,
        headers: &[(&str, &str)],
    ) -> Result<Reply<T>, UpstreamError> {
        let service = self.service;
        let budget = deadline.remaining();
        if budget.is_zero() {
            return Err(UpstreamError::Timeout { service });
        }
        request = request
            .timeout(budget)
            .header(BUDGET_HEADER, budget.as_millis().to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.map_err(|e| {
            let timed_out = matches!(&e, reqwest_middleware::Error::Reqwest(r) if r.is_timeout());
            if timed_out {
                UpstreamError::Timeout { service }
            } else {
                UpstreamError::Unavailable {
                    service,
                    source: anyhow::Error::new(e),
                }
            }
        })?;
        let status = StatusCode::from_u16(response.status().as_u16())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| {
            if e.is_timeout() {
                UpstreamError::Timeout { service }
            } else {
                UpstreamError::Unavailable {
                    service,
                    source: anyhow::Error::new(e).context("reading the response body"),
                }
            }
        })?;
        if !status.is_success() {
            let (code, message) = match serde_json::from_slice::<ErrorEnvelope>(&bytes) {
                Ok(envelope) => (envelope.error.code, envelope.error.message),
                Err(_) => ("unexpected_response".to_owned(), String::new()),
            };
            return Err(UpstreamError::Rejected {
                service,
                status,
                code,
                message,
            });
        }
        let body = serde_json::from_slice(&bytes).map_err(|e| UpstreamError::Decode {
            service,
            source: anyhow::Error::new(e),
        })?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}
