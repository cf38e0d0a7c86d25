//! Numbers patients give in free text: severity ("8/10", "8 de 10"),
//! durations ("since yesterday", "3 days", "siku 2", "a week"), age ("58
//! years old", "tengo 58 años", "3 month old baby") and temperature ("39.5",
//! "102F", "fiebre de 39"), in the six supported languages.

use prompts::protocols::Span;
use serde::{Deserialize, Serialize};

use crate::extract::tokenize;

/// What was found in one message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantities {
    /// Pain or symptom severity on a 0–10 scale (the highest given).
    pub severity: Option<u8>,
    /// Durations, normalised ("3 days", "since yesterday"); see [`duration_hours`].
    pub durations: Vec<String>,
    /// Age in years (months as fractions), of the patient or the person
    /// described: the last one given.
    pub age_years: Option<f32>,
    /// Every age given, in years.
    #[serde(default)]
    pub ages_years: Vec<f32>,
    /// The highest body temperature given, in °C (Fahrenheit converted).
    #[serde(default)]
    pub temperature_c: Option<f32>,
}

const MINUTES: &[&str] = &[
    "minute",
    "minutes",
    "min",
    "mins",
    "minuto",
    "minutos",
    "मिनट",
    "minat",
];
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
    "हफ़्ते",
    "हफ़्ता",
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
    ("dakika", "minutes"),
    ("saa", "hours"),
    ("siku", "days"),
    ("wiki", "weeks"),
    ("mwezi", "months"),
    ("miezi", "months"),
    ("mwaka", "years"),
    ("miaka", "years"),
];
/// Spoken durations without a number, with the normalised words they are
/// kept as (see [`duration_hours`]).
const PHRASES: &[(&str, &[&str])] = &[
    (
        "since yesterday",
        &[
            "since yesterday",
            "desde ayer",
            "depuis hier",
            "desde ontem",
            "कल से",
            "kal se",
            "tangu jana",
        ],
    ),
    (
        "since this morning",
        &[
            "since this morning",
            "desde esta manana",
            "desde la manana",
            "depuis ce matin",
            "desde esta manha",
            "desde hoje de manha",
            "desde de manha",
            "आज सुबह से",
            "सुबह से",
            "subah se",
            "tangu asubuhi",
        ],
    ),
    (
        "since last night",
        &[
            "since last night",
            "desde anoche",
            "depuis hier soir",
            "depuis cette nuit",
            "desde ontem a noite",
            "कल रात से",
            "रात से",
            "raat se",
            "tangu usiku",
        ],
    ),
    (
        "since last week",
        &[
            "since last week",
            "desde la semana pasada",
            "depuis la semaine derniere",
            "desde a semana passada",
            "पिछले हफ्ते से",
            "पिछले हफ़्ते से",
            "tangu wiki iliyopita",
        ],
    ),
    (
        "a few days",
        &[
            "a few days",
            "few days",
            "couple of days",
            "unos dias",
            "varios dias",
            "quelques jours",
            "alguns dias",
            "uns dias",
            "कुछ दिन",
            "कुछ दिनों",
            "kuch din",
            "siku kadhaa",
        ],
    ),
    (
        "a few weeks",
        &[
            "a few weeks",
            "few weeks",
            "couple of weeks",
            "unas semanas",
            "varias semanas",
            "quelques semaines",
            "algumas semanas",
            "कुछ हफ्ते",
            "कुछ हफ़्ते",
            "wiki kadhaa",
            "several weeks",
            "for weeks",
            "plusieurs semaines",
            "depuis des semaines",
            "desde hace semanas",
            "ha semanas",
            "कई हफ्ते",
            "कई हफ़्ते",
            "kai hafte",
        ],
    ),
    (
        "a few months",
        &[
            "a few months",
            "few months",
            "several months",
            "couple of months",
            "for months",
            "unos meses",
            "varios meses",
            "desde hace meses",
            "quelques mois",
            "plusieurs mois",
            "depuis des mois",
            "alguns meses",
            "ha meses",
            "कुछ महीने",
            "कुछ महीनों",
            "कई महीने",
            "कई महीनों",
            "kai mahine",
            "kuch mahine",
            "miezi kadhaa",
        ],
    ),
];
/// Hours of each normalised phrase.
const PHRASE_HOURS: &[(&str, f64)] = &[
    ("since yesterday", 24.0),
    ("since this morning", 6.0),
    ("since last night", 12.0),
    ("since last week", 168.0),
    ("a few days", 72.0),
    ("a few weeks", 336.0),
    ("a few months", 2160.0),
];
/// Number words, only read next to a unit ("a week", "dos días", "siku mbili").
const NUMBER_WORDS: &[(&str, f32)] = &[
    ("a", 1.0),
    ("an", 1.0),
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("un", 1.0),
    ("una", 1.0),
    ("uno", 1.0),
    ("dos", 2.0),
    ("tres", 3.0),
    ("cuatro", 4.0),
    ("cinco", 5.0),
    ("seis", 6.0),
    ("siete", 7.0),
    ("ocho", 8.0),
    ("nueve", 9.0),
    ("diez", 10.0),
    ("une", 1.0),
    ("deux", 2.0),
    ("trois", 3.0),
    ("quatre", 4.0),
    ("cinq", 5.0),
    ("sept", 7.0),
    ("huit", 8.0),
    ("neuf", 9.0),
    ("dix", 10.0),
    ("um", 1.0),
    ("uma", 1.0),
    ("dois", 2.0),
    ("duas", 2.0),
    ("quatro", 4.0),
    ("sete", 7.0),
    ("oito", 8.0),
    ("nove", 9.0),
    ("dez", 10.0),
    ("एक", 1.0),
    ("दो", 2.0),
    ("तीन", 3.0),
    ("चार", 4.0),
    ("पांच", 5.0),
    ("पाँच", 5.0),
    ("छह", 6.0),
    ("सात", 7.0),
    ("आठ", 8.0),
    ("नौ", 9.0),
    ("दस", 10.0),
    ("ek", 1.0),
    ("moja", 1.0),
    ("mmoja", 1.0),
    ("mbili", 2.0),
    ("miwili", 2.0),
    ("tatu", 3.0),
    ("mitatu", 3.0),
    ("nne", 4.0),
    ("minne", 4.0),
    ("tano", 5.0),
    ("mitano", 5.0),
    ("sita", 6.0),
    ("saba", 7.0),
    ("nane", 8.0),
    ("tisa", 9.0),
    ("kumi", 10.0),
];
/// "once a day", "3 hours a day": a frequency, not a duration.
const FREQUENCY_BEFORE: &[&str] = &["once", "twice", "times", "thrice", "per"];
const OLD: &[&str] = &["old", "year-old", "olds"];
/// "<child> de <n> <unit>" gives an age in Spanish, French and Portuguese.
const CHILD_WORDS: &[&str] = &[
    "bebe",
    "bebito",
    "bebita",
    "bebezinho",
    "bebezinha",
    "nourrisson",
    "enfant",
    "fils",
    "fille",
    "nino",
    "nina",
    "hijo",
    "hija",
    "filho",
    "filha",
    "crianca",
    "menino",
    "menina",
];
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
/// Words after which a bare number is a temperature ("fever of 39").
const TEMPERATURE_CONTEXT: &[&str] = &[
    "temperature",
    "temp",
    "fever",
    "temperatura",
    "fiebre",
    "fievre",
    "fièvre",
    "febre",
    "तापमान",
    "बुखार",
    "bukhar",
    "homa",
    "joto",
    "nyuzi",
];

