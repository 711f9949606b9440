//! Proofs that no zoning can meet the bounds ("impossible" is shown, never guessed).
//!
//! A [`Certificate`] names an area of villages and two numbers a planner can check by hand:
//! what the area needs and what it has. Each kind rests on a counting argument:
//!
//! - **group counts** (`min_members`, `pop_floor`, `bounds`, `strong`): a connected group of
//!   villages (a component of the adjacency, cut at township borders with `within_town` and
//!   without locked villages) is zoned on its own, so it needs `⌈n/max_members⌉` zones (and
//!   `⌈pop/ceiling⌉`) but allows at most `⌊n/min_members⌋`, `⌊pop/floor⌋` and, with the strong
//!   rule, as many zones as it has strong villages.
//! - **strong reach** (`strong_reach`, a Hall condition): in a connected zone of at most `M`
//!   villages every weak member is joined to a strong member by a path of weak members of at
//!   most `M − 1` steps, and distinct zones hold distinct strong villages. So a set `X` of weak
//!   villages whose strong villages within `M − 1` steps through weak villages are `N` can be
//!   zoned only if `|X| ≤ (M − 1)·|N|` (and, with a population ceiling `C`,
//!   `pop(X) ≤ Σ_{s∈N} (C − pop(s))`). The worst `X` is read off the minimum cut of a flow
//!   network: source → weak village (capacity 1, or its population), weak village → every strong
//!   village it reaches (unbounded), strong village → sink (capacity `M − 1`, or `C − pop(s)`).
//!   When the maximum flow is short of the total, the weak villages on the source side of the
//!   cut are such an `X`, split into the areas that share no strong village.
//! - **strong reach by depth**: a zone that holds a village at least `j` steps from every
//!   strong village passes through a village at each depth `1 … j − 1` on its way to its strong
//!   village, so it holds at most `M − j` villages of depth `≥ j`; the same flow with capacity
//!   `M − j` over the villages of depth `≥ j` gives a sharper proof (`steps = j`).
//!
//! **Complexity.** The reach sets cost one breadth-first search of depth `M − 2` per weak
//! village; the flow is Dinic's algorithm on `O(n)` nodes and `Σ|reach|` edges.
//!
//! "Strong" here means a village that may lead a zone: a strong village, or a village the
//! caller allowed to lead a 村村互助型 (mutual-aid) zone.

use super::ZoningVillage;

/// A proof that no zoning meets the bounds, about one area of villages.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    /// `strong_reach`, `strong_reach_population`, `strong`, `min_members`, `pop_floor`,
    /// `pop_ceiling`, `bounds` or `zones`.
    pub constraint: &'static str,
    /// The villages the proof is about, ascending.
    pub villages: Vec<usize>,
    /// The strong villages the area can reach (strong-reach proofs), ascending.
    pub strong: Vec<usize>,
    /// What the area needs and what it has, in `unit`.
    pub needed: f64,
    /// What the area has, in `unit` (short of [`Certificate::needed`]).
    pub available: f64,
    /// `zones`, `villages` or `people`.
    pub unit: &'static str,
    /// For strong-reach proofs: every village of the area is at least this many steps from
    /// every strong village (through weak villages); 1 for the plain count.
    pub steps: Option<usize>,
    /// The proof in words (中文, then English).
    pub detail: String,
}

/// Strong villages each weak village can reach within `max_members − 1` steps through weak
/// villages (`nb`: the adjacency zones may use), with the number of steps, ascending by
/// village. `in_play[v]`: the village is being zoned.
pub fn strong_reach_sets(
    nb: &[Vec<usize>],
    leader: &[bool],
    in_play: &[bool],
    max_members: usize,
) -> Vec<Vec<(usize, usize)>> {
    let n = nb.len();
    let mut reach = vec![Vec::new(); n];
    let mut depth = vec![usize::MAX; n];
    let mut seen_strong = vec![usize::MAX; n];
    let mut touched = Vec::new();
    let mut queue = std::collections::VecDeque::new();
    for x in 0..n {
        if !in_play[x] || leader[x] || max_members < 2 {
            continue;
        }
        // Weak villages at depth ≤ max − 2 may have a strong neighbour at depth ≤ max − 1.
        let limit = max_members - 2;
        depth[x] = 0;
        touched.push(x);
        queue.push_back(x);
        while let Some(w) = queue.pop_front() {
            for &y in &nb[w] {
                if !in_play[y] {
                    continue;
                }
                if leader[y] {
                    if seen_strong[y] != x {
                        seen_strong[y] = x;
                        reach[x].push((y, depth[w] + 1));
                    }
                } else if depth[y] == usize::MAX && depth[w] < limit {
                    depth[y] = depth[w] + 1;
                    touched.push(y);
                    queue.push_back(y);
                }
            }
        }
        for &t in &touched {
            depth[t] = usize::MAX;
        }
        touched.clear();
        reach[x].sort_unstable();
    }
    reach
}

