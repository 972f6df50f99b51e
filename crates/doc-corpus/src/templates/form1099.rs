//! Forms 1099-NEC and 1099-MISC in the IRS box layout. NEC layout "copy-b" masks the
//! recipient's TIN (as payers may on the recipient's copy) and right-aligns amounts.

use rand::Rng;
use rust_decimal::Decimal;

use super::Truth;
use crate::render::{Font, Page};
use crate::values::{self, Rand, fmt_money};

pub(super) fn draw(misc: bool, layout: usize, rng: &mut Rand) -> (String, Vec<Page>, Truth) {
    let payer = values::company(rng).to_uppercase();
    let recipient = values::person(rng).to_uppercase();
    let (pa, ra) = (values::address(rng), values::address(rng));
    let payer_tin = values::ein(rng);
    let ssn = values::ssn(rng);
    let masked = layout == 1;
    let recipient_tin = if masked { format!("XXX-XX-{}", &ssn[7..]) } else { ssn };
    let form = if misc { "1099-MISC" } else { "1099-NEC" };

    let mut t = Truth::default();
    t.text("tax_year", "2024");
    t.text("payer_name", &payer);
    t.text("payer_tin", &payer_tin);
    t.text("recipient_name", &recipient);
    t.text("recipient_tin", &recipient_tin);
    let boxes: Vec<(&str, &str, Option<Decimal>)> = if misc {
        let rents = values::money(rng, 1_000, 40_000);
        let royalties = if rng.random_bool(0.5) { Some(values::money(rng, 100, 9_000)) } else { None };
        let other = values::money(rng, 600, 12_000);
        let withheld = (other * Decimal::new(rng.random_range(0..=10), 2)).round_dp(2);
        t.money("box1_rents", rents);
        if let Some(r) = royalties {
            t.money("box2_royalties", r);
        }
        t.money("box3_other_income", other);
        t.money("box4_federal_tax", withheld);
        vec![
            ("box1_rents", "1 Rents", Some(rents)),
            ("box2_royalties", "2 Royalties", royalties),
            ("box3_other_income", "3 Other income", Some(other)),
            ("box4_federal_tax", "4 Federal income tax withheld", Some(withheld)),
        ]
    } else {
        let comp = values::money(rng, 600, 150_000);
        let withheld = (comp * Decimal::new(rng.random_range(0..=12), 2)).round_dp(2);
        t.money("box1_nonemployee_comp", comp);
        t.money("box4_federal_tax", withheld);
        vec![
            ("box1_nonemployee_comp", "1 Nonemployee compensation", Some(comp)),
            ("", "2 Direct sales of $5,000 or more (checkbox)", None),
            ("", "3 Excess golden parachute payments", None),
            ("box4_federal_tax", "4 Federal income tax withheld", Some(withheld)),
        ]
    };

    let (f, b) = (Font::Helvetica, Font::HelveticaBold);
    let value_font = if masked { Font::Helvetica } else { Font::Courier };
    let mut p = Page::letter();
    let (l0, l1, lm, r0, r1) = (40.0, 330.0, 185.0, 330.0, 580.0);
    let label = |p: &mut Page, x: f32, y: f32, s: &str| p.text(x + 3.0, y + 9.0, 7.0, f, s);
    let value = |p: &mut Page, x0: f32, x1: f32, y: f32, s: &str, money: bool| {
        if masked && money {
            p.text_right(x1 - 8.0, y + 24.0, 10.0, value_font, s);
        } else {
            p.text(x0 + 8.0, y + 24.0, 10.0, value_font, s);
        }
    };
    // Payer block.
    let y = 50.0;
    p.rect(l0, y, l1 - l0, 72.0);
    label(&mut p, l0, y, "PAYER'S name, street address, city, state, ZIP code, and telephone no.");
    for (i, line) in [payer.as_str(), pa.street.as_str(), pa.city_line.as_str()].iter().enumerate() {
        p.text(l0 + 8.0, y + 24.0 + 12.0 * i as f32, 10.0, value_font, *line);
    }
    p.rect(r0, y, r1 - r0, 72.0);
    p.text(r0 + 8.0, y + 14.0, 8.0, f, "OMB No. 1545-0116");
    p.text(r0 + 8.0, y + 32.0, 12.0, b, format!("Form {form}"));
    p.text(r0 + 8.0, y + 48.0, 9.0, f, "For calendar year 2024");
    p.text(
        r0 + 130.0,
        y + 32.0,
        11.0,
        b,
        if misc { "Miscellaneous Information" } else { "Nonemployee Compensation" },
    );
    // TINs and recipient.
    let y = y + 72.0;
    p.rect(l0, y, lm - l0, 36.0);
    p.rect(lm, y, l1 - lm, 36.0);
    label(&mut p, l0, y, "PAYER'S TIN");
    label(&mut p, lm, y, "RECIPIENT'S TIN");
    value(&mut p, l0, lm, y, &payer_tin, false);
    value(&mut p, lm, l1, y, &recipient_tin, false);
    let rows: [(&str, String); 4] = [
        ("RECIPIENT'S name", recipient.clone()),
        ("Street address (including apt. no.)", ra.street.clone()),
        ("City or town, state or province, country, and ZIP or foreign postal code", ra.city_line.clone()),
        ("Account number (see instructions)", format!("{}", rng.random_range(100_000..999_999))),
    ];
    for (i, (l, v)) in rows.iter().enumerate() {
        let yy = y + 36.0 * (i + 1) as f32;
        p.rect(l0, yy, l1 - l0, 36.0);
        label(&mut p, l0, yy, l);
        value(&mut p, l0, l1, yy, v, false);
    }
    for (i, (_, l, amount)) in boxes.iter().enumerate() {
        let yy = y + 36.0 * i as f32;
        p.rect(r0, yy, r1 - r0, 36.0);
        label(&mut p, r0, yy, l);
        if let Some(a) = amount {
            value(&mut p, r0, r1, yy, &format!("$ {}", fmt_money(*a)), true);
        }
    }
    let yy = y + 36.0 * 5.0;
    for (i, l) in ["5 State tax withheld", "6 State/Payer's state no.", "7 State income"].iter().enumerate() {
        let x = l0 + 180.0 * i as f32;
        p.rect(x, yy, 180.0, 36.0);
        label(&mut p, x, yy, l);
    }
    p.text(
        l0,
        yy + 60.0,
        9.0,
        f,
        format!(
            "Form {form}    Copy B For Recipient    Department of the Treasury - Internal Revenue Service"
        ),
    );
    let name = match (misc, masked) {
        (true, _) => "misc",
        (false, false) => "copy-1",
        (false, true) => "copy-b",
    };
    (name.to_string(), vec![p], t)
}
