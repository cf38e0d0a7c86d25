//! Black-box: who the patient is and which questions apply to them, through
//! the public `demographics` API only.

use agent::demographics::{self, Demographics, Sex, question_applies};

/// The questions the interview may ask that are restricted to a sex or an
/// age (prompts/data/applicability.toml).
const RESTRICTED: [&str; 6] = [
    "testicular_pain",
    "pregnant",
    "reduced_fetal_movements",
    "vaginal_bleeding",
    "young_infant",
    "infant",
];

fn applicable(d: &Demographics) -> Vec<&'static str> {
    RESTRICTED
        .into_iter()
        .filter(|c| question_applies(c, d))
        .collect()
}

#[test]
fn a_young_woman_is_not_asked_about_testicles() {
    // The reported bug: "19F" with lower abdominal pain was asked about a
    // testicle. Pregnancy (ectopic) must still be asked.
    let d = demographics::read("19F with lower abdominal pain since this morning");
    assert_eq!((d.age_years, d.sex), (Some(19.0), Some(Sex::Female)));
    assert!(!question_applies("testicular_pain", &d));
    assert!(question_applies("pregnant", &d));
    assert!(question_applies("vaginal_bleeding", &d));
    assert!(question_applies("one_sided_lower_abdominal_pain", &d));
}

#[test]
fn a_man_is_not_asked_about_pregnancy() {
    let d = demographics::read("28M, sharp pain low on the right");
    assert_eq!((d.age_years, d.sex), (Some(28.0), Some(Sex::Male)));
    assert_eq!(applicable(&d), ["testicular_pain"]);
}

#[test]
fn a_baby_is_not_asked_about_pregnancy() {
    let d = demographics::read("my 3-month-old has a fever");
    assert_eq!(d.age_years, Some(0.25));
    assert!(d.about_someone_else);
    assert!(!question_applies("pregnant", &d));
    assert!(question_applies("infant", &d));
    assert!(question_applies("testicular_pain", &d), "sex unknown");
}

#[test]
fn pregnancy_is_asked_only_between_10_and_60() {
    for (text, asked) in [
        ("my daughter (9) has tummy pain", false),
        ("my daughter (12) has tummy pain", true),
        ("I'm a 60 year old woman", true),
        ("my mother, 61, has tummy pain", false),
        ("minha avó de 85 anos", false),
    ] {
        let d = demographics::read(text);
        assert_eq!(question_applies("pregnant", &d), asked, "{text}: {d:?}");
    }
}

#[test]
fn unknown_facts_rule_nothing_out() {
    for text in [
        "I have a pain in my tummy",
        "",
        "pain 8/10 for 3 days, 2 tablets",
    ] {
        let d = demographics::read(text);
        assert_eq!(applicable(&d), RESTRICTED, "{text}: {d:?}");
    }
}

#[test]
fn the_carer_is_not_the_patient() {
    let d = demographics::read("I'm 34 and my 3 year old has a fever");
    assert_eq!(d.age_years, Some(3.0));
    assert!(d.about_someone_else);
    assert_eq!(d.relation.as_deref(), Some("child"));

    let d = demographics::read("I (28F) am worried about my dad, 70");
    assert_eq!((d.age_years, d.sex), (Some(70.0), Some(Sex::Male)));
    assert_eq!(d.relation.as_deref(), Some("father"));
    assert!(question_applies("testicular_pain", &d));
    assert!(!question_applies("pregnant", &d));
}

#[test]
fn relatives_in_six_languages_say_the_patient_and_their_sex() {
    let female = Some(Sex::Female);
    let male = Some(Sex::Male);
    for (text, age, sex, relation) in [
        (
            "my husband, 54, has chest pain",
            Some(54.0),
            male,
            "husband",
        ),
        (
            "mi hija de 5 años tiene fiebre",
            Some(5.0),
            female,
            "daughter",
        ),
        (
            "ma fille de 3 ans a de la fièvre",
            Some(3.0),
            female,
            "daughter",
        ),
        ("meu filho de 2 anos está com febre", Some(2.0), male, "son"),
        ("minha mãe de 80 anos caiu", Some(80.0), female, "mother"),
        ("मेरी बेटी 5 साल की है", Some(5.0), female, "daughter"),
        (
            "meri beti 5 saal ki hai, bukhar hai",
            Some(5.0),
            female,
            "daughter",
        ),
        ("mtoto wangu wa miaka 3 ana homa", Some(3.0), None, "child"),
        ("mke wangu ana maumivu", None, female, "wife"),
    ] {
        let d = demographics::read(text);
        assert_eq!(
            (
                d.age_years,
                d.sex,
                d.about_someone_else,
                d.relation.as_deref()
            ),
            (age, sex, true, Some(relation)),
            "{text}"
        );
        assert!(!d.words.is_empty(), "{text}: the words that said it");
    }
}

#[test]
fn writers_describing_themselves_in_six_languages() {
    let female = Some(Sex::Female);
    let male = Some(Sex::Male);
    for (text, age, sex) in [
        ("a 61 year-old woman with a cough", Some(61.0), female),
        ("61 yo male, chest pain", Some(61.0), male),
        ("soy hombre de 30", Some(30.0), male),
        ("mujer de 40 años, dolor de cabeza", Some(40.0), female),
        ("homme de 45 ans", Some(45.0), male),
        ("j'ai 30 ans", Some(30.0), None),
        ("tenho 40 anos", Some(40.0), None),
        ("मैं 30 साल का हूँ", Some(30.0), male),
        ("mimi ni mwanamke wa miaka 30", Some(30.0), female),
    ] {
        let d = demographics::read(text);
        assert_eq!(
            (d.age_years, d.sex, d.about_someone_else),
            (age, sex, false),
            "{text}"
        );
    }
}

#[test]
fn a_conversation_keeps_the_carers_patient() {
    let mut d = Demographics::default();
    for message in [
        "Hi, I'm 34F",
        "my baby has a fever",
        "she is 6 weeks old",
        "I'm really worried",
        "I'm 34",
    ] {
        d.merge(demographics::read(message));
    }
    assert!(d.about_someone_else);
    assert_eq!(d.sex, Some(Sex::Female), "from the pronoun");
    let age = d.age_years.unwrap();
    assert!((age - 6.0 / 52.18).abs() < 0.01, "{age}");
    assert!(!question_applies("pregnant", &d));
    assert!(question_applies("young_infant", &d));
}

#[test]
fn demographics_round_trip_through_saved_state() {
    let d = demographics::read("my dad, 70");
    let json = serde_json::to_string(&d).unwrap();
    assert!(json.contains("\"sex\":\"male\""), "{json}");
    let back: Demographics = serde_json::from_str(&json).unwrap();
    assert_eq!(back, d);
    // State saved before these fields existed still loads.
    let old: Demographics = serde_json::from_str(r#"{"age_years":null,"sex":null}"#).unwrap();
    assert_eq!(old, Demographics::default());
}
