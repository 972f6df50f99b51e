//! Invoices: number, dates, parties, totals and line items.

use std::sync::LazyLock;

use regex::Regex;

use crate::extract::finder::{Finder, Found, Pattern, read_value};
use crate::extract::locale::{Locale, currency};
use crate::extract::push;
use crate::extract::totals::{TotalLabels, choose};
use crate::extract::vendor::vendor;
use crate::fields::{ExtractedField, FieldValue, group_key};
use crate::layout::{ColumnRole, Table};
use crate::span::Span;
use crate::text::DocumentText;
use crate::values::{find_date, parse_money, parse_number};

/// Labels per language (en, fr, de, nl, es), in order of preference.
const NUMBER: &[&str] = &[
    "invoice number",
    "invoice no.",
    "invoice no",
    "invoice #",
    "invoice#",
    "inv #",
    "invoice id",
    "rechnungsnummer",
    "rechnungs-nr.",
    "rechnung nr.",
    "rechnung #",
    "handelsrechnung (380) nr.",
    "handelsrechnung nr.",
    "facture n°",
    "facture no",
    "n° de facture",
    "numéro de facture",
    "factuurnummer",
    "factuur nr.",
    "factuurnr.",
    "número de factura",
    "factura n.º",
    "factura nº",
    "factura no.",
    "booking id",
    "invoice",
    "#",
];
const DATE: &[&str] = &[
    "invoice date",
    "date of issue",
    "issue date",
    "date issued",
    "rechnungsdatum",
    "date de facture",
    "date de la facture",
    "date d'émission",
    "factuurdatum",
    "fecha de factura",
    "fecha de emisión",
];
/// Generic date labels, after the date printed with the invoice number.
const ANY_DATE: &[&str] = &["den", "date", "datum", "fecha"];
const DUE: &[&str] = &[
    "due date",
    "payment due",
    "due by",
    "due",
    "fälligkeitsdatum",
    "fällig am",
    "date d'échéance",
    "échéance",
    "vervaldatum",
    "fecha de vencimiento",
];
const CUSTOMER: &[&str] = &["bill to", "billed to", "sold to", "invoice to", "customer"];
const TOTALS: TotalLabels<'static> = TotalLabels {
    subtotal: &[
        "subtotal",
        "sub total",
        "sub-total",
        "net total",
        "total net",
        "total ht",
        "montant ht",
        "sous-total",
        "nettobetrag",
        "netto",
        "summe netto",
        "rechnungssumme ohne ust.",
        "positionssumme",
        "exclusief btw",
        "subtotaal",
        "totaal excl. btw",
        "base imponible",
    ],
    tax: &[
        "sales tax",
        "tax",
        "vat",
        "gst",
        "total tax",
        "tax total",
        "vat total",
        "total vat",
        "mwst.",
        "mwst",
        "ust.",
        "ust",
        "ust. gesamt",
        "ust.-betrag",
        "umsatzsteuer",
        "steuerbetrag",
        "total tva",
        "tva",
        "montant tva",
        "btw",
        "iva",
        "total iva",
    ],
    gross: &[
        "grand total",
        "invoice total",
        "total amount",
        "total for this invoice",
        "total ttc",
        "montant ttc",
        "bruttosumme",
        "bruttobetrag",
        "brutto",
        "gesamtbetrag",
        "gesamtsumme",
        "summe gesamt",
        "rechnungsbetrag",
        "endbetrag",
        "totaal incl. btw",
        "totaal",
        "importe total",
        "total factura",
        "total a pagar",
    ],
    fallback: &[
        "total",
        "amount due",
        "balance due",
        "total due",
        "amount payable",
        "due payable",
        "zahlbetrag",
        "net a payer",
        "net à payer",
        "te betalen",
        "summe",
    ],
};
const AMOUNT_DUE: &[&str] = &[
    "amount due",
    "balance due",
    "total due",
    "amount payable",
    "please pay",
    "due payable",
    "zahlbetrag",
    "net a payer",
    "net à payer",
    "montant à payer",
    "te betalen",
];

