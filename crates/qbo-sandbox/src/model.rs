//! The entities a sandbox company holds, as typed records that serialise to QuickBooks' JSON shape.
//!
//! Only the fields a bookkeeping mirror reads are modelled; what QuickBooks calls a reference is a
//! [`Ref`] (`{"value": id, "name": display}`), amounts are `Decimal` written as exact JSON numbers
//! (through `RawValue`, so no float ever touches money), and every record carries the common
//! header (`Id`, `SyncToken`, `MetaData`, `domain`, `sparse`) added by [`Stored::to_json`].

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// The entity types the sandbox serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityType {
    CompanyInfo,
    Account,
    Customer,
    Vendor,
    Item,
    Invoice,
    Bill,
    Payment,
    BillPayment,
    JournalEntry,
    Purchase,
    Deposit,
}

impl EntityType {
    pub const ALL: [EntityType; 12] = [
        EntityType::CompanyInfo,
        EntityType::Account,
        EntityType::Customer,
        EntityType::Vendor,
        EntityType::Item,
        EntityType::Invoice,
        EntityType::Bill,
        EntityType::Payment,
        EntityType::BillPayment,
        EntityType::JournalEntry,
        EntityType::Purchase,
        EntityType::Deposit,
    ];

    /// Every type but `CompanyInfo` (one per realm, neither generated in bulk nor in CDC).
    pub const LISTED: [EntityType; 11] = [
        EntityType::Account,
        EntityType::Customer,
        EntityType::Vendor,
        EntityType::Item,
        EntityType::Invoice,
        EntityType::Bill,
        EntityType::Payment,
        EntityType::BillPayment,
        EntityType::JournalEntry,
        EntityType::Purchase,
        EntityType::Deposit,
    ];

    /// The name QuickBooks uses in queries, CDC lists and response keys.
    pub fn name(self) -> &'static str {
        match self {
            EntityType::CompanyInfo => "CompanyInfo",
            EntityType::Account => "Account",
            EntityType::Customer => "Customer",
            EntityType::Vendor => "Vendor",
            EntityType::Item => "Item",
            EntityType::Invoice => "Invoice",
            EntityType::Bill => "Bill",
            EntityType::Payment => "Payment",
            EntityType::BillPayment => "BillPayment",
            EntityType::JournalEntry => "JournalEntry",
            EntityType::Purchase => "Purchase",
            EntityType::Deposit => "Deposit",
        }
    }

    /// Entity names are case-insensitive in queries and URLs (node-quickbooks sends `invoice`).
    pub fn parse(name: &str) -> Option<EntityType> {
        EntityType::ALL.into_iter().find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// Name-list entities are soft-deleted (`Active=false`) and filtered to active rows by default.
    pub fn is_name_list(self) -> bool {
        matches!(self, EntityType::Account | EntityType::Customer | EntityType::Vendor | EntityType::Item)
    }
}

/// A reference to another entity.
#[derive(Clone, Debug, Serialize)]
pub struct Ref {
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
}

impl Ref {
    pub fn to(id: u64, name: impl Into<String>) -> Ref {
        Ref { value: id.to_string(), name: Some(name.into()), kind: None }
    }
}

/// Writes an amount as an exact JSON number.
fn money<S: Serializer>(amount: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    let raw = RawValue::from_string(amount.normalize().to_string()).map_err(serde::ser::Error::custom)?;
    raw.serialize(serializer)
}

