//! The QuickBooks use cases, as the JSON API and the web console call them. Each takes the
//! [`Caller`], checks its permission and its reach into the client, opens the caller's tenant
//! transaction, does the work (audit entries included) and commits; handlers only extract, call
//! one of these and map the result.
//!
//! Reads (a connection, the sync history, the summary) come from our tables and work whether or
//! not the deployment talks to Intuit; whatever does (connect, disconnect, sync) needs the
//! [`QuickBooks`] service and is refused with [`SyncError::NotConfigured`] without it. A client
//! the caller cannot reach is `NotFound("client")` before anything else is said about it.

use chrono::{Datelike, NaiveDate, Utc};
use domain::{ClientId, ConnectionStatus, Permission, SyncMode, SyncTrigger};
use identity::Caller;
use store::cursor::Page;
use store::{AuditRecord, Db, TenantTx};
use uuid::Uuid;

use crate::connect::{self, ConnectLink, Disconnected};
use crate::connections::{self, Connection};
use crate::history::{self, SyncRun};
use crate::overview::{self, ConnectionOverview};
use crate::summary::{self, Summary};
use crate::sync_jobs::{self, QueuedSync};
use crate::{QuickBooks, SyncError, SyncResult};

/// The most connections the firm overview lists.
pub const OVERVIEW_LIMIT: usize = 500;

/// The QuickBooks use cases of a deployment, with its Intuit side when configured. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Integration {
    db: Db,
    service: Option<QuickBooks>,
}

/// Intuit's redirect after consent, as its query string carried it (every part may be missing).
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub realm_id: Option<String>,
    /// Set by Intuit when the user declined or the request was refused.
    pub error: Option<String>,
}

/// A completed connect: the connection, and where the browser goes next when the deployment
/// names a page for it (`after_connect_url`).
#[derive(Debug, Clone)]
pub struct Connected {
    pub connection: Connection,
    pub return_to: Option<String>,
}

impl Integration {
    pub fn new(db: Db, service: Option<QuickBooks>) -> Integration {
        Integration { db, service }
    }

    /// The Intuit side (OAuth, API client, jobs' shared state), when configured.
    pub fn service(&self) -> Option<&QuickBooks> {
        self.service.as_ref()
    }

    fn require_service(&self) -> SyncResult<&QuickBooks> {
        self.service.as_ref().ok_or(SyncError::NotConfigured)
    }

    /// `caller` with `permission` on a client they may reach, in their tenant transaction. Reading
    /// the books takes the financial reach (a portal user's grant must show financials); changing
    /// the connection is for staff.
    async fn begin(&self, caller: &Caller, permission: Permission, client: ClientId) -> SyncResult<TenantTx> {
        caller.require(permission)?;
        let reading = permission == Permission::FinancialRead;
        let scope = if reading { caller.financial_scope() } else { caller.client_scope() };
        if !scope.allows(client) || (!reading && !caller.role.is_staff()) {
            return Err(SyncError::NotFound("client"));
        }
        Ok(caller.begin(&self.db).await?)
    }

    /// The client's connection that is not disconnected, if any (`financial:read`).
    pub async fn connection(&self, caller: &Caller, client: ClientId) -> SyncResult<Option<Connection>> {
        let mut tx = self.begin(caller, Permission::FinancialRead, client).await?;
        let connection = connections::for_client(&mut tx, client).await?;
        tx.commit().await?;
        Ok(connection)
    }

    /// The live connections of the firm's clients the caller may read, with their last sync
    /// (`financial:read`).
    pub async fn overview(&self, caller: &Caller) -> SyncResult<Vec<ConnectionOverview>> {
        caller.require(Permission::FinancialRead)?;
        let mut tx = caller.begin(&self.db).await?;
        let list = overview::list(&mut tx, &caller.financial_scope(), OVERVIEW_LIMIT).await?;
        tx.commit().await?;
        Ok(list)
    }

    /// Starts connecting the client's company (`financial:update`, staff): a single-use, expiring
    /// authorization link bound to the caller, their organization and the client.
    pub async fn start_connect(&self, caller: &Caller, client: ClientId) -> SyncResult<ConnectLink> {
        let mut tx = self.begin(caller, Permission::FinancialUpdate, client).await?;
        // The client first: another tenant's client is 404 whether or not QuickBooks is configured.
        connections::for_client(&mut tx, client).await?;
        let qb = self.require_service()?;
        let link = connect::start_connect(qb, &mut tx, client, caller.user_id()).await?;
        tx.commit().await?;
        Ok(link)
    }

