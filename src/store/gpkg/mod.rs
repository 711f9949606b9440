//! The GeoPackage workspace: an OGC GeoPackage 1.3 file that QGIS and GDAL open as it is.
//!
//! Layout: one feature table per layer (`fid INTEGER PRIMARY KEY`, `geom` as GeoPackage binary,
//! then the canonical and the kept source columns), registered in `gpkg_contents` and
//! `gpkg_geometry_columns` with srs_id 4490, each with the R-tree spatial index extension
//! (`rtree_<table>_geom` and its triggers, registered in `gpkg_extensions`). liancun's own
//! bookkeeping lives in `liancun_layers` (provenance, data version) and `liancun_settings`;
//! plans, tokens and the audit log in the tables of [`plans`] (created here with the rest).
//!
//! The R-tree triggers call `ST_MinX` … `ST_IsEmpty`, which plain SQLite lacks; GDAL registers
//! them when it opens the file, and [`GpkgStore`] registers its own implementations likewise.

pub mod plans;

use std::path::{Path, PathBuf};

use geo::{BoundingRect, Geometry};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    Column, FeatureStore, LayerInfo, LayerProvenance, LayerWriter, StoreError, StoredFeature,
};
use crate::domain::{FieldType, GeometryFamily, LayerKind, Value};

/// The GeoPackage application id ("GPKG") and the 1.3 user_version.
const GPKG_APPLICATION_ID: i32 = 0x4750_4B47;
const GPKG_USER_VERSION: i32 = 10300;
const GEOMETRY_COLUMN: &str = "geom";
const SRS_ID: i32 = 4490;

pub(crate) const WKT_4490: &str = r#"GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4490"]]"#;
const WKT_4326: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]"#;

/// Quotes an SQL identifier (table or column name), doubling embedded quotes.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

const LIANCUN_TABLES: &str = "
             CREATE TABLE IF NOT EXISTS liancun_layers (
               name TEXT PRIMARY KEY, source TEXT NOT NULL, imported_at TEXT NOT NULL,
               data_version INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS liancun_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
";
const LIANCUN_CONTENTS: &str = "
             INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) VALUES
               ('liancun_layers', 'attributes', 'liancun_layers', 'liancun: 图层来源与版本 layer provenance and data versions'),
               ('liancun_settings', 'attributes', 'liancun_settings', 'liancun: 工作区设置 workspace settings');
";

/// A GeoPackage file holding the workspace layers.
pub struct GpkgStore {
    conn: Connection,
    path: PathBuf,
}

