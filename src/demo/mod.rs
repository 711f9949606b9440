//! The demo county: a deterministic, real-looking 沂源县 built on real reference data.
//!
//! **Real** (from `data/reference/`, see data/README.md): the county outline (1,636 km²), the
//! 12 townships and the 468 villages with their names and 12-digit NBS codes (2023).
//! **Generated**: every village polygon, population, income, industry and strength, the 三调
//! parcels, greenhouses, facilities, non-village members and roads.
//!
//! Parameters: [`DemoParams`] (seed, reference directory, number of parcels, share of parcels
//! that carry a ZLDWDM). Returns a [`DemoSummary`]; writes RFC 7946 GeoJSON files
//! (`villages`, `parcels`, `greenhouses`, `facilities`, `members`, `roads`) into the output
//! directory, streaming, so a million parcels never sit in memory as JSON.
//!
//! Algorithm:
//! 1. Work in a local metric plane around the county centre (equirectangular, metres).
//! 2. Townships: 12 seeds spread by best-candidate sampling; a dense sample of points in the
//!    county is split among them by an additively weighted nearest-seed rule whose weights are
//!    tuned until each township's share matches its number of villages.
//! 3. Villages: each township's village seeds are spread over its share of the sample
//!    (best-candidate); one Voronoi diagram of all seeds, each cell clipped to the county, and
//!    vertices closer than 1 mm merged so neighbours share bit-identical borders. A township
//!    whose villages are not contiguous is redrawn with the next seed (deterministic retry).
//! 4. Attributes: heavy-tailed population (log-normal) and collective income (the top ~12 % are
//!    strong villages), industries clustered by township.
//! 5. Parcels: a square grid sized for `target_parcels`; cells inside a village are whole
//!    parcels, cells on its border are cut exactly by the village polygon. Land use follows an
//!    elevation-like smooth noise field (forest on the heights, orchards on slopes, cropland in
//!    valleys, water in the lowest bands) and 农村宅基地 clusters around the village centre.
//! 6. Greenhouses in rows in vegetable/mushroom villages; facilities near village centres;
//!    members (enterprises, communities, schools); county, township and village roads (`roads`).
//!
//! Complexity: O(v log v) for v villages plus O(p) for p parcels (one boolean intersection per
//! border cell). Same seed ⇒ byte-identical files.
//!
//! ```no_run
//! use liancun::demo::{DemoParams, generate};
//! let summary = generate(&DemoParams::default(), std::path::Path::new("data/demo")).unwrap();
//! assert_eq!(summary.villages, 468);
//! ```

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use geo::{
    Area, BooleanOps, BoundingRect, Contains, Coord, LineString, MultiPolygon, Point, Polygon,
    Rect, Voronoi,
};
use rstar::{AABB, RTree};
use serde_json::{Value as Json, json};
use thiserror::Error;

use crate::engine::random::Rng;

mod roads;

