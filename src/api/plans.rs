//! Plans over HTTP.
//!
//! - `GET /plans`: the plans (id, name, head version, who and when).
//! - `POST /plans` `{"name", "from": "proposal"|"empty"|"zoning", "zoning"?, "params"?, "message"?}`
//!   (editor) → 201 with `Location` and `ETag`: the plan, checked.
//! - `GET /plans/{id}`: the head, with `ETag` (`If-None-Match` → 304); zones with members,
//!   statistics and violations, unassigned villages, warnings.
//! - `PATCH /plans/{id}` `{"edits": [{"op": "move", "village", "to"}, …], "message"?}` (editor,
//!   `If-Match` required: 428 without, 412 when stale) → the new version with its diff and warnings.
//! - `DELETE /plans/{id}` (admin, `If-Match`) → 204; versions stay in the workspace.
//! - `GET /plans/{id}/versions`, `/plans/{id}/versions/{v}`, `/plans/{id}/diff?from=&to=`,
//!   `POST /plans/{id}/restore {"version"}` (editor, `If-Match`).
//! - `GET /plans/{id}/export?format=geojson|gpkg|csv|stats[&version=]`: dissolved zones, the
//!   member table, statistics per zone.
//! - `GET /plans/{id}/sheet?zone=Z001&format=pdf|svg|png&paper=a3|a4|a3-portrait|a1-portrait[&organization=][&version=]`: the
//!   one-zone-one-plan sheet (PDF with searchable text), or without `zone` the county overview.
//! - `GET /audit?limit=` (admin): the audit log, newest first; `GET /auth/whoami`: the
//!   caller's token name and role (`api/auth.rs`).
//!
//! Handlers parse and check the request, then run [`crate::plan`] on a blocking thread.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiPath};
use super::extract::{blocking, json_response, number, parse_body, query_pairs};
use crate::plan::{self, Actor, Edit, PlanError, Source};
use crate::store::StoreError;
use crate::zones::ZonesError;

fn plan_error(e: PlanError) -> ApiError {
    match e {
        PlanError::Edit(e) => {
            ApiError::field(&format!("edits[{}].{}", e.index, e.field), e.to_string())
        }
        PlanError::Input { field, reason } => ApiError::field(field, format!("{field}: {reason}")),
        PlanError::Zones(ZonesError::Input { field, message }) => {
            ApiError::field(&format!("params.{field}"), message)
        }
        PlanError::Zones(ZonesError::Workspace(w)) => ApiError::internal(w),
        PlanError::Infeasible(f) => ApiError::zoning_failure(*f),
        PlanError::Store(StoreError::NoPlan(id)) => {
            ApiError::not_found(format!("方案 {id} 不存在 / no plan {id}"))
        }
        e @ PlanError::NoVersion { .. } => ApiError::not_found(e.to_string()),
        PlanError::Store(e @ StoreError::Conflict { .. }) => stale(e.to_string()),
        e @ (PlanError::Store(_) | PlanError::Corrupt { .. } | PlanError::Io(_)) => {
            ApiError::internal(e)
        }
    }
}

fn stale(detail: String) -> ApiError {
    ApiError::status(
        StatusCode::PRECONDITION_FAILED,
        "版本已过期 Precondition failed",
        format!("{detail}；请重新读取方案后再改 / reload the plan and edit again"),
    )
}

fn actor(caller: &Caller) -> Actor {
    Actor {
        name: caller.name.clone(),
        role: caller.role.map_or_else(String::new, |r| r.to_string()),
    }
}

fn zoning_data(state: &AppState) -> Result<Arc<crate::zones::ZoningData>, ApiError> {
    state.plan_zoning_data().map_err(|e| {
        let e = e.to_string();
        if e.contains("no villages layer") {
            ApiError::field("villages", e)
        } else {
            ApiError::internal(e)
        }
    })
}

