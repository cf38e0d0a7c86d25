//! Lay English phrasing: phrases that must be understood (present), denials
//! that must stay denied, and near misses that must not be read as the
//! concept. Written from how patients and carers write (gaps, slang,
//! caregiver forms, misspellings), not copied from the eval suites.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use agent::extract::{Evidence, Extractor, Mention};
use common::{describe, extractor};

fn evidence(x: &Extractor, text: &str) -> (Evidence, Vec<Mention>) {
    let mentions = x.extract(text);
    let mut e = Evidence::default();
    e.absorb(mentions.clone());
    (e, mentions)
}

/// `(text, concept)`: the concept must be found, not denied.
const MUST_MATCH: &[(&str, &str)] = &[
    // Clinical words, shorthand and text-speak (2026.12.3)
    ("known angina, chest discomfort since 6am", "chest_pain"),
    ("orthopnoea for a week", "breathless"),
    (
        "she had a syncopal episode in the shower",
        "loss_of_consciousness",
    ),
    ("word finding difficulty since lunch", "slurred_speech"),
    ("pr bleeding this morning", "rectal_bleeding"),
    ("coffee ground emesis", "vomiting_blood"),
    ("his poo has been black for 2 days", "black_stools"),
    ("pain behind my eye when i read", "eye_pain"),
    ("my eyes look red and they itch", "red_eye"),
    ("vision is fuzzy in my left eye", "blurred_vision"),
    ("it stings to wee", "urinary_pain"),
    ("twisted my ankle on the stairs", "sprain"),
    ("rigors overnight", "fever"),
    // Complaints added in 2026.12.2 (fatigue, haematuria, breast lump, shingles, bites, ears, toenail)
    ("I feel tired all the time lately", "fatigue"),
    ("she has no energy and is exhausted every day", "fatigue"),
    ("there was blood in my wee this morning", "haematuria"),
    ("my urine has gone pink", "haematuria"),
    ("felt a hard lump in my right breast", "breast_lump"),
    ("there's a lump under my armpit", "breast_lump"),
    ("I think I've got shingles", "shingles"),
    ("a strip of blisters along my ribs", "shingles"),
    (
        "shingles on my forehead just above my eye",
        "shingles_near_eye",
    ),
    ("got stung by a wasp on my arm", "insect_bite"),
    ("my son is covered in mosquito bites", "insect_bite"),
    ("constant buzzing in my ears", "tinnitus"),
    ("my ears won't stop ringing", "tinnitus"),
    (
        "I suddenly can't hear out of my right ear",
        "sudden_hearing_loss",
    ),
    ("woke up deaf in one ear", "sudden_hearing_loss"),
    ("my big toenail is digging into the skin", "ingrown_toenail"),
    ("ingrowing toenail again", "ingrown_toenail"),
    // Chest pain in lay words
    (
        "there's a heavy squeezing feeling across my chest",
        "chest_pain",
    ),
    ("pressure right in the centre of my chest", "chest_pain"),
    ("my chest feels really tight and heavy", "chest_pain"),
    ("grandad keeps clutching his chest", "chest_pain"),
    (
        "a stabbing pain on the right side of my chest",
        "chest_pain",
    ),
    ("cheast pain since lunch", "chest_pain"),
    // Breathing
    ("i cant breath properly", "breathless"),
    ("she's breathing really fast and puffing", "breathless"),
    (
        "he is choking on a piece of apple",
        "too_breathless_to_speak",
    ),
    ("the baby can't cry or cough", "too_breathless_to_speak"),
    (
        "his ribs are sucking in with every breath",
        "too_breathless_to_speak",
    ),
    (
        "my daughter keeps grunting when she breathes",
        "too_breathless_to_speak",
    ),
    (
        "he makes a harsh noise when he breathes in",
        "too_breathless_to_speak",
    ),
    ("her lips have gone a bit blue", "blue_lips"),
    // Airway swelling
    ("my lips and tongue are puffing up", "airway_swelling"),
    ("his tongue is getting swollen", "airway_swelling"),
    ("my throat feels like it is closing", "airway_swelling"),
    // Stroke (FAST)
    ("her face looks all droopy on one side", "face_droop"),
    ("his mouth has gone wonky", "face_droop"),
    (
        "my left arm and leg feel heavy and useless",
        "one_sided_weakness",
    ),
    ("dad's right hand went weak suddenly", "one_sided_weakness"),
    ("her arm is just floppy", "one_sided_weakness"),
    ("his speech has gone weird", "slurred_speech"),
    ("she can't get her words out", "slurred_speech"),
    ("nan is talking jibberish", "slurred_speech"),
    // Meningitis signs
    ("her neck is very stiff", "stiff_neck"),
    (
        "I pressed a glass on the spots and they didn't fade",
        "non_blanching_rash",
    ),
    // Bleeding
    ("he's been vomiting up lots of blood", "vomiting_blood"),
    ("there was blood in her sick", "vomiting_blood"),
    ("threw up something like coffee grounds", "vomiting_blood"),
    ("blood is pumping out of the cut", "severe_bleeding"),
    (
        "I'm soaking through a pad every half hour",
        "severe_bleeding",
    ),
    // Self-harm and poisoning
    ("I wanted to die so I took them", "self_harm"),
    ("I don't want to be alive anymore", "self_harm"),
    ("I took an overdose last night", "self_harm"),
    ("I have all the tablets in front of me ready", "self_harm"),
    ("I've been stockpiling my pills", "self_harm"),
    ("she swallowed 30 tablets", "poisoning"),
    ("I've taken 16 paracetamol since yesterday", "poisoning"),
    ("he took a whole box of sleeping tablets", "poisoning"),
    ("my toddler drank some of the bleach", "poisoning"),
    // Seizures
    ("he has been fitting for 10 minutes", "prolonged_seizure"),
    ("she's jerking and it won't stop", "prolonged_seizure"),
    ("it was his first ever fit", "first_seizure"),
    ("she's never had a seizure before today", "first_seizure"),
    // Testicles, slang and caregiver forms
    ("sudden pain in my right ball", "testicular_pain"),
    ("my left nut is killing me", "testicular_pain"),
    ("my boy says his privates hurt", "testicular_pain"),
    // Cauda equina
    ("my bottom feels numb", "saddle_numbness"),
    ("I can't feel anything when I wipe", "saddle_numbness"),
    ("my wee won't come out", "bladder_bowel_loss"),
    (
        "I haven't been able to pee since last night",
        "bladder_bowel_loss",
    ),
    // Pregnancy and early pregnancy
    ("my period is two weeks late", "pregnant"),
    ("I had a positive test on Monday", "pregnant"),
    ("I had my baby 5 days ago", "pregnant"),
    ("I gave birth last week", "pregnant"),
    ("pain low down on my left", "one_sided_lower_abdominal_pain"),
    // Abdomen
    ("really bad cramps in my stomach", "abdominal_pain"),
    ("my belly is swollen and tender", "abdominal_pain"),
    // Diabetes
    ("he's having a hypo", "diabetes"),
    ("my sugar was 28 this morning", "high_blood_sugar"),
    // Limbs and injuries
    ("her leg is shorter and turned out", "deformity"),
    ("she fell and can't get up", "cannot_bear_weight"),
    ("his foot has gone cold and pale", "cold_pale_limb"),
    ("my calf is really swollen", "limb_swelling"),
    ("the kettle tipped over onto his arm", "severe_burn"),
    ("got oven cleaner in my eye", "severe_burn"),
    ("my knees ache on the stairs", "limb_pain"),
    // Everyday complaints
    (
        "I need my blood pressure tablets reviewing",
        "medication_question",
    ),
    ("itchy dry patches on my arms", "rash"),
    ("it burns when I pass water", "urinary_pain"),
    ("it really stings when she wees", "urinary_pain"),
    ("my ear keeps leaking", "ear_discharge"),
    ("everyone would be better off without me", "hopelessness"),
    ("my son's temperature 39 since lunch", "fever"),
    // Generic body-part x pain patterns and lay serious signs (red flags 2026.12.2)
    (
        "my tummy has been really hurting since lunch",
        "abdominal_pain",
    ),
    ("pain in her lower belly all night", "abdominal_pain"),
    ("his head is pounding and throbbing", "headache"),
    ("my lower back is killing me", "back_pain"),
    ("she keeps pulling at her ear and crying", "ear_pain"),
    ("stabbing pain behind both eyes", "eye_pain"),
    ("my throat is really raw", "sore_throat"),
    ("my back tooth is throbbing", "toothache"),
    ("aching pain in both knees", "limb_pain"),
    ("my kidneys really hurt", "flank_pain"),
    (
        "my dad says we would all be better off without him",
        "hopelessness",
    ),
    ("she has been saving up her paracetamol", "self_harm"),
    ("he talked about wanting to kill himself", "self_harm"),
    ("my toddler ate some of nan's tablets", "poisoning"),
    ("she swallowed a button battery", "poisoning"),
    (
        "his eyes rolled back and he went stiff then started jerking",
        "seizure",
    ),
    (
        "I gave birth at home and I'm soaking through pads",
        "soaking_pads",
    ),
    ("passing clots the size of a plum", "soaking_pads"),
    (
        "he hasn't passed urine since last night",
        "bladder_bowel_loss",
    ),
    (
        "no urine at all today and his bladder feels full",
        "bladder_bowel_loss",
    ),
    ("cold hands and feet and she's not herself", "mottled_skin"),
    ("got oven cleaner in my eye", "chemical_eye_injury"),
    ("splashed bleach into his eyes", "chemical_eye_injury"),
    ("the baby won't breastfeed at all", "feeding_danger_sign"),
    ("he vomits everything he drinks", "feeding_danger_sign"),
    ("I was diagnosed with dengue yesterday", "dengue"),
    ("her gums keep bleeding", "bleeding_gums"),
    ("she's on chemo for breast cancer", "chemotherapy"),
    (
        "a curtain coming across the vision in my left eye",
        "sudden_vision_loss",
    ),
    ("temp is 38.5 this morning", "fever"),
    (
        "he can only say a few words between breaths",
        "too_breathless_to_speak",
    ),
];

