//! Simplification that keeps shared borders shared.
//!
//! Simplifying each village polygon on its own (Douglas–Peucker per ring) moves the two copies
//! of a shared border differently, and the map shows cracks and overlaps between neighbours.
//! Here the rings are first cut into *arcs* at junctions — vertices where the set of polygons
//! along the border changes (three villages meet, or a shared border ends on the county outline)
//! — the way TopoJSON builds its topology. Every arc is simplified once per tolerance with its
//! endpoints fixed, in a canonical direction, so both villages that own it receive the very same
//! simplified polyline.
//!
//! Borders are recognised as shared when their vertices are bit-identical, which holds for data
//! that was snapped or digitised as one topology (三调 village boundaries, our demo county).
//! Borders that only match within a tolerance are simplified independently.

use std::collections::HashMap;

use geo::{Coord, LineString, MultiPolygon, Polygon};

type Key = (u64, u64);

fn key(c: Coord<f64>) -> Key {
    // +0.0 and -0.0 are the same point.
    ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits())
}

/// What the rings around a vertex look like so far.
enum Neighbours {
    /// Every occurrence had this (unordered) pair of neighbours.
    Pair(Key, Key),
    Junction,
}

/// Polygons with their junctions found once, ready to be simplified at any tolerance.
pub struct SharedBorderSimplifier {
    rings: Vec<Vec<Vec<Vec<Coord<f64>>>>>,
    junctions: std::collections::HashSet<Key>,
}

