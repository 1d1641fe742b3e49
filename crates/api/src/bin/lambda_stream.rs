//! `fanorder-lambda-stream`: outbox relay and bot on the table's stream.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use fanorder_api::lambda::{self, stream::Processor};

fn main() -> ExitCode {
    lambda::main("fanorder-lambda-stream", |boot| {
        let publishers = lambda::publishers(&boot);
        let processor = Processor::new(boot.state.table.clone(), boot.state.bot(), publishers);
        lambda::stream::run(processor)
    })
}
