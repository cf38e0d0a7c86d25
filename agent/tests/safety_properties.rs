//! Properties the safety engine must keep whatever the input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use agent::extract::{Evidence, Extractor, Mention};
use agent::red_flags::{evaluate, floor};
use agent::{Agent, ConversationState, PatientInput, StepContext};
use prompts::{Knowledge, Language};
use proptest::prelude::*;

fn knowledge() -> &'static Knowledge {
    Knowledge::bundled().unwrap()
}

/// Every concept any rule mentions.
fn rule_concepts() -> Vec<String> {
    let set: BTreeSet<String> = knowledge()
        .rules
        .rules
        .iter()
        .flat_map(|r| r.concepts().map(str::to_owned))
        .collect();
    set.into_iter().collect()
}

fn evidence_of(concepts: &[String]) -> Evidence {
    let mut e = Evidence::default();
    e.absorb(
        concepts
            .iter()
            .map(|c| Mention {
                concept: c.clone(),
                words: c.clone(),
                negated: false,
                language: Language::En,
            })
            .collect(),
    );
    e
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Adding evidence never lowers the red-flag floor.
    #[test]
    fn more_evidence_never_lowers_the_floor(mask in proptest::collection::vec(any::<(bool, bool)>(), 64)) {
        let concepts = rule_concepts();
        let small: Vec<String> = concepts.iter().zip(mask.iter().cycle()).filter(|(_, (a, _))| *a).map(|(c, _)| c.clone()).collect();
        let large: Vec<String> = concepts.iter().zip(mask.iter().cycle()).filter(|(_, (a, b))| *a || *b).map(|(c, _)| c.clone()).collect();
        let rules = &knowledge().rules;
        let low = floor(&evaluate(rules, &evidence_of(&small)));
        let high = floor(&evaluate(rules, &evidence_of(&large)));
        prop_assert!(high >= low, "{small:?} -> {low:?} but {large:?} -> {high:?}");
    }

    /// A conversation's floor never goes down, whatever the patient writes next.
    #[test]
    fn no_message_lowers_the_conversation_floor(
        first in prop::sample::select(vec![
            "my dad is sweaty and his chest feels tight",
            "I want to kill myself",
            "I have a cough",
            "tengo dolor de pecho y estoy sudando",
        ]),
        later in "[a-zA-Z ,.!?']{0,80}",
        denial in prop::sample::select(vec!["no chest pain", "I'm fine now", "no sweating", "never mind, all good", "CANCEL"]),
    ) {
        let agent = Agent::shared().unwrap();
        let ctx = |k: &str| StepContext { input_key: k.to_owned(), sent_at: 0 };
        let (s1, _) = agent.step(ConversationState::default(), &PatientInput::Text { text: first.to_owned() }, &ctx("1"));
        let (s2, _) = agent.step(s1.clone(), &PatientInput::Text { text: later }, &ctx("2"));
        prop_assert!(s2.floor() >= s1.floor());
        if denial != "CANCEL" {
            let (s3, _) = agent.step(s2.clone(), &PatientInput::Text { text: denial.to_owned() }, &ctx("3"));
            prop_assert!(s3.floor() >= s2.floor(), "a denial lowered the floor");
        }
    }

    /// Whatever the patient answers, the interview asks at most
    /// `MAX_QUESTIONS`, ends, never lowers the disposition it has reached,
    /// and gives the same actions for the same state and input (purity).
    #[test]
    fn the_interview_ends_within_its_budget_and_never_lowers_the_level(
        first in prop::sample::select(vec![
            "my chest hurts",
            "I have a headache",
            "I have a dry cough",
            "sore throat and a fever",
            "my baby has a fever",
            "I'm pregnant and have a headache",
            "I fainted",
            "tengo dolor de barriga",
            "mon enfant a de la fièvre",
            "nina kikohozi",
            "मुझे चक्कर आ रहे हैं",
            "I burned my hand",
            "my leg is swollen",
            "I feel depressed",
        ]),
        answers in proptest::collection::vec(
            prop::sample::select(vec!["yes", "no", "unsure", "7", "2", "3 days", "since this morning", "4 weeks", "I don't know", "hmm"]),
            12,
        ),
    ) {
        let agent = Agent::shared().unwrap();
        let k = knowledge();
        let ctx = |k: &str| StepContext { input_key: k.to_owned(), sent_at: 0 };
        let (mut s, _) = agent.step(ConversationState::default(), &PatientInput::Text { text: first.to_owned() }, &ctx("0"));
        let mut level = agent::interview::level(k, &s);
        let mut n = 0;
        while let Some(q) = s.pending_question.clone() {
            prop_assert!(n < answers.len(), "the interview did not end: {:?}", s.asked);
            let answer = answers[n];
            n += 1;
            let input = match (q.is_yes_no(), answer) {
                (true, "yes" | "no" | "unsure") => PatientInput::Choice { id: format!("{answer}:{q}"), title: answer.to_owned() },
                _ => PatientInput::Text { text: answer.to_owned() },
            };
            let key = format!("a{n}");
            let (again, again_actions) = agent.step(s.clone(), &input, &ctx(&key));
            let (next, actions) = agent.step(s, &input, &ctx(&key));
            prop_assert_eq!(&again, &next);
            prop_assert_eq!(again_actions, actions);
            s = next;
            let now = agent::interview::level(k, &s);
            prop_assert!(now >= level, "{:?} fell to {:?} after {:?}", level, now, s.asked);
            level = now;
        }
        prop_assert!(s.asked.len() <= agent::interview::MAX_QUESTIONS, "{:?}", s.asked);
        prop_assert!(s.disposition.is_some(), "ended without a disposition: {:?}", s);
    }

    /// Arbitrary text never crashes the extractor or the agent.
    #[test]
    fn arbitrary_text_is_handled(text in "\\PC{0,200}") {
        let agent = Agent::shared().unwrap();
        let (state, actions) = agent.step(
            ConversationState::default(),
            &PatientInput::Text { text },
            &StepContext { input_key: "k".into(), sent_at: 0 },
        );
        prop_assert!(!actions.is_empty());
        prop_assert_eq!(state.turns, 1);
    }
}

