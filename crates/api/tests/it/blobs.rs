//! Document blobs at rest: encrypted per organization (envelope encryption under the key ring),
//! read back by downloads and the pipeline, tamper-evident, surviving a master key rotation; no
//! file left by a failed upload; the sweep of unreferenced blobs; the storage quota.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use documents::{Blobs, ContentHash};
use domain::{ClientId, OrganizationId, Role};
use serde_json::{Value, json};
use store::sqlx;
use testkit::{TestApp, TestConfig};
use vault::KeyRing;

use crate::documents::{client, processed, upload_one, upload_to, worker};

const SSN: &[u8] = b"078-05-1120";

/// A W-2 as a CSV export: stored only, so no OCR is needed to read it back.
fn w2_csv(wages: &str) -> Vec<u8> {
    format!("form,employee_ssn,employee,wages\nW-2,078-05-1120,Jane Q Public,{wages}\n").into_bytes()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).map_or(Vec::new(), |entries| {
        entries
            .flatten()
            .flat_map(|e| if e.path().is_dir() { files_under(&e.path()) } else { vec![e.path()] })
            .collect()
    })
}

fn blob_files(app: &TestApp) -> Vec<PathBuf> {
    files_under(app.blobs.store().root())
}

fn org(t: &testkit::Tenant) -> OrganizationId {
    OrganizationId::from_uuid(t.organization_id.parse().unwrap())
}

fn hash_of(doc: &Value) -> ContentHash {
    doc["content_sha256"].as_str().map(|h| h.parse().unwrap()).unwrap_or_else(|| panic!("no hash: {doc}"))
}

async fn download(app: &TestApp, token: &str, id: &str) -> (u16, Vec<u8>) {
    let link = app.post(&format!("/v1/documents/{id}/download-link"), Some(token), &json!({})).await;
    assert_eq!(link.status, 200, "{}", link.body);
    let r = app.http.get(link.value()["url"].as_str().unwrap()).send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

fn age(path: &Path, by: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - by).unwrap();
}

#[tokio::test]
async fn tax_documents_are_encrypted_at_rest_and_read_back_whole_or_not_at_all() {
    let app = TestApp::spawn().await;
    let t = app.tenant("blobs-at-rest").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "W-2 Client").await;
    let csv = w2_csv("52000.00");
    let doc = upload_one(&app, token, &c, "w2.csv", &csv).await;
    let id = doc["id"].as_str().unwrap().to_owned();

    let files = blob_files(&app);
    assert_eq!(files.len(), 1, "{files:?}");
    for file in &files {
        let raw = std::fs::read(file).unwrap();
        assert!(!raw.windows(SSN.len()).any(|w| w == SSN), "the SSN is readable in {}", file.display());
        assert!(!raw.windows(12).any(|w| w == b"Jane Q Publi"), "plaintext in {}", file.display());
    }
    // The organization's data key is stored sealed, under row-level security.
    let mut owner = app.test_db.owner_conn().await;
    let (sealed, master): (Vec<u8>, i32) = sqlx::query_as("select sealed, master_key_id from blob_data_keys")
        .fetch_one(&mut owner)
        .await
        .unwrap();
    assert_eq!((master, sealed.len()), (1, 2 + 12 + 32 + 16));

    // Downloads and the pipeline read it decrypted.
    assert_eq!(download(&app, token, &id).await, (200, csv.clone()));
    let work = worker(&app);
    assert_eq!(processed(&app, token, &id).await["document"]["status"], "stored");
    work.shutdown(Duration::from_secs(5)).await;

    // Any altered byte is an error, never altered content.
    let mut raw = std::fs::read(&files[0]).unwrap();
    let last = raw.len() - 20;
    raw[last] ^= 0x01;
    std::fs::write(&files[0], &raw).unwrap();
    let (status, body) = download(&app, token, &id).await;
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert!(!body.windows(SSN.len()).any(|w| w == SSN));
}

#[tokio::test]
async fn rotating_the_master_key_reseals_data_keys_and_old_blobs_still_read() {
    let app = TestApp::spawn().await;
    let t = app.tenant("blobs-rotate").await;
    let store = app.blobs.store().clone();
    let (old, new) = (KeyRing::generate_key_spec(5), KeyRing::generate_key_spec(6));
    let ring = |specs: &[&String]| KeyRing::parse(specs).unwrap();
    let before = Blobs::new(store.clone(), app.db.clone(), ring(&[&old]));
    let csv = w2_csv("61000.00");
    let key = before.data_key(org(&t)).await.unwrap();
    let hash = before.put(org(&t), &key, csv.clone()).await.unwrap().hash;
    let files_before: Vec<(PathBuf, Vec<u8>)> =
        blob_files(&app).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
    assert_eq!(files_before.len(), 1);

    let new_only = Blobs::new(store.clone(), app.db.clone(), ring(&[&new]));
    assert!(
        matches!(new_only.get(org(&t), &hash).await, Err(documents::BlobError::Key(_))),
        "not re-sealed yet: the old master key is needed"
    );
    // The new master key first, the old one kept to open what it sealed.
    let rotating = Blobs::new(store.clone(), app.db.clone(), ring(&[&new, &old]));
    assert_eq!(rotating.reseal_keys().await.unwrap(), 1);
    assert_eq!(rotating.reseal_keys().await.unwrap(), 0, "nothing left to re-seal");
    let mut owner = app.test_db.owner_conn().await;
    let master: i32 =
        sqlx::query_scalar("select master_key_id from blob_data_keys").fetch_one(&mut owner).await.unwrap();
    assert_eq!(master, 6);
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'blob_key.reseal'")
        .fetch_one(&mut owner)
        .await
        .unwrap();
    assert_eq!(audited, 1);

    // The old master key retired: the blob still reads, and its file was never rewritten.
    let retired = Blobs::new(store, app.db.clone(), ring(&[&new]));
    assert_eq!(retired.get(org(&t), &hash).await.unwrap(), csv);
    for (path, bytes) in files_before {
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{} was rewritten", path.display());
    }
}

