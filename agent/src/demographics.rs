//! Who the patient is, from their own words: age, sex, and whether the
//! writer is describing someone else ("my 3 year old has a fever") — in the
//! six supported languages — and which questions can apply to that person.
//!
//! Ages as numbers ("3 years old", "19F", "tengo 45 años") are read by
//! [`crate::quantities`]; this module decides whose they are. It follows the
//! subject through the message: "I", "soy", "मैं", "mimi" make the writer
//! the subject; "my daughter", "mi hija", "मेरी बेटी", "mtoto wangu" make a
//! relative the subject; "she", "il", "ela" go back to the last relative. A
//! fact belongs to the subject it is attached to ("my husband, 54", "I
//! (28F)"), else to the current subject. When anyone but the writer is
//! described, that person is the patient and the writer's own facts are
//! dropped.
//!
//! Safety bias: a fact is read only in a form that says it (no bare number
//! is an age unless it follows a person); when in doubt the fact stays
//! unknown, and an unknown sex or age never rules a question out.

use std::sync::OnceLock;

use prompts::applicability::Applicability;
pub use prompts::applicability::Sex;
use serde::{Deserialize, Serialize};

use crate::quantities::{self, AgePhrase, WordMap};

/// What one message, or a conversation, says about the patient.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Demographics {
    /// Age in years (months and weeks as fractions).
    pub age_years: Option<f32>,
    pub sex: Option<Sex>,
    /// The writer is a carer describing someone else.
    #[serde(default)]
    pub about_someone_else: bool,
    /// Who the patient is to the writer, in English ("daughter", "husband",
    /// "child" when only an age was given: "my 2yo").
    #[serde(default)]
    pub relation: Option<String>,
    /// The patient's own words that gave each fact (normalised).
    #[serde(default)]
    pub words: Vec<String>,
    /// The facts were stated by the writer about themselves in the first
    /// person ("I'm 34", "soy mujer"), not just given ("19F", "5 years old").
    #[serde(default)]
    pub first_person: bool,
}

impl Demographics {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.age_years.is_none()
            && self.sex.is_none()
            && !self.about_someone_else
            && self.relation.is_none()
    }

    /// Folds a later message's reading into the conversation's.
    ///
    /// Later explicit facts win. A message about someone else replaces the
    /// writer's own facts (the patient is now that person), and so does a
    /// message about a different relative. In a conversation about someone
    /// else, the writer speaking of themselves ("I'm 34") changes nothing,
    /// while facts given without a subject ("19F", "5 years old", often the
    /// answer to a question) are the patient's.
    pub fn merge(&mut self, newer: Demographics) {
        if newer.is_empty() {
            return;
        }
        let other_relative = matches!(
            (&self.relation, &newer.relation),
            (Some(a), Some(b)) if a != b
        );
        if newer.about_someone_else && (!self.about_someone_else || other_relative) {
            *self = newer;
            return;
        }
        if self.about_someone_else && !newer.about_someone_else && newer.first_person {
            return;
        }
        self.age_years = newer.age_years.or(self.age_years);
        self.sex = newer.sex.or(self.sex);
        self.relation = newer.relation.or(self.relation.take());
        self.first_person = if self.about_someone_else {
            false
        } else {
            self.first_person || newer.first_person
        };
        for w in newer.words {
            if !self.words.contains(&w) {
                self.words.push(w);
            }
        }
    }
}

/// Whether the question establishing `concept` can apply to the patient
/// (`data/applicability.toml`): no testicle question to a woman, no
/// pregnancy question to a man, a child under 10 or someone over 60. True
/// for every concept when the sex and age are unknown.
pub fn question_applies(concept: &str, d: &Demographics) -> bool {
    // The data is checked by the prompts crate's tests; were it ever
    // unreadable, asking a question that might not apply is the safe side.
    Applicability::bundled().map_or(true, |a| {
        a.allows(concept, d.age_years.map(f64::from), d.sex)
    })
}

/// Reads what one message says about the patient it describes.
pub fn read(text: &str) -> Demographics {
    let folded = fold(text);
    let tokens: Vec<&str> = folded.split(' ').filter(|t| !t.is_empty()).collect();
    let ages = quantities::age_phrases(&tokens);
    Reader::new(&tokens, ages).run()
}

/// `text` as [`crate::extract::tokenize`] sees it — lower case, Latin
/// accents removed, split at spaces and brackets, "|" at clause breaks — as
/// one string of words joined by spaces. Not `tokenize` itself: `read` runs
/// on every message and `tokenize`'s full normalisation and one allocation
/// per word cost more than this module's whole budget (30 µs for 300
/// words); only the folding that decides a word's spelling is kept.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let separate = |out: &mut String| {
        if !out.ends_with(' ') {
            out.push(' ');
        }
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '\'' {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        let c = if c.is_ascii() {
            c.to_ascii_lowercase()
        } else {
            c.to_lowercase().next().unwrap_or(c)
        };
        match c {
            '.' | ',' | ';' | ':' | '!' | '?' | '¿' | '¡' | '।' | '…' | '\n' => {
                if !out.ends_with("| ") {
                    separate(&mut out);
                    out.push_str("| ");
                }
            }
            '"' | '(' | ')' | '[' | ']' | '{' | '}' | '/' | '\\' | '*' | '-' | '–' | '—' | '&'
            | '=' | '<' | '>' | '~' | '^' | '_' | '#' | '@' => separate(&mut out),
            c if c.is_whitespace() => separate(&mut out),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            // Combining accents (decomposed "ã"): ignored, as in `tokenize`.
            '\u{0300}'..='\u{036F}' => {}
            c => out.push(crate::extract::fold_char(c)),
        }
    }
    out
}

const F: Option<Sex> = Some(Sex::Female);
const M: Option<Sex> = Some(Sex::Male);
const N: Option<Sex> = None;

/// A relative: its words, the English relation and the sex it implies.
type Relative = (&'static [&'static str], &'static str, Option<Sex>);

