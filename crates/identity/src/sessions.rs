//! Signing up a firm, signing in and out, and resolving a bearer token to an [`AuthContext`].

use cache::Scope;
use chrono::{DateTime, Utc};
use domain::password::check_new_password;
use domain::user::{LOCKOUT_DURATION, LOCKOUT_THRESHOLD};
use domain::{Email, OrgSlug, OrganizationId, PermissionSet, Role, SessionId, UserId, UserStatus};
use store::organizations::Organization;
use store::users::{Member, NewUser};
use store::{Actor, AuditRecord, StoreError, TenantTx, api_keys, mfa, organizations, sessions, users};

use crate::tokens::{self, TokenKind};
use crate::{AuthContext, Caller, Identity, IdentityError, IdentityResult, Principal, RequestMeta, totp};

pub struct SignupRequest {
    pub organization_name: String,
    pub slug: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

pub struct LoginRequest {
    pub organization: String,
    pub email: String,
    pub password: String,
    pub mfa_code: Option<String>,
}

/// A new session: the bearer token is shown once, here.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub session_id: SessionId,
    pub expires_at: DateTime<Utc>,
    pub mfa_enrolment_required: bool,
    pub user: Member,
    pub organization: Organization,
}

impl Identity {
    /// Creates an organization with its owner and signs the owner in.
    pub async fn signup(&self, req: SignupRequest, meta: &RequestMeta) -> IdentityResult<SignedIn> {
        self.inner.limiter.check_ip(meta.ip)?;
        let org_name = req.organization_name.trim();
        if org_name.is_empty() || org_name.chars().count() > 200 {
            return Err(IdentityError::invalid("organization_name", "must be 1 to 200 characters"));
        }
        let slug = OrgSlug::parse(&req.slug).map_err(|e| IdentityError::invalid("slug", e))?;
        let name = valid_name(&req.name)?;
        let email = Email::parse(&req.email).map_err(|e| IdentityError::invalid("email", e))?;
        check_new_password(&req.password).map_err(|e| IdentityError::invalid("password", e))?;
        let password_hash = self.inner.hasher.hash(&req.password).await;

        let org_id = OrganizationId::new();
        let user_id = UserId::new();
        let actor = Actor::user(user_id).with_request(meta.request_id.clone(), meta.ip);
        let mut tx = TenantTx::begin(&self.inner.db, org_id, actor).await?;
        let organization = organizations::create(&mut tx, org_name, &slug).await.map_err(|e| {
            if e.is_conflict_on("organization_directory_pkey") {
                IdentityError::Conflict("an organization with this slug already exists; choose another")
            } else {
                e.into()
            }
        })?;
        tx.audit(AuditRecord::new("organization.create", "organization", org_id).after(&organization));
        let user = users::create(
            &mut tx,
            NewUser { id: user_id, email: &email, name, password_hash: &password_hash, role: Role::Owner },
        )
        .await?;
        tx.audit(AuditRecord::new("user.create", "user", user_id).after(&user));
        let signed_in = self.open_session(&mut tx, user, organization, false, meta).await?;
        tx.commit().await?;
        Ok(signed_in)
    }

