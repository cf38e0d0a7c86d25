//! Outbound WhatsApp messages: what the bot wants to say, checked against the
//! limits Meta documents before it is queued, and rendered as the exact
//! `POST /{Version}/{Phone-Number-ID}/messages` request body.
//!
//! A message that breaks a limit fails here with a [`MessageError`] naming the
//! limit, instead of as an opaque 400 (code 131009) from Meta minutes later in
//! a worker. The model is stored in the outbox (serde, internally tagged), so
//! extend it compatibly: new optional fields, new variants.
//!
//! Sources (Meta, WhatsApp Business Platform / Cloud API):
//! - "Text messages" — body ≤ 4096 characters, `preview_url`:
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/text-messages/>
//! - "Interactive reply buttons messages" — up to three `reply` buttons:
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/interactive-reply-buttons-messages>
//! - "Interactive list messages" — ≤ 10 sections, ≤ 10 rows in total, button
//!   label ≤ 20, row title ≤ 24, row description ≤ 72, row id ≤ 200, header text
//!   only (≤ 60), footer ≤ 60:
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/interactive-list-messages>
//! - Meta's WhatsApp Node.js SDK reference, "Reply Buttons Object" (title ≤ 20
//!   and unique within the message, id ≤ 256), "Row Object", "Header Object"
//!   (text ≤ 60), "Interactive Object" (body ≤ 1024, footer ≤ 60):
//!   <https://whatsapp.github.io/WhatsApp-Nodejs-SDK/api-reference/types/ButtonObject>,
//!   <https://whatsapp.github.io/WhatsApp-Nodejs-SDK/api-reference/types/InteractiveObject>
//! - "Image messages", "Document messages" — media `id`, `caption` ≤ 1024, `filename`:
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/image-messages/>,
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/document-messages>
//! - "Contextual replies" — `context.message_id`:
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/contextual-replies/>
//!
//! Lengths are counted in Unicode scalar values (`char`s), as the limits are
//! stated in characters; a byte count would refuse valid non-ASCII text.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Text message body.
pub const TEXT_BODY_MAX: usize = 4096;
/// Body of an interactive (buttons or list) message. Meta's list page now
/// states 4096 for lists; we keep the stricter interactive limit for both.
pub const INTERACTIVE_BODY_MAX: usize = 1024;
/// Text header of an interactive message.
pub const HEADER_TEXT_MAX: usize = 60;
/// Footer of an interactive message.
pub const FOOTER_TEXT_MAX: usize = 60;
/// Reply buttons in one message.
pub const REPLY_BUTTONS_MAX: usize = 3;
/// Reply button title.
pub const BUTTON_TITLE_MAX: usize = 20;
/// Reply button id (echoed back in the `button_reply` webhook).
pub const BUTTON_ID_MAX: usize = 256;
/// Sections in one list.
pub const LIST_SECTIONS_MAX: usize = 10;
/// Rows in one list, all sections together.
pub const LIST_ROWS_MAX: usize = 10;
/// The label of the button that opens a list.
pub const LIST_BUTTON_LABEL_MAX: usize = 20;
/// List section title.
pub const SECTION_TITLE_MAX: usize = 24;
/// List row title.
pub const ROW_TITLE_MAX: usize = 24;
/// List row description.
pub const ROW_DESCRIPTION_MAX: usize = 72;
/// List row id (echoed back in the `list_reply` webhook).
pub const ROW_ID_MAX: usize = 200;
/// Image or document caption.
pub const MEDIA_CAPTION_MAX: usize = 1024;

/// A message that WhatsApp would refuse, refused before it is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// A required text is empty or only whitespace.
    #[error("{field} must not be empty")]
    Empty {
        /// The limit's name, e.g. `reply button title`.
        field: &'static str,
    },
    /// A text is longer than WhatsApp allows.
    #[error("{field} is {len} characters; WhatsApp allows at most {max}")]
    TooLong {
        /// The limit's name.
        field: &'static str,
        /// The offending length, in characters.
        len: usize,
        /// The documented maximum, in characters.
        max: usize,
    },
    /// Too many (or too few) buttons, sections or rows.
    #[error("{field}: {count} given; WhatsApp allows {min} to {max}")]
    Count {
        /// The limit's name, e.g. `reply buttons`.
        field: &'static str,
        /// How many were given.
        count: usize,
        /// The documented minimum.
        min: usize,
        /// The documented maximum.
        max: usize,
    },
    /// Two buttons or rows share an id (or two buttons a title).
    #[error("{field} `{value}` appears more than once; it must be unique within the message")]
    Duplicate {
        /// The limit's name, e.g. `reply button id`.
        field: &'static str,
        /// The repeated value (ids and titles are ours, never patient text).
        value: String,
    },
}

