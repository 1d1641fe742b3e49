//! Helpers for tests of this and other crates: which stores a test can use, and fresh tables on
//! each. The DynamoDB half of a suite runs when `AWS_ENDPOINT_URL_DYNAMODB` points at DynamoDB
//! (Local); without it it is skipped, unless `FANORDER_REQUIRE_EMULATORS` is set, as
//! `scripts/test` does, in which case a missing endpoint is a failure, never a silent skip.

use std::sync::Arc;

use fanorder_platform::Clock;
use fanorder_platform::id::new_ulid;

use crate::dynamodb::Dynamo;
use crate::sqlite::{Sqlite, SqliteOptions};
use crate::{StoreResult, Table};

/// The two adapters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// Embedded SQLite in a temporary directory.
    Sqlite,
    /// DynamoDB (Local), a table per process or per test.
    Dynamodb,
}

/// True when a DynamoDB endpoint is configured; panics when one is required but missing.
pub fn dynamodb_available() -> bool {
    if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("FANORDER_REQUIRE_EMULATORS").is_none(),
        "FANORDER_REQUIRE_EMULATORS is set but AWS_ENDPOINT_URL_DYNAMODB is not: start DynamoDB Local (scripts/test does)"
    );
    eprintln!("skipped: no DynamoDB endpoint (set AWS_ENDPOINT_URL_DYNAMODB or run scripts/test)");
    false
}

/// A table for a test and what keeps it alive.
pub struct TestTable {
    /// The table.
    pub table: Table,
    /// The embedded store, when that is the adapter (for sweeps).
    pub sqlite: Option<Arc<Sqlite>>,
    /// The temporary directory of the SQLite file.
    pub dir: Option<tempfile::TempDir>,
}

/// A fresh table of the given kind, or `None` when DynamoDB is not available. `table_name`
/// picks a DynamoDB table to share (created if needed); `None` makes a new one.
pub async fn table(
    kind: StoreKind,
    clock: Clock,
    cursor_key: &[u8],
    table_name: Option<&str>,
) -> StoreResult<Option<TestTable>> {
    match kind {
        StoreKind::Sqlite => {
            let dir =
                tempfile::tempdir().map_err(|e| crate::StoreError::Unavailable(e.to_string()))?;
            let store = Arc::new(
                Sqlite::open(
                    dir.path().join("test.db"),
                    SqliteOptions::default(),
                    clock.clone(),
                )
                .await?,
            );
            let table = Table::new(store.clone(), cursor_key, clock);
            Ok(Some(TestTable {
                table,
                sqlite: Some(store),
                dir: Some(dir),
            }))
        }
        StoreKind::Dynamodb => {
            if !dynamodb_available() {
                return Ok(None);
            }
            let name = table_name.map_or_else(|| format!("test-{}", new_ulid()), str::to_owned);
            let store = Dynamo::connect(name).await;
            store.migrate().await?;
            Ok(Some(TestTable {
                table: Table::new(Arc::new(store), cursor_key, clock),
                sqlite: None,
                dir: None,
            }))
        }
    }
}

/// An in-process stand-in for the table's IAM policies (infra/cdk/lib/access.ts), for tests of
/// tenant-scoped credentials: it hands out DynamoDB clients per scope (as the tenant access role
/// would) and checks, before anything is sent, that every partition key a call names is one the
/// acting principal may reach. Every call is recorded; a call the policy would refuse fails
/// with `AccessDenied` instead of being sent.
pub mod fence {
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use aws_sdk_dynamodb::Client;
    use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
    use aws_sdk_dynamodb::config::{ConfigBag, Credentials, Intercept};
    use aws_sdk_dynamodb::error::BoxError;
    use aws_sdk_dynamodb::operation::{
        delete_item::DeleteItemInput, get_item::GetItemInput, put_item::PutItemInput,
        query::QueryInput, transact_get_items::TransactGetItemsInput,
        transact_write_items::TransactWriteItemsInput, update_item::UpdateItemInput,
    };
    use aws_sdk_dynamodb::types::AttributeValue;
    use fanorder_platform::tenancy::Scope;

