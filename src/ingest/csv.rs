//! CSV reader: a WKT column (`wkt`, `geometry`, `geom`, `the_geom`, `shape`, `几何`) or a pair of
//! lon/lat columns (`lon`/`lng`/`longitude`/`经度`/`x` with `lat`/`latitude`/`纬度`/`y`). The other
//! columns are attributes (text; canonical fields are converted to their types later).
//! A CSV carries no CRS: lon/lat columns and WKT that looks like lon/lat need `--crs` or are
//! detected from the coordinates (prefixed Gauss–Krüger only).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use geo::{Geometry, Point};

use super::{
    CountingReader, FeatureSource, IngestError, Progress, RawFeature, ReadOptions,
    SourceDescription, encoding::is_utf8_file, encoding_by_name, io_error,
};
use crate::domain::Value;

const WKT_NAMES: &[&str] = &[
    "wkt",
    "geometry",
    "geom",
    "the_geom",
    "shape",
    "几何",
    "坐标串",
];
const LON_NAMES: &[&str] = &["lon", "lng", "long", "longitude", "经度", "x", "jd"];
const LAT_NAMES: &[&str] = &["lat", "latitude", "纬度", "y", "wd"];

enum GeometryColumns {
    Wkt(usize),
    LonLat(usize, usize),
}

/// A CSV file of features: geometry from a WKT column or lon/lat columns, the other columns as text
/// attributes.
pub struct CsvSource {
    path: PathBuf,
    encoding: &'static encoding_rs::Encoding,
    description: SourceDescription,
    progress: Progress,
}

impl CsvSource {
    /// Opens the CSV, choosing the encoding (`--encoding`, else UTF-8 if valid, else GBK) and the
    /// geometry columns.
    pub fn open(
        path: &Path,
        options: &ReadOptions,
        progress: Progress,
    ) -> Result<CsvSource, IngestError> {
        // Without --encoding: UTF-8 when the file is valid UTF-8, else GBK (what Excel saves
        // on a Chinese Windows), and the report says so.
        let (encoding, why) = match &options.encoding {
            Some(name) => (encoding_by_name(name)?, "--encoding"),
            None if is_utf8_file(path).map_err(|e| io_error(path, e))? => {
                (encoding_rs::UTF_8, "valid UTF-8")
            }
            None => (encoding_rs::GBK, "not UTF-8; pass --encoding to override"),
        };
        progress.set_total(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
        let mut description = SourceDescription {
            format: "CSV",
            crs_origin: "CSV has no CRS".into(),
            ..Default::default()
        };
        description
            .notes
            .push(format!("text read as {} ({why})", encoding.name()));
        description.text_encoding = Some(encoding.name());
        Ok(CsvSource {
            path: path.to_path_buf(),
            encoding,
            description,
            progress,
        })
    }

    fn decode(&self, bytes: &[u8]) -> String {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        self.encoding
            .decode_without_bom_handling(bytes)
            .0
            .into_owned()
    }
}

fn find(headers: &[String], names: &[&str]) -> Option<usize> {
    headers
        .iter()
        .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
}

impl FeatureSource for CsvSource {
    fn describe(&self) -> &SourceDescription {
        &self.description
    }

    fn read_all(
        &mut self,
        sink: &mut dyn FnMut(RawFeature) -> Result<(), IngestError>,
    ) -> Result<(), IngestError> {
        let file = File::open(&self.path).map_err(|e| io_error(&self.path, e))?;
        let mut reader = ::csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(BufReader::new(CountingReader::new(
                file,
                self.progress.clone(),
            )));
        let malformed = |reason: String| IngestError::Malformed {
            path: self.path.clone(),
            format: "CSV",
            reason,
        };
        let headers: Vec<String> = reader
            .byte_headers()
            .map_err(|e| malformed(e.to_string()))?
            .iter()
            .map(|h| self.decode(h))
            .collect();
        let columns = match (
            find(&headers, WKT_NAMES),
            find(&headers, LON_NAMES),
            find(&headers, LAT_NAMES),
        ) {
            (Some(w), _, _) => GeometryColumns::Wkt(w),
            (None, Some(x), Some(y)) => GeometryColumns::LonLat(x, y),
            _ => {
                return Err(malformed(format!(
                    "no geometry column: expected a WKT column ({}) or lon/lat columns ({} and {}); found {}",
                    WKT_NAMES.join("/"),
                    LON_NAMES.join("/"),
                    LAT_NAMES.join("/"),
                    headers.join(", ")
                )));
            }
        };
        let geometry_cols: Vec<usize> = match columns {
            GeometryColumns::Wkt(w) => vec![w],
            GeometryColumns::LonLat(x, y) => vec![x, y],
        };
        let mut record = ::csv::ByteRecord::new();
        let mut row = 0u64;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(malformed(format!("row {}: {e}", row + 2))),
            }
            row += 1;
            let field = |i: usize| self.decode(record.get(i).unwrap_or_default());
            let geometry = match columns {
                GeometryColumns::Wkt(w) => parse_wkt(&field(w)).map(Some),
                GeometryColumns::LonLat(x, y) => {
                    let (xs, ys) = (field(x), field(y));
                    match (xs.trim().parse::<f64>(), ys.trim().parse::<f64>()) {
                        (Ok(x), Ok(y)) => Ok(Some(Geometry::Point(Point::new(x, y)))),
                        _ if xs.trim().is_empty() && ys.trim().is_empty() => Ok(None),
                        _ => Err(format!("coordinates '{xs}', '{ys}' are not numbers")),
                    }
                }
            };
            let properties = headers
                .iter()
                .enumerate()
                .filter(|(i, _)| !geometry_cols.contains(i))
                .map(|(i, h)| {
                    let text = field(i);
                    (
                        h.clone(),
                        if text.is_empty() {
                            Value::Null
                        } else {
                            Value::Text(text)
                        },
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

/// Parses WKT into a geometry.
pub fn parse_wkt(text: &str) -> Result<Geometry<f64>, String> {
    use std::str::FromStr;
    let text = text.trim();
    if text.is_empty() {
        return Err("empty WKT".into());
    }
    let parsed = wkt::Wkt::<f64>::from_str(text).map_err(|e| format!("invalid WKT: {e}"))?;
    Geometry::try_from(parsed).map_err(|e| format!("unsupported WKT: {e}"))
}
