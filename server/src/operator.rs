//! `token …`: operator commands on the same data, no server needed. Exit
//! status 0 on success, 1 on a refused request (its code on stderr), 2 on
//! bad usage (clap's own).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Subcommand;
use tokenkeep::expiry::parse_duration;
use tokenkeep::record::{IpNet, Metadata, Usage};
use tokenkeep::scope::Ability;
use tokenkeep::{
    Actor, ErrorCode, Expiry, IssueRequest, ManageError, Route, Scopes, TokenManager, TokenRecord,
    TokenRef, TokenSecret, TokenUpdate,
};

use crate::view::TokenView;

#[derive(Debug, Subcommand)]
// Parsed once per process: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum TokenCommand {
    /// Create a token and print it, once.
    Create {
        name: String,
        #[arg(long, default_value = TokenManager::DEFAULT_SETUP_OWNER)]
        owner: String,
        /// 12h, 30d, 90d, 1y; never when absent.
        #[arg(long)]
        expires_in: Option<String>,
        #[arg(long)]
        manager: bool,
        /// PATH:ACCESS with ACCESS r, w or rw (repeatable).
        #[arg(long = "route", value_name = "PATH:ACCESS")]
        routes: Vec<String>,
        #[arg(long = "ability")]
        abilities: Vec<String>,
        #[arg(long)]
        description: Option<String>,
        /// Adopt this secret instead of minting one (migration).
        #[arg(long)]
        secret: Option<String>,
        /// The application's own JSON object (`{"plan":"pro"}`).
        #[arg(long)]
        metadata: Option<String>,
        /// At most so many requests per period, per server process (`100/1m`).
        #[arg(long)]
        rate_limit: Option<String>,
        /// Successful verifications the token may make.
        #[arg(long)]
        uses: Option<u64>,
        /// Refills the uses: `100/1d` sets them back to 100 every day.
        #[arg(long, requires = "uses")]
        uses_refill: Option<String>,
        /// A client address range the token may be used from (repeatable).
        #[arg(long = "allowed-ip", value_name = "CIDR")]
        allowed_ips: Vec<IpNet>,
    },
    /// List tokens; never a secret.
    List {
        #[arg(long)]
        owner: Option<String>,
        /// Include revoked and expired tokens.
        #[arg(long)]
        all: bool,
        /// Only the active tokens expiring within this window (`7d`),
        /// soonest first.
        #[arg(long, value_name = "DURATION", conflicts_with = "all")]
        expiring_within: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one token, with its last use.
    Get { id_or_name: String },
    /// Revoke a token; asks first on a terminal.
    Revoke {
        id_or_name: String,
        #[arg(long)]
        force: bool,
    },
    /// Rename a token.
    Rename { id_or_name: String, new_name: String },
    /// Change a token's scopes.
    Modify {
        id_or_name: String,
        #[arg(long, conflicts_with = "no_manager")]
        manager: bool,
        #[arg(long)]
        no_manager: bool,
        /// PATH:ACCESS; replaces the routes when given (repeatable).
        #[arg(long = "route", value_name = "PATH:ACCESS")]
        routes: Vec<String>,
    },
    /// Write every record (hashes, never secrets) as JSON lines to stdout.
    Export,
    /// Read JSON lines of records from stdin.
    Import,
}

/// A refusal: its code and message go to stderr, the exit status is 1.
struct Refused(&'static str, String);

impl From<ManageError> for Refused {
    fn from(error: ManageError) -> Self {
        Self(error.code(), error.to_string())
    }
}

pub(crate) async fn run(service: &TokenManager, command: TokenCommand) -> ExitCode {
    match execute(service, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Refused(code, message)) => {
            eprintln!("error: {code}: {message}");
            ExitCode::from(1)
        }
    }
}

fn routes(specs: &[String]) -> Result<Vec<Route>, Refused> {
    specs
        .iter()
        .map(|spec| Route::parse_spec(spec).map_err(|e| ManageError::from(e).into()))
        .collect()
}

