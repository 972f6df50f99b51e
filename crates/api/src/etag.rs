//! `ETag` / `If-None-Match` on GET (DESIGN §5): a client that already holds the current
//! representation gets `304 Not Modified` and no body.
//!
//! The tag is a hash of the body the handler produced (a weak tag: equal JSON, not necessarily
//! equal bytes on the wire after compression), so it saves the transfer, not the query; the cache
//! of issue 5 saves the query. Responses are marked `Cache-Control: private, no-cache` when the
//! request was authenticated (revalidate every time; never in a shared cache) and `no-cache` for
//! public ones. Streamed bodies (CSV export) are passed through untouched.

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Bodies larger than this are not hashed.
const MAX_TAGGED_BODY: u64 = 4 * 1024 * 1024;

pub async fn etag(req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(req).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::ETAG) {
        return response;
    }
    match response.body().size_hint().exact() {
        Some(len) if len <= MAX_TAGGED_BODY => {}
        _ => return response,
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let tag = format!("W/\"{:016x}{:08x}\"", body_hash(&bytes), bytes.len());
    let Ok(tag_value) = HeaderValue::from_str(&tag) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let cache_control = if authenticated { "private, no-cache" } else { "no-cache" };
    parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    if if_none_match.as_ref().and_then(|v| v.to_str().ok()).is_some_and(|v| matches(v, &tag)) {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        not_modified.headers_mut().insert(header::ETAG, tag_value);
        not_modified.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
        return not_modified;
    }
    parts.headers.insert(header::ETAG, tag_value);
    Response::from_parts(parts, Body::from(bytes))
}

/// SipHash-1-3 with the standard library's fixed keys: the tag only has to change when the body
/// does (an accidental 64-bit collision, plus equal length, is negligible), and no attacker gains
/// anything by forging one (it only decides whether *their own* client re-downloads), so a
/// cryptographic hash and its dependency are not needed. Stable within a build; after a deploy
/// with another Rust version clients revalidate once.
fn body_hash(bytes: &[u8]) -> u64 {
    use std::hash::{DefaultHasher, Hasher};
    let mut h = DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

/// `If-None-Match` holds `*` or a list of tags; comparison is weak (RFC 9110 §13.1.2).
fn matches(if_none_match: &str, tag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    if_none_match.trim() == "*" || if_none_match.split(',').any(|t| opaque(t) == opaque(tag))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn weak_comparison_of_a_tag_list() {
        let tag = "W/\"abc\"";
        assert!(matches("W/\"abc\"", tag));
        assert!(matches("\"abc\"", tag), "weak comparison ignores W/");
        assert!(matches("\"x\", W/\"abc\"", tag));
        assert!(matches("*", tag));
        assert!(!matches("W/\"abd\"", tag));
        assert!(!matches("", tag));
    }
}
