//! The entities we mirror, as [`Record`]s: the exact JSON QuickBooks sent (so nothing is lost,
//! unknown fields and future minor versions included) plus typed views of the fields a mirror
//! keys, filters and totals on. Amounts are `Decimal` read from the JSON number's own text.

mod common;
mod names;
mod transactions;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub use common::{Line, LinkedTxn, PostingType, Ref};
pub use names::{Account, CompanyInfo, Customer, Item, Vendor};
pub use transactions::{Bill, BillPayment, Deposit, Invoice, JournalEntry, Payment, Purchase};

/// The entity types this client reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EntityKind {
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

impl EntityKind {
    /// All of them, in a load order where references point backwards.
    pub const ALL: [EntityKind; 12] = [
        EntityKind::CompanyInfo,
        EntityKind::Account,
        EntityKind::Customer,
        EntityKind::Vendor,
        EntityKind::Item,
        EntityKind::Invoice,
        EntityKind::Bill,
        EntityKind::JournalEntry,
        EntityKind::Purchase,
        EntityKind::Payment,
        EntityKind::BillPayment,
        EntityKind::Deposit,
    ];

    /// The kinds read by paged query and CDC (every kind but the one-per-realm `CompanyInfo`).
    pub const LISTED: [EntityKind; 11] = [
        EntityKind::Account,
        EntityKind::Customer,
        EntityKind::Vendor,
        EntityKind::Item,
        EntityKind::Invoice,
        EntityKind::Bill,
        EntityKind::JournalEntry,
        EntityKind::Purchase,
        EntityKind::Payment,
        EntityKind::BillPayment,
        EntityKind::Deposit,
    ];

    /// The name used in queries, CDC lists and response keys.
    pub fn name(self) -> &'static str {
        match self {
            EntityKind::CompanyInfo => "CompanyInfo",
            EntityKind::Account => "Account",
            EntityKind::Customer => "Customer",
            EntityKind::Vendor => "Vendor",
            EntityKind::Item => "Item",
            EntityKind::Invoice => "Invoice",
            EntityKind::Bill => "Bill",
            EntityKind::Payment => "Payment",
            EntityKind::BillPayment => "BillPayment",
            EntityKind::JournalEntry => "JournalEntry",
            EntityKind::Purchase => "Purchase",
            EntityKind::Deposit => "Deposit",
        }
    }

    /// Case-insensitive, as QuickBooks treats entity names.
    pub fn from_name(name: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(name))
    }

    /// The URL segment of a read by id (`/v3/company/{realm}/invoice/{id}`).
    pub fn path_segment(self) -> String {
        self.name().to_ascii_lowercase()
    }

    /// Name-list entities are soft-deleted (`Active=false`) and hidden from plain queries, so a
    /// full read must ask for `Active IN (true,false)`.
    pub fn has_active(self) -> bool {
        matches!(self, EntityKind::Account | EntityKind::Customer | EntityKind::Vendor | EntityKind::Item)
    }

    /// Transactions are hard-deleted: only CDC tombstones (≤ 30 days) or webhooks reveal it.
    pub fn is_transaction(self) -> bool {
        !self.has_active() && self != EntityKind::CompanyInfo
    }

    pub fn supports_cdc(self) -> bool {
        self != EntityKind::CompanyInfo
    }

    /// What must be loaded first for this kind's references to resolve: the edges of the sync
    /// DAG (company → accounts, customers, vendors → items → invoices, bills, … → payments …).
    pub fn depends_on(self) -> &'static [EntityKind] {
        use EntityKind::*;
        match self {
            CompanyInfo => &[],
            Account | Customer | Vendor => &[CompanyInfo],
            Item => &[Account],
            Invoice => &[Customer, Item, Account],
            Bill | Purchase => &[Vendor, Account, Item],
            JournalEntry => &[Account, Customer, Vendor],
            Payment => &[Invoice, Customer, Account],
            BillPayment => &[Bill, Vendor, Account],
            Deposit => &[Payment, Account],
        }
    }
}

/// Fields every entity carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub id: String,
    /// Version counter, +1 per change: the larger one is the newer record.
    pub sync_token: u64,
    pub created: Option<DateTime<Utc>>,
    pub last_updated: Option<DateTime<Utc>>,
    /// `Some` for name-list entities.
    pub active: Option<bool>,
}

/// The typed view, by kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Entity {
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

/// One entity as QuickBooks sent it.
#[derive(Clone, Debug)]
pub struct Record {
    pub kind: EntityKind,
    pub header: Header,
    pub entity: Entity,
    /// The entity's JSON, byte for byte.
    pub raw: Box<RawValue>,
}

/// A record whose JSON did not have the shape of its kind.
#[derive(Debug, thiserror::Error)]
#[error("{kind:?} record does not parse: {reason}")]
pub struct DecodeError {
    pub kind: EntityKind,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawMeta {
    create_time: Option<String>,
    last_updated_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawHeader {
    id: String,
    sync_token: Option<String>,
    meta_data: Option<RawMeta>,
    active: Option<bool>,
}

fn typed<T: serde::de::DeserializeOwned>(kind: EntityKind, raw: &RawValue) -> Result<T, DecodeError> {
    serde_json::from_str(raw.get()).map_err(|e| DecodeError { kind, reason: e.to_string() })
}

impl Record {
    /// Reads the header and the typed view out of one entity's JSON.
    pub fn parse(kind: EntityKind, raw: Box<RawValue>) -> Result<Record, DecodeError> {
        let head: RawHeader = typed(kind, &raw)?;
        let sync_token = match head.sync_token.as_deref() {
            None => 0,
            Some(token) => token
                .parse()
                .map_err(|_| DecodeError { kind, reason: format!("SyncToken `{token}` is not a number") })?,
        };
        let meta = head.meta_data;
        let time = |t: Option<String>| t.as_deref().and_then(crate::time::parse_datetime);
        let (created, last_updated) = match meta {
            Some(m) => (time(m.create_time), time(m.last_updated_time)),
            None => (None, None),
        };
        let entity = match kind {
            EntityKind::CompanyInfo => Entity::CompanyInfo(typed(kind, &raw)?),
            EntityKind::Account => Entity::Account(typed(kind, &raw)?),
            EntityKind::Customer => Entity::Customer(typed(kind, &raw)?),
            EntityKind::Vendor => Entity::Vendor(typed(kind, &raw)?),
            EntityKind::Item => Entity::Item(typed(kind, &raw)?),
            EntityKind::Invoice => Entity::Invoice(typed(kind, &raw)?),
            EntityKind::Bill => Entity::Bill(typed(kind, &raw)?),
            EntityKind::Payment => Entity::Payment(typed(kind, &raw)?),
            EntityKind::BillPayment => Entity::BillPayment(typed(kind, &raw)?),
            EntityKind::JournalEntry => Entity::JournalEntry(typed(kind, &raw)?),
            EntityKind::Purchase => Entity::Purchase(typed(kind, &raw)?),
            EntityKind::Deposit => Entity::Deposit(typed(kind, &raw)?),
        };
        let header = Header { id: head.id, sync_token, created, last_updated, active: head.active };
        Ok(Record { kind, header, entity, raw })
    }

    pub fn id(&self) -> &str {
        &self.header.id
    }

    pub fn raw_json(&self) -> &str {
        self.raw.get()
    }
}

#[cfg(test)]
mod tests;
