//! Analyses over HTTP: the contiguity graph and joint-village zones.
//!
//! - `GET /analysis/contiguity[?tolerance_m=1&bridge_m=500&f=geojson]`: the graph as JSON
//!   (edges with shared border length, islands, exclaves) or GeoJSON lines between villages.
//! - `POST /analysis/zones/propose` with a JSON body of [`ZoneRequest`] fields (all optional,
//!   plus `"geojson": true` for the dissolved zones): the proposal. An infeasible request is
//!   `422` problem+json naming the constraint and the villages involved.
//! - `POST /analysis/zones/evaluate` with `{"zoning": {code: zone} | {"zones": […]} | "CSV text", "params":
//!   {…}}`: the evaluation (`"params": {"geojson": true}` adds the dissolved zones). Every zone
//!   of a proposal or evaluation has a `colour` index: neighbouring zones differ.
//!
//! Handlers parse, then run the engine on a blocking thread (the workspace is opened there).

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde_json::{Value as Json, json};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{json_response, parse_body};
use crate::zones::{
    ZoneRequest, ZonesError, ZoningData, contiguity_geojson, contiguity_json, evaluation_geojson,
    evaluation_json, proposal_geojson, proposal_json, propose_request,
};

fn zones_error(e: ZonesError) -> ApiError {
    match e {
        ZonesError::Input { field, message } => ApiError::bad_request(message).with_field(&field),
        ZonesError::Workspace(w) => ApiError::internal(w),
    }
}

fn load(state: &AppState, request: &ZoneRequest) -> Result<Arc<ZoningData>, ApiError> {
    let options = request.load_options().map_err(zones_error)?;
    state.snapshot().zoning_data(&options).map_err(zones_error)
}

/// The proposal's search time when a request names none (the engine's default).
const DEFAULT_SEARCH_S: f64 = 60.0;

/// `GET /analysis/contiguity`.
#[utoipa::path(
    get,
    path = "/analysis/contiguity",
    tag = "analysis",
    summary = "村庄邻接图 / the contiguity graph",
    params(
        ("tolerance_m" = Option<f64>, Query, description = "snapping tolerance for shared borders (m)", minimum = 0),
        ("bridge_m" = Option<f64>, Query, description = "bridge islands to villages within this distance (m)", minimum = 0),
        ("f" = Option<crate::api::schemas::FeatureFormat>, Query, description = "geojson: lines between neighbours"),
    ),
    responses(
        (status = 200, description = "OK", content((crate::api::schemas::ContiguityReport = "application/json"), (crate::api::schemas::FeatureCollection = "application/geo+json"))),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn contiguity(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let mut request = ZoneRequest::default();
    let mut geojson = false;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|_| {
        ApiError::bad_request("查询字符串无法解析 / the query string cannot be decoded")
    })?;
    for (k, v) in pairs {
        let number = |v: &str| {
            v.parse::<f64>()
                .map_err(|_| ApiError::bad_request(format!("{k}='{v}' is not a number")))
        };
        match k.as_str() {
            "tolerance_m" => request.tolerance_m = Some(number(&v)?),
            "bridge_m" => request.bridge_m = Some(number(&v)?),
            "f" if v == "json" => geojson = false,
            "f" if v == "geojson" => geojson = true,
            "f" => return Err(ApiError::bad_request(format!("f='{v}': json or geojson"))),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}' (tolerance_m, bridge_m, f)"
                )));
            }
        }
    }
    let jobs_state = state.clone();
    let body = jobs_state
        .jobs
        .run(caller.role.is_some(), move || {
            let data = load(&state, &request)?;
            Ok(if geojson {
                contiguity_geojson(&data)
            } else {
                contiguity_json(&data)
            })
        })
        .await?;
    Ok(json_response(
        if geojson {
            "application/geo+json"
        } else {
            "application/json"
        },
        body,
    ))
}

/// `POST /analysis/zones/propose`.
#[utoipa::path(
    post,
    path = "/analysis/zones/propose",
    tag = "analysis",
    summary = "联村片区方案 / propose joint-village zones",
    request_body(content = crate::zones::ZoneRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::Proposal, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn propose_zones(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut request: ZoneRequest = parse_body(&body)?;
    request.time_limit_s = Some(
        state
            .jobs
            .limits
            .check_time_limit(request.time_limit_s, DEFAULT_SEARCH_S)?,
    );
    let geojson = request.geojson;
    let jobs_state = state.clone();
    let body = jobs_state
        .jobs
        .run(caller.role.is_some(), move || {
            let data = load(&state, &request)?;
            let started = std::time::Instant::now();
            let proposal = match propose_request(&data, &request).map_err(zones_error)? {
                Ok(p) => p,
                Err(f) => return Err(ApiError::zoning_failure(f)),
            };
            let mut out = proposal_json(&data, &proposal);
            out["seconds"] = json!(started.elapsed().as_secs_f64());
            out["request"] = crate::zones::request_echo(&request);
            if geojson {
                out["geojson"] = proposal_geojson(&data, &proposal);
            }
            Ok(out)
        })
        .await?;
    Ok(json_response("application/json", body))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EvaluateBody {
    zoning: Json,
    #[serde(default)]
    params: ZoneRequest,
}

/// `POST /analysis/zones/evaluate`.
#[utoipa::path(
    post,
    path = "/analysis/zones/evaluate",
    tag = "analysis",
    summary = "评估片区划分 / evaluate a zoning",
    request_body(content = EvaluateBody, content_type = "application/json"),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::Evaluation, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn evaluate_zones(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let EvaluateBody { zoning, params } = parse_body(&body)?;
    let jobs_state = state.clone();
    let body = jobs_state
        .jobs
        .run(caller.role.is_some(), move || {
            let started = std::time::Instant::now();
            let data = load(&state, &params)?;
            // A string is the text of a zoning file (CSV or JSON), as the CLI reads it.
            let text = match &zoning {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            let e = crate::zones::evaluate_request(&data, &params, &text).map_err(zones_error)?;
            let mut out = evaluation_json(&data, &e);
            out["seconds"] = json!(started.elapsed().as_secs_f64());
            if params.geojson {
                out["geojson"] = evaluation_geojson(&data, &e);
            }
            Ok(out)
        })
        .await?;
    Ok(json_response("application/json", body))
}
