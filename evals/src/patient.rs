//! The simulated patient: answers the agent's questions from the case.
//!
//! `single` mode answers every question "I don't know". `conversation` mode
//! answers from `facts` by topic (the topic is the concept the agent asks
//! about), from the demographics for pregnancy, else with the sentence of the
//! facts, vignette or opening most similar to the question (MiniLM
//! embeddings), else "I'm not sure".

use retrieval::{Embedder, cosine};

use crate::suite::Case;

/// How the patient answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Only the opening; every question is answered "I don't know".
    Single,
    /// Questions are answered from the case.
    Conversation,
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerSource {
    /// A fact whose topic is the concept asked about.
    Fact,
    /// The case's demographics.
    Demographics,
    /// The most similar sentence of the case.
    Similar,
    /// Nothing relevant: "I'm not sure" / "I don't know".
    Unknown,
    /// A chat model role-playing the patient.
    RolePlay,
    /// The case's scripted next message (`then`).
    Script,
}

impl AnswerSource {
    /// The name used in transcripts.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerSource::Fact => "fact",
            AnswerSource::Demographics => "demographics",
            AnswerSource::Similar => "similar",
            AnswerSource::Unknown => "unknown",
            AnswerSource::RolePlay => "role_play",
            AnswerSource::Script => "script",
        }
    }
}

/// Asks a chat model to answer `question` as the patient of `case`, from
/// the case's facts and vignette only (JSON `{"answer": "..."}`).
pub async fn role_play(
    model: &dyn llm::ChatModel,
    case: &Case,
    transcript: &[crate::runner::Turn],
    question: &str,
) -> Result<String, llm::LlmError> {
    let language = case.language.as_deref().unwrap_or("en");
    let mut story = format!("Your first message was: {}\n", case.opening);
    if let Some(v) = &case.vignette {
        story.push_str(&format!("Your situation: {v}\n"));
    }
    for f in &case.facts {
        story.push_str(&format!("About {}: {}\n", f.topic, f.answer));
    }
    let so_far: String = transcript
        .iter()
        .map(|t| format!("{}: {}\n", t.role, t.text))
        .collect();
    let request = llm::JsonRequest {
        name: "patient_answer".to_owned(),
        messages: vec![
            llm::ChatMessage::new(
                llm::Role::System,
                format!(
                    "You role-play a patient talking to a triage nurse on WhatsApp, in language `{language}`. \
                     Answer the nurse's question briefly, like a lay person, using only the facts below; \
                     if they do not say, answer that you are not sure. Never add symptoms. \
                     Answer with JSON: {{\"answer\": \"...\"}}.\n{story}"
                ),
            ),
            llm::ChatMessage::new(
                llm::Role::User,
                format!("Conversation so far:\n{so_far}\nThe nurse asks: {question}"),
            ),
        ],
        schema: serde_json::json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {"answer": {"type": "string", "maxLength": 300}},
            "required": ["answer"]
        }),
        max_tokens: 96,
    };
    let text = model.complete_json(&request).await?;
    let value = llm::json_object(&text)?;
    value["answer"]
        .as_str()
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .ok_or_else(|| llm::LlmError::Invalid("no answer".to_owned()))
}

/// Similarity a sentence needs to be used as an answer.
const SIMILARITY_THRESHOLD: f32 = 0.45;

fn phrase(language: &str, unsure: bool) -> &'static str {
    match (language, unsure) {
        ("es", true) => "No estoy seguro",
        ("es", false) => "No sé",
        ("fr", true) => "Je ne suis pas sûr",
        ("fr", false) => "Je ne sais pas",
        ("pt", true) => "Não tenho certeza",
        ("pt", false) => "Não sei",
        ("hi", true) => "पक्का नहीं पता",
        ("hi", false) => "मुझे नहीं पता",
        ("sw", true) => "Sina uhakika",
        ("sw", false) => "Sijui",
        (_, true) => "I'm not sure",
        (_, false) => "I don't know",
    }
}

fn yes_no(language: &str, yes: bool) -> &'static str {
    match (language, yes) {
        ("es", true) => "sí",
        ("fr", true) => "oui",
        ("pt", true) => "sim",
        ("hi", true) => "हाँ",
        ("sw", true) => "ndiyo",
        (_, true) => "yes",
        ("fr", false) => "non",
        ("pt", false) => "não",
        ("hi", false) => "नहीं",
        ("sw", false) => "hapana",
        (_, false) => "no",
    }
}

/// Splits text into sentences (on . ! ? । and newlines).
pub fn sentences(text: &str) -> Vec<String> {
    text.split(['.', '!', '?', '।', '\n'])
        .map(str::trim)
        .filter(|s| s.chars().filter(|c| c.is_alphanumeric()).count() >= 3)
        .map(str::to_owned)
        .collect()
}

/// A patient simulated from one case.
#[derive(Debug)]
pub struct SimulatedPatient<'a> {
    case: &'a Case,
    mode: Mode,
    language: String,
    candidates: Vec<String>,
    vectors: Vec<Vec<f32>>,
    embedder: Option<&'a Embedder>,
}

