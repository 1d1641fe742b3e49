//! Tenant-scoped DynamoDB credentials (the AWS SaaS Factory pattern): when a tenant access role
//! is configured, work that acts for a tenant ([`fanorder_platform::tenancy`]) talks to DynamoDB
//! with credentials from `sts:AssumeRole` on that role, tagged with the tenant, whose policy only
//! reaches `T#<tenant>` and `T#<tenant>#*`. A bug that builds another tenant's key gets
//! `AccessDeniedException` instead of the other tenant's data. Work that acts for nobody keeps
//! the process's own credentials (platform items only). See docs/tenancy.md.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_config::identity::IdentityCache;
use aws_config::sts::AssumeRoleProvider;
use aws_sdk_dynamodb::Client;
use fanorder_platform::tenancy::Scope;

/// The session tag that carries the bare tenant id (a ULID, without `T#`); the tenant role's
/// policy reaches `T#${aws:PrincipalTag/tenant}` and `T#${aws:PrincipalTag/tenant}#*`.
pub const TENANT_TAG: &str = "tenant";
/// The session tag naming the one slug guard a signup may claim (`SLUG#${aws:PrincipalTag/slug}`).
pub const SLUG_TAG: &str = "slug";
/// The session tag naming the one page route a connect or disconnect may write
/// (`PAGE#${aws:PrincipalTag/page}`).
pub const PAGE_TAG: &str = "page";
/// The session tag that lets a session write the `PLATFORM` directory (its value: the tenant id).
pub const DIRECTORY_TAG: &str = "directory";
/// How long an assumed session lasts: the most role chaining allows.
pub const SESSION_LENGTH: Duration = Duration::from_secs(3600);
/// Credentials are renewed this long before they expire, so no request runs on expiring ones.
pub const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// The session tags for a scope, in a fixed order.
pub fn session_tags(scope: &Scope) -> Vec<(&'static str, String)> {
    let mut tags = vec![(TENANT_TAG, scope.tenant.to_string())];
    if let Some(slug) = &scope.slug {
        tags.push((SLUG_TAG, slug.clone()));
    }
    if let Some(page) = &scope.page {
        tags.push((PAGE_TAG, page.clone()));
    }
    if scope.directory {
        tags.push((DIRECTORY_TAG, scope.tenant.to_string()));
    }
    tags
}

/// Makes a DynamoDB client whose credentials reach only what a scope may reach.
#[async_trait]
pub trait SessionFactory: Send + Sync + 'static {
    /// A client for `scope`. Called once per scope while it is cached; the client is expected
    /// to renew its own credentials.
    async fn client(&self, scope: &Scope) -> Client;
}

/// Clients per scope, made once and reused: the first request of a tenant in a warm
/// environment pays the `AssumeRole`, the rest reuse the client (whose credentials renew
/// themselves [`RENEW_BEFORE`] expiry).
#[derive(Clone)]
pub struct Sessions {
    factory: Arc<dyn SessionFactory>,
    clients: moka::future::Cache<Scope, Client>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("cached", &self.clients.entry_count())
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions made by `factory`.
    pub fn new(factory: Arc<dyn SessionFactory>) -> Self {
        Self {
            factory,
            clients: moka::future::Cache::builder()
                .max_capacity(10_000)
                // An idle tenant's client goes; its next request assumes the role again.
                .time_to_idle(Duration::from_secs(30 * 60))
                .build(),
        }
    }

    /// The client for `scope` (made on first use).
    pub async fn client(&self, scope: &Scope) -> Client {
        let factory = self.factory.clone();
        let key = scope.clone();
        self.clients
            .get_with(key, async move { factory.client(scope).await })
            .await
    }
}

/// The production factory: `sts:AssumeRole` on the tenant access role with the scope's session
/// tags, from the process's own credentials; the connection pool and configuration are shared
/// with every other client of the process.
#[derive(Debug, Clone)]
pub struct AssumeRoleSessions {
    base: SdkConfig,
    role_arn: String,
}

impl AssumeRoleSessions {
    /// Sessions on `role_arn`, assumed with the credentials of `base`.
    pub fn new(base: SdkConfig, role_arn: impl Into<String>) -> Self {
        Self {
            base,
            role_arn: role_arn.into(),
        }
    }

    /// The session name CloudTrail shows: the tenant, and which guard when there is one.
    fn session_name(scope: &Scope) -> String {
        let kind = match (&scope.slug, &scope.page, scope.directory) {
            (Some(_), _, _) => "signup",
            (_, Some(_), _) => "page",
            (_, _, true) => "profile",
            _ => "t",
        };
        // Session names allow [\w+=,.@-], 2 to 64 characters; a ULID is 26.
        format!("{kind}-{}", scope.tenant)
    }
}

