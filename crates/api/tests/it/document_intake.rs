//! Trust at document intake (issue #12): `replaces` resolved inside the tenant, pages too big to
//! render refused, idempotent uploads replayed across multipart boundaries, safe download names,
//! duplicates per client and content (not names) deciding file versus batch.

use std::io::Write;

use domain::Role;
use serde_json::{Value, json};
use store::sqlx;
use testkit::{TestApp, TestResponse};

use crate::documents::{
    blob_files, client, document_jobs, multipart_with, post_multipart, receipt_pdf, upload_one, upload_to,
};

async fn document_count(app: &TestApp) -> i64 {
    let mut owner = app.test_db.owner_conn().await;
    sqlx::query_scalar("select count(*) from documents").fetch_one(&mut owner).await.unwrap()
}

async fn batch_count(app: &TestApp) -> i64 {
    let mut owner = app.test_db.owner_conn().await;
    sqlx::query_scalar("select count(*) from document_batches").fetch_one(&mut owner).await.unwrap()
}

#[tokio::test]
async fn replaces_resolves_only_this_clients_documents_and_stores_nothing_otherwise() {
    let app = TestApp::spawn().await;
    let firm = app.tenant("replaces-firm").await;
    let other_firm = app.tenant("replaces-other").await;
    let token = firm.owner.token.as_str();
    let mine = client(&app, token, "Replacing Client").await;
    let sibling = client(&app, token, "Sibling Client").await;
    let foreign_client = client(&app, &other_firm.owner.token, "Foreign Client").await;
    let foreign =
        upload_one(&app, &other_firm.owner.token, &foreign_client, "theirs.pdf", &receipt_pdf("1.00")).await;
    let sibling_doc = upload_one(&app, token, &sibling, "sibling.pdf", &receipt_pdf("2.00")).await;
    let (documents, batches, blobs) = (document_count(&app).await, batch_count(&app).await, blob_files(&app));

    let path = format!("/v1/clients/{mine}/documents");
    let v2 = receipt_pdf("3.00");
    for (what, id) in [
        ("another firm's document", foreign["id"].as_str().unwrap().to_owned()),
        ("another client's document", sibling_doc["id"].as_str().unwrap().to_owned()),
        ("an unknown id", uuid::Uuid::now_v7().to_string()),
    ] {
        let r = upload_to(&app, token, &path, &[("v2.pdf", &v2)], &[("replaces", &id)]).await;
        assert_eq!(r.status, 404, "{what}: {}", r.body);
        assert_eq!(r.problem_slug(), "not-found", "{what}");
        assert!(!r.body.contains("foreign key") && !r.body.contains("violates"), "{what}: {}", r.body);
    }
    assert_eq!(document_count(&app).await, documents, "a refused replacement was stored");
    assert_eq!(batch_count(&app).await, batches);
    assert_eq!(blob_files(&app), blobs);
    assert_eq!(document_jobs(&app).await, 2);

    // A live document of the same client is replaced: the new one is its next version.
    let v1 = upload_one(&app, token, &mine, "v1.pdf", &receipt_pdf("4.00")).await;
    let r =
        upload_to(&app, token, &path, &[("v2.pdf", &v2)], &[("replaces", v1["id"].as_str().unwrap())]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let document = &r.value()["files"][0]["document"];
    assert_eq!(document["previous_version_id"], v1["id"]);
    assert_eq!(document["version"], 2);
}

#[tokio::test]
async fn a_pdf_page_too_big_to_render_is_refused_with_the_limit() {
    use doc_corpus::render::{Page, write_pdf};
    let app = TestApp::spawn().await;
    let t = app.tenant("huge-page").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Huge Page Client").await;
    // A few hundred bytes asking for a 100 × 100 inch page (900 million pixels at 300 dpi).
    let huge = write_pdf(&[Page::letter(), Page::new(7200.0, 7200.0)]);
    assert!(huge.len() < 4096, "{}", huge.len());
    let r =
        upload_to(&app, token, &format!("/v1/clients/{c}/documents"), &[("poster.pdf", &huge)], &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.problem_slug(), "file-limit-exceeded");
    let problem = r.problem();
    assert!(problem.detail.contains("page 2 is 7200×7200 pt"), "{}", problem.detail);
    assert!(problem.detail.contains("3600 pt (50 in)"), "the limit is named: {}", problem.detail);
    assert_eq!(problem.errors[0].field, "poster.pdf");
    assert_eq!((document_count(&app).await, blob_files(&app)), (0, 0));
    // A large but real paper size (ARCH E, 36 × 48 in) is accepted.
    let arch_e = write_pdf(&[Page::new(2592.0, 3456.0)]);
    upload_one(&app, token, &c, "plan.pdf", &arch_e).await;
}

async fn upload_with_key(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    boundary: &str,
    pdf: &[u8],
) -> TestResponse {
    let (content_type, body) =
        multipart_with(boundary, &[("statement.pdf", pdf)], &[("category", "receipt")]);
    post_multipart(app, token, path, &content_type, body, &[("idempotency-key", key)]).await
}

#[tokio::test]
async fn a_retried_upload_with_a_new_boundary_replays_the_first_response() {
    let app = TestApp::spawn().await;
    let t = app.tenant("idem-upload").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Retry Client").await;
    let path = format!("/v1/clients/{c}/documents");
    let pdf = receipt_pdf("21.65");
    let first = upload_with_key(&app, token, &path, "upload-1", "----curl-boundary-a1b2c3", &pdf).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let retry = upload_with_key(&app, token, &path, "upload-1", "----python-requests-9f8e7d", &pdf).await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(retry.value(), first.value());
    assert_eq!(document_count(&app).await, 1);
    // The same key with another file is still a different request.
    let other = upload_with_key(&app, token, &path, "upload-1", "----another", &receipt_pdf("9.99")).await;
    assert_eq!(other.status, 422, "{}", other.body);
    assert!(other.body.contains("different request"), "{}", other.body);
    assert_eq!(document_count(&app).await, 1);
}

async fn download(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    let link = app.post(&format!("/v1/documents/{id}/download-link"), Some(token), &json!({})).await;
    assert_eq!(link.status, 200, "{}", link.body);
    app.http.get(link.value()["url"].as_str().unwrap()).send().await.unwrap()
}

#[tokio::test]
async fn download_names_are_base_names_quoted_safely() {
    let app = TestApp::spawn().await;
    let t = app.tenant("names").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Names Client").await;
    let doc = upload_one(&app, token, &c, "../../../etc/cron.d/evil.pdf", &receipt_pdf("1.50")).await;
    assert_eq!(doc["file_name"], "evil.pdf");
    let id = doc["id"].as_str().unwrap();
    let r = download(&app, token, id).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"evil.pdf\"; filename*=UTF-8''evil.pdf"
    );

    // A name stored before names were cleaned at upload is cleaned on the way out.
    let mut owner = app.test_db.owner_conn().await;
    sqlx::query("update documents set file_name = $2 where id = $1::uuid")
        .bind(id)
        .bind("C:\\Users\\x\\..\\Ré\u{7}sumé \"final\" 100%.pdf")
        .execute(&mut owner)
        .await
        .unwrap();
    let r = download(&app, token, id).await;
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"R_sum_ _final_ 100_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22%20100%25.pdf"
    );
}

