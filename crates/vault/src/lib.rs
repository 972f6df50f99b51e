//! Encryption at rest for the few secrets we must be able to read back (TOTP seeds, QuickBooks
//! tokens): AES-256-GCM with a key ring so keys can be rotated without re-encrypting in one go.
//!
//! A sealed value is `key_id (u16, big-endian) ‖ nonce (12 bytes) ‖ ciphertext+tag`. The caller passes
//! associated data naming what the value belongs to (say `totp:<org>:<user>`), so a ciphertext copied
//! into another row does not decrypt there.
//!
//! Blind indexes (`KeyRing::blind_index`) let a sealed value be found by exact match: an HMAC of
//! the value under a key derived from the ring's oldest key, so the index stays stable while newer
//! keys rotate in (retiring the oldest key means re-indexing).
//!
//! Bulk data (document blobs) uses envelope encryption: a [`DataKey`] per owner encrypts the data,
//! and only the data key is sealed by the ring. Rotating the ring re-seals data keys
//! ([`KeyRing::reseal`]); the data itself is never rewritten.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("encryption key `{0}` is not valid: expected `<id>:<base64 of 32 bytes>` with a numeric id")]
    BadKey(String),
    #[error("the key ring is empty")]
    Empty,
    #[error("sealed value is too short or malformed")]
    Malformed,
    #[error("sealed with key {0}, which is not in the key ring")]
    UnknownKey(u16),
    #[error("decryption failed: wrong key, wrong associated data, or tampered value")]
    Decrypt,
}

/// The keys in use: the first seals, all open.
#[derive(Clone)]
pub struct KeyRing {
    keys: Vec<(u16, Aes256Gcm)>,
    index_key: [u8; 32],
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<u16> = self.keys.iter().map(|(id, _)| *id).collect();
        f.debug_struct("KeyRing").field("key_ids", &ids).finish()
    }
}

impl KeyRing {
    /// Parses keys written `<id>:<base64>`; the first is the active one.
    pub fn parse<S: AsRef<str>>(specs: &[S]) -> Result<Self, VaultError> {
        let mut keys = Vec::with_capacity(specs.len());
        let mut oldest: Option<(u16, Vec<u8>)> = None;
        for spec in specs {
            let spec = spec.as_ref();
            let bad = || VaultError::BadKey(spec.split(':').next().unwrap_or("").to_owned());
            let (id, b64) = spec.split_once(':').ok_or_else(bad)?;
            let id: u16 = id.trim().parse().map_err(|_| bad())?;
            let bytes = STANDARD.decode(b64.trim()).map_err(|_| bad())?;
            let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| bad())?;
            keys.push((id, cipher));
            if oldest.as_ref().is_none_or(|(oldest_id, _)| id < *oldest_id) {
                oldest = Some((id, bytes));
            }
        }
        let Some((_, oldest_key)) = oldest else {
            return Err(VaultError::Empty);
        };
        let index_key = hmac(&oldest_key, &[b"countinghouse blind index v1"]);
        Ok(KeyRing { keys, index_key })
    }

    /// A new random key spec (`<id>:<base64>`), for `countinghouse` to write on first start.
    pub fn generate_key_spec(id: u16) -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        format!("{id}:{}", STANDARD.encode(key))
    }

    pub fn active_key_id(&self) -> u16 {
        self.keys[0].0
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let (id, cipher) = &self.keys[0];
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .expect("AES-GCM encryption cannot fail for in-memory buffers below 64 GiB");
        let mut out = Vec::with_capacity(2 + 12 + ct.len());
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
        if sealed.len() < 2 + 12 + 16 {
            return Err(VaultError::Malformed);
        }
        let id = u16::from_be_bytes([sealed[0], sealed[1]]);
        let cipher =
            self.keys.iter().find(|(k, _)| *k == id).map(|(_, c)| c).ok_or(VaultError::UnknownKey(id))?;
        cipher
            .decrypt(Nonce::from_slice(&sealed[2..14]), Payload { msg: &sealed[14..], aad })
            .map_err(|_| VaultError::Decrypt)
    }

    /// A keyed hash of `value` for exact-match lookups of a sealed value; `purpose` separates
    /// uses (say `tax_id:<org>`) so equal values in different contexts do not match.
    pub fn blind_index(&self, purpose: &str, value: &[u8]) -> [u8; 32] {
        hmac(&self.index_key, &[purpose.as_bytes(), b"\0", value])
    }

    /// Whether a sealed value was made with a key other than the active one (to re-seal on rotation).
    pub fn needs_reseal(&self, sealed: &[u8]) -> bool {
        sealed.len() >= 2 && u16::from_be_bytes([sealed[0], sealed[1]]) != self.active_key_id()
    }

    /// The value sealed again with the active key, or `None` when it already is.
    pub fn reseal(&self, sealed: &[u8], aad: &[u8]) -> Result<Option<Vec<u8>>, VaultError> {
        if !self.needs_reseal(sealed) {
            return Ok(None);
        }
        Ok(Some(self.seal(&self.open(sealed, aad)?, aad)))
    }
}

/// A key for bulk data (AES-256-GCM), kept sealed by a [`KeyRing`] ([`DataKey::seal_with`]).
/// An encrypted value is `nonce (12 bytes, random) ‖ ciphertext+tag`; associated data binds it
/// to what it is, as for [`KeyRing::seal`].
#[derive(Clone)]
pub struct DataKey {
    bytes: [u8; 32],
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// Bytes an encrypted value adds to its plaintext: the nonce and the tag.
pub const DATA_OVERHEAD: usize = 12 + 16;

impl DataKey {
    /// A new random key.
    pub fn generate() -> DataKey {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        DataKey { cipher: Aes256Gcm::new(&bytes.into()), bytes }
    }

