//! `auth.json`: read with a permission check, written atomically with mode
//! 0600 from the first byte.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ClientError;
use super::obfuscate;
use crate::token::TokenSecret;

/// The credential file of one application.
#[derive(Clone)]
pub struct CredentialFile {
    path: PathBuf,
    obfuscation_key: Option<Vec<u8>>,
    repair_permissions: bool,
}

/// What the file holds.
#[derive(Debug)]
#[non_exhaustive]
pub struct StoredCredentials {
    /// The server.
    pub host: Option<String>,
    /// The token, de-obfuscated if it was.
    pub token: Option<TokenSecret>,
    /// What was noticed while reading (a repaired mode).
    pub warnings: Vec<String>,
}

/// The file's JSON. Unknown fields are kept out, so a typo is an error.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Contents {
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

impl std::fmt::Debug for CredentialFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialFile")
            .field("path", &self.path)
            .field("obfuscated", &self.obfuscation_key.is_some())
            .finish()
    }
}

impl CredentialFile {
    pub(crate) fn new(
        path: PathBuf,
        obfuscation_key: Option<Vec<u8>>,
        repair_permissions: bool,
    ) -> Self {
        Self { path, obfuscation_key, repair_permissions }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io_error(&self, source: io::Error) -> ClientError {
        ClientError::Io { path: self.path.clone(), source }
    }

    /// Reads the file; `None` if there is none.
    ///
    /// # Errors
    /// [`ClientError::WidePermissions`] for a file others can read (unless
    /// repairing), [`ClientError::Corrupt`] for content that is not the
    /// expected JSON, [`ClientError::Io`] for an unreadable file; each names
    /// the path.
    pub fn load(&self) -> Result<Option<StoredCredentials>, ClientError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(self.io_error(error)),
        };
        let mut warnings = self.check_permissions()?;
        let directory = self.path.parent().unwrap_or(Path::new("."));
        if let Some(mode) = tighten_dir(directory).map_err(|e| self.io_error(e))? {
            warnings.push(format!(
                "{} was open to other users (mode {mode:o}); it is now 0700",
                directory.display()
            ));
        }
        let contents: Contents = serde_json::from_str(&text).map_err(|error| {
            ClientError::Corrupt { path: self.path.clone(), reason: error.to_string() }
        })?;
        let token = match contents.token {
            Some(stored) if obfuscate::is_obfuscated(&stored) => {
                let key = self
                    .obfuscation_key
                    .as_deref()
                    .ok_or_else(|| ClientError::Obfuscated { path: self.path.clone() })?;
                let text = obfuscate::reveal(key, &stored).ok_or_else(|| ClientError::Corrupt {
                    path: self.path.clone(),
                    reason: "the token cannot be de-obfuscated with this key".to_owned(),
                })?;
                Some(TokenSecret::adopt(text))
            }
            Some(plain) => Some(TokenSecret::adopt(plain)),
            None => None,
        };
        Ok(Some(StoredCredentials { host: contents.host, token, warnings }))
    }

    #[cfg(unix)]
    fn check_permissions(&self) -> Result<Vec<String>, ClientError> {
        use std::os::unix::fs::PermissionsExt as _;
        let mode =
            fs::metadata(&self.path).map_err(|e| self.io_error(e))?.permissions().mode() & 0o777;
        if mode & 0o077 == 0 {
            return Ok(Vec::new());
        }
        if !self.repair_permissions {
            return Err(ClientError::WidePermissions { path: self.path.clone(), mode });
        }
        fs::set_permissions(&self.path, fs::Permissions::from_mode(0o600))
            .map_err(|e| self.io_error(e))?;
        Ok(vec![format!(
            "{} was readable by others (mode {mode:o}); it is now 0600",
            self.path.display()
        )])
    }

    #[cfg(not(unix))]
    fn check_permissions(&self) -> Result<Vec<String>, ClientError> {
        Ok(Vec::new())
    }

    /// Writes host and token, replacing the file atomically: a temporary
    /// file in the same directory, created with mode 0600, written and
    /// synced, then renamed over the old one. A crash at any point leaves
    /// either the old file or the new one, never a mix.
    ///
    /// # Errors
    /// [`ClientError::Io`] naming the path.
    pub fn save(&self, host: &str, token: &TokenSecret) -> Result<(), ClientError> {
        self.save_with(host, token, |_| Ok(()))
    }

    /// `save`, with a hook between the synced temporary file and the rename
    /// (tests use it to fail there, as a crash would).
    pub(crate) fn save_with(
        &self,
        host: &str,
        token: &TokenSecret,
        before_rename: impl FnOnce(&Path) -> io::Result<()>,
    ) -> Result<(), ClientError> {
        let stored_token = match &self.obfuscation_key {
            Some(key) => {
                obfuscate::hide(key, token.expose_secret()).map_err(|e| self.io_error(e))?
            }
            None => token.expose_secret().to_owned(),
        };
        let contents = Contents { host: Some(host.to_owned()), token: Some(stored_token) };
        let mut json = zeroize::Zeroizing::new(
            serde_json::to_vec_pretty(&contents).map_err(|e| self.io_error(io::Error::other(e)))?,
        );
        json.push(b'\n');
        let directory = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(directory).map_err(|e| self.io_error(e))?;
        let temporary = directory.join(format!(
            ".{}.{}.tmp",
            super::AUTH_FILE,
            crate::record::TokenId::random().map_err(|e| self.io_error(io::Error::other(e)))?
        ));
        let written = write_private(&temporary, &json)
            .and_then(|()| before_rename(&temporary))
            .and_then(|()| fs::rename(&temporary, &self.path))
            .and_then(|()| sync_dir(directory));
        if let Err(error) = written {
            let _ = fs::remove_file(&temporary);
            return Err(self.io_error(error));
        }
        Ok(())
    }

    /// Checks a host and token, then saves them (`login --host … --token …`).
    /// The token's format and checksum are checked before anything is
    /// written; asking the server whether it is valid (its `whoami`) is the
    /// caller's choice.
    ///
    /// # Errors
    /// [`ClientError::InvalidHost`], [`ClientError::InvalidToken`], or
    /// [`ClientError::Io`].
    pub fn login(&self, host: &str, token: &TokenSecret) -> Result<(), ClientError> {
        super::check_host(host)?;
        crate::token::parse_any(token.expose_secret()).map_err(ClientError::InvalidToken)?;
        self.save(host, token)
    }

    /// Deletes the file (`logout`); says whether there was one.
    ///
    /// # Errors
    /// [`ClientError::Io`] naming the path.
    pub fn remove(&self) -> Result<bool, ClientError> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(self.io_error(error)),
        }
    }
}

