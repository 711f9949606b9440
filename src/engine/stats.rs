//! Per-village statistics: land use by 三调 code, cultivated and construction land, greenhouses,
//! facilities by kind and population density — with totals that reconcile with the layers.
//!
//! Parameters: the villages (code, name, town, population, metric polygon), then a stream of
//! parcels, greenhouses and facilities (metric geometries). Returns a [`VillageStatsReport`].
//!
//! Algorithm (streaming: parcels are never all held in memory):
//! 1. Index villages in an R-tree, and each village's boundary segments in an R-tree of its own.
//! 2. A parcel whose ZLDWDM names a known village (first 12 digits) counts wholly for it — that is
//!    how 三调 attributes land. Otherwise it is split exactly among the villages it overlaps:
//!    for each village whose envelope meets the parcel's, if no boundary segment of the village
//!    meets the parcel's envelope, the parcel lies wholly inside or wholly outside (decided by one
//!    point-in-polygon test); only parcels that straddle a boundary pay for a boolean
//!    intersection. Area not inside any village is reported as unassigned.
//! 3. Greenhouses and facilities go to the village named by their village code when it exists,
//!    else to the village containing their interior point.
//! 4. Totals: layer totals and the unassigned remainder, so that Σ villages + unassigned = total.
//!
//! Complexity: O((n + m) log n) for m parcels and n villages, plus one boolean intersection per
//! straddling parcel. Areas are planar in the workspace's Gauss–Krüger zone (what GIS reports).

use std::collections::{BTreeMap, HashMap};

use geo::{
    Area, BooleanOps, BoundingRect, Contains, Coord, InteriorPoint, Line, MultiPolygon, Point,
};
use rstar::{AABB, RTree, RTreeObject};

use super::geometry::{SlotEnvelope, aabb, envelope_tree};
use crate::domain::{landuse, village_code_of};

/// A village as the statistics need it.
#[derive(Debug, Clone)]
pub struct VillageInput {
    /// The 12-digit village code (also matched against parcels' ZLDWDM and members' village codes).
    pub code: String,
    /// The village's name.
    pub name: String,
    /// The township's name.
    pub town: String,
    /// Registered population (户籍人口), persons, when the layer has it.
    pub population: Option<i64>,
    /// Metric geometry (metres).
    pub geometry: MultiPolygon<f64>,
}

/// Statistics of one village. Areas in m².
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VillageStats {
    /// The 12-digit village code.
    pub code: String,
    /// The village's name.
    pub name: String,
    /// The township's name.
    pub town: String,
    /// Registered population (户籍人口), persons.
    pub population: Option<i64>,
    /// Planar area of the village polygon, m².
    pub area_m2: f64,
    /// Area of the parcels attributed to the village (by ZLDWDM or by overlap), m².
    pub parcel_area_m2: f64,
    /// Land-use code → m².
    pub land_use_m2: BTreeMap<String, f64>,
    /// 耕地 (0101 水田, 0102 水浇地, 0103 旱地), m².
    pub cultivated_m2: f64,
    /// 建设用地 as 三调 counts it, m².
    pub construction_m2: f64,
    /// Greenhouses attributed to the village.
    pub greenhouse_count: u64,
    /// Total greenhouse area, m².
    pub greenhouse_area_m2: f64,
    /// Facility kind → count.
    pub facilities: BTreeMap<String, u64>,
    /// Inhabitants per km² of village area, `None` without population.
    pub population_density_per_km2: Option<f64>,
}

/// Layer totals and what no village received.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatsTotals {
    /// Parcels read.
    pub parcel_count: u64,
    /// Total area of the parcels read, m².
    pub parcel_area_m2: f64,
    /// Parcel area inside no village (or with a ZLDWDM naming none), m².
    pub unassigned_parcel_area_m2: f64,
    /// Parcels attributed by ZLDWDM / by geometry.
    pub parcels_by_code: u64,
    /// Parcels placed by overlap with village polygons.
    pub parcels_by_geometry: u64,
    /// Parcels whose ZLDWDM names no village (then placed by geometry).
    pub parcels_with_unknown_code: u64,
    /// Land-use code → m², over all parcels.
    pub land_use_m2: BTreeMap<String, f64>,
    /// Greenhouses read.
    pub greenhouse_count: u64,
    /// Total greenhouse area, m².
    pub greenhouse_area_m2: f64,
    /// Greenhouses in no village (by code or location).
    pub unassigned_greenhouses: u64,
    /// Facilities read.
    pub facility_count: u64,
    /// Facilities in no village (by code or location).
    pub unassigned_facilities: u64,
    /// Total village area, m².
    pub village_area_m2: f64,
    /// Total registered population of the villages, persons (villages without one count 0).
    pub population: i64,
}

