//! Numbers patients give in free text: severity ("8/10", "8 de 10"),
//! durations ("since yesterday", "3 days", "siku 2", "a week"), age ("58
//! years old", "tengo 58 años", "3 month old baby") and temperature ("39.5",
//! "102F", "fiebre de 39"), in the six supported languages.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

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
    /// Age in years (months as fractions): the last one given, whoever it
    /// is of. The patient's age is [`crate::demographics::read`]'s: "I'm 34
    /// and my 3 year old…" gives 34 and 3 here, and 3 there.
    pub age_years: Option<f32>,
    /// Every age given, in years, the writer's included.
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
    "mahine",
    "mahina",
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
    "बरस",
    "saal",
    "sal",
    "baras",
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
/// "3 years old", "3-month-old" ("year-old" is split by the tokenizer).
const OLD: &[&str] = &["old", "olds"];
/// Abbreviated age units: "2 yrs old", "3 mo old", "6 wks old", "19 y/o".
const AGE_UNIT_ABBREVIATIONS: &[(&str, &str)] = &[
    ("y", "years"),
    ("yr", "years"),
    ("yrs", "years"),
    ("mo", "months"),
    ("mos", "months"),
    ("mth", "months"),
    ("mths", "months"),
    ("wk", "weeks"),
    ("wks", "weeks"),
];
/// Units fused to the number, read as an age only before "old" ("6m old",
/// "2yrs old"), except "yo", which is an age by itself ("2yo").
const FUSED_AGE_UNITS: &[(&str, &str)] = &[
    ("yo", "years"),
    ("y", "years"),
    ("yr", "years"),
    ("yrs", "years"),
    ("year", "years"),
    ("years", "years"),
    ("m", "months"),
    ("mo", "months"),
    ("mos", "months"),
    ("month", "months"),
    ("months", "months"),
    ("w", "weeks"),
    ("wk", "weeks"),
    ("wks", "weeks"),
    ("week", "weeks"),
    ("weeks", "weeks"),
    ("d", "days"),
    ("day", "days"),
    ("days", "days"),
];
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
/// Before "<n> years": whoever it is has that age ("tengo 45 años", "j'ai 30
/// ans", "ana miaka 30").
const AGE_VERBS: &[&str] = &[
    "tengo", "tiene", "tenho", "tem", "j'ai", "a", "ana", "mwenye", "nina", "im", "i'm", "aged",
    "age", "is",
];
/// Before "<n> months|weeks|days": an age only when said of someone else
/// ("my baby is 6 weeks", "elle a 3 mois"); "I'm 6 weeks" is a pregnancy or
/// a recovery, never the writer's age.
const THIRD_PERSON_VERBS: &[&str] = &["is", "tiene", "tem", "a", "ana", "est"];
/// Nouns for age: "age 45", "edad: 40", "उम्र 30 साल", "umri wa miaka 30".
const AGE_NOUNS: &[&str] = &["age", "edad", "idade", "umar", "umr", "umra", "उम्र", "umri"];
/// Hindi "of": "5 साल की" (5 years old, of a girl), "30 saal ka" (of a man).
const HINDI_OF: &[&str] = &["का", "की", "के", "ka", "ki", "ke"];
/// After "<n> साल के": "after", "before", "since", "until", not an age.
const HINDI_NOT_AGE: &[&str] = &["बाद", "पहले", "से", "तक", "baad", "pehle", "se", "tak"];
/// After "<n> <unit>": a pregnancy's length, not an age ("30 weeks pregnant",
/// "20 semanas de embarazo").
const PREGNANCY_AFTER: &[&str] = &[
    "pregnant",
    "pregnent",
    "along",
    "gone",
    "postpartum",
    "embarazada",
    "enceinte",
    "gravida",
    "mjamzito",
    "गर्भवती",
];
const PREGNANCY_NOUNS: &[&str] = &[
    "pregnancy",
    "embarazo",
    "gestacion",
    "grossesse",
    "gravidez",
    "gestacao",
    "amenorrhee",
];
/// Before "de <n> años": a comparison or a time, so a duration ("hace más
/// de 2 años", "depuis plus de 2 ans").
const BEFORE_DE_NOT_AGE: &[&str] = &[
    "mas",
    "menos",
    "plus",
    "moins",
    "mais",
    "cerca",
    "alrededor",
    "pres",
    "perto",
    "antes",
    "despues",
    "apres",
    "depois",
    "periodo",
    "periode",
    "lapso",
    "total",
    "hace",
    "ha",
];
/// What a compact age-and-sex form ("19F", "34 m") may follow: the start
/// of a clause, a word for the writer, a greeting.
const LETTER_AGE_AFTER: &[&str] = &[
    "", "|", "i", "i'm", "im", "me", "am", "is", "was", "aged", "age", "here", "hi", "hello",
    "hey", "hola", "bonjour", "salut", "ola", "oi", "namaste", "habari", "jambo", "soy", "sou",
    "je", "suis", "moi", "yo", "eu",
];
/// After a number of years: it was that long ago ("tem 3 anos que", "3 years ago").
const AGO: &[&str] = &["ago", "que", "back", "since"];
/// Between a severity and its scale ("8 out of 10", "8 de 10", "8 of 10").
pub(crate) const OUT_OF: &[&[&str]] = &[
    &["out", "of"],
    &["of"],
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
    static WORDS: OnceLock<WordMap<f32>> = OnceLock::new();
    let words = WORDS.get_or_init(|| {
        let mut map = WordMap::default();
        for (w, n) in NUMBER_WORDS {
            map.entry(*w).or_insert(*n);
        }
        map
    });
    words.get(token).copied()
}

