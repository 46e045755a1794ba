//! The reference service on tokenkeep: setup claim, the token REST API, a
//! route-scoped file area, a WebSocket, and `token …` operator commands.
//! Its contract is `docs/reference-server.md`.
//!
//! ```sh
//! cargo run -p tokenkeep-server                  # SQLite in ./data
//! cargo run -p tokenkeep-server -- token list    # operators
//! cargo run -p tokenkeep-server -- --help        # every option, grouped
//! ```

mod api;
mod app;
mod body_deadline;
mod client;
mod files;
mod guard;
mod json_body;
mod limits;
mod listener;
mod log_line;
mod observe;
mod operator;
mod private;
mod socket;
mod state;
mod store;
mod view;
mod web;
mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokenkeep::limiter::{RedisRateLimiter, WhenUnavailable};
use tokenkeep::{Prefix, TemporaryToken, TokenManager, TokenSecret};

/// The reference tokenkeep service: API tokens for a small file service,
/// with a setup claim, a token REST API, the tokens panel and operator
/// commands. Every option can also be set by the environment variable
/// shown beside it.
#[derive(Debug, Parser)]
#[command(name = "tokenkeep-server", version, after_help = EXAMPLES)]
struct Cli {
    /// Address to listen on.
    #[arg(
        long,
        env = "TOKENKEEP_LISTEN",
        default_value = "127.0.0.1:8080",
        help_heading = "Listening"
    )]
    listen: SocketAddr,
    /// Seconds a connection gets to send a whole request head, new or idle
    /// between requests; a request body may pause no longer.
    #[arg(
        long,
        env = "TOKENKEEP_HEADER_TIMEOUT",
        default_value_t = 10,
        value_name = "SECS",
        help_heading = "Listening"
    )]
    header_timeout: u64,
    /// Seconds a request body gets to arrive whole.
    #[arg(
        long,
        env = "TOKENKEEP_BODY_TIMEOUT",
        default_value_t = 30,
        value_name = "SECS",
        help_heading = "Listening"
    )]
    body_timeout: u64,
    /// The most connections served at once (keep it below the process's
    /// file descriptor limit).
    #[arg(
        long,
        env = "TOKENKEEP_MAX_CONNECTIONS",
        default_value_t = 512,
        value_name = "N",
        help_heading = "Listening"
    )]
    max_connections: usize,
    /// Seconds a WebSocket may receive nothing before it is closed.
    #[arg(
        long,
        env = "TOKENKEEP_WS_IDLE_TIMEOUT",
        default_value_t = 60,
        value_name = "SECS",
        help_heading = "Listening"
    )]
    ws_idle_timeout: u64,
    /// The most WebSockets one token may hold open at once.
    #[arg(
        long,
        env = "TOKENKEEP_WS_PER_TOKEN",
        default_value_t = 8,
        value_name = "N",
        help_heading = "Listening"
    )]
    ws_per_token: usize,

    /// Directory for the SQLite database and the file area (made private:
    /// 0700, files 0600).
    #[arg(
        long,
        env = "TOKENKEEP_DATA_DIR",
        default_value = "./data",
        value_name = "DIR",
        help_heading = "Storage"
    )]
    data_dir: PathBuf,
    /// `postgres://…`, `mysql://…` (MySQL or MariaDB) or `sqlite://…`;
    /// wins over the data directory for the database (the file area stays
    /// in the data directory).
    #[arg(long, env = "TOKENKEEP_DATABASE_URL", value_name = "URL", help_heading = "Storage")]
    database_url: Option<String>,
    /// How often, in milliseconds, each instance on a MySQL database reads
    /// the change feed for the other instances' revokes: the bound on how
    /// long one is still accepted elsewhere.
    #[arg(
        long,
        env = "TOKENKEEP_CHANGE_FEED_POLL_MS",
        default_value_t = 100,
        value_name = "MS",
        help_heading = "Storage"
    )]
    change_feed_poll_ms: u64,
    /// How often, in milliseconds, the cache in front of SQLite reads the
    /// file's commit counter to see revokes the operator's `token` commands
    /// make. 0 reads it before every answer, so such a revoke takes effect
    /// at once; N reads it every N ms on a thread of its own, which saves
    /// a system call per request and accepts a token so revoked for up to
    /// N ms more.
    #[arg(
        long,
        env = "TOKENKEEP_COMMIT_CHECK_MS",
        default_value_t = 0,
        value_name = "MS",
        help_heading = "Storage"
    )]
    commit_check_ms: u64,

    /// Token prefix (`tk` makes `tk_…` tokens).
    #[arg(
        long,
        env = "TOKENKEEP_PREFIX",
        default_value = "tk",
        help_heading = "Tokens and policy"
    )]
    prefix: String,
    /// A temporary manager token, never stored (repeatable). It shows in
    /// `ps`: prefer `--tokens` (from the environment) or `--token-file`.
    #[arg(long = "token", value_name = "NAME:SECRET", help_heading = "Tokens and policy")]
    tokens: Vec<String>,
    /// Temporary manager tokens, `NAME:SECRET` each, separated by commas
    /// or newlines (a legacy single admin bearer is `admin:SECRET`).
    #[arg(
        long = "tokens",
        env = "TOKENKEEP_TOKENS",
        value_name = "NAME:SECRET,...",
        hide_env_values = true,
        help_heading = "Tokens and policy"
    )]
    env_tokens: Option<String>,
    /// A file of temporary manager tokens, `NAME:SECRET` per line; refused
    /// if other users may read it.
    #[arg(
        long,
        env = "TOKENKEEP_TOKEN_FILE",
        value_name = "PATH",
        help_heading = "Tokens and policy"
    )]
    token_file: Option<PathBuf>,
    /// A file of minting keys, one per line in hex (64 digits or more):
    /// the first tags every token minted, the others (being rotated out)
    /// are still accepted. A token of the prefix whose tag they did not make
    /// is refused before any database query. Refused if other users may
    /// read it.
    #[arg(
        long,
        env = "TOKENKEEP_MINT_KEY_FILE",
        value_name = "PATH",
        help_heading = "Tokens and policy"
    )]
    mint_key_file: Option<PathBuf>,
    /// With `--mint-key-file`: refuse tokens that carry no minting tag
    /// (minted before the key, adopted, imported) without a query, once
    /// none that must verify is left.
    #[arg(long, env = "TOKENKEEP_REFUSE_UNTAGGED_TOKENS", help_heading = "Tokens and policy")]
    refuse_untagged_tokens: bool,
    /// Let anyone claim a fresh instance without the setup token
    /// (`TOKENKEEP_SETUP_TOKEN`, generated and printed once when unset).
    /// Trusted development only.
    #[arg(
        long,
        env = "TOKENKEEP_DANGEROUSLY_SKIP_SETUP_TOKEN",
        help_heading = "Tokens and policy"
    )]
    dangerously_skip_setup_token: bool,
    /// The most active tokens one owner may hold.
    #[arg(
        long,
        env = "TOKENKEEP_MAX_TOKENS_PER_OWNER",
        default_value_t = 10,
        value_name = "N",
        help_heading = "Tokens and policy"
    )]
    max_tokens_per_owner: usize,
    /// The longest a token may live (`90d`, `1y`); every token must then
    /// expire within it. No limit by default.
    #[arg(
        long,
        env = "TOKENKEEP_MAX_TOKEN_LIFETIME",
        value_name = "DURATION",
        help_heading = "Tokens and policy"
    )]
    max_token_lifetime: Option<String>,
    /// Revoke a rotated token's successors when the retired token is
    /// presented again (rotation reuse detection). Whoever holds an old
    /// token can then revoke the current one.
    #[arg(long, env = "TOKENKEEP_DETECT_ROTATION_REUSE", help_heading = "Tokens and policy")]
    detect_rotation_reuse: bool,

    /// A reverse proxy in front of the server (CIDR, repeatable; commas in
    /// the variable): requests from it are taken to come from the address
    /// it puts in `X-Forwarded-For`, for tokens with address allow-lists.
    #[arg(
        long = "trusted-proxy",
        env = "TOKENKEEP_TRUSTED_PROXIES",
        value_name = "CIDR",
        value_delimiter = ',',
        help_heading = "Proxies"
    )]
    trusted_proxies: Vec<tokenkeep::record::IpNet>,

    /// The most calls a minute one client address may make to the
    /// unauthenticated `POST /api/credentials/revoke`.
    #[arg(
        long,
        env = "TOKENKEEP_CREDENTIAL_REVOKE_RATE",
        default_value_t = 60,
        value_name = "N",
        help_heading = "Verify from anything that speaks HTTP"
    )]
    credential_revoke_rate: u32,
    /// The keys document of a secret scanning program (GitHub's
    /// `public_keys` JSON): leaked-token reports signed by one of them are
    /// received at `POST /api/secret-scanning`; without it, that answers 404.
    #[arg(
        long,
        env = "TOKENKEEP_LEAK_REPORT_KEYS",
        value_name = "FILE",
        help_heading = "Verify from anything that speaks HTTP"
    )]
    leak_report_keys: Option<PathBuf>,

    /// A Redis whose counts every instance shares for tokens' rate limits
    /// (`redis://host:6379`); without it, each process counts its own.
    #[arg(
        long,
        env = "TOKENKEEP_RATE_LIMIT_REDIS",
        value_name = "URL",
        help_heading = "Scaling out"
    )]
    rate_limit_redis: Option<String>,
    /// What rate-limited requests meet while that Redis cannot be reached:
    /// limits counted in this process, or 503.
    #[arg(
        long,
        env = "TOKENKEEP_RATE_LIMIT_REDIS_DOWN",
        value_enum,
        default_value = "in-process",
        help_heading = "Scaling out"
    )]
    rate_limit_redis_down: RedisDown,

    /// How log lines look on standard error (which lines: `RUST_LOG`,
    /// `info` by default when serving, `warn` for other commands).
    #[arg(
        long,
        env = "TOKENKEEP_LOG_FORMAT",
        value_enum,
        default_value = "text",
        help_heading = "Logs"
    )]
    log_format: observe::LogFormat,

    #[command(subcommand)]
    command: Option<Command>,
}