const EN: &[Relative] = &[
    (&["daughter"], "daughter", F),
    (&["son"], "son", M),
    (&["wife"], "wife", F),
    (&["husband"], "husband", M),
    (&["mother", "in", "law"], "mother-in-law", F),
    (&["father", "in", "law"], "father-in-law", M),
    (&["mother"], "mother", F),
    (&["mom"], "mother", F),
    (&["mum"], "mother", F),
    (&["mommy"], "mother", F),
    (&["mummy"], "mother", F),
    (&["mam"], "mother", F),
    (&["mama"], "mother", F),
    (&["father"], "father", M),
    (&["dad"], "father", M),
    (&["daddy"], "father", M),
    (&["papa"], "father", M),
    (&["grand", "mother"], "grandmother", F),
    (&["grandmother"], "grandmother", F),
    (&["grandma"], "grandmother", F),
    (&["granny"], "grandmother", F),
    (&["gran"], "grandmother", F),
    (&["nan"], "grandmother", F),
    (&["nana"], "grandmother", F),
    (&["nanna"], "grandmother", F),
    (&["grand", "father"], "grandfather", M),
    (&["grandfather"], "grandfather", M),
    (&["grandpa"], "grandfather", M),
    (&["granddad"], "grandfather", M),
    (&["grandad"], "grandfather", M),
    (&["sister"], "sister", F),
    (&["brother"], "brother", M),
    (&["aunt"], "aunt", F),
    (&["auntie"], "aunt", F),
    (&["aunty"], "aunt", F),
    (&["uncle"], "uncle", M),
    (&["niece"], "niece", F),
    (&["nephew"], "nephew", M),
    (&["grandson"], "grandson", M),
    (&["granddaughter"], "granddaughter", F),
    (&["girlfriend"], "girlfriend", F),
    (&["boyfriend"], "boyfriend", M),
    (&["fiancee"], "fiancee", F),
    (&["fiance"], "fiance", M),
    (&["partner"], "partner", N),
    (&["spouse"], "spouse", N),
    (&["boy"], "son", M),
    (&["girl"], "daughter", F),
    (&["baby"], "baby", N),
    (&["newborn"], "baby", N),
    (&["infant"], "baby", N),
    (&["child"], "child", N),
    (&["children"], "child", N),
    (&["kid"], "child", N),
    (&["kids"], "child", N),
    (&["toddler"], "child", N),
    (&["little", "one"], "child", N),
    (&["friend"], "friend", N),
    (&["neighbour"], "neighbour", N),
    (&["neighbor"], "neighbour", N),
    (&["colleague"], "colleague", N),
    (&["patient"], "patient", N),
];
const ES: &[Relative] = &[
    (&["hija"], "daughter", F),
    (&["hijita"], "daughter", F),
    (&["hijo"], "son", M),
    (&["hijito"], "son", M),
    (&["hijos"], "child", N),
    (&["esposa"], "wife", F),
    (&["mujer"], "wife", F),
    (&["esposo"], "husband", M),
    (&["marido"], "husband", M),
    (&["madre"], "mother", F),
    (&["mama"], "mother", F),
    (&["mami"], "mother", F),
    (&["padre"], "father", M),
    (&["papa"], "father", M),
    (&["papi"], "father", M),
    (&["abuela"], "grandmother", F),
    (&["abuelita"], "grandmother", F),
    (&["abuelo"], "grandfather", M),
    (&["abuelito"], "grandfather", M),
    (&["hermana"], "sister", F),
    (&["hermano"], "brother", M),
    (&["tia"], "aunt", F),
    (&["tio"], "uncle", M),
    (&["sobrina"], "niece", F),
    (&["sobrino"], "nephew", M),
    (&["nieta"], "granddaughter", F),
    (&["nieto"], "grandson", M),
    (&["suegra"], "mother-in-law", F),
    (&["suegro"], "father-in-law", M),
    (&["bebe"], "baby", N),
    (&["bebita"], "baby", F),
    (&["bebito"], "baby", M),
    (&["nina"], "daughter", F),
    (&["nino"], "son", M),
    (&["nena"], "daughter", F),
    (&["nene"], "son", M),
    (&["pareja"], "partner", N),
    (&["novia"], "girlfriend", F),
    (&["novio"], "boyfriend", M),
    (&["amiga"], "friend", F),
    (&["amigo"], "friend", M),
];
const FR: &[Relative] = &[
    (&["fille"], "daughter", F),
    (&["fils"], "son", M),
    (&["femme"], "wife", F),
    (&["epouse"], "wife", F),
    (&["mari"], "husband", M),
    (&["epoux"], "husband", M),
    (&["grand", "mere"], "grandmother", F),
    (&["grand", "pere"], "grandfather", M),
    (&["belle", "mere"], "mother-in-law", F),
    (&["beau", "pere"], "father-in-law", M),
    (&["mere"], "mother", F),
    (&["maman"], "mother", F),
    (&["pere"], "father", M),
    (&["papa"], "father", M),
    (&["mamie"], "grandmother", F),
    (&["mamy"], "grandmother", F),
    (&["papi"], "grandfather", M),
    (&["papy"], "grandfather", M),
    (&["soeur"], "sister", F),
    (&["sœur"], "sister", F),
    (&["frere"], "brother", M),
    (&["tante"], "aunt", F),
    (&["oncle"], "uncle", M),
    (&["niece"], "niece", F),
    (&["neveu"], "nephew", M),
    (&["bebe"], "baby", N),
    (&["enfant"], "child", N),
    (&["enfants"], "child", N),
    (&["copine"], "girlfriend", F),
    (&["copain"], "boyfriend", M),
    (&["compagne"], "partner", F),
    (&["compagnon"], "partner", M),
    (&["conjoint"], "spouse", N),
    (&["amie"], "friend", F),
    (&["ami"], "friend", M),
];
const PT: &[Relative] = &[
    (&["filha"], "daughter", F),
    (&["filho"], "son", M),
    (&["filhos"], "child", N),
    (&["esposa"], "wife", F),
    (&["mulher"], "wife", F),
    (&["marido"], "husband", M),
    (&["esposo"], "husband", M),
    (&["mae"], "mother", F),
    (&["mamae"], "mother", F),
    (&["mainha"], "mother", F),
    (&["pai"], "father", M),
    (&["papai"], "father", M),
    // "avó" (grandmother) and "avô" (grandfather) fold to the same token.
    (&["avo"], "grandparent", N),
    (&["vovo"], "grandparent", N),
    (&["irma"], "sister", F),
    (&["irmao"], "brother", M),
    (&["tia"], "aunt", F),
    (&["tio"], "uncle", M),
    (&["sobrinha"], "niece", F),
    (&["sobrinho"], "nephew", M),
    (&["neta"], "granddaughter", F),
    (&["neto"], "grandson", M),
    (&["sogra"], "mother-in-law", F),
    (&["sogro"], "father-in-law", M),
    (&["bebe"], "baby", N),
    (&["nenem"], "baby", N),
    (&["crianca"], "child", N),
    (&["menina"], "daughter", F),
    (&["menino"], "son", M),
    (&["namorada"], "girlfriend", F),
    (&["namorado"], "boyfriend", M),
    (&["amiga"], "friend", F),
    (&["amigo"], "friend", M),
];
/// Hindi in Devanagari. "बच्चा" is grammatically masculine but says nothing
/// of the child's sex; "बच्ची" is a girl.
const HI: &[Relative] = &[
    (&["बेटी"], "daughter", F),
    (&["बिटिया"], "daughter", F),
    (&["बेटा"], "son", M),
    (&["पत्नी"], "wife", F),
    (&["बीवी"], "wife", F),
    (&["पति"], "husband", M),
    (&["माँ"], "mother", F),
    (&["मां"], "mother", F),
    (&["माता"], "mother", F),
    (&["माताजी"], "mother", F),
    (&["मम्मी"], "mother", F),
    (&["अम्मी"], "mother", F),
    (&["अम्मा"], "mother", F),
    (&["पिता"], "father", M),
    (&["पिताजी"], "father", M),
    (&["पापा"], "father", M),
    (&["अब्बू"], "father", M),
    (&["दादी"], "grandmother", F),
    (&["नानी"], "grandmother", F),
    (&["दादा"], "grandfather", M),
    (&["नाना"], "grandfather", M),
    (&["बहन"], "sister", F),
    (&["भाई"], "brother", M),
    (&["बच्चा"], "child", N),
    (&["बच्चे"], "child", N),
    (&["बच्ची"], "child", F),
    (&["बेबी"], "baby", N),
    (&["शिशु"], "baby", N),
    (&["भतीजी"], "niece", F),
    (&["भांजी"], "niece", F),
    (&["भतीजा"], "nephew", M),
    (&["भांजा"], "nephew", M),
    (&["पोती"], "granddaughter", F),
    (&["नातिन"], "granddaughter", F),
    (&["पोता"], "grandson", M),
    (&["नाती"], "grandson", M),
    (&["सास"], "mother-in-law", F),
    (&["ससुर"], "father-in-law", M),
];
/// Romanised Hindi (Hinglish); English nouns are tried after these ("meri wife").
const HINGLISH: &[Relative] = &[
    (&["beti"], "daughter", F),
    (&["bitiya"], "daughter", F),
    (&["beta"], "son", M),
    (&["patni"], "wife", F),
    (&["biwi"], "wife", F),
    (&["pati"], "husband", M),
    (&["maa"], "mother", F),
    (&["mummy"], "mother", F),
    (&["mummy"], "mother", F),
    (&["ammi"], "mother", F),
    (&["amma"], "mother", F),
    (&["mata"], "mother", F),
    (&["pita"], "father", M),
    (&["pitaji"], "father", M),
    (&["papa"], "father", M),
    (&["abbu"], "father", M),
    (&["dadi"], "grandmother", F),
    (&["nani"], "grandmother", F),
    (&["dada"], "grandfather", M),
    (&["nana"], "grandfather", M),
    (&["behen"], "sister", F),
    (&["bahan"], "sister", F),
    (&["behan"], "sister", F),
    (&["bhai"], "brother", M),
    (&["bachcha"], "child", N),
    (&["bacha"], "child", N),
    (&["baccha"], "child", N),
    (&["bachha"], "child", N),
    (&["bachche"], "child", N),
    (&["bache"], "child", N),
    (&["bachchi"], "child", F),
    (&["bachi"], "child", F),
    (&["bacchi"], "child", F),
    (&["saas"], "mother-in-law", F),
    (&["sasur"], "father-in-law", M),
];
/// Swahili: the possessive follows the noun ("mtoto wangu", "mke wangu").
const SW: &[Relative] = &[
    (&["mtoto"], "child", N),
    (&["watoto"], "child", N),
    (&["mwana"], "child", N),
    (&["binti"], "daughter", F),
    (&["mke"], "wife", F),
    (&["mume"], "husband", M),
    (&["mama"], "mother", F),
    (&["baba"], "father", M),
    (&["bibi"], "grandmother", F),
    (&["babu"], "grandfather", M),
    (&["dada"], "sister", F),
    (&["kaka"], "brother", M),
    (&["shangazi"], "aunt", F),
    (&["mjomba"], "uncle", M),
    (&["mjukuu"], "grandchild", N),
    (&["mvulana"], "son", M),
    (&["msichana"], "daughter", F),
    (&["rafiki"], "friend", N),
    (&["mpenzi"], "partner", N),
];
/// Possessives before the noun, with the nouns they take.
const POSSESSIVES: &[(&[&str], &[Relative])] = &[
    (&["my", "our"], EN),
    (
        &["mi", "mis", "nuestra", "nuestro", "nuestras", "nuestros"],
        ES,
    ),
    (&["ma", "mon", "mes", "notre", "nos"], FR),
    (&["meu", "minha", "meus", "minhas", "nosso", "nossa"], PT),
    (&["मेरी", "मेरा", "मेरे", "हमारी", "हमारा", "हमारे"], HI),
    (
        &["meri", "mera", "mere", "hamari", "hamara", "hamare"],
        HINGLISH,
    ),
];
const SW_POSSESSIVES: &[&str] = &["wangu", "yangu", "wetu", "yetu", "zangu"];
/// One word for "my child" in Swahili.
const SW_MY_CHILD: &[&str] = &["mwanangu", "mwanetu"];
/// A child spoken of without a possessive: "the baby", "el bebé", "बच्चे को
/// बुखार है", "mtoto ana homa". Not after "a": "I had a baby" is the mother.
const CHILD_NOUNS: &[&str] = &[
    "baby", "child", "kid", "toddler", "infant", "newborn", "bebe", "nino", "nina", "enfant",
    "crianca", "nenem",
];
const DETERMINERS: &[&str] = &["the", "this", "el", "la", "le", "o"];
/// Child nouns that need no determiner (Hindi and Swahili have no articles).
const BARE_CHILD_NOUNS: &[&str] = &[
    "बच्चा",
    "बच्चे",
    "बच्ची",
    "bachcha",
    "baccha",
    "bachche",
    "mtoto",
    "watoto",
];
/// Between a possessive and its noun: "my little girl", "mi pequeña hija".
const ADJECTIVES: &[&str] = &[
    "little",
    "young",
    "youngest",
    "eldest",
    "oldest",
    "older",
    "younger",
    "elderly",
    "old",
    "elder",
    "big",
    "baby",
    "new",
    "dear",
    "twin",
    "step",
    "teenage",
    "teen",
    "adult",
    "sick",
    "poor",
    "only",
    "pequena",
    "pequeno",
    "querida",
    "querido",
    "petite",
    "petit",
    "cher",
    "chere",
    "vieille",
    "vieux",
    "jeune",
    "grande",
    "velha",
    "velho",
    "छोटी",
    "छोटा",
    "छोटे",
    "बड़ी",
    "बड़ा",
    "बड़े",
    "chhoti",
    "choti",
    "chota",
    "chhota",
    "chote",
    "badi",
    "bada",
    "bade",
];
/// Words that make the writer the subject.
const SELF: &[&str] = &[
    "i",
    "i'm",
    "im",
    "me",
    "myself",
    "yo",
    "soy",
    "tengo",
    "estoy",
    "je",
    "j'ai",
    "moi",
    "suis",
    "eu",
    "sou",
    "tenho",
    "estou",
    "मैं",
    "मै",
    "main",
    "mimi",
];
/// Third-person pronouns, with the sex they say when they open a clause.
const PRONOUNS: &[(&str, Option<Sex>)] = &[
    ("she", F),
    ("she's", F),
    ("shes", F),
    ("he", M),
    ("he's", M),
    ("hes", M),
    ("her", N),
    ("him", N),
    ("his", N),
    ("ella", F),
    ("ela", F),
    ("ele", M),
    ("elle", F),
    ("il", M),
    ("वह", N),
    ("वो", N),
    ("उसे", N),
    ("उसको", N),
    ("उसकी", N),
    ("उसका", N),
    ("woh", N),
    ("usko", N),
    ("uski", N),
    ("uska", N),
    ("yeye", N),
];
/// Words for a woman or a man, read only beside an age ("mujer de 40
/// años", "61 yo male") or after "I am" ("soy hombre", "mimi ni mwanamke").
const SEX_NOUNS: &[(&str, Sex)] = &[
    ("woman", Sex::Female),
    ("female", Sex::Female),
    ("lady", Sex::Female),
    ("girl", Sex::Female),
    ("mujer", Sex::Female),
    ("chica", Sex::Female),
    ("nina", Sex::Female),
    ("femme", Sex::Female),
    ("fille", Sex::Female),
    ("mulher", Sex::Female),
    ("menina", Sex::Female),
    ("moca", Sex::Female),
    ("महिला", Sex::Female),
    ("औरत", Sex::Female),
    ("स्त्री", Sex::Female),
    ("लड़की", Sex::Female),
    ("mahila", Sex::Female),
    ("aurat", Sex::Female),
    ("ladki", Sex::Female),
    ("mwanamke", Sex::Female),
    ("msichana", Sex::Female),
    ("man", Sex::Male),
    ("male", Sex::Male),
    ("guy", Sex::Male),
    ("gentleman", Sex::Male),
    ("boy", Sex::Male),
    ("hombre", Sex::Male),
    ("varon", Sex::Male),
    ("chico", Sex::Male),
    ("nino", Sex::Male),
    ("homme", Sex::Male),
    ("garcon", Sex::Male),
    ("homem", Sex::Male),
    ("rapaz", Sex::Male),
    ("menino", Sex::Male),
    ("पुरुष", Sex::Male),
    ("आदमी", Sex::Male),
    ("लड़का", Sex::Male),
    ("purush", Sex::Male),
    ("aadmi", Sex::Male),
    ("admi", Sex::Male),
    ("ladka", Sex::Male),
    ("mwanaume", Sex::Male),
    ("mwanamume", Sex::Male),
    ("mvulana", Sex::Male),
];
/// Words a fact may sit behind and still belong to the person before it:
/// "my son is 6", "I am a 45 year old man", "mi hija de 5 años", "mtoto
/// wangu wa miaka 3", "mimi ni mwanamke".
const LINKS: &[&str] = &[
    "is", "was", "am", "are", "'s", "who", "aged", "of", "de", "wa", "ni", "a", "an", "un", "una",
    "une", "um", "uma", "ek", "एक", "tiene", "tem", "ana", "est", "es", "just", "turned", "only",
    "about", "around", "mwenye",
];
/// Words a bare number may follow and still be the age of the person
/// before it ("my dad, 70", "my son (6)", "she is 5").
const BARE_LINKS: &[&str] = &[
    "is", "was", "'s", "aged", "de", "tiene", "tem", "ni", "here",
];
/// What may follow a bare age: the end of a clause, or the sentence going
/// on ("my son (6) has a fever").
const AFTER_BARE_AGE: &[&str] = &[
    "and", "with", "has", "had", "is", "was", "who", "y", "con", "tiene", "et", "avec", "a", "e",
    "com", "tem", "na", "ana", "और", "aur", "hai", "है",
];
/// A clause opener before a pronoun that names the patient's sex ("she has…").
const CLAUSE_OPENERS: &[&str] = &[
    "and", "but", "so", "now", "then", "y", "pero", "et", "mais", "e", "mas", "na", "lakini",
    "aur", "और",
];
/// "with my husband": a companion, not the patient.
const WITH: &[&str] = &["with", "con", "avec", "com"];
/// After a relative: the relative is family history, not the patient.
const HISTORY: &[&str] = &[
    "died",
    "passed",
    "history",
    "runs",
    "murio",
    "fallecio",
    "decede",
    "morreu",
    "faleceu",
    "alifariki",
    "alikufa",
    "गुजर",
    "मृत्यु",
];
/// "had" in the past tense: with a [`FAMILY_ILLNESS`] after it, the
/// relative is family history.
const PAST_HAD: &[&str] = &["had", "tuvo", "tenia", "avait", "eu", "teve", "tinha"];
const FAMILY_ILLNESS: &[&str] = &[
    "cancer",
    "heart",
    "stroke",
    "attack",
    "aneurysm",
    "clot",
    "embolism",
    "infarto",
    "infarctus",
    "ictus",
    "derrame",
    "avc",
    "embolia",
    "thrombose",
    "trombose",
    "diabetes",
    "diabete",
];
/// After a relative, then a word for the writer: the relative reports on
/// the writer ("my husband says I snore").
const REPORTING: &[&str] = &[
    "says",
    "said",
    "told",
    "thinks",
    "thought",
    "wants",
    "asked",
    "suggested",
    "insists",
    "dice",
    "dijo",
    "cree",
    "quiere",
    "dit",
    "pense",
    "veut",
    "diz",
    "disse",
    "acha",
    "quer",
    "anasema",
    "alisema",
    "amesema",
    "kehti",
    "kehte",
    "kaha",
    "bola",
    "boli",
    "कहती",
    "कहते",
    "कहा",
];
/// Words that put a pregnancy in the message: "the baby" is then unborn.
const PREGNANCY: &[&str] = &[
    "pregnant",
    "pregnancy",
    "pregnent",
    "fetal",
    "kicks",
    "kicking",
    "embarazada",
    "embarazo",
    "enceinte",
    "grossesse",
    "gravida",
    "gravidez",
    "mjamzito",
    "ujauzito",
    "गर्भवती",
    "garbhvati",
];
/// Spanish words: in Spanish "M" may be "mujer" as well as "masculino".
const SPANISH: &[&str] = &[
    "tengo", "soy", "estoy", "mi", "mis", "hace", "muy", "tiene", "los", "las", "dolor", "fiebre",
    "hola", "pero", "del", "desde", "usted", "mujer", "hombre",
];

