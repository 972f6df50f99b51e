//! Decimals in request bodies are JSON strings (`"1250.00"`), never numbers: a JSON number has
//! passed through a binary float in most clients, so `0.1` may arrive as `0.1000000000000000055…`
//! and be rounded without anyone noticing. Request fields use these to refuse numbers with a
//! message naming the field; responses already write decimals as strings.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
struct Text(#[serde(with = "rust_decimal::serde::str")] Decimal);

/// A required decimal, written as a string.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    Text::deserialize(d).map(|t| t.0)
}

/// An optional decimal: a string or null.
pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    Option::<Text>::deserialize(d).map(|t| t.map(|t| t.0))
}

/// A patched decimal: absent (unchanged), null (cleared) or a string.
pub fn patch<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Decimal>>, D::Error> {
    optional(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(deserialize_with = "string")]
        amount: Decimal,
        #[serde(default, deserialize_with = "optional")]
        rate: Option<Decimal>,
        #[serde(default, deserialize_with = "patch")]
        fee: Option<Option<Decimal>>,
    }

    #[test]
    fn strings_pass_and_numbers_are_refused() {
        let b: Body = serde_json::from_str(r#"{"amount":"0.123456789","fee":null}"#).unwrap();
        assert_eq!(b.amount.to_string(), "0.123456789");
        assert_eq!((b.rate, b.fee), (None, Some(None)));
        for bad in [r#"{"amount":12.5}"#, r#"{"amount":"1","rate":0.1}"#, r#"{"amount":"1","fee":3}"#] {
            let e = serde_json::from_str::<Body>(bad).err().expect(bad).to_string();
            assert!(e.contains("invalid type"), "{bad}: {e}");
        }
    }
}
