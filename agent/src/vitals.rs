//! Vital signs patients read from their own devices and type into the chat
//! ("my oxygen is 88%", "pulse 142", "BP 82/48", "tension 19/12", "sukari
//! 2.5"), read in the six supported languages and scored against the cited
//! thresholds of `prompts/data/vitals.toml`.
//!
//! Reading is deliberately strict about context: a number is a vital sign
//! only beside a cue word ("sats", "pulso", "धड़कन") or a unit that names
//! one ("bpm", "mmHg", "mg/dL", "°C"). Ages, durations, doses, dates, times,
//! phone numbers and "8/10" severities are never read, because a misread
//! number would raise or — worse — mask urgency.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use prompts::vitals::{Condition, News2Table, VitalRules};
use prompts::{Disposition, Language};
use serde::{Deserialize, Serialize};

pub use prompts::vitals::VitalKind;

/// One reading in the patient's message, in canonical units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// What was measured.
    pub kind: VitalKind,
    /// %, /min, systolic mmHg, °C, mmol/L, GCS points or kg.
    pub value: f32,
    /// Diastolic mmHg, for blood pressure.
    pub second: Option<f32>,
    /// The patient's own words, for the clinician's report.
    pub words: String,
}

/// A threshold that fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VitalFinding {
    /// Rule id from `vitals.toml`.
    pub id: String,
    /// The disposition floor it imposes.
    pub disposition: Disposition,
    /// For clinicians; NEWS2 findings name the parameters scored.
    pub summary: String,
    /// The guidance it comes from.
    pub source: String,
    /// The measurement words that triggered it, then the concepts it needed.
    pub evidence: Vec<String>,
}

/// A NEWS2 parameter that could be scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct News2Score {
    /// The parameter (`Consciousness` for new confusion or a GCS below 15).
    pub kind: VitalKind,
    /// Its points.
    pub score: u8,
    /// What it was scored from.
    pub words: String,
}

/// A partial NEWS2: only the parameters the patient gave are scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct News2 {
    /// Sum over the scored parameters.
    pub total: u8,
    /// The parameters scored.
    pub scored: Vec<News2Score>,
    /// The NEWS2 parameters not known (each would add 0–3).
    pub not_scored: Vec<VitalKind>,
}

/// The parameters of NEWS2 we can score (air/oxygen is never known).
const NEWS2_KINDS: [VitalKind; 6] = [
    VitalKind::RespiratoryRate,
    VitalKind::Spo2,
    VitalKind::BloodPressure,
    VitalKind::HeartRate,
    VitalKind::Consciousness,
    VitalKind::Temperature,
];

impl News2 {
    /// The highest single-parameter score.
    pub fn max_single(&self) -> u8 {
        self.scored.iter().map(|s| s.score).max().unwrap_or(0)
    }

    /// "partial NEWS2 5 from respiratory rate 3 (…), …; not known: …".
    pub fn describe(&self) -> String {
        let scored: Vec<String> = self
            .scored
            .iter()
            .map(|s| format!("{} {} ({:?})", label(s.kind), s.score, s.words))
            .collect();
        let missing: Vec<&str> = self.not_scored.iter().map(|k| label(*k)).collect();
        let mut out = format!("partial NEWS2 {} from {}", self.total, scored.join(", "));
        if !missing.is_empty() {
            out.push_str("; not known: ");
            out.push_str(&missing.join(", "));
        }
        out
    }
}

fn label(kind: VitalKind) -> &'static str {
    match kind {
        VitalKind::Spo2 => "SpO2",
        VitalKind::HeartRate => "pulse",
        VitalKind::RespiratoryRate => "respiratory rate",
        VitalKind::BloodPressure => "systolic BP",
        VitalKind::Temperature => "temperature",
        VitalKind::Glucose => "glucose",
        VitalKind::Ketones => "ketones",
        VitalKind::Consciousness => "consciousness",
        VitalKind::WeightKg => "weight",
    }
}

// ---------------------------------------------------------------------------
// Scanning

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Num { value: f32, int_digits: usize },
    Sym(char),
    Break,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
    /// A cue phrase ends at this token: (cue, index of its first token).
    cue_end: Option<(Cue, usize)>,
    /// A number that is not a measurement (time, phone, age, severity).
    rejected: bool,
}

impl Token {
    fn word(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }
    fn num(&self) -> Option<f32> {
        match self.tok {
            Tok::Num { value, .. } => Some(value),
            _ => None,
        }
    }
}

fn digit_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        // Devanagari digits ० … ९.
        '\u{0966}'..='\u{096F}' => Some(c as u32 - 0x0966),
        _ => None,
    }
}

fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic() || c == '\'';
    }
    let devanagari = ('\u{0900}'..='\u{097F}').contains(&c)
        && !matches!(c, '\u{0964}' | '\u{0965}')
        && digit_value(c).is_none();
    (c.is_alphabetic() || devanagari || matches!(c, '\'' | '’')) && digit_value(c).is_none()
}

/// Lower-case, without Latin accents or Devanagari nukta, chandrabindu as
/// anusvara: "Saturación" → "saturacion", "धड़कन" → "धडकन".
fn fold_into(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    // The same character folding as the lexicons' tokenizer.
    for c in c.to_lowercase() {
        if let Some(c) = crate::normalize::canonical(c) {
            out.push(crate::extract::fold_char(c));
        }
    }
}

fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_into(c, &mut out);
    }
    out
}

/// Alphanumeric words kept whole: "SpO2", "Sp02", "SaO2", "O2".
fn keeps_digits(word: &str, rest: &str) -> Option<usize> {
    let two = rest.starts_with('2') && !rest[1..].starts_with(|c: char| c.is_ascii_digit());
    match word {
        "spo" | "sao" | "o" if two => Some(1),
        "sp" if rest.starts_with("02") => Some(2),
        _ => None,
    }
}

