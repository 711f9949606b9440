//! The demo county's road network, shaped like a county's: a hierarchy of roads that join
//! neighbours rather than spokes from each township seat.
//!
//! - 村道 (village roads): each village to its near neighbours, kept only where the roads so far
//!   would make a detour of more than [`VILLAGE_DETOUR`] (a greedy spanner over the 8 nearest
//!   neighbours), then joined into one network. Every village is on it.
//! - 乡道 (township roads): the village roads on the shortest paths from a township's seat to its
//!   villages, upgraded.
//! - 县道 (county roads): between township seats, again where the county roads so far detour
//!   more than [`COUNTY_DETOUR`], meandering gently as roads following the terrain do.
//! - Where two roads cross, both get the crossing as a vertex: a junction, as noded road data
//!   has (the network joins lines at shared vertices only).
//!
//! Deterministic for a given seed; pure (points in, polylines out, metric coordinates).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use geo::Coord;

use crate::engine::random::Rng;

/// A village road is added when the network so far is longer than this many times the
/// straight distance between two neighbours.
pub const VILLAGE_DETOUR: f64 = 1.6;
/// The same for county roads between township seats.
pub const COUNTY_DETOUR: f64 = 1.35;
/// Neighbours considered per village.
const NEIGHBOURS: usize = 8;

/// Speeds of the demo's road classes (km/h), set on each road: liancun's assumptions for a
/// plains county, between the JTG B01-2014 design speeds of the grades these classes usually
/// have (三级 30–40, 四级 20–30) and what paved county and township roads are driven at.
pub const COUNTY_KMH: f64 = 50.0;
pub const TOWNSHIP_KMH: f64 = 40.0;
pub const VILLAGE_KMH: f64 = 25.0;

/// A road of the demo network.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoRoad {
    /// 县道, 乡道 or 村道.
    pub class: &'static str,
    pub name: String,
    pub speed_kmh: f64,
    pub line: Vec<Coord<f64>>,
}

/// A place the roads join: a village centre, its township, its name.
#[derive(Debug, Clone)]
pub struct RoadPlace {
    pub point: Coord<f64>,
    pub town: String,
    pub name: String,
}

fn dist(a: Coord<f64>, b: Coord<f64>) -> f64 {
    (a.x - b.x).hypot(a.y - b.y)
}

/// A graph over the places, edges weighted by length.
struct Graph {
    adj: Vec<Vec<(usize, f64)>>,
}

impl Graph {
    fn new(n: usize) -> Graph {
        Graph {
            adj: vec![Vec::new(); n],
        }
    }
    fn add(&mut self, a: usize, b: usize, w: f64) {
        self.adj[a].push((b, w));
        self.adj[b].push((a, w));
    }
    /// Shortest path lengths from `from`, not beyond `limit`; predecessors for paths.
    fn dijkstra(&self, from: usize, limit: f64) -> (Vec<f64>, Vec<usize>) {
        #[derive(PartialEq)]
        struct Item(f64, usize);
        impl Eq for Item {}
        impl Ord for Item {
            fn cmp(&self, o: &Self) -> Ordering {
                o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
            }
        }
        impl PartialOrd for Item {
            fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
                Some(self.cmp(o))
            }
        }
        let n = self.adj.len();
        let mut d = vec![f64::INFINITY; n];
        let mut pred = vec![usize::MAX; n];
        let mut heap = BinaryHeap::new();
        d[from] = 0.0;
        heap.push(Item(0.0, from));
        while let Some(Item(du, u)) = heap.pop() {
            if du > d[u] || du > limit {
                continue;
            }
            for &(v, w) in &self.adj[u] {
                let dv = du + w;
                if dv < d[v] {
                    d[v] = dv;
                    pred[v] = u;
                    heap.push(Item(dv, v));
                }
            }
        }
        (d, pred)
    }
}