    /// Intuit's redirect after consent: the `state` names the organization, user and client (the
    /// request carries no credentials of ours). See [`connect::complete_connect`].
    pub async fn complete_connect(&self, callback: Callback) -> SyncResult<Connected> {
        let qb = self.require_service()?;
        if let Some(error) = callback.error {
            return Err(SyncError::Invalid {
                field: "error",
                message: format!("QuickBooks refused the connection: {error}"),
            });
        }
        let missing = |field: &'static str| SyncError::Invalid { field, message: "is required".into() };
        let state = callback.state.ok_or_else(|| missing("state"))?;
        let code = callback.code.ok_or_else(|| missing("code"))?;
        let realm = callback.realm_id.ok_or_else(|| missing("realmId"))?;
        let (_, connection) = connect::complete_connect(qb, &state, &code, &realm).await?;
        let return_to = return_page(qb, &format!("quickbooks=connected&client_id={}", connection.client_id));
        Ok(Connected { connection, return_to })
    }

    /// Where the browser goes after a refused callback when the deployment names a page for it
    /// (`after_connect_url`, told the answer's HTTP status), so a person sees a page that says what
    /// happened rather than a problem document.
    pub fn refused_return_to(&self, status: u16) -> Option<String> {
        return_page(self.service.as_ref()?, &format!("quickbooks=refused&status={status}"))
    }

    /// Revokes the tokens at Intuit and destroys them here; the mirror stays (`financial:update`).
    pub async fn disconnect(&self, caller: &Caller, client: ClientId) -> SyncResult<Disconnected> {
        let mut tx = self.begin(caller, Permission::FinancialUpdate, client).await?;
        connections::require_for_client(&mut tx, client).await?;
        let qb = self.require_service()?;
        let done = connect::disconnect(qb, &mut tx, client).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Sync now (`financial:update`): queues a run of the client's connection, or answers with the
    /// one already waiting or running.
    pub async fn start_sync(
        &self,
        caller: &Caller,
        client: ClientId,
        mode: SyncMode,
    ) -> SyncResult<QueuedSync> {
        let mut tx = self.begin(caller, Permission::FinancialUpdate, client).await?;
        let connection = connections::require_for_client(&mut tx, client).await?;
        self.require_service()?;
        if connection.status != ConnectionStatus::Connected {
            return Err(SyncError::NotConnected);
        }
        let queued = sync_jobs::queue_sync(&mut tx, &connection, mode, SyncTrigger::Manual, None).await?;
        tx.audit(
            AuditRecord::new("quickbooks.sync_requested", "qbo_connection", connection.id)
                .after(serde_json::json!({"mode": mode, "run_id": queued.run_id})),
        );
        tx.commit().await?;
        Ok(queued)
    }

    /// A page of the client's sync history, newest first (`financial:read`).
    pub async fn sync_runs(
        &self,
        caller: &Caller,
        client: ClientId,
        cursor: Option<&str>,
        limit: usize,
    ) -> SyncResult<Page<SyncRun>> {
        let mut tx = self.begin(caller, Permission::FinancialRead, client).await?;
        connections::for_client(&mut tx, client).await?;
        let page = history::list(&mut tx, client.as_uuid(), cursor, limit).await?;
        tx.commit().await?;
        Ok(page)
    }

    /// One run of the client's connections, with its progress while it runs (`financial:read`).
    pub async fn sync_run(&self, caller: &Caller, client: ClientId, run: Uuid) -> SyncResult<SyncRun> {
        let mut tx = self.begin(caller, Permission::FinancialRead, client).await?;
        let run = history::get(&mut tx, client.as_uuid(), run).await?;
        tx.commit().await?;
        Ok(run)
    }

    /// Totals, receivables and payables from the mirror for `[from, to]` (`financial:read`); `to`
    /// defaults to today and `from` to 1 January of `to`'s year.
    pub async fn summary(
        &self,
        caller: &Caller,
        client: ClientId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> SyncResult<Summary> {
        let to = to.unwrap_or_else(|| Utc::now().date_naive());
        let from = from.unwrap_or_else(|| NaiveDate::from_ymd_opt(to.year(), 1, 1).unwrap_or(to));
        let mut tx = self.begin(caller, Permission::FinancialRead, client).await?;
        let summary = summary::for_client(&mut tx, client, from, to).await?;
        tx.commit().await?;
        Ok(summary)
    }
}

fn return_page(qb: &QuickBooks, query: &str) -> Option<String> {
    let page = qb.config().after_connect_url.as_ref()?;
    let separator = if page.contains('?') { '&' } else { '?' };
    Some(format!("{page}{separator}{query}"))
}
