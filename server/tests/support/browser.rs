//! Headless Chromium driven over WebDriver (chromedriver + fantoccini).
//! Without a browser the tests say SKIPPED, unless `.ci/run` required one.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use tokio::process::{Child, Command};

/// Set by `.ci/run` after installing Chromium: a missing browser fails.
pub const REQUIRE_VAR: &str = "TOKENKEEP_REQUIRE_BROWSER";

pub struct Browser {
    _driver: Child,
    pub client: Client,
    shots: PathBuf,
    taken: usize,
}

fn find(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(variable) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

impl Browser {
    /// A fresh headless browser, or `None` (said on stderr) when there is none.
    pub async fn start(test: &str) -> Option<Self> {
        let chromium =
            find("TOKENKEEP_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]);
        let driver = find("TOKENKEEP_CHROMEDRIVER", &["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            assert!(
                std::env::var_os(REQUIRE_VAR).is_none(),
                "{REQUIRE_VAR} is set but Chromium or chromedriver is missing"
            );
            eprintln!(
                "SKIPPED: no Chromium and chromedriver found; install Debian's chromium and chromium-driver"
            );
            return None;
        };
        let port = free_port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let profile = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("chromium-profile-{test}-{port}"));
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1200,1250",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                        .join("browser-screenshots")
                        .join(test);
                    std::fs::create_dir_all(&shots).expect("screenshot directory");
                    eprintln!("screenshots: {}", shots.display());
                    return Some(Self { _driver: driver, client, shots, taken: 0 });
                }
                Err(error) => last_error = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not answer: {last_error:?}");
    }

    /// Saves a numbered PNG of the window into the test's output directory.
    pub async fn screenshot(&mut self, step: &str) -> PathBuf {
        self.taken += 1;
        let path = self.shots.join(format!("{:02}-{step}.png", self.taken));
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    pub fn screenshots(&self) -> &Path {
        &self.shots
    }

    /// Waits until the CSS selector matches a visible element.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("{css} did not appear: {error}"))
    }

    /// Polls `condition` (a JavaScript expression) until it is true.
    pub async fn wait_until(&self, condition: &str) {
        // WebDriver runs the script as a function body.
        let script = format!("return Boolean({condition});");
        for _ in 0..100 {
            let value = self.client.execute(&script, vec![]).await.expect("script");
            if value.as_bool() == Some(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let message = self
            .client
            .execute("return document.getElementById('message')?.textContent || ''", vec![])
            .await
            .ok();
        panic!("never true: {condition} (page message: {message:?})");
    }

    pub async fn text(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.expect(css).text().await.expect("text")
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.client.find(Locator::Css(css)).await.expect(css);
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.expect(css).click().await.expect("click");
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
