//! The mutable zoning behind [`super::propose`]: construction, repair and local search.
//!
//! - *Construction* ([`Search::grow_from_seeds`], [`maxp_regions`]): zones grown over the
//!   adjacency from seeds (strong villages, or villages spread by farthest-point sampling), or
//!   — for the largest number of zones with a population floor (max-p) — one region at a time
//!   until it reaches the floor, corners first.
//! - *Repair* ([`Search::repair`]): every zone that breaks a bound is fixed by an ejection
//!   chain: a breadth-first search over the zones for a path of single-village moves, each
//!   keeping its donor connected, that ends at a zone with room (too large) or a zone with
//!   surplus (too small, or without a strong village). Every chain strictly lowers the total
//!   violation, so repair ends. What repair cannot fix, the caller resolves by merging an
//!   undersized zone into a neighbour or splitting an oversized one
//!   ([`Search::merge_undersized`], [`Search::split_oversized`]) when the zone count is free.
//! - *Improvement* ([`Search::descend`], [`Search::anneal`]): single-village moves between
//!   adjacent zones that keep the donor connected, priced incrementally from per-zone running
//!   sums on objective + penalty; steepest descent, then simulated annealing, then descent.

use std::collections::VecDeque;
use std::time::Instant;

use super::{Bounds, Objective, Prepared, ZoneSums, ZoningVillage};
use crate::engine::random::Rng;

pub(crate) const UNASSIGNED: usize = usize::MAX;

pub(crate) struct Search<'a> {
    pub villages: &'a [ZoningVillage],
    pub p: &'a Prepared,
    pub bounds: &'a Bounds,
    pub objective: &'a Objective,
    pub nb: &'a [Vec<usize>],
    /// Zones the objective is normalised by.
    pub k: usize,
    pub zone_of: Vec<usize>,
    pub members: Vec<Vec<usize>>,
    pos: Vec<usize>,
    pub sums: Vec<ZoneSums>,
    cost: Vec<f64>,
    pub movable: Vec<bool>,
    /// False for a zone merged away (no members).
    pub alive: Vec<bool>,
    penalty_weight: f64,
    target_pop: f64,
    stamp: Vec<u32>,
    generation: u32,
    scratch_a: ZoneSums,
    scratch_b: ZoneSums,
    pub moves: usize,
    pub timed_out: bool,
    deadline: Instant,
}