impl GpkgStore {
    /// Opens a workspace, creating an empty GeoPackage if `path` does not exist.
    pub fn open(path: &Path) -> Result<GpkgStore, StoreError> {
        let existed = path.exists();
        let conn = Connection::open(path).map_err(|e| StoreError::Open {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        register_spatial_functions(&conn)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let store = GpkgStore {
            conn,
            path: path.to_path_buf(),
        };
        if existed {
            let app_id: i32 = store
                .conn
                .query_row("PRAGMA application_id", [], |r| r.get(0))?;
            let has_contents: bool = store
                .conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'gpkg_contents'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| n > 0)?;
            if app_id != GPKG_APPLICATION_ID && !has_contents {
                let tables: i64 =
                    store
                        .conn
                        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
                if tables > 0 {
                    return Err(StoreError::Open {
                        path: path.display().to_string(),
                        reason:
                            "not a GeoPackage (no gpkg_contents table); refusing to write into it"
                                .into(),
                    });
                }
            }
        }
        store.create_schema()?;
        Ok(store)
    }

    /// Opens an existing workspace for reading only (no schema changes), e.g. for a second thread.
    pub fn open_read_only(path: &Path) -> Result<GpkgStore, StoreError> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        register_spatial_functions(&conn)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(GpkgStore {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The GeoPackage file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying connection (for tests and read-only diagnostics).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn create_schema(&self) -> Result<(), StoreError> {
        self.create_schema_with(true)
    }

    /// The GeoPackage core tables and, with `liancun`, the workspace's own tables.
    fn create_schema_with(&self, liancun: bool) -> Result<(), StoreError> {
        let liancun = if liancun {
            format!("{LIANCUN_TABLES}{LIANCUN_CONTENTS}{}", plans::PLAN_SCHEMA)
        } else {
            String::new()
        };
        self.conn.execute_batch(&format!(
            "PRAGMA application_id = {GPKG_APPLICATION_ID};
             PRAGMA user_version = {GPKG_USER_VERSION};
             BEGIN;
             CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
               srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
               organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
               definition TEXT NOT NULL, description TEXT);
             CREATE TABLE IF NOT EXISTS gpkg_contents (
               table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
               identifier TEXT UNIQUE, description TEXT DEFAULT '',
               last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
               min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
               CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
             CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
               table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
               srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
               CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
               CONSTRAINT uk_gc_table_name UNIQUE (table_name),
               CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
               CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
             CREATE TABLE IF NOT EXISTS gpkg_extensions (
               table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
               definition TEXT NOT NULL, scope TEXT NOT NULL,
               CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
             CREATE TABLE IF NOT EXISTS gpkg_ogr_contents (table_name TEXT NOT NULL PRIMARY KEY, feature_count INTEGER DEFAULT NULL);
             INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
               ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
               ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
               ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{WKT_4326}', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid'),
               ('China Geodetic Coordinate System 2000', 4490, 'EPSG', 4490, '{WKT_4490}', 'CGCS2000 geographic 2D (国家2000大地坐标系)');
             {liancun}
             COMMIT;"
        ))?;
        Ok(())
    }
}

fn read_layer_info(conn: &Connection, kind: LayerKind) -> Result<Option<LayerInfo>, StoreError> {
    let table = kind.name();
    let row = conn
        .query_row(
            "SELECT c.min_x, c.min_y, c.max_x, c.max_y, l.source, l.imported_at, l.data_version
             FROM gpkg_contents c JOIN liancun_layers l ON l.name = c.table_name
             WHERE c.table_name = ?1",
            [table],
            |r| {
                Ok((
                    [r.get::<_, Option<f64>>(0)?, r.get(1)?, r.get(2)?, r.get(3)?],
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            },
        )
        .optional()?;
    let Some((bbox, source, imported_at, data_version)) = row else {
        return Ok(None);
    };
    // GDAL's gpkg_ogr_contents keeps the count up to date through triggers; count the rows only
    // when it is missing (a table edited by a tool that does not maintain it).
    let kept: Option<i64> = conn
        .query_row(
            "SELECT feature_count FROM gpkg_ogr_contents WHERE lower(table_name) = lower(?1)",
            [table],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let feature_count = match kept {
        Some(n) => n,
        None => conn.query_row(
            &format!("SELECT count(*) FROM {}", quote_ident(table)),
            [],
            |r| r.get(0),
        )?,
    };
    let bbox = match bbox {
        [Some(a), Some(b), Some(c), Some(d)] => Some([a, b, c, d]),
        _ => None,
    };
    Ok(Some(LayerInfo {
        kind,
        columns: columns_of(conn, table)?,
        feature_count: feature_count as u64,
        bbox,
        data_version,
        source,
        imported_at,
    }))
}

fn columns_of(conn: &Connection, table: &str) -> Result<Vec<Column>, StoreError> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote_ident(table)))?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    let mut columns = Vec::new();
    for row in rows {
        let (name, ty) = row?;
        if name == "fid" || name == GEOMETRY_COLUMN {
            continue;
        }
        columns.push(Column {
            name,
            ty: field_type_of_decl(&ty),
        });
    }
    Ok(columns)
}

fn field_type_of_decl(decl: &str) -> FieldType {
    let d = decl.to_ascii_uppercase();
    if d.contains("BOOL") {
        FieldType::Boolean
    } else if d.contains("INT") {
        FieldType::Integer
    } else if d.contains("REAL") || d.contains("DOUBLE") || d.contains("FLOAT") {
        FieldType::Real
    } else {
        FieldType::Text
    }
}

impl GpkgStore {
    /// Visits a layer's features in fid order; with `within`, only the fids whose R-tree box
    /// meets the bbox.
    fn scan_filtered(
        &self,
        kind: LayerKind,
        within: Option<(&str, [f64; 4])>,
        visit: &mut dyn FnMut(StoredFeature) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let table = kind.name();
        let info = self
            .layer(kind)?
            .ok_or_else(|| StoreError::MissingLayer(table.to_string()))?;
        let cols: Vec<String> = info.columns.iter().map(|c| quote_ident(&c.name)).collect();
        let filter = match within {
            None => String::new(),
            Some((rtree, _)) => format!(
                " WHERE fid IN (SELECT id FROM {} WHERE maxx >= ?1 AND minx <= ?3 AND maxy >= ?2 AND miny <= ?4)",
                quote_ident(rtree)
            ),
        };
        let sql = format!(
            "SELECT fid, {GEOMETRY_COLUMN}{}{} FROM {}{filter} ORDER BY fid",
            if cols.is_empty() { "" } else { ", " },
            cols.join(", "),
            quote_ident(table)
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = match within {
            None => stmt.query([])?,
            Some((_, b)) => stmt.query(params![b[0], b[1], b[2], b[3]])?,
        };
        while let Some(row) = rows.next()? {
            let fid: i64 = row.get(0)?;
            let geometry = match row.get_ref(1)? {
                ValueRef::Blob(b) => decode_gpb(b).map_err(|reason| StoreError::BadGeometry {
                    layer: table.to_string(),
                    fid,
                    reason,
                })?,
                _ => {
                    return Err(StoreError::BadGeometry {
                        layer: table.to_string(),
                        fid,
                        reason: "no geometry".into(),
                    });
                }
            };
            let mut values = Vec::with_capacity(info.columns.len());
            for (i, col) in info.columns.iter().enumerate() {
                values.push(value_from_sql(row.get_ref(i + 2)?, col.ty));
            }
            visit(StoredFeature {
                fid,
                geometry,
                values,
            })?;
        }
        Ok(())
    }
}

impl FeatureStore for GpkgStore {
    fn layer(&self, kind: LayerKind) -> Result<Option<LayerInfo>, StoreError> {
        read_layer_info(&self.conn, kind)
    }

    fn begin_replace(
        &mut self,
        kind: LayerKind,
        family: GeometryFamily,
    ) -> Result<Box<dyn LayerWriter + '_>, StoreError> {
        let table = kind.name().to_string();
        let staging = format!("{table}__staging");
        let conn = &self.conn;
        // A large page cache keeps a big import's dirty pages in memory instead of spilling them
        // to the file mid-transaction (64 MB; SQLite's default is 2 MB).
        conn.execute_batch("PRAGMA cache_size = -65536; BEGIN IMMEDIATE")?;
        let setup = (|| -> Result<(), StoreError> {
            conn.execute_batch(&format!(
                "DROP TABLE IF EXISTS {s};
                 CREATE TABLE {s} (fid INTEGER PRIMARY KEY AUTOINCREMENT, {g} {t});",
                s = quote_ident(&staging),
                g = GEOMETRY_COLUMN,
                t = family.gpkg_type(),
            ))?;
            Ok(())
        })();
        if let Err(e) = setup {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
        Ok(Box::new(GpkgLayerWriter {
            conn,
            kind,
            family,
            staging,
            columns: Vec::new(),
            insert_sql: String::new(),
            bbox: None,
            finished: false,
            blob: Vec::new(),
            envelopes: Vec::new(),
            inserted: 0,
        }))
    }

    fn scan(
        &self,
        kind: LayerKind,
        visit: &mut dyn FnMut(StoredFeature) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.scan_filtered(kind, None, visit)
    }

    fn scan_bbox(
        &self,
        kind: LayerKind,
        bbox: [f64; 4],
        visit: &mut dyn FnMut(StoredFeature) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let rtree = format!("rtree_{}_{GEOMETRY_COLUMN}", kind.name());
        let indexed: bool = self.conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE name = ?1",
            [&rtree],
            |r| r.get(0),
        )?;
        // Without the R-tree (a layer written by another tool) every feature is read; with it,
        // only its candidates (float32 boxes rounded outwards: a superset). Either way the
        // geometry's own box decides.
        let within = indexed.then_some((rtree.as_str(), bbox));
        self.scan_filtered(kind, within, &mut |f| {
            if super::meets(&f.geometry, bbox) {
                visit(f)
            } else {
                Ok(())
            }
        })
    }

    fn reader(&self) -> Result<Box<dyn FeatureStore + Send>, StoreError> {
        Ok(Box::new(GpkgStore::open_read_only(&self.path)?))
    }

    fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM liancun_settings WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn settings(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM liancun_settings ORDER BY key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO liancun_settings(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

/// A table of an exported GeoPackage (features when it has a geometry type, else attributes).
pub struct ExportTable {
    /// The table's name in the file.
    pub name: String,
    /// Its `gpkg_contents` description.
    pub description: String,
    /// `MULTIPOLYGON`, `POINT` …, or `None` for an attribute table.
    pub geometry_type: Option<&'static str>,
    /// Attribute columns and their types.
    pub columns: Vec<(String, FieldType)>,
    /// Geometries in `srs` (EPSG:4490 when `None`); values aligned with `columns`.
    pub rows: Vec<(Option<Geometry<f64>>, Vec<Value>)>,
    /// The CRS of the geometries when not EPSG:4490.
    pub srs: Option<crate::engine::crs::CrsDefinition>,
}

/// Writes a new, plain GeoPackage (no liancun tables) holding `tables`, in one transaction.
/// `path` must not exist yet.
pub fn write_geopackage(path: &Path, tables: &[ExportTable]) -> Result<(), StoreError> {
    if path.exists() {
        return Err(StoreError::Open {
            path: path.display().to_string(),
            reason: "exists already; refusing to overwrite".into(),
        });
    }
    let conn = Connection::open(path).map_err(|e| StoreError::Open {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let store = GpkgStore {
        conn,
        path: path.to_path_buf(),
    };
    store.create_schema_with(false)?;
    let conn = &store.conn;
    conn.execute_batch("BEGIN")?;
    let result = (|| -> Result<(), StoreError> {
        for t in tables {
            let srs_id = t.srs.as_ref().map_or(SRS_ID, |d| d.epsg as i32);
            if let Some(d) = &t.srs {
                conn.execute(
                    "INSERT OR IGNORE INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, organization_coordsys_id, definition, description)
                     VALUES (?1, ?2, 'EPSG', ?2, ?3, ?1)",
                    params![d.name, srs_id, d.wkt],
                )?;
            }
            let mut decl = vec!["fid INTEGER PRIMARY KEY AUTOINCREMENT".to_string()];
            if let Some(g) = t.geometry_type {
                decl.push(format!("{GEOMETRY_COLUMN} {g}"));
            }
            decl.extend(
                t.columns
                    .iter()
                    .map(|(n, ty)| format!("{} {}", quote_ident(n), ty.gpkg_type())),
            );
            conn.execute_batch(&format!(
                "CREATE TABLE {} ({})",
                quote_ident(&t.name),
                decl.join(", ")
            ))?;
            let geometry_slot = usize::from(t.geometry_type.is_some());
            let mut names: Vec<String> = Vec::new();
            if t.geometry_type.is_some() {
                names.push(GEOMETRY_COLUMN.to_string());
            }
            names.extend(t.columns.iter().map(|(n, _)| quote_ident(n)));
            let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
            let mut stmt = conn.prepare(&format!(
                "INSERT INTO {} ({}) VALUES ({})",
                quote_ident(&t.name),
                names.join(", "),
                marks.join(", ")
            ))?;
            let mut bbox: Option<[f64; 4]> = None;
            let mut blob = Vec::new();
            for (geometry, values) in &t.rows {
                if t.geometry_type.is_some() {
                    match geometry {
                        Some(g) => {
                            blob.clear();
                            if let Some([a, b, c, d]) = encode_gpb_in(g, srs_id, &mut blob)? {
                                bbox = Some(match bbox {
                                    None => [a, b, c, d],
                                    Some([x0, y0, x1, y1]) => {
                                        [x0.min(a), y0.min(b), x1.max(c), y1.max(d)]
                                    }
                                });
                            }
                            stmt.raw_bind_parameter(1, &blob[..])?;
                        }
                        None => stmt.raw_bind_parameter(1, rusqlite::types::Null)?,
                    }
                }
                for (i, v) in values.iter().enumerate() {
                    let at = i + 1 + geometry_slot;
                    match v {
                        Value::Null => stmt.raw_bind_parameter(at, rusqlite::types::Null)?,
                        Value::Bool(b) => stmt.raw_bind_parameter(at, *b as i64)?,
                        Value::Int(n) => stmt.raw_bind_parameter(at, *n)?,
                        Value::Real(r) => stmt.raw_bind_parameter(at, *r)?,
                        Value::Text(s) => stmt.raw_bind_parameter(at, s.as_str())?,
                    }
                }
                stmt.raw_execute()?;
            }
            drop(stmt);
            let [min_x, min_y, max_x, max_y] = match bbox {
                Some(b) => b.map(Some),
                None => [None; 4],
            };
            let data_type = if t.geometry_type.is_some() {
                "features"
            } else {
                "attributes"
            };
            conn.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id)
                 VALUES (?1, ?2, ?1, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![t.name, data_type, t.description, min_x, min_y, max_x, max_y, t.geometry_type.map(|_| srs_id)],
            )?;
            if let Some(g) = t.geometry_type {
                conn.execute(
                    "INSERT INTO gpkg_geometry_columns VALUES (?1, ?2, ?3, ?4, 0, 0)",
                    params![t.name, GEOMETRY_COLUMN, g, srs_id],
                )?;
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            conn.execute_batch("COMMIT")?;
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn value_from_sql(v: ValueRef<'_>, ty: FieldType) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) if ty == FieldType::Boolean => Value::Bool(i != 0),
        ValueRef::Integer(i) if ty == FieldType::Real => Value::Real(i as f64),
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
    }
}

struct GpkgLayerWriter<'a> {
    conn: &'a Connection,
    kind: LayerKind,
    family: GeometryFamily,
    staging: String,
    columns: Vec<Column>,
    insert_sql: String,
    bbox: Option<[f64; 4]>,
    finished: bool,
    blob: Vec<u8>,
    /// One 32-byte entry per inserted feature, for the R-tree bulk load.
    envelopes: Vec<RtreeEntry>,
    inserted: i64,
}

/// Entries per R-tree node: SQLite's RTREE_MAXCELLS (51) for 2-D float trees on 4 KB pages.
const RTREE_MAX_CELLS: usize = 51;
/// Bytes per cell: 8-byte id + 4 float32 coordinates.
const RTREE_CELL_BYTES: usize = 8 + 4 * 4;

/// An R-tree entry: a feature id (or child node number) and its float32 bounds
/// [min_x, max_x, min_y, max_y], rounded outwards as SQLite's R-tree stores them.
struct RtreeEntry {
    key: u64,
    id: i64,
    bounds: [f32; 4],
}

/// float32 bounds that contain the float64 ones.
fn f32_down(v: f64) -> f32 {
    let f = v as f32;
    if f as f64 > v { f.next_down() } else { f }
}

fn f32_up(v: f64) -> f32 {
    let f = v as f32;
    if (f as f64) < v { f.next_up() } else { f }
}

/// Position of (x, y) on a Hilbert curve over a 2¹⁶ × 2¹⁶ grid of `bbox`: inserting R-tree
/// entries in this order keeps neighbouring entries in the same nodes (3× faster bulk loads here).
fn hilbert_key(x: f64, y: f64, bbox: [f64; 4]) -> u64 {
    let n: u64 = 1 << 16;
    let scale = |v: f64, lo: f64, hi: f64| -> u64 {
        if hi > lo {
            (((v - lo) / (hi - lo)) * (n - 1) as f64).clamp(0.0, (n - 1) as f64) as u64
        } else {
            0
        }
    };
    let (mut xi, mut yi) = (scale(x, bbox[0], bbox[2]), scale(y, bbox[1], bbox[3]));
    let mut d = 0u64;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(xi & s > 0);
        let ry = u64::from(yi & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                xi = n - 1 - xi;
                yi = n - 1 - yi;
            }
            std::mem::swap(&mut xi, &mut yi);
        }
        s /= 2;
    }
    d
}

impl GpkgLayerWriter<'_> {
    /// Bulk-loads the (empty, just created) R-tree `rtree` from the envelopes recorded at insert
    /// time: entries sorted along a Hilbert curve are packed bottom-up into full nodes, and the
    /// nodes are written straight into the R-tree's shadow tables (`_node`, `_parent`, `_rowid`)
    /// in SQLite's own format, one level at a time. One SQL insert per entry through the virtual
    /// table costs ~4 µs of node splitting each; packing costs a fraction of that, gives a tighter
    /// tree and needs 32 bytes per feature. `rtreecheck()` verifies the result in the tests.
    fn load_rtree(&mut self, rtree: &str) -> Result<(), StoreError> {
        let Some(bbox) = self.bbox else { return Ok(()) };
        let mut entries = std::mem::take(&mut self.envelopes);
        for e in &mut entries {
            let b = e.bounds.map(f64::from);
            e.key = hilbert_key((b[0] + b[1]) / 2.0, (b[2] + b[3]) / 2.0, bbox);
        }
        entries.sort_unstable_by_key(|e| (e.key, e.id));
        // Level sizes, leaves first; the last level is the root.
        let mut sizes = vec![entries.len().div_ceil(RTREE_MAX_CELLS)];
        while *sizes.last().unwrap_or(&1) > 1 {
            let next = sizes[sizes.len() - 1].div_ceil(RTREE_MAX_CELLS);
            sizes.push(next);
        }
        let root_level = sizes.len() - 1;
        let first_number: Vec<i64> = sizes
            .iter()
            .scan(2i64, |next, size| {
                let first = *next;
                *next += *size as i64;
                Some(first)
            })
            .collect();
        let number = |level: usize, index: usize| -> i64 {
            if level == root_level {
                1
            } else {
                first_number[level] + index as i64
            }
        };
        let node_table = quote_ident(&format!("{rtree}_node"));
        let parent_table = quote_ident(&format!("{rtree}_parent"));
        let rowid_table = quote_ident(&format!("{rtree}_rowid"));
        let mut put_node = self.conn.prepare(&format!(
            "INSERT OR REPLACE INTO {node_table} (nodeno, data) VALUES (?1, ?2)"
        ))?;
        let mut put_parent = self.conn.prepare(&format!(
            "INSERT INTO {parent_table} (nodeno, parentnode) VALUES (?1, ?2)"
        ))?;
        let mut put_rowid = self.conn.prepare(&format!(
            "INSERT INTO {rowid_table} (rowid, nodeno) VALUES (?1, ?2)"
        ))?;
        let mut leaf_of: Vec<(i64, i64)> = Vec::with_capacity(entries.len());
        let mut level_items = entries;
        for level in 0..=root_level {
            let mut parents = Vec::with_capacity(level_items.len().div_ceil(RTREE_MAX_CELLS));
            for (index, chunk) in level_items.chunks(RTREE_MAX_CELLS).enumerate() {
                let node = number(level, index);
                let mut blob = vec![0u8; 4 + RTREE_CELL_BYTES * RTREE_MAX_CELLS];
                if level == root_level {
                    blob[0..2].copy_from_slice(&(root_level as u16).to_be_bytes());
                }
                blob[2..4].copy_from_slice(&(chunk.len() as u16).to_be_bytes());
                let mut bounds = [
                    f32::INFINITY,
                    f32::NEG_INFINITY,
                    f32::INFINITY,
                    f32::NEG_INFINITY,
                ];
                for (i, item) in chunk.iter().enumerate() {
                    let at = 4 + i * RTREE_CELL_BYTES;
                    blob[at..at + 8].copy_from_slice(&item.id.to_be_bytes());
                    for (k, c) in item.bounds.iter().enumerate() {
                        blob[at + 8 + 4 * k..at + 12 + 4 * k]
                            .copy_from_slice(&c.to_bits().to_be_bytes());
                    }
                    bounds = [
                        bounds[0].min(item.bounds[0]),
                        bounds[1].max(item.bounds[1]),
                        bounds[2].min(item.bounds[2]),
                        bounds[3].max(item.bounds[3]),
                    ];
                    if level == 0 {
                        leaf_of.push((item.id, node));
                    }
                }
                put_node.execute(params![node, blob])?;
                if level < root_level {
                    put_parent
                        .execute(params![node, number(level + 1, index / RTREE_MAX_CELLS)])?;
                }
                parents.push(RtreeEntry {
                    key: 0,
                    id: node,
                    bounds,
                });
            }
            level_items = parents;
        }
        // Which leaf holds each feature, appended in fid order (B-tree appends, not random inserts).
        leaf_of.sort_unstable();
        for (fid, leaf) in leaf_of {
            put_rowid.execute(params![fid, leaf])?;
        }
        Ok(())
    }

    fn rebuild_insert_sql(&mut self) {
        let mut names = vec![GEOMETRY_COLUMN.to_string()];
        names.extend(self.columns.iter().map(|c| quote_ident(&c.name)));
        let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
        self.insert_sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote_ident(&self.staging),
            names.join(", "),
            marks.join(", ")
        );
    }

    fn publish(&mut self, provenance: &LayerProvenance) -> Result<(), StoreError> {
        let table = self.kind.name();
        let t = quote_ident(table);
        let rtree = format!("rtree_{table}_{GEOMETRY_COLUMN}");
        let rt = quote_ident(&rtree);
        let g = GEOMETRY_COLUMN;
        let previous_version: i64 = self
            .conn
            .query_row(
                "SELECT data_version FROM liancun_layers WHERE name = ?1",
                [table],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        self.conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS {rt};
             DROP TABLE IF EXISTS {t};
             DELETE FROM gpkg_extensions WHERE table_name = '{table}';
             DELETE FROM gpkg_geometry_columns WHERE table_name = '{table}';
             DELETE FROM gpkg_contents WHERE table_name = '{table}';
             DELETE FROM gpkg_ogr_contents WHERE table_name = '{table}';
             ALTER TABLE {s} RENAME TO {t};",
            s = quote_ident(&self.staging),
        ))?;
        let [min_x, min_y, max_x, max_y] = match self.bbox {
            Some(b) => b.map(Some),
            None => [None; 4],
        };
        self.conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id)
             VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![table, self.kind.label_zh(), min_x, min_y, max_x, max_y, SRS_ID],
        )?;
        self.conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?1, ?2, ?3, ?4, 0, 0)",
            params![table, g, self.family.gpkg_type(), SRS_ID],
        )?;
        self.conn.execute(
            "INSERT INTO gpkg_extensions VALUES (?1, ?2, 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            params![table, g],
        )?;
        // Create the index and the triggers that keep it in step with later edits, then bulk-load it.
        self.conn.execute_batch(&format!(
            "CREATE VIRTUAL TABLE {rt} USING rtree(id, minx, maxx, miny, maxy);
             CREATE TRIGGER {ins} AFTER INSERT ON {t}
               WHEN (new.{g} NOT NULL AND NOT ST_IsEmpty(NEW.{g}))
             BEGIN
               INSERT OR REPLACE INTO {rt} VALUES (NEW.fid, ST_MinX(NEW.{g}), ST_MaxX(NEW.{g}), ST_MinY(NEW.{g}), ST_MaxY(NEW.{g}));
             END;
             CREATE TRIGGER {up1} AFTER UPDATE OF {g} ON {t}
               WHEN OLD.fid = NEW.fid AND (NEW.{g} NOTNULL AND NOT ST_IsEmpty(NEW.{g}))
             BEGIN
               INSERT OR REPLACE INTO {rt} VALUES (NEW.fid, ST_MinX(NEW.{g}), ST_MaxX(NEW.{g}), ST_MinY(NEW.{g}), ST_MaxY(NEW.{g}));
             END;
             CREATE TRIGGER {up2} AFTER UPDATE OF {g} ON {t}
               WHEN OLD.fid = NEW.fid AND (NEW.{g} ISNULL OR ST_IsEmpty(NEW.{g}))
             BEGIN
               DELETE FROM {rt} WHERE id = OLD.fid;
             END;
             CREATE TRIGGER {up3} AFTER UPDATE ON {t}
               WHEN OLD.fid != NEW.fid AND (NEW.{g} NOTNULL AND NOT ST_IsEmpty(NEW.{g}))
             BEGIN
               DELETE FROM {rt} WHERE id = OLD.fid;
               INSERT OR REPLACE INTO {rt} VALUES (NEW.fid, ST_MinX(NEW.{g}), ST_MaxX(NEW.{g}), ST_MinY(NEW.{g}), ST_MaxY(NEW.{g}));
             END;
             CREATE TRIGGER {up4} AFTER UPDATE ON {t}
               WHEN OLD.fid != NEW.fid AND (NEW.{g} ISNULL OR ST_IsEmpty(NEW.{g}))
             BEGIN
               DELETE FROM {rt} WHERE id IN (OLD.fid, NEW.fid);
             END;
             CREATE TRIGGER {del} AFTER DELETE ON {t}
               WHEN old.{g} NOT NULL
             BEGIN
               DELETE FROM {rt} WHERE id = OLD.fid;
             END;",
            ins = quote_ident(&format!("{rtree}_insert")),
            up1 = quote_ident(&format!("{rtree}_update1")),
            up2 = quote_ident(&format!("{rtree}_update2")),
            up3 = quote_ident(&format!("{rtree}_update3")),
            up4 = quote_ident(&format!("{rtree}_update4")),
            del = quote_ident(&format!("{rtree}_delete")),
        ))?;
        self.load_rtree(&rtree)?;
        // The feature count GDAL reads without scanning, kept current by triggers as GDAL does.
        self.conn.execute(
            "INSERT INTO gpkg_ogr_contents (table_name, feature_count) VALUES (?1, ?2)",
            params![table, self.inserted],
        )?;
        self.conn.execute_batch(&format!(
            "CREATE TRIGGER {ins} AFTER INSERT ON {t} BEGIN
               UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1 WHERE lower(table_name) = lower('{table}');
             END;
             CREATE TRIGGER {del} AFTER DELETE ON {t} BEGIN
               UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1 WHERE lower(table_name) = lower('{table}');
             END;",
            ins = quote_ident(&format!("trigger_insert_feature_count_{table}")),
            del = quote_ident(&format!("trigger_delete_feature_count_{table}")),
        ))?;
        self.conn.execute(
            "INSERT INTO liancun_layers (name, source, imported_at, data_version)
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ','now'), ?3)
             ON CONFLICT(name) DO UPDATE SET source = excluded.source,
               imported_at = excluded.imported_at, data_version = excluded.data_version",
            params![table, provenance.source, previous_version + 1],
        )?;
        Ok(())
    }
}

impl LayerWriter for GpkgLayerWriter<'_> {
    fn ensure_column(&mut self, name: &str, ty: FieldType) -> Result<usize, StoreError> {
        if let Some(i) = self.columns.iter().position(|c| c.name == name) {
            return Ok(i);
        }
        self.conn.execute_batch(&format!(
            "ALTER TABLE {} ADD COLUMN {} {}",
            quote_ident(&self.staging),
            quote_ident(name),
            ty.gpkg_type()
        ))?;
        self.columns.push(Column {
            name: name.to_string(),
            ty,
        });
        self.rebuild_insert_sql();
        Ok(self.columns.len() - 1)
    }

