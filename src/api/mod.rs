//! The HTTP API (axum): one [`router`] used by `main` and by the tests.
//!
//! So far: OGC API – Features Part 1 Core + GeoJSON over the workspace layers (landing page,
//! conformance, collections, items with `bbox`, `limit`, keyset paging and attribute equality
//! filters, single items). Errors are `application/problem+json`. Handlers are thin: they parse
//! the request into a query, run it on the in-memory [`features::ServedLayer`] on a blocking
//! thread, and turn the page into GeoJSON.

pub mod error;
pub mod features;
pub mod openapi;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::domain::LayerKind;
use crate::workspace::{Workspace, WorkspaceError};
use features::ServedLayer;

/// What the handlers share: every layer of the workspace, loaded for serving.
pub struct AppState {
    pub title: String,
    pub layers: BTreeMap<LayerKind, ServedLayer>,
}

impl AppState {
    /// Loads every layer of a workspace (lon/lat geometries, attributes, an R-tree each).
    pub fn load(workspace: &Workspace, title: &str) -> Result<AppState, WorkspaceError> {
        let mut layers = BTreeMap::new();
        for info in crate::store::FeatureStore::layers(workspace.store())? {
            let layer = ServedLayer::load(workspace, info)?;
            layers.insert(layer.info.kind, layer);
        }
        Ok(AppState {
            title: title.to_string(),
            layers,
        })
    }
}

/// The application's routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(features::landing))
        .route("/conformance", get(features::conformance))
        .route("/api", get(openapi::api))
        .route("/collections", get(features::collections))
        .route("/collections/{id}", get(features::collection))
        .route("/collections/{id}/items", get(features::items))
        .route("/collections/{id}/items/{fid}", get(features::item))
        .fallback(error::not_found)
        .with_state(state)
}
