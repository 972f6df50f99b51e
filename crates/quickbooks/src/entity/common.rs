//! Pieces the entities share: references, exact amounts, transaction lines, linked transactions.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// A reference to another entity: `{"value": "<Id>", "name": "<display>", "type": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ref {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// Amounts arrive as JSON numbers; reading the number's own text into a `Decimal` keeps every
/// digit (no float in between). Strings holding a number are accepted too.
pub(crate) mod money {
    use super::*;

    pub fn parse(text: &str) -> Result<Decimal, String> {
        let text = text.trim();
        let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
        if text.contains(['e', 'E']) {
            Decimal::from_scientific(text).map_err(|e| format!("amount `{text}`: {e}"))
        } else {
            Decimal::from_str_exact(text).map_err(|e| format!("amount `{text}`: {e}"))
        }
    }

    pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
        let raw: Option<Box<RawValue>> = Option::deserialize(deserializer)?;
        raw.map(|r| parse(r.get()).map_err(serde::de::Error::custom)).transpose()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EmailAddress {
    address: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TelephoneNumber {
    free_form_number: Option<String>,
}

/// `PrimaryEmailAddr: {"Address": ...}` → the address.
pub(crate) fn email<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<EmailAddress>::deserialize(deserializer)?.and_then(|e| e.address))
}

/// `PrimaryPhone: {"FreeFormNumber": ...}` → the number.
pub(crate) fn phone<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<TelephoneNumber>::deserialize(deserializer)?.and_then(|p| p.free_form_number))
}

/// A transaction this one is linked to (a payment's invoice, an invoice's payments).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LinkedTxn {
    pub txn_id: String,
    pub txn_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txn_line_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PostingType {
    Debit,
    Credit,
    #[serde(other)]
    Other,
}

/// One transaction line, its detail object (`SalesItemLineDetail`, `AccountBasedExpenseLineDetail`,
/// `ItemBasedExpenseLineDetail`, `JournalEntryLineDetail`, `DepositLineDetail`) folded in.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(from = "RawLine")]
pub struct Line {
    pub id: Option<String>,
    pub line_num: Option<u32>,
    pub description: Option<String>,
    pub amount: Option<Decimal>,
    pub detail_type: Option<String>,
    pub item_ref: Option<Ref>,
    pub account_ref: Option<Ref>,
    pub class_ref: Option<Ref>,
    /// The customer an expense line is billable to, or a journal line's entity.
    pub entity_ref: Option<Ref>,
    pub qty: Option<Decimal>,
    pub unit_price: Option<Decimal>,
    pub posting_type: Option<PostingType>,
    pub linked_txn: Vec<LinkedTxn>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct LineDetail {
    item_ref: Option<Ref>,
    account_ref: Option<Ref>,
    class_ref: Option<Ref>,
    customer_ref: Option<Ref>,
    entity: Option<JournalEntity>,
    #[serde(deserialize_with = "money::optional")]
    qty: Option<Decimal>,
    #[serde(deserialize_with = "money::optional")]
    unit_price: Option<Decimal>,
    posting_type: Option<PostingType>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JournalEntity {
    entity_ref: Option<Ref>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawLine {
    id: Option<String>,
    line_num: Option<u32>,
    description: Option<String>,
    #[serde(default, deserialize_with = "money::optional")]
    amount: Option<Decimal>,
    detail_type: Option<String>,
    sales_item_line_detail: Option<LineDetail>,
    item_based_expense_line_detail: Option<LineDetail>,
    account_based_expense_line_detail: Option<LineDetail>,
    journal_entry_line_detail: Option<LineDetail>,
    deposit_line_detail: Option<LineDetail>,
    #[serde(default)]
    linked_txn: Vec<LinkedTxn>,
}

impl From<RawLine> for Line {
    fn from(raw: RawLine) -> Line {
        let detail = raw
            .sales_item_line_detail
            .or(raw.item_based_expense_line_detail)
            .or(raw.account_based_expense_line_detail)
            .or(raw.journal_entry_line_detail)
            .or(raw.deposit_line_detail)
            .unwrap_or_default();
        Line {
            id: raw.id,
            line_num: raw.line_num,
            description: raw.description,
            amount: raw.amount,
            detail_type: raw.detail_type,
            item_ref: detail.item_ref,
            account_ref: detail.account_ref,
            class_ref: detail.class_ref,
            entity_ref: detail.customer_ref.or(detail.entity.and_then(|e| e.entity_ref)),
            qty: detail.qty,
            unit_price: detail.unit_price,
            posting_type: detail.posting_type,
            linked_txn: raw.linked_txn,
        }
    }
}
