//! The Messenger Platform layer: webhook payload types and their tolerant parser, the
//! `X-Hub-Signature-256` check, the Send API client (retries, per-page rate limits, typed
//! errors), message builders that keep Facebook's limits by construction, and `FakeGraph`, a
//! recording fake of the Graph API for tests. No tenant or store logic lives here.
#![forbid(unsafe_code)]

pub mod send;
pub mod testing;
pub mod webhook;

pub use send::{
    GraphClient, GraphConfig, MessagingType, OutgoingMessage, PageToken, SendError, Typing,
    UserProfile,
};
/// The app id of the Facebook Page Inbox: the target for "talk to a person" handovers
/// (`pass_thread_control`), and the `app_id` of echoes a person typed in the inbox.
pub const PAGE_INBOX_APP_ID: &str = "263902037430900";

pub use webhook::{Event, EventKind, ParseError, Webhook, parse, sign, signature_valid};