/// What a word can start, as bit flags: one look-up per token, since most
/// words start nothing (`read` must stay cheap on long messages).
const NAMES_RELATIVE: u8 = 1;
const NAMES_WRITER: u8 = 2;
const PRONOUN: u8 = 4;
const SEX_NOUN: u8 = 8;

fn starters() -> &'static WordMap<u8> {
    static WORDS: OnceLock<WordMap<u8>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut map = WordMap::default();
        let mut add = |words: &mut dyn Iterator<Item = &'static str>, role: u8| {
            for w in words {
                *map.entry(w).or_insert(0) |= role;
            }
        };
        for (words, _) in POSSESSIVES {
            // "my daughter"; "my age".
            add(&mut words.iter().copied(), NAMES_RELATIVE | NAMES_WRITER);
        }
        add(&mut SW.iter().map(|(words, _, _)| words[0]), NAMES_RELATIVE);
        for words in [SW_MY_CHILD, DETERMINERS, BARE_CHILD_NOUNS, CHILD_NOUNS] {
            add(&mut words.iter().copied(), NAMES_RELATIVE);
        }
        add(&mut SELF.iter().copied(), NAMES_WRITER);
        add(&mut ["umri", "nina"].into_iter(), NAMES_WRITER);
        add(&mut PRONOUNS.iter().map(|(w, _)| *w), PRONOUN);
        add(&mut SEX_NOUNS.iter().map(|(w, _)| *w), SEX_NOUN);
        map
    })
}

