//! A local, content-addressed blob store: the embedded default for document files. Every file is
//! encrypted at rest with its organization's data key ([`vault::DataKey`], AES-256-GCM); the keys
//! and their sealing live with `Blobs`, the layer above this one.
//!
//! Layout: `<root>/<organization id>/sha256/<h0h1>/<h2h3>/<hash>`; the tenant is in every path and
//! the address is the SHA-256 of the *plaintext*, so dedup works per tenant. A file is
//! `MAGIC (8 bytes) ‖ nonce (12) ‖ ciphertext+tag`, with `blob:<org>:<hash>` as associated data:
//! a file copied to another address or tenant does not decrypt, and any altered byte is an error,
//! never garbage. Files written before encryption (no magic) are read as legacy plaintext, checked
//! against their address; the sweep (`Blobs::sweep`) encrypts them in place.
//!
//! A write is durable before `put` returns: the bytes go to a temporary file in the target
//! directory, the file is fsynced, renamed into place, and the directory is fsynced (so the
//! rename itself survives a crash). Writing the same content twice is a no-op that reports the
//! existing blob. Hand-written because it is a few system calls; object stores come later.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use domain::ids::OrganizationId;
use serde::{Deserialize, Serialize};
use vault::DataKey;

use crate::hash::ContentHash;

/// The first bytes of an encrypted blob file (format version 1). The NUL keeps it from being
/// the start of any text file, so legacy plaintext blobs are told apart.
const MAGIC: &[u8; 8] = b"CHBLOB\0\x01";
/// Prefix of a write in progress (swept when a crash left one behind).
const INCOMING: &str = ".incoming-";

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {hash} not found for this organization")]
    NotFound { hash: ContentHash },
    #[error("stored blob {hash} does not decrypt or match its address (corrupted or altered on disk)")]
    Corrupt { hash: ContentHash },
    #[error("blob store I/O at {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("the organization's blob key cannot be opened: {0}")]
    Key(#[from] vault::VaultError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("blob store task failed: {0}")]
    Task(String),
}

/// Where a stored blob is, and whether this call created it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBlob {
    pub hash: ContentHash,
    pub size: u64,
    /// False when identical content was already stored for this organization.
    pub created: bool,
}

/// One file under an organization's directory, as the sweep sees it.
#[derive(Clone, Debug)]
pub struct BlobFile {
    /// `None` for a leftover temporary file.
    pub hash: Option<ContentHash>,
    pub path: PathBuf,
    pub modified: SystemTime,
}

