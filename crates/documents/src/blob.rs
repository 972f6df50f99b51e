//! A local, content-addressed blob store: the embedded default for document files and their
//! derived images (thumbnails).
//!
//! Layout: `<root>/<organization id>/sha256/<h0h1>/<h2h3>/<hash>`; the tenant is in every path.
//! A write is durable before `put` returns: the bytes go to a temporary file in the target
//! directory, the file is fsynced, renamed into place, and the directory is fsynced (so the
//! rename itself survives a crash). Writing the same content twice is a no-op that reports the
//! existing blob. Hand-written because it is a few system calls; object stores come later.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use domain::ids::OrganizationId;
use serde::{Deserialize, Serialize};

use crate::hash::ContentHash;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {hash} not found for this organization")]
    NotFound { hash: ContentHash },
    #[error("stored blob {hash} does not match its address (corrupted on disk)")]
    Corrupt { hash: ContentHash },
    #[error("blob store I/O at {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Where a stored blob is, and whether this call created it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBlob {
    pub hash: ContentHash,
    pub size: u64,
    /// False when identical content was already stored for this organization.
    pub created: bool,
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

    /// Stores `bytes` durably under the organization and returns its address.
    pub fn put(&self, org: OrganizationId, bytes: &[u8]) -> Result<StoredBlob, BlobError> {
        let hash = ContentHash::of(bytes);
        let path = self.path_of(org, &hash);
        let size = bytes.len() as u64;
        if path.exists() {
            return Ok(StoredBlob { hash, size, created: false });
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| BlobError::Io { path: p, source }
        };
        create_dir_all_durably(&dir).map_err(io(&dir))?;
        let mut temp = tempfile::Builder::new().prefix(".incoming-").tempfile_in(&dir).map_err(io(&dir))?;
        temp.write_all(bytes).map_err(io(temp.path()))?;
        temp.as_file().sync_all().map_err(io(temp.path()))?;
        // `persist` renames over any file a concurrent writer of the same content just placed;
        // the content is identical, so either file is the blob.
        temp.persist(&path).map_err(|e| BlobError::Io { path: path.clone(), source: e.error })?;
        sync_dir(&dir).map_err(io(&dir))?;
        Ok(StoredBlob { hash, size, created: true })
    }

    /// Reads a blob back, checking its content against its address.
    pub fn get(&self, org: OrganizationId, hash: &ContentHash) -> Result<Vec<u8>, BlobError> {
        let path = self.path_of(org, hash);
        let bytes = fs::read(&path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => BlobError::NotFound { hash: *hash },
            _ => BlobError::Io { path: path.clone(), source },
        })?;
        if ContentHash::of(&bytes) != *hash {
            return Err(BlobError::Corrupt { hash: *hash });
        }
        Ok(bytes)
    }

    pub fn contains(&self, org: OrganizationId, hash: &ContentHash) -> bool {
        self.path_of(org, hash).is_file()
    }
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

    #[test]
    fn stores_by_content_per_tenant_and_detects_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let (a, b) = (OrganizationId::new(), OrganizationId::new());
        let first = store.put(a, b"hello").unwrap();
        assert!(first.created);
        assert_eq!(first.hash, ContentHash::of(b"hello"));
        assert!(!store.put(a, b"hello").unwrap().created, "same content, same tenant: deduplicated");
        assert!(store.put(b, b"hello").unwrap().created, "another tenant gets its own copy");
        let path = store.path_of(a, &first.hash);
        assert!(path.starts_with(dir.path().join(a.to_string())));
        assert_eq!(store.get(a, &first.hash).unwrap(), b"hello");
        assert!(matches!(store.get(b, &ContentHash::of(b"other")), Err(BlobError::NotFound { .. })));
        fs::write(&path, b"tampered").unwrap();
        assert!(matches!(store.get(a, &first.hash), Err(BlobError::Corrupt { .. })));
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".incoming-"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary files left behind");
    }
}