/// The version an `If-Match` header names for plan `id` (`*` is the head); 428 without one.
fn if_match(
    headers: &HeaderMap,
    id: i64,
    head: impl FnOnce() -> Result<i64, ApiError>,
) -> Result<i64, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Err(ApiError::status(
            StatusCode::PRECONDITION_REQUIRED,
            "需要 If-Match Precondition required",
            "修改方案需带 If-Match 头（方案的 ETag），以免覆盖他人的修改 / editing a plan needs an If-Match header with the plan's ETag, so no one overwrites another's edit",
        ));
    };
    let text = value.to_str().unwrap_or("").trim();
    if text.split(',').any(|t| t.trim() == "*") {
        return head();
    }
    let prefix = format!("\"plan-{id}-v");
    let versions: Vec<i64> = text
        .split(',')
        .map(str::trim)
        .filter_map(|tag| {
            tag.strip_prefix(&prefix)?
                .strip_suffix('"')?
                .parse::<i64>()
                .ok()
        })
        .collect();
    match versions.as_slice() {
        [] => Err(stale(format!(
            "If-Match {text} 不是方案 {id} 的 ETag / If-Match {text} is not an ETag of plan {id}"
        ))),
        [one] => Ok(*one),
        // RFC 9110 §13.1.1: the condition holds when any listed tag matches the current one.
        several => {
            let current = head()?;
            Ok(if several.contains(&current) {
                current
            } else {
                several[0]
            })
        }
    }
}