fn lookup(
    table: &[Relative],
    tokens: &[&str],
    at: usize,
) -> Option<(usize, &'static str, Option<Sex>)> {
    table.iter().find_map(|(words, relation, sex)| {
        let matches = words.iter().enumerate().all(|(k, w)| {
            tokens.get(at + k).is_some_and(|&t| {
                // "my son's temperature"
                t.strip_suffix("'s").unwrap_or(t) == *w
            })
        });
        matches.then_some((words.len(), *relation, *sex))
    })
}

/// One person the message speaks of; the writer is the first.
#[derive(Debug, Default)]
struct Person {
    relation: Option<&'static str>,
    sex: Option<Sex>,
    age: Option<f32>,
    /// Sexes the pronouns opening a clause gave ("she has…").
    pronoun_sex: Vec<Sex>,
    words: Vec<String>,
    /// A companion or family history, never the patient.
    excluded: bool,
}

impl Person {
    /// Keeps the words that gave a fact, once.
    fn note(&mut self, words: String) {
        if !self.words.contains(&words) {
            self.words.push(words);
        }
    }
}

struct Reader<'a> {
    tokens: &'a [&'a str],
    /// The age phrase starting at each token.
    age_at: Vec<Option<AgePhrase>>,
    people: Vec<Person>,
    /// The subject: the person facts without their own anchor go to.
    current: usize,
    /// The person last named and the token after their words: a fact right
    /// after is theirs ("my husband, 54").
    anchor: Option<(usize, usize)>,
    first_person: bool,
}

