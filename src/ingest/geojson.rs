//! GeoJSON reader: streams the features of a FeatureCollection (never the whole file in memory).
//!
//! CRS: RFC 7946 GeoJSON is CRS84 (lon/lat). Files written by older tools may carry the 2008
//! `"crs"` member (e.g. `urn:ogc:def:crs:EPSG::4527`), which we honour. Polygon rings that are
//! not closed are closed and reported as a repair.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use geojson::{GeometryValue, Position};

use super::json_split::FeatureSplitter;
use super::{
    CountingReader, FeatureSource, IngestError, Progress, RawFeature, SourceDescription, io_error,
};
use crate::domain::Value;
use crate::engine::crs::{Crs, EPSG_WGS84, parse_crs};

pub struct GeoJsonSource {
    path: PathBuf,
    description: SourceDescription,
    progress: Progress,
}

impl GeoJsonSource {
    pub fn open(path: &Path, progress: Progress) -> Result<GeoJsonSource, IngestError> {
        let mut head = vec![0u8; 64 * 1024];
        let mut file = File::open(path).map_err(|e| io_error(path, e))?;
        let n = read_up_to(&mut file, &mut head).map_err(|e| io_error(path, e))?;
        head.truncate(n);
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        progress.set_total(size);
        let text = String::from_utf8_lossy(&head);
        let mut description = SourceDescription {
            format: "GeoJSON",
            ..Default::default()
        };
        match declared_crs_member(&text) {
            Some(name) => {
                let crs = parse_crs(&name)?;
                description.crs_origin = format!("GeoJSON crs member \"{name}\"");
                description.declared_crs = Some(crs);
            }
            None => {
                description.declared_crs = Some(Crs::Epsg(EPSG_WGS84));
                description.crs_origin = "GeoJSON (RFC 7946: CRS84 lon/lat)".into();
                description.crs_is_default = true;
            }
        }
        Ok(GeoJsonSource {
            path: path.to_path_buf(),
            description,
            progress,
        })
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = r.read(&mut buf[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// The `properties.name` of a 2008-style `"crs"` member appearing before `"features"`.
fn declared_crs_member(head: &str) -> Option<String> {
    let features_at = head.find("\"features\"").unwrap_or(head.len());
    let crs_at = head[..features_at].find("\"crs\"")?;
    let after = &head[crs_at..features_at];
    let props = &after[after.find("\"properties\"")?..];
    let name_at = props.find("\"name\"")?;
    let rest = props[name_at + 6..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

impl FeatureSource for GeoJsonSource {
    fn describe(&self) -> &SourceDescription {
        &self.description
    }

    fn read_all(
        &mut self,
        sink: &mut dyn FnMut(RawFeature) -> Result<(), IngestError>,
    ) -> Result<(), IngestError> {
        let file = File::open(&self.path).map_err(|e| io_error(&self.path, e))?;
        let mut splitter = FeatureSplitter::new(CountingReader::new(file, self.progress.clone()));
        let malformed = |reason: String| IngestError::Malformed {
            path: self.path.clone(),
            format: "GeoJSON",
            reason,
        };
        let mut row = 0u64;
        loop {
            let bytes = match splitter.next_feature() {
                Ok(Some(bytes)) => bytes,
                Ok(None) => break,
                Err(e) => return Err(malformed(format!("after feature #{row}: {e}"))),
            };
            row += 1;
            let feature: geojson::Feature = serde_json::from_slice(bytes).map_err(|e| {
                malformed(format!(
                    "feature #{row} (at byte {}): {e}",
                    splitter.feature_offset()
                ))
            })?;
            sink(raw_feature(row, feature))?;
        }
        if !splitter.saw_features() {
            return Err(malformed(
                "no \"features\" array: expected a FeatureCollection".into(),
            ));
        }
        Ok(())
    }
}

fn raw_feature(row: u64, feature: geojson::Feature) -> RawFeature {
    let id = feature.id.as_ref().map(|id| match id {
        geojson::feature::Id::String(s) => s.clone(),
        geojson::feature::Id::Number(n) => n.to_string(),
    });
    let mut repaired = Vec::new();
    let geometry = match &feature.geometry {
        None => Ok(None),
        Some(g) => convert(&g.value, &mut repaired).map(Some),
    };
    let properties = feature
        .properties
        .map(|props| props.into_iter().map(|(k, v)| (k, json_value(v))).collect())
        .unwrap_or_default();
    RawFeature {
        row,
        id,
        geometry,
        repaired,
        properties,
    }
}

/// A JSON property value as a domain value (arrays and objects are kept as JSON text).
pub fn json_value(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => n.as_f64().map(Value::Real).unwrap_or(Value::Null),
        },
        serde_json::Value::String(s) => Value::Text(s),
        other => Value::Text(other.to_string()),
    }
}

fn coord(p: &Position) -> Result<Coord<f64>, String> {
    match p.as_slice() {
        [x, y, ..] => Ok(Coord { x: *x, y: *y }),
        _ => Err("a position has fewer than 2 numbers".into()),
    }
}

fn line(ps: &[Position]) -> Result<LineString<f64>, String> {
    let coords: Vec<Coord<f64>> = ps.iter().map(coord).collect::<Result<_, _>>()?;
    if coords.len() < 2 {
        return Err(format!(
            "a line has {} position(s); at least 2 are needed",
            coords.len()
        ));
    }
    Ok(LineString(coords))
}

fn ring(
    ps: &[Position],
    which: &str,
    repaired: &mut Vec<String>,
) -> Result<LineString<f64>, String> {
    let mut coords: Vec<Coord<f64>> = ps.iter().map(coord).collect::<Result<_, _>>()?;
    if coords.is_empty() {
        return Err(format!("{which} is empty"));
    }
    if coords.first() != coords.last() {
        repaired.push(format!(
            "{which} 未闭合 is not closed (first position ≠ last); closed it"
        ));
        coords.push(coords[0]);
    }
    if coords.len() < 4 {
        return Err(format!(
            "{which} has {} positions; a closed ring needs at least 4",
            coords.len()
        ));
    }
    Ok(LineString(coords))
}

fn polygon(
    rings: &[Vec<Position>],
    label: &str,
    repaired: &mut Vec<String>,
) -> Result<Polygon<f64>, String> {
    let mut iter = rings.iter().enumerate();
    let (_, outer) = iter.next().ok_or_else(|| format!("{label} has no rings"))?;
    let exterior = ring(outer, &format!("{label} exterior ring"), repaired)?;
    let interiors = iter
        .map(|(i, r)| ring(r, &format!("{label} hole {i}"), repaired))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, interiors))
}

/// Converts a GeoJSON geometry, closing unclosed rings (recorded in `repaired`).
pub fn convert(value: &GeometryValue, repaired: &mut Vec<String>) -> Result<Geometry<f64>, String> {
    Ok(match value {
        GeometryValue::Point { coordinates } => Geometry::Point(Point(coord(coordinates)?)),
        GeometryValue::MultiPoint { coordinates } => Geometry::MultiPoint(MultiPoint(
            coordinates
                .iter()
                .map(|p| coord(p).map(Point))
                .collect::<Result<_, _>>()?,
        )),
        GeometryValue::LineString { coordinates } => Geometry::LineString(line(coordinates)?),
        GeometryValue::MultiLineString { coordinates } => {
            Geometry::MultiLineString(MultiLineString(
                coordinates
                    .iter()
                    .map(|l| line(l))
                    .collect::<Result<_, _>>()?,
            ))
        }
        GeometryValue::Polygon { coordinates } => {
            Geometry::Polygon(polygon(coordinates, "polygon", repaired)?)
        }
        GeometryValue::MultiPolygon { coordinates } => Geometry::MultiPolygon(MultiPolygon(
            coordinates
                .iter()
                .enumerate()
                .map(|(i, p)| polygon(p, &format!("part {i}"), repaired))
                .collect::<Result<_, _>>()?,
        )),
        GeometryValue::GeometryCollection { .. } => {
            return Err("GeometryCollection is not supported; split it into features".into());
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crs_member_is_found_before_features_only() {
        let gdal = r#"{"type": "FeatureCollection", "name": "villages", "crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:EPSG::4527" } }, "features": []}"#;
        assert_eq!(
            declared_crs_member(gdal).as_deref(),
            Some("urn:ogc:def:crs:EPSG::4527")
        );
        let plain = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"crs":"x","name":"y"}}]}"#;
        assert_eq!(declared_crs_member(plain), None);
    }
}
