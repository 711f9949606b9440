//! Mapbox Vector Tiles (specification 2.1) from lon/lat or Web Mercator features.
//!
//! Tile math (XYZ scheme, Web Mercator), clipping to the tile grown by a buffer, quantising to
//! the tile's integer grid, ring orientation as the specification wants it (exterior rings
//! clockwise in tile coordinates, i.e. positive area with y pointing down; holes the other way),
//! and encoding through the `mvt` crate (commands, zig-zag deltas, tag tables).
//!
//! Clipping is Sutherland–Hodgman for rings and Liang–Barsky for lines. The intersection of an
//! edge with the clip line is computed from its endpoints in a canonical order, so the two
//! villages that share an edge get the same clipped vertex; after quantising, identical inputs
//! give identical tile coordinates. Together with [`super::simplify`] this keeps shared borders
//! free of cracks at every zoom.

use geo::{Coord, Geometry, LineString, Polygon};
use mvt::{GeomEncoder, GeomType};

use crate::domain::Value;

/// Tile coordinate resolution (the specification's default).
pub const EXTENT: u32 = 4096;
/// Extra tile units drawn around each tile so that strokes and labels at the edges join up.
pub const BUFFER: f64 = 64.0;
/// The deepest zoom served.
pub const MAX_ZOOM: u8 = 22;
/// Latitude limit of Web Mercator.
const MAX_LAT: f64 = 85.051_128_779_806_59;

/// Why a tile cannot be addressed or encoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TileError {
    /// The zoom (given) is outside 0..=[`MAX_ZOOM`].
    #[error("z={0} is outside 0..={MAX_ZOOM}")]
    Zoom(i64),
    /// A column or row is outside the zoom's grid (0..2^z).
    #[error("{axis}={value} is outside 0..={max} at z={z}")]
    Column {
        /// `x` or `y`.
        axis: &'static str,
        /// The value given.
        value: i64,
        /// The largest valid value at this zoom (2^z − 1).
        max: i64,
        /// The tile's zoom.
        z: u8,
    },
    /// The MVT encoder failed (its message).
    #[error("cannot encode the tile: {0}")]
    Encode(String),
}

/// One tile of the XYZ scheme (y counted from the north).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Zoom level, 0..=[`MAX_ZOOM`].
    pub z: u8,
    /// Column, 0..2^z from the west (180° W).
    pub x: u32,
    /// Row, 0..2^z from the north.
    pub y: u32,
}

impl TileId {
    /// Checks the ranges: 0 ≤ z ≤ [`MAX_ZOOM`], 0 ≤ x, y < 2^z.
    pub fn new(z: i64, x: i64, y: i64) -> Result<TileId, TileError> {
        if !(0..=MAX_ZOOM as i64).contains(&z) {
            return Err(TileError::Zoom(z));
        }
        let n = 1i64 << z;
        for (axis, value) in [("x", x), ("y", y)] {
            if !(0..n).contains(&value) {
                return Err(TileError::Column {
                    axis,
                    value,
                    max: n - 1,
                    z: z as u8,
                });
            }
        }
        Ok(TileId {
            z: z as u8,
            x: x as u32,
            y: y as u32,
        })
    }

    /// The tile grown by `buffer` tile units, in lon/lat: (west, south, east, north).
    pub fn lonlat_bounds(&self, buffer: f64) -> [f64; 4] {
        let n = (1u64 << self.z) as f64;
        let pad = buffer / EXTENT as f64;
        let (x0, x1) = ((self.x as f64 - pad) / n, (self.x as f64 + 1.0 + pad) / n);
        let (y0, y1) = ((self.y as f64 - pad) / n, (self.y as f64 + 1.0 + pad) / n);
        [
            x0 * 360.0 - 180.0,
            lat_of_unit_y(y1.min(1.0)),
            x1 * 360.0 - 180.0,
            lat_of_unit_y(y0.max(0.0)),
        ]
    }

    /// The tile that holds a lon/lat point at zoom `z`.
    pub fn containing(lon: f64, lat: f64, z: u8) -> TileId {
        let u = mercator_unit(Coord { x: lon, y: lat });
        let n = (1u64 << z) as f64;
        let clamp = |v: f64| (v * n).floor().clamp(0.0, n - 1.0) as u32;
        TileId {
            z,
            x: clamp(u.x),
            y: clamp(u.y),
        }
    }
}