/// FNV-1a, for fixed word lists probed once per token of every message:
/// std's SipHash resists hash flooding, which a list compiled into the
/// binary does not need, and costs more than the rest of reading a word.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WordHasher(u64);

impl Default for WordHasher {
    fn default() -> Self {
        WordHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A map from fixed words, fast to probe.
pub(crate) type WordMap<V> = HashMap<&'static str, V, BuildHasherDefault<WordHasher>>;

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
    let all_tokens = tokenize(text);
    let ages = age_phrases(&all_tokens);
    let mut in_age = vec![false; all_tokens.len()];
    for age in &ages {
        in_age[age.start..age.end].fill(true);
    }
    out.ages_years = ages.iter().map(|a| a.years).collect();
    // Durations are read without clause breaks; `at[i]` is where the i-th
    // kept token sits in `all_tokens`, to skip the words of an age.
    let (at, tokens): (Vec<usize>, Vec<String>) = all_tokens
        .into_iter()
        .enumerate()
        .filter(|(_, t)| t != "|")
        .unzip();
    let folded = format!(" {} ", tokens.join(" "));
    for (normalised, phrases) in PHRASES {
        if phrases.iter().any(|p| folded.contains(&format!(" {p} "))) {
            out.durations.push((*normalised).to_owned());
        }
    }
    for (i, token) in tokens.iter().enumerate() {
        if in_age[at[i]] {
            continue;
        }
        let next = tokens.get(i + 1).map(String::as_str).unwrap_or_default();
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
            out.durations.push(format!("{n} {unit}"));
        } else if let Some((_, unit)) = sw_unit {
            out.durations.push(format!("{n} {unit}"));
        }
    }
    out.age_years = out.ages_years.last().copied();
    out
}

/// An age the text gives, whoever it is of: `tokens[start..end]` (of
/// [`tokenize`], clause breaks included) say `years`. Who the age belongs
/// to is `demographics`' question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AgePhrase {
    pub start: usize,
    pub end: usize,
    pub years: f32,
    /// The sex letter of a compact form ("19F", "F/34", "28 m"), lower-case.
    pub sex_letter: Option<char>,
}

/// The token `k` places from `i` (a clause break is a token), or "".
fn token_at<T: AsRef<str>>(tokens: &[T], i: usize, k: isize) -> &str {
    i.checked_add_signed(k)
        .and_then(|j| tokens.get(j))
        .map_or("", AsRef::as_ref)
}

/// A whole number written in digits, as an age can be.
pub(crate) fn whole(token: &str) -> Option<f32> {
    let ok = !token.is_empty() && token.len() <= 3 && token.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| token.parse().ok()).flatten()
}

fn age_unit(token: &str) -> Option<&'static str> {
    unit_of(token).or_else(|| {
        AGE_UNIT_ABBREVIATIONS
            .iter()
            .find(|(a, _)| *a == token)
            .map(|(_, u)| *u)
    })
}

