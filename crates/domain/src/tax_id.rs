//! US taxpayer identification numbers: EINs (businesses) and SSNs (people), validated by shape
//! and by the ranges the IRS and SSA never issue, and masked for display.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "text", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TaxIdKind {
    Ein,
    Ssn,
}

/// A valid tax id, kept as its nine digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TaxId {
    kind: TaxIdKind,
    digits: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TaxIdError {
    #[error("a tax id has 9 digits, written 12-3456789 (EIN) or 123-45-6789 (SSN)")]
    Shape,
    #[error("{0}")]
    NeverIssued(&'static str),
}

/// EIN prefixes the IRS assigns (campus and internet codes); others are never issued.
fn ein_prefix_valid(prefix: u32) -> bool {
    matches!(prefix, 1..=6 | 10..=16 | 20..=27 | 30..=48 | 50..=68 | 71..=77 | 80..=88 | 90..=95 | 98 | 99)
}

impl TaxId {
    /// Parses `12-3456789` as an EIN and `123-45-6789` as an SSN; bare digits need `kind`.
    pub fn parse(raw: &str, kind: Option<TaxIdKind>) -> Result<TaxId, TaxIdError> {
        let raw = raw.trim();
        let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
        if digits.len() != 9 || raw.chars().any(|c| !(c.is_ascii_digit() || c == '-' || c == ' ')) {
            return Err(TaxIdError::Shape);
        }
        let dash_at: Vec<usize> = raw.char_indices().filter(|(_, c)| *c == '-').map(|(i, _)| i).collect();
        let kind = match (dash_at.as_slice(), kind) {
            ([2], None | Some(TaxIdKind::Ein)) => TaxIdKind::Ein,
            ([3, 6], None | Some(TaxIdKind::Ssn)) => TaxIdKind::Ssn,
            ([], Some(k)) => k,
            _ => return Err(TaxIdError::Shape),
        };
        let n = |r: std::ops::Range<usize>| digits[r].parse::<u32>().unwrap_or(0);
        match kind {
            TaxIdKind::Ein if !ein_prefix_valid(n(0..2)) => {
                return Err(TaxIdError::NeverIssued("the IRS does not issue EINs with this prefix"));
            }
            TaxIdKind::Ssn if n(0..3) == 0 || n(0..3) == 666 || n(0..3) >= 900 => {
                return Err(TaxIdError::NeverIssued("no SSN has this area number (000, 666 or 900–999)"));
            }
            TaxIdKind::Ssn if n(3..5) == 0 || n(5..9) == 0 => {
                return Err(TaxIdError::NeverIssued("no SSN has a group of 00 or a serial of 0000"));
            }
            _ => {}
        }
        Ok(TaxId { kind, digits })
    }

    pub fn kind(&self) -> TaxIdKind {
        self.kind
    }

    /// The nine digits (for sealing and the blind index).
    pub fn digits(&self) -> &str {
        &self.digits
    }

    pub fn last4(&self) -> &str {
        &self.digits[5..]
    }

    /// Written the usual way: `12-3456789` or `123-45-6789`.
    pub fn formatted(&self) -> String {
        let d = &self.digits;
        match self.kind {
            TaxIdKind::Ein => format!("{}-{}", &d[..2], &d[2..]),
            TaxIdKind::Ssn => format!("{}-{}-{}", &d[..3], &d[3..5], &d[5..]),
        }
    }
}

/// The display form for someone who may not see the whole number.
pub fn masked(kind: TaxIdKind, last4: &str) -> String {
    match kind {
        TaxIdKind::Ein => format!("**-***{last4}"),
        TaxIdKind::Ssn => format!("***-**-{last4}"),
    }
}

impl fmt::Debug for TaxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the number, even in debug output.
        write!(f, "TaxId({:?}, {})", self.kind, masked(self.kind, self.last4()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_shapes_and_rejects_never_issued_numbers() {
        let ein = TaxId::parse("12-3456789", None).unwrap();
        assert_eq!((ein.kind(), ein.formatted(), ein.last4()), (TaxIdKind::Ein, "12-3456789".into(), "6789"));
        let ssn = TaxId::parse("123-45-6789", None).unwrap();
        assert_eq!(ssn.kind(), TaxIdKind::Ssn);
        assert_eq!(TaxId::parse("123456789", Some(TaxIdKind::Ssn)).unwrap().formatted(), "123-45-6789");
        assert_eq!(TaxId::parse("123456789", None), Err(TaxIdError::Shape));
        assert_eq!(TaxId::parse("12-345678", None), Err(TaxIdError::Shape));
        assert_eq!(TaxId::parse("12-3456789", Some(TaxIdKind::Ssn)), Err(TaxIdError::Shape));
        assert_eq!(TaxId::parse("1a-3456789", None), Err(TaxIdError::Shape));
        assert!(matches!(TaxId::parse("07-3456789", None), Err(TaxIdError::NeverIssued(_))));
        assert!(matches!(TaxId::parse("666-45-6789", None), Err(TaxIdError::NeverIssued(_))));
        assert!(matches!(TaxId::parse("912-45-6789", None), Err(TaxIdError::NeverIssued(_))));
        assert!(matches!(TaxId::parse("123-00-6789", None), Err(TaxIdError::NeverIssued(_))));
        assert_eq!(masked(TaxIdKind::Ssn, "6789"), "***-**-6789");
        assert!(!format!("{ssn:?}").contains("12345"));
    }
}
