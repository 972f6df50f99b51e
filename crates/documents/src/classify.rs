//! The "classify" step: which of our document types a text is, with a confidence.
//!
//! Weighted cues (form titles weigh most, typical labels less; in English, French, German, Dutch
//! and Spanish), each counted once, matched on lower-cased text with spacing normalised so OCR
//! line breaks and double spaces do not matter. A cue may weigh against its type: "tax invoice"
//! heads many receipts, so it takes back most of what the word "invoice" gave.
//! A transparent scorer rather than a model: the types are few, their titles distinctive, and a
//! reviewer can see why a document was classified the way it was ([`Classification::cues`]).

use serde::{Deserialize, Serialize};

use crate::fields::DocType;
use crate::text::DocumentText;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub doc_type: DocType,
    /// 0–1.
    pub confidence: f32,
    /// The cues that matched for the chosen type.
    pub cues: Vec<String>,
}

/// Below this score nothing is recognised and the document is `general`.
const MIN_SCORE: f32 = 3.0;

const CUES: &[(DocType, &[(&str, f32)])] = &[
    (
        DocType::W2,
        &[
            ("wage and tax statement", 6.0),
            ("form w-2", 4.0),
            ("w-2", 2.0),
            ("social security wages", 3.0),
            ("medicare wages and tips", 3.0),
            ("employer identification number", 2.0),
            ("employee's social security number", 2.0),
            ("federal income tax withheld", 1.0),
        ],
    ),
    (
        DocType::Form1099Nec,
        &[
            ("1099-nec", 6.0),
            ("nonemployee compensation", 5.0),
            ("payer's tin", 1.0),
            ("recipient's tin", 1.0),
            ("payer's name", 1.0),
        ],
    ),
    (
        DocType::Form1099Misc,
        &[
            ("1099-misc", 6.0),
            ("miscellaneous information", 4.0),
            ("miscellaneous income", 4.0),
            ("royalties", 2.0),
            ("rents", 1.0),
            ("payer's tin", 1.0),
            ("recipient's tin", 1.0),
        ],
    ),
    (
        DocType::Invoice,
        &[
            ("invoice", 4.0),
            ("invoice number", 3.0),
            ("invoice #", 3.0),
            ("invoice no", 3.0),
            ("invoice date", 2.0),
            ("bill to", 2.0),
            ("due date", 2.0),
            ("amount due", 2.0),
            ("balance due", 2.0),
            ("payment terms", 1.0),
            ("unit price", 1.0),
            // A "tax invoice" is what receipts print in many countries: it says little.
            ("tax invoice", -3.0),
            ("rechnung", 4.0),
            ("handelsrechnung", 4.0),
            ("rechnungsnummer", 3.0),
            ("rechnungsdatum", 2.0),
            ("bruttosumme", 2.0),
            ("facture", 4.0),
            ("n° de facture", 3.0),
            ("date de facture", 2.0),
            ("total ttc", 2.0),
            ("net à payer", 2.0),
            ("net a payer", 2.0),
            ("factuur", 4.0),
            ("factuurnummer", 3.0),
            ("factuurdatum", 2.0),
            ("factura", 4.0),
            ("número de factura", 3.0),
            ("fecha de factura", 2.0),
        ],
    ),
    (
        DocType::Receipt,
        &[
            ("receipt", 4.0),
            ("thank you", 1.5),
            ("cashier", 2.0),
            ("register", 1.5),
            ("change", 1.0),
            ("tip", 1.0),
            ("visa", 1.5),
            ("mastercard", 1.5),
            ("approved", 1.5),
            ("auth", 1.0),
            ("card #", 1.0),
            ("server", 1.5),
            ("customer copy", 2.0),
            ("guest check", 2.0),
            ("tax invoice", 1.0),
            ("rounding", 1.5),
            ("cash tendered", 2.0),
            ("ticket", 1.5),
            ("kassenbon", 4.0),
            ("ticket de caisse", 4.0),
            ("kassabon", 4.0),
            ("recibo", 4.0),
        ],
    ),
    (
        DocType::BankStatement,
        &[
            ("statement period", 4.0),
            ("account statement", 3.0),
            ("beginning balance", 3.0),
            ("opening balance", 3.0),
            ("ending balance", 3.0),
            ("closing balance", 3.0),
            ("deposits", 1.0),
            ("withdrawals", 1.0),
            ("account number", 1.0),
            ("bank", 1.0),
        ],
    ),
    (
        DocType::TaxReturn1040,
        &[
            ("form 1040", 6.0),
            ("individual income tax return", 5.0),
            ("filing status", 3.0),
            ("adjusted gross income", 3.0),
            ("taxable income", 1.0),
        ],
    ),
];

