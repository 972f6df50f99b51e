//! Invoices: the server computes every amount from the lines, and the status moves only along
//! the allowed flow (draft → sent → viewed → partial/paid/overdue; cancelled while unpaid).

use rust_decimal::{Decimal, RoundingStrategy};

use crate::firm::text_enum;
use std::fmt;
use std::str::FromStr;

text_enum!(InvoiceStatus {
    Draft = "draft",
    Sent = "sent",
    Viewed = "viewed",
    Partial = "partial",
    Paid = "paid",
    Overdue = "overdue",
    Cancelled = "cancelled",
});

/// What can be done to an invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvoiceAction {
    Edit,
    Send,
    View,
    Pay,
    MarkOverdue,
    Cancel,
    Delete,
}

impl InvoiceStatus {
    /// Open for payment: counts in accounts receivable.
    pub const OPEN: &'static [InvoiceStatus] =
        &[InvoiceStatus::Sent, InvoiceStatus::Viewed, InvoiceStatus::Partial, InvoiceStatus::Overdue];

    pub fn is_open(self) -> bool {
        InvoiceStatus::OPEN.contains(&self)
    }

    /// Whether `action` is allowed from this status.
    pub fn allows(self, action: InvoiceAction) -> bool {
        use InvoiceAction as A;
        use InvoiceStatus as S;
        match action {
            A::Edit | A::Delete => self == S::Draft,
            A::Send => matches!(self, S::Draft | S::Sent | S::Viewed | S::Overdue),
            A::View => matches!(self, S::Sent),
            A::Pay => self.is_open(),
            A::MarkOverdue => matches!(self, S::Sent | S::Viewed | S::Partial),
            // Once money has come in, an invoice is settled by credit, not cancelled.
            A::Cancel => matches!(self, S::Draft | S::Sent | S::Viewed | S::Overdue),
        }
    }

    /// The status after an action that is allowed.
    pub fn after(self, action: InvoiceAction, fully_paid: bool) -> InvoiceStatus {
        use InvoiceAction as A;
        match action {
            A::Edit | A::Delete => self,
            A::Send if self == InvoiceStatus::Draft => InvoiceStatus::Sent,
            A::Send => self,
            A::View => InvoiceStatus::Viewed,
            A::Pay if fully_paid => InvoiceStatus::Paid,
            A::Pay => InvoiceStatus::Partial,
            A::MarkOverdue => InvoiceStatus::Overdue,
            A::Cancel => InvoiceStatus::Cancelled,
        }
    }
}

/// A line as entered.
#[derive(Debug, Clone, PartialEq)]
pub struct LineInput {
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
}

/// Amounts as the server computes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Totals {
    pub line_amounts: Vec<Decimal>,
    pub subtotal: Decimal,
    pub tax_amount: Decimal,
    pub discount_amount: Decimal,
    pub total: Decimal,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvoiceError {
    #[error("an invoice needs 1 to {MAX_LINES} lines")]
    LineCount,
    #[error("lines[{0}]: description must be 1 to 500 characters")]
    Description(usize),
    #[error("lines[{0}]: quantity must be greater than 0 and at most 1,000,000, with at most 4 decimals")]
    Quantity(usize),
    #[error("lines[{0}]: unit_price must be between 0 and 10,000,000, with at most 4 decimals")]
    UnitPrice(usize),
    #[error("tax_rate must be between 0 and 1 (0.0825 for 8.25%), with at most 6 decimals")]
    TaxRate,
    #[error("discount must be between 0 and the subtotal plus tax, with at most 2 decimals")]
    Discount,
    #[error("total {sent} does not match the lines: the server computes {computed}")]
    TotalMismatch { sent: Decimal, computed: Decimal },
}

pub const MAX_LINES: usize = 500;

/// Rounds money to cents, halves away from zero (as invoices are read).
pub fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Computes line amounts, subtotal, tax, discount and total. Tax applies to the subtotal;
/// the discount comes off the taxed amount.
pub fn compute_totals(
    lines: &[LineInput],
    tax_rate: Decimal,
    discount: Decimal,
) -> Result<Totals, InvoiceError> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(InvoiceError::LineCount);
    }
    let mut line_amounts = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let len = l.description.trim().chars().count();
        if len == 0 || len > 500 {
            return Err(InvoiceError::Description(i));
        }
        if l.quantity <= Decimal::ZERO || l.quantity > Decimal::from(1_000_000) || l.quantity.scale() > 4 {
            return Err(InvoiceError::Quantity(i));
        }
        if l.unit_price < Decimal::ZERO
            || l.unit_price > Decimal::from(10_000_000)
            || l.unit_price.scale() > 4
        {
            return Err(InvoiceError::UnitPrice(i));
        }
        line_amounts.push(cents(l.quantity * l.unit_price));
    }
    if tax_rate < Decimal::ZERO || tax_rate > Decimal::ONE || tax_rate.scale() > 6 {
        return Err(InvoiceError::TaxRate);
    }
    let subtotal: Decimal = line_amounts.iter().sum();
    let tax_amount = cents(subtotal * tax_rate);
    // Inputs are refused, never rounded: what the firm typed is what the client is billed.
    let discount_amount = discount;
    if discount < Decimal::ZERO || discount > subtotal + tax_amount || discount.scale() > 2 {
        return Err(InvoiceError::Discount);
    }
    Ok(Totals {
        line_amounts,
        subtotal,
        tax_amount,
        discount_amount,
        total: subtotal + tax_amount - discount_amount,
    })
}

