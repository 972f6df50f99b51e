//! Builds statements in QuickBooks' query language:
//! `SELECT * | COUNT(*) FROM <Entity> [WHERE a op v AND ...] [ORDERBY f [DESC]] [STARTPOSITION n] [MAXRESULTS n]`.
//!
//! Field names are `&'static str` (they come from code, never from users); values are escaped
//! (single quotes, backslash escapes) or written as booleans and numbers. No OR, no projections:
//! the language has neither.

use std::fmt::{self, Write as _};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::entity::EntityKind;
use crate::time::format_datetime;

/// The most QuickBooks returns per query.
pub const MAX_RESULTS: u32 = 1_000;

/// A literal in a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Bool(bool),
    Number(Decimal),
    DateTime(DateTime<Utc>),
    Date(NaiveDate),
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Text(text.to_owned())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(t: DateTime<Utc>) -> Value {
        Value::DateTime(t)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = |f: &mut fmt::Formatter<'_>, text: &str| {
            f.write_char('\'')?;
            for c in text.chars() {
                if c == '\'' || c == '\\' {
                    f.write_char('\\')?;
                }
                f.write_char(c)?;
            }
            f.write_char('\'')
        };
        match self {
            Value::Text(text) => quoted(f, text),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::DateTime(t) => quoted(f, &format_datetime(*t)),
            Value::Date(d) => quoted(f, &d.format("%Y-%m-%d").to_string()),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Predicate {
    Compare(&'static str, Value),
    In(Vec<Value>),
    Like(String),
}

#[derive(Clone, Debug, PartialEq)]
struct Condition {
    field: &'static str,
    predicate: Predicate,
}

/// A query statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    kind: EntityKind,
    count: bool,
    conditions: Vec<Condition>,
    order_by: Option<(&'static str, bool)>,
    start_position: Option<u64>,
    max_results: Option<u32>,
}

impl Query {
    /// `SELECT * FROM <kind>`.
    pub fn select(kind: EntityKind) -> Query {
        Query {
            kind,
            count: false,
            conditions: Vec::new(),
            order_by: None,
            start_position: None,
            max_results: None,
        }
    }

    /// `SELECT COUNT(*) FROM <kind>`.
    pub fn count(kind: EntityKind) -> Query {
        Query { count: true, ..Query::select(kind) }
    }

    pub fn kind(&self) -> EntityKind {
        self.kind
    }

    pub fn is_count(&self) -> bool {
        self.count
    }

    fn compare(mut self, field: &'static str, operator: &'static str, value: impl Into<Value>) -> Query {
        self.conditions.push(Condition { field, predicate: Predicate::Compare(operator, value.into()) });
        self
    }

    pub fn eq(self, field: &'static str, value: impl Into<Value>) -> Query {
        self.compare(field, "=", value)
    }

    pub fn lt(self, field: &'static str, value: impl Into<Value>) -> Query {
        self.compare(field, "<", value)
    }

    pub fn gt(self, field: &'static str, value: impl Into<Value>) -> Query {
        self.compare(field, ">", value)
    }

    pub fn le(self, field: &'static str, value: impl Into<Value>) -> Query {
        self.compare(field, "<=", value)
    }

    pub fn ge(self, field: &'static str, value: impl Into<Value>) -> Query {
        self.compare(field, ">=", value)
    }

    pub fn is_in(mut self, field: &'static str, values: impl IntoIterator<Item = Value>) -> Query {
        self.conditions.push(Condition { field, predicate: Predicate::In(values.into_iter().collect()) });
        self
    }

    /// `field LIKE 'pattern'`, `%` the only wildcard.
    pub fn like(mut self, field: &'static str, pattern: &str) -> Query {
        self.conditions.push(Condition { field, predicate: Predicate::Like(pattern.to_owned()) });
        self
    }

    /// For name-list kinds, `Active IN (true,false)`: plain queries return active rows only.
    pub fn include_inactive(self) -> Query {
        if self.kind.has_active() {
            self.is_in("Active", [Value::Bool(true), Value::Bool(false)])
        } else {
            self
        }
    }

    /// `MetaData.LastUpdatedTime >= since`.
    pub fn updated_since(self, since: DateTime<Utc>) -> Query {
        self.ge("MetaData.LastUpdatedTime", since)
    }

    /// `MetaData.LastUpdatedTime < until`.
    pub fn updated_before(self, until: DateTime<Utc>) -> Query {
        self.lt("MetaData.LastUpdatedTime", until)
    }

    pub fn order_by(mut self, field: &'static str, descending: bool) -> Query {
        self.order_by = Some((field, descending));
        self
    }

    /// 1-based.
    pub fn start_position(mut self, position: u64) -> Query {
        self.start_position = Some(position.max(1));
        self
    }

    /// Clamped to 1..=1000.
    pub fn max_results(mut self, count: u32) -> Query {
        self.max_results = Some(count.clamp(1, MAX_RESULTS));
        self
    }

    pub fn requested_start(&self) -> u64 {
        self.start_position.unwrap_or(1)
    }

    /// What the server will return at most (QuickBooks' default is 100).
    pub fn requested_max(&self) -> u32 {
        self.max_results.unwrap_or(100)
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let selection = if self.count { "COUNT(*)" } else { "*" };
        write!(f, "SELECT {selection} FROM {}", self.kind.name())?;
        for (i, condition) in self.conditions.iter().enumerate() {
            f.write_str(if i == 0 { " WHERE " } else { " AND " })?;
            match &condition.predicate {
                Predicate::Compare(operator, value) => write!(f, "{} {operator} {value}", condition.field)?,
                Predicate::In(values) => {
                    write!(f, "{} IN (", condition.field)?;
                    for (j, value) in values.iter().enumerate() {
                        if j > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{value}")?;
                    }
                    f.write_char(')')?;
                }
                Predicate::Like(pattern) => {
                    write!(f, "{} LIKE {}", condition.field, Value::Text(pattern.clone()))?
                }
            }
        }
        if let Some((field, descending)) = self.order_by {
            write!(f, " ORDERBY {field}{}", if descending { " DESC" } else { "" })?;
        }
        if let Some(start) = self.start_position {
            write!(f, " STARTPOSITION {start}")?;
        }
        if let Some(max) = self.max_results {
            write!(f, " MAXRESULTS {max}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_statements_a_sync_needs() {
        let full = Query::select(EntityKind::Customer)
            .include_inactive()
            .order_by("Id", false)
            .start_position(1001)
            .max_results(5000);
        assert_eq!(
            full.to_string(),
            "SELECT * FROM Customer WHERE Active IN (true, false) ORDERBY Id STARTPOSITION 1001 MAXRESULTS 1000"
        );
        let since =
            DateTime::parse_from_rfc3339("2024-06-01T00:00:00-07:00").expect("valid").with_timezone(&Utc);
        let window =
            Query::select(EntityKind::Invoice).include_inactive().updated_since(since).updated_before(since);
        assert_eq!(
            window.to_string(),
            "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2024-06-01T07:00:00+00:00' \
             AND MetaData.LastUpdatedTime < '2024-06-01T07:00:00+00:00'"
        );
        assert_eq!(Query::count(EntityKind::Bill).to_string(), "SELECT COUNT(*) FROM Bill");
    }

    #[test]
    fn escapes_quotes_and_backslashes() {
        let q = Query::select(EntityKind::Vendor)
            .eq("DisplayName", r"O'Brien \ Sons")
            .like("CompanyName", "%Joe's%");
        assert_eq!(
            q.to_string(),
            r"SELECT * FROM Vendor WHERE DisplayName = 'O\'Brien \\ Sons' AND CompanyName LIKE '%Joe\'s%'"
        );
    }
}
