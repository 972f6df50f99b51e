//! Who issued a document, from the strongest signal there is: the name printed with the issuer's
//! VAT or tax id (the law puts them together), the seller's section of an e-invoice rendering
//! (`Verkäufer … Name:`), a labelled sender, a company name with its legal form, the name that an
//! e-mail or web domain spells, and only then the first line of the page.

use std::sync::LazyLock;

use regex::Regex;

use crate::extract::finder::{Finder, Found, Pattern};
use crate::fields::FieldValue;
use crate::layout::Cell;
use crate::span::Span;

#[expect(clippy::unwrap_used, reason = "the patterns are literals, checked by the tests")]
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap()
}

/// A VAT or tax id label followed by an id (letters and at least six digits).
static TAX_ID_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:\bust\.?-?id\.?-?nr\.?|\bust-?idnr\.?|\bust-?id\b|\bvat(?:-id| id| no\.?| reg\.? no\.?| number)?|\bn° ?tva(?: intra(?:communautaire)?)?|\btva\b|\bbtw(?:-id| nr\.?)?|\bnif\b|\bcif\b|\bgstin\b|\babn\b)\s*[:.]?\s*[A-Z]{0,3} ?[0-9][0-9 A-Z]{6,}",
    )
});

/// Legal forms that end a company name.
static LEGAL_FORM: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:\b(?:gmbh(?: & co\.? kg)?|ag|kg|ug|e\.k\.|b\.v\.|n\.v\.|v\.o\.f\.|inc\.?|llc|ltd\.?|limited|llp|corp\.?|co\.|plc|sarl|s\.a\.r\.l\.|sas|s\.a\.s\.|s\.a\.|sa|s\.l\.|sl|s\.p\.a\.|srl|pvt\.? ltd\.?)|\bgmbh)$",
    )
});

