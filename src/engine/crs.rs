//! Coordinate reference systems for Chinese planning data.
//!
//! Official data is CGCS2000: geographic EPSG:4490 (authority axis order lat, lon) or
//! Gauss–Krüger projected. The EPSG codes follow a fixed pattern, which this module encodes:
//!
//! | codes | kind | zone / central meridian | false easting |
//! |---|---|---|---|
//! | 4491–4501 | 6° zones 13–23 | CM = 6·zone − 3 | zone·10⁶ + 500 000 (prefixed) |
//! | 4502–4512 | 6° CM 75°–135°E | | 500 000 |
//! | 4513–4533 | 3° zones 25–45 | CM = 3·zone | zone·10⁶ + 500 000 (prefixed) |
//! | 4534–4554 | 3° CM 75°–135°E | | 500 000 |
//!
//! Detection: a file with 8-digit eastings whose leading digits are 25–45 is a prefixed 3° zone
//! (13–23: a prefixed 6° zone); 6-digit eastings without a zone are ambiguous and need `--crs`.
//!
//! Reprojection uses PROJ ([`Reprojector`]); inputs and outputs are in "visualisation" order
//! (lon, lat / easting, northing) whatever the authority axis order is.
//!
//! Metric computations use the workspace's **metric CRS**: the non-prefixed CGCS2000 3° zone whose
//! central meridian is nearest to the data ([`metric_epsg_for_lon`]); within ±1.5° of the central
//! meridian the Gauss–Krüger scale error stays under 0.035 % in length.

use geo::{Coord, Geometry};
use thiserror::Error;

use super::geometry::for_each_coord_mut;

/// EPSG code of CGCS2000 geographic coordinates.
pub const EPSG_CGCS2000: u32 = 4490;
/// EPSG code of WGS 84 geographic coordinates (within about 1 m of CGCS2000 at map scale).
pub const EPSG_WGS84: u32 = 4326;

/// Longitude/latitude box of China (mainland, Hainan, Taiwan, the South China Sea down to 3.8°N).
pub const CHINA_LON: (f64, f64) = (73.4, 135.1);
/// Latitude range of China's box (°N), with [`CHINA_LON`].
pub const CHINA_LAT: (f64, f64) = (3.8, 53.6);

/// Why a CRS could not be recognised or coordinates could not be reprojected.
#[derive(Debug, Error)]
pub enum CrsError {
    /// The text (given) names no CRS we know, or the EPSG code is not a 2D geographic or
    /// projected CRS.
    #[error(
        "无法识别的坐标系 unrecognised CRS '{0}': use EPSG:N (e.g. EPSG:4490, EPSG:4527) or CRS84"
    )]
    Unrecognised(String),
    /// PROJ cannot build a transformation between the two CRSs.
    #[error("PROJ cannot build a transformation from {from} to {to}: {reason}")]
    Proj {
        /// The source CRS's label (e.g. `EPSG:4527`).
        from: String,
        /// The target CRS's label.
        to: String,
        /// PROJ's message.
        reason: String,
    },
    /// PROJ failed on some coordinates (e.g. far outside the CRS's area of use).
    #[error("PROJ failed to transform coordinates from {from}: {reason}")]
    Transform {
        /// The source CRS's label.
        from: String,
        /// PROJ's message.
        reason: String,
    },
}

/// A CRS as named by a user or a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Crs {
    /// An EPSG code. 4326 and CRS84 are both represented as 4326 with lon/lat order.
    Epsg(u32),
    /// A WKT definition (e.g. an ESRI .prj) that names no EPSG code we could recognise.
    Wkt(String),
}

impl Crs {
    /// The definition PROJ accepts.
    pub fn proj_definition(&self) -> String {
        match self {
            Crs::Epsg(code) => format!("EPSG:{code}"),
            Crs::Wkt(wkt) => wkt.clone(),
        }
    }

    /// A short label for reports.
    pub fn label(&self) -> String {
        match self {
            Crs::Epsg(code) => format!("EPSG:{code}"),
            Crs::Wkt(wkt) => format!("WKT {}", wkt.chars().take(60).collect::<String>()),
        }
    }

