//! Receipts: merchant, date and time, and the totals.

use crate::extract::finder::{Finder, Found, Pattern};
use crate::extract::push;
use crate::fields::{ExtractedField, FieldValue};
use crate::span::Span;
use crate::text::DocumentText;
use crate::values::{find_date, find_time};

const SKIP: &[&str] = &["receipt", "sales receipt", "customer copy", "welcome", "welcome to"];

pub fn extract(doc: &DocumentText, f: &Finder<'_>) -> Vec<ExtractedField> {
    let mut out = Vec::new();
    let merchant = f.first_cell(|cell| {
        let lower = cell.trim().trim_matches('*').trim().to_ascii_lowercase();
        SKIP.contains(&lower.as_str()) || lower.chars().filter(|c| c.is_alphabetic()).count() < 2
    });
    push(&mut out, doc, "merchant_name", merchant);
    let date = f.on_line(&["date"], Pattern::Date).or_else(|| {
        find_date(&doc.text).map(|(d, r)| Found {
            value: FieldValue::Date(d),
            span: Span::new(r.start, r.end),
            quality: 0.9,
        })
    });
    push(&mut out, doc, "date", date);
    let time = f.on_line(&["time"], Pattern::Time).or_else(|| {
        find_time(&doc.text).map(|(t, r)| Found {
            value: FieldValue::Time(t),
            span: Span::new(r.start, r.end),
            quality: 0.9,
        })
    });
    push(&mut out, doc, "time", time);
    push(&mut out, doc, "subtotal", f.on_line(&["subtotal", "sub total", "sub-total"], Pattern::Money));
    push(&mut out, doc, "tax", f.on_line(&["sales tax", "tax", "total tax", "vat"], Pattern::Money));
    push(&mut out, doc, "tip", f.on_line(&["tip", "gratuity"], Pattern::Money));
    push(
        &mut out,
        doc,
        "total",
        f.on_line(&["total", "grand total", "amount paid", "total due", "balance due"], Pattern::Money),
    );
    out
}
