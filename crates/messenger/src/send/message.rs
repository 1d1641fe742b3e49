//! Outgoing messages whose types keep Facebook's limits: text a person reads is cut with an
//! ellipsis, lists are capped, payloads are checked when made ([`Payload`]).

use serde_json::{Map, Value, json};
use url::Url;

use super::receipt::ReceiptTemplate;
use super::text::{Payload, truncate};

/// The longest text message.
pub const TEXT_MAX: usize = 2000;
/// The most quick replies one message may offer.
pub const QUICK_REPLIES_MAX: usize = 13;
/// The longest quick reply title.
pub const QUICK_REPLY_TITLE_MAX: usize = 20;
/// The most elements (cards) in one generic template carousel.
pub const GENERIC_ELEMENTS_MAX: usize = 10;
/// The longest generic element title.
pub const ELEMENT_TITLE_MAX: usize = 80;
/// The longest generic element subtitle.
pub const ELEMENT_SUBTITLE_MAX: usize = 80;
/// The most buttons on a generic element or a button template.
pub const BUTTONS_MAX: usize = 3;
/// The longest button title.
pub const BUTTON_TITLE_MAX: usize = 20;
/// The longest text of a button template.
pub const BUTTON_TEXT_MAX: usize = 640;

/// Why a message is sent, which decides when Facebook allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessagingType {
    /// A reply to a message the customer sent, inside the 24-hour window.
    Response,
    /// A message the page starts inside the 24-hour window (say, an order status change).
    Update,
    /// A message outside the window, allowed for the tag's purpose only.
    Tag(MessageTag),
}

/// The message tags that allow a message outside the 24-hour window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageTag {
    /// Updates about a purchase the customer made: confirmations, shipping, status changes.
    PostPurchaseUpdate,
    /// Reminders or updates for an event the customer registered for.
    ConfirmedEventUpdate,
    /// Changes to the customer's account or application.
    AccountUpdate,
    /// A person answering within 7 days (needs the Human Agent permission).
    HumanAgent,
}

impl MessageTag {
    /// The tag as the Send API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageTag::PostPurchaseUpdate => "POST_PURCHASE_UPDATE",
            MessageTag::ConfirmedEventUpdate => "CONFIRMED_EVENT_UPDATE",
            MessageTag::AccountUpdate => "ACCOUNT_UPDATE",
            MessageTag::HumanAgent => "HUMAN_AGENT",
        }
    }
}

impl MessagingType {
    /// The `messaging_type` value: `RESPONSE`, `UPDATE` or `MESSAGE_TAG`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessagingType::Response => "RESPONSE",
            MessagingType::Update => "UPDATE",
            MessagingType::Tag(_) => "MESSAGE_TAG",
        }
    }

    /// The `tag` value, for tagged messages.
    pub fn tag(self) -> Option<MessageTag> {
        match self {
            MessagingType::Tag(tag) => Some(tag),
            _ => None,
        }
    }
}

/// A quick reply chip: a title the customer taps and the payload that comes back in the
/// message's `quick_reply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickReply {
    title: String,
    payload: Payload,
    image_url: Option<Url>,
}

impl QuickReply {
    /// A text quick reply; the title is cut to 20 characters.
    pub fn new(title: &str, payload: Payload) -> Self {
        Self {
            title: truncate(title, QUICK_REPLY_TITLE_MAX),
            payload,
            image_url: None,
        }
    }

    /// Adds a small image next to the title.
    pub fn with_image(mut self, image_url: Url) -> Self {
        self.image_url = Some(image_url);
        self
    }

    /// The title as it will be shown.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The payload.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    fn to_json(&self) -> Value {
        let mut obj = json!({
            "content_type": "text",
            "title": self.title,
            "payload": self.payload.as_str(),
        });
        if let (Some(url), Value::Object(map)) = (&self.image_url, &mut obj) {
            map.insert("image_url".into(), json!(url.as_str()));
        }
        obj
    }
}

/// A button on a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Button {
    /// Sends a postback with the payload when tapped.
    Postback {
        /// The title, at most 20 characters.
        title: String,
        /// What comes back in the postback.
        payload: Payload,
    },
    /// Opens a web page.
    WebUrl {
        /// The title, at most 20 characters.
        title: String,
        /// The page to open.
        url: Url,
    },
}

impl Button {
    /// A postback button; the title is cut to 20 characters.
    pub fn postback(title: &str, payload: Payload) -> Self {
        Button::Postback {
            title: truncate(title, BUTTON_TITLE_MAX),
            payload,
        }
    }

