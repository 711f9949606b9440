//! Geometry validation and repair, and the boundary check between neighbouring villages.
//!
//! - [`polygonal_problems`]: OGC validity of a (multi)polygon, reasons in words
//!   (self-intersections, rings with too few points, holes outside the shell …), via geo's
//!   `Validation`.
//! - [`repair_polygonal`]: makes an invalid polygon valid with the constrained-triangulation
//!   repair of Ledoux et al. (2014) (geo's `MakeValid`, odd-even rule), reporting the area change.
//! - [`village_boundary_problems`]: gaps and overlaps between villages. Overlaps are the
//!   intersections of villages whose envelopes meet; gaps are the holes of the union of all
//!   villages. A piece is reported when its **mean width** (2·area / perimeter) exceeds the
//!   tolerance, so that digitising slivers along a shared border (long, a few centimetres wide)
//!   are ignored while real gaps and overlaps are not. Complexity: O(n log n) for the pairs plus
//!   the boolean operations on neighbouring pairs and one union of n polygons.
//!
//! Geometries are metric (metres) for everything that measures.

use geo::{
    Area, BooleanOps, BoundingRect, Distance, Euclidean, Length, LineString, MakeValid,
    MultiPolygon, Polygon, Validation,
};
use rstar::AABB;

use super::geometry::envelope_tree;

/// Why a polygonal geometry is invalid, one sentence per problem.
///
/// Fast path: a single polygon without holes whose ring is simple (checked with a sweep over
/// segments sorted by x, O(n log n) for ordinary rings) is valid; everything else goes through
/// geo's full validation, which names the reasons.
pub fn polygonal_problems(mp: &MultiPolygon<f64>) -> Vec<String> {
    if let [p] = mp.0.as_slice()
        && p.interiors().is_empty()
        && ring_is_simple(&p.exterior().0)
    {
        return Vec::new();
    }
    mp.validation_errors()
        .into_iter()
        .map(|e| e.to_string())
        .collect()
}

/// Whether a closed ring is simple: at least three distinct vertices, finite, no repeated
/// consecutive points, non-zero area, and no two segments meeting except consecutive ones at
/// their shared vertex. Conservative: `false` only sends the ring to the full validation.
pub fn ring_is_simple(ring: &[geo::Coord<f64>]) -> bool {
    use geo::line_intersection::{LineIntersection, line_intersection};
    let n = ring.len().saturating_sub(1); // segments
    if n < 3 || ring[0] != ring[n] {
        return false;
    }
    let mut area2 = 0.0;
    for i in 0..n {
        let (a, b) = (ring[i], ring[i + 1]);
        if a == b || !a.x.is_finite() || !a.y.is_finite() {
            return false;
        }
        area2 += a.x * b.y - b.x * a.y;
    }
    if area2 == 0.0 {
        return false;
    }
    let segment = |i: usize| geo::Line::new(ring[i], ring[i + 1]);
    let mut order: Vec<(f64, f64, usize)> = (0..n)
        .map(|i| {
            (
                ring[i].x.min(ring[i + 1].x),
                ring[i].x.max(ring[i + 1].x),
                i,
            )
        })
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (k, &(_, max_x, i)) in order.iter().enumerate() {
        let si = segment(i);
        for &(min_x, _, j) in &order[k + 1..] {
            if min_x > max_x {
                break;
            }
            let sj = segment(j);
            let adjacent = i.abs_diff(j) == 1 || i.abs_diff(j) == n - 1;
            match line_intersection(si, sj) {
                None => {}
                Some(LineIntersection::Collinear { .. }) => return false,
                Some(LineIntersection::SinglePoint { intersection, .. }) => {
                    // Consecutive segments meet at their shared vertex and nowhere else.
                    let shared = if j == i + 1 || (i == n - 1 && j == 0) {
                        si.end
                    } else {
                        si.start
                    };
                    if !adjacent || intersection != shared {
                        return false;
                    }
                }
            }
        }
    }
    true
}

/// A repaired geometry and what the repair did.
#[derive(Debug, Clone)]
pub struct Repair {
    /// The valid geometry (same coordinates' CRS as the input).
    pub geometry: MultiPolygon<f64>,
    /// What the repair did, Chinese and English, e.g. "rebuilt as a valid polygon".
    pub description: String,
}

