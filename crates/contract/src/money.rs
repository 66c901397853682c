//! Money at the boundary: parsed once, then trusted. Shared by the services that handle amounts.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The largest amount accepted, in minor units (one billion major units): far above any real
/// payment, far below where sums of many payments could overflow an i64.
pub const MAX_AMOUNT_MINOR: i64 = 100_000_000_000;

/// A positive amount in minor units (cents for EUR, yen for JPY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Amount(i64);

impl Amount {
    pub fn minor_units(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for Amount {
    type Error = String;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        match value {
            v if v <= 0 => Err(format!(
                "amount must be a positive integer of minor units, got {v}"
            )),
            v if v > MAX_AMOUNT_MINOR => Err(format!(
                "amount must be at most {MAX_AMOUNT_MINOR} minor units"
            )),
            v => Ok(Amount(v)),
        }
    }
}

impl From<Amount> for i64 {
    fn from(amount: Amount) -> i64 {
        amount.0
    }
}

/// An active ISO 4217 currency code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct Currency(&'static str);

// By hand: serde's derive cannot produce a `&'static str` from borrowed input.
impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::try_from(code).map_err(serde::de::Error::custom)
    }
}

impl Currency {
    pub fn code(self) -> &'static str {
        self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        ISO_4217
            .iter()
            .find(|code| **code == value)
            .map(|code| Currency(code))
            .ok_or_else(|| "currency must be an active ISO 4217 code such as \"EUR\"".to_owned())
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.0.to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Active ISO 4217 alphabetic codes (list 1, 2024), excluding funds and precious metals.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW",
    "ZWG",
];

#[cfg(test)]
mod tests {
    use super::{Amount, Currency, MAX_AMOUNT_MINOR};

    #[test]
    fn amounts_must_be_positive_and_bounded() {
        assert!(Amount::try_from(0).is_err());
        assert!(Amount::try_from(-5).is_err());
        assert!(Amount::try_from(MAX_AMOUNT_MINOR + 1).is_err());
        assert_eq!(Amount::try_from(1).map(Amount::minor_units), Ok(1));
    }

    #[test]
    fn currencies_are_active_iso_codes_in_upper_case() {
        assert!(Currency::try_from("EUR".to_owned()).is_ok());
        assert!(Currency::try_from("eur".to_owned()).is_err());
        assert!(Currency::try_from("XXX".to_owned()).is_err());
        assert!(Currency::try_from("EURO".to_owned()).is_err());
    }
}