/// Denying every trigger of a rule, in any language, does not fire it.
#[test]
fn negated_red_flags_do_not_fire() {
    let k = knowledge();
    let x = Extractor::new(&k.lexicons);
    let mut failures = Vec::new();
    for rule in &k.rules.rules {
        for lang in Language::ALL {
            let lexicon = &k.lexicons[&lang];
            let Some(negation) = lexicon.negations.first() else {
                continue;
            };
            let mut clauses = Vec::new();
            for concept in rule.concepts() {
                let Some(terms) = lexicon.concepts.iter().find(|c| c.id == concept) else {
                    continue;
                };
                // A phrase carrying its own negation ("no puedo tragar") is
                // never denied by another cue: skip it for this test.
                let self_negating = |t: &str| {
                    let words: Vec<String> = agent::extract::tokenize(t);
                    lexicon.negations.iter().any(|n| {
                        let prefix = n.ends_with('*');
                        let cue = agent::extract::tokenize(n.trim_end_matches('*'));
                        cue.iter().enumerate().all(|(i, c)| {
                            let last = i + 1 == cue.len();
                            words
                                .iter()
                                .any(|w| w == c || (prefix && last && w.starts_with(c.as_str())))
                        })
                    })
                };
                let Some(term) = terms
                    .terms
                    .iter()
                    .find(|t| !t.contains('*') && !self_negating(t))
                else {
                    continue;
                };
                clauses.push(if lexicon.negation_follows {
                    format!("{term} {negation}")
                } else {
                    format!("{negation} {term}")
                });
            }
            let text = clauses.join(". ");
            let mut e = Evidence::default();
            e.absorb(x.extract(&text));
            if evaluate(&k.rules, &e).iter().any(|f| f.id == rule.id) {
                failures.push(format!("{} [{lang}] fired on {text:?}", rule.id));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
