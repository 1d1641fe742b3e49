//! Pages and conversations: their types and rules, no I/O.

use std::collections::BTreeMap;

use fanorder_menus::model::LocationId;
use fanorder_platform::address::Address;
use fanorder_platform::ulid_id;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

ulid_id!(
    /// A message in a conversation (inbound or outbound), for the staff view.
    MessageId,
    "message id"
);

/// A Facebook page id: the digits Facebook gives (letters, `_` and `-` are tolerated for test
/// pages), 1 to 64 characters.
pub fn parse_page_id(text: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(text.to_owned())
    } else {
        Err("must be a Facebook page id (digits)".to_owned())
    }
}

/// How a page takes payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PayWith {
    /// A payment link (the configured provider).
    Online,
    /// Cash on delivery or at pickup: the order goes straight to the kitchen.
    Cash,
}

/// What the bot of a page does and says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BotSettings {
    /// Whether the bot answers at all (off: every message waits for a person).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The language the bot starts in (`en`, `es`, `th`); a customer writing in another
    /// supported language is answered in it.
    #[serde(default = "english")]
    pub language: String,
    /// Payment methods offered, in order.
    #[serde(default = "both")]
    pub payment_methods: Vec<PayWith>,
    /// Whether delivery, pickup or both are offered.
    #[serde(default = "yes")]
    pub delivery: bool,
    /// Whether pickup is offered.
    #[serde(default = "yes")]
    pub pickup: bool,
    /// The branch orders from this page go to (default: the restaurant's only one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub default_location_id: Option<LocationId>,
    /// Overrides of the bot's texts: language -> text key -> text (see GET of a page for the
    /// keys and their defaults).
    #[serde(default)]
    pub texts: BTreeMap<String, BTreeMap<String, String>>,
}

fn yes() -> bool {
    true
}

fn english() -> String {
    "en".to_owned()
}

fn both() -> Vec<PayWith> {
    vec![PayWith::Online, PayWith::Cash]
}

impl Default for BotSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            language: english(),
            payment_methods: both(),
            delivery: true,
            pickup: true,
            default_location_id: None,
            texts: BTreeMap::new(),
        }
    }
}

/// A page's connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageStatus {
    /// Connected: the bot answers and messages are sent (or recorded, without a token).
    Connected,
    /// Facebook refused the page token (code 190): an admin must connect it again with a new one.
    NeedsToken,
}

/// A connected page, as stored. The access token is encrypted and never leaves the crate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// The Facebook page id.
    pub page_id: String,
    /// Its name, for people.
    pub name: String,
    /// Connected, or waiting for a new token.
    pub status: PageStatus,
    /// The encrypted page access token (none: offline, messages are recorded, not sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The bot's settings.
    #[serde(default)]
    pub settings: BotSettings,
    /// Optimistic concurrency.
    pub version: i64,
    /// When connected.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A page as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PageView {
    /// The Facebook page id.
    pub page_id: String,
    /// Name.
    pub name: String,
    /// Connected or needing a token.
    pub status: PageStatus,
    /// Whether an access token is stored (it is never shown).
    pub has_access_token: bool,
    /// Bot settings.
    pub settings: BotSettings,
    /// Pass back in PATCH to guard against concurrent edits.
    pub version: i64,
    /// When connected.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<&Page> for PageView {
    fn from(p: &Page) -> Self {
        Self {
            page_id: p.page_id.clone(),
            name: p.name.clone(),
            status: p.status,
            has_access_token: p.token.is_some(),
            settings: p.settings.clone(),
            version: p.version,
            created_at: p.created_at,
        }
    }
}

/// Who answers a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Handler {
    /// The bot.
    #[default]
    Bot,
    /// A person in the page inbox; the bot stays quiet.
    Human,
}

/// One line in a conversation's cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CartLine {
    /// The menu item (or combo).
    pub id: String,
    /// True for a combo.
    #[serde(default)]
    pub combo: bool,
    /// The name when added, for the bot's messages.
    pub name: String,
    /// How many.
    pub quantity: u32,
    /// Chosen modifier option ids.
    #[serde(default)]
    pub options: Vec<String>,
    /// Their names, for the bot's messages.
    #[serde(default)]
    pub option_names: Vec<String>,
    /// Combo choices (item ids).
    #[serde(default)]
    pub choices: Vec<String>,
    /// What the customer asked for that no option says ("sin hielo"), for the kitchen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where the bot is in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Waiting for anything.
    #[default]
    Idle,
    /// Asking the modifier groups of a line in turn.
    Modifiers {
        /// The line being built.
        line: CartLine,
        /// The question being asked (an index into the line's questions).
        group: usize,
        /// Every group is offered (the customer pressed Add), not only the required ones (the
        /// customer typed the item and said what they wanted).
        #[serde(default)]
        all_groups: bool,
        /// Lines still to ask about after this one (from one free-text message).
        #[serde(default)]
        queue: Vec<CartLine>,
        /// A doubtful word of the same message, asked once the lines are done.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        then: Option<Which>,
    },
    /// Asking which of several items the customer meant.
    Which(Which),
    /// Asking delivery or pickup.
    Fulfillment,
    /// Asking the delivery address.
    Address,
    /// Asking a phone number.
    Phone,
    /// Asking how to pay.
    Payment,
    /// Showing the summary, waiting for a confirmation.
    Confirm,
}