    /// A link button; the title is cut to 20 characters.
    pub fn web_url(title: &str, url: Url) -> Self {
        Button::WebUrl {
            title: truncate(title, BUTTON_TITLE_MAX),
            url,
        }
    }

    /// The title as it will be shown.
    pub fn title(&self) -> &str {
        match self {
            Button::Postback { title, .. } | Button::WebUrl { title, .. } => title,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Button::Postback { title, payload } => {
                json!({"type": "postback", "title": title, "payload": payload.as_str()})
            }
            Button::WebUrl { title, url } => {
                json!({"type": "web_url", "title": title, "url": url.as_str()})
            }
        }
    }
}

/// One card of a generic template carousel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericElement {
    title: String,
    subtitle: Option<String>,
    image_url: Option<Url>,
    buttons: Vec<Button>,
}

impl GenericElement {
    /// A card with a title, cut to 80 characters.
    pub fn new(title: &str) -> Self {
        Self {
            title: truncate(title, ELEMENT_TITLE_MAX),
            subtitle: None,
            image_url: None,
            buttons: Vec::new(),
        }
    }

    /// Adds a subtitle, cut to 80 characters.
    pub fn subtitle(mut self, subtitle: &str) -> Self {
        self.subtitle = Some(truncate(subtitle, ELEMENT_SUBTITLE_MAX));
        self
    }

    /// Adds the card's image.
    pub fn image_url(mut self, url: Url) -> Self {
        self.image_url = Some(url);
        self
    }

    /// Adds a button; a card keeps its first 3 buttons and ignores more.
    pub fn button(mut self, button: Button) -> Self {
        if self.buttons.len() < BUTTONS_MAX {
            self.buttons.push(button);
        }
        self
    }

    /// The buttons the card will show.
    pub fn buttons(&self) -> &[Button] {
        &self.buttons
    }

    /// The title as it will be shown.
    pub fn title(&self) -> &str {
        &self.title
    }

    fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("title".into(), json!(self.title));
        if let Some(subtitle) = &self.subtitle {
            obj.insert("subtitle".into(), json!(subtitle));
        }
        if let Some(url) = &self.image_url {
            obj.insert("image_url".into(), json!(url.as_str()));
        }
        if !self.buttons.is_empty() {
            let buttons: Vec<Value> = self.buttons.iter().map(Button::to_json).collect();
            obj.insert("buttons".into(), Value::Array(buttons));
        }
        Value::Object(obj)
    }
}

/// A template that needs at least one item got none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {0} needs at least one item")]
pub struct EmptyTemplate(pub &'static str);

#[derive(Debug, Clone, PartialEq)]
enum Content {
    Text(String),
    Image(Url),
    Generic(Vec<GenericElement>),
    Buttons { text: String, buttons: Vec<Button> },
    Receipt(Box<ReceiptTemplate>),
}

/// A message to send: text, an image, or a template, with optional quick replies.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMessage {
    content: Content,
    quick_replies: Vec<QuickReply>,
}

impl OutgoingMessage {
    /// A text message, cut to 2000 characters with an ellipsis.
    pub fn text(text: &str) -> Self {
        Self::with(Content::Text(truncate(text, TEXT_MAX)))
    }

    /// An image from a public URL.
    pub fn image(url: Url) -> Self {
        Self::with(Content::Image(url))
    }

    /// A carousel of cards: the first 10 are kept (send the rest behind a "More" postback).
    pub fn generic(
        elements: impl IntoIterator<Item = GenericElement>,
    ) -> Result<Self, EmptyTemplate> {
        let elements: Vec<GenericElement> =
            elements.into_iter().take(GENERIC_ELEMENTS_MAX).collect();
        if elements.is_empty() {
            return Err(EmptyTemplate("generic template"));
        }
        Ok(Self::with(Content::Generic(elements)))
    }

    /// Text (cut to 640 characters) with 1 to 3 buttons under it; buttons past 3 are ignored.
    pub fn buttons(
        text: &str,
        buttons: impl IntoIterator<Item = Button>,
    ) -> Result<Self, EmptyTemplate> {
        let buttons: Vec<Button> = buttons.into_iter().take(BUTTONS_MAX).collect();
        if buttons.is_empty() {
            return Err(EmptyTemplate("button template"));
        }
        Ok(Self::with(Content::Buttons {
            text: truncate(text, BUTTON_TEXT_MAX),
            buttons,
        }))
    }

    /// An order receipt.
    pub fn receipt(receipt: ReceiptTemplate) -> Self {
        Self::with(Content::Receipt(Box::new(receipt)))
    }