/// One message to one patient, as stored in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundMessage {
    /// Recipient: the patient's WhatsApp id (phone number, digits).
    pub to: String,
    /// What to send.
    pub body: OutboundBody,
    /// `wamid` of the message this one answers (a contextual reply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// The content of an outbound message, by WhatsApp message type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboundBody {
    /// `text`.
    Text {
        /// The text; WhatsApp hyperlinks URLs in it.
        body: String,
        /// Ask the client to render a preview of the first URL.
        #[serde(default)]
        preview_url: bool,
    },
    /// `interactive` / `button`: up to three reply buttons.
    Buttons {
        /// Optional text header.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        /// The question.
        body: String,
        /// Optional footer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
        /// The buttons.
        buttons: Vec<ReplyButton>,
    },
    /// `interactive` / `list`: a button opening a menu of up to ten rows.
    List {
        /// Optional text header (lists support no other header type).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        /// The question.
        body: String,
        /// Optional footer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
        /// Label of the button that opens the menu.
        button_label: String,
        /// The menu.
        sections: Vec<ListSection>,
    },
    /// `template`: an approved template, the only thing allowed outside the
    /// 24-hour customer-service window.
    Template {
        /// Template name as registered with Meta.
        name: String,
        /// Language code as registered (e.g. `en_US`).
        language: String,
        /// Template `components` (header/body/button parameters), passed through.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        components: Vec<Value>,
    },
    /// `image`, by uploaded media id.
    Image {
        /// Media id from `POST /{Phone-Number-ID}/media`.
        media_id: String,
        /// Optional caption.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
    },
    /// `document`, by uploaded media id.
    Document {
        /// Media id from `POST /{Phone-Number-ID}/media`.
        media_id: String,
        /// File name shown to the patient; its extension picks the icon.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
        /// Optional caption.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
    },
}

/// A reply button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyButton {
    /// Returned in the `button_reply` webhook when tapped.
    pub id: String,
    /// What the patient sees.
    pub title: String,
}

impl ReplyButton {
    /// A button; checked when the message is built.
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
        }
    }
}

/// A titled group of list rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSection {
    /// Section heading. Meta's current list page marks it required, so we
    /// require it even for a single section.
    pub title: String,
    /// The rows.
    pub rows: Vec<ListRow>,
}

impl ListSection {
    /// A section; checked when the message is built.
    pub fn new(title: impl Into<String>, rows: Vec<ListRow>) -> Self {
        Self {
            title: title.into(),
            rows,
        }
    }
}

/// One choice in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRow {
    /// Returned in the `list_reply` webhook when chosen.
    pub id: String,
    /// What the patient sees.
    pub title: String,
    /// Optional second line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl ListRow {
    /// A row; checked when the message is built.
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        description: Option<String>,
    ) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            description,
        }
    }
}

/// Header, body and footer limits shared by every interactive message.
fn check_interactive_frame(
    header: Option<&str>,
    body: &str,
    footer: Option<&str>,
) -> Result<(), MessageError> {
    check_optional("header text", header, HEADER_TEXT_MAX)?;
    check_text("interactive body", body, INTERACTIVE_BODY_MAX)?;
    check_optional("footer text", footer, FOOTER_TEXT_MAX)
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), MessageError> {
    if value.trim().is_empty() {
        return Err(MessageError::Empty { field });
    }
    let len = value.chars().count();
    if len > max {
        return Err(MessageError::TooLong { field, len, max });
    }
    Ok(())
}

