//! `fanorder-lambda-http`: the REST API (`FANORDER_LAMBDA_ROUTES=api`) or the webhooks
//! (`webhook`) behind API Gateway.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use fanorder_api::lambda::{self, http::Routes};

fn main() -> ExitCode {
    let routes = match Routes::from_env() {
        Ok(routes) => routes,
        Err(err) => {
            eprintln!("fanorder-lambda-http: {err}");
            return ExitCode::from(2);
        }
    };
    lambda::main("fanorder-lambda-http", move |boot| {
        lambda::http::run(boot, routes)
    })
}
