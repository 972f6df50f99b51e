//! Subtotal, tax and total, chosen together. A page prints many amounts under total-like labels
//! (section subtotals, `Total HT`, the tax breakdown's columns, what is left to pay after a
//! deposit); the total is the final gross amount, and where a subtotal and a tax add up to a
//! candidate, that agreement decides which amounts they are.

use rust_decimal::Decimal;

use crate::extract::finder::{Candidate, Finder, Found, Pattern};

/// The labels of each amount, per language (en, fr, de, nl, es).
pub struct TotalLabels<'a> {
    pub subtotal: &'a [&'a str],
    pub tax: &'a [&'a str],
    /// The gross total: preferred.
    pub gross: &'a [&'a str],
    /// Labels that may also name the total when no gross total is printed (`Total`, `Amount
    /// due`).
    pub fallback: &'a [&'a str],
}

#[derive(Debug, Default)]
pub struct Totals {
    pub subtotal: Option<Found>,
    pub tax: Option<Found>,
    pub total: Option<Found>,
}

fn money(c: &Candidate) -> Decimal {
    c.found.value.as_money().unwrap_or_default()
}

/// Chooses the amounts: the best total (gross labels before fallbacks, beside its label before
/// under it, the later on the page) that a subtotal and a tax add up to, else the best total
/// alone with the last subtotal and the first tax printed beside their labels.
pub fn choose(f: &Finder<'_>, labels: &TotalLabels<'_>) -> Totals {
    let subtotals = f.candidates(labels.subtotal, Pattern::Money);
    let taxes = f.candidates(labels.tax, Pattern::Money);
    let mut totals: Vec<(usize, Candidate)> = f
        .candidates(labels.gross, Pattern::Money)
        .into_iter()
        .map(|c| (0, c))
        .chain(f.candidates(labels.fallback, Pattern::Money).into_iter().map(|c| (1, c)))
        .collect();
    totals.sort_by_key(|(tier, c)| (*tier, c.below, std::cmp::Reverse(c.found.span.start)));
    let cent = Decimal::new(1, 2);
    for (_, total) in &totals {
        for sub in subtotals.iter().rev() {
            if let Some(tax) = taxes.iter().find(|t| (money(sub) + money(t) - money(total)).abs() <= cent) {
                return Totals {
                    subtotal: Some(sub.found.clone()),
                    tax: Some(tax.found.clone()),
                    total: Some(total.found.clone()),
                };
            }
        }
    }
    let beside = |c: &&Candidate| !c.below;
    Totals {
        subtotal: subtotals.iter().rev().find(beside).or(subtotals.last()).map(|c| c.found.clone()),
        tax: taxes.iter().find(beside).or(taxes.first()).map(|c| c.found.clone()),
        total: totals.first().map(|(_, c)| c.found.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::DocumentText;

    const LABELS: TotalLabels<'static> = TotalLabels {
        subtotal: &["subtotal", "total ht", "rechnungssumme ohne ust.", "netto"],
        tax: &["tax", "total tva", "steuerbetrag", "mwst."],
        gross: &["grand total", "total ttc", "bruttosumme", "brutto", "summe gesamt"],
        fallback: &["total", "zahlbetrag"],
    };

    fn totals(text: &str) -> (Option<String>, Option<String>, Option<String>) {
        let doc = DocumentText { text: text.into(), ..Default::default() };
        let t = choose(&Finder::new(&doc, None), &LABELS);
        let v = |f: Option<Found>| f.map(|f| f.value.display());
        (v(t.subtotal), v(t.tax), v(t.total))
    }

    #[test]
    fn the_final_gross_amount_is_the_total() {
        // A section subtotal and an earlier "Total" do not win; the amounts that add up do.
        let text = "Total   12.00\nSubtotal   112.00\nSubtotal   262.90\nTax 15% on $ 112.90   $ 16.94\nTotal   $ 279.84\n";
        assert_eq!(totals(text), (Some("262.90".into()), Some("16.94".into()), Some("279.84".into())));
        // The gross total, not what is left to pay after a deposit.
        let text = "Rechnungssumme ohne USt.   177,49\nSteuerbetrag   20,16\nBruttosumme   197,65\nZahlbetrag   147,65\n";
        assert_eq!(totals(text), (Some("177.49".into()), Some("20.16".into()), Some("197.65".into())));
        // Amounts under a header row.
        let text = "          TOTAL HT     TOTAL TVA     TOTAL TTC\nnote\n          100,00       10,00         110,00\nNET A PAYER   100,00 EUR\n";
        assert_eq!(totals(text), (Some("100.00".into()), Some("10.00".into()), Some("110.00".into())));
        // "Total Sales (Excluding GST)" is not the total.
        let text = "Total Sales (Excluding GST)   100.00\nGST   6.00\nTotal   106.00\n";
        assert_eq!(totals(text).2.as_deref(), Some("106.00"));
        // The tax that makes the sum, among the rates' columns.
        let text = "Gesamtbeträge     Netto EUR     MwSt. EUR    Brutto EUR\n19,00% MwSt.:     376,37        71,51        447,88\n      Summe gesamt                           447,88\n";
        assert_eq!(totals(text), (Some("376.37".into()), Some("71.51".into()), Some("447.88".into())));
    }
}
