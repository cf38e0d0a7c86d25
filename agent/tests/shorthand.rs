//! Shorthand, clinical words, denials by meaning, and text as phones send
//! it: health workers' notes ("pt c/o SOB, afebrile, neck supple"), text-speak
//! ("cant breath 2day v bad"), stretched letters, smart quotes and emoji.
//! Written for this test, not copied from the eval suites.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use agent::extract::{Evidence, Extractor, tokenize};
use common::{describe, extractor};
use prompts::Knowledge;

fn judged(x: &Extractor, text: &str) -> Evidence {
    let mut e = Evidence::default();
    e.absorb(x.extract(text));
    e
}

/// `(text, concept)`: found, not denied.
const PRESENT: &[(&str, &str)] = &[
    // Case-sensitive abbreviations
    ("pt c/o SOB since this morning", "breathless"),
    ("45yo M, CP radiating to left arm", "chest_pain"),
    ("brief LOC after the fall", "loss_of_consciousness"),
    ("AMS since last night", "confusion"),
    ("DIB and wheeze", "breathless"),
    ("BRBPR x2 today", "rectal_bleeding"),
    ("N/V since yesterday", "vomiting"),
    ("D&V for 3 days", "diarrhoea"),
    ("3yo boy with fever", "child"),
    ("6 y/o girl, rash", "child"),
    ("douleur thoracique, DRS depuis ce matin", "chest_pain"),
    ("T2DM on metformin", "diabetes"),
    // Clinical words
    ("haematemesis this am", "vomiting_blood"),
    ("hematemesis x1", "vomiting_blood"),
    ("melaena for two days", "black_stools"),
    ("melena", "black_stools"),
    ("hematochezia", "rectal_bleeding"),
    ("haematochezia since the weekend", "rectal_bleeding"),
    ("syncope while standing in church", "loss_of_consciousness"),
    ("syncopal episode at work", "loss_of_consciousness"),
    ("dyspnoea on exertion", "breathless"),
    ("worsening dyspnea", "breathless"),
    ("tachypnoeic and febrile", "breathless"),
    ("tachypnoea", "breathless"),
    ("altered mental status", "confusion"),
    ("hemiparesis on the left", "one_sided_weakness"),
    ("new dysarthria", "slurred_speech"),
    ("meningism", "stiff_neck"),
    ("diaphoretic and grey", "sweating"),
    ("complains of sob on exertion", "breathless"),
    (
        "RIF pain since last night",
        "one_sided_lower_abdominal_pain",
    ),
    ("la paciente refiere disnea", "breathless"),
    ("tiene mucha falta de aire", "breathless"),
    ("il a une dyspnée depuis hier", "breathless"),
    ("ela está com dispneia", "breathless"),
    ("muita falta de ar", "breathless"),
    ("hematoquezia desde ayer", "rectal_bleeding"),
    ("melena hace dos dias", "black_stools"),
    ("síncope en el trabajo", "loss_of_consciousness"),
    ("saans chadh rahi hai", "breathless"),
    ("mama ana kubanwa na pumzi", "breathless"),
    ("alizirai jana usiku", "loss_of_consciousness"),
    // Text-speak and misspellings
    ("cant breath 2day v bad", "breathless"),
    ("chst pain since lunch bcoz of stress idk", "chest_pain"),
    ("v bad headache", "severe_headache"),
    ("i wanna die", "self_harm"),
    ("im gonna end it all tonight", "self_harm"),
    ("my stomache is killing me", "abdominal_pain"),
    ("got a feva and my head hurts", "fever"),
    ("my eye is really red and sore", "red_eye"),
    ("my eye is killing me", "eye_pain"),
    (
        "everything looks blurry since this morning",
        "blurred_vision",
    ),
    ("it burns like crazy when i pee", "urinary_pain"),
    ("hurt my ankle playing football", "sprain"),
    ("itchy bumps all over my legs", "rash"),
    ("jai mal a la poitrine", "chest_pain"),
    ("q me duele el pecho", "chest_pain"),
    ("mje bhot tez bukhar hai", "fever"),
    // Stretched letters, smart quotes, emoji, invisible characters
    ("heeeelp my chest hurts sooooo bad", "chest_pain"),
    ("i’m sweatinggg", "sweating"),
    ("she’s been vomiiiting all night", "vomiting"),
    ("I can’t breathe", "breathless"),
    ("chest pain😭😭", "chest_pain"),
    ("fever🤒and cough", "fever"),
    ("chest\u{00A0}pain", "chest_pain"),
    ("chest\u{200B}pain", "chest_pain"),
    ("ｃｈｅｓｔ ｐａｉｎ", "chest_pain"),
    ("fie\u{0300}vre depuis hier", "fever"),
    ("dolor de pecho y sudoracio\u{0301}n", "chest_pain"),
    // Negated denials are double negatives
    ("not afebrile", "fever"),
    ("can't talk in full sentences", "too_breathless_to_speak"),
    ("non blanching rash on his legs", "non_blanching_rash"),
    // Long informal posts
    (
        "so basically since tuesday ive had this weird pressure in my chest, comes and goes, \
         worse when i climb the stairs and then i get all sweaty n out of breath",
        "chest_pain",
    ),
    (
        "so basically since tuesday ive had this weird pressure in my chest, comes and goes, \
         worse when i climb the stairs and then i get all sweaty n out of breath",
        "breathless",
    ),
    (
        "hiya sorry to bother u, my little boy (4) has had a temp of 39 since yesterday and \
         now hes not really himself, wont eat, just lying on the sofa",
        "fever",
    ),
    (
        "ok so i fell off my bike this morning and hit my head on the kerb, didnt pass out \
         but i have a massive headache now and feel sick",
        "head_injury",
    ),
];

