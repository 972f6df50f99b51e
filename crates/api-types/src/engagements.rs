//! Engagements and notes.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{ClientId, EngagementId, EngagementStatus, EngagementType, NoteId, NoteType, Priority, UserId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::date;
use crate::decimal;
use crate::patch;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEngagementRequest {
    pub client_id: ClientId,
    pub name: String,
    pub engagement_type: EngagementType,
    /// Default `planning`.
    pub status: Option<EngagementStatus>,
    /// Default `normal`.
    pub priority: Option<Priority>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "date::optional")]
    pub start_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "date::optional")]
    pub due_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub estimated_hours: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub hourly_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub fixed_fee: Option<Decimal>,
    pub tax_year: Option<i32>,
    pub assigned_to: Option<UserId>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEngagementRequest {
    pub name: Option<String>,
    pub engagement_type: Option<EngagementType>,
    pub status: Option<EngagementStatus>,
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "date::patch")]
    #[schema(value_type = Option<NaiveDate>)]
    pub start_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "date::patch")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "decimal::patch")]
    #[schema(value_type = Option<String>)]
    pub estimated_hours: Option<Option<Decimal>>,
    /// Hours are derived from the engagement's time entries: a value set here is replaced by
    /// their sum the next time one of them is logged, changed or deleted.
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub actual_hours: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal::patch")]
    #[schema(value_type = Option<String>)]
    pub hourly_rate: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "decimal::patch")]
    #[schema(value_type = Option<String>)]
    pub fixed_fee: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<i32>)]
    pub tax_year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<UserId>)]
    pub assigned_to: Option<Option<UserId>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EngagementResponse {
    pub id: EngagementId,
    pub client_id: ClientId,
    pub name: String,
    pub engagement_type: EngagementType,
    pub status: EngagementStatus,
    pub priority: Priority,
    pub description: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub completed_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>)]
    pub estimated_hours: Option<Decimal>,
    #[schema(value_type = String)]
    pub actual_hours: Decimal,
    #[schema(value_type = Option<String>)]
    pub hourly_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub fixed_fee: Option<Decimal>,
    pub tax_year: Option<i32>,
    pub assigned_to: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EngagementListParams {
    /// A member id, or `me`: that member's open engagements by due date.
    pub assigned_to: Option<String>,
    pub status: Option<EngagementStatus>,
    pub engagement_type: Option<EngagementType>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNoteRequest {
    pub title: Option<String>,
    pub body: String,
    /// Default `general`.
    pub note_type: Option<NoteType>,
    /// Visible only to you.
    #[serde(default)]
    pub is_private: bool,
    /// When to remind (with `note_type` = `reminder`, typically).
    pub remind_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateNoteRequest {
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    pub body: Option<String>,
    pub note_type: Option<NoteType>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub remind_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NoteResponse {
    pub id: NoteId,
    pub client_id: Option<ClientId>,
    pub engagement_id: Option<EngagementId>,
    pub title: Option<String>,
    pub body: String,
    pub note_type: NoteType,
    pub is_private: bool,
    pub remind_at: Option<DateTime<Utc>>,
    pub author_id: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