/// "19f" → (19, 'f'), "m45" → (45, 'm').
fn compact_sex_form(token: &str) -> Option<(f32, char)> {
    let split = |t: &str| -> Option<(f32, char)> {
        let letter = t.chars().last().filter(|c| matches!(c, 'f' | 'm'))?;
        Some((whole(&t[..t.len() - 1])?, letter))
    };
    split(token).or_else(|| {
        let letter = token.chars().next().filter(|c| matches!(c, 'f' | 'm'))?;
        Some((whole(&token[1..])?, letter))
    })
}

/// A compact age-and-sex token ("34f", "m45") whose number can be an age
/// (see [`letter_number_fits`]), wherever it stands.
pub(crate) fn compact_age(token: &str) -> Option<(f32, char)> {
    compact_sex_form(token).filter(|&(n, l)| letter_number_fits(n, l))
}

/// Whether `n` beside the sex letter `letter` can be an age. A number
/// beside "f" is also how Fahrenheit is written: 93–110 °F is a body
/// temperature (34–43.5 °C, what `temperature` accepts), so "102F" and "98
/// F" are temperatures, never a 102-year-old woman; below 93 "F" cannot be a
/// body temperature ("19F" would be −7 °C, which `temperature` refuses) and
/// is a sex. Ages under 10 are not written this way ("5m" is five minutes or
/// metres).
fn letter_number_fits(n: f32, letter: char) -> bool {
    let fahrenheit = letter == 'f' && (93.0..=110.0).contains(&n);
    (10.0..=120.0).contains(&n) && !fahrenheit
}

/// Whether `n` with the sex letter `letter`, the number at `i`, is an age
/// here. Not the decimals of a temperature ("38.75 f" is tokenised "38 |
/// 75 f"), nor after a word for fever (a temperature with the wrong unit).
/// The form also has to open a clause or follow a word for the writer ("19F
/// with…", "I (28F)…", "hi, 34 m"): "I walked 50 m" and "ran 100m" are
/// distances. `start` is the phrase's first token.
fn letter_age_fits<T: AsRef<str>>(
    tokens: &[T],
    start: usize,
    i: usize,
    n: f32,
    letter: char,
) -> bool {
    let decimal = token_at(tokens, i, -1) == "|" && whole(token_at(tokens, i, -2)).is_some();
    let fever = (1..=3).any(|k| TEMPERATURE_CONTEXT.contains(&token_at(tokens, i, -k)));
    let opens = LETTER_AGE_AFTER.contains(&token_at(tokens, start, -1));
    letter_number_fits(n, letter) && !decimal && !fever && opens
}

/// A lone sex letter at `j`: "f", or "m" unless it is "I m" (I'm).
fn lone_letter<T: AsRef<str>>(tokens: &[T], j: usize) -> Option<char> {
    match token_at(tokens, j, 0) {
        "f" => Some('f'),
        "m" if token_at(tokens, j, -1) != "i" => Some('m'),
        _ => None,
    }
}

/// The unit of an age ("years", "yrs", "saal", "mo") and years in one.
pub(crate) fn age_unit_of(token: &str) -> Option<(&'static str, f32)> {
    age_unit(token).map(|u| (u, years(1.0, u)))
}

/// Whether `token` is a word for age ("age", "edad", "उम्र", "umri").
pub(crate) fn is_age_noun(token: &str) -> bool {
    AGE_NOUNS.contains(&token)
}

/// Whether a word after "<n> <unit>" makes it a time ago or since, not an
/// age ("3 years ago", "5 saal se").
pub(crate) fn says_ago(token: &str) -> bool {
    AGO.contains(&token) || HINDI_NOT_AGE.contains(&token)
}

/// Every age phrase in `tokens`, in order.
pub(crate) fn age_phrases<T: AsRef<str>>(tokens: &[T]) -> Vec<AgePhrase> {
    let mut out: Vec<AgePhrase> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        // Every age has a number: digits ("3", "19f", "2yo", "f19") or a
        // spoken one ("two year old"). Most words are neither.
        let b = token_at(tokens, i, 0).as_bytes();
        let numeric = b.first().is_some_and(u8::is_ascii_digit)
            || (b.len() > 1 && matches!(b[0], b'f' | b'm') && b[1].is_ascii_digit());
        if !numeric && word_number(token_at(tokens, i, 0)).is_none() {
            i += 1;
            continue;
        }
        match age_phrase_at(tokens, i) {
            Some(mut phrase) => {
                // A sex letter after the age: "19 yo f", "45 years old, m".
                if phrase.sex_letter.is_none() {
                    let j = phrase.end + usize::from(token_at(tokens, phrase.end, 0) == "|");
                    if let Some(letter) = lone_letter(tokens, j) {
                        phrase.sex_letter = Some(letter);
                        phrase.end = j + 1;
                    }
                }
                i = phrase.end;
                out.push(phrase);
            }
            None => i += 1,
        }
    }
    out
}