/// The strong-reach proofs (module documentation), or none when the flow meets every weak
/// village. `villages` give the populations for the ceiling version.
pub fn strong_reach_certificates(
    villages: &[ZoningVillage],
    nb: &[Vec<usize>],
    leader: &[bool],
    in_play: &[bool],
    max_members: usize,
    pop_ceiling: Option<f64>,
) -> Vec<Certificate> {
    let reach = strong_reach_sets(nb, leader, in_play, max_members);
    let weak: Vec<usize> = (0..nb.len())
        .filter(|&v| in_play[v] && !leader[v])
        .collect();
    let strong: Vec<usize> = (0..nb.len()).filter(|&v| in_play[v] && leader[v]).collect();
    let m = max_members;
    let by_corridor = corridor_violations(&weak, &strong, &reach, m);
    if !by_corridor.is_empty() {
        return by_corridor
            .into_iter()
            .map(|(x, s, room)| {
                let plain = room == s.len() * (m - 1);
                let detail = if plain {
                    format!(
                        "这 {} 个弱村在 {} 步之内（经由弱村）只能到达 {} 个强村；每个片区最多 {m} 个村，即每个强村最多带 {} 个弱村，最多带 {room} 个 / these {} weak villages reach only {} strong villages within {} steps through weak villages; with at most {m} villages per zone those take at most {room}",
                        x.len(),
                        m - 1,
                        s.len(),
                        m - 1,
                        x.len(),
                        s.len(),
                        m - 1,
                    )
                } else {
                    format!(
                        "这 {} 个弱村在 {} 步之内（经由弱村）只能到达 {} 个强村；片区要从强村连到这些村，须先经过离强村更近的村作通道（每个强村到这些村最近要走 ℓ 步，就只能再带其中 {m}−ℓ 个），这些强村合计最多带 {room} 个 / these {} weak villages reach only {} strong villages within {} steps; a zone reaching them from a strong village ℓ steps away passes ℓ − 1 nearer villages first and takes at most {m} − ℓ of them: {room} in all",
                        x.len(),
                        m - 1,
                        s.len(),
                        x.len(),
                        s.len(),
                        m - 1,
                    )
                };
                Certificate {
                    constraint: "strong_reach",
                    needed: x.len() as f64,
                    available: room as f64,
                    unit: "villages",
                    steps: Some(m - 1),
                    villages: x,
                    strong: s,
                    detail,
                }
            })
            .collect();
    }
    let Some(c) = pop_ceiling else {
        return Vec::new();
    };
    let pop = |v: usize| villages[v].population.max(0.0);
    let plain: Vec<Vec<usize>> = reach
        .iter()
        .map(|r| r.iter().map(|&(s, _)| s).collect())
        .collect();
    hall_violations(&weak, &strong, &plain, pop, |s| (c - pop(s)).max(0.0))
        .into_iter()
        .map(|(x, s)| {
            let need: f64 = x.iter().map(|&v| pop(v)).sum();
            let room: f64 = s.iter().map(|&v| (c - pop(v)).max(0.0)).sum();
            Certificate {
                constraint: "strong_reach_population",
                detail: format!(
                    "这 {} 个弱村共 {need:.0} 人，在 {} 步之内只能到达 {} 个强村；人口上限 {c:.0} 下这些强村的片区最多还能容纳 {room:.0} 人 / these {} weak villages ({need:.0} people) reach only {} strong villages within {} steps; under the ceiling {c:.0} their zones hold at most {room:.0} more people",
                    x.len(),
                    max_members.saturating_sub(1),
                    s.len(),
                    x.len(),
                    s.len(),
                    max_members.saturating_sub(1),
                ),
                needed: need,
                available: room,
                unit: "people",
                steps: Some(max_members.saturating_sub(1)),
                villages: x,
                strong: s,
            }
        })
        .collect()
}