fn with_etag(mut response: Response, etag: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn json_body(status: StatusCode, body: &Json) -> Response {
    (status, json_response("application/json", body.clone())).into_response()
}

/// The plan at a version as JSON, checked.
fn plan_body(state: &AppState, id: i64, version: Option<i64>) -> Result<(Json, String), ApiError> {
    let data = zoning_data(state)?;
    let (record, v, content) = plan::load(&*state.plan_store(), id, version).map_err(plan_error)?;
    let checked = plan::check(&data, &content).map_err(plan_error)?;
    let body = plan::plan_json(&data, &record, v, &content, &checked);
    Ok((body, plan::etag(id, v)))
}

/// `GET /plans`.
#[utoipa::path(
    operation_id = "plans_list",
    get,
    path = "/plans",
    tag = "plans",
    summary = "规划方案列表 / the plans",
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::PlanList, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let body = blocking(move || {
        let plans = state.plan_store().plans().map_err(ApiError::internal)?;
        Ok(json!({
            "plans": plans.iter().map(|p| json!({
                "id": p.id, "name": p.name, "version": p.head, "etag": plan::etag(p.id, p.head),
                "created_at": p.created_at, "created_by": p.created_by,
                "updated_at": p.updated_at, "updated_by": p.updated_by,
                "links": [{"rel": "self", "href": format!("/plans/{}", p.id)}],
            })).collect::<Vec<_>>(),
        }))
    })
    .await?;
    Ok(json_body(StatusCode::OK, &body))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateBody {
    name: String,
    #[serde(default)]
    #[schema(schema_with = crate::api::schemas::plan_sources)]
    from: Option<String>,
    #[serde(default)]
    zoning: Option<Json>,
    /// Proposal parameters (those of `POST /analysis/zones/propose`) when `from` is `proposal`.
    #[serde(default)]
    #[schema(value_type = Object)]
    params: serde_json::Map<String, Json>,
    #[serde(default)]
    message: String,
}

/// `POST /plans`.
#[utoipa::path(
    operation_id = "plans_create",
    post,
    path = "/plans",
    tag = "plans",
    summary = "新建方案 / create a plan (editor)",
    request_body(content = CreateBody, content_type = "application/json"),
    responses(
        (status = 201, description = "已创建 / created", body = crate::api::schemas::Plan, content_type = "application/json", headers(("Location" = String, description = "/plans/{id}"), ("ETag" = String, description = "the plan version"))),
        crate::api::schemas::Problems,
    ),
    security(("bearer" = [])),
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: CreateBody = parse_body(&body)?;
    let name = crate::request::plan_name(&body.name)?;
    let source = match (body.from.as_deref(), body.zoning) {
        (Some("zoning") | None, Some(z)) => Source::Zoning(match z {
            Json::String(s) => s,
            Json::Object(_) => z.to_string(),
            other => {
                return Err(ApiError::field(
                    "zoning",
                    format!(
                        "zoning 应为分区文本（CSV/JSON）或对象，而不是 {other} / zoning must be zoning text (CSV or JSON) or an object"
                    ),
                ));
            }
        }),
        (Some("zoning"), None) => {
            return Err(ApiError::field(
                "zoning",
                "from = zoning 需要 zoning 字段 / from = zoning needs a zoning",
            ));
        }
        (Some("proposal") | None, None) => Source::Proposal,
        (Some("empty"), None) => Source::Empty,
        (Some(other), _) => {
            return Err(ApiError::field(
                "from",
                format!(
                    "from = '{other}': 应为 proposal、empty 或 zoning / must be proposal, empty or zoning"
                ),
            ));
        }
    };
    let mut params = body.params;
    if matches!(source, Source::Proposal) {
        let requested = match params.get("time_limit_s") {
            None | Some(Json::Null) => None,
            Some(t) => Some(t.as_f64().ok_or_else(|| {
                ApiError::field("time_limit_s", "time_limit_s 应为数 / must be a number")
            })?),
        };
        let limit = state.jobs.limits.check_time_limit(requested, 60.0)?;
        params.insert("time_limit_s".into(), serde_json::json!(limit));
    }
    let actor = actor(&caller);
    let jobs_state = state.clone();
    let (body, etag, id) = jobs_state
        .jobs
        .run(true, move || {
            let data = zoning_data(&state)?;
            let content =
                plan::initial_content(&data, &name, &source, params).map_err(plan_error)?;
            let record = plan::create(&mut *state.plan_store(), &content, &actor, &body.message)
                .map_err(plan_error)?;
            let checked = plan::check(&data, &content).map_err(plan_error)?;
            Ok((
                plan::plan_json(&data, &record, record.head, &content, &checked),
                plan::etag(record.id, record.head),
                record.id,
            ))
        })
        .await?;
    let mut response = with_etag(json_body(StatusCode::CREATED, &body), &etag);
    if let Ok(v) = HeaderValue::from_str(&format!("/plans/{id}")) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `GET /plans/{id}`.
#[utoipa::path(
    operation_id = "plans_show",
    get,
    path = "/plans/{id}",
    tag = "plans",
    summary = "方案（当前版本）/ a plan at its head",
    params(
        ("id" = i64, Path, description = "plan id"),
        ("If-None-Match" = Option<String>, Header, description = "the ETag held: 304 when unchanged"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::Plan, content_type = "application/json", headers(("ETag" = String, description = "the plan version"))),
        (status = 304, description = "未变化 / unchanged"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn show(
    State(state): State<Arc<AppState>>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (body, etag) = blocking(move || plan_body(&state, id, None)).await?;
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if unchanged {
        return Ok(with_etag(StatusCode::NOT_MODIFIED.into_response(), &etag));
    }
    Ok(with_etag(json_body(StatusCode::OK, &body), &etag))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EditBody {
    edits: Vec<Edit>,
    #[serde(default)]
    message: String,
}

/// The most edits one PATCH may carry: a county has under a thousand villages, so this is
/// every village moved several times over; 40,000 edits once held the store for 20 s.
const MAX_EDITS: usize = 5_000;

/// `PATCH /plans/{id}`.
#[utoipa::path(
    operation_id = "plans_edit",
    patch,
    path = "/plans/{id}",
    tag = "plans",
    summary = "编辑方案 / edit a plan (editor, If-Match)",
    params(
        ("id" = i64, Path, description = "plan id"),
        ("If-Match" = String, Header, description = "the ETag of the version edited (428 without, 412 when stale)"),
    ),
    request_body(content = EditBody, content_type = "application/json"),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::Plan, content_type = "application/json", headers(("ETag" = String, description = "the new version"))),
        crate::api::schemas::Problems,
    ),
    security(("bearer" = [])),
)]
pub async fn edit(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: EditBody = parse_body(&body)?;
    if body.edits.len() > MAX_EDITS {
        return Err(ApiError::field(
            "edits",
            format!(
                "一次最多 {MAX_EDITS} 项修改，收到 {} 项 / at most {MAX_EDITS} edits per request, got {}",
                body.edits.len(),
                body.edits.len()
            ),
        ));
    }
    let actor = actor(&caller);
    let (body, etag) = blocking(move || {
        let expected = if_match(&headers, id, || head(&state, id))?;
        let data = zoning_data(&state)?;
        // The edits are applied without the write lock; the commit checks the head again.
        let (before, after) =
            plan::prepare_edit(&*state.read_store(), &data, id, expected, &body.edits)
                .map_err(plan_error)?;
        let (record, content, diff) = plan::commit_edit(
            &mut *state.plan_store(),
            &data,
            id,
            expected,
            (&before, &after),
            &actor,
            &body.message,
        )
        .map_err(plan_error)?;
        written(&data, &record, expected, &content, &diff)
    })
    .await?;
    Ok(with_etag(json_body(StatusCode::OK, &body), &etag))
}

