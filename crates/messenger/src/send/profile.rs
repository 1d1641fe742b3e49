//! The page's Messenger profile: Get Started button, greeting, persistent menu, ice breakers.
//!
//! Facebook wants a `default` locale in every localized list; the types here always have one.
//! Two rules the types do not enforce: a persistent menu needs the Get Started button, and ice
//! breakers take precedence over Get Started on the welcome screen when both are set.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use url::Url;

use super::text::{Payload, truncate};

/// The longest greeting text.
pub const GREETING_MAX: usize = 160;
/// The most items of a persistent menu (per locale).
pub const MENU_ITEMS_MAX: usize = 20;
/// The longest persistent menu item title.
pub const MENU_TITLE_MAX: usize = 30;
/// The most ice breaker questions (per locale).
pub const ICE_BREAKERS_MAX: usize = 4;
/// The longest ice breaker question.
pub const ICE_BREAKER_QUESTION_MAX: usize = 80;

/// The locale Facebook falls back to.
pub const DEFAULT_LOCALE: &str = "default";

/// Values per locale, always with a default.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Localized<T> {
    default: T,
    others: BTreeMap<String, T>,
}

impl<T> Localized<T> {
    fn new(default: T) -> Self {
        Self {
            default,
            others: BTreeMap::new(),
        }
    }

    fn set(&mut self, locale: &str, value: T) {
        if locale == DEFAULT_LOCALE {
            self.default = value;
        } else {
            self.others.insert(locale.to_owned(), value);
        }
    }

    /// The default first, then the others by locale.
    fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        std::iter::once((DEFAULT_LOCALE, &self.default))
            .chain(self.others.iter().map(|(k, v)| (k.as_str(), v)))
    }
}

/// The welcome screen text, per locale. It may use `{{user_first_name}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting(Localized<String>);

impl Greeting {
    /// A greeting with its default text, cut to 160 characters.
    pub fn new(default_text: &str) -> Self {
        Self(Localized::new(truncate(default_text, GREETING_MAX)))
    }

    /// Adds (or replaces) the text for a locale such as `th_TH`.
    pub fn locale(mut self, locale: &str, text: &str) -> Self {
        self.0.set(locale, truncate(text, GREETING_MAX));
        self
    }

    fn to_json(&self) -> Value {
        Value::Array(
            self.0
                .iter()
                .map(|(locale, text)| json!({"locale": locale, "text": text}))
                .collect(),
        )
    }
}

/// An item of the persistent menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuItem {
    /// Sends a postback.
    Postback {
        /// The title, at most 30 characters.
        title: String,
        /// What comes back in the postback.
        payload: Payload,
    },
    /// Opens a web page.
    WebUrl {
        /// The title, at most 30 characters.
        title: String,
        /// The page to open.
        url: Url,
    },
}

impl MenuItem {
    /// A postback item; the title is cut to 30 characters.
    pub fn postback(title: &str, payload: Payload) -> Self {
        MenuItem::Postback {
            title: truncate(title, MENU_TITLE_MAX),
            payload,
        }
    }

    /// A link item; the title is cut to 30 characters.
    pub fn web_url(title: &str, url: Url) -> Self {
        MenuItem::WebUrl {
            title: truncate(title, MENU_TITLE_MAX),
            url,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            MenuItem::Postback { title, payload } => {
                json!({"type": "postback", "title": title, "payload": payload.as_str()})
            }
            MenuItem::WebUrl { title, url } => json!({
                "type": "web_url", "title": title, "url": url.as_str(),
                "webview_height_ratio": "full",
            }),
        }
    }
}

fn menu_items(items: impl IntoIterator<Item = MenuItem>) -> Vec<MenuItem> {
    items.into_iter().take(MENU_ITEMS_MAX).collect()
}

/// The menu always available in the conversation, per locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistentMenu {
    items: Localized<Vec<MenuItem>>,
    composer_input_disabled: bool,
}

impl PersistentMenu {
    /// A menu with its default items; the first 20 are kept.
    pub fn new(items: impl IntoIterator<Item = MenuItem>) -> Self {
        Self {
            items: Localized::new(menu_items(items)),
            composer_input_disabled: false,
        }
    }

    /// Adds (or replaces) the items for a locale; the first 20 are kept.
    pub fn locale(mut self, locale: &str, items: impl IntoIterator<Item = MenuItem>) -> Self {
        self.items.set(locale, menu_items(items));
        self
    }

    /// Hides the text box so the customer can only use the menu (off by default: the bot reads
    /// free text).
    pub fn composer_input_disabled(mut self, disabled: bool) -> Self {
        self.composer_input_disabled = disabled;
        self
    }