fn scan(text: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |k: usize| chars.get(k).map_or(text.len(), |(b, _)| *b);
    let push_break = |tokens: &mut Vec<Token>, at: usize| {
        if tokens.last().is_some_and(|t| t.tok != Tok::Break) {
            tokens.push(Token {
                tok: Tok::Break,
                start: at,
                end: at,
                cue_end: None,
                rejected: false,
            });
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if digit_value(c).is_some() {
            let mut value: f64 = 0.0;
            let mut int_digits = 0;
            let mut j = i;
            while let Some(d) = chars.get(j).and_then(|(_, c)| digit_value(*c)) {
                value = value * 10.0 + f64::from(d);
                int_digits += 1;
                j += 1;
            }
            let decimal_point = chars.get(j).is_some_and(|(_, c)| matches!(c, '.' | ','));
            if decimal_point
                && chars
                    .get(j + 1)
                    .is_some_and(|(_, c)| digit_value(*c).is_some())
            {
                j += 1;
                let mut scale = 0.1;
                while let Some(d) = chars.get(j).and_then(|(_, c)| digit_value(*c)) {
                    value += f64::from(d) * scale;
                    scale /= 10.0;
                    j += 1;
                }
            }
            tokens.push(Token {
                tok: Tok::Num {
                    value: value as f32,
                    int_digits,
                },
                start,
                end: end_of(j),
                cue_end: None,
                rejected: false,
            });
            // "12x8" (Brazilian blood pressure).
            if chars.get(j).is_some_and(|(_, c)| matches!(c, 'x' | 'X'))
                && chars
                    .get(j + 1)
                    .is_some_and(|(_, c)| digit_value(*c).is_some())
            {
                tokens.push(Token {
                    tok: Tok::Sym('x'),
                    start: end_of(j),
                    end: end_of(j + 1),
                    cue_end: None,
                    rejected: false,
                });
                j += 1;
            }
            i = j;
        } else if is_word_char(c) {
            let mut word = String::new();
            let mut abbreviation = false;
            let mut j = i;
            while j < chars.len() {
                let c = chars[j].1;
                if is_word_char(c) {
                    fold_into(c, &mut word);
                    j += 1;
                } else if c == '.'
                    && word.chars().count() <= 2
                    && chars.get(j + 1).is_some_and(|(_, n)| n.is_alphabetic())
                {
                    // "b.p." is "bp"; "e.g." is "eg".
                    abbreviation = true;
                    j += 1;
                } else if c == '.' && abbreviation {
                    // The final dot of "b.p." ends the word, not the clause.
                    j += 1;
                    break;
                } else if digit_value(c).is_some() {
                    match keeps_digits(&word, &text[chars[j].0..]) {
                        Some(n) => {
                            word.push_str(&text[chars[j].0..chars[j].0 + n]);
                            j += n;
                        }
                        None => break,
                    }
                } else {
                    break;
                }
            }
            tokens.push(Token {
                tok: Tok::Word(word),
                start,
                end: end_of(j),
                cue_end: None,
                rejected: false,
            });
            i = j;
        } else {
            match c {
                '.' | ',' | '!' | '?' | ';' | '\n' | '।' | '॥' | '¿' | '¡' => {
                    push_break(&mut tokens, start)
                }
                '%' | '/' | ':' | '+' | '=' | '-' | '–' => tokens.push(Token {
                    tok: Tok::Sym(if c == '–' { '-' } else { c }),
                    start,
                    end: end_of(i + 1),
                    cue_end: None,
                    rejected: false,
                }),
                '°' | 'º' | '˚' => tokens.push(Token {
                    tok: Tok::Sym('°'),
                    start,
                    end: end_of(i + 1),
                    cue_end: None,
                    rejected: false,
                }),
                _ => {}
            }
            i += 1;
        }
    }
    tokens
}

// ---------------------------------------------------------------------------
// Vocabulary. Every phrase is folded (lower case, no accents) and matched on
// whole words.

/// Cue words, per kind. Longer phrases win ("pulse oximeter" over "pulse").
#[rustfmt::skip]
const CUES: &[(VitalKind, &[&str])] = &[
    (
        VitalKind::Spo2,
        &[
            // en
            "spo2", "sp02", "sao2", "spo", "o2", "o2 sat", "o2 sats", "o2 saturation", "o2 level",
            "sat", "sats", "saturation", "saturations", "saturating", "oxygen", "oxygen level",
            "oxygen levels", "oxygen saturation", "oxygen sat", "oxygen sats", "blood oxygen",
            "oxygen reading", "oximeter", "oxymeter", "oximeter reading", "pulse oximeter",
            "pulse oxymeter", "pulse ox", "pulseox",
            // es
            "saturacion", "saturacion de oxigeno", "saturando", "saturo", "satura", "oxigeno",
            "oxigenacion", "nivel de oxigeno", "oximetro", "saturometro",
            // fr
            "saturation en oxygene", "oxygene", "taux d'oxygene", "oxymetre", "saturometre",
            "sature", "sat o2",
            // pt
            "saturacao", "oxigenio", "oxigenacao", "nivel de oxigenio", "saturacao de oxigenio",
            // hi
            "ऑक्सीजन", "आक्सीजन", "ऑक्सिजन", "ओक्सीजन", "ऑक्सीमीटर", "ऑक्सीजन लेवल", "सैचुरेशन",
            "oxygen level", "oxygen lvl",
            // sw
            "oksijeni", "oksijen", "oxijeni", "kiwango cha oksijeni",
        ],
    ),
    (
        VitalKind::HeartRate,
        &[
            "pulse", "pulse rate", "heart rate", "heartrate", "heart beat", "heartbeat",
            "heart beats", "heart beating", "heart is beating", "heart", "hr", "bpm", "pulso",
            "frecuencia cardiaca", "ritmo cardiaco", "latidos", "pulsaciones", "corazon", "fc",
            "pouls", "frequence cardiaque", "rythme cardiaque", "battements", "coeur",
            "frequencia cardiaca", "batimentos", "batimentos cardiacos", "pulsacao", "pulsacoes",
            "batimento", "coracao", "पल्स", "नब्ज", "नाडी", "धडकन", "दिल की धडकन", "हार्ट रेट",
            "dhadkan", "dil ki dhadkan", "nabz", "pulse rate", "mapigo ya moyo", "mapigo",
            "pigo la moyo", "moyo",
        ],
    ),
    (
        VitalKind::RespiratoryRate,
        &[
            "rr", "resp", "resp rate", "respiratory rate", "respiration rate", "respirations",
            "respiration", "breathing rate", "breathing", "breaths", "breath", "breath rate", "breathes",
            "frecuencia respiratoria", "fr", "respiracion", "respiraciones", "respira",
            "respirando", "frequence respiratoire", "respire", "frequencia respiratoria",
            "respiracao", "incursoes", "सांस", "सांसें", "सांसे", "श्वास", "saans", "saanse",
            "kupumua", "anapumua", "napumua", "pumzi", "kasi ya kupumua",
        ],
    ),
    (
        VitalKind::BloodPressure,
        &[
            "bp", "blood pressure", "bp reading", "systolic", "presion", "presion arterial",
            "tension", "tension arterial", "tension arterielle", "pression arterielle", "pressao",
            "pressao arterial", "बीपी", "ब्लड प्रेशर", "रक्तचाप", "रक्त चाप", "shinikizo",
            "shinikizo la damu", "msukumo wa damu",
        ],
    ),
    (
        VitalKind::Temperature,
        &[
            "temperature", "temp", "fever", "fiebre", "temperatura", "fievre", "febre", "तापमान",
            "बुखार", "bukhar", "bukhaar", "homa", "joto", "joto la mwili", "thermometer",
            "termometro", "thermometre",
        ],
    ),
    (
        VitalKind::Glucose,
        &[
            "sugar", "sugars", "blood sugar", "sugar level", "sugar levels", "glucose",
            "blood glucose", "glucose level", "bg", "bm", "cbg", "rbs", "fbs", "grbs", "ppbs",
            "bsl", "bgl", "glucometer", "glucosa", "glucemia", "glicemia", "azucar",
            "nivel de azucar", "glucometro", "glycemie", "sucre", "taux de sucre", "dextro",
            "glicose", "acucar", "hgt", "शुगर", "ग्लूकोज", "sukari", "sukari ya damu",
            "kiwango cha sukari",
        ],
    ),
    (
        VitalKind::Ketones,
        &[
            "ketone", "ketones", "blood ketones", "ketone level", "cetona", "cetonas", "cetonemia",
            "cetones", "corps cetoniques", "cetonemie", "कीटोन", "ketoni",
        ],
    ),
    (
        VitalKind::Consciousness,
        &[
            "gcs", "glasgow", "glasgow coma scale", "escala de glasgow", "score de glasgow",
        ],
    ),
    (
        VitalKind::WeightKg,
        &[
            "weight", "weighs", "weigh", "weighing", "peso", "pesa", "pese", "poids", "pesando",
            "वजन", "wazan", "wajan", "uzito",
        ],
    ),
];

/// Blood-pressure cues that need a pair of numbers ("pressure 8" is not a
/// reading, "pressure 180/110" is).
#[rustfmt::skip]
const PAIR_ONLY_CUES: &[&str] = &["pressure", "ta", "pa", "प्रेशर", "presha", "pression"];
/// Cues after which a lone small number is in cmHg ("tension à 9" = 90).
#[rustfmt::skip]
const CMHG_CUES: &[&str] = &[
    "tension", "tension arterial", "tension arterielle", "presion", "presion arterial",
    "pression arterielle", "pressao", "pressao arterial",
];
/// Words before "pressure" that make it a symptom, not a reading.
#[rustfmt::skip]
const PRESSURE_SYMPTOM: &[&str] = &[
    "chest", "head", "ear", "eye", "sinus", "pelvic", "rectal", "pecho", "poitrine", "peito",
];
/// Between the two numbers of a blood pressure ("18 por 11", "120 over 80").
#[rustfmt::skip]
const PAIR_WORDS: &[&str] = &[
    "over", "by", "por", "sobre", "sur", "par", "kwa", "बाय", "बटा", "on", "con",
];
/// Before a pair, a date: "since 19/12".
#[rustfmt::skip]
const DATE_WORDS: &[&str] = &[
    "since", "on", "from", "until", "till", "date", "dated", "desde", "hasta", "el", "del",
    "depuis", "le", "du", "au", "jusqu'au", "ate", "dia", "tangu", "mpaka", "hadi", "tarehe",
];
/// After a pair, a date (Hindi postpositions).
#[rustfmt::skip]
const DATE_AFTER: &[&str] = &["से", "तक", "se", "tak", "ko", "को"];
/// Before a number, an age: "I'm 88", "aged 70".
#[rustfmt::skip]
const AGE_WORDS: &[&str] = &[
    "i'm", "im", "aged", "age", "edad", "idade", "umri", "उम्र", "umar", "umur",
];
/// Swahili writes the unit first: "siku 3" (3 days), "miaka 30" (30 years).
#[rustfmt::skip]
const UNITS_BEFORE: &[&str] = &[
    "siku", "miaka", "mwaka", "miezi", "mwezi", "wiki", "saa", "dakika",
];
/// Before "kg", a change of weight rather than a weight.
#[rustfmt::skip]
const WEIGHT_CHANGE: &[&str] = &[
    "lost", "gained", "lose", "gain", "losing", "gaining", "perdi", "perdio", "baje", "subi",
    "gane", "perdu", "pris", "perdeu", "ganhou", "engordei", "emagreci", "घटा", "बढा", "kam",
    "amepungua", "ameongezeka",
];
/// Connectors allowed between a number and a following cue ("88% de saturación").
#[rustfmt::skip]
const FORWARD_CONNECTORS: &[&str] = &["de", "of", "d'", "da", "do", "ya", "la", "el", "du", "des"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Percent,
    Beats,
    Breaths,
    PerMinute,
    MmHg,
    CmHg,
    Celsius,
    Fahrenheit,
    Degrees,
    Mmol,
    MgDl,
    GramsPerLitre,
    Kg,
    Pounds,
    /// Not a vital sign: a duration, an age, a dose, a count, a time.
    Reject,
}

/// Units written after a number, as folded word phrases; '/' and '%' are
/// written as themselves.
#[rustfmt::skip]
const UNITS: &[(Unit, &[&str])] = &[
    (
        Unit::Percent,
        &[
            "%", "percent", "per cent", "pc", "por ciento", "pour cent", "por cento", "प्रतिशत",
            "pratishat", "percent hai",
        ],
    ),
    (
        Unit::Beats,
        &[
            "bpm", "lpm", "ppm", "beats", "beats per minute", "beats a minute", "beats / min",
            "latidos", "latidos por minuto", "pulsaciones", "pulsaciones por minuto", "battements",
            "battements par minute", "batimentos", "batimentos por minuto", "pulsacoes", "धडकन",
            "mapigo",
        ],
    ),
    (
        Unit::Breaths,
        &[
            "breaths", "breaths per minute", "breaths a minute", "breaths / min", "breath",
            "respirations", "respiraciones", "respiraciones por minuto", "rpm", "irpm",
            "respirations par minute", "incursoes", "respiracoes", "respiracoes por minuto",
            "सांस", "सांसें", "pumzi",
        ],
    ),
    (
        Unit::PerMinute,
        &[
            "/ min", "/ m", "/ minute", "/ mn", "per minute", "per min", "a minute", "a min",
            "an minute", "times a minute", "times per minute", "times / min", "times in a minute",
            "times in one minute", "veces por minuto", "por minuto", "por min", "al minuto",
            "par minute", "fois par minute", "fois / min", "a la minute", "vezes por minuto",
            "por minuto", "bar prati minute", "बार प्रति मिनट", "प्रति मिनट", "बार एक मिनट में",
            "एक मिनट में", "मिनट में", "baar", "बार", "kwa dakika", "mara kwa dakika",
            "kwa dakika moja", "min -1",
        ],
    ),
    (
        Unit::MmHg,
        &["mmhg", "mm hg", "mm", "mm de mercurio", "mm de hg"],
    ),
    (Unit::CmHg, &["cmhg", "cm hg"]),
    (
        Unit::Fahrenheit,
        &[
            "° f", "f", "°f", "fahrenheit", "farenheit", "degrees f", "degree f", "deg f",
            "डिग्री फारेनहाइट",
        ],
    ),
    (
        Unit::Celsius,
        &[
            "° c", "c", "celsius", "centigrade", "degrees c", "degree c", "deg c",
        ],
    ),
    (
        Unit::Degrees,
        &[
            "°", "degrees", "degree", "deg", "grados", "grado", "degres", "degre", "graus", "grau",
            "डिग्री", "digri", "nyuzi",
        ],
    ),
    (
        Unit::Mmol,
        &[
            "mmol", "mmol / l", "mmol / litre", "mmol / liter", "mmol l", "mmol/l",
        ],
    ),
    (
        Unit::MgDl,
        &[
            "mg / dl", "mg / dl", "mgdl", "mg %", "mg / decilitre", "mg / deciliter",
        ],
    ),
    (
        Unit::GramsPerLitre,
        &["g / l", "gr / l", "grammes", "gramme"],
    ),
    (
        Unit::Kg,
        &[
            "kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes",
            "kilogramos", "quilos", "quilo", "quilogramas", "किलो", "किग्रा",
        ],
    ),
    (Unit::Pounds, &["lb", "lbs", "pounds", "pound"]),
    (
        Unit::Reject,
        &[
            "day", "days", "week", "weeks", "wk", "wks", "month", "months", "mo", "mos", "year",
            "years", "yr", "yrs", "yo", "y", "hour", "hours", "hr", "hrs", "h", "min", "mins",
            "minute", "minutes", "sec", "secs", "seconds", "am", "pm", "dia", "dias", "semana",
            "semanas", "mes", "meses", "ano", "anos", "hora", "horas", "minuto", "minutos", "jour",
            "jours", "semaine", "semaines", "mois", "an", "ans", "heure", "heures", "दिन", "हफ्ते",
            "महीने", "साल", "घंटे", "मिनट", "din", "saal", "ghante", "siku", "wiki", "miezi",
            "miaka", "saa", "dakika", "mg", "mcg", "ug", "g", "gr", "ml", "l", "litre", "litres",
            "liter", "liters", "lt", "ltr", "tablet", "tablets", "tab", "tabs", "pill", "pills",
            "capsule", "capsules", "units", "unit", "iu", "ui", "unidades", "unites", "puffs",
            "puff", "spoons", "spoon", "teaspoons", "cups", "cup", "glasses", "glass", "times",
            "time", "veces", "vez", "fois", "vezes", "x", "kids", "children", "people", "floors",
            "steps", "km", "kms", "miles", "cm", "cms", "m", "metres", "meters", "th", "st", "nd",
            "rd", "pastillas", "comprimidos", "comprimes",
            "goli", "गोली", "vidonge", "weeks'",
        ],
    ),
];

#[derive(Debug)]
struct Phrase<T> {
    words: Vec<String>,
    what: T,
}

/// FNV-1a: the index is looked up once per word of every message, and its
/// keys are short, fixed strings (no untrusted key choice to defend against).
#[derive(Debug, Default, Clone, Copy)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Phrases indexed by their first word; longest first.
#[derive(Debug)]
struct PhraseIndex<T> {
    by_first: HashMap<String, Vec<Phrase<T>>, BuildHasherDefault<Fnv>>,
}

impl<T: Copy> PhraseIndex<T> {
    fn new<'a>(entries: impl Iterator<Item = (T, &'a str)>) -> Self {
        let mut by_first: HashMap<String, Vec<Phrase<T>>, BuildHasherDefault<Fnv>> =
            HashMap::default();
        for (what, phrase) in entries {
            let words: Vec<String> = scan(phrase)
                .into_iter()
                .filter_map(|t| match t.tok {
                    Tok::Word(w) => Some(w),
                    Tok::Sym(c) => Some(c.to_string()),
                    _ => None,
                })
                .collect();
            if let Some(first) = words.first() {
                by_first
                    .entry(first.clone())
                    .or_default()
                    .push(Phrase { words, what });
            }
        }
        for list in by_first.values_mut() {
            list.sort_by_key(|p| std::cmp::Reverse(p.words.len()));
        }
        PhraseIndex { by_first }
    }

    /// The longest phrase starting at `tokens[at]`: (what, tokens used).
    fn at(&self, tokens: &[Token], at: usize) -> Option<(T, usize)> {
        let first = token_text(tokens.get(at)?)?;
        self.by_first.get(first)?.iter().find_map(|p| {
            let matches = p.words.iter().enumerate().all(|(k, w)| {
                tokens
                    .get(at + k)
                    .and_then(token_text)
                    .is_some_and(|t| t == w)
            });
            matches.then_some((p.what, p.words.len()))
        })
    }
}

