//! The HTTP API (axum): one [`router`] used by `main` and by the tests.
//!
//! - Data: OGC API – Features (`features`), vector tiles (`tiles`), villages (`villages`), the
//!   plans' zones as collections and tiles (`plan_layers`), the web map (`web`).
//! - Analyses: zones (`analysis`), facility coverage and location (`location`), run as bounded,
//!   cancellable jobs (`jobs`).
//! - Plans, tokens and the audit log (`plans`, `auth`).
//! - Shared by every handler: reading queries and bodies, JSON responses, blocking work
//!   (`extract`).
//! - Around every route: request checks and problem+json errors (`guard`, `error`), the request
//!   log and `/health`, `/metrics` (`ops`); the connection loop with timeouts (`server`).
//! - The OpenAPI 3.1 document at `/api` (`openapi`, the answers' shapes in `schemas`).
//!
//! Every route answers from one [`Snapshot`] of the workspace's data, replaced as a whole after
//! a re-import. Handlers are thin: they parse, run the engine on a blocking thread, serialise.

pub mod analysis;
pub mod auth;
pub mod error;
pub mod extract;
pub mod features;
pub mod guard;
pub mod jobs;
pub mod location;
pub mod openapi;
pub mod ops;
pub mod plan_layers;
pub mod plans;
pub mod schemas;
pub mod server;
pub mod tiles;
pub mod villages;
pub mod web;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

use axum::Router;
use axum::routing::{get, post};

use crate::domain::LayerKind;
use crate::engine::stats::VillageStatsReport;
use crate::store::{StoreLocation, WorkspaceStore};
use crate::workspace::{Workspace, WorkspaceError};
use features::ServedLayer;

/// One version of the workspace's data as served: the layers, their tiles, and what the
/// analyses load from them, all from the same import. A re-import makes a new snapshot
/// ([`AppState::refresh`]); every route then answers from it, so no two answers mix versions.
pub struct Snapshot {
    /// The layers' names and data versions, e.g. `villages:3,parcels:1` (part of every ETag).
    pub version: String,
    /// Every imported layer, loaded in memory for the OGC API (lon/lat, R-tree), by kind.
    pub layers: BTreeMap<LayerKind, ServedLayer>,
    /// Per-layer vector tile data (zoom range, simplified village borders, ETag seed), by kind.
    pub tiles: BTreeMap<LayerKind, tiles::TileLayer>,
    store_location: StoreLocation,
    stats: OnceLock<Result<VillageStatsReport, String>>,
    /// The villages, read once for zoning, location and statistics alike.
    villages: crate::workspace::VillageCache,
    /// Villages and their contiguity graph, by load options (a few at most).
    zoning: Mutex<HashMap<String, Arc<crate::zones::ZoningData>>>,
    /// Facilities, demand and candidates, by what parcels and roads they need.
    location: Mutex<HashMap<String, Arc<crate::location::LocationData>>>,
    /// Plans' dissolved zones served as collections and tiles, by plan, at their head version.
    plan_layers: plan_layers::PlanLayerCache,
}

/// How many differently-loaded analysis inputs a snapshot keeps (each is a few MB).
const CACHED_INPUTS: usize = 8;

impl Snapshot {
    fn load(workspace: &Workspace) -> Result<Snapshot, WorkspaceError> {
        let version = data_version(workspace.store())?;
        let mut layers = BTreeMap::new();
        for info in crate::store::FeatureStore::layers(workspace.store())? {
            let layer = ServedLayer::load(workspace, info)?;
            layers.insert(layer.info.kind, layer);
        }
        let tiles = tiles::build_tile_layers(&layers);
        Ok(Snapshot {
            version,
            layers,
            tiles,
            store_location: workspace.location().clone(),
            stats: OnceLock::new(),
            villages: crate::workspace::VillageCache::default(),
            zoning: Mutex::default(),
            location: Mutex::default(),
            plan_layers: plan_layers::PlanLayerCache::default(),
        })
    }

    /// The workspace opened for reading (analyses never write).
    pub fn open(&self) -> Result<Workspace, WorkspaceError> {
        Ok(Workspace::open_read_only_at(&self.store_location)?
            .with_village_cache(self.villages.clone()))
    }

    /// How many times this snapshot read the villages layer (once per data version).
    pub fn village_loads(&self) -> usize {
        self.villages.loads()
    }

