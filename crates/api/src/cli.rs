//! The `fanorder` command line: what a person types.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use fanorder_platform::{Clock, Config, ConfigError, Secrets, Slug, StoreUrl};
use fanorder_staff::{Status, store};
use fanorder_store::dynamodb::Dynamo;
use fanorder_store::sqlite::{Sqlite, SqliteOptions};

use crate::{AppState, build_router, open_table};

/// fanorder: the backend for restaurants that sell through their Facebook pages.
#[derive(Debug, Parser)]
#[command(name = "fanorder", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole product on this machine: API, webhook, bot worker and event relay.
    Serve(ServeArgs),
    /// Create the table from schema/ (DynamoDB or DynamoDB Local), or the SQLite file. Idempotent.
    Migrate(StoreArgs),
    /// Seed a demo restaurant (staff, menu, an offline Facebook page) and print what to try.
    Demo(StoreArgs),
    /// Play a customer: sign and post a webhook to a running server, print the bot's answer.
    Simulate(SimulateArgs),
    /// Print the OpenAPI document (what openapi.yaml holds).
    Openapi,
    /// Operate on restaurants: list, deactivate, reactivate.
    Tenants {
        /// What to do.
        #[command(subcommand)]
        action: TenantAction,
        /// Which store.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Operator actions on restaurants.
#[derive(Debug, Subcommand)]
pub enum TenantAction {
    /// List every restaurant with its status.
    List,
    /// Lock a restaurant out: its tokens stop working within a minute, its logins fail.
    Deactivate {
        /// The restaurant's slug.
        slug: Slug,
    },
    /// Let a deactivated restaurant back in.
    Reactivate {
        /// The restaurant's slug.
        slug: Slug,
    },
}

/// Options of `serve`; each overrides its `FANORDER_*` variable.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [env: FANORDER_ADDR, default 127.0.0.1:3000].
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// Which store.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Options of `simulate`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("act").required(true).args(["text", "postback", "location"])))]
pub struct SimulateArgs {
    /// The Facebook page written to.
    #[arg(long, default_value = crate::demo::PAGE_ID)]
    pub page: String,
    /// The customer's page-scoped id (any digits: each one is another customer).
    #[arg(long, default_value = "2001")]
    pub psid: String,
    /// What the customer types.
    pub text: Option<String>,
    /// Press a button instead: the postback payload (e.g. MENU, CART, CHECKOUT, CONFIRM).
    #[arg(long)]
    pub postback: Option<String>,
    /// Share a location instead: `<lat>,<long>`.
    #[arg(long, value_parser = parse_location)]
    pub location: Option<(f64, f64)>,
    /// The running server [default: http://<FANORDER_ADDR>].
    #[arg(long)]
    pub url: Option<String>,
    /// The restaurant's slug, to read the answers as staff.
    #[arg(long, default_value = crate::demo::SLUG)]
    pub tenant: String,
    /// A staff login of that restaurant.
    #[arg(long, default_value = "owner@demo-thai.example")]
    pub email: String,
    /// Its password.
    #[arg(long, default_value = crate::demo::PASSWORD)]
    pub password: String,
}

fn parse_location(text: &str) -> Result<(f64, f64), String> {
    let bad = || format!("`{text}` is not <lat>,<long> (e.g. 13.7437,100.5566)");
    let (lat, long) = text.split_once(',').ok_or_else(bad)?;
    let lat: f64 = lat.trim().parse().map_err(|_| bad())?;
    let long: f64 = long.trim().parse().map_err(|_| bad())?;
    if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&long) {
        Ok((lat, long))
    } else {
        Err(bad())
    }
}

/// Which store to use.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// `sqlite:<path>` or `dynamodb:<table>` [env: FANORDER_STORE, default sqlite:fanorder.db].
    #[arg(long)]
    pub store: Option<StoreUrl>,
}

/// Why the command failed; decides the exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad or missing configuration: exit code 2, like a usage error.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Anything else: exit code 1.
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Config(_) => ExitCode::from(2),
            Self::Failed(_) => ExitCode::from(1),
        }
    }
}

/// Runs a parsed command with the loaded configuration.
pub async fn run(cli: Cli, mut config: Config) -> Result<(), CliError> {
    match cli.command {
        Command::Serve(args) => {
            if let Some(addr) = args.addr {
                config.addr = addr;
            }
            if let Some(store) = args.store.store {
                config.store = store;
            }
            serve(config).await
        }
        Command::Migrate(args) => {
            if let Some(store) = args.store {
                config.store = store;
            }
            migrate(&config).await
        }
        Command::Demo(args) => {
            if let Some(store) = args.store {
                config.store = store;
            }
            demo(config).await
        }
        Command::Simulate(args) => simulate(&config, args).await,
        Command::Openapi => {
            say(crate::openapi::yaml().trim_end());
            Ok(())
        }
        Command::Tenants { action, store } => {
            if let Some(store) = store.store {
                config.store = store;
            }
            tenants(&config, action).await
        }
    }
}