/// Web Mercator in world units: x from 0 (180° W) to 1 (180° E), y from 0 (north) to 1 (south).
pub fn mercator_unit(c: Coord<f64>) -> Coord<f64> {
    let lat = c.y.clamp(-MAX_LAT, MAX_LAT).to_radians();
    Coord {
        x: (c.x + 180.0) / 360.0,
        y: (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0,
    }
}

/// Latitude (degrees) of a Web Mercator world-unit y.
pub fn lat_of_unit_y(y: f64) -> f64 {
    (std::f64::consts::PI * (1.0 - 2.0 * y))
        .sinh()
        .atan()
        .to_degrees()
}

/// How a layer's coordinates are given to [`TileEncoder::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoordSpace {
    /// Longitude/latitude degrees (EPSG:4490 / CRS84).
    LonLat,
    /// [`mercator_unit`] coordinates (pre-simplified geometries are kept in these).
    MercatorUnit,
}

/// Builds one layer of one tile.
pub struct TileEncoder {
    tile: mvt::Tile,
    layer: Option<mvt::Layer>,
    scale: f64,
    origin: Coord<f64>,
    lo: f64,
    hi: f64,
    features: usize,
}

impl TileEncoder {
    /// Starts an empty tile `tile` with one layer named `layer_name` (extent [`EXTENT`], buffer
    /// [`BUFFER`]).
    pub fn new(tile: TileId, layer_name: &str) -> TileEncoder {
        let t = mvt::Tile::new(EXTENT);
        let layer = t.create_layer(layer_name);
        let scale = (1u64 << tile.z) as f64 * EXTENT as f64;
        TileEncoder {
            tile: t,
            layer: Some(layer),
            scale,
            origin: Coord {
                x: tile.x as f64 * EXTENT as f64,
                y: tile.y as f64 * EXTENT as f64,
            },
            lo: -BUFFER,
            hi: EXTENT as f64 + BUFFER,
            features: 0,
        }
    }

    /// Features added so far that left something in the tile.
    pub fn feature_count(&self) -> usize {
        self.features
    }

    fn to_tile(&self, c: Coord<f64>, space: CoordSpace) -> Coord<f64> {
        let u = match space {
            CoordSpace::LonLat => mercator_unit(c),
            CoordSpace::MercatorUnit => c,
        };
        Coord {
            x: u.x * self.scale - self.origin.x,
            y: u.y * self.scale - self.origin.y,
        }
    }

    /// Clips, quantises and adds one feature with its tags (`Null` values are left out).
    /// Returns whether anything of it landed in the tile.
    pub fn add(
        &mut self,
        id: u64,
        geometry: &Geometry<f64>,
        space: CoordSpace,
        tags: &mut dyn Iterator<Item = (&str, &Value)>,
    ) -> Result<bool, TileError> {
        let encoded = match geometry {
            Geometry::Point(p) => self.points(&[p.0], space),
            Geometry::MultiPoint(mp) => {
                let v: Vec<Coord<f64>> = mp.0.iter().map(|p| p.0).collect();
                self.points(&v, space)
            }
            Geometry::LineString(ls) => self.lines(std::slice::from_ref(ls), space),
            Geometry::MultiLineString(mls) => self.lines(&mls.0, space),
            Geometry::Polygon(p) => self.polygons(std::slice::from_ref(p), space),
            Geometry::MultiPolygon(mp) => self.polygons(&mp.0, space),
            _ => None,
        };
        let Some(encoder) = encoded else {
            return Ok(false);
        };
        let data = encoder
            .encode()
            .map_err(|e| TileError::Encode(e.to_string()))?;
        let layer = self.layer.take().expect("layer present between calls");
        let mut feature = layer.into_feature(data);
        feature.set_id(id);
        for (name, value) in tags {
            match value {
                Value::Null => {}
                Value::Bool(b) => feature.add_tag_bool(name, *b),
                Value::Int(i) => feature.add_tag_sint(name, *i),
                Value::Real(r) => feature.add_tag_double(name, *r),
                Value::Text(s) => feature.add_tag_string(name, s),
            }
        }
        self.layer = Some(feature.into_layer());
        self.features += 1;
        Ok(true)
    }

