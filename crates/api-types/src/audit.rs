//! The audit log as admins read it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryResponse {
    /// The hash-chain lane the entry was appended to (0–7): an organization's log is up to eight
    /// chains, so that its transactions commit side by side; each verifies on its own.
    pub lane: i16,
    /// Position in its lane's hash chain.
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// `user`, `api_key` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    /// `resource.verb`, e.g. `client.update`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    /// The entity before the change, as the use case recorded it: free-form JSON whose shape is
    /// the entity's (`entity_type`) at the time; null when not recorded (a creation, say).
    pub before: Option<Value>,
    /// The entity after the change, free-form like `before`; null when not recorded.
    pub after: Option<Value>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditListParams {
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// Inclusive lower bound (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<DateTime<Utc>>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditVerifyResponse {
    pub entries: i64,
    pub intact: bool,
    /// The lane where the chain first breaks, if it does.
    pub first_break_lane: Option<i16>,
    /// The position in that lane where it breaks.
    pub first_break_seq: Option<i64>,
    /// Why it breaks there.
    pub reason: Option<String>,
    /// Every break, lane by lane in chain order (at most 1,000).
    pub breaks: Vec<AuditBreak>,
}

/// One place where the chain does not verify.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditBreak {
    pub lane: i16,
    pub seq: i64,
    /// An entry edited, deleted or re-linked.
    pub reason: String,
}