/// Creates a new file readable by its owner only, from the first byte.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn create_private_dir(directory: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(directory)?;
    tighten_dir(directory).map(|_| ())
}

/// Makes an existing config directory private (0700) when others may list
/// or write it (where they could swap the file); the mode it had, if it
/// was changed.
fn tighten_dir(directory: &Path) -> io::Result<Option<u32>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(directory)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            fs::set_permissions(directory, fs::Permissions::from_mode(0o700))?;
            return Ok(Some(mode));
        }
    }
    #[cfg(not(unix))]
    let _ = directory;
    Ok(None)
}

/// Makes the rename itself durable.
fn sync_dir(directory: &Path) -> io::Result<()> {
    #[cfg(unix)]
    fs::File::open(directory)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = directory;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_in(name: &str) -> CredentialFile {
        let dir = std::env::temp_dir()
            .join(format!("tokenkeep-client-{name}-{}", crate::TokenId::random().unwrap()));
        CredentialFile::new(dir.join("auth.json"), None, false)
    }

    fn token(text: &str) -> TokenSecret {
        TokenSecret::adopt(text.to_owned())
    }

    #[test]
    fn a_failure_before_the_rename_leaves_the_old_file_intact() {
        let file = file_in("crash");
        file.save("https://old.example", &token("tk_old")).unwrap();
        let crash = file.save_with("https://new.example", &token("tk_new"), |temporary| {
            assert!(temporary.exists(), "the new content was written first");
            Err(io::Error::other("simulated crash"))
        });
        assert!(matches!(crash, Err(ClientError::Io { .. })));
        let stored = file.load().unwrap().unwrap();
        assert_eq!(stored.host.as_deref(), Some("https://old.example"));
        assert_eq!(stored.token.unwrap().expose_secret(), "tk_old");
        let leftovers: Vec<_> = fs::read_dir(file.path().parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }
}
