//! The `client` feature: where a CLI keeps its host and token.
#![cfg(feature = "client")]

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use tokenkeep::client::ClientError;
use tokenkeep::client::{ClientConfig, CredentialFile, Explicit, Source};
use tokenkeep::hash::TokenHasher;
use tokenkeep::token::TokenFormat;
use tokenkeep::{Prefix, TokenId, TokenSecret};

const HOST_VAR: &str = "REPO_SHARE_HOST";
const TOKEN_VAR: &str = "REPO_SHARE_TOKEN";
const DIR_VAR: &str = "JF_CONFIG_DIR";

fn config() -> ClientConfig {
    ClientConfig::new("anchorify").config_dir_var(DIR_VAR).host_var(HOST_VAR).token_var(TOKEN_VAR)
}

fn sandbox() -> PathBuf {
    std::env::temp_dir()
        .join(format!("tokenkeep-client-{}", TokenId::random().expect("randomness")))
}

fn minted() -> TokenSecret {
    TokenFormat::new(Prefix::new("jf").expect("prefix"))
        .mint(&TokenHasher::sha256())
        .expect("mint")
        .secret
}

struct Case {
    flag_host: bool,
    flag_token: bool,
    env_host: bool,
    env_token: bool,
    file: bool,
}

#[test]
fn every_precedence_case() {
    for bits in 0..32u8 {
        let case = Case {
            flag_host: bits & 1 != 0,
            flag_token: bits & 2 != 0,
            env_host: bits & 4 != 0,
            env_token: bits & 8 != 0,
            file: bits & 16 != 0,
        };
        let dir = sandbox();
        let mut env = HashMap::from([(DIR_VAR.to_owned(), dir.display().to_string())]);
        if case.env_host {
            env.insert(HOST_VAR.to_owned(), "https://env.example".to_owned());
        }
        if case.env_token {
            env.insert(TOKEN_VAR.to_owned(), "tk_from_env".to_owned());
        }
        let file = config().credential_file_with(|n| env.get(n).cloned()).unwrap();
        if case.file {
            file.save("https://file.example", &TokenSecret::custom("tk_from_file").unwrap())
                .unwrap();
        }
        let explicit = Explicit {
            host: case.flag_host.then(|| "https://flag.example".to_owned()),
            token: case.flag_token.then(|| "tk_from_flag".to_owned()),
        };
        let resolved = config().resolve_with(&explicit, |n| env.get(n).cloned()).unwrap();

        let expected_host = if case.flag_host {
            Some(("https://flag.example", Source::Explicit))
        } else if case.env_host {
            Some(("https://env.example", Source::Env(HOST_VAR.into())))
        } else if case.file {
            Some(("https://file.example", Source::File(file.path().to_owned())))
        } else {
            None
        };
        let expected_token = if case.flag_token {
            Some(("tk_from_flag", Source::Explicit))
        } else if case.env_token {
            Some(("tk_from_env", Source::Env(TOKEN_VAR.into())))
        } else if case.file && !case.flag_host && !case.env_host {
            // A saved token goes only to the host saved beside it.
            Some(("tk_from_file", Source::File(file.path().to_owned())))
        } else {
            None
        };
        let host = resolved.host.as_ref().map(|h| (h.value.as_str(), h.source.clone()));
        let token = resolved.token.as_ref().map(|t| (t.value.expose_secret(), t.source.clone()));
        assert_eq!(host, expected_host, "host, case {bits:05b}");
        assert_eq!(token, expected_token, "token, case {bits:05b}");
    }
}

