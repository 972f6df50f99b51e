//! The blob store with its keys (envelope encryption) and its housekeeping.
//!
//! Each organization has one data key ([`vault::DataKey`]), made on its first upload and kept
//! in `blob_data_keys` sealed by the key ring's active master key; processes cache opened keys.
//! Rotating the master key re-seals those rows ([`Blobs::reseal_keys`]); blob files are never
//! rewritten. [`Blobs::sweep`] deletes blobs no live document holds (older than a grace period),
//! leftover temporary files, and encrypts legacy plaintext blobs in place.
//!
//! Blob writes and deletions are ordered by a per-content advisory lock
//! ([`store::blobs::lock_content`]): an upload writes a blob and commits its row holding it, and a
//! deletion re-checks, holding it, that no row references the blob. So a deletion never removes a
//! file a commit is about to reference, and a write after a deletion writes the file again.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use domain::OrganizationId;
use serde::Serialize;
use store::{Actor, AuditRecord, Db, TenantTx};
use vault::{DataKey, KeyRing};

use crate::blob::{BlobError, BlobStore, StoredBlob};
use crate::hash::ContentHash;

/// What a sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Blobs no live document held, deleted.
    pub removed: usize,
    /// Temporary files of interrupted writes, deleted.
    pub leftovers_removed: usize,
    /// Legacy plaintext blobs encrypted in place.
    pub encrypted: usize,
}

/// The blob store, the database holding its sealed keys, and the key ring. Cheap to clone.
#[derive(Clone)]
pub struct Blobs {
    store: BlobStore,
    db: Db,
    ring: KeyRing,
    opened: Arc<Mutex<HashMap<OrganizationId, DataKey>>>,
}

impl Blobs {
    pub fn new(store: BlobStore, db: Db, ring: KeyRing) -> Blobs {
        Blobs { store, db, ring, opened: Arc::default() }
    }

    pub fn store(&self) -> &BlobStore {
        &self.store
    }

    /// The organization's data key, made and stored on first use. Call it before opening a
    /// transaction of one's own: it may use a connection of its own.
    pub async fn data_key(&self, org: OrganizationId) -> Result<DataKey, BlobError> {
        if let Some(key) = self.opened.lock().expect("key cache lock").get(&org) {
            return Ok(key.clone());
        }
        let aad = key_aad(org);
        let mut tx = TenantTx::begin(&self.db, org, Actor::system()).await?;
        let sealed = match store::blobs::data_key(&mut tx).await? {
            Some(sealed) => sealed,
            None => {
                let fresh = DataKey::generate().seal_with(&self.ring, &aad);
                store::blobs::insert_data_key(&mut tx, &fresh, self.ring.active_key_id()).await?;
                // A concurrent first upload may have stored its key first: use whichever is stored.
                store::blobs::data_key(&mut tx).await?.ok_or(store::StoreError::NotFound)?
            }
        };
        tx.commit().await?;
        let key = DataKey::open_with(&self.ring, &sealed, &aad)?;
        self.opened.lock().expect("key cache lock").insert(org, key.clone());
        Ok(key)
    }

    /// Stores `bytes` encrypted with `key` (the organization's [`Blobs::data_key`]), durably.
    pub async fn put(
        &self,
        org: OrganizationId,
        key: &DataKey,
        bytes: Vec<u8>,
    ) -> Result<StoredBlob, BlobError> {
        let (store, key) = (self.store.clone(), key.clone());
        blocking(move || store.put(org, &key, &bytes)).await
    }

    /// Reads a blob, decrypted and checked against its address.
    pub async fn get(&self, org: OrganizationId, hash: &ContentHash) -> Result<Vec<u8>, BlobError> {
        let key = self.data_key(org).await?;
        let (store, hash) = (self.store.clone(), *hash);
        blocking(move || store.get(org, &key, &hash)).await
    }

    /// Deletes those of `hashes` that no live document of the organization holds (each under its
    /// content lock); returns how many files were deleted.
    pub async fn remove_unreferenced(
        &self,
        org: OrganizationId,
        hashes: &[ContentHash],
    ) -> Result<usize, BlobError> {
        let mut removed = 0;
        // Some locks per transaction at a time (advisory locks fill the shared lock table).
        for chunk in hashes.chunks(100) {
            let mut tx = TenantTx::begin(&self.db, org, Actor::system()).await?;
            for hash in chunk {
                store::blobs::lock_content(&mut tx, hash.as_bytes()).await?;
                if !store::blobs::is_referenced(&mut tx, hash.as_bytes()).await?
                    && self.store.remove(org, hash)?
                {
                    removed += 1;
                }
            }
            tx.commit().await?;
        }
        Ok(removed)
    }

    /// Deletes every blob no live document holds and every temporary file, when older than
    /// `grace` (uploads in flight are safe twice over: by age and by the content locks), and
    /// encrypts legacy plaintext blobs.
    pub async fn sweep(&self, grace: Duration) -> Result<SweepReport, BlobError> {
        let cutoff = SystemTime::now().checked_sub(grace).unwrap_or(SystemTime::UNIX_EPOCH);
        let mut report = SweepReport::default();
        let store = self.store.clone();
        for org in blocking(move || store.organizations()).await? {
            let store = self.store.clone();
            let files = blocking(move || store.files(org)).await?;
            let mut tx = TenantTx::begin(&self.db, org, Actor::system()).await?;
            let held: HashSet<Vec<u8>> = store::blobs::referenced(&mut tx).await?.into_iter().collect();
            tx.commit().await?;
            let mut orphans = Vec::new();
            let mut legacy = Vec::new();
            for file in files {
                let old = file.modified < cutoff;
                let Some(hash) = file.hash else {
                    if old {
                        report.leftovers_removed += usize::from(self.store.remove_leftover(&file)?);
                    }
                    continue;
                };
                if !held.contains(hash.as_bytes().as_slice()) {
                    if old {
                        orphans.push(hash);
                    }
                } else if self.store.is_legacy(org, &hash)? {
                    legacy.push(hash);
                }
            }
            report.removed += self.remove_unreferenced(org, &orphans).await?;
            if !legacy.is_empty() {
                let key = self.data_key(org).await?;
                let store = self.store.clone();
                let count = legacy.len();
                blocking(move || legacy.iter().try_for_each(|hash| store.encrypt_legacy(org, &key, hash)))
                    .await?;
                report.encrypted += count;
            }
        }
        Ok(report)
    }

    /// Re-seals every organization's data key sealed by a master key other than the ring's
    /// active one (after a rotation); returns how many were re-sealed. Blob files are untouched.
    pub async fn reseal_keys(&self) -> Result<usize, BlobError> {
        let mut resealed = 0;
        for (org, _) in store::organizations::all_ids(&self.db).await? {
            let mut tx = TenantTx::begin(&self.db, org, Actor::system()).await?;
            if let Some(sealed) = store::blobs::data_key_for_update(&mut tx).await?
                && let Some(fresh) = self.ring.reseal(&sealed, &key_aad(org))?
            {
                let master_key_id = self.ring.active_key_id();
                store::blobs::reseal_data_key(&mut tx, &fresh, master_key_id).await?;
                tx.audit(
                    AuditRecord::new("blob_key.reseal", "organization", org)
                        .after(serde_json::json!({ "master_key_id": master_key_id })),
                );
                resealed += 1;
            }
            tx.commit().await?;
        }
        Ok(resealed)
    }
}

/// Associated data binding a sealed data key to its organization.
fn key_aad(org: OrganizationId) -> Vec<u8> {
    format!("blob-key:{org}").into_bytes()
}

/// File work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| BlobError::Task(e.to_string()))?
}