    /// The encoded tile, or `None` when no feature landed in it.
    pub fn finish(mut self) -> Result<Option<Vec<u8>>, TileError> {
        if self.features == 0 {
            return Ok(None);
        }
        let layer = self.layer.take().expect("layer present");
        self.tile
            .add_layer(layer)
            .map_err(|e| TileError::Encode(e.to_string()))?;
        self.tile
            .to_bytes()
            .map(Some)
            .map_err(|e| TileError::Encode(e.to_string()))
    }

    fn inside(&self, c: Coord<f64>) -> bool {
        c.x >= self.lo && c.x <= self.hi && c.y >= self.lo && c.y <= self.hi
    }

    fn points(&self, points: &[Coord<f64>], space: CoordSpace) -> Option<GeomEncoder<i32>> {
        let mut enc = GeomEncoder::new(GeomType::Point);
        let mut any = false;
        for &p in points {
            let t = self.to_tile(p, space);
            if self.inside(t) {
                enc.add_point(t.x.round() as i32, t.y.round() as i32).ok()?;
                any = true;
            }
        }
        any.then_some(enc)
    }

    fn lines(&self, lines: &[LineString<f64>], space: CoordSpace) -> Option<GeomEncoder<i32>> {
        let mut enc = GeomEncoder::new(GeomType::Linestring);
        let mut any = false;
        for ls in lines {
            let tile: Vec<Coord<f64>> = ls.0.iter().map(|&c| self.to_tile(c, space)).collect();
            for part in clip_line(&tile, self.lo, self.hi) {
                let q = quantise(&part);
                if q.len() < 2 {
                    continue;
                }
                for (x, y) in q {
                    enc.add_point(x, y).ok()?;
                }
                enc.complete_geom().ok()?;
                any = true;
            }
        }
        any.then_some(enc)
    }

    fn polygons(&self, polygons: &[Polygon<f64>], space: CoordSpace) -> Option<GeomEncoder<i32>> {
        let mut enc = GeomEncoder::new(GeomType::Polygon);
        let mut any = false;
        for polygon in polygons {
            let mut rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
            let exterior = rings.next().and_then(|r| self.tile_ring(r, space, true));
            let Some(exterior) = exterior else {
                continue;
            };
            let holes: Vec<Vec<(i32, i32)>> = rings
                .filter_map(|r| self.tile_ring(r, space, false))
                .collect();
            for ring in std::iter::once(exterior).chain(holes) {
                for (x, y) in ring {
                    enc.add_point(x, y).ok()?;
                }
                enc.complete_geom().ok()?;
            }
            any = true;
        }
        any.then_some(enc)
    }

    /// One ring clipped, quantised and oriented (open: without the closing vertex); `None` when
    /// nothing with an area is left.
    fn tile_ring(
        &self,
        ring: &LineString<f64>,
        space: CoordSpace,
        exterior: bool,
    ) -> Option<Vec<(i32, i32)>> {
        let tile: Vec<Coord<f64>> = ring.0.iter().map(|&c| self.to_tile(c, space)).collect();
        // Rings wholly inside skip the clipper.
        let clipped = if tile.iter().all(|&c| self.inside(c)) {
            tile
        } else {
            clip_ring(&tile, self.lo, self.hi)
        };
        let mut q = quantise(&clipped);
        while q.len() > 1 && q[0] == q[q.len() - 1] {
            q.pop();
        }
        if q.len() < 3 {
            return None;
        }
        let area2 = signed_area2(&q);
        if area2 == 0 {
            return None;
        }
        // Exterior rings positive (clockwise on screen), holes negative.
        if (area2 > 0) != exterior {
            q.reverse();
        }
        Some(q)
    }
}

/// Rounds to the integer grid and drops repeated vertices.
fn quantise(coords: &[Coord<f64>]) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = Vec::with_capacity(coords.len());
    for c in coords {
        let p = (c.x.round() as i32, c.y.round() as i32);
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    out
}

/// Twice the signed area by the specification's formula (positive = exterior).
fn signed_area2(ring: &[(i32, i32)]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            a.0 as i64 * b.1 as i64 - b.0 as i64 * a.1 as i64
        })
        .sum()
}

