//! `fanorder`: parse the command, load the configuration, start telemetry, run.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use fanorder_api::cli::{self, Cli};
use fanorder_platform::{Config, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("fanorder: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.effective_log_format(), &config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("fanorder: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fanorder: {err}");
            err.exit_code()
        }
    }
}
