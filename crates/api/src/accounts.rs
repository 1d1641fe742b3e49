//! Whether a caller may still act: its tenant active, its account active, and its role. Read
//! from the store and cached per account (`FANORDER_AUTH_CACHE_TTL`, 30 seconds by default), so a deactivation or role change takes
//! effect within a minute while costing at most two reads per account per half minute.

use std::time::Duration;

use async_trait::async_trait;
use fanorder_platform::auth::{AccountStatus, Caller};
use fanorder_platform::{ApiError, Role, TenantId};
use fanorder_staff::{StaffId, Status};
use fanorder_store::Table;
use fanorder_users::CustomerId;

/// The store-backed account status.
pub struct StoreAccounts {
    table: Table,
    cache: moka::future::Cache<(TenantId, String, Role), Option<Role>>,
}

impl StoreAccounts {
    /// A status check over the table, trusting an answer for `ttl` (at most a minute).
    pub fn new(table: Table, ttl: Duration) -> Self {
        Self {
            table,
            cache: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl)
                .build(),
        }
    }
}

#[async_trait]
impl AccountStatus for StoreAccounts {
    async fn current_role(&self, caller: &Caller) -> Result<Option<Role>, ApiError> {
        let key = (caller.tenant, caller.account.clone(), caller.role);
        self.cache
            .try_get_with(key, self.current_role_now(caller))
            .await
            .map_err(|e| ApiError::unavailable(format!("cannot check the account: {e}")))
    }

    async fn current_role_now(&self, caller: &Caller) -> Result<Option<Role>, ApiError> {
        let tenant_active = fanorder_staff::store::tenant(&self.table, &caller.tenant)
            .await?
            .is_some_and(|t| t.status == Status::Active);
        if !tenant_active {
            return Ok(None);
        }
        if caller.role == Role::Customer {
            let Ok(id) = caller.account.parse::<CustomerId>() else {
                return Ok(None);
            };
            let customer =
                fanorder_users::store::customer(&self.table, &caller.tenant, &id).await?;
            Ok(customer
                .filter(|c| c.status == Status::Active)
                .map(|_| Role::Customer))
        } else {
            let Ok(id) = caller.account.parse::<StaffId>() else {
                return Ok(None);
            };
            let member = fanorder_staff::store::member(&self.table, &caller.tenant, &id).await?;
            Ok(member
                .filter(|m| m.status == Status::Active)
                .map(|m| m.role))
        }
    }
}