fn token_text(t: &Token) -> Option<&str> {
    match &t.tok {
        Tok::Word(w) => Some(w),
        Tok::Sym('/') => Some("/"),
        Tok::Sym('%') => Some("%"),
        Tok::Sym('°') => Some("°"),
        Tok::Sym('-') => Some("-"),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cue {
    kind: VitalKind,
    pair_only: bool,
    cmhg: bool,
}

#[derive(Debug)]
struct Vocabulary {
    cues: PhraseIndex<Cue>,
    units: PhraseIndex<Unit>,
    devices: PhraseIndex<VitalKind>,
}

fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| {
        let cmhg: Vec<String> = CMHG_CUES.iter().map(|c| fold(c)).collect();
        let mut cues: Vec<(Cue, &str)> = CUES
            .iter()
            .flat_map(|(kind, words)| {
                words.iter().map(|w| {
                    let cue = Cue {
                        kind: *kind,
                        pair_only: false,
                        cmhg: cmhg.iter().any(|c| c == w),
                    };
                    (cue, *w)
                })
            })
            .collect();
        cues.extend(PAIR_ONLY_CUES.iter().map(|w| {
            let cue = Cue {
                kind: VitalKind::BloodPressure,
                pair_only: true,
                cmhg: false,
            };
            (cue, *w)
        }));
        Vocabulary {
            cues: PhraseIndex::new(cues.into_iter()),
            units: PhraseIndex::new(
                UNITS
                    .iter()
                    .flat_map(|(u, words)| words.iter().map(|w| (*u, *w))),
            ),
            devices: PhraseIndex::new(
                DEVICES
                    .iter()
                    .flat_map(|(k, words)| words.iter().map(|w| (*k, *w))),
            ),
        }
    })
}