static DOMAIN: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)(?:@|\bwww\.|https?://(?:www\.)?)([a-z0-9][a-z0-9-]*[a-z0-9])\.[a-z]{2,}"));

/// Sections of a page that hold the seller's details.
const SELLER_SECTIONS: &[&str] =
    &["verkäufer", "seller", "lieferant", "fournisseur", "vendeur", "leverancier", "proveedor", "vendedor"];

/// Labels of a sender beside or under which its name is printed.
const SENDER_LABELS: &[&str] =
    &["from", "vendor", "bill from", "seller", "service provider", "issued by", "supplier"];

/// Words that name a field, not a party (a caption is never a vendor).
const CAPTIONS: &[&str] = &[
    "invoice",
    "tax invoice",
    "rechnung",
    "facture",
    "factuur",
    "factura",
    "receipt",
    "payment receipt",
    "bill",
    "statement",
    "commercial invoice",
    "seller trade name",
    "logo",
];

/// Whether a cell reads like a name: letters, no digits, no label colon, not a caption.
fn name_like(text: &str) -> bool {
    let t = text.trim();
    let lower = t.to_lowercase();
    t.chars().filter(|c| c.is_alphabetic()).count() >= 3
        && !t.chars().any(|c| c.is_ascii_digit() || c == ':' || c == '@')
        && !CAPTIONS.contains(&lower.trim_end_matches('.'))
        && !lower.starts_with("logo ")
        && t.split_whitespace().count() <= 6
}

fn found(cell: &Cell, quality: f32) -> Found {
    let text = cell.text.trim();
    let start = cell.span.start + cell.text.find(text).unwrap_or(0);
    Found { value: FieldValue::Text(text.to_string()), span: Span::new(start, start + text.len()), quality }
}

/// The issuer's name, or None. `customer` is the name already read as the customer (never the
/// vendor too).
pub fn vendor(f: &Finder<'_>, customer: Option<&str>) -> Option<Found> {
    let not_customer = |c: &Cell| customer.is_none_or(|name| c.text.trim() != name);
    by_tax_id(f, &not_customer)
        .or_else(|| seller_section(f))
        .or_else(|| f.on_line(SENDER_LABELS, Pattern::Text).filter(|v| name_like(&v.value.display())))
        .or_else(|| {
            let customer_lines = customer_block(f);
            f.lines
                .iter()
                .enumerate()
                .filter(|(i, _)| !customer_lines.contains(i))
                .flat_map(|(_, l)| &l.cells)
                .find(|c| name_like(&c.text) && LEGAL_FORM.is_match(c.text.trim()) && not_customer(c))
                .map(|c| found(c, 0.85))
        })
        .or_else(|| by_domain(f, &not_customer))
        .or_else(|| {
            f.first_cell(|cell| {
                let lower = cell.trim().trim_end_matches([':', '.']).to_lowercase();
                CAPTIONS.contains(&lower.as_str()) || cell.chars().any(|c| c.is_ascii_digit())
            })
        })
}

/// The name printed above the first VAT or tax id, in the id's column: the nearest cell with
/// a legal form within ten lines, else the nearest name-like cell (or `Name:` value).
fn by_tax_id(f: &Finder<'_>, not_customer: &dyn Fn(&Cell) -> bool) -> Option<Found> {
    let (index, line) =
        f.lines.iter().enumerate().find(|(_, l)| TAX_ID_LINE.is_match(f.doc.slice(l.span)))?;
    let text = f.doc.slice(line.span);
    let at = TAX_ID_LINE.find(text).map_or(0, |m| m.start());
    let column = text[..at].chars().count();
    let id_cell = line.cells.iter().find(|c| c.columns.1 > column)?;
    let overlaps =
        |c: &Cell| c.columns.0 < id_cell.columns.1.max(column + 12) && id_cell.columns.0 < c.columns.1;
    let above: Vec<&Cell> = f.lines[index.saturating_sub(10)..index]
        .iter()
        .rev()
        .flat_map(|l| match named_cell(&l.cells) {
            Some(value) => vec![value],
            None => l.cells.iter().filter(|c| overlaps(c)).collect(),
        })
        .filter(|c| not_customer(c))
        .collect();
    if let Some(company) = above.iter().find(|c| name_like(&c.text) && LEGAL_FORM.is_match(c.text.trim())) {
        return Some(found(company, 0.9));
    }
    above.iter().find(|c| name_like(&c.text)).map(|c| found(c, 0.85))
}

/// Labels of the customer's block, whose company names are not the vendor's.
const CUSTOMER_LABELS: &[&str] = &[
    "bill to",
    "billed to",
    "sold to",
    "ship to",
    "invoice to",
    "customer",
    "käufer",
    "rechnungsempfänger",
    "client",
    "adresse du client",
    "facturé à",
    "klant",
    "cliente",
    "facturar a",
];

/// The lines of customer blocks: each customer label's line and the four after it.
fn customer_block(f: &Finder<'_>) -> Vec<usize> {
    CUSTOMER_LABELS.iter().filter_map(|l| f.label_line(l)).flat_map(|line| line..=line + 4).collect()
}

/// The value cell of a `Name:` line.
fn named_cell(cells: &[Cell]) -> Option<&Cell> {
    let first = cells.first()?;
    (first.text.trim().eq_ignore_ascii_case("name:") || first.text.trim().eq_ignore_ascii_case("nom :"))
        .then(|| cells.get(1))
        .flatten()
}

/// `Name:` within the six lines after a seller section heading.
fn seller_section(f: &Finder<'_>) -> Option<Found> {
    let heading = f.lines.iter().position(|l| {
        l.cells.first().is_some_and(|c| {
            let lower = c.text.trim().trim_end_matches(':').to_lowercase();
            SELLER_SECTIONS.contains(&lower.as_str())
        })
    })?;
    f.lines.iter().skip(heading + 1).take(6).find_map(|l| named_cell(&l.cells)).map(|c| found(c, 0.9))
}

/// A name-like cell whose words spell an e-mail or web domain (`Azure Interior` for
/// `azure-interior.com`).
fn by_domain(f: &Finder<'_>, not_customer: &dyn Fn(&Cell) -> bool) -> Option<Found> {
    let squash = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    let domains: Vec<String> = DOMAIN.captures_iter(&f.doc.text).map(|c| squash(&c[1])).collect();
    f.lines
        .iter()
        .flat_map(|l| &l.cells)
        .find(|c| name_like(&c.text) && not_customer(c) && domains.iter().any(|d| squash(&c.text) == *d))
        .map(|c| found(c, 0.85))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::DocumentText;

    fn vendor_of(text: &str, customer: Option<&str>) -> Option<String> {
        let doc = DocumentText { text: text.into(), ..Default::default() };
        let f = Finder::new(&doc, None);
        vendor(&f, customer).map(|v| v.value.display())
    }

    #[test]
    fn the_name_beside_the_vat_id_wins() {
        let text = "FACTUUR.                                      Coolblue B.V.\n\
                    Dat betaal ik zelf wel.                       Weena 664\n\
                    Pino Bluebird                                 3012 CN Rotterdam\n\
                    \n\
                    1025 RX Amsterdam                             BTW NL810433941B01\n";
        assert_eq!(vendor_of(text, Some("Pino Bluebird")).as_deref(), Some("Coolblue B.V."));
        let french = "LOGO LE FOURNISSEUR\nSELLER TRADE NAME\nLE FOURNISSEUR\n35 rue d'ici\nN° TVA : FR 32 123 456 789\n";
        assert_eq!(vendor_of(french, None).as_deref(), Some("LE FOURNISSEUR"));
        let footer = "Facture n° 7\nTotal TTC : 56,02 €\n                 NETPRESSE\nSiège social : 16 rue Mollien – TVA F63530848134\n";
        assert_eq!(vendor_of(footer, None).as_deref(), Some("NETPRESSE"));
    }

    #[test]
    fn other_signals_when_there_is_no_vat_id() {
        let section = "Verkäufer\n   Nummer:        549910\n   Name:          Lieferant GmbH\n\nKäufer\n   Name:     Kunden AG\n";
        assert_eq!(vendor_of(section, None).as_deref(), Some("Lieferant GmbH"));
        let aws = "Amazon Web Services Invoice\nService Provider:\n(Not to be used for payment remittance)\nAmazon Web Services, Inc.\n";
        assert_eq!(vendor_of(aws, None).as_deref(), Some("Amazon Web Services, Inc."));
        let domain = "          Global Wholesaler\nAzure Interior\n4557 De Silva St\n\n   azure.Interior24@example.com http://www.azure-interior.com\n";
        assert_eq!(vendor_of(domain, None).as_deref(), Some("Azure Interior"));
        assert_eq!(vendor_of(" 2017-05-09\n\n        Bei Spiel\n", None).as_deref(), Some("Bei Spiel"));
        // A company in the customer's block is not the vendor, even when the customer was not read.
        let bill_to = "ACME SUPPLY CO\nBill To:\n  Summit Industries Inc\n";
        assert_eq!(vendor_of(bill_to, None).as_deref(), Some("ACME SUPPLY CO"));
    }
}