impl<'a> Search<'a> {
    pub fn new(
        villages: &'a [ZoningVillage],
        p: &'a Prepared,
        bounds: &'a Bounds,
        objective: &'a Objective,
        nb: &'a [Vec<usize>],
        k: usize,
        deadline: Instant,
    ) -> Search<'a> {
        let o = objective;
        let weights =
            o.heterogeneity.abs() + o.industry.abs() + o.compactness.abs() + o.balance.abs();
        let total_pop: f64 = villages.iter().map(|v| v.population.max(0.0)).sum();
        Search {
            villages,
            p,
            bounds,
            objective,
            nb,
            k,
            zone_of: vec![UNASSIGNED; villages.len()],
            members: Vec::new(),
            pos: vec![0; villages.len()],
            sums: Vec::new(),
            cost: Vec::new(),
            movable: Vec::new(),
            alive: Vec::new(),
            penalty_weight: 100.0 * (weights + 1.0),
            target_pop: (total_pop / k.max(1) as f64).max(1.0),
            stamp: vec![0; villages.len()],
            generation: 0,
            scratch_a: ZoneSums::empty(p),
            scratch_b: ZoneSums::empty(p),
            moves: 0,
            timed_out: false,
            deadline,
        }
    }

    fn pop(&self, v: usize) -> f64 {
        self.villages[v].population.max(0.0)
    }

    fn strong(&self, v: usize) -> usize {
        usize::from(self.villages[v].strong)
    }

    /// How far a zone of this size, population and strong count is from every bound (0: none
    /// broken); populations count in units of the mean zone population.
    pub fn violation(&self, size: usize, pop: f64, strong: usize) -> f64 {
        let b = self.bounds;
        let mut x = 0.0;
        x += b.min_members.saturating_sub(size) as f64;
        x += size.saturating_sub(b.max_members) as f64;
        if let Some(f) = b.pop_floor {
            x += (f - pop).max(0.0) / self.target_pop;
        }
        if let Some(c) = b.pop_ceiling {
            x += (pop - c).max(0.0) / self.target_pop;
        }
        if b.require_strong && strong == 0 {
            x += 1.0;
        }
        x
    }

    pub fn zone_violation(&self, z: usize) -> f64 {
        let s = &self.sums[z];
        self.violation(s.size, s.population, s.strong)
    }

    fn zone_total(&self, s: &ZoneSums) -> f64 {
        if s.size == 0 {
            return 0.0;
        }
        self.objective.zone_cost(self.p, s, self.k)
            + self.penalty_weight * self.violation(s.size, s.population, s.strong)
    }

    /// Sets the zone count the objective is normalised by and reprices every zone.
    pub fn set_k(&mut self, k: usize) {
        self.k = k.max(1);
        let total_pop: f64 = self.villages.iter().map(|v| v.population.max(0.0)).sum();
        self.target_pop = (total_pop / self.k as f64).max(1.0);
        for z in 0..self.members.len() {
            self.cost[z] = self.zone_total(&self.sums[z]);
        }
    }

    pub fn add_zone(&mut self, members: &[usize], movable: bool) -> usize {
        let z = self.members.len();
        let mut s = ZoneSums::empty(self.p);
        for (i, &v) in members.iter().enumerate() {
            s.apply(self.p, self.villages, v, 1.0);
            self.zone_of[v] = z;
            self.pos[v] = i;
        }
        self.members.push(members.to_vec());
        self.cost.push(0.0);
        self.sums.push(s);
        self.movable.push(movable);
        self.alive.push(true);
        self.cost[z] = self.zone_total(&self.sums[z]);
        z
    }

    fn assign(&mut self, v: usize, z: usize) {
        self.sums[z].apply(self.p, self.villages, v, 1.0);
        self.zone_of[v] = z;
        self.pos[v] = self.members[z].len();
        self.members[z].push(v);
        self.cost[z] = self.zone_total(&self.sums[z]);
    }

    fn unassign(&mut self, v: usize) {
        let from = self.zone_of[v];
        let i = self.pos[v];
        self.members[from].swap_remove(i);
        if let Some(&moved) = self.members[from].get(i) {
            self.pos[moved] = i;
        }
        self.sums[from].apply(self.p, self.villages, v, -1.0);
        self.cost[from] = self.zone_total(&self.sums[from]);
        self.zone_of[v] = UNASSIGNED;
    }

    fn dist2(&self, v: usize, z: usize) -> f64 {
        let s = &self.sums[z];
        let (cx, cy) = (s.sx / s.size as f64, s.sy / s.size as f64);
        let (x, y) = self.p.xy[v];
        (x - cx).powi(2) + (y - cy).powi(2)
    }

    /// Live zones that may change.
    pub fn live_movable(&self) -> Vec<usize> {
        (0..self.members.len())
            .filter(|&z| self.alive[z] && self.movable[z])
            .collect()
    }

    /// Zones grown from `seeds` over the villages of `group` (the zone with the least
    /// population relative to its share grows next, taking its nearest unassigned neighbour
    /// within the member and population caps); villages left over join an adjacent zone, for
    /// [`Search::repair`] to settle. Returns the new zones.
    pub fn grow_from_seeds(&mut self, group: &[usize], seeds: &[usize]) -> Vec<usize> {
        let b = self.bounds;
        let zones: Vec<usize> = seeds.iter().map(|&s| self.add_zone(&[s], true)).collect();
        let group_pop: f64 = group.iter().map(|&v| self.pop(v)).sum();
        let share = (group_pop / seeds.len().max(1) as f64).max(1e-9);
        let mut frontier: Vec<Vec<usize>> = seeds.iter().map(|&s| self.nb[s].clone()).collect();
        let mut open: Vec<bool> = vec![true; zones.len()];
        loop {
            let mut pick: Option<(f64, usize)> = None;
            for (i, &z) in zones.iter().enumerate() {
                if !open[i] {
                    continue;
                }
                let fill = self.sums[z].population / share;
                if pick.is_none_or(|(f, _)| fill < f) {
                    pick = Some((fill, i));
                }
            }
            let Some((_, i)) = pick else { break };
            let z = zones[i];
            frontier[i].retain(|&v| self.zone_of[v] == UNASSIGNED);
            let room = self.sums[z].size < b.max_members;
            let best = frontier[i]
                .iter()
                .copied()
                .filter(|&v| {
                    room && b
                        .pop_ceiling
                        .is_none_or(|c| self.sums[z].population + self.pop(v) <= c)
                })
                .min_by(|&a, &c| {
                    self.dist2(a, z)
                        .total_cmp(&self.dist2(c, z))
                        .then(a.cmp(&c))
                });
            match best {
                Some(v) => {
                    self.assign(v, z);
                    let new: Vec<usize> = self.nb[v]
                        .iter()
                        .copied()
                        .filter(|&w| self.zone_of[w] == UNASSIGNED)
                        .collect();
                    frontier[i].extend(new);
                }
                None => open[i] = false,
            }
        }
        self.attach_leftovers(group);
        zones
    }

    /// Zones grown from `seeds` so that the villages farthest from any seed are served first:
    /// villages are taken in decreasing hop distance from the seeds, and each unassigned one
    /// claims the shortest path of unassigned villages to the nearest zone with room for the
    /// whole path (ties: the smaller zone). Meant for the strong rule, where a weak village far
    /// from the strong ones needs a corridor of its zone's villages to reach it. Leftovers join
    /// an adjacent zone for [`Search::repair`].
    pub fn grow_far_first(&mut self, group: &[usize], seeds: &[usize]) -> Vec<usize> {
        let b = self.bounds;
        let zones: Vec<usize> = seeds.iter().map(|&s| self.add_zone(&[s], true)).collect();
        // Hop distance from the seeds over the group.
        let mut dist: std::collections::HashMap<usize, usize> = Default::default();
        let mut queue: VecDeque<usize> = seeds.iter().copied().collect();
        for &s in seeds {
            dist.insert(s, 0);
        }
        while let Some(v) = queue.pop_front() {
            let d = dist[&v];
            for &w in &self.nb[v] {
                if let std::collections::hash_map::Entry::Vacant(e) = dist.entry(w) {
                    e.insert(d + 1);
                    queue.push_back(w);
                }
            }
        }
        let mut order: Vec<usize> = group
            .iter()
            .copied()
            .filter(|v| self.zone_of[*v] == UNASSIGNED)
            .collect();
        order.sort_by(|a, c| {
            dist.get(c)
                .unwrap_or(&usize::MAX)
                .cmp(dist.get(a).unwrap_or(&usize::MAX))
                .then(a.cmp(c))
        });
        let mut prev: std::collections::HashMap<usize, usize> = Default::default();
        for &w in &order {
            if self.zone_of[w] != UNASSIGNED {
                continue;
            }
            // BFS over unassigned villages from w; the first level with a zone that has room
            // for the path decides.
            prev.clear();
            prev.insert(w, w);
            let mut level = vec![w];
            let mut found: Option<(usize, usize)> = None; // (zone, last village of the path)
            let mut depth = 1usize;
            while found.is_none() && !level.is_empty() && depth <= b.max_members {
                let mut next = Vec::new();
                let mut best: Option<(usize, usize, usize)> = None; // (size, zone, via)
                for &v in &level {
                    for &x in &self.nb[v] {
                        let z = self.zone_of[x];
                        if z == UNASSIGNED {
                            if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(x) {
                                e.insert(v);
                                next.push(x);
                            }
                        } else if self.movable[z] && self.alive[z] {
                            // The path w … v has `depth` villages.
                            let s = &self.sums[z];
                            let mut path_pop = 0.0;
                            let mut c = v;
                            loop {
                                path_pop += self.pop(c);
                                if c == w {
                                    break;
                                }
                                c = prev[&c];
                            }
                            let fits = s.size + depth <= b.max_members
                                && b.pop_ceiling
                                    .is_none_or(|cap| s.population + path_pop <= cap);
                            if fits && best.is_none_or(|(size, _, _)| s.size < size) {
                                best = Some((s.size, z, v));
                            }
                        }
                    }
                }
                if let Some((_, z, v)) = best {
                    found = Some((z, v));
                }
                level = next;
                depth += 1;
            }
            if let Some((z, last)) = found {
                let mut c = last;
                loop {
                    self.assign(c, z);
                    if c == w {
                        break;
                    }
                    c = prev[&c];
                }
            }
        }
        self.attach_leftovers(group);
        zones
    }

    /// Unassigned villages of `group` join an adjacent zone (the least populous), in waves.
    pub fn attach_leftovers(&mut self, group: &[usize]) {
        let mut left: Vec<usize> = group
            .iter()
            .copied()
            .filter(|&v| self.zone_of[v] == UNASSIGNED)
            .collect();
        while !left.is_empty() {
            let before = left.len();
            let mut keep = Vec::new();
            for v in left {
                let target = self.nb[v]
                    .iter()
                    .filter(|&&w| self.zone_of[w] != UNASSIGNED && self.movable[self.zone_of[w]])
                    .map(|&w| self.zone_of[w])
                    .min_by(|&a, &c| {
                        let fa = (
                            self.sums[a].size >= self.bounds.max_members,
                            self.sums[a].population,
                        );
                        let fc = (
                            self.sums[c].size >= self.bounds.max_members,
                            self.sums[c].population,
                        );
                        fa.0.cmp(&fc.0).then(fa.1.total_cmp(&fc.1)).then(a.cmp(&c))
                    });
                match target {
                    Some(z) => self.assign(v, z),
                    None => keep.push(v),
                }
            }
            left = keep;
            if left.len() == before {
                // No zone reachable: each remaining connected part becomes a zone of its own.
                let parts = super::connected_parts(&left, self.nb);
                for part in parts {
                    self.add_zone(&part, true);
                }
                break;
            }
        }
    }

    /// Whether zone `z` stays connected without `v` (and `incoming`, joining it at the same
    /// time, touches what is left).
    fn stays_connected(&mut self, z: usize, v: usize, incoming: Option<usize>) -> bool {
        let size = self.members[z].len();
        if let Some(u) = incoming
            && !self.nb[u].iter().any(|&w| w != v && self.zone_of[w] == z)
        {
            return false;
        }
        if size <= 2 {
            return size == 2 || incoming.is_some();
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        let g = self.generation;
        self.stamp[v] = g;
        let start = *self.members[z].iter().find(|&&w| w != v).expect("size > 2");
        self.stamp[start] = g;
        let mut stack = vec![start];
        let mut reached = 1;
        while let Some(w) = stack.pop() {
            for &x in &self.nb[w] {
                if self.zone_of[x] == z && self.stamp[x] != g {
                    self.stamp[x] = g;
                    reached += 1;
                    stack.push(x);
                }
            }
        }
        reached == size - 1
    }

    fn stays_connected_without(&mut self, v: usize) -> bool {
        let z = self.zone_of[v];
        self.stays_connected(z, v, None)
    }

    pub fn apply_move(&mut self, v: usize, to: usize) {
        self.unassign(v);
        self.assign(v, to);
        self.moves += 1;
    }

    fn neighbour_zones(&self, v: usize, of: usize, visited: &[bool]) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for &w in &self.nb[v] {
            let b = self.zone_of[w];
            if b != of && b != UNASSIGNED && self.movable[b] && !visited[b] && !out.contains(&b) {
                out.push(b);
            }
        }
        out
    }

    /// Ejection chain for a zone with too many members or people: moves a village out, the
    /// receiving zone passes one on …, until a zone with room takes the last one.
    fn push_chain(&mut self, z0: usize) -> bool {
        let nz = self.members.len();
        let mut parent: Vec<Option<(usize, usize)>> = vec![None; nz];
        let mut visited = vec![false; nz];
        visited[z0] = true;
        let mut queue = VecDeque::from([z0]);
        while let Some(a) = queue.pop_front() {
            let incoming = parent[a].map(|(_, u)| u);
            let (in_size, in_pop, in_strong) =
                incoming.map_or((0, 0.0, 0), |u| (1, self.pop(u), self.strong(u)));
            let (size, pop, strong) = (
                self.sums[a].size,
                self.sums[a].population,
                self.sums[a].strong,
            );
            let before = self.violation(size, pop, strong);
            let list = self.members[a].clone();
            for v in list {
                let outs = self.neighbour_zones(v, a, &visited);
                if outs.is_empty() {
                    continue;
                }
                let after = self.violation(
                    size + in_size - 1,
                    pop + in_pop - self.pop(v),
                    strong + in_strong - self.strong(v),
                );
                let ok = if a == z0 {
                    after < before - 1e-12
                } else {
                    after <= before + 1e-12
                };
                if !ok || !self.stays_connected(a, v, incoming) {
                    continue;
                }
                for bz in outs {
                    if visited[bz] {
                        continue;
                    }
                    visited[bz] = true;
                    parent[bz] = Some((a, v));
                    let sb = &self.sums[bz];
                    let b_before = self.violation(sb.size, sb.population, sb.strong);
                    let b_after = self.violation(
                        sb.size + 1,
                        sb.population + self.pop(v),
                        sb.strong + self.strong(v),
                    );
                    if b_after <= b_before + 1e-12 {
                        let mut cur = bz;
                        let mut chain = Vec::new();
                        while let Some((from, village)) = parent[cur] {
                            chain.push((village, cur));
                            cur = from;
                        }
                        for (village, to) in chain {
                            self.apply_move(village, to);
                        }
                        return true;
                    }
                    queue.push_back(bz);
                }
            }
        }
        false
    }

    /// Ejection chain for a zone with too few members or people, or no strong village: pulls
    /// a village in, its donor pulls one from its own neighbour …, until a zone with surplus
    /// gives the last one.
    fn pull_chain(&mut self, z0: usize) -> bool {
        let nz = self.members.len();
        let mut parent: Vec<Option<(usize, usize)>> = vec![None; nz];
        let mut visited = vec![false; nz];
        visited[z0] = true;
        let mut queue = VecDeque::from([z0]);
        while let Some(a) = queue.pop_front() {
            let outgoing = parent[a].map(|(_, w)| w);
            let (out_size, out_pop, out_strong) =
                outgoing.map_or((0, 0.0, 0), |w| (1, self.pop(w), self.strong(w)));
            let (size, pop, strong) = (
                self.sums[a].size,
                self.sums[a].population,
                self.sums[a].strong,
            );
            let before = self.violation(size, pop, strong);
            let list = self.members[a].clone();
            for m in list {
                if Some(m) == outgoing {
                    continue;
                }
                for i in 0..self.nb[m].len() {
                    let x = self.nb[m][i];
                    let bz = self.zone_of[x];
                    if bz == a || bz == UNASSIGNED || !self.movable[bz] || visited[bz] {
                        continue;
                    }
                    let after = self.violation(
                        size - out_size + 1,
                        pop - out_pop + self.pop(x),
                        strong - out_strong + self.strong(x),
                    );
                    let ok = if a == z0 {
                        after < before - 1e-12
                    } else {
                        after <= before + 1e-12
                    };
                    if !ok || self.members[bz].len() <= 1 || !self.stays_connected(bz, x, None) {
                        continue;
                    }
                    visited[bz] = true;
                    parent[bz] = Some((a, x));
                    let sb = &self.sums[bz];
                    let b_before = self.violation(sb.size, sb.population, sb.strong);
                    let b_after = self.violation(
                        sb.size - 1,
                        sb.population - self.pop(x),
                        sb.strong - self.strong(x),
                    );
                    if b_after <= b_before + 1e-12 {
                        let mut cur = bz;
                        let mut chain = Vec::new();
                        while let Some((to, village)) = parent[cur] {
                            chain.push((village, to));
                            cur = to;
                        }
                        for (village, to) in chain.into_iter().rev() {
                            self.apply_move(village, to);
                        }
                        return true;
                    }
                    queue.push_back(bz);
                }
            }
        }
        false
    }

    fn over(&self, z: usize) -> bool {
        let s = &self.sums[z];
        s.size > self.bounds.max_members
            || self.bounds.pop_ceiling.is_some_and(|c| s.population > c)
    }

    fn under(&self, z: usize) -> bool {
        let s = &self.sums[z];
        s.size < self.bounds.min_members
            || self.bounds.pop_floor.is_some_and(|f| s.population < f)
            || (self.bounds.require_strong && s.strong == 0)
    }

    /// Fixes broken bounds by ejection chains (module documentation); true when no movable
    /// zone breaks a bound any more.
    pub fn repair(&mut self) -> bool {
        loop {
            let bad: Vec<usize> = self
                .live_movable()
                .into_iter()
                .filter(|&z| self.zone_violation(z) > 0.0)
                .collect();
            if bad.is_empty() {
                return true;
            }
            if self.out_of_time() {
                return false;
            }
            let mut progress = false;
            for z in bad {
                for _ in 0..self.villages.len() {
                    if self.zone_violation(z) <= 0.0 {
                        break;
                    }
                    let fixed = (self.over(z) && self.push_chain(z))
                        || (self.under(z) && self.pull_chain(z));
                    if !fixed {
                        break;
                    }
                    progress = true;
                }
            }
            if !progress {
                return false;
            }
        }
    }

    /// Simulated annealing on the violation alone (the objective ignored): single-village moves
    /// between adjacent zones that keep the donor connected and its last strong village,
    /// accepting a worse total violation with probability exp(−Δ/T), T from 0.6 to 0.02 units.
    /// Moves that keep the violation equal are always taken, so the zoning drifts along
    /// plateaus and opens ejection chains that [`Search::repair`] could not find. Stops as soon
    /// as nothing is broken.
    pub fn shake(&mut self, rng: &mut Rng, steps: usize) {
        let free = self.free_villages();
        if free.is_empty() || steps == 0 {
            return;
        }
        let mut total: f64 = self
            .live_movable()
            .iter()
            .map(|&z| self.zone_violation(z))
            .sum();
        let (t0, t1) = (0.6f64, 0.02f64);
        let cooling = (t1 / t0).powf(1.0 / steps as f64);
        let mut t = t0;
        let mut targets = Vec::new();
        for step in 0..steps {
            if total <= 1e-12 {
                return;
            }
            if step % 1024 == 0 && self.out_of_time() {
                return;
            }
            t *= cooling;
            let v = free[rng.below(free.len())];
            let from = self.zone_of[v];
            if self.members[from].len() <= 1 {
                continue;
            }
            self.targets(v, &mut targets);
            if targets.is_empty() {
                continue;
            }
            let to = targets[rng.below(targets.len())];
            let delta = self.violation_delta(v, to);
            if (delta <= 1e-12 || rng.next_f64() < (-delta / t).exp())
                && self.stays_connected_without(v)
            {
                self.apply_move(v, to);
                total += delta;
            }
        }
    }

    /// Merges the most undersized zone that repair could not fix into the neighbouring zone
    /// that leaves the least violation; false when there is none.
    pub fn merge_undersized(&mut self) -> bool {
        let mut cands: Vec<usize> = self
            .live_movable()
            .into_iter()
            .filter(|&z| self.under(z))
            .collect();
        cands.sort_by(|&a, &b| {
            self.sums[a]
                .population
                .total_cmp(&self.sums[b].population)
                .then(a.cmp(&b))
        });
        for z in cands {
            let visited = vec![false; self.members.len()];
            let mut best: Option<(f64, usize)> = None;
            for &v in &self.members[z] {
                for bz in self.neighbour_zones(v, z, &visited) {
                    let (sa, sb) = (&self.sums[z], &self.sums[bz]);
                    let after = self.violation(
                        sa.size + sb.size,
                        sa.population + sb.population,
                        sa.strong + sb.strong,
                    );
                    if best.is_none_or(|(b, _)| after < b) {
                        best = Some((after, bz));
                    }
                }
            }
            if let Some((_, bz)) = best {
                self.merge(z, bz);
                return true;
            }
        }
        false
    }

    /// Moves every member of zone `z` into zone `into` and retires `z`.
    pub fn merge(&mut self, z: usize, into: usize) {
        let list = self.members[z].clone();
        for v in list {
            self.apply_move(v, into);
        }
        self.alive[z] = false;
        let k = self.live_count();
        self.set_k(k);
    }

    pub fn live_count(&self) -> usize {
        self.alive.iter().filter(|&&a| a).count()
    }

    /// Splits an oversized zone that holds two possible leaders (two strong villages, or any
    /// two villages without the strong rule) in two by a two-source breadth-first search from
    /// the two leaders farthest apart, so that both halves are connected.
    pub fn split_oversized(&mut self) -> bool {
        let cands: Vec<usize> = self
            .live_movable()
            .into_iter()
            .filter(|&z| self.over(z))
            .collect();
        for z in cands {
            let leaders: Vec<usize> = self.members[z]
                .iter()
                .copied()
                .filter(|&v| !self.bounds.require_strong || self.villages[v].strong)
                .collect();
            if leaders.len() < 2 {
                continue;
            }
            let mut best = (0.0, leaders[0], leaders[1]);
            for (i, &a) in leaders.iter().enumerate() {
                for &b in &leaders[i + 1..] {
                    let (pa, pb) = (self.p.xy[a], self.p.xy[b]);
                    let d = (pa.0 - pb.0).powi(2) + (pa.1 - pb.1).powi(2);
                    if d > best.0 {
                        best = (d, a, b);
                    }
                }
            }
            let (_, a, b) = best;
            // Two-source BFS inside the zone: each village goes with the seed that reaches it
            // first (alternating waves), so both parts are connected.
            let mut side: std::collections::HashMap<usize, u8> = Default::default();
            side.insert(a, 0);
            side.insert(b, 1);
            let mut queue = VecDeque::from([a, b]);
            while let Some(v) = queue.pop_front() {
                let s = side[&v];
                for &w in &self.nb[v] {
                    if self.zone_of[w] == z && !side.contains_key(&w) {
                        side.insert(w, s);
                        queue.push_back(w);
                    }
                }
            }
            let second: Vec<usize> = self.members[z]
                .iter()
                .copied()
                .filter(|v| side.get(v) == Some(&1))
                .collect();
            for &v in &second {
                self.unassign(v);
            }
            self.add_zone(&second, true);
            let k = self.live_count();
            self.set_k(k);
            return true;
        }
        false
    }

    /// Cost change of moving `v` from its zone to zone `to`.
    fn move_delta(&mut self, v: usize, to: usize) -> f64 {
        let from = self.zone_of[v];
        self.scratch_a.clone_from(&self.sums[from]);
        self.scratch_a.apply(self.p, self.villages, v, -1.0);
        self.scratch_b.clone_from(&self.sums[to]);
        self.scratch_b.apply(self.p, self.villages, v, 1.0);
        let (a, b) = (
            self.zone_total(&self.scratch_a),
            self.zone_total(&self.scratch_b),
        );
        a + b - self.cost[from] - self.cost[to]
    }

    /// Adjacent zones `v` could move to (none when `v` is its zone's last strong village).
    fn targets(&self, v: usize, out: &mut Vec<usize>) {
        out.clear();
        let from = self.zone_of[v];
        if self.bounds.require_strong && self.villages[v].strong && self.sums[from].strong <= 1 {
            return;
        }
        for &w in &self.nb[v] {
            let z = self.zone_of[w];
            if z != from && z != UNASSIGNED && self.movable[z] && !out.contains(&z) {
                out.push(z);
            }
        }
    }

    pub fn out_of_time(&mut self) -> bool {
        if Instant::now() > self.deadline || crate::engine::cancel::requested() {
            self.timed_out = true;
        }
        self.timed_out
    }

    fn free_villages(&self) -> Vec<usize> {
        (0..self.villages.len())
            .filter(|&v| self.zone_of[v] != UNASSIGNED && self.movable[self.zone_of[v]])
            .collect()
    }

    /// Steepest-descent passes until no single move improves.
    pub fn descend(&mut self, rng: &mut Rng) {
        let mut order = self.free_villages();
        let mut targets = Vec::new();
        loop {
            shuffle(&mut order, rng);
            let mut improved = false;
            for (count, &v) in order.iter().enumerate() {
                if count % 256 == 0 && self.out_of_time() {
                    return;
                }
                if self.members[self.zone_of[v]].len() <= 1 {
                    continue;
                }
                self.targets(v, &mut targets);
                let mut best: Option<(f64, usize)> = None;
                for &z in &targets {
                    let d = self.move_delta(v, z);
                    if d < -1e-12 && best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, z));
                    }
                }
                if let Some((_, z)) = best
                    && self.stays_connected_without(v)
                {
                    self.apply_move(v, z);
                    improved = true;
                }
            }
            if !improved {
                return;
            }
        }
    }

    pub fn total(&self) -> f64 {
        self.cost.iter().sum()
    }

    /// Change of the total violation if `v` moved to zone `to`.
    fn violation_delta(&self, v: usize, to: usize) -> f64 {
        let from = self.zone_of[v];
        let (a, b) = (&self.sums[from], &self.sums[to]);
        let (pv, sv) = (self.pop(v), self.strong(v));
        self.violation(a.size - 1, a.population - pv, a.strong - sv)
            + self.violation(b.size + 1, b.population + pv, b.strong + sv)
            - self.violation(a.size, a.population, a.strong)
            - self.violation(b.size, b.population, b.strong)
    }

    /// Simulated annealing over single moves (`effort` moves per village) that never break a
    /// bound more than it already is (hard constraints: a feasible zoning stays feasible, and
    /// the temperature is set by objective changes alone, not by penalties); ends on the best
    /// zoning seen. The starting temperature is `heat` × the mean increase of a sample of
    /// allowed moves (1: about a third of worsening moves accepted at first; 0.1 refines a good
    /// start such as Ward's without scattering it).
    pub fn anneal(&mut self, rng: &mut Rng, effort: usize, heat: f64) {
        let free = self.free_villages();
        if free.is_empty() || effort == 0 {
            return;
        }
        let steps = effort.saturating_mul(free.len());
        let mut targets = Vec::new();
        // Starting temperature: the mean cost increase of a sample of allowed moves, so that
        // about a third of worsening moves are accepted at first.
        let mut sample = Vec::new();
        for _ in 0..2000 {
            if sample.len() >= 200 {
                break;
            }
            let v = free[rng.below(free.len())];
            self.targets(v, &mut targets);
            if targets.is_empty() || self.members[self.zone_of[v]].len() <= 1 {
                continue;
            }
            let z = targets[rng.below(targets.len())];
            if self.violation_delta(v, z) > 1e-12 {
                continue;
            }
            let d = self.move_delta(v, z);
            if d > 0.0 {
                sample.push(d);
            }
        }
        if sample.is_empty() {
            return;
        }
        let t0 = heat * sample.iter().sum::<f64>() / sample.len() as f64;
        let t_end = t0 * 1e-3;
        let levels = 100usize;
        let per_level = (steps / levels).max(1);
        let cooling = (t_end / t0).powf(1.0 / levels as f64);
        let mut t = t0;
        let mut best_total = self.total();
        let mut best_zone_of = self.zone_of.clone();
        for _ in 0..levels {
            if self.out_of_time() {
                break;
            }
            for step in 0..per_level {
                // A level can be long (a large effort): the deadline is checked inside it too.
                if step % 4096 == 4095 && self.out_of_time() {
                    break;
                }
                let v = free[rng.below(free.len())];
                if self.members[self.zone_of[v]].len() <= 1 {
                    continue;
                }
                self.targets(v, &mut targets);
                if targets.is_empty() {
                    continue;
                }
                let z = targets[rng.below(targets.len())];
                if self.violation_delta(v, z) > 1e-12 {
                    continue;
                }
                let d = self.move_delta(v, z);
                if (d < 0.0 || rng.next_f64() < (-d / t).exp()) && self.stays_connected_without(v) {
                    self.apply_move(v, z);
                }
            }
            let now = self.total();
            if now < best_total - 1e-12 {
                best_total = now;
                best_zone_of.clone_from(&self.zone_of);
            }
            t *= cooling;
        }
        if self.total() > best_total + 1e-12 {
            self.restore(&best_zone_of);
        }
    }

    fn restore(&mut self, zone_of: &[usize]) {
        let movable_zones: Vec<usize> = (0..self.members.len())
            .filter(|&z| self.movable[z])
            .collect();
        for &z in &movable_zones {
            self.members[z].clear();
            self.sums[z] = ZoneSums::empty(self.p);
        }
        for (v, &z) in zone_of.iter().enumerate() {
            if z != UNASSIGNED && self.movable[z] {
                self.sums[z].apply(self.p, self.villages, v, 1.0);
                self.zone_of[v] = z;
                self.pos[v] = self.members[z].len();
                self.members[z].push(v);
            }
        }
        for &z in &movable_zones {
            self.cost[z] = self.zone_total(&self.sums[z]);
        }
    }

    /// The live zones' members (movable ones only when `movable_only`).
    pub fn zones(&self, movable_only: bool) -> Vec<Vec<usize>> {
        (0..self.members.len())
            .filter(|&z| self.alive[z] && !self.members[z].is_empty())
            .filter(|&z| !movable_only || self.movable[z])
            .map(|z| self.members[z].clone())
            .collect()
    }
}