/// Greedy spanner: candidate pairs by length, each added when the graph so far is more than
/// `detour` times longer between its ends. Returns the added pairs.
fn spanner(
    points: &[Coord<f64>],
    candidates: &[(usize, usize)],
    detour: f64,
) -> (Graph, Vec<(usize, usize)>) {
    let mut pairs: Vec<(f64, usize, usize)> = candidates
        .iter()
        .map(|&(a, b)| (dist(points[a], points[b]), a.min(b), a.max(b)))
        .collect();
    pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    pairs.dedup_by(|x, y| x.1 == y.1 && x.2 == y.2);
    let mut g = Graph::new(points.len());
    let mut kept = Vec::new();
    for (d, a, b) in pairs {
        if d <= 0.0 {
            continue;
        }
        let (reach, _) = g.dijkstra(a, detour * d);
        if reach[b] > detour * d {
            g.add(a, b, d);
            kept.push((a, b));
        }
    }
    (g, kept)
}

/// Joins the components of `g` by their nearest pairs until it is one.
fn connect(points: &[Coord<f64>], g: &mut Graph, kept: &mut Vec<(usize, usize)>) {
    loop {
        let (reach, _) = g.dijkstra(0, f64::INFINITY);
        let (inside, outside): (Vec<usize>, Vec<usize>) =
            (0..points.len()).partition(|&i| reach[i].is_finite());
        if outside.is_empty() {
            return;
        }
        let mut best = (f64::INFINITY, 0, 0);
        for &a in &inside {
            for &b in &outside {
                let d = dist(points[a], points[b]);
                if d < best.0 {
                    best = (d, a, b);
                }
            }
        }
        g.add(best.1, best.2, best.0.max(1e-9));
        kept.push((best.1.min(best.2), best.1.max(best.2)));
    }
}

/// A gently curving line from `a` to `b`: vertices every `step` metres, offset sideways by a
/// smooth random wave of at most `bend` × the length (ends fixed).
fn meander(a: Coord<f64>, b: Coord<f64>, step: f64, bend: f64, rng: &mut Rng) -> Vec<Coord<f64>> {
    let len = dist(a, b);
    let k = ((len / step).ceil() as usize).max(1);
    let (nx, ny) = if len > 0.0 {
        (-(b.y - a.y) / len, (b.x - a.x) / len)
    } else {
        (0.0, 0.0)
    };
    let amp1 = (rng.next_f64() - 0.5) * 2.0 * bend * len;
    let amp2 = (rng.next_f64() - 0.5) * bend * len;
    (0..=k)
        .map(|i| {
            let t = i as f64 / k as f64;
            let s = std::f64::consts::PI * t;
            let off = amp1 * s.sin() + amp2 * (2.0 * s).sin();
            Coord {
                x: a.x + (b.x - a.x) * t + nx * off,
                y: a.y + (b.y - a.y) * t + ny * off,
            }
        })
        .collect()
}