    fn insert(
        &mut self,
        geometry: &Geometry<f64>,
        values: &[(usize, Value)],
    ) -> Result<i64, StoreError> {
        if self.insert_sql.is_empty() {
            self.rebuild_insert_sql();
        }
        self.blob.clear();
        let envelope = encode_gpb(geometry, &mut self.blob)?;
        if let Some([a, b, c, d]) = envelope {
            self.bbox = Some(match self.bbox {
                None => [a, b, c, d],
                Some([x0, y0, x1, y1]) => [x0.min(a), y0.min(b), x1.max(c), y1.max(d)],
            });
        }
        // Bind in place (no copies of the values); columns the feature lacks are NULL.
        let mut stmt = self.conn.prepare_cached(&self.insert_sql)?;
        stmt.raw_bind_parameter(1, &self.blob[..])?;
        let mut bound = vec![false; self.columns.len()];
        for (i, v) in values {
            let at = i + 2;
            match v {
                Value::Null => stmt.raw_bind_parameter(at, rusqlite::types::Null)?,
                Value::Bool(b) => stmt.raw_bind_parameter(at, *b as i64)?,
                Value::Int(n) => stmt.raw_bind_parameter(at, *n)?,
                Value::Real(r) => stmt.raw_bind_parameter(at, *r)?,
                Value::Text(s) => stmt.raw_bind_parameter(at, s.as_str())?,
            }
            bound[*i] = true;
        }
        for (i, _) in bound.iter().enumerate().filter(|(_, b)| !**b) {
            stmt.raw_bind_parameter(i + 2, rusqlite::types::Null)?;
        }
        stmt.raw_execute()?;
        drop(stmt);
        let fid = self.conn.last_insert_rowid();
        self.inserted += 1;
        if let Some(e) = envelope {
            self.envelopes.push(RtreeEntry {
                key: 0,
                id: fid,
                bounds: [f32_down(e[0]), f32_up(e[2]), f32_down(e[1]), f32_up(e[3])],
            });
        }
        Ok(fid)
    }