/// The age phrase whose number is at `i`, if there is one.
fn age_phrase_at<T: AsRef<str>>(tokens: &[T], i: usize) -> Option<AgePhrase> {
    let t = |k: isize| token_at(tokens, i, k);
    let phrase = |start: usize, end: usize, years: f32| AgePhrase {
        start,
        end,
        years,
        sex_letter: None,
    };
    // Fused forms: "2yo", "6m old", "19f", "f19".
    if whole(t(0)).is_none() {
        let digits = t(0).bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0
            && let Some(n) = whole(&t(0)[..digits])
            && let Some((suffix, unit)) =
                FUSED_AGE_UNITS.iter().find(|(u, _)| *u == &t(0)[digits..])
        {
            if *suffix == "yo" {
                return Some(phrase(i, i + 1, n));
            }
            if OLD.contains(&t(1)) {
                return Some(phrase(i, i + 2, years(n, unit)));
            }
        }
        if let Some((n, letter)) = compact_sex_form(t(0)) {
            return letter_age_fits(tokens, i, i, n, letter).then_some(AgePhrase {
                sex_letter: Some(letter),
                ..phrase(i, i + 1, n)
            });
        }
    }
    let sw_unit = SW_BEFORE.iter().find(|(w, _)| *w == t(-1));
    // "1.5 years old" is tokenised "1 | 5 years old".
    let (start, n) = match (whole(t(-2)), t(-1), whole(t(0))) {
        (Some(a), "|", Some(b)) if t(0).len() <= 2 && age_unit(t(1)).is_some() => {
            (i - 2, a + b / 10f32.powi(t(0).len() as i32))
        }
        (_, _, Some(n)) => (i, n),
        // "a year old", "two year old", "miaka mitatu".
        _ => (
            i,
            word_number(t(0)).filter(|_| age_unit(t(1)).is_some() || sw_unit.is_some())?,
        ),
    };
    // "61 yo", "2 yo male".
    if t(1) == "yo" && whole(t(0)).is_some() {
        return Some(phrase(start, i + 2, n));
    }
    let before = token_at(tokens, start, -1);
    let before2 = token_at(tokens, start, -2);
    if let Some(unit) = age_unit(t(1)) {
        let after = t(2);
        let pregnancy = PREGNANCY_AFTER.contains(&after)
            || (matches!(after, "de" | "of") && PREGNANCY_NOUNS.contains(&t(3)));
        if pregnancy {
            return None;
        }
        if OLD.contains(&after) {
            return Some(phrase(start, i + 3, years(n, unit)));
        }
        // "19 y/o", "19 y.o."
        if t(1) == "y" && (after == "o" || (after == "|" && t(3) == "o")) {
            let end = if after == "o" { i + 3 } else { i + 4 };
            return Some(phrase(start, end, n));
        }
        if after == "of" && t(3) == "age" {
            return Some(phrase(start, i + 4, years(n, unit)));
        }
        if HINDI_OF.contains(&after) && !HINDI_NOT_AGE.contains(&t(3)) {
            return Some(phrase(start, i + 3, years(n, unit)));
        }
        let ago = AGO.contains(&after);
        let il_y_a = before == "a" && before2 == "y";
        let is_years = unit == "years";
        let by_verb = if is_years {
            AGE_VERBS.contains(&before)
        } else {
            THIRD_PERSON_VERBS.contains(&before) && !matches!(after, "de" | "of")
        };
        // "mi hija de 5 años", "homme de 45 ans"; "bébé de 5 mois".
        let by_de = before == "de"
            && if is_years {
                !BEFORE_DE_NOT_AGE.contains(&before2)
            } else {
                CHILD_WORDS.contains(&before2)
            };
        let by_noun = AGE_NOUNS.contains(&before)
            || (matches!(before, "is" | "de" | "of" | "wa" | "|") && AGE_NOUNS.contains(&before2));
        if (by_verb || by_de || by_noun) && !ago && !il_y_a {
            return Some(phrase(start, i + 2, years(n, unit)));
        }
        return None;
    }
    // Swahili puts the unit first: "ana miaka 30", "mtoto wa miezi 4".
    if let Some((_, unit)) = sw_unit {
        let verb = token_at(tokens, start, -2);
        let is_age = (*unit == "years" && (AGE_VERBS.contains(&verb) || AGE_NOUNS.contains(&verb)))
            || (matches!(*unit, "years" | "months" | "weeks") && verb == "wa")
            // "umri wangu ni miaka 30" (my age is 30 years).
            || (verb == "ni" && (3..=4).any(|k| AGE_NOUNS.contains(&token_at(tokens, start, -k))));
        return is_age.then(|| phrase(start - 1, i + 1, years(n, unit)));
    }
    if n.fract() != 0.0 || !(1.0..=120.0).contains(&n) || t(1).starts_with('%') {
        return None;
    }
    // "I'm 58", "I m 58", "aged 58", "age: 58", "my age is 58".
    let bare = matches!(before, "i'm" | "im" | "aged")
        || (matches!(before, "am" | "m") && before2 == "i")
        || AGE_NOUNS.contains(&before)
        || (matches!(before, "is" | "|" | "of") && AGE_NOUNS.contains(&before2));
    if bare {
        return Some(phrase(start, i + 1, n));
    }
    // "34 F", "28 m", "F/34", "M, 45".
    let after = i + 1 + usize::from(t(1) == "|");
    let before = start.checked_sub(1 + usize::from(before == "|"));
    let letter = |j: usize| {
        lone_letter(tokens, j).filter(|&l| letter_age_fits(tokens, j.min(start), i, n, l))
    };
    if let Some(l) = letter(after) {
        return Some(AgePhrase {
            sex_letter: Some(l),
            ..phrase(start, after + 1, n)
        });
    }
    if let Some(j) = before
        && let Some(l) = letter(j)
    {
        return Some(AgePhrase {
            sex_letter: Some(l),
            ..phrase(j, i + 1, n)
        });
    }
    None
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

    #[test]
    fn ages_are_not_durations_in_any_language() {
        for (text, age) in [
            ("minha mãe de 80 anos", 80.0),
            ("mujer de 40 años", 40.0),
            ("मेरी बेटी 5 साल की है", 5.0),
            ("main 30 saal ka hoon", 30.0),
            ("umri wangu ni miaka 30", 30.0),
            ("my 2yo", 2.0),
            ("61 yo male", 61.0),
            ("a 61 year-old woman", 61.0),
            ("19 y/o", 19.0),
            ("my son is a year old", 1.0),
            ("he is 1.5 years old", 1.5),
            ("I am 45", 45.0),
            ("edad: 40", 40.0),
        ] {
            let q = quantities(text);
            assert_eq!(q.ages_years, vec![age], "{text}");
            assert!(q.durations.is_empty(), "{text}: {:?}", q.durations);
        }
        for (text, duration) in [
            ("il y a 3 ans", "3 years"),
            ("hace más de 2 años", "2 years"),
            ("tem 3 anos que tenho dor", "3 years"),
            ("5 saal se khansi hai", "5 years"),
            ("tos de 3 semanas", "3 weeks"),
            ("I'm 30 weeks pregnant", "30 weeks"),
            ("she is 6 weeks pregnant", "6 weeks"),
            ("estoy de 20 semanas de embarazo", "20 weeks"),
        ] {
            let q = quantities(text);
            assert!(q.ages_years.is_empty(), "{text}: {:?}", q.ages_years);
            assert_eq!(q.durations, vec![duration], "{text}");
        }
    }

    #[test]
    fn compact_age_and_sex_is_told_from_fahrenheit() {
        for (text, age) in [
            ("19F", 19.0),
            ("(32F)", 32.0),
            ("28 m", 28.0),
            ("F/34", 34.0),
        ] {
            let q = quantities(text);
            assert_eq!((q.ages_years, q.temperature_c), (vec![age], None), "{text}");
        }
        for text in [
            "102F",
            "fever 101 F",
            "temp 98f",
            "temperature 38.75 f",
            "ran 100m",
        ] {
            assert!(quantities(text).ages_years.is_empty(), "{text}");
        }
        let f = quantities("19F, fever 102F").temperature_c.unwrap();
        assert!((f - 38.89).abs() < 0.01, "{f}");
        let phrases = age_phrases(&tokenize("I (28F) am worried"));
        assert_eq!(phrases.len(), 1);
        assert_eq!((phrases[0].years, phrases[0].sex_letter), (28.0, Some('f')));
    }
}
