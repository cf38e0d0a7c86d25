//! Non-symptom messages in every language: greetings, thanks, requests for a
//! person or an appointment, medicine questions, commands, and when the
//! language of a message is clear enough to switch to it.

use agent::intent::{self, Command, Intent, IntentMatch};
use agent::language::{detect_confident, unsupported_script};
use prompts::Language::{self, En, Es, Fr, Hi, Pt, Sw};

fn strongest(text: &str) -> Option<IntentMatch> {
    intent::detect(text).into_iter().next()
}

fn found(text: &str, intent: Intent) -> Option<IntentMatch> {
    intent::detect(text)
        .into_iter()
        .find(|m| m.intent == intent)
}

#[test]
fn every_greeting_is_a_greeting_in_its_own_language() {
    let cases: &[(&str, Language)] = &[
        ("hi", En),
        ("Hiii", En),
        ("hello", En),
        ("Hello there!", En),
        ("hey", En),
        ("good morning", En),
        ("Good evening doctor", En),
        ("hola", Es),
        ("Hola!!", Es),
        ("holaaa 👋", Es),
        ("buenas", Es),
        ("buenos días", Es),
        ("buenas tardes", Es),
        ("hola buenas", Es),
        ("bonjour", Fr),
        ("bonjour docteur", Fr),
        ("bonsoir", Fr),
        ("salut", Fr),
        ("olá", Pt),
        ("oi", Pt),
        ("bom dia", Pt),
        ("boa tarde", Pt),
        ("boa noite", Pt),
        ("olá, bom dia", Pt),
        ("नमस्ते", Hi),
        ("नमस्कार", Hi),
        ("namaste", Hi),
        ("Namaste ji 🙏", Hi),
        ("namaskar", Hi),
        ("habari", Sw),
        ("habari daktari", Sw),
        ("jambo", Sw),
        ("hujambo", Sw),
        ("mambo", Sw),
        ("salama", Sw),
        ("shikamoo", Sw),
    ];
    for (text, lang) in cases {
        let m = strongest(text).unwrap_or_else(|| panic!("{text:?}: nothing found"));
        assert_eq!(m.intent, Intent::Greeting, "{text:?}");
        assert_eq!(m.language, Some(*lang), "{text:?}");
        assert!(m.covers_message, "{text:?} is only a greeting");
    }
}

#[test]
fn a_greeting_before_a_symptom_does_not_cover_the_message() {
    for text in [
        "hola, tengo fiebre",
        "hi I have chest pain",
        "habari, nina homa",
    ] {
        let m = found(text, Intent::Greeting).unwrap_or_else(|| panic!("{text:?}"));
        assert!(!m.covers_message, "{text:?}");
    }
}

#[test]
fn symptoms_alone_are_no_intent() {
    for text in [
        "I have chest pain and sweating",
        "tengo fiebre y tos desde ayer",
        "j'ai mal à la tête",
        "estou com dor de barriga",
        "mujhe bukhar hai",
        "मुझे बुखार है",
        "nina homa na kikohozi",
        "niko salama lakini kichwa kinauma",
        "I took too many pills",
    ] {
        assert_eq!(intent::detect(text), Vec::new(), "{text:?}");
    }
}