impl SharedBorderSimplifier {
    /// Takes the polygons (any planar coordinates) and finds their junctions.
    pub fn new(polygons: &[MultiPolygon<f64>]) -> SharedBorderSimplifier {
        let rings: Vec<Vec<Vec<Vec<Coord<f64>>>>> = polygons
            .iter()
            .map(|mp| {
                mp.0.iter()
                    .map(|p| {
                        std::iter::once(p.exterior())
                            .chain(p.interiors())
                            .map(open_ring)
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut seen: HashMap<Key, Neighbours> = HashMap::new();
        for ring in rings.iter().flatten().flatten() {
            let n = ring.len();
            if n < 3 {
                continue;
            }
            for i in 0..n {
                let (prev, next) = (key(ring[(i + n - 1) % n]), key(ring[(i + 1) % n]));
                let pair = if prev <= next {
                    (prev, next)
                } else {
                    (next, prev)
                };
                seen.entry(key(ring[i]))
                    .and_modify(|state| {
                        if let Neighbours::Pair(a, b) = state
                            && (*a, *b) != pair
                        {
                            *state = Neighbours::Junction;
                        }
                    })
                    .or_insert(Neighbours::Pair(pair.0, pair.1));
            }
        }
        let junctions = seen
            .into_iter()
            .filter(|(_, s)| matches!(s, Neighbours::Junction))
            .map(|(k, _)| k)
            .collect();
        SharedBorderSimplifier { rings, junctions }
    }

    /// Number of junction vertices found (for tests and reports).
    pub fn junction_count(&self) -> usize {
        self.junctions.len()
    }

    /// The polygons simplified with Douglas–Peucker at `tolerance` (in the input's units), arc by
    /// arc. Rings keep at least their junctions; a ring left with fewer than three vertices is
    /// kept as it is (the tile encoder drops what has no area at its resolution).
    pub fn simplify(&self, tolerance: f64) -> Vec<MultiPolygon<f64>> {
        self.rings
            .iter()
            .map(|polygons| {
                MultiPolygon(
                    polygons
                        .iter()
                        .map(|rings| {
                            let mut out = rings
                                .iter()
                                .map(|ring| LineString(self.simplify_ring(ring, tolerance)));
                            let exterior = out.next().unwrap_or_else(|| LineString(vec![]));
                            Polygon::new(exterior, out.collect())
                        })
                        .collect(),
                )
            })
            .collect()
    }

    /// One ring (open, as stored) simplified and closed again.
    fn simplify_ring(&self, ring: &[Coord<f64>], tolerance: f64) -> Vec<Coord<f64>> {
        let n = ring.len();
        if n < 4 {
            return closed(ring.to_vec());
        }
        let cuts: Vec<usize> = (0..n)
            .filter(|&i| self.junctions.contains(&key(ring[i])))
            .collect();
        // A ring without junctions (an island, or a ring that is wholly one shared border such
        // as an enclave) is cut at its smallest vertex, which every owner of the ring agrees on.
        let cuts = if cuts.is_empty() {
            let smallest = (0..n)
                .min_by(|&a, &b| key(ring[a]).cmp(&key(ring[b])))
                .unwrap_or(0);
            vec![smallest]
        } else {
            cuts
        };
        let mut out = Vec::with_capacity(n + 1);
        for (k, &start) in cuts.iter().enumerate() {
            let end = if k + 1 < cuts.len() {
                cuts[k + 1]
            } else {
                cuts[0] + n
            };
            let arc: Vec<Coord<f64>> = (start..=end).map(|i| ring[i % n]).collect();
            let simplified = simplify_arc(&arc, tolerance);
            out.extend_from_slice(&simplified[..simplified.len() - 1]);
        }
        closed(out)
    }
}

/// The ring without its closing vertex and without repeated consecutive vertices.
fn open_ring(ls: &LineString<f64>) -> Vec<Coord<f64>> {
    let mut v: Vec<Coord<f64>> = Vec::with_capacity(ls.0.len());
    for &c in &ls.0 {
        if v.last().is_none_or(|&l| key(l) != key(c)) {
            v.push(c);
        }
    }
    while v.len() > 1 && key(v[0]) == key(v[v.len() - 1]) {
        v.pop();
    }
    v
}

fn closed(mut v: Vec<Coord<f64>>) -> Vec<Coord<f64>> {
    if let Some(&first) = v.first() {
        v.push(first);
    }
    v
}

/// Douglas–Peucker with both endpoints kept, computed in a canonical direction so that an arc
/// and its reverse give the same vertices.
fn simplify_arc(arc: &[Coord<f64>], tolerance: f64) -> Vec<Coord<f64>> {
    if arc.len() <= 2 {
        return arc.to_vec();
    }
    let (first, last) = (key(arc[0]), key(arc[arc.len() - 1]));
    let reversed = if first != last {
        first > last
    } else {
        key(arc[1]) > key(arc[arc.len() - 2])
    };
    let forward: Vec<Coord<f64>> = if reversed {
        arc.iter().rev().copied().collect()
    } else {
        arc.to_vec()
    };
    let mut keep = vec![false; forward.len()];
    keep[0] = true;
    keep[forward.len() - 1] = true;
    // A closed arc (one junction on the ring) has coincident endpoints: the first split is at
    // the vertex farthest from them so that the ring cannot collapse to a point.
    let mut stack = vec![(0usize, forward.len() - 1)];
    let tol2 = tolerance * tolerance;
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut worst, mut worst_d2) = (0, -1.0);
        for (i, &p) in forward.iter().enumerate().take(b).skip(a + 1) {
            let d2 = segment_distance2(p, forward[a], forward[b]);
            if d2 > worst_d2 {
                (worst, worst_d2) = (i, d2);
            }
        }
        if worst_d2 > tol2 || key(forward[a]) == key(forward[b]) {
            keep[worst] = true;
            stack.push((a, worst));
            stack.push((worst, b));
        }
    }
    let mut out: Vec<Coord<f64>> = forward
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(c, _)| *c)
        .collect();
    if reversed {
        out.reverse();
    }
    out
}

fn segment_distance2(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (a.x + t * dx - p.x, a.y + t * dy - p.y);
    ex * ex + ey * ey
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, coord, polygon};

    /// Two squares sharing a wiggly border: (0,0)-(10,0)-(10,10)-(0,10) split at x≈5.
    fn neighbours() -> Vec<MultiPolygon<f64>> {
        let border: Vec<Coord<f64>> = (0..=20)
            .map(|i| {
                // Wiggles of uneven size (0 at both ends), as digitised borders have.
                let w = if i == 0 || i == 20 {
                    0.0
                } else {
                    ((i as f64 * 0.618_034).fract() - 0.5) * 0.04
                };
                coord! {x: 5.0 + w, y: i as f64 * 0.5}
            })
            .collect();
        let mut west = vec![coord! {x: 0.0, y: 0.0}];
        west.extend(border.iter().copied());
        west.push(coord! {x: 0.0, y: 10.0});
        west.push(coord! {x: 0.0, y: 0.0});
        let mut east: Vec<Coord<f64>> = border.iter().rev().copied().collect();
        east.push(coord! {x: 10.0, y: 0.0});
        east.insert(0, coord! {x: 10.0, y: 10.0});
        east.push(coord! {x: 10.0, y: 10.0});
        vec![
            MultiPolygon(vec![Polygon::new(LineString(west), vec![])]),
            MultiPolygon(vec![Polygon::new(LineString(east), vec![])]),
        ]
    }

