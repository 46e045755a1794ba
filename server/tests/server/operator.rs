//! The operator commands and the command-line client.

use super::prelude::*;

#[tokio::test]
async fn operator_commands_and_their_exit_codes() {
    let data = support::server::data_dir();
    let create = token_command(
        &data,
        &[
            "create",
            "laptop",
            "--owner",
            "alice",
            "--expires-in",
            "90d",
            "--route",
            "/releases:rw",
            "--ability",
            "deploy",
            "--description",
            "mine",
        ],
        "",
    )
    .await;
    assert_eq!(create.code, 0, "{}", create.stderr);
    let token = create.stdout.lines().next().unwrap().trim_start_matches("Token: ").to_owned();
    assert!(create.stdout.contains("will not be shown again"));

    let list = token_command(&data, &["list"], "").await;
    assert_eq!(list.code, 0);
    assert!(
        list.stdout.contains("laptop")
            && list.stdout.contains("alice")
            && !list.stdout.contains(&token[3..])
    );
    let json_list = token_command(&data, &["list", "--json"], "").await;
    let views: Value = serde_json::from_str(&json_list.stdout).unwrap();
    assert_eq!(views[0]["scopes"]["routes"][0]["access"], "rw");
    // Expiring within a week: none yet (laptop has 90 days); within a
    // hundred days, laptop.
    let week = token_command(&data, &["list", "--expiring-within", "7d", "--json"], "").await;
    assert_eq!(week.code, 0, "{}", week.stderr);
    assert_eq!(serde_json::from_str::<Value>(&week.stdout).unwrap(), json!([]));
    let season = token_command(&data, &["list", "--expiring-within", "100d"], "").await;
    assert!(season.stdout.contains("laptop"), "{}", season.stdout);

    let get = token_command(&data, &["get", "laptop"], "").await;
    assert_eq!(get.code, 0);
    assert!(!get.stdout.contains(&token[3..]));
    let rename = token_command(&data, &["rename", "laptop", "work-laptop"], "").await;
    assert_eq!(rename.code, 0, "{}", rename.stderr);
    let modify =
        token_command(&data, &["modify", "work-laptop", "--manager", "--route", "/docs:r"], "")
            .await;
    assert_eq!(modify.code, 0, "{}", modify.stderr);
    assert!(modify.stdout.contains("\"manager\":true"));

    let adopted =
        token_command(&data, &["create", "migrated", "--secret", "legacy-secret-42"], "").await;
    assert_eq!(adopted.code, 0, "{}", adopted.stderr);

    // Export, then import into a fresh data directory: the token verifies there.
    let export = token_command(&data, &["export"], "").await;
    assert_eq!(export.code, 0);
    assert_eq!(export.stdout.lines().count(), 2);
    assert!(!export.stdout.contains(&token[3..]));
    let elsewhere = support::server::data_dir();
    let import = token_command(&elsewhere, &["import"], &export.stdout).await;
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(import.stderr.contains("imported 2"));
    let server = Server::start_in(&elsewhere, &[], &[]).await;
    assert_eq!(server.whoami(&token).await.status(), StatusCode::OK);
    assert_eq!(server.whoami("legacy-secret-42").await.status(), StatusCode::OK);
    server.stop().await;

    let revoke = token_command(&data, &["revoke", "work-laptop", "--force"], "").await;
    assert_eq!(revoke.code, 0, "{}", revoke.stderr);
    let again = token_command(&data, &["revoke", "work-laptop"], "").await;
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("NOT_FOUND"));

    let refused = token_command(&data, &["create", "bad", "--expires-in", "0d"], "").await;
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("INVALID_DURATION"));
    let garbage = token_command(&data, &["import"], "not json\n").await;
    assert_eq!(garbage.code, 1);
    let usage = token_command(&data, &["create"], "").await;
    assert_eq!(usage.code, 2);
    let unknown = token_command(&data, &["frobnicate"], "").await;
    assert_eq!(unknown.code, 2);
}

