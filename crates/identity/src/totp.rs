//! Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30 s) and recovery codes.

use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

pub const STEP_SECONDS: u64 = 30;

pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rng().fill(&mut secret[..]);
    secret
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> TOTP {
    TOTP::new_unchecked(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECONDS,
        secret.to_vec(),
        Some(issuer.replace(':', " ")),
        account.to_owned(),
    )
}

/// The `otpauth://` URI an authenticator app scans, and the base32 secret to type by hand.
pub fn provisioning(secret: &[u8], issuer: &str, account: &str) -> (String, String) {
    let t = totp(secret, issuer, account);
    (t.get_url(), Secret::Raw(secret.to_vec()).to_encoded().to_string())
}

/// The time step a code is valid for (the current one, or one either side for clock drift),
/// compared in constant time; `None` if the code is wrong.
pub fn matching_step(secret: &[u8], code: &str, unix_time: u64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret, "x", "x");
    let step = unix_time / STEP_SECONDS;
    let mut found = None;
    for candidate in [step.saturating_sub(1), step, step + 1] {
        let expected = t.generate(candidate * STEP_SECONDS);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(candidate as i64);
        }
    }
    found
}

/// The code for a time, for tests and the demo.
pub fn code_at(secret: &[u8], unix_time: u64) -> String {
    totp(secret, "x", "x").generate(unix_time)
}

/// The code for a time from the base32 secret an authenticator app is given.
pub fn code_for_base32(secret_base32: &str, unix_time: u64) -> Option<String> {
    let secret = Secret::Encoded(secret_base32.to_owned()).to_bytes().ok()?;
    Some(code_at(&secret, unix_time))
}

/// Ten single-use recovery codes, `xxxx-xxxx-xxxx` in an unambiguous alphabet.
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..10)
        .map(|_| {
            let chars: String =
                (0..12).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
            format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12])
        })
        .collect()
}

pub fn looks_like_recovery_code(code: &str) -> bool {
    let c = code.trim();
    c.len() == 14 && c.as_bytes()[4] == b'-' && c.as_bytes()[9] == b'-'
}

pub fn hash_recovery_code(code: &str) -> Vec<u8> {
    Sha256::digest(code.trim().to_ascii_lowercase().as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_current_and_adjacent_steps_only() {
        let secret = new_secret();
        let now = 1_800_000_000u64;
        let step = (now / STEP_SECONDS) as i64;
        assert_eq!(matching_step(&secret, &code_at(&secret, now), now), Some(step));
        assert_eq!(matching_step(&secret, &code_at(&secret, now - 30), now), Some(step - 1));
        assert_eq!(matching_step(&secret, &code_at(&secret, now + 30), now), Some(step + 1));
        assert_eq!(matching_step(&secret, &code_at(&secret, now - 90), now), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn provisioning_uri_names_issuer_and_account() {
        let (uri, b32) = provisioning(&new_secret(), "Acme CPA", "ann@acme.test");
        assert!(uri.starts_with("otpauth://totp/"));
        assert!(uri.contains(&b32));
        assert!(uri.contains("Acme"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_recognisable() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| looks_like_recovery_code(c)));
        assert_eq!(hash_recovery_code(&codes[0].to_uppercase()), hash_recovery_code(&codes[0]));
    }
}