fn number(token: &str) -> Option<f32> {
    let t = token.trim_end_matches(['h', 'd']);
    t.parse::<f32>().ok().filter(|n| n.is_finite() && *n >= 0.0)
}

fn word_number(token: &str) -> Option<f32> {
    NUMBER_WORDS
        .iter()
        .find(|(w, _)| *w == token)
        .map(|(_, n)| *n)
}

fn unit_of(token: &str) -> Option<&'static str> {
    [
        (MINUTES, "minutes"),
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

/// `n` of `unit` in years.
fn years(n: f32, unit: &str) -> f32 {
    let hours = Span::unit_hours(unit).unwrap_or(8766.0);
    n * (hours / 8766.0) as f32
}

/// The length of a normalised duration ("3 days", "since yesterday"), in hours.
pub fn duration_hours(words: &str) -> Option<f64> {
    if let Some((_, h)) = PHRASE_HOURS.iter().find(|(p, _)| *p == words) {
        return Some(*h);
    }
    let (n, unit) = words.split_once(' ')?;
    Some(n.parse::<f64>().ok()? * Span::unit_hours(unit)?)
}

/// Extracts severity, durations, ages and temperature from `text`.
pub fn quantities(text: &str) -> Quantities {
    let mut out = Quantities::default();
    let severity = |n: u8, out: &mut Quantities| {
        out.severity = Some(out.severity.map_or(n, |s| s.max(n)));
    };
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
            severity(n, &mut out);
        }
    }
    out.temperature_c = temperature(&lower);
    let tokens: Vec<String> = tokenize(text).into_iter().filter(|t| t != "|").collect();
    let folded = format!(" {} ", tokens.join(" "));
    for (normalised, phrases) in PHRASES {
        if phrases.iter().any(|p| folded.contains(&format!(" {p} "))) {
            out.durations.push((*normalised).to_owned());
        }
    }
    for (i, token) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1).map(String::as_str).unwrap_or_default();
        let after = tokens.get(i + 2).map(String::as_str).unwrap_or_default();
        let before = if i > 0 { tokens[i - 1].as_str() } else { "" };
        let sw_unit = SW_BEFORE.iter().find(|(w, _)| *w == before);
        let frequency = FREQUENCY_BEFORE.contains(&before) || unit_of(before).is_some();
        let Some(n) = number(token).or_else(|| {
            word_number(token).filter(|_| {
                (unit_of(next).is_some() && !(matches!(token.as_str(), "a" | "an") && frequency))
                    || sw_unit.is_some()
            })
        }) else {
            continue;
        };
        // Severity: "8 out of 10", "8 de 10", "8 sur 10", "8 kati ya 10".
        for words in OUT_OF {
            let matches = words
                .iter()
                .enumerate()
                .all(|(k, w)| tokens.get(i + 1 + k).is_some_and(|t| t == w));
            if matches && tokens.get(i + 1 + words.len()).is_some_and(|t| t == "10") && n <= 10.0 {
                severity(n as u8, &mut out);
            }
        }
        if let Some(unit) = unit_of(next) {
            let before_de = if i >= 2 { tokens[i - 2].as_str() } else { "" };
            let is_age = OLD.contains(&after)
                || (unit == "years" && AGE_VERBS.contains(&before))
                // "bébé de 5 mois", "niña de 3 años", "filho de 2 anos"
                || (before == "de" && CHILD_WORDS.contains(&before_de))
                // "my baby is 4 months", "she is 6 weeks"
                || (matches!(unit, "months" | "weeks") && before == "is");
            if is_age {
                out.ages_years.push(years(n, unit));
            } else {
                out.durations.push(format!("{n} {unit}"));
            }
        } else if let Some((_, unit)) = sw_unit {
            let before_unit = if i >= 2 { tokens[i - 2].as_str() } else { "" };
            // "ana miaka 30"; "mtoto wa miezi 4" (a child of 4 months).
            let is_age = (*unit == "years" && AGE_VERBS.contains(&before_unit))
                || (matches!(*unit, "years" | "months" | "weeks") && before_unit == "wa");
            if is_age {
                out.ages_years.push(years(n, unit));
            } else {
                out.durations.push(format!("{n} {unit}"));
            }
        } else if (before == "i'm" || before == "im" || before == "aged")
            && (1.0..=120.0).contains(&n)
            && !next.starts_with('%')
        {
            out.ages_years.push(n);
        }
    }
    out.age_years = out.ages_years.last().copied();
    out
}

