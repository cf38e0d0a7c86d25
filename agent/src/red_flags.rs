//! The red-flag safety engine: deterministic rules from `prompts`, evaluated
//! on the evidence after every patient turn. Its floor is final: whatever a
//! model proposes, the disposition is at least the highest floor that fired.

use prompts::Disposition;
use prompts::red_flags::RuleSet;
use serde::{Deserialize, Serialize};

use crate::extract::Evidence;

/// A rule that fired, with what the clinician needs to see why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredRule {
    /// Rule id.
    pub id: String,
    /// Category.
    pub category: String,
    /// Its floor.
    pub floor: Disposition,
    /// Clinician-facing summary.
    pub summary: String,
    /// Guidance it comes from.
    pub source: String,
    /// Whether the crisis-line message must be sent.
    pub crisis: bool,
    /// The concepts that made it fire.
    pub evidence: Vec<String>,
}

/// Every rule that fires on `evidence`, most urgent first.
pub fn evaluate(rules: &RuleSet, evidence: &Evidence) -> Vec<FiredRule> {
    let mut fired: Vec<FiredRule> = rules
        .rules
        .iter()
        .filter(|rule| rule.fires_on(|c| evidence.has(c)))
        .map(|rule| FiredRule {
            id: rule.id.clone(),
            category: rule.category.clone(),
            floor: rule.floor,
            summary: rule.summary.clone(),
            source: rule.source.clone(),
            crisis: rule.crisis,
            evidence: rule
                .concepts()
                .filter(|c| evidence.has(c))
                .map(str::to_owned)
                .collect(),
        })
        .collect();
    fired.sort_by(|a, b| b.floor.cmp(&a.floor).then_with(|| a.id.cmp(&b.id)));
    fired
}

/// The highest floor among fired rules.
pub fn floor(fired: &[FiredRule]) -> Option<Disposition> {
    fired.iter().map(|r| r.floor).max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Extractor;
    use prompts::Knowledge;

    fn evidence(x: &Extractor, text: &str) -> Evidence {
        let mut e = Evidence::default();
        e.absorb(x.extract(text));
        e
    }

    /// Every example phrase written beside a rule behaves as written.
    #[test]
    fn every_rule_example_fires_or_not_as_written() {
        let k = Knowledge::bundled().unwrap();
        let x = Extractor::new(&k.lexicons);
        let mut failures = Vec::new();
        for rule in &k.rules.rules {
            for example in &rule.examples {
                let fired = evaluate(&k.rules, &evidence(&x, &example.text));
                let did = fired.iter().any(|f| f.id == rule.id);
                if did != example.fires {
                    failures.push(format!(
                        "{} [{}] {:?}: expected fires={}, mentions={:?}",
                        rule.id,
                        example.lang,
                        example.text,
                        example.fires,
                        x.extract(&example.text)
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} example(s) misbehave:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn the_floor_is_the_most_urgent_fired_rule() {
        let k = Knowledge::bundled().unwrap();
        let x = Extractor::new(&k.lexicons);
        let fired = evaluate(
            &k.rules,
            &evidence(&x, "chest pain and sweating, I want to kill myself"),
        );
        assert_eq!(floor(&fired), Some(Disposition::EmergencyAmbulance));
        assert!(fired.iter().any(|f| f.crisis));
        assert_eq!(
            fired[0].floor,
            Disposition::EmergencyAmbulance,
            "most urgent first"
        );
        assert_eq!(
            floor(&evaluate(&k.rules, &evidence(&x, "a mild cough"))),
            None
        );
    }
}