    fn to_json(&self) -> Value {
        Value::Array(
            self.items
                .iter()
                .map(|(locale, items)| {
                    json!({
                        "locale": locale,
                        "composer_input_disabled": self.composer_input_disabled,
                        "call_to_actions": items.iter().map(MenuItem::to_json).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        )
    }
}

/// A question offered when a customer opens the conversation for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceBreaker {
    question: String,
    payload: Payload,
}

impl IceBreaker {
    /// A question (cut to 80 characters) and the payload its postback carries.
    pub fn new(question: &str, payload: Payload) -> Self {
        Self {
            question: truncate(question, ICE_BREAKER_QUESTION_MAX),
            payload,
        }
    }
}

fn ice_breaker_list(items: impl IntoIterator<Item = IceBreaker>) -> Vec<IceBreaker> {
    items.into_iter().take(ICE_BREAKERS_MAX).collect()
}

/// The ice breaker questions, per locale (Facebook's localized format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceBreakers(Localized<Vec<IceBreaker>>);

impl IceBreakers {
    /// The default questions; the first 4 are kept.
    pub fn new(items: impl IntoIterator<Item = IceBreaker>) -> Self {
        Self(Localized::new(ice_breaker_list(items)))
    }

    /// Adds (or replaces) the questions for a locale; the first 4 are kept.
    pub fn locale(mut self, locale: &str, items: impl IntoIterator<Item = IceBreaker>) -> Self {
        self.0.set(locale, ice_breaker_list(items));
        self
    }

    fn to_json(&self) -> Value {
        Value::Array(
            self.0
                .iter()
                .map(|(locale, items)| {
                    let questions: Vec<Value> = items
                        .iter()
                        .map(|i| json!({"question": i.question, "payload": i.payload.as_str()}))
                        .collect();
                    json!({"locale": locale, "call_to_actions": questions})
                })
                .collect(),
        )
    }
}

/// What to set on the page's Messenger profile; unset parts are left as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessengerProfile {
    /// The payload of the postback the Get Started button sends.
    pub get_started: Option<Payload>,
    /// The welcome screen text.
    pub greeting: Option<Greeting>,
    /// The menu beside the text box (needs `get_started`).
    pub persistent_menu: Option<PersistentMenu>,
    /// Questions offered on the welcome screen.
    pub ice_breakers: Option<IceBreakers>,
}

impl MessengerProfile {
    /// The body of `POST /{page-id}/messenger_profile`.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        if let Some(payload) = &self.get_started {
            obj.insert("get_started".into(), json!({"payload": payload.as_str()}));
        }
        if let Some(greeting) = &self.greeting {
            obj.insert("greeting".into(), greeting.to_json());
        }
        if let Some(menu) = &self.persistent_menu {
            obj.insert("persistent_menu".into(), menu.to_json());
        }
        if let Some(ice_breakers) = &self.ice_breakers {
            obj.insert("ice_breakers".into(), ice_breakers.to_json());
        }
        Value::Object(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::text::fb_len;

    fn payload(s: &str) -> Payload {
        Payload::new(s).expect("a valid payload")
    }

    #[test]
    fn a_full_profile_serializes_as_the_api_expects() {
        let profile = MessengerProfile {
            get_started: Some(payload("GET_STARTED")),
            greeting: Some(
                Greeting::new("Hi {{user_first_name}}! Order here.")
                    .locale("th_TH", "สวัสดีค่ะ สั่งอาหารได้เลย"),
            ),
            persistent_menu: Some(
                PersistentMenu::new([
                    MenuItem::postback("Menu", payload("MENU")),
                    MenuItem::web_url("Website", Url::parse("https://example.com/").expect("url")),
                ])
                .locale("th_TH", [MenuItem::postback("เมนู", payload("MENU"))]),
            ),
            ice_breakers: Some(IceBreakers::new([IceBreaker::new(
                "What's on the menu?",
                payload("MENU"),
            )])),
        };
        assert_eq!(
            profile.to_json(),
            json!({
                "get_started": {"payload": "GET_STARTED"},
                "greeting": [
                    {"locale": "default", "text": "Hi {{user_first_name}}! Order here."},
                    {"locale": "th_TH", "text": "สวัสดีค่ะ สั่งอาหารได้เลย"},
                ],
                "persistent_menu": [
                    {"locale": "default", "composer_input_disabled": false, "call_to_actions": [
                        {"type": "postback", "title": "Menu", "payload": "MENU"},
                        {"type": "web_url", "title": "Website", "url": "https://example.com/",
                         "webview_height_ratio": "full"},
                    ]},
                    {"locale": "th_TH", "composer_input_disabled": false, "call_to_actions": [
                        {"type": "postback", "title": "เมนู", "payload": "MENU"},
                    ]},
                ],
                "ice_breakers": [
                    {"locale": "default", "call_to_actions": [
                        {"question": "What's on the menu?", "payload": "MENU"},
                    ]},
                ],
            })
        );
    }

    #[test]
    fn an_empty_profile_sets_nothing() {
        assert_eq!(MessengerProfile::default().to_json(), json!({}));
    }

    #[test]
    fn setting_the_default_locale_replaces_the_default() {
        let greeting = Greeting::new("Hello").locale("default", "Hi");
        assert_eq!(
            greeting.to_json(),
            json!([{"locale": "default", "text": "Hi"}])
        );
    }

    #[test]
    fn limits_are_kept() {
        let greeting = Greeting::new(&"g".repeat(200));
        let text = greeting.to_json()[0]["text"]
            .as_str()
            .expect("text")
            .to_owned();
        assert_eq!(fb_len(&text), GREETING_MAX);

        let menu =
            PersistentMenu::new((0..25).map(|i| {
                MenuItem::postback(&format!("Item {i} {}", "m".repeat(40)), payload("X"))
            }))
            .composer_input_disabled(true);
        let json = menu.to_json();
        let items = json[0]["call_to_actions"].as_array().expect("items");
        assert_eq!(items.len(), MENU_ITEMS_MAX);
        assert_eq!(
            fb_len(items[0]["title"].as_str().expect("title")),
            MENU_TITLE_MAX
        );
        assert_eq!(json[0]["composer_input_disabled"], true);

        let breakers =
            IceBreakers::new((0..6).map(|i| IceBreaker::new(&"q".repeat(100 + i), payload("Q"))));
        let json = breakers.to_json();
        let questions = json[0]["call_to_actions"].as_array().expect("questions");
        assert_eq!(questions.len(), ICE_BREAKERS_MAX);
        assert_eq!(
            fb_len(questions[0]["question"].as_str().expect("question")),
            ICE_BREAKER_QUESTION_MAX
        );
    }
}