    fn commit(mut self: Box<Self>, provenance: &LayerProvenance) -> Result<LayerInfo, StoreError> {
        let published = self
            .publish(provenance)
            .and_then(|_| Ok(self.conn.execute_batch("COMMIT")?));
        self.finished = true;
        if let Err(e) = published {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(e);
        }
        read_layer_info(self.conn, self.kind)?
            .ok_or_else(|| StoreError::MissingLayer(self.kind.name().into()))
    }
}

impl Drop for GpkgLayerWriter<'_> {
    fn drop(&mut self) {
        if !self.finished {
            // Not committed: an error or a panic happened. Nothing becomes visible.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GeoPackage binary geometry: "GP", version, flags, srs_id, envelope, then ISO WKB.

/// Encodes `geom` as a GeoPackage geometry blob (little-endian, xy envelope) into `out`.
/// Returns the envelope as [min_x, min_y, max_x, max_y].
pub fn encode_gpb(geom: &Geometry<f64>, out: &mut Vec<u8>) -> Result<Option<[f64; 4]>, StoreError> {
    encode_gpb_in(geom, SRS_ID, out)
}

/// [`encode_gpb`] with another spatial reference id in the header.
fn encode_gpb_in(
    geom: &Geometry<f64>,
    srs_id: i32,
    out: &mut Vec<u8>,
) -> Result<Option<[f64; 4]>, StoreError> {
    let rect = geom.bounding_rect();
    out.extend_from_slice(b"GP");
    out.push(0); // version 1
    let empty = rect.is_none();
    // bit 0: little-endian header; bits 1-3: envelope kind (1 = xy); bit 4: empty.
    let flags: u8 = 0x01 | if empty { 0x10 } else { 0x02 };
    out.push(flags);
    out.extend_from_slice(&srs_id.to_le_bytes());
    if let Some(r) = rect {
        for v in [r.min().x, r.max().x, r.min().y, r.max().y] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    let options = wkb::writer::WriteOptions {
        endianness: wkb::Endianness::LittleEndian,
    };
    wkb::writer::write_geometry(out, geom, &options)
        .map_err(|e| StoreError::Encode(e.to_string()))?;
    Ok(rect.map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]))
}

/// The header of a GeoPackage geometry blob: (header length, srs_id, envelope, empty flag).
/// (header length, srs_id, envelope [min_x, min_y, max_x, max_y], empty flag).
type GpbHeader = (usize, i32, Option<[f64; 4]>, bool);

fn parse_gpb_header(blob: &[u8]) -> Result<GpbHeader, String> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err("not a GeoPackage geometry blob (missing 'GP' magic)".into());
    }
    let flags = blob[3];
    let little = flags & 0x01 == 1;
    let envelope_kind = (flags >> 1) & 0x07;
    let empty = flags & 0x10 != 0;
    let read_f64 = |at: usize| -> Result<f64, String> {
        let bytes: [u8; 8] = blob
            .get(at..at + 8)
            .and_then(|s| s.try_into().ok())
            .ok_or("truncated envelope")?;
        Ok(if little {
            f64::from_le_bytes(bytes)
        } else {
            f64::from_be_bytes(bytes)
        })
    };
    let srs_bytes: [u8; 4] = blob[4..8].try_into().map_err(|_| "truncated header")?;
    let srs_id = if little {
        i32::from_le_bytes(srs_bytes)
    } else {
        i32::from_be_bytes(srs_bytes)
    };
    let envelope_len = match envelope_kind {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        k => return Err(format!("invalid envelope indicator {k}")),
    };
    let envelope = if envelope_len > 0 {
        let (minx, maxx, miny, maxy) = (read_f64(8)?, read_f64(16)?, read_f64(24)?, read_f64(32)?);
        Some([minx, miny, maxx, maxy])
    } else {
        None
    };
    Ok((8 + envelope_len, srs_id, envelope, empty))
}

