//! Facility analyses over HTTP.
//!
//! - `GET /analysis/service-radii`: the radius per facility kind with its source, and the kinds
//!   present in the workspace with their counts.
//! - `POST /analysis/coverage` `{"kind", "radius_m"?, "minutes"?, "demand"?, "distance"?,
//!   "service_areas"?}`: who is within reach (straight, along the roads in metres, or in minutes).
//! - `POST /analysis/locate` `{"model", "radius_m"?, "minutes"?, "p"?, "demand"?, "candidates"?,
//!   "kind"?, "capacity"?, "given"?: [{"name","lon","lat"}], "method"?, "time_limit_s"?,
//!   "distance"?, "service_areas"?}`.
//! - `POST /analysis/centers` `{"villages": [codes]} | {"town": code or name}`, `"weights"?`.
//!
//! A bad or infeasible request is `422` problem+json whose `field` names the parameter at fault
//! (`radius`, `p`, `kind`, `capacity`, …); malformed JSON is `400`.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde_json::json;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, no_query};
use super::extract::json_response;
use super::extract::parse_body as parse;
use crate::engine::location::{LocateError, Method};
use crate::location::{
    CandidateMode, CenterWeights, CoverageRequest, DemandMode, Distance, LoadParcels,
    LocateRequest, LocationData, LocationError, center_members, coverage, locate, rank_centers,
    service_radii,
};

fn failure(e: LocationError) -> ApiError {
    match e {
        LocationError::Input { field, message } => {
            let mut extra = serde_json::Map::new();
            extra.insert("field".into(), json!(field));
            ApiError::unprocessable(message, extra)
        }
        LocationError::Locate(LocateError::BadParams { field, message }) => {
            ApiError::field(field, message)
        }
        LocationError::Locate(LocateError::Infeasible {
            constraint, detail, ..
        }) => {
            let mut extra = serde_json::Map::new();
            extra.insert(
                "field".into(),
                json!(crate::location::request_field(constraint)),
            );
            extra.insert("constraint".into(), json!(constraint));
            ApiError::unprocessable(detail, extra)
        }
        LocationError::Cancelled => ApiError::status(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "分析已停止 Analysis stopped",
            LocationError::Cancelled.to_string(),
        ),
        other => ApiError::internal(other),
    }
}

fn load(state: &AppState, parcels: LoadParcels) -> Result<Arc<LocationData>, ApiError> {
    state.snapshot().location_data(parcels).map_err(failure)
}