    /// The key sealed by the ring's active key, to store.
    pub fn seal_with(&self, ring: &KeyRing, aad: &[u8]) -> Vec<u8> {
        ring.seal(&self.bytes, aad)
    }

    /// A stored key, opened with whichever ring key sealed it.
    pub fn open_with(ring: &KeyRing, sealed: &[u8], aad: &[u8]) -> Result<DataKey, VaultError> {
        let bytes: [u8; 32] = ring.open(sealed, aad)?.try_into().map_err(|_| VaultError::Malformed)?;
        Ok(DataKey { cipher: Aes256Gcm::new(&bytes.into()), bytes })
    }

    pub fn encrypt(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .expect("AES-GCM encryption cannot fail for in-memory buffers below 64 GiB");
        let mut out = Vec::with_capacity(DATA_OVERHEAD + plaintext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn decrypt(&self, encrypted: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
        if encrypted.len() < DATA_OVERHEAD {
            return Err(VaultError::Malformed);
        }
        self.cipher
            .decrypt(Nonce::from_slice(&encrypted[..12]), Payload { msg: &encrypted[12..], aad })
            .map_err(|_| VaultError::Decrypt)
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_rotates() {
        let old = KeyRing::generate_key_spec(1);
        let new = KeyRing::generate_key_spec(2);
        let v1 = KeyRing::parse(std::slice::from_ref(&old)).unwrap();
        let sealed = v1.seal(b"secret", b"totp:a");
        assert_eq!(v1.open(&sealed, b"totp:a").unwrap(), b"secret");
        assert!(matches!(v1.open(&sealed, b"totp:b"), Err(VaultError::Decrypt)));

        let v2 = KeyRing::parse(&[new, old]).unwrap();
        assert!(v2.needs_reseal(&sealed));
        assert_eq!(v2.open(&sealed, b"totp:a").unwrap(), b"secret");
        let resealed = v2.seal(b"secret", b"totp:a");
        assert!(!v2.needs_reseal(&resealed));
        assert!(matches!(v1.open(&resealed, b"totp:a"), Err(VaultError::UnknownKey(2))));
    }

    #[test]
    fn data_keys_encrypt_and_survive_rotation_of_the_ring() {
        let old = KeyRing::generate_key_spec(1);
        let v1 = KeyRing::parse(std::slice::from_ref(&old)).unwrap();
        let key = DataKey::generate();
        let sealed = key.seal_with(&v1, b"blob:a");
        let data = key.encrypt(b"078-05-1120", b"blob:a:h");
        assert!(!data.windows(11).any(|w| w == b"078-05-1120"));
        assert_ne!(key.encrypt(b"078-05-1120", b"blob:a:h"), data, "a fresh nonce each time");

        let v2 = KeyRing::parse(&[KeyRing::generate_key_spec(2), old]).unwrap();
        assert_eq!(v1.reseal(&sealed, b"blob:a").unwrap(), None, "v1's active key sealed it");
        let resealed = v2.reseal(&sealed, b"blob:a").unwrap().expect("sealed by a retired key");
        assert_eq!(v2.reseal(&resealed, b"blob:a").unwrap(), None);
        let reopened = DataKey::open_with(&v2, &resealed, b"blob:a").unwrap();
        assert_eq!(reopened.decrypt(&data, b"blob:a:h").unwrap(), b"078-05-1120");
        assert!(matches!(DataKey::open_with(&v2, &resealed, b"blob:b"), Err(VaultError::Decrypt)));

        let mut tampered = data.clone();
        tampered[20] ^= 1;
        assert!(matches!(reopened.decrypt(&tampered, b"blob:a:h"), Err(VaultError::Decrypt)));
        assert!(matches!(reopened.decrypt(&data, b"blob:a:other"), Err(VaultError::Decrypt)));
        assert!(matches!(reopened.decrypt(&data[..10], b"blob:a:h"), Err(VaultError::Malformed)));
    }

    #[test]
    fn blind_indexes_survive_rotation_and_separate_purposes() {
        let old = KeyRing::generate_key_spec(1);
        let v1 = KeyRing::parse(std::slice::from_ref(&old)).unwrap();
        let v2 = KeyRing::parse(&[KeyRing::generate_key_spec(2), old]).unwrap();
        assert_eq!(v1.blind_index("tax_id:a", b"123456789"), v2.blind_index("tax_id:a", b"123456789"));
        assert_ne!(v1.blind_index("tax_id:a", b"123456789"), v1.blind_index("tax_id:b", b"123456789"));
        assert_ne!(v1.blind_index("tax_id:a", b"123456789"), v1.blind_index("tax_id:a", b"123456780"));
    }

    #[test]
    fn tampering_is_detected() {
        let ring = KeyRing::parse(&[KeyRing::generate_key_spec(7)]).unwrap();
        let mut sealed = ring.seal(b"secret", b"");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(ring.open(&sealed, b"").is_err());
        assert!(matches!(ring.open(&[0, 7, 1], b""), Err(VaultError::Malformed)));
        assert!(KeyRing::parse(&["x:abc"]).is_err());
        assert!(KeyRing::parse::<&str>(&[]).is_err());
    }
}
