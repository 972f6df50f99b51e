//! The typed invoice both syntaxes are read into. Money is `Decimal` as written in the XML (no
//! rounding); names follow EN 16931's business terms (BT-…) where one exists.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The XML syntax the invoice was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Syntax {
    /// UN/CEFACT Cross Industry Invoice (D16B, as Factur-X/ZUGFeRD 2 and XRechnung CII use it).
    Cii,
    /// ZUGFeRD 1.0's `CrossIndustryDocument` (the CII of 2014).
    Zugferd1,
    /// OASIS UBL 2.1 `Invoice` or `CreditNote`.
    Ubl,
}

/// The profile (CII guideline, UBL customization) the invoice declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Minimum,
    BasicWl,
    Basic,
    /// ZUGFeRD 1.0 COMFORT.
    Comfort,
    En16931,
    Extended,
    XRechnung,
    PeppolBis,
    /// A guideline we do not name (read like EN 16931).
    Other,
}

impl Profile {
    /// The profile a guideline or customization identifier names. Checked from the most
    /// specific: XRechnung and Peppol identifiers start with EN 16931's, Factur-X's with it too.
    pub fn from_guideline(id: &str) -> Profile {
        let id = id.trim().to_ascii_lowercase();
        if id.contains("xrechnung") {
            Profile::XRechnung
        } else if id.contains("peppol") {
            Profile::PeppolBis
        } else if id.contains("minimum") {
            Profile::Minimum
        } else if id.contains("basicwl") {
            Profile::BasicWl
        } else if id.contains("extended") {
            Profile::Extended
        } else if id.contains("comfort") {
            Profile::Comfort
        } else if id.ends_with("basic") {
            Profile::Basic
        } else if id.starts_with("urn:cen.eu:en16931:2017") {
            Profile::En16931
        } else {
            Profile::Other
        }
    }
}

/// Invoice or credit note (CII type code 381/396, UBL `CreditNote`). Amounts are kept as
/// written: a credit note's are positive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

/// A seller or buyer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// BT-27 / BT-44: the registered name (UBL falls back to the trading name).
    pub name: Option<String>,
    /// BT-31 / BT-48: the VAT identifier (`DE123456789`).
    pub vat_id: Option<String>,
    /// BT-32: a national tax registration number (the German Steuernummer).
    pub tax_number: Option<String>,
}

/// Document totals (BG-22).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// BT-106: the sum of the lines' net amounts.
    pub line_total: Option<Decimal>,
    /// BT-107 / BT-108: document-level allowances and charges.
    pub allowance_total: Option<Decimal>,
    pub charge_total: Option<Decimal>,
    /// BT-109: the total without VAT.
    pub net: Option<Decimal>,
    /// BT-110: the VAT, in the invoice's currency.
    pub tax: Option<Decimal>,
    /// BT-112: the total with VAT.
    pub grand_total: Decimal,
    /// BT-113: paid in advance.
    pub prepaid: Option<Decimal>,
    /// BT-115: what is left to pay.
    pub due_payable: Option<Decimal>,
}

/// A document-level allowance (a discount) or charge (freight, packing): part of the net
/// total but of no line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowanceCharge {
    pub is_charge: bool,
    /// Positive as written; an allowance lowers the net total.
    pub amount: Decimal,
    pub reason: Option<String>,
}

/// An invoice line (BG-25). Sub-lines and informational lines of the EXTENDED profile are not
/// listed: their amounts are inside their parent's or in none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub id: Option<String>,
    /// The item's name (BT-153), or its description when it has no name.
    pub description: String,
    pub quantity: Option<Decimal>,
    /// UN/ECE rec. 20 unit (`C62` piece, `HUR` hour).
    pub unit_code: Option<String>,
    /// BT-146: the net price of `price_base_quantity` units (of one unit when absent).
    pub unit_price: Option<Decimal>,
    pub price_base_quantity: Option<Decimal>,
    /// BT-131: the line's net amount.
    pub amount: Decimal,
}

/// An e-invoice, as its XML says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub syntax: Syntax,
    pub profile: Profile,
    /// The guideline (CII) or customization (UBL) identifier as written.
    pub guideline: Option<String>,
    pub kind: DocumentKind,
    /// BT-3: 380 commercial invoice, 381 credit note, 384 corrected invoice …
    pub type_code: Option<String>,
    /// BT-1.
    pub number: String,
    /// BT-2.
    pub issue_date: NaiveDate,
    /// BT-9.
    pub due_date: Option<NaiveDate>,
    /// BT-5: ISO 4217.
    pub currency: String,
    pub seller: Party,
    pub buyer: Party,
    pub totals: Totals,
    pub allowances_charges: Vec<AllowanceCharge>,
    pub lines: Vec<Line>,
}

impl Invoice {
    /// "Factur-X/ZUGFeRD EN 16931 (CII)", "XRechnung (UBL)" …: what a person calls this format.
    pub fn format_name(&self) -> String {
        let family = match (self.syntax, self.profile) {
            (Syntax::Zugferd1, _) => "ZUGFeRD 1.0",
            (_, Profile::XRechnung) => "XRechnung",
            (_, Profile::PeppolBis) => "Peppol BIS Billing",
            (Syntax::Cii, _) => "Factur-X/ZUGFeRD",
            (Syntax::Ubl, _) => "UBL",
        };
        let profile = match self.profile {
            Profile::Minimum => Some("MINIMUM"),
            Profile::BasicWl => Some("BASIC WL"),
            Profile::Basic => Some("BASIC"),
            Profile::Comfort => Some("COMFORT"),
            Profile::En16931 => Some("EN 16931"),
            Profile::Extended => Some("EXTENDED"),
            Profile::XRechnung | Profile::PeppolBis | Profile::Other => None,
        };
        let syntax = match self.syntax {
            Syntax::Cii | Syntax::Zugferd1 => "CII",
            Syntax::Ubl => "UBL",
        };
        match profile {
            Some(p) => format!("{family} {p} ({syntax})"),
            None => format!("{family} ({syntax})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guidelines_name_their_profiles() {
        let cases = [
            ("urn:factur-x.eu:1p0:minimum", Profile::Minimum),
            ("urn:factur-x.eu:1p0:basicwl", Profile::BasicWl),
            ("urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic", Profile::Basic),
            ("urn:cen.eu:en16931:2017", Profile::En16931),
            ("urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended", Profile::Extended),
            ("urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0", Profile::XRechnung),
            (
                "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
                Profile::PeppolBis,
            ),
            ("urn:ferd:CrossIndustryDocument:invoice:1p0:comfort", Profile::Comfort),
            ("urn:ferd:CrossIndustryDocument:invoice:1p0:basic", Profile::Basic),
            ("something else", Profile::Other),
        ];
        for (id, profile) in cases {
            assert_eq!(Profile::from_guideline(id), profile, "{id}");
        }
    }
}
