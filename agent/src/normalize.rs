//! Text as phones and keyboards send it, made comparable before matching.
//!
//! WhatsApp messages arrive with smart quotes from iOS ("can’t"), dashes
//! and non-breaking spaces from copy-paste, fullwidth letters from CJK
//! keyboards, accents typed as a letter plus a combining mark (macOS and
//! some Android keyboards send "e" + U+0301 for "é"), zero-width characters
//! from web pages, emoji glued to words ("pain😭"), and letters stretched
//! for emphasis ("soooo bad", "heeelp"). [`normalize`] maps the first kinds
//! to one spelling, a small hand-written subset of Unicode NFKC plus the
//! typographic folds; [`unstretched`] offers the spellings a stretched word
//! may stand for, for the extractor to pick the one its lexicons know.
//!
//! Matching only: the output is not meant for display.

use std::collections::HashMap;

/// Combining marks of Latin script, which accents are typed with.
const COMBINING: std::ops::RangeInclusive<char> = '\u{0300}'..='\u{036F}';

/// The precomposed letter for `base` + combining `mark`, for the accents
/// our languages use (acute, grave, circumflex, tilde, diaeresis, cedilla).
fn compose(base: char, mark: char) -> Option<char> {
    let row: &[(char, char)] = match mark {
        '\u{0300}' => &[
            ('a', 'à'),
            ('e', 'è'),
            ('i', 'ì'),
            ('o', 'ò'),
            ('u', 'ù'),
            ('A', 'À'),
            ('E', 'È'),
            ('I', 'Ì'),
            ('O', 'Ò'),
            ('U', 'Ù'),
        ],
        '\u{0301}' => &[
            ('a', 'á'),
            ('e', 'é'),
            ('i', 'í'),
            ('o', 'ó'),
            ('u', 'ú'),
            ('y', 'ý'),
            ('A', 'Á'),
            ('E', 'É'),
            ('I', 'Í'),
            ('O', 'Ó'),
            ('U', 'Ú'),
        ],
        '\u{0302}' => &[
            ('a', 'â'),
            ('e', 'ê'),
            ('i', 'î'),
            ('o', 'ô'),
            ('u', 'û'),
            ('A', 'Â'),
            ('E', 'Ê'),
            ('I', 'Î'),
            ('O', 'Ô'),
            ('U', 'Û'),
        ],
        '\u{0303}' => &[
            ('a', 'ã'),
            ('o', 'õ'),
            ('n', 'ñ'),
            ('A', 'Ã'),
            ('O', 'Õ'),
            ('N', 'Ñ'),
        ],
        '\u{0308}' => &[
            ('a', 'ä'),
            ('e', 'ë'),
            ('i', 'ï'),
            ('o', 'ö'),
            ('u', 'ü'),
            ('y', 'ÿ'),
            ('A', 'Ä'),
            ('E', 'Ë'),
            ('I', 'Ï'),
            ('O', 'Ö'),
            ('U', 'Ü'),
        ],
        '\u{0327}' => &[('c', 'ç'), ('C', 'Ç')],
        _ => &[],
    };
    row.iter().find(|(b, _)| *b == base).map(|(_, c)| *c)
}

/// Pictographs, dingbats, arrows and the emoji modifiers: word separators.
fn is_symbol(c: char) -> bool {
    matches!(c,
        '\u{2190}'..='\u{21FF}'     // arrows
        | '\u{2300}'..='\u{23FF}'   // technical (⌚ ⏰)
        | '\u{2460}'..='\u{24FF}'   // enclosed alphanumerics
        | '\u{25A0}'..='\u{27BF}'   // shapes, misc symbols, dingbats (☹ ❤ ✅)
        | '\u{2900}'..='\u{297F}'
        | '\u{2B00}'..='\u{2BFF}'
        | '\u{3030}' | '\u{303D}'
        | '\u{FE00}'..='\u{FE0F}'   // variation selectors (❤️)
        | '\u{1F000}'..='\u{1FAFF}' // emoji, incl. skin tones
        | '\u{E0020}'..='\u{E007F}' // tag characters (flags)
    )
}

