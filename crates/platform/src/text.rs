//! Small validated text types shared by every crate: emails, names, slugs, phones, and the
//! `Fields` collector that reports every failing field of a request at once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, FieldError};

/// An email address, trimmed and lower-cased so one address has one spelling (and one
/// uniqueness guard).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim().to_lowercase();
        if text.len() > 254 || !email_address::EmailAddress::is_valid(&text) || !text.contains('.')
        {
            return Err("must be an email address such as ana@example.com".to_owned());
        }
        Ok(Self(text))
    }
}

impl TryFrom<String> for Email {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trimmed text of 1 to `max` characters with no control characters.
pub fn text(value: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if trimmed.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("must not contain control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// A restaurant's slug: 3 to 40 of `a-z`, `0-9` and `-`, not starting or ending with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Slug {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !(3..=40).contains(&s.len()) || !ok_chars || s.starts_with('-') || s.ends_with('-') {
            return Err(
                "must be 3 to 40 characters of a-z, 0-9 and '-', not starting or ending with '-'"
                    .to_owned(),
            );
        }
        Ok(Self(s.to_owned()))
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number as people type it: 6 to 20 digits, with an optional leading `+` and spaces,
/// dashes, dots or parentheses between them (kept as typed, trimmed).
pub fn phone(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    let digits = trimmed.chars().filter(char::is_ascii_digit).count();
    let allowed = trimmed.char_indices().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')') || (c == '+' && i == 0)
    });
    if !allowed || !(6..=20).contains(&digits) || trimmed.len() > 32 {
        return Err("must be a phone number such as +66 81 234 5678".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// An IANA time zone name (`Asia/Bangkok`) known to the bundled time zone database.
pub fn time_zone(value: &str) -> Result<String, String> {
    jiff::tz::TimeZone::get(value)
        .map(|_| value.to_owned())
        .map_err(|_| "must be an IANA time zone such as Asia/Bangkok or America/Lima".to_owned())
}

/// Collects field errors so a request learns about every bad field at once.
#[derive(Debug, Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    /// A new, empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the error of a failed check, or passes the value on.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.0.push(FieldError::new(field, err.to_string()));
                None
            }
        }
    }

    /// A required field: records "is required" when absent, else checks it.
    pub fn required<T, V, E: fmt::Display>(
        &mut self,
        field: &str,
        value: Option<V>,
        parse: impl FnOnce(V) -> Result<T, E>,
    ) -> Option<T> {
        match value {
            Some(value) => self.check(field, parse(value)),
            None => {
                self.0.push(FieldError::new(field, "is required"));
                None
            }
        }
    }

    /// An optional field: checked when present.
    pub fn optional<T, V, E: fmt::Display>(
        &mut self,
        field: &str,
        value: Option<V>,
        parse: impl FnOnce(V) -> Result<T, E>,
    ) -> Option<Option<T>> {
        match value {
            Some(value) => self.check(field, parse(value)).map(Some),
            None => Some(None),
        }
    }

    /// Records an error directly.
    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// True when nothing failed.
    pub fn is_ok(&self) -> bool {
        self.0.is_empty()
    }

    /// The 422 listing every failure (call when a required value is missing).
    pub fn into_error(self) -> ApiError {
        if self.0.is_empty() {
            return ApiError::invalid("body", "is invalid");
        }
        ApiError::Validation(self.0)
    }

    /// `Ok` when nothing failed, else the 422.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            "  Ana@Example.COM ".parse::<Email>().unwrap().as_str(),
            "ana@example.com"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@localhost",
            "a b@example.com",
            "ana@@example.com",
        ] {
            assert!(bad.parse::<Email>().is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs_time_zones_and_phones() {
        assert!("pad-thai-palace".parse::<Slug>().is_ok());
        for bad in [
            "ab",
            "-abc",
            "abc-",
            "Upper",
            "with space",
            "ñandú",
            &"a".repeat(41),
        ] {
            assert!(bad.parse::<Slug>().is_err(), "{bad}");
        }
        assert!(time_zone("Asia/Bangkok").is_ok());
        assert!(time_zone("America/Lima").is_ok());
        assert!(time_zone("Mars/Olympus").is_err());
        assert_eq!(phone(" +66 81-234-5678 ").unwrap(), "+66 81-234-5678");
        assert!(phone("12345").is_err());
        assert!(phone("call me").is_err());
        assert!(phone("66+812345678").is_err());
    }

    #[test]
    fn text_is_trimmed_bounded_and_printable() {
        assert_eq!(text("  Pad Thai  ", 100).unwrap(), "Pad Thai");
        assert!(text("   ", 100).is_err());
        assert!(text(&"x".repeat(101), 100).is_err());
        assert!(text("bell\u{7}", 100).is_err());
    }

    #[test]
    fn fields_report_every_failure() {
        let mut fields = Fields::new();
        let email = fields.required("owner.email", Some("nope"), |v: &str| v.parse::<Email>());
        let name = fields.required("name", None::<&str>, |v: &str| text(v, 10));
        let phone = fields.optional("phone", None::<&str>, phone);
        assert!(email.is_none() && name.is_none());
        assert_eq!(phone, Some(None));
        match fields.into_error() {
            ApiError::Validation(errors) => {
                let names: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(names, ["owner.email", "name"]);
                assert_eq!(errors[1].message, "is required");
            }
            other => panic!("{other:?}"),
        }
    }
}