/// A date printed after the invoice number on its line (`Nr. 471102 vom 05.03.2018`, `Invoice #
/// 12 issued at 2020-06-20`).
static DATED: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a literal pattern, checked by the tests")]
    Regex::new(r"(?i)^\s*(?:vom|von|du|dated|issued at|issued on|of|del|van|le)\s+").unwrap()
});

pub fn extract(doc: &DocumentText, f: &Finder<'_>, tables: &[Table], locale: &Locale) -> Vec<ExtractedField> {
    let mut out = Vec::new();
    let number = f.on_line_or_below(NUMBER, Pattern::Id);
    let date = f
        .on_line_or_below(DATE, Pattern::Date)
        .or_else(|| number.as_ref().and_then(|n| date_after(f, n)))
        .or_else(|| f.on_line_or_below(ANY_DATE, Pattern::Date));
    push(&mut out, doc, "invoice_number", number);
    push(&mut out, doc, "invoice_date", date);
    push(&mut out, doc, "due_date", f.on_line_or_below(DUE, Pattern::Date));
    let customer = f.on_line_or_below(CUSTOMER, Pattern::Text);
    let customer_name = customer.as_ref().map(|c| c.value.display());
    push(&mut out, doc, "vendor_name", vendor(f, customer_name.as_deref()));
    push(&mut out, doc, "customer_name", customer);
    let totals = choose(f, &TOTALS);
    push(&mut out, doc, "subtotal", totals.subtotal);
    push(&mut out, doc, "tax", totals.tax);
    out.extend(currency(doc, f, locale, totals.total.as_ref()));
    push(&mut out, doc, "total", totals.total);
    push(&mut out, doc, "amount_due", f.on_line(AMOUNT_DUE, Pattern::Money));
    out.extend(line_items(doc, tables));
    out
}

/// The date after the invoice number on its line.
fn date_after(f: &Finder<'_>, number: &Found) -> Option<Found> {
    let line = f.lines.iter().find(|l| l.span.start <= number.span.start && number.span.end <= l.span.end)?;
    let rest = &f.doc.text[number.span.end..line.span.end];
    let skip = DATED.find(rest)?.end();
    let (reading, r) = find_date(&rest[skip..], f.date_order)?;
    (r.start == 0).then(|| {
        let at = number.span.end + skip;
        Found {
            value: FieldValue::Date(reading.date),
            span: Span::new(at + r.start, at + r.end),
            quality: 0.95,
        }
    })
}

/// Line items from the first table with a description and an amount column.
fn line_items(doc: &DocumentText, tables: &[Table]) -> Vec<ExtractedField> {
    let Some(table) = tables
        .iter()
        .find(|t| t.column(ColumnRole::Description).is_some() && t.column(ColumnRole::Amount).is_some())
    else {
        return Vec::new();
    };
    let (desc, amount) = (table.column(ColumnRole::Description), table.column(ColumnRole::Amount));
    let (qty, price) = (table.column(ColumnRole::Quantity), table.column(ColumnRole::UnitPrice));
    let mut out = Vec::new();
    let mut index = 0;
    for row in &table.rows {
        let cell = |c: Option<usize>| c.and_then(|c| row.cells[c].as_ref());
        let (Some(d), Some(a)) = (cell(desc), cell(amount)) else { continue };
        let Some(amount_value) = parse_money(&a.text) else { continue };
        let found = |value, span| Found { value, span, quality: 0.95 };
        let mut fields = vec![
            found(FieldValue::Text(d.text.trim().to_string()), d.span)
                .into_field(group_key("line_items", index, "description"), doc),
            found(FieldValue::Money(amount_value), a.span)
                .into_field(group_key("line_items", index, "amount"), doc),
        ];
        if let Some(q) = cell(qty)
            && let Some(n) = parse_number(&q.text)
        {
            fields.push(
                found(FieldValue::Number(n), q.span)
                    .into_field(group_key("line_items", index, "quantity"), doc),
            );
        }
        if let Some(p) = cell(price)
            && let Some((value, span)) = read_value(&p.text, p.span.start, Pattern::Money, None)
        {
            fields.push(found(value, span).into_field(group_key("line_items", index, "unit_price"), doc));
        }
        out.extend(fields);
        index += 1;
    }
    out
}