#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// A store under `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> BlobStore {
        BlobStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of a blob (whether or not it exists).
    pub fn path_of(&self, org: OrganizationId, hash: &ContentHash) -> PathBuf {
        let hex = hash.to_hex();
        self.root.join(org.to_string()).join("sha256").join(&hex[0..2]).join(&hex[2..4]).join(hex)
    }

    /// Stores `bytes` durably and encrypted under the organization and returns its address.
    pub fn put(&self, org: OrganizationId, key: &DataKey, bytes: &[u8]) -> Result<StoredBlob, BlobError> {
        let hash = ContentHash::of(bytes);
        let size = bytes.len() as u64;
        if self.path_of(org, &hash).exists() {
            return Ok(StoredBlob { hash, size, created: false });
        }
        self.write(org, key, &hash, bytes)?;
        Ok(StoredBlob { hash, size, created: true })
    }

    /// Encrypts and writes (or replaces) the file of `hash`.
    fn write(
        &self,
        org: OrganizationId,
        key: &DataKey,
        hash: &ContentHash,
        bytes: &[u8],
    ) -> Result<(), BlobError> {
        let path = self.path_of(org, hash);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| BlobError::Io { path: p, source }
        };
        create_dir_all_durably(&dir).map_err(io(&dir))?;
        let mut temp = tempfile::Builder::new().prefix(INCOMING).tempfile_in(&dir).map_err(io(&dir))?;
        temp.write_all(MAGIC).map_err(io(temp.path()))?;
        temp.write_all(&key.encrypt(bytes, &aad(org, hash))).map_err(io(temp.path()))?;
        temp.as_file().sync_all().map_err(io(temp.path()))?;
        // `persist` renames over any file a concurrent writer of the same content just placed;
        // both decrypt to the same content, so either file is the blob.
        temp.persist(&path).map_err(|e| BlobError::Io { path: path.clone(), source: e.error })?;
        sync_dir(&dir).map_err(io(&dir))?;
        Ok(())
    }

    /// Reads a blob back, decrypted and checked against its address.
    pub fn get(&self, org: OrganizationId, key: &DataKey, hash: &ContentHash) -> Result<Vec<u8>, BlobError> {
        let path = self.path_of(org, hash);
        let raw = fs::read(&path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => BlobError::NotFound { hash: *hash },
            _ => BlobError::Io { path: path.clone(), source },
        })?;
        let plain = match raw.strip_prefix(MAGIC) {
            Some(sealed) => {
                key.decrypt(sealed, &aad(org, hash)).map_err(|_| BlobError::Corrupt { hash: *hash })?
            }
            None => raw,
        };
        if ContentHash::of(&plain) != *hash {
            return Err(BlobError::Corrupt { hash: *hash });
        }
        Ok(plain)
    }

    pub fn contains(&self, org: OrganizationId, hash: &ContentHash) -> bool {
        self.path_of(org, hash).is_file()
    }

    /// Deletes a blob's file; false when there was none.
    pub fn remove(&self, org: OrganizationId, hash: &ContentHash) -> Result<bool, BlobError> {
        remove_file(&self.path_of(org, hash))
    }

    /// Whether the blob's file is legacy plaintext (written before blobs were encrypted).
    pub fn is_legacy(&self, org: OrganizationId, hash: &ContentHash) -> Result<bool, BlobError> {
        let path = self.path_of(org, hash);
        let mut head = [0u8; MAGIC.len()];
        let read = File::open(&path)
            .and_then(|f| f.take(MAGIC.len() as u64).read(&mut head))
            .map_err(|source| BlobError::Io { path: path.clone(), source })?;
        Ok(&head[..read] != MAGIC)
    }

    /// Rewrites a legacy plaintext blob encrypted (after checking it against its address).
    pub fn encrypt_legacy(
        &self,
        org: OrganizationId,
        key: &DataKey,
        hash: &ContentHash,
    ) -> Result<(), BlobError> {
        let plain = self.get(org, key, hash)?;
        self.write(org, key, hash, &plain)
    }

    /// The organizations with a directory here.
    pub fn organizations(&self) -> Result<Vec<OrganizationId>, BlobError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(BlobError::Io { path: self.root.clone(), source }),
        };
        Ok(entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<uuid::Uuid>().ok()))
            .map(OrganizationId::from_uuid)
            .collect())
    }

    /// Every file under an organization's directory: blobs and leftover temporary files.
    pub fn files(&self, org: OrganizationId) -> Result<Vec<BlobFile>, BlobError> {
        let mut out = Vec::new();
        let dir = self.root.join(org.to_string()).join("sha256");
        walk(&dir, &mut out).map_err(|source| BlobError::Io { path: dir, source })?;
        Ok(out)
    }

    /// Deletes a leftover temporary file.
    pub fn remove_leftover(&self, file: &BlobFile) -> Result<bool, BlobError> {
        remove_file(&file.path)
    }
}

/// Associated data binding a blob's ciphertext to its tenant and address.
fn aad(org: OrganizationId, hash: &ContentHash) -> Vec<u8> {
    format!("blob:{org}:{hash}").into_bytes()
}

fn remove_file(path: &Path) -> Result<bool, BlobError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(BlobError::Io { path: path.to_path_buf(), source }),
    }
}

