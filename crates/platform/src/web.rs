//! Responses that are pages for people rather than API answers (the dashboard, the mock
//! payment checkout): the headers each carries so a browser runs and shares only what it should.

use axum::http::{HeaderName, HeaderValue, header};

/// The headers of a page or asset for a browser: its type, how it may be cached, its content
/// security policy, no type sniffing, and no referrer sent onwards.
pub fn page_headers(
    content_type: &'static str,
    cache: &'static str,
    policy: &'static str,
) -> [(HeaderName, HeaderValue); 5] {
    [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ]
}
