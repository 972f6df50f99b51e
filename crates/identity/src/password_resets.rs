//! Forgotten passwords: asking for a reset link by mail (the same answer whether or not the
//! account exists), a member admin creating one for a member, and setting the new password with it.

use chrono::{DateTime, Utc};
use domain::password::check_new_password;
use domain::{Email, OrgSlug, PasswordResetId, Permission, UserId, UserStatus};
use store::password_resets::{self, NewPasswordReset, PasswordReset};
use store::users::Member;
use store::{Actor, AuditRecord, StoreError, TenantTx, organizations, sessions, users};

use crate::tokens::{self, TokenKind};
use crate::{Caller, Identity, IdentityError, IdentityResult, RequestMeta};

/// The console's page a reset link opens (`<public url>/reset-password?token=…`).
pub const PASSWORD_RESET_PATH: &str = "/reset-password";

/// A reset link a member admin created for a member (also mailed to them).
#[derive(Debug, Clone)]
pub struct CreatedPasswordReset {
    pub reset: PasswordReset,
    pub email: String,
    /// The link with its single-use token: shown once, here.
    pub link: String,
}

impl Identity {
    /// Mails a reset link to the active member with `email` in the organization `slug`, if there
    /// is one. Answers `Ok` either way (nothing tells whether the account exists); rate limited
    /// like sign-in, per client address and per organization and address.
    pub async fn request_password_reset(
        &self,
        slug: &str,
        email: &str,
        meta: &RequestMeta,
    ) -> IdentityResult<()> {
        let account_key =
            format!("reset\u{1f}{}\u{1f}{}", slug.trim().to_lowercase(), email.trim().to_lowercase());
        self.inner.limiter.check(meta.ip, &account_key)?;
        // A malformed address is the caller's typing, not a fact about our accounts.
        let email = Email::parse(email).map_err(|e| IdentityError::invalid("email", e))?;
        let org = match OrgSlug::parse(slug) {
            Ok(slug) => organizations::find_id_by_slug(&self.inner.db, slug.as_str()).await?,
            Err(_) => None,
        };
        let Some(org) = org else { return Ok(()) };
        let actor = Actor::system().with_request(meta.request_id.clone(), meta.ip);
        let mut tx = TenantTx::begin(&self.inner.db, org, actor).await?;
        let Some(account) = users::find_for_login(&mut tx, &email).await? else { return Ok(()) };
        if account.status != UserStatus::Active {
            return Ok(());
        }
        tx.act_as(Actor::user(account.id).with_request(meta.request_id.clone(), meta.ip));
        let member = users::get(&mut tx, account.id).await?;
        self.issue_reset(&mut tx, &member, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A member admin (`users:update`, for members at or below their own role) creates a reset
    /// link for a member: it is mailed to them and returned, for the admin to pass on.
    pub async fn create_password_reset(
        &self,
        caller: &Caller,
        id: UserId,
    ) -> IdentityResult<CreatedPasswordReset> {
        caller.require(Permission::UsersUpdate)?;
        if id == caller.user_id() {
            return Err(IdentityError::NotAllowed("change your own password on your profile"));
        }
        let mut tx = self.tenant_tx(caller).await?;
        let member = users::get(&mut tx, id).await?;
        if !caller.role.may_grant(member.role) {
            return Err(IdentityError::NotAllowed("you may only manage members at or below your own role"));
        }
        if member.status != UserStatus::Active {
            return Err(IdentityError::Conflict("this member is disabled; enable them first"));
        }
        let (reset, link) = self.issue_reset(&mut tx, &member, Some(caller.user_id())).await?;
        tx.commit().await?;
        Ok(CreatedPasswordReset { reset, email: member.email, link })
    }

    /// Stores a new reset for `member`, queues its mail and records the entry (in `tx`).
    async fn issue_reset(
        &self,
        tx: &mut TenantTx,
        member: &Member,
        requested_by: Option<UserId>,
    ) -> IdentityResult<(PasswordReset, String)> {
        let issued = tokens::issue(TokenKind::PasswordReset, tx.organization_id());
        let ttl = chrono::Duration::from_std(self.inner.config.password_reset_ttl)
            .unwrap_or(chrono::TimeDelta::hours(1));
        let reset = password_resets::create(
            tx,
            NewPasswordReset {
                id: PasswordResetId::new(),
                user_id: member.id,
                token_hash: &issued.hash,
                requested_by,
                expires_at: Utc::now() + ttl,
            },
        )
        .await?;
        let link = format!(
            "{}{PASSWORD_RESET_PATH}?token={}",
            self.inner.config.public_url.trim_end_matches('/'),
            issued.token
        );
        let firm = organizations::get(tx).await?.name;
        let message = reset_mail(member, &firm, &link, reset.expires_at, requested_by.is_some());
        let mail = mailer::enqueue(tx.conn(), &self.inner.keys, &message).await.map_err(|e| match e {
            mailer::MailError::Address(a) => {
                IdentityError::invalid("email", format!("`{a}` cannot be mailed"))
            }
            mailer::MailError::Queue(jobs_error) => {
                IdentityError::Store(StoreError::Corrupt(format!("queueing the reset mail: {jobs_error}")))
            }
            other => IdentityError::Store(StoreError::Corrupt(other.to_string())),
        })?;
        tx.audit(AuditRecord::new("user.password_reset_request", "user", member.id).after(
            serde_json::json!({
                "reset_id": reset.id,
                "expires_at": reset.expires_at,
                "requested_by": requested_by,
                "mail_id": mail,
            }),
        ));
        Ok((reset, link))
    }

    /// Whether a reset link's token can still set a password (known, unused, within its hour), for
    /// the page the link opens to say so before anyone types a password.
    pub async fn password_reset_is_open(&self, token: &str) -> IdentityResult<bool> {
        let Some(presented) = tokens::parse(token).filter(|t| t.kind == TokenKind::PasswordReset) else {
            return Ok(false);
        };
        let mut tx = TenantTx::begin(&self.inner.db, presented.organization_id, Actor::system()).await?;
        let open = password_resets::find_open(&mut tx, &presented.hash).await?.is_some();
        tx.commit().await?;
        Ok(open)
    }

    /// Sets a new password with a reset link's token: single use (every open link of the member is
    /// spent), within its hour, under the password rules; ends all the member's sessions and lifts
    /// a sign-in lockout. Unknown, used and expired tokens all answer `NotFound`.
    pub async fn complete_password_reset(
        &self,
        token: &str,
        new_password: &str,
        meta: &RequestMeta,
    ) -> IdentityResult<()> {
        self.inner.limiter.check_ip(meta.ip)?;
        let presented = tokens::parse(token)
            .filter(|t| t.kind == TokenKind::PasswordReset)
            .ok_or(IdentityError::NotFound)?;
        check_new_password(new_password).map_err(|e| IdentityError::invalid("password", e))?;
        let actor = Actor::system().with_request(meta.request_id.clone(), meta.ip);
        let mut tx = TenantTx::begin(&self.inner.db, presented.organization_id, actor).await?;
        let reset = password_resets::find_for_update(&mut tx, &presented.hash)
            .await?
            .filter(|r| r.used_at.is_none() && r.expires_at > Utc::now())
            .ok_or(IdentityError::NotFound)?;
        let member = users::get(&mut tx, reset.user_id).await?;
        if member.status != UserStatus::Active {
            return Err(IdentityError::NotFound);
        }
        tx.act_as(Actor::user(member.id).with_request(meta.request_id.clone(), meta.ip));
        let hash = self.inner.hasher.hash(new_password).await;
        users::set_password(&mut tx, member.id, &hash).await?;
        users::clear_lockout(&mut tx, member.id).await?;
        let spent = password_resets::use_all_for_user(&mut tx, member.id).await?;
        let ended = sessions::revoke_all_for_user(&mut tx, member.id, None).await?;
        tx.audit(AuditRecord::new("user.password_reset", "user", member.id).after(serde_json::json!({
            "reset_id": reset.id,
            "links_spent": spent,
            "sessions_ended": ended,
        })));
        tx.commit().await?;
        self.forget_cached_auth(presented.organization_id).await;
        Ok(())
    }
}

fn reset_mail(
    member: &Member,
    firm: &str,
    link: &str,
    expires_at: DateTime<Utc>,
    by_admin: bool,
) -> mailer::Message {
    let why = if by_admin {
        format!("An administrator of {firm} created a link for you to choose a new Countinghouse password.")
    } else {
        format!("Someone, hopefully you, asked to reset your Countinghouse password at {firm}.")
    };
    let until = expires_at.format("%Y-%m-%d %H:%M UTC");
    mailer::Message {
        to: member.email.clone(),
        subject: "Reset your Countinghouse password".to_owned(),
        text: format!(
            "Hello {name},\n\n{why}\n\nOpen this link to choose a new password (it works once, until {until}):\n\n{link}\n\n\
             If you did not ask for this, ignore this mail: your password stays as it is.\n",
            name = member.name,
        ),
    }
}
