//! Agent actions rendered as WhatsApp messages, within WhatsApp's limits:
//! up to 3 short choices become reply buttons, up to 10 become a list, more
//! (or longer ones) a numbered text the patient can answer by typing.

use agent::{Action, Choice};

use super::message::{
    BUTTON_TITLE_MAX, INTERACTIVE_BODY_MAX, LIST_ROWS_MAX, ListRow, ListSection, MessageError,
    OutboundBody, OutboundMessage, REPLY_BUTTONS_MAX, ROW_TITLE_MAX, ReplyButton, TEXT_BODY_MAX,
};

/// Cuts `text` to `max` characters, marking the cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn fits(choices: &[Choice], count: usize, title_max: usize) -> bool {
    !choices.is_empty()
        && choices.len() <= count
        && choices.iter().all(|c| c.title.chars().count() <= title_max)
}

fn numbered(text: &str, choices: &[Choice]) -> String {
    let mut out = text.to_owned();
    for (n, c) in choices.iter().enumerate() {
        out.push_str(&format!("\n{}. {}", n + 1, c.title));
    }
    out
}

/// The WhatsApp message for one agent action addressed to `to`.
pub fn render_action(action: &Action, to: &str) -> Result<OutboundMessage, MessageError> {
    let body = match action {
        Action::Reply { text } => OutboundBody::text(clip(text, TEXT_BODY_MAX))?,
        Action::Ask { text, choices } => {
            let short_body = text.chars().count() <= INTERACTIVE_BODY_MAX;
            if short_body && fits(choices, REPLY_BUTTONS_MAX, BUTTON_TITLE_MAX) {
                let buttons = choices
                    .iter()
                    .map(|c| ReplyButton::new(&c.id, &c.title))
                    .collect();
                OutboundBody::buttons(None, text, None, buttons)?
            } else if short_body && fits(choices, LIST_ROWS_MAX, ROW_TITLE_MAX) {
                let rows = choices
                    .iter()
                    .map(|c| ListRow::new(&c.id, &c.title, None))
                    .collect();
                OutboundBody::list(
                    None,
                    text,
                    None,
                    "Choose",
                    vec![ListSection::new("Options", rows)],
                )?
            } else {
                OutboundBody::text(clip(&numbered(text, choices), TEXT_BODY_MAX))?
            }
        }
    };
    OutboundMessage::new(to, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices(n: usize, title: &str) -> Vec<Choice> {
        (0..n)
            .map(|i| Choice {
                id: format!("c{i}"),
                title: format!("{title}{i}"),
            })
            .collect()
    }

    fn ask(n: usize, title: &str) -> Action {
        Action::Ask {
            text: "How bad is it?".into(),
            choices: choices(n, title),
        }
    }

    #[test]
    fn few_short_choices_become_buttons_more_become_a_list_then_text() {
        let kind = |a: &Action| match render_action(a, "15550001").unwrap().body {
            OutboundBody::Buttons { .. } => "buttons",
            OutboundBody::List { .. } => "list",
            OutboundBody::Text { .. } => "text",
            _ => "other",
        };
        assert_eq!(kind(&ask(3, "Opt")), "buttons");
        assert_eq!(kind(&ask(4, "Opt")), "list");
        assert_eq!(kind(&ask(2, "A title far too long for a button")), "text");
        assert_eq!(kind(&ask(2, "Longer than twenty ch")), "list");
        assert_eq!(kind(&ask(11, "Opt")), "text");
    }

    #[test]
    fn overflowing_choices_are_numbered_in_text() {
        let OutboundBody::Text { body, .. } = render_action(&ask(11, "Opt"), "1").unwrap().body
        else {
            panic!("text expected")
        };
        assert!(body.starts_with("How bad is it?\n1. Opt0\n2. Opt1"));
        assert!(body.ends_with("11. Opt10"));
    }

    #[test]
    fn very_long_replies_are_clipped_to_the_text_limit() {
        let long = "a".repeat(TEXT_BODY_MAX + 50);
        let OutboundBody::Text { body, .. } = render_action(&Action::Reply { text: long }, "1")
            .unwrap()
            .body
        else {
            panic!("text expected")
        };
        assert_eq!(body.chars().count(), TEXT_BODY_MAX);
        assert!(body.ends_with('…'));
    }
}