impl<'a> SimulatedPatient<'a> {
    /// A patient for `case`. In conversation mode the embedder (if any)
    /// embeds the case's sentences once.
    pub fn new(
        case: &'a Case,
        mode: Mode,
        embedder: Option<&'a Embedder>,
    ) -> Result<Self, retrieval::EmbedError> {
        let language = case.language.clone().unwrap_or_else(|| "en".to_owned());
        let mut candidates = Vec::new();
        if mode == Mode::Conversation {
            candidates.extend(case.facts.iter().map(|f| f.answer.clone()));
            if let Some(v) = &case.vignette {
                candidates.extend(sentences(v));
            }
            candidates.extend(sentences(&case.opening));
            candidates.dedup();
        }
        let vectors = match (embedder, mode) {
            (Some(e), Mode::Conversation) if !candidates.is_empty() => {
                let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
                e.embed(&refs)?
            }
            _ => Vec::new(),
        };
        Ok(Self {
            case,
            mode,
            language,
            candidates,
            vectors,
            embedder,
        })
    }

    /// What the patient says to an open question ("what is the main
    /// problem?"): the next message of the case's `then`, else (conversation
    /// mode) the vignette once, else doubt. `used` counts the open answers
    /// given so far.
    pub fn open_answer(&self, used: usize) -> (String, AnswerSource) {
        if let Some(next) = self.case.then.get(used) {
            return (next.clone(), AnswerSource::Script);
        }
        let vignette_turn = used == self.case.then.len();
        if self.mode == Mode::Conversation
            && vignette_turn
            && let Some(v) = &self.case.vignette
        {
            return (v.clone(), AnswerSource::Similar);
        }
        (
            phrase(&self.language, false).to_owned(),
            AnswerSource::Unknown,
        )
    }

    /// The answer to a question about `concept`, worded `question`.
    pub fn answer(
        &self,
        concept: &str,
        question: &str,
    ) -> Result<(String, AnswerSource), retrieval::EmbedError> {
        if self.mode == Mode::Single {
            return Ok((
                phrase(&self.language, false).to_owned(),
                AnswerSource::Unknown,
            ));
        }
        if let Some(f) = self.case.facts.iter().find(|f| f.topic == concept) {
            return Ok((f.answer.clone(), AnswerSource::Fact));
        }
        if concept == "pregnant"
            && let Some(p) = self.case.patient.as_ref().and_then(|p| p.pregnant)
        {
            return Ok((
                yes_no(&self.language, p).to_owned(),
                AnswerSource::Demographics,
            ));
        }
        if let Some(e) = self.embedder
            && !self.vectors.is_empty()
        {
            let q = e.embed(&[question])?;
            if let Some(qv) = q.first() {
                let best = self
                    .vectors
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i, cosine(qv, v)))
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                if let Some((i, score)) = best
                    && score >= SIMILARITY_THRESHOLD
                    && let Some(text) = self.candidates.get(i)
                {
                    return Ok((text.clone(), AnswerSource::Similar));
                }
            }
        }
        Ok((
            phrase(&self.language, true).to_owned(),
            AnswerSource::Unknown,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{Fact, PatientFacts, Scheme};

    fn case() -> Case {
        Case {
            id: "c".into(),
            scheme: Scheme::Five,
            gold: "routine".into(),
            opening: "I have a headache. It started yesterday".into(),
            language: Some("es".into()),
            patient: Some(PatientFacts {
                age: Some(30.0),
                sex: Some("female".into()),
                pregnant: Some(false),
            }),
            facts: vec![Fact {
                topic: "fever".into(),
                answer: "no tengo fiebre".into(),
            }],
            vignette: None,
            red_flags: vec![],
            tags: vec![],
            then: vec![],
            expect: Default::default(),
        }
    }

    #[test]
    fn facts_by_topic_then_demographics_then_unsure() {
        let c = case();
        let p = SimulatedPatient::new(&c, Mode::Conversation, None).unwrap();
        assert_eq!(
            p.answer("fever", "¿Tiene fiebre?").unwrap(),
            ("no tengo fiebre".to_owned(), AnswerSource::Fact)
        );
        assert_eq!(p.answer("pregnant", "?").unwrap().0, "no");
        assert_eq!(
            p.answer("stiff_neck", "?").unwrap(),
            ("No estoy seguro".to_owned(), AnswerSource::Unknown)
        );
        let single = SimulatedPatient::new(&c, Mode::Single, None).unwrap();
        assert_eq!(single.answer("fever", "?").unwrap().0, "No sé");
    }

    #[test]
    fn sentences_split_on_punctuation_and_danda() {
        assert_eq!(
            sentences("Pain for 2 days. No fever! सिर दर्द है। ok"),
            vec!["Pain for 2 days", "No fever", "सिर दर्द है"]
        );
    }
}
