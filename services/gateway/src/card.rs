//! Card data, parsed at the edge and reduced to a summary before it goes anywhere else.
//!
//! The card number and CVC exist only inside the gateway's request handling: their `Debug`
//! output is masked, they cannot be serialized, and only brand, last four digits and a keyed
//! fingerprint travel on.

use std::fmt;

use hmac::{Hmac, Mac as _};
use serde::Deserialize;
use sha2::Sha256;

/// A primary account number: 12 to 19 digits (spaces allowed) passing the Luhn check.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct CardNumber(String);

impl TryFrom<String> for CardNumber {
    type Error = &'static str;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let digits: String = value.chars().filter(|c| *c != ' ').collect();
        if !(12..=19).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err("card number must be 12 to 19 digits");
        }
        if !luhn_valid(&digits) {
            return Err("card number fails the Luhn check");
        }
        Ok(CardNumber(digits))
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber(****{})", self.last4())
    }
}

impl CardNumber {
    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    /// The card network, from the leading digits.
    pub fn brand(&self) -> &'static str {
        let prefix = |n: usize| self.0[..n].parse::<u32>().unwrap_or(0);
        match () {
            _ if self.0.starts_with('4') => "visa",
            _ if (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)) => {
                "mastercard"
            }
            _ if matches!(prefix(2), 34 | 37) => "amex",
            _ if prefix(4) == 6011 || prefix(2) == 65 => "discover",
            _ => "unknown",
        }
    }

    /// HMAC-SHA256 of the number under `key`: recognises a card again without storing it.
    pub fn fingerprint(&self, key: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
        mac.update(self.0.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Card verification code: 3 or 4 digits.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Cvc(String);

impl TryFrom<String> for Cvc {
    type Error = &'static str;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if (3..=4).contains(&value.len()) && value.chars().all(|c| c.is_ascii_digit()) {
            Ok(Cvc(value))
        } else {
            Err("cvc must be 3 or 4 digits")
        }
    }
}

impl fmt::Debug for Cvc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cvc(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::{CardNumber, luhn_valid};

    #[test]
    fn test_cards_pass_luhn_and_typos_do_not() {
        assert!(luhn_valid("4242424242424242"));
        assert!(luhn_valid("5555555555554444"));
        assert!(!luhn_valid("4242424242424241"));
    }

    #[test]
    fn numbers_are_masked_in_debug_and_brands_recognised() {
        let card = CardNumber::try_from("4242 4242 4242 4242".to_owned()).expect("valid");
        assert_eq!(format!("{card:?}"), "CardNumber(****4242)");
        assert_eq!(card.brand(), "visa");
        let mc = CardNumber::try_from("5555555555554444".to_owned()).expect("valid");
        assert_eq!(mc.brand(), "mastercard");
        assert!(CardNumber::try_from("4242".to_owned()).is_err());
        assert!(CardNumber::try_from("42424242424242xx".to_owned()).is_err());
    }

    #[test]
    fn fingerprints_are_stable_per_key_and_do_not_contain_the_number() {
        let card = CardNumber::try_from("4242424242424242".to_owned()).expect("valid");
        assert_eq!(card.fingerprint(b"k1"), card.fingerprint(b"k1"));
        assert_ne!(card.fingerprint(b"k1"), card.fingerprint(b"k2"));
        assert!(!card.fingerprint(b"k1").contains("4242"));
    }
}
