//! Where a command-line client keeps its credentials: `auth.json` (`{"host", "token"}`) in the platform's config
//! directory under the application's name, overridable by a variable, and
//! host and token variables for scripts and CI.
//!
//! Each value is resolved on its own, first found wins: an explicit value
//! (a command-line flag), then its environment variable, then the file. So
//! when both variables are set they override the file, and when only one is
//! set the other value comes from the file, with one exception: a token
//! read from the file goes only to the host saved beside it. A host given
//! by a flag or a variable that differs leaves the token unresolved (and
//! says why in the warnings), so a variable cannot send the saved token to
//! another server. [`check_transport`] refuses plain `http://` to another
//! machine unless the user allows it.
//!
//! ```
//! use std::collections::HashMap;
//! use tokenkeep::client::{ClientConfig, Explicit, Source};
//!
//! let config = ClientConfig::new("anchorify")
//!     .config_dir_var("JF_CONFIG_DIR")
//!     .host_var("REPO_SHARE_HOST")
//!     .token_var("REPO_SHARE_TOKEN");
//! let dir = std::env::temp_dir().join(format!("doc-{}", tokenkeep::TokenId::random()?));
//! let env = HashMap::from([
//!     ("JF_CONFIG_DIR".to_owned(), dir.display().to_string()),
//!     ("REPO_SHARE_HOST".to_owned(), "https://anchorify.io".to_owned()),
//! ]);
//! let resolved = config.resolve_with(&Explicit::default(), |name| env.get(name).cloned())?;
//! let host = resolved.host.expect("from the environment");
//! assert_eq!(host.value, "https://anchorify.io");
//! assert_eq!(host.source, Source::Env("REPO_SHARE_HOST".into()));
//! assert!(resolved.token.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod file;
mod obfuscate;

use std::fmt;
use std::path::PathBuf;

pub use file::{CredentialFile, StoredCredentials};

use crate::token::TokenSecret;
pub use error::ClientError;

/// The file name inside the application's config directory.
pub const AUTH_FILE: &str = "auth.json";

/// How a client finds its credentials: the application's name and the
/// variables it reads. Defaults derive from the name: `NAME_CONFIG_DIR`,
/// `NAME_HOST`, `NAME_TOKEN` in upper case.
#[derive(Clone)]
pub struct ClientConfig {
    app: String,
    config_dir_var: String,
    host_var: String,
    token_var: String,
    obfuscation_key: Option<Vec<u8>>,
    repair_permissions: bool,
}

impl ClientConfig {
    /// Credentials of the application `app` (its config folder's name).
    pub fn new(app: &str) -> Self {
        let upper = app.to_uppercase().replace(['-', ' ', '.'], "_");
        Self {
            app: app.to_owned(),
            config_dir_var: format!("{upper}_CONFIG_DIR"),
            host_var: format!("{upper}_HOST"),
            token_var: format!("{upper}_TOKEN"),
            obfuscation_key: None,
            repair_permissions: false,
        }
    }

    /// The variable that overrides the config directory (`JF_CONFIG_DIR`).
    #[must_use]
    pub fn config_dir_var(mut self, name: &str) -> Self {
        self.config_dir_var = name.to_owned();
        self
    }

    /// The variable that holds the host (`REPO_SHARE_HOST`).
    #[must_use]
    pub fn host_var(mut self, name: &str) -> Self {
        self.host_var = name.to_owned();
        self
    }

    /// The variable that holds the token (`REPO_SHARE_TOKEN`, `MY_API_TOKEN`).
    #[must_use]
    pub fn token_var(mut self, name: &str) -> Self {
        self.token_var = name.to_owned();
        self
    }

    /// Obfuscates the token in the file with a key built into your client,
    /// as some command-line clients do. This is **obfuscation, not encryption**: anyone with the
    /// binary has the key. It only stops the value from being copied out of
    /// the file and pasted elsewhere; the file's 0600 mode is the protection.
    /// Changing the key makes stored tokens unreadable. Off by default.
    #[must_use]
    pub fn obfuscate_with(mut self, key: &[u8]) -> Self {
        self.obfuscation_key = Some(key.to_vec());
        self
    }

