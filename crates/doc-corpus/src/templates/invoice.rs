//! Invoices in three layouts: classic (Helvetica, header block on the right, totals under the
//! table), modern (Times, parties side by side, hours × rate), compact (Courier, ISO dates).

use rand::Rng;
use rust_decimal::Decimal;

use super::Truth;
use crate::render::{Font, Page};
use crate::values::{self, DateStyle, Rand, fmt_date, fmt_money};

struct Item {
    description: String,
    quantity: Decimal,
    unit_price: Decimal,
    amount: Decimal,
}

pub(super) fn draw(layout: usize, rng: &mut Rand) -> (String, Vec<Page>, Truth) {
    let vendor = values::company(rng);
    let customer = values::company(rng);
    let (va, ca) = (values::address(rng), values::address(rng));
    let issued = values::date_in(rng, 2025);
    let due = issued + chrono::Duration::days(*[15, 30, 45].get(rng.random_range(0..3)).unwrap_or(&30));
    let hours = layout == 1;
    let items: Vec<Item> = (0..rng.random_range(1..=6))
        .map(|_| {
            let quantity = if hours {
                Decimal::new(rng.random_range(2..=80) * 5, 1)
            } else {
                Decimal::from(rng.random_range(1..=12))
            };
            let unit_price = values::money(rng, 5, 400);
            Item {
                description: values::product(rng).to_string(),
                quantity,
                unit_price,
                amount: (quantity * unit_price).round_dp(2),
            }
        })
        .collect();
    let subtotal: Decimal = items.iter().map(|i| i.amount).sum();
    let rate = [Decimal::ZERO, Decimal::new(6, 2), Decimal::new(725, 4), Decimal::new(8875, 5)]
        [rng.random_range(0..4)];
    let tax = (subtotal * rate).round_dp(2);
    let total = subtotal + tax;
    let number = match layout {
        0 => format!("INV-2025-{:04}", rng.random_range(1..9999)),
        1 => format!("{}", rng.random_range(10000..99999)),
        _ => format!("A-{}", rng.random_range(10000..99999)),
    };

    let mut t = Truth::default();
    t.text("invoice_number", &number);
    t.date("invoice_date", issued);
    t.date("due_date", due);
    t.text("vendor_name", &vendor);
    t.text("customer_name", &customer);
    t.money("subtotal", subtotal);
    t.money("tax", tax);
    t.money("total", total);
    // Dollars, US addresses: what the extraction reads the currency from.
    t.text("currency", "USD");
    t.money("amount_due", total);
    for (i, item) in items.iter().enumerate() {
        t.text(format!("line_items[{i}].description"), &item.description);
        t.number(format!("line_items[{i}].quantity"), item.quantity.normalize());
        t.money(format!("line_items[{i}].unit_price"), item.unit_price);
        t.money(format!("line_items[{i}].amount"), item.amount);
    }

    let mut p = Page::letter();
    let name = match layout {
        0 => {
            let (f, b) = (Font::Helvetica, Font::HelveticaBold);
            p.text(50.0, 70.0, 16.0, b, &vendor);
            p.text_right(562.0, 70.0, 20.0, b, "INVOICE");
            p.text(50.0, 90.0, 10.0, f, &va.street);
            p.text(50.0, 104.0, 10.0, f, &va.city_line);
            p.text(360.0, 104.0, 10.0, f, format!("Invoice #: {number}"));
            p.text(360.0, 118.0, 10.0, f, format!("Invoice Date: {}", fmt_date(issued, DateStyle::Us)));
            p.text(360.0, 132.0, 10.0, f, format!("Due Date: {}", fmt_date(due, DateStyle::Us)));
            p.text(50.0, 160.0, 10.0, b, "Bill To:");
            p.text(50.0, 174.0, 10.0, f, &customer);
            p.text(50.0, 188.0, 10.0, f, &ca.street);
            p.text(50.0, 202.0, 10.0, f, &ca.city_line);
            let y0 = 240.0;
            p.text(50.0, y0, 10.0, b, "Description");
            p.text_right(350.0, y0, 10.0, b, "Qty");
            p.text_right(450.0, y0, 10.0, b, "Unit Price");
            p.text_right(562.0, y0, 10.0, b, "Amount");
            p.hline(50.0, 562.0, y0 + 5.0);
            let mut y = y0 + 20.0;
            for item in &items {
                p.text(50.0, y, 10.0, f, &item.description);
                p.text_right(350.0, y, 10.0, f, item.quantity.to_string());
                p.text_right(450.0, y, 10.0, f, format!("${}", fmt_money(item.unit_price)));
                p.text_right(562.0, y, 10.0, f, format!("${}", fmt_money(item.amount)));
                y += 16.0;
            }
            p.hline(50.0, 562.0, y - 8.0);
            y += 10.0;
            let pct = (rate * Decimal::from(100)).normalize();
            for (label, value, font) in [
                ("Subtotal".to_string(), subtotal, f),
                (format!("Sales Tax ({pct}%)"), tax, f),
                ("Total".to_string(), total, b),
                ("Amount Due".to_string(), total, b),
            ] {
                p.text(360.0, y, 10.0, font, label);
                p.text_right(562.0, y, 10.0, font, format!("${}", fmt_money(value)));
                y += 16.0;
            }
            p.text(50.0, y + 30.0, 9.0, f, "Payment terms: Net 30. Thank you for your business.");
            "classic"
        }
        1 => {
            let (f, b) = (Font::Times, Font::TimesBold);
            p.text(50.0, 72.0, 24.0, b, "Invoice");
            p.text(50.0, 104.0, 11.0, f, format!("Invoice No. {number}"));
            p.text(230.0, 104.0, 11.0, f, format!("Date of issue: {}", fmt_date(issued, DateStyle::Long)));
            p.text(230.0, 120.0, 11.0, f, format!("Due by: {}", fmt_date(due, DateStyle::Long)));
            p.text(50.0, 156.0, 11.0, b, "From:");
            p.text(95.0, 156.0, 11.0, f, &vendor);
            p.text(95.0, 170.0, 11.0, f, &va.street);
            p.text(95.0, 184.0, 11.0, f, &va.city_line);
            p.text(330.0, 156.0, 11.0, b, "Billed To:");
            p.text(395.0, 156.0, 11.0, f, &customer);
            p.text(395.0, 170.0, 11.0, f, &ca.street);
            p.text(395.0, 184.0, 11.0, f, &ca.city_line);
            let y0 = 228.0;
            p.rect(45.0, y0 - 14.0, 522.0, 20.0);
            p.text(50.0, y0, 11.0, b, "Item / Service");
            p.text_right(380.0, y0, 11.0, b, "Hours");
            p.text_right(460.0, y0, 11.0, b, "Rate");
            p.text_right(560.0, y0, 11.0, b, "Line Total");
            let mut y = y0 + 22.0;
            for item in &items {
                p.text(50.0, y, 11.0, f, &item.description);
                p.text_right(380.0, y, 11.0, f, format!("{:.1}", item.quantity));
                p.text_right(460.0, y, 11.0, f, fmt_money(item.unit_price));
                p.text_right(560.0, y, 11.0, f, fmt_money(item.amount));
                y += 17.0;
            }
            y += 14.0;
            for (label, value) in
                [("Sub-total", subtotal), ("Tax", tax), ("Invoice Total", total), ("Balance Due", total)]
            {
                p.text(380.0, y, 11.0, if label == "Balance Due" { b } else { f }, label);
                p.text_right(560.0, y, 11.0, f, fmt_money(value));
                y += 17.0;
            }
            "modern"
        }
        _ => {
            let (f, b) = (Font::Courier, Font::CourierBold);
            p.text(60.0, 70.0, 14.0, b, vendor.to_uppercase());
            t.text("vendor_name", vendor.to_uppercase());
            p.text(60.0, 86.0, 10.0, f, format!("{} / {}", va.street, va.city_line));
            p.text(60.0, 120.0, 10.0, f, format!("Invoice Number: {number}"));
            p.text(60.0, 134.0, 10.0, f, format!("Invoice Date:   {}", fmt_date(issued, DateStyle::Iso)));
            p.text(60.0, 148.0, 10.0, f, format!("Payment Due:    {}", fmt_date(due, DateStyle::Iso)));
            p.text(60.0, 162.0, 10.0, f, format!("Customer:       {customer}"));
            p.text(60.0, 190.0, 10.0, f, "-".repeat(78));
            p.text(
                60.0,
                204.0,
                10.0,
                b,
                format!("{:<6}{:<39}{:>15}{:>16}", "Qty", "Description", "Price", "Amount"),
            );
            let mut y = 220.0;
            for item in &items {
                let line = format!(
                    "{:<6}{:<39}{:>15}{:>16}",
                    item.quantity,
                    item.description,
                    fmt_money(item.unit_price),
                    fmt_money(item.amount)
                );
                p.text(60.0, y, 10.0, f, line);
                y += 14.0;
            }
            p.text(60.0, y, 10.0, f, "-".repeat(78));
            y += 18.0;
            for (label, value) in
                [("Subtotal:", subtotal), ("Tax:", tax), ("Total:", total), ("Amount Due:", total)]
            {
                p.text(60.0, y, 10.0, f, format!("{:<60}{:>16}", label, fmt_money(value)));
                y += 14.0;
            }
            "compact"
        }
    };
    (name.to_string(), vec![p], t)
}
