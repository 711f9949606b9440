//! Contiguity graph of village polygons, tolerant of real boundary data.
//!
//! **Parameters** ([`ContiguityParams`]): `tolerance_m` — boundaries closer than this count as
//! touching (gaps and overlaps of surveyed boundaries, default 1 m); `weak_below_m` — a shared
//! border shorter than this is a *weak* (point-like) touch, a queen but not a rook neighbour
//! (default 10 m); `bridge_within_m` — optionally connect every island (a group of villages that
//! touches no other village) to its nearest village within this distance.
//!
//! **Returns** a [`ContiguityGraph`]: edges with the shared-border length in metres, rook and
//! queen neighbour lists, connected components, islands, exclaves (villages whose polygon has
//! parts that do not touch each other) and the bridges added.
//!
//! **Algorithm.** Candidate pairs come from an R-tree of village envelopes grown by the
//! tolerance. For a pair (A, B), every boundary segment s of A near B is intersected with the
//! *capsule* (the set of points within the tolerance) of each nearby boundary segment t of B:
//! the capsule is convex, so the part of s inside it is one parameter interval, found exactly
//! from the rectangle and the two end discs. The union of those intervals is the length of s
//! that runs along B. The shared length of the pair is the mean of A's length along B and B's
//! along A (they differ slightly where the data has gaps or overlaps). Only segments running
//! alongside (within 60°) count, so a corner touch adds nothing; where a border continues
//! straight past its end the length is over-estimated by up to the tolerance at each end.
//! Where the boundaries cross (an overlap wider than the tolerance) the shared length is half the
//! perimeter of the overlap. A pair whose boundaries come within the tolerance but share less
//! than `weak_below_m` is a weak touch.
//!
//! **Complexity.** O(n log n) for the candidates plus, per pair, the segments near the other
//! village times a segment R-tree lookup: about linear in the number of boundary vertices.
//!
//! **Example.**
//! ```
//! use geo::{MultiPolygon, Rect, coord};
//! use liancun::engine::contiguity::{ContiguityGraph, ContiguityParams};
//! let square = |x: f64, y: f64| MultiPolygon(vec![Rect::new(coord! {x: x, y: y}, coord! {x: x + 100., y: y + 100.}).to_polygon()]);
//! // Two squares side by side (sharing 100 m) and one touching the second at a corner.
//! let g = ContiguityGraph::build(&[square(0., 0.), square(100., 0.), square(200., 100.)], &ContiguityParams::default());
//! assert_eq!(g.rook_neighbours(0), vec![1]);
//! assert!((g.edges[0].shared_m - 100.0).abs() <= 2.0);
//! assert_eq!(g.queen_neighbours(1), vec![0, 2]);
//! ```

use std::collections::BTreeMap;

use geo::{Area, BoundingRect, Coord, Distance, Euclidean, Line, MultiPolygon, Point};
use rstar::primitives::GeomWithData;
use rstar::{AABB, Envelope, RTree};

/// How the graph is built. Defaults: 1 m tolerance, 10 m weak-touch threshold, no bridging.
#[derive(Debug, Clone, PartialEq)]
pub struct ContiguityParams {
    /// Boundaries closer than this (m) count as touching (absorbs survey gaps and overlaps).
    pub tolerance_m: f64,
    /// A shared border shorter than this (m) is a weak, point-like touch: queen but not rook.
    pub weak_below_m: f64,
    /// Connect each island to its nearest village within this distance (m); `None`: no bridging.
    pub bridge_within_m: Option<f64>,
}

impl Default for ContiguityParams {
    fn default() -> Self {
        ContiguityParams {
            tolerance_m: 1.0,
            weak_below_m: 10.0,
            bridge_within_m: None,
        }
    }
}

/// How two villages are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// They share a border at least `weak_below_m` long.
    Rook,
    /// Their boundaries come within the tolerance over less than `weak_below_m`.
    Weak,
    /// Added to connect an island to its nearest village.
    Bridge,
}

