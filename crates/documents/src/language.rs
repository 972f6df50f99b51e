//! The language a document is written in, among those we read labels in.
//!
//! `whatlang` (trigram statistics, no model files) limited to our five languages: invoices are
//! short and full of numbers and names, and choosing among five is far more reliable than among
//! seventy. When it is unsure (a few lines of text), the language whose own short words
//! (articles, pronouns, prepositions no other of the five shares) occur most decides, or none
//! does: an unsure guess would decide which way dates read. The language decides which way a
//! numeric date reads when the page does not, and which Tesseract language data recognises a
//! scan.

use serde::{Deserialize, Serialize};
use whatlang::{Detector, Lang};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Fr,
    De,
    Nl,
    Es,
}

/// Our languages with their `whatlang` and Tesseract names.
const LANGUAGES: [(Language, Lang, &str); 5] = [
    (Language::En, Lang::Eng, "eng"),
    (Language::Fr, Lang::Fra, "fra"),
    (Language::De, Lang::Deu, "deu"),
    (Language::Nl, Lang::Nld, "nld"),
    (Language::Es, Lang::Spa, "spa"),
];

/// Below this `whatlang` confidence the language is left unknown (a page of numbers and names).
const MIN_CONFIDENCE: f64 = 0.1;

/// How much text is enough to tell (detection is linear in the text).
const SAMPLE_CHARS: usize = 6_000;

impl Language {
    /// ISO 639-1.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
            Language::De => "de",
            Language::Nl => "nl",
            Language::Es => "es",
        }
    }

    /// The name of the language's Tesseract data (`deu` for `deu.traineddata`).
    pub fn tesseract(self) -> &'static str {
        LANGUAGES.iter().find(|l| l.0 == self).map_or("eng", |l| l.2)
    }

    /// Every language we read, English first.
    pub fn all() -> impl Iterator<Item = Language> {
        LANGUAGES.iter().map(|l| l.0)
    }
}

/// Short words only one of our languages uses.
const OWN_WORDS: [(Language, &[&str]); 5] = [
    (Language::En, &["the", "and", "of", "to", "for", "you", "your", "with", "this", "please", "thank"]),
    (
        Language::Fr,
        &["le", "les", "des", "du", "et", "à", "pour", "vous", "votre", "une", "sur", "au", "aux"],
    ),
    (
        Language::De,
        &["der", "die", "das", "und", "ist", "mit", "für", "nicht", "sie", "wir", "bei", "zum", "zur", "vom"],
    ),
    (
        Language::Nl,
        &["het", "een", "en", "je", "niet", "voor", "met", "bij", "uw", "ik", "wel", "nodig", "altijd"],
    ),
    (Language::Es, &["el", "los", "las", "del", "y", "por", "para", "con", "su", "gracias", "una"]),
];

/// The language whose own words occur most, when it has at least one and twice the runner-up's.
fn by_own_words(sample: &str) -> Option<Language> {
    let words: Vec<String> = sample.split_whitespace().map(str::to_lowercase).collect();
    let mut counts: Vec<(Language, usize)> = OWN_WORDS
        .iter()
        .map(|(language, own)| (*language, words.iter().filter(|w| own.contains(&w.as_str())).count()))
        .collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    (counts[0].1 >= 1 && counts[0].1 >= 2 * counts[1].1).then_some(counts[0].0)
}

/// The language of a text, when it is one of ours and clear enough.
pub fn detect(text: &str) -> Option<Language> {
    let sample: String = text
        .chars()
        .take(SAMPLE_CHARS)
        .map(|c| if c.is_alphabetic() || c == '\'' { c } else { ' ' })
        .collect();
    let detector = Detector::with_allowlist(LANGUAGES.iter().map(|l| l.1).collect());
    let info = detector.detect(&sample);
    let trigrams = info
        .filter(|i| i.confidence() >= MIN_CONFIDENCE)
        .and_then(|i| LANGUAGES.iter().find(|l| l.1 == i.lang()).map(|l| (l.0, i.is_reliable())));
    // An unsure guess decides nothing (a date's order hangs on it): own words or nothing.
    match trigrams {
        Some((language, true)) => Some(language),
        _ => by_own_words(&sample),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_our_languages_apart_on_invoice_text() {
        let cases = [
            (
                "Invoice number 42183017. Thank you for your business; the amount due is payable within 30 days of the invoice date.",
                Language::En,
            ),
            (
                "Facture n° 2022089083. Tout retard de paiement fera l'objet d'une pénalité de retard calculée sur la base du taux légal.",
                Language::Fr,
            ),
            (
                "Rechnung gemäß Bestellung vom 01.03.2018. Zahlbar innerhalb 30 Tagen netto, Skonto innerhalb 10 Tagen.",
                Language::De,
            ),
            (
                "Factuurnummer 993548900. Printen? Niet nodig. Je kunt je factuur altijd terugvinden in je mail.",
                Language::Nl,
            ),
            (
                "Número de factura 2024-17. Gracias por su compra; el pago se realizará por transferencia bancaria.",
                Language::Es,
            ),
        ];
        for (text, language) in cases {
            assert_eq!(detect(text), Some(language), "{text}");
        }
        assert_eq!(detect("4.11 42183017 2014"), None);
    }
}
