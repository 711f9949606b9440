//! Road network: shortest paths on the roads layer, for network distances and service areas.
//!
//! The graph: every road vertex is a node — vertices closer than [`NODE_TOLERANCE_M`] are one
//! node, so lines that meet at an end or share a vertex are joined; lines that cross without a
//! shared vertex are not (an overpass is no junction; noding the roads is the data's job, as in
//! any GIS network tool). Every segment is an edge usable both ways.
//!
//! A point (a demand or a site) joins the network at the nearest point of the nearest segment,
//! and also of any other road within [`ACCESS_SLACK_M`] more (up to [`MAX_SNAPS`]): a house between
//! two roads that cross without a junction can walk to either, so a clinic 200 m away is not
//! reached through the township seat because the nearest road happens to be the other one. The
//! straight access leg from the point to the road counts in its cost (at walking speed when the
//! cost is time). Costs are lengths in metres or travel times in seconds, each segment at the
//! speed of its road (the road's `speed_kmh`, else its class's default from [`default_speed_kmh`]).
//!
//! Shortest paths are Dijkstra from a point's access (both ends of its segment), bounded by a
//! budget when only the reach matters; a service area is the road network reachable within the
//! budget (whole and partial segments, the access leg) buffered by [`SERVICE_AREA_TRIM_M`].

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};

use geo::{Buffer, Coord, Line, LineString, MultiLineString, MultiPolygon};
use rstar::RTree;
use rstar::primitives::GeomWithData;

/// Road vertices closer than this are the same node.
pub const NODE_TOLERANCE_M: f64 = 1.0;
/// Half-width of the band around the reachable roads that makes a service area a polygon
/// (ArcGIS Network Analyst's default trim distance is 100 m as well).
pub const SERVICE_AREA_TRIM_M: f64 = 100.0;
/// Walking speed on the access leg between a point and its road when the cost is time.
pub const ACCESS_SPEED_KMH: f64 = 5.0;
/// Roads up to this much farther than the nearest one are joined too.
pub const ACCESS_SLACK_M: f64 = 150.0;
/// At most this many joins per point.
pub const MAX_SNAPS: usize = 4;

/// Default speed of a road class (km/h) when the road has no `speed_kmh`, with the source.
/// Highway grades: design speeds of JTG B01-2014 《公路工程技术标准》 (the lower value of each
/// grade's range, as rural roads are driven); administrative classes mapped to their usual grade.
pub fn default_speed_kmh(class: &str) -> (f64, &'static str) {
    const JTG: &str = "JTG B01-2014 设计速度（取下限）";
    let c = class.trim();
    match c {
        "高速公路" | "高速" | "motorway" => (100.0, JTG),
        "一级公路" | "国道" | "trunk" => (80.0, JTG),
        "二级公路" | "省道" | "primary" => (60.0, JTG),
        "三级公路" | "县道" | "secondary" => (40.0, JTG),
        "四级公路" | "乡道" | "tertiary" => (30.0, JTG),
        "村道" | "农村道路" | "unclassified" | "residential" => (20.0, JTG),
        _ => (
            20.0,
            "liancun 假定：未知等级按村道 20 km/h / unknown class taken as a village road",
        ),
    }
}

/// A road as the network sees it: its vertices (metric CRS) and its speed.
#[derive(Debug, Clone)]
pub struct RoadLine {
    /// The road's vertices in the workspace's metric CRS (metres).
    pub coords: Vec<Coord<f64>>,
    /// The speed driven on it, km/h (from the road's speed or its class).
    pub speed_kmh: f64,
}

/// What a path costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetCost {
    /// Metres along the roads (plus the access legs).
    Length,
    /// Seconds at each road's speed (access legs at walking speed).
    Time,
}

#[derive(Debug, Clone, Copy)]
struct Edge {
    a: u32,
    b: u32,
    length: f64,
    /// Metres per second.
    speed: f64,
}

