//! In-memory spatial index of one layer: an R-tree (rstar, bulk-loaded with the OMT algorithm)
//! over the envelopes of metric geometries, refined by exact geometry predicates.
//!
//! Queries (all coordinates in the workspace's metric CRS, metres):
//! - [`LayerIndex::intersecting_rect`]: features whose geometry intersects a rectangle;
//! - [`LayerIndex::containing`]: polygons that contain a point (point-in-polygon);
//! - [`LayerIndex::nearest`]: the k features nearest to a point by true geometry distance;
//! - [`LayerIndex::within_distance`]: features within `d` metres of a point.
//!
//! Complexity: build O(n log n); a rectangle or point query O(log n + k) envelope tests plus the
//! exact tests on the candidates. Example:
//!
//! ```
//! use geo::{Geometry, Point, Rect, coord};
//! use liancun::engine::index::LayerIndex;
//! let square = Rect::new(coord! {x: 0., y: 0.}, coord! {x: 10., y: 10.}).to_polygon();
//! let index = LayerIndex::build(vec![(7, Geometry::Polygon(square))]);
//! assert_eq!(index.containing(Point::new(5., 5.)), vec![0]);
//! assert_eq!(index.fid(0), 7);
//! assert_eq!(index.nearest(Point::new(13., 14.), 1)[0].1, 5.0);
//! ```

use geo::{Contains, Distance, Euclidean, Geometry, Intersects, Point, Rect};
use rstar::RTree;

use super::geometry::{SlotEnvelope, aabb, envelope_tree};

/// The spatial index of one layer. Slots are positions in the order the features were given.
pub struct LayerIndex {
    tree: RTree<SlotEnvelope>,
    fids: Vec<i64>,
    geometries: Vec<Geometry<f64>>,
}

impl LayerIndex {
    /// Builds the index from (fid, metric geometry) pairs. Geometries without coordinates are
    /// kept in their slot but not indexed.
    pub fn build(features: Vec<(i64, Geometry<f64>)>) -> LayerIndex {
        let (fids, geometries): (Vec<i64>, Vec<Geometry<f64>>) = features.into_iter().unzip();
        LayerIndex {
            tree: envelope_tree(&geometries),
            fids,
            geometries,
        }
    }

    /// How many features the index holds.
    pub fn len(&self) -> usize {
        self.geometries.len()
    }

    /// Whether the index holds no feature.
    pub fn is_empty(&self) -> bool {
        self.geometries.is_empty()
    }

    /// The stored feature id of a slot.
    pub fn fid(&self, slot: usize) -> i64 {
        self.fids[slot]
    }

    /// The metric geometry of a slot.
    pub fn geometry(&self, slot: usize) -> &Geometry<f64> {
        &self.geometries[slot]
    }

    /// Every metric geometry, by slot.
    pub fn geometries(&self) -> &[Geometry<f64>] {
        &self.geometries
    }