/// Why the demo county could not be generated.
#[derive(Debug, Error)]
pub enum DemoError {
    /// An output file or directory cannot be written.
    #[error("cannot write {path}: {reason}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's message.
        reason: String,
    },
    /// A reference file (county outline, village list) is missing or unreadable.
    #[error("reference data {file}: {reason}")]
    BadReference {
        /// The reference file concerned.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// No draw of township seeds gave every township contiguous villages within this many attempts.
    #[error("could not draw contiguous townships after {0} attempts")]
    NoContiguousTowns(u32),
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoParams {
    /// Seed of the generator: the same seed gives byte-identical files.
    pub seed: u64,
    /// Directory with `yiyuan_370323_county.geojson` and `villages_370323_nbs2023.csv`.
    pub reference_dir: PathBuf,
    /// About this many parcels over the whole county.
    pub target_parcels: usize,
    /// Share of parcels that carry a ZLDWDM (the rest must be placed by geometry).
    pub with_zldwdm_share: f64,
}

impl Default for DemoParams {
    fn default() -> Self {
        DemoParams {
            seed: 2026,
            reference_dir: PathBuf::from("data/reference"),
            target_parcels: 20_000,
            with_zldwdm_share: 0.9,
        }
    }
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DemoSummary {
    /// Villages written (468 with the reference data).
    pub villages: usize,
    /// Townships (12 with the reference data).
    pub towns: usize,
    /// Parcels written.
    pub parcels: usize,
    /// Greenhouses written.
    pub greenhouses: usize,
    /// Facilities written.
    pub facilities: usize,
    /// Non-village members written (enterprises, communities, schools).
    pub members: usize,
    /// Road lines written.
    pub roads: usize,
    /// The GeoJSON files written, in the order above.
    pub files: Vec<PathBuf>,
}

/// A real village from the reference list.
#[derive(Debug, Clone)]
struct VillageRef {
    town_code: String,
    town: String,
    code: String,
    name: String,
    is_community: bool,
}

/// The local metric plane (metres) around the county centre.
#[derive(Debug, Clone, Copy)]
struct Plane {
    lon0: f64,
    lat0: f64,
    kx: f64,
    ky: f64,
}

impl Plane {
    fn new(lon0: f64, lat0: f64) -> Plane {
        Plane {
            lon0,
            lat0,
            kx: 111_320.0 * lat0.to_radians().cos(),
            ky: 110_574.0,
        }
    }
    fn to_xy(self, lon: f64, lat: f64) -> Coord<f64> {
        Coord {
            x: (lon - self.lon0) * self.kx,
            y: (lat - self.lat0) * self.ky,
        }
    }
    /// A lon/lat multipolygon in the plane.
    fn project(self, mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
        let ring =
            |ls: &LineString<f64>| LineString(ls.0.iter().map(|c| self.to_xy(c.x, c.y)).collect());
        MultiPolygon(
            mp.0.iter()
                .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
                .collect(),
        )
    }

    /// Back to lon/lat, rounded to 1e-7° (about 1 cm): equal inputs give equal outputs.
    fn to_lonlat(self, c: Coord<f64>) -> [f64; 2] {
        let r = |v: f64| (v * 1e7).round() / 1e7;
        [r(self.lon0 + c.x / self.kx), r(self.lat0 + c.y / self.ky)]
    }
}

const INDUSTRIES: [&str; 8] = [
    "苹果",
    "蔬菜",
    "食用菌",
    "桃",
    "畜牧",
    "乡村旅游",
    "粮食",
    "工业",
];

/// Display name of an NBS village entry: 朱家户村委会 → 朱家户村, 历山居委会 → 历山社区.
fn display_name(official: &str) -> (String, bool) {
    let mut n = official.to_string();
    for suffix in [
        "社区居民委员会",
        "社区居委会",
        "村民委员会",
        "居民委员会",
        "村委会",
        "居委会",
    ] {
        if let Some(stem) = official.strip_suffix(suffix) {
            let community = suffix.contains('居');
            n = if community {
                if stem.ends_with("社区") {
                    stem.to_string()
                } else {
                    format!("{stem}社区")
                }
            } else if stem.ends_with('村') {
                stem.to_string()
            } else {
                format!("{stem}村")
            };
            return (n, community);
        }
    }
    (n, false)
}

fn read_reference(dir: &Path) -> Result<(MultiPolygon<f64>, Vec<VillageRef>), DemoError> {
    let outline_path = dir.join("yiyuan_370323_county.geojson");
    let bad = |file: &Path, reason: String| DemoError::BadReference {
        file: file.to_path_buf(),
        reason,
    };
    let text =
        std::fs::read_to_string(&outline_path).map_err(|e| bad(&outline_path, e.to_string()))?;
    let fc: geojson::FeatureCollection = text
        .parse()
        .map_err(|e: geojson::Error| bad(&outline_path, e.to_string()))?;
    let geometry = fc
        .features
        .first()
        .and_then(|f| f.geometry.clone())
        .ok_or_else(|| bad(&outline_path, "no feature".into()))?;
    let outline: geo::Geometry<f64> = geometry
        .try_into()
        .map_err(|e: geojson::Error| bad(&outline_path, e.to_string()))?;
    let outline = crate::engine::geometry::to_multipolygon(outline)
        .ok_or_else(|| bad(&outline_path, "the outline is not a polygon".into()))?;

    let csv_path = dir.join("villages_370323_nbs2023.csv");
    let mut reader =
        csv::Reader::from_path(&csv_path).map_err(|e| bad(&csv_path, e.to_string()))?;
    let mut villages = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| bad(&csv_path, e.to_string()))?;
        let (name, is_community) = display_name(&row[5]);
        villages.push(VillageRef {
            town_code: row[2].to_string(),
            town: row[3].to_string(),
            code: row[4].to_string(),
            name,
            is_community,
        });
    }
    if villages.is_empty() {
        return Err(bad(&csv_path, "no villages".into()));
    }
    Ok((outline, villages))
}

/// A smooth pseudo-elevation in [0, 1]: a few random plane waves.
struct Terrain {
    waves: Vec<(f64, f64, f64, f64)>,
}

impl Terrain {
    fn new(rng: &mut Rng) -> Terrain {
        let waves = (0..6)
            .map(|i| {
                let wavelength = 4_000.0 + 14_000.0 * rng.next_f64() / (1.0 + i as f64 * 0.4);
                let angle = rng.next_f64() * std::f64::consts::TAU;
                let k = std::f64::consts::TAU / wavelength;
                (
                    k * angle.cos(),
                    k * angle.sin(),
                    rng.next_f64() * std::f64::consts::TAU,
                    1.0 / (1.0 + i as f64),
                )
            })
            .collect();
        Terrain { waves }
    }
    fn at(&self, c: Coord<f64>) -> f64 {
        let (mut v, mut total) = (0.0, 0.0);
        for (kx, ky, phase, weight) in &self.waves {
            v += weight * (kx * c.x + ky * c.y + phase).sin();
            total += weight;
        }
        0.5 + 0.5 * v / total
    }
}

