//! `fanorder simulate`: plays a customer writing to a page. It builds the webhook payload
//! Facebook would send, signs it with the webhook app secret (the same one `fanorder serve`
//! resolves: the configured one, or the development secret in the data directory), posts it to
//! the running server, then reads the conversation through the staff API and prints what the
//! bot answered.

use std::time::{Duration, Instant};

use anyhow::Context;
use fanorder_messenger::webhook::SIGNATURE_HEADER;
use serde_json::{Value, json};

use crate::cli::say;

/// How often the conversation is read while waiting for the bot.
const POLL_EVERY: Duration = Duration::from_millis(150);
/// How long the answer may stay unchanged before it counts as complete.
const SETTLED_AFTER: Duration = Duration::from_millis(600);
/// How long to wait for an answer at all (a person may have the conversation).
const GIVE_UP_AFTER: Duration = Duration::from_secs(10);

/// What the customer does.
#[derive(Debug, Clone, PartialEq)]
pub enum Act {
    /// Types text.
    Text(String),
    /// Presses a button (a postback with this payload).
    Postback(String),
    /// Shares a location.
    Location {
        /// Latitude.
        lat: f64,
        /// Longitude.
        long: f64,
    },
}

/// Who plays and where.
#[derive(Debug, Clone)]
pub struct Scene {
    /// The server, e.g. `http://127.0.0.1:3000`.
    pub base_url: String,
    /// The webhook app secret.
    pub app_secret: Vec<u8>,
    /// The page written to.
    pub page_id: String,
    /// The customer's page-scoped id.
    pub psid: String,
    /// A staff login of the page's restaurant, to read the answers: tenant slug, email,
    /// password.
    pub login: (String, String, String),
}

/// The webhook body Facebook sends for one customer action.
pub fn payload(page_id: &str, psid: &str, act: &Act, now_ms: i64) -> Value {
    let mid = format!("m_sim_{}", fanorder_platform::id::new_ulid());
    let mut event = json!({
        "sender": {"id": psid},
        "recipient": {"id": page_id},
        "timestamp": now_ms,
    });
    match act {
        Act::Text(text) => event["message"] = json!({"mid": mid, "text": text}),
        Act::Postback(data) => {
            event["postback"] = json!({"mid": mid, "title": data, "payload": data});
        }
        Act::Location { lat, long } => {
            event["message"] = json!({"mid": mid, "attachments": [{
                "type": "location",
                "payload": {"coordinates": {"lat": lat, "long": long}}
            }]});
        }
    }
    json!({"object": "page", "entry": [{"id": page_id, "time": now_ms, "messaging": [event]}]})
}

/// Plays the act and prints the bot's answer.
pub async fn run(scene: &Scene, act: &Act) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let token = login(&http, scene).await?;
    let before = newest_message(&http, scene, &token).await?;

    let body = payload(
        &scene.page_id,
        &scene.psid,
        act,
        jiff::Timestamp::now().as_millisecond(),
    )
    .to_string();
    let signature = fanorder_messenger::sign(&scene.app_secret, body.as_bytes());
    let response = http
        .post(format!("{}/webhooks/messenger", scene.base_url))
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .with_context(|| format!("is `fanorder serve` running at {}?", scene.base_url))?;
    let status = response.status();
    anyhow::ensure!(
        status.is_success(),
        "the webhook answered {status}: {} (does the server use the same FANORDER_FB_APP_SECRET or data directory?)",
        response.text().await.unwrap_or_default()
    );

    let replies = wait_for_answer(&http, scene, &token, before.as_deref()).await?;
    if replies.is_empty() {
        say("(no answer: a person may have this conversation, or the page is unknown)");
    }
    for reply in &replies {
        say(&render(reply));
    }
    Ok(())
}

async fn login(http: &reqwest::Client, scene: &Scene) -> anyhow::Result<String> {
    let (tenant, email, password) = &scene.login;
    let response = http
        .post(format!("{}/v1/auth/login", scene.base_url))
        .json(&json!({"tenant": tenant, "email": email, "password": password}))
        .send()
        .await
        .with_context(|| format!("is `fanorder serve` running at {}?", scene.base_url))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(
        status.is_success(),
        "cannot log in as {email} of {tenant} to read the answers ({status}); pass --tenant, --email and --password"
    );
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("the login answer has no access_token")
}

async fn messages(
    http: &reqwest::Client,
    scene: &Scene,
    token: &str,
    limit: usize,
) -> anyhow::Result<Vec<Value>> {
    let response = http
        .get(format!(
            "{}/v1/pages/{}/conversations/{}/messages?limit={limit}",
            scene.base_url, scene.page_id, scene.psid
        ))
        .bearer_auth(token)
        .send()
        .await?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(Vec::new());
    }
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(
        status.is_success(),
        "reading the conversation: {status} {body}"
    );
    Ok(body["items"].as_array().cloned().unwrap_or_default())
}

async fn newest_message(
    http: &reqwest::Client,
    scene: &Scene,
    token: &str,
) -> anyhow::Result<Option<String>> {
    Ok(messages(http, scene, token, 1)
        .await?
        .first()
        .and_then(|m| m["id"].as_str())
        .map(str::to_owned))
}

