//! GeoPackage reader: one feature table of any GeoPackage (ours, GDAL's, QGIS's).
//! The CRS comes from the table's srs_id in `gpkg_spatial_ref_sys` (EPSG code or its WKT).

use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::{FeatureSource, IngestError, Progress, RawFeature, ReadOptions, SourceDescription};
use crate::domain::Value;
use crate::engine::crs::{Crs, crs_from_wkt};
use crate::store::gpkg::{decode_gpb, quote_ident};

/// One feature table of a GeoPackage; the CRS from its `srs_id`.
pub struct GpkgSource {
    path: PathBuf,
    conn: Connection,
    table: String,
    geometry_column: String,
    description: SourceDescription,
    progress: Progress,
}

impl GpkgSource {
    /// Opens the GeoPackage read-only and picks its feature table (`--source-layer`, or the only
    /// one).
    pub fn open(
        path: &Path,
        options: &ReadOptions,
        progress: Progress,
    ) -> Result<GpkgSource, IngestError> {
        let malformed = |reason: String| IngestError::Malformed {
            path: path.to_path_buf(),
            format: "GeoPackage",
            reason,
        };
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| malformed(e.to_string()))?;
        let tables: Vec<(String, String, i64)> = conn
            .prepare("SELECT table_name, column_name, srs_id FROM gpkg_geometry_columns ORDER BY table_name")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| malformed(format!("not a GeoPackage with feature tables: {e}")))?;
        let names: Vec<&str> = tables.iter().map(|t| t.0.as_str()).collect();
        let chosen = match &options.source_layer {
            Some(want) => tables.iter().find(|t| &t.0 == want).ok_or_else(|| {
                malformed(format!(
                    "no feature table '{want}'; it has: {}",
                    names.join(", ")
                ))
            })?,
            None if tables.len() == 1 => &tables[0],
            None => {
                return Err(IngestError::Usage(format!(
                    "{} holds {} feature tables ({}); choose one with --source-layer NAME",
                    path.display(),
                    tables.len(),
                    names.join(", ")
                )));
            }
        };
        let (table, geometry_column, srs_id) = chosen.clone();
        let srs: Option<(String, i64, String)> = conn
            .query_row(
                "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
                [srs_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| malformed(e.to_string()))?;
        let mut description = SourceDescription {
            format: "GeoPackage",
            ..Default::default()
        };
        description.notes.push(format!("read table '{table}'"));
        match srs {
            Some((org, code, _)) if org.eq_ignore_ascii_case("EPSG") && code > 0 => {
                description.declared_crs = Some(Crs::Epsg(code as u32));
                description.crs_origin =
                    format!("gpkg_spatial_ref_sys srs_id {srs_id} (EPSG:{code})");
            }
            Some((_, _, definition)) if definition != "undefined" => {
                description.declared_crs = Some(crs_from_wkt(&definition));
                description.crs_origin = format!("gpkg_spatial_ref_sys srs_id {srs_id} definition");
            }
            _ => description.crs_origin = format!("srs_id {srs_id} is undefined"),
        }
        let count: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {}", quote_ident(&table)),
                [],
                |r| r.get(0),
            )
            .map_err(|e| malformed(e.to_string()))?;
        progress.set_total(count as u64);
        Ok(GpkgSource {
            path: path.to_path_buf(),
            conn,
            table,
            geometry_column,
            description,
            progress,
        })
    }
}

impl FeatureSource for GpkgSource {
    fn describe(&self) -> &SourceDescription {
        &self.description
    }

    fn read_all(
        &mut self,
        sink: &mut dyn FnMut(RawFeature) -> Result<(), IngestError>,
    ) -> Result<(), IngestError> {
        let malformed = |reason: String| IngestError::Malformed {
            path: self.path.clone(),
            format: "GeoPackage",
            reason,
        };
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT * FROM {}", quote_ident(&self.table)))
            .map_err(|e| malformed(e.to_string()))?;
        let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let geom_idx = names.iter().position(|n| n == &self.geometry_column);
        let pk_idx = names.iter().position(|n| n.eq_ignore_ascii_case("fid"));
        let mut rows = stmt.query([]).map_err(|e| malformed(e.to_string()))?;
        let mut row_no = 0u64;
        while let Some(row) = rows.next().map_err(|e| malformed(e.to_string()))? {
            row_no += 1;
            self.progress.set(row_no);
            let mut properties = Vec::with_capacity(names.len());
            let mut geometry = Ok(None);
            let mut id = None;
            for (i, name) in names.iter().enumerate() {
                let v = row.get_ref(i).map_err(|e| malformed(e.to_string()))?;
                if Some(i) == geom_idx {
                    geometry = match v {
                        ValueRef::Blob(b) => decode_gpb(b).map(Some),
                        ValueRef::Null => Ok(None),
                        _ => Err("geometry column holds a non-blob value".into()),
                    };
                    continue;
                }
                if Some(i) == pk_idx {
                    if let ValueRef::Integer(n) = v {
                        id = Some(n.to_string());
                    }
                    continue;
                }
                properties.push((
                    name.clone(),
                    match v {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(n) => Value::Int(n),
                        ValueRef::Real(r) => Value::Real(r),
                        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(_) => Value::Null,
                    },
                ));
            }
            sink(RawFeature {
                row: row_no,
                id,
                geometry,
                repaired: Vec::new(),
                properties,
            })?;
        }
        Ok(())
    }
}
