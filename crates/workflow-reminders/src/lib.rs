//! Time-driven workflow notifications and the firm's holiday calendar.
//!
//! - [`Reminders::tick`] (the hourly job `workflow_reminders.tick`, [`job`]) visits each firm at a
//!   `now` it is given: tells assignees of steps due within two business days and of overdue ones,
//!   mails a client's portal users about a client request waiting on them (3 days after it became
//!   ready, then every 7, at most 3), and tells the firm's managers of runs without progress for 7
//!   days and of steps 50% over their estimate. Each reminder is a row with a unique key written in
//!   the transaction that sends it (`store::workflow_reminders`), so two ticks, or one run again,
//!   send it once.
//! - The firm's holidays (list, add, remove): due dates of new runs are counted on them, with the
//!   US federal ones (`store::firm_holidays::calendar`, which `practice` reads).
//! - Reads for the screens: a run's reminders (and a client request's next), the stuck work now.
//!
//! Dates are UTC days: the firm's time zone (its workflow settings) is not applied here yet.

mod error;
mod holidays;
pub mod job;
mod tick;
mod views;

use store::Db;
use vault::KeyRing;

pub use error::{RemindersError, RemindersResult};
pub use tick::TickReport;

/// The use cases. Cheap to clone.
#[derive(Clone)]
pub struct Reminders {
    db: Db,
    keys: KeyRing,
    /// Where mails send people (the console's address).
    public_url: String,
}

impl Reminders {
    pub fn new(db: Db, keys: KeyRing, public_url: impl Into<String>) -> Self {
        Reminders { db, keys, public_url: public_url.into() }
    }
}