pub(crate) fn shuffle(v: &mut [usize], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
}

/// Farthest-point sampling of `k` seeds among `candidates` (the first drawn with `rng`).
pub(crate) fn spread_seeds(
    p: &Prepared,
    candidates: &[usize],
    k: usize,
    rng: &mut Rng,
) -> Vec<usize> {
    if candidates.is_empty() || k == 0 {
        return Vec::new();
    }
    let mut seeds = vec![candidates[rng.below(candidates.len())]];
    let d2 = |a: usize, b: usize| {
        let (pa, pb) = (p.xy[a], p.xy[b]);
        (pa.0 - pb.0).powi(2) + (pa.1 - pb.1).powi(2)
    };
    let mut nearest: Vec<f64> = candidates.iter().map(|&c| d2(c, seeds[0])).collect();
    while seeds.len() < k.min(candidates.len()) {
        let (i, _) = nearest
            .iter()
            .enumerate()
            .max_by(|a, c| a.1.total_cmp(c.1).then(c.0.cmp(&a.0)))
            .expect("candidates left");
        let s = candidates[i];
        seeds.push(s);
        for (j, &c) in candidates.iter().enumerate() {
            nearest[j] = nearest[j].min(d2(c, s));
        }
    }
    seeds
}

/// Max-p construction for one connected group: regions grown one at a time from a seed until
/// they reach the population floor (and the member floor), never past the member or population
/// ceiling; the seeds are taken corners first (fewest neighbours in the group, ties at random),
/// and a region takes the neighbour that completes it with the least overshoot, else the
/// neighbour with the fewest free neighbours (filling corners), else the nearest. A region that
/// cannot reach the floor is released: its villages join neighbouring regions afterwards.
/// Returns the regions; `None` for the leftovers is implied (the caller attaches them).
#[allow(clippy::too_many_arguments)] // the group's whole context, passed once per pass
pub(crate) fn maxp_regions(
    villages: &[ZoningVillage],
    p: &Prepared,
    nb: &[Vec<usize>],
    bounds: &Bounds,
    group: &[usize],
    floor: f64,
    rng: &mut Rng,
    randomised: bool,
) -> Vec<Vec<usize>> {
    const FREE: u32 = u32::MAX;
    const OUT: u32 = u32::MAX - 1;
    const TRIED: u32 = u32::MAX - 2;
    let mut label = vec![OUT; villages.len()];
    for &v in group {
        label[v] = FREE;
    }
    let pop = |v: usize| villages[v].population.max(0.0);
    let degree = |v: usize| nb[v].iter().filter(|&&w| label[w] != OUT).count();
    let mut order: Vec<(usize, f64, usize)> = group
        .iter()
        .map(|&v| (degree(v), if randomised { rng.next_f64() } else { 0.0 }, v))
        .collect();
    order.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut regions: Vec<Vec<usize>> = Vec::new();
    let free_degree = |label: &[u32], v: usize| {
        nb[v]
            .iter()
            .filter(|&&w| label[w] == FREE || label[w] == TRIED)
            .count()
    };
    for &(_, _, seed) in &order {
        if label[seed] != FREE {
            continue;
        }
        let id = regions.len() as u32;
        let mut region = vec![seed];
        label[seed] = id;
        let mut total = pop(seed);
        let (mut sx, mut sy) = p.xy[seed];
        let mut frontier: Vec<usize> = nb[seed].clone();
        while (total < floor || region.len() < bounds.min_members)
            && region.len() < bounds.max_members
        {
            frontier.retain(|&w| label[w] == FREE || label[w] == TRIED);
            frontier.sort_unstable();
            frontier.dedup();
            let fits = |w: usize| bounds.pop_ceiling.is_none_or(|c| total + pop(w) <= c);
            let completing = frontier
                .iter()
                .copied()
                .filter(|&w| {
                    fits(w) && total + pop(w) >= floor && region.len() + 1 >= bounds.min_members
                })
                .min_by(|&a, &b| pop(a).total_cmp(&pop(b)).then(a.cmp(&b)));
            let next = completing.or_else(|| {
                let (cx, cy) = (sx / region.len() as f64, sy / region.len() as f64);
                frontier
                    .iter()
                    .copied()
                    .filter(|&w| fits(w))
                    .min_by(|&a, &b| {
                        let da = (p.xy[a].0 - cx).powi(2) + (p.xy[a].1 - cy).powi(2);
                        let db = (p.xy[b].0 - cx).powi(2) + (p.xy[b].1 - cy).powi(2);
                        free_degree(&label, a)
                            .cmp(&free_degree(&label, b))
                            .then(da.total_cmp(&db))
                            .then(a.cmp(&b))
                    })
            });
            let Some(w) = next else { break };
            label[w] = id;
            region.push(w);
            total += pop(w);
            sx += p.xy[w].0;
            sy += p.xy[w].1;
            frontier.extend(nb[w].iter().copied());
        }
        if total >= floor && region.len() >= bounds.min_members {
            regions.push(region);
        } else {
            for &v in &region {
                label[v] = TRIED;
            }
        }
    }
    regions
}