    /// Signs in with organization slug, email and password (and an MFA code where enrolled).
    pub async fn login(&self, req: LoginRequest, meta: &RequestMeta) -> IdentityResult<SignedIn> {
        let account_key =
            format!("{}\u{1f}{}", req.organization.trim().to_lowercase(), req.email.trim().to_lowercase());
        self.inner.limiter.check(meta.ip, &account_key)?;
        if req.password.len() > domain::password::MAX_LEN * 4 {
            return Err(IdentityError::InvalidCredentials);
        }

        let org_id = match OrgSlug::parse(&req.organization) {
            Ok(slug) => organizations::find_id_by_slug(&self.inner.db, slug.as_str()).await?,
            Err(_) => None,
        };
        let email = Email::parse(&req.email).ok();
        let (Some(org_id), Some(email)) = (org_id, email) else {
            self.inner.hasher.verify(&req.password, None).await;
            return Err(IdentityError::InvalidCredentials);
        };

        let actor = Actor::system().with_request(meta.request_id.clone(), meta.ip);
        let mut tx = TenantTx::begin(&self.inner.db, org_id, actor).await?;
        let account = users::find_for_login(&mut tx, &email).await?;
        let password_ok =
            self.inner.hasher.verify(&req.password, account.as_ref().map(|a| a.password_hash.as_str())).await;
        let Some(account) = account else {
            return Err(IdentityError::InvalidCredentials);
        };
        tx.act_as(Actor::user(account.id).with_request(meta.request_id.clone(), meta.ip));
        let now = Utc::now();
        let locked = account.locked_until.is_some_and(|until| until > now);
        if locked || account.status != UserStatus::Active {
            tx.audit(AuditRecord::new("session.login_refused", "user", account.id).after(
                serde_json::json!({
                    "reason": if locked { "locked" } else { "disabled" },
                }),
            ));
            tx.commit().await?;
            return Err(IdentityError::InvalidCredentials);
        }
        if !password_ok {
            record_login_failure(&mut tx, account.id).await?;
            tx.commit().await?;
            return Err(IdentityError::InvalidCredentials);
        }

        if account.mfa_enabled_at.is_some() {
            let Some(code) = req.mfa_code.as_deref().filter(|c| !c.trim().is_empty()) else {
                return Err(IdentityError::MfaRequired);
            };
            let sealed = account.mfa_secret.as_deref().ok_or(IdentityError::InvalidMfaCode)?;
            if !self.check_second_factor(&mut tx, account.id, sealed, code).await? {
                record_login_failure(&mut tx, account.id).await?;
                tx.commit().await?;
                return Err(IdentityError::InvalidMfaCode);
            }
        }

        let organization = organizations::get(&mut tx).await?;
        let mfa_required = if account.role.is_staff() {
            organization.mfa_required_for_staff
        } else {
            organization.mfa_required_for_clients
        };
        users::record_login_success(&mut tx, account.id).await?;
        let user = users::get(&mut tx, account.id).await?;
        let signed_in = self
            .open_session(&mut tx, user, organization, mfa_required && account.mfa_enabled_at.is_none(), meta)
            .await?;
        tx.commit().await?;
        Ok(signed_in)
    }

    /// Verifies a TOTP code (once per time step) or spends a recovery code.
    pub(crate) async fn check_second_factor(
        &self,
        tx: &mut TenantTx,
        user: UserId,
        sealed_secret: &[u8],
        code: &str,
    ) -> IdentityResult<bool> {
        if totp::looks_like_recovery_code(code) {
            let used = mfa::use_recovery_code(tx, user, &totp::hash_recovery_code(code)).await?;
            if used {
                tx.audit(AuditRecord::new("user.mfa_recovery_code_used", "user", user));
            }
            return Ok(used);
        }
        let secret = self
            .inner
            .keys
            .open(sealed_secret, mfa_aad(tx.organization_id(), user).as_bytes())
            .map_err(|e| IdentityError::Store(StoreError::Corrupt(format!("MFA secret: {e}"))))?;
        let now = Utc::now().timestamp().max(0) as u64;
        match totp::matching_step(&secret, code, now) {
            Some(step) => Ok(mfa::accept_step(tx, user, step).await?),
            None => Ok(false),
        }
    }