#[tokio::test]
async fn a_failed_upload_leaves_no_file_and_the_sweep_removes_only_unreferenced_old_blobs() {
    let app = TestApp::spawn().await;
    let t = app.tenant("blobs-sweep").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Sweep Client").await;

    // The client is deleted while an upload to it is under way: the request fails after its file
    // was written, and the file goes with it.
    let gone = client(&app, token, "Deleted Client").await;
    let r = app.delete(&format!("/v1/clients/{gone}"), token).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let ctx = app.identity.authenticate(token, &identity::RequestMeta::default()).await.unwrap();
    let caller = identity::Caller::new(ctx, identity::RequestMeta::default());
    let request = documents::service::UploadRequest {
        files: vec![documents::service::UploadFile { name: Some("w2.csv".into()), bytes: w2_csv("1.00") }],
        refused: Vec::new(),
        category: None,
        replaces: None,
    };
    let gone: ClientId = gone.parse().unwrap();
    let r = app.documents.upload(&caller, gone, request).await;
    assert!(matches!(r, Err(documents::service::DocumentsError::NotFound(_))), "{:?}", r.map(|u| u.batch_id));
    assert_eq!(blob_files(&app), Vec::<PathBuf>::new(), "a failed upload left its file");

    // Held, old: kept. Unreferenced, old: swept. Unreferenced, young (an upload in flight): kept.
    // A deleted document's file, old: swept.
    let held = upload_one(&app, token, &c, "held.csv", &w2_csv("2.00")).await;
    let deleted = upload_one(&app, token, &c, "deleted.csv", &w2_csv("3.00")).await;
    let r = app.delete(&format!("/v1/documents/{}", deleted["id"].as_str().unwrap()), token).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let key = app.blobs.data_key(org(&t)).await.unwrap();
    let orphan = app.blobs.put(org(&t), &key, w2_csv("4.00")).await.unwrap().hash;
    let young = app.blobs.put(org(&t), &key, w2_csv("5.00")).await.unwrap().hash;
    let store = app.blobs.store();
    for hash in [hash_of(&held), hash_of(&deleted), orphan] {
        age(&store.path_of(org(&t), &hash), Duration::from_secs(2 * 3600));
    }
    let report = app.blobs.sweep(Duration::from_secs(3600)).await.unwrap();
    assert_eq!(report.removed, 2, "{report:?}");
    assert!(store.contains(org(&t), &hash_of(&held)));
    assert!(store.contains(org(&t), &young));
    assert!(!store.contains(org(&t), &orphan));
    assert!(!store.contains(org(&t), &hash_of(&deleted)));
    assert_eq!(app.blobs.sweep(Duration::from_secs(3600)).await.unwrap().removed, 0);
}

#[tokio::test]
async fn an_upload_past_the_storage_quota_is_refused_and_nothing_is_stored() {
    let first = w2_csv("7.00");
    let quota = first.len() as u64 + 10;
    let app = TestApp::spawn_with(TestConfig { storage_quota: quota, ..TestConfig::default() }).await;
    let t = app.tenant("blobs-quota").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Quota Client").await;
    upload_one(&app, token, &c, "first.csv", &first).await;

    let r = upload_to(
        &app,
        token,
        &format!("/v1/clients/{c}/documents"),
        &[("second.csv", &w2_csv("8.00"))],
        &[],
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.problem_slug(), "storage-quota-exceeded");
    let detail = r.problem().detail;
    assert!(detail.contains(&format!("{} bytes of its {quota}-byte quota", first.len())), "{detail}");
    assert_eq!(blob_files(&app).len(), 1, "the refused file was kept");
    assert_eq!(app.get("/v1/documents", token).await.value()["items"].as_array().unwrap().len(), 1);
    // The same content again takes no more space.
    upload_one(&app, token, &c, "again.csv", &first).await;

    let usage = app.get("/v1/documents/storage", token).await;
    assert_eq!(usage.status, 200, "{}", usage.body);
    assert_eq!(usage.value(), json!({"used_bytes": first.len(), "limit_bytes": quota}));
    let portal = app.member(&t, Role::Client).await;
    let r = app.get("/v1/documents/storage", &portal.token).await;
    assert_eq!(r.status, 403, "{}", r.body);
}