/// `(text, concept)`: mentioned, and denied.
const DENIED: &[(&str, &str)] = &[
    ("afebrile", "fever"),
    ("pt afebrile, obs stable", "fever"),
    ("apyrexial", "fever"),
    ("no neck stiffness", "stiff_neck"),
    ("neck supple", "stiff_neck"),
    ("supple neck, no photophobia", "stiff_neck"),
    ("she can touch her chin to her chest", "stiff_neck"),
    ("in no distress", "too_breathless_to_speak"),
    ("NAD", "too_breathless_to_speak"),
    ("comfortable at rest", "too_breathless_to_speak"),
    ("talking in full sentences", "too_breathless_to_speak"),
    ("no LOC", "loss_of_consciousness"),
    ("denies CP", "chest_pain"),
    ("no SOB", "breathless"),
    ("A&Ox3", "confusion"),
    ("alert and oriented", "confusion"),
    ("the rash blanches", "non_blanching_rash"),
    (
        "the spots fade when pressed with a glass",
        "non_blanching_rash",
    ),
    ("lips are pink", "blue_lips"),
    ("paciente afebril", "fever"),
    ("cuello flexible", "stiff_neck"),
    ("habla frases completas", "too_breathless_to_speak"),
    ("apyrétique", "fever"),
    ("nuque souple", "stiff_neck"),
    ("bien orientée", "confusion"),
    ("afebril", "fever"),
    ("lúcido e orientado", "confusion"),
    ("fala frases completas", "too_breathless_to_speak"),
    ("शिशु आराम से बात कर रहा है", "too_breathless_to_speak"),
    ("anaongea vizuri", "too_breathless_to_speak"),
    ("shingo iko sawa", "stiff_neck"),
    ("sjui lakini cna homa", "fever"),
];

/// `(text, concept)`: not read as the concept, neither present nor denied.
const NOT_MENTIONED: &[(&str, &str)] = &[
    // Lower-case ordinary words are not the abbreviations.
    ("I sob at night when I think about it", "breathless"),
    ("Sob. Everything is hard", "breathless"),
    ("my cp is updated", "chest_pain"),
    ("the loc of the clinic", "loss_of_consciousness"),
    ("I'm nad", "too_breathless_to_speak"),
    ("yo tengo tos", "child"),
    ("CPR training at work", "chest_pain"),
    // Doubt about a denial leaves the concept unknown.
    ("not sure if he's afebrile", "fever"),
];