#[derive(Clone, Copy)]
enum Edge {
    Left,
    Right,
    Top,
    Bottom,
}

impl Edge {
    fn inside(self, c: Coord<f64>, lo: f64, hi: f64) -> bool {
        match self {
            Edge::Left => c.x >= lo,
            Edge::Right => c.x <= hi,
            Edge::Top => c.y >= lo,
            Edge::Bottom => c.y <= hi,
        }
    }

    /// Where segment a–b meets this edge's line, computed from the endpoints in a canonical
    /// order so that a–b and b–a give the same point.
    fn cut(self, a: Coord<f64>, b: Coord<f64>, lo: f64, hi: f64) -> Coord<f64> {
        let (a, b) = if (a.x, a.y) <= (b.x, b.y) {
            (a, b)
        } else {
            (b, a)
        };
        match self {
            Edge::Left | Edge::Right => {
                let x = if matches!(self, Edge::Left) { lo } else { hi };
                let t = (x - a.x) / (b.x - a.x);
                Coord {
                    x,
                    y: a.y + t * (b.y - a.y),
                }
            }
            Edge::Top | Edge::Bottom => {
                let y = if matches!(self, Edge::Top) { lo } else { hi };
                let t = (y - a.y) / (b.y - a.y);
                Coord {
                    x: a.x + t * (b.x - a.x),
                    y,
                }
            }
        }
    }
}

/// Sutherland–Hodgman clipping of a closed ring to the square [lo, hi]².
fn clip_ring(ring: &[Coord<f64>], lo: f64, hi: f64) -> Vec<Coord<f64>> {
    let mut input: Vec<Coord<f64>> = ring.to_vec();
    if input.len() > 1 && input[0] == input[input.len() - 1] {
        input.pop();
    }
    for edge in [Edge::Left, Edge::Right, Edge::Top, Edge::Bottom] {
        if input.is_empty() {
            break;
        }
        let mut output = Vec::with_capacity(input.len() + 4);
        for i in 0..input.len() {
            let current = input[i];
            let previous = input[(i + input.len() - 1) % input.len()];
            let (cin, pin) = (edge.inside(current, lo, hi), edge.inside(previous, lo, hi));
            if cin {
                if !pin {
                    output.push(edge.cut(previous, current, lo, hi));
                }
                output.push(current);
            } else if pin {
                output.push(edge.cut(previous, current, lo, hi));
            }
        }
        input = output;
    }
    input
}

