//! The `fanorder` binary as a person runs it: exit codes, messages, serve and migrate.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on anything unexpected"
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_fanorder");

/// The binary with a clean `FANORDER_*` environment, run in `dir`.
fn fanorder(dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("FANORDER_") {
            command.env_remove(key);
        }
    }
    command.env("FANORDER_LOG", "warn");
    command
}

fn run(command: &mut Command) -> (i32, String, String) {
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bad_store_variable_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(fanorder(dir.path())
        .arg("serve")
        .env("FANORDER_STORE", "postgres://nope"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("FANORDER_STORE"), "{stderr}");
    assert!(stderr.contains("sqlite:<path>"), "{stderr}");
}

#[test]
fn a_bad_store_flag_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(fanorder(dir.path()).args(["serve", "--store", "nope"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--store"), "{stderr}");
}

#[test]
fn production_without_secrets_exits_2_naming_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(fanorder(dir.path())
        .arg("serve")
        .env("FANORDER_ENV", "production"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("FANORDER_SECRET_KEY"), "{stderr}");
    assert!(
        !dir.path().join(".fanorder").exists(),
        "no secrets are generated in production"
    );
}

#[test]
fn migrate_on_sqlite_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let (code, stdout, stderr) =
            run(fanorder(dir.path()).args(["migrate", "--store", "sqlite:data/x.db"]));
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("data/x.db"), "{stdout}");
    }
    assert!(dir.path().join("data/x.db").exists());
}

/// A running `fanorder serve` and the address it printed.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(command: &mut Command) -> Server {
        let mut child = command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = lines.next().expect("serve printed nothing").unwrap();
        let base = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        Server { child, base }
    }

    fn get(&self, path: &str) -> (u16, String) {
        let url = format!("{}{path}", self.base);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let response = reqwest::get(&url).await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    }

    fn terminate(mut self) -> i32 {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn serve_with_no_configuration_answers_health_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&mut fanorder(dir.path()));
    assert_eq!(server.get("/healthz").0, 200);
    let (status, body) = server.get("/readyz");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("sqlite"));
    assert!(
        dir.path().join("fanorder.db").exists(),
        "the default store is ./fanorder.db"
    );
    assert!(
        dir.path().join(".fanorder/dev-secrets.json").exists(),
        "development secrets are generated"
    );
    assert_eq!(server.terminate(), 0, "a graceful stop exits 0");
}

#[test]
fn serve_and_migrate_on_dynamodb() {
    if !fanorder_store::testing::dynamodb_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = format!("dynamodb:cli-{}", fanorder_platform::id::new_ulid());
    // Before migrate the table is missing: the server runs but is not ready.
    let server = Server::start(fanorder(dir.path()).env("FANORDER_STORE", &store));
    assert_eq!(server.get("/healthz").0, 200);
    let (status, body) = server.get("/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("application/problem+json") || body.contains("\"code\":\"unavailable\""),
        "{body}"
    );
    for expected in ["created", "already existed"] {
        let (code, stdout, stderr) = run(fanorder(dir.path())
            .arg("migrate")
            .env("FANORDER_STORE", &store));
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains(expected), "{stdout}");
    }
    assert_eq!(server.get("/readyz").0, 200);
    assert_eq!(server.terminate(), 0);
}

#[test]
fn an_operator_lists_deactivates_and_reactivates_a_restaurant() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&mut fanorder(dir.path()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let login = serde_json::json!({"tenant": "cli-kitchen", "email": "owner@example.com", "password": "owner-password"});
    let login_status = || {
        runtime.block_on(async {
            let client = reqwest::Client::new();
            client
                .post(format!("{}/v1/auth/login", server.base))
                .json(&login)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    runtime.block_on(async {
        let signup = serde_json::json!({
            "name": "CLI Kitchen", "slug": "cli-kitchen", "currency": "USD", "time_zone": "UTC",
            "owner": {"email": "owner@example.com", "password": "owner-password", "name": "Owner"}
        });
        let response = reqwest::Client::new()
            .post(format!("{}/v1/tenants", server.base))
            .json(&signup)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    });
    // The operator works on the same database file while the server runs.
    let (code, stdout, stderr) = run(fanorder(dir.path()).args(["tenants", "list"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("cli-kitchen\tactive"), "{stdout}");
    let (code, stdout, stderr) =
        run(fanorder(dir.path()).args(["tenants", "deactivate", "cli-kitchen"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("deactivated"), "{stdout}");
    assert_eq!(
        login_status(),
        401,
        "a deactivated restaurant's logins fail"
    );
    let (_, stdout, _) = run(fanorder(dir.path()).args(["tenants", "list"]));
    assert!(stdout.contains("cli-kitchen\tdeactivated"), "{stdout}");
    let (code, _, stderr) =
        run(fanorder(dir.path()).args(["tenants", "reactivate", "cli-kitchen"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(login_status(), 200);
    let (code, _, stderr) =
        run(fanorder(dir.path()).args(["tenants", "deactivate", "no-such-place"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no restaurant"), "{stderr}");
    assert_eq!(server.terminate(), 0);
}

#[test]
fn demo_seeds_once_and_simulate_talks_to_the_bot() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(fanorder(dir.path()).arg("demo"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("cook@demo-thai.example"), "{stdout}");
    let (code, stdout, stderr) = run(fanorder(dir.path()).arg("demo"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("already here"), "{stdout}");

    let server = Server::start(&mut fanorder(dir.path()));
    let simulate = |args: &[&str]| {
        run(fanorder(dir.path())
            .args(["simulate", "--url", &server.base])
            .args(args))
    };
    let (code, stdout, stderr) = simulate(&["hi"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Welcome to Demo Thai Kitchen"), "{stdout}");
    let (code, stdout, stderr) = simulate(&["--psid", "2002", "2 pad thai large and a coke"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Added 2 × Pad thai (Large)"), "{stdout}");
    let (code, stdout, _) = simulate(&["--psid", "2002", "--postback", "CHECKOUT"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("Delivery or pickup?"), "{stdout}");
    let (code, stdout, _) = simulate(&["--psid", "2002", "--postback", "FUL:delivery"]);
    assert_eq!(code, 0);
    let (code, stdout2, _) = simulate(&["--psid", "2002", "--location", "13.7437,100.5566"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("deliver") && stdout2.contains("phone"),
        "{stdout}{stdout2}"
    );
    // Bad usage exits 2 with a message, like any usage error.
    let (code, _, stderr) = simulate(&["--location", "north"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = simulate(&[]);
    assert_eq!(code, 2, "{stderr}");
    // A wrong staff login is a clear failure, not a hang.
    let (code, _, stderr) = simulate(&["--password", "wrong-password", "hi"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot log in"), "{stderr}");
    assert_eq!(server.terminate(), 0);
}
