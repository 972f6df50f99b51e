//! Inviting staff and client users by email, and accepting an invitation.

use chrono::Utc;
use domain::password::check_new_password;
use domain::{Email, InvitationId, Permission, Role, UserId};
use store::cursor::Page;
use store::invitations::{self, Invitation, NewInvitation};
use store::users::{self, NewUser};
use store::{Actor, AuditRecord, TenantTx, organizations};

use crate::sessions::valid_name;
use crate::tokens::{self, TokenKind};
use crate::{Caller, Identity, IdentityError, IdentityResult, RequestMeta, SignedIn};

/// A new invitation and its single-use token (to put in the link sent to the invitee).
pub struct CreatedInvitation {
    pub invitation: Invitation,
    pub token: String,
}

impl Identity {
    pub async fn invite(
        &self,
        caller: &Caller,
        email: &str,
        name: Option<&str>,
        role: Role,
    ) -> IdentityResult<CreatedInvitation> {
        caller.require(Permission::UsersInvite)?;
        if !caller.role.may_grant(role) {
            return Err(IdentityError::NotAllowed("you may only invite to roles at or below your own"));
        }
        let email = Email::parse(email).map_err(|e| IdentityError::invalid("email", e))?;
        let name = name.map(valid_name).transpose()?;
        let issued = tokens::issue(TokenKind::Invitation, caller.organization_id);
        let mut tx = self.tenant_tx(caller).await?;
        if users::find_for_login(&mut tx, &email).await?.is_some() {
            return Err(IdentityError::Conflict("a member with this email already exists"));
        }
        let invitation = invitations::create(
            &mut tx,
            NewInvitation {
                id: InvitationId::new(),
                email: email.as_str(),
                name,
                role,
                token_hash: &issued.hash,
                invited_by: caller.user_id(),
                expires_at: Utc::now() + self.inner.config.invitation_ttl,
            },
        )
        .await
        .map_err(|e| {
            if e.is_conflict_on("invitations_one_open_per_email") {
                IdentityError::Conflict(
                    "this email already has an open invitation; revoke it to send a new one",
                )
            } else {
                e.into()
            }
        })?;
        tx.audit(AuditRecord::new("invitation.create", "invitation", invitation.id).after(&invitation));
        tx.commit().await?;
        Ok(CreatedInvitation { invitation, token: issued.token })
    }

    pub async fn list_invitations(
        &self,
        caller: &Caller,
        open_only: bool,
        cursor: Option<&str>,
        limit: usize,
    ) -> IdentityResult<Page<Invitation>> {
        caller.require(Permission::UsersInvite)?;
        let mut tx = self.tenant_tx(caller).await?;
        let page = invitations::list(&mut tx, open_only, cursor, limit).await?;
        tx.commit().await?;
        Ok(page)
    }

    pub async fn revoke_invitation(&self, caller: &Caller, id: InvitationId) -> IdentityResult<Invitation> {
        caller.require(Permission::UsersInvite)?;
        let mut tx = self.tenant_tx(caller).await?;
        let inv = invitations::revoke(&mut tx, id).await?;
        tx.audit(AuditRecord::new("invitation.revoke", "invitation", id).after(&inv));
        tx.commit().await?;
        Ok(inv)
    }

    /// Accepts an invitation: creates the member with the invited role and signs them in.
    /// Unknown, used, revoked and expired tokens all answer `NotFound`.
    pub async fn accept_invitation(
        &self,
        token: &str,
        name: Option<&str>,
        password: &str,
        meta: &RequestMeta,
    ) -> IdentityResult<SignedIn> {
        self.inner.limiter.check_ip(meta.ip)?;
        let presented = tokens::parse(token)
            .filter(|t| t.kind == TokenKind::Invitation)
            .ok_or(IdentityError::NotFound)?;
        check_new_password(password).map_err(|e| IdentityError::invalid("password", e))?;
        let password_hash = self.inner.hasher.hash(password).await;
        let user_id = UserId::new();
        let actor = Actor::user(user_id).with_request(meta.request_id.clone(), meta.ip);
        let mut tx = TenantTx::begin(&self.inner.db, presented.organization_id, actor).await?;
        let invitation = invitations::find_open_for_update(&mut tx, &presented.hash)
            .await?
            .ok_or(IdentityError::NotFound)?;
        let email = Email::parse(&invitation.email).map_err(|e| IdentityError::invalid("email", e))?;
        // The name given, else the invitation's, else the address's local part (never a dead end).
        let local_part = email.as_str().split('@').next().unwrap_or(email.as_str());
        let name = valid_name(name.or(invitation.name.as_deref()).unwrap_or(local_part))?.to_owned();
        let user = users::create(
            &mut tx,
            NewUser {
                id: user_id,
                email: &email,
                name: &name,
                password_hash: &password_hash,
                role: invitation.role,
            },
        )
        .await
        .map_err(|e| {
            if e.is_conflict_on("users_organization_id_email_key") {
                IdentityError::Conflict("a member with this email already exists")
            } else {
                e.into()
            }
        })?;
        tx.audit(AuditRecord::new("user.create", "user", user_id).after(&user));
        invitations::mark_accepted(&mut tx, invitation.id, user_id).await?;
        tx.audit(
            AuditRecord::new("invitation.accept", "invitation", invitation.id)
                .after(serde_json::json!({ "user_id": user_id })),
        );
        let organization = organizations::get(&mut tx).await?;
        let mfa_required = if invitation.role.is_staff() {
            organization.mfa_required_for_staff
        } else {
            organization.mfa_required_for_clients
        };
        let signed_in = self.open_session(&mut tx, user, organization, mfa_required, meta).await?;
        tx.commit().await?;
        Ok(signed_in)
    }
}
