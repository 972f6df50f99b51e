//! UN/CEFACT Cross Industry Invoice: Factur-X/ZUGFeRD 2 (MINIMUM to EXTENDED) and XRechnung CII
//! (`rsm:CrossIndustryInvoice`, D16B), and ZUGFeRD 1.0 (`rsm:CrossIndustryDocument`). The two
//! generations name the same things differently (`ExchangedDocument` / `HeaderExchangedDocument`,
//! `ApplicableHeaderTradeSettlement` / `ApplicableSupplyChainTradeSettlement` …): each path below
//! lists both.

use roxmltree::Node;

use crate::error::EInvoiceError;
use crate::model::{AllowanceCharge, DocumentKind, Invoice, Line, Party, Profile, Syntax, Totals};
use crate::xml::{all, amount, amount_in, amount_of, at, children, date, date_of, required_text, text};

pub const NS_D16B: &str = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";
pub const NS_ZUGFERD1: &str = "urn:ferd:CrossIndustryDocument:invoice:1p0";

const CONTEXT: &str = "ExchangedDocumentContext|SpecifiedExchangedDocumentContext";
const HEADER: &str = "ExchangedDocument|HeaderExchangedDocument";
const TRANSACTION: &str = "SupplyChainTradeTransaction|SpecifiedSupplyChainTradeTransaction";
const AGREEMENT: &str = "ApplicableHeaderTradeAgreement|ApplicableSupplyChainTradeAgreement";
const SETTLEMENT: &str = "ApplicableHeaderTradeSettlement|ApplicableSupplyChainTradeSettlement";
const SUMMATION: &str =
    "SpecifiedTradeSettlementHeaderMonetarySummation|SpecifiedTradeSettlementMonetarySummation";