/// One way onto the roads: a point of a segment.
#[derive(Debug, Clone, Copy)]
struct Snap {
    edge: u32,
    /// Position along the edge from its `a` end, 0..=1.
    t: f64,
    on_road: Coord<f64>,
    /// Straight distance from the point to `on_road` (metres).
    leg_m: f64,
}

/// Where a point joins the network: the nearest road, and the others nearly as near.
#[derive(Debug, Clone)]
pub struct Access {
    snaps: Vec<Snap>,
    /// Straight distance from the point to the nearest road (metres).
    pub leg_m: f64,
    from: Coord<f64>,
}

/// Costs from one access to every node (`INFINITY` where not reached within the budget).
pub struct Reach {
    source: Access,
    node_cost: Vec<f64>,
    budget: f64,
}

/// Why a road network cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The roads layer has no segment of two distinct vertices.
    #[error("道路图层没有线段 / the roads layer has no segment")]
    Empty,
}

/// The road network as an undirected graph: vertices within [`NODE_TOLERANCE_M`] merged into
/// nodes, one edge per segment (length in metres, speed), an R-tree of segments for snapping
/// points onto it, and the connected component of each node.
pub struct Network {
    nodes: Vec<Coord<f64>>,
    edges: Vec<Edge>,
    /// CSR adjacency: the edges at node `v` are `adj[offsets[v]..offsets[v + 1]]`.
    offsets: Vec<u32>,
    adj: Vec<u32>,
    tree: RTree<GeomWithData<Line<f64>, u32>>,
    component: Vec<u32>,
}

impl Network {
    /// Builds the network from the roads' vertices (non-finite ones skipped); an error when no
    /// segment remains.
    pub fn build(lines: &[RoadLine]) -> Result<Network, NetworkError> {
        let mut nodes: Vec<Coord<f64>> = Vec::new();
        let mut grid: HashMap<(i64, i64), Vec<u32>> = HashMap::new();
        let cell = |c: Coord<f64>| {
            (
                (c.x / NODE_TOLERANCE_M).floor() as i64,
                (c.y / NODE_TOLERANCE_M).floor() as i64,
            )
        };
        let mut node_of = |c: Coord<f64>, nodes: &mut Vec<Coord<f64>>| -> u32 {
            let (cx, cy) = cell(c);
            for dx in -1..=1 {
                for dy in -1..=1 {
                    if let Some(list) = grid.get(&(cx + dx, cy + dy)) {
                        for &v in list {
                            let n = nodes[v as usize];
                            if (n.x - c.x).hypot(n.y - c.y) < NODE_TOLERANCE_M {
                                return v;
                            }
                        }
                    }
                }
            }
            let v = nodes.len() as u32;
            nodes.push(c);
            grid.entry((cx, cy)).or_default().push(v);
            v
        };
        let mut edges = Vec::new();
        for line in lines {
            let speed = line.speed_kmh / 3.6;
            let mut prev: Option<u32> = None;
            for &c in &line.coords {
                if !(c.x.is_finite() && c.y.is_finite()) {
                    continue;
                }
                let v = node_of(c, &mut nodes);
                if let Some(u) = prev
                    && u != v
                {
                    let (p, q) = (nodes[u as usize], nodes[v as usize]);
                    edges.push(Edge {
                        a: u,
                        b: v,
                        length: (p.x - q.x).hypot(p.y - q.y),
                        speed,
                    });
                }
                prev = Some(v);
            }
        }
        if edges.is_empty() {
            return Err(NetworkError::Empty);
        }
        let mut degree = vec![0u32; nodes.len() + 1];
        for e in &edges {
            degree[e.a as usize + 1] += 1;
            degree[e.b as usize + 1] += 1;
        }
        for v in 1..degree.len() {
            degree[v] += degree[v - 1];
        }
        let offsets = degree;
        let mut fill = offsets.clone();
        let mut adj = vec![0u32; offsets[nodes.len()] as usize];
        for (k, e) in edges.iter().enumerate() {
            for v in [e.a, e.b] {
                adj[fill[v as usize] as usize] = k as u32;
                fill[v as usize] += 1;
            }
        }
        let tree = RTree::bulk_load(
            edges
                .iter()
                .enumerate()
                .map(|(k, e)| {
                    GeomWithData::new(
                        Line::new(nodes[e.a as usize], nodes[e.b as usize]),
                        k as u32,
                    )
                })
                .collect(),
        );
        let mut net = Network {
            nodes,
            edges,
            offsets,
            adj,
            tree,
            component: vec![],
        };
        net.component = net.components();
        Ok(net)
    }