#[test]
fn both_variables_override_the_file_one_takes_the_other_from_it() {
    // With one exception: the file's token goes only to the file's host.
    let dir = sandbox();
    let mut env = HashMap::from([(DIR_VAR.to_owned(), dir.display().to_string())]);
    let file = config().credential_file_with(|n| env.get(n).cloned()).unwrap();
    file.save("https://file.example", &minted()).unwrap();

    env.insert(HOST_VAR.to_owned(), "https://env.example".to_owned());
    env.insert(TOKEN_VAR.to_owned(), "tk_env".to_owned());
    let both = config().resolve_with(&Explicit::default(), |n| env.get(n).cloned()).unwrap();
    assert_eq!(both.host.unwrap().source, Source::Env(HOST_VAR.into()));
    assert_eq!(both.token.unwrap().source, Source::Env(TOKEN_VAR.into()));

    env.remove(HOST_VAR);
    let one = config().resolve_with(&Explicit::default(), |n| env.get(n).cloned()).unwrap();
    assert_eq!(one.host.unwrap().value, "https://file.example");
    assert_eq!(one.token.unwrap().source, Source::Env(TOKEN_VAR.into()));

    env.remove(TOKEN_VAR);
    env.insert(HOST_VAR.to_owned(), "https://env.example".to_owned());
    let other_host = config().resolve_with(&Explicit::default(), |n| env.get(n).cloned()).unwrap();
    assert_eq!(other_host.host.unwrap().value, "https://env.example");
    assert!(other_host.token.is_none(), "the file's token stays with its host");
}

#[test]
fn the_file_lives_in_the_config_dir_under_the_app_name() {
    let file = config().credential_file_with(|_| None).unwrap();
    assert!(file.path().ends_with("anchorify/auth.json"), "{}", file.path().display());
    let dir = sandbox();
    let overridden = config()
        .credential_file_with(|n| (n == DIR_VAR).then(|| dir.display().to_string()))
        .unwrap();
    assert_eq!(overridden.path(), dir.join("auth.json"));
    let defaults = ClientConfig::new("my-cli");
    let env = HashMap::from([("MY_CLI_CONFIG_DIR".to_owned(), dir.display().to_string())]);
    assert_eq!(
        defaults.credential_file_with(|n| env.get(n).cloned()).unwrap().path(),
        dir.join("auth.json")
    );
}