/// One character's canonical form: `None` drops it, a space separates.
pub(crate) fn canonical(c: char) -> Option<char> {
    Some(match c {
        // Apostrophes: right/left single quote, modifier letter, prime,
        // acute and grave accents typed in their place.
        '\u{2019}' | '\u{2018}' | '\u{201B}' | '\u{02BC}' | '\u{2032}' | '\u{00B4}' | '`' => '\'',
        // Double quotes and guillemets.
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '«' | '»' | '‹' | '›' => {
            '"'
        }
        // Hyphens, dashes and the minus sign.
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' => '-',
        // Spaces of every width, and the ideographic space.
        '\u{00A0}'
        | '\u{1680}'
        | '\u{2000}'..='\u{200A}'
        | '\u{202F}'
        | '\u{205F}'
        | '\u{3000}' => ' ',
        // The zero-width space marks a word boundary.
        '\u{200B}' => ' ',
        // Joiners, the word joiner, the byte-order mark and the soft hyphen
        // sit inside words (Devanagari conjuncts, copy-pasted text).
        '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => return None,
        // Fullwidth ASCII (NFKC).
        '\u{FF01}'..='\u{FF5E}' => {
            return char::from_u32(u32::from(c) - 0xFEE0).and_then(canonical);
        }
        // Devanagari letters with nukta are written with or without it
        // ("आवाज़" / "आवाज"): both read as the plain letter, and the
        // chandrabindu as the anusvara ("हूँ" / "हूं").
        '\u{0958}' => 'क',
        '\u{0959}' => 'ख',
        '\u{095A}' => 'ग',
        '\u{095B}' => 'ज',
        '\u{095C}' => 'ड',
        '\u{095D}' => 'ढ',
        '\u{095E}' => 'फ',
        '\u{095F}' => 'य',
        '\u{093C}' => return None,
        '\u{0901}' => '\u{0902}',
        c if is_symbol(c) => ' ',
        c => c,
    })
}

/// Text in one spelling for matching: typographic quotes, dashes and spaces
/// folded to ASCII, fullwidth forms to ASCII, zero-width characters removed,
/// a letter plus a combining accent composed into one letter, emoji turned
/// into spaces. Case is kept: abbreviations are matched case-sensitively
/// on this output.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if COMBINING.contains(&c) {
            // Compose with the letter before it; an accent we do not know
            // is dropped (matching ignores accents anyway).
            if let Some(base) = out.pop() {
                out.push(compose(base, c).unwrap_or(base));
            }
            continue;
        }
        if let Some(c) = canonical(c) {
            out.push(c);
        }
    }
    out
}

/// Shorthand expanded in the raw text before lower-casing: the lexicons'
/// `[abbreviations]` tables (see `prompts::lexicon::Lexicon`). Matching is
/// case-sensitive and on whole words, so "SOB" expands and "sob" does not.
#[derive(Debug, Clone, Default)]
pub struct Abbreviations {
    /// Entries by their first character, longest key first.
    by_first: HashMap<char, Vec<Abbreviation>>,
}

#[derive(Debug, Clone)]
struct Abbreviation {
    key: String,
    /// Only right after a number ("3yo", "3 yo").
    after_number: bool,
    expansion: String,
}

/// Marks a key that only expands right after a number.
const AFTER_NUMBER: char = '#';