#[tokio::test]
async fn create_login_call_revoke_call_fails_from_a_terminal() {
    let (server, admin) = claimed(&[]).await;
    let laptop = server.created(&admin, json!({ "name": "laptop", "owner": "alice" })).await;
    let token = laptop["token"].as_str().unwrap();
    let home = support::server::data_dir();

    let typo = format!("{}x", &token[..token.len() - 1]);
    let refused =
        client_command(&home, &["login", "--host", &server.base, "--token", &typo], &[]).await;
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("INVALID_TOKEN"), "{}", refused.stderr);
    assert!(!home.join("auth.json").exists(), "nothing saved");

    // The token comes on standard input: never in argv, `ps` or history.
    let login = support::server::client_command_with_input(
        &home,
        &["login", "--host", &server.base],
        &[],
        &format!("{token}\n"),
    )
    .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(
        !login.stdout.contains(&token[3..]) && !login.stderr.contains(&token[3..]),
        "login never prints the token"
    );

    let whoami = client_command(&home, &["whoami"], &[]).await;
    assert_eq!(whoami.code, 0, "{}", whoami.stderr);
    assert!(whoami.stdout.contains("\"alice\""), "{}", whoami.stdout);
    assert!(whoami.stdout.contains("auth.json"), "says where the token came from");
    assert!(!whoami.stdout.contains(&token[3..]));

    // The variables override the file: both, or one with the other from the file.
    let env_token = client_command(&home, &["whoami"], &[("TOKENKEEP_TOKEN", &admin)]).await;
    assert!(
        env_token.stdout.contains("\"admin\"") && env_token.stdout.contains("$TOKENKEEP_TOKEN")
    );
    // A host variable naming another server does not get the saved token:
    // a listener there sees no request carrying it.
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_host = format!("http://{}", elsewhere.local_addr().unwrap());
    let seen = tokio::spawn(async move {
        use tokio::io::AsyncReadExt as _;
        let mut received = Vec::new();
        while let Ok(Ok((mut stream, _))) =
            tokio::time::timeout(Duration::from_secs(3), elsewhere.accept()).await
        {
            let mut buffer = vec![0; 4096];
            let read = stream.read(&mut buffer).await.unwrap_or(0);
            received.extend_from_slice(&buffer[..read]);
        }
        String::from_utf8_lossy(&received).into_owned()
    });
    let env_host = client_command(&home, &["whoami"], &[("TOKENKEEP_HOST", &other_host)]).await;
    assert_eq!(env_host.code, 1, "{}", env_host.stderr);
    assert!(env_host.stderr.contains("not sent to another host"), "{}", env_host.stderr);
    assert!(!seen.await.unwrap().contains(&token[3..]), "the token stayed home");
    // Plain http:// to another machine takes an explicit choice.
    let plain = client_command(
        &home,
        &["whoami", "--host", "http://tokens.example.invalid", "--token", token],
        &[],
    )
    .await;
    assert_eq!(plain.code, 1);
    assert!(plain.stderr.contains("PLAIN_HTTP"), "{}", plain.stderr);
    // A user name before `@` hides the machine the token goes to: refused
    // outright, and nothing is saved.
    for spelling in [
        "http://[::1]@tokens.example.invalid",
        "http://localhost:1@tokens.example.invalid",
        "http://[::1]%40tokens.example.invalid",
    ] {
        let hidden =
            client_command(&home, &["login", "--host", spelling, "--token", token], &[]).await;
        assert_eq!(hidden.code, 1, "{spelling}");
        assert!(hidden.stderr.contains("INVALID_HOST"), "{}", hidden.stderr);
    }
    let saved = std::fs::read_to_string(home.join("auth.json")).unwrap();
    assert!(!saved.contains("example.invalid"), "{saved}");

    let revoke = server
        .authed(
            Method::DELETE,
            &format!("/api/auth/tokens/{}", laptop["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    let after = client_command(&home, &["whoami"], &[]).await;
    assert_eq!(after.code, 1);
    assert!(after.stderr.contains("INVALID_TOKEN"), "{}", after.stderr);

    let logout = client_command(&home, &["logout"], &[]).await;
    assert_eq!(logout.code, 0);
    assert!(!home.join("auth.json").exists());
    let nobody = client_command(&home, &["whoami"], &[]).await;
    assert_eq!(nobody.code, 1);
    assert!(nobody.stderr.contains("NOT_LOGGED_IN"));
    server.stop().await;
}

#[tokio::test]
async fn upgrade_mints_a_machine_token_without_printing_it() {
    let (server, admin) = claimed(&[]).await;
    let home = support::server::data_dir();
    let login =
        client_command(&home, &["login", "--host", &server.base, "--token", &admin], &[]).await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    let upgrade = client_command(&home, &["upgrade", "--name", "build-box"], &[]).await;
    assert_eq!(upgrade.code, 0, "{}", upgrade.stderr);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(home.join("auth.json")).unwrap()).unwrap();
    let machine = saved["token"].as_str().unwrap();
    assert_ne!(machine, admin);
    assert!(!upgrade.stdout.contains(&machine[3..]) && !upgrade.stderr.contains(&machine[3..]));
    let who = json_of(server.whoami(machine).await).await;
    assert_eq!(who["name"], "build-box");
    server.stop().await;
}

/// The server verifies from a cache in front of its SQLite file; the
/// operator's commands write that file from another process, and their
/// revoke still takes effect on the very next request.
#[tokio::test]
async fn a_revoke_from_the_command_line_reaches_the_running_server_at_once() {
    let data = support::server::data_dir();
    let server = Server::start_in(&data, &[], &[]).await;
    for round in 0..5 {
        let name = format!("laptop-{round}");
        let create = token_command(&data, &["create", &name], "").await;
        assert_eq!(create.code, 0, "{}", create.stderr);
        let token = create
            .stdout
            .lines()
            .next()
            .expect("the token is printed")
            .trim_start_matches("Token: ")
            .to_owned();
        for _ in 0..3 {
            assert_eq!(server.whoami(&token).await.status(), StatusCode::OK);
        }
        let revoke = token_command(&data, &["revoke", &name, "--force"], "").await;
        assert_eq!(revoke.code, 0, "{}", revoke.stderr);
        assert_eq!(server.whoami(&token).await.status(), StatusCode::UNAUTHORIZED, "round {round}");
    }
    server.stop().await;
}

/// With `--commit-check-ms`, the cache reads the commit counter on a
/// thread of its own instead of before every answer: the command line's
/// revoke still takes effect, within the interval rather than at once.
#[tokio::test]
async fn a_revoke_from_the_command_line_reaches_a_server_checking_every_few_ms() {
    let data = support::server::data_dir();
    let server = Server::start_in(&data, &["--commit-check-ms", "20"], &[]).await;
    let create = token_command(&data, &["create", "laptop"], "").await;
    assert_eq!(create.code, 0, "{}", create.stderr);
    let token = create.stdout.lines().next().unwrap().trim_start_matches("Token: ").to_owned();
    for _ in 0..3 {
        assert_eq!(server.whoami(&token).await.status(), StatusCode::OK);
    }
    let revoke = token_command(&data, &["revoke", "laptop", "--force"], "").await;
    assert_eq!(revoke.code, 0, "{}", revoke.stderr);
    // A liveness bound, not the interval: the machine may be loaded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let status = server.whoami(&token).await.status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(std::time::Instant::now() < deadline, "the revoke was never seen");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.stop().await;
}

/// `--help` is the operator's manual page: every option under its group,
/// with its environment variable, and an example invocation per storage.
#[tokio::test]
async fn help_reads_as_a_manual_page() {
    let help = support::server::run_binary(&["--help"], &[], "").await;
    assert_eq!(help.code, 0, "{}", help.stderr);
    let text = help.stdout;
    for heading in
        ["Listening:", "Storage:", "Tokens and policy:", "Proxies:", "Logs:", "Examples:"]
    {
        assert!(text.contains(heading), "{heading}: {text}");
    }
    for variable in [
        "TOKENKEEP_LISTEN",
        "TOKENKEEP_HEADER_TIMEOUT",
        "TOKENKEEP_BODY_TIMEOUT",
        "TOKENKEEP_MAX_CONNECTIONS",
        "TOKENKEEP_DATA_DIR",
        "TOKENKEEP_DATABASE_URL",
        "TOKENKEEP_COMMIT_CHECK_MS",
        "TOKENKEEP_PREFIX",
        "TOKENKEEP_TOKENS",
        "TOKENKEEP_TOKEN_FILE",
        "TOKENKEEP_SETUP_TOKEN",
        "TOKENKEEP_DANGEROUSLY_SKIP_SETUP_TOKEN",
        "TOKENKEEP_MAX_TOKENS_PER_OWNER",
        "TOKENKEEP_MAX_TOKEN_LIFETIME",
        "TOKENKEEP_DETECT_ROTATION_REUSE",
        "TOKENKEEP_TRUSTED_PROXIES",
        "TOKENKEEP_LOG_FORMAT",
        "RUST_LOG",
    ] {
        assert!(text.contains(variable), "{variable} is missing: {text}");
    }
    assert!(text.contains("postgres://") && text.contains("--data-dir /"), "{text}");
}