/// `fanorder tenants ...`.
pub async fn tenants(config: &Config, action: TenantAction) -> Result<(), CliError> {
    let secrets = Secrets::resolve(config)?;
    let clock = Clock::system();
    let table = open_table(config, &secrets, clock.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the store {}: {e}", config.store))?;
    let failed = |e: fanorder_platform::ApiError| CliError::Failed(anyhow::anyhow!("{e}"));
    match action {
        TenantAction::List => {
            let mut cursor: Option<String> = None;
            say("slug\tstatus\tid\tname\tcreated_at");
            loop {
                let page = store::list_tenants(&table, cursor.as_deref(), 100)
                    .await
                    .map_err(failed)?;
                for t in &page.items {
                    let status = if t.status == Status::Active {
                        "active"
                    } else {
                        "deactivated"
                    };
                    say(&format!(
                        "{}\t{status}\t{}\t{}\t{}",
                        t.slug, t.id, t.name, t.created_at
                    ));
                }
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        TenantAction::Deactivate { slug } => {
            set_status(&table, &slug, Status::Deactivated, &clock).await?
        }
        TenantAction::Reactivate { slug } => {
            set_status(&table, &slug, Status::Active, &clock).await?
        }
    }
    Ok(())
}

/// `fanorder demo`.
pub async fn demo(config: Config) -> Result<(), CliError> {
    let secrets = Secrets::resolve(&config)?;
    let clock = Clock::system();
    let table = open_table(&config, &secrets, clock.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the store {}: {e}", config.store))?;
    let state =
        AppState::new(table, config, &secrets, clock).map_err(|e| anyhow::anyhow!("{e}"))?;
    crate::demo::run(state).await?;
    Ok(())
}

/// `fanorder simulate`.
pub async fn simulate(config: &Config, args: SimulateArgs) -> Result<(), CliError> {
    let secrets = Secrets::resolve(config)?;
    let act = match (args.text, args.postback, args.location) {
        (_, Some(payload), _) => crate::simulate::Act::Postback(payload),
        (_, _, Some((lat, long))) => crate::simulate::Act::Location { lat, long },
        (Some(text), _, _) => crate::simulate::Act::Text(text),
        (None, None, None) => unreachable!("clap requires one of them"),
    };
    let scene = crate::simulate::Scene {
        base_url: args
            .url
            .unwrap_or_else(|| format!("http://{}", config.addr))
            .trim_end_matches('/')
            .to_owned(),
        app_secret: secrets.fb_app_secret.expose().to_vec(),
        page_id: args.page,
        psid: args.psid,
        login: (args.tenant, args.email, args.password),
    };
    crate::simulate::run(&scene, &act).await?;
    Ok(())
}

/// `fanorder serve`.
pub async fn serve(config: Config) -> Result<(), CliError> {
    let secrets = Secrets::resolve(&config)?;
    let clock = Clock::system();
    let table = open_table(&config, &secrets, clock.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the store {}: {e}", config.store))?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr().map_err(anyhow::Error::from)?;
    let store = config.store.to_string();
    let state =
        AppState::new(table, config, &secrets, clock).map_err(|e| anyhow::anyhow!("{e}"))?;
    let workers = crate::workers::spawn(&state).await;
    let feed = state.feed.clone();
    let app = build_router(state).into_make_service_with_connect_info::<SocketAddr>();
    tracing::info!(%addr, %store, "fanorder is listening");
    say(&format!(
        "fanorder listening on http://{addr} (store {store}); Ctrl-C to stop"
    ));
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Live streams would hold the shutdown open for minutes; their clients reconnect.
            feed.close();
        })
        .await
        .map_err(|e| anyhow::anyhow!("server error: {e}"))?;
    workers.stop().await;
    tracing::info!("fanorder stopped");
    Ok(())
}

/// `fanorder migrate`.
pub async fn migrate(config: &Config) -> Result<(), CliError> {
    match &config.store {
        StoreUrl::Sqlite(path) => {
            Sqlite::open(path, SqliteOptions::default(), Clock::system())
                .await
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
            say(&format!("sqlite database ready at {}", path.display()));
        }
        StoreUrl::Dynamodb(table) => {
            let report = Dynamo::connect(table.clone())
                .await
                .migrate()
                .await
                .map_err(|e| anyhow::anyhow!("cannot migrate table {table}: {e}"))?;
            let created = if report.created {
                "created"
            } else {
                "already existed"
            };
            say(&format!("dynamodb table {table} {created}"));
            for index in &report.indexes_added {
                say(&format!("  added index {index}"));
            }
            if report.ttl_enabled {
                say("  turned on TTL");
            }
        }
    }
    Ok(())
}

async fn set_status(
    table: &fanorder_store::Table,
    slug: &Slug,
    status: Status,
    clock: &Clock,
) -> Result<(), CliError> {
    let failed = |e: fanorder_platform::ApiError| CliError::Failed(anyhow::anyhow!("{e}"));
    let tenant = store::tenant_by_slug(table, slug)
        .await
        .map_err(failed)?
        .ok_or_else(|| CliError::Failed(anyhow::anyhow!("no restaurant with the slug {slug}")))?;
    store::set_tenant_status(table, &tenant.id, status, clock.now())
        .await
        .map_err(failed)?;
    let word = if status == Status::Active {
        "reactivated"
    } else {
        "deactivated"
    };
    say(&format!("{slug} ({}) {word}", tenant.id));
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM; in-flight requests then finish before the process exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// A line for the person at the terminal.
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}