    /// Number of nodes (merged vertices).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of edges (road segments between distinct nodes).
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Connected parts of the network, numbered from 0.
    pub fn component_count(&self) -> usize {
        self.component
            .iter()
            .max()
            .map(|&c| c as usize + 1)
            .unwrap_or(0)
    }

    fn components(&self) -> Vec<u32> {
        let mut comp = vec![u32::MAX; self.nodes.len()];
        let mut next = 0;
        let mut stack = Vec::new();
        for s in 0..self.nodes.len() {
            if comp[s] != u32::MAX {
                continue;
            }
            comp[s] = next;
            stack.push(s as u32);
            while let Some(v) = stack.pop() {
                for &e in self.edges_at(v) {
                    let w = self.other(e, v);
                    if comp[w as usize] == u32::MAX {
                        comp[w as usize] = next;
                        stack.push(w);
                    }
                }
            }
            next += 1;
        }
        comp
    }

    fn edges_at(&self, v: u32) -> &[u32] {
        &self.adj[self.offsets[v as usize] as usize..self.offsets[v as usize + 1] as usize]
    }

    fn other(&self, e: u32, v: u32) -> u32 {
        let e = &self.edges[e as usize];
        if e.a == v { e.b } else { e.a }
    }

    fn edge_cost(&self, e: u32, cost: NetCost) -> f64 {
        let e = &self.edges[e as usize];
        match cost {
            NetCost::Length => e.length,
            NetCost::Time => e.length / e.speed,
        }
    }

    fn leg_cost(leg_m: f64, cost: NetCost) -> f64 {
        match cost {
            NetCost::Length => leg_m,
            NetCost::Time => leg_m / (ACCESS_SPEED_KMH / 3.6),
        }
    }

    fn snap(&self, k: u32, p: Coord<f64>) -> Snap {
        let e = &self.edges[k as usize];
        let (a, b) = (self.nodes[e.a as usize], self.nodes[e.b as usize]);
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let on_road = Coord {
            x: a.x + t * dx,
            y: a.y + t * dy,
        };
        Snap {
            edge: k,
            t,
            on_road,
            leg_m: (p.x - on_road.x).hypot(p.y - on_road.y),
        }
    }

    /// Where `p` joins the network: the nearest segment, and up to [`MAX_SNAPS`] − 1 more within
    /// [`ACCESS_SLACK_M`] of it (of different roads' segments or the same road's, alike).
    pub fn access(&self, p: Coord<f64>) -> Access {
        let mut snaps: Vec<Snap> = Vec::new();
        for (item, d2) in self
            .tree
            .nearest_neighbor_iter_with_distance_2(&geo::Point(p))
        {
            let d = d2.sqrt();
            if let Some(first) = snaps.first()
                && (d > first.leg_m + ACCESS_SLACK_M || snaps.len() >= MAX_SNAPS)
            {
                break;
            }
            snaps.push(self.snap(item.data, p));
        }
        let leg_m = snaps.first().expect("a network has edges").leg_m;
        Access {
            snaps,
            leg_m,
            from: p,
        }
    }

    /// The connected part of the network a point's nearest road lies on.
    pub fn component_of(&self, a: &Access) -> u32 {
        self.component[self.edges[a.snaps[0].edge as usize].a as usize]
    }

