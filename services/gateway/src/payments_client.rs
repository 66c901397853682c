//! Payments, as the gateway calls it: a typed client on the contract's wire types.

use kit::{
    client::{ServiceClient, UpstreamError},
    deadline::Deadline,
};
use uuid::Uuid;

use contract::payments::{
    CreatePayment, IDEMPOTENCY_KEY_HEADER, IdempotencyKey, Payment, REPLAYED_HEADER,
};

#[derive(Clone)]
pub struct PaymentsClient {
    http: ServiceClient,
}

/// A created payment, and whether it was a replay of an earlier request with the same key.
#[derive(Debug)]
pub struct Created {
    pub payment: Payment,
    pub replayed: bool,
}

impl PaymentsClient {
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: ServiceClient::new("payments", base_url)?,
        })
    }

    pub async fn create(
        &self,
        request: &CreatePayment,
        key: &IdempotencyKey,
        deadline: Deadline,
    ) -> Result<Created, UpstreamError> {
        let reply = self
            .http
            .post_json(
                "/v1/payments",
                request,
                deadline,
                &[(IDEMPOTENCY_KEY_HEADER, key.as_str())],
            )
            .await?;
        let replayed = reply
            .headers
            .get(REPLAYED_HEADER)
            .is_some_and(|v| v.as_bytes() == b"true");
        Ok(Created {
            payment: reply.body,
            replayed,
        })
    }

    /// `Ok(None)` for an unknown payment.
    pub async fn get(
        &self,
        id: Uuid,
        deadline: Deadline,
    ) -> Result<Option<Payment>, UpstreamError> {
        match self
            .http
            .get_json(&format!("/v1/payments/{id}"), deadline, &[])
            .await
        {
            Ok(reply) => Ok(Some(reply.body)),
            Err(UpstreamError::Rejected { status, .. }) if status.as_u16() == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }
}
