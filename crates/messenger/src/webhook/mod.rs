//! Messenger webhook bodies: what Facebook POSTs to `/webhooks/messenger`.
//!
//! Check the signature over the raw bytes first ([`signature_valid`]), then [`parse`]. The
//! parser is tolerant by design: Facebook adds fields and event kinds over time, test tools and
//! old API versions send ids as JSON numbers, timestamps in seconds or as floats, and a webhook
//! that answers 4xx to any of that gets retried and eventually disabled. Only a body that is not
//! a webhook at all is an error.

mod parse;
mod signature;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use parse::{ParseError, parse};
pub use signature::{SIGNATURE_HEADER, sign, signature_valid};

/// One webhook body: an `object` (`page` for Messenger, `instagram` for Instagram messaging) and
/// its entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    /// `page` or `instagram` (empty when the body had none).
    pub object: String,
    /// One entry per page (a batch may carry several entries, even for the same page).
    pub entries: Vec<Entry>,
}

/// The events of one page in a webhook body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The page (or Instagram account) id the events belong to: route the entry by it.
    pub page_id: String,
    /// When Facebook built the entry, in milliseconds since the epoch.
    pub time_ms: Option<i64>,
    /// The `messaging` events, then the `standby` ones (flagged).
    pub events: Vec<Event>,
}

/// One messaging event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The sender's page-scoped id (PSID) when the sender has one. Absent on app roles and
    /// policy enforcement events, and on events from a `user_ref` (see `sender_user_ref`).
    pub sender: Option<String>,
    /// The sender's `user_ref` (checkbox or chat plugin guest) when it has no PSID yet. It is
    /// not a PSID: the Send API takes it as `recipient.user_ref`, never as `recipient.id`.
    pub sender_user_ref: Option<String>,
    /// The recipient id: the page for inbound events, the customer for echoes.
    pub recipient: Option<String>,
    /// When the event happened, in milliseconds since the epoch (scaled up when Facebook or a
    /// test tool sent seconds).
    pub timestamp_ms: Option<i64>,
    /// True when it came in the `standby` array: another app (usually the page inbox) owns the
    /// conversation, and this app may watch but not answer.
    pub standby: bool,
    /// What happened.
    pub kind: EventKind,
}

/// What a messaging event says happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A message: text, a quick reply, attachments; or an echo of one the page sent.
    Message {
        /// The message id.
        mid: String,
        /// The text, if any.
        text: Option<String>,
        /// The payload of the quick reply the customer tapped.
        quick_reply_payload: Option<String>,
        /// Attachments (images, a shared location, stickers...).
        attachments: Vec<Attachment>,
        /// True for echoes: a copy of a message the page sent (by this app, another app, or a
        /// person in the page inbox, told apart by `app_id`).
        is_echo: bool,
        /// The app that sent an echoed message ([`crate::PAGE_INBOX_APP_ID`] for a person in the
        /// inbox).
        app_id: Option<String>,
        /// The `metadata` string the sending app attached to an echoed message.
        metadata: Option<String>,
        /// The message this one replies to (Messenger's "reply" feature).
        reply_to_mid: Option<String>,
    },
    /// The customer deleted ("unsent") a message they had sent.
    Unsend {
        /// The id of the deleted message.
        mid: String,
    },
    /// The customer edited a message.
    MessageEdit {
        /// The id of the edited message.
        mid: String,
        /// The new text.
        text: Option<String>,
        /// How many times the message has been edited, counting this one.
        num_edit: Option<i64>,
    },
    /// A tap on a postback button, the Get Started button, a persistent menu item or an ice
    /// breaker.
    Postback {
        /// The message id Facebook gives newer postbacks.
        mid: Option<String>,
        /// The button's title as the customer saw it.
        title: Option<String>,
        /// The button's payload. Empty when Facebook omits it: postbacks delivered in `standby`
        /// carry only the title, because the payload belongs to the app that owns the thread.
        payload: String,
        /// How the customer got here, for a Get Started tap that came through a link or an ad.
        referral: Option<Referral>,
    },
    /// The customer came (back) to the conversation through an m.me link, an ad, the chat
    /// plugin...
    Referral(Referral),
    /// Messages the page sent were delivered.
    Delivery {
        /// The delivered message ids (often absent: then use the watermark).
        mids: Vec<String>,
        /// Everything the page sent before this time (ms) was delivered.
        watermark: i64,
    },
    /// The customer read the conversation.
    Read {
        /// Everything the page sent before this time (ms) was read (Messenger).
        watermark: Option<i64>,
        /// The message that was read (Instagram sends this instead of a watermark).
        mid: Option<String>,
    },
    /// The customer reacted to a message, or took a reaction back.
    Reaction {
        /// The message reacted to (not an id of the reaction itself).
        mid: String,
        /// `react` or `unreact`.
        action: String,
        /// The emoji, e.g. "😢".
        emoji: Option<String>,
        /// Facebook's name for it, e.g. `sad`, `love`, `smile`.
        reaction: Option<String>,
    },
    /// Thread control was passed to this app (the bot's turn again after a human handled it).
    PassThreadControl {
        /// The app that now owns the thread.
        new_owner_app_id: Option<String>,
        /// The app that passed it (absent when the thread was idle).
        previous_owner_app_id: Option<String>,
        /// The string the passing app attached.
        metadata: Option<String>,
    },
    /// Thread control was taken from this app (a person in the inbox or the primary receiver
    /// took the conversation).
    TakeThreadControl {
        /// The app that had the thread.
        previous_owner_app_id: Option<String>,
        /// The app that took it, when Facebook says.
        new_owner_app_id: Option<String>,
        /// The string the taking app attached.
        metadata: Option<String>,
    },
    /// Another app asks this app (the primary receiver) for thread control.
    RequestThreadControl {
        /// The app asking.
        requested_owner_app_id: Option<String>,
        /// The string the asking app attached.
        metadata: Option<String>,
    },
    /// The customer opted in (checkbox plugin, Send to Messenger, notification requests).
    Optin {
        /// The `ref` (data-ref) the plugin was rendered with.
        ref_param: Option<String>,
        /// The checkbox plugin's `user_ref`, to message the customer before they have a PSID.
        user_ref: Option<String>,
    },
    /// Facebook took (or will take) a policy action against the app on this page.
    PolicyEnforcement {
        /// `block`, `unblock` or `warning`.
        action: Option<String>,
        /// Why, in Facebook's words.
        reason: Option<String>,
    },
    /// The app's roles on the page changed (primary or secondary receiver).
    AppRoles {
        /// App id to its roles, e.g. `{"123": ["primary_receiver"]}`.
        roles: BTreeMap<String, Vec<String>>,
    },
    /// Any event this crate does not model (`game_play`, `account_linking`, `pre_checkout`,
    /// future kinds) or a known event whose content was unusable (say, a `message` that is not
    /// an object or has no `mid`). Tolerated, never an error.
    Unknown {
        /// The event's key, e.g. `game_play`; empty when the event had no content key at all.
        key: String,
    },
}