    /// The EPSG code, `None` for an unrecognised WKT.
    pub fn epsg(&self) -> Option<u32> {
        match self {
            Crs::Epsg(c) => Some(*c),
            Crs::Wkt(_) => None,
        }
    }

    /// Geographic lon/lat that we store without transformation: CGCS2000 and WGS 84 differ by
    /// less than about 1 m, far below the accuracy of village boundaries.
    pub fn is_lonlat_identity(&self) -> bool {
        matches!(self, Crs::Epsg(EPSG_CGCS2000 | EPSG_WGS84))
    }
}

/// Parses a CRS as users write it: `EPSG:4527`, `4527`, `CRS84`, `OGC:CRS84`,
/// `urn:ogc:def:crs:EPSG::4527`, `http://www.opengis.net/def/crs/EPSG/0/4527`.
pub fn parse_crs(text: &str) -> Result<Crs, CrsError> {
    let t = text.trim();
    let upper = t.to_ascii_uppercase();
    if upper.ends_with("CRS84") {
        return Ok(Crs::Epsg(EPSG_WGS84));
    }
    let digits = if let Some(rest) = upper.strip_prefix("EPSG:") {
        rest
    } else if let Some(pos) = upper.rfind("EPSG::") {
        &upper[pos + 6..]
    } else if let Some(pos) = upper.rfind("/EPSG/0/") {
        &upper[pos + 8..]
    } else {
        &upper
    };
    digits
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|c| (1024..=32767).contains(c))
        .map(Crs::Epsg)
        .ok_or_else(|| CrsError::Unrecognised(t.to_string()))
}

/// A CGCS2000 Gauss–Krüger CRS decoded from its EPSG code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussKruger {
    /// The EPSG code (4491–4554).
    pub epsg: u32,
    /// 3 or 6 (degrees of zone width).
    pub zone_width: u32,
    /// Zone number for prefixed codes (e.g. 39), `None` for the "CM" codes without prefix.
    pub zone: Option<u32>,
    /// The central meridian, degrees east.
    pub central_meridian: f64,
    /// The false easting, metres: 500 000, plus zone × 10⁶ for prefixed codes.
    pub false_easting: f64,
}

/// Decodes an EPSG code in 4491–4554 (CGCS2000 Gauss–Krüger).
pub fn gauss_kruger(epsg: u32) -> Option<GaussKruger> {
    let (zone_width, zone, cm) = match epsg {
        4491..=4501 => {
            let zone = epsg - 4491 + 13;
            (6, Some(zone), 6 * zone - 3)
        }
        4502..=4512 => (6, None, 75 + 6 * (epsg - 4502)),
        4513..=4533 => {
            let zone = epsg - 4513 + 25;
            (3, Some(zone), 3 * zone)
        }
        4534..=4554 => (3, None, 75 + 3 * (epsg - 4534)),
        _ => return None,
    };
    let false_easting = zone.map_or(500_000.0, |z| z as f64 * 1e6 + 500_000.0);
    Some(GaussKruger {
        epsg,
        zone_width,
        zone,
        central_meridian: cm as f64,
        false_easting,
    })
}

/// The non-prefixed CGCS2000 3° Gauss–Krüger code whose central meridian is nearest to `lon`.
pub fn metric_epsg_for_lon(lon: f64) -> u32 {
    let cm = (3.0 * (lon / 3.0).round()).clamp(75.0, 135.0) as u32;
    4534 + (cm - 75) / 3
}

/// What coordinates alone say about their CRS.
#[derive(Debug, Clone, PartialEq)]
pub enum CoordinateGuess {
    /// 8-digit eastings with a zone prefix: this Gauss–Krüger EPSG code.
    PrefixedGaussKruger(u32),
    /// Values in China's lon/lat range (CGCS2000 or WGS 84 — cannot be told apart).
    LonLat,
    /// Values in China's lat/lon range with the axes swapped.
    LatLonSwapped,
    /// Projected metres without a zone prefix: the central meridian is unknown.
    ProjectedWithoutZone,
    /// None of the above (mixed, outside China, or an unknown projection).
    Unknown,
}