// ---------------------------------------------------------------------------
// Reading

/// A number's context, worked out before deciding what it measures.
#[derive(Debug, Clone, Copy)]
struct Reading {
    /// Index of the (first) number token.
    at: usize,
    /// Index of the second number of a pair ("120/80", "18 por 11").
    pair: Option<usize>,
    /// One past the last token used (numbers and unit).
    end: usize,
    unit: Option<Unit>,
}

fn unit_at(tokens: &[Token], at: usize) -> Option<(Unit, usize)> {
    let v = vocabulary();
    // "10h30" is a time; a word made of letters then digits is never a unit.
    if let Some(w) = tokens.get(at).and_then(Token::word)
        && w.len() > 1
        && w.starts_with('h')
        && w[1..].chars().all(|c| c.is_ascii_digit())
    {
        return Some((Unit::Reject, 1));
    }
    // "°" then "C"/"F".
    if matches!(tokens.get(at).map(|t| &t.tok), Some(Tok::Sym('°'))) {
        return match tokens.get(at + 1).and_then(Token::word) {
            Some("c") => Some((Unit::Celsius, 2)),
            Some("f") => Some((Unit::Fahrenheit, 2)),
            _ => Some((Unit::Degrees, 1)),
        };
    }
    let found = v.units.at(tokens, at);
    // "mg" alone is a dose, "mg/dl" a glucose.
    match found {
        Some((Unit::Reject, n)) if tokens.get(at).and_then(Token::word) == Some("mg") => {
            let next = tokens.get(at + 1).map(|t| &t.tok);
            if next == Some(&Tok::Sym('/'))
                && tokens.get(at + 2).and_then(Token::word) == Some("dl")
            {
                Some((Unit::MgDl, 3))
            } else {
                Some((Unit::Reject, n))
            }
        }
        other => other,
    }
}

/// Whether the number at `at` is part of a time, phone number or other
/// non-measurement.
fn not_a_measurement(tokens: &[Token], at: usize) -> bool {
    let Some(Tok::Num { int_digits, .. }) = tokens.get(at).map(|t| &t.tok) else {
        return true;
    };
    let sym = |k: usize, c: char| tokens.get(k).is_some_and(|t| t.tok == Tok::Sym(c));
    let num = |k: usize| tokens.get(k).is_some_and(|t| t.num().is_some());
    let adjacent = |a: usize, b: usize| {
        tokens
            .get(a)
            .zip(tokens.get(b))
            .is_some_and(|(x, y)| x.end == y.start)
    };
    let time = (sym(at + 1, ':') && num(at + 2) && adjacent(at, at + 1))
        || (at >= 2 && sym(at - 1, ':') && num(at - 2) && adjacent(at - 1, at));
    let phone = *int_digits > 4 || (at >= 1 && sym(at - 1, '+'));
    // The word just before (symbols skipped): "I'm 88", "age: 70", "siku 3".
    let previous = tokens[..at]
        .iter()
        .rev()
        .take_while(|t| t.tok != Tok::Break)
        .find(|t| !matches!(t.tok, Tok::Sym(_)))
        .and_then(Token::word);
    let age_or_duration =
        previous.is_some_and(|w| AGE_WORDS.contains(&w) || UNITS_BEFORE.contains(&w));
    time || phone || age_or_duration || severity(tokens, at)
}

/// "8 out of 10", "8 de 10", "6 sur 10", "5 kati ya 10", "8 में से 10".
fn severity(tokens: &[Token], at: usize) -> bool {
    crate::quantities::OUT_OF.iter().any(|words| {
        let matches = words
            .iter()
            .enumerate()
            .all(|(k, w)| tokens.get(at + 1 + k).and_then(Token::word) == Some(*w));
        matches && tokens.get(at + 1 + words.len()).and_then(Token::num) == Some(10.0)
    })
}

/// A glucose meter's "HI" (above its range, 33.3 mmol/L) or "LO" (below
/// 1.1 mmol/L), written in capitals after a glucose cue.
fn meter_limit(text: &str, tokens: &[Token], at: usize, stop: usize) -> Option<Measurement> {
    let t = &tokens[at];
    let value = match text.get(t.start..t.end)? {
        "HI" => 33.3,
        "LO" => 1.1,
        _ => return None,
    };
    let (cue, first, _) = cue_before(tokens, at, stop)?;
    (cue.kind == VitalKind::Glucose).then(|| Measurement {
        kind: VitalKind::Glucose,
        value,
        second: None,
        words: text
            .get(tokens[first].start..t.end)
            .unwrap_or_default()
            .to_owned(),
    })
}

fn reading_at(tokens: &[Token], at: usize) -> Reading {
    let is_num = |k: usize| tokens.get(k).is_some_and(|t| t.num().is_some());
    let sep = tokens.get(at + 1).map(|t| &t.tok);
    let pair = match sep {
        Some(Tok::Sym('/' | 'x')) if is_num(at + 2) => Some(at + 2),
        Some(Tok::Word(w)) if PAIR_WORDS.contains(&w.as_str()) && is_num(at + 2) => Some(at + 2),
        _ => None,
    };
    let after = pair.map_or(at + 1, |p| p + 1);
    match unit_at(tokens, after) {
        Some((unit, n)) => Reading {
            at,
            pair,
            end: after + n,
            unit: Some(unit),
        },
        None => Reading {
            at,
            pair,
            end: after,
            unit: None,
        },
    }
}

/// The cue nearest before `at`, within five words of the same clause,
/// stopping at an earlier reading: (cue, its first token, tokens used).
fn cue_before(tokens: &[Token], at: usize, stop: usize) -> Option<(Cue, usize, usize)> {
    let mut words = 0;
    let mut k = at;
    while k > stop {
        k -= 1;
        match &tokens[k].tok {
            Tok::Break => return None,
            Tok::Num { .. } if !tokens[k].rejected => return None,
            Tok::Word(_) => {
                if let Some((cue, start)) = tokens[k].cue_end
                    && start >= stop
                {
                    return Some((cue, start, k + 1 - start));
                }
                words += 1;
                if words > 5 {
                    return None;
                }
            }
            _ => {}
        }
    }
    None
}

/// "chest pressure" is a symptom.
fn usable_cue(tokens: &[Token], start: usize, cue: Cue) -> bool {
    let symptom = start > 0
        && cue.pair_only
        && tokens[start - 1]
            .word()
            .is_some_and(|w| PRESSURE_SYMPTOM.contains(&w));
    !symptom
}

