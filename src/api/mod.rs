//! The HTTP API (axum): one [`router`] used by `main` and by the tests.
//!
//! So far: OGC API – Features Part 1 Core + GeoJSON over the workspace layers (landing page,
//! conformance, collections, items with `bbox`, `limit`, keyset paging and attribute equality
//! filters, single items). Errors are `application/problem+json`. Handlers are thin: they parse
//! the request into a query, run it on the in-memory [`features::ServedLayer`] on a blocking
//! thread, and turn the page into GeoJSON.

pub mod analysis;
pub mod auth;
pub mod error;
pub mod features;
pub mod jobs;
pub mod location;
pub mod openapi;
pub mod plan_layers;
pub mod plans;
pub mod tiles;
pub mod villages;
pub mod web;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::Router;
use axum::routing::{get, post};

use crate::domain::LayerKind;
use crate::engine::stats::VillageStatsReport;
use crate::workspace::{Workspace, WorkspaceError};
use features::ServedLayer;

/// What the handlers share: every layer of the workspace, loaded for serving.
pub struct AppState {
    pub title: String,
    pub layers: BTreeMap<LayerKind, ServedLayer>,
    pub tiles: BTreeMap<LayerKind, tiles::TileLayer>,
    /// A raster basemap URL template for the web map (none by default: no internet needed).
    pub basemap: Option<String>,
    /// Who may read without a token (writes always need an editor token).
    pub read_access: crate::auth::ReadAccess,
    /// Refused writes, sampled into the audit log and counted.
    pub refusals: auth::RefusalSampler,
    /// The analysis budget and pools (set before serving: `liancun serve --analysis-seconds`).
    pub jobs: jobs::Jobs,
    workspace_path: PathBuf,
    stats: OnceLock<Result<VillageStatsReport, String>>,
    /// The writable connection for plans, tokens and the audit log (one writer at a time).
    plan_store: Mutex<crate::store::gpkg::GpkgStore>,
    /// Villages and their contiguity graph for checking plans, loaded on first use.
    zoning: OnceLock<Result<Arc<crate::zones::ZoningData>, String>>,
    /// Plans' dissolved zones served as collections and tiles, by plan, at their head version.
    plan_layers: plan_layers::PlanLayerCache,
}

impl AppState {
    /// Loads every layer of a workspace (lon/lat geometries, attributes, an R-tree each).
    pub fn load(workspace: &Workspace, title: &str) -> Result<AppState, WorkspaceError> {
        let mut layers = BTreeMap::new();
        for info in crate::store::FeatureStore::layers(workspace.store())? {
            let layer = ServedLayer::load(workspace, info)?;
            layers.insert(layer.info.kind, layer);
        }
        let tiles = tiles::build_tile_layers(&layers);
        let plan_store = crate::store::gpkg::GpkgStore::open(workspace.path())?;
        Ok(AppState {
            title: title.to_string(),
            layers,
            tiles,
            basemap: None,
            read_access: crate::auth::ReadAccess::default(),
            refusals: auth::RefusalSampler::default(),
            jobs: jobs::Jobs::new(jobs::JobLimits::default()),
            workspace_path: workspace.path().to_path_buf(),
            stats: OnceLock::new(),
            plan_store: Mutex::new(plan_store),
            zoning: OnceLock::new(),
            plan_layers: plan_layers::PlanLayerCache::default(),
        })
    }

    /// The served workspace file (analyses open it on their own thread).
    pub fn workspace_path(&self) -> &std::path::Path {
        &self.workspace_path
    }

    /// Per-village statistics of the workspace, computed on first use (blocking: call it from
    /// a blocking task).
    pub fn village_stats(&self) -> Result<&VillageStatsReport, String> {
        self.stats
            .get_or_init(|| villages::compute_stats(&self.workspace_path))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl AppState {
    /// The plan store (blocking: call it from a blocking task). A panic while it was held
    /// cannot leave a transaction open (each write commits or rolls back before returning).
    pub fn plan_store(&self) -> MutexGuard<'_, crate::store::gpkg::GpkgStore> {
        self.plan_store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The villages and contiguity graph plans are checked against (blocking, first call loads).
    pub fn zoning_data(&self) -> Result<Arc<crate::zones::ZoningData>, String> {
        self.zoning
            .get_or_init(|| {
                let ws = Workspace::open(&self.workspace_path).map_err(|e| e.to_string())?;
                let options = crate::zones::ZoneRequest::default()
                    .load_options()
                    .map_err(|e| e.to_string())?;
                crate::zones::ZoningData::load(&ws, &options)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
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
        .route("/tiles/{id}", get(tiles::tilejson))
        .route("/tiles/{id}/{z}/{x}/{y}", get(tiles::tile))
        .route("/villages", get(villages::list))
        .route("/villages/{code}", get(villages::profile))
        .route("/analysis/contiguity", get(analysis::contiguity))
        .route("/analysis/zones/propose", post(analysis::propose_zones))
        .route("/analysis/zones/evaluate", post(analysis::evaluate_zones))
        .route("/analysis/service-radii", get(location::radii))
        .route("/analysis/coverage", post(location::coverage_handler))
        .route("/analysis/locate", post(location::locate_handler))
        .route("/analysis/centers", post(location::centers_handler))
        .route("/plans", get(plans::list).post(plans::create))
        .route(
            "/plans/{id}",
            get(plans::show).patch(plans::edit).delete(plans::delete),
        )
        .route("/plans/{id}/versions", get(plans::versions))
        .route("/plans/{id}/versions/{version}", get(plans::show_version))
        .route("/plans/{id}/diff", get(plans::diff))
        .route("/plans/{id}/restore", post(plans::restore))
        .route("/plans/{id}/export", get(plans::export))
        .route("/plans/{id}/sheet", get(plans::sheet))
        .route("/audit", get(plans::audit))
        .route("/auth/whoami", get(auth::whoami))
        .route("/map/config.json", get(web::config))
        .route("/map", get(web::redirect))
        .route("/map/", get(web::index))
        .route("/map/{*path}", get(web::file))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        .with_state(state)
}
