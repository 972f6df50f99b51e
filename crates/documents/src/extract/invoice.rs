//! Invoices: number, dates, parties, totals and line items.

use crate::extract::finder::{Finder, Found, Pattern, read_value};
use crate::extract::push;
use crate::fields::{ExtractedField, FieldValue, group_key};
use crate::layout::{ColumnRole, Table};
use crate::text::DocumentText;
use crate::values::{parse_money, parse_number};

const TITLES: &[&str] = &["invoice", "tax invoice", "commercial invoice", "bill", "statement"];

pub fn extract(doc: &DocumentText, f: &Finder<'_>, tables: &[Table]) -> Vec<ExtractedField> {
    let mut out = Vec::new();
    let number = f.on_line_or_below(
        &[
            "invoice number",
            "invoice no.",
            "invoice no",
            "invoice #",
            "invoice#",
            "inv #",
            "invoice id",
            "invoice",
        ],
        Pattern::Id,
    );
    push(&mut out, doc, "invoice_number", number);
    let date = f.on_line_or_below(
        &["invoice date", "date of issue", "issue date", "date issued", "date"],
        Pattern::Date,
    );
    push(&mut out, doc, "invoice_date", date);
    push(
        &mut out,
        doc,
        "due_date",
        f.on_line_or_below(&["due date", "payment due", "due by", "due"], Pattern::Date),
    );
    let vendor = f.on_line(&["from", "vendor", "bill from", "seller"], Pattern::Text).or_else(|| {
        f.first_cell(|cell| {
            let lower = cell.trim().trim_end_matches(':').to_ascii_lowercase();
            TITLES.contains(&lower.as_str())
        })
    });
    push(&mut out, doc, "vendor_name", vendor);
    push(
        &mut out,
        doc,
        "customer_name",
        f.on_line_or_below(&["bill to", "billed to", "sold to", "invoice to", "customer"], Pattern::Text),
    );
    push(&mut out, doc, "subtotal", f.on_line(&["subtotal", "sub total", "sub-total"], Pattern::Money));
    push(&mut out, doc, "tax", f.on_line(&["sales tax", "tax", "vat", "gst"], Pattern::Money));
    push(
        &mut out,
        doc,
        "total",
        f.on_line(&["total", "invoice total", "total amount", "grand total"], Pattern::Money),
    );
    push(
        &mut out,
        doc,
        "amount_due",
        f.on_line(
            &["amount due", "balance due", "total due", "amount payable", "please pay"],
            Pattern::Money,
        ),
    );
    out.extend(line_items(doc, tables));
    out
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
            && let Some((value, span)) = read_value(&p.text, p.span.start, Pattern::Money)
        {
            fields.push(found(value, span).into_field(group_key("line_items", index, "unit_price"), doc));
        }
        out.extend(fields);
        index += 1;
    }
    out
}
