//! The audit log's hash chain: each entry's hash covers the previous entry's hash and the entry's
//! own content, per organization, so a changed, removed or reordered entry breaks every hash after it.
//!
//! The canonical form is written here by hand (keys sorted at every depth, no whitespace) rather than
//! relying on `serde_json`'s map order, which a feature flag elsewhere in the build can change.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The hash an organization's first entry chains from.
pub const GENESIS: [u8; 32] = [0; 32];

/// What an audit entry says, in the form the chain hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditContent<'a> {
    pub organization_id: Uuid,
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_kind: &'a str,
    pub actor_id: Option<Uuid>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<&'a str>,
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
    pub request_id: Option<&'a str>,
}

/// `sha256(prev || canonical(content))`.
pub fn chain_hash(prev: &[u8], content: &AuditContent<'_>) -> [u8; 32] {
    let mut canonical = String::with_capacity(256);
    let obj = serde_json::json!({
        "organization_id": content.organization_id.to_string(),
        "seq": content.seq,
        "id": content.id.to_string(),
        // Microseconds: PostgreSQL's timestamptz precision, so the value reads back identical.
        "occurred_at_us": content.occurred_at.timestamp_micros(),
        "actor_kind": content.actor_kind,
        "actor_id": content.actor_id.map(|id| id.to_string()),
        "action": content.action,
        "entity_type": content.entity_type,
        "entity_id": content.entity_id,
        "before": content.before,
        "after": content.after,
        "request_id": content.request_id,
    });
    write_canonical(&obj, &mut canonical);
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(canonical.as_bytes());
    hasher.finalize().into()
}

/// Truncates a timestamp to the microsecond, as PostgreSQL stores it.
pub fn to_db_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// How many hash chains (lanes) an organization's audit log may spread over, so that its
/// transactions need not commit one behind the other; each lane verifies on its own.
pub const LANES: i16 = 8;

/// Where a chain first fails to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub lane: i16,
    pub seq: i64,
    pub reason: ChainBreakReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreakReason {
    /// A sequence number is missing: an entry was deleted.
    Gap { expected: i64 },
    /// The stored previous-hash is not the previous entry's hash.
    PrevMismatch,
    /// The entry's content does not hash to its stored hash: it was edited.
    HashMismatch,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn content<'a>(after: &'a Value) -> AuditContent<'a> {
        AuditContent {
            organization_id: Uuid::nil(),
            seq: 1,
            id: Uuid::nil(),
            occurred_at: DateTime::<Utc>::UNIX_EPOCH,
            actor_kind: "user",
            actor_id: None,
            action: "client.update",
            entity_type: "client",
            entity_id: Some("x"),
            before: None,
            after: Some(after),
            request_id: None,
        }
    }

    #[test]
    fn key_order_does_not_matter_but_content_does() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "s"}});
        let b: Value = serde_json::from_str(r#"{"a":{"x":"s","y":[1,2]},"b":1}"#).unwrap();
        assert_eq!(chain_hash(&GENESIS, &content(&a)), chain_hash(&GENESIS, &content(&b)));
        let c = json!({"b": 2, "a": {"y": [1, 2], "x": "s"}});
        assert_ne!(chain_hash(&GENESIS, &content(&a)), chain_hash(&GENESIS, &content(&c)));
    }

    #[test]
    fn the_previous_hash_is_part_of_the_hash() {
        let a = json!({});
        assert_ne!(chain_hash(&GENESIS, &content(&a)), chain_hash(&[1; 32], &content(&a)));
    }
}
