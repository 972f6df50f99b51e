//! The firm's everyday work: clients, engagements, invoices, client-portal access and notes.
//!
//! Use cases are plain async functions on [`Firm`], called alike by HTTP handlers, jobs, the seed
//! command and tests. Each checks the caller's permission and client scope, validates input,
//! writes through `store` inside one `TenantTx` (so the audit entries commit with the change),
//! and returns the API shape (tax ids are unsealed or masked here, by permission).

mod clients;
mod csv_io;
mod engagements;
mod error;
mod invoices;
mod notes;
mod portal;
pub mod tax;
mod validate;

use store::Db;
use vault::KeyRing;

pub use clients::ExportStream;
pub use error::{FirmError, FirmResult};
pub use notes::NoteSubject;

/// The firm service. Cheap to clone.
#[derive(Clone)]
pub struct Firm {
    db: Db,
    keys: KeyRing,
}

impl Firm {
    pub fn new(db: Db, keys: KeyRing) -> Self {
        Firm { db, keys }
    }
}