    /// Per-village statistics, computed on first use (blocking: call it from a blocking task).
    pub fn village_stats(&self) -> Result<&VillageStatsReport, String> {
        self.stats
            .get_or_init(|| {
                self.open()
                    .and_then(|ws| ws.village_stats())
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The villages and contiguity graph for these load options, loaded once (blocking).
    pub fn zoning_data(
        &self,
        options: &crate::zones::LoadOptions,
    ) -> Result<Arc<crate::zones::ZoningData>, crate::zones::ZonesError> {
        let key = format!("{options:?}");
        if let Some(d) = lock(&self.zoning).get(&key) {
            return Ok(d.clone());
        }
        let ws = self.open().map_err(crate::zones::ZonesError::Workspace)?;
        let data = Arc::new(crate::zones::ZoningData::load(&ws, options)?);
        let mut cache = lock(&self.zoning);
        if cache.len() >= CACHED_INPUTS {
            cache.clear();
        }
        cache.insert(key, data.clone());
        Ok(data)
    }

    /// Facilities, demand and candidates for these parcels, loaded once (blocking).
    pub fn location_data(
        &self,
        parcels: crate::location::LoadParcels,
    ) -> Result<Arc<crate::location::LocationData>, crate::location::LocationError> {
        let key = format!("{parcels:?}");
        if let Some(d) = lock(&self.location).get(&key) {
            return Ok(d.clone());
        }
        let ws = self.open()?;
        let data = Arc::new(crate::location::LocationData::load(&ws, parcels)?);
        let mut cache = lock(&self.location);
        if cache.len() >= CACHED_INPUTS {
            cache.clear();
        }
        cache.insert(key, data.clone());
        Ok(data)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The workspace's data version: each layer's name and import counter.
fn data_version(store: &dyn crate::store::FeatureStore) -> Result<String, WorkspaceError> {
    Ok(crate::store::FeatureStore::layers(store)?
        .iter()
        .map(|l| format!("{}:{}", l.kind.name(), l.data_version))
        .collect::<Vec<_>>()
        .join(","))
}

/// What the handlers share: the served snapshot of the workspace, the plan store, limits.
pub struct AppState {
    /// The service's title, shown on the landing page, the web map and the OpenAPI document.
    pub title: String,
    /// A raster basemap URL template for the web map (none by default: no internet needed).
    pub basemap: Option<String>,
    /// Who may read without a token (writes always need an editor token).
    pub read_access: crate::auth::ReadAccess,
    /// Refused writes, sampled into the audit log and counted.
    pub refusals: auth::RefusalSampler,
    /// Request counters for /metrics.
    pub metrics: ops::Metrics,
    /// The analysis budget and pools (set before serving: `liancun serve --analysis-seconds`).
    pub jobs: jobs::Jobs,
    location: StoreLocation,
    snapshot: RwLock<Arc<Snapshot>>,
    /// One refresh at a time (a reload takes seconds; the others keep the old snapshot).
    refreshing: Mutex<()>,
    /// The writable connection for plans, tokens and the audit log (one writer at a time).
    plan_store: Mutex<Box<dyn WorkspaceStore>>,
    /// A read-only connection for token lookups and the reading half of edits, so that a
    /// long write never holds up every authenticated request.
    read_store: Mutex<Box<dyn WorkspaceStore>>,
}

impl AppState {
    /// Loads every layer of a workspace (lon/lat geometries, attributes, an R-tree each).
    pub fn load(workspace: &Workspace, title: &str) -> Result<AppState, WorkspaceError> {
        let snapshot = Snapshot::load(workspace)?;
        let plan_store = workspace.location().open()?;
        let read_store = workspace.location().open_read_only()?;
        Ok(AppState {
            title: title.to_string(),
            basemap: None,
            read_access: crate::auth::ReadAccess::default(),
            refusals: auth::RefusalSampler::default(),
            metrics: ops::Metrics::default(),
            jobs: jobs::Jobs::new(jobs::JobLimits::default()),
            location: workspace.location().clone(),
            snapshot: RwLock::new(Arc::new(snapshot)),
            refreshing: Mutex::new(()),
            plan_store: Mutex::new(plan_store),
            read_store: Mutex::new(read_store),
        })
    }

    /// The current snapshot (cheap: a shared pointer).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Loads a new snapshot if the workspace's data changed since the current one (blocking;
    /// the server calls it every second, tests after a re-import). Returns whether it did.
    pub fn refresh(&self) -> Result<bool, WorkspaceError> {
        let _one = lock(&self.refreshing);
        // The check reuses the read-only connection; a workspace is opened only to reload.
        if data_version(&*self.read_store())? == self.snapshot().version {
            return Ok(false);
        }
        let ws = Workspace::open_read_only_at(&self.location)?;
        let fresh = Arc::new(Snapshot::load(&ws)?);
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(true)
    }

    /// The villages and contiguity graph plans are checked against (default load options, of
    /// the current snapshot; blocking, the first call loads).
    pub fn plan_zoning_data(
        &self,
    ) -> Result<Arc<crate::zones::ZoningData>, crate::zones::ZonesError> {
        let options = crate::zones::ZoneRequest::default().load_options()?;
        self.snapshot().zoning_data(&options)
    }

    /// The plan store (blocking: call it from a blocking task). A panic while it was held
    /// cannot leave a transaction open (each write commits or rolls back before returning).
    pub fn plan_store(&self) -> StoreGuard<'_> {
        StoreGuard(lock(&self.plan_store))
    }

    /// The read-only store (blocking): token lookups and reads that must not wait for writes.
    pub fn read_store(&self) -> StoreGuard<'_> {
        StoreGuard(lock(&self.read_store))
    }

    /// Where the served workspace lives.
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }
}

/// One of the state's store connections, held for the duration of a blocking call.
pub struct StoreGuard<'a>(MutexGuard<'a, Box<dyn WorkspaceStore>>);

impl std::ops::Deref for StoreGuard<'_> {
    type Target = dyn WorkspaceStore;
    fn deref(&self) -> &Self::Target {
        &**self.0
    }
}

