//! Name-list entities (and the company itself): soft-deleted through `Active`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::common::{Ref, email, money, phone};

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompanyInfo {
    pub company_name: String,
    pub legal_name: Option<String>,
    pub country: Option<String>,
    pub fiscal_year_start_month: Option<String>,
    pub company_start_date: Option<NaiveDate>,
    #[serde(rename = "Email", default, deserialize_with = "email")]
    pub email: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Account {
    pub name: String,
    pub fully_qualified_name: Option<String>,
    pub account_type: Option<String>,
    pub account_sub_type: Option<String>,
    pub classification: Option<String>,
    #[serde(default, deserialize_with = "money::optional")]
    pub current_balance: Option<Decimal>,
    pub parent_ref: Option<Ref>,
    pub currency_ref: Option<Ref>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Customer {
    pub display_name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub company_name: Option<String>,
    #[serde(rename = "PrimaryEmailAddr", default, deserialize_with = "email")]
    pub email: Option<String>,
    #[serde(rename = "PrimaryPhone", default, deserialize_with = "phone")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "money::optional")]
    pub balance: Option<Decimal>,
    /// Set for sub-customers and jobs.
    pub parent_ref: Option<Ref>,
    pub currency_ref: Option<Ref>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Vendor {
    pub display_name: String,
    pub company_name: Option<String>,
    #[serde(rename = "PrimaryEmailAddr", default, deserialize_with = "email")]
    pub email: Option<String>,
    #[serde(rename = "PrimaryPhone", default, deserialize_with = "phone")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "money::optional")]
    pub balance: Option<Decimal>,
    #[serde(rename = "Vendor1099")]
    pub vendor_1099: Option<bool>,
    pub currency_ref: Option<Ref>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Item {
    pub name: String,
    pub fully_qualified_name: Option<String>,
    #[serde(rename = "Type")]
    pub item_type: Option<String>,
    pub sku: Option<String>,
    #[serde(default, deserialize_with = "money::optional")]
    pub unit_price: Option<Decimal>,
    #[serde(default, deserialize_with = "money::optional")]
    pub purchase_cost: Option<Decimal>,
    pub income_account_ref: Option<Ref>,
    pub expense_account_ref: Option<Ref>,
}
