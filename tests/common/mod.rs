//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// A fresh temporary directory under the target dir (kept on failure for inspection).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the `liancun` binary with arguments.
pub fn liancun(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_liancun"))
        // Both languages, whatever the machine's locale: tests read either half.
        .env("LIANCUN_LANG", "both")
        .args(args)
        .output()
        .expect("run liancun")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Whether an external tool is on PATH. In CI (CI=true) a missing tool is a failure, not a skip.
pub fn require_tool(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{tool} is required in CI (install it in .ci/run)");
        }
        eprintln!(
            "\n!!!!! SKIPPED: {tool} is not installed; this test runs in CI (apt-get install gdal-bin poppler-utils) !!!!!\n"
        );
    }
    found
}

/// Writes a GeoJSON FeatureCollection from (properties JSON, geometry JSON) pairs.
pub fn write_geojson(path: &Path, features: &[(&str, &str)]) {
    let body: Vec<String> = features
        .iter()
        .map(|(p, g)| format!(r#"{{"type":"Feature","properties":{p},"geometry":{g}}}"#))
        .collect();
    std::fs::write(
        path,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            body.join(",\n")
        ),
    )
    .unwrap();
}

/// A lon/lat square polygon as GeoJSON geometry text.
pub fn square(lon: f64, lat: f64, size: f64) -> String {
    format!(
        r#"{{"type":"Polygon","coordinates":[[[{a},{b}],[{c},{b}],[{c},{d}],[{a},{d}],[{a},{b}]]]}}"#,
        a = lon,
        b = lat,
        c = lon + size,
        d = lat + size
    )
}

/// The demo county workspace in a fresh temporary directory: a copy of one built once per
/// test binary (generating it takes seconds; copying a file, milliseconds), so each test still
/// gets a workspace of its own to change.
pub fn demo_workspace(name: &str) -> PathBuf {
    static TEMPLATE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        let dir = temp_dir(&format!("demo-template-{}", std::process::id()));
        let ws = dir.join("demo.gpkg");
        let reference = format!("{}/data/reference", env!("CARGO_MANIFEST_DIR"));
        let o = liancun(&[
            "demo",
            "-w",
            ws.to_str().unwrap(),
            "--reference",
            &reference,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        ws
    });
    let dir = temp_dir(name);
    let ws = dir.join("demo.gpkg");
    std::fs::copy(template, &ws).unwrap();
    // The demo's source files beside the workspace, as `liancun demo` leaves them.
    if let Some(src) = template.parent().map(|d| d.join("demo"))
        && src.is_dir()
    {
        copy_dir(&src, &dir.join("demo"));
    }
    ws
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A `liancun serve` process on a free port, killed when dropped.
pub struct Server {
    child: std::process::Child,
    pub url: String,
}

impl Server {
    pub fn start(workspace: &Path) -> Server {
        Server::start_with(workspace, &[])
    }

    /// With more `serve` options.
    pub fn start_with(workspace: &Path, extra: &[&str]) -> Server {
        Server::spawn(workspace, extra, std::process::Stdio::inherit())
    }

    /// With its log (standard error: one line per request) written to `log` instead of the
    /// test's output.
    pub fn start_logged(workspace: &Path, extra: &[&str], log: &Path) -> Server {
        let file = std::fs::File::create(log).expect("create the server log");
        Server::spawn(workspace, extra, file.into())
    }

    fn spawn(workspace: &Path, extra: &[&str], stderr: std::process::Stdio) -> Server {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_liancun"))
            .args([
                "serve",
                "-w",
                workspace.to_str().unwrap(),
                "--bind",
                "127.0.0.1:0",
            ])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start liancun serve");
        let mut first_line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first_line)
            .unwrap();
        // The first line is the address; the URL has no trailing slash.
        let url = first_line
            .trim()
            .trim_start_matches("listening on ")
            .trim_end_matches('/')
            .to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{first_line}");
        Server { child, url }
    }
}

impl Server {
    /// The process id (to signal it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for the process to end by itself; its exit status if it did.
    pub fn wait_exit(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request to the router in-process: status, content type and the body as JSON (Null when
/// it is not JSON).
pub async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: &str,
) -> (axum::http::StatusCode, String, serde_json::Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = app
        .clone()
        .oneshot(
            axum::http::Request::builder()
                .method(method)
                .uri(uri)
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let ct = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        ct,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// Status, headers (lower-case names) and body of an HTTP response.
pub type HttpResponse = (u16, Vec<(String, String)>, String);

/// A minimal HTTP/1.1 client for tests against a running server: one request per connection.
/// Returns the status, the headers (lower-case names) and the body. Errors (e.g. the server
/// was killed) come back as `Err`.
pub fn http(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<HttpResponse> {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no HTTP response: {text:?}")))?;
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok((status, headers, body.to_string()))
}

/// Creates a token with the CLI; the token is the last word printed.
pub fn token(ws: &std::path::Path, role: &str, name: &str) -> String {
    let o = liancun(&[
        "token",
        "create",
        "-w",
        ws.to_str().unwrap(),
        "--role",
        role,
        "--name",
        name,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).split_whitespace().last().unwrap().to_string()
}

/// One in-process request with headers: status, response headers, JSON body (Null if none).
pub async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (
    axum::http::StatusCode,
    axum::http::HeaderMap,
    serde_json::Value,
) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app
        .clone()
        .oneshot(
            request
                .body(axum::body::Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// A PostGIS workspace URL for this test: `LIANCUN_TEST_DATABASE` (a `postgres://` URL, set by
/// `.ci/run`) with a schema of the test's own, dropped first so every run starts empty. `None`
/// (loudly) when the variable is unset outside CI; in CI (CI=true) a missing database fails.
pub fn postgres_workspace(name: &str) -> Option<String> {
    let Ok(base) = std::env::var("LIANCUN_TEST_DATABASE") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "LIANCUN_TEST_DATABASE is required in CI (.ci/run starts PostgreSQL and sets it)"
            );
        }
        eprintln!(
            "\n!!!!! SKIPPED: LIANCUN_TEST_DATABASE is not set; this PostGIS test runs in CI (see .ci/run) !!!!!\n"
        );
        return None;
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}schema=t_{name}_{}", std::process::id());
    let location = liancun::store::postgis::PgLocation::parse(&url).unwrap();
    liancun::store::postgis::PgStore::drop_schema(&location).unwrap();
    Some(url)
}

/// Where a test's workspace lives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backend {
    /// A GeoPackage file.
    GeoPackage,
    /// A schema of the PostGIS database in `LIANCUN_TEST_DATABASE`.
    PostGis,
}

/// The demo workspace on `backend`, the test's own: a copy of the demo GeoPackage, or that copied
/// into a fresh PostGIS schema with `liancun workspace copy` (the workspace argument is then the
/// URL). `None` when PostGIS is not available outside CI (said loudly).
pub fn demo_workspace_on(backend: Backend, name: &str) -> Option<PathBuf> {
    match backend {
        Backend::GeoPackage => Some(demo_workspace(name)),
        Backend::PostGis => {
            let url = postgres_workspace(name)?;
            // A directory apart from the GeoPackage variant's, which may be running meanwhile.
            let ws = demo_workspace(&format!("{name}_pg"));
            let o = liancun(&[
                "workspace",
                "copy",
                "--from",
                ws.to_str().unwrap(),
                "--to",
                &url,
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
            Some(PathBuf::from(url))
        }
    }
}

/// Drops a PostGIS test workspace's schema (nothing for a GeoPackage: it stays for inspection).
/// Safe to call from a test's async thread.
pub fn drop_workspace(ws: &Path) {
    let Some(url) = ws.to_str().filter(|u| u.starts_with("postgres")) else {
        return;
    };
    let url = url.to_string();
    std::thread::spawn(move || {
        if let Ok(liancun::store::StoreLocation::Postgres(at)) =
            liancun::store::StoreLocation::parse(&url)
        {
            let _ = liancun::store::postgis::PgStore::drop_schema(&at);
        }
    })
    .join()
    .unwrap();
}

/// After a burst of edits of plan 1 (each acknowledged edit: version, zone, the notes it set),
/// asked of the server at `url`: versions 1..=head are all there, the head is at least the
/// newest acknowledged version, and each acknowledged version was acknowledged once and holds
/// its write. Returns the head.
pub fn assert_acknowledged_edits_kept(url: &str, acked: &[(i64, String, String)]) -> i64 {
    use serde_json::Value;
    let (s, _, body) = http(url, "GET", "/plans/1/versions", &[], "").unwrap();
    assert_eq!(s, 200, "{body}");
    let versions: Value = serde_json::from_str(&body).unwrap();
    let head = versions["head"].as_i64().unwrap();
    let numbers: Vec<i64> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, (1..=head).rev().collect::<Vec<_>>());
    let max_acked = acked.iter().map(|a| a.0).max().unwrap_or(0);
    assert!(head >= max_acked, "head {head} < acknowledged {max_acked}");
    let mut seen = std::collections::HashSet::new();
    for (version, zone, note) in acked {
        assert!(
            seen.insert(*version),
            "two acknowledgements for version {version}"
        );
        let path = format!("/plans/1/versions/{version}");
        let (s, _, body) = http(url, "GET", &path, &[], "").unwrap();
        assert_eq!(s, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let z = v["zones"]
            .as_array()
            .unwrap()
            .iter()
            .find(|z| z["id"] == zone.as_str())
            .unwrap();
        assert_eq!(z["notes"], note.as_str(), "version {version}");
    }
    head
}