/// AR aging bucket of an open balance by days past due (`0` or less: not yet due).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgingBucket {
    Current,
    Days1To30,
    Days31To60,
    Days61To90,
    Over90,
}

pub fn aging_bucket(days_past_due: i64) -> AgingBucket {
    match days_past_due {
        i64::MIN..=0 => AgingBucket::Current,
        1..=30 => AgingBucket::Days1To30,
        31..=60 => AgingBucket::Days31To60,
        61..=90 => AgingBucket::Days61To90,
        _ => AgingBucket::Over90,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn line(q: Decimal, p: Decimal) -> LineInput {
        LineInput { description: "Tax preparation".into(), quantity: q, unit_price: p }
    }

    #[test]
    fn totals_round_each_line_then_tax_the_subtotal() {
        let t = compute_totals(&[line(d("3"), d("33.335")), line(d("1.5"), d("100"))], d("0.0825"), d("10"))
            .unwrap();
        assert_eq!(t.line_amounts, vec![d("100.01"), d("150.00")]);
        assert_eq!(t.subtotal, d("250.01"));
        assert_eq!(t.tax_amount, d("20.63"));
        assert_eq!(t.total, d("260.64"));
    }

    #[test]
    fn bad_lines_and_rates_are_refused() {
        assert_eq!(compute_totals(&[], d("0"), d("0")), Err(InvoiceError::LineCount));
        assert_eq!(compute_totals(&[line(d("0"), d("1"))], d("0"), d("0")), Err(InvoiceError::Quantity(0)));
        assert_eq!(compute_totals(&[line(d("1"), d("-1"))], d("0"), d("0")), Err(InvoiceError::UnitPrice(0)));
        assert_eq!(compute_totals(&[line(d("1"), d("1"))], d("1.5"), d("0")), Err(InvoiceError::TaxRate));
        assert_eq!(compute_totals(&[line(d("1"), d("1"))], d("0"), d("2")), Err(InvoiceError::Discount));
    }

    #[test]
    fn more_decimals_than_an_amount_holds_are_refused_not_rounded() {
        let one = || vec![line(d("1"), d("100"))];
        let q = compute_totals(&[line(d("0.123456789"), d("1"))], d("0"), d("0"));
        assert_eq!(q, Err(InvoiceError::Quantity(0)));
        let p = compute_totals(&[line(d("1"), d("0.123456789"))], d("0"), d("0"));
        assert_eq!(p, Err(InvoiceError::UnitPrice(0)));
        assert_eq!(compute_totals(&one(), d("0.0825001"), d("0")), Err(InvoiceError::TaxRate));
        assert_eq!(compute_totals(&one(), d("0"), d("0.001")), Err(InvoiceError::Discount));
        assert_eq!(compute_totals(&one(), d("0.082500"), d("1.50")).unwrap().total, d("106.75"));
    }

    #[test]
    fn status_flow() {
        use InvoiceAction as A;
        use InvoiceStatus as S;
        assert!(S::Draft.allows(A::Edit) && !S::Sent.allows(A::Edit));
        assert_eq!(S::Draft.after(A::Send, false), S::Sent);
        assert_eq!(S::Sent.after(A::View, false), S::Viewed);
        assert_eq!(S::Viewed.after(A::Pay, false), S::Partial);
        assert_eq!(S::Partial.after(A::Pay, true), S::Paid);
        assert!(!S::Paid.allows(A::Pay) && !S::Partial.allows(A::Cancel) && !S::Draft.allows(A::Pay));
        assert!(S::Overdue.allows(A::Pay));
    }

    #[test]
    fn aging_buckets() {
        assert_eq!(aging_bucket(-5), AgingBucket::Current);
        assert_eq!(aging_bucket(0), AgingBucket::Current);
        assert_eq!(aging_bucket(30), AgingBucket::Days1To30);
        assert_eq!(aging_bucket(31), AgingBucket::Days31To60);
        assert_eq!(aging_bucket(90), AgingBucket::Days61To90);
        assert_eq!(aging_bucket(91), AgingBucket::Over90);
    }
}
