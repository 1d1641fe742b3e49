//! Sending as a page: every outbound message is recorded in the conversation first, then sent
//! with the page's token, or only recorded when the page has no token (offline mode, so the
//! whole product works without a Facebook account). A token Facebook refuses marks the page as
//! needing a new one.

use fanorder_messenger::PAGE_INBOX_APP_ID;
use fanorder_messenger::send::{GraphClient, MessagingType, OutgoingMessage, PageToken, SendError};
use fanorder_platform::{ApiError, Clock, TenantId};
use fanorder_store::{Table, TxOp};
use jiff::Timestamp;

use crate::model::{
    Conversation, Delivery, Direction, Handler, Message, MessageId, Page, PageStatus,
};
use crate::store;
use crate::token::TokenBox;

/// The page-sending service; cheap to clone.
#[derive(Clone)]
pub struct Messenger {
    graph: GraphClient,
    tokens: TokenBox,
    clock: Clock,
}

impl std::fmt::Debug for Messenger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messenger").finish_non_exhaustive()
    }
}

/// A message recorded and waiting to be sent.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// The record.
    pub record: Message,
    /// What to send.
    pub message: OutgoingMessage,
}

impl Messenger {
    /// The service over a Graph client and the token box.
    pub fn new(graph: GraphClient, tokens: TokenBox, clock: Clock) -> Self {
        Self {
            graph,
            tokens,
            clock,
        }
    }

    /// The token box (for connecting pages).
    pub fn tokens(&self) -> &TokenBox {
        &self.tokens
    }

    /// The page's token, decrypted; `None` for an offline page.
    pub fn token(&self, page: &Page) -> Result<Option<PageToken>, ApiError> {
        match &page.token {
            Some(sealed) if page.status == PageStatus::Connected => Ok(Some(PageToken::new(
                page.page_id.clone(),
                self.tokens.open(sealed)?,
            ))),
            _ => Ok(None),
        }
    }

    /// Records messages for a conversation: `Sending` when they will be sent, `Recorded` for an
    /// offline page. `id_from` gives a stable id (a retried notification records once).
    pub fn prepare(
        &self,
        page: &Page,
        messages: Vec<OutgoingMessage>,
        id_from: Option<MessageId>,
    ) -> Vec<Outbound> {
        let now = self.clock.now();
        let delivery = if page.token.is_some() && page.status == PageStatus::Connected {
            Delivery::Sending
        } else {
            Delivery::Recorded
        };
        messages
            .into_iter()
            .enumerate()
            .map(|(i, message)| {
                let id = match (id_from, i) {
                    (Some(id), 0) => id,
                    _ => MessageId::new(),
                };
                let record = Message {
                    id,
                    direction: Direction::Out,
                    text: message.as_text().map(str::to_owned),
                    payload: if message.as_text().is_some() && message.quick_replies().is_empty() {
                        None
                    } else {
                        Some(message.to_json())
                    },
                    mid: None,
                    delivery,
                    error: None,
                    at: now,
                };
                Outbound { record, message }
            })
            .collect()
    }

    /// The puts that record prepared messages.
    pub fn record_ops(
        &self,
        table: &Table,
        tenant: &TenantId,
        conversation: &Conversation,
        outbound: &[Outbound],
    ) -> Result<Vec<TxOp>, ApiError> {
        outbound
            .iter()
            .map(|o| {
                store::message_put(
                    table,
                    tenant,
                    &conversation.page_id,
                    &conversation.psid,
                    &o.record,
                )
            })
            .collect()
    }

    /// Sends recorded messages in order (after the records are committed). Stops at the first
    /// failure: the rest stay recorded as not sent. A refused token marks the page.
    pub async fn send(
        &self,
        table: &Table,
        tenant: &TenantId,
        page: &Page,
        psid: &str,
        outbound: Vec<Outbound>,
        kind: MessagingType,
    ) -> Result<(), ApiError> {
        let Some(token) = self.token(page)? else {
            return Ok(());
        };
        let mut failed = false;
        for mut item in outbound {
            if failed {
                item.record.delivery = Delivery::Failed;
                item.record.error = Some("not sent: an earlier message failed".to_owned());
                store::set_delivery(table, tenant, &page.page_id, psid, &item.record).await?;
                continue;
            }
            match self
                .graph
                .send_message(&token, psid, &item.message, kind)
                .await
            {
                Ok(mid) => {
                    metrics::counter!("fanorder_send_api_calls_total", "result" => "sent")
                        .increment(1);
                    item.record.delivery = Delivery::Sent;
                    item.record.mid = Some(mid);
                }
                Err(err) => {
                    metrics::counter!("fanorder_send_api_calls_total", "result" => err.kind())
                        .increment(1);
                    tracing::warn!(tenant_id = %tenant, page_id = %page.page_id, error = %err, "send failed");
                    item.record.delivery = Delivery::Failed;
                    item.record.error = Some(err.to_string());
                    failed = true;
                    if err == SendError::BadToken {
                        self.mark_needs_token(table, tenant, page).await?;
                    }
                }
            }
            store::set_delivery(table, tenant, &page.page_id, psid, &item.record).await?;
        }
        Ok(())
    }

