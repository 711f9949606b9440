//! Import of planning data into the workspace.
//!
//! Readers ([`geojson`], [`shapefile`], [`csv`], [`gpkg`]) turn a file into a stream of
//! [`RawFeature`]s plus what the file says about its CRS; [`fields`] maps source field names to the
//! canonical ones; [`import`] runs the pipeline (CRS resolution, coercion, validation, optional
//! repair, atomic write) and produces the [`import::ImportReport`].

pub mod csv;
pub mod encoding;
pub mod fields;
pub mod geojson;
pub mod geojson_feature;
pub mod gpkg;
pub mod import;
pub mod json_split;
pub mod shapefile;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use geo::Geometry;
use thiserror::Error;

use crate::domain::Value;
use crate::engine::crs::{Crs, CrsError};
use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum IngestError {
    #[error("cannot read {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("{path}: unsupported file type (expected .geojson/.json, .shp, .csv or .gpkg)")]
    UnsupportedFormat { path: PathBuf },
    #[error("{path}: 文件格式错误 malformed {format}: {reason}")]
    Malformed {
        path: PathBuf,
        format: &'static str,
        reason: String,
    },
    #[error("{0}")]
    Crs(#[from] CrsError),
    #[error(
        "坐标系未知 unknown CRS for {path}: {reason}. Pass --crs EPSG:N (e.g. --crs EPSG:4490 for CGCS2000 lon/lat, EPSG:4527 for Gauss–Krüger zone 39)"
    )]
    MissingCrs { path: PathBuf, reason: String },
    #[error("unknown encoding '{0}' (try gbk, gb18030, utf-8)")]
    Encoding(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
    #[error(
        "导入被拒绝 import rejected: {errors} error(s) in {path} — nothing was changed in the workspace (see the report above; --repair fixes what can be fixed)"
    )]
    Rejected { path: PathBuf, errors: usize },
}

/// One feature as read from a source, before mapping and validation.
#[derive(Debug, Clone)]
pub struct RawFeature {
    /// 1-based position in the source (row/record/feature number), for messages.
    pub row: u64,
    /// The source's own id if it has one (GeoJSON `id`, GeoPackage fid).
    pub id: Option<String>,
    /// The geometry; `Err` carries why it could not be read at all.
    pub geometry: Result<Option<Geometry<f64>>, String>,
    /// Problems the reader already fixed while building the geometry (e.g. an unclosed ring);
    /// they are errors unless the user asked for `--repair`.
    pub repaired: Vec<String>,
    pub properties: Vec<(String, Value)>,
}

impl RawFeature {
    /// How a message names this feature: "第 N 个要素 feature #N (id X)".
    pub fn label(&self) -> String {
        feature_label(self.row, self.id.as_deref())
    }
}

/// How a message names a feature: "feature #N (id X)". Built only when a message needs it.
pub fn feature_label(row: u64, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("feature #{row} (id {id})"),
        None => format!("feature #{row}"),
    }
}

/// What a reader learnt about its file before the features.
#[derive(Debug, Clone, Default)]
pub struct SourceDescription {
    pub format: &'static str,
    /// The CRS the file declares (.prj, srs_id, GeoJSON crs member, CRS84 by RFC 7946).
    pub declared_crs: Option<Crs>,
    /// Where `declared_crs` came from, for the report.
    pub crs_origin: String,
    /// Whether the declaration is only the format's default (GeoJSON without a crs member).
    pub crs_is_default: bool,
    /// Notes for the report (encoding chosen, layer picked …).
    pub notes: Vec<String>,
    /// The encoding text attributes were decoded with (DBF, CSV); `None` for formats that are
    /// UTF-8 by definition.
    pub text_encoding: Option<&'static str>,
}

/// Options that change how a file is read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Text encoding of DBF/CSV attributes (e.g. "gbk"); `None` = from .cpg or detected.
    pub encoding: Option<String>,
    /// Table to read from a GeoPackage holding several.
    pub source_layer: Option<String>,
}

/// Progress shared with the progress bar: units done of `total` (bytes or records).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub done: Arc<AtomicU64>,
    pub total: Arc<AtomicU64>,
}

impl Progress {
    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }
    pub fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    pub fn set(&self, n: u64) {
        self.done.store(n, Ordering::Relaxed);
    }
}

/// A reader that counts bytes into a [`Progress`].
pub struct CountingReader<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> CountingReader<R> {
    pub fn new(inner: R, progress: Progress) -> Self {
        CountingReader { inner, progress }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// A source of raw features.
pub trait FeatureSource: Send {
    fn describe(&self) -> &SourceDescription;
    /// Streams every feature into `sink`, in file order. Stops at the first error from the sink.
    fn read_all(
        &mut self,
        sink: &mut dyn FnMut(RawFeature) -> Result<(), IngestError>,
    ) -> Result<(), IngestError>;
}

/// Opens `path` with the reader its extension calls for.
pub fn open_source(
    path: &Path,
    options: &ReadOptions,
    progress: Progress,
) -> Result<Box<dyn FeatureSource + Send>, IngestError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !path.exists() {
        return Err(IngestError::Io {
            path: path.to_path_buf(),
            reason: "文件不存在 file not found".into(),
        });
    }
    match ext.as_str() {
        "geojson" | "json" => Ok(Box::new(geojson::GeoJsonSource::open(path, progress)?)),
        "shp" => Ok(Box::new(shapefile::ShapefileSource::open(
            path, options, progress,
        )?)),
        "csv" | "txt" => Ok(Box::new(csv::CsvSource::open(path, options, progress)?)),
        "gpkg" => Ok(Box::new(gpkg::GpkgSource::open(path, options, progress)?)),
        _ => Err(IngestError::UnsupportedFormat {
            path: path.to_path_buf(),
        }),
    }
}

/// The encoding named by a user or a .cpg file.
pub fn encoding_by_name(name: &str) -> Result<&'static encoding_rs::Encoding, IngestError> {
    let n = name.trim().to_ascii_lowercase();
    let label = match n.as_str() {
        "936" | "cp936" | "ansi 936" | "gb2312" => "gbk",
        "65001" | "utf8" => "utf-8",
        other => other,
    };
    encoding_rs::Encoding::for_label(label.as_bytes())
        .ok_or_else(|| IngestError::Encoding(name.to_string()))
}

pub(crate) fn io_error(path: &Path, e: impl std::fmt::Display) -> IngestError {
    IngestError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}
