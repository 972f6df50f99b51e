//! The password policy (NIST SP 800-63B: length over composition rules, no truncation).

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("password must be at least {MIN_LEN} characters")]
    TooShort,
    #[error("password must be at most {MAX_LEN} characters")]
    TooLong,
    #[error("password is too common or too repetitive; choose a passphrase")]
    Weak,
}

pub const MIN_LEN: usize = 10;
/// Bounded so that hashing a hostile multi-megabyte "password" is not a denial of service.
pub const MAX_LEN: usize = 256;

const COMMON: &[&str] = &[
    "password123",
    "password1234",
    "1234567890",
    "qwertyuiop",
    "letmein123",
    "iloveyou123",
    "welcome123",
    "admin12345",
    "changeme123",
];

/// Checks a new password against the policy. Existing passwords are never re-checked at login.
pub fn check_new_password(password: &str) -> Result<(), PasswordError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(PasswordError::TooShort);
    }
    if len > MAX_LEN {
        return Err(PasswordError::TooLong);
    }
    let lower = password.to_lowercase();
    let distinct = {
        let mut chars: Vec<char> = lower.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        chars.len()
    };
    if COMMON.contains(&lower.as_str()) || distinct < 4 {
        return Err(PasswordError::Weak);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(check_new_password("short"), Err(PasswordError::TooShort));
        assert_eq!(check_new_password("aaaaaaaaaaaa"), Err(PasswordError::Weak));
        assert_eq!(check_new_password("Password123"), Err(PasswordError::Weak));
        assert!(check_new_password("correct horse battery").is_ok());
        assert_eq!(check_new_password(&"ab1!".repeat(70)), Err(PasswordError::TooLong));
    }
}