    /// Marks a page whose token Facebook refused: admins see `needs_token` until they connect it
    /// again with a new token.
    pub async fn mark_needs_token(
        &self,
        table: &Table,
        tenant: &TenantId,
        page: &Page,
    ) -> Result<(), ApiError> {
        let Some(current) = store::page(table, tenant, &page.page_id).await? else {
            return Ok(());
        };
        if current.status == PageStatus::NeedsToken {
            return Ok(());
        }
        let after = Page {
            status: PageStatus::NeedsToken,
            version: current.version + 1,
            updated_at: self.clock.now(),
            ..current.clone()
        };
        tracing::warn!(tenant_id = %tenant, page_id = %page.page_id, "page token refused; the page needs a new token");
        match store::update_page(table, tenant, &after, current.version).await {
            Ok(()) | Err(ApiError::Conflict { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Passes a conversation to the page inbox (a person answers), or takes it back.
    pub async fn thread_control(
        &self,
        page: &Page,
        psid: &str,
        to_human: bool,
    ) -> Result<(), ApiError> {
        let Some(token) = self.token(page)? else {
            return Ok(());
        };
        let result = if to_human {
            self.graph
                .pass_thread_control(
                    &token,
                    psid,
                    PAGE_INBOX_APP_ID,
                    Some("customer asked for a person"),
                )
                .await
        } else {
            self.graph
                .take_thread_control(&token, psid, Some("handed back to the bot"))
                .await
        };
        result.map_err(|e| ApiError::unavailable(format!("Messenger handover failed: {e}")))
    }

    /// Staff take a conversation from the bot, or give it back (the bot then greets again).
    pub async fn handover(
        &self,
        table: &Table,
        tenant: &TenantId,
        page: &Page,
        psid: &str,
        take: bool,
        now: Timestamp,
    ) -> Result<Conversation, ApiError> {
        let before = store::conversation(table, tenant, &page.page_id, psid)
            .await?
            .ok_or(ApiError::NotFound("conversation"))?;
        let mut after = before.clone();
        after.handler = if take { Handler::Human } else { Handler::Bot };
        after.step = crate::model::Step::Idle;
        after.version += 1;
        after.updated_at = now;
        let mut outbound = Vec::new();
        if !take && before.handler == Handler::Human {
            let texts = crate::bot::texts::Texts::new(&after.language, &page.settings.texts);
            outbound = self.prepare(
                page,
                vec![OutgoingMessage::text(&texts.get("back_to_bot", &[]))],
                None,
            );
        }
        let mut ops = vec![store::conversation_put(
            table,
            tenant,
            &after,
            before.version,
        )?];
        ops.extend(self.record_ops(table, tenant, &after, &outbound)?);
        table.transact(ops).await.map_err(|e| match e {
            fanorder_store::StoreError::TransactionCanceled { .. } => ApiError::conflict(
                "version_conflict",
                "the conversation changed meanwhile; try again",
            ),
            other => other.into(),
        })?;
        self.thread_control(page, psid, take).await?;
        let kind = if after.in_window(now) {
            MessagingType::Response
        } else {
            MessagingType::Tag(fanorder_messenger::send::MessageTag::PostPurchaseUpdate)
        };
        self.send(table, tenant, page, psid, outbound, kind).await?;
        Ok(after)
    }

    /// Pushes the page's Messenger profile, in every language the bot speaks.
    pub async fn push_profile(
        &self,
        table: &Table,
        tenant: &TenantId,
        page: &Page,
        restaurant: &str,
    ) -> Result<(&'static str, serde_json::Value), ApiError> {
        let _ = (table, tenant);
        let profile = crate::bot::profile(page, restaurant);
        let json = profile.to_json();
        let Some(token) = self.token(page)? else {
            return Ok(("recorded", json));
        };
        match self.graph.set_messenger_profile(&token, &profile).await {
            Ok(()) => Ok(("sent", json)),
            Err(SendError::BadToken) => {
                self.mark_needs_token(table, tenant, page).await?;
                Err(ApiError::conflict(
                    "page_token_refused",
                    "Facebook refused the page token; connect the page again with a new token",
                ))
            }
            Err(err) => Err(ApiError::unavailable(format!(
                "Messenger profile push failed: {err}"
            ))),
        }
    }

    /// The customer's first name, when the page can look it up.
    pub async fn first_name(&self, page: &Page, psid: &str) -> Option<String> {
        let token = self.token(page).ok()??;
        self.graph.user_profile(&token, psid).await.ok()?.first_name
    }
}