/// Reads a CII document whose root is in [`NS_D16B`] or [`NS_ZUGFERD1`].
pub fn read(root: Node<'_, '_>, syntax: Syntax) -> Result<Invoice, EInvoiceError> {
    let guideline = at(root, CONTEXT).and_then(|c| text(c, "GuidelineSpecifiedDocumentContextParameter/ID"));
    let profile = guideline.as_deref().map_or(Profile::Other, Profile::from_guideline);
    let header = at(root, HEADER).ok_or(EInvoiceError::Missing { what: "document header", path: HEADER })?;
    let number = required_text(header, "ID", "invoice number")?;
    let issued = required_text(header, "IssueDateTime/DateTimeString", "issue date")?;
    let issue_date = date_of(&issued, "ExchangedDocument/IssueDateTime")?;
    let type_code = text(header, "TypeCode");
    // 381 credit note, 396 factored credit note (UNTDID 1001).
    let kind = match type_code.as_deref() {
        Some("381" | "396") => DocumentKind::CreditNote,
        _ => DocumentKind::Invoice,
    };

    let trade = at(root, TRANSACTION)
        .ok_or(EInvoiceError::Missing { what: "trade transaction", path: TRANSACTION })?;
    let agreement = at(trade, AGREEMENT);
    let settlement =
        at(trade, SETTLEMENT).ok_or(EInvoiceError::Missing { what: "settlement", path: SETTLEMENT })?;
    let currency = required_text(settlement, "InvoiceCurrencyCode", "currency")?;
    let seller = agreement.and_then(|a| at(a, "SellerTradeParty")).map(party).unwrap_or_default();
    if seller.name.is_none() {
        return Err(EInvoiceError::Missing { what: "seller name", path: "SellerTradeParty/Name" });
    }
    let buyer = agreement.and_then(|a| at(a, "BuyerTradeParty")).map(party).unwrap_or_default();

    let sums = at(settlement, SUMMATION).ok_or(EInvoiceError::Missing { what: "totals", path: SUMMATION })?;
    let grand_total = amount(sums, "GrandTotalAmount")?
        .ok_or(EInvoiceError::Missing { what: "grand total", path: "GrandTotalAmount" })?;
    let totals = Totals {
        line_total: amount(sums, "LineTotalAmount")?,
        allowance_total: amount(sums, "AllowanceTotalAmount")?,
        charge_total: amount(sums, "ChargeTotalAmount")?,
        net: amount(sums, "TaxBasisTotalAmount")?,
        tax: amount_in(sums, "TaxTotalAmount", &currency)?,
        grand_total,
        prepaid: amount(sums, "TotalPrepaidAmount")?,
        due_payable: amount(sums, "DuePayableAmount")?,
    };
    let due_date = all(settlement, "SpecifiedTradePaymentTerms")
        .into_iter()
        .map(|terms| date(terms, "DueDateDateTime/DateTimeString"))
        .find_map(Result::transpose)
        .transpose()?;
    let allowances_charges = children(settlement, "SpecifiedTradeAllowanceCharge")
        .map(allowance_charge)
        .collect::<Result<Vec<_>, _>>()?;
    let lines = children(trade, "IncludedSupplyChainTradeLineItem")
        .filter(|l| counts(*l))
        .map(line)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Invoice {
        syntax,
        profile,
        guideline,
        kind,
        type_code,
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

fn party(node: Node<'_, '_>) -> Party {
    let registration = |scheme: &str| {
        children(node, "SpecifiedTaxRegistration")
            .filter_map(|r| at(r, "ID"))
            .find(|id| id.attribute("schemeID").is_some_and(|s| s.trim() == scheme))
            .and_then(crate::xml::text_of)
    };
    Party { name: text(node, "Name"), vat_id: registration("VA"), tax_number: registration("FC") }
}

fn allowance_charge(node: Node<'_, '_>) -> Result<AllowanceCharge, EInvoiceError> {
    const PATH: &str = "SpecifiedTradeAllowanceCharge/ActualAmount";
    let is_charge = text(node, "ChargeIndicator/Indicator").is_some_and(|t| t.eq_ignore_ascii_case("true"));
    let amount_node = at(node, "ActualAmount")
        .ok_or(EInvoiceError::Missing { what: "allowance or charge amount", path: PATH })?;
    Ok(AllowanceCharge { is_charge, amount: amount_of(amount_node, PATH)?, reason: text(node, "Reason") })
}

/// Whether a line's amount is part of the line total: EXTENDED's sub-lines (a `ParentLineID`)
/// are inside their parent's amount, and `INFORMATION` lines are in none.
fn counts(line: Node<'_, '_>) -> bool {
    let doc = at(line, "AssociatedDocumentLineDocument");
    let sub_line = doc.is_some_and(|d| text(d, "ParentLineID").is_some());
    let information = doc
        .and_then(|d| text(d, "LineStatusReasonCode"))
        .is_some_and(|c| c.eq_ignore_ascii_case("INFORMATION"));
    !sub_line && !information
}

fn line(node: Node<'_, '_>) -> Result<Line, EInvoiceError> {
    const AGREEMENT: &str = "SpecifiedLineTradeAgreement|SpecifiedSupplyChainTradeAgreement";
    const DELIVERY: &str = "SpecifiedLineTradeDelivery|SpecifiedSupplyChainTradeDelivery";
    const SETTLEMENT: &str = "SpecifiedLineTradeSettlement|SpecifiedSupplyChainTradeSettlement";
    const SUM: &str =
        "SpecifiedTradeSettlementLineMonetarySummation|SpecifiedTradeSettlementMonetarySummation";
    let product = at(node, "SpecifiedTradeProduct");
    let description =
        product.and_then(|p| text(p, "Name").or_else(|| text(p, "Description"))).unwrap_or_default();
    let price = at(node, AGREEMENT).and_then(|a| at(a, "NetPriceProductTradePrice"));
    let quantity = at(node, DELIVERY).and_then(|d| at(d, "BilledQuantity"));
    let sum = at(node, SETTLEMENT)
        .and_then(|s| at(s, SUM))
        .and_then(|s| at(s, "LineTotalAmount"))
        .ok_or(EInvoiceError::Missing { what: "line amount", path: "LineTotalAmount" })?;
    Ok(Line {
        id: text(node, "AssociatedDocumentLineDocument/LineID"),
        description,
        quantity: quantity.map(|q| amount_of(q, "BilledQuantity")).transpose()?,
        unit_code: quantity.and_then(|q| q.attribute("unitCode")).map(str::to_string),
        unit_price: price.map(|p| amount(p, "ChargeAmount")).transpose()?.flatten(),
        price_base_quantity: price.map(|p| amount(p, "BasisQuantity")).transpose()?.flatten(),
        amount: amount_of(sum, "LineTotalAmount")?,
    })
}