#[test]
fn requests_are_found_in_every_language() {
    let cases: &[(&str, Intent, Language)] = &[
        ("I want to book an appointment", Intent::Booking, En),
        ("quiero una cita", Intent::Booking, Es),
        ("je voudrais un rendez-vous", Intent::Booking, Fr),
        ("quero marcar consulta", Intent::Booking, Pt),
        ("mujhe appointment chahiye", Intent::Booking, Hi),
        ("अपॉइंटमेंट चाहिए", Intent::Booking, Hi),
        ("nataka miadi", Intent::Booking, Sw),
        ("I want to talk to a nurse", Intent::Person, En),
        ("can I speak to a real person?", Intent::Person, En),
        ("call me please", Intent::Person, En),
        ("¿puedo hablar con un médico?", Intent::Person, Es),
        ("je veux parler à un médecin", Intent::Person, Fr),
        ("quero falar com um enfermeiro", Intent::Person, Pt),
        ("डॉक्टर से बात करनी है", Intent::Person, Hi),
        ("mujhe doctor se baat karni hai", Intent::Person, Hi),
        ("nataka kuongea na daktari", Intent::Person, Sw),
        ("can I take ibuprofen?", Intent::Medication, En),
        (
            "what dose of paracetamol for a child",
            Intent::Medication,
            En,
        ),
        ("¿puedo tomar paracetamol?", Intent::Medication, Es),
        (
            "est-ce que je peux prendre du doliprane",
            Intent::Medication,
            Fr,
        ),
        ("posso tomar dipirona?", Intent::Medication, Pt),
        ("क्या मैं पैरासिटामोल ले सकता हूँ", Intent::Medication, Hi),
        ("naweza kunywa panadol?", Intent::Medication, Sw),
        ("what is this service?", Intent::AboutService, En),
        ("who are you", Intent::AboutService, En),
        ("is this a bot?", Intent::AboutService, En),
        ("¿qué es esto?", Intent::AboutService, Es),
        ("c'est quoi ce service ?", Intent::AboutService, Fr),
        ("o que é isso?", Intent::AboutService, Pt),
        ("ye kya hai", Intent::AboutService, Hi),
        ("hii ni nini?", Intent::AboutService, Sw),
        ("I want to send my results", Intent::Document, En),
        ("quiero enviar mis resultados", Intent::Document, Es),
        ("je veux envoyer mon ordonnance", Intent::Document, Fr),
        ("posso mandar meus exames?", Intent::Document, Pt),
        ("मेरी रिपोर्ट भेजनी है", Intent::Document, Hi),
        ("nataka kutuma majibu ya vipimo", Intent::Document, Sw),
    ];
    for (text, intent, lang) in cases {
        let m = strongest(text).unwrap_or_else(|| panic!("{text:?}: nothing found"));
        assert_eq!(m.intent, *intent, "{text:?}: {:?}", intent::detect(text));
        assert_eq!(m.language, Some(*lang), "{text:?}");
    }
}

#[test]
fn thanks_and_goodbyes_cover_the_message() {
    let cases: &[(&str, Intent, Language)] = &[
        ("thank you", Intent::Thanks, En),
        ("thanks!", Intent::Thanks, En),
        ("ok thanks", Intent::Thanks, En),
        ("gracias", Intent::Thanks, Es),
        ("muchas gracias doctora", Intent::Thanks, Es),
        ("merci", Intent::Thanks, Fr),
        ("merci beaucoup", Intent::Thanks, Fr),
        ("obrigado", Intent::Thanks, Pt),
        ("obrigada", Intent::Thanks, Pt),
        ("धन्यवाद", Intent::Thanks, Hi),
        ("shukriya", Intent::Thanks, Hi),
        ("asante sana", Intent::Thanks, Sw),
        ("bye", Intent::Goodbye, En),
        ("adiós", Intent::Goodbye, Es),
        ("au revoir", Intent::Goodbye, Fr),
        ("tchau", Intent::Goodbye, Pt),
        ("alvida", Intent::Goodbye, Hi),
        ("kwaheri", Intent::Goodbye, Sw),
    ];
    for (text, intent, lang) in cases {
        let m = strongest(text).unwrap_or_else(|| panic!("{text:?}: nothing found"));
        assert_eq!((m.intent, m.language), (*intent, Some(*lang)), "{text:?}");
        assert!(m.covers_message, "{text:?}");
    }
    let both = intent::detect("thanks, bye!");
    assert_eq!(both.len(), 2);
    assert!(both.iter().all(|m| m.covers_message));
}

#[test]
fn a_request_outranks_the_greeting_around_it() {
    let found = intent::detect("Hola buenas, quiero hablar con una enfermera por favor");
    let intents: Vec<Intent> = found.iter().map(|m| m.intent).collect();
    assert_eq!(intents, vec![Intent::Person, Intent::Greeting]);
    assert!(found.iter().all(|m| m.language == Some(Es)));
}

#[test]
fn short_words_are_never_commands() {
    for text in [
        "hi", "si", "sí", "no", "es", "en", "fr", "pt", "sw", "ok", "HI", "SW", "de",
    ] {
        assert_eq!(intent::command(text), None, "{text:?}");
    }
}