    fn shared_vertices(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> Vec<Key> {
        let kb: std::collections::HashSet<Key> =
            b.0[0].exterior().0.iter().map(|&c| key(c)).collect();
        let mut v: Vec<Key> = a.0[0]
            .exterior()
            .0
            .iter()
            .map(|&c| key(c))
            .filter(|k| kb.contains(k))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn shared_border_stays_identical_after_simplification() {
        let input = neighbours();
        let s = SharedBorderSimplifier::new(&input);
        // The border's two ends are junctions (where it meets the outer square).
        assert!(s.junction_count() >= 2);
        for tolerance in [1e-12, 0.005, 0.02, 0.5, 3.0] {
            let out = s.simplify(tolerance);
            let west: Vec<Key> = out[0].0[0].exterior().0.iter().map(|&c| key(c)).collect();
            let east: Vec<Key> = out[1].0[0].exterior().0.iter().map(|&c| key(c)).collect();
            // Every border vertex the west polygon keeps on x≈5 the east one keeps too.
            let on_border = |k: &Key| (f64::from_bits(k.0) - 5.0).abs() < 0.1;
            let mut w: Vec<Key> = west.iter().copied().filter(on_border).collect();
            let mut e: Vec<Key> = east.iter().copied().filter(on_border).collect();
            w.sort();
            w.dedup();
            e.sort();
            e.dedup();
            assert_eq!(w, e, "tolerance {tolerance}");
            assert_eq!(shared_vertices(&out[0], &out[1]), w);
            // The areas still tile the square.
            let total: f64 = out.iter().map(|m| m.unsigned_area()).sum();
            assert!(
                (total - 100.0).abs() < 1e-9,
                "tolerance {tolerance}: {total}"
            );
        }
        // At a coarse tolerance the wiggles go; at a fine one they stay.
        assert!(s.simplify(3.0)[0].0[0].exterior().0.len() < 8);
        // (Four of the 21 border vertices are exactly collinear with their neighbours.)
        assert_eq!(s.simplify(1e-12)[0].0[0].exterior().0.len(), 24 - 4);
    }

    #[test]
    fn island_ring_keeps_an_area() {
        let island = MultiPolygon(vec![polygon![
            (x: 0.0, y: 0.0), (x: 4.0, y: 0.1), (x: 8.0, y: 0.0), (x: 8.0, y: 8.0), (x: 0.0, y: 8.0)
        ]]);
        let out = SharedBorderSimplifier::new(std::slice::from_ref(&island)).simplify(1.0);
        assert!(out[0].unsigned_area() > 60.0);
        assert!(out[0].0[0].exterior().0.len() <= 6);
    }

    #[test]
    fn enclave_hole_and_inner_polygon_stay_identical() {
        let hole = LineString::from(vec![
            (2.0, 2.0),
            (3.0, 2.05),
            (4.0, 2.0),
            (4.0, 4.0),
            (2.0, 4.0),
            (2.0, 2.0),
        ]);
        let outer = Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (6.0, 0.0),
                (6.0, 6.0),
                (0.0, 6.0),
                (0.0, 0.0),
            ]),
            vec![hole.clone()],
        );
        let mut inner_ring = hole.0.clone();
        inner_ring.reverse();
        let inner = Polygon::new(LineString(inner_ring), vec![]);
        let input = vec![MultiPolygon(vec![outer]), MultiPolygon(vec![inner])];
        let out = SharedBorderSimplifier::new(&input).simplify(0.2);
        let mut h: Vec<Key> = out[0].0[0].interiors()[0]
            .0
            .iter()
            .map(|&c| key(c))
            .collect();
        let mut i: Vec<Key> = out[1].0[0].exterior().0.iter().map(|&c| key(c)).collect();
        h.sort();
        h.dedup();
        i.sort();
        i.dedup();
        assert_eq!(h, i);
        assert_eq!(h.len(), 4, "the 0.05 wiggle goes at tolerance 0.2");
    }
}