fn check_optional(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<(), MessageError> {
    value.map_or(Ok(()), |v| check_text(field, v, max))
}

fn check_present(field: &'static str, value: &str) -> Result<(), MessageError> {
    check_text(field, value, usize::MAX)
}

fn check_count(
    field: &'static str,
    count: usize,
    min: usize,
    max: usize,
) -> Result<(), MessageError> {
    if (min..=max).contains(&count) {
        Ok(())
    } else {
        Err(MessageError::Count {
            field,
            count,
            min,
            max,
        })
    }
}

fn check_unique<'a>(
    field: &'static str,
    values: impl IntoIterator<Item = &'a str>,
) -> Result<(), MessageError> {
    let mut seen = HashSet::new();
    for value in values {
        if !seen.insert(value) {
            return Err(MessageError::Duplicate {
                field,
                value: value.to_owned(),
            });
        }
    }
    Ok(())
}

impl OutboundBody {
    /// A text message without link preview.
    pub fn text(body: impl Into<String>) -> Result<Self, MessageError> {
        Self::checked(OutboundBody::Text {
            body: body.into(),
            preview_url: false,
        })
    }

    /// A text message whose first URL WhatsApp previews.
    pub fn text_with_preview(body: impl Into<String>) -> Result<Self, MessageError> {
        Self::checked(OutboundBody::Text {
            body: body.into(),
            preview_url: true,
        })
    }

    /// A reply-buttons message (1–3 buttons, unique ids and titles).
    pub fn buttons(
        header: Option<String>,
        body: impl Into<String>,
        footer: Option<String>,
        buttons: Vec<ReplyButton>,
    ) -> Result<Self, MessageError> {
        Self::checked(OutboundBody::Buttons {
            header,
            body: body.into(),
            footer,
            buttons,
        })
    }

    /// A list message (1–10 sections, 1–10 rows in total, unique row ids).
    pub fn list(
        header: Option<String>,
        body: impl Into<String>,
        footer: Option<String>,
        button_label: impl Into<String>,
        sections: Vec<ListSection>,
    ) -> Result<Self, MessageError> {
        Self::checked(OutboundBody::List {
            header,
            body: body.into(),
            footer,
            button_label: button_label.into(),
            sections,
        })
    }

    /// An approved template with its `components` (may be empty).
    pub fn template(
        name: impl Into<String>,
        language: impl Into<String>,
        components: Vec<Value>,
    ) -> Result<Self, MessageError> {
        Self::checked(OutboundBody::Template {
            name: name.into(),
            language: language.into(),
            components,
        })
    }

    /// An uploaded image.
    pub fn image(
        media_id: impl Into<String>,
        caption: Option<String>,
    ) -> Result<Self, MessageError> {
        Self::checked(OutboundBody::Image {
            media_id: media_id.into(),
            caption,
        })
    }

    /// An uploaded document.
    pub fn document(
        media_id: impl Into<String>,
        filename: Option<String>,
        caption: Option<String>,
    ) -> Result<Self, MessageError> {
        Self::checked(OutboundBody::Document {
            media_id: media_id.into(),
            filename,
            caption,
        })
    }

    fn checked(body: OutboundBody) -> Result<Self, MessageError> {
        body.validate()?;
        Ok(body)
    }

