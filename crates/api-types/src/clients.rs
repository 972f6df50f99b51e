//! Clients: create, read, update, archive/restore, delete, lists, search, import, export, bulk.

use chrono::{DateTime, Utc};
use domain::{BusinessType, ClientId, ClientStatus, RiskLevel, TaxIdKind, UserId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::decimal;
use crate::patch;

/// A new client. Only `business_name` is required.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    pub business_name: String,
    pub legal_name: Option<String>,
    /// EIN `12-3456789` or SSN `123-45-6789` (bare digits need `tax_id_kind`).
    pub tax_id: Option<String>,
    pub tax_id_kind: Option<TaxIdKind>,
    pub primary_contact_name: Option<String>,
    pub primary_contact_email: Option<String>,
    pub primary_contact_phone: Option<String>,
    pub business_type: Option<BusinessType>,
    pub industry: Option<String>,
    pub website: Option<String>,
    /// Default `active`.
    pub status: Option<ClientStatus>,
    /// Default `low`.
    pub risk_level: Option<RiskLevel>,
    #[schema(value_type = Option<String>, example = "1250000.00")]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub annual_revenue: Option<Decimal>,
    pub assigned_to: Option<UserId>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub business_address: Option<String>,
}

/// Changes to a client: absent fields stay, `null` clears.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClientRequest {
    pub business_name: Option<String>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub legal_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub tax_id: Option<Option<String>>,
    pub tax_id_kind: Option<TaxIdKind>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub primary_contact_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub primary_contact_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub primary_contact_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<BusinessType>)]
    pub business_type: Option<Option<BusinessType>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    /// To archive or restore use the dedicated actions.
    pub status: Option<ClientStatus>,
    pub risk_level: Option<RiskLevel>,
    #[serde(default, deserialize_with = "decimal::patch")]
    #[schema(value_type = Option<String>)]
    pub annual_revenue: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<UserId>)]
    pub assigned_to: Option<Option<UserId>>,
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub business_address: Option<Option<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClientResponse {
    pub id: ClientId,
    pub business_name: String,
    pub legal_name: Option<String>,
    /// Masked (`**-***6789`) unless the caller has `clients:tax_id`.
    pub tax_id: Option<String>,
    pub tax_id_kind: Option<TaxIdKind>,
    pub primary_contact_name: Option<String>,
    pub primary_contact_email: Option<String>,
    pub primary_contact_phone: Option<String>,
    pub business_type: Option<BusinessType>,
    pub industry: Option<String>,
    pub website: Option<String>,
    pub status: ClientStatus,
    pub risk_level: RiskLevel,
    #[schema(value_type = Option<String>)]
    pub annual_revenue: Option<Decimal>,
    pub assigned_to: Option<UserId>,
    pub tags: Vec<String>,
    pub business_address: Option<String>,
    pub quickbooks_customer_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A client as list pages and search show it (the detail has every field).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClientSummaryResponse {
    pub id: ClientId,
    pub business_name: String,
    /// Masked (`**-***6789`) unless the caller has `clients:tax_id`.
    pub tax_id: Option<String>,
    pub primary_contact_name: Option<String>,
    pub primary_contact_email: Option<String>,
    pub business_type: Option<BusinessType>,
    pub industry: Option<String>,
    pub status: ClientStatus,
    pub risk_level: RiskLevel,
    #[schema(value_type = Option<String>)]
    pub annual_revenue: Option<Decimal>,
    pub assigned_to: Option<UserId>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// `GET /v1/clients`: filters, sort and keyset paging; with `q`, a ranked search instead.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientListParams {
    /// Comma-separated statuses; default: all but `archived`.
    pub status: Option<String>,
    pub business_type: Option<BusinessType>,
    pub industry: Option<String>,
    pub risk_level: Option<RiskLevel>,
    /// A member id, or `me`.
    pub assigned_to: Option<String>,
    /// Comma-separated tags: clients with any of them.
    pub tags: Option<String>,
    /// Created at or after (RFC 3339).
    pub created_from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    pub created_to: Option<DateTime<Utc>>,
    /// `name` (default), `created` or `revenue`.
    pub sort: Option<String>,
    /// `asc` (default) or `desc`.
    pub order: Option<String>,
    /// Search names, contacts and emails (prefixes and typos), or an exact tax id. Results are
    /// ranked by relevance: one page of up to `limit`, no cursor.
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Export takes the list's filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientExportParams {
    pub status: Option<String>,
    pub business_type: Option<BusinessType>,
    pub industry: Option<String>,
    pub risk_level: Option<RiskLevel>,
    pub assigned_to: Option<String>,
    pub tags: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    Archive,
    Restore,
    Activate,
    SetStatus,
    Assign,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkClientRequest {
    pub action: BulkAction,
    /// Up to 1,000 client ids. All must exist, or nothing changes.
    pub ids: Vec<ClientId>,
    /// For `set_status`.
    pub status: Option<ClientStatus>,
    /// For `assign`; null unassigns.
    pub assigned_to: Option<UserId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BulkClientResponse {
    /// Clients that changed.
    pub changed: usize,
    /// Clients already in the requested state.
    pub unchanged: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Validate and report without importing.
    pub dry_run: Option<bool>,
}

/// The outcome of a CSV import: all rows valid ⇒ all imported, else none.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub rows: usize,
    pub accepted: usize,
    pub rejected: Vec<RejectedRow>,
    pub imported: bool,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RejectedRow {
    /// 1-based line number in the file (the header is line 1).
    pub line: usize,
    pub errors: Vec<crate::FieldError>,
}
