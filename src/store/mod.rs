//! Storage of workspace layers behind the [`FeatureStore`] trait.
//!
//! The embedded backend is an OGC GeoPackage ([`gpkg::GpkgStore`]); a shared one is a
//! PostgreSQL + PostGIS schema ([`postgis::PgStore`]). A [`StoreLocation`] (a file path or a
//! `postgres://` URL) says which, and opens either as a [`WorkspaceStore`]. Geometries cross
//! this boundary in CGCS2000 lon/lat (EPSG:4490).
//! Replacing a layer is atomic: [`FeatureStore::begin_replace`] opens a transaction that only
//! [`LayerWriter::commit`] makes visible; dropping the writer (an error, a panic, a killed
//! process) leaves the previous contents as they were.

pub mod copy;
pub mod gpkg;
pub mod plans;
pub mod postgis;

use std::path::{Path, PathBuf};

use geo::Geometry;
use thiserror::Error;

use crate::domain::{FieldType, GeometryFamily, LayerKind, Value};

/// Why a workspace read or write failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The workspace file cannot be opened, or is an SQLite file that is not a GeoPackage.
    #[error("workspace {path}: {reason}")]
    Open {
        /// The workspace file's path.
        path: String,
        /// SQLite's message, or why the file was refused.
        reason: String,
    },
    /// Any other SQLite error (a query, a locked or read-only database, a constraint).
    #[error("workspace database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A PostgreSQL error (the server's message with its detail and hint, or the driver's).
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    /// The layer (named) has never been imported into the workspace.
    #[error(
        "layer '{0}' is not in the workspace (import it first: liancun import --layer {0} FILE)"
    )]
    MissingLayer(String),
    /// A stored geometry blob is not a readable GeoPackage geometry (header or WKB).
    #[error("feature {fid} of layer '{layer}' has an unreadable geometry: {reason}")]
    BadGeometry {
        /// The layer's name.
        layer: String,
        /// The feature's id.
        fid: i64,
        /// What the decoder found wrong.
        reason: String,
    },
    /// A geometry cannot be written as WKB.
    #[error("cannot encode geometry: {0}")]
    Encode(String),
    /// A copy's target already holds data (what it holds is named); nothing was written.
    #[error("目标工作区不为空 / the target workspace is not empty: {0}")]
    NotEmpty(String),
    /// The plan id (given) does not exist or was deleted.
    #[error("方案 {0} 不存在 / no plan {0}")]
    NoPlan(i64),
    /// A plan write was based on a version that is no longer the head (optimistic locking);
    /// nothing was written.
    #[error(
        "方案 {plan} 已被他人修改：当前版本 {head}，你基于版本 {expected} / plan {plan} changed meanwhile: head is version {head}, the edit was based on version {expected}"
    )]
    Conflict {
        /// The plan's id.
        plan: i64,
        /// The head version the write was based on.
        expected: i64,
        /// The plan's actual head version.
        head: i64,
    },
}

/// Whether a geometry's bounding box meets `bbox` ([min x, min y, max x, max y]).
pub fn meets(geometry: &Geometry<f64>, bbox: [f64; 4]) -> bool {
    use geo::BoundingRect;
    geometry.bounding_rect().is_some_and(|r| {
        r.min().x <= bbox[2] && bbox[0] <= r.max().x && r.min().y <= bbox[3] && bbox[1] <= r.max().y
    })
}

/// A column of a stored layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's name in the layer table (a canonical field name or the source's own).
    pub name: String,
    /// The column's value type.
    pub ty: FieldType,
}

/// What the workspace knows about a stored layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerInfo {
    /// Which workspace layer this is (villages, parcels, roads, …).
    pub kind: LayerKind,
    /// The attribute columns, in table order (values of a feature align with them).
    pub columns: Vec<Column>,
    /// Number of features stored.
    pub feature_count: u64,
    /// [min lon, min lat, max lon, max lat] in EPSG:4490, `None` for an empty layer.
    pub bbox: Option<[f64; 4]>,
    /// Increases with every replacement of the layer (drives cache validators later).
    pub data_version: i64,
    /// Where the data came from (file name) and its CRS, as recorded at import.
    pub source: String,
    /// When the layer was last imported, UTC (`YYYY-MM-DDTHH:MM:SSZ`).
    pub imported_at: String,
}

impl LayerInfo {
    /// The position of column `name` in [`LayerInfo::columns`], if the layer has it.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// One stored feature: its id, geometry in EPSG:4490 and values aligned with [`LayerInfo::columns`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFeature {
    /// The feature's id (GeoPackage fid), stable until the layer is replaced.
    pub fid: i64,
    /// The geometry in CGCS2000 lon/lat (EPSG:4490).
    pub geometry: Geometry<f64>,
    /// Attribute values aligned with [`LayerInfo::columns`] (`Value::Null` where missing).
    pub values: Vec<Value>,
}

/// Provenance recorded when a replacement is committed.
#[derive(Debug, Clone)]
pub struct LayerProvenance {
    /// Where the data came from (file name) and its CRS, recorded as [`LayerInfo::source`].
    pub source: String,
}