async fn execute(service: &TokenManager, command: TokenCommand) -> Result<(), Refused> {
    let admin = Actor::Admin;
    match command {
        TokenCommand::Create {
            name,
            owner,
            expires_in,
            manager,
            routes: specs,
            abilities,
            description,
            secret,
            metadata,
            rate_limit,
            uses,
            uses_refill,
            allowed_ips,
        } => {
            let abilities = abilities
                .into_iter()
                .map(|a| Ability::new(a).map_err(|e| ManageError::from(e).into()))
                .collect::<Result<Vec<_>, Refused>>()?;
            let scopes = Scopes { manager, abilities, routes: routes(&specs)? };
            let expires = match expires_in {
                Some(text) => Expiry::After(parse_duration(&text).map_err(ManageError::from)?),
                None => Expiry::Never,
            };
            let mut request = IssueRequest::new(owner, name).scopes(scopes).expires(expires);
            request.description = description;
            request.metadata =
                metadata.as_deref().map(Metadata::parse).transpose().map_err(ManageError::from)?;
            request.rate_limit =
                rate_limit.as_deref().map(str::parse).transpose().map_err(ManageError::from)?;
            request.allowed_ips = allowed_ips;
            if let Some(uses) = uses {
                let usage = Usage::parse(uses, uses_refill.as_deref(), service.service().now());
                request.usage = Some(usage.map_err(ManageError::from)?);
            }
            if let Some(secret) = secret {
                request = request.secret(TokenSecret::custom(secret).map_err(ManageError::from)?);
            }
            let issued = service.issue(&admin, request).await?;
            println!("Token: {}", issued.token.expose_secret());
            println!("Save this token: it will not be shown again.");
            println!("Use it with: Authorization: Bearer <token>  (id {})", issued.record.id);
        }
        TokenCommand::List { owner, all, expiring_within, json } => {
            let records = match expiring_within {
                Some(window) => {
                    let within = parse_duration(&window).map_err(ManageError::from)?;
                    service.expiring(&admin, owner.as_deref(), within).await?
                }
                None => service.list(&admin, owner.as_deref(), all).await?,
            };
            if json {
                let views: Vec<TokenView> = records.iter().map(TokenView::of).collect();
                println!("{}", serde_json::to_string_pretty(&views).unwrap_or_default());
            } else {
                print_table(service, &records);
            }
        }
        TokenCommand::Get { id_or_name } => {
            let record = service.get(&admin, &TokenRef::id_or_name(id_or_name)).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&TokenView::of(&record)).unwrap_or_default()
            );
        }
        TokenCommand::Revoke { id_or_name, force } => {
            let token = TokenRef::id_or_name(id_or_name);
            let record = service.get(&admin, &token).await?;
            if !force && std::io::stdin().is_terminal() && !confirm(&record) {
                return Err(Refused("CANCELLED", "nothing was revoked".to_owned()));
            }
            let revoked = service.revoke(&admin, &TokenRef::id(record.id)).await?;
            println!(
                "Token {:?} ({}) has been revoked",
                revoked.name.as_str(),
                shown(&revoked.display_prefix)
            );
        }
        TokenCommand::Rename { id_or_name, new_name } => {
            let before = service.get(&admin, &TokenRef::id_or_name(id_or_name)).await?;
            let after = service.rename(&admin, &TokenRef::id(before.id), &new_name).await?;
            println!(
                "Token name has been changed from {:?} to {:?}",
                before.name.as_str(),
                after.name.as_str()
            );
        }
        TokenCommand::Modify { id_or_name, manager, no_manager, routes: specs } => {
            let token = TokenRef::id_or_name(id_or_name);
            let before = service.get(&admin, &token).await?;
            let changes = TokenUpdate {
                manager: (manager || no_manager).then_some(manager),
                routes: if specs.is_empty() { None } else { Some(routes(&specs)?) },
                ..TokenUpdate::default()
            };
            let after = service.modify(&admin, &TokenRef::id(before.id), changes).await?;
            println!(
                "Scopes have been changed from {} to {}",
                describe(&before.scopes),
                describe(&after.scopes)
            );
        }
        TokenCommand::Export => {
            let mut out = std::io::stdout().lock();
            for record in service.export(&admin).await? {
                let line = serde_json::to_string(&record)
                    .map_err(|e| Refused("INTERNAL", e.to_string()))?;
                writeln!(out, "{line}").map_err(|e| Refused("IO", e.to_string()))?;
            }
        }
        TokenCommand::Import => {
            let mut records = Vec::new();
            for (number, line) in std::io::stdin().lock().lines().enumerate() {
                let line = line.map_err(|e| Refused("IO", e.to_string()))?;
                if line.trim().is_empty() {
                    continue;
                }
                let record: TokenRecord = serde_json::from_str(&line)
                    .map_err(|e| Refused("INVALID_RECORD", format!("line {}: {e}", number + 1)))?;
                records.push(record);
            }
            let report = service.import(&admin, records).await?;
            eprintln!("imported {}, skipped {} already present", report.imported, report.skipped);
        }
    }
    Ok(())
}

