//! The firm's practice: clients, engagements, invoices, client-portal access, notes and
//! members' notifications.
//!
//! Use cases are plain async functions on [`Practice`], called alike by HTTP handlers, jobs, the seed
//! command and tests. Each checks the caller's permission and client scope, validates input,
//! writes through `store` inside one `TenantTx` (so the audit entries commit with the change),
//! and returns the API shape (tax ids are unsealed or masked here, by permission).

mod clients;
mod csv_io;
mod engagements;
mod error;
mod invoices;
mod notes;
mod notifications;
mod portal;
mod tasks;
pub mod tax;
mod time;
mod work_items;
pub mod workflow_jobs;
mod workflow_recurrence;
mod workflow_routing;
mod workflows;

use store::Db;
use vault::KeyRing;

pub use clients::ExportStream;
pub use error::{PracticeError, PracticeResult};
pub use notes::NoteSubject;
pub use workflow_recurrence::{BULK_BATCH, BULK_START_JOB, BulkStartPayload, MAX_BULK_CLIENTS, TickReport};
pub use workflows::{Settled, settle_step_by_system};

/// The practice's use cases. Cheap to clone.
#[derive(Clone)]
pub struct Practice {
    db: Db,
    keys: KeyRing,
}

impl Practice {
    pub fn new(db: Db, keys: KeyRing) -> Self {
        Practice { db, keys }
    }
}
