//! An organization's slug: the firm's short name typed at login (`acme-cpa`).

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct OrgSlug(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SlugError {
    #[error("slug must be 3 to 63 characters")]
    Length,
    #[error(
        "slug may contain only lower-case letters, digits and single hyphens, and must start and end with a letter or digit"
    )]
    Charset,
    #[error("slug `{0}` is reserved")]
    Reserved(String),
}

const RESERVED: &[&str] = &["admin", "api", "www", "app", "docs", "demo-reserved", "system", "support"];

impl OrgSlug {
    pub fn parse(raw: &str) -> Result<Self, SlugError> {
        let s = raw.trim().to_ascii_lowercase();
        if !(3..=63).contains(&s.len()) {
            return Err(SlugError::Length);
        }
        let ok = s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if !ok {
            return Err(SlugError::Charset);
        }
        if RESERVED.contains(&s.as_str()) {
            return Err(SlugError::Reserved(s));
        }
        Ok(OrgSlug(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OrgSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrgSlug({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_firm_names_and_rejects_the_rest() {
        assert_eq!(OrgSlug::parse("Acme-CPA").unwrap().as_str(), "acme-cpa");
        assert_eq!(OrgSlug::parse("ab"), Err(SlugError::Length));
        assert_eq!(OrgSlug::parse("acme cpa"), Err(SlugError::Charset));
        assert_eq!(OrgSlug::parse("-acme"), Err(SlugError::Charset));
        assert_eq!(OrgSlug::parse("a--b"), Err(SlugError::Charset));
        assert!(matches!(OrgSlug::parse("admin"), Err(SlugError::Reserved(_))));
    }
}