#[tokio::test]
async fn duplicates_are_found_per_client_and_never_link_across_clients() {
    let app = TestApp::spawn().await;
    let t = app.tenant("dup-clients").await;
    let token = t.owner.token.as_str();
    let first = client(&app, token, "First Client").await;
    let second = client(&app, token, "Second Client").await;
    let portal = app.member(&t, Role::Client).await;
    let r = app
        .post(
            &format!("/v1/clients/{second}/portal-access"),
            Some(token),
            &json!({"user_id": portal.user_id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let pdf = receipt_pdf("21.65");
    let theirs = upload_one(&app, token, &first, "statement.pdf", &pdf).await;
    let own = upload_one(&app, &portal.token, &second, "statement.pdf", &pdf).await;
    assert_eq!(own["status"], "uploaded", "{own}");
    assert_eq!(own["duplicate_of"], Value::Null, "another client's document was revealed: {own}");
    assert_ne!(own["id"], theirs["id"]);
    assert_eq!(document_jobs(&app).await, 2, "the second client's upload is processed for it");
    // Within one client, the same content is still a duplicate.
    let again = upload_one(&app, &portal.token, &second, "statement-again.pdf", &pdf).await;
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["duplicate_of"], own["id"]);
    assert_eq!(document_jobs(&app).await, 2);
}

/// A zip whose first entry is a PDF stored uncompressed: `%PDF-` within its first bytes.
fn zip_of_stored_pdf(pdf: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("receipt.pdf", stored).unwrap();
    zip.write_all(pdf).unwrap();
    zip.finish().unwrap().into_inner()
}

#[tokio::test]
async fn content_not_names_decides_between_a_document_and_a_batch() {
    let app = TestApp::spawn().await;
    let t = app.tenant("zip-sniff").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Zip Client").await;
    let zip = zip_of_stored_pdf(&receipt_pdf("21.65"));
    let path = format!("/v1/clients/{c}/documents");

    // A zip sent as one document, even named .pdf, is refused with a pointer to the batch endpoint.
    for name in ["bundle.pdf", "bundle.zip"] {
        let r = upload_to(&app, token, &path, &[(name, &zip)], &[]).await;
        assert_eq!(r.status, 415, "{name}: {}", r.body);
        assert_eq!(r.problem_slug(), "unsupported-file-type", "{name}");
        assert!(r.problem().detail.contains("/documents/batch"), "{name}: {}", r.body);
    }
    assert_eq!(document_count(&app).await, 0);

    // As a batch it is a zip, whatever its first entry.
    let r = upload_to(&app, token, &format!("{path}/batch"), &[("bundle.zip", &zip)], &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let files = r.value()["files"].clone();
    assert_eq!(files.as_array().unwrap().len(), 1, "{files}");
    assert_eq!(files[0]["outcome"], "accepted", "{files}");
    assert_eq!(files[0]["document"]["kind"], "pdf");
}