impl Abbreviations {
    /// From `(key, expansion)` pairs; the first of two equal keys wins.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut by_first: HashMap<char, Vec<Abbreviation>> = HashMap::new();
        for (key, expansion) in pairs {
            let (after_number, key) = match key.strip_prefix(AFTER_NUMBER) {
                Some(rest) => (true, rest),
                None => (false, key),
            };
            let key = normalize(key);
            let Some(first) = key.chars().next() else {
                continue;
            };
            let entries = by_first.entry(first).or_default();
            if entries
                .iter()
                .any(|a| a.key == key && a.after_number == after_number)
            {
                continue;
            }
            entries.push(Abbreviation {
                key,
                after_number,
                expansion: normalize(expansion),
            });
        }
        for entries in by_first.values_mut() {
            entries.sort_by_key(|a| std::cmp::Reverse(a.key.len()));
        }
        Self { by_first }
    }

    /// `text` (already [`normalize`]d) with every abbreviation replaced by
    /// its words, set off by spaces.
    pub fn expand(&self, text: &str) -> String {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while let Some(&(pos, c)) = chars.get(i) {
            let before = i.checked_sub(1).and_then(|j| chars.get(j)).map(|&(_, c)| c);
            let before2 = i.checked_sub(2).and_then(|j| chars.get(j)).map(|&(_, c)| c);
            let found = self.by_first.get(&c).and_then(|entries| {
                entries.iter().find(|a| {
                    let rest = &text[pos..];
                    let starts = if a.after_number {
                        before.is_some_and(|b| b.is_ascii_digit())
                            || (before == Some(' ') && before2.is_some_and(|b| b.is_ascii_digit()))
                    } else {
                        !before.is_some_and(char::is_alphanumeric)
                    };
                    starts
                        && rest.starts_with(&a.key)
                        && !rest[a.key.len()..]
                            .chars()
                            .next()
                            .is_some_and(char::is_alphanumeric)
                })
            });
            match found {
                Some(a) => {
                    out.push(' ');
                    out.push_str(&a.expansion);
                    out.push(' ');
                    let end = pos + a.key.len();
                    while chars.get(i).is_some_and(|&(p, _)| p < end) {
                        i += 1;
                    }
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        out
    }
}

/// Letters repeated this many times or more are stretched for emphasis:
/// no word of our languages triples a letter.
const STRETCH: usize = 3;
/// At most this many stretched runs are resolved in one word (2^n spellings).
const MAX_RUNS: usize = 4;

/// The spellings a stretched word ("soooo", "heeelp", "bleeeding") may stand
/// for, each run of three or more identical letters read as two letters or
/// as one; doubled spellings first. Empty when nothing is stretched.
pub fn unstretched(word: &str) -> Vec<String> {
    // (letter, run length) in order.
    let mut runs: Vec<(char, usize)> = Vec::new();
    for c in word.chars() {
        match runs.last_mut() {
            Some((last, n)) if *last == c => *n += 1,
            _ => runs.push((c, 1)),
        }
    }
    let stretched: Vec<usize> = runs
        .iter()
        .enumerate()
        .filter(|(_, (c, n))| *n >= STRETCH && c.is_alphabetic())
        .map(|(i, _)| i)
        .take(MAX_RUNS)
        .collect();
    if stretched.is_empty() {
        return Vec::new();
    }
    (0..1usize << stretched.len())
        .map(|choice| {
            let mut spelling = String::with_capacity(word.len());
            for (i, &(c, n)) in runs.iter().enumerate() {
                let keep = match stretched.iter().position(|&s| s == i) {
                    Some(bit) if choice & (1 << bit) != 0 => 1,
                    Some(_) => 2,
                    None if n >= STRETCH && c.is_alphabetic() => 2,
                    None => n,
                };
                spelling.extend(std::iter::repeat_n(c, keep));
            }
            spelling
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typographic_apostrophes_and_quotes_become_ascii() {
        for s in [
            "can’t", "can‘t", "canʼt", "can′t", "can＇t", "can´t", "can`t",
        ] {
            assert_eq!(normalize(s), "can't", "{s:?}");
        }
        assert_eq!(
            normalize("“chest pain” «douleur»"),
            "\"chest pain\" \"douleur\""
        );
    }

    #[test]
    fn dashes_become_hyphens() {
        for s in [
            "self‐harm",
            "self‑harm",
            "self–harm",
            "self—harm",
            "self−harm",
        ] {
            assert_eq!(normalize(s), "self-harm", "{s:?}");
        }
    }

    #[test]
    fn odd_spaces_separate_and_invisible_characters_vanish() {
        assert_eq!(normalize("chest\u{00A0}pain"), "chest pain");
        assert_eq!(normalize("chest\u{202F}pain"), "chest pain");
        assert_eq!(normalize("chest\u{3000}pain"), "chest pain");
        assert_eq!(normalize("chest\u{200B}pain"), "chest pain");
        assert_eq!(normalize("\u{FEFF}fe\u{00AD}ver\u{2060}"), "fever");
        // Joiners inside a Devanagari conjunct do not split the word.
        assert_eq!(normalize("क्\u{200D}ष"), "क्ष");
    }

    #[test]
    fn fullwidth_letters_and_digits_become_ascii() {
        assert_eq!(normalize("ｆｅｖｅｒ ３９"), "fever 39");
        assert_eq!(normalize("ＳＯＢ！"), "SOB!");
    }

    #[test]
    fn decomposed_accents_are_composed() {
        assert_eq!(normalize("fie\u{0300}vre"), "fièvre");
        assert_eq!(normalize("opresio\u{0301}n"), "opresión");
        assert_eq!(normalize("na\u{0303}o"), "não");
        assert_eq!(normalize("c\u{0327}a"), "ça");
        assert_eq!(normalize("E\u{0301}"), "É");
        // An accent with no precomposed form is dropped, not left dangling.
        assert_eq!(normalize("x\u{0301}y"), "xy");
        assert_eq!(normalize("\u{0301}a"), "a");
    }

    #[test]
    fn devanagari_nukta_and_chandrabindu_have_one_spelling() {
        assert_eq!(normalize("आवाज़"), normalize("आवाज"));
        // Precomposed U+095B and decomposed ज + U+093C alike.
        assert_eq!(normalize("\u{095B}"), normalize("ज\u{093C}"));
        assert_eq!(normalize("हूँ"), normalize("हूं"));
    }

    #[test]
    fn emoji_separate_words() {
        assert_eq!(normalize("pain😭"), "pain ");
        assert_eq!(normalize("chest❤️pain"), "chest  pain");
        assert_eq!(normalize("help🙏🏽"), "help  ");
        assert_eq!(normalize("fever🤒and cough"), "fever and cough");
    }

    fn abbreviations() -> Abbreviations {
        Abbreviations::new([
            ("SOB", "short of breath"),
            ("CP", "chest pain"),
            ("c/o", "complains of"),
            ("N/V", "nausea and vomiting"),
            ("#yo", "year old"),
        ])
    }

    #[test]
    fn abbreviations_expand_case_sensitively_on_whole_words() {
        let a = abbreviations();
        assert_eq!(
            a.expand("pt c/o SOB"),
            "pt  complains of   short of breath "
        );
        assert_eq!(a.expand("I sob at night"), "I sob at night");
        assert_eq!(a.expand("Sob"), "Sob");
        assert_eq!(a.expand("CPR given"), "CPR given");
        assert_eq!(a.expand("(CP)"), "( chest pain )");
        assert_eq!(a.expand("N/V since am"), " nausea and vomiting  since am");
        assert_eq!(a.expand("ACP"), "ACP");
    }

    #[test]
    fn number_abbreviations_expand_only_after_a_number() {
        let a = abbreviations();
        assert_eq!(a.expand("3yo boy"), "3 year old  boy");
        assert_eq!(a.expand("3 yo boy"), "3  year old  boy");
        assert_eq!(a.expand("yo tengo fiebre"), "yo tengo fiebre");
        assert_eq!(a.expand("3 yoghurts"), "3 yoghurts");
    }

    #[test]
    fn stretched_letters_offer_doubled_and_single_spellings() {
        assert_eq!(unstretched("soooo"), ["soo", "so"]);
        assert_eq!(unstretched("heeelp"), ["heelp", "help"]);
        let both = unstretched("pleeeasssse");
        assert!(both.contains(&"please".to_owned()), "{both:?}");
        assert_eq!(both.len(), 4);
        // Doubled letters and digits are not stretching.
        assert!(unstretched("bleeding").is_empty());
        assert!(unstretched("1000").is_empty());
    }
}
