//! Reading the organization's audit log and verifying its hash chain (`system:audit`).

use domain::Permission;
use store::audit::{self, AuditEntry, AuditFilter, ChainReport};
use store::cursor::Page;

use crate::{Caller, Identity, IdentityResult};

impl Identity {
    /// Audit entries, newest first, with filters.
    pub async fn audit_log(
        &self,
        caller: &Caller,
        filter: &AuditFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> IdentityResult<Page<AuditEntry>> {
        caller.require(Permission::SystemAudit)?;
        let mut tx = self.tenant_tx(caller).await?;
        let page = audit::list(&mut tx, filter, cursor, limit).await?;
        tx.commit().await?;
        Ok(page)
    }

    /// Re-hashes the organization's chain and reports every break.
    pub async fn verify_audit_chain(&self, caller: &Caller) -> IdentityResult<ChainReport> {
        caller.require(Permission::SystemAudit)?;
        let mut tx = self.tenant_tx(caller).await?;
        let report = audit::verify(&mut tx).await?;
        tx.commit().await?;
        Ok(report)
    }
}
