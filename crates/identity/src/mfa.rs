//! Enrolling in, confirming and turning off TOTP multi-factor sign-in.

use chrono::Utc;
use domain::UserStatus;
use store::{AuditRecord, mfa, organizations, sessions, users};

use crate::sessions::mfa_aad;
use crate::{Caller, Identity, IdentityError, IdentityResult, totp};

/// What an authenticator app needs: scan the URI or type the secret.
pub struct MfaEnrolment {
    pub otpauth_uri: String,
    pub secret_base32: String,
}

impl Identity {
    /// Starts enrolment: a new secret, stored sealed and unconfirmed until a code proves the app has it.
    pub async fn begin_mfa_enrolment(&self, caller: &Caller) -> IdentityResult<MfaEnrolment> {
        let user = caller
            .session_id()
            .map(|_| caller.user_id())
            .ok_or(IdentityError::NotAllowed("sign in as the user to enrol in multi-factor sign-in"))?;
        let mut tx = self.tenant_tx(caller).await?;
        if mfa::state(&mut tx, user).await?.mfa_enabled_at.is_some() {
            return Err(IdentityError::Conflict(
                "multi-factor sign-in is already on; turn it off first to re-enrol",
            ));
        }
        let me = users::get(&mut tx, user).await?;
        let org = organizations::get(&mut tx).await?;
        let secret = totp::new_secret();
        let sealed = self.inner.keys.seal(&secret, mfa_aad(caller.organization_id, user).as_bytes());
        mfa::set_pending_secret(&mut tx, user, &sealed).await?;
        tx.commit().await?;
        let issuer = format!("{} ({})", self.inner.config.totp_issuer, org.name);
        let (otpauth_uri, secret_base32) = totp::provisioning(&secret, &issuer, &me.email);
        Ok(MfaEnrolment { otpauth_uri, secret_base32 })
    }

    /// Confirms enrolment with a current code; returns the recovery codes (shown once).
    pub async fn confirm_mfa(&self, caller: &Caller, code: &str) -> IdentityResult<Vec<String>> {
        let user = caller.session_id().map(|_| caller.user_id()).ok_or(IdentityError::Unauthenticated)?;
        let mut tx = self.tenant_tx(caller).await?;
        let state = mfa::state(&mut tx, user).await?;
        if state.mfa_enabled_at.is_some() {
            return Err(IdentityError::Conflict("multi-factor sign-in is already on"));
        }
        let sealed = state
            .mfa_secret
            .ok_or(IdentityError::NotAllowed("start enrolment first: POST /v1/me/mfa/enrolment"))?;
        let secret = self
            .inner
            .keys
            .open(&sealed, mfa_aad(caller.organization_id, user).as_bytes())
            .map_err(|e| IdentityError::Store(store::StoreError::Corrupt(format!("MFA secret: {e}"))))?;
        let now = Utc::now().timestamp().max(0) as u64;
        let step = totp::matching_step(&secret, code, now).ok_or(IdentityError::InvalidMfaCode)?;
        let codes = totp::new_recovery_codes();
        let hashes: Vec<Vec<u8>> = codes.iter().map(|c| totp::hash_recovery_code(c)).collect();
        mfa::enable(&mut tx, user, step, &hashes).await?;
        tx.audit(AuditRecord::new("user.mfa_enable", "user", user));
        sessions::clear_mfa_enrolment(&mut tx, user).await?;
        tx.commit().await?;
        self.forget_cached_auth(caller.organization_id).await;
        Ok(codes)
    }

    /// Turns MFA off after a valid code, unless the organization requires it for this user.
    pub async fn disable_mfa(&self, caller: &Caller, code: &str) -> IdentityResult<()> {
        let user = caller.session_id().map(|_| caller.user_id()).ok_or(IdentityError::Unauthenticated)?;
        let mut tx = self.tenant_tx(caller).await?;
        let org = organizations::get(&mut tx).await?;
        let required =
            if caller.role.is_staff() { org.mfa_required_for_staff } else { org.mfa_required_for_clients };
        if required {
            return Err(IdentityError::NotAllowed("your organization requires multi-factor sign-in"));
        }
        let state = mfa::state(&mut tx, user).await?;
        let sealed = match (state.mfa_enabled_at, state.mfa_secret) {
            (Some(_), Some(sealed)) => sealed,
            _ => return Err(IdentityError::Conflict("multi-factor sign-in is not on")),
        };
        if !self.check_second_factor(&mut tx, user, &sealed, code).await? {
            tx.commit().await?;
            return Err(IdentityError::InvalidMfaCode);
        }
        mfa::disable(&mut tx, user).await?;
        tx.audit(AuditRecord::new("user.mfa_disable", "user", user));
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the recovery codes (after a valid code); returns the new ones.
    pub async fn regenerate_recovery_codes(
        &self,
        caller: &Caller,
        code: &str,
    ) -> IdentityResult<Vec<String>> {
        let user = caller.session_id().map(|_| caller.user_id()).ok_or(IdentityError::Unauthenticated)?;
        let mut tx = self.tenant_tx(caller).await?;
        let me = users::get(&mut tx, user).await?;
        if me.status != UserStatus::Active {
            return Err(IdentityError::Unauthenticated);
        }
        let state = mfa::state(&mut tx, user).await?;
        let sealed = match (state.mfa_enabled_at, state.mfa_secret) {
            (Some(_), Some(sealed)) => sealed,
            _ => return Err(IdentityError::Conflict("multi-factor sign-in is not on")),
        };
        if !self.check_second_factor(&mut tx, user, &sealed, code).await? {
            tx.commit().await?;
            return Err(IdentityError::InvalidMfaCode);
        }
        let codes = totp::new_recovery_codes();
        let hashes: Vec<Vec<u8>> = codes.iter().map(|c| totp::hash_recovery_code(c)).collect();
        mfa::replace_recovery_codes(&mut tx, user, &hashes).await?;
        tx.audit(AuditRecord::new("user.mfa_recovery_codes_regenerate", "user", user));
        tx.commit().await?;
        Ok(codes)
    }
}