/// A cue right after the reading ("88% oxygen", "140 pulse", "88% de
/// saturación"), unless it has a number of its own.
fn cue_after(tokens: &[Token], from: usize) -> Option<(Cue, usize)> {
    let v = vocabulary();
    let mut k = from;
    if tokens
        .get(k)
        .and_then(Token::word)
        .is_some_and(|w| FORWARD_CONNECTORS.contains(&w))
    {
        k += 1;
    }
    let (cue, n) = v.cues.at(tokens, k)?;
    let own_number = (k + n..k + n + 3)
        .take_while(|j| tokens.get(*j).is_some_and(|t| t.tok != Tok::Break))
        .any(|j| tokens.get(j).is_some_and(|t| t.num().is_some()));
    (!own_number).then_some((cue, k + n))
}

fn compatible(kind: VitalKind, unit: Option<Unit>) -> bool {
    let Some(unit) = unit else { return true };
    match kind {
        VitalKind::Spo2 => unit == Unit::Percent,
        VitalKind::HeartRate => matches!(unit, Unit::Beats | Unit::PerMinute),
        VitalKind::RespiratoryRate => matches!(unit, Unit::Breaths | Unit::PerMinute),
        VitalKind::BloodPressure => matches!(unit, Unit::MmHg | Unit::CmHg),
        VitalKind::Temperature => {
            matches!(unit, Unit::Celsius | Unit::Fahrenheit | Unit::Degrees)
        }
        VitalKind::Glucose => matches!(unit, Unit::Mmol | Unit::MgDl | Unit::GramsPerLitre),
        VitalKind::Ketones => unit == Unit::Mmol,
        VitalKind::Consciousness => false,
        VitalKind::WeightKg => matches!(unit, Unit::Kg | Unit::Pounds),
    }
}

/// The kind a unit names on its own, without a cue word.
fn kind_of_unit(unit: Unit) -> Option<VitalKind> {
    match unit {
        Unit::Beats => Some(VitalKind::HeartRate),
        Unit::Breaths => Some(VitalKind::RespiratoryRate),
        Unit::MmHg | Unit::CmHg => Some(VitalKind::BloodPressure),
        Unit::Celsius | Unit::Fahrenheit | Unit::Degrees => Some(VitalKind::Temperature),
        Unit::Mmol | Unit::MgDl => Some(VitalKind::Glucose),
        Unit::Kg | Unit::Pounds => Some(VitalKind::WeightKg),
        Unit::Percent | Unit::PerMinute | Unit::GramsPerLitre | Unit::Reject => None,
    }
}

/// The value in canonical units, if plausible for the kind.
fn canonical(
    kind: VitalKind,
    cue: Option<Cue>,
    unit: Option<Unit>,
    first: f32,
    second: Option<f32>,
) -> Option<(f32, Option<f32>)> {
    let within = |v: f32, lo: f32, hi: f32| (lo..=hi).contains(&v).then_some(v);
    match kind {
        VitalKind::BloodPressure => {
            // Spanish, French and Portuguese speakers often give cmHg:
            // "19/12" is 190/120, "tension à 9" is 90.
            let small = first <= 30.0 && second.is_none_or(|d| d <= 20.0);
            let cm = unit == Some(Unit::CmHg)
                || (small && (second.is_some() || cue.is_some_and(|c| c.cmhg)));
            let scale = if cm { 10.0 } else { 1.0 };
            let s = first * scale;
            match second.map(|d| d * scale) {
                Some(d) => {
                    (within(s, 50.0, 300.0).is_some() && within(d, 20.0, 200.0).is_some() && s > d)
                        .then_some((s, Some(d)))
                }
                None => within(s, 50.0, 300.0).map(|s| (s, None)),
            }
        }
        _ if second.is_some() => None,
        VitalKind::Spo2 => within(first, 50.0, 100.0).map(|v| (v, None)),
        VitalKind::HeartRate => within(first, 20.0, 250.0).map(|v| (v, None)),
        VitalKind::RespiratoryRate => within(first, 4.0, 80.0).map(|v| (v, None)),
        VitalKind::Temperature => {
            let f = unit == Some(Unit::Fahrenheit)
                || (unit != Some(Unit::Celsius) && (90.0..=113.0).contains(&first));
            let c = if f { (first - 32.0) * 5.0 / 9.0 } else { first };
            within(c, 30.0, 45.0).map(|v| (v, None))
        }
        VitalKind::Glucose => {
            // Without a unit, a value above 35 can only be mg/dL (meters
            // read "HI" above 33.3 mmol/L); below it, mmol/L.
            let mmol = match unit {
                Some(Unit::MgDl) => first / 18.0,
                Some(Unit::GramsPerLitre) => first * 100.0 / 18.0,
                Some(_) => first,
                None if first > 35.0 => first / 18.0,
                None => first,
            };
            within(mmol, 0.5, 60.0).map(|v| (v, None))
        }
        VitalKind::Ketones => within(first, 0.0, 15.0).map(|v| (v, None)),
        VitalKind::Consciousness => within(first, 3.0, 15.0)
            .filter(|v| v.fract() == 0.0)
            .map(|v| (v, None)),
        VitalKind::WeightKg => {
            let kg = if unit == Some(Unit::Pounds) {
                first / 2.2046
            } else {
                first
            };
            within(kg, 0.3, 350.0).map(|v| (v, None))
        }
    }
}

/// Marks where cue phrases end (longest phrase first, left to right) and
/// which numbers are not measurements, once per message.
fn prepare(tokens: &mut [Token]) {
    let v = vocabulary();
    let mut i = 0;
    while i < tokens.len() {
        match v.cues.at(tokens, i) {
            Some((cue, n)) if usable_cue(tokens, i, cue) => {
                tokens[i + n - 1].cue_end = Some((cue, i));
                i += n;
            }
            _ => i += 1,
        }
    }
    for k in 0..tokens.len() {
        if tokens[k].num().is_some() {
            tokens[k].rejected = not_a_measurement(tokens, k);
        }
    }
}

/// Every measurement in `text`, in the order written.
pub fn read(text: &str) -> Vec<Measurement> {
    let mut tokens = scan(text);
    prepare(&mut tokens);
    let mut out = Vec::new();
    // Tokens before this belong to an earlier reading.
    let mut stop = 0;
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].word().is_some()
            && let Some(m) = meter_limit(text, &tokens, i, stop)
        {
            out.push(m);
            i += 1;
            stop = i;
            continue;
        }
        if tokens[i].num().is_none() || tokens[i].rejected {
            i += 1;
            continue;
        }
        let r = reading_at(&tokens, i);
        if let Some(m) = measurement(text, &tokens, &r, stop) {
            out.push(m.0);
            stop = m.1;
            i = m.1;
        } else {
            // A rejected pair or a number with a non-vital unit is skipped whole.
            i = if r.unit == Some(Unit::Reject) || r.pair.is_some() {
                r.end
            } else {
                i + 1
            };
        }
    }
    out
}