    /// Repairs a credential file readable by others (to 0600) instead of
    /// refusing it; the repair is reported in [`StoredCredentials::warnings`].
    #[must_use]
    pub fn repair_permissions(mut self, repair: bool) -> Self {
        self.repair_permissions = repair;
        self
    }

    /// The credential file, using the process environment.
    ///
    /// # Errors
    /// [`ClientError::NoConfigDir`] when neither the override variable nor
    /// the platform gives a directory.
    pub fn credential_file(&self) -> Result<CredentialFile, ClientError> {
        self.credential_file_with(|name| std::env::var(name).ok())
    }

    /// The credential file, with variables from `env`.
    ///
    /// # Errors
    /// As [`credential_file`](Self::credential_file).
    pub fn credential_file_with(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<CredentialFile, ClientError> {
        let directory = match env(&self.config_dir_var).filter(|dir| !dir.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => dirs::config_dir().ok_or(ClientError::NoConfigDir)?.join(&self.app),
        };
        Ok(CredentialFile::new(
            directory.join(AUTH_FILE),
            self.obfuscation_key.clone(),
            self.repair_permissions,
        ))
    }

    /// Resolves host and token from the process environment.
    ///
    /// # Errors
    /// As [`resolve_with`](Self::resolve_with).
    pub fn resolve(&self, explicit: &Explicit) -> Result<ResolvedCredentials, ClientError> {
        self.resolve_with(explicit, |name| std::env::var(name).ok())
    }

    /// Resolves host and token: each from `explicit`, else its variable in
    /// `env`, else the file (read only when one of them is still missing).
    ///
    /// # Errors
    /// The file's errors ([`ClientError::Corrupt`], [`ClientError::Io`],
    /// [`ClientError::WidePermissions`]…), when the file had to be read.
    pub fn resolve_with(
        &self,
        explicit: &Explicit,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ResolvedCredentials, ClientError> {
        let set = |name: &str| env(name).filter(|value| !value.is_empty());
        let mut host = explicit
            .host
            .clone()
            .map(|value| Resolved::new(value, Source::Explicit))
            .or_else(|| {
                set(&self.host_var).map(|v| Resolved::new(v, Source::Env(self.host_var.clone())))
            });
        let mut token = match &explicit.token {
            Some(text) => Some(Resolved::new(TokenSecret::adopt(text.clone()), Source::Explicit)),
            None => set(&self.token_var)
                .map(|v| Resolved::new(TokenSecret::adopt(v), Source::Env(self.token_var.clone()))),
        };
        let mut warnings = Vec::new();
        if host.is_none() || token.is_none() {
            let file = self.credential_file_with(&env)?;
            if let Some(stored) = file.load()? {
                let source = || Source::File(file.path().to_owned());
                warnings = stored.warnings;
                // A saved token goes only to the host saved beside it.
                let saved_for = stored.host.clone();
                let goes_elsewhere = host.as_ref().is_some_and(|host| {
                    saved_for.as_deref().is_none_or(|saved| !same_host(saved, &host.value))
                });
                match stored.token {
                    Some(_) if token.is_none() && goes_elsewhere => warnings.push(format!(
                        "the token saved in {} belongs to {}: it is not sent to another host",
                        file.path().display(),
                        saved_for.as_deref().unwrap_or("no host")
                    )),
                    Some(value) => token = token.or(Some(Resolved::new(value, source()))),
                    None => {}
                }
                host = host.or_else(|| stored.host.map(|value| Resolved::new(value, source())));
            }
        }
        Ok(ResolvedCredentials { host, token, warnings })
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("app", &self.app)
            .field("config_dir_var", &self.config_dir_var)
            .field("host_var", &self.host_var)
            .field("token_var", &self.token_var)
            .field("obfuscated", &self.obfuscation_key.is_some())
            .finish()
    }
}

/// Whether two host URLs name the same server (a trailing `/` and the
/// case of the scheme and name aside).
fn same_host(a: &str, b: &str) -> bool {
    a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// Refuses sending a token over plain `http://` to a host other than this
/// machine (`localhost`, `127.0.0.0/8`, `[::1]`) unless `allow_plain_http`:
/// the token would cross the network unencrypted. The host judged is the
/// one the connection goes to, as a URL parser reads it, and a host that
/// [`check_host`] refuses is refused here too, so no spelling
/// (`http://[::1]@elsewhere`, `http://localhost:1@elsewhere`) passes for
/// this machine.
///
/// ```
/// use tokenkeep::client::check_transport;
/// assert!(check_transport("https://tokens.example.com", false).is_ok());
/// assert!(check_transport("http://127.0.0.1:8080", false).is_ok());
/// assert!(check_transport("http://localhost:8080/", false).is_ok());
/// assert!(check_transport("http://tokens.example.com", false).is_err());
/// assert!(check_transport("http://tokens.example.com", true).is_ok());
/// assert!(check_transport("http://[::1]@tokens.example.com", false).is_err());
/// ```
///
/// # Errors
/// [`ClientError::PlainHttp`], [`ClientError::InvalidHost`].
pub fn check_transport(host: &str, allow_plain_http: bool) -> Result<(), ClientError> {
    let url = parse_host(host)?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    };
    if url.scheme() == "https" || loopback || allow_plain_http {
        Ok(())
    } else {
        Err(ClientError::PlainHttp { host: host.to_owned() })
    }
}

/// A host must be an `http://` or `https://` URL of a server, without
/// spaces and without a user name or password before an `@` (a spelling
/// that hides which machine the token goes to).
///
/// ```
/// use tokenkeep::client::check_host;
/// assert!(check_host("https://tokens.example.com").is_ok());
/// assert!(check_host("https://user@tokens.example.com").is_err());
/// assert!(check_host("ftp://tokens.example.com").is_err());
/// ```
///
/// # Errors
/// [`ClientError::InvalidHost`].
pub fn check_host(host: &str) -> Result<(), ClientError> {
    parse_host(host).map(drop)
}

/// The host as a URL, when [`check_host`] accepts it.
fn parse_host(host: &str) -> Result<url::Url, ClientError> {
    if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ClientError::InvalidHost);
    }
    let url = url::Url::parse(host).map_err(|_| ClientError::InvalidHost)?;
    let server = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        // `@` anywhere before the path is a user name, however encoded.
        && !host
            .split_once("://")
            .is_some_and(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or("").contains('@'));
    if server { Ok(url) } else { Err(ClientError::InvalidHost) }
}

