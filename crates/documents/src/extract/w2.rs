//! Form W-2: employer and employee, boxes 1–6, state wages and tax.

use crate::extract::finder::{Finder, Found, Pattern};
use crate::extract::push;
use crate::fields::{ExtractedField, FieldValue};
use crate::span::Span;
use crate::text::DocumentText;
use crate::values::find_year;

pub fn extract(doc: &DocumentText, f: &Finder<'_>) -> Vec<ExtractedField> {
    let mut out = Vec::new();
    push(&mut out, doc, "tax_year", tax_year(doc, f, &["wage and tax statement", "form w-2", "w-2"]));
    push(
        &mut out,
        doc,
        "employer_name",
        f.below_label(&["employer's name, address, and zip code", "employer's name"], Pattern::Text),
    );
    push(
        &mut out,
        doc,
        "employer_ein",
        f.on_line_or_below(
            &["employer identification number", "employer's identification number", "ein"],
            Pattern::TaxId,
        ),
    );
    push(
        &mut out,
        doc,
        "employee_name",
        f.below_label(
            &[
                "employee's name, address, and zip code",
                "employee's first name and initial",
                "employee's name",
            ],
            Pattern::Text,
        ),
    );
    push(
        &mut out,
        doc,
        "employee_ssn",
        f.on_line_or_below(&["employee's social security number", "employee's ssn"], Pattern::TaxId),
    );
    let boxes: [(&str, &[&str]); 6] = [
        ("box1_wages", &["wages, tips, other compensation", "wages, tips, other comp"]),
        ("box2_federal_tax", &["federal income tax withheld"]),
        ("box3_ss_wages", &["social security wages"]),
        ("box4_ss_tax", &["social security tax withheld"]),
        ("box5_medicare_wages", &["medicare wages and tips"]),
        ("box6_medicare_tax", &["medicare tax withheld"]),
    ];
    for (key, labels) in boxes {
        push(&mut out, doc, key, f.on_line_or_below(labels, Pattern::Money));
    }
    push(&mut out, doc, "state", f.below_label(&["state"], Pattern::State));
    push(
        &mut out,
        doc,
        "state_wages",
        f.on_line_or_below(&["state wages, tips, etc.", "state wages"], Pattern::Money),
    );
    push(&mut out, doc, "state_tax", f.on_line_or_below(&["state income tax"], Pattern::Money));
    out
}

/// The tax year: a year on the line of a title label (first title that has one), else the
/// first year in the document.
pub(crate) fn tax_year(doc: &DocumentText, f: &Finder<'_>, titles: &[&str]) -> Option<Found> {
    let on_title = titles.iter().filter_map(|t| f.label_line(t)).find_map(|line| {
        let span = f.lines[line].span;
        find_year(doc.slice(span)).map(|r| Span::new(span.start + r.start, span.start + r.end))
    });
    let (span, quality) = match on_title {
        Some(span) => (span, 0.95),
        None => (find_year(&doc.text).map(|r| Span::new(r.start, r.end))?, 0.8),
    };
    Some(Found { value: FieldValue::Text(doc.slice(span).to_string()), span, quality })
}
