//! GeoJSON reader: streams the features of a FeatureCollection (never the whole file in memory).
//!
//! CRS: RFC 7946 GeoJSON is CRS84 (lon/lat). Files written by older tools may carry the 2008
//! `"crs"` member (e.g. `urn:ogc:def:crs:EPSG::4527`), which we honour. Polygon rings that are
//! not closed are closed and reported as a repair.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::geojson_feature::{ParsedFeature, parse_feature};
use super::json_split::FeatureSplitter;
use super::{
    CountingReader, FeatureSource, IngestError, Progress, RawFeature, SourceDescription, io_error,
};
use crate::engine::crs::{Crs, EPSG_WGS84, parse_crs};

/// A GeoJSON FeatureCollection read as a stream (CRS84, or the legacy `crs` member's CRS).
pub struct GeoJsonSource {
    path: PathBuf,
    description: SourceDescription,
    progress: Progress,
}

impl GeoJsonSource {
    /// Opens the file and reads its head for the legacy `crs` member; features are read later.
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
            let feature = parse_feature(bytes).map_err(|e| {
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

fn raw_feature(row: u64, feature: ParsedFeature) -> RawFeature {
    RawFeature {
        row,
        id: feature.id,
        geometry: feature.geometry,
        repaired: feature.repaired,
        properties: feature.properties,
    }
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