    pub(crate) async fn open_session(
        &self,
        tx: &mut TenantTx,
        user: Member,
        organization: Organization,
        mfa_enrolment_required: bool,
        meta: &RequestMeta,
    ) -> IdentityResult<SignedIn> {
        let issued = tokens::issue(TokenKind::Session, tx.organization_id());
        let session_id = SessionId::new();
        let expires_at = Utc::now() + user.role.session_timeout();
        sessions::create(
            tx,
            sessions::NewSession {
                id: session_id,
                user_id: user.id,
                token_hash: &issued.hash,
                expires_at,
                mfa_enrolment_required,
                ip: meta.ip.map(|ip| ip.to_string()),
                user_agent: meta.user_agent.as_deref(),
            },
        )
        .await?;
        tx.audit(AuditRecord::new("session.create", "session", session_id).after(serde_json::json!({
            "user_id": user.id,
            "expires_at": expires_at,
            "mfa_enrolment_required": mfa_enrolment_required,
        })));
        Ok(SignedIn {
            token: issued.token,
            session_id,
            expires_at,
            mfa_enrolment_required,
            user,
            organization,
        })
    }

    /// Resolves a bearer token (session or API key) to who is calling.
    pub async fn authenticate(&self, token: &str, meta: &RequestMeta) -> IdentityResult<AuthContext> {
        let presented = tokens::parse(token).ok_or(IdentityError::Unauthenticated)?;
        let Some((cache, auth_use)) = &self.inner.auth_cache else {
            return self.resolve(presented, meta).await;
        };
        let org = presented.organization_id;
        // The key is the token's hash, never the token: Redis holds nothing that signs anyone in.
        let key = hex::encode(&presented.hash);
        let (identity, meta) = (self.clone(), meta.clone());
        cache
            .get_or_load(
                auth_use,
                Scope::Tenant(org.as_uuid()),
                &key,
                &[crate::auth_tag(org)],
                move || async move { identity.resolve(presented, &meta).await },
            )
            .await
    }

    /// Looks a token up in the database (and slides a session's expiry).
    async fn resolve(
        &self,
        presented: tokens::PresentedToken,
        meta: &RequestMeta,
    ) -> IdentityResult<AuthContext> {
        let org = presented.organization_id;
        let actor = Actor::system().with_request(meta.request_id.clone(), meta.ip);
        let mut tx = TenantTx::begin(&self.inner.db, org, actor).await?;
        let ctx = match presented.kind {
            TokenKind::Session => {
                let s = sessions::find_active(&mut tx, &presented.hash)
                    .await?
                    .filter(|s| s.user_status == UserStatus::Active)
                    .ok_or(IdentityError::Unauthenticated)?;
                // Slide the expiry at most about once a minute per session, to bound writes.
                let timeout = s.role.session_timeout();
                let now = Utc::now();
                let refresh_after = chrono::TimeDelta::seconds((timeout.as_secs() as i64 / 10).min(60));
                if now - s.last_seen_at >= refresh_after {
                    sessions::touch(&mut tx, s.id, now + timeout).await?;
                }
                let portal =
                    if s.role.is_staff() { Vec::new() } else { portal_grants(&mut tx, s.user_id).await? };
                AuthContext {
                    organization_id: org,
                    principal: Principal::Session { session_id: s.id, user_id: s.user_id },
                    role: s.role,
                    permissions: PermissionSet::for_role(s.role),
                    mfa_enrolment_required: s.mfa_enrolment_required,
                    portal,
                }
            }
            TokenKind::ApiKey => {
                let k = api_keys::find_active(&mut tx, &presented.hash)
                    .await?
                    .filter(|k| k.creator_status == UserStatus::Active)
                    .ok_or(IdentityError::Unauthenticated)?;
                let grant = PermissionSet::for_role(k.creator_role);
                let scopes: PermissionSet = k.scopes.iter().filter_map(|s| s.parse().ok()).collect();
                let permissions = if grant.contains(domain::Permission::ApiAccess) {
                    scopes.intersect(grant)
                } else {
                    PermissionSet::EMPTY
                };
                let stale = k.last_used_at.is_none_or(|t| Utc::now() - t > chrono::TimeDelta::minutes(1));
                if stale {
                    api_keys::touch(&mut tx, k.id).await?;
                }
                let portal = if k.creator_role.is_staff() {
                    Vec::new()
                } else {
                    portal_grants(&mut tx, k.created_by).await?
                };
                AuthContext {
                    organization_id: org,
                    principal: Principal::ApiKey { key_id: k.id, created_by: k.created_by },
                    role: k.creator_role,
                    permissions,
                    mfa_enrolment_required: false,
                    portal,
                }
            }
            TokenKind::Invitation | TokenKind::PasswordReset => return Err(IdentityError::Unauthenticated),
        };
        tx.commit().await?;
        Ok(ctx)
    }