fn file_at(dir: &Path) -> CredentialFile {
    config()
        .credential_file_with(|n| (n == DIR_VAR).then(|| dir.display().to_string()))
        .expect("a credential file")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn the_file_is_0600_on_creation_and_after_overwrite() {
    let dir = sandbox();
    let file = file_at(&dir);
    file.save("https://a.example", &minted()).unwrap();
    assert_eq!(mode(file.path()), 0o600);
    assert_eq!(mode(&dir), 0o700);
    file.save("https://b.example", &minted()).unwrap();
    assert_eq!(mode(file.path()), 0o600);
    assert_eq!(file.load().unwrap().unwrap().host.as_deref(), Some("https://b.example"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap()).unwrap();
    assert!(json["host"].is_string() && json["token"].is_string());
}

#[test]
fn a_file_others_can_read_is_refused_or_repaired() {
    let dir = sandbox();
    let file = file_at(&dir);
    file.save("https://a.example", &minted()).unwrap();
    std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = file.load().unwrap_err();
    assert!(matches!(refused, ClientError::WidePermissions { mode: 0o644, .. }));
    assert!(refused.to_string().contains(&file.path().display().to_string()));

    let repairing = config()
        .repair_permissions(true)
        .credential_file_with(|n| (n == DIR_VAR).then(|| dir.display().to_string()))
        .unwrap();
    let loaded = repairing.load().unwrap().unwrap();
    assert_eq!(loaded.warnings.len(), 1, "the repair is reported");
    assert_eq!(mode(file.path()), 0o600);
}

#[test]
fn corrupt_or_unreadable_files_name_their_path() {
    let dir = sandbox();
    let file = file_at(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (content, what) in
        [("{not json", "JSON"), (r#"{"host": 5}"#, "type"), (r#"{"hots": "x"}"#, "field")]
    {
        std::fs::write(file.path(), content).unwrap();
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        let error = file.load().unwrap_err();
        assert!(matches!(error, ClientError::Corrupt { .. }), "{what}: {error:?}");
        assert!(error.to_string().contains(&file.path().display().to_string()), "{error}");
    }
    std::fs::remove_file(file.path()).unwrap();
    std::fs::create_dir(file.path()).unwrap();
    let unreadable = file.load().unwrap_err();
    assert!(matches!(unreadable, ClientError::Io { .. }));
    assert!(unreadable.to_string().contains(&file.path().display().to_string()));
}

#[test]
fn login_checks_before_writing_and_logout_removes() {
    let dir = sandbox();
    let file = file_at(&dir);
    let token = minted();
    let mut typo = token.expose_secret().to_owned();
    let last = typo.pop().unwrap();
    typo.push(if last == 'A' { 'B' } else { 'A' });
    let bad_token = file.login("https://a.example", &TokenSecret::custom(typo).unwrap());
    assert!(matches!(bad_token, Err(ClientError::InvalidToken(_))));
    let bad_host = file.login("ftp://a.example", &token);
    assert!(matches!(bad_host, Err(ClientError::InvalidHost)));
    assert!(!file.path().exists(), "nothing written");

    file.login("https://a.example", &token).unwrap();
    let stored = file.load().unwrap().unwrap();
    assert_eq!(stored.token.unwrap().expose_secret(), token.expose_secret());
    assert!(file.remove().unwrap());
    assert!(!file.remove().unwrap());
    assert!(file.load().unwrap().is_none());
}

#[test]
fn obfuscation_is_optional_and_keyed() {
    let dir = sandbox();
    let with_key = |key: Option<&[u8]>| {
        let config = match key {
            Some(key) => config().obfuscate_with(key),
            None => config(),
        };
        config.credential_file_with(|n| (n == DIR_VAR).then(|| dir.display().to_string())).unwrap()
    };
    let token = minted();
    with_key(Some(b"built into the cli")).save("https://a.example", &token).unwrap();
    let raw = std::fs::read_to_string(with_key(None).path()).unwrap();
    assert!(!raw.contains(&token.expose_secret()[3..]), "not stored in the clear");
    let read = with_key(Some(b"built into the cli")).load().unwrap().unwrap();
    assert_eq!(read.token.unwrap().expose_secret(), token.expose_secret());
    assert!(matches!(with_key(None).load(), Err(ClientError::Obfuscated { .. })));
    assert!(matches!(with_key(Some(b"another key")).load(), Err(ClientError::Corrupt { .. })));

    with_key(None).save("https://a.example", &token).unwrap();
    let plain = std::fs::read_to_string(with_key(None).path()).unwrap();
    assert!(plain.contains(token.expose_secret()), "off by default");
}

#[test]
fn the_token_is_never_printed() {
    let dir = sandbox();
    let token = minted();
    let env = HashMap::from([
        (DIR_VAR.to_owned(), dir.display().to_string()),
        (TOKEN_VAR.to_owned(), token.expose_secret().to_owned()),
    ]);
    let explicit = Explicit { host: Some("https://a.example".into()), token: None };
    let resolved = config().resolve_with(&explicit, |n| env.get(n).cloned()).unwrap();
    let shown = format!("{resolved} {resolved:?} {explicit:?} {:?}", config().obfuscate_with(b"k"));
    assert!(!shown.contains(&token.expose_secret()[3..]), "{shown}");
    assert!(shown.contains("from $REPO_SHARE_TOKEN"), "{shown}");
    assert!(shown.contains(&token.expose_secret()[..9]), "the safe display prefix is shown");
    let flagged = Explicit { host: None, token: Some(token.expose_secret().to_owned()) };
    assert!(!format!("{flagged:?}").contains(&token.expose_secret()[3..]));
}

/// A token read from the file goes only to the host saved beside it: a
/// host variable or flag naming another server leaves it unresolved, and
/// the warnings say why; the same host, spelt with a trailing slash or in
/// other case, still gets it.
#[test]
fn a_saved_token_goes_only_to_its_own_host() {
    let dir = sandbox();
    let mut env = HashMap::from([(DIR_VAR.to_owned(), dir.display().to_string())]);
    let file = config().credential_file_with(|n| env.get(n).cloned()).unwrap();
    file.save("https://file.example", &minted()).unwrap();

    env.insert(HOST_VAR.to_owned(), "https://attacker.example".to_owned());
    let elsewhere = config().resolve_with(&Explicit::default(), |n| env.get(n).cloned()).unwrap();
    assert!(elsewhere.token.is_none(), "never sent to another host");
    assert!(
        elsewhere.warnings.iter().any(|w| w.contains("https://file.example")),
        "{:?}",
        elsewhere.warnings
    );
    let flag = Explicit { host: Some("https://attacker.example".to_owned()), token: None };
    env.remove(HOST_VAR);
    let by_flag = config().resolve_with(&flag, |n| env.get(n).cloned()).unwrap();
    assert!(by_flag.token.is_none());

    env.insert(HOST_VAR.to_owned(), "HTTPS://file.example/".to_owned());
    let same = config().resolve_with(&Explicit::default(), |n| env.get(n).cloned()).unwrap();
    assert!(same.token.is_some(), "the same host");
}

/// A config directory others may list or write is made private when the
/// file is read or written.
#[test]
fn a_wide_config_directory_is_tightened() {
    let dir = sandbox();
    let env = HashMap::from([(DIR_VAR.to_owned(), dir.display().to_string())]);
    let file = config().credential_file_with(|n| env.get(n).cloned()).unwrap();
    file.save("https://file.example", &minted()).unwrap();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let loaded = file.load().unwrap().unwrap();
    assert_eq!(mode(&dir), 0o700, "tightened on read");
    assert!(loaded.warnings.iter().any(|w| w.contains("777")), "{:?}", loaded.warnings);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    file.save("https://file.example", &minted()).unwrap();
    assert_eq!(mode(&dir), 0o700, "tightened on write");
}

/// The host judged is the one the connection goes to: a user name before
/// an `@`, however spelled, is refused outright, so no spelling passes for
/// this machine. (0.3 judged `http://[::1]@elsewhere` by the `[::1]` and
/// sent the token in plain HTTP to `elsewhere`.)
#[test]
fn userinfo_never_passes_for_this_machine() {
    use tokenkeep::client::{check_host, check_transport};
    for spelling in [
        "http://user@tokens.example.com",
        "http://[::1]@tokens.example.com",
        "http://[::1]@tokens.example.com:8080/",
        "http://localhost:1@tokens.example.com",
        "http://127.0.0.1@tokens.example.com",
        "http://@tokens.example.com",
        "http://localhost%40tokens.example.com",
        "http://[::1]%40tokens.example.com",
        "http://localhost%2540tokens.example.com",
        "https://user:secret@tokens.example.com",
    ] {
        assert!(matches!(check_host(spelling), Err(ClientError::InvalidHost)), "{spelling}");
        for allowed in [false, true] {
            assert!(
                check_transport(spelling, allowed).is_err(),
                "{spelling}, plain HTTP allowed: {allowed}"
            );
        }
    }
    for loopback in [
        "http://localhost:8080",
        "http://LOCALHOST",
        "http://127.0.0.1:1",
        "http://127.3.2.1",
        "http://[::1]:8080/",
        "http://[0:0:0:0:0:0:0:1]",
    ] {
        check_transport(loopback, false).unwrap();
    }
    for elsewhere in [
        "http://tokens.example.com",
        "http://localhost.tokens.example.com",
        "http://10.0.0.1",
        "http://[::2]",
    ] {
        assert!(
            matches!(check_transport(elsewhere, false), Err(ClientError::PlainHttp { .. })),
            "{elsewhere}"
        );
        check_transport(elsewhere, true).unwrap();
    }
}
