//! Running the service: `/health`, Prometheus `/metrics`, and one log line per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::auth::Caller;

/// Upper bounds of the request-duration histogram, seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];

/// Request counters since the server started.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    /// By status class: 1xx … 5xx.
    by_class: [AtomicU64; 5],
    /// Cumulative counts per bucket, then +Inf.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    duration_sum_us: AtomicU64,
    in_flight: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            by_class: Default::default(),
            buckets: Default::default(),
            duration_sum_us: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    fn record(&self, status: u16, seconds: f64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.buckets[BUCKETS.len()].fetch_add(1, Ordering::Relaxed);
        self.duration_sum_us
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }
}

/// Logs each request (method, path, status, milliseconds, caller) and counts it.
pub async fn log_requests(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path: String = req.uri().path().chars().take(200).collect();
    state.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let response = next.run(req).await;
    state.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    state.metrics.record(status, seconds);
    let caller = response
        .extensions()
        .get::<Caller>()
        .map_or("-", |c| c.name.as_str());
    tracing::info!(
        target: "liancun::request",
        "{method} {path} {status} {:.1} ms {caller}",
        seconds * 1e3
    );
    response
}

/// `GET /health`: the service answers and which data it serves (no token needed, so load
/// balancers and monitors can ask).
#[utoipa::path(
    get,
    path = "/health",
    tag = "ops",
    summary = "健康检查 / the service answers (no token needed)",
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::Health, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security(()),
)]
pub async fn health(State(state): State<Arc<AppState>>) -> Response {
    let snap = state.snapshot();
    (
        [(header::CONTENT_TYPE, "application/json")],
        json!({
            "status": "ok",
            "data_version": snap.version,
            "uptime_s": state.metrics.started.elapsed().as_secs(),
        })
        .to_string(),
    )
        .into_response()
}

/// `GET /metrics`: Prometheus text exposition (format 0.0.4). Written here rather than with a
/// metrics crate: a dozen counters in a fixed format do not earn a dependency.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    summary = "Prometheus 指标 / Prometheus metrics",
    responses(
        (status = 200, description = "text exposition format 0.0.4", content_type = "text/plain", body = String),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    use std::fmt::Write;
    let m = &state.metrics;
    let j = &state.jobs;
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, kind: &str, lines: &[(String, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in lines {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    let classes: Vec<(String, u64)> = (0..5)
        .map(|i| {
            (
                format!("{{code=\"{}xx\"}}", i + 1),
                m.by_class[i].load(Ordering::Relaxed),
            )
        })
        .collect();
    counter(
        "liancun_http_requests_total",
        "HTTP requests answered, by status class.",
        "counter",
        &classes,
    );
    counter(
        "liancun_http_requests_in_flight",
        "HTTP requests being answered now.",
        "gauge",
        &[(String::new(), m.in_flight.load(Ordering::Relaxed))],
    );
    counter(
        "liancun_analysis_jobs_started_total",
        "Analyses started.",
        "counter",
        &[(String::new(), j.started.load(Ordering::Relaxed))],
    );
    counter(
        "liancun_analysis_jobs_running",
        "Analyses whose request is still open.",
        "gauge",
        &[(String::new(), j.running_now.load(Ordering::Relaxed))],
    );
    counter(
        "liancun_analysis_jobs_busy_total",
        "Analyses refused with 503 because every slot was taken.",
        "counter",
        &[(String::new(), j.busy.load(Ordering::Relaxed))],
    );
    counter(
        "liancun_analysis_jobs_cancelled_total",
        "Analyses cancelled (client gone or time limit).",
        "counter",
        &[(String::new(), j.cancelled.load(Ordering::Relaxed))],
    );
    counter(
        "liancun_refused_writes_total",
        "Writes refused for want of a token or role.",
        "counter",
        &[(
            String::new(),
            state.refusals.refused_total.load(Ordering::Relaxed),
        )],
    );
    let _ = writeln!(
        out,
        "# HELP liancun_http_request_duration_seconds Time to answer a request.\n# TYPE liancun_http_request_duration_seconds histogram"
    );
    for (i, le) in BUCKETS.iter().enumerate() {
        let _ = writeln!(
            out,
            "liancun_http_request_duration_seconds_bucket{{le=\"{le}\"}} {}",
            m.buckets[i].load(Ordering::Relaxed)
        );
    }
    let total = m.buckets[BUCKETS.len()].load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "liancun_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {total}\nliancun_http_request_duration_seconds_sum {}\nliancun_http_request_duration_seconds_count {total}",
        m.duration_sum_us.load(Ordering::Relaxed) as f64 / 1e6
    );
    let _ = writeln!(
        out,
        "# HELP liancun_uptime_seconds Seconds since the server started.\n# TYPE liancun_uptime_seconds gauge\nliancun_uptime_seconds {}",
        m.started.elapsed().as_secs()
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
