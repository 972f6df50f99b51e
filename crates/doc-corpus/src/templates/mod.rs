//! Document templates: each draws one document from random values in one of several layouts
//! and returns the values it printed (the ground truth).

mod bank;
mod form1099;
mod invoice;
mod receipt;
mod w2;

use std::collections::BTreeMap;

use documents::fields::{DocType, FieldValue};
use rust_decimal::Decimal;

use crate::render::Page;
use crate::values::Rand;

/// A drawn document and its truth.
pub struct Drawn {
    pub layout: String,
    pub pages: Vec<Page>,
    pub fields: BTreeMap<String, FieldValue>,
}

/// Collects the truth as a template prints it.
#[derive(Default)]
pub(crate) struct Truth(BTreeMap<String, FieldValue>);

impl Truth {
    pub fn text(&mut self, key: impl Into<String>, v: impl Into<String>) {
        self.0.insert(key.into(), FieldValue::Text(v.into()));
    }
    pub fn money(&mut self, key: impl Into<String>, v: Decimal) {
        self.0.insert(key.into(), FieldValue::Money(v));
    }
    pub fn number(&mut self, key: impl Into<String>, v: Decimal) {
        self.0.insert(key.into(), FieldValue::Number(v));
    }
    pub fn date(&mut self, key: impl Into<String>, v: chrono::NaiveDate) {
        self.0.insert(key.into(), FieldValue::Date(v));
    }
    pub fn time(&mut self, key: impl Into<String>, v: chrono::NaiveTime) {
        self.0.insert(key.into(), FieldValue::Time(v));
    }
}

/// How many layouts a type has.
pub fn layouts(doc_type: DocType) -> usize {
    match doc_type {
        DocType::Invoice => 3,
        DocType::Receipt | DocType::W2 | DocType::Form1099Nec | DocType::BankStatement => 2,
        DocType::Form1099Misc => 1,
        _ => 0,
    }
}

/// Draws one document of `doc_type` in `layout` (0-based, below [`layouts`]).
pub fn draw(doc_type: DocType, layout: usize, rng: &mut Rand) -> Option<Drawn> {
    let (name, pages, truth) = match doc_type {
        DocType::Invoice => invoice::draw(layout, rng),
        DocType::Receipt => receipt::draw(layout, rng),
        DocType::W2 => w2::draw(layout, rng),
        DocType::Form1099Nec => form1099::draw(false, layout, rng),
        DocType::Form1099Misc => form1099::draw(true, layout, rng),
        DocType::BankStatement => bank::draw(layout, rng),
        _ => return None,
    };
    Some(Drawn { layout: name, pages, fields: truth.0 })
}
