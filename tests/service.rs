//! A service a bureau can leave running (issue 16): bounded and cancellable analyses, strict
//! inputs, read paths that never write, one data version, problem+json everywhere.
//! One demo workspace is built once and shared by the tests of this file.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use liancun::api::jobs::{JobLimits, Jobs};
use liancun::api::{AppState, router};
use liancun::workspace::Workspace;
use serde_json::Value as Json;

fn shared_demo() -> PathBuf {
    static WS: OnceLock<PathBuf> = OnceLock::new();
    WS.get_or_init(|| demo_workspace("service_demo")).clone()
}

fn app_with(limits: JobLimits) -> axum::Router {
    let ws = Workspace::open(&shared_demo()).unwrap();
    let mut state = AppState::load(&ws, "t").unwrap();
    state.jobs = Jobs::new(limits);
    router(Arc::new(state))
}

fn field(body: &Json) -> &str {
    body["field"].as_str().unwrap_or("")
}

/// Finding 4: absurd numbers are 422s naming the field, not 500s or hour-long runs.
#[tokio::test]
async fn time_limits_radii_and_minutes_beyond_the_servers_bounds_are_refused_by_field() {
    let app = app_with(JobLimits {
        max_seconds: 30.0,
        ..Default::default()
    });
    for (uri, body, want) in [
        (
            "/analysis/zones/propose",
            r#"{"time_limit_s": 1e20}"#,
            "time_limit_s",
        ),
        (
            "/analysis/zones/propose",
            r#"{"time_limit_s": 1e9, "effort": 1000000000000}"#,
            "time_limit_s",
        ),
        (
            "/analysis/zones/propose",
            r#"{"time_limit_s": 31}"#,
            "time_limit_s",
        ),
        (
            "/analysis/zones/propose",
            r#"{"time_limit_s": -1}"#,
            "time_limit_s",
        ),
        (
            "/analysis/locate",
            r#"{"model": "pmedian", "p": 2, "time_limit_s": 1e20}"#,
            "time_limit_s",
        ),
        (
            "/analysis/coverage",
            r#"{"kind": "卫生室", "radius_m": 2e7, "service_areas": true}"#,
            "radius_m",
        ),
        (
            "/analysis/coverage",
            r#"{"kind": "卫生室", "radius_m": 2e7, "distance": "network"}"#,
            "radius_m",
        ),
        (
            "/analysis/coverage",
            r#"{"kind": "卫生室", "minutes": 1e6, "distance": "time"}"#,
            "minutes",
        ),
        (
            "/analysis/locate",
            r#"{"model": "lscp", "radius_m": 1e12}"#,
            "radius_m",
        ),
        // Finding 3: 1,084 demand points × 1,118 construction parcels as an exact p-median
        // grew the server by 2.7 GB; the budget refuses it before it is built.
        (
            "/analysis/locate",
            r#"{"model": "pmedian", "p": 5, "candidates": "construction", "method": "exact"}"#,
            "method",
        ),
    ] {
        let (status, ct, json) = call(&app, "POST", uri, body).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{uri} {body}: {json}"
        );
        assert_eq!(ct, "application/problem+json");
        assert_eq!(field(&json), want, "{uri} {body}: {json}");
    }
    // Inside POST /plans the proposal's time limit is held to the same bound.
    let editor = token(&shared_demo(), "editor", "limits");
    let (status, _, json) = send(
        &app,
        "POST",
        "/plans",
        &[("authorization", &format!("Bearer {editor}"))],
        r#"{"name": "太长", "params": {"time_limit_s": 1e20}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{json}");
    assert_eq!(field(&json), "time_limit_s");
}