impl<'a> Reader<'a> {
    fn new(tokens: &'a [&'a str], ages: Vec<AgePhrase>) -> Self {
        let mut age_at = vec![None; tokens.len()];
        for a in ages {
            if let Some(slot) = age_at.get_mut(a.start) {
                *slot = Some(a);
            }
        }
        Reader {
            tokens,
            age_at,
            people: vec![Person::default()],
            current: 0,
            anchor: None,
            first_person: false,
        }
    }

    /// Whether the message speaks of a pregnancy: "the baby" is then unborn.
    fn pregnancy(&self) -> bool {
        self.tokens.iter().any(|t| PREGNANCY.contains(t))
    }

    fn t(&self, i: usize) -> &'a str {
        self.tokens.get(i).copied().unwrap_or("")
    }

    fn span(&self, from: usize, to: usize) -> String {
        let words: Vec<&str> = self.tokens[from..to.min(self.tokens.len())]
            .iter()
            .copied()
            .filter(|t| *t != "|")
            .collect();
        words.join(" ")
    }

    /// Whether `tokens[from..to]` are only `links` (at most `max`) and at
    /// most one clause break.
    fn linked(&self, from: usize, to: usize, links: &[&str], max: usize) -> bool {
        if from > to {
            return false;
        }
        let gap = &self.tokens[from..to];
        let breaks = gap.iter().filter(|&&t| t == "|").count();
        breaks <= 1
            && gap.len() - breaks <= max
            && gap.iter().all(|&t| t == "|" || links.contains(&t))
    }

    /// The person anchored right before `i` through `links`.
    fn anchored(&self, i: usize, links: &[&str], max: usize) -> Option<usize> {
        self.anchor
            .filter(|&(_, end)| self.linked(end, i, links, max))
            .map(|(p, _)| p)
    }

    /// The last person named other than the writer, or a new unnamed one.
    fn someone_else(&mut self) -> usize {
        if self.people.len() == 1 {
            self.people.push(Person::default());
        }
        self.people.len() - 1
    }

    fn run(mut self) -> Demographics {
        let mut i = 0;
        while i < self.tokens.len() {
            i = self.step(i).max(i + 1);
        }
        self.finish()
    }

    /// Reads what starts at `i`; returns where to go on.
    fn step(&mut self, i: usize) -> usize {
        let t = self.t(i);
        if t == "|" {
            return i + 1;
        }
        if let Some(phrase) = self.age_at[i] {
            return self.age(phrase);
        }
        let digit = t.starts_with(|c: char| c.is_ascii_digit());
        if digit {
            return self.bare_age(i);
        }
        let Some(&roles) = starters().get(t) else {
            return i + 1;
        };
        if roles & NAMES_RELATIVE != 0
            && let Some(end) = self.relative(i)
        {
            return end;
        }
        if roles & NAMES_WRITER != 0 {
            let next = self.t(i + 1);
            // "I", "soy", "मैं"; "nina miaka 30"; "my age", "umri wangu".
            let end = if SELF.contains(&t) || (t == "nina" && next == "miaka") {
                Some(i + 1)
            } else if (t == "umri" && SW_POSSESSIVES.contains(&next))
                || (t != "umri" && t != "nina" && quantities::is_age_noun(next))
            {
                Some(i + 2)
            } else {
                None
            };
            if let Some(end) = end {
                self.current = 0;
                self.anchor = Some((0, end));
                self.first_person = true;
                return end;
            }
        }
        if roles & PRONOUN != 0
            && let Some((_, sex)) = PRONOUNS.iter().find(|(w, _)| *w == t)
        {
            // "il y a" (ago), "il fait": French "il" is a person only in "il a".
            if t == "il" && self.t(i + 1) != "a" {
                return i + 1;
            }
            let p = self.someone_else();
            // "She told me to rest" is a clinician or a relative advising,
            // not the patient.
            let reports = REPORTING.contains(&self.t(i + 1)) || REPORTING.contains(&self.t(i + 2));
            let opens = (i == 0 || self.t(i - 1) == "|" || CLAUSE_OPENERS.contains(&self.t(i - 1)))
                && !reports;
            if let Some(sex) = sex.filter(|_| opens) {
                self.people[p].pronoun_sex.push(sex);
                self.people[p].note(t.to_owned());
            }
            self.current = p;
            self.anchor = Some((p, i + 1));
            return i + 1;
        }
        if roles & SEX_NOUN != 0
            && let Some((_, sex)) = SEX_NOUNS.iter().find(|(w, _)| *w == t)
        {
            return self.sex_noun(i, *sex);
        }
        i + 1
    }

    /// A relative named at `i`: "my daughter", "my 3 year old", "मेरी बेटी",
    /// "mtoto wangu", "the baby". Returns the token after their words.
    fn relative(&mut self, i: usize) -> Option<usize> {
        let t = self.t(i);
        let mut age: Option<AgePhrase> = None;
        let (end, relation, sex) =
            if let Some((_, table)) = POSSESSIVES.iter().find(|(words, _)| words.contains(&t)) {
                let mut j = i + 1;
                let mut found = None;
                while j < i + 6 {
                    if let Some(a) = self.age_at.get(j).copied().flatten() {
                        age = Some(a);
                        j = a.end;
                        continue;
                    }
                    if let Some((len, relation, sex)) =
                        lookup(table, self.tokens, j).or_else(|| lookup(EN, self.tokens, j))
                    {
                        // "my baby girl", "mi bebé niña": the second noun says more.
                        let next = lookup(table, self.tokens, j + len)
                            .or_else(|| lookup(EN, self.tokens, j + len))
                            .filter(|(_, _, s)| sex.is_none() && s.is_some());
                        found = Some(match next {
                            Some((len2, relation2, sex2)) => (j + len + len2, relation2, sex2),
                            None => (j + len, relation, sex),
                        });
                        break;
                    }
                    if !ADJECTIVES.contains(&self.t(j)) {
                        break;
                    }
                    j += 1;
                }
                match (found, age) {
                    (Some(f), _) => f,
                    // "my 2yo", "my 3-month-old".
                    (None, Some(a)) => (a.end, "child", None),
                    (None, None) => return None,
                }
            } else if let Some((_, relation, sex)) = SW_POSSESSIVES
                .contains(&self.t(i + 1))
                .then(|| lookup(SW, self.tokens, i))
                .flatten()
            {
                (i + 2, relation, sex)
            } else if SW_MY_CHILD.contains(&t) {
                (i + 1, "child", None)
            } else if BARE_CHILD_NOUNS.contains(&t) {
                let (_, relation, sex) = lookup(HI, self.tokens, i)
                    .or_else(|| lookup(HINGLISH, self.tokens, i))
                    .or_else(|| lookup(SW, self.tokens, i))?;
                (i + 1, relation, sex)
            } else if DETERMINERS.contains(&t) && CHILD_NOUNS.contains(&self.t(i + 1)) {
                let relation = if matches!(
                    self.t(i + 1),
                    "baby" | "bebe" | "newborn" | "infant" | "nenem"
                ) {
                    "baby"
                } else {
                    "child"
                };
                (i + 2, relation, None)
            } else if t == "baby" && (i == 0 || self.t(i - 1) == "|") {
                // "Baby has a fever" opening a sentence.
                (i + 1, "baby", None)
            } else {
                return None;
            };
        let excluded =
            self.is_companion_or_history(i, end) || (relation == "baby" && self.pregnancy());
        let p = match self
            .people
            .iter()
            .skip(1)
            .position(|q| q.relation == Some(relation))
        {
            Some(k) => k + 1,
            None => {
                self.people.push(Person::default());
                self.people.len() - 1
            }
        };
        let words = self.span(i, end);
        let person = &mut self.people[p];
        person.relation = Some(relation);
        person.sex = person.sex.or(sex);
        person.excluded |= excluded;
        person.note(words);
        if let Some(a) = age {
            self.give_age(p, a);
        }
        self.current = p;
        self.anchor = Some((p, end));
        Some(end)
    }

    /// "with my husband", "my mother died of…", "my wife says I snore".
    fn is_companion_or_history(&self, start: usize, end: usize) -> bool {
        let with = start > 0 && WITH.contains(&self.t(start - 1));
        let clause: Vec<&str> = (end..end + 5)
            .map(|k| self.t(k))
            .take_while(|t| *t != "|" && !t.is_empty())
            .collect();
        // "my dad had a heart attack at 50": past illness of the kind asked
        // about as family history, not the patient's story.
        let had_illness = clause.iter().enumerate().any(|(k, t)| {
            PAST_HAD.contains(t)
                && clause
                    .iter()
                    .skip(k + 1)
                    .take(3)
                    .any(|w| FAMILY_ILLNESS.contains(w))
        });
        let history = had_illness || clause.iter().any(|t| HISTORY.contains(t));
        let reports = clause.iter().take(3).enumerate().any(|(k, t)| {
            REPORTING.contains(t) && {
                let next = clause.get(k + 1).copied().unwrap_or_default();
                let after = clause.get(k + 2).copied().unwrap_or_default();
                SELF.contains(&next)
                    || (matches!(next, "that" | "que" | "ki" | "kwamba") && SELF.contains(&after))
            }
        });
        with || history || reports
    }

    fn give_age(&mut self, p: usize, phrase: AgePhrase) {
        let words = self.span(phrase.start, phrase.end);
        let person = &mut self.people[p];
        if person.age.is_none() {
            person.age = Some(phrase.years);
        }
        // Already in the relative's words when inside them ("my 2yo").
        if !person.words.last().is_some_and(|w| w.contains(&words)) {
            person.note(words);
        }
        // Compact forms: "19F", "F/34", "28 m". In Spanish "M" is also
        // "mujer", so there it says nothing.
        let letter_sex = match phrase.sex_letter {
            Some('f') => F,
            Some('m') if !self.tokens.iter().any(|t| SPANISH.contains(t)) => M,
            _ => None,
        };
        // Hindi agrees "of" with the person: "5 साल की" (a girl), "30 साल
        // का" (a man). The masculine is also the generic ("3 साल का बच्चा",
        // a child of 3), so it is read only of someone not named by a noun.
        let marker = phrase.end.checked_sub(1).map_or("", |k| self.t(k));
        let person = &mut self.people[p];
        let hindi_sex = match marker {
            "की" | "ki" => F,
            "का" | "के" | "ka" | "ke" if person.relation.is_none() => M,
            _ => None,
        };
        person.sex = person.sex.or(letter_sex).or(hindi_sex);
    }

    /// An age phrase: whose it is.
    fn age(&mut self, phrase: AgePhrase) -> usize {
        let before = phrase.start.checked_sub(1).map_or("", |k| self.t(k));
        let next = self.t(phrase.end);
        let (owner, end) = if let Some(p) = self.anchored(phrase.start, LINKS, 3) {
            (p, phrase.end)
        } else if matches!(before, "tiene" | "tem" | "ana") {
            // "tiene 5 años", "ana miaka 3": he or she, not the writer.
            (self.someone_else(), phrase.end)
        } else if CHILD_NOUNS.contains(&next) {
            // "a 3 month old baby", "the 2 year old child".
            let baby = matches!(next, "baby" | "bebe" | "newborn" | "infant");
            self.people.push(Person {
                relation: Some(if baby { "baby" } else { "child" }),
                excluded: baby && self.pregnancy(),
                words: vec![next.to_owned()],
                ..Person::default()
            });
            (self.people.len() - 1, phrase.end + 1)
        } else {
            (self.current, phrase.end)
        };
        self.give_age(owner, phrase);
        self.current = owner;
        self.anchor = Some((owner, end));
        end
    }

    /// A number no age phrase claimed: an age only right after a person
    /// ("my dad, 70", "my son (6)", "she is 5", "meri beti 5 saal").
    fn bare_age(&mut self, i: usize) -> usize {
        let Some(p) = self.anchored(i, BARE_LINKS, 1) else {
            return i + 1;
        };
        let t = self.t(i);
        // "my wife, 34F" is read by `quantities`; "my wife 34F" only here.
        if let Some((n, letter)) = quantities::compact_age(t) {
            let phrase = AgePhrase {
                start: i,
                end: i + 1,
                years: n,
                sex_letter: Some(letter),
            };
            self.give_age(p, phrase);
            self.anchor = Some((p, i + 1));
            return i + 1;
        }
        let Some(n) = quantities::whole(t) else {
            return i + 1;
        };
        let next = self.t(i + 1);
        let after = self.t(i + 2);
        let ends = |w: &str| w.is_empty() || w == "|" || AFTER_BARE_AGE.contains(&w);
        let (end, years) = match quantities::age_unit_of(next) {
            None if (1.0..=120.0).contains(&n) && ends(next) => (i + 1, n),
            // "meri beti 5 saal", "mi hija, 5 años": a unit but no "old". A
            // short unit must end the clause ("my baby, 3 weeks"): "my son
            // 2 weeks fever" is how long.
            Some((unit, per)) if years_fit(unit, n) && !quantities::says_ago(after) => {
                if unit != "years" && !ends(after) {
                    return i + 1;
                }
                (i + 2, n * per)
            }
            _ => return i + 1,
        };
        self.give_age(
            p,
            AgePhrase {
                start: i,
                end,
                years,
                sex_letter: None,
            },
        );
        self.anchor = Some((p, end));
        end
    }

    /// "mujer de 40 años", "61 yo male", "soy hombre", "mimi ni mwanamke".
    fn sex_noun(&mut self, i: usize, sex: Sex) -> usize {
        let before = self.anchored(i, LINKS, 3);
        // An age right after: a phrase, or a bare number ("soy hombre de 30",
        // "male, 45", "woman 34").
        let mut j = i + 1;
        while j < i + 3 && matches!(self.t(j), "|" | "de" | "of" | "wa" | "aged") {
            j += 1;
        }
        let phrase_after = self.age_at.get(j).copied().flatten();
        let bare_after = {
            let n = quantities::whole(self.t(j)).filter(|n| (1.0..=120.0).contains(n));
            let next = self.t(j + 1);
            n.filter(|_| quantities::age_unit_of(next).is_none() && !next.starts_with('%'))
        };
        // "Female here", "28F here": introducing oneself.
        let here = self.t(i + 1) == "here";
        let owner = match (
            before,
            phrase_after.is_some() || bare_after.is_some() || here,
        ) {
            (Some(p), _) => p,
            (None, true) => self.current,
            (None, false) => return i + 1,
        };
        let person = &mut self.people[owner];
        person.sex = person.sex.or(Some(sex));
        person.note(self.tokens[i].to_owned());
        self.anchor = Some((owner, i + 1));
        if phrase_after.is_none()
            && let Some(n) = bare_after
        {
            self.give_age(
                owner,
                AgePhrase {
                    start: j,
                    end: j + 1,
                    years: n,
                    sex_letter: None,
                },
            );
            self.anchor = Some((owner, j + 1));
            return j + 1;
        }
        i + 1
    }

    fn finish(self) -> Demographics {
        let has_facts = |p: &Person| {
            p.relation.is_some() || p.age.is_some() || p.sex.is_some() || !p.pronoun_sex.is_empty()
        };
        let others: Vec<usize> = (1..self.people.len())
            .filter(|&k| !self.people[k].excluded && has_facts(&self.people[k]))
            .collect();
        let patient = others
            .iter()
            .copied()
            .find(|&k| self.people[k].age.is_some())
            .or_else(|| others.first().copied());
        let Some(k) = patient else {
            let writer = &self.people[0];
            return Demographics {
                age_years: writer.age,
                sex: writer.sex,
                about_someone_else: false,
                relation: None,
                words: writer.words.clone(),
                first_person: self.first_person && (writer.age.is_some() || writer.sex.is_some()),
            };
        };
        let person = &self.people[k];
        // Pronouns say the sex of a relative whose noun did not ("my baby…
        // she"), when they agree.
        let pronoun_sex = person
            .pronoun_sex
            .first()
            .copied()
            .filter(|first| person.pronoun_sex.iter().all(|s| s == first));
        Demographics {
            age_years: person.age,
            sex: person.sex.or(pronoun_sex),
            about_someone_else: true,
            relation: person.relation.map(str::to_owned),
            words: person.words.clone(),
            first_person: false,
        }
    }
}

