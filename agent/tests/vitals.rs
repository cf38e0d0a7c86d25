//! Vital-sign thresholds, black box: what a patient types → the findings.
//!
//! Every rule in `vitals.toml` has must-fire and must-not-fire phrases in at
//! least two languages each; `every_threshold_is_covered` enforces it, so a
//! new rule without tests fails CI.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use agent::Disposition;
use agent::vitals::{VitalFinding, VitalKind, assess, devices, news2, read};
use prompts::vitals::bundled;

struct Case {
    id: &'static str,
    lang: &'static str,
    text: &'static str,
    age: Option<f32>,
    concepts: &'static [&'static str],
    fires: bool,
}

const fn yes(
    id: &'static str,
    lang: &'static str,
    text: &'static str,
    age: Option<f32>,
    concepts: &'static [&'static str],
) -> Case {
    Case {
        id,
        lang,
        text,
        age,
        concepts,
        fires: true,
    }
}

const fn no(
    id: &'static str,
    lang: &'static str,
    text: &'static str,
    age: Option<f32>,
    concepts: &'static [&'static str],
) -> Case {
    Case {
        id,
        lang,
        text,
        age,
        concepts,
        fires: false,
    }
}

const ADULT: Option<f32> = Some(40.0);

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Oxygen saturation.
    yes("spo2.low_with_breathlessness", "en", "my oxygen is 88%", ADULT, &["breathless"]),
    yes("spo2.low_with_breathlessness", "es", "saturación 89%", None, &["breathless"]),
    yes("spo2.low_with_breathlessness", "hi", "ऑक्सीजन 86 है", None, &["blue_lips"]),
    no("spo2.low_with_breathlessness", "en", "oxygen 88%", ADULT, &[]),
    no("spo2.low_with_breathlessness", "fr", "saturation à 95", None, &["breathless"]),
    yes("spo2.nhs_emergency", "en", "sats 90", ADULT, &[]),
    yes("spo2.nhs_emergency", "hi", "ऑक्सीजन 92 है", None, &[]),
    yes("spo2.nhs_emergency", "sw", "kiwango cha oksijeni ni 87", None, &[]),
    no("spo2.nhs_emergency", "en", "sats 93", ADULT, &[]),
    no("spo2.nhs_emergency", "sw", "oksijeni 97", None, &[]),
    no("spo2.nhs_emergency", "en", "sats 92", Some(3.0), &[]),
    yes("spo2.nhs_urgent", "en", "SpO2 94%", ADULT, &[]),
    yes("spo2.nhs_urgent", "pt", "saturação 93", None, &[]),
    no("spo2.nhs_urgent", "es", "saturación 95%", None, &[]),
    no("spo2.nhs_urgent", "en", "sats 97", ADULT, &[]),
    // Sepsis.
    yes("sepsis.high_risk", "en", "I have an infection and my pulse is 135", ADULT, &["infection"]),
    yes("sepsis.high_risk", "es", "fiebre de 39 grados y respiración 28 por minuto", None, &[]),
    yes("sepsis.high_risk", "fr", "pouls à 140", None, &["fever"]),
    yes("sepsis.high_risk", "pt", "pressão 8 por 5", None, &["infection"]),
    no("sepsis.high_risk", "en", "pulse 135", ADULT, &[]),
    no("sepsis.high_risk", "es", "pulso 100", None, &["fever"]),
    no("sepsis.high_risk", "sw", "mapigo ya moyo 120", None, &["fever"]),
    yes("sepsis.child_high_risk", "en", "heart rate 170", Some(0.5), &["fever"]),
    yes("sepsis.child_high_risk", "hi", "सांस 55 बार प्रति मिनट", Some(2.0), &["fever"]),
    no("sepsis.child_high_risk", "en", "heart rate 150", Some(0.5), &["fever"]),
    no("sepsis.child_high_risk", "es", "pulso 110", Some(7.0), &["fever"]),
    // Respiratory rate, adults.
    yes("respiratory_rate.adult_fast", "en", "breathing 30 times a minute", ADULT, &[]),
    yes("respiratory_rate.adult_fast", "es", "respiración 32 por minuto", None, &[]),
    no("respiratory_rate.adult_fast", "en", "RR 18", ADULT, &[]),
    no("respiratory_rate.adult_fast", "fr", "respiration 22 par minute", None, &[]),
    no("respiratory_rate.adult_fast", "en", "breathing 30 a minute", Some(10.0), &[]),
    yes("respiratory_rate.adult_slow", "en", "resp rate 7", ADULT, &[]),
    yes("respiratory_rate.adult_slow", "pt", "respiração 6 por minuto", None, &[]),
    no("respiratory_rate.adult_slow", "en", "RR 12", ADULT, &[]),
    no("respiratory_rate.adult_slow", "sw", "anapumua mara 14 kwa dakika", None, &[]),
    yes("respiratory_rate.adult_slow_drowsy", "en", "breathing 6 a minute", ADULT, &["drowsy"]),
    yes("respiratory_rate.adult_slow_drowsy", "es", "respira 7 veces por minuto", None, &["confusion"]),
    no("respiratory_rate.adult_slow_drowsy", "en", "breathing 6 a minute", ADULT, &[]),
    no("respiratory_rate.adult_slow_drowsy", "fr", "respiration 16 par minute", None, &["drowsy"]),
    // Heart rate, adults.
    yes("heart_rate.adult_fast_adverse", "en", "pulse 150", ADULT, &["chest_pain"]),
    yes("heart_rate.adult_fast_adverse", "hi", "धड़कन 160", None, &["breathless"]),
    no("heart_rate.adult_fast_adverse", "en", "pulse 150", ADULT, &[]),
    no("heart_rate.adult_fast_adverse", "es", "pulso 120", None, &["chest_pain"]),
    yes("heart_rate.adult_fast", "en", "pulse 142", ADULT, &[]),
    yes("heart_rate.adult_fast", "fr", "pouls à 140", None, &[]),
    yes("heart_rate.adult_fast", "sw", "mapigo ya moyo 140", None, &[]),
    no("heart_rate.adult_fast", "en", "HR 78", ADULT, &[]),
    no("heart_rate.adult_fast", "pt", "pulso 125", None, &[]),
    yes("heart_rate.adult_slow_adverse", "en", "pulse 35", ADULT, &["loss_of_consciousness"]),
    yes("heart_rate.adult_slow_adverse", "es", "pulso 38", None, &["dizziness"]),
    no("heart_rate.adult_slow_adverse", "en", "pulse 55", ADULT, &["dizziness"]),
    no("heart_rate.adult_slow_adverse", "fr", "pouls 38", None, &[]),
    // Blood pressure, adults.
    yes("blood_pressure.shock_signs", "en", "BP 82/48", ADULT, &["confusion"]),
    yes("blood_pressure.shock_signs", "pt", "pressão 8 por 5", None, &["sweating"]),
    no("blood_pressure.shock_signs", "en", "BP 122/78", ADULT, &["confusion"]),
    no("blood_pressure.shock_signs", "es", "presión 85/50", None, &[]),
    yes("blood_pressure.low_symptomatic", "en", "BP 82/48", ADULT, &["dizziness"]),
    yes("blood_pressure.low_symptomatic", "fr", "tension 8/5", None, &["dizziness"]),
    no("blood_pressure.low_symptomatic", "en", "BP 82/48", ADULT, &[]),
    no("blood_pressure.low_symptomatic", "es", "presión 110/70", None, &["dizziness"]),
    yes("blood_pressure.adult_low", "en", "BP 82/48", ADULT, &[]),
    yes("blood_pressure.adult_low", "hi", "bp 85/50 hai", None, &[]),
    no("blood_pressure.adult_low", "en", "BP 122/78", ADULT, &[]),
    no("blood_pressure.adult_low", "es", "tensión 11/7", None, &[]),
    yes("blood_pressure.crisis_symptomatic", "en", "blood pressure 190/125", ADULT, &["severe_headache"]),
    yes("blood_pressure.crisis_symptomatic", "es", "presión 19/12", None, &["chest_pain"]),
    no("blood_pressure.crisis_symptomatic", "en", "blood pressure 190/125", ADULT, &[]),
    no("blood_pressure.crisis_symptomatic", "fr", "tension 15/9", None, &["severe_headache"]),
    yes("blood_pressure.crisis", "en", "BP 185/100", ADULT, &[]),
    yes("blood_pressure.crisis", "pt", "pressão 18 por 12", None, &[]),
    yes("blood_pressure.crisis", "fr", "ma tension est à 150/122", None, &[]),
    no("blood_pressure.crisis", "en", "BP 170/100", ADULT, &[]),
    no("blood_pressure.crisis", "sw", "presha 150/95", None, &[]),
    // Pregnancy.
    yes("pregnancy.severe_hypertension_symptomatic", "en", "BP 165/112", ADULT, &["pregnant", "severe_headache"]),
    yes("pregnancy.severe_hypertension_symptomatic", "fr", "tension 17/11", None, &["pregnant", "blurred_vision"]),
    no("pregnancy.severe_hypertension_symptomatic", "en", "BP 165/112", ADULT, &["pregnant"]),
    no("pregnancy.severe_hypertension_symptomatic", "es", "presión 150/95", None, &["pregnant", "severe_headache"]),
    yes("pregnancy.severe_hypertension", "en", "BP 162/100", ADULT, &["pregnant"]),
    yes("pregnancy.severe_hypertension", "pt", "pressão 16 por 11", None, &["pregnant"]),
    no("pregnancy.severe_hypertension", "en", "BP 162/100", ADULT, &[]),
    no("pregnancy.severe_hypertension", "es", "presión 145/92", None, &["pregnant"]),
    yes("pregnancy.hypertension", "en", "BP 142/88", ADULT, &["pregnant"]),
    yes("pregnancy.hypertension", "hi", "बीपी 135/95 है", None, &["pregnant"]),
    no("pregnancy.hypertension", "en", "BP 142/88", ADULT, &[]),
    no("pregnancy.hypertension", "sw", "presha 130/85", None, &["pregnant"]),
    // Glucose.
    yes("glucose.hypo_neuro", "en", "sugar 2.8", ADULT, &["confusion"]),
    yes("glucose.hypo_neuro", "sw", "sukari 2.5", None, &["drowsy"]),
    yes("glucose.hypo_neuro", "es", "glucemia 40", None, &["unresponsive"]),
    no("glucose.hypo_neuro", "en", "sugar 2.8", ADULT, &[]),
    no("glucose.hypo_neuro", "fr", "glycémie 5,6", None, &["confusion"]),
    yes("glucose.hypo_severe", "en", "BM 2.6", ADULT, &[]),
    yes("glucose.hypo_severe", "es", "glucemia 45", None, &[]),
    no("glucose.hypo_severe", "en", "sugar 3.5", ADULT, &[]),
    no("glucose.hypo_severe", "hi", "शुगर 90", None, &[]),
    yes("glucose.hypo", "en", "sugar 3.5", ADULT, &[]),
    yes("glucose.hypo", "pt", "glicemia 65", None, &[]),
    no("glucose.hypo", "en", "sugar 5.6", ADULT, &[]),
    no("glucose.hypo", "fr", "glycémie 1 g/l", None, &[]),
    yes("glucose.hyper_dka_features", "en", "glucose 450 mg/dl", ADULT, &["vomiting"]),
    yes("glucose.hyper_dka_features", "es", "glucosa 350", None, &["abdominal_pain"]),
    yes("glucose.hyper_dka_features", "en", "sugar 18, ketones 3.5", ADULT, &[]),
    no("glucose.hyper_dka_features", "en", "glucose 450 mg/dl", ADULT, &[]),
    no("glucose.hyper_dka_features", "hi", "sugar 140 hai", None, &["vomiting"]),
    yes("glucose.very_high", "en", "sugar 32", ADULT, &[]),
    yes("glucose.very_high", "hi", "शुगर 600", None, &[]),
    no("glucose.very_high", "en", "sugar 25", ADULT, &[]),
    no("glucose.very_high", "es", "glucosa 400", None, &[]),
    yes("glucose.high", "en", "sugar 14", ADULT, &[]),
    yes("glucose.high", "pt", "glicose 250", None, &[]),
    no("glucose.high", "en", "glucose 5.6", ADULT, &[]),
    no("glucose.high", "sw", "sukari 7", None, &[]),
    yes("ketones.high", "en", "ketones 3.4", ADULT, &[]),
    yes("ketones.high", "es", "cetonas 4", None, &[]),
    no("ketones.high", "en", "ketones 0.4", ADULT, &[]),
    no("ketones.high", "fr", "cétones 1,0", None, &[]),
    yes("ketones.raised", "en", "blood ketones 2.1", ADULT, &[]),
    yes("ketones.raised", "pt", "cetonas 1,8", None, &[]),
    no("ketones.raised", "en", "ketones 0.6", ADULT, &[]),
    no("ketones.raised", "es", "cetonas 3,5", None, &[]),
    // Consciousness.
    yes("consciousness.gcs_8_or_less", "en", "GCS 7", ADULT, &[]),
    yes("consciousness.gcs_8_or_less", "es", "escala de glasgow 8", None, &[]),
    no("consciousness.gcs_8_or_less", "en", "GCS 14/15", ADULT, &[]),
    no("consciousness.gcs_8_or_less", "fr", "score de glasgow 15", None, &[]),
    // Children.
    yes("child.rr_severe", "en", "breathing 75 times a minute", Some(1.0), &[]),
    yes("child.rr_severe", "fr", "il respire 72 fois par minute", Some(0.5), &[]),
    no("child.rr_severe", "en", "breathing 65 a minute", Some(1.0), &[]),
    no("child.rr_severe", "es", "respira 75 veces por minuto", Some(3.0), &[]),
    yes("child.rr_red", "en", "breathing 65 a minute", Some(3.0), &[]),
    yes("child.rr_red", "sw", "anapumua mara 62 kwa dakika", Some(2.0), &[]),
    no("child.rr_red", "en", "breathing 35 a minute", Some(3.0), &[]),
    no("child.rr_red", "es", "respiración 65 por minuto", Some(8.0), &[]),
    yes("child.rr_amber", "en", "breathing 55 a minute", Some(0.75), &[]),
    yes("child.rr_amber", "hi", "सांस 45 बार प्रति मिनट", Some(3.0), &[]),
    no("child.rr_amber", "en", "breathing 55 a minute", Some(0.3), &[]),
    no("child.rr_amber", "pt", "respiração 35 por minuto", Some(3.0), &[]),
    yes("child.rr_fast_older", "en", "breathing 28 a minute", Some(9.0), &[]),
    yes("child.rr_fast_older", "fr", "respiration 30 par minute", Some(14.0), &[]),
    no("child.rr_fast_older", "en", "breathing 20 a minute", Some(9.0), &[]),
    no("child.rr_fast_older", "es", "respiración 26 por minuto", Some(5.0), &[]),
    yes("child.hr_amber", "en", "pulse 170", Some(0.5), &[]),
    yes("child.hr_amber", "es", "pulso 150", Some(3.0), &[]),
    no("child.hr_amber", "en", "pulse 150", Some(0.5), &[]),
    no("child.hr_amber", "fr", "pouls 145", Some(1.5), &[]),
    yes("child.hr_fast_older", "en", "heart rate 125", Some(9.0), &[]),
    yes("child.hr_fast_older", "pt", "pulso 140", Some(13.0), &[]),
    no("child.hr_fast_older", "en", "heart rate 100", Some(9.0), &[]),
    no("child.hr_fast_older", "sw", "mapigo ya moyo 110", Some(6.0), &[]),
    yes("child.hr_slow", "en", "pulse 50", Some(2.0), &[]),
    yes("child.hr_slow", "es", "pulso 55", Some(7.0), &[]),
    no("child.hr_slow", "en", "pulse 100", Some(2.0), &[]),
    no("child.hr_slow", "hi", "पल्स 80", Some(7.0), &[]),
    yes("child.spo2_low", "en", "sats 90", Some(4.0), &[]),
    yes("child.spo2_low", "hi", "ऑक्सीजन 88", Some(10.0), &[]),
    no("child.spo2_low", "en", "sats 96", Some(4.0), &[]),
    no("child.spo2_low", "es", "saturación 93", Some(10.0), &[]),
    yes("child.spo2_amber", "en", "sats 94", Some(2.0), &[]),
    yes("child.spo2_amber", "fr", "saturation à 95", Some(1.0), &[]),
    no("child.spo2_amber", "en", "sats 97", Some(2.0), &[]),
    no("child.spo2_amber", "es", "saturación 95", Some(8.0), &[]),
    yes("child.hypotension", "en", "BP 70/40", Some(4.0), &[]),
    yes("child.hypotension", "pt", "pressão 8 por 5", Some(12.0), &[]),
    no("child.hypotension", "en", "BP 95/60", Some(4.0), &[]),
    no("child.hypotension", "es", "presión 75/45", Some(0.5), &[]),
    yes("infant.fever_under_3_months", "en", "temperature 38.2", Some(0.1), &[]),
    yes("infant.fever_under_3_months", "fr", "température 38,5", None, &["young_infant"]),
    no("infant.fever_under_3_months", "en", "temperature 37.5", Some(0.1), &[]),
    no("infant.fever_under_3_months", "es", "temperatura 38,5", Some(1.0), &[]),
    yes("infant.fever_3_to_6_months", "en", "temp 39.2", Some(0.4), &[]),
    yes("infant.fever_3_to_6_months", "hi", "बुखार 103", Some(0.4), &[]),
    no("infant.fever_3_to_6_months", "en", "temp 38.5", Some(0.4), &[]),
    no("infant.fever_3_to_6_months", "sw", "homa 39.5", Some(2.0), &[]),
    // NEWS2 (partial).
    yes("news2.high", "en", "RR 26, sats 91, pulse 120", ADULT, &[]),
    yes("news2.high", "es", "respiración 28 por minuto, pulso 125", None, &["confusion"]),
    no("news2.high", "en", "RR 26, sats 91, pulse 120", Some(10.0), &[]),
    no("news2.high", "fr", "respiration 22 par minute, pouls 100", None, &[]),
    yes("news2.medium", "en", "breathing 26 a minute, pulse 115", ADULT, &[]),
    yes("news2.medium", "pt", "saturação 93, pulso 115, temperatura 38,5", None, &[]),
    no("news2.medium", "en", "pulse 115, temp 38.5", ADULT, &[]),
    no("news2.medium", "hi", "पल्स 95, बुखार 101", None, &[]),
    yes("news2.single_red", "en", "pulse 38", ADULT, &[]),
    yes("news2.single_red", "es", "pulso 135", None, &[]),
    no("news2.single_red", "en", "pulse 95", ADULT, &[]),
    no("news2.single_red", "sw", "mapigo ya moyo 100", None, &[]),
];