/// The county's roads for these places; `seats[t]` is the place index of township `t`'s seat.
pub fn county_roads(
    places: &[RoadPlace],
    seats: &BTreeMap<String, usize>,
    seed: u64,
) -> Vec<DemoRoad> {
    let mut rng = Rng::new(seed ^ 0x526f_6164_7321);
    let points: Vec<Coord<f64>> = places.iter().map(|p| p.point).collect();
    let n = points.len();
    if n < 2 {
        return vec![];
    }
    // Village roads: a spanner over each village's nearest neighbours, made connected.
    let mut candidates = Vec::new();
    for a in 0..n {
        let mut near: Vec<(f64, usize)> = (0..n)
            .filter(|&b| b != a)
            .map(|b| (dist(points[a], points[b]), b))
            .collect();
        near.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        candidates.extend(near.iter().take(NEIGHBOURS).map(|&(_, b)| (a, b)));
    }
    let (mut graph, mut village_edges) = spanner(&points, &candidates, VILLAGE_DETOUR);
    connect(&points, &mut graph, &mut village_edges);
    // Township roads: the village roads on the shortest paths from each seat to its villages.
    let mut township: BTreeMap<(usize, usize), String> = BTreeMap::new();
    for (town, &seat) in seats {
        let (_, pred) = graph.dijkstra(seat, f64::INFINITY);
        for (v, place) in places.iter().enumerate() {
            if &place.town != town {
                continue;
            }
            let mut at = v;
            while at != seat && pred[at] != usize::MAX {
                let p = pred[at];
                township
                    .entry((at.min(p), at.max(p)))
                    .or_insert_with(|| town.clone());
                at = p;
            }
        }
    }
    let mut roads = Vec::new();
    for &(a, b) in &village_edges {
        let line = meander(points[a], points[b], 400.0, 0.08, &mut rng);
        let road = match township.get(&(a, b)) {
            Some(_) => DemoRoad {
                class: "乡道",
                name: format!("{}—{}乡道", places[a].name, places[b].name),
                speed_kmh: TOWNSHIP_KMH,
                line,
            },
            None => DemoRoad {
                class: "村道",
                name: format!("{}—{}村道", places[a].name, places[b].name),
                speed_kmh: VILLAGE_KMH,
                line,
            },
        };
        roads.push(road);
    }
    // County roads between seats.
    let seat_list: Vec<usize> = seats.values().copied().collect();
    if seat_list.len() > 1 {
        let seat_points: Vec<Coord<f64>> = seat_list.iter().map(|&s| points[s]).collect();
        let all: Vec<(usize, usize)> = (0..seat_list.len())
            .flat_map(|a| (a + 1..seat_list.len()).map(move |b| (a, b)))
            .collect();
        let (_, county_edges) = spanner(&seat_points, &all, COUNTY_DETOUR);
        for (k, &(a, b)) in county_edges.iter().enumerate() {
            let (pa, pb) = (seat_list[a], seat_list[b]);
            roads.push(DemoRoad {
                class: "县道",
                name: format!("X{:03} {}—{}", 101 + k, places[pa].town, places[pb].town),
                speed_kmh: COUNTY_KMH,
                line: meander(points[pa], points[pb], 500.0, 0.06, &mut rng),
            });
        }
    }
    node_crossings(&mut roads);
    roads
}

/// Where two roads' segments cross, inserts the crossing point into both (a junction).
pub fn node_crossings(roads: &mut [DemoRoad]) {
    use rstar::primitives::GeomWithData;
    use rstar::{AABB, RTree};
    type Seg = GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, (usize, usize)>;
    let segs: Vec<Seg> = roads
        .iter()
        .enumerate()
        .flat_map(|(r, road)| {
            road.line.windows(2).enumerate().map(move |(s, w)| {
                GeomWithData::new(
                    rstar::primitives::Rectangle::from_corners(
                        [w[0].x.min(w[1].x), w[0].y.min(w[1].y)],
                        [w[0].x.max(w[1].x), w[0].y.max(w[1].y)],
                    ),
                    (r, s),
                )
            })
        })
        .collect();
    let tree = RTree::bulk_load(segs.clone());
    // (road, segment) → crossing points with their position along the segment.
    type Crossings = Vec<(f64, Coord<f64>)>;
    let mut inserts: BTreeMap<(usize, usize), Crossings> = BTreeMap::new();
    for s in &segs {
        let (ra, sa) = s.data;
        let (a0, a1) = (roads[ra].line[sa], roads[ra].line[sa + 1]);
        let env = AABB::from_corners(s.geom().lower(), s.geom().upper());
        for o in tree.locate_in_envelope_intersecting(&env) {
            let (rb, sb) = o.data;
            if (rb, sb) <= (ra, sa) || rb == ra {
                continue;
            }
            let (b0, b1) = (roads[rb].line[sb], roads[rb].line[sb + 1]);
            if let Some((t, u, p)) = crossing(a0, a1, b0, b1) {
                inserts.entry((ra, sa)).or_default().push((t, p));
                inserts.entry((rb, sb)).or_default().push((u, p));
            }
        }
    }
    // Insert from the last segment back so earlier indices stay valid.
    for ((r, s), mut points) in inserts.into_iter().rev() {
        points.sort_by(|x, y| x.0.total_cmp(&y.0));
        let at = s + 1;
        for (k, (_, p)) in points.into_iter().enumerate() {
            roads[r].line.insert(at + k, p);
        }
    }
}