/// Whether `n` of `unit` is a plausible age.
fn years_fit(unit: &str, n: f32) -> bool {
    match unit {
        "years" => (1.0..=120.0).contains(&n),
        "months" => (1.0..=24.0).contains(&n),
        "weeks" => (1.0..=52.0).contains(&n),
        // "my baby 3 days" is as likely how long as how old.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (age, sex, about someone else, relation) read from `text`.
    fn facts(text: &str) -> (Option<f32>, Option<Sex>, bool, Option<String>) {
        let d = read(text);
        (d.age_years, d.sex, d.about_someone_else, d.relation)
    }

    fn own(age: f32, sex: Option<Sex>) -> (Option<f32>, Option<Sex>, bool, Option<String>) {
        (Some(age), sex, false, None)
    }

    fn of(
        relation: &str,
        age: Option<f32>,
        sex: Option<Sex>,
    ) -> (Option<f32>, Option<Sex>, bool, Option<String>) {
        (age, sex, true, Some(relation.to_owned()))
    }

    #[test]
    fn compact_forms_give_age_and_sex() {
        for (text, age, sex) in [
            ("19F", 19.0, F),
            ("28M", 28.0, M),
            ("F/34", 34.0, F),
            ("34 F", 34.0, F),
            ("M, 45", 45.0, M),
            ("f19", 19.0, F),
            ("I (32F) have a headache", 32.0, F),
            ("hi, 34 m here", 34.0, M),
            ("19 y/o f", 19.0, F),
        ] {
            assert_eq!(facts(text), own(age, sex), "{text}");
        }
    }

    #[test]
    fn numbers_that_are_not_ages_are_left_alone() {
        for text in [
            "fever of 102F",
            "temp 98 F",
            "temperature 38.75 f",
            "pain 8/10",
            "for 3 days",
            "I took 2 tablets",
            "since 2019",
            "I walked 50 m",
            "ran 100m",
            "I'm 30 weeks pregnant",
            "i m having fever",
            "il y a 3 ans",
            "hace más de 2 años",
            "5 saal se khansi hai",
        ] {
            let d = read(text);
            assert_eq!((d.age_years, d.sex), (None, None), "{text}: {d:?}");
        }
    }

    #[test]
    fn phrases_in_every_language_give_age_and_sex() {
        for (text, age, sex) in [
            ("a 61 year-old woman", 61.0, F),
            ("61 yo male", 61.0, M),
            ("mujer de 40 años", 40.0, F),
            ("soy hombre de 30", 30.0, M),
            ("homme de 45 ans", 45.0, M),
            ("je suis une femme de 30 ans", 30.0, F),
            ("sou homem, 50 anos", 50.0, M),
            ("मैं 30 साल का हूँ", 30.0, M),
            ("मैं 30 साल की हूँ", 30.0, F),
            ("main 30 saal ki hoon", 30.0, F),
            ("mimi ni mwanamke wa miaka 30", 30.0, F),
            ("Male here, 45", 45.0, M),
        ] {
            assert_eq!(facts(text), own(age, sex), "{text}");
        }
        for (text, age) in [
            ("j'ai 30 ans", 30.0),
            ("tenho 40 anos", 40.0),
            ("tengo 45 años", 45.0),
            ("I'm 58, headache for 2 days", 58.0),
            ("my age is 45", 45.0),
            ("nina miaka 25", 25.0),
        ] {
            assert_eq!(facts(text), own(age, None), "{text}");
            assert!(read(text).first_person, "{text}");
        }
    }

    #[test]
    fn relatives_give_the_patient_and_imply_sex() {
        let weeks6 = 6.0 * (168.0_f64 / 8766.0) as f32;
        for (text, expected) in [
            ("my 3-month-old", of("child", Some(0.25), None)),
            ("my 2yo", of("child", Some(2.0), None)),
            ("my baby is 6 weeks", of("baby", Some(weeks6), None)),
            ("my son (6)", of("son", Some(6.0), M)),
            (
                "my husband, 54, has chest pain",
                of("husband", Some(54.0), M),
            ),
            ("our daughter (2) has a cough", of("daughter", Some(2.0), F)),
            ("my little girl is 4", of("daughter", Some(4.0), F)),
            ("my wife 34F", of("wife", Some(34.0), F)),
            ("mi hija de 5 años", of("daughter", Some(5.0), F)),
            ("mi hijo tiene 5 años", of("son", Some(5.0), M)),
            ("ma fille de 3 ans", of("daughter", Some(3.0), F)),
            ("ma grand-mère a 90 ans", of("grandmother", Some(90.0), F)),
            ("meu filho de 2 anos", of("son", Some(2.0), M)),
            ("minha mãe de 80 anos", of("mother", Some(80.0), F)),
            ("मेरी बेटी 5 साल की है", of("daughter", Some(5.0), F)),
            ("मेरे पिता 70 साल के हैं", of("father", Some(70.0), M)),
            ("meri beti 5 saal", of("daughter", Some(5.0), F)),
            ("mtoto wangu wa miaka 3", of("child", Some(3.0), None)),
            ("mke wangu", of("wife", None, F)),
            ("mama yangu ana miaka 70", of("mother", Some(70.0), F)),
        ] {
            assert_eq!(facts(text), expected, "{text}");
        }
    }

    #[test]
    fn hindi_masculine_is_generic_for_a_child() {
        // "बच्चा" takes "का" whatever the child's sex.
        assert_eq!(
            facts("mera bachcha 3 saal ka hai"),
            of("child", Some(3.0), None)
        );
        assert_eq!(facts("मेरी बच्ची 3 साल की है"), of("child", Some(3.0), F));
    }

    #[test]
    fn a_carer_describes_the_patient_not_themselves() {
        assert_eq!(
            facts("I'm 34 and my 3 year old has a fever"),
            of("child", Some(3.0), None)
        );
        assert_eq!(
            facts("I (28F) am worried about my dad, 70"),
            of("father", Some(70.0), M)
        );
        assert_eq!(facts("My son has a fever. I'm 34"), of("son", None, M));
        let she = read("My baby has a fever and she won't feed");
        assert_eq!((she.relation.as_deref(), she.sex), (Some("baby"), F));
        let il = read("mon fils a de la fièvre, il a 3 ans");
        assert_eq!(il.age_years, Some(3.0));
        let third = read("She is 5 and has a rash");
        assert_eq!(
            (third.age_years, third.sex, third.about_someone_else),
            (Some(5.0), F, true)
        );
        assert!(read("tiene 5 años y fiebre").about_someone_else);
    }

    #[test]
    fn companions_history_and_advice_do_not_make_a_patient() {
        for (text, age, sex) in [
            (
                "My husband says I should ask: I'm 30F with pelvic pain",
                Some(30.0),
                F,
            ),
            (
                "my mother died of breast cancer at 50, I'm 45M",
                Some(45.0),
                M,
            ),
            (
                "I'm here with my husband, I am a 40 year old woman",
                Some(40.0),
                F,
            ),
            ("She told me to rest", None, None),
            (
                "My dad had a heart attack at 50 and now I'm 45F with chest pain",
                Some(45.0),
                F,
            ),
            (
                "mi madre tuvo cáncer de mama, soy hombre de 40",
                Some(40.0),
                M,
            ),
        ] {
            let d = read(text);
            assert_eq!(
                (d.age_years, d.sex, d.about_someone_else),
                (age, sex, false),
                "{text}"
            );
        }
        // An unborn baby is not the patient, and "he" kicking is not a man.
        let d = read("I'm 30 weeks pregnant and my baby is moving less, he usually kicks");
        assert_eq!((d.sex, d.about_someone_else), (None, false), "{d:?}");
    }

    #[test]
    fn spanish_m_is_ambiguous() {
        // "M" is "mujer" as well as "masculino" in Spanish.
        assert_eq!(facts("tengo 34M"), own(34.0, None));
        assert_eq!(facts("34M"), own(34.0, M));
    }

    #[test]
    fn merge_keeps_the_patient_across_turns() {
        let mut d = read("My baby has a fever");
        d.merge(read("she is 4 months"));
        assert_eq!((d.sex, d.relation.as_deref()), (F, Some("baby")));
        assert!((d.age_years.unwrap() - 4.0 / 12.0).abs() < 1e-4);
        // The carer speaking of themselves changes nothing.
        d.merge(read("I'm 34"));
        assert!((d.age_years.unwrap() - 4.0 / 12.0).abs() < 1e-4);
        // Facts given without a subject answer for the patient.
        let mut d = read("my daughter has a cough");
        d.merge(read("5 years old"));
        assert_eq!((d.age_years, d.sex), (Some(5.0), F));

        // A message about someone else replaces the writer's own facts.
        let mut d = read("28M");
        d.merge(read("actually it's for my mum, she is 70"));
        assert_eq!(
            (d.age_years, d.sex, d.about_someone_else),
            (Some(70.0), F, true)
        );
        // A different relative is a different patient.
        d.merge(read("my son (6) has it too"));
        assert_eq!(
            (d.age_years, d.sex, d.relation.as_deref()),
            (Some(6.0), M, Some("son"))
        );
        // Later explicit facts win; nothing said changes nothing.
        let mut d = read("I'm 30");
        d.merge(read("sorry, I'm 31, female"));
        d.merge(read("it hurts here"));
        assert_eq!((d.age_years, d.sex), (Some(31.0), F));
    }

    #[test]
    fn questions_apply_by_sex_and_age() {
        let d = read("19F with lower abdominal pain");
        assert!(!question_applies("testicular_pain", &d));
        assert!(question_applies("pregnant", &d));
        assert!(!question_applies("pregnant", &read("28M")));
        assert!(!question_applies("pregnant", &read("my 3-month-old")));
        assert!(!question_applies("pregnant", &read("mi abuela de 82 años")));
        assert!(question_applies("young_infant", &read("my 3-month-old")));
        assert!(!question_applies("infant", &read("my son (6)")));
        let unknown = Demographics::default();
        for concept in [
            "pregnant",
            "testicular_pain",
            "vaginal_bleeding",
            "chest_pain",
        ] {
            assert!(question_applies(concept, &unknown), "{concept}");
        }
    }
}
