//! Field checks shared by the use cases of every feature crate; each collects every problem
//! rather than stopping at one, so a form or a request gets all its errors at once.

use rust_decimal::Decimal;

use crate::Email;

/// The problems of one input, each (field, message); each feature maps it to its `Invalid` error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<(String, String)>);

/// Collects field problems: (field, message).
#[derive(Debug, Default)]
pub struct Problems(pub Vec<(String, String)>);

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    /// `Ok` when nothing was added; otherwise every problem.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(FieldErrors(self.0)) }
    }

    /// Required text, trimmed, 1..=max characters.
    pub fn required(&mut self, field: &str, v: &str, max: usize) -> String {
        let t = v.trim();
        if t.is_empty() || t.chars().count() > max {
            self.add(field, format!("must be 1 to {max} characters"));
        }
        t.to_owned()
    }

    /// Optional text: blank becomes `None`.
    pub fn text(&mut self, field: &str, v: Option<&str>, max: usize) -> Option<String> {
        let t = v.map(str::trim).filter(|t| !t.is_empty())?;
        if t.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        }
        Some(t.to_owned())
    }

    pub fn email(&mut self, field: &str, v: Option<&str>) -> Option<String> {
        let t = v.map(str::trim).filter(|t| !t.is_empty())?;
        match Email::parse(t) {
            Ok(e) => Some(e.as_str().to_owned()),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    pub fn phone(&mut self, field: &str, v: Option<&str>) -> Option<String> {
        let t = v.map(str::trim).filter(|t| !t.is_empty())?;
        let digits = t.chars().filter(char::is_ascii_digit).count();
        if t.len() > 40 || digits < 7 || t.chars().any(|c| !(c.is_ascii_digit() || " +-().x".contains(c))) {
            self.add(field, "must be a phone number such as +1 (415) 555-0100");
        }
        Some(t.to_owned())
    }

    pub fn website(&mut self, field: &str, v: Option<&str>) -> Option<String> {
        let t = v.map(str::trim).filter(|t| !t.is_empty())?;
        let ok = (t.starts_with("https://") || t.starts_with("http://"))
            && t.len() <= 300
            && !t.chars().any(char::is_whitespace);
        if !ok {
            self.add(field, "must be an http(s) address such as https://example.com");
        }
        Some(t.to_owned())
    }

    pub fn money(&mut self, field: &str, v: Option<Decimal>, max: i64) -> Option<Decimal> {
        let d = v?;
        if d < Decimal::ZERO || d > Decimal::from(max) || d.scale() > 2 {
            self.add(field, format!("must be an amount from 0 to {max} with at most 2 decimals"));
        }
        Some(d)
    }

    /// Tags: trimmed, lower-cased, unique, at most 20 of at most 50 characters.
    pub fn tags(&mut self, field: &str, tags: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in tags {
            let t = t.trim().to_lowercase();
            if t.is_empty() {
                continue;
            }
            if t.chars().count() > 50 {
                self.add(field, "each tag must be at most 50 characters");
            } else if !out.contains(&t) {
                out.push(t);
            }
        }
        if out.len() > 20 {
            self.add(field, "at most 20 tags");
        }
        out
    }
}
