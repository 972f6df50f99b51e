//! Notifications to the signed-in user.

use chrono::{DateTime, Utc};
use domain::{NotificationId, NotificationKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotificationResponse {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    /// Details by kind; `document_batch_finished`: `batch_id`, `client_id`, `accepted`,
    /// `rejected`, `counts` and `link` (the batch's progress).
    pub payload: Value,
    pub created_at: DateTime<Utc>,
    /// When the user marked it read; absent while unread.
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationListParams {
    /// Only those not read yet.
    pub unread: Option<bool>,
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReadAllResponse {
    /// Notifications this call marked read.
    pub marked: u64,
}
