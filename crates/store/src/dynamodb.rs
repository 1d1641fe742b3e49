//! The DynamoDB adapter: aws-sdk-dynamodb with items converted by serde_dynamo. It honours
//! `AWS_ENDPOINT_URL_DYNAMODB`, so the same code runs on DynamoDB Local.
//!
//! DynamoDB deletes expired items lazily (hours to days after their TTL), so this adapter makes
//! them invisible itself: reads drop them, and every condition is rewritten so that an expired
//! item is treated exactly like an absent one (see [`guarded`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    self as ddb, AttributeDefinition, BillingMode, ConsumedCapacity, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, ReturnConsumedCapacity, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification, TransactWriteItem,
};

use crate::cursor::Position;
use crate::model::{
    Capacity, Change, CmpOp, Cond, Delete, Item, Key, Put, Query, SortKey, StoreError, StoreResult,
    TxFailure, TxOp, Update,
};
use crate::schema::TableSchema;
use crate::sessions::Sessions;
use crate::table::Backend;
use fanorder_platform::tenancy;

type Av = ddb::AttributeValue;
type AvMap = HashMap<String, Av>;

/// The DynamoDB store.
pub struct Dynamo {
    client: Client,
    sessions: Option<Sessions>,
    table: String,
    schema: &'static TableSchema,
    capacity: Mutex<Capacity>,
}

impl std::fmt::Debug for Dynamo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dynamo")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

/// Builds a DynamoDB client from the standard AWS configuration (environment, profile, or the
/// Lambda role), with timeouts on every call.
pub async fn client() -> Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(15))
        .build();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await;
    Client::new(&config)
}