/// Makes an invalid polygonal geometry valid. `area_before_m2`/after are reported in the
/// description when given a metric geometry; for lon/lat input the caller measures. Returns
/// `None` when nothing with area is left (e.g. a ring collapsed to a line).
pub fn repair_polygonal(mp: &MultiPolygon<f64>) -> Option<Repair> {
    let repaired = mp.make_valid().ok()?;
    let parts = repaired.0.len();
    if parts == 0 || repaired.unsigned_area() == 0.0 {
        return None;
    }
    let description = if parts == mp.0.len() {
        "重建为有效面 rebuilt as a valid polygon".to_string()
    } else {
        format!(
            "重建为有效面 rebuilt as a valid multipolygon of {parts} part(s) (was {})",
            mp.0.len()
        )
    };
    Some(Repair {
        geometry: repaired,
        description,
    })
}

/// A gap or an overlap between villages.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryProblem {
    /// Whether the piece is a gap or an overlap.
    pub kind: BoundaryProblemKind,
    /// Indexes (into the input slice) of the villages involved, ascending.
    pub villages: Vec<usize>,
    /// The piece's area, m².
    pub area_m2: f64,
    /// The piece's mean width, m (2 × area / perimeter): slivers are narrow.
    pub mean_width_m: f64,
    /// A point inside the piece (metric), to find it on a map.
    pub at: geo::Coord<f64>,
}

/// What kind of boundary problem a piece is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundaryProblemKind {
    /// Land inside the villages' outer boundary that no village covers.
    Gap,
    /// Land covered by two or more villages.
    Overlap,
}

fn perimeter(p: &Polygon<f64>) -> f64 {
    Euclidean.length(p.exterior())
        + p.interiors()
            .iter()
            .map(|r| Euclidean.length(r))
            .sum::<f64>()
}

fn mean_width(p: &Polygon<f64>) -> f64 {
    let per = perimeter(p);
    if per == 0.0 {
        0.0
    } else {
        2.0 * p.unsigned_area() / per
    }
}

fn inner_point(p: &Polygon<f64>) -> geo::Coord<f64> {
    use geo::InteriorPoint;
    p.interior_point()
        .map(|pt| pt.0)
        .unwrap_or(p.exterior().0[0])
}