fn head(state: &AppState, id: i64) -> Result<i64, ApiError> {
    state
        .read_store()
        .plan(id)
        .map_err(ApiError::internal)?
        .map(|p| p.head)
        .ok_or_else(|| ApiError::not_found(format!("方案 {id} 不存在 / no plan {id}")))
}

/// The answer to a write: the new head, checked, with the diff from the version it was based on.
fn written(
    data: &crate::zones::ZoningData,
    record: &crate::store::plans::PlanRecord,
    base: i64,
    content: &plan::PlanContent,
    diff: &plan::PlanDiff,
) -> Result<(Json, String), ApiError> {
    let checked = plan::check(data, content).map_err(plan_error)?;
    let mut body = plan::plan_json(data, record, record.head, content, &checked);
    body["based_on"] = json!(base);
    body["changes"] =
        json!({"summary": diff.summary_named(&plan::village_names(data)), "diff": diff});
    Ok((body, plan::etag(record.id, record.head)))
}

/// `DELETE /plans/{id}`.
#[utoipa::path(
    operation_id = "plans_delete",
    delete,
    path = "/plans/{id}",
    tag = "plans",
    summary = "删除方案 / delete a plan (admin, If-Match)",
    params(
        ("id" = i64, Path, description = "plan id"),
        ("If-Match" = String, Header, description = "the ETag of the head"),
    ),
    responses(
        (status = 204, description = "已删除 / deleted (its versions stay in the workspace)"),
        crate::api::schemas::Problems,
    ),
    security(("bearer" = [])),
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = actor(&caller);
    blocking(move || {
        let expected = if_match(&headers, id, || head(&state, id))?;
        let entry = crate::store::plans::AuditEntry {
            actor: actor.name,
            role: actor.role,
            action: "plan.delete".into(),
            target: format!("plans/{id}"),
            outcome: "ok".into(),
            detail: format!("at v{expected}"),
        };
        state
            .plan_store()
            .delete_plan(id, expected, &entry)
            .map_err(|e| plan_error(e.into()))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /plans/{id}/versions`.
#[utoipa::path(
    get,
    path = "/plans/{id}/versions",
    tag = "plans",
    summary = "方案版本 / the versions of a plan",
    params(
        ("id" = i64, Path, description = "plan id"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::PlanVersions, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn versions(
    State(state): State<Arc<AppState>>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let body = blocking(move || {
        let store = state.plan_store();
        let record = store
            .plan(id)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found(format!("方案 {id} 不存在 / no plan {id}")))?;
        let versions = store.versions(id).map_err(ApiError::internal)?;
        Ok(json!({
            "plan": id, "name": record.name, "head": record.head,
            "versions": versions.iter().map(|v| json!({
                "version": v.version, "author": v.author, "at": v.at, "message": v.message,
                "summary": v.summary,
                "changes": serde_json::from_str::<Json>(&v.diff).unwrap_or(Json::Null),
                "href": format!("/plans/{id}/versions/{}", v.version),
            })).collect::<Vec<_>>(),
        }))
    })
    .await?;
    Ok(json_body(StatusCode::OK, &body))
}

/// `GET /plans/{id}/versions/{version}`.
#[utoipa::path(
    get,
    path = "/plans/{id}/versions/{version}",
    tag = "plans",
    summary = "方案的某一版本 / a plan at one version",
    params(
        ("id" = i64, Path, description = "plan id"),
        ("version" = i64, Path, description = "version number"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::Plan, content_type = "application/json", headers(("ETag" = String, description = "this version"))),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn show_version(
    State(state): State<Arc<AppState>>,
    ApiPath((id, version)): ApiPath<(i64, i64)>,
) -> Result<Response, ApiError> {
    let (body, etag) = blocking(move || plan_body(&state, id, Some(version))).await?;
    Ok(with_etag(json_body(StatusCode::OK, &body), &etag))
}

/// `GET /plans/{id}/diff?from=A&to=B` (`to` defaults to the head, `from` to the version before).
#[utoipa::path(
    get,
    path = "/plans/{id}/diff",
    tag = "plans",
    summary = "版本比较 / what changed between two versions",
    params(
        ("id" = i64, Path, description = "plan id"),
        ("from" = Option<i64>, Query, description = "older version (default: the one before to)", minimum = 1),
        ("to" = Option<i64>, Query, description = "newer version (default: the head)", minimum = 1),
    ),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::PlanDiff, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn diff(
    State(state): State<Arc<AppState>>,
    ApiPath(id): ApiPath<i64>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (mut from, mut to) = (None, None);
    for (k, v) in query_pairs(query.as_deref())? {
        match k.as_str() {
            "from" => from = Some(number(&k, &v)?),
            "to" => to = Some(number(&k, &v)?),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}' (from, to)"
                )));
            }
        }
    }
    let body = blocking(move || {
        let data = zoning_data(&state)?;
        let store = state.plan_store();
        let (_, to_v, to_c) = plan::load(&*store, id, to).map_err(plan_error)?;
        let from_v = from.unwrap_or((to_v - 1).max(1));
        let (_, from_v, from_c) = plan::load(&*store, id, Some(from_v)).map_err(plan_error)?;
        Ok(plan::diff_json(&data, (from_v, &from_c), (to_v, &to_c)))
    })
    .await?;
    Ok(json_body(StatusCode::OK, &body))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RestoreBody {
    version: i64,
}

/// `POST /plans/{id}/restore`.
#[utoipa::path(
    post,
    path = "/plans/{id}/restore",
    tag = "plans",
    summary = "恢复旧版本 / restore a version as the new head (editor, If-Match)",
    params(
        ("id" = i64, Path, description = "plan id"),
        ("If-Match" = String, Header, description = "the ETag of the head"),
    ),
    request_body(content = RestoreBody, content_type = "application/json"),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::Plan, content_type = "application/json", headers(("ETag" = String, description = "the new version"))),
        crate::api::schemas::Problems,
    ),
    security(("bearer" = [])),
)]
pub async fn restore(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: RestoreBody = parse_body(&body)?;
    let actor = actor(&caller);
    let (body, etag) = blocking(move || {
        let expected = if_match(&headers, id, || head(&state, id))?;
        let data = zoning_data(&state)?;
        let (record, content, diff) = plan::restore(
            &mut *state.plan_store(),
            &data,
            id,
            expected,
            body.version,
            &actor,
        )
        .map_err(|e| match e {
            e @ PlanError::NoVersion { .. } => ApiError::field("version", e.to_string()),
            other => plan_error(other),
        })?;
        written(&data, &record, expected, &content, &diff)
    })
    .await?;
    Ok(with_etag(json_body(StatusCode::OK, &body), &etag))
}

/// `GET /plans/{id}/export?format=…`.
#[utoipa::path(
    get,
    path = "/plans/{id}/export",
    tag = "plans",
    summary = "导出方案 / export the zones (GeoJSON, GeoPackage, Shapefile, CSV)",
    params(
        ("id" = i64, Path, description = "plan id"),
        ("format" = Option<crate::api::schemas::ExportFormat>, Query, description = "geojson (default), gpkg, shp, csv (members), stats"),
        ("version" = Option<i64>, Query, description = "version (default: the head)"),
        ("crs" = Option<String>, Query, description = "4490 (default, lon/lat), metric (the workspace's Gauss–Krüger zone) or EPSG:N; geojson, gpkg and shp"),
        ("encoding" = Option<String>, Query, description = "utf-8 (default) or gbk; shp only"),
    ),
    responses(
        (status = 200, description = "下载 / the file (Content-Disposition: attachment)", content(("application/geo+json"), ("application/geopackage+sqlite3"), ("application/zip"), ("text/csv"))),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn export(
    State(state): State<Arc<AppState>>,
    ApiPath(id): ApiPath<i64>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    use crate::plan::export::{ExportCrs, ExportOptions, ShapefileEncoding};
    let (mut format, mut version) = (None, None);
    let mut options = ExportOptions::default();
    for (k, v) in query_pairs(query.as_deref())? {
        match k.as_str() {
            "format" => format = Some(v),
            "version" => version = Some(number(&k, &v)?),
            "crs" => {
                options.crs = ExportCrs::parse(&v).ok_or_else(|| {
                    ApiError::bad_request(format!("crs='{v}': {}", ExportCrs::NAMES))
                })?
            }
            "encoding" => {
                options.encoding = ShapefileEncoding::parse(&v)
                    .ok_or_else(|| ApiError::bad_request(format!("encoding='{v}': utf-8 or gbk")))?
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}' (format, version, crs, encoding)"
                )));
            }
        }
    }
    let format = format.unwrap_or_else(|| "geojson".into());
    let kind = plan::export::ExportFormat::parse(&format).ok_or_else(|| {
        ApiError::bad_request(format!(
            "format='{format}': {}",
            plan::export::ExportFormat::NAMES
        ))
    })?;
    let (bytes, filename) = blocking(move || {
        let snap = state.snapshot();
        let data = zoning_data(&state)?;
        let (_, v, content) = plan::load(&*state.plan_store(), id, version).map_err(plan_error)?;
        let stats = if kind == plan::export::ExportFormat::Statistics {
            Some(snap.village_stats().map_err(ApiError::internal)?)
        } else {
            None
        };
        let bytes = plan::export::export_bytes(&data, stats, &content, v, kind, &options)
            .map_err(plan_error)?;
        Ok((bytes, format!("plan-{id}-v{v}.{}", kind.extension())))
    })
    .await?;
    let disposition = format!("attachment; filename=\"{filename}\"");
    let mut response = ([(header::CONTENT_TYPE, kind.media_type())], bytes).into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `GET /plans/{id}/sheet?zone=Z001&format=pdf|svg|png&paper=a3|a4[&version=]`: the
/// one-zone-one-plan sheet, or without `zone` the county overview.
#[utoipa::path(
    get,
    path = "/plans/{id}/sheet",
    tag = "plans",
    summary = "一片一规划图 / the one-zone-one-plan sheet",
    params(
        ("id" = i64, Path, description = "plan id"),
        ("zone" = Option<String>, Query, description = "zone id (e.g. Z001); without it the county overview"),
        ("format" = Option<crate::api::schemas::SheetFormat>, Query, description = "pdf (default), svg or png"),
        ("paper" = Option<crate::api::schemas::Paper>, Query, description = "a3 (default) or a4 landscape, a3-portrait or a1-portrait"),
        ("organization" = Option<String>, Query, description = "编制单位 in the title block (at most 40 characters)"),
        ("version" = Option<i64>, Query, description = "version (default: the head)"),
    ),
    responses(
        (status = 200, description = "图纸 / the sheet", content(("application/pdf"), ("image/svg+xml"), ("image/png"))),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn sheet(
    State(state): State<Arc<AppState>>,
    ApiPath(id): ApiPath<i64>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    use crate::plan::sheet::{SheetFormat, SheetOptions, render, sheet_input};
    use crate::render::sheet::Paper;
    let (mut zone, mut format, mut version) = (None, SheetFormat::Pdf, None);
    let mut options = SheetOptions::default();
    for (k, v) in query_pairs(query.as_deref())? {
        match k.as_str() {
            "zone" => zone = Some(v),
            "format" => {
                format = SheetFormat::parse(&v).ok_or_else(|| {
                    ApiError::bad_request(format!("format='{v}': pdf, svg or png"))
                })?
            }
            "paper" => {
                options.paper = Paper::parse(&v).ok_or_else(|| {
                    ApiError::bad_request(format!("paper='{v}': {}", Paper::NAMES))
                })?
            }
            "organization" => options.organization = v,
            "version" => version = Some(number(&k, &v)?),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}' (zone, format, paper, organization, version)"
                )));
            }
        }
    }
    let (bytes, filename) = blocking(move || {
        let snap = state.snapshot();
        let data = zoning_data(&state)?;
        let (record, v, content) =
            plan::load(&*state.plan_store(), id, version).map_err(plan_error)?;
        let stats = snap.village_stats().map_err(ApiError::internal)?;
        let ws = snap.open().map_err(ApiError::internal)?;
        let input = sheet_input(
            &ws,
            &data,
            stats,
            (&record, v, &content),
            zone.as_deref(),
            &options,
        )
        .map_err(|e| match e {
            PlanError::Input {
                field: "zone",
                reason,
            } => ApiError::not_found(reason),
            other => plan_error(other),
        })?;
        let bytes = render(&input, format).map_err(plan_error)?;
        let name = zone.unwrap_or_else(|| "overview".into());
        Ok((
            bytes,
            format!("plan-{id}-v{v}-{name}.{}", format.extension()),
        ))
    })
    .await?;
    let mut response = ([(header::CONTENT_TYPE, format.media_type())], bytes).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{filename}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `GET /audit?limit=100`.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "plans",
    summary = "审计日志 / the audit log (admin)",
    params(
        ("limit" = Option<u32>, Query, description = "entries, newest first (1–10000, default 100)", minimum = 1, maximum = 10000),
    ),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::AuditLog, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security(("bearer" = [])),
)]
pub async fn audit(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let mut limit = 100usize;
    for (k, v) in query_pairs(query.as_deref())? {
        match k.as_str() {
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or_else(|| ApiError::bad_request(format!("limit='{v}': 1–10000")))?
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}' (limit)"
                )));
            }
        }
    }
    let body = blocking(move || {
        let log = state
            .plan_store()
            .audit_log(limit)
            .map_err(ApiError::internal)?;
        Ok(json!({"entries": log.iter().map(|a| json!({
            "id": a.id, "at": a.at, "actor": a.entry.actor, "role": a.entry.role,
            "action": a.entry.action, "target": a.entry.target, "outcome": a.entry.outcome,
            "detail": a.entry.detail,
        })).collect::<Vec<_>>()}))
    })
    .await?;
    Ok(json_body(StatusCode::OK, &body))
}
