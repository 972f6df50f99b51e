//! Runs a parsed query against a company: filter, order, page.
//!
//! `Id`, `SyncToken`, `Active` and `MetaData.CreateTime` / `MetaData.LastUpdatedTime` are read from
//! the stored record directly (times at full precision, so `> watermark` is exact); any other
//! property is looked up in the record's JSON by a case-insensitive dotted path, a reference
//! (`CustomerRef`) comparing by its `value`. Name-list entities without a condition on `Active`
//! return active rows only, as QuickBooks does.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::company::Company;
use crate::model::{Stored, company_offset};
use crate::query::{Comparison, Literal, Predicate, Query, QueryError, Selection};

pub enum Outcome<'c> {
    Count(usize),
    Page(Vec<&'c Stored>),
}

/// One property of one record, as the query compares it.
#[derive(Debug)]
enum Field {
    Id(u64),
    Time(DateTime<Utc>),
    Bool(bool),
    Json(Value),
    Missing,
}

/// Parses the datetime forms QuickBooks accepts: RFC 3339, a datetime without offset (company
/// time) or a date (midnight, company time). A `+` turned into a space by form decoding is undone.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim().replace(' ', "+");
    if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0))?;
    Some(company_offset().from_local_datetime(&naive).single()?.with_timezone(&Utc))
}

fn lookup(json: &Value, path: &str) -> Value {
    let mut at = json;
    for segment in path.split('.') {
        let Value::Object(map) = at else { return Value::Null };
        match map.iter().find(|(k, _)| k.eq_ignore_ascii_case(segment)) {
            Some((_, v)) => at = v,
            None => return Value::Null,
        }
    }
    match at {
        Value::Object(map) => map.get("value").cloned().unwrap_or(Value::Null),
        other => other.clone(),
    }
}

fn field(record: &Stored, name: &str, json: &mut Option<Value>) -> Field {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "id" => Field::Id(record.id),
        "synctoken" => Field::Id(record.sync_token),
        "metadata.createtime" => Field::Time(record.created),
        "metadata.lastupdatedtime" => Field::Time(record.updated),
        "active" => record.body.active().map_or(Field::Missing, Field::Bool),
        _ => {
            let json = json.get_or_insert_with(|| record.to_value());
            match lookup(json, name) {
                Value::Null => Field::Missing,
                value => Field::Json(value),
            }
        }
    }
}

fn literal_text(literal: &Literal) -> String {
    match literal {
        Literal::Text(t) | Literal::Number(t) => t.clone(),
        Literal::Bool(b) => b.to_string(),
    }
}

fn decimal(text: &str) -> Option<Decimal> {
    text.parse().ok().or_else(|| Decimal::from_scientific(text).ok())
}

/// How the record's value compares with the literal; `None` when they cannot be compared.
fn compare(field: &Field, literal: &Literal) -> Option<Ordering> {
    let text = literal_text(literal);
    match field {
        Field::Id(n) => Some(n.cmp(&text.trim().parse::<u64>().ok()?)),
        Field::Time(t) => Some(t.cmp(&parse_time(&text)?)),
        Field::Bool(b) => Some(b.cmp(&text.parse::<bool>().ok()?)),
        Field::Json(Value::Number(n)) => Some(decimal(&n.to_string())?.cmp(&decimal(&text)?)),
        Field::Json(Value::Bool(b)) => Some(b.cmp(&text.parse::<bool>().ok()?)),
        Field::Json(Value::String(s)) => Some(s.to_lowercase().cmp(&text.to_lowercase())),
        Field::Json(_) | Field::Missing => None,
    }
}