/// A join between two villages in the contiguity graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The first village (index into the input), the smaller of the two.
    pub a: usize,
    /// The second village (index into the input), the larger of the two.
    pub b: usize,
    /// Whether the villages share a border, only touch, or were bridged.
    pub kind: EdgeKind,
    /// Shared border length (m); for a bridge, 0.
    pub shared_m: f64,
    /// Gap between the two boundaries (m): 0 for touching villages, the bridged distance for a
    /// bridge.
    pub gap_m: f64,
}

/// A part of a village polygon that does not touch its main (largest) part.
#[derive(Debug, Clone, PartialEq)]
pub struct Exclave {
    /// The village (index into the input).
    pub village: usize,
    /// The part's index in the village's MultiPolygon.
    pub part: usize,
    /// The part's area, m².
    pub area_m2: f64,
}

/// Contiguity of village polygons: who neighbours whom, how long their shared borders are, and
/// the islands, exclaves and bridges found (see the module documentation).
#[derive(Debug, Clone)]
pub struct ContiguityGraph {
    /// Number of villages (the length of the input).
    pub n: usize,
    /// Every join, rook and weak touches first (by village pair), then bridges.
    pub edges: Vec<Edge>,
    /// (neighbour, edge index) per village, ascending by neighbour.
    adjacency: Vec<Vec<(usize, usize)>>,
    /// Connected components over rook and bridge edges, largest first; villages ascending.
    pub components: Vec<Vec<usize>>,
    /// Components other than the largest (before bridging), i.e. villages cut off from the
    /// main body.
    pub islands: Vec<Vec<usize>>,
    /// Parts of village polygons not touching their village's main part, by village.
    pub exclaves: Vec<Exclave>,
    /// Islands that could not be bridged within `bridge_within_m` (when bridging was asked).
    pub unbridged: Vec<Vec<usize>>,
}

type Segment = GeomWithData<Line<f64>, ()>;

fn segments(mp: &MultiPolygon<f64>) -> Vec<Line<f64>> {
    let mut out = Vec::new();
    for p in &mp.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            out.extend(ring.lines().filter(|l| l.start != l.end));
        }
    }
    out
}

fn grown(r: geo::Rect<f64>, d: f64) -> AABB<[f64; 2]> {
    AABB::from_corners(
        [r.min().x - d, r.min().y - d],
        [r.max().x + d, r.max().y + d],
    )
}

fn line_box(l: &Line<f64>, d: f64) -> AABB<Point<f64>> {
    AABB::from_corners(
        Point::new(l.start.x.min(l.end.x) - d, l.start.y.min(l.end.y) - d),
        Point::new(l.start.x.max(l.end.x) + d, l.start.y.max(l.end.y) + d),
    )
}

fn grown_point(r: geo::Rect<f64>, d: f64) -> AABB<Point<f64>> {
    AABB::from_corners(
        Point::new(r.min().x - d, r.min().y - d),
        Point::new(r.max().x + d, r.max().y + d),
    )
}

/// The parameter interval [u0, u1] ⊂ [0, 1] of segment `s` within distance `r` of segment `t`.
fn capsule_interval(s: &Line<f64>, t: &Line<f64>, r: f64) -> Option<(f64, f64)> {
    let d = s.end - s.start;
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut take = |a: f64, b: f64| {
        let (a, b) = (a.max(0.0), b.min(1.0));
        if a <= b {
            lo = lo.min(a);
            hi = hi.max(b);
        }
    };
    // End discs: |s(u) − c|² ≤ r².
    for c in [t.start, t.end] {
        let f = s.start - c;
        let qa = d.x * d.x + d.y * d.y;
        let qb = 2.0 * (f.x * d.x + f.y * d.y);
        let qc = f.x * f.x + f.y * f.y - r * r;
        if qa == 0.0 {
            if qc <= 0.0 {
                take(0.0, 1.0);
            }
            continue;
        }
        let disc = qb * qb - 4.0 * qa * qc;
        if disc >= 0.0 {
            let sq = disc.sqrt();
            take((-qb - sq) / (2.0 * qa), (-qb + sq) / (2.0 * qa));
        }
    }
    // The rectangle along t: 0 ≤ along ≤ |t| and |across| ≤ r, linear in u.
    let tv = t.end - t.start;
    let len = (tv.x * tv.x + tv.y * tv.y).sqrt();
    if len > 0.0 {
        let (ux, uy) = (tv.x / len, tv.y / len);
        let p = s.start - t.start;
        let (along0, along_d) = (p.x * ux + p.y * uy, d.x * ux + d.y * uy);
        let (across0, across_d) = (p.x * -uy + p.y * ux, d.x * -uy + d.y * ux);
        let (mut a, mut b) = (0.0f64, 1.0f64);
        for (v0, dv, min, max) in [(along0, along_d, 0.0, len), (across0, across_d, -r, r)] {
            if dv == 0.0 {
                if v0 < min || v0 > max {
                    a = 1.0;
                    b = 0.0;
                }
            } else {
                let (u1, u2) = ((min - v0) / dv, (max - v0) / dv);
                a = a.max(u1.min(u2));
                b = b.min(u1.max(u2));
            }
        }
        if a <= b {
            take(a, b);
        }
    }
    (lo <= hi).then_some((lo, hi))
}

