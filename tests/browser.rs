//! The web map in a real browser: headless Chromium (Debian `chromium`) driven by
//! `playwright-core` from `web/tests/browser.mjs` loads the page from a running server, waits
//! for the tiles, searches a village, clicks it, checks the side panel, the zone and facility
//! analyses, and edits a plan (规划方案) with an editor token made on the CLI; it saves
//! screenshots (`target/…/browser/map.png`, `map-zones.png`, `map-facilities.png`,
//! `map-plans.png`). Skips loudly without Chromium or Node.js, except in CI.
//!
//! A second test runs `web/tests/signin.mjs` against a server started with `--read viewer`: the
//! sign-in form before any data, a wrong token refused inline, a viewer token made on the CLI
//! signing in (village tiles with the token, search, reload, 退出登录); screenshot
//! `target/…/browser_signin/signin.png`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// One browser test at a time: two Chromiums on software WebGL and two debug servers at once
/// would slow each other past the scripts' time guards on a small machine.
static ONE_BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Chromium's path and the `web/` directory, or None (after saying so loudly) when Chromium or
/// Node.js is missing outside CI.
fn browser_setup() -> Option<(String, PathBuf)> {
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ci = std::env::var("CI").as_deref() == Ok("true");
    if !Path::new(&chromium).exists() {
        assert!(
            !ci,
            "Chromium ({chromium}) is required in CI: apt-get install chromium"
        );
        eprintln!(
            "\n!!!!! SKIPPED: no Chromium at {chromium}; this test runs in CI (apt-get install chromium) !!!!!\n"
        );
        return None;
    }
    if !require_tool("node") {
        return None;
    }
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    assert!(
        web.join("node_modules/playwright-core").exists(),
        "web/node_modules is missing playwright-core: build.rs runs `npm ci` in web/"
    );
    Some((chromium, web))
}

/// Runs `web/tests/<script> <url> <shot>` with the token, and checks it passed and saved a
/// screenshot.
fn run_script(web: &Path, script: &str, url: &str, shot: &Path, chromium: &str, token: &str) {
    let o = Command::new("node")
        .arg(web.join("tests").join(script))
        .arg(url)
        .arg(shot)
        .env("CHROMIUM_PATH", chromium)
        .env("LIANCUN_TOKEN", token)
        .output()
        .expect("run node");
    println!("{}", stdout(&o));
    assert!(
        o.status.success(),
        "{script} failed:\n{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    let png = std::fs::read(shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot {} of {} bytes",
        shot.display(),
        png.len()
    );
}

#[test]
fn web_map_in_headless_chromium() {
    let Some((chromium, web)) = browser_setup() else {
        return;
    };
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("browser");
    let ws = demo_workspace("browser_ws");
    // An editor token for the plan steps.
    let token = token(&ws, "editor", "浏览器测试");
    assert!(token.starts_with("lc_"), "token create printed {token:?}");
    let server = Server::start(&ws);
    let shot = dir.join("map.png");
    run_script(&web, "browser.mjs", &server.url, &shot, &chromium, &token);
    let plans = dir.join("map-plans.png");
    let png = std::fs::read(&plans).expect("a screenshot of the plan steps");
    assert!(
        png.starts_with(b"\x89PNG"),
        "{} is not a PNG",
        plans.display()
    );
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn web_map_sign_in_under_read_viewer() {
    let Some((chromium, web)) = browser_setup() else {
        return;
    };
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("browser_signin");
    let ws = demo_workspace("browser_signin_ws");
    // A viewer token: enough to read under --read viewer, not to edit.
    let token = token(&ws, "viewer", "登录测试");
    assert!(token.starts_with("lc_"), "token create printed {token:?}");
    let server = Server::start_with(&ws, &["--read", "viewer"]);
    let shot = dir.join("signin.png");
    run_script(&web, "signin.mjs", &server.url, &shot, &chromium, &token);
    eprintln!("screenshot: {}", shot.display());
}