/// A merge candidate in [`ward_regions`]: cost, the two clusters and their versions.
#[derive(PartialEq)]
struct Merge(f64, usize, usize, u32, u32);

impl Eq for Merge {}

impl PartialOrd for Merge {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Merge {
    /// Reversed on the cost, so that `BinaryHeap` pops the cheapest merge first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .0
            .total_cmp(&self.0)
            .then(other.1.cmp(&self.1))
            .then(other.2.cmp(&self.2))
    }
}

/// Contiguity-constrained Ward clustering of one group into `k` regions: every village starts
/// alone, and the two adjacent clusters whose merge raises the within-cluster sum of squared
/// deviations of the standardised attributes least (Ward's Δ = nₐn_b/(nₐ+n_b)·‖μₐ − μ_b‖²)
/// merge, never past the member or population ceiling, until `k` are left. The peer methods
/// REDCAP and SKATER build on the same linkage; here it is only the start that the annealing
/// improves. `None` when the ceilings stop it above `k`. O(E log E) with a heap of candidate
/// merges (stale entries skipped by version).
pub(crate) fn ward_regions(
    villages: &[ZoningVillage],
    p: &Prepared,
    nb: &[Vec<usize>],
    bounds: &Bounds,
    group: &[usize],
    k: usize,
) -> Option<Vec<Vec<usize>>> {
    let m = group.len();
    if k == 0 || k > m {
        return None;
    }
    let local: std::collections::HashMap<usize, usize> =
        group.iter().enumerate().map(|(i, &v)| (v, i)).collect();
    let dims = p.dims;
    let mut size = vec![1usize; m];
    let mut pop: Vec<f64> = group
        .iter()
        .map(|&v| villages[v].population.max(0.0))
        .collect();
    let mut sum: Vec<Vec<f64>> = group.iter().map(|&v| p.z[v].clone()).collect();
    let mut members: Vec<Vec<usize>> = group.iter().map(|&v| vec![v]).collect();
    let mut adj: Vec<Vec<usize>> = group
        .iter()
        .map(|&v| nb[v].iter().filter_map(|w| local.get(w).copied()).collect())
        .collect();
    let mut version = vec![0u32; m];
    let mut alive = vec![true; m];
    let cost = |a: usize, b: usize, size: &[usize], sum: &[Vec<f64>]| -> f64 {
        let (na, nb_) = (size[a] as f64, size[b] as f64);
        let d2: f64 = (0..dims)
            .map(|d| (sum[a][d] / na - sum[b][d] / nb_).powi(2))
            .sum();
        na * nb_ / (na + nb_) * d2
    };
    let fits = |a: usize, b: usize, size: &[usize], pop: &[f64]| {
        size[a] + size[b] <= bounds.max_members
            && bounds.pop_ceiling.is_none_or(|c| pop[a] + pop[b] <= c)
    };
    let mut heap = std::collections::BinaryHeap::new();
    for (a, list) in adj.iter().enumerate() {
        for &b in list {
            if a < b && fits(a, b, &size, &pop) {
                heap.push(Merge(cost(a, b, &size, &sum), a, b, 0, 0));
            }
        }
    }
    let mut live = m;
    while live > k {
        let Merge(_, a, b, va, vb) = heap.pop()?;
        if !alive[a] || !alive[b] || version[a] != va || version[b] != vb {
            continue;
        }
        if !fits(a, b, &size, &pop) {
            continue;
        }
        // Merge the smaller into the larger.
        let (keep, gone) = if size[a] >= size[b] { (a, b) } else { (b, a) };
        alive[gone] = false;
        size[keep] += size[gone];
        pop[keep] += pop[gone];
        let gone_sum = std::mem::take(&mut sum[gone]);
        for (k_, x) in sum[keep].iter_mut().zip(gone_sum) {
            *k_ += x;
        }
        let moved = std::mem::take(&mut members[gone]);
        members[keep].extend(moved);
        let gone_adj = std::mem::take(&mut adj[gone]);
        let mut merged: Vec<usize> = adj[keep]
            .iter()
            .chain(gone_adj.iter())
            .copied()
            .filter(|&c| c != keep && c != gone && alive[c])
            .collect();
        merged.sort_unstable();
        merged.dedup();
        // Neighbours that pointed at `gone` now point at `keep`.
        for &c in &merged {
            for x in adj[c].iter_mut() {
                if *x == gone {
                    *x = keep;
                }
            }
            adj[c].sort_unstable();
            adj[c].dedup();
        }
        adj[keep] = merged;
        version[keep] += 1;
        live -= 1;
        for &c in &adj[keep] {
            if fits(keep, c, &size, &pop) {
                let (x, y) = if keep < c { (keep, c) } else { (c, keep) };
                heap.push(Merge(cost(x, y, &size, &sum), x, y, version[x], version[y]));
            }
        }
    }
    Some(
        (0..m)
            .filter(|&c| alive[c])
            .map(|c| members[c].clone())
            .collect(),
    )
}