/// `GET /analysis/service-radii`.
#[utoipa::path(
    get,
    path = "/analysis/service-radii",
    tag = "analysis",
    summary = "服务半径 / service radius per facility kind",
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::ServiceRadii, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn radii(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    no_query(&query)?;
    let jobs_state = state.clone();
    let body = jobs_state
        .jobs
        .run(caller.role.is_some(), move || {
            let snap = state.snapshot();
            let ws = snap.open().map_err(ApiError::internal)?;
            let table = service_radii(&ws).map_err(failure)?;
            let data = snap
                .location_data(LoadParcels::default())
                .map_err(failure)?;
            Ok(json!({"service_radii": table, "kinds_present": data.kinds()}))
        })
        .await?;
    Ok(json_response("application/json", body))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CoverageBody {
    kind: String,
    radius_m: Option<f64>,
    minutes: Option<f64>,
    #[schema(schema_with = crate::api::schemas::demand_modes)]
    demand: Option<String>,
    #[schema(schema_with = crate::api::schemas::distance_modes)]
    distance: Option<String>,
    #[serde(default)]
    service_areas: bool,
}

/// `POST /analysis/coverage`.
#[utoipa::path(
    post,
    path = "/analysis/coverage",
    tag = "analysis",
    summary = "设施覆盖 / who is within reach of a facility kind",
    request_body(content = CoverageBody, content_type = "application/json"),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::AnalysisReport, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn coverage_handler(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: CoverageBody = parse(&body)?;
    let jobs_state = state.clone();
    let body = jobs_state
        .jobs
        .run(caller.role.is_some(), move || {
            let demand =
                DemandMode::parse(b.demand.as_deref().unwrap_or("residential")).map_err(failure)?;
            let distance =
                Distance::parse(b.distance.as_deref().unwrap_or("straight")).map_err(failure)?;
            let data = load(
                &state,
                LoadParcels {
                    residential: demand == DemandMode::Residential,
                    construction: false,
                    roads: distance.uses_roads(),
                },
            )?;
            coverage(
                &data,
                &CoverageRequest {
                    kind: b.kind,
                    radius_m: b.radius_m,
                    minutes: b.minutes,
                    demand,
                    distance,
                    service_areas: b.service_areas,
                },
            )
            .map(|r| r.to_json())
            .map_err(failure)
        })
        .await?;
    Ok(json_response("application/json", body))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct GivenSite {
    name: String,
    lon: f64,
    lat: f64,
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LocateBody {
    #[schema(schema_with = crate::api::schemas::location_models)]
    model: String,
    radius_m: Option<f64>,
    p: Option<usize>,
    #[schema(schema_with = crate::api::schemas::demand_modes)]
    demand: Option<String>,
    #[schema(schema_with = crate::api::schemas::candidate_modes)]
    candidates: Option<String>,
    kind: Option<String>,
    capacity: Option<f64>,
    #[serde(default)]
    given: Vec<GivenSite>,
    #[schema(schema_with = crate::api::schemas::location_methods)]
    method: Option<String>,
    time_limit_s: Option<f64>,
    minutes: Option<f64>,
    #[schema(schema_with = crate::api::schemas::distance_modes)]
    distance: Option<String>,
    #[serde(default)]
    service_areas: bool,
}

/// `POST /analysis/locate`.
#[utoipa::path(
    post,
    path = "/analysis/locate",
    tag = "analysis",
    summary = "设施选址 / best sites (LSCP, MCLP, p-median, p-center)",
    request_body(content = LocateBody, content_type = "application/json"),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::AnalysisReport, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn locate_handler(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: LocateBody = parse(&body)?;
    let demand =
        DemandMode::parse(b.demand.as_deref().unwrap_or("residential")).map_err(failure)?;
    let candidates = CandidateMode::parse(b.candidates.as_deref().unwrap_or("representative"))
        .map_err(failure)?;
    let distance = Distance::parse(b.distance.as_deref().unwrap_or("straight")).map_err(failure)?;
    let method =
        Method::parse(b.method.as_deref().unwrap_or("auto")).map_err(|e| failure(e.into()))?;
    let limit = state.jobs.limits.check_time_limit(b.time_limit_s, 60.0)?;
    let request = LocateRequest {
        model: b.model,
        radius_m: b.radius_m,
        p: b.p,
        demand,
        candidates,
        given: b
            .given
            .into_iter()
            .map(|g| (g.name, g.lon, g.lat))
            .collect(),
        kind: b.kind,
        capacity: b.capacity,
        method,
        time_limit: Duration::from_secs_f64(limit),
        distance,
        minutes: b.minutes,
        service_areas: b.service_areas,
        max_milp_pairs: Some(state.jobs.limits.max_milp_pairs),
    };
    let jobs_state = state.clone();
    let body = jobs_state
        .jobs
        .run(caller.role.is_some(), move || {
            let data = load(
                &state,
                LoadParcels {
                    residential: demand == DemandMode::Residential,
                    construction: candidates == CandidateMode::Construction,
                    roads: distance.uses_roads(),
                },
            )?;
            locate(&data, &request)
                .map(|r| r.to_json())
                .map_err(failure)
        })
        .await?;
    Ok(json_response("application/json", body))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CentersBody {
    #[serde(default)]
    villages: Vec<String>,
    town: Option<String>,
    weights: Option<CenterWeights>,
}

/// `POST /analysis/centers`.
#[utoipa::path(
    post,
    path = "/analysis/centers",
    tag = "analysis",
    summary = "中心村排序 / rank key-village candidates",
    request_body(content = CentersBody, content_type = "application/json"),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::AnalysisReport, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn centers_handler(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: CentersBody = parse(&body)?;
    let jobs_state = state.clone();
    let body = jobs_state
        .jobs
        .run(caller.role.is_some(), move || {
            let data = load(&state, LoadParcels::default())?;
            let members = center_members(&data, &b.villages, b.town.as_deref()).map_err(failure)?;
            let ranking =
                rank_centers(&data, &members, b.weights.unwrap_or_default()).map_err(failure)?;
            Ok(serde_json::to_value(ranking).expect("a ranking serialises"))
        })
        .await?;
    Ok(json_response("application/json", body))
}