/// Areas (X, N(X), room) where the weak villages X outnumber what their strong villages can
/// take: a zone whose first strong village s is ℓ_s steps from the nearest village of X takes
/// at most `m − ℓ_s` villages of X, so `|X| > room = Σ_{s∈N(X)} (m − ℓ_s)` proves that no zoning
/// exists. X comes from the minimum cut of a flow network in which each strong village is a
/// chain of nodes s_{m−1} → … → s_1 → sink with capacities 1, 2, …, m − 1 (the edge out of
/// s_j caps the villages at j or more steps), and village x feeds s_{d_s(x)}.
fn corridor_violations(
    weak: &[usize],
    strong: &[usize],
    reach: &[Vec<(usize, usize)>],
    m: usize,
) -> Vec<(Vec<usize>, Vec<usize>, usize)> {
    if weak.is_empty() || m < 2 {
        return Vec::new();
    }
    let levels = m - 1;
    let base = 2 + weak.len();
    let index: std::collections::HashMap<usize, usize> =
        strong.iter().enumerate().map(|(i, &s)| (s, i)).collect();
    // Node of strong i at level j (1-based).
    let node = |i: usize, j: usize| base + i * levels + (j - 1);
    let mut flow = Flow::new(base + strong.len() * levels);
    let (src, sink) = (0, 1);
    for (i, _) in strong.iter().enumerate() {
        for j in 2..=levels {
            flow.add(node(i, j), node(i, j - 1), (m - j) as f64);
        }
        flow.add(node(i, 1), sink, (m - 1) as f64);
    }
    for (xi, &x) in weak.iter().enumerate() {
        flow.add(src, 2 + xi, 1.0);
        for &(s, d) in &reach[x] {
            if let Some(&i) = index.get(&s)
                && (1..=levels).contains(&d)
            {
                flow.add(2 + xi, node(i, d), f64::INFINITY);
            }
        }
    }
    let met = flow.max_flow(src, sink);
    if met >= weak.len() as f64 - 1e-6 {
        return Vec::new();
    }
    let x = flow.cut_villages(src, weak);
    // Areas sharing no strong village; each is checked on its own numbers.
    let plain: Vec<Vec<usize>> = reach
        .iter()
        .map(|r| r.iter().map(|&(s, _)| s).collect())
        .collect();
    let mut out: Vec<(usize, Vec<usize>, Vec<usize>, usize)> = split_areas(&x, &plain)
        .into_iter()
        .filter_map(|(xs, ss)| {
            let room: usize = ss
                .iter()
                .map(|&s| {
                    let l = xs
                        .iter()
                        .filter_map(|&v| reach[v].iter().find(|&&(t, _)| t == s).map(|&(_, d)| d))
                        .min()
                        .unwrap_or(1);
                    m - l
                })
                .sum();
            (xs.len() > room).then(|| (xs.len() - room, xs, ss, room))
        })
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    out.into_iter()
        .map(|(_, xs, ss, room)| (xs, ss, room))
        .collect()
}

/// Areas (X, N(X)) that break Hall's condition Σ_{x∈X} demand(x) ≤ Σ_{s∈N(X)} capacity(s),
/// from the minimum cut of the transportation network; each area shares no strong village
/// with another. Empty when every demand can be met.
fn hall_violations(
    weak: &[usize],
    strong: &[usize],
    reach: &[Vec<usize>],
    demand: impl Fn(usize) -> f64,
    capacity: impl Fn(usize) -> f64,
) -> Vec<(Vec<usize>, Vec<usize>)> {
    if weak.is_empty() {
        return Vec::new();
    }
    let n_nodes = 2 + weak.len() + strong.len();
    let (src, sink) = (0, 1);
    let strong_node: std::collections::HashMap<usize, usize> = strong
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, 2 + weak.len() + i))
        .collect();
    let mut flow = Flow::new(n_nodes);
    let mut total = 0.0;
    for (i, &x) in weak.iter().enumerate() {
        let d = demand(x);
        total += d;
        flow.add(src, 2 + i, d);
        for s in &reach[x] {
            if let Some(&node) = strong_node.get(s) {
                flow.add(2 + i, node, f64::INFINITY);
            }
        }
    }
    for (i, &s) in strong.iter().enumerate() {
        flow.add(2 + weak.len() + i, sink, capacity(s));
    }
    let met = flow.max_flow(src, sink);
    let eps = 1e-9 * total.max(1.0);
    if met >= total - eps {
        return Vec::new();
    }
    let x = flow.cut_villages(src, weak);
    let areas = split_areas(&x, reach);
    let mut out: Vec<(f64, Vec<usize>, Vec<usize>)> = areas
        .into_iter()
        .filter_map(|(mut xs, mut ss)| {
            xs.sort_unstable();
            ss.sort_unstable();
            let need: f64 = xs.iter().map(|&v| demand(v)).sum();
            let have: f64 = ss.iter().map(|&s| capacity(s)).sum();
            (need > have + eps).then_some((need - have, xs, ss))
        })
        .collect();
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    out.into_iter().map(|(_, xs, ss)| (xs, ss)).collect()
}