fn walk(dir: &Path, out: &mut Vec<BlobFile>) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            walk(&entry.path(), out)?;
            continue;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let hash = name.parse::<ContentHash>().ok();
        if hash.is_some() || name.starts_with(INCOMING) {
            out.push(BlobFile { hash, path: entry.path(), modified: meta.modified()? });
        }
    }
    Ok(())
}

/// Creates missing directories and fsyncs each new one's parent, so the new entries persist.
fn create_dir_all_durably(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_all_durably(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(e),
    }
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir).or_else(|_| OpenOptions::new().read(true).open(dir))?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte of every file under `dir`, concatenated.
    fn raw_bytes_under(dir: &Path) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in fs::read_dir(dir).unwrap().flatten() {
            if entry.path().is_dir() {
                all.extend(raw_bytes_under(&entry.path()));
            } else {
                all.extend(fs::read(entry.path()).unwrap());
            }
        }
        all
    }

    #[test]
    fn stores_by_content_per_tenant_encrypted_and_detects_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let (a, b) = (OrganizationId::new(), OrganizationId::new());
        let (ka, kb) = (DataKey::generate(), DataKey::generate());
        let w2 = b"Form W-2 Employee SSN 078-05-1120 wages 52,000.00";
        let first = store.put(a, &ka, w2).unwrap();
        assert!(first.created);
        assert_eq!(first.hash, ContentHash::of(w2));
        assert!(!store.put(a, &ka, w2).unwrap().created, "same content, same tenant: deduplicated");
        assert!(store.put(b, &kb, w2).unwrap().created, "another tenant gets its own copy");
        let raw = raw_bytes_under(dir.path());
        assert!(!raw.windows(11).any(|w| w == b"078-05-1120"), "plaintext found under the blob root");
        assert!(!raw.windows(4).any(|w| w == b"W-2 "), "plaintext found under the blob root");

        let path = store.path_of(a, &first.hash);
        assert!(path.starts_with(dir.path().join(a.to_string())));
        assert_eq!(store.get(a, &ka, &first.hash).unwrap(), w2);
        assert!(matches!(store.get(a, &kb, &first.hash), Err(BlobError::Corrupt { .. })), "another key");
        assert!(matches!(store.get(b, &kb, &ContentHash::of(b"other")), Err(BlobError::NotFound { .. })));
        // Another tenant's file copied over this one does not decrypt here, even with its key.
        fs::copy(store.path_of(b, &first.hash), store.path_of(a, &first.hash)).unwrap();
        assert!(matches!(store.get(a, &kb, &first.hash), Err(BlobError::Corrupt { .. })));
        store.remove(a, &first.hash).unwrap();
        store.put(a, &ka, w2).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x40;
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(store.get(a, &ka, &first.hash), Err(BlobError::Corrupt { .. })), "tampered");
        fs::write(&path, b"tampered").unwrap();
        assert!(matches!(store.get(a, &ka, &first.hash), Err(BlobError::Corrupt { .. })));
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(INCOMING))
            .collect();
        assert!(leftovers.is_empty(), "no temporary files left behind");
    }

    #[test]
    fn legacy_plaintext_blobs_are_read_checked_and_encrypted_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let (org, key) = (OrganizationId::new(), DataKey::generate());
        let hash = ContentHash::of(b"legacy 078-05-1120");
        let path = store.path_of(org, &hash);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"legacy 078-05-1120").unwrap();
        assert!(store.is_legacy(org, &hash).unwrap());
        assert_eq!(store.get(org, &key, &hash).unwrap(), b"legacy 078-05-1120");
        store.encrypt_legacy(org, &key, &hash).unwrap();
        assert!(!store.is_legacy(org, &hash).unwrap());
        assert!(!raw_bytes_under(dir.path()).windows(11).any(|w| w == b"078-05-1120"));
        assert_eq!(store.get(org, &key, &hash).unwrap(), b"legacy 078-05-1120");
        let files = store.files(org).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].hash, Some(hash));
        assert_eq!(store.organizations().unwrap(), vec![org]);
    }
}