impl Dynamo {
    /// The adapter over an existing client and table.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            sessions: None,
            table: table.into(),
            schema: TableSchema::load(),
            capacity: Mutex::new(Capacity::default()),
        }
    }

    /// Connects with the standard AWS configuration.
    pub async fn connect(table: impl Into<String>) -> Self {
        Self::new(client().await, table)
    }

    /// Talks to DynamoDB with tenant-scoped credentials from `sessions` for work that acts for
    /// a tenant ([`fanorder_platform::tenancy`]); work that acts for nobody keeps `client`'s.
    pub fn with_sessions(mut self, sessions: Sessions) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The client for the running work: the scope's tenant session when sessions are
    /// configured and the work acts for a tenant, the process's own client otherwise.
    async fn scoped(&self) -> Client {
        match (&self.sessions, tenancy::current()) {
            (Some(sessions), Some(scope)) => sessions.client(&scope).await,
            _ => self.client.clone(),
        }
    }

    fn meter(&self, consumed: Option<&ConsumedCapacity>, write: bool) {
        let Some(consumed) = consumed else { return };
        let mut total = self.capacity.lock().unwrap_or_else(|p| p.into_inner());
        match (
            consumed.read_capacity_units(),
            consumed.write_capacity_units(),
        ) {
            (None, None) => {
                let units = consumed.capacity_units().unwrap_or(0.0);
                if write {
                    total.write += units;
                } else {
                    total.read += units;
                }
            }
            (read, written) => {
                total.read += read.unwrap_or(0.0);
                total.write += written.unwrap_or(0.0);
            }
        }
    }

    fn is_expired(&self, item: &Item, now: i64) -> bool {
        crate::eval::is_expired(item, &self.schema.ttl_attribute, now)
    }

    /// The item unless it has expired.
    fn visible(&self, item: Option<AvMap>, now: i64) -> Option<Item> {
        item.map(Item::from).filter(|i| !self.is_expired(i, now))
    }

    /// Creates the table from `schema/table.json` (keys, indexes, stream, TTL). Safe to run
    /// again: an existing table gets the indexes it lacks and TTL turned on.
    pub async fn migrate(&self) -> StoreResult<MigrateReport> {
        let schema = self.schema;
        let mut report = MigrateReport::default();
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(build_error)
        };
        let mut definitions = vec![
            schema.partition_key.name.clone(),
            schema.sort_key.name.clone(),
        ];
        let mut indexes = Vec::new();
        for index in &schema.global_secondary_indexes {
            definitions.extend([
                index.partition_key.name.clone(),
                index.sort_key.name.clone(),
            ]);
            indexes.push(
                GlobalSecondaryIndex::builder()
                    .index_name(&index.name)
                    .key_schema(key(&index.partition_key.name, KeyType::Hash)?)
                    .key_schema(key(&index.sort_key.name, KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(build_error)?,
            );
        }
        let definitions = definitions
            .iter()
            .map(|name| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(build_error)
            })
            .collect::<StoreResult<Vec<_>>>()?;

        let existing = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await;
        match existing {
            Ok(described) => {
                let present: Vec<String> = described
                    .table()
                    .map(|t| {
                        t.global_secondary_indexes()
                            .iter()
                            .filter_map(|i| i.index_name().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                for (index, spec) in schema.global_secondary_indexes.iter().zip(&indexes) {
                    if present.contains(&index.name) {
                        continue;
                    }
                    // One index per UpdateTable call, each after the table is active again.
                    self.wait_active().await?;
                    let create = ddb::CreateGlobalSecondaryIndexAction::builder()
                        .index_name(&index.name)
                        .set_key_schema(Some(spec.key_schema().to_vec()))
                        .set_projection(spec.projection().cloned())
                        .build()
                        .map_err(build_error)?;
                    self.client
                        .update_table()
                        .table_name(&self.table)
                        .set_attribute_definitions(Some(definitions.clone()))
                        .global_secondary_index_updates(
                            ddb::GlobalSecondaryIndexUpdate::builder()
                                .create(create)
                                .build(),
                        )
                        .send()
                        .await
                        .map_err(sdk_error)?;
                    report.indexes_added.push(index.name.clone());
                }
            }
            Err(err) if matches!(err.as_service_error(), Some(e) if e.is_resource_not_found_exception()) =>
            {
                let created = self
                    .client
                    .create_table()
                    .table_name(&self.table)
                    .set_attribute_definitions(Some(definitions))
                    .key_schema(key(&schema.partition_key.name, KeyType::Hash)?)
                    .key_schema(key(&schema.sort_key.name, KeyType::Range)?)
                    .set_global_secondary_indexes(Some(indexes))
                    .billing_mode(BillingMode::PayPerRequest)
                    .stream_specification(
                        StreamSpecification::builder()
                            .stream_enabled(true)
                            .stream_view_type(StreamViewType::from(
                                schema.stream_view_type.as_str(),
                            ))
                            .build()
                            .map_err(build_error)?,
                    )
                    .send()
                    .await;
                match created {
                    Ok(_) => report.created = true,
                    // Another process created it a moment ago: fine, it is there.
                    Err(err) if matches!(err.as_service_error(), Some(e) if e.is_resource_in_use_exception()) =>
                        {}
                    Err(err) => return Err(sdk_error(err)),
                }
            }
            Err(err) => return Err(sdk_error(err)),
        }
        self.wait_active().await?;

        let ttl = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(sdk_error)?;
        let enabled = ttl
            .time_to_live_description()
            .and_then(|d| d.time_to_live_status())
            .is_some_and(|s| {
                matches!(
                    s,
                    ddb::TimeToLiveStatus::Enabled | ddb::TimeToLiveStatus::Enabling
                )
            });
        if !enabled {
            let turned_on = self
                .client
                .update_time_to_live()
                .table_name(&self.table)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .enabled(true)
                        .attribute_name(&schema.ttl_attribute)
                        .build()
                        .map_err(build_error)?,
                )
                .send()
                .await;
            match turned_on {
                Ok(_) => report.ttl_enabled = true,
                // Another process turned it on between our look and our call.
                Err(err) if err.message().is_some_and(|m| m.contains("already enabled")) => {}
                Err(err) => return Err(sdk_error(err)),
            }
        }
        Ok(report)
    }

    async fn wait_active(&self) -> StoreResult<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
        loop {
            let described = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(sdk_error)?;
            let table = described.table();
            let table_active =
                table.and_then(|t| t.table_status()) == Some(&ddb::TableStatus::Active);
            let indexes_active = table.is_none_or(|t| {
                t.global_secondary_indexes()
                    .iter()
                    .all(|i| i.index_status() == Some(&ddb::IndexStatus::Active))
            });
            if table_active && indexes_active {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(StoreError::Unavailable(format!(
                    "table {} did not become active",
                    self.table
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Deletes the table (tests and `fanorder migrate --drop` only).
    pub async fn drop_table(&self) -> StoreResult<()> {
        self.client
            .delete_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    fn key_map(&self, key: &Key) -> AvMap {
        HashMap::from([
            (
                self.schema.partition_key.name.clone(),
                Av::S(key.pk.clone()),
            ),
            (self.schema.sort_key.name.clone(), Av::S(key.sk.clone())),
        ])
    }

    /// Deletes an item only while it is expired: clears the way for an update that must see
    /// the expired item as absent.
    async fn delete_if_expired(&self, key: &Key, now: i64) -> StoreResult<()> {
        let mut expr = Expr::new(self.schema);
        let condition = expr.expired(now);
        let result = self
            .scoped()
            .await
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key_map(key)))
            .condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.meter(out.consumed_capacity(), true);
                Ok(())
            }
            // Someone renewed it meanwhile: the retried update decides.
            Err(err) if matches!(err.as_service_error(), Some(e) if e.is_conditional_check_failed_exception()) => {
                Ok(())
            }
            Err(err) => Err(sdk_error(err)),
        }
    }

    async fn update_once(
        &self,
        update: &Update,
        now: i64,
    ) -> StoreResult<Result<Item, Option<Item>>> {
        let mut expr = Expr::new(self.schema);
        let update_expression = expr.changes(&update.changes);
        let condition = expr.guarded_update(update.cond.as_ref(), now);
        let result = self
            .scoped()
            .await
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key_map(&update.key)))
            .update_expression(update_expression)
            .condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.meter(out.consumed_capacity(), true);
                Ok(Ok(Item::from(out.attributes.unwrap_or_default())))
            }
            Err(err) => match err.as_service_error() {
                Some(e) if e.is_conditional_check_failed_exception() => {
                    let old = match err.into_service_error() {
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(e) => e.item,
                        _ => None,
                    };
                    Ok(Err(old.map(Item::from)))
                }
                _ => Err(sdk_error(err)),
            },
        }
    }

    fn tx_item(&self, op: &TxOp, now: i64) -> StoreResult<TransactWriteItem> {
        let on_fail = ReturnValuesOnConditionCheckFailure::AllOld;
        let mut expr = Expr::new(self.schema);
        let item = match op {
            TxOp::Put(put) => {
                let condition = put.cond.as_ref().map(|c| expr.guarded(c, now));
                TransactWriteItem::builder().put(
                    ddb::Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(put.item.clone().into()))
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .return_values_on_condition_check_failure(on_fail)
                        .build()
                        .map_err(build_error)?,
                )
            }
            TxOp::Delete(delete) => {
                let condition = delete.cond.as_ref().map(|c| expr.guarded(c, now));
                TransactWriteItem::builder().delete(
                    ddb::Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(self.key_map(&delete.key)))
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .return_values_on_condition_check_failure(on_fail)
                        .build()
                        .map_err(build_error)?,
                )
            }
            TxOp::Update(update) => {
                let update_expression = expr.changes(&update.changes);
                let condition = expr.guarded_update(update.cond.as_ref(), now);
                TransactWriteItem::builder().update(
                    ddb::Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(self.key_map(&update.key)))
                        .update_expression(update_expression)
                        .condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .return_values_on_condition_check_failure(on_fail)
                        .build()
                        .map_err(build_error)?,
                )
            }
            TxOp::Check(check) => {
                let condition = expr.guarded(&check.cond, now);
                TransactWriteItem::builder().condition_check(
                    ddb::ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(self.key_map(&check.key)))
                        .condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .return_values_on_condition_check_failure(on_fail)
                        .build()
                        .map_err(build_error)?,
                )
            }
        };
        Ok(item.build())
    }

    async fn transact_once(&self, ops: &[TxOp], now: i64) -> StoreResult<TxOutcome> {
        let items = ops
            .iter()
            .map(|op| self.tx_item(op, now))
            .collect::<StoreResult<Vec<_>>>()?;
        let result = self
            .scoped()
            .await
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        let err = match result {
            Ok(out) => {
                for consumed in out.consumed_capacity() {
                    self.meter(Some(consumed), true);
                }
                return Ok(TxOutcome::Done);
            }
            Err(err) => err,
        };
        let service = err.as_service_error();
        if !matches!(service, Some(e) if e.is_transaction_canceled_exception()) {
            return Err(sdk_error(err));
        }
        let reasons = match err.into_service_error() {
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => {
                e.cancellation_reasons.unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let mut failures = Vec::new();
        let mut blockers = Vec::new();
        for (index, reason) in reasons.into_iter().enumerate() {
            match reason.code() {
                None | Some("None") => {}
                Some("ConditionalCheckFailed") => {
                    let old = reason.item.map(Item::from);
                    let expired = old.as_ref().is_some_and(|i| self.is_expired(i, now));
                    match (&ops[index], expired) {
                        // An update blocked only by an expired item that counts as absent.
                        (TxOp::Update(update), true)
                            if update.cond.as_ref().is_none_or(Cond::holds_for_absent) =>
                        {
                            blockers.push(update.key.clone());
                        }
                        (_, true) => failures.push(TxFailure {
                            index,
                            current: None,
                        }),
                        (_, false) => failures.push(TxFailure {
                            index,
                            current: old,
                        }),
                    }
                }
                Some("TransactionConflict") => return Err(StoreError::Contention),
                Some(
                    "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded",
                ) => {
                    return Err(StoreError::Throttled);
                }
                Some("ValidationError") => {
                    let message = reason.message.unwrap_or_default();
                    return Err(if message.contains("size") {
                        StoreError::ItemTooLarge
                    } else {
                        StoreError::Invalid(message)
                    });
                }
                Some(other) => {
                    return Err(StoreError::Unavailable(format!(
                        "transaction cancelled: {other}"
                    )));
                }
            }
        }
        if !failures.is_empty() {
            return Ok(TxOutcome::Failed(failures));
        }
        Ok(TxOutcome::Blocked(blockers))
    }
}

enum TxOutcome {
    Done,
    Failed(Vec<TxFailure>),
    Blocked(Vec<Key>),
}

/// What `migrate` changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MigrateReport {
    /// The table was created.
    pub created: bool,
    /// Indexes added to an existing table.
    pub indexes_added: Vec<String>,
    /// TTL was turned on.
    pub ttl_enabled: bool,
}