    /// Shortest-path costs from `source` to every node, up to `budget` (`INFINITY`: all).
    pub fn reach(&self, source: &Access, cost: NetCost, budget: f64) -> Reach {
        let mut dist = vec![f64::INFINITY; self.nodes.len()];
        let mut heap = BinaryHeap::new();
        for s in &source.snaps {
            let e = self.edges[s.edge as usize];
            let ec = self.edge_cost(s.edge, cost);
            let leg = Self::leg_cost(s.leg_m, cost);
            for (v, d) in [(e.a, leg + s.t * ec), (e.b, leg + (1.0 - s.t) * ec)] {
                if d <= budget && d < dist[v as usize] {
                    dist[v as usize] = d;
                    heap.push(Queued(d, v));
                }
            }
        }
        while let Some(Queued(d, v)) = heap.pop() {
            if d > dist[v as usize] {
                continue;
            }
            for &k in self.edges_at(v) {
                let w = self.other(k, v);
                let nd = d + self.edge_cost(k, cost);
                if nd <= budget && nd < dist[w as usize] {
                    dist[w as usize] = nd;
                    heap.push(Queued(nd, w));
                }
            }
        }
        Reach {
            source: source.clone(),
            node_cost: dist,
            budget,
        }
    }

    /// The cost from the reach's source to `target` (`INFINITY` if not reachable in budget).
    pub fn cost_to(&self, reach: &Reach, target: &Access, cost: NetCost) -> f64 {
        let mut total = f64::INFINITY;
        for t in &target.snaps {
            let ec = self.edge_cost(t.edge, cost);
            let e = self.edges[t.edge as usize];
            let mut best = (reach.node_cost[e.a as usize] + t.t * ec)
                .min(reach.node_cost[e.b as usize] + (1.0 - t.t) * ec);
            for s in reach.source.snaps.iter().filter(|s| s.edge == t.edge) {
                // Along the shared segment, without going round through its ends.
                best = best.min(Self::leg_cost(s.leg_m, cost) + (s.t - t.t).abs() * ec);
            }
            total = total.min(best + Self::leg_cost(t.leg_m, cost));
        }
        if total <= reach.budget {
            total
        } else {
            f64::INFINITY
        }
    }

    /// The roads reachable within the reach's budget: whole and partial segments and the access
    /// legs of the source.
    pub fn reachable_roads(&self, reach: &Reach, cost: NetCost) -> MultiLineString<f64> {
        let mut pieces = Vec::new();
        let budget = reach.budget;
        let src = &reach.source;
        let point_at = |e: &Edge, t: f64| {
            let (a, b) = (self.nodes[e.a as usize], self.nodes[e.b as usize]);
            Coord {
                x: a.x + t * (b.x - a.x),
                y: a.y + t * (b.y - a.y),
            }
        };
        for s in &src.snaps {
            let leg = Self::leg_cost(s.leg_m, cost);
            if leg > budget {
                continue;
            }
            if s.leg_m > 0.0 {
                pieces.push(LineString(vec![src.from, s.on_road]));
            }
            let ec = self.edge_cost(s.edge, cost);
            if ec > 0.0 {
                let e = &self.edges[s.edge as usize];
                let span = (budget - leg) / ec;
                let (lo, hi) = ((s.t - span).max(0.0), (s.t + span).min(1.0));
                // A segment reached whole is added below with the others.
                if hi > lo && (lo > 0.0 || hi < 1.0) {
                    pieces.push(LineString(vec![point_at(e, lo), point_at(e, hi)]));
                }
            }
        }
        if pieces.is_empty()
            && src
                .snaps
                .iter()
                .all(|s| Self::leg_cost(s.leg_m, cost) > budget)
        {
            return MultiLineString(vec![]);
        }
        let mut whole: Vec<u32> = Vec::new();
        for (k, e) in self.edges.iter().enumerate() {
            let ec = self.edge_cost(k as u32, cost);
            if ec <= 0.0 {
                continue;
            }
            // Reached share of the segment from each end.
            let from_a = ((budget - reach.node_cost[e.a as usize]) / ec).clamp(0.0, 1.0);
            let from_b = ((budget - reach.node_cost[e.b as usize]) / ec).clamp(0.0, 1.0);
            if from_a + from_b >= 1.0 {
                whole.push(k as u32);
                continue;
            }
            if from_a > 0.0 {
                pieces.push(LineString(vec![point_at(e, 0.0), point_at(e, from_a)]));
            }
            if from_b > 0.0 {
                pieces.push(LineString(vec![
                    point_at(e, 1.0 - from_b),
                    point_at(e, 1.0),
                ]));
            }
        }
        pieces.extend(self.chains(&whole));
        MultiLineString(pieces)
    }