/// Values given explicitly, such as command-line flags.
#[derive(Clone, Default)]
pub struct Explicit {
    /// `--host`.
    pub host: Option<String>,
    /// `--token`.
    pub token: Option<String>,
}

impl fmt::Debug for Explicit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Explicit")
            .field("host", &self.host)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// Where a resolved value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Given explicitly (a flag).
    Explicit,
    /// This environment variable.
    Env(String),
    /// This credential file.
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Explicit => f.write_str("command line"),
            Self::Env(name) => write!(f, "${name}"),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A value and where it came from.
#[derive(Debug)]
pub struct Resolved<T> {
    /// The value (a token stays in its redacted secret type).
    pub value: T,
    /// Where it came from.
    pub source: Source,
}

impl<T> Resolved<T> {
    fn new(value: T, source: Source) -> Self {
        Self { value, source }
    }
}

/// Host and token as the client will use them.
#[derive(Debug)]
pub struct ResolvedCredentials {
    /// The server, if known.
    pub host: Option<Resolved<String>>,
    /// The token, if known.
    pub token: Option<Resolved<TokenSecret>>,
    /// What was noticed on the way (a repaired file mode).
    pub warnings: Vec<String>,
}

impl fmt::Display for ResolvedCredentials {
    /// For `whoami` and debug output: where each value came from, the host,
    /// and only the safe display prefix of the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Some(host) => writeln!(f, "host:  {} (from {})", host.value, host.source)?,
            None => writeln!(f, "host:  not set")?,
        }
        match &self.token {
            Some(token) => {
                let shown = crate::token::display_prefix(token.value.expose_secret());
                let shown = if shown.is_empty() { "[custom]" } else { shown };
                write!(f, "token: {shown}… (from {})", token.source)
            }
            None => write!(f, "token: not set"),
        }
    }
}