#[test]
fn shorthand_and_lay_phrasing_are_understood() {
    let x = extractor();
    let failures: Vec<String> = PRESENT
        .iter()
        .filter(|(text, concept)| !judged(&x, text).has(concept))
        .map(|(text, concept)| {
            format!(
                "{text:?} should give {concept}: {}",
                describe(&x.extract(text))
            )
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn denials_by_meaning_deny() {
    let x = extractor();
    let failures: Vec<String> = DENIED
        .iter()
        .filter(|(text, concept)| {
            let e = judged(&x, text);
            e.has(concept) || !e.absent.contains(*concept)
        })
        .map(|(text, concept)| {
            format!(
                "{text:?} should deny {concept}: {}",
                describe(&x.extract(text))
            )
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ordinary_words_and_doubt_are_not_read_as_shorthand() {
    let x = extractor();
    let failures: Vec<String> = NOT_MENTIONED
        .iter()
        .filter(|(text, concept)| {
            let e = judged(&x, text);
            e.has(concept) || e.absent.contains(*concept)
        })
        .map(|(text, concept)| {
            format!(
                "{text:?} must not mention {concept}: {}",
                describe(&x.extract(text))
            )
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_later_report_outweighs_a_denial() {
    let x = extractor();
    let mut e = Evidence::default();
    e.absorb(x.extract("afebrile at triage"));
    e.absorb(x.extract("now has a fever of 39"));
    assert!(e.has("fever") && !e.absent.contains("fever"));
    // In one message, present wins too.
    assert!(judged(&x, "afebrile this morning but fever tonight").has("fever"));
}

#[test]
fn the_tokens_show_the_expansions() {
    let x = extractor();
    assert_eq!(
        x.tokens("pt c/o SOB 2day"),
        [
            "patient",
            "complains",
            "of",
            "short",
            "of",
            "breath",
            "today"
        ]
    );
    assert_eq!(x.tokens("feeeever"), ["fever"]);
    assert_eq!(x.tokens("bleeeeding"), ["bleeding"]);
    // Unknown words keep doubled letters.
    assert_eq!(x.tokens("heeeelp"), ["heelp"]);
    assert_eq!(x.tokens("sooooo"), ["so"]);
    // `tokenize` alone normalises characters but knows no lexicon.
    assert_eq!(tokenize("CAN’T—BREATHE"), ["can't", "breathe"]);
    assert_eq!(tokenize("cœur"), ["coeur"]);
}

/// The shorthand tables cannot contradict each other or hide phrases.
#[test]
fn shorthand_tables_are_consistent() {
    let k = Knowledge::bundled().unwrap();
    let mut problems = Vec::new();
    let mut abbreviations: BTreeMap<&str, (&str, prompts::Language)> = BTreeMap::new();
    let mut respellings: BTreeMap<String, (String, prompts::Language)> = BTreeMap::new();
    // Every word a phrase or cue uses, by language.
    let mut used: BTreeMap<String, prompts::Language> = BTreeMap::new();
    for (lang, l) in &k.lexicons {
        let phrases = l
            .concepts
            .iter()
            .flat_map(|c| c.terms.iter().chain(&c.denials));
        let cues = l
            .negations
            .iter()
            .chain(&l.uncertainty)
            .chain(&l.clause_breaks);
        for phrase in phrases.chain(cues) {
            for word in phrase.split_whitespace().flat_map(|w| w.split('|')) {
                for t in tokenize(word.trim_end_matches('*')) {
                    used.entry(t).or_insert(*lang);
                }
            }
        }
    }
    for (lang, l) in &k.lexicons {
        for (key, expansion) in &l.abbreviations {
            if key.trim_start_matches('#').is_empty() || expansion.trim().is_empty() {
                problems.push(format!("{lang}: empty abbreviation {key:?}"));
            }
            if let Some((other, other_lang)) = abbreviations.insert(key, (expansion, *lang))
                && other != expansion
            {
                problems.push(format!(
                    "{key:?} is {other:?} in {other_lang} but {expansion:?} in {lang}"
                ));
            }
        }
        for (key, words) in &l.respellings {
            let folded = tokenize(key);
            if folded.len() != 1 || folded[0] != *key {
                problems.push(format!(
                    "{lang}: respelling key {key:?} is not one lower-case word"
                ));
            }
            if let Some(other_lang) = used.get(key) {
                problems.push(format!(
                    "{lang}: respelling {key:?} hides a word {other_lang} phrases use"
                ));
            }
            if let Some((other, other_lang)) =
                respellings.insert(key.clone(), (words.clone(), *lang))
                && other != *words
            {
                problems.push(format!(
                    "{key:?} is {other:?} in {other_lang} but {words:?} in {lang}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A denial must not also be one of its concept's own terms.
#[test]
fn denials_do_not_report_their_concept() {
    let k = Knowledge::bundled().unwrap();
    let x = Extractor::new(&k.lexicons);
    let mut problems = Vec::new();
    for (lang, l) in &k.lexicons {
        for c in &l.concepts {
            for denial in c
                .denials
                .iter()
                .filter(|d| !d.contains("..") && !d.contains('|') && !d.contains('*'))
            {
                let e = judged(&x, denial);
                if e.has(&c.id) || !e.absent.contains(&c.id) {
                    problems.push(format!(
                        "{lang} {}: {denial:?} -> {}",
                        c.id,
                        describe(&x.extract(denial))
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