/// A question about which of several menu entries the customer meant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Which {
    /// The words the customer used.
    #[serde(default)]
    pub text: String,
    /// The candidates (item or combo ids, whether a combo, their names).
    pub candidates: Vec<(String, bool, String)>,
    /// How many.
    pub quantity: u32,
}

/// A conversation of a page with one customer (PSID).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// The page.
    pub page_id: String,
    /// The customer's page-scoped id.
    pub psid: String,
    /// The customer's name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The language the bot speaks here.
    pub language: String,
    /// Bot or person.
    #[serde(default)]
    pub handler: Handler,
    /// Where the bot is.
    #[serde(default)]
    pub step: Step,
    /// What the customer is about to order.
    #[serde(default)]
    pub cart: Vec<CartLine>,
    /// Delivery or pickup, once chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment: Option<String>,
    /// The delivery address, once given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// The phone, once given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The payment method, once chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_with: Option<PayWith>,
    /// The orders placed here, newest last (at most 10).
    #[serde(default)]
    pub orders: Vec<String>,
    /// When the customer last wrote (the 24-hour window runs from here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_inbound_at: Option<Timestamp>,
    /// Messages sent before this instant were delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_until: Option<Timestamp>,
    /// Messages sent before this instant were read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_until: Option<Timestamp>,
    /// Optimistic concurrency.
    pub version: i64,
    /// Last activity.
    pub updated_at: Timestamp,
}

impl Conversation {
    /// A new conversation.
    pub fn new(page_id: &str, psid: &str, language: &str, now: Timestamp) -> Self {
        Self {
            page_id: page_id.to_owned(),
            psid: psid.to_owned(),
            name: None,
            language: language.to_owned(),
            handler: Handler::Bot,
            step: Step::Idle,
            cart: Vec::new(),
            fulfillment: None,
            address: None,
            phone: None,
            pay_with: None,
            orders: Vec::new(),
            last_inbound_at: None,
            delivered_until: None,
            read_until: None,
            version: 0,
            updated_at: now,
        }
    }

    /// True inside the 24-hour standard messaging window.
    pub fn in_window(&self, now: Timestamp) -> bool {
        self.last_inbound_at
            .is_some_and(|at| now.duration_since(at) < jiff::SignedDuration::from_hours(24))
    }
}

/// A conversation as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationView {
    /// The customer's page-scoped id.
    pub psid: String,
    /// The customer's name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Bot or person.
    pub handler: Handler,
    /// Language.
    pub language: String,
    /// Items in the cart.
    pub cart: Vec<CartLine>,
    /// Orders placed here, newest last.
    pub orders: Vec<String>,
    /// When the customer last wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_inbound_at: Option<Timestamp>,
    /// Last activity.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&Conversation> for ConversationView {
    fn from(c: &Conversation) -> Self {
        Self {
            psid: c.psid.clone(),
            name: c.name.clone(),
            handler: c.handler,
            language: c.language.clone(),
            cart: c.cart.clone(),
            orders: c.orders.clone(),
            last_inbound_at: c.last_inbound_at,
            updated_at: c.updated_at,
        }
    }
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the customer.
    In,
    /// From the bot (or a person, for echoes of the page's own messages).
    Out,
}

/// What happened to an outbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// Received from the customer.
    Received,
    /// Being sent.
    Sending,
    /// Accepted by Facebook.
    Sent,
    /// Not sent: the page has no access token (offline mode).
    Recorded,
    /// Facebook refused it.
    Failed,
    /// Delivered to the customer's device.
    Delivered,
    /// Read by the customer.
    Read,
}

/// A message in a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// Its id.
    #[schema(value_type = String)]
    pub id: MessageId,
    /// In or out.
    pub direction: Direction,
    /// The text, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A postback or quick-reply payload, or the structured message sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<serde_json::Value>,
    /// Facebook's message id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Where it stands.
    pub delivery: Delivery,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}
