//! Forms 1099-NEC and 1099-MISC: payer, recipient, their TINs and the boxes. (The 1040's tax
//! year uses the same title rule.)

use crate::extract::finder::{Finder, Pattern};
use crate::extract::push;
use crate::extract::w2::tax_year;
use crate::fields::ExtractedField;
use crate::text::DocumentText;

fn parties(doc: &DocumentText, f: &Finder<'_>, form: &str, out: &mut Vec<ExtractedField>) {
    push(out, doc, "tax_year", tax_year(doc, f, &["for calendar year", form, "form 1099"]));
    push(
        out,
        doc,
        "payer_name",
        f.below_label(&["payer's name, street address", "payer's name"], Pattern::Text),
    );
    push(
        out,
        doc,
        "payer_tin",
        f.on_line_or_below(&["payer's tin", "payer's federal identification number"], Pattern::TaxId),
    );
    push(
        out,
        doc,
        "recipient_tin",
        f.on_line_or_below(&["recipient's tin", "recipient's identification number"], Pattern::TaxId),
    );
    push(out, doc, "recipient_name", f.below_label(&["recipient's name"], Pattern::Text));
}

pub fn extract_nec(doc: &DocumentText, f: &Finder<'_>) -> Vec<ExtractedField> {
    let mut out = Vec::new();
    parties(doc, f, "1099-nec", &mut out);
    push(
        &mut out,
        doc,
        "box1_nonemployee_comp",
        f.on_line_or_below(&["nonemployee compensation"], Pattern::Money),
    );
    push(
        &mut out,
        doc,
        "box4_federal_tax",
        f.on_line_or_below(&["federal income tax withheld"], Pattern::Money),
    );
    out
}

pub fn extract_misc(doc: &DocumentText, f: &Finder<'_>) -> Vec<ExtractedField> {
    let mut out = Vec::new();
    parties(doc, f, "1099-misc", &mut out);
    push(&mut out, doc, "box1_rents", f.on_line_or_below(&["rents"], Pattern::Money));
    push(&mut out, doc, "box2_royalties", f.on_line_or_below(&["royalties"], Pattern::Money));
    push(&mut out, doc, "box3_other_income", f.on_line_or_below(&["other income"], Pattern::Money));
    push(
        &mut out,
        doc,
        "box4_federal_tax",
        f.on_line_or_below(&["federal income tax withheld"], Pattern::Money),
    );
    out
}

pub fn extract_tax_year_only(doc: &DocumentText, f: &Finder<'_>) -> Vec<ExtractedField> {
    let mut out = Vec::new();
    push(&mut out, doc, "tax_year", tax_year(doc, f, &["individual income tax return", "form 1040"]));
    out
}
