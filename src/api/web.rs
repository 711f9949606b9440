//! The web map (MapLibre GL JS, built from `web/` by build.rs and embedded in the binary):
//! `/map/` serves its files, `/map/config.json` its title and optional basemap.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::{ApiError, ApiPath};
use super::features::json_response;

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// `GET /map/config.json`: the title and the optional basemap of the web map.
pub async fn config(State(state): State<Arc<AppState>>) -> Response {
    json_response(
        "application/json",
        json!({"title": state.title, "basemap": state.basemap}),
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
pub async fn index() -> Result<Response, ApiError> {
    asset("index.html")
}

/// `GET /map/{*path}`.
pub async fn file(ApiPath(path): ApiPath<String>) -> Result<Response, ApiError> {
    asset(&path)
}

/// `GET /map` → `/map/` (relative asset URLs need the trailing slash).
pub async fn redirect() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, "/map/")],
    )
        .into_response()
}
