//! The tenant a piece of work acts for. On AWS the DynamoDB adapter reads it to pick
//! credentials that reach only that tenant's partitions (docs/tenancy.md); everywhere else it is
//! informational and changes nothing.
//!
//! Two ways set it:
//! - a request: the middleware opens an empty [`request`] scope, and the code that learns the
//!   tenant from something trusted (the verified bearer token, a refresh token, the slug guard
//!   at login) calls [`act_for`]. A request acts for at most one tenant: once set, asking for
//!   another is an error, so no later step of a request for tenant A can reach tenant B.
//! - an explicit [`within`] scope around one future: the few transactions that must also write
//!   a platform item (a slug guard, a page route, the directory entry) name it in the scope.

use std::future::Future;
use std::sync::OnceLock;

use crate::error::ApiError;
use crate::id::TenantId;

/// What a piece of work may reach: one tenant's partitions and, for the transactions that need
/// them, named platform items of that tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The tenant.
    pub tenant: TenantId,
    /// The slug guard (`SLUG#<slug>`) this work may claim (signup).
    pub slug: Option<String>,
    /// The page route (`PAGE#<page id>`) this work may claim or release (connect, disconnect).
    pub page: Option<String>,
    /// Whether this work may write the tenant's directory entry (`PLATFORM`).
    pub directory: bool,
}

impl Scope {
    /// The tenant's own partitions only.
    pub fn tenant(tenant: TenantId) -> Self {
        Self {
            tenant,
            slug: None,
            page: None,
            directory: false,
        }
    }

    /// Also the slug guard `SLUG#<slug>`.
    pub fn with_slug(mut self, slug: impl Into<String>) -> Self {
        self.slug = Some(slug.into());
        self
    }

    /// Also the page route `PAGE#<page id>`.
    pub fn with_page(mut self, page_id: impl Into<String>) -> Self {
        self.page = Some(page_id.into());
        self
    }

    /// Also the tenant's directory entry in `PLATFORM`.
    pub fn with_directory(mut self) -> Self {
        self.directory = true;
        self
    }

    /// True when the scope reaches more than the tenant's own partitions.
    pub fn is_guarded(&self) -> bool {
        self.slug.is_some() || self.page.is_some() || self.directory
    }
}

/// The tenant of the request being served, set once.
#[derive(Debug, Default)]
struct RequestTenant(OnceLock<TenantId>);

tokio::task_local! {
    static REQUEST: RequestTenant;
    static EXPLICIT: Scope;
}

/// Runs a request with an empty tenant slot that [`act_for`] fills once.
pub async fn request<F: Future>(fut: F) -> F::Output {
    REQUEST.scope(RequestTenant::default(), fut).await
}

/// Makes the current request act for `tenant` from now on. Outside a request it does nothing
/// (local workers and tests have no request scope). Asking for a second, different tenant in
/// the same request is a bug and fails.
pub fn act_for(tenant: TenantId) -> Result<(), ApiError> {
    let outcome = REQUEST.try_with(|slot| {
        let set = *slot.0.get_or_init(|| tenant);
        set == tenant
    });
    match outcome {
        Ok(true) | Err(_) => Ok(()),
        Ok(false) => Err(ApiError::internal(
            "a request tried to act for a second tenant",
        )),
    }
}

/// Runs `fut` acting for `scope`, whatever the request acts for. Used for the transactions that
/// need a guarded scope, and by work that is not a request.
pub async fn within<F: Future>(scope: Scope, fut: F) -> F::Output {
    EXPLICIT.scope(scope, fut).await
}

/// The scope of the running work: an explicit one, else the request's tenant, else none (the
/// process acts for itself: platform items only, on AWS).
pub fn current() -> Option<Scope> {
    EXPLICIT.try_with(Clone::clone).ok().or_else(|| {
        REQUEST
            .try_with(|slot| slot.0.get().copied())
            .ok()
            .flatten()
            .map(Scope::tenant)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outside_any_scope_there_is_no_tenant() {
        assert_eq!(current(), None);
        assert!(
            act_for(TenantId::new()).is_ok(),
            "a no-op outside a request"
        );
        assert_eq!(current(), None);
    }

    #[tokio::test]
    async fn a_request_acts_for_the_first_tenant_it_names_and_no_other() {
        let a = TenantId::new();
        let b = TenantId::new();
        request(async {
            assert_eq!(current(), None);
            act_for(a).unwrap();
            assert_eq!(current(), Some(Scope::tenant(a)));
            act_for(a).unwrap();
            assert!(act_for(b).is_err());
            assert_eq!(current(), Some(Scope::tenant(a)));
        })
        .await;
    }

    #[tokio::test]
    async fn concurrent_requests_keep_their_own_tenant() {
        let a = TenantId::new();
        let b = TenantId::new();
        let run = |tenant| {
            request(async move {
                act_for(tenant).unwrap();
                for _ in 0..50 {
                    tokio::task::yield_now().await;
                    assert_eq!(current().map(|s| s.tenant), Some(tenant));
                }
            })
        };
        let (ra, rb) = tokio::join!(tokio::spawn(run(a)), tokio::spawn(run(b)));
        ra.unwrap();
        rb.unwrap();
    }

    #[tokio::test]
    async fn an_explicit_scope_wins_inside_and_ends_with_its_future() {
        let a = TenantId::new();
        let guarded = Scope::tenant(a).with_slug("pizza").with_directory();
        assert!(guarded.is_guarded());
        assert!(!Scope::tenant(a).is_guarded());
        request(async {
            within(guarded.clone(), async {
                assert_eq!(current(), Some(guarded.clone()));
            })
            .await;
            assert_eq!(current(), None);
        })
        .await;
    }
}
