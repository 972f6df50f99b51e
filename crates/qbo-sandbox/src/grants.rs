//! The OAuth books: authorization codes, grants (one per connection of an app to a company) and
//! the access and refresh tokens minted for them, which the OAuth endpoints write and the API
//! checks; and the counters of what the endpoints did.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::config::{Faults, TokenLifetimes};

/// What the OAuth endpoints did, for tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OAuthCounters {
    pub authorizations: u64,
    pub code_exchanges: u64,
    pub refreshes: u64,
    pub invalid_grants: u64,
    pub invalid_clients: u64,
    pub revocations: u64,
}

/// Tokens as the token endpoint would return them (for tests that skip the consent step).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct IssuedTokens {
    pub token_type: String,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub x_refresh_token_expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub x_refresh_token_hard_expires_in: Option<u64>,
}

pub(crate) struct Code {
    pub client_id: String,
    pub realm: String,
    pub redirect_uri: String,
    pub expires: Instant,
    /// The grant its first use minted; a second use revokes it.
    pub grant: Option<u64>,
}

pub(crate) struct Grant {
    pub client_id: String,
    pub realm: String,
    pub refresh_token: String,
    pub refresh_expires: Instant,
    pub hard_expires: Instant,
    pub revoked: bool,
}

/// An access token's grant, realm and expiry.
pub struct AccessGrant {
    pub grant: u64,
    pub realm: String,
    pub expires: Instant,
    /// Requests left before it expires (`Faults::access_token_uses`).
    pub uses_left: Option<u32>,
}

/// Why an access token was refused.
pub enum AccessError {
    Unknown,
    Expired,
    Revoked,
    OtherRealm,
}

#[derive(Default)]
pub struct TokenRegistry {
    pub(crate) codes: HashMap<String, Code>,
    pub(crate) grants: HashMap<u64, Grant>,
    pub(crate) refresh_index: HashMap<String, u64>,
    pub(crate) access: HashMap<String, AccessGrant>,
    next_grant: u64,
}

pub(crate) fn random_token(rng: &mut impl RngCore, prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

impl TokenRegistry {
    /// Checks an API request's bearer token for `realm`, counting the use.
    pub fn check_access(&mut self, token: &str, realm: &str) -> Result<(), AccessError> {
        let access = self.access.get_mut(token).ok_or(AccessError::Unknown)?;
        let grant = self.grants.get(&access.grant).ok_or(AccessError::Unknown)?;
        if grant.revoked {
            return Err(AccessError::Revoked);
        }
        if access.expires <= Instant::now() || access.uses_left == Some(0) {
            return Err(AccessError::Expired);
        }
        if access.realm != realm {
            return Err(AccessError::OtherRealm);
        }
        if let Some(uses) = access.uses_left.as_mut() {
            *uses -= 1;
        }
        Ok(())
    }

    /// Makes every access token expired (the next API call with any of them gets a 401).
    pub fn expire_access_tokens(&mut self) {
        let now = Instant::now();
        for access in self.access.values_mut() {
            access.expires = access.expires.min(now);
        }
    }

    /// Mints new tokens for a grant, rotating its refresh token.
    pub fn mint(
        &mut self,
        grant_id: u64,
        (lifetimes, faults): (TokenLifetimes, Faults),
        rng: &mut impl RngCore,
        hard: bool,
    ) -> IssuedTokens {
        let access_secs = faults.access_token_secs.unwrap_or(lifetimes.access_secs);
        let access_token = random_token(rng, "eyJsandbox.");
        let refresh_token = random_token(rng, "AB11");
        let grant = self.grants.get_mut(&grant_id).expect("minting for an existing grant");
        self.refresh_index.remove(&grant.refresh_token);
        grant.refresh_token = refresh_token.clone();
        let now = Instant::now();
        grant.refresh_expires = (now + Duration::from_secs(lifetimes.refresh_secs)).min(grant.hard_expires);
        self.refresh_index.insert(refresh_token.clone(), grant_id);
        self.access.insert(
            access_token.clone(),
            AccessGrant {
                grant: grant_id,
                realm: grant.realm.clone(),
                expires: now + Duration::from_secs(access_secs),
                uses_left: faults.access_token_uses,
            },
        );
        IssuedTokens {
            token_type: "bearer".into(),
            access_token,
            refresh_token,
            expires_in: access_secs,
            x_refresh_token_expires_in: grant.refresh_expires.saturating_duration_since(now).as_secs(),
            x_refresh_token_hard_expires_in: hard
                .then(|| grant.hard_expires.saturating_duration_since(now).as_secs()),
        }
    }

    /// Starts a new connection of `client_id` to `realm` and mints its first tokens.
    pub fn connect(
        &mut self,
        client_id: &str,
        realm: &str,
        terms: (TokenLifetimes, Faults),
        rng: &mut impl RngCore,
        hard: bool,
    ) -> (u64, IssuedTokens) {
        self.next_grant += 1;
        let id = self.next_grant;
        let now = Instant::now();
        self.grants.insert(
            id,
            Grant {
                client_id: client_id.into(),
                realm: realm.into(),
                refresh_token: String::new(),
                refresh_expires: now,
                hard_expires: now + Duration::from_secs(terms.0.refresh_hard_secs),
                revoked: false,
            },
        );
        (id, self.mint(id, terms, rng, hard))
    }

    /// Whether `client_id` holds a grant for `realm` that is not revoked.
    pub fn connected(&self, client_id: &str, realm: &str) -> bool {
        self.grants.values().any(|g| !g.revoked && g.client_id == client_id && g.realm == realm)
    }

    pub fn revoke_grant(&mut self, grant_id: u64) {
        if let Some(grant) = self.grants.get_mut(&grant_id) {
            grant.revoked = true;
            self.refresh_index.remove(&grant.refresh_token);
        }
    }
}