/// Best-candidate sampling: `n` well-spread points chosen among `candidates` (in order).
fn spread_points(
    candidates: &[Coord<f64>],
    n: usize,
    rng: &mut Rng,
    tries: usize,
) -> Vec<Coord<f64>> {
    let mut chosen: Vec<Coord<f64>> = Vec::with_capacity(n);
    let mut tree: RTree<[f64; 2]> = RTree::new();
    while chosen.len() < n && !candidates.is_empty() {
        let mut best = candidates[rng.below(candidates.len())];
        let mut best_d = -1.0;
        for _ in 0..tries {
            let c = candidates[rng.below(candidates.len())];
            let d = tree
                .nearest_neighbor(&[c.x, c.y])
                .map_or(f64::INFINITY, |p| (p[0] - c.x).hypot(p[1] - c.y));
            if d > best_d {
                best_d = d;
                best = c;
            }
        }
        tree.insert([best.x, best.y]);
        chosen.push(best);
    }
    chosen
}

/// Merges vertices closer than `tolerance` (metres) to one representative, so that neighbouring
/// cells clipped separately share bit-identical vertices.
struct VertexSnapper {
    cells: std::collections::HashMap<(i64, i64), Vec<Coord<f64>>>,
    tolerance: f64,
}

impl VertexSnapper {
    fn snap(&mut self, c: Coord<f64>) -> Coord<f64> {
        let key = (
            (c.x / self.tolerance).floor() as i64,
            (c.y / self.tolerance).floor() as i64,
        );
        for dx in -1..=1 {
            for dy in -1..=1 {
                if let Some(list) = self.cells.get(&(key.0 + dx, key.1 + dy))
                    && let Some(found) = list
                        .iter()
                        .find(|p| (p.x - c.x).hypot(p.y - c.y) < self.tolerance)
                {
                    return *found;
                }
            }
        }
        self.cells.entry(key).or_default().push(c);
        c
    }
}

/// Villages as generated: metric polygon, seed and attributes.
struct Village {
    reference: VillageRef,
    seed: Coord<f64>,
    polygon: MultiPolygon<f64>,
    population: i64,
    households: i64,
    income: f64,
    industry: &'static str,
    party_members: i64,
    strong: bool,
}

/// A village cell: index into the reference list, seed point, clipped polygon (metric).
type VillageCell = (usize, Coord<f64>, MultiPolygon<f64>);

/// Draws the township split and the village cells; `None` when a township is not contiguous.
fn draw_villages(
    outline: &MultiPolygon<f64>,
    refs: &[VillageRef],
    rng: &mut Rng,
) -> Option<Vec<VillageCell>> {
    let bbox = outline.bounding_rect()?;
    // A dense sample of the county.
    let mut sample = Vec::new();
    while sample.len() < 12_000 {
        let c = Coord {
            x: bbox.min().x + rng.next_f64() * bbox.width(),
            y: bbox.min().y + rng.next_f64() * bbox.height(),
        };
        if outline.contains(&Point(c)) {
            sample.push(c);
        }
    }
    let mut towns: Vec<(String, usize)> = Vec::new();
    for v in refs {
        match towns.iter_mut().find(|t| t.0 == v.town_code) {
            Some(t) => t.1 += 1,
            None => towns.push((v.town_code.clone(), 1)),
        }
    }
    let town_seeds = spread_points(&sample, towns.len(), rng, 40);
    // Additively weighted nearest seed; weights tuned so shares match village counts.
    let mut weights = vec![0.0f64; towns.len()];
    let mut owner = vec![0usize; sample.len()];
    for _ in 0..40 {
        let mut counts = vec![0usize; towns.len()];
        for (i, c) in sample.iter().enumerate() {
            let t = (0..towns.len())
                .min_by(|&a, &b| {
                    let da = (c.x - town_seeds[a].x).hypot(c.y - town_seeds[a].y) - weights[a];
                    let db = (c.x - town_seeds[b].x).hypot(c.y - town_seeds[b].y) - weights[b];
                    da.total_cmp(&db)
                })
                .unwrap_or(0);
            owner[i] = t;
            counts[t] += 1;
        }
        for t in 0..towns.len() {
            let want = towns[t].1 as f64 / refs.len() as f64 * sample.len() as f64;
            weights[t] += 300.0 * (want - counts[t] as f64) / want.max(1.0);
        }
    }
    // Village seeds inside each township's share.
    let mut seeds: Vec<(usize, Coord<f64>)> = Vec::with_capacity(refs.len());
    let mut next_of_town: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, v) in refs.iter().enumerate() {
        next_of_town
            .entry(v.town_code.as_str())
            .or_default()
            .push(i);
    }
    for (t, (code, n)) in towns.iter().enumerate() {
        let mine: Vec<Coord<f64>> = sample
            .iter()
            .zip(&owner)
            .filter(|(_, o)| **o == t)
            .map(|(c, _)| *c)
            .collect();
        let points = spread_points(&mine, *n, rng, 12);
        if points.len() < *n {
            return None;
        }
        for (village, p) in next_of_town[code.as_str()].iter().zip(points) {
            seeds.push((*village, p));
        }
    }
    seeds.sort_by_key(|s| s.0);
    let sites = geo::MultiPoint(seeds.iter().map(|s| Point(s.1)).collect());
    let cells = sites.voronoi_cells().ok()?;
    if cells.len() != seeds.len() {
        return None;
    }
    // Match cells to seeds (the cell containing the seed) and clip them to the county.
    let mut out = Vec::with_capacity(seeds.len());
    let mut snapper = VertexSnapper {
        cells: Default::default(),
        tolerance: 0.001,
    };
    for (i, (village, seed)) in seeds.iter().enumerate() {
        let cell = if cells[i].contains(&Point(*seed)) {
            cells[i].clone()
        } else {
            cells.iter().find(|c| c.contains(&Point(*seed)))?.clone()
        };
        let clipped = MultiPolygon(vec![cell]).intersection(outline);
        let snapped = MultiPolygon(
            clipped
                .0
                .into_iter()
                .map(|p| {
                    let mut ring = |ls: &LineString<f64>| {
                        let mut coords: Vec<Coord<f64>> =
                            ls.0.iter().map(|c| snapper.snap(*c)).collect();
                        coords.dedup();
                        LineString(coords)
                    };
                    let exterior = ring(p.exterior());
                    let interiors = p.interiors().iter().map(&mut ring).collect();
                    Polygon::new(exterior, interiors)
                })
                .filter(|p| p.exterior().0.len() >= 4 && p.unsigned_area() > 1.0)
                .collect(),
        );
        // Keep only the part holding the seed (clipping may leave slivers across a bay).
        let part = snapped
            .0
            .iter()
            .find(|p| p.contains(&Point(*seed)))
            .cloned()?;
        out.push((*village, *seed, MultiPolygon(vec![part])));
    }
    // Slivers dropped above belong to no village: give each to a village it touches.
    // (Rare; the county tiling check in the tests catches any loss.)
    if !towns_are_contiguous(&out, refs) {
        return None;
    }
    Some(out)
}

