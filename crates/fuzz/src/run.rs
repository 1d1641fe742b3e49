//! The loop: a bounded number of cases in a normal `cargo test`, fresh batches until a deadline
//! in the long run.

use std::cell::Cell;
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{
    Config, RngAlgorithm, RngSeed, TestCaseError, TestCaseResult, TestError, TestRunner,
};

/// When set to a number of seconds, each target runs for that long (in batches, each from a
/// fresh seed) instead of its few CI cases, and prints how many cases it ran.
pub const SECONDS_VAR: &str = "FANORDER_FUZZ_SECONDS";

/// Replays one batch from the seed a finding printed (with the same `FANORDER_FUZZ_SECONDS`
/// setting, so the batch has the same size).
pub const SEED_VAR: &str = "FANORDER_FUZZ_SEED";

/// Cases per batch in the long run: a finding is replayed from its batch's seed.
const LONG_BATCH: u32 = 250;

/// One case taking longer than this is a finding: a parser that can be made this slow is a
/// way to take the service down.
const SLOW_CASE: Duration = Duration::from_secs(20);

/// How long shrinking a finding may take before the best input so far is reported.
const SHRINK_MS: u32 = 120_000;

/// Runs `test` on inputs from `strategy`. In `cargo test`, `ci_cases` inputs from a random
/// seed; with [`SECONDS_VAR`] set, batches of inputs until that many seconds have passed. A
/// failing, panicking or very slow case panics with the shrunk input and the seed that replays
/// it.
pub fn fuzz<S, F>(target: &str, ci_cases: u32, strategy: S, test: F)
where
    S: Strategy,
    F: Fn(S::Value) -> TestCaseResult,
{
    let budget = env_number(SECONDS_VAR).map(Duration::from_secs);
    let replay = env_number(SEED_VAR);
    let batch = if budget.is_some() {
        LONG_BATCH
    } else {
        ci_cases
    };
    let started = Instant::now();
    let slowest = Cell::new(Duration::ZERO);
    let timed = |value: S::Value| {
        let start = Instant::now();
        let result = test(value);
        let took = start.elapsed();
        slowest.set(slowest.get().max(took));
        if took > SLOW_CASE {
            return Err(TestCaseError::fail(format!("one case took {took:?}")));
        }
        result
    };
    let mut cases: u64 = 0;
    loop {
        let seed = replay.unwrap_or_else(rand::random);
        let mut runner = TestRunner::new(Config {
            cases: batch,
            failure_persistence: None,
            rng_algorithm: RngAlgorithm::ChaCha,
            rng_seed: RngSeed::Fixed(seed),
            max_shrink_time: SHRINK_MS,
            ..Config::default()
        });
        match runner.run(&strategy, timed) {
            Ok(()) => cases += u64::from(batch),
            Err(TestError::Fail(why, input)) => panic!(
                "fuzz target {target}: FINDING after {cases} passing cases: {why}\n\
                 minimal input: {input:#?}\n\
                 replay: {SEED_VAR}={seed} (with the same {SECONDS_VAR} setting)"
            ),
            Err(TestError::Abort(why)) => {
                panic!("fuzz target {target}: aborted after {cases} cases: {why}")
            }
        }
        let done = match budget {
            None => true,
            Some(budget) => replay.is_some() || started.elapsed() >= budget,
        };
        if done {
            break;
        }
    }
    if budget.is_some() {
        eprintln!(
            "fuzz target {target}: {cases} cases in {:.1} s, slowest case {:.1} ms, 0 findings",
            started.elapsed().as_secs_f64(),
            slowest.get().as_secs_f64() * 1000.0
        );
    }
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name} must be a whole number, not {value:?}"),
    }
}
