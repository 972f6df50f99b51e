//! Transactions: hard-deleted, with lines and links between them.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::common::{Line, LinkedTxn, Ref, money};

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Invoice {
    pub doc_number: Option<String>,
    pub txn_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub customer_ref: Ref,
    #[serde(default, deserialize_with = "money::optional")]
    pub total_amt: Option<Decimal>,
    /// What is still owed.
    #[serde(default, deserialize_with = "money::optional")]
    pub balance: Option<Decimal>,
    pub currency_ref: Option<Ref>,
    #[serde(rename = "Line", default)]
    pub lines: Vec<Line>,
    #[serde(default)]
    pub linked_txn: Vec<LinkedTxn>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Bill {
    pub doc_number: Option<String>,
    pub txn_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub vendor_ref: Ref,
    #[serde(rename = "APAccountRef")]
    pub ap_account_ref: Option<Ref>,
    #[serde(default, deserialize_with = "money::optional")]
    pub total_amt: Option<Decimal>,
    #[serde(default, deserialize_with = "money::optional")]
    pub balance: Option<Decimal>,
    pub currency_ref: Option<Ref>,
    #[serde(rename = "Line", default)]
    pub lines: Vec<Line>,
    #[serde(default)]
    pub linked_txn: Vec<LinkedTxn>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Payment {
    pub txn_date: Option<NaiveDate>,
    pub customer_ref: Ref,
    pub deposit_to_account_ref: Option<Ref>,
    pub payment_ref_num: Option<String>,
    #[serde(default, deserialize_with = "money::optional")]
    pub total_amt: Option<Decimal>,
    #[serde(default, deserialize_with = "money::optional")]
    pub unapplied_amt: Option<Decimal>,
    pub currency_ref: Option<Ref>,
    /// Each line's `linked_txn` names the invoice (or credit memo) it pays.
    #[serde(rename = "Line", default)]
    pub lines: Vec<Line>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BillPayment {
    pub doc_number: Option<String>,
    pub txn_date: Option<NaiveDate>,
    pub vendor_ref: Ref,
    /// `Check` or `CreditCard`.
    pub pay_type: Option<String>,
    #[serde(default, deserialize_with = "money::optional")]
    pub total_amt: Option<Decimal>,
    pub currency_ref: Option<Ref>,
    #[serde(rename = "Line", default)]
    pub lines: Vec<Line>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JournalEntry {
    pub doc_number: Option<String>,
    pub txn_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "money::optional")]
    pub total_amt: Option<Decimal>,
    pub currency_ref: Option<Ref>,
    #[serde(rename = "Line", default)]
    pub lines: Vec<Line>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Purchase {
    pub doc_number: Option<String>,
    pub txn_date: Option<NaiveDate>,
    /// The bank or credit-card account paid from.
    pub account_ref: Option<Ref>,
    /// `Cash`, `Check` or `CreditCard`.
    pub payment_type: Option<String>,
    /// The payee: a vendor, customer or employee (`type` says which).
    pub entity_ref: Option<Ref>,
    #[serde(default, deserialize_with = "money::optional")]
    pub total_amt: Option<Decimal>,
    pub currency_ref: Option<Ref>,
    #[serde(rename = "Line", default)]
    pub lines: Vec<Line>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Deposit {
    pub txn_date: Option<NaiveDate>,
    pub deposit_to_account_ref: Option<Ref>,
    #[serde(default, deserialize_with = "money::optional")]
    pub total_amt: Option<Decimal>,
    pub currency_ref: Option<Ref>,
    #[serde(rename = "Line", default)]
    pub lines: Vec<Line>,
}
