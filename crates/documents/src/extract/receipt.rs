//! Receipts: merchant, date and time, and the totals.

use crate::extract::finder::{Finder, Found, Pattern};
use crate::extract::locale::{Locale, currency};
use crate::extract::push;
use crate::extract::totals::{TotalLabels, choose};
use crate::fields::{ExtractedField, FieldValue};
use crate::span::Span;
use crate::text::DocumentText;
use crate::values::{find_date, find_time};

const TOTALS: TotalLabels<'static> = TotalLabels {
    subtotal: &[
        "subtotal",
        "sub total",
        "sub-total",
        "total sales (excluding gst)",
        "sous-total",
        "zwischensumme",
        "subtotaal",
    ],
    tax: &["sales tax", "tax", "total tax", "vat", "gst", "total gst", "mwst", "mwst.", "tva", "btw", "iva"],
    gross: &[
        "grand total",
        "total (including gst)",
        "total incl. gst",
        "total amount",
        "amount paid",
        "total ttc",
        "summe",
        "totaal",
    ],
    fallback: &["total", "total due", "balance due", "rounded total", "net total"],
};

const SKIP: &[&str] = &[
    "receipt",
    "sales receipt",
    "customer copy",
    "welcome",
    "welcome to",
    "tax invoice",
    "kassenbon",
    "ticket",
];

pub fn extract(doc: &DocumentText, f: &Finder<'_>, locale: &Locale) -> Vec<ExtractedField> {
    let mut out = Vec::new();
    let merchant = f.first_cell(|cell| {
        let lower = cell.trim().trim_matches('*').trim().to_ascii_lowercase();
        SKIP.contains(&lower.as_str()) || lower.chars().filter(|c| c.is_alphabetic()).count() < 2
    });
    push(&mut out, doc, "merchant_name", merchant);
    let date = f.on_line(&["date", "datum", "fecha"], Pattern::Date).or_else(|| {
        find_date(&doc.text, f.date_order).map(|(d, r)| Found {
            value: FieldValue::Date(d.date),
            span: Span::new(r.start, r.end),
            quality: 0.9,
        })
    });
    push(&mut out, doc, "date", date);
    let time = f.on_line(&["time", "uhrzeit", "heure", "tijd", "hora"], Pattern::Time).or_else(|| {
        find_time(&doc.text).map(|(t, r)| Found {
            value: FieldValue::Time(t),
            span: Span::new(r.start, r.end),
            quality: 0.9,
        })
    });
    push(&mut out, doc, "time", time);
    let totals = choose(f, &TOTALS);
    push(&mut out, doc, "subtotal", totals.subtotal);
    push(&mut out, doc, "tax", totals.tax);
    push(&mut out, doc, "tip", f.on_line(&["tip", "gratuity"], Pattern::Money));
    out.extend(currency(doc, f, locale, totals.total.as_ref()));
    push(&mut out, doc, "total", totals.total);
    out
}
