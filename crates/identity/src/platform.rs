//! Issuing the platform administrator's capability ([`store::PlatformAdmin`]) to a caller.

use domain::Permission;
use store::{PlatformAdmin, PlatformClaim};

use crate::{Caller, Identity, IdentityError, IdentityResult, Principal};

impl Identity {
    /// The capability to administer the platform, for a member of the platform organization
    /// whose credential grants `system:admin` (checked again against the database); `Forbidden`
    /// for everyone else.
    pub async fn platform_admin(&self, caller: &Caller) -> IdentityResult<PlatformAdmin> {
        let forbidden = IdentityError::Forbidden(Permission::SystemAdmin);
        let Some(platform) = &self.inner.config.platform_organization else {
            return Err(forbidden);
        };
        if !caller.has(Permission::SystemAdmin) {
            return Err(forbidden);
        }
        let claim = match caller.principal {
            Principal::Session { session_id, .. } => PlatformClaim::Session(session_id),
            Principal::ApiKey { key_id, .. } => PlatformClaim::ApiKey(key_id),
        };
        PlatformAdmin::verify(
            &self.inner.db,
            platform.as_str(),
            caller.organization_id,
            claim,
            caller.audit_actor(),
        )
        .await?
        .ok_or(forbidden)
    }
}