/// The measurement a reading makes, and the first token after it.
fn measurement(
    text: &str,
    tokens: &[Token],
    r: &Reading,
    stop: usize,
) -> Option<(Measurement, usize)> {
    if r.unit == Some(Unit::Reject) {
        return None;
    }
    let first = tokens[r.at].num()?;
    let second = r.pair.and_then(|p| tokens[p].num());
    // Three numbers in a row with slashes are a date ("19/12/2025").
    if let Some(p) = r.pair
        && tokens.get(p + 1).is_some_and(|t| t.tok == Tok::Sym('/'))
        && tokens.get(p + 2).is_some_and(|t| t.num().is_some())
    {
        return None;
    }
    let before = cue_before(tokens, r.at, stop);
    let after = if before.is_none() {
        cue_after(tokens, r.end)
    } else {
        None
    };
    let cue = before.map(|b| b.0).or(after.map(|a| a.0));
    let kind = match (cue, r.unit) {
        (Some(c), unit) if compatible(c.kind, unit) => c.kind,
        (Some(_), _) => return None,
        (None, Some(unit)) => kind_of_unit(unit)?,
        // A bare "150/95" is a blood pressure; a bare number is nothing.
        (None, None) if second.is_some() && tokens[r.at + 1].tok == Tok::Sym('/') => {
            let (s, d) = (first, second.unwrap_or(0.0));
            if !((70.0..=260.0).contains(&s) && (40.0..=160.0).contains(&d) && s > d) {
                return None;
            }
            VitalKind::BloodPressure
        }
        (None, None) => return None,
    };
    // GCS is written "13/15": keep the score.
    let (first, second) = match (kind, second) {
        (VitalKind::Consciousness, Some(15.0)) => (first, None),
        other => (first, other.1),
    };
    if kind == VitalKind::BloodPressure {
        if second.is_none() && cue.is_some_and(|c| c.pair_only) {
            return None;
        }
        if second.is_some() && is_date(tokens, r) {
            return None;
        }
    } else if r.pair.is_some() && second.is_some() {
        // "8/10", "2/3" next to a cue that is not blood pressure.
        return None;
    }
    if kind == VitalKind::WeightKg && weight_change(tokens, r.at) {
        return None;
    }
    let (value, second) = canonical(kind, cue, r.unit, first, second)?;
    let start = before.map_or(tokens[r.at].start, |b| tokens[b.1].start);
    let last = after.map_or(r.end, |a| a.1);
    let end = tokens[..last.min(tokens.len())]
        .last()
        .map_or(text.len(), |t| t.end);
    let words = text.get(start..end).unwrap_or_default().trim().to_owned();
    Some((
        Measurement {
            kind,
            value,
            second,
            words,
        },
        last,
    ))
}

fn is_date(tokens: &[Token], r: &Reading) -> bool {
    let before = r.at.checked_sub(1).and_then(|k| tokens[k].word());
    let after = tokens.get(r.end).and_then(Token::word);
    before.is_some_and(|w| DATE_WORDS.contains(&w))
        || after.is_some_and(|w| DATE_AFTER.contains(&w))
}

fn weight_change(tokens: &[Token], at: usize) -> bool {
    tokens[at.saturating_sub(3)..at]
        .iter()
        .any(|t| t.word().is_some_and(|w| WEIGHT_CHANGE.contains(&w)))
}

// ---------------------------------------------------------------------------
// Devices

/// Home devices, by what they measure.
#[rustfmt::skip]
const DEVICES: &[(VitalKind, &[&str])] = &[
    (
        VitalKind::Spo2,
        &[
            "oximeter", "oxymeter", "oximeters", "pulse ox", "pulseox", "sats monitor",
            "sats probe", "oximetro", "saturometro", "oxymetre", "saturometre", "ऑक्सीमीटर",
            "oximeter machine", "ऑक्सीमीटर मशीन", "kipima oksijeni", "kipima cha oksijeni",
            "oksimita",
        ],
    ),
    (
        VitalKind::BloodPressure,
        &[
            "bp machine", "bp monitor", "bp cuff", "bp apparatus", "blood pressure monitor",
            "blood pressure machine", "blood pressure cuff", "sphygmomanometer", "tensiometro",
            "baumanometro", "esfigmomanometro", "tensiometre", "autotensiometre",
            "appareil a tension", "brassard", "medidor de pressao", "aparelho de pressao",
            "aparelho de medir pressao", "बीपी मशीन", "bp मशीन", "kipima presha",
            "kipimo cha presha", "mashine ya presha", "kipima shinikizo",
        ],
    ),
    (
        VitalKind::Glucose,
        &[
            "glucometer", "glucose meter", "blood sugar meter", "sugar machine", "sugar meter",
            "blood glucose meter", "libre", "freestyle libre", "cgm", "dexcom", "glucometro",
            "medidor de glucosa", "glucometre", "lecteur de glycemie", "glycometre",
            "glicosimetro", "glicometro", "medidor de glicose", "aparelho de glicose",
            "ग्लूकोमीटर", "शुगर मशीन", "kipima sukari", "mashine ya sukari",
        ],
    ),
    (
        VitalKind::Temperature,
        &[
            "thermometer", "termometro", "thermometre", "थर्मामीटर", "termometa", "kipima joto",
            "kipimajoto",
        ],
    ),
    (
        VitalKind::Ketones,
        &[
            "ketone meter", "ketone strips", "medidor de cetonas", "lecteur de cetones",
            "medidor de cetona", "कीटोन मीटर",
        ],
    ),
    (
        VitalKind::WeightKg,
        &[
            "weighing scale", "bathroom scale", "bathroom scales", "weighing scales", "bascula",
            "balanza", "pese personne", "balanca", "वजन मशीन", "mizani",
        ],
    ),
];

/// Negations before a device ("no thermometer", "sin termómetro", "sina
/// kipima") or, in Hindi, after it ("थर्मामीटर नहीं है").
#[rustfmt::skip]
const DEVICE_NEGATIONS: &[&str] = &[
    "no", "not", "don't", "dont", "without", "haven't", "havent", "never", "sin", "pas", "sans",
    "nao", "sem", "nunca", "sina", "hana", "bila", "hakuna", "hatuna",
];
#[rustfmt::skip]
const DEVICE_NEGATIONS_AFTER: &[&str] = &["नहीं", "nahi", "nahin", "nai", "hakuna"];

/// The devices the patient says they have or used, in the order mentioned.
pub fn devices(text: &str) -> Vec<VitalKind> {
    let v = vocabulary();
    let tokens = scan(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Some((kind, n)) = v.devices.at(&tokens, i) else {
            i += 1;
            continue;
        };
        let clause_before = tokens[..i]
            .iter()
            .rev()
            .take_while(|t| t.tok != Tok::Break)
            .take(4);
        let clause_after = tokens[i + n..]
            .iter()
            .take_while(|t| t.tok != Tok::Break)
            .take(3);
        let denied = clause_before
            .filter_map(Token::word)
            .any(|w| DEVICE_NEGATIONS.contains(&w))
            || clause_after
                .filter_map(Token::word)
                .any(|w| DEVICE_NEGATIONS_AFTER.contains(&w));
        if !denied && !out.contains(&kind) {
            out.push(kind);
        }
        i += n;
    }
    out
}

// ---------------------------------------------------------------------------
// Assessment

/// Age used for the rules: the stated age, else "under 3 months" when the
/// patient says so (lexicon concept `young_infant`), else unknown (adult).
fn effective_age(age_years: Option<f32>, present: &dyn Fn(&str) -> bool) -> Option<f32> {
    age_years.or_else(|| present("young_infant").then_some(1.0 / 12.0))
}

/// Concepts present in the patient's words, or implied by a measurement.
fn concept_check<'a>(
    rules: &'a VitalRules,
    measurements: &'a [Measurement],
    age: Option<f32>,
    present: &'a dyn Fn(&str) -> bool,
) -> impl Fn(&str) -> bool + 'a {
    move |concept: &str| {
        present(concept)
            || rules.derived.iter().any(|d| {
                d.concept == concept
                    && measurements
                        .iter()
                        .any(|m| m.kind == d.when.kind && d.when.holds(m.value, m.second, age))
            })
    }
}

fn matching<'a>(
    conditions: &[Condition],
    measurements: &'a [Measurement],
    age: Option<f32>,
) -> Vec<&'a Measurement> {
    measurements
        .iter()
        .filter(|m| {
            conditions
                .iter()
                .any(|c| c.kind == m.kind && c.holds(m.value, m.second, age))
        })
        .collect()
}

/// Every threshold that fires, most urgent first, with the bundled rules.
///
/// `present(concept)` says whether the patient reports a concept
/// (`breathless`, `confusion`, `pregnant`, …). If the bundled thresholds
/// failed to load (a CI test prevents it), any measurement yields a
/// `vitals.rules_unavailable` finding at `urgent_24h` so that a clinician
/// sees the readings rather than nothing.
pub fn assess(
    measurements: &[Measurement],
    age_years: Option<f32>,
    present: &dyn Fn(&str) -> bool,
) -> Vec<VitalFinding> {
    match prompts::vitals::bundled() {
        Ok(rules) => assess_with(rules, measurements, age_years, present),
        Err(e) if !measurements.is_empty() => vec![VitalFinding {
            id: "vitals.rules_unavailable".to_owned(),
            disposition: Disposition::Urgent24h,
            summary: format!(
                "Vital-sign thresholds could not be loaded ({e}); review the readings."
            ),
            source: "internal".to_owned(),
            evidence: measurements.iter().map(|m| m.words.clone()).collect(),
        }],
        Err(_) => Vec::new(),
    }
}

