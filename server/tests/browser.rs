//! The tokens panel in a real browser: claim, generate, the token shown
//! once, reload, list, revoke with confirmation, and the token refused.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::StatusCode;
use support::browser::Browser;
use support::server::{SETUP_TOKEN, Server};

async fn whoami_status(server: &Server, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(server.url("/api/whoami"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_whole_panel_flow() {
    let Some(mut browser) = Browser::start("panel-flow").await else {
        return;
    };
    let server = Server::start(&[]).await;
    browser.client.goto(&server.url("/")).await.unwrap();

    // The setup wizard of a fresh instance.
    browser.wait_for("#setup:not([hidden])").await;
    browser.screenshot("setup-wizard").await;
    browser.fill("#setup-token", "not-the-setup-token").await;
    browser.click("#setup-form button[type=submit]").await;
    browser.wait_for("#message:not([hidden])").await;
    assert!(browser.text("#message").await.contains("not the setup token"));
    browser.fill("#setup-token", SETUP_TOKEN).await;
    browser.click("#setup-form button[type=submit]").await;
    browser.wait_for("#panel:not([hidden])").await;
    browser.wait_for("#banner:not([hidden])").await;
    let admin = browser.text("#new-token").await;
    support::server::remember(&admin);
    assert!(admin.starts_with("tk_"), "{admin}");
    browser.screenshot("claimed").await;
    browser.click("#dismiss-banner").await;

    // Generate a token: the banner shows it once, with the login command.
    browser.fill("#create-label", "laptop").await;
    browser.click("#generate").await;
    browser.wait_until("document.getElementById('new-token').textContent !== ''").await;
    let token = browser.text("#new-token").await;
    support::server::remember(&token);
    assert!(token.starts_with("tk_") && token != admin);
    let login = browser.text("#login-command").await;
    assert_eq!(
        login,
        format!("tokenkeep-server login --host {}", server.base),
        "the installed binary's command, without the token"
    );
    assert_eq!(whoami_status(&server, &token).await, StatusCode::OK);
    browser.wait_until("[...document.querySelectorAll('#token-rows td.label')].some(td => td.textContent === 'laptop')").await;
    let shot = browser.screenshot("token-generated").await;
    // The README's picture of the panel: every run of this test redraws it,
    // so it shows the panel as it is (a throwaway token of a test server).
    let readme_picture = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/tokens-panel.png");
    std::fs::copy(&shot, readme_picture).expect("the README's picture");

    // The same label again: a clear message, nothing created.
    browser.fill("#create-label", "laptop").await;
    browser.click("#generate").await;
    browser.wait_until("document.getElementById('message').textContent.includes('label')").await;
    browser.screenshot("name-taken").await;

    // Reload: still signed in (this tab), the token is never shown again.
    browser.client.refresh().await.unwrap();
    browser.wait_for("#panel:not([hidden])").await;
    browser.wait_until("document.querySelectorAll('#token-rows tr').length === 2").await;
    assert!(
        browser
            .wait_for("#banner[hidden]")
            .await
            .is_displayed()
            .await
            .map(|shown| !shown)
            .unwrap_or(true)
    );
    let source = browser.client.source().await.unwrap();
    assert!(!source.contains(&token[3..]), "the token is gone after a reload");
    let storage = browser
        .client
        .execute("return JSON.stringify(sessionStorage) + document.cookie + location.href", vec![])
        .await
        .unwrap();
    let storage = storage.as_str().unwrap();
    assert!(!storage.contains(&token[3..]), "only the sign-in token is kept");
    assert!(!storage.contains("tk_") || !storage.contains("cookie"));
    browser.screenshot("after-reload").await;

    // Revoke with confirmation: the row goes, the token answers 401.
    let row = "[...document.querySelectorAll('#token-rows tr')].find(tr => tr.querySelector('td.label').textContent === 'laptop')";
    browser
        .client
        .execute(&format!("{row}.querySelector('button.revoke').click(); return true;"), vec![])
        .await
        .unwrap();
    browser.wait_for("#confirm-revoke[open]").await;
    assert_eq!(browser.text("#revoke-name").await, "laptop");
    browser.screenshot("confirm-revoke").await;
    browser.click("#confirm-revoke-yes").await;
    browser.wait_until(&format!("{row} === undefined")).await;
    assert_eq!(whoami_status(&server, &token).await, StatusCode::UNAUTHORIZED);
    browser.screenshot("revoked").await;

    // The audit trail on request: when, and who (the panel's own token).
    browser.click("#show-revoked").await;
    browser
        .wait_until(&format!(
            "{row} !== undefined && {row}.textContent.includes('revoked') \
             && {row}.textContent.includes(' by token:')"
        ))
        .await;
    browser.screenshot("audit-trail").await;

    // A token that expires within a week is marked.
    let soon = reqwest::Client::new()
        .post(server.url("/api/auth/tokens"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "name": "soon", "expires_in": "3d", "uses": 5, "allowed_ips": ["127.0.0.0/8"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(soon.status(), StatusCode::CREATED);
    let soon: serde_json::Value = soon.json().await.unwrap();
    support::server::remember(soon["token"].as_str().unwrap());
    browser.click("#show-revoked").await;
    browser
        .wait_until(
            "[...document.querySelectorAll('#token-rows tr.expiring')].some(tr => tr.textContent.includes('soon') && tr.textContent.includes('5 uses left') && tr.textContent.includes('from 127.0.0.0/8')) \
             && ![...document.querySelectorAll('#token-rows tr.expiring td.label')].some(td => td.textContent === 'admin')",
        )
        .await;
    browser.screenshot("expiring-soon").await;

    // A phone-sized window.
    browser.client.set_window_size(390, 844).await.unwrap();
    browser.screenshot("phone").await;

    // Signing out forgets the token; a revoked sign-in token is refused clearly.
    browser.click("#sign-out").await;
    browser.wait_for("#sign-in:not([hidden])").await;
    browser.fill("#sign-in-token", &token).await;
    browser.click("#sign-in-form button[type=submit]").await;
    browser.wait_until("document.getElementById('message').textContent.includes('invalid, expired or revoked')").await;
    browser.screenshot("revoked-sign-in").await;

    eprintln!("screenshots in {}", browser.screenshots().display());
    browser.close().await;
    server.stop().await;
}

#[tokio::test]
async fn the_page_allows_only_its_own_script_and_style() {
    let server = Server::start(&[]).await;
    let page = reqwest::get(server.url("/")).await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("script-src 'self'")
            && csp.contains("style-src 'self'")
    );
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script>") && !html.contains("style="), "no inline script or style");
    for asset in ["/app.js", "/app.css"] {
        let response = reqwest::get(server.url(asset)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }
    // Every control has a label.
    for id in [
        "setup-name",
        "setup-token",
        "sign-in-token",
        "create-label",
        "create-description",
        "create-expiry",
        "route-path",
    ] {
        assert!(html.contains(&format!("for=\"{id}\"")), "no label for {id}");
    }
    server.stop().await;
}
