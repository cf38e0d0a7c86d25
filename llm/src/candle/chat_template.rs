//! Renders a conversation into the prompt text the model was trained on,
//! using the Jinja chat template stored in the GGUF (`tokenizer.chat_template`)
//! and falling back to ChatML.

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, Error, ErrorKind};

use crate::ChatMessage;

const TEMPLATE_NAME: &str = "chat";

/// The model's chat template.
#[derive(Debug)]
pub(crate) struct ChatTemplate {
    /// `None` when the GGUF has no template or it does not compile.
    env: Option<Environment<'static>>,
    bos_token: String,
    eos_token: String,
}

impl ChatTemplate {
    /// Compiles `source`; a template that does not compile means ChatML.
    pub(crate) fn new(source: Option<&str>, bos_token: &str, eos_token: &str) -> Self {
        let env = source.and_then(|source| match environment(source) {
            Ok(env) => Some(env),
            Err(e) => {
                tracing::warn!(error = %e, "the GGUF chat template does not compile; using ChatML");
                None
            }
        });
        Self {
            env,
            bos_token: bos_token.to_owned(),
            eos_token: eos_token.to_owned(),
        }
    }

    /// Whether the GGUF's own template is in use.
    pub(crate) fn is_native(&self) -> bool {
        self.env.is_some()
    }

    /// The prompt for `messages`, ending where the assistant's answer starts.
    pub(crate) fn render(&self, messages: &[ChatMessage]) -> String {
        if let Some(env) = &self.env {
            match self.render_native(env, messages) {
                Ok(prompt) => return prompt,
                // Templates may refuse a conversation (`raise_exception`, e.g.
                // Gemma's "roles must alternate"); ChatML accepts any.
                Err(e) => tracing::debug!(error = %e, "chat template failed; using ChatML"),
            }
        }
        chatml(messages)
    }

    fn render_native(
        &self,
        env: &Environment<'static>,
        messages: &[ChatMessage],
    ) -> Result<String, Error> {
        let messages: Vec<serde_json::Value> = messages
            .iter()
            .map(|m| serde_json::json!({ "role": m.role.as_str(), "content": m.content }))
            .collect();
        env.get_template(TEMPLATE_NAME)?
            .render(minijinja::context! {
                messages => minijinja::value::Serde(messages),
                add_generation_prompt => true,
                bos_token => self.bos_token.as_str(),
                eos_token => self.eos_token.as_str(),
            })
    }
}

/// A sandbox configured like `transformers`' `apply_chat_template`
/// (`trim_blocks`, `lstrip_blocks`, loop controls, `raise_exception`, the
/// Python string and dict methods templates call).
fn environment(source: &str) -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function(
        "raise_exception",
        |message: String| -> Result<String, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, message))
        },
    );
    env.add_template_owned(TEMPLATE_NAME, source.to_owned())?;
    Ok(env)
}

/// `<|im_start|>role\ncontent<|im_end|>\n` per message, then the assistant's
/// opening.
pub(crate) fn chatml(messages: &[ChatMessage]) -> String {
    let mut prompt = String::new();
    for m in messages {
        prompt.push_str("<|im_start|>");
        prompt.push_str(m.role.as_str());
        prompt.push('\n');
        prompt.push_str(&m.content);
        prompt.push_str("<|im_end|>\n");
    }
    prompt.push_str("<|im_start|>assistant\n");
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    fn conversation() -> Vec<ChatMessage> {
        vec![
            ChatMessage::new(Role::System, "Answer in JSON."),
            ChatMessage::new(Role::User, "I have a headache."),
        ]
    }

    #[test]
    fn chatml_ends_with_the_assistant_opening() {
        assert_eq!(
            chatml(&conversation()),
            "<|im_start|>system\nAnswer in JSON.<|im_end|>\n<|im_start|>user\nI have a headache.<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn jinja_templates_get_bos_methods_and_whitespace_control() {
        let source = "{{ bos_token }}{% for m in messages %}\n{{ m['role'] | upper }}: {{ m.content.strip() }}\n{% endfor %}\n{% if add_generation_prompt %}ASSISTANT:{% endif %}";
        let template = ChatTemplate::new(Some(source), "<s>", "</s>");
        assert!(template.is_native());
        assert_eq!(
            template.render(&conversation()),
            "<s>SYSTEM: Answer in JSON.\nUSER: I have a headache.\nASSISTANT:"
        );
    }

    #[test]
    fn raising_or_broken_templates_fall_back_to_chatml() {
        let raising = ChatTemplate::new(Some("{{ raise_exception('no system role') }}"), "", "");
        assert_eq!(raising.render(&conversation()), chatml(&conversation()));
        let broken = ChatTemplate::new(Some("{% for %}"), "", "");
        assert!(!broken.is_native());
        assert_eq!(broken.render(&conversation()), chatml(&conversation()));
    }
}