fn build_error(err: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("request builder: {err}"))
}

/// Maps an SDK error to the port's errors by its code.
fn sdk_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().map(str::to_owned);
    let message = err.message().unwrap_or_default().to_owned();
    match code.as_deref() {
        Some("ConditionalCheckFailedException") => StoreError::ConditionFailed { current: None },
        Some("TransactionConflictException") => StoreError::Contention,
        Some(
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "LimitExceededException",
        ) => StoreError::Throttled,
        Some("ValidationException") if message.contains("size") => StoreError::ItemTooLarge,
        Some("ValidationException") => StoreError::Invalid(message),
        Some(code) => StoreError::Unavailable(format!("dynamodb: {code}: {message}")),
        None => StoreError::Unavailable(format!("dynamodb: {}", DisplayErrorContext(&err))),
    }
}

/// An expression under construction: attribute names and values become placeholders.
struct Expr {
    schema: &'static TableSchema,
    names: HashMap<String, String>,
    values: HashMap<String, Av>,
}

impl Expr {
    fn new(schema: &'static TableSchema) -> Self {
        Self {
            schema,
            names: HashMap::new(),
            values: HashMap::new(),
        }
    }

    fn name(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| n.as_str() == name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    fn value(&mut self, value: Av) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<AvMap> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    /// Renders a condition without outer parentheses. DynamoDB refuses redundant parentheses,
    /// so only compound operands are wrapped, and only once.
    fn cond(&mut self, cond: &Cond) -> String {
        match cond {
            Cond::Exists => format!(
                "attribute_exists({})",
                self.name(&self.schema.partition_key.name.clone())
            ),
            Cond::NotExists => format!(
                "attribute_not_exists({})",
                self.name(&self.schema.partition_key.name.clone())
            ),
            Cond::AttrExists(n) => format!("attribute_exists({})", self.name(n)),
            Cond::AttrNotExists(n) => format!("attribute_not_exists({})", self.name(n)),
            Cond::Cmp(n, op, v) => {
                let name = self.name(n);
                let value = self.value(v.clone().into());
                format!("{name} {} {value}", cmp_op(*op))
            }
            Cond::BeginsWith(n, prefix) => {
                let name = self.name(n);
                let value = self.value(Av::S(prefix.clone()));
                format!("begins_with({name}, {value})")
            }
            Cond::And(all) => self.join(all, " AND "),
            Cond::Or(any) => self.join(any, " OR "),
            Cond::Not(inner) => format!("NOT {}", self.operand(inner)),
        }
    }

    /// A condition as the operand of AND/OR/NOT: parenthesised when compound.
    fn operand(&mut self, cond: &Cond) -> String {
        let text = self.cond(cond);
        match cond {
            Cond::And(_) | Cond::Or(_) | Cond::Not(_) => format!("({text})"),
            _ => text,
        }
    }

    fn join(&mut self, conds: &[Cond], op: &str) -> String {
        let parts: Vec<String> = conds.iter().map(|c| self.operand(c)).collect();
        parts.join(op)
    }

    /// `ttl <= now`: true only for an item whose numeric TTL has passed.
    fn expired(&mut self, now: i64) -> String {
        let ttl = self.name(&self.schema.ttl_attribute.clone());
        let now = self.value(Av::N(now.to_string()));
        format!("{ttl} <= {now}")
    }

    /// The condition rewritten so an expired item behaves exactly as an absent one: where the
    /// condition holds for an absent item, an expired item passes too; where it does not, an
    /// expired item fails too.
    fn guarded(&mut self, cond: &Cond, now: i64) -> String {
        let base = self.operand(cond);
        let expired = self.expired(now);
        if cond.holds_for_absent() {
            format!("{base} OR {expired}")
        } else {
            format!("{base} AND NOT ({expired})")
        }
    }

    /// For updates the item must also be live, because updating an expired item in place would
    /// keep its stale attributes; the adapter deletes the expired item and retries instead.
    fn guarded_update(&mut self, cond: Option<&Cond>, now: i64) -> String {
        let expired = self.expired(now);
        match cond {
            Some(cond) => {
                let base = self.operand(cond);
                format!("{base} AND NOT ({expired})")
            }
            None => format!("NOT ({expired})"),
        }
    }

    fn changes(&mut self, changes: &[Change]) -> String {
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut add = Vec::new();
        for change in changes {
            match change {
                Change::Set(n, v) => {
                    let name = self.name(n);
                    let value = self.value(v.clone().into());
                    set.push(format!("{name} = {value}"));
                }
                Change::Remove(n) => remove.push(self.name(n)),
                Change::Add(n, by) => {
                    let name = self.name(n);
                    let value = self.value(Av::N(by.to_string()));
                    add.push(format!("{name} {value}"));
                }
            }
        }
        let mut clauses = Vec::new();
        if !set.is_empty() {
            clauses.push(format!("SET {}", set.join(", ")));
        }
        if !remove.is_empty() {
            clauses.push(format!("REMOVE {}", remove.join(", ")));
        }
        if !add.is_empty() {
            clauses.push(format!("ADD {}", add.join(", ")));
        }
        clauses.join(" ")
    }

    fn sort_key(&mut self, attr: &str, sk: &SortKey) -> String {
        let name = self.name(attr);
        match sk {
            SortKey::Cmp(op, v) => {
                let value = self.value(Av::S(v.clone()));
                format!("{name} {} {value}", cmp_op(*op))
            }
            SortKey::Between(low, high) => {
                let low = self.value(Av::S(low.clone()));
                let high = self.value(Av::S(high.clone()));
                format!("{name} BETWEEN {low} AND {high}")
            }
            SortKey::BeginsWith(prefix) => {
                let value = self.value(Av::S(prefix.clone()));
                format!("begins_with({name}, {value})")
            }
        }
    }
}

fn cmp_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

#[async_trait]
impl Backend for Dynamo {
    async fn get(&self, key: &Key, now: i64) -> StoreResult<Option<Item>> {
        let out = self
            .scoped()
            .await
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key_map(key)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(sdk_error)?;
        self.meter(out.consumed_capacity(), false);
        Ok(self.visible(out.item, now))
    }

