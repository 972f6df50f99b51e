//! Bearer secrets: session tokens, API keys, invitation links and password-reset links.
//!
//! A token is `<kind>_<organization id, 32 hex><secret, 43 base64url chars>`. The organization part
//! tells which tenant to open before the lookup (every credential table is under row-level
//! security); the stored value is `sha256(token)`, so a changed organization part finds nothing.
//! The secret is 256 random bits, so a plain hash (not a slow one) is the right tool.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::OrganizationId;
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Session,
    ApiKey,
    Invitation,
    PasswordReset,
}

impl TokenKind {
    const fn prefix(self) -> &'static str {
        match self {
            TokenKind::Session => "chs_",
            TokenKind::ApiKey => "chk_",
            TokenKind::Invitation => "chi_",
            TokenKind::PasswordReset => "chr_",
        }
    }
}

const ORG_HEX_LEN: usize = 32;
const SECRET_LEN: usize = 43;

/// A freshly minted token: shown to its owner once, stored only as [`IssuedToken::hash`].
pub struct IssuedToken {
    pub token: String,
    pub hash: Vec<u8>,
}

pub fn issue(kind: TokenKind, org: OrganizationId) -> IssuedToken {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = format!("{}{}{}", kind.prefix(), org.as_uuid().simple(), URL_SAFE_NO_PAD.encode(secret));
    let hash = hash(&token);
    IssuedToken { token, hash }
}

/// A token as presented: which organization it names and the hash to look it up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedToken {
    pub kind: TokenKind,
    pub organization_id: OrganizationId,
    pub hash: Vec<u8>,
}

/// Parses a presented token; `None` for anything that is not one of ours.
pub fn parse(token: &str) -> Option<PresentedToken> {
    let kind = [TokenKind::Session, TokenKind::ApiKey, TokenKind::Invitation, TokenKind::PasswordReset]
        .into_iter()
        .find(|k| token.starts_with(k.prefix()))?;
    let rest = &token[kind.prefix().len()..];
    if rest.len() != ORG_HEX_LEN + SECRET_LEN || !rest.is_ascii() {
        return None;
    }
    let org = uuid::Uuid::try_parse(&rest[..ORG_HEX_LEN]).ok()?;
    Some(PresentedToken { kind, organization_id: org.into(), hash: hash(token) })
}

/// The characters of an API key shown in lists (`chk_` and the first 8 of the secret).
pub fn display_prefix(token: &str) -> String {
    let secret_start = 4 + ORG_HEX_LEN;
    format!("chk_…{}", &token[secret_start..secret_start + 8])
}

pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_org_and_kind_and_reject_tampering() {
        let org = OrganizationId::new();
        let t = issue(TokenKind::Session, org);
        let p = parse(&t.token).unwrap();
        assert_eq!(p.kind, TokenKind::Session);
        assert_eq!(p.organization_id, org);
        assert_eq!(p.hash, t.hash);

        let other = OrganizationId::new();
        let forged = format!("chs_{}{}", other.as_uuid().simple(), &t.token[4 + 32..]);
        assert_ne!(parse(&forged).unwrap().hash, t.hash, "a moved token hashes differently");

        assert!(parse("chs_short").is_none());
        assert!(parse("Bearer xyz").is_none());
        assert!(parse(&format!("{}é", &t.token[..t.token.len() - 1])).is_none());
        assert_eq!(display_prefix(&issue(TokenKind::ApiKey, org).token).chars().count(), 13);
    }
}