/// Length of the boundary of `a` that runs within `r` of the boundary of `b`.
fn length_along(
    a: &[Line<f64>],
    b_tree: &RTree<Segment>,
    near: &AABB<Point<f64>>,
    r: f64,
) -> (f64, bool) {
    let mut total = 0.0;
    let mut touched = false;
    let mut intervals: Vec<(f64, f64)> = Vec::new();
    for s in a {
        let bx = line_box(s, r);
        if !near.intersects(&bx) {
            continue;
        }
        intervals.clear();
        let sv = s.end - s.start;
        let slen = (sv.x * sv.x + sv.y * sv.y).sqrt();
        for t in b_tree.locate_in_envelope_intersecting(&bx) {
            if let Some(iv) = capsule_interval(s, t.geom(), r) {
                touched = true;
                // Only segments running alongside count towards the border length: a segment
                // meeting the other boundary at more than 60° merely touches it.
                let tv = t.geom().end - t.geom().start;
                let tlen = (tv.x * tv.x + tv.y * tv.y).sqrt();
                if (sv.x * tv.x + sv.y * tv.y).abs() >= 0.5 * slen * tlen {
                    intervals.push(iv);
                }
            }
        }
        if intervals.is_empty() {
            continue;
        }
        intervals.sort_by(|x, y| x.0.total_cmp(&y.0));
        let (mut covered, mut cur) = (0.0, intervals[0]);
        for &(u0, u1) in &intervals[1..] {
            if u0 > cur.1 {
                covered += cur.1 - cur.0;
                cur = (u0, u1);
            } else {
                cur.1 = cur.1.max(u1);
            }
        }
        covered += cur.1 - cur.0;
        total += covered * slen;
    }
    (total, touched)
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, x: usize) -> usize {
        let mut r = x;
        while self.0[r] != r {
            r = self.0[r];
        }
        let mut y = x;
        while self.0[y] != r {
            let next = self.0[y];
            self.0[y] = r;
            y = next;
        }
        r
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[ra.max(rb)] = ra.min(rb);
        }
    }
}