/// The proper crossing of segments a0–a1 and b0–b1 (not at an end of either): the positions
/// along each (0..1) and the point.
fn crossing(
    a0: Coord<f64>,
    a1: Coord<f64>,
    b0: Coord<f64>,
    b1: Coord<f64>,
) -> Option<(f64, f64, Coord<f64>)> {
    let (dx, dy) = (a1.x - a0.x, a1.y - a0.y);
    let (ex, ey) = (b1.x - b0.x, b1.y - b0.y);
    let den = dx * ey - dy * ex;
    if den.abs() < 1e-12 {
        return None; // parallel
    }
    let (fx, fy) = (b0.x - a0.x, b0.y - a0.y);
    let t = (fx * ey - fy * ex) / den;
    let u = (fx * dy - fy * dx) / den;
    const EDGE: f64 = 1e-6;
    if t <= EDGE || t >= 1.0 - EDGE || u <= EDGE || u >= 1.0 - EDGE {
        return None;
    }
    Some((
        t,
        u,
        Coord {
            x: a0.x + t * dx,
            y: a0.y + t * dy,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid_places(n: usize, rng: &mut Rng) -> (Vec<RoadPlace>, BTreeMap<String, usize>) {
        let side = (n as f64).sqrt().ceil() as usize;
        let places: Vec<RoadPlace> = (0..n)
            .map(|i| {
                let (gx, gy) = ((i % side) as f64, (i / side) as f64);
                RoadPlace {
                    point: Coord {
                        x: gx * 1700.0 + rng.next_f64() * 900.0,
                        y: gy * 1700.0 + rng.next_f64() * 900.0,
                    },
                    town: format!("T{}", (i % side) / 4 + 10 * ((i / side) / 4)),
                    name: format!("V{i}"),
                }
            })
            .collect();
        let mut seats = BTreeMap::new();
        for (i, p) in places.iter().enumerate() {
            seats.entry(p.town.clone()).or_insert(i);
        }
        (places, seats)
    }

    /// Length of the road network between place `a` and every place, over the road vertices
    /// (brute-force Dijkstra on the polylines, vertices joined when they coincide).
    fn network_lengths(roads: &[DemoRoad], places: &[RoadPlace], a: usize) -> Vec<f64> {
        let key = |c: Coord<f64>| ((c.x * 100.0).round() as i64, (c.y * 100.0).round() as i64);
        let mut ids: BTreeMap<(i64, i64), usize> = BTreeMap::new();
        let mut g = Graph::new(0);
        let mut id = |c: Coord<f64>, g: &mut Graph| {
            let n = ids.len();
            let i = *ids.entry(key(c)).or_insert(n);
            if i == g.adj.len() {
                g.adj.push(Vec::new());
            }
            i
        };
        for r in roads {
            for w in r.line.windows(2) {
                let (x, y) = (id(w[0], &mut g), id(w[1], &mut g));
                g.add(x, y, dist(w[0], w[1]));
            }
        }
        let from = ids[&key(places[a].point)];
        let (d, _) = g.dijkstra(from, f64::INFINITY);
        places
            .iter()
            .map(|p| ids.get(&key(p.point)).map_or(f64::INFINITY, |&i| d[i]))
            .collect()
    }

    #[test]
    fn every_village_is_on_one_network_without_long_detours() {
        let mut rng = Rng::new(3);
        let (places, seats) = grid_places(150, &mut rng);
        let roads = county_roads(&places, &seats, 7);
        let from0 = network_lengths(&roads, &places, 0);
        assert!(
            from0.iter().all(|d| d.is_finite()),
            "a village is off the network"
        );
        // Neighbours are joined without long detours: the median ratio of road to straight
        // distance between villages within 5 km stays low.
        let mut ratios = Vec::new();
        for a in (0..places.len()).step_by(15) {
            let d = network_lengths(&roads, &places, a);
            for b in 0..places.len() {
                let s = dist(places[a].point, places[b].point);
                if b != a && s < 5000.0 {
                    ratios.push(d[b] / s);
                }
            }
        }
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        let worst = ratios[ratios.len() - 1];
        assert!(median < 1.45, "median detour {median}");
        assert!(worst < 3.5, "worst detour {worst}");
        // All three classes, and no spokes: each village has few roads.
        for class in ["县道", "乡道", "村道"] {
            assert!(roads.iter().any(|r| r.class == class), "no {class}");
        }
        assert!(roads.len() < places.len() * 3, "{} roads", roads.len());
        assert_eq!(roads, county_roads(&places, &seats, 7), "deterministic");
    }

    #[test]
    fn the_engine_network_agrees_with_a_brute_force_dijkstra_on_these_roads() {
        use crate::engine::network::{NetCost, Network, RoadLine};
        let mut rng = Rng::new(9);
        let (places, seats) = grid_places(120, &mut rng);
        let roads = county_roads(&places, &seats, 4);
        let lines: Vec<RoadLine> = roads
            .iter()
            .map(|r| RoadLine {
                coords: r.line.clone(),
                speed_kmh: r.speed_kmh,
            })
            .collect();
        let net = Network::build(&lines).unwrap();
        assert_eq!(net.component_count(), 1, "one connected network");
        let access: Vec<_> = places.iter().map(|p| net.access(p.point)).collect();
        let (mut same, mut total) = (0, 0);
        for a in (0..places.len()).step_by(17) {
            let brute = network_lengths(&roads, &places, a);
            let reach = net.reach(&access[a], NetCost::Length, f64::INFINITY);
            for b in 0..places.len() {
                let engine = net.cost_to(&reach, &access[b], NetCost::Length);
                let straight = dist(places[a].point, places[b].point);
                // The engine may also walk to a road up to 150 m away (never longer than the
                // roads alone, never shorter than a straight line).
                assert!(
                    engine <= brute[b] + 1e-6,
                    "{a}->{b}: {engine} > {}",
                    brute[b]
                );
                assert!(engine >= straight - 1e-6, "{a}->{b}: {engine} < {straight}");
                total += 1;
                if (engine - brute[b]).abs() < 1e-6 * brute[b].max(1.0) {
                    same += 1;
                }
            }
        }
        assert!(
            same * 10 >= total * 9,
            "only {same} of {total} pairs agree exactly"
        );
    }

    #[test]
    fn crossing_roads_meet_at_a_junction() {
        let line = |a: (f64, f64), b: (f64, f64)| DemoRoad {
            class: "村道",
            name: String::new(),
            speed_kmh: 25.0,
            line: vec![Coord { x: a.0, y: a.1 }, Coord { x: b.0, y: b.1 }],
        };
        let mut roads = vec![
            line((0.0, 0.0), (10.0, 10.0)),
            line((0.0, 10.0), (10.0, 0.0)),
            line((20.0, 0.0), (30.0, 0.0)),
        ];
        node_crossings(&mut roads);
        assert_eq!(roads[0].line.len(), 3);
        assert_eq!(roads[1].line.len(), 3);
        assert_eq!(roads[0].line[1], roads[1].line[1]);
        assert!((roads[0].line[1].x - 5.0).abs() < 1e-9 && (roads[0].line[1].y - 5.0).abs() < 1e-9);
        assert_eq!(
            roads[2].line.len(),
            2,
            "a road that crosses nothing is unchanged"
        );
        // Ends touching are not crossings.
        let mut touching = vec![
            line((0.0, 0.0), (10.0, 0.0)),
            line((10.0, 0.0), (10.0, 10.0)),
        ];
        node_crossings(&mut touching);
        assert_eq!((touching[0].line.len(), touching[1].line.len()), (2, 2));
    }
}
