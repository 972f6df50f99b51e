//! Made-up but plausible values: parties, addresses, amounts, dates and tax ids with valid
//! shapes (EIN prefixes the IRS issues, SSN areas the SSA issues).

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

pub type Rand = ChaCha8Rng;

const COMPANY_STEMS: &[&str] = &[
    "Acme",
    "Blue Ridge",
    "Summit",
    "Harbor",
    "Pioneer",
    "Cedar",
    "Northwind",
    "Lakeside",
    "Granite",
    "Silver Oak",
    "Redwood",
    "Maple Leaf",
    "Evergreen",
    "Coastal",
    "Keystone",
    "Prairie",
    "Beacon",
    "Orchard",
    "Riverbend",
    "Ironwood",
    "Copper Hill",
    "Bright Path",
    "Westfield",
    "Stonebridge",
];
const COMPANY_KINDS: &[&str] = &[
    "Supply Co",
    "Consulting LLC",
    "Industries Inc",
    "Logistics",
    "Partners LLP",
    "Manufacturing Corp",
    "Design Studio",
    "Services Inc",
    "Trading Co",
    "Analytics LLC",
    "Builders",
    "Foods Inc",
];
const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Maria",
    "Daniel",
    "Nancy",
    "Kevin",
    "Laura",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
];
const STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "Highland",
    "River",
    "Church",
];
const STREET_KINDS: &[&str] = &["St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Way"];
const CITIES: &[(&str, &str, &str)] = &[
    ("Springfield", "IL", "62704"),
    ("Madison", "WI", "53703"),
    ("Austin", "TX", "78701"),
    ("Denver", "CO", "80202"),
    ("Portland", "OR", "97205"),
    ("Columbus", "OH", "43215"),
    ("Raleigh", "NC", "27601"),
    ("Sacramento", "CA", "95814"),
    ("Albany", "NY", "12207"),
    ("Phoenix", "AZ", "85004"),
    ("Richmond", "VA", "23219"),
    ("Boise", "ID", "83702"),
];
const PRODUCTS: &[&str] = &[
    "Consulting services",
    "Website maintenance",
    "Office chairs",
    "Printer paper (case)",
    "Network switch",
    "Bookkeeping",
    "Tax preparation",
    "Software license",
    "Delivery fee",
    "Installation labor",
    "Cloud hosting",
    "Project management",
    "Desk lamps",
    "Data backup service",
    "Training session",
    "Monthly retainer",
];
const SHOP_ITEMS: &[&str] = &[
    "COFFEE LG",
    "BAGEL",
    "NOTEBOOK",
    "PENS 12PK",
    "AA BATTERIES",
    "WATER 1L",
    "SANDWICH",
    "SALAD",
    "USB CABLE",
    "TAPE",
    "STAPLER",
    "MUFFIN",
    "ORANGE JUICE",
    "GUM",
];
const MEALS: &[&str] = &[
    "Burger",
    "Caesar Salad",
    "Fish Tacos",
    "Iced Tea",
    "Pasta Primavera",
    "Soup of the Day",
    "Lemonade",
    "Steak Frites",
];
const BANKS: &[&str] = &[
    "First National Bank",
    "Riverside Credit Union",
    "Granite State Bank",
    "Pacific Savings Bank",
    "Heartland Bank & Trust",
];
const PAYEES: &[&str] = &[
    "Payroll Deposit",
    "Grocery Mart",
    "Electric Utility",
    "Online Transfer",
    "ATM Withdrawal",
    "Mobile Deposit",
    "Rent Payment",
    "Gas Station",
    "Insurance Premium",
    "Restaurant",
    "Pharmacy",
    "Interest Payment",
    "Phone Bill",
    "Check 1043",
];

pub fn pick<'a>(rng: &mut Rand, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

pub fn company(rng: &mut Rand) -> String {
    format!("{} {}", pick(rng, COMPANY_STEMS), pick(rng, COMPANY_KINDS))
}