/// Writes the new contents of one layer inside a transaction.
pub trait LayerWriter {
    /// The index of column `name`, adding it (with type `ty`) if the layer does not have it yet.
    fn ensure_column(&mut self, name: &str, ty: FieldType) -> Result<usize, StoreError>;
    /// Inserts a feature; `values` pairs column indexes with values. Returns the new fid.
    fn insert(
        &mut self,
        geometry: &Geometry<f64>,
        values: &[(usize, Value)],
    ) -> Result<i64, StoreError>;
    /// Makes the new contents visible, atomically replacing the old ones.
    fn commit(self: Box<Self>, provenance: &LayerProvenance) -> Result<LayerInfo, StoreError>;
}

/// A workspace: the layers of one planning area.
pub trait FeatureStore {
    /// The layers present, in [`LayerKind::ALL`] order.
    fn layers(&self) -> Result<Vec<LayerInfo>, StoreError> {
        let mut out = Vec::new();
        for kind in LayerKind::ALL {
            if let Some(info) = self.layer(kind)? {
                out.push(info);
            }
        }
        Ok(out)
    }
    /// One layer's description, `None` when it was never imported.
    fn layer(&self, kind: LayerKind) -> Result<Option<LayerInfo>, StoreError>;
    /// Starts replacing `kind`; nothing changes for readers until the writer commits.
    fn begin_replace(
        &mut self,
        kind: LayerKind,
        family: GeometryFamily,
    ) -> Result<Box<dyn LayerWriter + '_>, StoreError>;
    /// Visits every feature of a layer in fid order.
    fn scan(
        &self,
        kind: LayerKind,
        visit: &mut dyn FnMut(StoredFeature) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Visits, in fid order, the features of a layer whose bounding box meets `bbox`
    /// ([min lon, min lat, max lon, max lat], EPSG:4490). The default scans the layer and
    /// filters; a backend with a spatial index answers from it.
    fn scan_bbox(
        &self,
        kind: LayerKind,
        bbox: [f64; 4],
        visit: &mut dyn FnMut(StoredFeature) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.scan(kind, &mut |f| {
            if meets(&f.geometry, bbox) {
                visit(f)
            } else {
                Ok(())
            }
        })
    }
    /// A second, read-only handle on the same workspace, for a reading thread.
    fn reader(&self) -> Result<Box<dyn FeatureStore + Send>, StoreError>;
    /// A workspace setting (e.g. `metric_epsg`).
    fn setting(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores a workspace setting, replacing any previous value of `key`.
    fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Every workspace setting, by key.
    fn settings(&self) -> Result<Vec<(String, String)>, StoreError>;
}

/// Everything a workspace keeps: layers and settings ([`FeatureStore`]), plans, tokens and the
/// audit log ([`plans::PlanStore`]). Both backends are one.
pub trait WorkspaceStore: FeatureStore + plans::PlanStore + Send {}

impl<T: FeatureStore + plans::PlanStore + Send> WorkspaceStore for T {}

/// Where a workspace lives: a GeoPackage file, or a schema of a PostgreSQL + PostGIS database.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreLocation {
    /// A GeoPackage file (created on first write).
    GeoPackage(PathBuf),
    /// A PostGIS database (`postgres://…`, optional `?schema=NAME`).
    Postgres(postgis::PgLocation),
}

impl StoreLocation {
    /// Reads a command-line workspace argument: a `postgres://` or `postgresql://` URL names a
    /// PostGIS workspace, anything else a GeoPackage file.
    pub fn parse(arg: &str) -> Result<StoreLocation, StoreError> {
        if arg.starts_with("postgres://") || arg.starts_with("postgresql://") {
            Ok(StoreLocation::Postgres(postgis::PgLocation::parse(arg)?))
        } else {
            Ok(StoreLocation::GeoPackage(PathBuf::from(arg)))
        }
    }

    /// Opens the workspace for reading and writing, creating it if it does not exist.
    pub fn open(&self) -> Result<Box<dyn WorkspaceStore>, StoreError> {
        Ok(match self {
            StoreLocation::GeoPackage(path) => Box::new(gpkg::GpkgStore::open(path)?),
            StoreLocation::Postgres(db) => Box::new(postgis::PgStore::open(db)?),
        })
    }

    /// Opens an existing workspace for reading only (nothing is created or upgraded).
    pub fn open_read_only(&self) -> Result<Box<dyn WorkspaceStore>, StoreError> {
        Ok(match self {
            StoreLocation::GeoPackage(path) => Box::new(gpkg::GpkgStore::open_read_only(path)?),
            StoreLocation::Postgres(db) => Box::new(postgis::PgStore::open_read_only(db)?),
        })
    }

    /// Whether the workspace exists: the file, or the database schema.
    pub fn exists(&self) -> Result<bool, StoreError> {
        match self {
            StoreLocation::GeoPackage(path) => Ok(path.exists()),
            StoreLocation::Postgres(db) => postgis::PgStore::exists(db),
        }
    }

    /// The GeoPackage file, when the workspace is one.
    pub fn gpkg_path(&self) -> Option<&Path> {
        match self {
            StoreLocation::GeoPackage(path) => Some(path),
            StoreLocation::Postgres(_) => None,
        }
    }
}

impl std::fmt::Display for StoreLocation {
    /// The file's path, or the URL with its password hidden and the schema.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::GeoPackage(path) => write!(f, "{}", path.display()),
            StoreLocation::Postgres(db) => write!(f, "{db}"),
        }
    }
}