/// X split into the areas that share no strong village (union–find over X and its reach),
/// each with its villages and strong villages ascending.
fn split_areas(x: &[usize], reach: &[Vec<usize>]) -> Vec<(Vec<usize>, Vec<usize>)> {
    let mut parent: std::collections::HashMap<usize, usize> = Default::default();
    fn find(p: &mut std::collections::HashMap<usize, usize>, v: usize) -> usize {
        let mut r = v;
        while let Some(&q) = p.get(&r) {
            if q == r {
                break;
            }
            r = q;
        }
        let mut c = v;
        while c != r {
            let next = p[&c];
            p.insert(c, r);
            c = next;
        }
        r
    }
    // Strong villages are keyed apart from weak ones by an offset.
    let key_s = |s: usize| s + reach.len();
    for &v in x {
        parent.entry(v).or_insert(v);
        for &s in &reach[v] {
            parent.entry(key_s(s)).or_insert(key_s(s));
            let (a, b) = (find(&mut parent, v), find(&mut parent, key_s(s)));
            if a != b {
                parent.insert(a, b);
            }
        }
    }
    let mut areas: std::collections::BTreeMap<usize, (Vec<usize>, Vec<usize>)> = Default::default();
    // Villages that reach no strong village at all make one area together.
    let unreachable = x.iter().copied().find(|&v| reach[v].is_empty());
    for &v in x {
        let r = if reach[v].is_empty() {
            unreachable.expect("one exists")
        } else {
            find(&mut parent, v)
        };
        areas.entry(r).or_default().0.push(v);
    }
    for &v in x {
        for &s in &reach[v] {
            let r = find(&mut parent, key_s(s));
            let e = areas.entry(r).or_default();
            if !e.1.contains(&s) {
                e.1.push(s);
            }
        }
    }
    areas
        .into_values()
        .map(|(mut xs, mut ss)| {
            xs.sort_unstable();
            ss.sort_unstable();
            (xs, ss)
        })
        .collect()
}

/// A flow network with real capacities; Dinic's algorithm.
struct Flow {
    head: Vec<Vec<usize>>,
    to: Vec<usize>,
    cap: Vec<f64>,
}

impl Flow {
    fn new(nodes: usize) -> Flow {
        Flow {
            head: vec![Vec::new(); nodes],
            to: Vec::new(),
            cap: Vec::new(),
        }
    }

    fn add(&mut self, u: usize, v: usize, c: f64) {
        self.head[u].push(self.to.len());
        self.to.push(v);
        self.cap.push(c);
        self.head[v].push(self.to.len());
        self.to.push(u);
        self.cap.push(0.0);
    }

    fn levels(&self, s: usize) -> Vec<usize> {
        let mut level = vec![usize::MAX; self.head.len()];
        level[s] = 0;
        let mut queue = std::collections::VecDeque::from([s]);
        while let Some(u) = queue.pop_front() {
            for &e in &self.head[u] {
                let v = self.to[e];
                if self.cap[e] > 1e-12 && level[v] == usize::MAX {
                    level[v] = level[u] + 1;
                    queue.push_back(v);
                }
            }
        }
        level
    }

    fn max_flow(&mut self, s: usize, t: usize) -> f64 {
        let mut total = 0.0;
        loop {
            let level = self.levels(s);
            if level[t] == usize::MAX {
                return total;
            }
            let mut next = vec![0usize; self.head.len()];
            loop {
                let pushed = self.augment(s, t, f64::INFINITY, &level, &mut next);
                if pushed <= 1e-12 {
                    break;
                }
                total += pushed;
            }
        }
    }

    /// One blocking-flow path (iterative depth-first search along the level graph).
    fn augment(
        &mut self,
        s: usize,
        t: usize,
        limit: f64,
        level: &[usize],
        next: &mut [usize],
    ) -> f64 {
        let mut path: Vec<usize> = Vec::new();
        let mut u = s;
        loop {
            if u == t {
                let f = path.iter().map(|&e| self.cap[e]).fold(limit, f64::min);
                for &e in &path {
                    self.cap[e] -= f;
                    self.cap[e ^ 1] += f;
                }
                return f;
            }
            let mut advanced = false;
            while next[u] < self.head[u].len() {
                let e = self.head[u][next[u]];
                let v = self.to[e];
                if self.cap[e] > 1e-12 && level[v] == level[u] + 1 {
                    path.push(e);
                    u = v;
                    advanced = true;
                    break;
                }
                next[u] += 1;
            }
            if !advanced {
                // Dead end: retreat and skip the edge that led here.
                match path.pop() {
                    Some(e) => {
                        u = self.to[e ^ 1];
                        next[u] += 1;
                    }
                    None => return 0.0,
                }
            }
        }
    }

