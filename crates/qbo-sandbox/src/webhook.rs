//! Webhook deliveries as Intuit sends them: the `eventNotifications` payload for a batch of
//! changes, signed with `intuit-signature` = base64(HMAC-SHA256(body, verifier token)). The sandbox
//! does not post them itself; a test or the demo posts the body with the signature header to the
//! app's webhook endpoint.

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::company::{ChangeOperation, ChangeSummary};
use crate::model::wire_time;

/// A webhook body and the value of its `intuit-signature` header.
#[derive(Clone, Debug)]
pub struct SignedNotification {
    pub body: String,
    pub signature: String,
}

/// The notification Intuit would send for `changes` in `realm`.
pub fn notification(realm: &str, changes: &ChangeSummary, verifier_token: &str) -> SignedNotification {
    let entities: Vec<_> = changes
        .changes
        .iter()
        .map(|c| {
            let operation = match c.operation {
                ChangeOperation::Create => "Create",
                ChangeOperation::Update => "Update",
                ChangeOperation::Deactivate | ChangeOperation::Delete => "Delete",
            };
            json!({ "name": c.entity.name(), "id": c.id, "operation": operation, "lastUpdated": wire_time(c.at) })
        })
        .collect();
    let body = json!({
        "eventNotifications": [{ "realmId": realm, "dataChangeEvent": { "entities": entities } }]
    })
    .to_string();
    SignedNotification { signature: sign(body.as_bytes(), verifier_token), body }
}

/// base64(HMAC-SHA256(body, verifier token)).
pub fn sign(body: &[u8], verifier_token: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(verifier_token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}
