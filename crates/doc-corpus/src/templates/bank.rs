//! Monthly bank statements in two layouts: "columns" (summary box, withdrawals and deposits in
//! separate columns, MM/DD dates) and "signed" (credit-union style, one signed amount column,
//! ISO dates, period written out in words).

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rust_decimal::Decimal;

use super::Truth;
use crate::render::{Font, Page};
use crate::values::{self, DateStyle, Rand, fmt_date, fmt_money};

pub(super) fn draw(layout: usize, rng: &mut Rand) -> (String, Vec<Page>, Truth) {
    let bank = values::bank(rng);
    let holder = values::person(rng);
    let addr = values::address(rng);
    let month = rng.random_range(1..=11);
    let start = NaiveDate::from_ymd_opt(2025, month, 1).unwrap_or_default();
    let end = NaiveDate::from_ymd_opt(2025, month + 1, 1).unwrap_or_default() - chrono::Duration::days(1);
    let last4 = format!("{:04}", rng.random_range(0..10_000));
    let opening = values::money(rng, 200, 20_000);
    let mut days: Vec<u32> = (0..rng.random_range(5..=14)).map(|_| rng.random_range(1..=end.day())).collect();
    days.sort_unstable();
    let mut balance = opening;
    let txns: Vec<(NaiveDate, String, Decimal, Decimal)> = days
        .iter()
        .map(|&day| {
            let payee = values::payee(rng);
            let credit = payee.contains("Deposit") || payee.contains("Interest") || rng.random_bool(0.2);
            let amount = if credit { values::money(rng, 10, 4_000) } else { -values::money(rng, 5, 900) };
            balance += amount;
            (start.with_day(day).unwrap_or(start), payee.to_string(), amount, balance)
        })
        .collect();
    let closing = balance;

    let mut t = Truth::default();
    t.text("account_last4", &last4);
    t.date("period_start", start);
    t.date("period_end", end);
    t.money("opening_balance", opening);
    t.money("closing_balance", closing);
    for (i, (date, description, amount, _)) in txns.iter().enumerate() {
        t.date(format!("transactions[{i}].date"), *date);
        t.text(format!("transactions[{i}].description"), description);
        t.money(format!("transactions[{i}].amount"), *amount);
    }

    let mut p = Page::letter();
    let name = if layout == 0 {
        let (f, b) = (Font::Helvetica, Font::HelveticaBold);
        p.text(50.0, 60.0, 16.0, b, bank);
        p.text_right(562.0, 60.0, 12.0, b, "Account Statement");
        p.text(50.0, 90.0, 10.0, f, &holder);
        p.text(50.0, 104.0, 10.0, f, &addr.street);
        p.text(50.0, 118.0, 10.0, f, &addr.city_line);
        p.text(330.0, 90.0, 10.0, f, format!("Account Number: ******{last4}"));
        p.text(
            330.0,
            104.0,
            10.0,
            f,
            format!(
                "Statement Period: {} - {}",
                fmt_date(start, DateStyle::Us),
                fmt_date(end, DateStyle::Us)
            ),
        );
        let deposits: Decimal = txns.iter().map(|t| t.2).filter(|a| *a > Decimal::ZERO).sum();
        let withdrawals: Decimal = txns.iter().map(|t| t.2).filter(|a| *a < Decimal::ZERO).sum();
        p.rect(45.0, 140.0, 300.0, 78.0);
        p.text(50.0, 154.0, 10.0, b, "Account Summary");
        for (i, (label, value)) in [
            ("Beginning Balance", opening),
            ("Deposits and Credits", deposits),
            ("Withdrawals and Debits", -withdrawals),
            ("Ending Balance", closing),
        ]
        .iter()
        .enumerate()
        {
            let y = 170.0 + 14.0 * i as f32;
            p.text(50.0, y, 10.0, f, *label);
            p.text_right(335.0, y, 10.0, f, format!("${}", fmt_money(*value)));
        }
        let y0 = 250.0;
        p.text(50.0, y0, 10.0, b, "Date");
        p.text(100.0, y0, 10.0, b, "Description");
        p.text_right(390.0, y0, 10.0, b, "Withdrawals");
        p.text_right(475.0, y0, 10.0, b, "Deposits");
        p.text_right(562.0, y0, 10.0, b, "Balance");
        p.hline(50.0, 562.0, y0 + 5.0);
        let mut y = y0 + 20.0;
        for (date, description, amount, running) in &txns {
            p.text(50.0, y, 10.0, f, date.format("%m/%d").to_string());
            p.text(100.0, y, 10.0, f, description);
            let column = if *amount < Decimal::ZERO { 390.0 } else { 475.0 };
            p.text_right(column, y, 10.0, f, fmt_money(amount.abs()));
            p.text_right(562.0, y, 10.0, f, fmt_money(*running));
            y += 16.0;
        }
        "columns"
    } else {
        let (f, b) = (Font::Times, Font::TimesBold);
        p.text(50.0, 60.0, 18.0, b, bank);
        p.text(50.0, 80.0, 11.0, f, "Statement of Account");
        p.text(50.0, 108.0, 11.0, f, format!("Member: {holder}"));
        p.text(50.0, 124.0, 11.0, f, format!("Account No.: XXXX-XX-{last4}"));
        p.text(
            50.0,
            140.0,
            11.0,
            f,
            format!(
                "For the period {} through {}",
                fmt_date(start, DateStyle::Long),
                fmt_date(end, DateStyle::Long)
            ),
        );
        p.text(50.0, 166.0, 11.0, f, format!("Opening Balance: {}", fmt_money(opening)));
        let y0 = 196.0;
        p.text(50.0, y0, 11.0, b, "Posting Date");
        p.text(140.0, y0, 11.0, b, "Transaction Description");
        p.text_right(470.0, y0, 11.0, b, "Amount");
        p.text_right(562.0, y0, 11.0, b, "Balance");
        let mut y = y0 + 20.0;
        for (date, description, amount, running) in &txns {
            p.text(50.0, y, 11.0, f, fmt_date(*date, DateStyle::Iso));
            p.text(140.0, y, 11.0, f, description);
            p.text_right(470.0, y, 11.0, f, fmt_money(*amount));
            p.text_right(562.0, y, 11.0, f, fmt_money(*running));
            y += 16.0;
        }
        p.text(50.0, y + 16.0, 11.0, b, format!("Closing Balance: {}", fmt_money(closing)));
        "signed"
    };
    (name.to_string(), vec![p], t)
}
