//! The fuzz targets, one module each: the webhook body parser, the signature check, the
//! free-text order reader, cursor decoding and JWT verification. Each runs a few hundred cases
//! in `cargo test`; `scripts/fuzz` runs them for a fixed time (see `docs/fuzzing.md`).

mod cursor;
mod jwt;
mod reader;
mod signature;
mod webhook;