fn confirm(record: &TokenRecord) -> bool {
    eprint!("Revoke token {:?} ({}…)? [y/N] ", record.name.as_str(), shown(&record.display_prefix));
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok()
        && matches!(answer.trim(), "y" | "Y" | "yes")
}

/// Text from a record as a terminal may print it: control, invisible and
/// direction-changing characters escaped (`\u{1b}`), so a record, however
/// it reached the store, can neither drive the terminal nor forge a row.
fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let plain = matches!(c, '\\' | '"' | '\'') || c.escape_debug().nth(1).is_none();
        if plain {
            out.push(c);
        } else {
            out.extend(c.escape_unicode());
        }
    }
    out
}

fn describe(scopes: &Scopes) -> String {
    serde_json::to_string(scopes).unwrap_or_default()
}

fn print_table(service: &TokenManager, records: &[TokenRecord]) {
    let instant = |at: Option<tokenkeep::time::OffsetDateTime>| {
        at.map_or_else(|| "-".to_owned(), |at| at.date().to_string())
    };
    println!(
        "{:<22}  {:<20}  {:<12}  {:<12}  {:<10}  {:<12}  {:<10}  {:<10}  STATUS",
        "ID", "NAME", "OWNER", "PREFIX", "CREATED", "CREATED BY", "LAST USED", "EXPIRES"
    );
    let now = service.service().now();
    for record in records {
        // Who revoked or rotated it, and why, when the record says.
        let why =
            match (record.extras.revoked_by.as_deref().map(shown), record.extras.revoke_reason) {
                (Some(by), Some(reason)) => format!(" ({} by {by})", reason.as_str()),
                (Some(by), None) => format!(" (by {by})"),
                (None, Some(reason)) => format!(" ({})", reason.as_str()),
                (None, None) => String::new(),
            };
        println!(
            "{:<22}  {:<20}  {:<12}  {:<12}  {:<10}  {:<12}  {:<10}  {:<10}  {:?}{why}",
            record.id.to_string(),
            shown(record.name.as_str()),
            shown(&record.owner),
            shown(&record.display_prefix),
            record.created_at.date(),
            shown(record.created_by.as_deref().unwrap_or("-")),
            instant(record.last_used_at),
            instant(record.expires_at),
            record.status(now),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn what_a_record_holds_cannot_drive_the_terminal() {
        assert_eq!(shown("tk_3f12c4"), "tk_3f12c4");
        assert_eq!(shown("héllo \"ci\" \\"), "héllo \"ci\" \\");
        assert_eq!(shown("tk_\u{1b}[2J"), "tk_\\u{1b}[2J");
        assert_eq!(shown("a\nb\tc"), "a\\u{a}b\\u{9}c");
        assert_eq!(shown("ab\u{202e}cd"), "ab\\u{202e}cd");
        assert_eq!(shown("a\u{200b}b"), "a\\u{200b}b");
    }
}
