//! Risk, as payments calls it.

use kit::{
    client::{ServiceClient, UpstreamError},
    deadline::Deadline,
};

use contract::{
    risk::{Assessment, AssessmentRequest},
    scenario::{Mode, ModeBody},
};

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

    /// `GET /admin/mode`.
    pub async fn mode(&self, admin_token: &str, deadline: Deadline) -> Result<Mode, UpstreamError> {
        let auth = format!("Bearer {admin_token}");
        let reply = self
            .http
            .get_json::<ModeBody>("/admin/mode", deadline, &[("authorization", &auth)])
            .await?;
        Ok(reply.body.mode)
    }

    /// `PUT /admin/mode`: takes effect for the next request.
    pub async fn set_mode(
        &self,
        mode: Mode,
        admin_token: &str,
        deadline: Deadline,
    ) -> Result<Mode, UpstreamError> {
        let auth = format!("Bearer {admin_token}");
        let reply = self
            .http
            .put_json::<_, ModeBody>(
                "/admin/mode",
                &ModeBody { mode },
                deadline,
                &[("authorization", &auth)],
            )
            .await?;
        Ok(reply.body.mode)
    }
}