    /// Whole segments joined into polylines through the nodes where exactly two of them meet:
    /// a buffer of a few long lines costs far less than one of thousands of two-point pieces.
    fn chains(&self, edges: &[u32]) -> Vec<LineString<f64>> {
        let mut at: HashMap<u32, Vec<u32>> = HashMap::new();
        for &k in edges {
            let e = &self.edges[k as usize];
            at.entry(e.a).or_default().push(k);
            at.entry(e.b).or_default().push(k);
        }
        let mut used: HashSet<u32> = HashSet::with_capacity(edges.len());
        let other = |k: u32, node: u32| {
            let e = &self.edges[k as usize];
            if e.a == node { e.b } else { e.a }
        };
        // Walks from `node` away along `k`, through degree-2 nodes, appending the nodes passed.
        let walk = |mut k: u32, mut node: u32, used: &mut HashSet<u32>, out: &mut Vec<u32>| {
            loop {
                node = other(k, node);
                out.push(node);
                match at.get(&node) {
                    Some(ks) if ks.len() == 2 => {
                        let next = if ks[0] == k { ks[1] } else { ks[0] };
                        if !used.insert(next) {
                            return;
                        }
                        k = next;
                    }
                    _ => return,
                }
            }
        };
        let mut lines = Vec::new();
        for &k in edges {
            if !used.insert(k) {
                continue;
            }
            let e = &self.edges[k as usize];
            let (mut back, mut ahead) = (Vec::new(), Vec::new());
            walk(k, e.b, &mut used, &mut back); // from b through a and on
            walk(k, e.a, &mut used, &mut ahead); // from a through b and on
            // `back` starts at a and goes away from b; `ahead` starts at b.
            let nodes: Vec<u32> = back.into_iter().rev().chain(ahead).collect();
            lines.push(LineString(
                nodes.iter().map(|&n| self.nodes[n as usize]).collect(),
            ));
        }
        lines
    }

    /// The service area: the reachable roads buffered by [`SERVICE_AREA_TRIM_M`].
    pub fn service_area(&self, reach: &Reach, cost: NetCost) -> MultiPolygon<f64> {
        let roads = self.reachable_roads(reach, cost);
        if roads.0.is_empty() {
            return MultiPolygon(vec![]);
        }
        roads.buffer(SERVICE_AREA_TRIM_M)
    }
}

