//! Our JSON extractor: like `axum::Json`, but every way a body can be wrong becomes an
//! [`ApiError`] in problem+json shape, with the path of the offending field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::header;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// Reads a JSON body into `T`, or answers with 400/413/415/422 problem+json.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        parse(&bytes).map(Json)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Parses JSON bytes into `T` with our error mapping: syntax errors are 400 `malformed_json`,
/// well-formed JSON of the wrong shape is 422 naming the field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let malformed = |err: &serde_json::Error| {
        ApiError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {err}"),
        )
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                ApiError::Validation(vec![FieldError::new(field, data_message(&inner))])
            }
            _ => malformed(&inner),
        }
    })?;
    de.end().map_err(|err| malformed(&err))?;
    Ok(value)
}

/// Reads an already parsed JSON value into `T`, with the same 422 naming the field.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        ApiError::Validation(vec![FieldError::new(field, data_message(err.inner()))])
    })
}

/// serde's message without the " at line 1 column 9" suffix, which means nothing to a client
/// that is told the field path anyway.
fn data_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn is_json(headers: &http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn body_error(rejection: axum::extract::rejection::BytesRejection) -> ApiError {
    if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::bad_request("unreadable_body", rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields exist to be deserialized")]
    struct Signup {
        name: String,
        owner: Owner,
    }

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "fields exist to be deserialized")]
    struct Owner {
        email: String,
        age: u8,
    }

    fn fields(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_are_malformed_json() {
        for body in [
            "",
            "{",
            "{\"name\": }",
            "nope",
            "{\"name\":\"a\",\"owner\":{\"email\":\"e\",\"age\":1}} trailing",
        ] {
            let err = parse::<Signup>(body.as_bytes()).unwrap_err();
            assert_eq!(err.code(), "malformed_json", "body {body:?}");
            assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn shape_errors_name_the_field() {
        let err = parse::<Signup>(br#"{"name": "x", "owner": {"email": "a@b.c", "age": "old"}}"#)
            .unwrap_err();
        assert_eq!(fields(err), ["owner.age"]);
        let err = parse::<Signup>(br#"{"name": "x", "owner": {"email": "a@b.c", "age": 300}}"#)
            .unwrap_err();
        assert_eq!(fields(err), ["owner.age"]);
        let err = parse::<Signup>(br#"{"name": "x"}"#).unwrap_err();
        assert_eq!(fields(err), ["body"]);
        let err = parse::<Signup>(br#""just a string""#).unwrap_err();
        assert_eq!(fields(err), ["body"]);
    }

    #[test]
    fn content_types_that_are_json() {
        let mut headers = http::HeaderMap::new();
        assert!(!is_json(&headers));
        for (value, ok) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            assert_eq!(is_json(&headers), ok, "{value}");
        }
    }
}