/// How a customer arrived in the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// The `ref` parameter of the link or ad (may be absent, e.g. for the chat plugin).
    pub ref_param: Option<String>,
    /// `SHORTLINK`, `ADS`, `CUSTOMER_CHAT_PLUGIN`, `MESSENGER_CODE`...
    pub source: Option<String>,
    /// Facebook's `type`, usually `OPEN_THREAD`.
    pub kind: Option<String>,
}

/// An attachment of an inbound message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// What it is.
    pub kind: AttachmentKind,
    /// Where to fetch it (media), or the link a fallback attachment points to.
    pub url: Option<String>,
    /// The title Facebook gives shared links and places.
    pub title: Option<String>,
}

/// The type of an inbound attachment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum AttachmentKind {
    /// A photo or GIF.
    Image,
    /// A voice clip or audio file.
    Audio,
    /// A video.
    Video,
    /// Any other file.
    File,
    /// A shared location.
    Location {
        /// Latitude in degrees.
        lat: f64,
        /// Longitude in degrees.
        long: f64,
    },
    /// A sticker (Facebook sends it as an image with a `sticker_id`; 369239263222822 is the
    /// thumbs-up "like").
    Sticker {
        /// The sticker's id.
        sticker_id: String,
    },
    /// A shared link or legacy content Facebook could not type.
    Fallback,
    /// Any other type (`template`, `unsupported_type`, `reel`, future types), or a `location`
    /// without usable coordinates.
    Other(String),
}

impl EventKind {
    /// A short stable name of the kind, used in derived dedupe keys and logs.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Message { is_echo: true, .. } => "echo",
            EventKind::Message { .. } => "message",
            EventKind::Unsend { .. } => "unsend",
            EventKind::MessageEdit { .. } => "message_edit",
            EventKind::Postback { .. } => "postback",
            EventKind::Referral(_) => "referral",
            EventKind::Delivery { .. } => "delivery",
            EventKind::Read { .. } => "read",
            EventKind::Reaction { .. } => "reaction",
            EventKind::PassThreadControl { .. } => "pass_thread_control",
            EventKind::TakeThreadControl { .. } => "take_thread_control",
            EventKind::RequestThreadControl { .. } => "request_thread_control",
            EventKind::Optin { .. } => "optin",
            EventKind::PolicyEnforcement { .. } => "policy_enforcement",
            EventKind::AppRoles { .. } => "app_roles",
            EventKind::Unknown { .. } => "unknown",
        }
    }
}