pub fn person(rng: &mut Rand) -> String {
    let initial = (b'A' + rng.random_range(0..26u8)) as char;
    format!("{} {initial} {}", pick(rng, FIRST), pick(rng, LAST))
}

pub fn product(rng: &mut Rand) -> &'static str {
    pick(rng, PRODUCTS)
}

pub fn shop_item(rng: &mut Rand) -> &'static str {
    pick(rng, SHOP_ITEMS)
}

pub fn meal(rng: &mut Rand) -> &'static str {
    pick(rng, MEALS)
}

pub fn bank(rng: &mut Rand) -> &'static str {
    pick(rng, BANKS)
}

pub fn payee(rng: &mut Rand) -> &'static str {
    pick(rng, PAYEES)
}

/// Street line and city line.
pub struct Address {
    pub street: String,
    pub city_line: String,
    pub state: String,
}

pub fn address(rng: &mut Rand) -> Address {
    let (city, state, zip) = CITIES[rng.random_range(0..CITIES.len())];
    Address {
        street: format!("{} {} {}", rng.random_range(10..9999), pick(rng, STREETS), pick(rng, STREET_KINDS)),
        city_line: format!("{city}, {state} {zip}"),
        state: state.to_string(),
    }
}

/// An amount in cents between `lo` and `hi` dollars.
pub fn money(rng: &mut Rand, lo: u32, hi: u32) -> Decimal {
    Decimal::new(rng.random_range(i64::from(lo) * 100..=i64::from(hi) * 100), 2)
}

pub fn date_in(rng: &mut Rand, year: i32) -> NaiveDate {
    let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    start + chrono::Duration::days(rng.random_range(0..360))
}

/// An EIN with a prefix the IRS issues.
pub fn ein(rng: &mut Rand) -> String {
    const PREFIXES: &[u32] =
        &[10, 12, 20, 23, 26, 30, 33, 36, 41, 45, 52, 56, 61, 65, 74, 81, 84, 87, 91, 94];
    format!("{:02}-{:07}", PREFIXES[rng.random_range(0..PREFIXES.len())], rng.random_range(0..10_000_000))
}

/// An SSN in an issued area (001–665, 667–899), group and serial not zero.
pub fn ssn(rng: &mut Rand) -> String {
    let mut area = rng.random_range(1..900);
    if area == 666 {
        area = 667;
    }
    format!("{area:03}-{:02}-{:04}", rng.random_range(1..100), rng.random_range(1..10_000))
}

/// `1,234.56`.
pub fn fmt_money(d: Decimal) -> String {
    let s = format!("{:.2}", d.abs());
    let (whole, cents) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}{grouped}.{cents}", if d.is_sign_negative() && !d.is_zero() { "-" } else { "" })
}

/// How a template prints dates.
#[derive(Clone, Copy, Debug)]
pub enum DateStyle {
    /// 03/07/2025
    Us,
    /// 2025-03-07
    Iso,
    /// March 7, 2025
    Long,
    /// Mar 7, 2025
    Short,
}

pub fn fmt_date(d: NaiveDate, style: DateStyle) -> String {
    match style {
        DateStyle::Us => d.format("%m/%d/%Y").to_string(),
        DateStyle::Iso => d.format("%Y-%m-%d").to_string(),
        DateStyle::Long => d.format("%B %-d, %Y").to_string(),
        DateStyle::Short => d.format("%b %-d, %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn formats_and_shapes() {
        assert_eq!(fmt_money("1234567.5".parse().unwrap()), "1,234,567.50");
        assert_eq!(fmt_money("-45".parse().unwrap()), "-45.00");
        assert_eq!(fmt_money("999.99".parse().unwrap()), "999.99");
        let mut rng = Rand::seed_from_u64(7);
        for _ in 0..200 {
            assert!(domain::TaxId::parse(&ein(&mut rng), None).is_ok());
            assert!(domain::TaxId::parse(&ssn(&mut rng), None).is_ok());
        }
    }
}
