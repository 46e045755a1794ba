//! Runs the reference server (`tokenkeep-server`) as a separate process on a
//! free loopback port, and its `token …` commands.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// The server's binary, which Cargo builds for the package's tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tokenkeep-server"))
}

/// A fresh data directory.
pub fn data_dir() -> PathBuf {
    let unique = tokenkeep::TokenId::random().expect("randomness").to_string();
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("server-{unique}"))
}

pub struct Server {
    child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts a server on a fresh SQLite data directory.
    pub async fn start(args: &[&str]) -> Self {
        Self::start_in(&data_dir(), args, &[("TOKENKEEP_SETUP_TOKEN", SETUP_TOKEN)]).await
    }

    /// Starts a server on `data_dir` with extra options and environment,
    /// under the usual umask 022 (so file modes are tested as a default
    /// system would create them).
    pub async fn start_in(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("umask 022 && exec \"$0\" \"$@\"")
            .arg(binary())
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .env_remove("TOKENKEEP_SETUP_TOKEN")
            .env_remove("TOKENKEEP_DATABASE_URL")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("start the server");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let base = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read stderr") {
                stderr.lock().expect("stderr buffer").push_str(&format!("{line}\n"));
                if let Some(rest) = line.split("listening on ").nth(1) {
                    return rest.split_whitespace().next().unwrap_or_default().to_owned();
                }
            }
            panic!("the server exited: {}", stderr.lock().expect("stderr buffer"));
        })
        .await
        .expect("the server did not start in time");
        let collected = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                collected.lock().expect("stderr buffer").push_str(&format!("{line}\n"));
            }
        });
        Self { child, base, data_dir: data_dir.to_owned(), stderr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn address(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr buffer").clone()
    }

    /// SIGTERM, and wait for a clean exit; the log holds no secret.
    pub async fn stop(mut self) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill").args(["-TERM", &pid]).status();
        assert!(status.expect("kill").success());
        let exit = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the server did not stop")
            .expect("wait");
        assert!(exit.success(), "the server exited with {exit}: {}", self.stderr());
        assert_no_secrets(&self.stderr());
    }

    /// SIGKILL: no shutdown, no flush, as a crash or power loss would.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("kill -9");
        let _ = self.child.wait().await;
        assert_no_secrets(&self.stderr());
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

pub const SETUP_TOKEN: &str = "let-me-in-please";

/// Every token the tests were given: no server log may contain one of
/// them, or its full hash.
static SEEN_TOKENS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Registers a token the server handed out, for the log scan.
pub fn remember(token: &str) {
    SEEN_TOKENS.lock().expect("registry").push(token.to_owned());
}

/// Fails if a JSON answer shows a registered token anywhere but in the
/// `token` field of the answer that issued it, or any full hash.
pub fn assert_json_clean(text: &str, value: &serde_json::Value) {
    for token in SEEN_TOKENS.lock().expect("registry").iter() {
        if text.contains(token.as_str()) {
            assert_eq!(
                value["token"].as_str(),
                Some(token.as_str()),
                "a token leaked into an answer: {text}"
            );
        }
        let hash = tokenkeep::hash::TokenHasher::sha256().hash(token).to_hex();
        assert!(!text.contains(&hash), "a full token hash leaked into an answer");
    }
}

/// Fails if the log holds a registered token or the hex of its hash.
fn assert_no_secrets(log: &str) {
    for token in SEEN_TOKENS.lock().expect("registry").iter() {
        assert!(!log.contains(token.as_str()), "a plaintext token reached the server's log");
        let hash = tokenkeep::hash::TokenHasher::sha256().hash(token).to_hex();
        assert!(!log.contains(&hash), "a full token hash reached the server's log");
    }
}

/// The output of `server … token ARGS`.
pub struct CliOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs an operator command on `data_dir`, feeding `stdin`.
pub async fn token_command(data_dir: &Path, args: &[&str], stdin: &str) -> CliOutput {
    let data_dir = data_dir.display().to_string();
    let mut full = vec!["--data-dir", data_dir.as_str(), "token"];
    full.extend_from_slice(args);
    run_binary(&full, &[], stdin).await
}

/// Runs the binary as a client (`login`, `whoami`…) with its config dir
/// in `config_dir` and the extra environment `env`.
pub async fn client_command(config_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    client_command_with_input(config_dir, args, env, "").await
}

/// As [`client_command`], with `stdin` as its standard input.
pub async fn client_command_with_input(
    config_dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> CliOutput {
    let config_dir = config_dir.display().to_string();
    let mut full_env = vec![("TOKENKEEP_CONFIG_DIR", config_dir.as_str())];
    full_env.extend_from_slice(env);
    run_binary(args, &full_env, stdin).await
}

/// Runs the binary with `args` and the extra environment `env`.
pub async fn run_binary(args: &[&str], env: &[(&str, &str)], stdin: &str) -> CliOutput {
    let mut child = Command::new(binary())
        .args(args)
        .env_remove("TOKENKEEP_DATABASE_URL")
        .env_remove("TOKENKEEP_HOST")
        .env_remove("TOKENKEEP_TOKEN")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the server binary");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.expect("write stdin");
    drop(input);
    let output = child.wait_with_output().await.expect("wait");
    CliOutput {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Sends a request line exactly as written (no URL normalisation) and
/// returns the status code.
pub async fn raw_request(address: &str, method: &str, path: &str, token: &str) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("receive");
    response
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .expect("a status line")
}
