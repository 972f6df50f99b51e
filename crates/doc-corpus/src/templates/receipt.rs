//! Receipts on narrow paper in two layouts: a shop till (Courier, labelled date and time, card
//! slip) and a restaurant check (Helvetica, unlabelled date and time, tip).

use chrono::NaiveTime;
use rand::Rng;
use rust_decimal::Decimal;

use super::Truth;
use crate::render::{Font, Page};
use crate::values::{self, DateStyle, Rand, fmt_date, fmt_money};

pub(super) fn draw(layout: usize, rng: &mut Rand) -> (String, Vec<Page>, Truth) {
    let merchant = match layout {
        0 => format!(
            "{} MARKET",
            values::pick(rng, &["CORNER", "CITY", "MAIN STREET", "VALLEY", "HILLTOP", "UNION"])
        ),
        _ => format!(
            "{} {}",
            values::pick(rng, &["The Blue", "Golden", "Olive", "Copper", "Little"]),
            values::pick(rng, &["Bistro", "Grill", "Kitchen", "Tavern", "Diner"])
        ),
    };
    let addr = values::address(rng);
    let date = values::date_in(rng, 2025);
    let time =
        NaiveTime::from_hms_opt(rng.random_range(8..22), rng.random_range(0..60), 0).unwrap_or_default();
    let items: Vec<(String, Decimal)> = (0..rng.random_range(2..=7))
        .map(|_| {
            if layout == 0 {
                (values::shop_item(rng).to_string(), values::money(rng, 1, 30))
            } else {
                let qty = rng.random_range(1..=3);
                let each = values::money(rng, 4, 32);
                (format!("{qty} x {}", values::meal(rng)), each * Decimal::from(qty))
            }
        })
        .collect();
    let subtotal: Decimal = items.iter().map(|i| i.1).sum();
    let tax = (subtotal * Decimal::new(825, 4)).round_dp(2);
    let tip = if layout == 1 {
        (subtotal * Decimal::new(rng.random_range(15..=22), 2)).round_dp(2)
    } else {
        Decimal::ZERO
    };
    let total = subtotal + tax + tip;

    let mut t = Truth::default();
    t.text("merchant_name", &merchant);
    t.date("date", date);
    t.time("time", time);
    t.money("subtotal", subtotal);
    t.money("tax", tax);
    if layout == 1 {
        t.money("tip", tip);
    }
    t.money("total", total);
    // Dollars, US addresses: what the extraction reads the currency from.
    t.text("currency", "USD");

    let height = 300.0 + items.len() as f32 * 14.0 + 120.0;
    let mut p = Page::new(230.0, height);
    let name = if layout == 0 {
        let (f, b) = (Font::Courier, Font::CourierBold);
        let x = 14.0;
        let line = |p: &mut Page, y: f32, left: &str, right: &str| {
            p.text(x, y, 9.0, f, left);
            p.text_right(216.0, y, 9.0, f, right);
        };
        p.text(x, 30.0, 12.0, b, &merchant);
        p.text(x, 46.0, 9.0, f, &addr.street);
        p.text(x, 58.0, 9.0, f, &addr.city_line);
        p.text(
            x,
            70.0,
            9.0,
            f,
            format!("Store #{}  Reg {}", rng.random_range(100..999), rng.random_range(1..9)),
        );
        p.text(
            x,
            92.0,
            9.0,
            f,
            format!("Date: {}   Time: {}", fmt_date(date, DateStyle::Us), time.format("%H:%M")),
        );
        p.text(
            x,
            104.0,
            9.0,
            f,
            format!("Cashier: {}", values::pick(rng, &["AMY", "RAJ", "LUIS", "KIM", "JO"])),
        );
        let mut y = 126.0;
        for (name, price) in &items {
            line(&mut p, y, name, &fmt_money(*price));
            y += 14.0;
        }
        y += 8.0;
        line(&mut p, y, "SUBTOTAL", &fmt_money(subtotal));
        line(&mut p, y + 14.0, "TAX", &fmt_money(tax));
        p.text(x, y + 30.0, 10.0, b, "TOTAL");
        p.text_right(216.0, y + 30.0, 10.0, b, fmt_money(total));
        p.text(x, y + 52.0, 9.0, f, format!("VISA **** {}", rng.random_range(1000..9999)));
        p.text(x, y + 64.0, 9.0, f, format!("APPROVED  AUTH {}", rng.random_range(100000..999999)));
        p.text(x, y + 86.0, 9.0, f, "THANK YOU FOR SHOPPING");
        "till"
    } else {
        let (f, b) = (Font::Helvetica, Font::HelveticaBold);
        let x = 16.0;
        p.text(x, 32.0, 13.0, b, &merchant);
        p.text(x, 48.0, 9.0, f, &addr.street);
        p.text(x, 60.0, 9.0, f, &addr.city_line);
        p.text(
            x,
            82.0,
            9.0,
            f,
            format!(
                "Server: {}   Table {}",
                values::pick(rng, &["Ana", "Ben", "Chloe", "Dev"]),
                rng.random_range(1..40)
            ),
        );
        p.text(
            x,
            94.0,
            9.0,
            f,
            format!("{}   {}", fmt_date(date, DateStyle::Short), time.format("%-I:%M %p")),
        );
        let mut y = 118.0;
        for (name, price) in &items {
            p.text(x, y, 9.0, f, name);
            p.text_right(214.0, y, 9.0, f, fmt_money(*price));
            y += 14.0;
        }
        y += 8.0;
        for (label, value, font) in
            [("Subtotal", subtotal, f), ("Sales Tax", tax, f), ("Tip", tip, f), ("Total", total, b)]
        {
            p.text(x, y, 9.0, font, label);
            p.text_right(214.0, y, 9.0, font, fmt_money(value));
            y += 14.0;
        }
        p.text(x, y + 16.0, 9.0, f, "Customer Copy - Thank you!");
        "restaurant"
    };
    (name.to_string(), vec![p], t)
}