impl Event {
    /// The key to deduplicate this event with (a conditional put on it).
    ///
    /// Facebook delivers webhooks at least once: a POST that is not answered 200 fast enough is
    /// sent again, minutes later, with the same events, and a body can even repeat an event. The
    /// key is the same for the same event delivered twice and differs between distinct events:
    /// - a message (or echo) is its `mid`, which is also the id echoes, deliveries and replies
    ///   refer to;
    /// - edits, unsends and reactions point at the `mid` of the message they change, so their
    ///   key is that `mid` prefixed with the kind plus what tells two of them apart
    ///   (`edit:<mid>:<num_edit>`, `unsend:<mid>`, `reaction:<mid>:<sender>:<action>:...`),
    ///   never the bare `mid`, which would swallow them as duplicates of the message itself;
    /// - a postback with a `mid` is `postback:<mid>`;
    /// - everything else is `<kind>:<sender>:<timestamp>[:<watermark>]:<digest>`, where the
    ///   digest is a short SHA-256 of the parsed event, so two different events without a
    ///   timestamp (some real payloads have none) still get different keys.
    pub fn dedupe_key(&self) -> String {
        let who = self
            .sender
            .as_deref()
            .or(self.sender_user_ref.as_deref())
            .unwrap_or("-");
        match &self.kind {
            EventKind::Message { mid, .. } => mid.clone(),
            EventKind::Unsend { mid } => format!("unsend:{mid}"),
            EventKind::MessageEdit { mid, num_edit, .. } => match num_edit {
                Some(n) => format!("edit:{mid}:{n}"),
                None => format!("edit:{mid}:{}", self.digest()),
            },
            EventKind::Reaction {
                mid,
                action,
                reaction,
                emoji,
            } => format!(
                "reaction:{mid}:{who}:{action}:{}:{}:{}",
                reaction.as_deref().or(emoji.as_deref()).unwrap_or("-"),
                opt(self.timestamp_ms),
                self.digest()
            ),
            EventKind::Postback { mid: Some(mid), .. } => format!("postback:{mid}"),
            EventKind::Delivery { watermark, .. } => format!(
                "delivery:{who}:{}:{watermark}:{}",
                opt(self.timestamp_ms),
                self.digest()
            ),
            EventKind::Read { watermark, .. } => format!(
                "read:{who}:{}:{}:{}",
                opt(self.timestamp_ms),
                opt(*watermark),
                self.digest()
            ),
            kind => format!(
                "{}:{who}:{}:{}",
                kind.name(),
                opt(self.timestamp_ms),
                self.digest()
            ),
        }
    }

    /// True for what a customer did that the bot answers: a message that is not an echo (quick
    /// replies included), a postback, a referral, and the handover events (the bot goes quiet
    /// or takes over). False for echoes, deliveries, reads, reactions, edits, unsends, opt-ins,
    /// app roles, policy enforcement and unknown events, and for everything in `standby`: then
    /// another app owns the conversation and the bot must stay quiet.
    pub fn wakes_bot(&self) -> bool {
        if self.standby {
            return false;
        }
        match &self.kind {
            EventKind::Message { is_echo, .. } => !is_echo,
            EventKind::Postback { .. }
            | EventKind::Referral(_)
            | EventKind::PassThreadControl { .. }
            | EventKind::TakeThreadControl { .. }
            | EventKind::RequestThreadControl { .. } => true,
            EventKind::Unsend { .. }
            | EventKind::MessageEdit { .. }
            | EventKind::Delivery { .. }
            | EventKind::Read { .. }
            | EventKind::Reaction { .. }
            | EventKind::Optin { .. }
            | EventKind::PolicyEnforcement { .. }
            | EventKind::AppRoles { .. }
            | EventKind::Unknown { .. } => false,
        }
    }

    /// A short digest of everything parsed from the event except the `standby` flag (the same
    /// event is the same whichever array it came in). The JSON of these plain types cannot
    /// fail to serialize (a test round-trips every fixture).
    fn digest(&self) -> String {
        let parts = (
            &self.sender,
            &self.sender_user_ref,
            &self.recipient,
            self.timestamp_ms,
            &self.kind,
        );
        let canonical =
            serde_json::to_vec(&parts).unwrap_or_else(|_| format!("{parts:?}").into_bytes());
        let hash = Sha256::digest(&canonical);
        hex::encode(&hash[..8])
    }
}

fn opt(value: Option<i64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests;