/// [`assess`] with explicit rules.
pub fn assess_with(
    rules: &VitalRules,
    measurements: &[Measurement],
    age_years: Option<f32>,
    present: &dyn Fn(&str) -> bool,
) -> Vec<VitalFinding> {
    let age = effective_age(age_years, present);
    let has = concept_check(rules, measurements, age, present);
    let mut fired: Vec<(usize, Option<&str>, VitalFinding)> = Vec::new();
    for (order, rule) in rules.rules.iter().enumerate() {
        let age_ok = rule
            .age_at_least
            .is_none_or(|min| age.is_none_or(|a| a >= min))
            && rule
                .age_below
                .is_none_or(|max| age.is_some_and(|a| a < max));
        if !age_ok {
            continue;
        }
        let hits = matching(&rule.when, measurements, age);
        let any: Vec<&String> = rule.any.iter().filter(|c| has(c)).collect();
        let all = rule.all.iter().all(|c| has(c));
        if hits.is_empty() || !all || (!rule.any.is_empty() && any.is_empty()) {
            continue;
        }
        let mut evidence: Vec<String> = hits.iter().map(|m| m.words.clone()).collect();
        evidence.extend(rule.all.iter().chain(any).cloned());
        fired.push((
            order,
            rule.group.as_deref(),
            VitalFinding {
                id: rule.id.clone(),
                disposition: rule.disposition,
                summary: rule.summary.clone(),
                source: rule.source.clone(),
                evidence,
            },
        ));
    }
    if let Some(finding) = news2_finding(&rules.news2, measurements, age, present) {
        fired.push((usize::MAX, None, finding));
    }
    // Most urgent first; within a group only the most urgent survives.
    fired.sort_by(|a, b| b.2.disposition.cmp(&a.2.disposition).then(a.0.cmp(&b.0)));
    let mut groups: Vec<&str> = Vec::new();
    fired
        .into_iter()
        .filter(|(_, group, _)| match group {
            Some(g) if groups.contains(g) => false,
            Some(g) => {
                groups.push(g);
                true
            }
            None => true,
        })
        .map(|(_, _, f)| f)
        .collect()
}

fn news2_finding(
    table: &News2Table,
    measurements: &[Measurement],
    age: Option<f32>,
    present: &dyn Fn(&str) -> bool,
) -> Option<VitalFinding> {
    let score = news2_with(table, measurements, age, present)?;
    let mut responses: Vec<_> = table.responses.iter().collect();
    responses.sort_by_key(|r| std::cmp::Reverse(r.disposition));
    let response = responses.into_iter().find(|r| {
        r.total_at_least.is_some_and(|t| score.total >= t)
            || r.single_score.is_some_and(|s| score.max_single() >= s)
    })?;
    Some(VitalFinding {
        id: response.id.clone(),
        disposition: response.disposition,
        summary: format!("{} ({})", response.summary, score.describe()),
        source: response.source.clone(),
        evidence: score.scored.iter().map(|s| s.words.clone()).collect(),
    })
}

/// The partial NEWS2 over the parameters known, or `None` when no NEWS2
/// parameter was measured or the patient is under 16 (NEWS2 is not
/// validated in children). An unknown age counts as adult.
pub fn news2(
    measurements: &[Measurement],
    age_years: Option<f32>,
    present: &dyn Fn(&str) -> bool,
) -> Option<News2> {
    let rules = prompts::vitals::bundled().ok()?;
    news2_with(
        &rules.news2,
        measurements,
        effective_age(age_years, present),
        present,
    )
}

fn news2_with(
    table: &News2Table,
    measurements: &[Measurement],
    age: Option<f32>,
    present: &dyn Fn(&str) -> bool,
) -> Option<News2> {
    if age.is_some_and(|a| a < table.from_age) {
        return None;
    }
    let mut scored: Vec<News2Score> = Vec::new();
    for kind in NEWS2_KINDS {
        // The worst reading of each parameter counts.
        let best = measurements
            .iter()
            .filter(|m| m.kind == kind)
            .map(|m| {
                let points = table
                    .bands
                    .iter()
                    .filter(|b| b.when.kind == kind && b.when.holds(m.value, m.second, age))
                    .map(|b| b.score)
                    .max()
                    .unwrap_or(0);
                (points, m)
            })
            .max_by_key(|(points, _)| *points);
        if let Some((score, m)) = best {
            scored.push(News2Score {
                kind,
                score,
                words: m.words.clone(),
            });
        }
    }
    if scored.is_empty() {
        return None;
    }
    // New confusion, drowsiness or unresponsiveness is C/V/P/U.
    if let Some(concept) = table.consciousness_concepts.iter().find(|c| present(c)) {
        match scored
            .iter_mut()
            .find(|s| s.kind == VitalKind::Consciousness)
        {
            Some(s) if s.score >= table.consciousness_score => {}
            Some(s) => {
                s.score = table.consciousness_score;
                s.words = concept.clone();
            }
            None => scored.push(News2Score {
                kind: VitalKind::Consciousness,
                score: table.consciousness_score,
                words: concept.clone(),
            }),
        }
    }
    let not_scored = NEWS2_KINDS
        .into_iter()
        .filter(|k| !scored.iter().any(|s| s.kind == *k))
        .collect();
    Some(News2 {
        total: scored.iter().map(|s| s.score).sum(),
        scored,
        not_scored,
    })
}

/// The question asked of a patient who has the device for `kind`
/// ("What does your pulse oximeter show? …"), from `vitals.toml`.
pub fn question(kind: VitalKind, lang: Language) -> Option<&'static str> {
    let rules = prompts::vitals::bundled().ok()?;
    rules.questions.get(&kind)?.get(&lang).map(String::as_str)
}

