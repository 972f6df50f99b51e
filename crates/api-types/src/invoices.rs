//! Invoices, payments, AR aging and client portal access.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{AccessLevel, ClientId, EngagementId, InvoiceId, InvoiceStatus, PortalAccessId, UserId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::date;
use crate::decimal;
use crate::patch;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLineInput {
    pub description: String,
    #[schema(value_type = String, example = "1.5")]
    #[serde(deserialize_with = "decimal::string")]
    pub quantity: Decimal,
    #[schema(value_type = String, example = "150.00")]
    #[serde(deserialize_with = "decimal::string")]
    pub unit_price: Decimal,
}

/// A new draft invoice. Amounts are computed by the server from the lines; a `total` sent for
/// checking must match.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvoiceRequest {
    pub client_id: ClientId,
    pub engagement_id: Option<EngagementId>,
    /// Leave out for the next number (`INV-000123`); custom numbers must not start with `INV-`.
    pub number: Option<String>,
    pub title: Option<String>,
    /// Default today.
    #[serde(default, deserialize_with = "date::optional")]
    pub issue_date: Option<NaiveDate>,
    /// Default 30 days after the issue date.
    #[serde(default, deserialize_with = "date::optional")]
    pub due_date: Option<NaiveDate>,
    /// ISO 4217, default USD.
    pub currency: Option<String>,
    /// 0.0825 for 8.25%; applies to the subtotal.
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub tax_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub discount: Option<Decimal>,
    pub lines: Vec<InvoiceLineInput>,
    pub notes: Option<String>,
    /// Optional check: refused (422) unless it equals the computed total.
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub total: Option<Decimal>,
}

/// Changes to a draft.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInvoiceRequest {
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "date::optional")]
    pub issue_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "date::optional")]
    pub due_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub tax_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub discount: Option<Decimal>,
    pub lines: Option<Vec<InvoiceLineInput>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub total: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceLineResponse {
    pub position: i32,
    pub description: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaymentResponse {
    pub id: Uuid,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub paid_on: NaiveDate,
    pub method: Option<String>,
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceResponse {
    pub id: InvoiceId,
    pub client_id: ClientId,
    pub engagement_id: Option<EngagementId>,
    pub number: String,
    pub title: Option<String>,
    pub status: InvoiceStatus,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    #[schema(value_type = String)]
    pub tax_rate: Decimal,
    #[schema(value_type = String)]
    pub subtotal: Decimal,
    #[schema(value_type = String)]
    pub tax_amount: Decimal,
    #[schema(value_type = String)]
    pub discount_amount: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
    #[schema(value_type = String)]
    pub paid_amount: Decimal,
    #[schema(value_type = String)]
    pub balance: Decimal,
    pub notes: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub viewed_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Present on single-invoice reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<InvoiceLineResponse>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payments: Option<Vec<PaymentResponse>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceListParams {
    pub client_id: Option<ClientId>,
    pub status: Option<InvoiceStatus>,
    /// Only invoices due before this date.
    #[serde(default, deserialize_with = "date::optional")]
    pub due_before: Option<NaiveDate>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPaymentRequest {
    #[schema(value_type = String)]
    #[serde(deserialize_with = "decimal::string")]
    pub amount: Decimal,
    /// Default today.
    #[serde(default, deserialize_with = "date::optional")]
    pub paid_on: Option<NaiveDate>,
    pub method: Option<String>,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgingParams {
    pub client_id: Option<ClientId>,
    /// The day to age against (default today, UTC).
    #[serde(default, deserialize_with = "date::optional")]
    pub as_of: Option<NaiveDate>,
}

/// Open receivables by days past due.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgingResponse {
    pub as_of: NaiveDate,
    #[schema(value_type = String)]
    pub current: Decimal,
    #[schema(value_type = String)]
    pub days_1_30: Decimal,
    #[schema(value_type = String)]
    pub days_31_60: Decimal,
    #[schema(value_type = String)]
    pub days_61_90: Decimal,
    #[schema(value_type = String)]
    pub days_over_90: Decimal,
    #[schema(value_type = String)]
    pub total_open: Decimal,
    pub open_invoices: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantPortalAccessRequest {
    /// A member with the `client` role (invite them first).
    pub user_id: UserId,
    /// Default `view`.
    pub access_level: Option<AccessLevel>,
    pub can_view_financials: Option<bool>,
    pub can_upload_documents: Option<bool>,
    pub can_message: Option<bool>,
    pub can_approve_invoices: Option<bool>,
    pub can_manage_team: Option<bool>,
    pub can_export_data: Option<bool>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PortalAccessResponse {
    pub id: PortalAccessId,
    pub user_id: UserId,
    pub client_id: ClientId,
    pub access_level: AccessLevel,
    pub can_view_financials: bool,
    pub can_upload_documents: bool,
    pub can_message: bool,
    pub can_approve_invoices: bool,
    pub can_manage_team: bool,
    pub can_export_data: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}
