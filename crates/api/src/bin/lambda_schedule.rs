//! `fanorder-lambda-schedule`: the late-order sweep, every minute.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use fanorder_api::lambda;

fn main() -> ExitCode {
    lambda::main("fanorder-lambda-schedule", |boot| {
        lambda::schedule::run(boot.state)
    })
}
