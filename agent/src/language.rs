//! Which language a patient writes in, said only when the words are clear
//! about it, and scripts we cannot read at all.
//!
//! A wrong guess is worse than none: "hi" is not Hindi, "no" is not
//! Spanish, and a Spanish speaker who opens with "hello" still wants
//! Spanish. So one short word never decides; the caller keeps the
//! conversation's language (or English) when this says nothing.

use std::collections::{BTreeMap, BTreeSet};

use prompts::Language;

use crate::intent::{Intents, Token, tokens};

/// A distinctive function word's weight; a word several languages share
/// counts for each of them in proportion ("de" is a third each for es, fr,
/// pt).
const WORD: u32 = 60;
/// A phrase of one language ("hola", "bonjour", "asante") is as telling as
/// three function words.
const PHRASE: u32 = 3 * WORD;
/// Enough evidence: about two and a half distinctive words.
const ENOUGH: u32 = 5 * WORD / 2;
/// The winner must beat the runner-up by a whole distinctive word and be
/// at least twice its score.
const MARGIN: u32 = WORD;

fn is_devanagari(c: char) -> bool {
    ('\u{0900}'..='\u{097F}').contains(&c) || ('\u{A8E0}'..='\u{A8FF}').contains(&c)
}

/// Latin letters, with the accents our Latin-script languages use.
fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic()
        || ('\u{00C0}'..='\u{024F}').contains(&c)
        || ('\u{1E00}'..='\u{1EFF}').contains(&c)
}

/// Letters counted by script: (Latin, Devanagari, any other script).
fn script_counts(text: &str) -> (usize, usize, usize) {
    text.chars()
        .filter(|c| c.is_alphabetic() || is_devanagari(*c))
        .fold((0, 0, 0), |(latin, deva, other), c| {
            if is_latin(c) {
                (latin + 1, deva, other)
            } else if is_devanagari(c) {
                (latin, deva + 1, other)
            } else {
                (latin, deva, other + 1)
            }
        })
}

/// Most letters are of a script none of our languages is written in
/// (Arabic, Cyrillic, Chinese, Thai, Bengali, Tamil, Amharic…): the bot
/// cannot read the message and says so in English, with the safety text.
pub fn unsupported_script(text: &str) -> bool {
    let (latin, deva, other) = script_counts(text);
    other > 0 && other > latin + deva
}

impl Intents {
    /// The language `text` is in, only when enough words say so: Devanagari
    /// script, a greeting or thanks of one language, or about three function
    /// words of one language with a clear margin. `None` for "hi", "ok",
    /// "fever", "no" and other short or mixed messages.
    pub fn detect_confident(&self, text: &str) -> Option<Language> {
        let (latin, deva, other) = script_counts(text);
        if other > latin + deva {
            return None;
        }
        // Hindi is the only supported language written in Devanagari.
        if deva >= 2 && deva * 2 >= latin {
            return Some(Language::Hi);
        }
        let mut score = self.function_word_scores(&tokens(text));
        let phrase_langs: BTreeSet<Language> = self.telling_languages(text).into_iter().collect();
        for lang in phrase_langs {
            *score.entry(lang).or_default() += PHRASE;
        }
        let mut ranked: Vec<(u32, Language)> = score.into_iter().map(|(l, s)| (s, l)).collect();
        ranked.sort_by(|a, b| b.cmp(a));
        let (best, lang) = ranked.first().copied()?;
        let second = ranked.get(1).map_or(0, |(s, _)| *s);
        (best >= ENOUGH && best >= second + MARGIN && best >= 2 * second).then_some(lang)
    }

    /// Evidence per language from the message's distinct function words
    /// (and Devanagari words, which only Hindi uses).
    pub(crate) fn function_word_scores(&self, tokens: &[Token]) -> BTreeMap<Language, u32> {
        let words: BTreeSet<&str> = tokens.iter().filter_map(Token::word).collect();
        let mut score: BTreeMap<Language, u32> = BTreeMap::new();
        for word in words {
            if word.chars().any(is_devanagari) {
                *score.entry(Language::Hi).or_default() += WORD;
            } else if let Some(langs) = self.function_words.get(word) {
                let share = WORD / u32::try_from(langs.len()).unwrap_or(u32::MAX).max(1);
                for lang in langs {
                    *score.entry(*lang).or_default() += share;
                }
            }
        }
        score
    }
}

/// The language `text` is in when enough words say so (see
/// [`Intents::detect_confident`]); `None` if the bundled catalogue failed
/// to load (the tests prove it loads).
pub fn detect_confident(text: &str) -> Option<Language> {
    Intents::shared().ok()?.detect_confident(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_or_international_words_say_nothing() {
        for text in [
            "hi", "ok", "fever", "no", "si", "hello", "thanks", "es", "help", "12", "👍",
        ] {
            assert_eq!(detect_confident(text), None, "{text:?}");
        }
    }

    #[test]
    fn real_sentences_say_their_language() {
        let cases = [
            (
                "I have had a fever since yesterday and my head hurts",
                Language::En,
            ),
            (
                "tengo fiebre desde ayer y me duele mucho la cabeza",
                Language::Es,
            ),
            (
                "j'ai de la fièvre depuis hier et mal à la tête",
                Language::Fr,
            ),
            (
                "estou com febre desde ontem e minha cabeça dói",
                Language::Pt,
            ),
            (
                "mujhe kal se bukhar hai aur sir mein dard ho raha hai",
                Language::Hi,
            ),
            ("मुझे कल से बुखार है", Language::Hi),
            ("nina homa tangu jana na kichwa kinauma sana", Language::Sw),
        ];
        for (text, lang) in cases {
            assert_eq!(detect_confident(text), Some(lang), "{text:?}");
        }
    }

    #[test]
    fn a_greeting_of_one_language_is_enough() {
        assert_eq!(detect_confident("Hola!!"), Some(Language::Es));
        assert_eq!(detect_confident("bonjour docteur"), Some(Language::Fr));
        assert_eq!(detect_confident("olá, bom dia"), Some(Language::Pt));
        assert_eq!(detect_confident("namaste"), Some(Language::Hi));
        assert_eq!(detect_confident("habari"), Some(Language::Sw));
    }

    #[test]
    fn scripts_we_cannot_read_are_recognised() {
        for text in [
            "مرحبا، عندي حمى",
            "Здравствуйте, у меня температура",
            "你好，我发烧了",
            "สวัสดีครับ",
            "আমার জ্বর",
            "எனக்கு காய்ச்சல்",
            "ሰላም ትኩሳት አለኝ",
        ] {
            assert!(unsupported_script(text), "{text:?}");
            assert_eq!(detect_confident(text), None, "{text:?}");
        }
        for text in ["hello", "मुझे बुखार है", "olá", "fever 39°C", "👍", ""]
        {
            assert!(!unsupported_script(text), "{text:?}");
        }
    }
}