/// Guesses the CRS of a sample of (x, y) coordinates. All points must agree.
pub fn guess_from_coordinates(sample: &[Coord<f64>]) -> CoordinateGuess {
    if sample.is_empty() {
        return CoordinateGuess::Unknown;
    }
    let all = |f: &dyn Fn(&Coord<f64>) -> bool| sample.iter().all(f);
    if all(&|c| in_china(c.x, c.y)) {
        return CoordinateGuess::LonLat;
    }
    if all(&|c| in_china(c.y, c.x)) {
        return CoordinateGuess::LatLonSwapped;
    }
    let northing_ok = |y: f64| (300_000.0..6_000_000.0).contains(&y);
    let zone_of = |x: f64| (x / 1e6).floor() as u32;
    let first_zone = zone_of(sample[0].x);
    let same_zone = all(&|c| {
        zone_of(c.x) == first_zone && northing_ok(c.y) && (c.x - first_zone as f64 * 1e6) > 0.0
    });
    if same_zone {
        match first_zone {
            25..=45 => return CoordinateGuess::PrefixedGaussKruger(4513 + first_zone - 25),
            13..=23 => return CoordinateGuess::PrefixedGaussKruger(4491 + first_zone - 13),
            _ => {}
        }
    }
    if all(&|c| (0.0..1_000_000.0).contains(&c.x) && northing_ok(c.y)) {
        return CoordinateGuess::ProjectedWithoutZone;
    }
    CoordinateGuess::Unknown
}

/// Whether (lon, lat) lies in China's box.
pub fn in_china(lon: f64, lat: f64) -> bool {
    (CHINA_LON.0..=CHINA_LON.1).contains(&lon) && (CHINA_LAT.0..=CHINA_LAT.1).contains(&lat)
}

