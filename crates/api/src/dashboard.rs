//! The staff dashboard: one HTML page, one script and one stylesheet, embedded in the binary
//! (no build step: the files in `crates/api/dashboard/` are what the browser runs). It talks to
//! the same REST API as every other client; see docs/dashboard.md.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::AppState;

const INDEX: &str = include_str!("../dashboard/index.html");
const SCRIPT: &str = include_str!("../dashboard/app.js");
const STYLE: &str = include_str!("../dashboard/style.css");

/// Only this origin's script, no inline script, no framing: a token in the page's storage is
/// only as safe as the page. Inline styles are allowed because a receipt opened from the
/// dashboard (a `blob:` document, which inherits this policy) carries its own `<style>`.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn asset(content_type: &'static str, body: String) -> Response {
    (
        fanorder_platform::web::page_headers(content_type, "no-cache", POLICY),
        body,
    )
        .into_response()
}

async fn index(State(state): State<AppState>) -> Response {
    let page = INDEX.replace(
        "{{LATE_AFTER_MINUTES}}",
        &state.config.late_after_minutes.to_string(),
    );
    asset("text/html; charset=utf-8", page)
}

/// `/` (a redirect), `/dashboard` and its two assets.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/dashboard") }))
        .route("/dashboard", get(index))
        .route(
            "/dashboard/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT.to_owned()) }),
        )
        .route(
            "/dashboard/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE.to_owned()) }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_its_own_assets() {
        assert!(INDEX.contains(r#"src="/dashboard/app.js""#));
        assert!(INDEX.contains(r#"href="/dashboard/style.css""#));
        assert!(INDEX.contains("{{LATE_AFTER_MINUTES}}"));
        assert!(
            !INDEX.contains("<script>"),
            "no inline script under the policy"
        );
        assert!(!SCRIPT.contains("innerHTML"), "text goes in as text");
    }
}