/// Decodes a GeoPackage geometry blob into a geometry.
pub fn decode_gpb(blob: &[u8]) -> Result<Geometry<f64>, String> {
    let (header_len, _, _, _) = parse_gpb_header(blob)?;
    decode_wkb(&blob[header_len..])
}

/// The srs_id written in a GeoPackage geometry blob header.
pub fn gpb_srs_id(blob: &[u8]) -> Result<i32, String> {
    parse_gpb_header(blob).map(|(_, srs, _, _)| srs)
}

/// Decodes ISO/OGC WKB into a geometry.
pub fn decode_wkb(bytes: &[u8]) -> Result<Geometry<f64>, String> {
    use geo_traits::to_geo::ToGeoGeometry;
    let wkb = wkb::reader::read_wkb(bytes).map_err(|e| format!("invalid WKB: {e}"))?;
    wkb.try_to_geometry()
        .ok_or_else(|| "WKB geometry cannot be represented (empty point?)".to_string())
}

/// The envelope of a blob: from its header when present, else computed from the geometry.
fn blob_envelope(blob: &[u8]) -> Option<[f64; 4]> {
    let (_, _, envelope, empty) = parse_gpb_header(blob).ok()?;
    if empty {
        return None;
    }
    envelope.or_else(|| {
        let r = decode_gpb(blob).ok()?.bounding_rect()?;
        Some([r.min().x, r.min().y, r.max().x, r.max().y])
    })
}

