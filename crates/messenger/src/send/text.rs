//! Length limits: text a person reads is cut with an ellipsis, machine strings are refused.

use std::fmt;

/// The ellipsis put at the end of cut text.
pub const ELLIPSIS: char = '…';

/// The length Facebook's limits are checked against: UTF-16 code units. That is at least the
/// number of characters, so text within it is within the limit whether Facebook counts
/// characters or (as JavaScript does) UTF-16 units, emoji included.
pub fn fb_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// `text` if it fits in `max` units (see [`fb_len`]), else its longest prefix that fits with
/// an ellipsis after it (trailing whitespace before the ellipsis dropped). Never splits a
/// character.
pub fn truncate(text: &str, max: usize) -> String {
    if fb_len(text) <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let budget = max - 1; // the ellipsis is one unit
    let mut used = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        if used + c.len_utf16() > budget {
            break;
        }
        used += c.len_utf16();
        end = i + c.len_utf8();
    }
    let mut cut = text[..end].trim_end().to_owned();
    cut.push(ELLIPSIS);
    cut
}

/// The most a payload (postback, quick reply, Get Started, ice breaker) may hold.
pub const PAYLOAD_MAX: usize = 1000;

/// A developer payload sent back in postbacks and quick replies: 1 to 1000 characters. It is
/// refused rather than cut, because a cut payload would mean something else.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Payload(String);

/// A payload that is empty or longer than 1000 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a payload must be 1 to {PAYLOAD_MAX} characters, got {0}")]
pub struct InvalidPayload(pub usize);

impl Payload {
    /// Checks the length.
    pub fn new(payload: impl Into<String>) -> Result<Self, InvalidPayload> {
        let payload = payload.into();
        let len = fb_len(&payload);
        if len == 0 || len > PAYLOAD_MAX {
            return Err(InvalidPayload(len));
        }
        Ok(Self(payload))
    }

    /// The payload text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Payload {
    type Error = InvalidPayload;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<String> for Payload {
    type Error = InvalidPayload;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn short_text_is_kept_as_is() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("", 5), "");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(truncate("hello world", 8), "hello w…");
        assert_eq!(truncate("hello world", 7), "hello…");
        assert_eq!(truncate("hello", 1), "…");
        assert_eq!(truncate("hello", 0), "");
    }

    #[test]
    fn emoji_count_as_two_units_and_are_never_split() {
        // "😀" is 2 UTF-16 units.
        assert_eq!(fb_len("😀😀😀"), 6);
        assert_eq!(truncate("😀😀😀", 5), "😀😀…");
        assert_eq!(truncate("😀😀😀", 4), "😀…");
    }

    #[test]
    fn thai_text_is_cut_on_character_boundaries() {
        let text = "ข้าวผัดกุ้ง ข้าวผัดหมู";
        let cut = truncate(text, 10);
        assert_eq!(fb_len(&cut), 10);
        assert!(cut.ends_with(ELLIPSIS));
        assert!(text.starts_with(cut.trim_end_matches(ELLIPSIS)));
    }

    #[test]
    fn payloads_must_be_1_to_1000_characters() {
        assert_eq!(Payload::new(""), Err(InvalidPayload(0)));
        assert!(Payload::new("x".repeat(1000)).is_ok());
        assert_eq!(Payload::new("x".repeat(1001)), Err(InvalidPayload(1001)));
        assert_eq!(Payload::new("MENU").expect("valid").as_str(), "MENU");
        assert!(Payload::try_from("ADD:1").is_ok());
    }

    proptest! {
        #[test]
        fn truncation_always_fits_and_keeps_a_prefix(text in ".{0,80}", max in 0usize..40) {
            let cut = truncate(&text, max);
            prop_assert!(fb_len(&cut) <= max);
            if fb_len(&text) <= max {
                prop_assert_eq!(&cut, &text);
            } else if max > 0 {
                prop_assert!(cut.ends_with(ELLIPSIS));
                prop_assert!(text.starts_with(cut.trim_end_matches(ELLIPSIS)));
            }
        }
    }
}