    /// Ends the caller's session.
    pub async fn logout(&self, caller: &Caller) -> IdentityResult<()> {
        let session_id =
            caller.session_id().ok_or(IdentityError::NotAllowed("API keys have no session to end"))?;
        let mut tx = self.tenant_tx(caller).await?;
        sessions::revoke(&mut tx, session_id).await?;
        tx.audit(AuditRecord::new("session.delete", "session", session_id));
        tx.commit().await?;
        self.forget_cached_auth(caller.organization_id).await;
        Ok(())
    }

    /// Changes the caller's password and ends every other session of theirs.
    pub async fn change_password(&self, caller: &Caller, current: &str, new: &str) -> IdentityResult<()> {
        let session_id = caller
            .session_id()
            .ok_or(IdentityError::NotAllowed("sign in as the user to change a password"))?;
        check_new_password(new).map_err(|e| IdentityError::invalid("new_password", e))?;
        let mut tx = self.tenant_tx(caller).await?;
        let me = users::get(&mut tx, caller.user_id()).await?;
        let account =
            users::find_for_login(&mut tx, &Email::parse(&me.email).map_err(|_| IdentityError::NotFound)?)
                .await?
                .ok_or(IdentityError::NotFound)?;
        if !self.inner.hasher.verify(current, Some(&account.password_hash)).await {
            return Err(IdentityError::invalid("current_password", "is not your current password"));
        }
        let hash = self.inner.hasher.hash(new).await;
        users::set_password(&mut tx, me.id, &hash).await?;
        let ended = sessions::revoke_all_for_user(&mut tx, me.id, Some(session_id)).await?;
        tx.audit(AuditRecord::new("user.password_change", "user", me.id).after(serde_json::json!({
            "other_sessions_ended": ended,
        })));
        tx.commit().await?;
        self.forget_cached_auth(caller.organization_id).await;
        Ok(())
    }

    /// A tenant transaction acting as the caller.
    pub async fn tenant_tx(&self, caller: &Caller) -> IdentityResult<TenantTx> {
        Ok(caller.begin(&self.inner.db).await?)
    }
}

/// Counts a failed sign-in (a wrong password or second factor), which may lock the account.
async fn record_login_failure(tx: &mut TenantTx, user: UserId) -> IdentityResult<()> {
    let locked_until = users::record_login_failure(tx, user, LOCKOUT_THRESHOLD, LOCKOUT_DURATION).await?;
    tx.audit(
        AuditRecord::new("session.login_failed", "user", user)
            .after(serde_json::json!({ "locked_until": locked_until })),
    );
    Ok(())
}

async fn portal_grants(tx: &mut TenantTx, user: UserId) -> IdentityResult<Vec<crate::context::PortalGrant>> {
    Ok(store::portal::list(tx, None, Some(user))
        .await?
        .into_iter()
        .map(|a| crate::context::PortalGrant {
            client_id: a.client_id,
            can_view_financials: a.can_view_financials,
            can_upload_documents: a.can_upload_documents,
        })
        .collect())
}

pub(crate) fn valid_name(name: &str) -> IdentityResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(IdentityError::invalid("name", "must be 1 to 200 characters"));
    }
    Ok(name)
}

/// Associated data binding a sealed TOTP seed to its organization and user.
pub(crate) fn mfa_aad(org: OrganizationId, user: UserId) -> String {
    format!("totp:{org}:{user}")
}