/// The bot's messages after `before`, oldest first, once they stop coming.
async fn wait_for_answer(
    http: &reqwest::Client,
    scene: &Scene,
    token: &str,
    before: Option<&str>,
) -> anyhow::Result<Vec<Value>> {
    let started = Instant::now();
    let mut seen = 0usize;
    let mut changed = Instant::now();
    loop {
        let mut newer: Vec<Value> = messages(http, scene, token, 100)
            .await?
            .into_iter()
            .filter(|m| before.is_none_or(|b| m["id"].as_str().is_some_and(|id| id > b)))
            .collect();
        newer.reverse();
        if newer.len() != seen {
            seen = newer.len();
            changed = Instant::now();
        }
        let answered = newer.iter().any(|m| m["direction"] == "out");
        if (answered && changed.elapsed() >= SETTLED_AFTER) || started.elapsed() >= GIVE_UP_AFTER {
            return Ok(newer
                .into_iter()
                .filter(|m| m["direction"] == "out")
                .collect());
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// One recorded bot message as a person reads it in a terminal.
pub fn render(message: &Value) -> String {
    let payload = &message["payload"];
    let mut lines = Vec::new();
    if let Some(text) = message["text"].as_str() {
        lines.push(format!("bot: {text}"));
    }
    let template = &payload["attachment"]["payload"];
    match template["template_type"].as_str() {
        Some("generic") => {
            lines.push("bot: [cards]".to_owned());
            for card in template["elements"].as_array().into_iter().flatten() {
                let mut line = format!("  • {}", card["title"].as_str().unwrap_or_default());
                if let Some(subtitle) = card["subtitle"].as_str() {
                    line.push_str(&format!(" — {subtitle}"));
                }
                line.push_str(&buttons(&card["buttons"]));
                lines.push(line);
            }
        }
        Some("button") => {
            lines.push(format!(
                "bot: {}{}",
                template["text"].as_str().unwrap_or_default(),
                buttons(&template["buttons"])
            ));
        }
        Some("receipt") => {
            lines.push(format!(
                "bot: [receipt {}] total {} {}",
                template["order_number"].as_str().unwrap_or_default(),
                template["summary"]["total_cost"],
                template["currency"].as_str().unwrap_or_default()
            ));
            for element in template["elements"].as_array().into_iter().flatten() {
                lines.push(format!(
                    "  • {} × {}",
                    element["quantity"],
                    element["title"].as_str().unwrap_or_default()
                ));
            }
        }
        _ => {}
    }
    if let Some(replies) = payload["quick_replies"].as_array() {
        let choices: Vec<String> = replies
            .iter()
            .map(|r| {
                format!(
                    "[{} → {}]",
                    r["title"].as_str().unwrap_or("location"),
                    r["payload"].as_str().unwrap_or_default()
                )
            })
            .collect();
        lines.push(format!("     {}", choices.join(" ")));
    }
    if lines.is_empty() {
        lines.push(format!("bot: {payload}"));
    }
    lines.join("\n")
}

fn buttons(buttons: &Value) -> String {
    let titles: Vec<String> = buttons
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            let target = b["payload"]
                .as_str()
                .or(b["url"].as_str())
                .unwrap_or_default();
            format!("[{} → {target}]", b["title"].as_str().unwrap_or_default())
        })
        .collect();
    if titles.is_empty() {
        String::new()
    } else {
        format!("  {}", titles.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_the_shape_facebook_sends_and_parse() {
        for act in [
            Act::Text("2 pad thai".to_owned()),
            Act::Postback("MENU".to_owned()),
            Act::Location {
                lat: 13.74,
                long: 100.56,
            },
        ] {
            let body = payload("100000000000001", "2001", &act, 1_764_000_000_000).to_string();
            let parsed = fanorder_messenger::parse(body.as_bytes()).expect("parses");
            assert_eq!(parsed.entries.len(), 1, "{act:?}");
            assert_eq!(parsed.entries[0].page_id, "100000000000001");
            assert_eq!(parsed.entries[0].events.len(), 1, "{act:?}");
            assert_eq!(parsed.entries[0].events[0].sender.as_deref(), Some("2001"));
        }
    }

    #[test]
    fn replies_render_with_their_choices() {
        let text = render(&json!({"direction": "out", "text": "Hi", "payload": {
            "text": "Hi", "quick_replies": [{"content_type": "text", "title": "Menu", "payload": "MENU"}]
        }}));
        assert_eq!(text, "bot: Hi\n     [Menu → MENU]");
        let cards = render(
            &json!({"direction": "out", "payload": {"attachment": {"type": "template", "payload": {
                "template_type": "generic",
                "elements": [{"title": "Pad thai", "subtitle": "฿120.00", "buttons": [{"type": "postback", "title": "Add", "payload": "ADD:1"}]}]
            }}}}),
        );
        assert_eq!(cards, "bot: [cards]\n  • Pad thai — ฿120.00  [Add → ADD:1]");
    }
}
