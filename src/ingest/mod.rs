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

/// Why a file could not be read or imported.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The file (or a sidecar such as a .dbf) cannot be opened or read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's message, or "file not found".
        reason: String,
    },
    /// The extension is none of .geojson/.json, .shp, .csv/.txt, .gpkg.
    #[error("{path}: unsupported file type (expected .geojson/.json, .shp, .csv or .gpkg)")]
    UnsupportedFormat {
        /// The file given.
        path: PathBuf,
    },
    /// The file is not valid in its format (bad JSON, a missing .dbf, no feature table, …).
    #[error("{path}: 文件格式错误 malformed {format}: {reason}")]
    Malformed {
        /// The file concerned.
        path: PathBuf,
        /// The format it was read as, e.g. `GeoJSON`, `Shapefile`.
        format: &'static str,
        /// What the reader found wrong, and where.
        reason: String,
    },
    /// A CRS (declared, given with `--crs` or guessed) cannot be used.
    #[error("{0}")]
    Crs(#[from] CrsError),
    /// Neither the file nor `--crs` says what CRS the coordinates are in, and they cannot be
    /// recognised (e.g. Gauss–Krüger eastings without a zone prefix).
    #[error(
        "坐标系未知 unknown CRS for {path}: {reason}. Pass --crs EPSG:N (e.g. --crs EPSG:4490 for CGCS2000 lon/lat, EPSG:4527 for Gauss–Krüger zone 39)"
    )]
    MissingCrs {
        /// The file concerned.
        path: PathBuf,
        /// What the file and its coordinates say.
        reason: String,
    },
    /// The text encoding named (by `--encoding` or a .cpg) is unknown.
    #[error("unknown encoding '{0}' (try gbk, gb18030, utf-8)")]
    Encoding(String),
    /// The workspace could not be read or written.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The request needs a choice the user has to make (e.g. `--source-layer` for a
    /// GeoPackage with several tables), or the import's threads failed; the message says which.
    #[error("{0}")]
    Usage(String),
    /// Validation found errors: the import was refused and the workspace left unchanged.
    #[error(
        "导入被拒绝 import rejected: {errors} error(s) in {path} — nothing was changed in the workspace (see the report above; --repair fixes what can be fixed)"
    )]
    Rejected {
        /// The file imported.
        path: PathBuf,
        /// Number of errors found.
        errors: usize,
    },
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
    /// The attributes in source order: source field name and value.
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
    /// The format's name for reports, e.g. `GeoJSON`, `ESRI Shapefile`, `CSV`, `GeoPackage`.
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
    /// Units done so far.
    pub done: Arc<AtomicU64>,
    /// Units in all (0 until known).
    pub total: Arc<AtomicU64>,
}

impl Progress {
    /// Sets the total (file size in bytes, or the record count).
    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }
    /// Adds `n` units done.
    pub fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    /// Sets the units done to `n` (e.g. the current record number).
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
    /// Wraps `inner`, adding every byte read to `progress`.
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
    /// What the reader learnt about the file (format, declared CRS, encoding, notes).
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