/// `%` matches any run of characters; matching ignores case.
fn like(value: &str, pattern: &str) -> bool {
    let value = value.to_lowercase();
    let pattern = pattern.to_lowercase();
    let parts: Vec<&str> = pattern.split('%').collect();
    if parts.len() == 1 {
        return value == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !value.starts_with(first) || !value[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &value[first.len()..value.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

fn matches(record: &Stored, query: &Query, implicit_active: bool) -> bool {
    if implicit_active && record.body.active() == Some(false) {
        return false;
    }
    let mut json = None;
    query.conditions.iter().all(|condition| {
        let value = field(record, &condition.field, &mut json);
        match &condition.predicate {
            Predicate::Compare(comparison, literal) => {
                compare(&value, literal).is_some_and(|o| match comparison {
                    Comparison::Eq => o == Ordering::Equal,
                    Comparison::Lt => o == Ordering::Less,
                    Comparison::Gt => o == Ordering::Greater,
                    Comparison::Le => o != Ordering::Greater,
                    Comparison::Ge => o != Ordering::Less,
                })
            }
            Predicate::In(values) => values.iter().any(|v| compare(&value, v) == Some(Ordering::Equal)),
            Predicate::Like(pattern) => match &value {
                Field::Json(Value::String(s)) => like(s, pattern),
                _ => false,
            },
        }
    })
}

/// A sortable key for ORDERBY on any property: numbers by value, text ignoring case.
#[derive(PartialEq, PartialOrd)]
enum SortKey {
    Missing,
    Number(Decimal),
    Time(DateTime<Utc>),
    Text(String),
}

fn sort_key(record: &Stored, name: &str) -> SortKey {
    match field(record, name, &mut None) {
        Field::Id(n) => SortKey::Number(Decimal::from(n)),
        Field::Time(t) => SortKey::Time(t),
        Field::Bool(b) => SortKey::Number(Decimal::from(u8::from(b))),
        Field::Json(Value::Number(n)) => decimal(&n.to_string()).map_or(SortKey::Missing, SortKey::Number),
        Field::Json(Value::String(s)) => SortKey::Text(s.to_lowercase()),
        Field::Json(_) | Field::Missing => SortKey::Missing,
    }
}

pub fn run<'c>(company: &'c Company, query: &Query) -> Result<Outcome<'c>, QueryError> {
    let implicit_active = query.entity.is_name_list()
        && !query.conditions.iter().any(|c| c.field.eq_ignore_ascii_case("active"));
    let matching = company.records(query.entity).filter(|r| matches(r, query, implicit_active));
    if query.selection == Selection::Count {
        return Ok(Outcome::Count(matching.count()));
    }
    let skip = query.start_position.saturating_sub(1);
    let by_id = |descending: bool| {
        query.order_by.len() == 1
            && query.order_by[0].field.eq_ignore_ascii_case("id")
            && query.order_by[0].descending == descending
    };
    // Records are stored in id order, so the usual `ORDERBY Id` (or none) pages without sorting.
    if query.order_by.is_empty() || by_id(false) {
        return Ok(Outcome::Page(matching.skip(skip).take(query.max_results).collect()));
    }
    let mut all: Vec<&Stored> = matching.collect();
    if by_id(true) {
        all.reverse();
    } else {
        let mut keyed: Vec<(Vec<SortKey>, &Stored)> = all
            .into_iter()
            .map(|r| (query.order_by.iter().map(|o| sort_key(r, &o.field)).collect(), r))
            .collect();
        keyed.sort_by(|(a, ra), (b, rb)| {
            for ((ka, kb), order) in a.iter().zip(b).zip(&query.order_by) {
                let o = ka.partial_cmp(kb).unwrap_or(Ordering::Equal);
                let o = if order.descending { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            ra.id.cmp(&rb.id)
        });
        all = keyed.into_iter().map(|(_, r)| r).collect();
    }
    Ok(Outcome::Page(all.into_iter().skip(skip).take(query.max_results).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CompanySpec;
    use crate::model::{Body, EntityType};
    use crate::query::parse;

    fn company() -> Company {
        let spec = CompanySpec { entities: 2_000, seed: 11, ..CompanySpec::default() };
        Company::generate(&spec, DateTime::from_timestamp(1_780_000_000, 0).expect("valid"))
    }

    fn page<'c>(company: &'c Company, text: &str) -> Vec<&'c Stored> {
        match run(company, &parse(text).expect("parses")).expect("runs") {
            Outcome::Page(records) => records,
            Outcome::Count(_) => panic!("expected a page"),
        }
    }

    fn count(company: &Company, text: &str) -> usize {
        match run(company, &parse(text).expect("parses")).expect("runs") {
            Outcome::Count(n) => n,
            Outcome::Page(_) => panic!("expected a count"),
        }
    }

    #[test]
    fn pages_are_one_based_and_cover_everything_once() {
        let company = company();
        let total = count(&company, "SELECT COUNT(*) FROM Invoice");
        assert_eq!(total, company.count(EntityType::Invoice));
        let mut ids = Vec::new();
        let mut start = 1;
        loop {
            let page = page(
                &company,
                &format!("SELECT * FROM Invoice ORDERBY Id STARTPOSITION {start} MAXRESULTS 100"),
            );
            ids.extend(page.iter().map(|r| r.id));
            if page.len() < 100 {
                break;
            }
            start += 100;
        }
        assert_eq!(ids.len(), total);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ids[0], 1);
    }

    #[test]
    fn filters_compare_by_type() {
        let company = company();
        let cutoff = company.records(EntityType::Invoice).nth(300).expect("enough invoices").updated;
        let later = page(
            &company,
            &format!(
                "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '{}' MAXRESULTS 1000",
                cutoff.to_rfc3339()
            ),
        );
        assert!(!later.is_empty() && later.iter().all(|r| r.updated > cutoff));

        let big = page(&company, "SELECT * FROM Invoice WHERE TotalAmt >= 1000 MAXRESULTS 1000");
        assert!(
            big.iter().all(|r| matches!(&r.body, Body::Invoice(i) if i.total_amt >= Decimal::from(1000)))
        );

        let by_ids = page(&company, "SELECT * FROM Customer WHERE Id IN ('3', '5', '8')");
        assert_eq!(by_ids.iter().map(|r| r.id).collect::<Vec<_>>(), vec![3, 5, 8]);

        let first_customer = company.records(EntityType::Customer).next().expect("customers");
        let Body::Customer(c) = &first_customer.body else { panic!("customer") };
        let needle = &c.display_name[..c.display_name.len() - 3];
        let liked = page(
            &company,
            &format!("SELECT * FROM Customer WHERE DisplayName LIKE '{}%'", needle.to_uppercase()),
        );
        assert!(liked.iter().any(|r| r.id == first_customer.id));

        let of_customer =
            page(&company, &format!("SELECT * FROM Invoice WHERE CustomerRef = '{}'", first_customer.id));
        assert!(of_customer.iter().all(
            |r| matches!(&r.body, Body::Invoice(i) if i.customer_ref.value == first_customer.id.to_string())
        ));
    }

    #[test]
    fn inactive_rows_need_asking_for() {
        let clock = crate::clock::Clock::default();
        let mut company = company();
        let before = count(&company, "SELECT COUNT(*) FROM Customer");
        company.apply_random_changes(400, 1, &clock);
        let active = count(&company, "SELECT COUNT(*) FROM Customer");
        let all = count(&company, "SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)");
        let inactive = count(&company, "SELECT COUNT(*) FROM Customer WHERE Active = false");
        assert_eq!(all, company.count(EntityType::Customer));
        assert_eq!(active + inactive, all);
        assert!(inactive > 0 && all >= before);
    }

    #[test]
    fn orders_by_any_property() {
        let company = company();
        let desc = page(&company, "SELECT * FROM Bill ORDERBY TotalAmt DESC MAXRESULTS 50");
        let amounts: Vec<Decimal> = desc
            .iter()
            .map(|r| match &r.body {
                Body::Bill(b) => b.total_amt,
                _ => Decimal::ZERO,
            })
            .collect();
        assert!(amounts.windows(2).all(|w| w[0] >= w[1]));
        let newest = page(&company, "SELECT * FROM Vendor ORDERBY Id DESC MAXRESULTS 1");
        assert_eq!(newest[0].id, company.records(EntityType::Vendor).next_back().expect("vendors").id);
    }

    #[test]
    fn like_matches_wildcards() {
        assert!(like("Okafor Dental LLC", "%dental%"));
        assert!(like("Okafor Dental LLC", "okafor%"));
        assert!(like("Okafor Dental LLC", "%LLC"));
        assert!(!like("Okafor Dental LLC", "%plumbing%"));
        assert!(like("abc", "a%b%c"));
        assert!(!like("ab", "a%b%c"));
    }
}