/// `(text, concept)`: the concept is mentioned but denied.
const MUST_DENY: &[(&str, &str)] = &[
    // Denials by meaning (2026.12.3)
    ("afebrile on arrival", "fever"),
    ("neck supple", "stiff_neck"),
    ("talking in full sentences", "too_breathless_to_speak"),
    ("alert and oriented", "confusion"),
    // Complaints added in 2026.12.2 (fatigue, haematuria, breast lump, shingles, bites, ears, toenail)
    ("there's no blood in my pee", "haematuria"),
    ("no ringing in my ears", "tinnitus"),
    ("no pain in my chest", "chest_pain"),
    ("my chest is not tight", "chest_pain"),
    ("her lips are not swelling", "airway_swelling"),
    ("his speech isn't slurred", "slurred_speech"),
    ("his arm isn't weak", "one_sided_weakness"),
    ("I didn't pass out", "loss_of_consciousness"),
    ("no stiff neck", "stiff_neck"),
    ("her lips aren't blue", "blue_lips"),
    ("I don't want to die", "self_harm"),
    // Negated gap patterns (red flags 2026.12.2)
    ("no pain in my tummy", "abdominal_pain"),
    ("my head isn't hurting any more", "headache"),
];

/// `(text, concept)`: must not be read as the concept at all.
const MUST_NOT: &[(&str, &str)] = &[
    // Ordinary words that are also shorthand (2026.12.3)
    ("I sob at night", "breathless"),
    ("the loc was changed", "loss_of_consciousness"),
    ("my son has CPR training", "chest_pain"),
    // Complaints added in 2026.12.2 (fatigue, haematuria, breast lump, shingles, bites, ears, toenail)
    ("I'm tired after a long shift", "fatigue"),
    ("bitten by a snake on the ankle", "insect_bite"),
    ("it stings when I pee", "insect_bite"),
    ("my blood test came back fine", "haematuria"),
    ("a lump on my arm", "breast_lump"),
    ("itchy rash on both arms", "shingles"),
    (
        "my hearing has got worse over the years",
        "sudden_hearing_loss",
    ),
    ("my phone keeps ringing", "tinnitus"),
    ("I cut my fingernail too short", "ingrown_toenail"),
    ("I threw up after giving blood", "vomiting_blood"),
    ("I'm sick of blood tests", "vomiting_blood"),
    ("I took my usual tablets this morning", "poisoning"),
    ("I took 2 paracetamol for a headache", "poisoning"),
    ("I have a chest infection and a sore throat", "chest_pain"),
    ("sore throat and swollen glands", "airway_swelling"),
    (
        "my wife says I stop breathing at night when I snore",
        "too_breathless_to_speak",
    ),
    ("is it possible to overdose on vitamin C", "self_harm"),
    ("my period came on time", "pregnant"),
    ("my baby is kicking his legs and smiling", "pregnant"),
    (
        "heavy periods with bleeding between them",
        "severe_bleeding",
    ),
    ("my sciatica makes my leg numb", "one_sided_weakness"),
    ("rolled my ankle, it is a bit swollen", "limb_swelling"),
    ("these shoes don't fit", "seizure"),
    ("I feel hot in this weather", "fever"),
    (
        "I have my tablets in front of me, which one is the blood thinner?",
        "self_harm",
    ),
    ("my skin feels hot and itchy after the sun", "fever"),
    // Near misses of the red flags 2026.12.2 patterns
    ("the chest pain came back this morning", "back_pain"),
    ("he has a chest infection", "chest_pain"),
    (
        "I take my tablets every morning with breakfast",
        "poisoning",
    ),
    (
        "I always have cold hands and feet in winter",
        "mottled_skin",
    ),
    (
        "my eyes sting from the swimming pool",
        "chemical_eye_injury",
    ),
    (
        "heavy periods, I change my pad every few hours",
        "soaking_pads",
    ),
    ("she's drinking and feeding well", "feeding_danger_sign"),
    ("it is very hot today", "fever"),
];

#[test]
fn lay_english_phrases_are_understood() {
    let x = extractor();
    let mut failures = Vec::new();
    for (text, concept) in MUST_MATCH {
        let (e, mentions) = evidence(&x, text);
        if !e.has(concept) {
            failures.push(format!(
                "{text:?} should give {concept}: {}",
                describe(&mentions)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn english_denials_still_deny() {
    let x = extractor();
    let mut failures = Vec::new();
    for (text, concept) in MUST_DENY {
        let (e, mentions) = evidence(&x, text);
        if e.has(concept) || !e.absent.contains(*concept) {
            failures.push(format!(
                "{text:?} should deny {concept}: {}",
                describe(&mentions)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn english_near_misses_are_not_read_as_the_concept() {
    let x = extractor();
    let mut failures = Vec::new();
    for (text, concept) in MUST_NOT {
        let (e, mentions) = evidence(&x, text);
        if e.has(concept) {
            failures.push(format!(
                "{text:?} must not give {concept}: {}",
                describe(&mentions)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
