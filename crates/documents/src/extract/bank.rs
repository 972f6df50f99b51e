//! Bank statements: account, period, opening and closing balances, transactions.

use chrono::{Datelike, NaiveDate};

use crate::extract::finder::{Finder, Found, Pattern};
use crate::extract::push;
use crate::fields::{ExtractedField, FieldValue, group_key};
use crate::layout::{ColumnRole, Table};
use crate::span::Span;
use crate::text::DocumentText;
use crate::values::{find_dates, parse_date, parse_money, parse_short_date};

pub fn extract(doc: &DocumentText, f: &Finder<'_>, tables: &[Table]) -> Vec<ExtractedField> {
    let mut out = Vec::new();
    push(
        &mut out,
        doc,
        "account_last4",
        f.on_line(
            &["account number", "account no.", "account no", "account #", "acct #", "account"],
            Pattern::Last4,
        ),
    );
    let period = period(doc, f);
    let end = period.as_ref().and_then(|(_, e)| e.value.as_date());
    if let Some((start, end)) = period {
        out.push(start.into_field("period_start", doc));
        out.push(end.into_field("period_end", doc));
    }
    push(
        &mut out,
        doc,
        "opening_balance",
        f.on_line(
            &[
                "beginning balance",
                "opening balance",
                "previous balance",
                "starting balance",
                "balance forward",
            ],
            Pattern::Money,
        ),
    );
    push(
        &mut out,
        doc,
        "closing_balance",
        f.on_line(&["ending balance", "closing balance", "new balance"], Pattern::Money),
    );
    out.extend(transactions(doc, tables, end));
    out
}

/// The statement period: the first two dates on the line of a period label.
fn period(doc: &DocumentText, f: &Finder<'_>) -> Option<(Found, Found)> {
    ["statement period", "for the period", "period"].iter().filter_map(|l| f.label_line(l)).find_map(|line| {
        let span = f.lines[line].span;
        let dates = find_dates(doc.slice(span), f.date_order);
        let at = |i: usize| {
            let (d, r) = dates.get(i)?.clone();
            Some(Found {
                value: FieldValue::Date(d.date),
                span: Span::new(span.start + r.start, span.start + r.end),
                quality: 0.95,
            })
        };
        Some((at(0)?, at(1)?))
    })
}

/// Transactions from the first table with a date, a description and an amount (or debit and
/// credit columns). Amounts are signed: money in is positive.
fn transactions(doc: &DocumentText, tables: &[Table], period_end: Option<NaiveDate>) -> Vec<ExtractedField> {
    let Some(table) = tables.iter().find(|t| {
        t.column(ColumnRole::Date).is_some()
            && t.column(ColumnRole::Description).is_some()
            && (t.column(ColumnRole::Amount).is_some()
                || t.column(ColumnRole::Debit).is_some()
                || t.column(ColumnRole::Credit).is_some())
    }) else {
        return Vec::new();
    };
    let col = |role| table.column(role);
    let (date_col, desc_col) = (col(ColumnRole::Date), col(ColumnRole::Description));
    let mut out = Vec::new();
    let mut index = 0;
    for row in &table.rows {
        let cell = |c: Option<usize>| c.and_then(|c| row.cells[c].as_ref());
        let (Some(date_cell), Some(desc)) = (cell(date_col), cell(desc_col)) else { continue };
        if desc.text.to_ascii_lowercase().contains("balance") {
            continue;
        }
        let date = parse_date(&date_cell.text).or_else(|| {
            let end = period_end?;
            let d = parse_short_date(&date_cell.text, end.year())?;
            // A December line on a January statement belongs to the year before.
            if d > end { parse_short_date(&date_cell.text, end.year() - 1) } else { Some(d) }
        });
        let amount = match (
            cell(col(ColumnRole::Amount)),
            cell(col(ColumnRole::Debit)),
            cell(col(ColumnRole::Credit)),
        ) {
            (Some(a), _, _) => parse_money(&a.text).map(|v| (v, a.span)),
            (None, Some(d), _) => parse_money(&d.text).map(|v| (-v.abs(), d.span)),
            (None, None, Some(c)) => parse_money(&c.text).map(|v| (v.abs(), c.span)),
            _ => None,
        };
        let (Some(date), Some((amount, amount_span))) = (date, amount) else { continue };
        let found = |value, span| Found { value, span, quality: 0.95 };
        out.push(
            found(FieldValue::Date(date), date_cell.span)
                .into_field(group_key("transactions", index, "date"), doc),
        );
        out.push(
            found(FieldValue::Text(desc.text.trim().to_string()), desc.span)
                .into_field(group_key("transactions", index, "description"), doc),
        );
        out.push(
            found(FieldValue::Money(amount), amount_span)
                .into_field(group_key("transactions", index, "amount"), doc),
        );
        index += 1;
    }
    out
}