/// Per-village statistics and layer totals; Σ villages + unassigned = each layer's total.
#[derive(Debug, Clone, PartialEq)]
pub struct VillageStatsReport {
    /// One entry per village, in the input order.
    pub villages: Vec<VillageStats>,
    /// Layer totals and the unassigned remainders.
    pub totals: StatsTotals,
}

impl VillageStatsReport {
    /// Relative difference between the parcel layer total and Σ villages + unassigned.
    pub fn parcel_reconciliation_error(&self) -> f64 {
        let assigned: f64 = self.villages.iter().map(|v| v.parcel_area_m2).sum();
        let total = self.totals.parcel_area_m2;
        if total == 0.0 {
            0.0
        } else {
            (assigned + self.totals.unassigned_parcel_area_m2 - total).abs() / total
        }
    }
}

struct SegmentEntry(Line<f64>);

impl RTreeObject for SegmentEntry {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(
            [self.0.start.x, self.0.start.y],
            [self.0.end.x, self.0.end.y],
        )
    }
}

/// Accumulates statistics from streamed features. See the module documentation.
pub struct VillageStatsBuilder {
    villages: Vec<VillageInput>,
    stats: Vec<VillageStats>,
    by_code: HashMap<String, usize>,
    tree: RTree<SlotEnvelope>,
    boundaries: Vec<RTree<SegmentEntry>>,
    totals: StatsTotals,
}

impl VillageStatsBuilder {
    /// Starts a builder over these villages: indexes them and their boundary segments.
    pub fn new(villages: Vec<VillageInput>) -> VillageStatsBuilder {
        let mut by_code = HashMap::with_capacity(villages.len());
        let mut boundaries = Vec::with_capacity(villages.len());
        let mut stats = Vec::with_capacity(villages.len());
        let mut totals = StatsTotals::default();
        for (slot, v) in villages.iter().enumerate() {
            by_code.entry(v.code.clone()).or_insert(slot);
            let segments: Vec<SegmentEntry> = v
                .geometry
                .0
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .flat_map(|ring| ring.lines())
                .map(SegmentEntry)
                .collect();
            boundaries.push(RTree::bulk_load(segments));
            let area = v.geometry.unsigned_area();
            totals.village_area_m2 += area;
            totals.population += v.population.unwrap_or(0);
            stats.push(VillageStats {
                code: v.code.clone(),
                name: v.name.clone(),
                town: v.town.clone(),
                population: v.population,
                area_m2: area,
                population_density_per_km2: v
                    .population
                    .filter(|_| area > 0.0)
                    .map(|p| p as f64 / (area / 1e6)),
                ..Default::default()
            });
        }
        VillageStatsBuilder {
            tree: envelope_tree(villages.iter().map(|v| &v.geometry)),
            villages,
            stats,
            by_code,
            boundaries,
            totals,
        }
    }

    fn village_by_code(&self, code: Option<&str>) -> Option<usize> {
        code.and_then(village_code_of)
            .and_then(|c| self.by_code.get(c).copied())
    }

    fn village_containing(&self, p: Point<f64>) -> Option<usize> {
        let mut hits: Vec<usize> = self
            .tree
            .locate_all_at_point(&[p.x(), p.y()])
            .map(|e| e.slot)
            .filter(|&s| self.villages[s].geometry.contains(&p))
            .collect();
        hits.sort_unstable();
        hits.first().copied()
    }

    fn credit_land(&mut self, slot: usize, dlbm: &str, area: f64) {
        let s = &mut self.stats[slot];
        s.parcel_area_m2 += area;
        *s.land_use_m2.entry(dlbm.to_string()).or_insert(0.0) += area;
        if landuse::is_cultivated(dlbm) {
            s.cultivated_m2 += area;
        }
        if landuse::is_construction(dlbm) {
            s.construction_m2 += area;
        }
    }

