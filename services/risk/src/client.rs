//! Typed client for risk, used by payments.

use kit::{
    client::{ServiceClient, UpstreamError},
    deadline::Deadline,
};

use crate::types::{Assessment, AssessmentRequest};

#[derive(Clone)]
pub struct RiskClient {
    http: ServiceClient,
}

impl RiskClient {
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: ServiceClient::new("risk", base_url)?,
        })
    }

    /// Idempotent by payment id: risk answers a repeated request with the stored assessment.
    pub async fn assess(
        &self,
        request: &AssessmentRequest,
        deadline: Deadline,
    ) -> Result<Assessment, UpstreamError> {
        Ok(self
            .http
            .post_json("/v1/assessments", request, deadline, &[])
            .await?
            .body)
    }
}
