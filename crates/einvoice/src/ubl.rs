//! OASIS UBL 2.1 `Invoice` and `CreditNote`, as Peppol BIS Billing 3 and XRechnung UBL use
//! them. The two roots differ only in a few names (`InvoiceLine` / `CreditNoteLine`,
//! `InvoicedQuantity` / `CreditedQuantity`, the due date's place): each path lists both.

use roxmltree::Node;

use crate::error::EInvoiceError;
use crate::model::{AllowanceCharge, DocumentKind, Invoice, Line, Party, Profile, Syntax, Totals};
use crate::xml::{all, amount, amount_of, at, children, date, required_text, text};

pub const NS_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
pub const NS_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";

/// Reads a UBL document whose root is in [`NS_INVOICE`] or [`NS_CREDIT_NOTE`].
pub fn read(root: Node<'_, '_>, kind: DocumentKind) -> Result<Invoice, EInvoiceError> {
    let guideline = text(root, "CustomizationID");
    let profile = guideline.as_deref().map_or(Profile::Other, Profile::from_guideline);
    let number = required_text(root, "ID", "invoice number")?;
    let issue_date =
        date(root, "IssueDate")?.ok_or(EInvoiceError::Missing { what: "issue date", path: "IssueDate" })?;
    // An Invoice has its own DueDate; a CreditNote only the payment means' (BT-9 either way).
    let due_date = match date(root, "DueDate")? {
        Some(d) => Some(d),
        None => all(root, "PaymentMeans")
            .into_iter()
            .map(|m| date(m, "PaymentDueDate"))
            .find_map(Result::transpose)
            .transpose()?,
    };
    let currency = required_text(root, "DocumentCurrencyCode", "currency")?;
    let seller = at(root, "AccountingSupplierParty/Party").map(party).unwrap_or_default();
    if seller.name.is_none() {
        return Err(EInvoiceError::Missing {
            what: "seller name",
            path: "AccountingSupplierParty/Party/PartyLegalEntity/RegistrationName",
        });
    }
    let buyer = at(root, "AccountingCustomerParty/Party").map(party).unwrap_or_default();

    let sums = at(root, "LegalMonetaryTotal")
        .ok_or(EInvoiceError::Missing { what: "totals", path: "LegalMonetaryTotal" })?;
    let grand_total = amount(sums, "TaxInclusiveAmount")?.ok_or(EInvoiceError::Missing {
        what: "grand total",
        path: "LegalMonetaryTotal/TaxInclusiveAmount",
    })?;
    let totals = Totals {
        line_total: amount(sums, "LineExtensionAmount")?,
        allowance_total: amount(sums, "AllowanceTotalAmount")?,
        charge_total: amount(sums, "ChargeTotalAmount")?,
        net: amount(sums, "TaxExclusiveAmount")?,
        tax: match tax_total_in(root, &currency)? {
            Some(tax) => Some(tax),
            None => amount(root, "TaxTotal/TaxAmount")?,
        },
        grand_total,
        prepaid: amount(sums, "PrepaidAmount")?,
        due_payable: amount(sums, "PayableAmount")?,
    };
    let allowances_charges =
        children(root, "AllowanceCharge").map(allowance_charge).collect::<Result<Vec<_>, _>>()?;
    let lines = children(root, "InvoiceLine|CreditNoteLine").map(line).collect::<Result<Vec<_>, _>>()?;
    Ok(Invoice {
        syntax: Syntax::Ubl,
        profile,
        guideline,
        kind,
        type_code: text(root, "InvoiceTypeCode|CreditNoteTypeCode"),
        number,
        issue_date,
        due_date,
        currency,
        seller,
        buyer,
        totals,
        allowances_charges,
        lines,
    })
}

/// The VAT total in the invoice's currency: with a tax currency of its own, the invoice has a
/// `TaxTotal` per currency (BT-110 and BT-111), in either order.
fn tax_total_in(root: Node<'_, '_>, currency: &str) -> Result<Option<rust_decimal::Decimal>, EInvoiceError> {
    children(root, "TaxTotal")
        .filter_map(|t| at(t, "TaxAmount"))
        .find(|a| a.attribute("currencyID").is_some_and(|c| c.trim() == currency))
        .map(|a| amount_of(a, "TaxTotal/TaxAmount"))
        .transpose()
}

fn party(node: Node<'_, '_>) -> Party {
    let scheme = |s: Node<'_, '_>| text(s, "TaxScheme/ID").unwrap_or_default();
    let schemes: Vec<Node<'_, '_>> = children(node, "PartyTaxScheme").collect();
    let vat_id =
        schemes.iter().find(|s| scheme(**s).eq_ignore_ascii_case("VAT")).and_then(|s| text(*s, "CompanyID"));
    let tax_number =
        schemes.iter().find(|s| !scheme(**s).eq_ignore_ascii_case("VAT")).and_then(|s| text(*s, "CompanyID"));
    Party {
        name: text(node, "PartyLegalEntity/RegistrationName").or_else(|| text(node, "PartyName/Name")),
        vat_id,
        tax_number,
    }
}

fn allowance_charge(node: Node<'_, '_>) -> Result<AllowanceCharge, EInvoiceError> {
    let is_charge = text(node, "ChargeIndicator").is_some_and(|t| t.eq_ignore_ascii_case("true"));
    let value = amount(node, "Amount")?.ok_or(EInvoiceError::Missing {
        what: "allowance or charge amount",
        path: "AllowanceCharge/Amount",
    })?;
    Ok(AllowanceCharge { is_charge, amount: value, reason: text(node, "AllowanceChargeReason") })
}

fn line(node: Node<'_, '_>) -> Result<Line, EInvoiceError> {
    let quantity = at(node, "InvoicedQuantity|CreditedQuantity");
    let net = amount(node, "LineExtensionAmount")?
        .ok_or(EInvoiceError::Missing { what: "line amount", path: "InvoiceLine/LineExtensionAmount" })?;
    Ok(Line {
        id: text(node, "ID"),
        description: text(node, "Item/Name").or_else(|| text(node, "Item/Description")).unwrap_or_default(),
        quantity: quantity.map(|q| amount_of(q, "InvoiceLine/InvoicedQuantity")).transpose()?,
        unit_code: quantity.and_then(|q| q.attribute("unitCode")).map(str::to_string),
        unit_price: amount(node, "Price/PriceAmount")?,
        price_base_quantity: amount(node, "Price/BaseQuantity")?,
        amount: net,
    })
}
