//! The ledger, as payments calls it.

use kit::{
    client::{Reply, ServiceClient, UpstreamError},
    deadline::Deadline,
};
use uuid::Uuid;

use contract::ledger::{AccountId, Balance, Transfer, TransferRequest};

#[derive(Clone)]
pub struct LedgerClient {
    http: ServiceClient,
}

impl LedgerClient {
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: ServiceClient::new("ledger", base_url)?,
        })
    }

    /// Idempotent by payment id: safe to retry after an ambiguous failure.
    pub async fn create_transfer(
        &self,
        request: &TransferRequest,
        deadline: Deadline,
    ) -> Result<Transfer, UpstreamError> {
        let reply: Reply<Transfer> = self
            .http
            .post_json("/v1/transfers", request, deadline, &[])
            .await?;
        Ok(reply.body)
    }

    /// `Ok(None)` when the ledger has no transfer for this payment.
    pub async fn transfer_for_payment(
        &self,
        payment_id: Uuid,
        deadline: Deadline,
    ) -> Result<Option<Transfer>, UpstreamError> {
        let path = format!("/v1/transfers/by-payment/{payment_id}");
        match self.http.get_json::<Transfer>(&path, deadline, &[]).await {
            Ok(reply) => Ok(Some(reply.body)),
            Err(UpstreamError::Rejected { status, .. }) if status.as_u16() == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn balance(
        &self,
        account: &AccountId,
        deadline: Deadline,
    ) -> Result<Balance, UpstreamError> {
        let path = format!("/v1/accounts/{}/balance", account.as_str());
        Ok(self.http.get_json(&path, deadline, &[]).await?.body)
    }
}
