//! Opaque keyset cursors: the last row's sort key, serialized and base64url-encoded. Clients treat
//! them as opaque; a tampered cursor fails to decode (400), it never reaches SQL as text.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
#[error("cursor is not valid; pass back the `next_cursor` of the previous page unchanged")]
pub struct InvalidCursor;

pub fn encode<T: Serialize>(key: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("cursor keys serialize"))
}

/// Encodes a key for `Page::from_overfetch` when the key type varies by branch.
pub fn encode_value<T: Serialize>(key: &T) -> serde_json::Value {
    serde_json::to_value(key).expect("cursor keys serialize")
}

/// Longer than any cursor `encode` makes (a sort key and an id); refused before decoding.
const MAX_CURSOR_LEN: usize = 1024;

pub fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, InvalidCursor> {
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(InvalidCursor);
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| InvalidCursor)?;
    serde_json::from_slice(&bytes).map_err(|_| InvalidCursor)
}

/// A page of rows and the cursor of the next page, if there is one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only tells that more exist.
    pub fn from_overfetch<K: Serialize>(mut rows: Vec<T>, limit: usize, key: impl Fn(&T) -> K) -> Self {
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode(&key(last)))
        } else {
            None
        };
        Page { items: rows, next_cursor }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let c = encode(&(42i64, "x"));
        assert_eq!(decode::<(i64, String)>(&c).unwrap(), (42, "x".to_owned()));
        assert!(decode::<(i64, String)>("!!!").is_err());
        assert!(decode::<(i64, String)>(&encode(&"other shape")).is_err());
        let page = Page::from_overfetch(vec![1, 2, 3], 2, |v| *v);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(decode::<i32>(page.next_cursor.as_deref().unwrap()).unwrap(), 2);
    }
}
