//! Payments' API types, shared by its server and its typed client (used by the gateway).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    money::{Amount, Currency},
    risk::{Decision, ScoringPath},
};

/// Required on `POST /v1/payments`: retries with the same key and body return the same payment.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Set to `true` on a response that replays a stored payment.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

fn parse_reference(value: &str, what: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} must be 1 to 64 characters of letters, digits, '_', '-' or '.'"
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MerchantId(String);

impl TryFrom<String> for MerchantId {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        parse_reference(&value, "merchant_id").map(|()| MerchantId(value))
    }
}

impl From<MerchantId> for String {
    fn from(id: MerchantId) -> String {
        id.0
    }
}

impl MerchantId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerId(String);

impl TryFrom<String> for CustomerId {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        parse_reference(&value, "customer_id").map(|()| CustomerId(value))
    }
}

impl From<CustomerId> for String {
    fn from(id: CustomerId) -> String {
        id.0
    }
}

impl CustomerId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 1 to 255 visible ASCII characters (a UUID is typical).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let ok = (1..=255).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(IdempotencyKey(value.to_owned()))
        } else {
            Err("Idempotency-Key must be 1 to 255 visible ASCII characters")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What payments may know of a card: never the number or the CVC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardSummary {
    pub brand: String,
    pub last4: String,
    /// Keyed hash of the card number: the same card gives the same fingerprint.
    pub fingerprint: String,
}

/// `POST /v1/payments` (internal, from the gateway, which authenticated the merchant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePayment {
    pub merchant_id: MerchantId,
    pub customer_id: CustomerId,
    pub amount: Amount,
    pub currency: Currency,
    pub card: CardSummary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Authorized,
    Declined,
    Review,
    Failed,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Declined => "declined",
            PaymentStatus::Review => "review",
            PaymentStatus::Failed => "failed",
        }
    }

    pub fn is_terminal(self) -> bool {
        self != PaymentStatus::Pending
    }
}

impl std::str::FromStr for PaymentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(PaymentStatus::Pending),
            "authorized" => Ok(PaymentStatus::Authorized),
            "declined" => Ok(PaymentStatus::Declined),
            "review" => Ok(PaymentStatus::Review),
            "failed" => Ok(PaymentStatus::Failed),
            other => Err(format!("unknown payment status {other:?}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentMethodView {
    #[serde(rename = "type")]
    #[schema(example = "card")]
    pub kind: String,
    pub brand: String,
    pub last4: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RiskView {
    pub decision: Decision,
    pub score: i16,
    pub path: ScoringPath,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: Uuid,
    pub status: PaymentStatus,
    /// Minor units.
    #[schema(value_type = i64, minimum = 1)]
    pub amount: Amount,
    /// ISO 4217.
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    #[schema(value_type = String)]
    pub merchant_id: MerchantId,
    #[schema(value_type = String)]
    pub customer_id: CustomerId,
    pub payment_method: PaymentMethodView,
    pub risk: Option<RiskView>,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
