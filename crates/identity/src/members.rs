//! Reading and changing the members of an organization.

use domain::{Permission, Role, UserId, UserStatus};
use store::cursor::Page;
use store::organizations::{Organization, SettingsPatch};
use store::users::{self, Member, MemberFilter};
use store::{AuditRecord, organizations};

use crate::{Caller, Identity, IdentityError, IdentityResult};

#[derive(Debug, Clone, Default)]
pub struct MemberPatch {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
}

impl Identity {
    /// The caller, their organization and what they may do.
    pub async fn me(&self, caller: &Caller) -> IdentityResult<(Member, Organization)> {
        let mut tx = self.tenant_tx(caller).await?;
        let me = users::get(&mut tx, caller.user_id()).await?;
        let org = organizations::get(&mut tx).await?;
        tx.commit().await?;
        Ok((me, org))
    }

    pub async fn list_members(
        &self,
        caller: &Caller,
        filter: &MemberFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> IdentityResult<Page<Member>> {
        caller.require(Permission::UsersRead)?;
        let mut tx = self.tenant_tx(caller).await?;
        let page = users::list(&mut tx, filter, cursor, limit).await?;
        tx.commit().await?;
        Ok(page)
    }

    pub async fn get_member(&self, caller: &Caller, id: UserId) -> IdentityResult<Member> {
        if id != caller.user_id() {
            caller.require(Permission::UsersRead)?;
        }
        let mut tx = self.tenant_tx(caller).await?;
        let member = users::get(&mut tx, id).await?;
        tx.commit().await?;
        Ok(member)
    }

    /// Changes a member's role or status, within the caller's authority; the last active owner
    /// cannot be demoted or disabled, and nobody changes their own role.
    pub async fn update_member(
        &self,
        caller: &Caller,
        id: UserId,
        patch: &MemberPatch,
    ) -> IdentityResult<Member> {
        caller.require(Permission::UsersUpdate)?;
        if id == caller.user_id() {
            return Err(IdentityError::NotAllowed("you cannot change your own role or status"));
        }
        let mut tx = self.tenant_tx(caller).await?;
        let current = users::get(&mut tx, id).await?;
        if !caller.role.may_grant(current.role) || patch.role.is_some_and(|r| !caller.role.may_grant(r)) {
            return Err(IdentityError::NotAllowed("you may only manage members at or below your own role"));
        }
        let loses_owner = current.role == Role::Owner
            && current.status == UserStatus::Active
            && (patch.role.is_some_and(|r| r != Role::Owner) || patch.status == Some(UserStatus::Disabled));
        if loses_owner && users::count_active_owners(&mut tx).await? <= 1 {
            return Err(IdentityError::Conflict("the organization must keep at least one active owner"));
        }
        let change = users::update(&mut tx, id, patch.role, patch.status).await?;
        tx.audit(AuditRecord::new("user.update", "user", id).before(&change.before).after(&change.after));
        tx.commit().await?;
        self.forget_cached_auth(caller.organization_id).await;
        Ok(change.after)
    }

    pub async fn organization(&self, caller: &Caller) -> IdentityResult<Organization> {
        let mut tx = self.tenant_tx(caller).await?;
        let org = organizations::get(&mut tx).await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn update_organization(
        &self,
        caller: &Caller,
        patch: &SettingsPatch,
    ) -> IdentityResult<Organization> {
        caller.require(Permission::SystemSettings)?;
        if let Some(name) = &patch.name
            && (name.trim().is_empty() || name.chars().count() > 200)
        {
            return Err(IdentityError::invalid("name", "must be 1 to 200 characters"));
        }
        let mut tx = self.tenant_tx(caller).await?;
        let change = organizations::update_settings(&mut tx, patch).await?;
        tx.audit(
            AuditRecord::new("organization.update", "organization", caller.organization_id)
                .before(&change.before)
                .after(&change.after),
        );
        let (before, org) = (change.before, change.after);
        let staff = org.mfa_required_for_staff && !before.mfa_required_for_staff;
        let clients = org.mfa_required_for_clients && !before.mfa_required_for_clients;
        // Sessions opened before the requirement must enrol too, like new sign-ins.
        let confined = if staff || clients {
            store::sessions::require_mfa_enrolment(&mut tx, staff, clients).await?
        } else {
            0
        };
        tx.commit().await?;
        if confined > 0 {
            self.forget_cached_auth(caller.organization_id).await;
        }
        Ok(org)
    }

    /// Records an audit entry for something that happened outside a store write (an export, say).
    pub async fn record(&self, caller: &Caller, record: AuditRecord) -> IdentityResult<()> {
        let mut tx = self.tenant_tx(caller).await?;
        tx.audit(record);
        tx.commit().await?;
        Ok(())
    }
}