    /// Slots whose envelope intersects `rect` (a cheap candidate filter).
    pub fn envelope_candidates(&self, rect: Rect<f64>) -> impl Iterator<Item = usize> + '_ {
        let query = aabb(rect);
        self.tree
            .locate_in_envelope_intersecting(&query)
            .map(|e| e.slot)
    }

    /// Slots whose geometry intersects `rect`, ascending.
    pub fn intersecting_rect(&self, rect: Rect<f64>) -> Vec<usize> {
        let poly = rect.to_polygon();
        let mut out: Vec<usize> = self
            .envelope_candidates(rect)
            .filter(|&s| self.geometries[s].intersects(&poly))
            .collect();
        out.sort_unstable();
        out
    }

    /// Slots whose (polygonal) geometry contains `point` (boundary excluded), ascending.
    pub fn containing(&self, point: Point<f64>) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .tree
            .locate_all_at_point(&[point.x(), point.y()])
            .map(|e| e.slot)
            .filter(|&s| self.geometries[s].contains(&point))
            .collect();
        out.sort_unstable();
        out
    }

    /// The `k` slots nearest to `point` by exact geometry distance, with that distance in metres,
    /// nearest first (ties by slot).
    pub fn nearest(&self, point: Point<f64>, k: usize) -> Vec<(usize, f64)> {
        let target = Geometry::Point(point);
        let mut best: Vec<(usize, f64)> = Vec::with_capacity(k + 1);
        for (entry, envelope_d2) in self
            .tree
            .nearest_neighbor_iter_with_distance_2(&[point.x(), point.y()])
        {
            if k == 0 {
                break;
            }
            // Envelope distance is a lower bound of the exact distance: once it exceeds the k-th
            // best exact distance, no later entry can enter the result.
            if best.len() == k && envelope_d2.sqrt() > best[k - 1].1 {
                break;
            }
            let d = Euclidean.distance(&target, &self.geometries[entry.slot]);
            let pos = best.partition_point(|&(s, bd)| bd < d || (bd == d && s < entry.slot));
            best.insert(pos, (entry.slot, d));
            best.truncate(k);
        }
        best
    }

    /// All slots within `distance` metres of `point` (exact), nearest first.
    pub fn within_distance(&self, point: Point<f64>, distance: f64) -> Vec<(usize, f64)> {
        let target = Geometry::Point(point);
        let mut out: Vec<(usize, f64)> = self
            .tree
            .locate_within_distance([point.x(), point.y()], distance * distance)
            .filter_map(|e| {
                let d = Euclidean.distance(&target, &self.geometries[e.slot]);
                (d <= distance).then_some((e.slot, d))
            })
            .collect();
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, polygon};

    /// Deterministic pseudo-random numbers for oracle tests.
    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    fn random_squares(n: usize, seed: u64) -> Vec<(i64, Geometry<f64>)> {
        let mut s = seed;
        (0..n)
            .map(|i| {
                let (x, y, w) = (
                    lcg(&mut s) * 1000.0,
                    lcg(&mut s) * 1000.0,
                    1.0 + lcg(&mut s) * 30.0,
                );
                let r = Rect::new(coord! {x: x, y: y}, coord! {x: x + w, y: y + w});
                (i as i64 * 10, Geometry::Polygon(r.to_polygon()))
            })
            .collect()
    }

    #[test]
    fn queries_agree_with_brute_force() {
        let features = random_squares(500, 42);
        let index = LayerIndex::build(features.clone());
        let mut s = 7u64;
        for _ in 0..50 {
            let p = Point::new(lcg(&mut s) * 1000.0, lcg(&mut s) * 1000.0);
            let brute_contains: Vec<usize> = (0..features.len())
                .filter(|&i| features[i].1.contains(&p))
                .collect();
            assert_eq!(index.containing(p), brute_contains);

            let mut brute: Vec<(usize, f64)> = (0..features.len())
                .map(|i| (i, Euclidean.distance(&Geometry::Point(p), &features[i].1)))
                .collect();
            brute.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            let knn = index.nearest(p, 5);
            assert_eq!(
                knn.iter().map(|x| x.1).collect::<Vec<_>>(),
                brute[..5].iter().map(|x| x.1).collect::<Vec<_>>()
            );

            let within: Vec<usize> = index
                .within_distance(p, 40.0)
                .into_iter()
                .map(|x| x.0)
                .collect();
            let mut brute_within: Vec<(usize, f64)> =
                brute.iter().copied().filter(|x| x.1 <= 40.0).collect();
            brute_within.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            assert_eq!(within, brute_within.iter().map(|x| x.0).collect::<Vec<_>>());

            let q = Rect::new(
                coord! {x: p.x(), y: p.y()},
                coord! {x: p.x() + 60.0, y: p.y() + 45.0},
            );
            let brute_rect: Vec<usize> = (0..features.len())
                .filter(|&i| features[i].1.intersects(&q.to_polygon()))
                .collect();
            assert_eq!(index.intersecting_rect(q), brute_rect);
        }
    }

    #[test]
    fn concave_polygon_is_tested_exactly_not_by_envelope() {
        let l_shape = polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 2.), (x: 2., y: 2.), (x: 2., y: 10.), (x: 0., y: 10.)];
        let index = LayerIndex::build(vec![(1, Geometry::Polygon(l_shape))]);
        assert!(index.containing(Point::new(5., 5.)).is_empty());
        assert_eq!(index.containing(Point::new(1., 5.)), vec![0]);
        assert!((index.nearest(Point::new(5., 5.), 1)[0].1 - 3.0).abs() < 1e-12);
    }
}
