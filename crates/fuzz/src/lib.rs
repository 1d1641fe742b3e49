//! The harness the fuzz targets in `tests/targets` share: the seeds (real Messenger webhook
//! bodies), structure-aware mutations of JSON and bytes, and [`fuzz`], which runs a target for
//! a few hundred cases in `cargo test` and for a fixed time when `FANORDER_FUZZ_SECONDS` is
//! set. See `docs/fuzzing.md`.
#![forbid(unsafe_code)]

pub mod mutate;
mod run;
pub mod seeds;

pub use run::{SECONDS_VAR, SEED_VAR, fuzz};
