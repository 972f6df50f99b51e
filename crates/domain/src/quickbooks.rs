//! QuickBooks Online connections and sync runs: the states and kinds the `qbo-sync` engine
//! stores as text and the API and console show.

use std::fmt;
use std::str::FromStr;

use crate::firm::text_enum;

text_enum!(
    /// Where a client's QuickBooks connection stands. `reconnect_needed`: Intuit refused the
    /// tokens or the company; nothing syncs until the user connects the same company again.
    ConnectionStatus { Connected = "connected", ReconnectNeeded = "reconnect_needed", Disconnected = "disconnected" }
);

text_enum!(
    /// How much a sync reads: `full`, every record by paged query; `incremental`, the changes
    /// since the last sync by CDC.
    SyncMode { Full = "full", Incremental = "incremental" }
);

text_enum!(
    /// Why a sync run was started.
    SyncTrigger { Manual = "manual", Schedule = "schedule", Webhook = "webhook", Connect = "connect" }
);

text_enum!(
    /// Where a sync run is: waiting for a worker, running, or finished one way or the other.
    SyncRunStatus { Queued = "queued", Running = "running", Succeeded = "succeeded", Failed = "failed" }
);

impl SyncRunStatus {
    /// Whether the run is over (its counts are final).
    pub fn is_finished(self) -> bool {
        matches!(self, SyncRunStatus::Succeeded | SyncRunStatus::Failed)
    }
}