    use crate::sessions::{SessionFactory, Sessions};

    /// What a call does to an item, as IAM names it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Op {
        /// GetItem (also inside TransactGetItems).
        Get,
        /// PutItem.
        Put,
        /// UpdateItem.
        Update,
        /// DeleteItem.
        Delete,
        /// ConditionCheckItem.
        Check,
        /// Query.
        Query,
    }

    /// One item of one call: who acted, what it did, on which partition, and whether the policy
    /// allows it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Call {
        /// The scope of the credentials (`None`: the process's own role).
        pub scope: Option<Scope>,
        /// The operation.
        pub op: Op,
        /// The partition key value (of the index, for an index query).
        pub partition: String,
        /// Whether the emulated policy allows it.
        pub allowed: bool,
    }

    /// The recorder and policy; clone it to read the log.
    #[derive(Debug, Clone)]
    pub struct Fence {
        own: Vec<String>,
        log: Arc<Mutex<Vec<Call>>>,
        base: Client,
        send: bool,
    }

    fn like(pattern: &str, value: &str) -> bool {
        match pattern.strip_suffix('*') {
            Some(prefix) => value.starts_with(prefix),
            None => pattern == value,
        }
    }

    impl Fence {
        /// A fence whose clients are made from `base` (pointing at DynamoDB Local) and send
        /// what the policy allows; the process's own role reaches `own` (IAM StringLike
        /// patterns, e.g. the api function's `SLUG#*`, `PLATFORM`, `PING`).
        pub fn new(base: Client, own: &[&str]) -> Self {
            Self {
                own: own.iter().map(|p| (*p).to_owned()).collect(),
                log: Arc::default(),
                base,
                send: true,
            }
        }

        /// A fence that records and then stops every call (nothing is sent anywhere): for tests
        /// that only need to see which credentials a call would use.
        pub fn recording_only(own: &[&str]) -> Self {
            let config = aws_sdk_dynamodb::Config::builder()
                .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
                .endpoint_url("http://127.0.0.1:9")
                .credentials_provider(Credentials::new("own", "secret", None, None, "fence"))
                .build();
            Self {
                send: false,
                ..Self::new(Client::from_conf(config), own)
            }
        }

        /// Everything recorded so far.
        pub fn calls(&self) -> Vec<Call> {
            self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
        }

        /// The calls the policy refused.
        pub fn refused(&self) -> Vec<Call> {
            self.calls().into_iter().filter(|c| !c.allowed).collect()
        }

        /// The process's own client, fenced.
        pub fn own_client(&self) -> Client {
            self.client_as(None)
        }

        /// Sessions made by this fence.
        pub fn sessions(&self) -> Sessions {
            Sessions::new(Arc::new(self.clone()))
        }

        fn client_as(&self, scope: Option<Scope>) -> Client {
            let key = match &scope {
                Some(scope) => format!("AKID{}", scope.tenant),
                None => "AKIDOWN".to_owned(),
            };
            let config = self
                .base
                .config()
                .to_builder()
                .credentials_provider(Credentials::new(key, "secret", None, None, "fence"))
                .interceptor(Recorder {
                    scope,
                    fence: self.clone(),
                })
                .build();
            Client::from_conf(config)
        }

        /// Whether the principal acting as `scope` may do `op` on `partition` (access.ts).
        pub fn allows(&self, scope: Option<&Scope>, op: Op, partition: &str) -> bool {
            let Some(scope) = scope else {
                return self.own.iter().any(|p| like(p, partition));
            };
            let tenant = format!("T#{}", scope.tenant);
            if partition == tenant || partition.starts_with(&format!("{tenant}#")) {
                return true;
            }
            let slug = scope
                .slug
                .as_ref()
                .is_some_and(|s| partition == format!("SLUG#{s}") && op == Op::Put);
            let page = scope.page.as_ref().is_some_and(|p| {
                partition == format!("PAGE#{p}") && matches!(op, Op::Put | Op::Delete)
            });
            let directory =
                scope.directory && partition == "PLATFORM" && matches!(op, Op::Put | Op::Update);
            slug || page || directory
        }
    }

    #[async_trait]
    impl SessionFactory for Fence {
        async fn client(&self, scope: &Scope) -> Client {
            self.client_as(Some(scope.clone()))
        }
    }

    #[derive(Debug)]
    struct Recorder {
        scope: Option<Scope>,
        fence: Fence,
    }

    fn pk(item: Option<&std::collections::HashMap<String, AttributeValue>>) -> String {
        item.and_then(|i| i.get("tenant_id"))
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    }

    /// The partition a Query names: the value compared with `=` in the first key condition.
    fn query_partition(q: &QueryInput) -> String {
        let expr = q.key_condition_expression().unwrap_or_default();
        let first = expr.split(" AND ").next().unwrap_or_default();
        let value = first.split(" = ").nth(1).unwrap_or_default().trim();
        q.expression_attribute_values()
            .and_then(|v| v.get(value))
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    }

    fn items(
        input: &aws_sdk_dynamodb::config::interceptors::InterceptorContext,
    ) -> Vec<(Op, String)> {
        let Some(input) = input.input() else {
            return Vec::new();
        };
        if let Some(i) = input.downcast_ref::<GetItemInput>() {
            return vec![(Op::Get, pk(i.key.as_ref()))];
        }
        if let Some(i) = input.downcast_ref::<PutItemInput>() {
            return vec![(Op::Put, pk(i.item.as_ref()))];
        }
        if let Some(i) = input.downcast_ref::<UpdateItemInput>() {
            return vec![(Op::Update, pk(i.key.as_ref()))];
        }
        if let Some(i) = input.downcast_ref::<DeleteItemInput>() {
            return vec![(Op::Delete, pk(i.key.as_ref()))];
        }
        if let Some(i) = input.downcast_ref::<QueryInput>() {
            return vec![(Op::Query, query_partition(i))];
        }
        if let Some(i) = input.downcast_ref::<TransactWriteItemsInput>() {
            return i
                .transact_items()
                .iter()
                .filter_map(|t| {
                    if let Some(p) = t.put() {
                        Some((Op::Put, pk(Some(p.item()))))
                    } else if let Some(u) = t.update() {
                        Some((Op::Update, pk(Some(u.key()))))
                    } else if let Some(d) = t.delete() {
                        Some((Op::Delete, pk(Some(d.key()))))
                    } else {
                        t.condition_check().map(|c| (Op::Check, pk(Some(c.key()))))
                    }
                })
                .collect();
        }
        if let Some(i) = input.downcast_ref::<TransactGetItemsInput>() {
            return i
                .transact_items()
                .iter()
                .filter_map(|t| t.get().map(|g| (Op::Get, pk(Some(g.key())))))
                .collect();
        }
        Vec::new()
    }

    impl Intercept for Recorder {
        fn name(&self) -> &'static str {
            "fence"
        }

        fn read_before_execution(
            &self,
            context: &BeforeSerializationInterceptorContextRef<'_>,
            _cfg: &mut ConfigBag,
        ) -> Result<(), BoxError> {
            let found = items(context.inner());
            let mut refused = false;
            {
                let mut log = self.fence.log.lock().unwrap_or_else(|p| p.into_inner());
                for (op, partition) in found {
                    let allowed = self.fence.allows(self.scope.as_ref(), op, &partition);
                    refused |= !allowed;
                    log.push(Call {
                        scope: self.scope.clone(),
                        op,
                        partition,
                        allowed,
                    });
                }
            }
            if refused {
                return Err("AccessDenied: the fence refused a partition".into());
            }
            if !self.fence.send {
                return Err("recorded, not sent".into());
            }
            Ok(())
        }
    }
}
