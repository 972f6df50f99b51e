//! Reading a parsed tree by paths of local names: `A|B/C` is child `A` or `B`, then its child
//! `C`. Namespaces are checked once, on the root (by the CII and UBL readers); below it only
//! local names are compared, because ZUGFeRD 1.0 and CII D16B use different namespace URIs for
//! the same element names, and producers choose their own prefixes.

use std::str::FromStr;

use chrono::NaiveDate;
use roxmltree::Node;
use rust_decimal::Decimal;

use crate::error::EInvoiceError;

/// Most nodes one document may have: a thousand-line invoice is about 100,000.
const NODES_LIMIT: u32 = 2_000_000;

/// Parses UTF-8 XML (a byte-order mark is allowed) into a tree. DTDs are refused (roxmltree's
/// default): an e-invoice has none, and entity expansion is how XML bombs work.
pub fn parse(bytes: &[u8]) -> Result<roxmltree::Document<'_>, EInvoiceError> {
    let text = std::str::from_utf8(bytes).map_err(|_| EInvoiceError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options = roxmltree::ParsingOptions { nodes_limit: NODES_LIMIT, ..Default::default() };
    Ok(roxmltree::Document::parse_with_options(text, options)?)
}

/// The element children of `node` whose local name is one of `names` (`A|B`).
pub fn children<'a, 'i>(node: Node<'a, 'i>, names: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| c.is_element() && names.split('|').any(|n| n == c.tag_name().name()))
}

/// The first element at `path` below `node`.
pub fn at<'a, 'i>(node: Node<'a, 'i>, path: &'a str) -> Option<Node<'a, 'i>> {
    path.split('/').try_fold(node, |n, step| children(n, step).next())
}

/// Every element at `path` below `node` (all matches of the last step under the first match of
/// the steps before it).
pub fn all<'a, 'i>(node: Node<'a, 'i>, path: &'a str) -> Vec<Node<'a, 'i>> {
    let (parent, last) = match path.rsplit_once('/') {
        Some((parent, last)) => (at(node, parent), last),
        None => (Some(node), path),
    };
    parent.map(|p| children(p, last).collect()).unwrap_or_default()
}

/// An element's text with runs of whitespace made one space; None when empty.
pub fn text_of(node: Node<'_, '_>) -> Option<String> {
    let raw: String = node.descendants().filter(|d| d.is_text()).filter_map(|d| d.text()).collect();
    let clean = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    (!clean.is_empty()).then_some(clean)
}

/// The text at `path`.
pub fn text(node: Node<'_, '_>, path: &str) -> Option<String> {
    at(node, path).and_then(text_of)
}

/// The text at `path`, which must be there.
pub fn required_text(
    node: Node<'_, '_>,
    path: &'static str,
    what: &'static str,
) -> Result<String, EInvoiceError> {
    text(node, path).ok_or(EInvoiceError::Missing { what, path })
}

/// An `xsd:decimal` element's value.
pub fn amount_of(node: Node<'_, '_>, path: &'static str) -> Result<Decimal, EInvoiceError> {
    let raw = text_of(node).unwrap_or_default();
    Decimal::from_str(&raw).map_err(|_| EInvoiceError::BadAmount { path, value: raw })
}

/// The amount at `path`, if there is one.
pub fn amount(node: Node<'_, '_>, path: &'static str) -> Result<Option<Decimal>, EInvoiceError> {
    at(node, path).map(|n| amount_of(n, path)).transpose()
}

/// Of the amounts at `path`, the one in `currency` (or without a `currencyID`): CII and UBL
/// repeat the VAT total in the tax currency when it differs from the invoice's.
pub fn amount_in(
    node: Node<'_, '_>,
    path: &'static str,
    currency: &str,
) -> Result<Option<Decimal>, EInvoiceError> {
    let found = all(node, path);
    let pick = found
        .iter()
        .find(|n| n.attribute("currencyID").is_none_or(|c| c.trim() == currency))
        .or(found.first());
    pick.map(|n| amount_of(*n, path)).transpose()
}

/// A date written `CCYYMMDD` (CII format 102) or `CCYY-MM-DD` (UBL, and some CII producers).
pub fn date_of(raw: &str, path: &'static str) -> Result<NaiveDate, EInvoiceError> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y%m%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%Y-%m-%d"))
        .map_err(|_| EInvoiceError::BadDate { path, value: raw.to_string() })
}

/// The date at `path`, if there is one.
pub fn date(node: Node<'_, '_>, path: &'static str) -> Result<Option<NaiveDate>, EInvoiceError> {
    text(node, path).map(|t| date_of(&t, path)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_take_alternatives_and_ignore_prefixes() {
        let doc = parse(
            "\u{feff}<r xmlns:a='urn:a' xmlns:b='urn:b'><a:X><b:Y> one \n two </b:Y></a:X><Z><Y>2</Y><Y>3</Y></Z></r>"
                .as_bytes(),
        )
        .unwrap();
        let root = doc.root_element();
        assert_eq!(text(root, "X/Y").as_deref(), Some("one two"));
        assert_eq!(text(root, "Q|Z/Y").as_deref(), Some("2"));
        assert_eq!(all(root, "Z/Y").len(), 2);
        assert_eq!(text(root, "X/Nope"), None);
    }

    #[test]
    fn dates_and_amounts_are_read_exactly() {
        assert_eq!(date_of("20180305", "d").unwrap(), NaiveDate::from_ymd_opt(2018, 3, 5).unwrap());
        assert_eq!(date_of("2018-03-05", "d").unwrap(), NaiveDate::from_ymd_opt(2018, 3, 5).unwrap());
        assert!(matches!(date_of("05.03.2018", "d"), Err(EInvoiceError::BadDate { .. })));
        let doc =
            parse(b"<r><A currencyID='EUR'>183.14</A><A currencyID='GBP'>163.16</A><B>1,5</B></r>").unwrap();
        let root = doc.root_element();
        assert_eq!(amount_in(root, "A", "GBP").unwrap(), Some(Decimal::new(16316, 2)));
        assert!(matches!(amount(root, "B"), Err(EInvoiceError::BadAmount { .. })));
    }

    #[test]
    fn a_dtd_is_refused() {
        let bomb = b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaa'>]><r>&a;</r>";
        assert!(matches!(parse(bomb), Err(EInvoiceError::Xml(_))));
    }
}