/// Gaps and overlaps between villages (metric geometries) wider than `tolerance_m` on average.
pub fn village_boundary_problems(
    villages: &[MultiPolygon<f64>],
    tolerance_m: f64,
) -> Vec<BoundaryProblem> {
    let tree = envelope_tree(villages);
    let mut problems = Vec::new();

    for a in 0..villages.len() {
        let Some(r) = villages[a].bounding_rect() else {
            continue;
        };
        let query = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        let mut neighbours: Vec<usize> = tree
            .locate_in_envelope_intersecting(&query)
            .map(|e| e.slot)
            .filter(|&b| b > a)
            .collect();
        neighbours.sort_unstable();
        for b in neighbours {
            let overlap = villages[a].intersection(&villages[b]);
            for piece in overlap.0 {
                let width = mean_width(&piece);
                if width > tolerance_m {
                    problems.push(BoundaryProblem {
                        kind: BoundaryProblemKind::Overlap,
                        villages: vec![a, b],
                        area_m2: piece.unsigned_area(),
                        mean_width_m: width,
                        at: inner_point(&piece),
                    });
                }
            }
        }
    }

    let union = geo::unary_union(villages.iter());
    for shell in &union.0 {
        for hole in shell.interiors() {
            let gap = Polygon::new(hole.clone(), vec![]);
            let width = mean_width(&gap);
            if width <= tolerance_m {
                continue;
            }
            let ring = LineString::from(hole.0.clone());
            let Some(hr) = ring.bounding_rect() else {
                continue;
            };
            let pad = tolerance_m.max(1e-6);
            let query = AABB::from_corners(
                [hr.min().x - pad, hr.min().y - pad],
                [hr.max().x + pad, hr.max().y + pad],
            );
            let mut around: Vec<usize> = tree
                .locate_in_envelope_intersecting(&query)
                .map(|e| e.slot)
                .filter(|&i| Euclidean.distance(&ring, &villages[i]) <= pad)
                .collect();
            around.sort_unstable();
            problems.push(BoundaryProblem {
                kind: BoundaryProblemKind::Gap,
                villages: around,
                area_m2: gap.unsigned_area(),
                mean_width_m: width,
                at: inner_point(&gap),
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Rect, coord};

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![
            Rect::new(coord! {x: x0, y: y0}, coord! {x: x1, y: y1}).to_polygon(),
        ])
    }

    #[test]
    fn bowtie_is_invalid_and_repairs_into_two_parts() {
        let bowtie = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(0., 0.), (0., 10.), (10., 0.), (10., 10.), (0., 0.)]),
            vec![],
        )]);
        let problems = polygonal_problems(&bowtie);
        assert!(
            problems.iter().any(|p| p.contains("self-intersection")),
            "{problems:?}"
        );
        let fixed = repair_polygonal(&bowtie).unwrap();
        assert!(fixed.geometry.is_valid());
        assert_eq!(fixed.geometry.0.len(), 2);
        assert!((fixed.geometry.unsigned_area() - 50.0).abs() < 1e-9);
    }

    /// Deterministic pseudo-random numbers for the oracle test.
    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn fast_simple_ring_check_agrees_with_full_validation() {
        let mut seed = 11u64;
        let (mut simple, mut not_simple) = (0, 0);
        for case in 0..3000 {
            let n = 3 + case % 9;
            // Random polygons on a coarse grid: many self-intersections, touches and overlaps.
            let mut coords: Vec<(f64, f64)> = (0..n)
                .map(|_| {
                    (
                        (lcg(&mut seed) * 6.0).floor(),
                        (lcg(&mut seed) * 6.0).floor(),
                    )
                })
                .collect();
            coords.push(coords[0]);
            let ring = LineString::from(coords);
            let polygon = Polygon::new(ring.clone(), vec![]);
            let fast = ring_is_simple(&ring.0);
            if fast {
                simple += 1;
                assert!(
                    polygon.is_valid(),
                    "fast path accepted an invalid ring {ring:?}"
                );
            } else {
                not_simple += 1;
            }
        }
        assert!(simple > 100 && not_simple > 100, "{simple} / {not_simple}");
        // And a valid star-shaped ring of many vertices is accepted by the fast path.
        let star: Vec<(f64, f64)> = (0..=40)
            .map(|k| {
                let a = k as f64 / 40.0 * std::f64::consts::TAU;
                let r = if k % 2 == 0 { 10.0 } else { 4.0 };
                (r * a.cos(), r * a.sin())
            })
            .collect();
        let mut star = star;
        star[40] = star[0];
        assert!(ring_is_simple(&LineString::from(star).0));
    }

    #[test]
    fn exact_tiling_has_no_problems() {
        let villages = vec![
            square(0., 0., 100., 100.),
            square(100., 0., 200., 100.),
            square(0., 100., 200., 200.),
        ];
        assert!(village_boundary_problems(&villages, 1.0).is_empty());
    }

    #[test]
    fn gaps_and_overlaps_wider_than_tolerance_are_found() {
        // B overlaps A by 5 m; C leaves a 4 m × 100 m gap to A; D lies beyond C with a 0.2 m sliver.
        let a = square(0., 0., 100., 100.);
        let b = square(95., 0., 200., 100.);
        let c = square(-100., 0., -4., 100.);
        let top = square(-110., 100., 210., 200.);
        let bottom = square(-110., -100., 210., 0.);
        let left = square(-110., 0., -100.2, 100.);
        let right = square(200., 0., 210., 100.);
        let villages = vec![a, b, c, top, bottom, left, right];
        let problems = village_boundary_problems(&villages, 1.0);
        let overlaps: Vec<_> = problems
            .iter()
            .filter(|p| p.kind == BoundaryProblemKind::Overlap)
            .collect();
        let gaps: Vec<_> = problems
            .iter()
            .filter(|p| p.kind == BoundaryProblemKind::Gap)
            .collect();
        assert_eq!(overlaps.len(), 1, "{problems:?}");
        assert_eq!(overlaps[0].villages, vec![0, 1]);
        assert!((overlaps[0].area_m2 - 500.0).abs() < 1e-6);
        assert_eq!(
            gaps.len(),
            1,
            "the 0.2 m sliver is under the tolerance: {problems:?}"
        );
        assert!((gaps[0].area_m2 - 400.0).abs() < 1e-6);
        assert!(gaps[0].villages.contains(&0) && gaps[0].villages.contains(&2));
    }
}