    /// Adds a parcel to the layer totals.
    fn count_in_totals(&mut self, dlbm: &str, area: f64) {
        self.totals.parcel_count += 1;
        self.totals.parcel_area_m2 += area;
        *self
            .totals
            .land_use_m2
            .entry(dlbm.to_string())
            .or_insert(0.0) += area;
    }

    /// The codes of the villages, for deciding early which parcels [`Self::add_parcel_area`] takes.
    pub fn village_codes(&self) -> std::collections::HashSet<String> {
        self.by_code.keys().cloned().collect()
    }

    /// Adds a parcel whose ZLDWDM names a known village, by its metric area alone (the caller
    /// measured it). A ZLDWDM naming no village is counted as unassigned: use
    /// [`Self::add_parcel`] with the geometry for those.
    pub fn add_parcel_area(&mut self, dlbm: &str, zldwdm: &str, area: f64) {
        let dlbm = dlbm.trim();
        self.count_in_totals(dlbm, area);
        match self.village_by_code(Some(zldwdm)) {
            Some(slot) => {
                self.totals.parcels_by_code += 1;
                self.credit_land(slot, dlbm, area);
            }
            None => self.totals.unassigned_parcel_area_m2 += area,
        }
    }

    /// Adds one parcel: its land-use code, ZLDWDM if any, and metric geometry.
    pub fn add_parcel(&mut self, dlbm: &str, zldwdm: Option<&str>, geometry: &MultiPolygon<f64>) {
        let dlbm = dlbm.trim();
        let area = geometry.unsigned_area();
        self.count_in_totals(dlbm, area);
        if let Some(slot) = self.village_by_code(zldwdm) {
            self.totals.parcels_by_code += 1;
            self.credit_land(slot, dlbm, area);
            return;
        }
        if zldwdm.is_some_and(|z| !z.trim().is_empty()) {
            self.totals.parcels_with_unknown_code += 1;
        }
        self.totals.parcels_by_geometry += 1;
        let Some(rect) = geometry.bounding_rect() else {
            return;
        };
        let mut candidates: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&aabb(rect))
            .map(|e| e.slot)
            .collect();
        candidates.sort_unstable();
        let mut placed = 0.0;
        for slot in candidates {
            let straddles = self.boundaries[slot]
                .locate_in_envelope_intersecting(&aabb(rect))
                .next()
                .is_some();
            let share = if straddles {
                self.villages[slot]
                    .geometry
                    .intersection(geometry)
                    .unsigned_area()
            } else {
                // No boundary segment near the parcel: it is wholly inside or wholly outside.
                let probe = geometry.interior_point().unwrap_or(Point(rect.min()));
                if self.villages[slot].geometry.contains(&probe) {
                    area
                } else {
                    0.0
                }
            };
            if share > 0.0 {
                placed += share;
                self.credit_land(slot, dlbm, share);
            }
        }
        self.totals.unassigned_parcel_area_m2 += (area - placed).max(0.0);
    }

    /// Adds one greenhouse (metric polygon), with the village code it carries if any.
    pub fn add_greenhouse(&mut self, village_code: Option<&str>, geometry: &MultiPolygon<f64>) {
        let area = geometry.unsigned_area();
        self.totals.greenhouse_count += 1;
        self.totals.greenhouse_area_m2 += area;
        let slot = self.village_by_code(village_code).or_else(|| {
            geometry
                .interior_point()
                .and_then(|p| self.village_containing(p))
        });
        match slot {
            Some(s) => {
                self.stats[s].greenhouse_count += 1;
                self.stats[s].greenhouse_area_m2 += area;
            }
            None => self.totals.unassigned_greenhouses += 1,
        }
    }

    /// Adds one facility of `kind` at a metric point.
    pub fn add_facility(&mut self, kind: &str, village_code: Option<&str>, at: Coord<f64>) {
        self.totals.facility_count += 1;
        let slot = self
            .village_by_code(village_code)
            .or_else(|| self.village_containing(Point(at)));
        match slot {
            Some(s) => {
                *self.stats[s]
                    .facilities
                    .entry(kind.trim().to_string())
                    .or_insert(0) += 1
            }
            None => self.totals.unassigned_facilities += 1,
        }
    }

    /// The statistics of every village and the totals.
    pub fn finish(self) -> VillageStatsReport {
        VillageStatsReport {
            villages: self.stats,
            totals: self.totals,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Rect, coord};

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![
            Rect::new(coord! {x: x0, y: y0}, coord! {x: x1, y: y1}).to_polygon(),
        ])
    }

    fn two_villages() -> VillageStatsBuilder {
        VillageStatsBuilder::new(vec![
            VillageInput {
                code: "370323109222".into(),
                name: "朱家户村".into(),
                town: "燕崖镇".into(),
                population: Some(1000),
                geometry: rect(0., 0., 1000., 1000.),
            },
            VillageInput {
                code: "370323109226".into(),
                name: "桑家峪村".into(),
                town: "燕崖镇".into(),
                population: None,
                geometry: rect(1000., 0., 2000., 1000.),
            },
        ])
    }

    #[test]
    fn parcels_follow_zldwdm_then_exact_intersection() {
        let mut b = two_villages();
        // By code: wholly to 桑家峪村 although it lies in 朱家户村.
        b.add_parcel(
            "0103",
            Some("3703231092260000000"),
            &rect(0., 0., 100., 100.),
        );
        // No code, straddling the border 600 m / 400 m.
        b.add_parcel("0201", None, &rect(400., 0., 1400., 10.));
        // Unknown code, wholly inside 朱家户村, away from borders.
        b.add_parcel(
            "0702",
            Some("9999999999990000000"),
            &rect(500., 500., 520., 510.),
        );
        // Half outside both villages.
        b.add_parcel("0301", None, &rect(1900., 900., 2100., 1000.));
        let r = b.finish();
        let (a, s) = (&r.villages[0], &r.villages[1]);
        assert_eq!(s.land_use_m2["0103"], 10_000.0);
        assert!((a.land_use_m2["0201"] - 6_000.0).abs() < 1e-6);
        assert!((s.land_use_m2["0201"] - 4_000.0).abs() < 1e-6);
        assert_eq!(a.land_use_m2["0702"], 200.0);
        assert_eq!(a.construction_m2, 200.0);
        assert_eq!(s.cultivated_m2, 10_000.0);
        assert!((s.land_use_m2["0301"] - 10_000.0).abs() < 1e-6);
        assert!((r.totals.unassigned_parcel_area_m2 - 10_000.0).abs() < 1e-6);
        assert_eq!(
            (
                r.totals.parcels_by_code,
                r.totals.parcels_by_geometry,
                r.totals.parcels_with_unknown_code
            ),
            (1, 3, 1)
        );
        assert!(r.parcel_reconciliation_error() < 1e-12);
        assert_eq!(a.population_density_per_km2, Some(1000.0));
        assert_eq!(s.population_density_per_km2, None);
    }

    #[test]
    fn greenhouses_and_facilities_by_code_then_location() {
        let mut b = two_villages();
        b.add_greenhouse(Some("370323109222"), &rect(1500., 10., 1510., 60.));
        b.add_greenhouse(None, &rect(1500., 10., 1510., 60.));
        b.add_greenhouse(None, &rect(5000., 10., 5010., 60.));
        b.add_facility("卫生室", None, coord! {x: 10., y: 10.});
        b.add_facility("卫生室", Some("370323109226"), coord! {x: 10., y: 10.});
        b.add_facility("冷库", None, coord! {x: -10., y: 10.});
        let r = b.finish();
        assert_eq!(
            (
                r.villages[0].greenhouse_count,
                r.villages[1].greenhouse_count
            ),
            (1, 1)
        );
        assert_eq!(r.villages[0].greenhouse_area_m2, 500.0);
        assert_eq!(r.totals.unassigned_greenhouses, 1);
        assert_eq!(r.villages[0].facilities["卫生室"], 1);
        assert_eq!(r.villages[1].facilities["卫生室"], 1);
        assert_eq!(r.totals.unassigned_facilities, 1);
    }
}