    fn with(content: Content) -> Self {
        Self {
            content,
            quick_replies: Vec::new(),
        }
    }

    /// Offers quick replies under the message; the first 13 are kept.
    pub fn with_quick_replies(mut self, replies: impl IntoIterator<Item = QuickReply>) -> Self {
        self.quick_replies = replies.into_iter().take(QUICK_REPLIES_MAX).collect();
        self
    }

    /// The quick replies the message offers.
    pub fn quick_replies(&self) -> &[QuickReply] {
        &self.quick_replies
    }

    /// The text of a text message, as it will be sent.
    pub fn as_text(&self) -> Option<&str> {
        match &self.content {
            Content::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The Send API's `message` object.
    pub fn to_json(&self) -> Value {
        let mut message = match &self.content {
            Content::Text(text) => json!({"text": text}),
            Content::Image(url) => json!({"attachment": {
                "type": "image",
                "payload": {"url": url.as_str(), "is_reusable": true},
            }}),
            Content::Generic(elements) => template(json!({
                "template_type": "generic",
                "elements": elements.iter().map(GenericElement::to_json).collect::<Vec<_>>(),
            })),
            Content::Buttons { text, buttons } => template(json!({
                "template_type": "button",
                "text": text,
                "buttons": buttons.iter().map(Button::to_json).collect::<Vec<_>>(),
            })),
            Content::Receipt(receipt) => template(receipt.to_json()),
        };
        if let (false, Value::Object(map)) = (self.quick_replies.is_empty(), &mut message) {
            let replies: Vec<Value> = self.quick_replies.iter().map(QuickReply::to_json).collect();
            map.insert("quick_replies".into(), Value::Array(replies));
        }
        message
    }

    /// The whole Send API request body for sending this message to `psid`:
    /// `{"recipient":{"id":..},"messaging_type":..,["tag":..,]"message":{..}}`.
    pub fn request_body(&self, psid: &str, messaging_type: MessagingType) -> Value {
        let mut body = json!({
            "recipient": {"id": psid},
            "messaging_type": messaging_type.as_str(),
            "message": self.to_json(),
        });
        if let (Some(tag), Value::Object(map)) = (messaging_type.tag(), &mut body) {
            map.insert("tag".into(), json!(tag.as_str()));
        }
        body
    }
}

fn template(payload: Value) -> Value {
    json!({"attachment": {"type": "template", "payload": payload}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::text::{ELLIPSIS, fb_len};

    fn payload(s: &str) -> Payload {
        Payload::new(s).expect("a valid payload")
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("a valid url")
    }

    #[test]
    fn a_text_reply_serializes_as_the_send_api_expects() {
        let body = OutgoingMessage::text("Hello!").request_body("123", MessagingType::Response);
        assert_eq!(
            body,
            json!({
                "recipient": {"id": "123"},
                "messaging_type": "RESPONSE",
                "message": {"text": "Hello!"},
            })
        );
    }

    #[test]
    fn a_tagged_message_carries_message_tag_and_the_tag() {
        let body = OutgoingMessage::text("Your order is on its way")
            .request_body("123", MessagingType::Tag(MessageTag::PostPurchaseUpdate));
        assert_eq!(body["messaging_type"], "MESSAGE_TAG");
        assert_eq!(body["tag"], "POST_PURCHASE_UPDATE");
        let update = OutgoingMessage::text("x").request_body("1", MessagingType::Update);
        assert_eq!(update["messaging_type"], "UPDATE");
        assert!(update.get("tag").is_none());
    }

    #[test]
    fn long_text_is_cut_to_2000_with_an_ellipsis() {
        let message = OutgoingMessage::text(&"a".repeat(2500));
        let text = message.as_text().expect("text");
        assert_eq!(fb_len(text), TEXT_MAX);
        assert!(text.ends_with(ELLIPSIS));
        let exact = "b".repeat(2000);
        assert_eq!(
            OutgoingMessage::text(&exact).as_text(),
            Some(exact.as_str())
        );
    }

    #[test]
    fn quick_replies_are_capped_at_13_with_titles_cut_to_20() {
        let replies = (0..20).map(|i| {
            QuickReply::new(
                &format!("Option number {i} with a long title"),
                payload(&format!("P{i}")),
            )
        });
        let message = OutgoingMessage::text("Pick one").with_quick_replies(replies);
        let json = message.to_json();
        let chips = json["quick_replies"].as_array().expect("quick replies");
        assert_eq!(chips.len(), QUICK_REPLIES_MAX);
        assert_eq!(
            chips[0],
            json!({"content_type": "text", "title": "Option number 0 wit…", "payload": "P0"})
        );
        for chip in chips {
            assert!(fb_len(chip["title"].as_str().expect("title")) <= QUICK_REPLY_TITLE_MAX);
        }
    }

    #[test]
    fn a_quick_reply_may_carry_an_image() {
        let chip = QuickReply::new("Coke", payload("ADD:coke"))
            .with_image(url("https://example.com/coke.png"));
        assert_eq!(
            chip.to_json(),
            json!({"content_type": "text", "title": "Coke", "payload": "ADD:coke",
                   "image_url": "https://example.com/coke.png"})
        );
    }

    #[test]
    fn a_generic_template_keeps_10_cards_of_3_buttons() {
        let cards = (0..12).map(|i| {
            let mut card = GenericElement::new(&format!("Dish {i} {}", "x".repeat(100)))
                .subtitle(&"y".repeat(100))
                .image_url(url("https://example.com/dish.jpg"));
            for b in 0..5 {
                card = card.button(Button::postback(&format!("Add {b}"), payload("ADD:1")));
            }
            card
        });
        let message = OutgoingMessage::generic(cards).expect("some cards");
        let json = message.to_json();
        let payload = &json["attachment"]["payload"];
        assert_eq!(json["attachment"]["type"], "template");
        assert_eq!(payload["template_type"], "generic");
        let elements = payload["elements"].as_array().expect("elements");
        assert_eq!(elements.len(), GENERIC_ELEMENTS_MAX);
        for element in elements {
            assert_eq!(
                element["buttons"].as_array().expect("buttons").len(),
                BUTTONS_MAX
            );
            assert_eq!(
                fb_len(element["title"].as_str().expect("title")),
                ELEMENT_TITLE_MAX
            );
            assert_eq!(
                fb_len(element["subtitle"].as_str().expect("subtitle")),
                ELEMENT_SUBTITLE_MAX
            );
            assert_eq!(element["image_url"], "https://example.com/dish.jpg");
        }
        assert_eq!(
            elements[0]["buttons"][0],
            json!({"type": "postback", "title": "Add 0", "payload": "ADD:1"})
        );
    }

    #[test]
    fn a_minimal_card_has_only_a_title() {
        let message = OutgoingMessage::generic([GenericElement::new("Pad thai")]).expect("a card");
        assert_eq!(
            message.to_json()["attachment"]["payload"]["elements"],
            json!([{"title": "Pad thai"}])
        );
    }

    #[test]
    fn templates_without_items_are_refused() {
        assert_eq!(
            OutgoingMessage::generic([]),
            Err(EmptyTemplate("generic template"))
        );
        assert_eq!(
            OutgoingMessage::buttons("text", []),
            Err(EmptyTemplate("button template"))
        );
    }

    #[test]
    fn a_button_template_has_640_characters_and_3_buttons() {
        let buttons = [
            Button::postback("Menu", payload("MENU")),
            Button::web_url("Our website is great", url("https://example.com/")),
            Button::postback("Cart", payload("CART")),
            Button::postback("Fourth", payload("X")),
        ];
        let message = OutgoingMessage::buttons(&"z".repeat(700), buttons).expect("buttons");
        let json = message.to_json();
        let payload = &json["attachment"]["payload"];
        assert_eq!(payload["template_type"], "button");
        assert_eq!(
            fb_len(payload["text"].as_str().expect("text")),
            BUTTON_TEXT_MAX
        );
        assert_eq!(
            payload["buttons"],
            json!([
                {"type": "postback", "title": "Menu", "payload": "MENU"},
                {"type": "web_url", "title": "Our website is great", "url": "https://example.com/"},
                {"type": "postback", "title": "Cart", "payload": "CART"},
            ])
        );
    }

    #[test]
    fn button_titles_are_cut_to_20() {
        let button = Button::web_url("A very long link title indeed", url("https://example.com/"));
        assert_eq!(button.title(), "A very long link ti…");
    }

    #[test]
    fn an_image_is_a_reusable_image_attachment() {
        let message = OutgoingMessage::image(url("https://example.com/menu.jpg"))
            .with_quick_replies([QuickReply::new("Menu", payload("MENU"))]);
        assert_eq!(
            message.to_json(),
            json!({
                "attachment": {"type": "image",
                    "payload": {"url": "https://example.com/menu.jpg", "is_reusable": true}},
                "quick_replies": [{"content_type": "text", "title": "Menu", "payload": "MENU"}],
            })
        );
    }
}
