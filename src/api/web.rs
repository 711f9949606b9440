//! The web map: its configuration (`/map/config.json`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::AppState;
use super::features::json_response;

/// `GET /map/config.json`: the title and the optional basemap of the web map.
pub async fn config(State(state): State<Arc<AppState>>) -> Response {
    json_response(
        "application/json",
        json!({"title": state.title, "basemap": state.basemap}),
    )
}
