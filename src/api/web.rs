//! The web map (MapLibre GL JS, built from `web/` by build.rs and embedded in the binary):
//! `/map/` serves its files, `/map/config.json` its title and optional basemap.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::{ApiError, ApiPath};
use super::extract::json_response;

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// `GET /map/config.json`: the title and the optional basemap of the web map, and who may read
/// (`"viewer"`: the map asks for a token before it loads any data).
#[utoipa::path(
    get,
    path = "/map/config.json",
    tag = "map",
    summary = "地图配置 / the web map configuration",
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::MapConfig, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security(()),
)]
pub async fn config(State(state): State<Arc<AppState>>) -> Response {
    let read = match state.read_access {
        crate::auth::ReadAccess::Public => "public",
        crate::auth::ReadAccess::Viewer => "viewer",
    };
    json_response(
        "application/json",
        json!({"title": state.title, "basemap": state.basemap, "read": read}),
    )
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "map" => "application/json",
        _ => "application/octet-stream",
    }
}

fn asset(path: &str) -> Result<Response, ApiError> {
    if WEB_ASSETS.is_empty() && path == "index.html" {
        return Ok((
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html><meta charset=utf-8><title>liancun</title>\
             <p>此版本构建时未包含网页地图 (LIANCUN_SKIP_WEB=1)。The web map was not built into this \
             binary: build with Node.js and npm installed. The API is at <a href=\"/\">/</a>.</p>",
        )
            .into_response());
    }
    let (_, bytes) = WEB_ASSETS
        .iter()
        .find(|(p, _)| *p == path)
        .ok_or_else(|| ApiError::not_found(format!("no web map file '{path}'")))?;
    // Vite names bundles by content hash (assets/…): those never change; the page itself is
    // revalidated every time.
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type(path)),
            (header::CACHE_CONTROL, cache),
        ],
        *bytes,
    )
        .into_response())
}

/// `GET /map/` (the page; query strings such as `?layer=parcels` are read by the page).
#[utoipa::path(
    get,
    path = "/map/",
    tag = "map",
    summary = "网页地图 / the web map",
    responses(
        (status = 200, description = "the page", content_type = "text/html", body = String),
        crate::api::schemas::Problems,
    ),
    security(()),
)]
pub async fn index() -> Result<Response, ApiError> {
    asset("index.html")
}

/// `GET /map/{*path}`.
#[utoipa::path(
    get,
    path = "/map/{path}",
    tag = "map",
    summary = "网页地图文件 / a file of the web map (scripts, styles, icons)",
    params(
        ("path" = String, Path, description = "file path under /map/"),
    ),
    responses(
        (status = 200, description = "the file", content(("text/javascript"), ("text/css"), ("image/svg+xml"), ("image/png"), ("application/json"), ("font/woff2"), ("text/html"))),
        crate::api::schemas::Problems,
    ),
    security(()),
)]
pub async fn file(ApiPath(path): ApiPath<String>) -> Result<Response, ApiError> {
    asset(&path)
}

/// `GET /map` → `/map/` (relative asset URLs need the trailing slash).
#[utoipa::path(
    get,
    path = "/map",
    tag = "map",
    summary = "→ /map/",
    responses(
        (status = 308, description = "to /map/", headers(("Location" = String, description = "/map/"))),
        crate::api::schemas::Problems,
    ),
    security(()),
)]
pub async fn redirect() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, "/map/")],
    )
        .into_response()
}