fn components_of(n: usize, edges: &[Edge]) -> Vec<Vec<usize>> {
    let mut uf = UnionFind((0..n).collect());
    for e in edges.iter().filter(|e| e.kind != EdgeKind::Weak) {
        uf.union(e.a, e.b);
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for v in 0..n {
        let r = uf.find(v);
        groups.entry(r).or_default().push(v);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    out
}

impl ContiguityGraph {
    /// Builds the graph of polygons given in a metric CRS (metres), slot i = village i.
    pub fn build(polygons: &[MultiPolygon<f64>], params: &ContiguityParams) -> ContiguityGraph {
        let n = polygons.len();
        let r = params.tolerance_m.max(0.0);
        let segs: Vec<Vec<Line<f64>>> = polygons.iter().map(segments).collect();
        let trees: Vec<RTree<Segment>> = segs
            .iter()
            .map(|s| RTree::bulk_load(s.iter().map(|l| GeomWithData::new(*l, ())).collect()))
            .collect();
        let rects: Vec<Option<geo::Rect<f64>>> =
            polygons.iter().map(|p| p.bounding_rect()).collect();
        let envelopes: Vec<GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, usize>> = rects
            .iter()
            .enumerate()
            .filter_map(|(i, r0)| {
                r0.map(|rect| {
                    let b = grown(rect, r);
                    GeomWithData::new(rstar::primitives::Rectangle::from_aabb(b), i)
                })
            })
            .collect();
        let env_tree = RTree::bulk_load(envelopes);
        let mut edges = Vec::new();
        for (a, rect_a) in rects.iter().enumerate() {
            let Some(rect_a) = rect_a else { continue };
            let mut candidates: Vec<usize> = env_tree
                .locate_in_envelope_intersecting(&grown(*rect_a, r))
                .map(|e| e.data)
                .filter(|&b| b > a)
                .collect();
            candidates.sort_unstable();
            for b in candidates {
                let rect_b = rects[b].expect("indexed villages have envelopes");
                let near_b = grown_point(rect_b, r);
                let near_a = grown_point(*rect_a, r);
                let (ab, touch_ab) = length_along(&segs[a], &trees[b], &near_b, r);
                if !touch_ab {
                    continue;
                }
                let (ba, _) = length_along(&segs[b], &trees[a], &near_a, r);
                let mut shared = (ab + ba) / 2.0;
                if shared < params.weak_below_m {
                    // Boundaries that cross may be an overlap wider than the tolerance: the
                    // overlap is a sliver along the border, half its perimeter long.
                    use geo::{BooleanOps, Euclidean, Length};
                    let overlap = polygons[a].intersection(&polygons[b]);
                    if overlap.unsigned_area() > 0.0 {
                        let perimeter: f64 = overlap
                            .0
                            .iter()
                            .map(|p| Euclidean.length(p.exterior()))
                            .sum();
                        shared = shared.max(perimeter / 2.0);
                    }
                }
                edges.push(Edge {
                    a,
                    b,
                    kind: if shared >= params.weak_below_m {
                        EdgeKind::Rook
                    } else {
                        EdgeKind::Weak
                    },
                    shared_m: shared,
                    gap_m: 0.0,
                });
            }
        }
        let components = components_of(n, &edges);
        let islands: Vec<Vec<usize>> = components.iter().skip(1).cloned().collect();
        let mut unbridged = Vec::new();
        if let Some(max_gap) = params.bridge_within_m {
            // Join each island to the nearest village outside it, smallest islands first, until
            // everything is one body or the remaining islands are too far.
            let mut pending = islands.clone();
            pending.sort_by_key(|c| (c.len(), c[0]));
            for island in pending {
                let inside: std::collections::HashSet<usize> = island.iter().copied().collect();
                let mut best: Option<(f64, usize, usize)> = None;
                for &v in &island {
                    let Some(rect) = rects[v] else { continue };
                    for cand in env_tree.locate_in_envelope_intersecting(&grown(rect, max_gap)) {
                        let w = cand.data;
                        if inside.contains(&w) {
                            continue;
                        }
                        let d = Euclidean.distance(&polygons[v], &polygons[w]);
                        if d <= max_gap && best.is_none_or(|(bd, bv, bw)| (d, v, w) < (bd, bv, bw))
                        {
                            best = Some((d, v, w));
                        }
                    }
                }
                match best {
                    Some((d, v, w)) => edges.push(Edge {
                        a: v.min(w),
                        b: v.max(w),
                        kind: EdgeKind::Bridge,
                        shared_m: 0.0,
                        gap_m: d,
                    }),
                    None => unbridged.push(island),
                }
            }
        }
        let components = if params.bridge_within_m.is_some() {
            components_of(n, &edges)
        } else {
            components
        };
        let mut adjacency = vec![Vec::new(); n];
        for (i, e) in edges.iter().enumerate() {
            adjacency[e.a].push((e.b, i));
            adjacency[e.b].push((e.a, i));
        }
        for list in &mut adjacency {
            list.sort_unstable();
        }
        let exclaves = polygons
            .iter()
            .enumerate()
            .flat_map(|(v, mp)| exclaves_of(v, mp, r))
            .collect();
        ContiguityGraph {
            n,
            edges,
            adjacency,
            components,
            islands,
            exclaves,
            unbridged,
        }
    }

    /// Neighbours sharing a border (and bridged ones), ascending.
    pub fn rook_neighbours(&self, v: usize) -> Vec<usize> {
        self.adjacency[v]
            .iter()
            .filter(|(_, e)| self.edges[*e].kind != EdgeKind::Weak)
            .map(|(w, _)| *w)
            .collect()
    }

    /// Neighbours including weak (point) touches, ascending.
    pub fn queen_neighbours(&self, v: usize) -> Vec<usize> {
        self.adjacency[v].iter().map(|(w, _)| *w).collect()
    }

    /// (neighbour, edge) pairs of a village.
    pub fn adjacent(&self, v: usize) -> &[(usize, usize)] {
        &self.adjacency[v]
    }

    /// Adjacency lists for zoning: rook (+ bridges), or queen when `queen` is set.
    pub fn neighbour_lists(&self, queen: bool) -> Vec<Vec<usize>> {
        (0..self.n)
            .map(|v| {
                if queen {
                    self.queen_neighbours(v)
                } else {
                    self.rook_neighbours(v)
                }
            })
            .collect()
    }

    /// Shared border length between two villages (0 when not adjacent).
    pub fn shared_length(&self, a: usize, b: usize) -> f64 {
        self.adjacency[a]
            .binary_search_by_key(&b, |(w, _)| *w)
            .map(|i| self.edges[self.adjacency[a][i].1].shared_m)
            .unwrap_or(0.0)
    }
}

/// Parts of a multipolygon other than the largest that do not come within `r` of it (directly
/// or through other touching parts).
fn exclaves_of(v: usize, mp: &MultiPolygon<f64>, r: f64) -> Vec<Exclave> {
    if mp.0.len() < 2 {
        return Vec::new();
    }
    let areas: Vec<f64> = mp.0.iter().map(|p| p.unsigned_area()).collect();
    let main = (0..mp.0.len())
        .max_by(|&a, &b| areas[a].total_cmp(&areas[b]))
        .unwrap_or(0);
    let mut reached = vec![false; mp.0.len()];
    reached[main] = true;
    let mut stack = vec![main];
    while let Some(p) = stack.pop() {
        for (q, part) in mp.0.iter().enumerate() {
            if !reached[q] && Euclidean.distance(&mp.0[p], part) <= r {
                reached[q] = true;
                stack.push(q);
            }
        }
    }
    (0..mp.0.len())
        .filter(|&p| !reached[p])
        .map(|part| Exclave {
            village: v,
            part,
            area_m2: areas[part],
        })
        .collect()
}

/// The point used for a village in distances and drawings: its interior point (inside the
/// polygon even when it is concave), in the polygon's CRS.
pub fn anchor(mp: &MultiPolygon<f64>) -> Coord<f64> {
    use geo::InteriorPoint;
    mp.interior_point()
        .map(|p: Point<f64>| p.0)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Rect, coord};

    fn square(x: f64, y: f64, size: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![
            Rect::new(coord! {x: x, y: y}, coord! {x: x + size, y: y + size}).to_polygon(),
        ])
    }

    #[test]
    fn capsule_interval_cases() {
        let s = Line::new(coord! {x: 0., y: 0.}, coord! {x: 10., y: 0.});
        // Parallel at 0.5 over x ∈ [2, 6].
        let t = Line::new(coord! {x: 2., y: 0.5}, coord! {x: 6., y: 0.5});
        let (a, b) = capsule_interval(&s, &t, 1.0).unwrap();
        let (x0, x1) = (a * 10.0, b * 10.0);
        let half = (1.0f64 - 0.25).sqrt();
        assert!(
            (x0 - (2.0 - half)).abs() < 1e-9 && (x1 - (6.0 + half)).abs() < 1e-9,
            "{x0} {x1}"
        );
        // Far away.
        let far = Line::new(coord! {x: 0., y: 5.}, coord! {x: 10., y: 5.});
        assert!(capsule_interval(&s, &far, 1.0).is_none());
        // Crossing at right angles: only the part within 1 m of the crossing line.
        let cross = Line::new(coord! {x: 5., y: -5.}, coord! {x: 5., y: 5.});
        let (a, b) = capsule_interval(&s, &cross, 1.0).unwrap();
        assert!(((b - a) * 10.0 - 2.0).abs() < 1e-9);
    }

    #[test]
    fn gaps_and_overlaps_within_tolerance_still_touch() {
        // A 0.4 m gap and a 0.3 m overlap along 100 m borders.
        let polys = [
            square(0.0, 0.0, 100.0),
            square(100.4, 0.0, 100.0),
            square(200.1, 0.0, 100.0),
        ];
        let g = ContiguityGraph::build(&polys, &ContiguityParams::default());
        assert_eq!(g.rook_neighbours(1), vec![0, 2]);
        for e in &g.edges {
            // 100 m, plus up to the tolerance (and the overlap) where the outline runs on.
            assert!((100.0..=103.0).contains(&e.shared_m), "{e:?}");
        }
        // With a tight tolerance the gap separates them.
        let tight = ContiguityParams {
            tolerance_m: 0.1,
            ..Default::default()
        };
        let g = ContiguityGraph::build(&polys, &tight);
        assert_eq!(g.rook_neighbours(0), Vec::<usize>::new());
        assert_eq!(g.islands.len(), 1);
    }

    #[test]
    fn islands_exclaves_and_bridges() {
        let mut with_exclave = square(0.0, 0.0, 100.0);
        with_exclave.0.push(square(500.0, 500.0, 10.0).0[0].clone());
        let polys = [
            with_exclave,
            square(100.0, 0.0, 100.0),
            square(1000.0, 0.0, 50.0),
        ];
        let g = ContiguityGraph::build(&polys, &ContiguityParams::default());
        assert_eq!(g.components, vec![vec![0, 1], vec![2]]);
        assert_eq!(g.islands, vec![vec![2]]);
        assert_eq!(g.exclaves.len(), 1);
        assert_eq!((g.exclaves[0].village, g.exclaves[0].part), (0, 1));
        // Bridging: the island is 665 m from village 0's exclave (800 m from village 1), beyond
        // a 500 m limit, within 1 km.
        let short = ContiguityParams {
            bridge_within_m: Some(500.0),
            ..Default::default()
        };
        let g = ContiguityGraph::build(&polys, &short);
        assert_eq!(g.unbridged, vec![vec![2]]);
        let long = ContiguityParams {
            bridge_within_m: Some(1000.0),
            ..Default::default()
        };
        let g = ContiguityGraph::build(&polys, &long);
        assert_eq!(g.components.len(), 1);
        let bridge = g.edges.iter().find(|e| e.kind == EdgeKind::Bridge).unwrap();
        assert_eq!((bridge.a, bridge.b), (0, 2));
        assert!((bridge.gap_m - 490f64.hypot(450.0)).abs() < 1e-9);
        assert_eq!(g.rook_neighbours(2), vec![0]);
    }

    #[test]
    fn oracle_against_exact_shared_edges_on_a_grid() {
        // A 6×5 grid of 100 m squares: rook neighbours share 100 m, diagonal ones touch at a
        // point (weak), nothing else touches.
        let (cols, rows) = (6, 5);
        let polys: Vec<MultiPolygon<f64>> = (0..rows)
            .flat_map(|r| (0..cols).map(move |c| square(c as f64 * 100.0, r as f64 * 100.0, 100.0)))
            .collect();
        let g = ContiguityGraph::build(&polys, &ContiguityParams::default());
        for a in 0..polys.len() {
            for b in 0..polys.len() {
                if a == b {
                    continue;
                }
                let (ra, ca, rb, cb) = (a / cols, a % cols, b / cols, b % cols);
                let dr = (ra as i64 - rb as i64).abs();
                let dc = (ca as i64 - cb as i64).abs();
                let rook = dr + dc == 1;
                let queen = dr <= 1 && dc <= 1;
                assert_eq!(g.rook_neighbours(a).contains(&b), rook, "{a} {b}");
                assert_eq!(g.queen_neighbours(a).contains(&b), queen, "{a} {b}");
                if rook {
                    // Up to the tolerance more at each end where the border runs on straight.
                    let shared = g.shared_length(a, b);
                    assert!((100.0 - 1e-6..=102.0 + 1e-6).contains(&shared), "{shared}");
                }
            }
        }
    }
}