/// One invocation per storage, shown after the options.
const EXAMPLES: &str = "\
Examples:
  # SQLite in ./data, the embedded default
  tokenkeep-server

  # SQLite in a directory of its own, on every interface
  tokenkeep-server --data-dir /var/lib/tokenkeep --listen 0.0.0.0:8080

  # PostgreSQL, several instances behind a proxy at 10.0.0.0/8
  TOKENKEEP_DATABASE_URL=postgres://tokens@db.internal/tokens \\
    tokenkeep-server --listen 0.0.0.0:8080 --trusted-proxy 10.0.0.0/8

  # An operator's command on the same data, no server needed
  tokenkeep-server token list";

#[derive(Debug, Subcommand)]
// Parsed once per process: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Manage tokens on the same data, without a server.
    #[command(subcommand)]
    Token(operator::TokenCommand),
    /// Be a client of a running server (login, logout, whoami, upgrade).
    #[command(flatten)]
    Client(client::ClientCommand),
}

/// The setup token: configured, or generated and shown once while unclaimed.
const SETUP_TOKEN_VAR: &str = "TOKENKEEP_SETUP_TOKEN";

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

async fn run(mut cli: Cli) -> Result<ExitCode, String> {
    // The data directory holds the file area whatever the database: it is
    // made private at every start, with a database URL too.
    if !matches!(cli.command, Some(Command::Client(_))) {
        private::tighten(&cli.data_dir, store::SQLITE_FILE)
            .map_err(|e| format!("cannot secure {}: {e}", cli.data_dir.display()))?;
    }
    match cli.command.take() {
        Some(Command::Client(command)) => Ok(client::run(command).await),
        Some(Command::Token(command)) => {
            observe::init_logging(cli.log_format, "warn");
            let opened = store::open(&store::Location::of(&cli), &cli.data_dir).await?;
            let service = build_service(&cli, opened.store, Role::Operator).await?;
            Ok(operator::run(&service, command).await)
        }
        None | Some(Command::Serve) => {
            observe::init_logging(cli.log_format, "info");
            let metrics = observe::install_metrics()?;
            let opened = store::open(&store::Location::of(&cli), &cli.data_dir).await?;
            let service = build_service(&cli, opened.store.clone(), Role::Server).await?;
            let limits = listener::Limits {
                header_timeout: std::time::Duration::from_secs(cli.header_timeout.max(1)),
                body_timeout: std::time::Duration::from_secs(cli.body_timeout.max(1)),
                max_connections: cli.max_connections,
            };
            let socket_limits = ws::SocketLimits {
                idle_timeout: std::time::Duration::from_secs(cli.ws_idle_timeout.max(1)),
                per_token: cli.ws_per_token,
            };
            let mut endpoints = tokenkeep::axum::Endpoints::new(service.clone())
                .credential_revocations_per_minute(cli.credential_revoke_rate);
            if let Some(path) = &cli.leak_report_keys {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let keys = tokenkeep::http::LeakReportKeys::from_json(&text)
                    .map_err(|e| format!("--leak-report-keys {}: {e}", path.display()))?;
                endpoints = endpoints.leak_report_keys(keys);
            }
            app::serve(
                (service, endpoints),
                metrics,
                cli.listen,
                (limits, socket_limits),
                &cli.data_dir,
                &opened.description,
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What rate-limited requests meet while the shared Redis is away.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum RedisDown {
    /// Limits counted in this process meanwhile.
    InProcess,
    /// 503 for every rate-limited token.
    Refuse,
}

/// Only a server that can still be claimed needs a setup token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Server,
    Operator,
}

async fn build_service(
    cli: &Cli,
    store: std::sync::Arc<dyn tokenkeep::store::ManageStore>,
    role: Role,
) -> Result<TokenManager, String> {
    let claimed = store.has_ever_held_token().await.map_err(|e| e.to_string())?;
    let prefix = Prefix::new(&cli.prefix).map_err(|e| e.to_string())?;
    let max_lifetime = cli
        .max_token_lifetime
        .as_deref()
        .map(tokenkeep::expiry::parse_duration)
        .transpose()
        .map_err(|e| format!("--max-token-lifetime: {e}"))?;
    let mut builder = TokenManager::builder(store, prefix)
        .max_active_per_owner(Some(cli.max_tokens_per_owner))
        .max_lifetime(max_lifetime)
        .detect_rotation_reuse(cli.detect_rotation_reuse)
        .trusted_proxies(cli.trusted_proxies.clone())
        // `token create --secret` adopts secrets minted by another system.
        .accept_custom_secrets(true)
        // A store that does not answer fails closed, it does not hang requests.
        .store_timeout(std::time::Duration::from_secs(5));
    for spec in temporary_specs(cli)? {
        builder =
            builder.temporary_token(TemporaryToken::parse_spec(&spec).map_err(|e| e.to_string())?);
    }
    if cli.dangerously_skip_setup_token {
        builder = builder.dangerously_skip_setup_token();
    }
    if let Some(keys) = mint_keys(cli)? {
        builder = builder.mint_keys(keys);
    }
    if let Some(url) = &cli.rate_limit_redis {
        let when = match cli.rate_limit_redis_down {
            RedisDown::InProcess => WhenUnavailable::InProcess,
            RedisDown::Refuse => WhenUnavailable::Refuse,
        };
        let limiter = RedisRateLimiter::new(url, "tokenkeep:rate:", when)
            .map_err(|e| format!("--rate-limit-redis: {e}"))?;
        builder = builder.rate_limiter(std::sync::Arc::new(limiter));
    }
    if let Ok(text) = std::env::var(SETUP_TOKEN_VAR) {
        let secret = TokenSecret::custom(text).map_err(|e| format!("{SETUP_TOKEN_VAR}: {e}"))?;
        builder = builder.setup_token(secret);
    } else if role == Role::Server && !claimed && !cli.dangerously_skip_setup_token {
        builder = builder.setup_token(app::generated_setup_token()?);
    }
    builder.build_checked().await.map_err(|e| e.to_string())
}

/// The minting keys of `--mint-key-file`: the first line's key mints, the
/// others are accepted. Blank lines and `#` comments are skipped; a bad
/// line is named by its number, never shown.
fn mint_keys(cli: &Cli) -> Result<Option<tokenkeep::token::MintKeys>, String> {
    let Some(path) = &cli.mint_key_file else {
        if cli.refuse_untagged_tokens {
            return Err("--refuse-untagged-tokens needs --mint-key-file".to_owned());
        }
        return Ok(None);
    };
    private::require_unshared(path)?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut keys = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|(number, line)| {
            tokenkeep::token::MintKey::from_hex(line)
                .map_err(|e| format!("{} line {}: {e}", path.display(), number + 1))
        });
    let current = keys.next().ok_or_else(|| format!("{} holds no key", path.display()))??;
    let mut all = tokenkeep::token::MintKeys::new(current);
    for earlier in keys {
        all = all.accepting(earlier?);
    }
    Ok(Some(if cli.refuse_untagged_tokens { all.refusing_untagged() } else { all }))
}

/// Every `NAME:SECRET` the operator gave: `--token`, `TOKENKEEP_TOKENS`
/// (commas or newlines) and the lines of `--token-file`.
fn temporary_specs(cli: &Cli) -> Result<Vec<String>, String> {
    let mut specs = cli.tokens.clone();
    let listed = |text: &str| {
        text.split([',', '\n'])
            .map(str::trim)
            .filter(|spec| !spec.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    if let Some(text) = &cli.env_tokens {
        specs.extend(listed(text));
    }
    if let Some(path) = &cli.token_file {
        private::require_unshared(path)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        specs.extend(listed(&text));
    }
    Ok(specs)
}