fn findings(text: &str, age: Option<f32>, concepts: &[&str]) -> Vec<VitalFinding> {
    let present = |c: &str| concepts.contains(&c);
    assess(&read(text), age, &present)
}

fn describe(found: &[VitalFinding]) -> String {
    found
        .iter()
        .map(|f| format!("{}={}", f.id, f.disposition))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn every_case_fires_or_not_as_written() {
    let mut failures = Vec::new();
    for case in CASES {
        let found = findings(case.text, case.age, case.concepts);
        let fired = found.iter().any(|f| f.id == case.id);
        if fired != case.fires {
            failures.push(format!(
                "{} [{}] {:?} age {:?} {:?}: expected fires={}, got [{}] from {:?}",
                case.id,
                case.lang,
                case.text,
                case.age,
                case.concepts,
                case.fires,
                describe(&found),
                read(case.text)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_threshold_is_covered() {
    let rules = bundled().unwrap();
    let ids = rules
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .chain(rules.news2.responses.iter().map(|r| r.id.as_str()));
    let mut langs: BTreeMap<(&str, bool), BTreeSet<&str>> = BTreeMap::new();
    for case in CASES {
        langs
            .entry((case.id, case.fires))
            .or_default()
            .insert(case.lang);
    }
    let mut missing = Vec::new();
    for id in ids {
        for fires in [true, false] {
            let n = langs.get(&(id, fires)).map_or(0, BTreeSet::len);
            if n < 2 {
                missing.push(format!("{id} fires={fires}: {n} language(s)"));
            }
        }
    }
    for case in CASES {
        assert!(
            rules.rules.iter().any(|r| r.id == case.id)
                || rules.news2.responses.iter().any(|r| r.id == case.id),
            "case for unknown rule {}",
            case.id
        );
    }
    assert!(missing.is_empty(), "\n{}", missing.join("\n"));
}

#[test]
fn typical_critical_presentations_reach_an_emergency() {
    let none: &[&str] = &[];
    let mut texts: Vec<String> = (86..=90).map(|s| format!("my sats are {s}%")).collect();
    texts.extend((140..=180).step_by(10).map(|hr| format!("pulse {hr}")));
    texts.extend(
        [
            "BP 82/48",
            "breathing 30 a minute",
            "saturación 88%",
            "pouls à 145",
            "pressão 8 por 4",
            "सांस 32 बार प्रति मिनट",
            "oksijeni 85",
        ]
        .map(str::to_owned),
    );
    for text in &texts {
        let found = findings(text, None, none);
        let top = found.first().map(|f| f.disposition);
        assert!(
            top.is_some_and(Disposition::is_emergency),
            "{text}: [{}]",
            describe(&found)
        );
    }
    // With breathlessness, low saturation is an ambulance.
    let found = findings("sats 89", ADULT, &["breathless"]);
    assert_eq!(found[0].disposition, Disposition::EmergencyAmbulance);
}

#[test]
fn normal_readings_raise_nothing() {
    for text in [
        "SpO2 97%",
        "HR 78",
        "BP 122/78",
        "RR 16",
        "glucose 5.6",
        "sats 97, pulse 78, BP 122/78, breathing 16 a minute, sugar 5.6, temp 36.8",
        "saturación 98%, pulso 72, presión 12/8",
        "saturation à 97, pouls 70, tension 12/7, glycémie 1 g/l",
        "saturação 97, pulso 80, pressão 12 por 8",
        "ऑक्सीजन 98, पल्स 76, बीपी 120/80, शुगर 100",
        "oksijeni 98, mapigo ya moyo 72, presha 120/80, sukari 5.4",
    ] {
        let ms = read(text);
        assert!(!ms.is_empty(), "{text}: nothing read");
        let found = findings(text, ADULT, &[]);
        assert!(found.is_empty(), "{text}: [{}]", describe(&found));
    }
}

#[test]
fn non_measurements_raise_nothing_even_with_alarming_numbers() {
    for text in [
        "I'm 88 years old",
        "8/10 pain",
        "pain 9/10 in my chest",
        "took 2 paracetamol 500mg",
        "since 19/12",
        "my blood pressure has been bad since 19/12",
        "at 10:30 this morning",
        "my number is 0712345678",
        "tengo 88 años",
        "j'ai 90 ans",
        "मैं 88 साल का हूं",
        "ana miaka 88",
        "dolor 8 de 10",
        "took metformin 500 mg for my sugar",
        "homa kwa siku 3",
        "fever 2 days, 3 tablets",
        "my mum is 90, oxygen 2 litres at home",
    ] {
        let ms = read(text);
        assert!(ms.is_empty(), "{text}: read {ms:?}");
    }
}

#[test]
fn adult_news2_is_never_applied_to_children() {
    let none = |_: &str| false;
    let ms = read("RR 30, sats 90, pulse 140, BP 85/50, temp 39.5");
    assert_eq!(ms.len(), 5, "{ms:?}");
    for age in [0.1_f32, 0.5, 1.0, 3.0, 7.0, 12.0, 15.9] {
        let found = assess(&ms, Some(age), &none);
        assert!(
            found.iter().all(|f| !f.id.starts_with("news2.")
                && !f.id.starts_with("respiratory_rate.adult")
                && !f.id.starts_with("heart_rate.adult")),
            "age {age}: [{}]",
            describe(&found)
        );
        assert!(news2(&ms, Some(age), &none).is_none());
        // Children still get their own emergency rules.
        assert!(found[0].disposition.is_emergency(), "age {age}");
    }
    assert!(news2(&ms, Some(16.0), &none).is_some());
}

#[test]
fn news2_findings_say_which_parameters_were_scored() {
    let found = findings("breathing 26 a minute, pulse 115", ADULT, &[]);
    let news = found.iter().find(|f| f.id == "news2.medium").unwrap();
    assert!(
        news.summary.contains("respiratory rate 3"),
        "{}",
        news.summary
    );
    assert!(news.summary.contains("pulse 2"), "{}", news.summary);
    assert!(
        news.summary.contains("not known: SpO2, systolic BP"),
        "{}",
        news.summary
    );
    assert_eq!(news.evidence, vec!["breathing 26 a minute", "pulse 115"]);
}

#[test]
fn findings_are_most_urgent_first_and_one_per_group() {
    let found = findings("sats 88, sugar 3.5", ADULT, &["breathless"]);
    let ids: Vec<&str> = found.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids[0], "spo2.low_with_breathlessness");
    assert!(!ids.contains(&"spo2.nhs_emergency"), "{ids:?}");
    assert!(ids.contains(&"glucose.hypo"), "{ids:?}");
    for pair in found.windows(2) {
        assert!(pair[0].disposition >= pair[1].disposition);
    }
    let spo2 = &found[0];
    assert_eq!(spo2.evidence, vec!["sats 88", "breathless"]);
    assert!(spo2.source.contains("NHS"));
}

#[test]
fn units_are_converted() {
    let g = read("glucose 450 mg/dl");
    assert!((g[0].value - 25.0).abs() < 0.01);
    let t = read("temp 101.3 F");
    assert!((t[0].value - 38.5).abs() < 0.01, "{t:?}");
    let w = read("weighs 44 lbs");
    assert!((w[0].value - 19.96).abs() < 0.05, "{w:?}");
    let bp = read("tensión 19/12");
    assert_eq!((bp[0].value, bp[0].second), (190.0, Some(120.0)));
    assert_eq!(read("weighs 12 kg")[0].kind, VitalKind::WeightKg);
}

#[test]
fn end_to_end_with_the_lexicon() {
    let k = prompts::Knowledge::bundled().unwrap();
    let x = agent::extract::Extractor::new(&k.lexicons);
    for (text, expected) in [
        (
            "my oxygen is 88% and I can't breathe",
            Disposition::EmergencyAmbulance,
        ),
        (
            "my oxygen is 88% and I feel fine",
            Disposition::EmergencyDepartment,
        ),
        (
            "I feel confused and my sugar is 2.4",
            Disposition::EmergencyAmbulance,
        ),
    ] {
        let mut evidence = agent::extract::Evidence::default();
        evidence.absorb(x.extract(text));
        let found = assess(&read(text), None, &|c| evidence.has(c));
        assert_eq!(
            found.first().map(|f| f.disposition),
            Some(expected),
            "{text}: [{}]",
            describe(&found)
        );
    }
}

#[test]
fn devices_are_recognised() {
    assert_eq!(
        devices("yes I have an oximeter and a BP machine"),
        vec![VitalKind::Spo2, VitalKind::BloodPressure]
    );
    assert_eq!(devices("tengo glucómetro"), vec![VitalKind::Glucose]);
    assert_eq!(devices("j'ai un thermomètre"), vec![VitalKind::Temperature]);
    assert!(devices("no, we don't have an oximeter").is_empty());
}

#[test]
fn reading_a_long_message_is_fast() {
    let sentence = "my mother is 78 and since yesterday she has had a cough, \
                    fever and she says her chest feels tight; this morning her \
                    oxygen was 91% and her pulse 118, BP 100/60, sugar 7.2. ";
    let text = sentence.repeat(12); // ≈ 300 words
    assert!(text.split_whitespace().count() >= 300);
    let runs = 200;
    let start = Instant::now();
    let mut n = 0;
    for _ in 0..runs {
        n += read(&text).len();
    }
    let per = start.elapsed() / runs;
    assert_eq!(n, runs as usize * 48);
    // Unoptimised test builds are ~10× slower than release (< 50 µs there).
    assert!(per.as_micros() < 2_000, "{per:?} per 300-word message");
}
