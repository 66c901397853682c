//! The gateway's public request types.

use contract::money::{Amount, Currency};
use contract::payments::{CustomerId, MerchantId};
use serde::Deserialize;

use crate::card::{CardNumber, Cvc};

/// `POST /v1/payments`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// Integer minor units (cents), positive.
    #[schema(value_type = i64, minimum = 1, maximum = 100_000_000_000_i64, example = 1999)]
    pub amount: Amount,
    /// ISO 4217, upper case.
    #[schema(value_type = String, pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: Currency,
    /// Must be the merchant the API key belongs to.
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_.-]{1,64}$", example = "merchant_demo")]
    pub merchant_id: MerchantId,
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_.-]{1,64}$", example = "cus_1")]
    pub customer_id: CustomerId,
    pub payment_method: PaymentMethod,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PaymentMethod {
    Card { card: CardDetails },
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardDetails {
    /// 12 to 19 digits passing the Luhn check; never stored, logged or sent on.
    #[schema(value_type = String, pattern = "^[0-9 ]{12,23}$", example = "4242424242424242")]
    pub number: CardNumber,
    #[schema(minimum = 1, maximum = 12, example = 12)]
    pub exp_month: u8,
    #[schema(example = 2030)]
    pub exp_year: u16,
    #[schema(value_type = String, pattern = "^[0-9]{3,4}$", example = "123")]
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