    /// Our name for the kind of message, for records and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            OutboundBody::Text { .. } => "text",
            OutboundBody::Buttons { .. } => "buttons",
            OutboundBody::List { .. } => "list",
            OutboundBody::Template { .. } => "template",
            OutboundBody::Image { .. } => "image",
            OutboundBody::Document { .. } => "document",
        }
    }

    /// Checks every documented limit again (e.g. after reading the outbox,
    /// whose rows may predate a limit or have been edited by hand).
    pub fn validate(&self) -> Result<(), MessageError> {
        match self {
            OutboundBody::Text { body, .. } => check_text("text body", body, TEXT_BODY_MAX),
            OutboundBody::Buttons {
                header,
                body,
                footer,
                buttons,
            } => {
                check_interactive_frame(header.as_deref(), body, footer.as_deref())?;
                check_count("reply buttons", buttons.len(), 1, REPLY_BUTTONS_MAX)?;
                for button in buttons {
                    check_text("reply button id", &button.id, BUTTON_ID_MAX)?;
                    check_text("reply button title", &button.title, BUTTON_TITLE_MAX)?;
                }
                // The id is how we tell taps apart; the title is how the
                // patient does. Meta requires both to be unique.
                check_unique("reply button id", buttons.iter().map(|b| b.id.as_str()))?;
                check_unique(
                    "reply button title",
                    buttons.iter().map(|b| b.title.as_str()),
                )
            }
            OutboundBody::List {
                header,
                body,
                footer,
                button_label,
                sections,
            } => {
                check_interactive_frame(header.as_deref(), body, footer.as_deref())?;
                check_text("list button label", button_label, LIST_BUTTON_LABEL_MAX)?;
                check_count("list sections", sections.len(), 1, LIST_SECTIONS_MAX)?;
                for section in sections {
                    check_text("list section title", &section.title, SECTION_TITLE_MAX)?;
                    check_count("list section rows", section.rows.len(), 1, LIST_ROWS_MAX)?;
                    for row in &section.rows {
                        check_text("list row id", &row.id, ROW_ID_MAX)?;
                        check_text("list row title", &row.title, ROW_TITLE_MAX)?;
                        check_optional(
                            "list row description",
                            row.description.as_deref(),
                            ROW_DESCRIPTION_MAX,
                        )?;
                    }
                }
                // The row limit is for the whole list, not per section.
                let rows = sections.iter().flat_map(|s| &s.rows);
                check_count("list rows", rows.clone().count(), 1, LIST_ROWS_MAX)?;
                check_unique("list row id", rows.map(|r| r.id.as_str()))
            }
            OutboundBody::Template { name, language, .. } => {
                check_present("template name", name)?;
                check_present("template language", language)
            }
            OutboundBody::Image { media_id, caption } => {
                check_present("media id", media_id)?;
                check_optional("media caption", caption.as_deref(), MEDIA_CAPTION_MAX)
            }
            OutboundBody::Document {
                media_id,
                filename,
                caption,
            } => {
                check_present("media id", media_id)?;
                if let Some(filename) = filename {
                    check_present("document filename", filename)?;
                }
                check_optional("media caption", caption.as_deref(), MEDIA_CAPTION_MAX)
            }
        }
    }

    /// The `type` value and the object stored under that key.
    fn graph_content(&self) -> (&'static str, Value) {
        match self {
            OutboundBody::Text { body, preview_url } => {
                ("text", json!({"preview_url": preview_url, "body": body}))
            }
            OutboundBody::Buttons {
                header,
                body,
                footer,
                buttons,
            } => {
                let buttons: Vec<Value> = buttons
                    .iter()
                    .map(|b| json!({"type": "reply", "reply": {"id": b.id, "title": b.title}}))
                    .collect();
                let mut interactive = json!({
                    "type": "button",
                    "body": {"text": body},
                    "action": {"buttons": buttons},
                });
                add_header_footer(&mut interactive, header.as_deref(), footer.as_deref());
                ("interactive", interactive)
            }
            OutboundBody::List {
                header,
                body,
                footer,
                button_label,
                sections,
            } => {
                let sections: Vec<Value> = sections
                    .iter()
                    .map(|s| {
                        let rows: Vec<Value> = s
                            .rows
                            .iter()
                            .map(|r| {
                                let mut row = json!({"id": r.id, "title": r.title});
                                if let Some(description) = &r.description {
                                    row["description"] = json!(description);
                                }
                                row
                            })
                            .collect();
                        json!({"title": s.title, "rows": rows})
                    })
                    .collect();
                let mut interactive = json!({
                    "type": "list",
                    "body": {"text": body},
                    "action": {"button": button_label, "sections": sections},
                });
                add_header_footer(&mut interactive, header.as_deref(), footer.as_deref());
                ("interactive", interactive)
            }
            OutboundBody::Template {
                name,
                language,
                components,
            } => {
                let mut template = json!({"name": name, "language": {"code": language}});
                if !components.is_empty() {
                    template["components"] = json!(components);
                }
                ("template", template)
            }
            OutboundBody::Image { media_id, caption } => {
                let mut image = json!({"id": media_id});
                if let Some(caption) = caption {
                    image["caption"] = json!(caption);
                }
                ("image", image)
            }
            OutboundBody::Document {
                media_id,
                filename,
                caption,
            } => {
                let mut document = json!({"id": media_id});
                if let Some(filename) = filename {
                    document["filename"] = json!(filename);
                }
                if let Some(caption) = caption {
                    document["caption"] = json!(caption);
                }
                ("document", document)
            }
        }
    }
}

