//! `ETag` / `If-None-Match` on GET: an unchanged representation is answered 304 without a body.

use serde_json::json;
use testkit::{TestApp, TestResponse};

async fn get_if_none_match(app: &TestApp, path: &str, token: Option<&str>, tag: &str) -> TestResponse {
    let mut req = app.http.get(app.url(path)).header("if-none-match", tag);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    TestResponse {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

#[tokio::test]
async fn unchanged_reads_are_not_modified_and_changes_get_a_new_tag() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let token = t.owner.token.as_str();
    let r = app.post("/v1/clients", Some(token), &json!({"business_name": "Blue Fern LLC"})).await;
    assert_eq!(r.status, 201);
    assert!(r.headers.get("etag").is_none(), "writes are not tagged");
    let path = format!("/v1/clients/{}", r.value()["id"].as_str().unwrap());

    let first = app.get(&path, token).await;
    assert_eq!(first.status, 200);
    let tag = first.headers["etag"].to_str().unwrap().to_owned();
    assert!(tag.starts_with("W/\""), "{tag}");
    assert_eq!(first.headers["cache-control"], "private, no-cache", "authenticated: never in a shared cache");

    let same = get_if_none_match(&app, &path, Some(token), &tag).await;
    assert_eq!((same.status, same.body.as_str()), (304, ""));
    assert_eq!(same.headers["etag"].to_str().unwrap(), tag);
    let listed = get_if_none_match(&app, &path, Some(token), &format!("\"other\", {tag}")).await;
    assert_eq!(listed.status, 304, "any tag of the list");

    let r = app.patch(&path, token, &json!({"legal_name": "Blue Fern Holdings LLC"})).await;
    assert_eq!(r.status, 200);
    let changed = get_if_none_match(&app, &path, Some(token), &tag).await;
    assert_eq!(changed.status, 200, "a change is a new representation");
    assert_ne!(changed.headers["etag"].to_str().unwrap(), tag);
    assert_eq!(changed.value()["legal_name"], "Blue Fern Holdings LLC");

    // A tag never lets another tenant's request through: 404 first, untagged.
    let other = app.tenant("other").await;
    let foreign = get_if_none_match(&app, &path, Some(&other.owner.token), &tag).await;
    assert_eq!(foreign.status, 404);
    assert!(foreign.headers.get("etag").is_none());

    // Public reads are tagged too; streamed exports are passed through.
    let public = app.http.get(app.url("/v1/marketplace/advisors")).send().await.unwrap();
    assert_eq!(public.headers()["cache-control"], "no-cache");
    let etag = public.headers()["etag"].to_str().unwrap().to_owned();
    let again = get_if_none_match(&app, "/v1/marketplace/advisors", None, &etag).await;
    assert_eq!(again.status, 304);
    let export = app.get("/v1/clients/export", token).await;
    assert_eq!(export.status, 200, "{}", export.body);
    assert!(export.headers.get("etag").is_none(), "a streamed body is not buffered to hash it");
}