/// The version of the bundled thresholds, recorded with each finding.
pub fn rules_version() -> &'static str {
    prompts::vitals::bundled().map_or("unavailable", |r| r.version.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Measurement {
        let all = read(text);
        assert_eq!(all.len(), 1, "{text}: {all:?}");
        all.into_iter().next().unwrap()
    }

    fn kv(text: &str) -> (VitalKind, f32, Option<f32>) {
        let m = one(text);
        (m.kind, m.value, m.second)
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 0.05
    }

    #[test]
    fn english_readings() {
        use VitalKind::*;
        for text in [
            "sats 88",
            "SpO2 88%",
            "O2 sat 88",
            "oxygen level is 88",
            "my oximeter says 88",
            "88% oxygen",
            "pulse ox reading 88 %",
        ] {
            assert_eq!(kv(text), (Spo2, 88.0, None), "{text}");
        }
        for text in ["pulse 142", "HR 142bpm", "heart rate of 142", "142 bpm"] {
            assert_eq!(kv(text), (HeartRate, 142.0, None), "{text}");
        }
        assert_eq!(kv("BP 82/48"), (BloodPressure, 82.0, Some(48.0)));
        assert_eq!(
            kv("blood pressure 190/125"),
            (BloodPressure, 190.0, Some(125.0))
        );
        assert_eq!(
            kv("my b.p. was 150 over 95"),
            (BloodPressure, 150.0, Some(95.0))
        );
        assert_eq!(kv("150/95 mmHg"), (BloodPressure, 150.0, Some(95.0)));
        for text in [
            "breathing 30 times a minute",
            "RR 30",
            "30 breaths per minute",
            "respiratory rate is 30/min",
        ] {
            assert_eq!(kv(text), (RespiratoryRate, 30.0, None), "{text}");
        }
        assert_eq!(kv("sugar 2.8"), (Glucose, 2.8, None));
        let (k, v, _) = kv("glucose 450 mg/dl");
        assert!(k == Glucose && close(v, 25.0), "{v}");
        assert_eq!(kv("weighs 12 kg"), (WeightKg, 12.0, None));
        assert_eq!(kv("temp 39.5"), (Temperature, 39.5, None));
        let (k, v, _) = kv("temperature 102F");
        assert!(k == Temperature && close(v, 38.9), "{v}");
        assert_eq!(kv("ketones 3.4"), (Ketones, 3.4, None));
        assert_eq!(kv("GCS 13/15"), (Consciousness, 13.0, None));
    }

    #[test]
    fn spanish_french_portuguese_readings() {
        use VitalKind::*;
        assert_eq!(kv("saturación 88%"), (Spo2, 88.0, None));
        assert_eq!(kv("estoy saturando 86"), (Spo2, 86.0, None));
        assert_eq!(kv("saturation à 88"), (Spo2, 88.0, None));
        assert_eq!(kv("saturação 88"), (Spo2, 88.0, None));
        assert_eq!(kv("88% de saturación"), (Spo2, 88.0, None));
        assert_eq!(kv("pulso 140"), (HeartRate, 140.0, None));
        assert_eq!(kv("pouls à 140"), (HeartRate, 140.0, None));
        assert_eq!(kv("frequência cardíaca 140"), (HeartRate, 140.0, None));
        assert_eq!(kv("presión 190/120"), (BloodPressure, 190.0, Some(120.0)));
        assert_eq!(kv("tension 19/12"), (BloodPressure, 190.0, Some(120.0)));
        assert_eq!(
            kv("ma tension est à 8/5"),
            (BloodPressure, 80.0, Some(50.0))
        );
        assert_eq!(kv("pressão 18 por 11"), (BloodPressure, 180.0, Some(110.0)));
        assert_eq!(kv("pressão 12x8"), (BloodPressure, 120.0, Some(80.0)));
        assert_eq!(
            kv("respiración 32 por minuto"),
            (RespiratoryRate, 32.0, None)
        );
        assert_eq!(
            kv("il respire 35 fois par minute"),
            (RespiratoryRate, 35.0, None)
        );
        let (k, v, _) = kv("glucemia 40");
        assert!(k == Glucose && close(v, 2.2), "{v}");
        let (k, v, _) = kv("glycémie à 0,45 g/l");
        assert!(k == Glucose && close(v, 2.5), "{v}");
        assert_eq!(kv("temperatura 39,5"), (Temperature, 39.5, None));
        assert_eq!(kv("pesa 12 kg"), (WeightKg, 12.0, None));
    }

    #[test]
    fn hindi_and_swahili_readings() {
        use VitalKind::*;
        assert_eq!(kv("ऑक्सीजन 88"), (Spo2, 88.0, None));
        assert_eq!(kv("मेरा ऑक्सीजन लेवल ८८ है"), (Spo2, 88.0, None));
        assert_eq!(kv("oxygen 88 hai"), (Spo2, 88.0, None));
        assert_eq!(kv("धड़कन 140"), (HeartRate, 140.0, None));
        assert_eq!(kv("dhadkan 140 hai"), (HeartRate, 140.0, None));
        assert_eq!(kv("बीपी 180/120 है"), (BloodPressure, 180.0, Some(120.0)));
        assert_eq!(kv("sugar 300 hai"), (Glucose, 300.0 / 18.0, None));
        assert_eq!(kv("सांस 30 बार प्रति मिनट"), (RespiratoryRate, 30.0, None));
        assert_eq!(kv("oksijeni 88"), (Spo2, 88.0, None));
        assert_eq!(
            kv("kiwango cha oksijeni ni asilimia 88"),
            (Spo2, 88.0, None)
        );
        assert_eq!(kv("mapigo ya moyo 140"), (HeartRate, 140.0, None));
        assert_eq!(kv("presha 180/110"), (BloodPressure, 180.0, Some(110.0)));
        assert_eq!(kv("sukari 2.5"), (Glucose, 2.5, None));
        assert_eq!(
            kv("anapumua mara 40 kwa dakika"),
            (RespiratoryRate, 40.0, None)
        );
    }

    #[test]
    fn several_readings_in_one_message() {
        let all = read("sats 88, pulse 120 and BP 100/60. temp 38.4");
        let kinds: Vec<VitalKind> = all.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            vec![
                VitalKind::Spo2,
                VitalKind::HeartRate,
                VitalKind::BloodPressure,
                VitalKind::Temperature
            ]
        );
        assert_eq!(all[0].words, "sats 88");
        assert_eq!(all[2].words, "BP 100/60");
        let all = read("oxygen 91 pulse 130");
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[1].value, 130.0);
    }

    #[test]
    fn numbers_that_are_not_vitals() {
        for text in [
            "I'm 88 years old",
            "8/10 pain",
            "chest pressure 8/10",
            "took 2 paracetamol 500mg",
            "since 19/12",
            "my BP has been high since 19/12",
            "sugar pills 500 mg",
            "at 10:30 I felt dizzy",
            "call me on +254 712 345 678",
            "oxygen 2 litres",
            "breathing is hard for 3 days",
            "I had 2 spoons of sugar",
            "pulse was fine for 20 minutes",
            "I lost 5 kg",
            "fever for 3 days",
            "39 weeks pregnant",
            "el 19/12/2025",
            "120/80",
        ] {
            let all = read(text);
            let allowed = text == "120/80";
            assert!(all.is_empty() || allowed, "{text}: {all:?}");
        }
    }

    #[test]
    fn times_are_skipped_but_the_reading_after_is_kept() {
        assert_eq!(
            kv("at 10:30 my sugar was 2.8"),
            (VitalKind::Glucose, 2.8, None)
        );
        assert_eq!(
            kv("sugar at 10:30 was 5.6"),
            (VitalKind::Glucose, 5.6, None)
        );
    }

    #[test]
    fn devices_in_six_languages_and_denials() {
        assert_eq!(devices("I have a pulse oximeter"), vec![VitalKind::Spo2]);
        assert_eq!(devices("tengo un oxímetro"), vec![VitalKind::Spo2]);
        assert_eq!(devices("j'ai un oxymètre"), vec![VitalKind::Spo2]);
        assert_eq!(devices("मेरे पास ऑक्सीमीटर है"), vec![VitalKind::Spo2]);
        assert_eq!(devices("nina kipima oksijeni"), vec![VitalKind::Spo2]);
        assert_eq!(
            devices("tengo tensiómetro y glucómetro"),
            vec![VitalKind::BloodPressure, VitalKind::Glucose]
        );
        assert_eq!(
            devices("j'ai un tensiomètre"),
            vec![VitalKind::BloodPressure]
        );
        assert_eq!(devices("we have a sugar machine"), vec![VitalKind::Glucose]);
        assert_eq!(devices("tenho termômetro"), vec![VitalKind::Temperature]);
        assert!(devices("I don't have a thermometer").is_empty());
        assert!(devices("sin termómetro").is_empty());
        assert!(devices("मेरे पास थर्मामीटर नहीं है").is_empty());
        assert!(devices("sina kipima joto").is_empty());
    }

    #[test]
    fn questions_exist_in_every_language() {
        for lang in Language::ALL {
            for kind in prompts::vitals::ASKED_KINDS {
                assert!(question(kind, lang).is_some(), "{kind:?} {lang}");
            }
        }
        assert!(
            question(VitalKind::Spo2, Language::En)
                .unwrap()
                .contains("oximeter")
        );
        assert_eq!(rules_version(), "2026.12.1");
    }

    #[test]
    fn news2_partial_score_names_parameters() {
        let none = |_: &str| false;
        let ms = read("breathing 26 a minute, pulse 115");
        let s = news2(&ms, Some(40.0), &none).unwrap();
        assert_eq!(s.total, 5);
        let text = s.describe();
        assert!(text.contains("respiratory rate 3"), "{text}");
        assert!(text.contains("not known: SpO2"), "{text}");
        assert!(news2(&ms, Some(10.0), &none).is_none());
        assert!(news2(&[], None, &none).is_none());
        let confused = |c: &str| c == "confusion";
        let s = news2(&read("pulse 80"), None, &confused).unwrap();
        assert_eq!(s.total, 3);
    }

    #[test]
    fn temperature_bands_have_no_gaps() {
        let none = |_: &str| false;
        for (t, points) in [(35.05, 1), (36.05, 0), (38.05, 1), (39.05, 2), (34.9, 3)] {
            let m = Measurement {
                kind: VitalKind::Temperature,
                value: t,
                second: None,
                words: String::new(),
            };
            let s = news2(&[m], None, &none).unwrap();
            assert_eq!(s.total, points, "{t}");
        }
    }
}