#[derive(PartialEq)]
struct Queued(f64, u32);
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    // A min-heap on the cost.
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Area;

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    fn road(pts: &[(f64, f64)], kmh: f64) -> RoadLine {
        RoadLine {
            coords: pts.iter().map(|&(x, y)| c(x, y)).collect(),
            speed_kmh: kmh,
        }
    }

    /// An L: a fast road east along y = 0 (0 → 1000), a slow one north from (1000, 0) to
    /// (1000, 1000), and a separate island road far away.
    fn l_network() -> Network {
        Network::build(&[
            road(&[(0.0, 0.0), (500.0, 0.0), (1000.0, 0.0)], 36.0),
            // Ends 0.4 m from the first road's end: the same node.
            road(&[(1000.3, 0.2), (1000.0, 1000.0)], 18.0),
            road(&[(5000.0, 5000.0), (6000.0, 5000.0)], 36.0),
        ])
        .unwrap()
    }

    #[test]
    fn lengths_times_and_access_legs() {
        let net = l_network();
        assert_eq!(net.node_count(), 6);
        assert_eq!(net.edge_count(), 4);
        assert_eq!(net.component_count(), 2);
        let from = net.access(c(100.0, 30.0)); // 30 m off the road at x = 100
        assert!((from.leg_m - 30.0).abs() < 1e-9);
        let to = net.access(c(1020.0, 800.0)); // 20 m off the north road at y = 800
        let reach = net.reach(&from, NetCost::Length, f64::INFINITY);
        // 30 + 900 along y = 0 + ≈800 north + 20
        let d = net.cost_to(&reach, &to, NetCost::Length);
        assert!((d - (30.0 + 900.0 + 800.0 + 20.0)).abs() < 1.0, "{d}");
        // Time: legs at 5 km/h, 900 m at 10 m/s, 800 m at 5 m/s.
        let reach_t = net.reach(&from, NetCost::Time, f64::INFINITY);
        let s = net.cost_to(&reach_t, &to, NetCost::Time);
        let expected = 50.0 / (5.0 / 3.6) + 90.0 + 160.0;
        assert!((s - expected).abs() < 0.5, "{s} vs {expected}");
        // Along one segment: no detour through its ends.
        let near = net.access(c(140.0, -10.0));
        assert!((net.cost_to(&reach, &near, NetCost::Length) - 80.0).abs() < 1e-9);
        // The island is not reachable.
        let island = net.access(c(5500.0, 5010.0));
        assert_ne!(net.component_of(&island), net.component_of(&from));
        assert!(net.cost_to(&reach, &island, NetCost::Length).is_infinite());
    }

    #[test]
    fn a_budget_bounds_the_reach_and_the_service_area() {
        let net = l_network();
        let from = net.access(c(0.0, 0.0));
        let reach = net.reach(&from, NetCost::Length, 1500.0);
        // 1000 m east then 500 m north reached; the rest not.
        assert!(net.cost_to(&reach, &net.access(c(1000.0, 400.0)), NetCost::Length) < 1500.0);
        assert!(
            net.cost_to(&reach, &net.access(c(1000.0, 600.0)), NetCost::Length)
                .is_infinite()
        );
        let roads = net.reachable_roads(&reach, NetCost::Length);
        use geo::Length;
        let total: f64 = roads.0.iter().map(|l| geo::Euclidean.length(l)).sum();
        assert!((total - 1500.0).abs() < 2.0, "{total}");
        let area = net.service_area(&reach, NetCost::Length).unsigned_area();
        // A 200 m wide band 1500 m long, plus round ends, less the corner overlap.
        assert!(
            area > 1500.0 * 200.0 && area < 1500.0 * 200.0 + 3.2 * 100.0 * 100.0,
            "{area}"
        );
    }

    #[test]
    fn a_point_between_two_unjoined_roads_can_take_either() {
        // Two roads crossing at (500, 0) without a shared vertex, joined only far away at
        // (0, 0)–(0, 1000)… and a clinic on the north–south road 60 m from a house that is 40 m
        // from the east–west road: the house walks to the nearer-by road, not round by the junction.
        let net = Network::build(&[
            road(&[(0.0, 0.0), (1000.0, 0.0)], 36.0),
            road(&[(500.0, -1000.0), (500.0, 1000.0)], 36.0),
            road(&[(500.0, 1000.0), (0.0, 1000.0), (0.0, 0.0)], 36.0),
        ])
        .unwrap();
        let house = net.access(c(560.0, 40.0));
        assert!((house.leg_m - 40.0).abs() < 1e-9, "nearest road 40 m away");
        let clinic = net.access(c(500.0, 100.0));
        let reach = net.reach(&clinic, NetCost::Length, f64::INFINITY);
        let d = net.cost_to(&reach, &house, NetCost::Length);
        // 60 m walk to the north–south road, 60 m along it: 120 m, not ~3 km round the loop.
        assert!((d - 120.0).abs() < 1e-6, "{d}");
        // Beyond the slack only the nearest road counts.
        let far = net.access(c(900.0, 50.0));
        assert_eq!(far.snaps.len(), 1, "{far:?}");
    }

    #[test]
    fn road_classes_have_default_speeds_with_a_source() {
        assert_eq!(default_speed_kmh("县道").0, 40.0);
        assert_eq!(default_speed_kmh("村道").0, 20.0);
        assert!(default_speed_kmh("??").1.contains("假定"));
    }
}
