//! QuickBooks Online: a client's connection, sync runs and their history, the summary read from
//! the mirror, and the webhook receiver's request and answer.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::{ConnectionStatus, SyncMode, SyncRunStatus, SyncTrigger};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConnectionResponse {
    pub id: Uuid,
    pub client_id: Uuid,
    pub realm_id: String,
    /// `reconnect_needed`: Intuit refused the tokens or the company; connect the same company
    /// again (no syncs run meanwhile).
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
    pub company_name: Option<String>,
    pub connected_at: DateTime<Utc>,
    pub disconnected_at: Option<DateTime<Utc>>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    pub last_full_sync_at: Option<DateTime<Utc>>,
    pub last_incremental_sync_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConnectResponse {
    /// Send the user here to consent; Intuit redirects back to the callback.
    pub authorization_url: String,
    /// The link is single-use and expires at this time.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    /// The company the user picked; it must be one the exchanged tokens may read.
    #[serde(rename = "realmId")]
    #[param(rename = "realmId")]
    pub realm_id: Option<String>,
    /// Set by Intuit when the user declined or the request was refused.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DisconnectResponse {
    pub connection: ConnectionResponse,
    /// Whether Intuit confirmed revoking the tokens (they are destroyed here either way).
    pub revoked: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSyncRequest {
    /// `full`: every record, by paged query; `incremental` (the default): the changes since the
    /// last sync, by CDC.
    #[serde(default)]
    pub mode: Option<SyncMode>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StartSyncResponse {
    pub run_id: Uuid,
    pub job_id: Option<i64>,
    /// A sync of this connection was already waiting or running; that run is returned.
    pub already_queued: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SyncRunResponse {
    pub id: Uuid,
    pub connection_id: Uuid,
    pub mode: SyncMode,
    pub trigger: SyncTrigger,
    pub status: SyncRunStatus,
    pub attempts: i32,
    pub api_calls: i64,
    /// Per entity kind: `{"upserted", "unchanged", "deleted"}`.
    #[schema(value_type = Object)]
    pub counts: serde_json::Value,
    /// Per entity kind while running: `{"position", "done", "read"}`.
    #[schema(value_type = Object)]
    pub progress: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub errors: serde_json::Value,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// First day of the period (default: 1 January of `to`'s year).
    pub from: Option<NaiveDate>,
    /// Last day of the period, and the date receivables are aged at (default: today).
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgingResponse {
    pub current: String,
    pub days_1_30: String,
    pub days_31_60: String,
    pub days_61_90: String,
    pub days_over_90: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SummaryResponse {
    pub connection: ConnectionResponse,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Amounts are decimal strings with cents.
    pub income: String,
    pub expenses: String,
    pub net: String,
    pub receivables: String,
    pub receivables_aging: AgingResponse,
    pub payables: String,
    /// Mirror rows per entity kind.
    pub entities: BTreeMap<String, i64>,
    pub linked_customers: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookResponse {
    pub syncs_queued: usize,
    pub unknown_realms: usize,
}

/// Intuit's webhook delivery (`eventNotifications`), as documented for the receiver. The receiver
/// reads the body's exact bytes (its HMAC is the credential) and the `quickbooks` crate parses them;
/// this type only describes them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookNotification {
    #[serde(default)]
    pub event_notifications: Vec<WebhookRealmEvents>,
}

/// The changes of one company (realm).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRealmEvents {
    pub realm_id: String,
    pub data_change_event: Option<WebhookDataChange>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookDataChange {
    pub entities: Vec<WebhookEntityChange>,
}

/// One changed record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEntityChange {
    /// The entity kind (`Customer`, `Invoice`, …).
    pub name: String,
    pub id: String,
    /// `Create`, `Update`, `Delete`, `Merge`, `Void` or `Emailed`.
    pub operation: String,
    pub last_updated: Option<String>,
    /// For `Merge`: the record merged away.
    pub deleted_id: Option<String>,
}