fn add_header_footer(interactive: &mut Value, header: Option<&str>, footer: Option<&str>) {
    if let Some(header) = header {
        interactive["header"] = json!({"type": "text", "text": header});
    }
    if let Some(footer) = footer {
        interactive["footer"] = json!({"text": footer});
    }
}

impl OutboundMessage {
    /// A message to `to`, checked.
    pub fn new(to: impl Into<String>, body: OutboundBody) -> Result<Self, MessageError> {
        let message = OutboundMessage {
            to: to.into(),
            body,
            reply_to: None,
        };
        message.validate()?;
        Ok(message)
    }

    /// Sends this as a contextual reply to `wamid` (WhatsApp quotes it).
    pub fn replying_to(mut self, wamid: impl Into<String>) -> Self {
        self.reply_to = Some(wamid.into());
        self
    }

    /// Checks the recipient, the reply target and every limit of the body.
    pub fn validate(&self) -> Result<(), MessageError> {
        check_present("recipient", &self.to)?;
        if let Some(reply_to) = &self.reply_to {
            check_present("reply-to message id", reply_to)?;
        }
        self.body.validate()
    }

    /// The Messages API request body, exactly as documented.
    pub fn to_graph_json(&self) -> Value {
        let (kind, content) = self.body.graph_content();
        let mut request = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": self.to,
            "type": kind,
        });
        request[kind] = content;
        if let Some(wamid) = &self.reply_to {
            request["context"] = json!({"message_id": wamid});
        }
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` characters of two bytes each: a byte count would be twice the limit.
    fn chars(n: usize) -> String {
        "é".repeat(n)
    }

    fn to(body: OutboundBody) -> OutboundMessage {
        OutboundMessage::new("15551230101", body).unwrap()
    }

    fn buttons(n: usize) -> Vec<ReplyButton> {
        (0..n)
            .map(|i| ReplyButton::new(format!("b{i}"), format!("Button {i}")))
            .collect()
    }

    fn rows(prefix: &str, n: usize) -> Vec<ListRow> {
        (0..n)
            .map(|i| ListRow::new(format!("{prefix}{i}"), format!("Row {i}"), None))
            .collect()
    }

    fn one_section(rows: Vec<ListRow>) -> Vec<ListSection> {
        vec![ListSection::new("Options", rows)]
    }

    fn too_long(field: &'static str, len: usize, max: usize) -> MessageError {
        MessageError::TooLong { field, len, max }
    }

    #[test]
    fn text_request_body() {
        let message =
            to(OutboundBody::text("Hello. I can help you decide where to get care.").unwrap());
        insta::assert_json_snapshot!("text", message.to_graph_json());
    }

    #[test]
    fn text_with_preview_as_a_contextual_reply() {
        let message =
            to(OutboundBody::text_with_preview("See https://example.org/clinics").unwrap())
                .replying_to("wamid.HBgLMTU1NTEyMzAxMDEVAgASGBQzQUFB");
        insta::assert_json_snapshot!("text_preview_reply", message.to_graph_json());
    }

    #[test]
    fn buttons_request_body() {
        let body = OutboundBody::buttons(
            Some("Chest pain".into()),
            "Is the pain spreading to your arm, jaw or back?",
            Some("Reply with a button".into()),
            vec![
                ReplyButton::new("yes", "Yes"),
                ReplyButton::new("no", "No"),
                ReplyButton::new("unsure", "Not sure"),
            ],
        )
        .unwrap();
        insta::assert_json_snapshot!("buttons", to(body).to_graph_json());
    }

    #[test]
    fn buttons_without_header_or_footer_omit_them() {
        let body = OutboundBody::buttons(None, "Continue?", None, buttons(1)).unwrap();
        insta::assert_json_snapshot!("buttons_minimal", to(body).to_graph_json());
    }

    #[test]
    fn list_request_body() {
        let body = OutboundBody::list(
            Some("Symptoms".into()),
            "Which of these do you have?",
            Some("Choose one".into()),
            "Choose",
            vec![
                ListSection::new(
                    "Breathing",
                    vec![
                        ListRow::new(
                            "sob",
                            "Short of breath",
                            Some("At rest or when walking".into()),
                        ),
                        ListRow::new("wheeze", "Wheezing", None),
                    ],
                ),
                ListSection::new("Other", vec![ListRow::new("none", "None of these", None)]),
            ],
        )
        .unwrap();
        insta::assert_json_snapshot!("list", to(body).to_graph_json());
    }

    #[test]
    fn template_request_body() {
        let components = vec![json!({
            "type": "body",
            "parameters": [{"type": "text", "text": "Ana"}]
        })];
        let body = OutboundBody::template("triage_follow_up", "en_US", components).unwrap();
        insta::assert_json_snapshot!("template", to(body).to_graph_json());
        let bare = OutboundBody::template("triage_follow_up", "en_US", Vec::new()).unwrap();
        insta::assert_json_snapshot!("template_without_components", to(bare).to_graph_json());
    }

    #[test]
    fn media_request_bodies() {
        let image =
            OutboundBody::image("1013859600285441", Some("Where to find us".into())).unwrap();
        insta::assert_json_snapshot!("image", to(image).to_graph_json());
        let document = OutboundBody::document(
            "1013859600285442",
            Some("triage-summary.pdf".into()),
            Some("Your summary".into()),
        )
        .unwrap();
        insta::assert_json_snapshot!("document", to(document).to_graph_json());
        let bare = OutboundBody::document("1013859600285443", None, None).unwrap();
        let json = to(bare).to_graph_json();
        assert_eq!(json["document"], json!({"id": "1013859600285443"}));
    }

    #[test]
    fn the_stored_form_round_trips() {
        let message =
            to(OutboundBody::buttons(None, "Continue?", Some("f".into()), buttons(2)).unwrap())
                .replying_to("wamid.X");
        let stored = serde_json::to_value(&message).unwrap();
        // The outbox format is a contract with rows already written.
        insta::assert_json_snapshot!("stored_buttons", stored);
        let back: OutboundMessage = serde_json::from_value(stored).unwrap();
        assert_eq!(back, message);
        // Optional fields may be absent in stored rows.
        let minimal: OutboundMessage =
            serde_json::from_value(json!({"to": "1555", "body": {"type": "text", "body": "hi"}}))
                .unwrap();
        assert_eq!(
            minimal.body,
            OutboundBody::Text {
                body: "hi".into(),
                preview_url: false
            }
        );
        assert_eq!(minimal.reply_to, None);
    }

    #[test]
    fn text_body_limit_counts_characters() {
        assert!(OutboundBody::text(chars(TEXT_BODY_MAX)).is_ok());
        assert_eq!(
            OutboundBody::text(chars(TEXT_BODY_MAX + 1)),
            Err(too_long("text body", 4097, 4096))
        );
    }

    #[test]
    fn empty_texts_are_refused() {
        assert_eq!(
            OutboundBody::text(""),
            Err(MessageError::Empty { field: "text body" })
        );
        assert_eq!(
            OutboundBody::text(" \n "),
            Err(MessageError::Empty { field: "text body" })
        );
        assert_eq!(
            OutboundBody::buttons(None, "", None, buttons(1)),
            Err(MessageError::Empty {
                field: "interactive body"
            })
        );
        assert_eq!(
            OutboundBody::buttons(Some(String::new()), "q", None, buttons(1)),
            Err(MessageError::Empty {
                field: "header text"
            })
        );
        assert_eq!(
            OutboundBody::buttons(None, "q", None, vec![ReplyButton::new("", "Yes")]),
            Err(MessageError::Empty {
                field: "reply button id"
            })
        );
        assert_eq!(
            OutboundBody::buttons(None, "q", None, vec![ReplyButton::new("y", " ")]),
            Err(MessageError::Empty {
                field: "reply button title"
            })
        );
        assert_eq!(
            OutboundBody::list(None, "q", None, "", one_section(rows("r", 1))),
            Err(MessageError::Empty {
                field: "list button label"
            })
        );
        assert_eq!(
            OutboundBody::list(
                None,
                "q",
                None,
                "Go",
                vec![ListSection::new("", rows("r", 1))]
            ),
            Err(MessageError::Empty {
                field: "list section title"
            })
        );
        assert_eq!(
            OutboundBody::template("", "en_US", Vec::new()),
            Err(MessageError::Empty {
                field: "template name"
            })
        );
        assert_eq!(
            OutboundBody::template("t", "", Vec::new()),
            Err(MessageError::Empty {
                field: "template language"
            })
        );
        assert_eq!(
            OutboundBody::image("", None),
            Err(MessageError::Empty { field: "media id" })
        );
        assert_eq!(
            OutboundBody::document("1", Some(String::new()), None),
            Err(MessageError::Empty {
                field: "document filename"
            })
        );
        let body = OutboundBody::text("hi").unwrap();
        assert_eq!(
            OutboundMessage::new("", body.clone()),
            Err(MessageError::Empty { field: "recipient" })
        );
        let mut message = OutboundMessage::new("1555", body).unwrap();
        message.reply_to = Some(String::new());
        assert_eq!(
            message.validate(),
            Err(MessageError::Empty {
                field: "reply-to message id"
            })
        );
    }

    #[test]
    fn reply_button_limits() {
        let with = |header: Option<String>,
                    body: String,
                    footer: Option<String>,
                    buttons: Vec<ReplyButton>| {
            OutboundBody::buttons(header, body, footer, buttons)
        };
        let q = || "q".to_owned();
        // Count: one to three.
        assert!(with(None, q(), None, buttons(3)).is_ok());
        assert_eq!(
            with(None, q(), None, buttons(4)),
            Err(MessageError::Count {
                field: "reply buttons",
                count: 4,
                min: 1,
                max: 3
            })
        );
        assert_eq!(
            with(None, q(), None, Vec::new()),
            Err(MessageError::Count {
                field: "reply buttons",
                count: 0,
                min: 1,
                max: 3
            })
        );
        // Title.
        assert!(with(None, q(), None, vec![ReplyButton::new("a", chars(20))]).is_ok());
        assert_eq!(
            with(None, q(), None, vec![ReplyButton::new("a", chars(21))]),
            Err(too_long("reply button title", 21, 20))
        );
        // Id.
        assert!(with(None, q(), None, vec![ReplyButton::new(chars(256), "a")]).is_ok());
        assert_eq!(
            with(None, q(), None, vec![ReplyButton::new(chars(257), "a")]),
            Err(too_long("reply button id", 257, 256))
        );
        // Body, header, footer.
        assert!(with(None, chars(1024), None, buttons(1)).is_ok());
        assert_eq!(
            with(None, chars(1025), None, buttons(1)),
            Err(too_long("interactive body", 1025, 1024))
        );
        assert!(with(Some(chars(60)), q(), Some(chars(60)), buttons(1)).is_ok());
        assert_eq!(
            with(Some(chars(61)), q(), None, buttons(1)),
            Err(too_long("header text", 61, 60))
        );
        assert_eq!(
            with(None, q(), Some(chars(61)), buttons(1)),
            Err(too_long("footer text", 61, 60))
        );
    }

    #[test]
    fn duplicate_button_ids_and_titles_are_refused() {
        let same_id = vec![
            ReplyButton::new("yes", "Yes"),
            ReplyButton::new("yes", "Sure"),
        ];
        assert_eq!(
            OutboundBody::buttons(None, "q", None, same_id),
            Err(MessageError::Duplicate {
                field: "reply button id",
                value: "yes".into()
            })
        );
        let same_title = vec![ReplyButton::new("a", "Yes"), ReplyButton::new("b", "Yes")];
        assert_eq!(
            OutboundBody::buttons(None, "q", None, same_title),
            Err(MessageError::Duplicate {
                field: "reply button title",
                value: "Yes".into()
            })
        );
    }

    #[test]
    fn list_limits() {
        let list =
            |sections: Vec<ListSection>| OutboundBody::list(None, "q", None, "Choose", sections);
        // Rows: ten in total, across sections.
        assert!(list(one_section(rows("r", 10))).is_ok());
        assert_eq!(
            list(one_section(rows("r", 11))),
            Err(MessageError::Count {
                field: "list section rows",
                count: 11,
                min: 1,
                max: 10
            })
        );
        let split = vec![
            ListSection::new("A", rows("a", 5)),
            ListSection::new("B", rows("b", 5)),
        ];
        assert!(list(split).is_ok());
        let split = vec![
            ListSection::new("A", rows("a", 5)),
            ListSection::new("B", rows("b", 6)),
        ];
        assert_eq!(
            list(split),
            Err(MessageError::Count {
                field: "list rows",
                count: 11,
                min: 1,
                max: 10
            })
        );
        assert_eq!(
            list(vec![ListSection::new("A", Vec::new())]),
            Err(MessageError::Count {
                field: "list section rows",
                count: 0,
                min: 1,
                max: 10
            })
        );
        // Sections: one to ten.
        let sections = |n: usize| {
            (0..n)
                .map(|i| ListSection::new(format!("S{i}"), rows(&format!("s{i}r"), 1)))
                .collect()
        };
        assert!(list(sections(10)).is_ok());
        assert_eq!(
            list(sections(11)),
            Err(MessageError::Count {
                field: "list sections",
                count: 11,
                min: 1,
                max: 10
            })
        );
        assert_eq!(
            list(Vec::new()),
            Err(MessageError::Count {
                field: "list sections",
                count: 0,
                min: 1,
                max: 10
            })
        );
        // Row fields.
        let row = |id: String, title: String, description: Option<String>| {
            one_section(vec![ListRow::new(id, title, description)])
        };
        assert!(list(row(chars(200), chars(24), Some(chars(72)))).is_ok());
        assert_eq!(
            list(row(chars(201), "t".into(), None)),
            Err(too_long("list row id", 201, 200))
        );
        assert_eq!(
            list(row("i".into(), chars(25), None)),
            Err(too_long("list row title", 25, 24))
        );
        assert_eq!(
            list(row("i".into(), "t".into(), Some(chars(73)))),
            Err(too_long("list row description", 73, 72))
        );
        // Section title.
        assert!(list(vec![ListSection::new(chars(24), rows("r", 1))]).is_ok());
        assert_eq!(
            list(vec![ListSection::new(chars(25), rows("r", 1))]),
            Err(too_long("list section title", 25, 24))
        );
        // Button label, body, header, footer.
        let labelled =
            |label: String| OutboundBody::list(None, "q", None, label, one_section(rows("r", 1)));
        assert!(labelled(chars(20)).is_ok());
        assert_eq!(
            labelled(chars(21)),
            Err(too_long("list button label", 21, 20))
        );
        let framed = |header: Option<String>, body: String, footer: Option<String>| {
            OutboundBody::list(header, body, footer, "Go", one_section(rows("r", 1)))
        };
        assert!(framed(Some(chars(60)), chars(1024), Some(chars(60))).is_ok());
        assert_eq!(
            framed(None, chars(1025), None),
            Err(too_long("interactive body", 1025, 1024))
        );
        assert_eq!(
            framed(Some(chars(61)), "q".into(), None),
            Err(too_long("header text", 61, 60))
        );
        assert_eq!(
            framed(None, "q".into(), Some(chars(61))),
            Err(too_long("footer text", 61, 60))
        );
    }

    #[test]
    fn duplicate_row_ids_are_refused_across_sections() {
        let sections = vec![
            ListSection::new("A", rows("r", 2)),
            ListSection::new("B", rows("r", 1)),
        ];
        assert_eq!(
            OutboundBody::list(None, "q", None, "Choose", sections),
            Err(MessageError::Duplicate {
                field: "list row id",
                value: "r0".into()
            })
        );
    }

    #[test]
    fn caption_limit() {
        assert!(OutboundBody::image("1", Some(chars(1024))).is_ok());
        assert_eq!(
            OutboundBody::image("1", Some(chars(1025))),
            Err(too_long("media caption", 1025, 1024))
        );
        assert!(OutboundBody::document("1", None, Some(chars(1024))).is_ok());
        assert_eq!(
            OutboundBody::document("1", None, Some(chars(1025))),
            Err(too_long("media caption", 1025, 1024))
        );
    }

    #[test]
    fn validate_rechecks_a_body_built_by_hand_or_read_from_storage() {
        let stored: OutboundMessage = serde_json::from_value(json!({
            "to": "1555",
            "body": {"type": "buttons", "body": "q", "buttons": [
                {"id": "1", "title": "a"}, {"id": "2", "title": "b"},
                {"id": "3", "title": "c"}, {"id": "4", "title": "d"}
            ]}
        }))
        .unwrap();
        assert!(matches!(
            stored.validate(),
            Err(MessageError::Count { count: 4, .. })
        ));
    }

    #[test]
    fn errors_name_the_limit_and_the_length() {
        let err = OutboundBody::text(chars(5000)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "text body is 5000 characters; WhatsApp allows at most 4096"
        );
    }
}
