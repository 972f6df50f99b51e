//! Each syntax and profile, read from small invoices written for these tests (`fixtures/`).
#![allow(clippy::unwrap_used)] // the helpers below are test code too

use chrono::NaiveDate;
use einvoice::{DocumentKind, EInvoiceError, Invoice, Profile, Syntax, parse};
use rust_decimal::Decimal;

fn fixture(name: &str) -> Invoice {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn cii_en16931_reads_every_field() {
    let inv = fixture("cii_en16931.xml");
    assert_eq!((inv.syntax, inv.profile, inv.kind), (Syntax::Cii, Profile::En16931, DocumentKind::Invoice));
    assert_eq!(inv.number, "FX-2026-0042");
    assert_eq!(inv.issue_date, date(2026, 1, 15));
    // The second payment term has the due date.
    assert_eq!(inv.due_date, Some(date(2026, 2, 14)));
    assert_eq!(inv.currency, "CHF");
    assert_eq!(inv.seller.name.as_deref(), Some("Muster Beratung GmbH"));
    assert_eq!(inv.seller.vat_id.as_deref(), Some("DE123456789"));
    assert_eq!(inv.seller.tax_number.as_deref(), Some("201/113/40209"));
    assert_eq!(inv.buyer.name.as_deref(), Some("Käufer & Söhne KG"));
    let t = &inv.totals;
    assert_eq!(t.line_total, Some(d("349.90")));
    assert_eq!(t.net, Some(d("350.00")));
    // The VAT in the invoice's currency, not the tax currency's listed first.
    assert_eq!(t.tax, Some(d("66.50")));
    assert_eq!(t.grand_total, d("416.50"));
    assert_eq!(t.prepaid, Some(d("16.50")));
    assert_eq!(t.due_payable, Some(d("400.00")));
    assert_eq!(inv.lines.len(), 2);
    assert_eq!(inv.lines[0].description, "Beratung (Stunde)");
    assert_eq!(inv.lines[0].quantity, Some(d("2.5")));
    assert_eq!(inv.lines[0].unit_code.as_deref(), Some("HUR"));
    assert_eq!(inv.lines[0].unit_price, Some(d("120.0000")));
    assert_eq!(inv.lines[1].amount, d("49.90"));
    assert_eq!(inv.lines[1].price_base_quantity, Some(d("1")));
    let ac: Vec<_> =
        inv.allowances_charges.iter().map(|a| (a.is_charge, a.amount, a.reason.as_deref())).collect();
    assert_eq!(ac, [(true, d("10.00"), Some("Versand")), (false, d("9.90"), Some("Rabatt"))]);
    assert_eq!(inv.format_name(), "Factur-X/ZUGFeRD EN 16931 (CII)");
}

#[test]
fn cii_minimum_has_no_lines_and_may_be_a_credit_note() {
    let inv = fixture("cii_minimum.xml");
    assert_eq!((inv.profile, inv.kind), (Profile::Minimum, DocumentKind::CreditNote));
    assert_eq!(inv.number, "MIN-7");
    assert_eq!(inv.seller.name.as_deref(), Some("LE FOURNISSEUR"));
    assert_eq!(inv.totals.tax, None);
    assert_eq!(inv.totals.grand_total, d("120.00"));
    assert!(inv.lines.is_empty());
    assert_eq!(inv.format_name(), "Factur-X/ZUGFeRD MINIMUM (CII)");
}

#[test]
fn cii_extended_lists_only_lines_counted_in_the_total() {
    let inv = fixture("cii_extended.xml");
    assert_eq!(inv.profile, Profile::Extended);
    let lines: Vec<_> = inv.lines.iter().map(|l| (l.id.as_deref(), l.amount)).collect();
    assert_eq!(lines, [(Some("1"), d("30.00"))]);
    assert_eq!(inv.totals.line_total, Some(d("30.00")));
}

#[test]
fn zugferd_1_reads_with_the_2014_names() {
    let inv = fixture("zugferd1_basic.xml");
    assert_eq!((inv.syntax, inv.profile), (Syntax::Zugferd1, Profile::Basic));
    assert_eq!(inv.number, "RE-2014/9");
    assert_eq!(inv.issue_date, date(2014, 7, 11));
    assert_eq!(inv.due_date, Some(date(2014, 8, 11)));
    assert_eq!(inv.seller.vat_id.as_deref(), Some("DE999999999"));
    assert_eq!(inv.buyer.name.as_deref(), Some("Neu AG"));
    assert_eq!((inv.totals.net, inv.totals.tax), (Some(d("200.00")), Some(d("38.00"))));
    assert_eq!(inv.lines[0].description, "Luftballon");
    assert_eq!(inv.lines[0].quantity, Some(d("400")));
    assert_eq!(inv.lines[0].unit_price, Some(d("0.5")));
    assert_eq!(inv.format_name(), "ZUGFeRD 1.0 BASIC (CII)");
}

#[test]
fn ubl_invoice_reads_every_field() {
    let inv = fixture("ubl_invoice.xml");
    assert_eq!((inv.syntax, inv.profile, inv.kind), (Syntax::Ubl, Profile::PeppolBis, DocumentKind::Invoice));
    assert_eq!(inv.number, "PEP-1001");
    assert_eq!(inv.type_code.as_deref(), Some("380"));
    assert_eq!((inv.issue_date, inv.due_date), (date(2026, 4, 1), Some(date(2026, 5, 1))));
    // The registered name (BT-27), not the trading name.
    assert_eq!(inv.seller.name.as_deref(), Some("Leverancier B.V."));
    assert_eq!(inv.seller.vat_id.as_deref(), Some("NL123456789B01"));
    assert_eq!(inv.buyer.name.as_deref(), Some("Klant N.V."));
    assert_eq!(inv.totals.tax, Some(d("210.00")), "the EUR TaxTotal, though the SEK one comes first");
    assert_eq!((inv.totals.net, inv.totals.grand_total), (Some(d("1000.00")), d("1210.00")));
    assert_eq!(inv.totals.due_payable, Some(d("1210.00")));
    assert_eq!(inv.lines.len(), 2);
    assert_eq!(inv.lines[0].quantity, Some(d("5")));
    assert_eq!(inv.lines[0].unit_price, Some(d("200.00")));
    assert_eq!(inv.lines[1].description, "Delivery to the 4th floor");
    assert_eq!(inv.allowances_charges[0].amount, d("25.00"));
    assert!(!inv.allowances_charges[0].is_charge);
    assert_eq!(inv.format_name(), "Peppol BIS Billing (UBL)");
}

#[test]
fn ubl_credit_note_takes_its_due_date_from_the_payment_means() {
    let inv = fixture("ubl_credit_note.xml");
    assert_eq!((inv.profile, inv.kind), (Profile::XRechnung, DocumentKind::CreditNote));
    assert_eq!(inv.due_date, Some(date(2026, 7, 15)));
    assert_eq!(inv.seller.tax_number.as_deref(), Some("12/345/67890"));
    assert_eq!(inv.seller.vat_id, None);
    assert_eq!(inv.buyer.name.as_deref(), Some("Amt für Beispiele"));
    assert_eq!(inv.lines[0].quantity, Some(d("2")));
    assert_eq!(inv.lines[0].unit_code.as_deref(), Some("HUR"));
    assert_eq!(inv.format_name(), "XRechnung (UBL)");
}

#[test]
fn the_typed_invoice_round_trips_through_json() {
    let inv = fixture("cii_en16931.xml");
    let json = serde_json::to_string(&inv).unwrap();
    assert_eq!(serde_json::from_str::<Invoice>(&json).unwrap(), inv);
}

#[test]
fn other_xml_and_broken_invoices_are_refused_with_the_reason() {
    let refused = |xml: &str| parse(xml.as_bytes()).unwrap_err();
    assert!(matches!(refused("<invoice><total>3</total>"), EInvoiceError::Xml(_)));
    assert!(matches!(
        refused("<svg xmlns='http://www.w3.org/2000/svg'/>"),
        EInvoiceError::NotAnInvoice { root, .. } if root == "svg"
    ));
    assert!(matches!(parse(b"\xff\xfe<\0"), Err(EInvoiceError::NotUtf8)));
    let ubl =
        std::fs::read_to_string(format!("{}/tests/fixtures/ubl_invoice.xml", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let no_total =
        ubl.replace("<cbc:TaxInclusiveAmount currencyID=\"EUR\">1210.00</cbc:TaxInclusiveAmount>", "");
    assert!(matches!(refused(&no_total), EInvoiceError::Missing { what: "grand total", .. }));
    let bad_amount = ubl.replace(">1210.00</cbc:TaxInclusiveAmount>", ">1.210,00</cbc:TaxInclusiveAmount>");
    let e = refused(&bad_amount);
    assert!(matches!(e, EInvoiceError::BadAmount { .. }), "{e}");
    let bad_date = ubl.replace("2026-04-01", "01.04.2026");
    assert!(matches!(refused(&bad_date), EInvoiceError::BadDate { .. }));
}
