//! The `X-Hub-Signature-256` check: Facebook signs each webhook body with the app secret.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header that carries the signature, `sha256=<64 hex digits>`.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// True when `header` (the `X-Hub-Signature-256` value) is `sha256=` followed by the hex
/// HMAC-SHA256 of the RAW `body` bytes under `app_secret`. Check before parsing: re-serialized
/// JSON would not match. The comparison is constant-time (`Mac::verify_slice`). False for a
/// missing header, another algorithm, bad hex, a wrong length, and an empty app secret (a
/// misconfiguration that must not accept anything).
pub fn signature_valid(app_secret: &[u8], header: Option<&str>, body: &[u8]) -> bool {
    if app_secret.is_empty() {
        return false;
    }
    let Some(hex_digest) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    if expected.len() != 32 {
        return false;
    }
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(app_secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The `X-Hub-Signature-256` value Facebook would send for `body`: what `fanorder simulate` and
/// the tests sign their payloads with.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length; an error here cannot happen.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(app_secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde::Deserialize;

    use super::*;

    #[test]
    fn a_signed_body_verifies_and_a_changed_one_does_not() {
        let header = sign(b"secret", b"{\"object\":\"page\"}");
        assert!(signature_valid(
            b"secret",
            Some(&header),
            b"{\"object\":\"page\"}"
        ));
        assert!(!signature_valid(
            b"secret",
            Some(&header),
            b"{\"object\":\"page\" }"
        ));
        assert!(!signature_valid(
            b"other",
            Some(&header),
            b"{\"object\":\"page\"}"
        ));
    }

    #[derive(Deserialize)]
    struct Example {
        file: String,
        app_secret: String,
        x_hub_signature_256: String,
    }

    fn fixtures() -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/messenger");
        assert!(
            dir.is_dir(),
            "the fixtures folder {} is missing",
            dir.display()
        );
        dir
    }

    fn examples() -> Vec<(Example, Vec<u8>)> {
        let dir = fixtures();
        let list = std::fs::read(dir.join("signatures.json")).expect("signatures.json");
        let examples: Vec<Example> = serde_json::from_slice(&list).expect("signatures.json parses");
        assert!(!examples.is_empty(), "signatures.json has no examples");
        examples
            .into_iter()
            .map(|e| {
                let body = std::fs::read(dir.join(&e.file)).expect("fixture file");
                (e, body)
            })
            .collect()
    }

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("any key length");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn every_worked_example_in_signatures_json_is_valid() {
        for (example, body) in examples() {
            assert!(
                signature_valid(
                    example.app_secret.as_bytes(),
                    Some(&example.x_hub_signature_256),
                    &body
                ),
                "{}",
                example.file
            );
            assert_eq!(
                sign(example.app_secret.as_bytes(), &body),
                example.x_hub_signature_256
            );
        }
    }

    #[test]
    fn another_secret_or_a_changed_body_is_rejected() {
        for (example, body) in examples() {
            let header = Some(example.x_hub_signature_256.as_str());
            assert!(
                !signature_valid(b"another-secret", header, &body),
                "{}",
                example.file
            );
            let mut changed = body.clone();
            changed.push(b'\n');
            assert!(!signature_valid(
                example.app_secret.as_bytes(),
                header,
                &changed
            ));
            // Re-serialized JSON is not the raw bytes Facebook signed.
            let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
            let reserialized = serde_json::to_vec(&value).expect("json");
            if reserialized != body {
                assert!(!signature_valid(
                    example.app_secret.as_bytes(),
                    header,
                    &reserialized
                ));
            }
        }
    }

    #[test]
    fn uppercase_hex_is_accepted() {
        let header = sign(b"s", b"body")
            .to_uppercase()
            .replace("SHA256=", "sha256=");
        assert!(signature_valid(b"s", Some(&header), b"body"));
    }

    #[test]
    fn missing_or_malformed_headers_are_rejected() {
        let good = sign(b"s", b"body");
        let digest = good.trim_start_matches("sha256=");
        let malformed = [
            String::new(),
            "sha256=".to_owned(),
            digest.to_owned(),
            format!("sha1={digest}"),
            format!("SHA256={digest}"),
            format!("sha256={}", &digest[..62]),
            format!("sha256={digest}00"),
            format!("sha256={}zz", &digest[..62]),
        ];
        assert!(!signature_valid(b"s", None, b"body"));
        for header in &malformed {
            assert!(!signature_valid(b"s", Some(header), b"body"), "{header:?}");
        }
        assert!(signature_valid(b"s", Some(&good), b"body"));
    }

    #[test]
    fn an_empty_app_secret_accepts_nothing() {
        let header = sign(b"", b"body");
        assert!(!signature_valid(b"", Some(&header), b"body"));
    }
}
