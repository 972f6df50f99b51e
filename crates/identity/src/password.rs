//! Password hashing with argon2id (OWASP parameters), off the async runtime.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Hashes and verifies passwords. Cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    /// A real hash of a random password: verified against when the account does not exist, so
    /// "no such user" takes as long as "wrong password" (no enumeration by timing).
    dummy_hash: String,
}

impl PasswordHasher {
    /// `memory_kib`/`iterations`: argon2id cost. OWASP's minimum is 19 MiB and 2 iterations.
    pub fn new(memory_kib: u32, iterations: u32) -> Self {
        let params = Params::new(memory_kib, iterations, 1, None).expect("argon2 parameters are valid");
        let dummy = argon2(&params)
            .hash_password(uuid::Uuid::new_v4().to_string().as_bytes(), &SaltString::generate(&mut OsRng))
            .expect("hashing cannot fail with valid parameters")
            .to_string();
        PasswordHasher { inner: Arc::new(Inner { params, dummy_hash: dummy }) }
    }

    pub async fn hash(&self, password: &str) -> String {
        let inner = self.inner.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            argon2(&inner.params)
                .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
                .expect("hashing cannot fail with valid parameters")
                .to_string()
        })
        .await
        .expect("hashing task does not panic")
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no account.
    /// Always does the full work.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let inner = self.inner.clone();
        let password = password.to_owned();
        let real = stored.is_some();
        let stored = stored.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let hash = stored.as_deref().unwrap_or(&inner.dummy_hash);
            let ok = PasswordHash::new(hash)
                .map(|parsed| argon2(&inner.params).verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false);
            ok && real
        })
        .await
        .expect("verification task does not panic")
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_only_the_right_password_and_never_a_missing_account() {
        let h = PasswordHasher::new(8 * 1024, 1);
        let stored = h.hash("correct horse battery").await;
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify("correct horse battery", Some(&stored)).await);
        assert!(!h.verify("wrong horse battery", Some(&stored)).await);
        assert!(!h.verify("anything", None).await);
        assert!(!h.verify("x", Some("not a hash")).await);
    }
}