#[async_trait]
impl SessionFactory for AssumeRoleSessions {
    async fn client(&self, scope: &Scope) -> Client {
        let provider = AssumeRoleProvider::builder(&self.role_arn)
            .session_name(Self::session_name(scope))
            .session_length(SESSION_LENGTH)
            .tags(session_tags(scope))
            .configure(&self.base)
            .build()
            .await;
        let config = aws_sdk_dynamodb::config::Builder::from(&self.base)
            .credentials_provider(provider)
            .identity_cache(IdentityCache::lazy().buffer_time(RENEW_BEFORE).build())
            .build();
        Client::from_conf(config)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use fanorder_platform::TenantId;
    use fanorder_platform::tenancy::{self, Scope};

    use super::*;
    use crate::dynamodb::Dynamo;
    use crate::model::Key;
    use crate::table::Backend;
    use crate::testing::fence::{Fence, Op};

    /// Counts the sessions a fence makes.
    struct Counting(Fence, AtomicUsize);

    #[async_trait]
    impl SessionFactory for Counting {
        async fn client(&self, scope: &Scope) -> Client {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.client(scope).await
        }
    }

    const API_OWN: [&str; 3] = ["SLUG#*", "PLATFORM", "PING"];

    #[tokio::test]
    async fn each_tenant_gets_its_own_session_made_once() {
        let counting = Arc::new(Counting(
            Fence::recording_only(&API_OWN),
            AtomicUsize::new(0),
        ));
        let sessions = Sessions::new(counting.clone());
        let (a, b) = (TenantId::new(), TenantId::new());
        for _ in 0..3 {
            sessions.client(&Scope::tenant(a)).await;
            sessions.client(&Scope::tenant(b)).await;
        }
        assert_eq!(counting.1.load(Ordering::SeqCst), 2);
        sessions.client(&Scope::tenant(a).with_slug("pizza")).await;
        assert_eq!(
            counting.1.load(Ordering::SeqCst),
            3,
            "a guarded scope is its own session"
        );
    }

    #[tokio::test]
    async fn work_for_tenant_a_never_uses_tenant_b_credentials() {
        let fence = Fence::recording_only(&API_OWN);
        let store = Arc::new(Dynamo::new(fence.own_client(), "t").with_sessions(fence.sessions()));
        let (a, b) = (TenantId::new(), TenantId::new());
        let mut tasks = Vec::new();
        for i in 0..40 {
            let store = store.clone();
            let tenant = if i % 2 == 0 { a } else { b };
            tasks.push(tokio::spawn(tenancy::request(async move {
                tenancy::act_for(tenant).expect("first tenant");
                for n in 0..5 {
                    tokio::task::yield_now().await;
                    let key = Key::new(tenant.partition(), format!("ORDER#{i}-{n}"));
                    let _ = store.get(&key, 0).await;
                }
            })));
        }
        // A request that learnt no tenant reads a platform item with the process's own role.
        let platform = store.clone();
        tasks.push(tokio::spawn(tenancy::request(async move {
            let _ = platform.get(&Key::new("SLUG#pizza", "SLUG"), 0).await;
        })));
        for task in tasks {
            task.await.expect("task");
        }
        let calls = fence.calls();
        assert_eq!(calls.len(), 201);
        for call in &calls {
            match &call.scope {
                Some(scope) => assert_eq!(call.partition, scope.tenant.partition(), "{call:?}"),
                None => assert_eq!(call.partition, "SLUG#pizza"),
            }
            assert!(call.allowed, "{call:?}");
        }

        // A handler bug that builds tenant B's key while acting for A is refused before sending.
        tenancy::request(async {
            tenancy::act_for(a).expect("first tenant");
            let err = store
                .get(&Key::new(b.partition(), "ORDER#1"), 0)
                .await
                .expect_err("refused");
            assert!(err.to_string().contains("AccessDenied"), "{err}");
        })
        .await;
        let refused = fence.refused();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].scope, Some(Scope::tenant(a)));
        assert_eq!(refused[0].op, Op::Get);
    }

    #[test]
    fn tags_carry_the_bare_tenant_id_and_only_the_guards_asked_for() {
        let t = TenantId::new();
        assert_eq!(
            session_tags(&Scope::tenant(t)),
            vec![(TENANT_TAG, t.to_string())]
        );
        assert!(!t.to_string().starts_with("T#"), "the policy adds T#");
        assert_eq!(
            session_tags(&Scope::tenant(t).with_page("123").with_directory()),
            vec![
                (TENANT_TAG, t.to_string()),
                (PAGE_TAG, "123".to_owned()),
                (DIRECTORY_TAG, t.to_string())
            ]
        );
        let name = AssumeRoleSessions::session_name(&Scope::tenant(t).with_slug("x"));
        assert_eq!(name, format!("signup-{t}"));
        assert!(name.len() <= 64);
    }
}
