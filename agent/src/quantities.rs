//! Numbers patients give in free text: severity ("8/10", "8 de 10"),
//! durations ("since yesterday", "3 days", "siku 2") and age ("58 years old",
//! "tengo 58 años", "3 month old baby"), in the six supported languages.

use serde::{Deserialize, Serialize};

use crate::extract::tokenize;

/// What was found in one message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantities {
    /// Pain or symptom severity on a 0–10 scale.
    pub severity: Option<u8>,
    /// Durations, as the patient said them (normalised words).
    pub durations: Vec<String>,
    /// Age in years (months as fractions), of the patient or the person described.
    pub age_years: Option<f32>,
}

const HOURS: &[&str] = &[
    "hour",
    "hours",
    "hr",
    "hrs",
    "hora",
    "horas",
    "heure",
    "heures",
    "घंटे",
    "घंटा",
    "ghante",
];
const DAYS: &[&str] = &["day", "days", "dia", "dias", "jour", "jours", "दिन", "din"];
const WEEKS: &[&str] = &[
    "week",
    "weeks",
    "semana",
    "semanas",
    "semaine",
    "semaines",
    "हफ्ते",
    "हफ्ता",
    "सप्ताह",
    "wiki",
];
const MONTHS: &[&str] = &[
    "month",
    "months",
    "mes",
    "meses",
    "mois",
    "महीने",
    "महीना",
    "mwezi",
    "miezi",
];
const YEARS: &[&str] = &[
    "year",
    "years",
    "ano",
    "anos",
    "an",
    "ans",
    "annee",
    "annees",
    "साल",
    "वर्ष",
    "saal",
    "mwaka",
    "miaka",
];
/// Units that come *before* the number in Swahili ("siku 2", "saa 3").
const SW_BEFORE: &[(&str, &str)] = &[
    ("saa", "hours"),
    ("siku", "days"),
    ("wiki", "weeks"),
    ("miezi", "months"),
    ("miaka", "years"),
];
const SINCE_YESTERDAY: &[&str] = &[
    "since yesterday",
    "desde ayer",
    "depuis hier",
    "desde ontem",
    "कल से",
    "kal se",
    "tangu jana",
];
const OLD: &[&str] = &["old", "year-old", "olds"];
const AGE_VERBS: &[&str] = &[
    "tengo", "tiene", "tenho", "tem", "j'ai", "a", "ana", "mwenye", "im", "i'm", "aged", "age",
];
const OUT_OF: &[&[&str]] = &[
    &["out", "of"],
    &["de"],
    &["sur"],
    &["em"],
    &["kati", "ya"],
    &["में", "से"],
    &["me", "se"],
];

fn number(token: &str) -> Option<f32> {
    let t = token.trim_end_matches(['h', 'd']);
    t.parse::<f32>().ok().filter(|n| n.is_finite() && *n >= 0.0)
}

fn unit_of(token: &str) -> Option<&'static str> {
    [
        (HOURS, "hours"),
        (DAYS, "days"),
        (WEEKS, "weeks"),
        (MONTHS, "months"),
        (YEARS, "years"),
    ]
    .iter()
    .find(|(words, _)| words.contains(&token))
    .map(|(_, unit)| *unit)
}

/// Extracts severity, durations and age from `text`.
pub fn quantities(text: &str) -> Quantities {
    let mut out = Quantities::default();
    // "8/10": the tokenizer splits on '/', so look at the raw text too.
    let lower = text.to_lowercase();
    for (i, _) in lower.match_indices("/10") {
        let digits: String = lower[..i]
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if let Ok(n) = digits.parse::<u8>()
            && n <= 10
        {
            out.severity = Some(n);
        }
    }
    let folded: String = tokenize(text).join(" ");
    if SINCE_YESTERDAY.iter().any(|p| folded.contains(p)) {
        out.durations.push("since yesterday".to_owned());
    }
    let tokens: Vec<String> = tokenize(text).into_iter().filter(|t| t != "|").collect();
    for (i, token) in tokens.iter().enumerate() {
        let Some(n) = number(token) else { continue };
        let next = tokens.get(i + 1).map(String::as_str).unwrap_or_default();
        let after = tokens.get(i + 2).map(String::as_str).unwrap_or_default();
        // Severity: "8 out of 10", "8 de 10", "8 sur 10", "8 kati ya 10".
        for words in OUT_OF {
            let matches = words
                .iter()
                .enumerate()
                .all(|(k, w)| tokens.get(i + 1 + k).is_some_and(|t| t == w));
            if matches && tokens.get(i + 1 + words.len()).is_some_and(|t| t == "10") && n <= 10.0 {
                out.severity = Some(n as u8);
            }
        }
        let before = if i > 0 { tokens[i - 1].as_str() } else { "" };
        if let Some(unit) = unit_of(next) {
            let is_age = OLD.contains(&after)
                || (unit == "years" && AGE_VERBS.contains(&before))
                || (unit == "months" && OLD.contains(&after));
            if is_age {
                out.age_years = Some(if unit == "months" { n / 12.0 } else { n });
            } else {
                out.durations.push(format!("{n} {unit}"));
            }
        } else if let Some((_, unit)) = SW_BEFORE.iter().find(|(w, _)| *w == before) {
            if *unit == "years" && i >= 2 && AGE_VERBS.contains(&tokens[i - 2].as_str()) {
                out.age_years = Some(n);
            } else {
                out.durations.push(format!("{n} {unit}"));
            }
        } else if (before == "i'm" || before == "im" || before == "aged")
            && (1.0..=120.0).contains(&n)
            && !next.starts_with('%')
        {
            out.age_years = Some(n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_in_several_forms_and_languages() {
        assert_eq!(quantities("pain is 8/10").severity, Some(8));
        assert_eq!(quantities("about 7 out of 10").severity, Some(7));
        assert_eq!(quantities("un 9 de 10").severity, Some(9));
        assert_eq!(quantities("6 sur 10").severity, Some(6));
        assert_eq!(quantities("maumivu 5 kati ya 10").severity, Some(5));
        assert_eq!(quantities("no numbers here").severity, None);
        assert_eq!(quantities("15/10").severity, None);
    }

    #[test]
    fn durations_and_ages_are_told_apart() {
        let q = quantities("I'm 58 and the pain started 3 days ago");
        assert_eq!(q.age_years, Some(58.0));
        assert_eq!(q.durations, vec!["3 days"]);
        assert_eq!(
            quantities("my 3 month old baby has a fever").age_years,
            Some(0.25)
        );
        assert_eq!(
            quantities("tengo 45 años, tos desde ayer").age_years,
            Some(45.0)
        );
        assert_eq!(
            quantities("tengo 45 años, tos desde ayer").durations,
            vec!["since yesterday"]
        );
        assert_eq!(quantities("j'ai 30 ans").age_years, Some(30.0));
        assert_eq!(quantities("homa kwa siku 2").durations, vec!["2 days"]);
        assert_eq!(quantities("2 दिन से बुखार").durations, vec!["2 days"]);
        assert_eq!(
            quantities("headache for 2 weeks").durations,
            vec!["2 weeks"]
        );
    }
}
