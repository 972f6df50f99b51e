//! PostgreSQL access for Countinghouse.
//!
//! # Layout
//! - [`Db`]: the application's pool, connected as `countinghouse_app` (owns nothing, no BYPASSRLS).
//! - [`migrate`]: versioned migrations, run as the owner, plus the permission catalogue sync.
//! - [`TenantTx`]: the only way to reach tenant-owned tables. It opens a transaction with
//!   `app.organization_id` set, so row-level security confines every statement to one firm; it also
//!   buffers the audit entries of the transaction and chains them on commit.
//! - One module per aggregate ([`organizations`], [`users`], [`sessions`], [`api_keys`],
//!   [`invitations`], [`mfa`], [`audit`], [`documents`], [`blobs`], [`document_batches`], [`notifications`], …):
//!   free functions over a `&mut TenantTx`. Queries filter by
//!   `organization_id` explicitly as well, so each layer holds alone (tests prove both). They
//!   read and write rows and never decide what is audited: the use case that calls them records
//!   the entry, from what they return (an update's [`Change`]: the row before and after).
//! - [`PlatformAdmin`]: the capability that opens platform transactions; made only by checks
//!   against the database (see its module).

pub mod api_keys;
pub mod audit;
pub mod blobs;
mod change;
pub mod clients;
pub mod cursor;
mod db;
pub mod document_batches;
pub mod documents;
pub mod engagements;
mod error;
pub mod firm_holidays;
pub mod idempotency;
pub mod invitations;
pub mod invoices;
pub mod marketplace;
pub mod mfa;
pub mod migrate;
pub mod notes;
pub mod notifications;
pub mod organizations;
pub mod password_resets;
pub mod plans;
mod platform;
pub mod portal;
mod query_mode;
pub mod sessions;
pub mod tasks;
mod tenant;
pub mod time_entries;
pub mod users;
pub mod vendor_memories;
pub mod work_items;
pub mod workflow_automation;
pub mod workflow_recurrence;
pub mod workflow_reminders;
pub mod workflow_routing;
pub mod workflows;

pub use change::Change;
pub use db::{Db, DbConfig};
pub use error::{StoreError, StoreResult};
pub use platform::{PlatformAdmin, PlatformClaim};
pub use tenant::{Actor, ActorKind, AuditRecord, TenantTx};

/// Re-exported so callers name one version of sqlx.
pub use sqlx;
