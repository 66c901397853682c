//! The ledger's API types, shared by its server and its typed client.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::{Amount, Currency};

/// `kind:reference`, e.g. `merchant:merchant_demo` or `customer:cus_123`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    pub fn merchant(merchant_id: &str) -> Result<Self, String> {
        Self::try_from(format!("merchant:{merchant_id}"))
    }

    pub fn customer(customer_id: &str) -> Result<Self, String> {
        Self::try_from(format!("customer:{customer_id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountId {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let valid = value.split_once(':').is_some_and(|(kind, reference)| {
            !kind.is_empty()
                && kind.chars().all(|c| c.is_ascii_lowercase())
                && (1..=64).contains(&reference.len())
                && reference
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        });
        if valid {
            Ok(AccountId(value))
        } else {
            Err("account ids look like kind:reference, e.g. merchant:acme_01 (letters, digits, _ - . in the reference, at most 64)".to_owned())
        }
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> String {
        id.0
    }
}

/// `POST /v1/transfers`: move `amount` from `debit_account` to `credit_account`, once per payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub payment_id: Uuid,
    pub debit_account: AccountId,
    pub credit_account: AccountId,
    pub amount: Amount,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub account_id: AccountId,
    /// Signed minor units: negative debits, positive credits; a transfer's postings sum to zero.
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub debit_account: AccountId,
    pub credit_account: AccountId,
    pub amount: Amount,
    pub currency: Currency,
    pub created_at: DateTime<Utc>,
    pub postings: Vec<Posting>,
}

impl Transfer {
    /// Whether this transfer is what `request` asks for (idempotent replays must match).
    pub fn matches(&self, request: &TransferRequest) -> bool {
        self.payment_id == request.payment_id
            && self.debit_account == request.debit_account
            && self.credit_account == request.credit_account
            && self.amount == request.amount
            && self.currency == request.currency
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyBalance {
    pub currency: Currency,
    /// Signed sum of the account's postings in this currency, minor units.
    pub amount: i64,
}

/// `GET /v1/accounts/{id}/balance`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub account_id: AccountId,
    pub balances: Vec<CurrencyBalance>,
}
