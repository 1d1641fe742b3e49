//! Late-order notices: a paid order the kitchen has not started within the restaurant's limit
//! gets one `order.late` event (a staff notice on SNS).

use fanorder_events::{Event, EventType, Outbox};
use fanorder_platform::{ApiError, TenantId};
use fanorder_staff::Status as TenantStatus;
use fanorder_store::Table;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::store;

/// Notices one restaurant's late orders; returns how many were noticed now.
pub async fn notice_late(
    table: &Table,
    outbox: &Outbox,
    tenant: &TenantId,
    late_after: SignedDuration,
    now: Timestamp,
) -> Result<usize, ApiError> {
    let mut noticed = 0;
    let minutes = late_after.as_mins().max(1);
    for order in store::paid_before(table, tenant, now - late_after, 100).await? {
        if order.late_noticed {
            continue;
        }
        let event = Event::new(
            EventType::OrderLate,
            *tenant,
            now,
            match order.location_id {
                Some(location) => {
                    json!({"order_id": order.id, "number": order.number, "paid_at": order.paid_at.unwrap_or(order.status_at),
                    "late_after_minutes": minutes, "location_id": location})
                }
                None => {
                    json!({"order_id": order.id, "number": order.number, "paid_at": order.paid_at.unwrap_or(order.status_at),
                    "late_after_minutes": minutes})
                }
            },
        );
        if store::mark_late(table, outbox, tenant, &order, &event).await? {
            noticed += 1;
        }
    }
    Ok(noticed)
}

/// Notices late orders in every active restaurant (one Query for the directory, one per
/// restaurant for its paid queue).
pub async fn sweep(
    table: &Table,
    outbox: &Outbox,
    late_after: SignedDuration,
    now: Timestamp,
) -> Result<usize, ApiError> {
    let mut total = 0;
    let mut cursor: Option<String> = None;
    loop {
        let page = fanorder_staff::store::list_tenants(table, cursor.as_deref(), 100).await?;
        for tenant in page
            .items
            .iter()
            .filter(|t| t.status == TenantStatus::Active)
        {
            total += notice_late(table, outbox, &tenant.id, late_after, now).await?;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(total),
        }
    }
}
