//! `login`, `logout`, `whoami`, `upgrade`: the server binary as a client of
//! a running server, keeping its credentials with `tokenkeep::client`
//! (`auth.json` under the config dir; `TOKENKEEP_CONFIG_DIR`,
//! `TOKENKEEP_HOST` and `TOKENKEEP_TOKEN` override it).

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{Value, json};
use tokenkeep::ErrorCode;
use tokenkeep::TokenSecret;
use tokenkeep::client::{ClientConfig, CredentialFile, Explicit};

#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Check a token with the server and save it with the host. Without
    /// `--token` the token is read from standard input (a prompt on a
    /// terminal), which keeps it out of `ps`, argv and shell history.
    Login {
        #[arg(long)]
        host: String,
        /// The token; prefer standard input, which no other user can see.
        #[arg(long)]
        token: Option<String>,
        /// Send the token over plain http:// to a host other than this
        /// machine (it crosses the network unencrypted).
        #[arg(long)]
        allow_http: bool,
    },
    /// Forget the saved credentials.
    Logout,
    /// Ask the server who the credentials are; say where each came from.
    Whoami {
        #[arg(long)]
        host: Option<String>,
        #[arg(long)]
        token: Option<String>,
        /// As for `login`.
        #[arg(long)]
        allow_http: bool,
    },
    /// With a manager credential, mint a token for this machine and save it
    /// in its place, without printing it.
    Upgrade {
        /// The new token's name.
        #[arg(long, default_value = "this-machine")]
        name: String,
        /// As for `login`.
        #[arg(long)]
        allow_http: bool,
    },
}

struct Failed(&'static str, String);

impl<E: ErrorCode + std::fmt::Display> From<E> for Failed {
    fn from(error: E) -> Self {
        Self(error.code(), error.to_string())
    }
}

fn config() -> ClientConfig {
    ClientConfig::new("tokenkeep")
}

pub(crate) async fn run(command: ClientCommand) -> ExitCode {
    match execute(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failed(code, message)) => {
            eprintln!("error: {code}: {message}");
            ExitCode::from(1)
        }
    }
}

/// GET or POST `path` on `host` with the token; the JSON answer, or the
/// server's error code. Plain http:// goes only to this machine unless
/// the user allowed it.
async fn call(
    (host, allow_http): (&str, bool),
    token: &TokenSecret,
    path: &str,
    body: Option<Value>,
) -> Result<Value, Failed> {
    tokenkeep::client::check_transport(host, allow_http)?;
    let client = reqwest::Client::new();
    let url = format!("{}{path}", host.trim_end_matches('/'));
    let request = match body {
        Some(body) => client.post(url).json(&body),
        None => client.get(url),
    };
    let response = request
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .map_err(|e| Failed("UNREACHABLE", format!("cannot reach {host}: {e}")))?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        Ok(answer)
    } else {
        let code = answer["error"].as_str().unwrap_or("HTTP_ERROR").to_owned();
        let message = answer["message"].as_str().unwrap_or("").to_owned();
        Err(Failed("REFUSED", format!("{code} ({status}): {message}")))
    }
}

async fn execute(command: ClientCommand) -> Result<(), Failed> {
    let file: CredentialFile = config().credential_file()?;
    match command {
        ClientCommand::Login { host, token, allow_http } => {
            let token = match token {
                Some(token) => token,
                None => read_token()?,
            };
            let token = TokenSecret::custom(token)?;
            tokenkeep::client::check_host(&host)?;
            tokenkeep::token::parse_any(token.expose_secret())
                .map_err(tokenkeep::client::ClientError::InvalidToken)?;
            let who = call((&host, allow_http), &token, "/api/whoami", None).await?;
            file.login(&host, &token)?;
            println!(
                "Logged in to {host} as {} (token {:?}); saved to {}",
                who["owner"],
                who["name"],
                file.path().display()
            );
        }
        ClientCommand::Logout => {
            if file.remove()? {
                println!("Removed {}", file.path().display());
            } else {
                println!("Not logged in");
            }
        }
        ClientCommand::Whoami { host, token, allow_http } => {
            let resolved = config().resolve(&Explicit { host, token })?;
            for warning in &resolved.warnings {
                eprintln!("warning: {warning}");
            }
            println!("{resolved}");
            let (Some(host), Some(token)) = (&resolved.host, &resolved.token) else {
                return Err(Failed(
                    "NOT_LOGGED_IN",
                    "no host or token: run login first".to_owned(),
                ));
            };
            let who = call((&host.value, allow_http), &token.value, "/api/whoami", None).await?;
            println!("owner: {}\nname:  {}", who["owner"], who["name"]);
        }
        ClientCommand::Upgrade { name, allow_http } => {
            let resolved = config().resolve(&Explicit::default())?;
            for warning in &resolved.warnings {
                eprintln!("warning: {warning}");
            }
            let (Some(host), Some(token)) = (resolved.host, resolved.token) else {
                return Err(Failed(
                    "NOT_LOGGED_IN",
                    "no host or token: run login first".to_owned(),
                ));
            };
            let server = (host.value.as_str(), allow_http);
            let who = call(server, &token.value, "/api/whoami", None).await?;
            let body = json!({ "name": name, "owner": who["owner"] });
            let created = call(server, &token.value, "/api/auth/tokens", Some(body)).await?;
            let minted = created["token"]
                .as_str()
                .ok_or_else(|| Failed("REFUSED", "the server returned no token".to_owned()))?;
            file.login(&host.value, &TokenSecret::custom(minted)?)?;
            println!("Saved a new token {name:?} for this machine to {}", file.path().display());
        }
    }
    Ok(())
}

/// The token from standard input: one line, after a prompt on a terminal.
fn read_token() -> Result<String, Failed> {
    use std::io::{BufRead as _, IsTerminal as _, Write as _};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Paste the token, then press Enter: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|error| {
        Failed::from(tokenkeep::client::ClientError::Io { path: "<stdin>".into(), source: error })
    })?;
    Ok(line.trim().to_owned())
}
