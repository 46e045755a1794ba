//! Why a command-line client's credentials cannot be used.

use thiserror::Error;

use crate::error::ErrorCode;
use crate::token::FormatError;

/// A command-line client's credentials cannot be used. Every variant that
/// concerns the file names its path; none holds a token.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Neither the override variable nor the platform gives a config directory.
    #[error("no configuration directory: set the config directory variable")]
    NoConfigDir,
    /// The file cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not the expected JSON.
    #[error("{} is not a valid credential file: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file is readable by other users; it is not used.
    #[error("{} is readable by other users (mode {mode:o}); run chmod 600 on it", path.display())]
    WidePermissions {
        /// The file.
        path: std::path::PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The token in the file is obfuscated and no key was configured.
    #[error("{} holds an obfuscated token and this client has no key for it", path.display())]
    Obfuscated {
        /// The file.
        path: std::path::PathBuf,
    },
    /// The host is not an `http://` or `https://` URL of a server, or it
    /// names a user before an `@`.
    #[error("the host must be an http:// or https:// URL of a server, with no user@ before it")]
    InvalidHost,
    /// Plain `http://` to a host that is not this machine sends the token
    /// in clear text; it takes an explicit choice.
    #[error(
        "{host} is plain http:// to another machine: the token would cross the network unencrypted; use https:// or allow plain HTTP explicitly"
    )]
    PlainHttp {
        /// The host asked for.
        host: String,
    },
    /// The token is not well-formed (a typo, or not a token at all).
    #[error("that is not a valid token: {0}")]
    InvalidToken(FormatError),
}

impl ErrorCode for ClientError {
    fn code(&self) -> &'static str {
        match self {
            Self::NoConfigDir => "NO_CONFIG_DIR",
            Self::Io { .. } => "CREDENTIALS_IO",
            Self::Corrupt { .. } => "CREDENTIALS_CORRUPT",
            Self::WidePermissions { .. } => "CREDENTIALS_PERMISSIONS",
            Self::Obfuscated { .. } => "CREDENTIALS_OBFUSCATED",
            Self::InvalidHost => "INVALID_HOST",
            Self::PlainHttp { .. } => "PLAIN_HTTP",
            Self::InvalidToken(_) => "INVALID_TOKEN",
        }
    }
}
