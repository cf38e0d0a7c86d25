use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A language every patient-facing string must exist in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English.
    En,
    /// Spanish.
    Es,
    /// French.
    Fr,
    /// Portuguese.
    Pt,
    /// Hindi.
    Hi,
    /// Swahili.
    Sw,
}

/// A language tag we do not support.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported language `{0}` (supported: en, es, fr, pt, hi, sw)")]
pub struct UnknownLanguage(pub String);

impl Language {
    /// Every supported language, in a stable order.
    pub const ALL: [Language; 6] = [
        Language::En,
        Language::Es,
        Language::Fr,
        Language::Pt,
        Language::Hi,
        Language::Sw,
    ];

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
            Language::Fr => "fr",
            Language::Pt => "pt",
            Language::Hi => "hi",
            Language::Sw => "sw",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Language {
    type Err = UnknownLanguage;

    /// Accepts a bare code or a BCP 47 tag such as `pt-BR` or `es_MX`
    /// (WhatsApp template languages use the underscore form).
    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        Language::ALL
            .into_iter()
            .find(|l| l.code() == primary)
            .ok_or_else(|| UnknownLanguage(tag.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_regional_tags_to_their_primary_language() {
        assert_eq!("pt-BR".parse::<Language>(), Ok(Language::Pt));
        assert_eq!("es_MX".parse::<Language>(), Ok(Language::Es));
        assert_eq!("SW".parse::<Language>(), Ok(Language::Sw));
    }

    #[test]
    fn rejects_unsupported_languages_by_name() {
        let err = "de".parse::<Language>().unwrap_err();
        assert!(err.to_string().contains("`de`"));
    }

    #[test]
    fn codes_round_trip() {
        for lang in Language::ALL {
            assert_eq!(lang.code().parse::<Language>(), Ok(lang));
        }
    }
}
