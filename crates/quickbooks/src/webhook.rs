//! Intuit webhooks: verifying `intuit-signature` (base64 of HMAC-SHA256 of the raw body under the
//! app's verifier token, compared in constant time) and reading the `eventNotifications` payload
//! (`[{realmId, dataChangeEvent: {entities: [{name, id, operation, lastUpdated, deletedId?}]}}]`).
//! Verify before parsing, on the exact bytes received.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::entity::EntityKind;
use crate::time::parse_datetime;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "intuit-signature";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("the intuit-signature header is missing or not base64")]
    MalformedSignature,
    #[error("the intuit-signature does not match the body")]
    BadSignature,
    #[error("the webhook payload does not parse: {0}")]
    Payload(String),
}

/// Checks `signature` (the header's value) against `body`, in constant time.
pub fn verify_signature(verifier_token: &[u8], body: &[u8], signature: &str) -> Result<(), WebhookError> {
    let expected = STANDARD.decode(signature.trim()).map_err(|_| WebhookError::MalformedSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(verifier_token).map_err(|_| WebhookError::BadSignature)?;
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| WebhookError::BadSignature)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Merge,
    Void,
    Emailed,
    Other(String),
}

impl Operation {
    fn parse(text: &str) -> Operation {
        match text {
            "Create" => Operation::Create,
            "Update" => Operation::Update,
            "Delete" => Operation::Delete,
            "Merge" => Operation::Merge,
            "Void" => Operation::Void,
            "Emailed" => Operation::Emailed,
            other => Operation::Other(other.to_owned()),
        }
    }
}

/// One changed entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityEvent {
    pub name: String,
    /// `None` for kinds this client does not mirror.
    pub kind: Option<EntityKind>,
    pub id: String,
    pub operation: Operation,
    pub last_updated: Option<DateTime<Utc>>,
    /// For `Merge`: the id merged away.
    pub deleted_id: Option<String>,
}

/// The changes in one realm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealmEvents {
    pub realm_id: String,
    pub entities: Vec<EntityEvent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNotification {
    #[serde(default)]
    event_notifications: Vec<RawRealm>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRealm {
    realm_id: String,
    data_change_event: Option<RawChange>,
}

#[derive(Deserialize)]
struct RawChange {
    #[serde(default)]
    entities: Vec<RawEntity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntity {
    name: String,
    id: String,
    operation: String,
    last_updated: Option<String>,
    deleted_id: Option<String>,
}

/// Reads a notification body.
pub fn parse_notification(body: &[u8]) -> Result<Vec<RealmEvents>, WebhookError> {
    let raw: RawNotification =
        serde_json::from_slice(body).map_err(|e| WebhookError::Payload(e.to_string()))?;
    Ok(raw
        .event_notifications
        .into_iter()
        .map(|realm| RealmEvents {
            realm_id: realm.realm_id,
            entities: realm
                .data_change_event
                .map(|c| c.entities)
                .unwrap_or_default()
                .into_iter()
                .map(|e| EntityEvent {
                    kind: EntityKind::from_name(&e.name),
                    operation: Operation::parse(&e.operation),
                    last_updated: e.last_updated.as_deref().and_then(parse_datetime),
                    name: e.name,
                    id: e.id,
                    deleted_id: e.deleted_id,
                })
                .collect(),
        })
        .collect())
}

/// Verifies, then parses.
pub fn verify_and_parse(
    verifier_token: &[u8],
    body: &[u8],
    signature: &str,
) -> Result<Vec<RealmEvents>, WebhookError> {
    verify_signature(verifier_token, body, signature)?;
    parse_notification(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[
        {"name":"Customer","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"},
        {"name":"Vendor","id":"1","operation":"Merge","lastUpdated":"2015-10-05T14:42:19-0700","deletedId":"7"},
        {"name":"TimeActivity","id":"9","operation":"Delete","lastUpdated":"2015-10-05T14:42:19-07:00"}]}}]}"#;

    fn sign(key: &[u8], body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
        mac.update(body);
        STANDARD.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn accepts_only_the_signature_of_these_exact_bytes() {
        let key = b"verifier-token";
        let signature = sign(key, BODY.as_bytes());
        assert_eq!(verify_signature(key, BODY.as_bytes(), &signature), Ok(()));
        let mut tampered = BODY.as_bytes().to_vec();
        tampered[30] ^= 1;
        assert_eq!(verify_signature(key, &tampered, &signature), Err(WebhookError::BadSignature));
        assert_eq!(verify_signature(b"other", BODY.as_bytes(), &signature), Err(WebhookError::BadSignature));
        assert_eq!(
            verify_signature(key, BODY.as_bytes(), "not base64!"),
            Err(WebhookError::MalformedSignature)
        );
        assert_eq!(verify_signature(key, BODY.as_bytes(), ""), Err(WebhookError::BadSignature));
    }

    #[test]
    fn reads_the_event_notifications() {
        let signature = sign(b"k", BODY.as_bytes());
        let realms = verify_and_parse(b"k", BODY.as_bytes(), &signature).expect("valid");
        assert_eq!(realms.len(), 1);
        assert_eq!(realms[0].realm_id, "1185883450");
        let events = &realms[0].entities;
        assert_eq!(events[0].kind, Some(EntityKind::Customer));
        assert_eq!(events[0].operation, Operation::Create);
        assert_eq!(events[0].last_updated, parse_datetime("2015-10-05T21:42:19Z"));
        assert_eq!(events[1].operation, Operation::Merge);
        assert_eq!(events[1].deleted_id.as_deref(), Some("7"));
        assert_eq!(events[2].kind, None);
        assert!(parse_notification(b"{not json").is_err());
    }
}
