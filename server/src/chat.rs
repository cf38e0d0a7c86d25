//! `triage chat`: play a patient in the terminal against a running server's
//! simulator (the same signed-webhook path as the `/simulator` page).

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::time::Duration;

use serde_json::{Value, json};

/// A choice the bot offered in its last interactive message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Offered {
    kind: &'static str,
    id: String,
    title: String,
}

/// Renders one outbound WhatsApp message as terminal lines, numbering choices.
fn render(message: &Value, offered: &mut Vec<Offered>) -> Vec<String> {
    let mut lines = Vec::new();
    let text = |v: &Value| v.as_str().map(str::to_owned);
    match message["type"].as_str() {
        Some("text") => lines.extend(text(&message["text"]["body"])),
        Some("interactive") => {
            let i = &message["interactive"];
            lines.extend(text(&i["header"]["text"]));
            lines.extend(text(&i["body"]["text"]));
            lines.extend(text(&i["footer"]["text"]));
            offered.clear();
            let buttons = i["action"]["buttons"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for b in buttons {
                offered.push(Offered {
                    kind: "button_reply",
                    id: b["reply"]["id"].as_str().unwrap_or_default().to_owned(),
                    title: b["reply"]["title"].as_str().unwrap_or_default().to_owned(),
                });
            }
            for section in i["action"]["sections"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                for r in section["rows"].as_array().cloned().unwrap_or_default() {
                    offered.push(Offered {
                        kind: "list_reply",
                        id: r["id"].as_str().unwrap_or_default().to_owned(),
                        title: r["title"].as_str().unwrap_or_default().to_owned(),
                    });
                }
            }
            for (n, o) in offered.iter().enumerate() {
                lines.push(format!("  [{}] {}", n + 1, o.title));
            }
        }
        Some("template") => lines.push(format!(
            "[template {}]",
            message["template"]["name"].as_str().unwrap_or("?")
        )),
        other => lines.push(format!("[{} message]", other.unwrap_or("unknown"))),
    }
    lines
}

/// What to send for a typed line: a number picks an offered choice.
fn input_for(line: &str, offered: &[Offered]) -> Value {
    if let Ok(n) = line.trim().parse::<usize>()
        && let Some(choice) = n.checked_sub(1).and_then(|i| offered.get(i))
    {
        return json!({"type": choice.kind, "id": choice.id, "title": choice.title});
    }
    json!({"type": "text", "body": line})
}

/// Runs the chat loop until end of input. Returns an error message on failure.
pub async fn run(url: &str, from: &str) -> Result<(), String> {
    let http = reqwest::Client::new();
    let base = url.trim_end_matches('/');
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "Chatting as patient {from} with {base}. Type a message; a number picks a choice; Ctrl-D quits."
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(16);
    // Reading stdin blocks: do it on its own thread.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = HashSet::new();
    let mut offered = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            line = rx.recv() => {
                let Some(line) = line else { return Ok(()) };
                if line.trim().is_empty() { continue; }
                let body = json!({"from": from, "input": input_for(&line, &offered)});
                let resp = http.post(format!("{base}/simulator/api/send")).json(&body).send().await
                    .map_err(|e| format!("cannot reach {base}: {e}"))?;
                if !resp.status().is_success() {
                    let text = resp.text().await.unwrap_or_default();
                    return Err(format!("the simulator refused the message: {text}"));
                }
            }
            _ = tick.tick() => {
                let Ok(resp) = http.get(format!("{base}/simulator/api/messages")).query(&[("wa_id", from)]).send().await else { continue };
                let Ok(body) = resp.json::<Value>().await else { continue };
                for m in body["messages"].as_array().cloned().unwrap_or_default() {
                    let id = m["wamid"].as_str().unwrap_or_default().to_owned();
                    if seen.insert(id) {
                        for line in render(&m["message"], &mut offered) {
                            let _ = writeln!(out, "bot> {line}");
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_are_numbered_and_a_number_picks_one() {
        let message = json!({"type": "interactive", "interactive": {"type": "button",
            "body": {"text": "Is the pain severe?"},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                {"type": "reply", "reply": {"id": "no", "title": "No"}}]}}});
        let mut offered = Vec::new();
        let lines = render(&message, &mut offered);
        assert_eq!(lines, ["Is the pain severe?", "  [1] Yes", "  [2] No"]);
        assert_eq!(
            input_for("2", &offered),
            json!({"type": "button_reply", "id": "no", "title": "No"})
        );
        assert_eq!(
            input_for("3", &offered),
            json!({"type": "text", "body": "3"})
        );
        assert_eq!(input_for("it hurts", &offered)["type"], "text");
    }

    #[test]
    fn list_rows_and_templates_render() {
        let message = json!({"type": "interactive", "interactive": {"type": "list",
            "body": {"text": "Where is the pain?"},
            "action": {"button": "Choose", "sections": [{"title": "Body", "rows": [
                {"id": "chest", "title": "Chest"}, {"id": "head", "title": "Head"}]}]}}});
        let mut offered = Vec::new();
        assert_eq!(render(&message, &mut offered).len(), 3);
        assert_eq!(offered[1].kind, "list_reply");
        let template = json!({"type": "template", "template": {"name": "follow_up"}});
        assert_eq!(render(&template, &mut offered), ["[template follow_up]"]);
    }
}
