//! Form W-2 as payroll software prints it: the IRS box grid with small labels and the values
//! under them. Layout "grid" has Courier values left-aligned; "grid-right" has Helvetica values
//! right-aligned in their boxes and a wider left column.

use rand::Rng;
use rust_decimal::Decimal;

use super::Truth;
use crate::render::{Font, Page};
use crate::values::{self, Rand, fmt_money};

/// Social security wage base for 2024.
const WAGE_BASE: i64 = 168_600;

pub(super) fn draw(layout: usize, rng: &mut Rand) -> (String, Vec<Page>, Truth) {
    let employer = values::company(rng).to_uppercase();
    let employee = values::person(rng).to_uppercase();
    let (era, eea) = (values::address(rng), values::address(rng));
    let ein = values::ein(rng);
    let ssn = values::ssn(rng);
    let gross = values::money(rng, 18_000, 190_000);
    let deferral = (gross * Decimal::new(rng.random_range(0..=10), 2)).round_dp(2);
    let box1 = gross - deferral;
    let box2 = (box1 * Decimal::new(rng.random_range(8..=20), 2)).round_dp(2);
    let box3 = gross.min(Decimal::from(WAGE_BASE));
    let box4 = (box3 * Decimal::new(62, 3)).round_dp(2);
    let box5 = gross;
    let over = (box5 - Decimal::from(200_000)).max(Decimal::ZERO);
    let box6 = (box5 * Decimal::new(145, 4) + over * Decimal::new(9, 3)).round_dp(2);
    let state_tax = (box1 * Decimal::new(rng.random_range(30..=60), 3)).round_dp(2);
    let state_id = format!("{}-{}", rng.random_range(100..999), rng.random_range(10000..99999));

    let mut t = Truth::default();
    t.text("tax_year", "2024");
    t.text("employer_name", &employer);
    t.text("employer_ein", &ein);
    t.text("employee_name", &employee);
    t.text("employee_ssn", &ssn);
    t.money("box1_wages", box1);
    t.money("box2_federal_tax", box2);
    t.money("box3_ss_wages", box3);
    t.money("box4_ss_tax", box4);
    t.money("box5_medicare_wages", box5);
    t.money("box6_medicare_tax", box6);
    t.text("state", &era.state);
    t.money("state_wages", box1);
    t.money("state_tax", state_tax);

    let right_aligned = layout == 1;
    let (label_font, value_font) =
        if right_aligned { (Font::Helvetica, Font::Helvetica) } else { (Font::Helvetica, Font::Courier) };
    let (c0, c1, c2, c3) =
        if right_aligned { (36.0, 316.0, 448.0, 580.0) } else { (40.0, 300.0, 440.0, 580.0) };
    let row = 36.0;
    let mut p = Page::letter();
    // A box: its frame, its label, and its value lines.
    let boxed =
        |p: &mut Page, x0: f32, x1: f32, y: f32, h: f32, label: &str, lines: &[String], money: bool| {
            p.rect(x0, y, x1 - x0, h);
            p.text(x0 + 3.0, y + 9.0, 7.0, label_font, label);
            for (i, line) in lines.iter().enumerate() {
                let baseline = y + 24.0 + 12.0 * i as f32;
                if right_aligned && money {
                    p.text_right(x1 - 6.0, baseline, 10.0, value_font, line);
                } else {
                    p.text(x0 + 6.0, baseline, 10.0, value_font, line);
                }
            }
        };
    let m = |d: Decimal| vec![fmt_money(d)];
    let none: Vec<String> = Vec::new();
    let y0 = 60.0;
    boxed(&mut p, c0, c1, y0, row, "a Employee's social security number", std::slice::from_ref(&ssn), false);
    boxed(&mut p, c1, c3, y0, row, "OMB No. 1545-0008", &none, false);
    let y = y0 + row;
    boxed(
        &mut p,
        c0,
        c1,
        y,
        row,
        "b Employer identification number (EIN)",
        std::slice::from_ref(&ein),
        false,
    );
    boxed(&mut p, c1, c2, y, row, "1 Wages, tips, other compensation", &m(box1), true);
    boxed(&mut p, c2, c3, y, row, "2 Federal income tax withheld", &m(box2), true);
    let y = y + row;
    boxed(
        &mut p,
        c0,
        c1,
        y,
        3.0 * row,
        "c Employer's name, address, and ZIP code",
        &[employer.clone(), era.street.clone(), era.city_line.clone()],
        false,
    );
    boxed(&mut p, c1, c2, y, row, "3 Social security wages", &m(box3), true);
    boxed(&mut p, c2, c3, y, row, "4 Social security tax withheld", &m(box4), true);
    boxed(&mut p, c1, c2, y + row, row, "5 Medicare wages and tips", &m(box5), true);
    boxed(&mut p, c2, c3, y + row, row, "6 Medicare tax withheld", &m(box6), true);
    boxed(&mut p, c1, c2, y + 2.0 * row, row, "7 Social security tips", &none, true);
    boxed(&mut p, c2, c3, y + 2.0 * row, row, "8 Allocated tips", &none, true);
    let y = y + 3.0 * row;
    boxed(
        &mut p,
        c0,
        c1,
        y,
        row,
        "d Control number",
        &[format!("{:06}", rng.random_range(0..999_999))],
        false,
    );
    boxed(&mut p, c1, c2, y, row, "9", &none, true);
    boxed(&mut p, c2, c3, y, row, "10 Dependent care benefits", &none, true);
    let y = y + row;
    boxed(
        &mut p,
        c0,
        c1,
        y,
        2.0 * row,
        "e/f Employee's name, address, and ZIP code",
        &[employee.clone(), eea.street.clone(), eea.city_line.clone()],
        false,
    );
    boxed(&mut p, c1, c2, y, row, "11 Nonqualified plans", &none, true);
    boxed(&mut p, c2, c3, y, row, "12a See instructions for box 12", &none, true);
    boxed(&mut p, c1, c2, y + row, row, "13 Statutory employee", &none, true);
    boxed(&mut p, c2, c3, y + row, row, "14 Other", &none, true);
    let y = y + 2.0 * row;
    boxed(
        &mut p,
        c0,
        c1,
        y,
        row,
        "15 State  Employer's state ID number",
        &[format!("{}  {state_id}", era.state)],
        false,
    );
    boxed(&mut p, c1, c2, y, row, "16 State wages, tips, etc.", &m(box1), true);
    boxed(&mut p, c2, c3, y, row, "17 State income tax", &m(state_tax), true);
    let y = y + row + 24.0;
    p.text(c0, y, 12.0, Font::HelveticaBold, "Form W-2 Wage and Tax Statement 2024");
    p.text(c0, y + 14.0, 8.0, Font::Helvetica, "Copy B - To Be Filed With Employee's FEDERAL Tax Return.");
    p.text(c0, y + 26.0, 8.0, Font::Helvetica, "Department of the Treasury - Internal Revenue Service");
    (if right_aligned { "grid-right" } else { "grid" }.to_string(), vec![p], t)
}
