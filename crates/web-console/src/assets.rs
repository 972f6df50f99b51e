//! Static assets (the stylesheet, the console's script, htmx) compiled into the binary and served
//! under names that carry a hash of their content, so browsers may keep them forever
//! (`Cache-Control: immutable`) and a new build is fetched the moment it changes.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    /// The name pages refer to (`app.css`).
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// Vendored files keep their version in their name; their licences are in `assets/LICENSES.md`.
const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/app.css"),
    },
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/console.js"),
    },
    Asset {
        name: "htmx.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/htmx-2.0.11.min.js"),
    },
];

struct Served {
    /// Logical name → hashed file name.
    urls: HashMap<&'static str, String>,
    /// Hashed file name → the asset.
    by_file: HashMap<String, &'static Asset>,
}

static SERVED: LazyLock<Served> = LazyLock::new(|| {
    let mut urls = HashMap::new();
    let mut by_file = HashMap::new();
    for asset in ASSETS {
        let digest = hex::encode(&Sha256::digest(asset.bytes)[..6]);
        let (stem, ext) = asset.name.rsplit_once('.').unwrap_or((asset.name, ""));
        let file = format!("{stem}.{digest}.{ext}");
        urls.insert(asset.name, format!("/assets/{file}"));
        by_file.insert(file, asset);
    }
    Served { urls, by_file }
});

/// The URL of an asset by its logical name (`app.css` → `/assets/app.1a2b3c4d5e6f.css`).
pub fn url(name: &str) -> &'static str {
    SERVED.urls.get(name).map(String::as_str).unwrap_or("/assets/missing")
}

/// `GET /assets/{file}`: the asset, cacheable for a year; an unknown or stale name is 404.
pub async fn serve(Path(file): Path<String>) -> Response {
    match SERVED.by_file.get(&file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
            ],
            asset.bytes,
        )
            .into_response(),
        None => {
            (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "no such asset")
                .into_response()
        }
    }
}