/// Whether every township's villages form one connected set (neighbours share a border vertex pair).
fn towns_are_contiguous(
    cells: &[(usize, Coord<f64>, MultiPolygon<f64>)],
    refs: &[VillageRef],
) -> bool {
    let edges = adjacency(cells.iter().map(|c| &c.2));
    let mut by_town: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        by_town
            .entry(refs[c.0].town_code.as_str())
            .or_default()
            .push(i);
    }
    by_town.values().all(|members| {
        let set: std::collections::BTreeSet<usize> = members.iter().copied().collect();
        let mut seen = std::collections::BTreeSet::from([members[0]]);
        let mut stack = vec![members[0]];
        while let Some(a) = stack.pop() {
            for &b in &edges[a] {
                if set.contains(&b) && seen.insert(b) {
                    stack.push(b);
                }
            }
        }
        seen.len() == members.len()
    })
}

/// Rook adjacency by shared edges (identical consecutive vertex pairs), per polygon index.
pub(crate) fn adjacency<'a>(
    polygons: impl Iterator<Item = &'a MultiPolygon<f64>>,
) -> Vec<Vec<usize>> {
    let mut edge_owner: std::collections::HashMap<[(u64, u64); 2], Vec<usize>> = Default::default();
    let mut n = 0;
    for (i, mp) in polygons.enumerate() {
        n = i + 1;
        for p in &mp.0 {
            for line in p.exterior().lines() {
                let a = (line.start.x.to_bits(), line.start.y.to_bits());
                let b = (line.end.x.to_bits(), line.end.y.to_bits());
                edge_owner
                    .entry(if a < b { [a, b] } else { [b, a] })
                    .or_default()
                    .push(i);
            }
        }
    }
    let mut out = vec![Vec::new(); n];
    for owners in edge_owner.values() {
        for &a in owners {
            for &b in owners {
                if a != b && !out[a].contains(&b) {
                    out[a].push(b);
                }
            }
        }
    }
    for list in &mut out {
        list.sort_unstable();
    }
    out
}

struct FeatureWriter {
    path: PathBuf,
    out: BufWriter<File>,
    count: usize,
}