    async fn put(&self, put: Put, now: i64) -> StoreResult<()> {
        let mut expr = Expr::new(self.schema);
        let condition = put.cond.as_ref().map(|c| expr.guarded(c, now));
        let result = self
            .scoped()
            .await
            .put_item()
            .table_name(&self.table)
            .set_item(Some(put.item.into()))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.meter(out.consumed_capacity(), true);
                Ok(())
            }
            Err(err) => match err.into_service_error() {
                aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e) => {
                    Err(StoreError::ConditionFailed { current: self.visible(e.item, now).map(Box::new) })
                }
                other => Err(sdk_error(SdkError::<_, ()>::service_error(other, ()))),
            },
        }
    }

    async fn delete(&self, delete: Delete, now: i64) -> StoreResult<Option<Item>> {
        let mut expr = Expr::new(self.schema);
        let condition = delete.cond.as_ref().map(|c| expr.guarded(c, now));
        let result = self
            .scoped()
            .await
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key_map(&delete.key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.meter(out.consumed_capacity(), true);
                Ok(self.visible(out.attributes, now))
            }
            Err(err) => match err.into_service_error() {
                aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(e) => {
                    Err(StoreError::ConditionFailed { current: self.visible(e.item, now).map(Box::new) })
                }
                other => Err(sdk_error(SdkError::<_, ()>::service_error(other, ()))),
            },
        }
    }

    async fn update(&self, update: Update, now: i64) -> StoreResult<Item> {
        for attempt in 0..2 {
            match self.update_once(&update, now).await? {
                Ok(item) => return Ok(item),
                Err(old) => {
                    let expired = old.as_ref().is_some_and(|i| self.is_expired(i, now));
                    let counts_as_absent = update.cond.as_ref().is_none_or(Cond::holds_for_absent);
                    if expired && counts_as_absent && attempt == 0 {
                        self.delete_if_expired(&update.key, now).await?;
                        continue;
                    }
                    let current = old.filter(|i| !self.is_expired(i, now));
                    return Err(StoreError::ConditionFailed {
                        current: current.map(Box::new),
                    });
                }
            }
        }
        Err(StoreError::Contention)
    }

    async fn transact(&self, ops: Vec<TxOp>, now: i64) -> StoreResult<()> {
        for attempt in 0..2 {
            match self.transact_once(&ops, now).await? {
                TxOutcome::Done => return Ok(()),
                TxOutcome::Failed(failures) => {
                    return Err(StoreError::TransactionCanceled { failures });
                }
                TxOutcome::Blocked(keys) if attempt == 0 => {
                    for key in &keys {
                        self.delete_if_expired(key, now).await?;
                    }
                }
                TxOutcome::Blocked(_) => break,
            }
        }
        Err(StoreError::Contention)
    }

    async fn query(
        &self,
        query: &Query,
        after: Option<Position>,
        fetch: usize,
        now: i64,
    ) -> StoreResult<Vec<Item>> {
        let (pk_attr, sk_attr) = match &query.index {
            None => (
                self.schema.partition_key.name.clone(),
                self.schema.sort_key.name.clone(),
            ),
            Some(name) => {
                let index = self
                    .schema
                    .index(name)
                    .ok_or_else(|| StoreError::invalid(format!("no index {name}")))?;
                (
                    index.partition_key.name.clone(),
                    index.sort_key.name.clone(),
                )
            }
        };
        let mut expr = Expr::new(self.schema);
        let pk_name = expr.name(&pk_attr);
        let pk_value = expr.value(Av::S(query.pk.clone()));
        let mut key_condition = format!("{pk_name} = {pk_value}");
        if let Some(sk) = &query.sk {
            key_condition = format!("{key_condition} AND {}", expr.sort_key(&sk_attr, sk));
        }
        let expired = expr.expired(now);
        let filter = format!("NOT ({expired})");

        let mut start: Option<AvMap> = after.map(|position| {
            let mut key = self.key_map(&position.key);
            if let Some((ipk, isk)) = position.index_key {
                key.insert(pk_attr.clone(), Av::S(ipk));
                key.insert(sk_attr.clone(), Av::S(isk));
            }
            key
        });
        let mut items = Vec::new();
        loop {
            let want = fetch - items.len();
            let out = self
                .scoped()
                .await
                .query()
                .table_name(&self.table)
                .set_index_name(query.index.clone())
                .key_condition_expression(&key_condition)
                .filter_expression(&filter)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .scan_index_forward(query.forward)
                .limit(i32::try_from(want).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .set_consistent_read(query.index.is_none().then_some(true))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(sdk_error)?;
            self.meter(out.consumed_capacity(), false);
            items.extend(out.items.unwrap_or_default().into_iter().map(Item::from));
            match out.last_evaluated_key {
                Some(key) if items.len() < fetch => start = Some(key),
                _ => break,
            }
        }
        items.truncate(fetch);
        Ok(items)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.get(&Key::new("PING", "PING"), 0).await.map(|_| ())
    }

    fn consumed(&self) -> Capacity {
        *self.capacity.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn name(&self) -> &'static str {
        "dynamodb"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Value, n};

    #[test]
    fn expressions_use_placeholders_for_every_name_and_value() {
        let mut expr = Expr::new(TableSchema::load());
        let text = expr.guarded(&Cond::eq("version", n(3)).and(Cond::Exists), 100);
        assert_eq!(
            text,
            "(#n0 = :v0 AND attribute_exists(#n1)) AND NOT (#n2 <= :v1)"
        );
        assert_eq!(expr.names.get("#n1").map(String::as_str), Some("tenant_id"));
        assert_eq!(
            expr.names.get("#n2").map(String::as_str),
            Some("expires_at")
        );
    }

    #[test]
    fn conditions_that_hold_for_absent_items_also_pass_expired_ones() {
        let mut expr = Expr::new(TableSchema::load());
        let text = expr.guarded(&Cond::NotExists, 100);
        assert_eq!(text, "attribute_not_exists(#n0) OR #n1 <= :v0");
        let mut expr = Expr::new(TableSchema::load());
        let nested = Cond::Not(Box::new(Cond::Or(vec![
            Cond::Not(Box::new(Cond::eq("a", n(1)))),
            Cond::NotExists,
        ])));
        assert_eq!(
            expr.cond(&nested),
            "NOT ((NOT #n0 = :v0) OR attribute_not_exists(#n1))"
        );
    }

    #[test]
    fn update_expressions_group_their_clauses() {
        let mut expr = Expr::new(TableSchema::load());
        let text = expr.changes(&[
            Change::Set("a".into(), n(1)),
            Change::Add("count".into(), 2),
            Change::Remove("b".into()),
            Change::Set("c".into(), n(2)),
        ]);
        assert_eq!(text, "SET #n0 = :v0, #n3 = :v2 REMOVE #n2 ADD #n1 :v1");
    }

    #[test]
    fn values_convert_both_ways() {
        let value = Value::M(HashMap::from([(
            "k".to_owned(),
            Value::L(vec![n(1), Value::Bool(true)]),
        )]));
        let av: Av = value.clone().into();
        assert_eq!(Value::from(av), value);
    }
}
