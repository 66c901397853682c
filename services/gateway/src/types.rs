//! The gateway's public request types.

use ledger::money::{Amount, Currency};
use payments::types::{CustomerId, MerchantId};
use serde::Deserialize;

use crate::card::{CardNumber, Cvc};

/// `POST /v1/payments`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// Integer minor units (cents), positive.
    pub amount: Amount,
    /// ISO 4217, upper case.
    pub currency: Currency,
    /// Must be the merchant the API key belongs to.
    pub merchant_id: MerchantId,
    pub customer_id: CustomerId,
    pub payment_method: PaymentMethod,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PaymentMethod {
    Card { card: CardDetails },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardDetails {
    pub number: CardNumber,
    pub exp_month: u8,
    pub exp_year: u16,
    pub cvc: Cvc,
}

impl CardDetails {
    /// Valid through the last day of its expiry month.
    pub fn is_expired(&self, today: chrono::NaiveDate) -> bool {
        use chrono::Datelike as _;
        let (year, month) = (i32::from(self.exp_year), u32::from(self.exp_month));
        (year, month) < (today.year(), today.month())
    }

    pub fn has_valid_month(&self) -> bool {
        (1..=12).contains(&self.exp_month)
    }
}