/// The highest plausible body temperature in lower-cased `text`, in °C: a
/// number with a degree unit ("39.5°C", "39 grados", "102 F"), or a bare
/// number right after a word for fever or temperature ("fever of 39").
fn temperature(text: &str) -> Option<f32> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut best: Option<f32> = None;
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let starts_number = c.is_ascii_digit() && (i == 0 || !chars[i - 1].1.is_alphanumeric());
        if !starts_number {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j].1.is_ascii_digit() {
            j += 1;
        }
        if j + 1 < chars.len() && matches!(chars[j].1, '.' | ',') && chars[j + 1].1.is_ascii_digit()
        {
            j += 1;
            while j < chars.len() && chars[j].1.is_ascii_digit() {
                j += 1;
            }
        }
        let end = chars.get(j).map_or(text.len(), |(b, _)| *b);
        let value: Option<f32> = text[start..end].replace(',', ".").parse().ok();
        i = j;
        let Some(value) = value else { continue };
        let rest = text[end..].trim_start();
        let unit_after = |u: &str| {
            rest.strip_prefix(u)
                .is_some_and(|r| r.chars().next().is_none_or(|c| !c.is_alphabetic()))
        };
        let fahrenheit = ["°f", "º f", "ºf", "° f", "f", "fahrenheit", "degrees f"]
            .iter()
            .any(|u| unit_after(u));
        let celsius = [
            "°c",
            "° c",
            "ºc",
            "º c",
            "°",
            "º",
            "c",
            "celsius",
            "centigrade",
            "degrees",
            "degree",
            "deg",
            "grados",
            "grado",
            "degres",
            "degrés",
            "degre",
            "degré",
            "graus",
            "grau",
            "डिग्री",
            "digri",
        ]
        .iter()
        .any(|u| unit_after(u));
        let is_context = |w: &str| {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric());
            TEMPERATURE_CONTEXT.contains(&w)
        };
        // "fever of 39" before, or "39,5 de fièvre" after.
        let context = text[..start]
            .split_whitespace()
            .rev()
            .take(3)
            .any(is_context)
            || rest.split_whitespace().take(2).any(is_context);
        if !(fahrenheit || celsius || context) {
            continue;
        }
        let c = if fahrenheit || (value > 90.0 && value < 110.0) {
            (value - 32.0) * 5.0 / 9.0
        } else {
            value
        };
        if (34.0..=43.5).contains(&c) {
            best = Some(best.map_or(c, |b: f32| b.max(c)));
        }
    }
    best
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
        assert_eq!(
            quantities("it was 9/10 last night, now 4/10").severity,
            Some(9),
            "the worst given is kept"
        );
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
        for text in [
            "my knee has hurt for several months",
            "me duele la rodilla desde hace meses",
            "j'ai mal au genou depuis des mois",
            "घुटने में कई महीनों से दर्द है",
            "goti linauma kwa miezi kadhaa",
        ] {
            let q = quantities(text);
            assert_eq!(q.durations, vec!["a few months"], "{text}");
            assert_eq!(duration_hours("a few months"), Some(2160.0));
        }
    }

    #[test]
    fn ages_in_weeks_and_days_are_converted_to_years() {
        let weeks = quantities("my 6 weeks old baby").age_years.unwrap();
        assert!((weeks - 6.0 / 52.18).abs() < 0.01, "{weeks}");
        let days = quantities("a 10 day old baby").age_years.unwrap();
        assert!(days < 0.03, "{days}");
        let is = quantities("my baby is 4 months and has a cough").ages_years;
        assert!(is.len() == 1 && (is[0] - 4.0 / 12.0).abs() < 1e-4, "{is:?}");
        let months = quantities("mon bébé de 5 mois").ages_years;
        assert!(
            months.len() == 1 && (months[0] - 5.0 / 12.0).abs() < 1e-4,
            "{months:?}"
        );
        assert_eq!(quantities("mi niña de 3 años").ages_years, vec![3.0]);
        let both = quantities("I'm 30 and my 4 month old has a fever");
        assert_eq!(both.ages_years.len(), 2);
    }

    #[test]
    fn spoken_numbers_and_phrases_give_durations() {
        assert_eq!(quantities("a cough for a week").durations, vec!["1 weeks"]);
        assert_eq!(
            quantities("tos desde hace dos semanas").durations,
            vec!["2 weeks"]
        );
        assert_eq!(quantities("depuis trois jours").durations, vec!["3 days"]);
        assert_eq!(quantities("kikohozi wiki tatu").durations, vec!["3 weeks"]);
        assert_eq!(
            quantities("since this morning").durations,
            vec!["since this morning"]
        );
        assert_eq!(
            quantities("bleeding for 20 minutes").durations,
            vec!["20 minutes"]
        );
        assert_eq!(
            quantities("I take it once a day").durations,
            Vec::<String>::new()
        );
        assert_eq!(duration_hours("3 weeks"), Some(504.0));
        assert_eq!(duration_hours("since yesterday"), Some(24.0));
        assert_eq!(duration_hours("20 minutes"), Some(20.0 / 60.0));
        assert_eq!(duration_hours("whenever"), None);
    }

    #[test]
    fn temperatures_in_celsius_and_fahrenheit() {
        let t = |s: &str| quantities(s).temperature_c;
        assert_eq!(t("temperature 39.5"), Some(39.5));
        assert_eq!(t("she has 38,7°C"), Some(38.7));
        assert_eq!(t("fiebre de 40 grados"), Some(40.0));
        assert_eq!(t("homa ya nyuzi 39"), Some(39.0));
        let f = t("fever of 102F").unwrap();
        assert!((f - 38.89).abs() < 0.01, "{f}");
        assert_eq!(t("39 weeks pregnant"), None);
        assert_eq!(t("fever for 3 days"), None);
        assert_eq!(t("mon bébé a 39,5 de fièvre"), Some(39.5));
        assert_eq!(t("7/10 pain"), None);
    }
}
