//! Sending: message builders that keep Facebook's limits by construction, the Messenger
//! profile, and the Graph API client with retries, per-page rate limits and typed errors.

mod client;
mod message;
mod profile;
mod receipt;
mod text;

pub use client::{
    DEFAULT_GRAPH_API_URL, GRAPH_API_URL_VAR, GRAPH_RATE_VAR, GraphClient, GraphConfig,
    GraphConfigError, HANDOVER_METADATA_MAX, MAX_ATTEMPTS, PageToken, SendError, Typing,
    UserProfile,
};
pub use message::{
    BUTTON_TEXT_MAX, BUTTON_TITLE_MAX, BUTTONS_MAX, Button, ELEMENT_SUBTITLE_MAX,
    ELEMENT_TITLE_MAX, EmptyTemplate, GENERIC_ELEMENTS_MAX, GenericElement, MessageTag,
    MessagingType, OutgoingMessage, QUICK_REPLIES_MAX, QUICK_REPLY_TITLE_MAX, QuickReply, TEXT_MAX,
};
pub use profile::{
    DEFAULT_LOCALE, GREETING_MAX, Greeting, ICE_BREAKER_QUESTION_MAX, ICE_BREAKERS_MAX, IceBreaker,
    IceBreakers, MENU_ITEMS_MAX, MENU_TITLE_MAX, MenuItem, MessengerProfile, PersistentMenu,
};
pub use receipt::{
    EXPONENT_MAX, InvalidReceiptCurrency, RECEIPT_ELEMENTS_MAX, ReceiptAddress, ReceiptCurrency,
    ReceiptElement, ReceiptSummary, ReceiptTemplate, amount_json, decimal,
};
pub use text::{ELLIPSIS, InvalidPayload, PAYLOAD_MAX, Payload, fb_len, truncate};