fn normalize(text: &str) -> String {
    let lower = text.to_lowercase().replace('’', "'");
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `cue` occurs in `text` at word boundaries.
fn contains_cue(text: &str, cue: &str) -> bool {
    text.match_indices(cue).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + cue.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Classifies a document's text.
pub fn classify(doc: &DocumentText) -> Classification {
    let text = normalize(&doc.text);
    let mut scored: Vec<(DocType, f32, Vec<String>)> = CUES
        .iter()
        .map(|(doc_type, cues)| {
            let hits: Vec<&(&str, f32)> = cues.iter().filter(|(cue, _)| contains_cue(&text, cue)).collect();
            (*doc_type, hits.iter().map(|(_, w)| w).sum(), hits.iter().map(|(c, _)| c.to_string()).collect())
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best_type, best, cues) = scored[0].clone();
    let second = scored.get(1).map_or(0.0, |s| s.1);
    if best < MIN_SCORE {
        return Classification { doc_type: DocType::General, confidence: 0.5, cues: Vec::new() };
    }
    // Strength grows with the evidence; the margin over the runner-up discounts ambiguity.
    let strength = 1.0 - (-best / 4.0).exp();
    let margin = (best - second) / best;
    let confidence = (strength * (0.6 + 0.4 * margin)).clamp(0.0, 1.0);
    Classification { doc_type: best_type, confidence, cues }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> DocumentText {
        DocumentText { text: text.into(), ..Default::default() }
    }

    #[test]
    fn recognises_each_type_by_its_cues() {
        let w2 = classify(&doc(
            "Form W-2 Wage and Tax Statement 2023\n3 Social security wages  5 Medicare wages and tips",
        ));
        assert_eq!(w2.doc_type, DocType::W2);
        assert!(w2.confidence > 0.9, "{w2:?}");
        assert_eq!(
            classify(&doc("Form 1099-NEC\n1 Nonemployee compensation\nPAYER'S TIN")).doc_type,
            DocType::Form1099Nec
        );
        assert_eq!(
            classify(&doc("Form 1099-MISC Miscellaneous Information\n1 Rents 2 Royalties")).doc_type,
            DocType::Form1099Misc
        );
        assert_eq!(
            classify(&doc("INVOICE\nInvoice #: 12\nBill To: X\nAmount Due 12.00")).doc_type,
            DocType::Invoice
        );
        assert_eq!(
            classify(&doc("CORNER CAFE\nSALES RECEIPT\nCashier: Amy\nVISA **** 1234 APPROVED")).doc_type,
            DocType::Receipt
        );
        assert_eq!(
            classify(&doc("First Bank\nStatement Period 01/01/2024 - 01/31/2024\nBeginning Balance 10.00\nEnding Balance 5.00")).doc_type,
            DocType::BankStatement
        );
        assert_eq!(
            classify(&doc("Form 1040 U.S. Individual Income Tax Return\nFiling Status")).doc_type,
            DocType::TaxReturn1040
        );
        let general = classify(&doc("Dear client, please find the minutes of our meeting."));
        assert_eq!((general.doc_type, general.confidence), (DocType::General, 0.5));
    }

    #[test]
    fn invoices_in_other_languages_and_receipts_titled_tax_invoice() {
        for text in [
            "Rechnung Nr. 7\nRechnungsdatum: 05.03.2018\nBruttosumme 529,87",
            "Facture n° 2022089083\nDate : 28/11/2022\nTotal TTC : 56,02 €",
            "FACTUUR.\nFactuurnummer: 993548900\nFactuurdatum: 19 april 2014",
            "Factura\nNúmero de factura: 17\nFecha de factura: 03/02/2024",
        ] {
            assert_eq!(classify(&doc(text)).doc_type, DocType::Invoice, "{text}");
        }
        let receipt = "KEDAI RUNCIT MAJU\nTAX INVOICE\nCashier: Amy\n2 x Milo  RM 7.70\nRounding  0.00\nTotal  RM 17.45\nChange  RM 2.55";
        assert_eq!(classify(&doc(receipt)).doc_type, DocType::Receipt);
        let b2b = "TAX INVOICE\nInvoice No: 17\nBill To: Globex\nDue Date: 03/02/2024\nAmount Due 12.00";
        assert_eq!(classify(&doc(b2b)).doc_type, DocType::Invoice);
    }

    #[test]
    fn cues_match_whole_words_only() {
        assert!(!contains_cue("multiple", "tip"));
        assert!(contains_cue("tip: 2.00", "tip"));
    }
}
