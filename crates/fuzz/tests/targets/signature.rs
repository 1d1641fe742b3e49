//! The `X-Hub-Signature-256` check (`fanorder_messenger::signature_valid`). The oracle: a header
//! is accepted exactly when the app secret is set and the header, trimmed, is `sha256=`
//! followed by the HMAC-SHA256 of the raw body (hex, any case). So every other header is
//! refused: a signature of another body or under another secret, a truncated or extended one,
//! another algorithm's prefix, non-hex, random text, no header at all.

use fanorder_fuzz::mutate::{self, ByteEdit, Bytes};
use fanorder_fuzz::{fuzz, seeds};
use fanorder_messenger::{sign, signature_valid};
use proptest::prelude::*;

/// Accepted exactly when this says so.
fn should_accept(secret: &[u8], header: Option<&str>, body: &[u8]) -> bool {
    let expected = sign(secret, body);
    let expected_hex = &expected["sha256=".len()..];
    !secret.is_empty()
        && header
            .and_then(|h| h.trim().strip_prefix("sha256="))
            .is_some_and(|hex| hex.eq_ignore_ascii_case(expected_hex))
}

/// How the header of a case is made.
#[derive(Debug, Clone)]
enum Header {
    None,
    /// The right signature, in another case and with whitespace around.
    Right {
        upper: bool,
        pad: &'static str,
    },
    /// The right signature with byte edits.
    Edited(Vec<ByteEdit>),
    /// The signature of the body with byte edits.
    OfOtherBody(Vec<ByteEdit>),
    /// The signature under another secret.
    OtherSecret(Vec<u8>),
    /// A prefix and a run of (mostly) hex digits of any length.
    Shaped(&'static str, String),
    /// Anything.
    Text(String),
}

fn header() -> impl Strategy<Value = Header> {
    let edits = prop::collection::vec(mutate::byte_edit(), 1..4);
    let prefix = prop::sample::select(
        &[
            "sha256=",
            "sha256=",
            "sha1=",
            "SHA256=",
            "sha256:",
            "sha256 =",
            "",
            "sha256=sha256=",
            "sha512=",
        ][..],
    );
    prop_oneof![
        1 => Just(Header::None),
        2 => (any::<bool>(), prop::sample::select(&["", " ", "\t", "  \n"][..]))
            .prop_map(|(upper, pad)| Header::Right { upper, pad }),
        4 => edits.clone().prop_map(Header::Edited),
        2 => edits.prop_map(Header::OfOtherBody),
        2 => prop::collection::vec(any::<u8>(), 0..70).prop_map(Header::OtherSecret),
        2 => (prefix, "[0-9a-fA-F]{0,70}|[0-9a-fA-Fg-zG-Z \\-]{62,66}")
            .prop_map(|(p, hex)| Header::Shaped(p, hex)),
        1 => ".{0,100}".prop_map(Header::Text),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    secret: Bytes,
    body: Bytes,
    header: Header,
}

fn cases() -> impl Strategy<Value = Case> {
    let examples = seeds::signed_examples();
    let bodies: Vec<Vec<u8>> = examples.iter().map(|e| e.body.clone()).collect();
    let secret = prop_oneof![
        4 => prop::sample::select(examples.iter().map(|e| e.app_secret.clone()).collect::<Vec<_>>()),
        2 => prop::collection::vec(any::<u8>(), 0..80),
        1 => Just(Vec::new()),
    ];
    let body = prop_oneof![
        3 => prop::sample::select(bodies.clone()).prop_map(Bytes),
        3 => mutate::mutated_json(bodies),
        1 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Bytes),
    ];
    (secret, body, header()).prop_map(|(secret, body, header)| Case {
        secret: Bytes(secret),
        body,
        header,
    })
}

fn header_of(case: &Case) -> Option<String> {
    let Case {
        secret: Bytes(secret),
        body: Bytes(body),
        header,
    } = case;
    let right = sign(secret, body);
    Some(match header {
        Header::None => return None,
        Header::Right { upper, pad } => {
            let digits = &right["sha256=".len()..];
            let digits = if *upper {
                digits.to_uppercase()
            } else {
                digits.to_owned()
            };
            format!("{pad}sha256={digits}{pad}")
        }
        Header::Edited(edits) => mutate::edit_text(&right, edits),
        Header::OfOtherBody(edits) => {
            let mut other = body.clone();
            mutate::edit_bytes(&mut other, edits);
            sign(secret, &other)
        }
        Header::OtherSecret(other) => sign(other, body),
        Header::Shaped(prefix, hex) => format!("{prefix}{hex}"),
        Header::Text(text) => text.clone(),
    })
}

#[test]
fn fuzz_signature_check() {
    fuzz("signature", 500, cases(), |case| {
        let header = header_of(&case);
        let (Bytes(secret), Bytes(body)) = (&case.secret, &case.body);
        let accepted = signature_valid(secret, header.as_deref(), body);
        prop_assert_eq!(
            accepted,
            should_accept(secret, header.as_deref(), body),
            "header {:?}",
            header
        );
        if let Header::Right { .. } = case.header {
            prop_assert_eq!(accepted, !secret.is_empty());
        }
        Ok(())
    });
}

#[test]
fn every_worked_example_verifies_and_a_changed_byte_does_not() {
    for example in seeds::signed_examples() {
        let header = Some(example.header.as_str());
        assert!(signature_valid(&example.app_secret, header, &example.body));
        assert_eq!(sign(&example.app_secret, &example.body), example.header);
        // 64 offsets spread over the body, first and last byte included.
        let len = example.body.len();
        for at in (0..64).map(|i| i * (len - 1) / 63) {
            let mut changed = example.body.clone();
            changed[at] ^= 1;
            assert!(
                !signature_valid(&example.app_secret, header, &changed),
                "byte {at} changed"
            );
        }
    }
}