/// Recognises the CRS of an ESRI/OGC WKT (.prj) by its AUTHORITY or by the names ESRI and GDAL
/// write for CGCS2000 (e.g. `CGCS2000_3_Degree_GK_Zone_39`, `CGCS2000_3_Degree_GK_CM_117E`).
/// Unknown WKT is passed on to PROJ as it is.
pub fn crs_from_wkt(wkt: &str) -> Crs {
    let compact: String = wkt.chars().filter(|c| !c.is_whitespace()).collect();
    let upper = compact.to_ascii_uppercase();
    let is_projected = upper.starts_with("PROJCS[") || upper.starts_with("PROJCRS[");
    // WKT1 writes the outermost CRS's AUTHORITY last; WKT2 writes ID["EPSG",N] likewise.
    for marker in ["AUTHORITY[\"EPSG\",", "ID[\"EPSG\","] {
        if let Some(pos) = upper.rfind(marker) {
            let rest = &upper[pos + marker.len()..];
            let end = rest.find(']').unwrap_or(rest.len());
            let digits: String = rest[..end].chars().filter(char::is_ascii_digit).collect();
            if let Ok(code) = digits.parse::<u32>() {
                return Crs::Epsg(code);
            }
        }
    }
    let name_number = |marker: &str| -> Option<u32> {
        let pos = upper.find(marker)?;
        let digits: String = upper[pos + marker.len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    };
    if upper.contains("CGCS2000")
        || upper.contains("CHINA_GEODETIC_COORDINATE_SYSTEM_2000")
        || upper.contains("CHINA_2000")
    {
        if is_projected {
            if let Some(z) = name_number("3_DEGREE_GK_ZONE_")
                && (25..=45).contains(&z)
            {
                return Crs::Epsg(4513 + z - 25);
            }
            if let Some(cm) = name_number("3_DEGREE_GK_CM_")
                && (75..=135).contains(&cm)
                && cm % 3 == 0
            {
                return Crs::Epsg(4534 + (cm - 75) / 3);
            }
            if let Some(z) = name_number("GK_ZONE_")
                && (13..=23).contains(&z)
            {
                return Crs::Epsg(4491 + z - 13);
            }
            if let Some(cm) = name_number("GK_CM_")
                && (75..=135).contains(&cm)
                && (cm - 75) % 6 == 0
            {
                return Crs::Epsg(4502 + (cm - 75) / 6);
            }
        } else {
            return Crs::Epsg(EPSG_CGCS2000);
        }
    }
    if !is_projected
        && (upper.contains("GCS_WGS_1984")
            || upper.contains("\"WGS84\"")
            || upper.contains("WGS_1984"))
    {
        return Crs::Epsg(EPSG_WGS84);
    }
    Crs::Wkt(wkt.trim().to_string())
}

/// Areas of small lon/lat polygons as they measure in a CGCS2000 Gauss–Krüger plane, without
/// projecting any vertex.
///
/// Gauss–Krüger is conformal, so near a point it scales areas by k² and the ellipsoid maps
/// (dφ, dλ) to M·dφ by N·cosφ·dλ metres; the planar area of a polygon in the projection is its
/// lon/lat area times J = k²·M·N·cosφ·(π/180)² taken at its area centroid. It differs from the
/// area of the polygon whose *projected* vertices are joined by straight lines (what a GIS
/// computes) only because edges straight in lon/lat bow slightly in the plane: a relative
/// difference of about 4e-4 × the polygon's size in degrees (1e-7 for a 30 m parcel, 4e-6 for a
/// 1 km one; tested against PROJ). Used for parcels that only need their area. The
/// point scale factor k follows Snyder, *Map Projections: A Working Manual* (1987), eq. 8-11,
/// whose omitted terms are below 1e-7 within a 3° zone. Tests compare with PROJ.
#[derive(Debug, Clone, Copy)]
pub struct GaussKrugerAreaScale {
    central_meridian: f64,
}

impl GaussKrugerAreaScale {
    /// CGCS2000 ellipsoid (= GRS80): semi-major axis and flattening.
    const A: f64 = 6_378_137.0;
    const F: f64 = 1.0 / 298.257_222_101;

    /// The scale for a CGCS2000 Gauss–Krüger EPSG code; `None` for any other CRS.
    pub fn new(epsg: u32) -> Option<GaussKrugerAreaScale> {
        gauss_kruger(epsg).map(|g| GaussKrugerAreaScale {
            central_meridian: g.central_meridian,
        })
    }

    /// Square metres in the projection per square degree of lon/lat at (lon, lat).
    pub fn m2_per_deg2(&self, lon: f64, lat: f64) -> f64 {
        let e2 = Self::F * (2.0 - Self::F);
        let ep2 = e2 / (1.0 - e2);
        let phi = lat.to_radians();
        let (s, c) = phi.sin_cos();
        let w = 1.0 - e2 * s * s;
        let n = Self::A / w.sqrt();
        let m = Self::A * (1.0 - e2) / (w * w.sqrt());
        let a = (lon - self.central_meridian).to_radians() * c;
        let t = (s / c) * (s / c);
        let cc = ep2 * c * c;
        let a2 = a * a;
        let k = 1.0
            + (1.0 + cc) * a2 / 2.0
            + (5.0 - 4.0 * t + 42.0 * cc + 13.0 * cc * cc - 28.0 * ep2) * a2 * a2 / 24.0
            + (61.0 - 148.0 * t + 16.0 * t * t) * a2 * a2 * a2 / 720.0;
        let rad = std::f64::consts::PI / 180.0;
        k * k * m * n * c * rad * rad
    }

    /// The Gauss–Krüger planar area (m²) of a lon/lat multipolygon.
    pub fn area(&self, mp: &geo::MultiPolygon<f64>) -> f64 {
        use geo::{Area, Centroid};
        let degrees = mp.unsigned_area();
        match mp.centroid() {
            Some(c) if degrees > 0.0 => degrees * self.m2_per_deg2(c.x(), c.y()),
            _ => 0.0,
        }
    }
}

/// An EPSG CRS as files describe it: its name, the OGC WKT 1 a GeoPackage stores and the ESRI
/// WKT a Shapefile's .prj holds, both written by PROJ from its database.
pub type CrsDefinition = proj_wkt::Definition;

/// Looks an EPSG code up in PROJ's database.
pub fn epsg_definition(epsg: u32) -> Result<CrsDefinition, CrsError> {
    proj_wkt::epsg(epsg).map_err(|e| {
        CrsError::Unrecognised(match e {
            proj_wkt::LookupError::Unknown => format!("EPSG:{epsg}"),
            proj_wkt::LookupError::NotACrs => {
                format!("EPSG:{epsg} (不是平面或地理坐标系 / not a 2D geographic or projected CRS)")
            }
        })
    })
}

/// A coordinate transformation between two CRSs in visualisation axis order, or the identity.
pub struct Reprojector {
    from: String,
    proj: Option<proj::Proj>,
}

impl Reprojector {
    /// Builds the transformation `from` → `to`; identity when both are the same CRS or both are
    /// CGCS2000/WGS 84 geographic.
    pub fn new(from: &Crs, to: &Crs) -> Result<Reprojector, CrsError> {
        let identity = from == to || (from.is_lonlat_identity() && to.is_lonlat_identity());
        let proj = if identity {
            None
        } else {
            Some(
                proj::Proj::new_known_crs(&from.proj_definition(), &to.proj_definition(), None)
                    .map_err(|e| CrsError::Proj {
                        from: from.label(),
                        to: to.label(),
                        reason: e.to_string(),
                    })?,
            )
        };
        Ok(Reprojector {
            from: from.label(),
            proj,
        })
    }

    /// CGCS2000 lon/lat → the given metric (Gauss–Krüger) EPSG code.
    pub fn to_metric(metric_epsg: u32) -> Result<Reprojector, CrsError> {
        Reprojector::new(&Crs::Epsg(EPSG_CGCS2000), &Crs::Epsg(metric_epsg))
    }

    /// Whether the transformation is the identity (same CRS, or CGCS2000 ↔ WGS 84 lon/lat).
    pub fn is_identity(&self) -> bool {
        self.proj.is_none()
    }

    /// Transforms coordinates in place.
    pub fn transform_coords(&self, coords: &mut [Coord<f64>]) -> Result<(), CrsError> {
        let Some(proj) = &self.proj else {
            return Ok(());
        };
        let mut pairs: Vec<(f64, f64)> = coords.iter().map(|c| (c.x, c.y)).collect();
        proj.convert_array(&mut pairs)
            .map_err(|e| CrsError::Transform {
                from: self.from.clone(),
                reason: e.to_string(),
            })?;
        for (c, (x, y)) in coords.iter_mut().zip(pairs) {
            if !x.is_finite() || !y.is_finite() {
                return Err(CrsError::Transform {
                    from: self.from.clone(),
                    reason: format!("({}, {}) is outside the projection's domain", c.x, c.y),
                });
            }
            *c = Coord { x, y };
        }
        Ok(())
    }

    /// Transforms every coordinate of a geometry in one PROJ call.
    pub fn transform_geometry(&self, geom: &mut Geometry<f64>) -> Result<(), CrsError> {
        if self.proj.is_none() {
            return Ok(());
        }
        let mut coords = Vec::new();
        for_each_coord_mut(geom, &mut |c| coords.push(*c));
        self.transform_coords(&mut coords)?;
        let mut it = coords.into_iter();
        for_each_coord_mut(geom, &mut |c| {
            if let Some(n) = it.next() {
                *c = n;
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn epsg_codes_decode_to_zones() {
        let z39 = gauss_kruger(4527).unwrap();
        assert_eq!(
            (z39.zone, z39.central_meridian, z39.false_easting),
            (Some(39), 117.0, 39_500_000.0)
        );
        let cm117 = gauss_kruger(4548).unwrap();
        assert_eq!(
            (cm117.zone, cm117.central_meridian, cm117.false_easting),
            (None, 117.0, 500_000.0)
        );
        assert_eq!(gauss_kruger(4513).unwrap().zone, Some(25));
        assert_eq!(gauss_kruger(4554).unwrap().central_meridian, 135.0);
        assert_eq!(gauss_kruger(4491).unwrap().central_meridian, 75.0);
        assert_eq!(gauss_kruger(4512).unwrap().central_meridian, 135.0);
        assert!(gauss_kruger(4490).is_none() && gauss_kruger(4555).is_none());
        assert_eq!(metric_epsg_for_lon(118.1), 4548);
        assert_eq!(metric_epsg_for_lon(106.8), 4545);
    }

    #[test]
    fn area_scale_matches_projected_areas() {
        use geo::{Area, MultiPolygon, polygon};
        let scale = GaussKrugerAreaScale::new(4548).unwrap();
        let to_metric = Reprojector::to_metric(4548).unwrap();
        // Parcels across the zone (CM 117°E), from the meridian to 1.5° off it, 30 m to 1 km wide.
        for (lon, lat, size) in [
            (117.0, 36.0, 0.001),
            (117.0, 36.0, 0.0001),
            (117.0, 36.0, 0.01),
            (118.2, 36.1, 0.0003),
            (118.49, 35.9, 0.002),
            (115.6, 36.4, 0.01),
        ] {
            let p = polygon![(x: lon, y: lat), (x: lon + size, y: lat + size * 0.1), (x: lon + size * 0.8, y: lat + size), (x: lon - size * 0.2, y: lat + size * 0.7)];
            let mp = MultiPolygon(vec![p]);
            let mut projected = Geometry::MultiPolygon(mp.clone());
            to_metric.transform_geometry(&mut projected).unwrap();
            let exact = projected.unsigned_area();
            let fast = scale.area(&mp);
            // The two differ only in which edges are straight (lon/lat or plane): a relative
            // difference ≈ 4e-4 × size in degrees (1e-7 for a 30 m parcel).
            let relative = ((fast - exact) / exact).abs();
            assert!(
                relative < 5e-4 * size,
                "{lon},{lat} size {size}: {fast} vs PROJ {exact}"
            );
        }
        assert!(GaussKrugerAreaScale::new(4490).is_none());
    }

    #[test]
    fn crs_text_forms_parse() {
        assert_eq!(parse_crs("EPSG:4527").unwrap(), Crs::Epsg(4527));
        assert_eq!(parse_crs("4490").unwrap(), Crs::Epsg(4490));
        assert_eq!(
            parse_crs("urn:ogc:def:crs:EPSG::4548").unwrap(),
            Crs::Epsg(4548)
        );
        assert_eq!(
            parse_crs("http://www.opengis.net/def/crs/EPSG/0/4513").unwrap(),
            Crs::Epsg(4513)
        );
        assert_eq!(parse_crs("OGC:CRS84").unwrap(), Crs::Epsg(4326));
        assert!(parse_crs("EPSG:abc").is_err());
        assert!(parse_crs("wgs").is_err());
    }

    #[test]
    fn coordinates_reveal_prefixed_zones_and_swaps() {
        let c = |x, y| Coord { x, y };
        assert_eq!(
            guess_from_coordinates(&[c(39_512_345.0, 4_001_000.0)]),
            CoordinateGuess::PrefixedGaussKruger(4527)
        );
        assert_eq!(
            guess_from_coordinates(&[c(20_512_345.0, 4_001_000.0)]),
            CoordinateGuess::PrefixedGaussKruger(4498)
        );
        assert_eq!(
            guess_from_coordinates(&[c(118.1, 36.1)]),
            CoordinateGuess::LonLat
        );
        assert_eq!(
            guess_from_coordinates(&[c(36.1, 118.1)]),
            CoordinateGuess::LatLonSwapped
        );
        assert_eq!(
            guess_from_coordinates(&[c(512_345.0, 4_001_000.0)]),
            CoordinateGuess::ProjectedWithoutZone
        );
        assert_eq!(
            guess_from_coordinates(&[c(-5.0, 1e9)]),
            CoordinateGuess::Unknown
        );
    }

    #[test]
    fn esri_prj_names_are_recognised() {
        let z39 = r#"PROJCS["CGCS2000_3_Degree_GK_Zone_39",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",39500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        assert_eq!(crs_from_wkt(z39), Crs::Epsg(4527));
        let cm = z39.replace("3_Degree_GK_Zone_39", "3_Degree_GK_CM_117E");
        assert_eq!(crs_from_wkt(&cm), Crs::Epsg(4548));
        let geo = r#"GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        assert_eq!(crs_from_wkt(geo), Crs::Epsg(4490));
        let with_auth =
            r#"PROJCS["x",GEOGCS["y",AUTHORITY["EPSG","4490"]],AUTHORITY["EPSG","4527"]]"#;
        assert_eq!(crs_from_wkt(with_auth), Crs::Epsg(4527));
    }
}
