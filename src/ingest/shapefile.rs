//! ESRI Shapefile reader (.shp/.shx geometry, .dbf attributes, .prj CRS, .cpg encoding).
//!
//! Encoding of the .dbf text, in order: `--encoding`, the .cpg file, the DBF language driver byte
//! (0x4D/0x7A = code page 936, GBK), then a scan of the file: valid UTF-8 is read as UTF-8,
//! anything else as GBK — the encoding of most Chinese shapefiles. The choice is reported.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use dbase::FieldValue;
use geo::Geometry;

use super::encoding::is_utf8_file;
use super::{
    FeatureSource, IngestError, Progress, RawFeature, ReadOptions, SourceDescription,
    encoding_by_name, io_error,
};
use crate::domain::Value;
use crate::engine::crs::crs_from_wkt;

/// An ESRI Shapefile: geometries from .shp/.shx, attributes from .dbf, CRS from .prj.
pub struct ShapefileSource {
    path: PathBuf,
    encoding: &'static encoding_rs::Encoding,
    description: SourceDescription,
    progress: Progress,
}

impl ShapefileSource {
    /// Opens the shapefile: checks the .dbf, reads the .prj and chooses the .dbf text encoding.
    pub fn open(
        path: &Path,
        options: &ReadOptions,
        progress: Progress,
    ) -> Result<ShapefileSource, IngestError> {
        let mut description = SourceDescription {
            format: "ESRI Shapefile",
            ..Default::default()
        };
        let dbf = path.with_extension("dbf");
        if !dbf.exists() {
            return Err(IngestError::Malformed {
                path: path.to_path_buf(),
                format: "Shapefile",
                reason: format!("属性表缺失 the attribute file {} is missing", dbf.display()),
            });
        }
        let prj = path.with_extension("prj");
        if let Ok(wkt) = std::fs::read_to_string(&prj) {
            description.declared_crs = Some(crs_from_wkt(&wkt));
            description.crs_origin =
                format!("{}", prj.file_name().unwrap_or_default().to_string_lossy());
        } else {
            description.crs_origin = "no .prj file".into();
        }
        let encoding = if let Some(name) = &options.encoding {
            let e = encoding_by_name(name)?;
            description
                .notes
                .push(format!("attributes read as {} (--encoding)", e.name()));
            e
        } else if let Ok(cpg) = std::fs::read_to_string(path.with_extension("cpg")) {
            let e = encoding_by_name(cpg.trim().trim_start_matches('\u{feff}'))?;
            description
                .notes
                .push(format!("attributes read as {} (.cpg)", e.name()));
            e
        } else {
            let mut header = [0u8; 32];
            File::open(&dbf)
                .and_then(|mut f| f.read_exact(&mut header))
                .map_err(|e| io_error(&dbf, e))?;
            if matches!(header[29], 0x4D | 0x7A) {
                description
                    .notes
                    .push("attributes read as GBK (DBF language driver: code page 936)".into());
                encoding_rs::GBK
            } else if is_utf8_file(&dbf).map_err(|e| io_error(&dbf, e))? {
                description
                    .notes
                    .push("no .cpg: attributes are valid UTF-8, read as UTF-8".into());
                encoding_rs::UTF_8
            } else {
                description.notes.push(
                    "no .cpg and not UTF-8: attributes read as GBK (pass --encoding to override)"
                        .into(),
                );
                encoding_rs::GBK
            }
        };
        description.text_encoding = Some(encoding.name());
        Ok(ShapefileSource {
            path: path.to_path_buf(),
            encoding,
            description,
            progress,
        })
    }
}

fn field_value(v: FieldValue) -> Value {
    match v {
        FieldValue::Character(s) => s
            .map(|s| Value::Text(s.trim_end().to_string()))
            .unwrap_or(Value::Null),
        FieldValue::Numeric(n) => match n {
            Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Value::Int(x as i64),
            Some(x) => Value::Real(x),
            None => Value::Null,
        },
        FieldValue::Logical(b) => b.map(Value::Bool).unwrap_or(Value::Null),
        FieldValue::Date(d) => d
            .map(|d| Value::Text(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())))
            .unwrap_or(Value::Null),
        FieldValue::Float(f) => f.map(|f| Value::Real(f as f64)).unwrap_or(Value::Null),
        FieldValue::Integer(i) => Value::Int(i as i64),
        FieldValue::Currency(c) | FieldValue::Double(c) => Value::Real(c),
        FieldValue::DateTime(dt) => {
            let d = dt.date();
            let t = dt.time();
            Value::Text(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                d.year(),
                d.month(),
                d.day(),
                t.hours(),
                t.minutes(),
                t.seconds()
            ))
        }
        FieldValue::Memo(s) => Value::Text(s),
    }
}

impl FeatureSource for ShapefileSource {
    fn describe(&self) -> &SourceDescription {
        &self.description
    }

    fn read_all(
        &mut self,
        sink: &mut dyn FnMut(RawFeature) -> Result<(), IngestError>,
    ) -> Result<(), IngestError> {
        let malformed = |reason: String| IngestError::Malformed {
            path: self.path.clone(),
            format: "Shapefile",
            reason,
        };
        let shapes =
            shapefile::ShapeReader::from_path(&self.path).map_err(|e| malformed(e.to_string()))?;
        let dbf_path = self.path.with_extension("dbf");
        let dbf = BufReader::new(File::open(&dbf_path).map_err(|e| io_error(&dbf_path, e))?);
        let dbf = dbase::ReaderBuilder::new()
            .with_encoding(dbase::encoding::EncodingRs::from(self.encoding))
            .build(dbf)
            .map_err(|e| malformed(format!("{}: {e}", dbf_path.display())))?;
        let field_names: Vec<String> = dbf.fields().iter().map(|f| f.name().to_string()).collect();
        let mut reader = shapefile::Reader::new(shapes, dbf);
        self.progress
            .set_total(reader.shape_count().unwrap_or(0) as u64);
        for (i, item) in reader.iter_shapes_and_records().enumerate() {
            let row = i as u64 + 1;
            self.progress.set(row);
            let (shape, mut record) = item.map_err(|e| malformed(format!("record {row}: {e}")))?;
            let geometry = match shape {
                shapefile::Shape::NullShape => Ok(None),
                other => Geometry::<f64>::try_from(other)
                    .map(Some)
                    .map_err(|e| e.to_string()),
            };
            let properties = field_names
                .iter()
                .map(|name| {
                    (
                        name.clone(),
                        record.remove(name).map(field_value).unwrap_or(Value::Null),
                    )
                })
                .collect();
            sink(RawFeature {
                row,
                id: None,
                geometry,
                repaired: Vec::new(),
                properties,
            })?;
        }
        Ok(())
    }
}
