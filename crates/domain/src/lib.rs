//! Countinghouse's domain: the types and rules every other crate shares, with no I/O.
//!
//! # Layout
//! - [`ids`]: newtype ids (UUIDv7) so an organization id can never be passed where a user id is meant.
//! - [`role`] and [`permission`]: the role catalogue, the permission catalogue and the default grants.
//! - [`email`], [`slug`], [`password`]: parsed values (parse, don't validate).
//! - [`firm`], [`invoice`], [`tax_id`]: clients, engagements, invoices (amounts computed here) and
//!   tax ids (validated and masked).
//! - [`document`]: a document's file kind, type, pipeline status and event kinds.
//! - [`time`]: time entries' bounds, a timer's minutes, amounts and the time sheet's week.
//! - [`audit`]: the tamper-evident hash chain of the audit log.

pub mod audit;
pub mod currency;
pub mod document;
pub mod email;
pub mod firm;
pub mod ids;
pub mod invoice;
pub mod marketplace;
pub mod password;
pub mod permission;
pub mod quickbooks;
pub mod role;
pub mod slug;
pub mod tax_id;
pub mod time;
pub mod user;
pub mod validate;
pub mod workflow;

pub use document::{DocType, DocumentEventKind, DocumentStatus, FieldOrigin, FileKind, Region};
pub use email::Email;
pub use firm::*;
pub use ids::*;
pub use invoice::{InvoiceAction, InvoiceStatus};
pub use permission::{Permission, PermissionSet};
pub use quickbooks::{ConnectionStatus, SyncMode, SyncRunStatus, SyncTrigger};
pub use role::Role;
pub use slug::OrgSlug;
pub use tax_id::{TaxId, TaxIdKind};
pub use user::UserStatus;