impl FeatureWriter {
    fn create(path: PathBuf) -> Result<FeatureWriter, DemoError> {
        let file = File::create(&path).map_err(|e| DemoError::Io {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("layer")
            .to_string();
        writeln!(
            out,
            "{{\"type\":\"FeatureCollection\",\"name\":\"{name}\",\"features\":["
        )
        .map_err(|e| DemoError::Io {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Ok(FeatureWriter {
            path,
            out,
            count: 0,
        })
    }

    fn write(&mut self, properties: Json, geometry: Json) -> Result<(), DemoError> {
        let io = |e: std::io::Error| DemoError::Io {
            path: self.path.clone(),
            reason: e.to_string(),
        };
        if self.count > 0 {
            self.out.write_all(b",\n").map_err(io)?;
        }
        let feature = json!({"type": "Feature", "properties": properties, "geometry": geometry});
        serde_json::to_writer(&mut self.out, &feature).map_err(|e| DemoError::Io {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        self.count += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<(PathBuf, usize), DemoError> {
        let io = |e: std::io::Error| DemoError::Io {
            path: self.path.clone(),
            reason: e.to_string(),
        };
        self.out.write_all(b"\n]}\n").map_err(io)?;
        self.out.flush().map_err(io)?;
        Ok((self.path, self.count))
    }
}

fn polygon_json(plane: &Plane, mp: &MultiPolygon<f64>) -> Json {
    let ring = |ls: &LineString<f64>| -> Vec<[f64; 2]> {
        ls.0.iter().map(|c| plane.to_lonlat(*c)).collect()
    };
    let polygons: Vec<Vec<Vec<[f64; 2]>>> =
        mp.0.iter()
            .map(|p| {
                std::iter::once(ring(p.exterior()))
                    .chain(p.interiors().iter().map(ring))
                    .collect()
            })
            .collect();
    if polygons.len() == 1 {
        json!({"type": "Polygon", "coordinates": polygons[0]})
    } else {
        json!({"type": "MultiPolygon", "coordinates": polygons})
    }
}

fn point_json(plane: &Plane, c: Coord<f64>) -> Json {
    json!({"type": "Point", "coordinates": plane.to_lonlat(c)})
}

/// The 三调 code of a parcel from the terrain, the distance to the village centre and the
/// village's industry.
fn land_use(
    rng: &mut Rng,
    elevation: f64,
    distance: f64,
    residential_radius: f64,
    industry: &str,
) -> &'static str {
    if distance < residential_radius {
        return match rng.below(20) {
            0 => "1006",
            1 if industry == "工业" => "0601",
            2 if industry == "工业" => "0601",
            3 => "0508",
            _ => "0702",
        };
    }
    // Rivers follow a contour band of the terrain; ponds sit in the lowest hollows.
    if (elevation - 0.36).abs() < 0.006 {
        return "1101";
    }
    if elevation < 0.16 {
        return if rng.below(3) == 0 { "1104" } else { "0102" };
    }
    // 沂源 is hilly: forest and grass on the heights, orchards on the slopes.
    if elevation > 0.6 {
        return ["0301", "0301", "0305", "0307", "0404"][rng.below(5)];
    }
    if elevation > 0.49 {
        return match industry {
            "苹果" | "桃" => ["0201", "0201", "0201", "0204", "0103"][rng.below(5)],
            _ => ["0201", "0204", "0103", "0305", "0404"][rng.below(5)],
        };
    }
    match rng.below(12) {
        0 => "1203",
        1 => "1006",
        2 if matches!(industry, "蔬菜" | "食用菌") => "1202",
        3 | 4 => "0102",
        5 if elevation < 0.2 => "0101",
        _ => "0103",
    }
}

fn land_use_name(code: &str) -> &'static str {
    crate::domain::landuse::name_of(code).unwrap_or("其他")
}

/// Generates the demo county into `out_dir`. See the module documentation.
pub fn generate(params: &DemoParams, out_dir: &Path) -> Result<DemoSummary, DemoError> {
    std::fs::create_dir_all(out_dir).map_err(|e| DemoError::Io {
        path: out_dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let (outline_lonlat, refs) = read_reference(&params.reference_dir)?;
    let centre = outline_lonlat
        .bounding_rect()
        .map(|r| r.center())
        .unwrap_or_default();
    let plane = Plane::new(
        (centre.x * 100.0).round() / 100.0,
        (centre.y * 100.0).round() / 100.0,
    );
    let outline = plane.project(&outline_lonlat);
    let mut rng = Rng::new(params.seed);
    let terrain = Terrain::new(&mut rng);

    // Townships and village cells (retry with the next stream until townships are contiguous).
    const ATTEMPTS: u32 = 20;
    let mut cells = None;
    for attempt in 0..ATTEMPTS {
        let mut draw_rng = Rng::new(params.seed.wrapping_add(0x9E37_79B9 * (attempt as u64 + 1)));
        if let Some(c) = draw_villages(&outline, &refs, &mut draw_rng) {
            cells = Some(c);
            break;
        }
    }
    let cells = cells.ok_or(DemoError::NoContiguousTowns(ATTEMPTS))?;

    // Attributes: industries clustered by township, heavy-tailed population and income.
    let mut town_industry: BTreeMap<&str, &'static str> = BTreeMap::new();
    for v in &refs {
        let n = town_industry.len();
        town_industry
            .entry(v.town_code.as_str())
            .or_insert(INDUSTRIES[(n * 3 + rng.below(2)) % INDUSTRIES.len()]);
    }
    let mut villages: Vec<Village> = cells
        .into_iter()
        .map(|(i, seed, polygon)| {
            let r = refs[i].clone();
            let base = if r.is_community { 7.6 } else { 6.9 };
            let population = (base + 0.55 * rng.normal())
                .exp()
                .clamp(300.0, 6000.0)
                .round() as i64;
            let industry = if rng.next_f64() < 0.65 {
                town_industry[r.town_code.as_str()]
            } else {
                INDUSTRIES[rng.below(INDUSTRIES.len())]
            };
            let income_base =
                (2.7 + 0.9 * rng.normal()).exp() * (population as f64 / 1000.0).powf(0.5);
            let income = (income_base
                * if industry == "工业" || industry == "乡村旅游" {
                    1.8
                } else {
                    1.0
                })
            .clamp(2.0, 800.0);
            Village {
                seed,
                polygon,
                population,
                households: (population as f64 / (2.6 + 0.4 * rng.next_f64())).round() as i64,
                income: (income * 100.0).round() / 100.0,
                industry,
                party_members: (population as f64 * (0.02 + 0.02 * rng.next_f64())).round() as i64,
                strong: false,
                reference: r,
            }
        })
        .collect();
    let mut incomes: Vec<f64> = villages.iter().map(|v| v.income).collect();
    incomes.sort_by(|a, b| b.total_cmp(a));
    let threshold = incomes[(villages.len() as f64 * 0.12) as usize];
    for v in &mut villages {
        v.strong = v.income > threshold;
    }
    villages.sort_by(|a, b| a.reference.code.cmp(&b.reference.code));

    let mut summary = DemoSummary {
        villages: villages.len(),
        towns: town_industry.len(),
        ..Default::default()
    };

    // villages.geojson
    let mut w = FeatureWriter::create(out_dir.join("villages.geojson"))?;
    for v in &villages {
        w.write(
            json!({
                "code": v.reference.code, "name": v.reference.name, "town_code": v.reference.town_code,
                "town": v.reference.town, "population": v.population, "households": v.households,
                "collective_income": v.income, "industry": v.industry, "party_members": v.party_members,
                "strong": v.strong,
            }),
            polygon_json(&plane, &v.polygon),
        )?;
    }
    summary.files.push(w.finish()?.0);

    // parcels.geojson
    let village_area: f64 = villages.iter().map(|v| v.polygon.unsigned_area()).sum();
    let cell = (village_area / params.target_parcels.max(1) as f64).sqrt();
    let mut w = FeatureWriter::create(out_dir.join("parcels.geojson"))?;
    let mut bsm = 0u64;
    let mut cropland_cells: Vec<Vec<Rect<f64>>> = vec![Vec::new(); villages.len()];
    for (vi, v) in villages.iter().enumerate() {
        let Some(r) = v.polygon.bounding_rect() else {
            continue;
        };
        let boundary: RTree<geo::Line<f64>> = RTree::bulk_load(
            v.polygon
                .0
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .flat_map(|ring| ring.lines())
                .collect(),
        );
        let residential_radius = 120.0 + (v.population as f64).sqrt() * 4.0;
        let zldwdm = format!("{}0000000", v.reference.code);
        let (i0, i1) = (
            (r.min().x / cell).floor() as i64,
            (r.max().x / cell).ceil() as i64,
        );
        let (j0, j1) = (
            (r.min().y / cell).floor() as i64,
            (r.max().y / cell).ceil() as i64,
        );
        for i in i0..i1 {
            for j in j0..j1 {
                let square = Rect::new(
                    Coord {
                        x: i as f64 * cell,
                        y: j as f64 * cell,
                    },
                    Coord {
                        x: (i + 1) as f64 * cell,
                        y: (j + 1) as f64 * cell,
                    },
                );
                let crosses = boundary
                    .locate_in_envelope_intersecting(&AABB::from_corners(
                        Point(square.min()),
                        Point(square.max()),
                    ))
                    .next()
                    .is_some();
                let pieces: MultiPolygon<f64> = if crosses {
                    MultiPolygon(vec![square.to_polygon()]).intersection(&v.polygon)
                } else if v.polygon.contains(&Point(square.center())) {
                    MultiPolygon(vec![square.to_polygon()])
                } else {
                    continue;
                };
                for piece in pieces.0 {
                    let area = piece.unsigned_area();
                    if area < 1.0 {
                        continue;
                    }
                    let centre = square.center();
                    let distance = (centre.x - v.seed.x).hypot(centre.y - v.seed.y);
                    let code = land_use(
                        &mut rng,
                        terrain.at(centre),
                        distance,
                        residential_radius,
                        v.industry,
                    );
                    if !crosses && matches!(code, "0102" | "0103" | "1202") {
                        cropland_cells[vi].push(square);
                    }
                    bsm += 1;
                    let mut props = serde_json::Map::new();
                    props.insert("bsm".into(), json!(bsm));
                    props.insert("dlbm".into(), json!(code));
                    props.insert("dlmc".into(), json!(land_use_name(code)));
                    if rng.next_f64() < params.with_zldwdm_share {
                        props.insert("zldwdm".into(), json!(zldwdm));
                    }
                    props.insert("tbmj".into(), json!((area * 100.0).round() / 100.0));
                    w.write(
                        Json::Object(props),
                        polygon_json(&plane, &MultiPolygon(vec![piece])),
                    )?;
                }
            }
        }
    }
    summary.parcels = w.finish().map(|(p, n)| {
        summary.files.push(p);
        n
    })?;

    // greenhouses.geojson: rows of film greenhouses on cropland cells of vegetable/mushroom villages.
    let mut w = FeatureWriter::create(out_dir.join("greenhouses.geojson"))?;
    for (vi, v) in villages.iter().enumerate() {
        let keen = matches!(v.industry, "蔬菜" | "食用菌");
        let wanted = if keen {
            8 + rng.below(30)
        } else if rng.below(8) == 0 {
            1 + rng.below(4)
        } else {
            0
        };
        let crops: &[&str] = if v.industry == "食用菌" {
            &["香菇", "平菇", "木耳"]
        } else {
            &["番茄", "黄瓜", "辣椒", "草莓", "西葫芦"]
        };
        let mut placed = 0;
        let mut cells_here = cropland_cells[vi].clone();
        cells_here.sort_by(|a, b| {
            let da = (a.center().x - v.seed.x).hypot(a.center().y - v.seed.y);
            let db = (b.center().x - v.seed.x).hypot(b.center().y - v.seed.y);
            da.total_cmp(&db)
        });
        'cells: for square in cells_here.iter().skip(2) {
            let (width, length) = (
                8.0 + 4.0 * rng.next_f64(),
                (40.0 + 60.0 * rng.next_f64()).min(square.height() - 6.0),
            );
            if length < 20.0 {
                continue;
            }
            let mut x = square.min().x + 3.0;
            while x + width < square.max().x - 3.0 {
                if placed >= wanted {
                    break 'cells;
                }
                let house = Rect::new(
                    Coord {
                        x,
                        y: square.min().y + 3.0,
                    },
                    Coord {
                        x: x + width,
                        y: square.min().y + 3.0 + length,
                    },
                );
                let mut props = serde_json::Map::new();
                props.insert(
                    "kind".into(),
                    json!(["日光温室", "塑料大棚", "塑料大棚", "连栋温室"][rng.below(4)]),
                );
                props.insert("crop".into(), json!(crops[rng.below(crops.len())]));
                if rng.next_f64() < 0.7 {
                    props.insert("village_code".into(), json!(v.reference.code));
                }
                props.insert(
                    "area_m2".into(),
                    json!((house.to_polygon().unsigned_area() * 10.0).round() / 10.0),
                );
                props.insert("year".into(), json!(2012 + rng.below(13)));
                w.write(
                    Json::Object(props),
                    polygon_json(&plane, &MultiPolygon(vec![house.to_polygon()])),
                )?;
                placed += 1;
                x += width + 4.0 + 2.0 * rng.next_f64();
            }
        }
    }
    summary.greenhouses = w.finish().map(|(p, n)| {
        summary.files.push(p);
        n
    })?;

    // facilities.geojson: points near the village centre, inside the village.
    let mut w = FeatureWriter::create(out_dir.join("facilities.geojson"))?;
    let near_centre = |rng: &mut Rng, v: &Village, spread: f64| -> Coord<f64> {
        for _ in 0..50 {
            let c = Coord {
                x: v.seed.x + spread * rng.normal(),
                y: v.seed.y + spread * rng.normal(),
            };
            if v.polygon.contains(&Point(c)) {
                return c;
            }
        }
        v.seed
    };
    for v in &villages {
        let mut add = |rng: &mut Rng,
                       kind: &str,
                       capacity: Option<i64>,
                       radius: Option<f64>|
         -> Result<(), DemoError> {
            let at = near_centre(rng, v, 80.0);
            let mut props = serde_json::Map::new();
            props.insert("kind".into(), json!(kind));
            props.insert("name".into(), json!(format!("{}{kind}", v.reference.name)));
            if let Some(c) = capacity {
                props.insert("capacity".into(), json!(c));
            }
            if let Some(r) = radius {
                props.insert("radius_m".into(), json!(r));
            }
            props.insert("village_code".into(), json!(v.reference.code));
            w.write(Json::Object(props), point_json(&plane, at))
        };
        if rng.next_f64() < 0.9 {
            add(&mut rng, "党群服务中心", None, None)?;
        }
        if rng.next_f64() < 0.6 {
            let beds = 2 + rng.below(4) as i64;
            add(&mut rng, "卫生室", Some(beds), None)?;
        }
        if v.population > 1800 && rng.next_f64() < 0.5 {
            let beds = 20 + rng.below(60) as i64;
            add(&mut rng, "养老服务中心", Some(beds), Some(2000.0))?;
        }
        if matches!(v.industry, "蔬菜" | "苹果" | "桃" | "食用菌") && rng.next_f64() < 0.12
        {
            let tonnes = 500 + 100 * rng.below(20) as i64;
            add(&mut rng, "冷库", Some(tonnes), None)?;
        }
        if matches!(v.industry, "蔬菜" | "粮食" | "苹果") && rng.next_f64() < 0.06 {
            add(&mut rng, "农事服务中心", None, Some(5000.0))?;
        }
    }
    summary.facilities = w.finish().map(|(p, n)| {
        summary.files.push(p);
        n
    })?;

    // members.geojson: enterprises, communities and schools.
    let mut w = FeatureWriter::create(out_dir.join("members.geojson"))?;
    let firms = [
        "果业",
        "蔬菜专业合作社",
        "食用菌",
        "农产品物流",
        "旅游开发",
        "食品加工",
    ];
    let mut order: Vec<usize> = (0..villages.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((villages[i].income * 100.0) as i64));
    for (k, &i) in order.iter().take(15).enumerate() {
        let v = &villages[i];
        let (kind, name) = match k % 5 {
            0..=2 => (
                "企业",
                format!(
                    "沂源县{}{}有限公司",
                    v.reference.name.trim_end_matches('村'),
                    firms[k % firms.len()]
                ),
            ),
            3 => ("学校", format!("{}小学", v.reference.town)),
            _ => (
                "社区",
                format!("{}新型农村社区", v.reference.name.trim_end_matches('村')),
            ),
        };
        let at = near_centre(&mut rng, v, 250.0);
        w.write(
            json!({"kind": kind, "name": name, "village_code": v.reference.code}),
            point_json(&plane, at),
        )?;
    }
    summary.members = w.finish().map(|(p, n)| {
        summary.files.push(p);
        n
    })?;

    // roads.geojson: county, township and village roads (see `roads`). A township's seat is its
    // last community with people, else its first village.
    let mut w = FeatureWriter::create(out_dir.join("roads.geojson"))?;
    let mut seats: BTreeMap<String, usize> = BTreeMap::new();
    for (i, v) in villages.iter().enumerate() {
        let seat = seats.entry(v.reference.town.clone()).or_insert(i);
        if v.population > 0 && v.reference.is_community {
            *seat = i;
        }
    }
    let places: Vec<roads::RoadPlace> = villages
        .iter()
        .map(|v| roads::RoadPlace {
            point: v.seed,
            town: v.reference.town.clone(),
            name: v.reference.name.clone(),
        })
        .collect();
    for road in roads::county_roads(&places, &seats, params.seed) {
        let coords: Vec<[f64; 2]> = road.line.iter().map(|&c| plane.to_lonlat(c)).collect();
        w.write(
            json!({"class": road.class, "name": road.name, "speed_kmh": road.speed_kmh}),
            json!({"type": "LineString", "coordinates": coords}),
        )?;
    }
    summary.roads = w.finish().map(|(p, n)| {
        summary.files.push(p);
        n
    })?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/reference")
    }

    fn load(path: &Path) -> Vec<geojson::Feature> {
        let fc: geojson::FeatureCollection =
            std::fs::read_to_string(path).unwrap().parse().unwrap();
        fc.features
    }

    #[test]
    fn names_lose_their_committee_suffix() {
        assert_eq!(
            display_name("朱家户村委会"),
            ("朱家户村".to_string(), false)
        );
        assert_eq!(display_name("历山居委会"), ("历山社区".to_string(), true));
        assert_eq!(
            display_name("胜利山社区居委会"),
            ("胜利山社区".to_string(), true)
        );
        assert_eq!(
            display_name("流水村民委员会"),
            ("流水村".to_string(), false)
        );
    }

    #[test]
    fn the_demo_county_is_deterministic_and_tiles_the_outline() {
        let base = std::env::temp_dir().join(format!("liancun_demo_unit_{}", std::process::id()));
        let params = DemoParams {
            reference_dir: reference_dir(),
            target_parcels: 4_000,
            ..Default::default()
        };
        let a = generate(&params, &base.join("a")).unwrap();
        let b = generate(&params, &base.join("b")).unwrap();
        assert_eq!(a.villages, 468);
        assert_eq!(a.towns, 12);
        for (fa, fb) in a.files.iter().zip(&b.files) {
            assert_eq!(
                std::fs::read(fa).unwrap(),
                std::fs::read(fb).unwrap(),
                "{} differs between runs",
                fa.display()
            );
        }
        // Border cells are cut into pieces, so a coarse grid gives up to twice the target.
        assert!(a.parcels > 4_000 && a.parcels < 10_000, "{a:?}");
        assert!(
            a.greenhouses > 20 && a.facilities > 400 && a.members == 15 && a.roads > 400,
            "{a:?}"
        );

        // Village polygons: valid, no overlaps, bit-identical shared borders, and they fill the
        // county (areas in a local plane; the outline is the real 1,636 km² county).
        let villages = load(&base.join("a/villages.geojson"));
        let plane = Plane::new(118.17, 36.0);
        let polygons: Vec<MultiPolygon<f64>> = villages
            .iter()
            .map(|f| {
                let g: geo::Geometry<f64> = f.geometry.clone().unwrap().try_into().unwrap();
                plane.project(&crate::engine::geometry::to_multipolygon(g).unwrap())
            })
            .collect();
        for p in &polygons {
            assert!(geo::Validation::is_valid(p));
        }
        let (outline, _) = read_reference(&reference_dir()).unwrap();
        let outline_xy = plane.project(&outline);
        let total: f64 = polygons.iter().map(|p| p.unsigned_area()).sum();
        let county = outline_xy.unsigned_area();
        assert!(
            (total - county).abs() / county < 1e-3,
            "villages cover {total} of {county} m²"
        );
        let problems = crate::engine::validate::village_boundary_problems(&polygons, 1.0);
        assert!(
            problems.is_empty(),
            "{:?}",
            &problems[..problems.len().min(3)]
        );
        let neighbours = adjacency(polygons.iter());
        assert!(
            neighbours.iter().all(|n| !n.is_empty()),
            "every village shares an edge with another"
        );

        // Parcels of each village add up to the village.
        let mut by_village: BTreeMap<String, f64> = BTreeMap::new();
        for f in load(&base.join("a/parcels.geojson")) {
            let p = f.properties.as_ref().unwrap();
            if let Some(z) = p.get("zldwdm").and_then(|z| z.as_str()) {
                *by_village.entry(z[..12].to_string()).or_default() += p["tbmj"].as_f64().unwrap();
            }
            assert!(crate::domain::landuse::name_of(p["dlbm"].as_str().unwrap()).is_some());
        }
        let zldwdm_area: f64 = by_village.values().sum();
        assert!(zldwdm_area > 0.8 * total && zldwdm_area < total);
    }
}