fn money_opt<S: Serializer>(amount: &Option<Decimal>, serializer: S) -> Result<S::Ok, S::Error> {
    match amount {
        Some(amount) => money(amount, serializer),
        None => serializer.serialize_none(),
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
    pub line1: String,
    pub city: String,
    pub country_sub_division_code: String,
    pub postal_code: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Email {
    pub address: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Phone {
    pub free_form_number: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompanyInfo {
    pub company_name: String,
    pub legal_name: String,
    pub company_addr: Address,
    pub legal_addr: Address,
    pub primary_phone: Phone,
    pub email: Email,
    pub company_start_date: NaiveDate,
    pub fiscal_year_start_month: &'static str,
    pub country: &'static str,
    pub supported_languages: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Account {
    pub name: String,
    pub fully_qualified_name: String,
    pub active: bool,
    pub classification: &'static str,
    pub account_type: &'static str,
    pub account_sub_type: &'static str,
    pub sub_account: bool,
    #[serde(serialize_with = "money")]
    pub current_balance: Decimal,
    #[serde(serialize_with = "money")]
    pub current_balance_with_sub_accounts: Decimal,
    pub currency_ref: Ref,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Customer {
    pub display_name: String,
    pub fully_qualified_name: String,
    pub print_on_check_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub active: bool,
    pub job: bool,
    pub taxable: bool,
    pub primary_email_addr: Email,
    pub primary_phone: Phone,
    pub bill_addr: Address,
    #[serde(serialize_with = "money")]
    pub balance: Decimal,
    #[serde(serialize_with = "money")]
    pub balance_with_jobs: Decimal,
    pub preferred_delivery_method: &'static str,
    pub currency_ref: Ref,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Vendor {
    pub display_name: String,
    pub print_on_check_name: String,
    pub company_name: String,
    pub active: bool,
    pub vendor1099: bool,
    pub primary_email_addr: Email,
    pub primary_phone: Phone,
    pub bill_addr: Address,
    #[serde(serialize_with = "money")]
    pub balance: Decimal,
    pub currency_ref: Ref,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Item {
    pub name: String,
    pub fully_qualified_name: String,
    pub description: String,
    pub active: bool,
    #[serde(rename = "Type")]
    pub item_type: &'static str,
    pub sku: String,
    #[serde(serialize_with = "money")]
    pub unit_price: Decimal,
    #[serde(serialize_with = "money")]
    pub purchase_cost: Decimal,
    pub taxable: bool,
    pub income_account_ref: Ref,
    pub expense_account_ref: Ref,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LinkedTxn {
    pub txn_id: String,
    pub txn_type: &'static str,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Empty {}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SalesItemLineDetail {
    pub item_ref: Ref,
    #[serde(serialize_with = "money")]
    pub unit_price: Decimal,
    #[serde(serialize_with = "money")]
    pub qty: Decimal,
    pub tax_code_ref: Ref,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountLineDetail {
    pub account_ref: Ref,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billable_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_code_ref: Option<Ref>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct JournalLineDetail {
    pub posting_type: &'static str,
    pub account_ref: Ref,
}

/// One transaction line; exactly one detail (or `LinkedTxn`, for payment lines) is set.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Line {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_num: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(serialize_with = "money")]
    pub amount: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sales_item_line_detail: Option<SalesItemLineDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_total_line_detail: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_based_expense_line_detail: Option<AccountLineDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_entry_line_detail: Option<JournalLineDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deposit_line_detail: Option<AccountLineDetail>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub linked_txn: Vec<LinkedTxn>,
}

impl Line {
    pub fn amount_only(amount: Decimal) -> Line {
        Line {
            id: None,
            line_num: None,
            description: None,
            amount,
            detail_type: None,
            sales_item_line_detail: None,
            sub_total_line_detail: None,
            account_based_expense_line_detail: None,
            journal_entry_line_detail: None,
            deposit_line_detail: None,
            linked_txn: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaxDetail {
    #[serde(serialize_with = "money")]
    pub total_tax: Decimal,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Invoice {
    pub doc_number: String,
    pub txn_date: NaiveDate,
    pub due_date: NaiveDate,
    pub customer_ref: Ref,
    pub line: Vec<Line>,
    pub txn_tax_detail: TaxDetail,
    #[serde(serialize_with = "money")]
    pub total_amt: Decimal,
    #[serde(serialize_with = "money")]
    pub balance: Decimal,
    pub bill_email: Email,
    pub email_status: &'static str,
    pub print_status: &'static str,
    pub apply_tax_after_discount: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_note: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub linked_txn: Vec<LinkedTxn>,
    pub currency_ref: Ref,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Bill {
    pub doc_number: String,
    pub txn_date: NaiveDate,
    pub due_date: NaiveDate,
    pub vendor_ref: Ref,
    #[serde(rename = "APAccountRef")]
    pub ap_account_ref: Ref,
    pub line: Vec<Line>,
    #[serde(serialize_with = "money")]
    pub total_amt: Decimal,
    #[serde(serialize_with = "money")]
    pub balance: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_note: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub linked_txn: Vec<LinkedTxn>,
    pub currency_ref: Ref,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Payment {
    pub txn_date: NaiveDate,
    pub customer_ref: Ref,
    pub deposit_to_account_ref: Ref,
    pub payment_ref_num: String,
    pub line: Vec<Line>,
    #[serde(serialize_with = "money")]
    pub total_amt: Decimal,
    #[serde(serialize_with = "money")]
    pub unapplied_amt: Decimal,
    pub process_payment: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_note: Option<String>,
    pub currency_ref: Ref,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckPayment {
    pub bank_account_ref: Ref,
    pub print_status: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BillPayment {
    pub doc_number: String,
    pub txn_date: NaiveDate,
    pub vendor_ref: Ref,
    pub pay_type: &'static str,
    pub check_payment: CheckPayment,
    pub line: Vec<Line>,
    #[serde(serialize_with = "money")]
    pub total_amt: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_note: Option<String>,
    pub currency_ref: Ref,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct JournalEntry {
    pub doc_number: String,
    pub txn_date: NaiveDate,
    pub adjustment: bool,
    pub line: Vec<Line>,
    #[serde(serialize_with = "money")]
    pub total_amt: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_note: Option<String>,
    pub currency_ref: Ref,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Purchase {
    pub doc_number: String,
    pub txn_date: NaiveDate,
    pub account_ref: Ref,
    pub payment_type: &'static str,
    pub entity_ref: Ref,
    pub credit: bool,
    pub line: Vec<Line>,
    #[serde(serialize_with = "money")]
    pub total_amt: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_note: Option<String>,
    pub currency_ref: Ref,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Deposit {
    pub txn_date: NaiveDate,
    pub deposit_to_account_ref: Ref,
    pub line: Vec<Line>,
    #[serde(serialize_with = "money")]
    pub total_amt: Decimal,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "money_opt")]
    pub cash_back_amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_note: Option<String>,
    pub currency_ref: Ref,
}

/// The body of one record, by type.
#[derive(Clone, Debug)]
pub enum Body {
    CompanyInfo(CompanyInfo),
    Account(Account),
    Customer(Customer),
    Vendor(Vendor),
    Item(Item),
    Invoice(Invoice),
    Bill(Bill),
    Payment(Payment),
    BillPayment(BillPayment),
    JournalEntry(JournalEntry),
    Purchase(Purchase),
    Deposit(Deposit),
}

impl Body {
    pub fn entity_type(&self) -> EntityType {
        match self {
            Body::CompanyInfo(_) => EntityType::CompanyInfo,
            Body::Account(_) => EntityType::Account,
            Body::Customer(_) => EntityType::Customer,
            Body::Vendor(_) => EntityType::Vendor,
            Body::Item(_) => EntityType::Item,
            Body::Invoice(_) => EntityType::Invoice,
            Body::Bill(_) => EntityType::Bill,
            Body::Payment(_) => EntityType::Payment,
            Body::BillPayment(_) => EntityType::BillPayment,
            Body::JournalEntry(_) => EntityType::JournalEntry,
            Body::Purchase(_) => EntityType::Purchase,
            Body::Deposit(_) => EntityType::Deposit,
        }
    }

    /// `Some` for name-list entities.
    pub fn active(&self) -> Option<bool> {
        match self {
            Body::Account(a) => Some(a.active),
            Body::Customer(c) => Some(c.active),
            Body::Vendor(v) => Some(v.active),
            Body::Item(i) => Some(i.active),
            _ => None,
        }
    }

    /// A short display name, for references to this record.
    pub fn display(&self) -> String {
        match self {
            Body::CompanyInfo(c) => c.company_name.clone(),
            Body::Account(a) => a.name.clone(),
            Body::Customer(c) => c.display_name.clone(),
            Body::Vendor(v) => v.display_name.clone(),
            Body::Item(i) => i.name.clone(),
            Body::Invoice(i) => i.doc_number.clone(),
            Body::Bill(b) => b.doc_number.clone(),
            Body::Payment(p) => p.payment_ref_num.clone(),
            Body::BillPayment(b) => b.doc_number.clone(),
            Body::JournalEntry(j) => j.doc_number.clone(),
            Body::Purchase(p) => p.doc_number.clone(),
            Body::Deposit(_) => String::new(),
        }
    }
}

/// QuickBooks renders times in the company's zone; the sandbox's companies are all on Pacific
/// standard time, so offsets on the wire are `-08:00` like the examples in Intuit's docs.
pub fn company_offset() -> FixedOffset {
    FixedOffset::west_opt(8 * 3600).expect("8 hours is a valid offset")
}

/// `MetaData` times have second precision on the wire (`2015-07-24T10:33:39-07:00`).
pub fn wire_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&company_offset()).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The top-level `time` of a response has milliseconds (`2015-12-23T12:56:06.196-08:00`).
pub fn wire_time_millis(t: DateTime<Utc>) -> String {
    t.with_timezone(&company_offset()).format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// One stored record. Times keep full precision internally so that filters and CDC compare
/// exactly, while the wire shows seconds as QuickBooks does.
#[derive(Clone, Debug)]
pub struct Stored {
    pub id: u64,
    pub sync_token: u64,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub body: Body,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetaData {
    create_time: String,
    last_updated_time: String,
}

#[derive(Serialize)]
struct Wire<'a, T: Serialize> {
    #[serde(flatten)]
    body: &'a T,
    domain: &'static str,
    sparse: bool,
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "SyncToken")]
    sync_token: String,
    #[serde(rename = "MetaData")]
    meta_data: MetaData,
}

impl Stored {
    /// Appends this record's JSON to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        fn write<T: Serialize>(stored: &Stored, body: &T, out: &mut Vec<u8>) {
            let wire = Wire {
                body,
                domain: "QBO",
                sparse: false,
                id: stored.id.to_string(),
                sync_token: stored.sync_token.to_string(),
                meta_data: MetaData {
                    create_time: wire_time(stored.created),
                    last_updated_time: wire_time(stored.updated),
                },
            };
            serde_json::to_writer(out, &wire).expect("sandbox records always serialise");
        }
        match &self.body {
            Body::CompanyInfo(b) => write(self, b, out),
            Body::Account(b) => write(self, b, out),
            Body::Customer(b) => write(self, b, out),
            Body::Vendor(b) => write(self, b, out),
            Body::Item(b) => write(self, b, out),
            Body::Invoice(b) => write(self, b, out),
            Body::Bill(b) => write(self, b, out),
            Body::Payment(b) => write(self, b, out),
            Body::BillPayment(b) => write(self, b, out),
            Body::JournalEntry(b) => write(self, b, out),
            Body::Purchase(b) => write(self, b, out),
            Body::Deposit(b) => write(self, b, out),
        }
    }

    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(1024);
        self.write_json(&mut out);
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// The record as a JSON tree, for filters and orderings on fields that have no fast path.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.to_json()).expect("sandbox JSON parses")
    }
}
