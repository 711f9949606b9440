//! Schema fuzzing of the whole HTTP API with schemathesis (PyPI `schemathesis`, the `st`
//! command): every operation of the OpenAPI document at `/api`, positive and negative data,
//! with an admin token, against a running `liancun serve` on the demo county. Passes only with
//! no server error (5xx), and every answer's status, content type, headers and body as the
//! document says.
//!
//! Bounded: `LIANCUN_FUZZ_SECONDS` (default 150) for the whole run, analyses capped at 2 s by
//! the server's own budget (`--analysis-seconds`). Skips loudly without `st`, except in CI
//! (`.ci/run` installs it).

mod common;

use std::process::Command;

use common::*;

#[test]
fn every_route_holds_to_its_openapi_document_under_schemathesis() {
    let ci = std::env::var("CI").as_deref() == Ok("true");
    // Through python3 rather than the `st` script: a fresh pip install may not be on PATH yet.
    let st = || {
        let mut c = Command::new("python3");
        c.args([
            "-c",
            "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; sys.exit(schemathesis())",
        ]);
        c
    };
    let found = st()
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !ci,
            "schemathesis (`st`) is required in CI: pip install schemathesis (.ci/run does)"
        );
        eprintln!(
            "\n!!!!! SKIPPED: schemathesis is not installed (pip install schemathesis); this test runs in CI !!!!!\n"
        );
        return;
    }
    let seconds = std::env::var("LIANCUN_FUZZ_SECONDS").unwrap_or_else(|_| "150".into());
    let ws = demo_workspace("schema_fuzz");
    let admin = token(&ws, "admin", "schemathesis");
    // A plan to read, edit, export and draw (ids are small integers the fuzzer will try).
    let dir = temp_dir("schema_fuzz_report");
    let log = dir.join("server.log");
    let server = Server::start_logged(&ws, &["--analysis-seconds", "2"], &log);
    let (status, _, body) = http(
        &server.url,
        "POST",
        "/plans",
        &[("Authorization", &format!("Bearer {admin}"))],
        r#"{"name": "模糊测试方案", "from": "proposal", "params": {"time_limit_s": 2}}"#,
    )
    .expect("POST /plans");
    assert_eq!(status, 201, "{body}");
    let report = dir.join("junit.xml");
    let o = st()
        .args(["run", &format!("{}/api", server.url)])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance",
        ])
        .args(["--header", &format!("Authorization: Bearer {admin}")])
        .args(["--max-time", &seconds])
        .args(["--workers", "2", "--request-timeout", "30", "--seed", "1"])
        .args(["--suppress-health-check", "all"])
        .args(["--report", "junit", "--report-junit-path"])
        .arg(&report)
        .env("NO_COLOR", "1")
        // Its example database goes with the report, not into the source tree.
        .current_dir(&dir)
        .output()
        .expect("run st");
    let out = stdout(&o);
    println!("{out}");
    // The server's own account: no answer of 500 or more in its request log.
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    let requests = log_text.lines().filter(|l| l.contains(" INFO ")).count();
    let server_errors: Vec<&str> = log_text
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(4)
                .and_then(|s| s.parse::<u16>().ok())
                .is_some_and(|s| s >= 500)
        })
        .collect();
    println!(
        "server log {}: {requests} requests, {} answered 5xx",
        log.display(),
        server_errors.len()
    );
    assert!(
        o.status.success(),
        "schemathesis found problems (report: {}):\n{}\n{}",
        report.display(),
        out.lines()
            .rev()
            .take(200)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n"),
        stderr(&o)
    );
    assert!(server_errors.is_empty(), "{}", server_errors.join("\n"));
    // It really ran: thousands of requests reached the server (a run that reached nothing
    // would pass every check).
    assert!(
        requests > 1000,
        "only {requests} requests reached the server:\n{out}"
    );
}
