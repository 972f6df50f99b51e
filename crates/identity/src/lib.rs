//! Who is calling: signing up a firm, signing in (with lockout, rate limits and MFA), sessions,
//! API keys, invitations and membership changes. Plain async functions over the store, called by
//! the HTTP handlers and by the demo alike.

mod context;
mod error;
mod limits;
mod password;
pub mod tokens;
pub mod totp;

mod api_keys;
mod audit;
mod invitations;
mod members;
mod mfa;
mod password_resets;
mod platform;
mod sessions;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::OrganizationId;
use store::Db;
use vault::KeyRing;

pub use api_keys::CreatedApiKey;
pub use context::{AuthContext, Caller, PortalGrant, Principal};
pub use error::{IdentityError, IdentityResult};
pub use invitations::CreatedInvitation;
pub use members::MemberPatch;
pub use mfa::MfaEnrolment;
pub use password::PasswordHasher;
pub use password_resets::{CreatedPasswordReset, PASSWORD_RESET_PATH};
pub use sessions::{LoginRequest, SignedIn, SignupRequest};

#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// argon2id memory cost in KiB (OWASP minimum 19 MiB).
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub login_per_ip_per_minute: u32,
    pub login_per_account_per_minute: u32,
    pub invitation_ttl: Duration,
    /// How long a password-reset link works (one hour).
    pub password_reset_ttl: Duration,
    /// The console's address as people reach it (`[server] public_url`): the links mailed to them
    /// (password resets) start with it.
    pub public_url: String,
    /// How long a resolved session or API key is reused without asking the database. Sign-out,
    /// password, role, MFA and portal-grant changes and revocations invalidate the organization's
    /// cached authentications at once, on every instance sharing the cache's Redis (over pub/sub);
    /// what this bounds is time-based change: a session reaching its expiry. Zero disables it.
    pub auth_cache_ttl: Duration,
    /// Shown in authenticator apps next to the account.
    pub totp_issuer: String,
    /// The organization whose members with `system:admin` run the platform (verify marketplace
    /// advisors, operate the job queue); nobody does when unset.
    pub platform_organization: Option<domain::OrgSlug>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            login_per_ip_per_minute: 30,
            login_per_account_per_minute: 10,
            invitation_ttl: Duration::from_secs(7 * 24 * 3600),
            password_reset_ttl: Duration::from_secs(3600),
            public_url: "http://127.0.0.1:8080".to_owned(),
            auth_cache_ttl: Duration::from_secs(30),
            totp_issuer: "Countinghouse".to_owned(),
            platform_organization: None,
        }
    }
}

fn auth_tag(org: OrganizationId) -> cache::Tag {
    cache::Tag::new(cache::Scope::Tenant(org.as_uuid()), "auth")
}

/// Where a request came from, for audit entries, sessions and rate limits.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// The identity service. Cheap to clone.
#[derive(Clone)]
pub struct Identity {
    inner: Arc<Inner>,
}

struct Inner {
    /// token hash → who it authenticates, for `auth_cache_ttl`; `None` when that is zero.
    auth_cache: Option<(cache::Cache, cache::Use)>,
    db: Db,
    keys: KeyRing,
    hasher: PasswordHasher,
    limiter: limits::LoginLimiter,
    config: IdentityConfig,
}

/// The cache use of resolved authentications, as configuration and `/v1/admin/cache` name it.
pub const AUTH_CACHE_USE: &str = "auth";

impl Identity {
    /// `cache` holds resolved authentications (shared with other instances when it has Redis).
    pub fn new(db: Db, keys: KeyRing, config: IdentityConfig, cache: cache::Cache) -> Self {
        let hasher = PasswordHasher::new(config.argon2_memory_kib, config.argon2_iterations);
        let limiter =
            limits::LoginLimiter::new(config.login_per_ip_per_minute, config.login_per_account_per_minute);
        // Never served stale: a session past its expiry must not get one more request in.
        let auth_cache = (!config.auth_cache_ttl.is_zero()).then(|| {
            let auth_use = cache::Use {
                name: AUTH_CACHE_USE,
                ttl: config.auth_cache_ttl,
                stale_for: Duration::ZERO,
                enabled: true,
                strict: true,
            };
            (cache, auth_use)
        });
        Identity { inner: Arc::new(Inner { auth_cache, db, keys, hasher, limiter, config }) }
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }

    /// Forgets the organization's cached authentications, here and on every instance sharing the cache
    /// (after a change to who may do what). One tag per organization: the user behind a token is only
    /// known after the lookup the cache saves, so entries cannot be tagged by user up front.
    pub async fn forget_cached_auth(&self, org: OrganizationId) {
        if let Some((cache, _)) = &self.inner.auth_cache {
            cache.bump(&auth_tag(org)).await;
        }
    }

    /// Periodic upkeep: drops idle rate-limit keys.
    pub fn housekeeping(&self) {
        self.inner.limiter.retain_recent();
    }
}