/// Liang–Barsky clipping of a polyline to the square [lo, hi]²: the parts inside.
fn clip_line(line: &[Coord<f64>], lo: f64, hi: f64) -> Vec<Vec<Coord<f64>>> {
    let mut parts: Vec<Vec<Coord<f64>>> = Vec::new();
    let mut current: Vec<Coord<f64>> = Vec::new();
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        let mut visible = true;
        for (p, q) in [
            (-dx, a.x - lo),
            (dx, hi - a.x),
            (-dy, a.y - lo),
            (dy, hi - a.y),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    visible = false;
                    break;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
                if t0 > t1 {
                    visible = false;
                    break;
                }
            }
        }
        if !visible {
            if current.len() > 1 {
                parts.push(std::mem::take(&mut current));
            }
            current.clear();
            continue;
        }
        let start = Coord {
            x: a.x + t0 * dx,
            y: a.y + t0 * dy,
        };
        let end = Coord {
            x: a.x + t1 * dx,
            y: a.y + t1 * dy,
        };
        if current.is_empty() {
            current.push(start);
        }
        current.push(end);
        if t1 < 1.0 {
            parts.push(std::mem::take(&mut current));
        }
    }
    if current.len() > 1 {
        parts.push(current);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, polygon};

    #[test]
    fn tile_ranges() {
        assert!(TileId::new(0, 0, 0).is_ok());
        assert_eq!(TileId::new(23, 0, 0), Err(TileError::Zoom(23)));
        assert_eq!(TileId::new(-1, 0, 0), Err(TileError::Zoom(-1)));
        assert!(matches!(
            TileId::new(3, 8, 0),
            Err(TileError::Column { axis: "x", .. })
        ));
        assert!(matches!(
            TileId::new(3, 0, -1),
            Err(TileError::Column { axis: "y", .. })
        ));
        assert!(TileId::new(22, (1 << 22) - 1, 0).is_ok());
    }

    #[test]
    fn mercator_round_trip_and_known_tile() {
        // 沂源 (118.17° E, 36.18° N) at z10 lies in tile 848/401 (checked with the usual
        // slippy-map formulas).
        assert_eq!(
            TileId::containing(118.17, 36.18, 10),
            TileId {
                z: 10,
                x: 848,
                y: 401
            }
        );
        let b = TileId::new(10, 848, 401).unwrap().lonlat_bounds(0.0);
        assert!(b[0] < 118.17 && 118.17 < b[2] && b[1] < 36.18 && 36.18 < b[3]);
        let u = mercator_unit(coord! {x: 118.17, y: 36.18});
        assert!((lat_of_unit_y(u.y) - 36.18).abs() < 1e-9);
    }

    #[test]
    fn ring_clipping_is_symmetric_for_shared_edges() {
        let (a, b) = (coord! {x: -100.0, y: 10.3}, coord! {x: 50.7, y: 2000.1});
        for e in [Edge::Left, Edge::Top] {
            assert_eq!(e.cut(a, b, -64.0, 4160.0), e.cut(b, a, -64.0, 4160.0));
        }
        let square = vec![
            coord! {x: -200.0, y: -200.0},
            coord! {x: 100.0, y: -200.0},
            coord! {x: 100.0, y: 100.0},
            coord! {x: -200.0, y: 100.0},
        ];
        let clipped = clip_ring(&square, -64.0, 4160.0);
        let q = quantise(&clipped);
        assert_eq!(signed_area2(&q).abs(), 2 * 164 * 164);
    }

    #[test]
    fn line_clipping_splits_parts() {
        let line = vec![
            coord! {x: -100.0, y: 0.0},
            coord! {x: 100.0, y: 0.0},
            coord! {x: 100.0, y: -200.0},
            coord! {x: 200.0, y: -200.0},
            coord! {x: 200.0, y: 50.0},
        ];
        let parts = clip_line(&line, -64.0, 4160.0);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0][0], coord! {x: -64.0, y: 0.0});
        assert_eq!(parts[1].last(), Some(&coord! {x: 200.0, y: 50.0}));
    }

    #[test]
    fn polygon_orientation_follows_the_specification() {
        let tile = TileId::new(0, 0, 0).unwrap();
        // Counter-clockwise in lon/lat (y up) with a clockwise hole.
        let p = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 40.0, y: 0.0), (x: 40.0, y: 40.0), (x: 0.0, y: 40.0)],
            interiors: [[(x: 10.0, y: 10.0), (x: 10.0, y: 30.0), (x: 30.0, y: 30.0), (x: 30.0, y: 10.0)]],
        );
        let enc = TileEncoder::new(tile, "t");
        let ext = enc
            .tile_ring(p.exterior(), CoordSpace::LonLat, true)
            .unwrap();
        let hole = enc
            .tile_ring(&p.interiors()[0], CoordSpace::LonLat, false)
            .unwrap();
        assert!(signed_area2(&ext) > 0);
        assert!(signed_area2(&hole) < 0);
        // A ring smaller than a tile unit vanishes.
        let speck = polygon![(x: 0.0, y: 0.0), (x: 0.001, y: 0.0), (x: 0.001, y: 0.001)];
        assert!(
            enc.tile_ring(speck.exterior(), CoordSpace::LonLat, true)
                .is_none()
        );
    }

    #[test]
    fn empty_tile_is_none() {
        let enc = TileEncoder::new(TileId::new(5, 0, 0).unwrap(), "t");
        assert_eq!(enc.finish().unwrap(), None);
        let mut enc = TileEncoder::new(TileId::new(5, 0, 0).unwrap(), "t");
        let far = Geometry::Point(geo::Point::new(118.0, 36.0));
        assert!(
            !enc.add(1, &far, CoordSpace::LonLat, &mut std::iter::empty())
                .unwrap()
        );
        assert_eq!(enc.finish().unwrap(), None);
    }
}
