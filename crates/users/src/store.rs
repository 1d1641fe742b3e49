//! The users crate's items in the one table.

use fanorder_platform::{ApiError, Email, TenantId};
use fanorder_staff::store::profile_key;
use fanorder_store::{
    Change, Check, Cond, Key, Put, StoreError, Table, TxOp, Update, Value, from_item, n, s,
    to_item, to_value,
};

use crate::model::{Customer, CustomerId};

/// Customer, `T#<tenant>` / `USER#<id>`: read by id from the caller's token.
pub fn customer_key(tenant: &TenantId, id: &CustomerId) -> Key {
    Key::new(tenant.partition(), format!("USER#{id}"))
}

/// Customer email guard, `T#<tenant>` / `EMAIL#customer#<email>`: one customer account per
/// email in a restaurant; login finds the customer by it.
pub fn email_key(tenant: &TenantId, email: &Email) -> Key {
    Key::new(tenant.partition(), format!("EMAIL#customer#{email}"))
}

/// Registers a customer: the email must be free among this restaurant's customers, and the
/// restaurant active.
pub async fn register(
    table: &Table,
    tenant: &TenantId,
    customer: &Customer,
) -> Result<(), ApiError> {
    let mut guard = to_item(
        table.schema(),
        &email_key(tenant, &customer.email),
        &serde_json::json!({}),
    )?;
    guard.insert("account".into(), s(customer.id.to_string()));
    let ops = vec![
        TxOp::Check(Check {
            key: profile_key(tenant),
            cond: Cond::eq("status", s("active")),
        }),
        TxOp::Put(Put {
            item: to_item(
                table.schema(),
                &customer_key(tenant, &customer.id),
                customer,
            )?,
            cond: Some(Cond::NotExists),
        }),
        TxOp::Put(Put {
            item: guard,
            cond: Some(Cond::NotExists),
        }),
    ];
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failures })
            if failures.iter().any(|f| f.index == 2) =>
        {
            Err(ApiError::conflict(
                "email_taken",
                format!("{} already has an account here", customer.email),
            ))
        }
        Err(StoreError::TransactionCanceled { .. }) => {
            Err(ApiError::invalid("tenant", "no such restaurant"))
        }
        Err(err) => Err(err.into()),
    }
}

/// A customer, if it exists in this tenant.
pub async fn customer(
    table: &Table,
    tenant: &TenantId,
    id: &CustomerId,
) -> Result<Option<Customer>, ApiError> {
    Ok(table
        .get(&customer_key(tenant, id))
        .await?
        .map(from_item)
        .transpose()?)
}

/// The customer with this login email, if any.
pub async fn customer_by_email(
    table: &Table,
    tenant: &TenantId,
    email: &Email,
) -> Result<Option<Customer>, ApiError> {
    let Some(guard) = table.get(&email_key(tenant, email)).await? else {
        return Ok(None);
    };
    let Some(Value::S(id)) = guard.get("account") else {
        return Ok(None);
    };
    let Ok(id) = id.parse::<CustomerId>() else {
        return Ok(None);
    };
    customer(table, tenant, &id).await
}

/// Saves a profile change made from the version read.
pub async fn update(
    table: &Table,
    tenant: &TenantId,
    after: &Customer,
    expected_version: i64,
) -> Result<(), ApiError> {
    let addresses = to_value(&after.addresses)?;
    let mut changes = vec![
        Change::Set("name".into(), s(&after.name)),
        Change::Set("addresses".into(), addresses),
        Change::Set("password_hash".into(), s(&after.password_hash)),
        Change::Set("version".into(), n(after.version)),
        Change::Set("updated_at".into(), s(after.updated_at.to_string())),
    ];
    changes.push(match &after.phone {
        Some(phone) => Change::Set("phone".into(), s(phone)),
        None => Change::Remove("phone".into()),
    });
    let update = Update {
        key: customer_key(tenant, &after.id),
        changes,
        cond: Some(Cond::Exists.and(Cond::eq("version", n(expected_version)))),
    };
    match table.update(update).await {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(ApiError::conflict(
            "version_conflict",
            "your profile changed since you read it; read it again and retry",
        )),
        Err(err) => Err(err.into()),
    }
}