/// Registers ST_MinX, ST_MaxX, ST_MinY, ST_MaxY and ST_IsEmpty, which the R-tree triggers call.
fn register_spatial_functions(conn: &Connection) -> Result<(), StoreError> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    for (name, slot) in [
        ("ST_MinX", 0usize),
        ("ST_MinY", 1),
        ("ST_MaxX", 2),
        ("ST_MaxY", 3),
    ] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Blob(b) => blob_envelope(b).map(|e| e[slot]),
                _ => None,
            })
        })?;
    }
    conn.create_scalar_function("ST_IsEmpty", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Blob(b) => parse_gpb_header(b)
                .map(|(_, _, _, empty)| empty as i64)
                .ok(),
            _ => None,
        })
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, Point, polygon};

    #[test]
    fn gpb_round_trips_and_carries_envelope() {
        let poly = polygon![(x: 118.0, y: 36.0), (x: 118.1, y: 36.0), (x: 118.1, y: 36.2), (x: 118.0, y: 36.0)];
        let geom = Geometry::MultiPolygon(MultiPolygon(vec![poly]));
        let mut blob = Vec::new();
        let env = encode_gpb(&geom, &mut blob).unwrap().unwrap();
        assert_eq!(env, [118.0, 36.0, 118.1, 36.2]);
        assert_eq!(blob_envelope(&blob).unwrap(), env);
        assert_eq!(gpb_srs_id(&blob).unwrap(), 4490);
        assert_eq!(decode_gpb(&blob).unwrap(), geom);
        let mut pblob = Vec::new();
        encode_gpb(&Geometry::Point(Point::new(118.5, 36.5)), &mut pblob).unwrap();
        assert_eq!(
            decode_gpb(&pblob).unwrap(),
            Geometry::Point(Point::new(118.5, 36.5))
        );
        assert!(decode_gpb(b"XX\0\x01\0\0\0\0").is_err());
    }
}