/// Finding 2: a huge effort stays within the time limit, and a request whose client went away
/// stops and frees its slot (with one slot, the next proposal would otherwise wait for the
/// first one's 60 s and be refused with 503 after the 20 s queue wait).
#[tokio::test]
async fn an_abandoned_analysis_stops_and_frees_its_slot() {
    let app = app_with(JobLimits {
        max_seconds: 60.0,
        slots: 1,
        queue_wait: Duration::from_secs(20),
        ..Default::default()
    });
    let long = call(
        &app,
        "POST",
        "/analysis/zones/propose",
        r#"{"time_limit_s": 60, "effort": 100000000}"#,
    );
    // The client gives up after a second: the request future is dropped.
    assert!(
        tokio::time::timeout(Duration::from_secs(1), long)
            .await
            .is_err()
    );
    let (status, _, json) = call(
        &app,
        "POST",
        "/analysis/zones/propose",
        r#"{"time_limit_s": 2, "effort": 100000000}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    // The huge effort did not outlast its 2 s: the search says it stopped at the limit.
    assert_eq!(json["stopped_by_time_limit"], true, "{json}");
}

/// Finding 2: when every slot is taken, the next caller is told to come back (503 with
/// Retry-After) instead of piling up threads.
#[tokio::test]
async fn a_full_pool_answers_503_with_retry_after() {
    let app = app_with(JobLimits {
        max_seconds: 60.0,
        slots: 1,
        queue_wait: Duration::from_millis(300),
        ..Default::default()
    });
    let busy_app = app.clone();
    let first = tokio::spawn(async move {
        call(
            &busy_app,
            "POST",
            "/analysis/zones/propose",
            r#"{"time_limit_s": 20, "effort": 100000000}"#,
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, headers, json) = send(
        &app,
        "POST",
        "/analysis/zones/propose",
        &[],
        r#"{"time_limit_s": 1}"#,
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
    assert!(headers.get("retry-after").is_some());
    assert_eq!(json["status"], 503);
    // A caller with a token has a pool of its own: anonymous load does not take its slot.
    let viewer = token(&shared_demo(), "viewer", "pool");
    let (status, _, json) = send(
        &app,
        "POST",
        "/analysis/zones/propose",
        &[("authorization", &format!("Bearer {viewer}"))],
        r#"{"time_limit_s": 1}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    first.abort();
}

/// Finding 9: a zoning that is not one is refused, naming the field or the line, never an
/// empty plan or an empty evaluation.
#[tokio::test]
async fn garbage_zonings_are_refused_not_turned_into_empty_plans() {
    let app = app_with(JobLimits::default());
    let editor = token(&shared_demo(), "editor", "garbage");
    let auth = format!("Bearer {editor}");
    for zoning in [
        r#""garbage""#,
        "5",
        "[1, 2]",
        "true",
        r#""code,zone\n""#,
        r#"{"zones": [{"id": "A", "members": ["nope"]}]}"#,
        r#"{}"#,
    ] {
        let body = format!(r#"{{"name": "坏方案", "zoning": {zoning}}}"#);
        let (status, _, json) =
            send(&app, "POST", "/plans", &[("authorization", &auth)], &body).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{zoning}: {status} {json}"
        );
        assert!(json["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let (status, _, list) = send(&app, "GET", "/plans", &[("authorization", &auth)], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list["plans"]
            .as_array()
            .is_none_or(|p| p.iter().all(|p| p["name"] != "坏方案")),
        "no plan was stored: {list}"
    );
    let (status, _, json) = call(
        &app,
        "POST",
        "/analysis/zones/evaluate",
        r#"{"zoning": "garbage"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    assert!(
        json["detail"].as_str().unwrap().contains("no village"),
        "{json}"
    );
    let (status, _, json) = call(
        &app,
        "POST",
        "/analysis/zones/evaluate",
        r#"{"zoning": "village,zone\ngarbage"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    assert!(
        json["detail"].as_str().unwrap().contains("line 2"),
        "{json}"
    );
}

/// Finding 1: refused anonymous writes are sampled into the audit log (at most 10 a minute,
/// targets cut to 200 characters) and counted, not stored one row each.
#[tokio::test]
async fn refused_writes_are_sampled_into_the_audit_log_not_stored_one_row_each() {
    use liancun::store::plans::PlanStore;
    // A workspace of its own: other tests' refusals would blur the count.
    let ws = demo_workspace("service_audit");
    let state = Arc::new(AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap());
    let app = router(state.clone());
    let denied_rows = || {
        let store = liancun::store::gpkg::GpkgStore::open_read_only(&ws).unwrap();
        store
            .audit_log(100_000)
            .unwrap()
            .into_iter()
            .filter(|r| r.entry.action.starts_with("denied"))
            .collect::<Vec<_>>()
    };
    // Long, but under the 8 KB request-target limit (which answers 414 before any auth).
    let long_path = format!("/plans/{}", "x".repeat(7 * 1024));
    for _ in 0..500 {
        let (status, _, _) = call(&app, "POST", &long_path, "{}").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // The sampled rows are written on blocking threads: wait for them to land.
    let mut rows = denied_rows();
    for _ in 0..50 {
        if rows.len() >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        rows = denied_rows();
    }
    assert_eq!(
        rows.len(),
        10,
        "10 stored in the first minute: {}",
        rows.len()
    );
    assert!(rows.iter().all(|r| r.entry.target.chars().count() <= 201));
    assert_eq!(
        state
            .refusals
            .refused_total
            .load(std::sync::atomic::Ordering::Relaxed),
        500
    );
}

/// The SQLite file change counter (header bytes 24..28): any committed write bumps it.
/// A z10 tile at the centre of the villages layer's extent.
async fn centre_tile(app: &axum::Router) -> String {
    let (_, _, c) = call(app, "GET", "/collections/villages", "").await;
    let b = &c["extent"]["spatial"]["bbox"][0];
    let lon = (b[0].as_f64().unwrap() + b[2].as_f64().unwrap()) / 2.0;
    let lat = (b[1].as_f64().unwrap() + b[3].as_f64().unwrap()) / 2.0;
    let n = 1024.0;
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let phi = lat.to_radians();
    let y = ((1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    format!("/tiles/villages/10/{x}/{y}.mvt")
}

fn change_counter(path: &std::path::Path) -> u32 {
    let bytes = std::fs::read(path).unwrap();
    u32::from_be_bytes(bytes[24..28].try_into().unwrap())
}

/// Finding 5: reads never write to the workspace (the file's change counter stays put), and
/// concurrent reads beside plan writes never fail with "database is locked".
#[tokio::test]
async fn read_only_requests_leave_the_workspace_file_untouched() {
    let ws = demo_workspace("service_reads");
    let state = Arc::new(AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap());
    let app = router(state.clone());
    let before = change_counter(&ws);
    for uri in [
        "/analysis/service-radii",
        "/villages",
        "/collections/villages/items?limit=5",
        "/analysis/contiguity",
    ] {
        let (status, _, json) = call(&app, "GET", uri, "").await;
        assert!(status.is_success(), "{uri}: {status} {json}");
    }
    for (uri, body) in [
        ("/analysis/coverage", r#"{"kind": "卫生室"}"#),
        ("/analysis/zones/propose", r#"{"time_limit_s": 1}"#),
        ("/analysis/centers", r#"{"town": "370323102"}"#),
    ] {
        let (status, _, json) = call(&app, "POST", uri, body).await;
        assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{uri}: {json}");
    }
    let tile = centre_tile(&app).await;
    let (status, _, _) = call(&app, "GET", &tile, "").await;
    assert_eq!(status, StatusCode::OK, "{tile}");
    assert_eq!(change_counter(&ws), before, "a read wrote to the workspace");

    // Reads in parallel with an editor's writes: no 5xx.
    let editor = token(&ws, "editor", "writer");
    let auth = format!("Bearer {editor}");
    let mut tasks = Vec::new();
    for i in 0..24 {
        let (app, auth) = (app.clone(), auth.clone());
        tasks.push(tokio::spawn(async move {
            if i % 4 == 0 {
                let body = format!(r#"{{"name": "并发{i}", "from": "empty"}}"#);
                send(&app, "POST", "/plans", &[("authorization", &auth)], &body).await
            } else {
                send(&app, "GET", "/analysis/service-radii", &[], "").await
            }
        }));
    }
    for t in tasks {
        let (status, _, json) = t.await.unwrap();
        assert!(status.is_success(), "{status} {json}");
    }
}

/// Finding 6: after a re-import while serving, every route answers from the new data: the
/// village list, items, tiles (a new ETag) and the analyses.
#[tokio::test]
async fn a_reimport_while_serving_reaches_every_route() {
    let ws = demo_workspace("service_reimport");
    let state = Arc::new(AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap());
    let app = router(state.clone());
    let (_, _, villages) = call(&app, "GET", "/villages", "").await;
    let first = villages["villages"][0].clone();
    let code = first["code"].as_str().unwrap().to_string();
    let tile_uri = centre_tile(&app).await;
    let tile_uri = tile_uri.as_str();
    let (status, tile_headers, _) = send(&app, "GET", tile_uri, &[], "").await;
    assert_eq!(status, StatusCode::OK, "{tile_uri}");
    let etag_before = tile_headers.get("etag").unwrap().clone();

    // Re-import the villages with the first one renamed and its population doubled.
    let dir = ws.parent().unwrap();
    let exported = dir.join("villages.geojson");
    let o = liancun(&[
        "export",
        "-w",
        ws.to_str().unwrap(),
        "--layer",
        "villages",
        "-o",
        exported.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut fc: Json = serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    let feature = fc["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["properties"]["code"] == code.as_str())
        .unwrap();
    feature["properties"]["name"] = "新名村".into();
    let population = feature["properties"]["population"].as_f64().unwrap();
    feature["properties"]["population"] = (population * 2.0).into();
    std::fs::write(&exported, fc.to_string()).unwrap();
    let o = liancun(&[
        "import",
        "-w",
        ws.to_str().unwrap(),
        "--layer",
        "villages",
        exported.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    assert!(state.refresh().unwrap(), "the new data version is seen");
    assert!(!state.refresh().unwrap(), "and loaded once");
    let (_, _, profile) = call(&app, "GET", &format!("/villages/{code}"), "").await;
    assert_eq!(profile["name"], "新名村", "{profile}");
    let (_, _, items) = call(
        &app,
        "GET",
        &format!("/collections/villages/items?code={code}"),
        "",
    )
    .await;
    assert_eq!(items["features"][0]["properties"]["name"], "新名村");
    let (_, tile_headers, _) = send(&app, "GET", tile_uri, &[], "").await;
    assert_ne!(tile_headers.get("etag").unwrap(), &etag_before);
    let (_, _, centers) = call(
        &app,
        "POST",
        "/analysis/centers",
        &format!(r#"{{"villages": ["{code}"]}}"#),
    )
    .await;
    assert!(centers.to_string().contains("新名村"), "{centers}");
}

/// Finding 8: an editor's write does not hold up everyone else: token lookups do not wait for
/// the plan store's write lock, and one PATCH carries at most 5,000 edits. Finding 9: an
/// If-Match list holding the current tag wins even when a stale tag comes first.
#[tokio::test]
async fn writes_do_not_block_other_callers_and_if_match_lists_match_any() {
    let ws = demo_workspace("service_writes");
    let state = Arc::new(AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap());
    let app = router(state.clone());
    let editor = token(&ws, "editor", "ed");
    let auth = format!("Bearer {editor}");
    let (status, headers, plan) = send(
        &app,
        "POST",
        "/plans",
        &[("authorization", &auth)],
        r#"{"name": "锁", "from": "proposal", "params": {"time_limit_s": 2}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let id = plan["id"].as_i64().unwrap();
    let etag = headers.get("etag").unwrap().to_str().unwrap().to_string();
    let zone = plan["zones"][0]["id"].as_str().unwrap().to_string();

    // A writer holds the store for 5 s; an authenticated read meanwhile still answers.
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let holder = state.clone();
    let writer = std::thread::spawn(move || {
        let _store = holder.plan_store();
        held_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(5));
    });
    held_rx.recv().unwrap();
    let auth_header = [("authorization", auth.as_str())];
    let whoami = send(&app, "GET", "/auth/whoami", &auth_header, "");
    let (status, _, me) = tokio::time::timeout(Duration::from_secs(4), whoami)
        .await
        .expect("the token lookup waited for the writer");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["name"], "ed");
    writer.join().unwrap();

    // Too many edits: refused by field before any work.
    let edits: Vec<Json> = (0..5_001)
        .map(|i| serde_json::json!({"op": "rename", "zone": zone, "name": format!("名{i}")}))
        .collect();
    let (status, _, json) = send(
        &app,
        "PATCH",
        &format!("/plans/{id}"),
        &[("authorization", &auth), ("if-match", &etag)],
        &serde_json::json!({ "edits": edits }).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{json}");
    assert_eq!(field(&json), "edits");

    // A stale tag first, the current one second: the edit goes through.
    let stale = format!("\"plan-{id}-v0\"");
    let (status, headers, json) = send(
        &app,
        "PATCH",
        &format!("/plans/{id}"),
        &[
            ("authorization", &auth),
            ("if-match", &format!("{stale}, {etag}")),
        ],
        &serde_json::json!({"edits": [{"op": "rename", "zone": zone, "name": "新名"}]}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    // Only stale tags: 412.
    let (status, _, _) = send(
        &app,
        "PATCH",
        &format!("/plans/{id}"),
        &[
            ("authorization", &auth),
            ("if-match", &format!("{stale}, {etag}")),
        ],
        &serde_json::json!({"edits": [{"op": "rename", "zone": zone, "name": "再改"}]}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_ne!(headers.get("etag").unwrap().to_str().unwrap(), etag);
}

/// Finding 9: requests a browser page elsewhere could send, oversized requests, and axum's own
/// errors: each refused or answered as problem+json; filters compare numbers as numbers; CSV
/// exports do not carry formulas.
#[tokio::test]
async fn wire_rules_content_types_origins_sizes_filters_and_csv() {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let ws = demo_workspace("service_wire");
    let state = Arc::new(AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap());
    let app = router(state);
    let raw = |method: &str, uri: &str, headers: &[(&str, &str)], body: &str| {
        let mut r = axum::http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let request = r.body(Body::from(body.to_string())).unwrap();
        let app = app.clone();
        async move {
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                headers,
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        }
    };
    let problem = |h: &axum::http::HeaderMap| {
        h.get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            == Some("application/problem+json".into())
    };
    // A form post (what any web page can send without a preflight): 415.
    let (status, h, _) = raw(
        "POST",
        "/analysis/zones/propose",
        &[("content-type", "text/plain")],
        "{}",
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(problem(&h));
    let (status, _, _) = raw("POST", "/analysis/zones/propose", &[], "{}").await;
    assert_eq!(
        status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "no content type"
    );
    // JSON from another site's page: 403; from the server's own page: accepted.
    let (status, h, _) = raw(
        "POST",
        "/analysis/centers",
        &[
            ("content-type", "application/json"),
            ("host", "gis.local:8080"),
            ("origin", "http://evil.example"),
        ],
        r#"{"town": "370323102"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(problem(&h));
    assert!(h.get("access-control-allow-origin").is_none());
    let (status, _, body) = raw(
        "POST",
        "/analysis/centers",
        &[
            ("content-type", "application/json"),
            ("host", "gis.local:8080"),
            ("origin", "http://gis.local:8080"),
        ],
        r#"{"town": "370323102"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // axum's own 405 and 413, and the size limits: problem+json with a detail.
    let (status, h, body) = raw(
        "PUT",
        "/villages",
        &[("content-type", "application/json")],
        "{}",
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(problem(&h) && h.get("allow").is_some(), "{body}");
    assert!(body.contains("detail"));
    let big = format!(r#"{{"zoning": "{}"}}"#, "x".repeat(3 * 1024 * 1024));
    let (status, h, _) = raw(
        "POST",
        "/analysis/zones/evaluate",
        &[("content-type", "application/json")],
        &big,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(problem(&h));
    let (status, h, _) = raw("GET", &format!("/villages?{}", "a".repeat(9000)), &[], "").await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    assert!(problem(&h));
    let huge = "x".repeat(40 * 1024);
    let (status, h, _) = raw("GET", "/villages", &[("x-padding", &huge)], "").await;
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(problem(&h));

    // Property filters compare numbers as numbers.
    let (_, _, page) = call(&app, "GET", "/collections/villages/items?limit=1", "").await;
    let income = page["features"][0]["properties"]["collective_income"]
        .as_f64()
        .unwrap();
    let (_, _, found) = call(
        &app,
        "GET",
        &format!("/collections/villages/items?collective_income={income:.3}"),
        "",
    )
    .await;
    assert!(
        found["numberMatched"].as_u64().unwrap() >= 1,
        "{income:.3}: {found}"
    );

    // A zone named like a formula exports as text.
    let editor = token(&ws, "editor", "csv");
    let auth = format!("Bearer {editor}");
    let (status, headers, plan) = send(
        &app,
        "POST",
        "/plans",
        &[("authorization", &auth)],
        r#"{"name": "公式", "from": "proposal", "params": {"time_limit_s": 1}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let id = plan["id"].as_i64().unwrap();
    let etag = headers.get("etag").unwrap().to_str().unwrap().to_string();
    let zone = plan["zones"][0]["id"].as_str().unwrap().to_string();
    let rename = serde_json::json!({"edits": [{"op": "rename", "zone": zone, "name": "=HYPERLINK(\"http://x\")"}]});
    let (status, _, json) = send(
        &app,
        "PATCH",
        &format!("/plans/{id}"),
        &[("authorization", &auth), ("if-match", &etag)],
        &rename.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let (status, _, csv) = raw(
        "GET",
        &format!("/plans/{id}/export?format=stats"),
        &[("authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(
        csv.contains("'=HYPERLINK"),
        "the name is in the export, as text: {csv}"
    );
    assert!(
        !csv.contains(",=HYPERLINK") && !csv.contains("\n=HYPERLINK"),
        "{csv}"
    );
}

/// Reads from a raw connection until the server closes it (Ok(bytes read)) or `limit` passes.
fn read_until_closed(stream: &mut std::net::TcpStream, limit: Duration) -> Option<String> {
    use std::io::Read;
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&got).into_owned());
            }
            Err(_) => return None,
        }
    }
}

/// Finding 7 and 11 on a real server: slow headers, idle keep-alive connections and slow
/// bodies are cut off; /health and /metrics answer; SIGTERM stops the server while an
/// analysis runs (it is cancelled), within seconds.
#[test]
fn slow_clients_are_timed_out_and_the_server_stops_gracefully() {
    use std::io::Write;
    let mut server = Server::start_with(&shared_demo(), &["--analysis-seconds", "60"]);
    let host = server.url.trim_start_matches("http://").to_string();
    let connect = || std::net::TcpStream::connect(&host).unwrap();
    let limit = Duration::from_secs(40);

    // The three slow clients, side by side.
    let slow_headers = {
        let mut s = connect();
        s.write_all(b"GET /villages HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        std::thread::spawn(move || read_until_closed(&mut s, limit))
    };
    let idle = {
        let mut s = connect();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        std::thread::spawn(move || read_until_closed(&mut s, limit))
    };
    let slow_body = {
        let mut s = connect();
        s.write_all(
            b"POST /analysis/centers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"town\"",
        )
        .unwrap();
        std::thread::spawn(move || read_until_closed(&mut s, limit))
    };
    let closed = slow_headers.join().unwrap();
    assert!(
        closed.is_some(),
        "a client that never finished its headers was kept"
    );
    let idle = idle
        .join()
        .unwrap()
        .expect("an idle keep-alive connection was kept");
    assert!(idle.starts_with("HTTP/1.1 200"), "{idle}");
    let slow_body = slow_body
        .join()
        .unwrap()
        .expect("a slow body was waited for");
    assert!(slow_body.starts_with("HTTP/1.1 408"), "{slow_body}");
    assert!(
        slow_body.contains("application/problem+json"),
        "{slow_body}"
    );

    // Health and metrics.
    let (status, _, body) = http(&server.url, "GET", "/health", &[], "").unwrap();
    assert_eq!(status, 200);
    let health: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert!(
        health["data_version"]
            .as_str()
            .unwrap()
            .contains("villages:")
    );
    let (status, headers, body) = http(&server.url, "GET", "/metrics", &[], "").unwrap();
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/plain"))
    );
    assert!(
        body.contains("liancun_http_requests_total{code=\"2xx\"}"),
        "{body}"
    );
    assert!(
        body.contains("liancun_http_requests_total{code=\"4xx\"} "),
        "{body}"
    );

    // A long analysis in flight, then SIGTERM: the process ends by itself, soon.
    let url = server.url.clone();
    let analysis = std::thread::spawn(move || {
        http(
            &url,
            "POST",
            "/analysis/zones/propose",
            &[],
            r#"{"time_limit_s": 60, "effort": 100000000}"#,
        )
    });
    std::thread::sleep(Duration::from_secs(2));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server
        .wait_exit(Duration::from_secs(30))
        .expect("the server did not stop within 30 s of SIGTERM");
    assert!(status.success(), "{status:?}");
    // The request in flight got an answer or a closed connection, not a hang.
    let _ = analysis.join().unwrap();
}