impl std::ops::DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut **self.0
    }
}

/// Keeps the served snapshot in step with the workspace: checks its data version every second
/// and reloads after a re-import (run by `liancun serve`). On PostGIS a listener also reloads as
/// soon as any process commits a re-import (`LISTEN`), so replicas follow each other at once.
pub async fn follow_workspace(state: Arc<AppState>) {
    if let StoreLocation::Postgres(db) = state.location().clone() {
        let listening = state.clone();
        let spawned = std::thread::Builder::new()
            .name("liancun-listen".into())
            .spawn(move || {
                loop {
                    let ended = crate::store::postgis::follow_changes(&db, |_| {
                        report_refresh(&listening, listening.refresh());
                        true
                    });
                    if let Err(e) = ended {
                        eprintln!("workspace listener: {e} (reconnecting in 5 s)");
                    }
                    std::thread::sleep(std::time::Duration::from_secs(5));
                }
            });
        if let Err(e) = spawned {
            eprintln!("workspace listener: {e} (the data version is still checked every second)");
        }
    }
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = state.clone();
        match tokio::task::spawn_blocking(move || s.refresh()).await {
            Ok(result) => report_refresh(&state, result),
            Err(e) => eprintln!("workspace refresh: {e}"),
        }
    }
}

/// Says on standard error that the snapshot was reloaded, or why a check failed.
fn report_refresh(state: &AppState, result: Result<bool, WorkspaceError>) {
    match result {
        Ok(true) => eprintln!(
            "工作区数据已更新，已重新加载 / the workspace changed: reloaded ({})",
            state.snapshot().version
        ),
        Ok(false) => {}
        Err(e) => eprintln!("workspace refresh: {e}"),
    }
}

/// The application's routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(features::landing))
        .route("/conformance", get(features::conformance))
        .route("/api", get(openapi::api))
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
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
        .layer(axum::middleware::from_fn(guard::check_request))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::log_requests,
        ))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    /// Every route of [`super::router`] is in the OpenAPI document, and nothing else is: the
    /// routes are read from this file's source, the document from the generated one.
    #[test]
    fn every_route_is_documented() {
        use utoipa::OpenApi;
        let source = include_str!("mod.rs");
        let start = source.find("pub fn router").expect("router");
        let end = source.find("#[cfg(test)]").expect("tests");
        let body = &source[start..end];
        let mut routes: Vec<String> = body
            .split(".route(")
            .skip(1)
            .filter_map(|r| r.trim_start().strip_prefix('"'))
            .filter_map(|r| r.split('"').next())
            .map(|r| r.replace("{*path}", "{path}"))
            .collect();
        routes.sort();
        let mut documented: Vec<String> = super::openapi::ApiDoc::openapi()
            .paths
            .paths
            .keys()
            .map(|p| p.replace("{y}.mvt", "{y}"))
            .collect();
        documented.sort();
        assert!(routes.len() > 30, "routes read from the source: {routes:?}");
        assert_eq!(routes, documented);
    }
}
