//! Storage of workspace layers behind the [`FeatureStore`] trait.
//!
//! The embedded backend is an OGC GeoPackage ([`gpkg::GpkgStore`]); a PostGIS backend can
//! implement the same trait. Geometries cross this boundary in CGCS2000 lon/lat (EPSG:4490).
//! Replacing a layer is atomic: [`FeatureStore::begin_replace`] opens a transaction that only
//! [`LayerWriter::commit`] makes visible; dropping the writer (an error, a panic, a killed
//! process) leaves the previous contents as they were.

pub mod gpkg;
pub mod plans;

use geo::Geometry;
use thiserror::Error;

use crate::domain::{FieldType, GeometryFamily, LayerKind, Value};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("workspace {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("workspace database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "layer '{0}' is not in the workspace (import it first: liancun import --layer {0} FILE)"
    )]
    MissingLayer(String),
    #[error("feature {fid} of layer '{layer}' has an unreadable geometry: {reason}")]
    BadGeometry {
        layer: String,
        fid: i64,
        reason: String,
    },
    #[error("cannot encode geometry: {0}")]
    Encode(String),
    #[error("方案 {0} 不存在 / no plan {0}")]
    NoPlan(i64),
    #[error(
        "方案 {plan} 已被他人修改：当前版本 {head}，你基于版本 {expected} / plan {plan} changed meanwhile: head is version {head}, the edit was based on version {expected}"
    )]
    Conflict { plan: i64, expected: i64, head: i64 },
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
    pub name: String,
    pub ty: FieldType,
}

/// What the workspace knows about a stored layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerInfo {
    pub kind: LayerKind,
    pub columns: Vec<Column>,
    pub feature_count: u64,
    /// [min lon, min lat, max lon, max lat] in EPSG:4490, `None` for an empty layer.
    pub bbox: Option<[f64; 4]>,
    /// Increases with every replacement of the layer (drives cache validators later).
    pub data_version: i64,
    /// Where the data came from (file name) and its CRS, as recorded at import.
    pub source: String,
    pub imported_at: String,
}

impl LayerInfo {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// One stored feature: its id, geometry in EPSG:4490 and values aligned with [`LayerInfo::columns`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFeature {
    pub fid: i64,
    pub geometry: Geometry<f64>,
    pub values: Vec<Value>,
}

/// Provenance recorded when a replacement is committed.
#[derive(Debug, Clone)]
pub struct LayerProvenance {
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
    fn layers(&self) -> Result<Vec<LayerInfo>, StoreError>;
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
    fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError>;
}