    /// The weak villages (nodes 2, 3, … in `weak` order) on the source side of a minimum cut.
    fn cut_villages(&self, s: usize, weak: &[usize]) -> Vec<usize> {
        let side = self.source_side(s);
        weak.iter()
            .enumerate()
            .filter(|(i, _)| side[2 + i])
            .map(|(_, &v)| v)
            .collect()
    }

    /// Nodes reachable from `s` in the residual network (the source side of a minimum cut).
    fn source_side(&self, s: usize) -> Vec<bool> {
        let level = self.levels(s);
        level.iter().map(|&l| l != usize::MAX).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path of villages 0–1–…–(n−1) with the given strong ones.
    fn path(n: usize, strong: &[usize]) -> (Vec<Vec<usize>>, Vec<bool>) {
        let nb = (0..n)
            .map(|v| {
                let mut x = Vec::new();
                if v > 0 {
                    x.push(v - 1);
                }
                if v + 1 < n {
                    x.push(v + 1);
                }
                x
            })
            .collect();
        let mut leader = vec![false; n];
        for &s in strong {
            leader[s] = true;
        }
        (nb, leader)
    }

    #[test]
    fn reach_stops_at_strong_villages_and_at_the_step_limit() {
        let (nb, leader) = path(8, &[0, 4]);
        let reach = strong_reach_sets(&nb, &leader, &[true; 8], 3);
        // Village 2 is two steps from 0 and from 4; village 7 is three steps from 4.
        assert_eq!(reach[2], vec![(0, 2), (4, 2)]);
        assert_eq!(reach[1], vec![(0, 1)]);
        assert_eq!(reach[6], vec![(4, 2)]);
        assert!(reach[7].is_empty());
        // Through a strong village never: 5 reaches 4 but not 0.
        assert_eq!(
            strong_reach_sets(&nb, &leader, &[true; 8], 8)[5],
            vec![(4, 1)]
        );
    }

    #[test]
    fn hall_violation_names_the_area_and_its_strong_villages() {
        let villages: Vec<ZoningVillage> = (0..10)
            .map(|i| ZoningVillage {
                code: format!("{i}"),
                name: format!("v{i}"),
                town_code: "t".into(),
                population: 100.0,
                income: 1.0,
                industry: "a".into(),
                strong: false,
                anchor: geo::coord! {x: i as f64, y: 0.0},
                area_m2: 1.0,
                perimeter_m: 4.0,
                attributes: vec![],
            })
            .collect();
        // 0 strong, then 9 weak in a row: at most 4 per zone; 1–3 fit with 0, 4–9 are more
        // than 3 steps from any strong village.
        let (nb, leader) = path(10, &[0]);
        let certs = strong_reach_certificates(&villages, &nb, &leader, &[true; 10], 4, None);
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].villages, vec![4, 5, 6, 7, 8, 9]);
        assert!(certs[0].strong.is_empty());
        // Corridors: strong 0 at the end of 1–4 with at most 5 per zone takes all four (1, 2,
        // 3 and 4 steps away: its zone is the whole path); 5–7 are out of reach.
        let (nb, leader) = path(8, &[0]);
        let certs = strong_reach_certificates(&villages[..8], &nb, &leader, &[true; 8], 5, None);
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].villages, vec![5, 6, 7]);
        // Strong villages at 0 and 5: 5 takes three of 4, 6, 7, 8 (one is left over), and 9
        // is out of reach: two areas.
        let (nb, leader) = path(10, &[0, 5]);
        let certs = strong_reach_certificates(&villages, &nb, &leader, &[true; 10], 4, None);
        assert_eq!(certs.len(), 2);
        assert!(
            certs
                .iter()
                .any(|c| c.villages == vec![9] && c.strong.is_empty())
        );
        let (nb, leader) = path(10, &[0, 4, 8]);
        assert!(
            strong_reach_certificates(&villages, &nb, &leader, &[true; 10], 4, None).is_empty()
        );
        // A population ceiling of 300: each strong zone has room for 200 more people.
        let certs = strong_reach_certificates(&villages, &nb, &leader, &[true; 10], 4, Some(300.0));
        assert_eq!(certs[0].constraint, "strong_reach_population");
    }
}