#[test]
fn a_language_is_chosen_by_explicit_command_or_by_name() {
    let cases: &[(&str, Language)] = &[
        ("LANGUAGE ES", Es),
        ("language: es", Es),
        ("IDIOMA ES", Es),
        ("LANGUE FR", Fr),
        ("LÍNGUA PT", Pt),
        ("LUGHA SW", Sw),
        ("भाषा HI", Hi),
        ("LANGUAGE EN", En),
        ("language hindi", Hi),
        ("español", Es),
        ("Español por favor", Es),
        ("English", En),
        ("in English please", En),
        ("français", Fr),
        ("parlez-vous français ?", Fr),
        ("português", Pt),
        ("हिंदी", Hi),
        ("hindi", Hi),
        ("hindi me baat karo", Hi),
        ("kiswahili", Sw),
        ("Swahili", Sw),
    ];
    for (text, lang) in cases {
        assert_eq!(
            intent::command(text),
            Some(Command::Language(*lang)),
            "{text:?}"
        );
    }
    for text in [
        "LANGUAGE",
        "language de",
        "no english",
        "I don't speak English",
        "no hablo inglés",
    ] {
        assert_eq!(intent::command(text), None, "{text:?}");
    }
}

#[test]
fn help_cancel_restart_and_person_commands() {
    let cases: &[(&str, Command)] = &[
        ("HELP", Command::Help),
        ("help!", Command::Help),
        ("ayuda", Command::Help),
        ("AIDE", Command::Help),
        ("ajuda", Command::Help),
        ("msaada", Command::Help),
        ("मदद", Command::Help),
        ("CANCEL", Command::Cancel),
        ("annuler", Command::Cancel),
        ("ghairi", Command::Cancel),
        ("रद्द करें", Command::Cancel),
        ("RESTART", Command::Restart),
        ("reiniciar", Command::Restart),
        ("anza upya", Command::Restart),
        ("NURSE", Command::Person),
        ("enfermera", Command::Person),
        ("INFIRMIÈRE", Command::Person),
        ("enfermeira", Command::Person),
        ("muuguzi", Command::Person),
        ("नर्स", Command::Person),
    ];
    for (text, command) in cases {
        assert_eq!(intent::command(text), Some(*command), "{text:?}");
    }
    assert_eq!(intent::command("help me I can't breathe"), None);
}

#[test]
fn language_is_detected_only_with_enough_evidence() {
    for text in [
        "hi",
        "hello",
        "ok",
        "fever",
        "no",
        "si",
        "dolor",
        "thanks",
        "hi I have fever",
        "appointment",
        "👍",
    ] {
        assert_eq!(detect_confident(text), None, "{text:?}");
    }
    let cases: &[(&str, Language)] = &[
        ("My son has had a high fever since last night", En),
        ("mi hijo tiene fiebre desde anoche y no quiere comer", Es),
        ("mon fils a de la fièvre depuis hier soir", Fr),
        ("meu filho está com febre desde ontem à noite", Pt),
        ("mere bete ko kal raat se tez bukhar hai", Hi),
        ("मेरे बेटे को कल रात से तेज़ बुखार है", Hi),
        ("mtoto wangu ana homa kali tangu jana usiku", Sw),
        ("hola", Es),
        ("bonjour", Fr),
        ("obrigado", Pt),
        ("asante", Sw),
    ];
    for (text, lang) in cases {
        assert_eq!(detect_confident(text), Some(*lang), "{text:?}");
    }
}

#[test]
fn unreadable_scripts_are_recognised() {
    for text in [
        "مرحبا، أنا مريض",
        "У меня болит голова",
        "我头疼",
        "こんにちは",
        "안녕하세요",
    ] {
        assert!(unsupported_script(text), "{text:?}");
    }
    for text in [
        "I have a headache",
        "मुझे सिरदर्द है",
        "j'ai mal à la tête",
        "BP 150/90",
    ] {
        assert!(!unsupported_script(text), "{text:?}");
    }
}

#[test]
fn matches_serialise_with_snake_case_names() {
    let m = strongest("what is this?").unwrap();
    let json = serde_json::to_value(m).unwrap();
    assert_eq!(json["intent"], "about_service");
    assert_eq!(json["language"], "en");
    assert_eq!(
        serde_json::to_value(Command::Language(Pt)).unwrap(),
        serde_json::json!({"language": "pt"})
    );
}
