//! The realm id: which QuickBooks company a connection, token or request is for.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A QuickBooks company id (digits, as Intuit issues them in the OAuth callback).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RealmId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a realm id is 1 to 32 digits, not `{0}`")]
pub struct InvalidRealmId(pub String);

impl RealmId {
    pub fn parse(text: &str) -> Result<RealmId, InvalidRealmId> {
        let valid = !text.is_empty() && text.len() <= 32 && text.bytes().all(|b| b.is_ascii_digit());
        if valid { Ok(RealmId(text.to_owned())) } else { Err(InvalidRealmId(text.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RealmId {
    type Error = InvalidRealmId;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        RealmId::parse(&text)
    }
}

impl From<RealmId> for String {
    fn from(realm: RealmId) -> String {
        realm.0
    }
}

impl fmt::Display for RealmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_digits_are_realm_ids() {
        assert!(RealmId::parse("9130350000000001").is_ok());
        for bad in ["", "12a", "1/2", "9".repeat(33).as_str()] {
            assert!(RealmId::parse(bad).is_err(), "{bad}");
        }
    }
}
