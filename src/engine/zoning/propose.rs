//! Zone proposal: "strong leads weak" (强村带弱村) joint-village zones.
//!
//! **Parameters** ([`ProposeParams`]): hard [`Bounds`] (members, population floor/ceiling, a
//! strong village per zone, within townships), the [`Objective`] weights, the number of zones
//! (exact, or found), locked zones, villages allowed to lead a 村村互助型 zone without a strong
//! village, rook or queen adjacency, a seed, a time limit.
//!
//! **Returns** a [`Proposal`]: every free village in exactly one connected zone meeting every
//! bound, each with its key village, its type and the constraints that bind it. Otherwise
//! [`ZoningError::Infeasible`] with [`Certificate`]s — proofs a planner can check that no zoning
//! exists — or [`ZoningError::NotFound`] when the search used its time without finding one and
//! no proof applies. Never a zoning that breaks a bound.
//!
//! **Algorithm.**
//! 1. *Groups*: villages that are not locked are split into connected groups (components of the
//!    adjacency, cut at township borders with `within_town`). Each group is zoned on its own;
//!    its number of zones lies in `max(⌈n/max_members⌉, ⌈pop/ceiling⌉, 1) ≤ k ≤
//!    min(⌊n/min_members⌋, strong villages, ⌊pop/floor⌋)`.
//! 2. *Proofs first* ([`super::certify`]): an empty range, or a set of weak villages that
//!    reaches too few strong villages within `max_members − 1` steps (a Hall condition read off
//!    a minimum cut), is reported as infeasible with the area and the numbers.
//! 3. *Number of zones*: `zones: Some(K)` is exact (spread over the groups within their
//!    ranges). Otherwise it is found per group: with the strong rule every strong village
//!    starts a zone and those that cannot make a valid zone (a strong village with only strong
//!    neighbours, a zone below a floor) are merged into a neighbour; with a population floor
//!    alone, the max-p construction grows regions one at a time to the floor (best of several
//!    randomised passes). Either way one more zone is then tried as an exact count, and kept
//!    while it works: success is not monotone in the count, so a failure at k + 1 does not
//!    end the search at k.
//! 4. *Construction that repairs itself* (`engine::zoning::search`): zones grow from their seeds
//!    within the caps; every bound still broken is fixed by ejection chains (paths of
//!    single-village moves through neighbouring zones, each donor kept connected); with the
//!    count free, an undersized zone that cannot be fixed is merged and an oversized one with
//!    two strong villages is split. A failed construction is restarted with other seeds until
//!    the time limit.
//! 5. *Improvement*: steepest descent, simulated annealing (`effort` moves per village,
//!    at least `min_moves` in all, geometric cooling) and a final descent on objective + penalty over single-village moves
//!    that keep the donor connected; the best zoning seen is kept, so a feasible start stays
//!    feasible.
//!
//! **Complexity.** Proofs: one bounded BFS per weak village and a max-flow. Growth O(n·k);
//! a chain is a BFS over the zones, O(n·m) for zones of m members; each move costs O(d) to
//! price plus the donor's size to check connectivity; the annealing does `effort·n` moves.
//! Deterministic for a seed: the time limit only stops a run early, and the proposal says so.
//!
//! **Example.**
//! ```
//! # use liancun::engine::zoning::{*, propose::*};
//! # use liancun::engine::contiguity::{ContiguityGraph, ContiguityParams};
//! # use geo::{MultiPolygon, Rect, coord};
//! // A 4×2 grid of villages; villages 0 and 7 are strong.
//! let squares: Vec<MultiPolygon<f64>> = (0..8).map(|i| {
//!     let (x, y) = ((i % 4) as f64 * 1000.0, (i / 4) as f64 * 1000.0);
//!     MultiPolygon(vec![Rect::new(coord! {x: x, y: y}, coord! {x: x + 1000.0, y: y + 1000.0}).to_polygon()])
//! }).collect();
//! let graph = ContiguityGraph::build(&squares, &ContiguityParams::default());
//! let villages: Vec<ZoningVillage> = (0..8).map(|i| ZoningVillage {
//!     code: format!("{i:012}"), name: format!("村{i}"), town_code: "t".into(),
//!     population: 1000.0, income: if i == 0 || i == 7 { 50.0 } else { 10.0 },
//!     industry: "蔬菜".into(), strong: i == 0 || i == 7,
//!     anchor: geo::InteriorPoint::interior_point(&squares[i]).unwrap().0,
//!     area_m2: 1e6, perimeter_m: 4000.0, attributes: vec![],
//! }).collect();
//! let proposal = propose(&villages, &graph, &ProposeParams::default()).unwrap();
//! assert_eq!(proposal.zones.len(), 2);
//! assert!(proposal.zones.iter().all(|z| z.members.len() == 4 && villages[z.key_village].strong));
//! ```

use std::borrow::Cow;
use std::time::{Duration, Instant};

use super::certify::{Certificate, strong_reach_certificates};
use super::search::{Search, maxp_regions, spread_seeds, ward_regions};
use super::{
    Bounds, Objective, ObjectiveTerms, Prepared, Violation, ZoneSums, ZoningVillage,
    bound_violations, connected_parts,
};
use crate::engine::contiguity::ContiguityGraph;
use crate::engine::random::Rng;

/// What a proposal is asked for: bounds, objective, zone count, locked zones and search effort.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposeParams {
    /// Hard bounds on every zone.
    pub bounds: Bounds,
    /// Weights of the objective terms.
    pub objective: Objective,
    /// Number of zones in all (locked ones included); `None`: found (module documentation).
    pub zones: Option<usize>,
    /// Zones kept as they are (village indices).
    pub locked: Vec<Vec<usize>>,
    /// Villages that may lead a zone without a strong village (it becomes 村村互助型).
    pub mutual_aid: Vec<usize>,
    /// Count point touches as adjacency (queen); default rook (a shared border).
    pub queen: bool,
    /// Seed of the search's random generator (same seed, same input, same zoning).
    pub seed: u64,
    /// Wall-clock budget of the search.
    pub time_limit: Duration,
    /// Annealing moves per village.
    pub effort: usize,
    /// Annealing moves in all, at least (so that a small county, where a move costs
    /// microseconds, gets a long search: a million moves take about 0.3 s).
    pub min_moves: usize,
}

impl Default for ProposeParams {
    fn default() -> Self {
        ProposeParams {
            bounds: Bounds::default(),
            objective: Objective::default(),
            zones: None,
            locked: Vec::new(),
            mutual_aid: Vec::new(),
            queen: false,
            seed: 1,
            time_limit: Duration::from_secs(60),
            effort: 200,
            min_moves: 1_000_000,
        }
    }
}

/// Why no zoning was proposed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ZoningError {
    /// Proven: no zoning can satisfy the request. The certificates (at least one) say why.
    #[error("{}", .0.first().map_or("", |c| c.detail.as_str()))]
    Infeasible(Vec<Certificate>),
    /// Not proven either way: the search ended without a valid zoning. `zones` are the closest
    /// zoning's zones that still break a bound.
    #[error("{detail}")]
    NotFound {
        /// The code of the first broken bound (see [`Violation::code`]), or `bounds`.
        constraint: &'static str,
        /// What was tried and which zones still break which bound, Chinese and English.
        detail: String,
        /// Every village of those zones, ascending.
        villages: Vec<usize>,
        /// The closest zoning's zones that break a bound: members and violations.
        zones: Vec<(Vec<usize>, Vec<Violation>)>,
    },
    /// A parameter out of range; `field` names it as the request spells it.
    #[error("{message}")]
    BadParams {
        /// The parameter at fault, as the request spells it.
        field: &'static str,
        /// What is wrong with it, Chinese and English.
        message: String,
    },
}

impl ZoningError {
    /// The constraint code the error is about (`bad_params` for bad parameters).
    pub fn constraint(&self) -> &'static str {
        match self {
            ZoningError::Infeasible(c) => c.first().map_or("bounds", |c| c.constraint),
            ZoningError::NotFound { constraint, .. } => constraint,
            ZoningError::BadParams { .. } => "bad_params",
        }
    }
}

/// A constraint that shapes a zone (for its explanation).
#[derive(Debug, Clone, PartialEq)]
pub enum Binding {
    /// The zone holds the maximum number of villages (the bound).
    AtMaxMembers(usize),
    /// The zone holds the minimum number of villages (the bound).
    AtMinMembers(usize),
    /// The zone's population is near the floor (the floor, persons).
    NearFloor(f64),
    /// The zone's population is near the ceiling (the ceiling, persons).
    NearCeiling(f64),
    /// The zone has only one strong village to lead it.
    SingleStrong,
    /// The zone is the only one its connected group (of this many villages) makes.
    WholeGroup(usize),
    /// The zone is kept within its township.
    WithinTown,
    /// The zone was locked and kept as given.
    Locked,
}

impl Binding {
    /// The message code on the wire (the client words it in its language).
    pub fn code(&self) -> &'static str {
        match self {
            Binding::AtMaxMembers(_) => "at_max_members",
            Binding::AtMinMembers(_) => "at_min_members",
            Binding::NearFloor(_) => "near_floor",
            Binding::NearCeiling(_) => "near_ceiling",
            Binding::SingleStrong => "single_strong",
            Binding::WholeGroup(_) => "whole_group",
            Binding::WithinTown => "within_town",
            Binding::Locked => "locked",
        }
    }
    /// The code's parameter (a member count or a population), if it has one.
    pub fn value(&self) -> Option<f64> {
        match *self {
            Binding::AtMaxMembers(m) | Binding::AtMinMembers(m) | Binding::WholeGroup(m) => {
                Some(m as f64)
            }
            Binding::NearFloor(x) | Binding::NearCeiling(x) => Some(x.round()),
            Binding::SingleStrong | Binding::WithinTown | Binding::Locked => None,
        }
    }
    /// The Chinese wording (explanations, CLI).
    pub fn text_zh(&self) -> String {
        match self {
            Binding::AtMaxMembers(m) => format!("成员数已达上限 {m}"),
            Binding::AtMinMembers(m) => format!("成员数为下限 {m}"),
            Binding::NearFloor(f) => format!("人口接近下限 {f:.0}"),
            Binding::NearCeiling(c) => format!("人口接近上限 {c:.0}"),
            Binding::SingleStrong => "仅含 1 个强村".into(),
            Binding::WholeGroup(g) => format!("所在连通区域（{g} 个村）只够组成这一个片区"),
            Binding::WithinTown => "限于本乡镇".into(),
            Binding::Locked => "锁定片区，按现有方案保留".into(),
        }
    }
    /// The English wording.
    pub fn text_en(&self) -> String {
        match self {
            Binding::AtMaxMembers(m) => format!("at the maximum of {m} villages"),
            Binding::AtMinMembers(m) => format!("at the minimum of {m} villages"),
            Binding::NearFloor(f) => format!("population near the floor {f:.0}"),
            Binding::NearCeiling(c) => format!("population near the ceiling {c:.0}"),
            Binding::SingleStrong => "a single strong village".into(),
            Binding::WholeGroup(g) => {
                format!("its connected group ({g} villages) makes just this zone")
            }
            Binding::WithinTown => "kept within its township".into(),
            Binding::Locked => "locked zone, kept as given".into(),
        }
    }
}

/// The four zone types of the design notes that a proposal can tell apart by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneType {
    /// 强村带动型: a strong village leads.
    StrongLeads,
    /// 村村互助型: no strong village; villages help each other.
    MutualAid,
}

impl ZoneType {
    /// The type's Chinese name (强村带动型 or 村村互助型).
    pub fn name(&self) -> &'static str {
        match self {
            ZoneType::StrongLeads => "强村带动型",
            ZoneType::MutualAid => "村村互助型",
        }
    }
}

/// One zone of a proposal.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposedZone {
    /// Village indices, ascending.
    pub members: Vec<usize>,
    /// The key (lead) village: the strongest member, or a mutual-aid leader.
    pub key_village: usize,
    /// Whether the zone was locked (kept as given).
    pub locked: bool,
    /// Strong-led or mutual-aid.
    pub zone_type: ZoneType,
    /// The constraints that shaped the zone, for its explanation.
    pub binding: Vec<Binding>,
    /// Why these members, which constraint bound (中文, then English).
    pub explanation: String,
}

/// A proposed zoning: the zones, their objective terms and how the search went.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The zones, each with its members and key village.
    pub zones: Vec<ProposedZone>,
    /// The objective terms of the zoning (normalised, with the weighted total).
    pub terms: ObjectiveTerms,
    /// How the number of zones was set.
    pub zone_count_rule: String,
    /// The most zones the bounds' counts allow (Σ over groups of the upper end of the range,
    /// locked zones included): an upper bound, not always reachable.
    pub zones_upper_bound: usize,
    /// Whether the time limit ended the search (the best zoning found is returned).
    pub stopped_by_time_limit: bool,
    /// Annealing moves tried.
    pub moves: usize,
}

fn names(villages: &[ZoningVillage], ids: &[usize]) -> String {
    let mut s: Vec<String> = ids
        .iter()
        .take(8)
        .map(|&i| format!("{}({})", villages[i].name, villages[i].code))
        .collect();
    if ids.len() > 8 {
        s.push(format!("… {} in all", ids.len()));
    }
    s.join(", ")
}

/// Township names of the villages (codes when a village has no town name), most frequent
/// first, for certificates.
fn towns(villages: &[ZoningVillage], ids: &[usize]) -> String {
    let mut count: std::collections::BTreeMap<&str, usize> = Default::default();
    for &v in ids {
        *count.entry(villages[v].town_code.as_str()).or_default() += 1;
    }
    let mut t: Vec<(&str, usize)> = count.into_iter().collect();
    t.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    t.iter()
        .take(5)
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join("/")
}

struct Group {
    members: Vec<usize>,
    lo: usize,
    hi: usize,
    k: usize,
    /// The group is a whole component of the adjacency (not cut by a township border).
    whole_component: bool,
}

/// Zones that still break a bound (members, violations).
type Broken = Vec<(Vec<usize>, Vec<Violation>)>;

/// How the number of zones of a group is set.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Count {
    Exact(usize),
    /// About this many: tried first, then the counts around it (more zones first: smaller
    /// zones meet member ceilings more easily).
    Near(usize),
    /// As many as the bounds allow (strong villages, population floor).
    Most,
}

/// Proposes zones. See the module documentation.
pub fn propose(
    villages: &[ZoningVillage],
    graph: &ContiguityGraph,
    params: &ProposeParams,
) -> Result<Proposal, ZoningError> {
    let started = Instant::now();
    let deadline = started
        .checked_add(params.time_limit)
        .unwrap_or_else(|| started + Duration::from_secs(86_400 * 365));
    let b = &params.bounds;
    let leaders = checked_leaders(villages, params)?;
    let lv: &[ZoningVillage] = &leaders;
    let Setup {
        nb,
        mut groups,
        free,
        proofs,
    } = setup(villages, lv, graph, params)?;
    if !proofs.is_empty() {
        return Err(ZoningError::Infeasible(proofs));
    }
    let upper_bound = params.locked.len() + groups.iter().map(|g| g.hi).sum::<usize>();
    // Number of zones per group.
    let zone_count_rule;
    let mut counts: Vec<Count> = Vec::new();
    match params.zones {
        Some(total) => {
            let free_k =
                total
                    .checked_sub(params.locked.len())
                    .ok_or_else(|| ZoningError::BadParams {
                        field: "zones",
                        message: format!(
                            "片区数 {total} 少于锁定片区数 {} / fewer zones than locked zones",
                            params.locked.len()
                        ),
                    })?;
            let (sum_lo, sum_hi): (usize, usize) =
                groups.iter().fold((0, 0), |(l, h), g| (l + g.lo, h + g.hi));
            if free_k < sum_lo || free_k > sum_hi {
                let strong_total = free.iter().filter(|&&v| lv[v].strong).count();
                let (needed, available) = if free_k < sum_lo {
                    (sum_lo, free_k)
                } else {
                    (free_k, sum_hi)
                };
                return Err(ZoningError::Infeasible(vec![Certificate {
                    constraint: "zones",
                    detail: format!(
                        "要求 {free_k} 个新片区，但约束允许 {sum_lo}–{sum_hi} 个（{} 个连通区域，强村 {strong_total} 个） / {free_k} new zones requested, the bounds allow {sum_lo}–{sum_hi} ({} connected groups, {strong_total} strong villages)",
                        groups.len(),
                        groups.len()
                    ),
                    villages: Vec::new(),
                    strong: Vec::new(),
                    needed: needed as f64,
                    available: available as f64,
                    unit: "zones",
                    steps: None,
                }]));
            }
            let mut left = free_k - sum_lo;
            while left > 0 {
                let g = (0..groups.len())
                    .filter(|&g| groups[g].k < groups[g].hi)
                    .max_by(|&a, &c| {
                        let ra = groups[a].members.len() as f64 / groups[a].k as f64;
                        let rc = groups[c].members.len() as f64 / groups[c].k as f64;
                        ra.total_cmp(&rc).then(c.cmp(&a))
                    })
                    .expect("room left while the sum of maxima allows it");
                groups[g].k += 1;
                left -= 1;
            }
            counts.extend(groups.iter().map(|g| Count::Exact(g.k)));
            zone_count_rule = format!("指定 {total} 个片区 / {total} zones as requested");
        }
        None => {
            for g in &mut groups {
                if b.require_strong || b.pop_floor.is_some() {
                    counts.push(Count::Most);
                } else {
                    g.k = g.members.len().div_ceil(5).clamp(g.lo, g.hi);
                    counts.push(Count::Near(g.k));
                }
            }
            zone_count_rule = String::new();
        }
    }

    let prepared = Prepared::new(lv);
    let mut rng = Rng::new(params.seed ^ 0x6c69_616e_6375_6e00);
    let mut built: Vec<Vec<Vec<usize>>> = Vec::new();
    let mut failures: Vec<(Vec<usize>, Vec<Violation>)> = Vec::new();
    if params.zones.is_some() && groups.len() > 1 {
        // An exact count over several groups: the spread by size may give a group a count it
        // cannot reach, so each group's most zones are found first, the count is spread
        // within [lo, most], and a group that fails its share passes one zone on.
        let mut most: Vec<Option<Vec<Vec<usize>>>> = Vec::new();
        for g in &groups {
            match construct_group(
                lv,
                &prepared,
                &nb,
                params,
                g,
                Count::Most,
                &mut rng,
                deadline,
                0,
            ) {
                Ok(z) => most.push(Some(z)),
                Err(broken) => {
                    failures.extend(broken);
                    most.push(None);
                }
            }
        }
        if !failures.is_empty() {
            return Err(not_found(villages, failures, started.elapsed()));
        }
        let cap: Vec<usize> = most
            .iter()
            .map(|m| m.as_ref().map_or(0, Vec::len))
            .collect();
        let want: usize = groups.iter().map(|g| g.k).sum();
        let mut k: Vec<usize> = groups.iter().zip(&cap).map(|(g, &c)| g.lo.min(c)).collect();
        let mut left = want.saturating_sub(k.iter().sum());
        while left > 0 {
            let Some(i) = (0..groups.len())
                .filter(|&i| k[i] < cap[i])
                .max_by(|&a, &c| {
                    let ra = groups[a].members.len() as f64 / k[a].max(1) as f64;
                    let rc = groups[c].members.len() as f64 / k[c].max(1) as f64;
                    ra.total_cmp(&rc).then(c.cmp(&a))
                })
            else {
                break;
            };
            k[i] += 1;
            left -= 1;
        }
        if left > 0 {
            let zones: Vec<(Vec<usize>, Vec<Violation>)> = Vec::new();
            let mut e = not_found(villages, zones, started.elapsed());
            if let ZoningError::NotFound { detail, .. } = &mut e {
                *detail = format!(
                    "各连通区域找到的最多片区数合计 {}，少于要求的 {want} 个（没有证明无解） / the groups reached at most {} zones together, fewer than the {want} requested (not proven impossible)",
                    cap.iter().sum::<usize>(),
                    cap.iter().sum::<usize>()
                );
            }
            return Err(e);
        }
        for (i, g) in groups.iter().enumerate() {
            if k[i] == cap[i] {
                built.push(most[i].take().unwrap_or_default());
                continue;
            }
            match construct_group(
                lv,
                &prepared,
                &nb,
                params,
                g,
                Count::Exact(k[i]),
                &mut rng,
                deadline,
                0,
            ) {
                Ok(z) => built.push(z),
                Err(broken) => {
                    failures.extend(broken);
                    built.push(Vec::new());
                }
            }
        }
    } else {
        for (gi, g) in groups.iter().enumerate() {
            match construct_group(
                lv, &prepared, &nb, params, g, counts[gi], &mut rng, deadline, 0,
            ) {
                Ok(zones) => built.push(zones),
                Err(broken) => {
                    failures.extend(broken);
                    built.push(Vec::new());
                }
            }
        }
    }
    if !failures.is_empty() {
        return Err(not_found(villages, failures, started.elapsed()));
    }
    let found: Vec<usize> = built.iter().map(Vec::len).collect();
    let k_total = params.locked.len() + found.iter().sum::<usize>();
    let zone_count_rule = if zone_count_rule.is_empty() {
        auto_rule(lv, b, &groups, k_total, upper_bound)
    } else {
        zone_count_rule
    };

    // Improvement over the whole county (groups never trade villages: no edge joins them).
    let mut search = Search::new(lv, &prepared, b, &params.objective, &nb, k_total, deadline);
    for members in &params.locked {
        search.add_zone(members, false);
    }
    let mut zone_group: Vec<usize> = vec![usize::MAX; params.locked.len()];
    for (gi, zones) in built.iter().enumerate() {
        for z in zones {
            search.add_zone(z, true);
            zone_group.push(gi);
        }
    }
    search.set_k(k_total);
    search.descend(&mut rng);
    // Small counties get a longer annealing: at least `min_moves` moves in all.
    let free_n = groups.iter().map(|g| g.members.len()).sum::<usize>().max(1);
    let effort = params.effort.max(params.min_moves / free_n);
    improve(&mut search, &mut rng, effort, params.effort);
    // Never return a zoning that breaks a bound.
    let mut broken = Vec::new();
    for z in search.live_movable() {
        let v = bound_violations(b, &search.sums[z]);
        if !v.is_empty() {
            broken.push((search.members[z].clone(), v));
        }
    }
    if !broken.is_empty() {
        return Err(not_found(villages, broken, started.elapsed()));
    }

    let live: Vec<usize> = (0..search.members.len())
        .filter(|&z| search.alive[z] && !search.members[z].is_empty())
        .collect();
    let sums: Vec<ZoneSums> = live.iter().map(|&z| search.sums[z].clone()).collect();
    let terms = params.objective.terms(&prepared, &sums);
    let mut zones: Vec<ProposedZone> = live
        .iter()
        .map(|&z| {
            let mut members = search.members[z].clone();
            members.sort_unstable();
            let locked = !search.movable[z];
            let key = key_village(lv, &members);
            let zone_type = if members.iter().any(|&v| villages[v].strong) {
                ZoneType::StrongLeads
            } else {
                ZoneType::MutualAid
            };
            let s = &search.sums[z];
            let mut binding = Vec::new();
            if locked {
                binding.push(Binding::Locked);
            } else {
                if s.size == b.max_members {
                    binding.push(Binding::AtMaxMembers(b.max_members));
                }
                if s.size == b.min_members {
                    binding.push(Binding::AtMinMembers(b.min_members));
                }
                if let Some(f) = b.pop_floor
                    && s.population <= 1.1 * f
                {
                    binding.push(Binding::NearFloor(f));
                }
                if let Some(c) = b.pop_ceiling
                    && s.population >= 0.9 * c
                {
                    binding.push(Binding::NearCeiling(c));
                }
                if b.require_strong && s.strong == 1 {
                    binding.push(Binding::SingleStrong);
                }
                let gi = zone_group.get(z).copied().unwrap_or(usize::MAX);
                if let Some(g) = groups.get(gi) {
                    if found[gi] == 1 {
                        binding.push(Binding::WholeGroup(g.members.len()));
                    }
                    if b.within_town && !g.whole_component {
                        binding.push(Binding::WithinTown);
                    }
                }
            }
            let explanation = explain(lv, &prepared, &members, key, s, &binding, zone_type);
            ProposedZone {
                members,
                key_village: key,
                locked,
                zone_type,
                binding,
                explanation,
            }
        })
        .collect();
    zones.sort_by(|a, c| {
        villages[a.key_village]
            .code
            .cmp(&villages[c.key_village].code)
    });
    Ok(Proposal {
        zones,
        terms,
        zone_count_rule,
        zones_upper_bound: upper_bound,
        stopped_by_time_limit: search.timed_out,
        moves: search.moves,
    })
}

/// Checks the parameters; the villages with mutual-aid leaders marked strong (villages allowed
/// to lead a zone count as strong for the search and the proofs; zone types are read from the
/// real flags).
fn checked_leaders<'v>(
    villages: &'v [ZoningVillage],
    params: &ProposeParams,
) -> Result<Cow<'v, [ZoningVillage]>, ZoningError> {
    let n = villages.len();
    let b = &params.bounds;
    if n == 0 {
        return Err(ZoningError::BadParams {
            field: "villages",
            message: "没有村可以分区 / no villages to zone".into(),
        });
    }
    if b.min_members == 0 || b.min_members > b.max_members {
        return Err(ZoningError::BadParams {
            field: "min_members",
            message: format!(
                "成员数范围无效 / bad member range: min {} max {}",
                b.min_members, b.max_members
            ),
        });
    }
    if let (Some(f), Some(c)) = (b.pop_floor, b.pop_ceiling)
        && f > c
    {
        return Err(ZoningError::BadParams {
            field: "pop_floor",
            message: format!("人口下限 {f} 高于上限 {c} / population floor above ceiling"),
        });
    }
    if let Some(&v) = params.mutual_aid.iter().find(|&&v| v >= n) {
        return Err(ZoningError::BadParams {
            field: "mutual_aid",
            message: format!("互助型片区牵头村 {v} 不存在 / unknown mutual-aid village {v}"),
        });
    }
    // Villages allowed to lead a zone count as strong for the search and the proofs; the zone
    // types are read from the real flags.
    Ok(if params.mutual_aid.is_empty() {
        Cow::Borrowed(villages)
    } else {
        let mut v = villages.to_vec();
        for &m in &params.mutual_aid {
            v[m].strong = true;
        }
        Cow::Owned(v)
    })
}

/// The proofs that no zoning meets the request (empty: none found — which does not mean a
/// zoning exists). Cheap next to [`propose`]: no search.
pub fn proofs(
    villages: &[ZoningVillage],
    graph: &ContiguityGraph,
    params: &ProposeParams,
) -> Result<Vec<Certificate>, ZoningError> {
    let leaders = checked_leaders(villages, params)?;
    let setup = setup(villages, &leaders, graph, params)?;
    let mut proofs = setup.proofs;
    if proofs.is_empty()
        && let Some(total) = params.zones
    {
        let free_k = total.saturating_sub(params.locked.len());
        let (lo, hi) = setup
            .groups
            .iter()
            .fold((0, 0), |(l, h), g| (l + g.lo, h + g.hi));
        if total < params.locked.len() || free_k < lo || free_k > hi {
            proofs.push(Certificate {
                constraint: "zones",
                detail: format!(
                    "要求 {free_k} 个新片区，但约束允许 {lo}–{hi} 个 / {free_k} new zones requested, the bounds allow {lo}–{hi}"
                ),
                villages: Vec::new(),
                strong: Vec::new(),
                needed: free_k as f64,
                available: if free_k < lo { lo as f64 } else { hi as f64 },
                unit: "zones",
                steps: None,
            });
        }
    }
    Ok(proofs)
}

/// What the proofs and the search share: the adjacency zones may use, the connected groups
/// with their count ranges, the free villages, and the proofs of infeasibility found.
struct Setup {
    nb: Vec<Vec<usize>>,
    groups: Vec<Group>,
    free: Vec<usize>,
    proofs: Vec<Certificate>,
}

/// Builds the [`Setup`]: `villages` as given (for names), `lv` with mutual-aid leaders marked
/// strong.
fn setup(
    villages: &[ZoningVillage],
    lv: &[ZoningVillage],
    graph: &ContiguityGraph,
    params: &ProposeParams,
) -> Result<Setup, ZoningError> {
    let n = villages.len();
    let b = &params.bounds;
    // Adjacency: rook or queen, cut at township borders, without locked villages.
    let mut locked_zone = vec![usize::MAX; n];
    for (z, members) in params.locked.iter().enumerate() {
        for &v in members {
            if v >= n || locked_zone[v] != usize::MAX {
                return Err(ZoningError::BadParams {
                    field: "locked",
                    message: format!(
                        "锁定片区 {z} 的成员无效或重复 / locked zone {z}: unknown or repeated village"
                    ),
                });
            }
            locked_zone[v] = z;
        }
    }
    let full = graph.neighbour_lists(params.queen);
    let nb: Vec<Vec<usize>> = (0..n)
        .map(|v| {
            full[v]
                .iter()
                .copied()
                .filter(|&w| locked_zone[w] == usize::MAX && locked_zone[v] == usize::MAX)
                .filter(|&w| !b.within_town || villages[w].town_code == villages[v].town_code)
                .collect()
        })
        .collect();
    if let Some(c) = b.pop_ceiling {
        let over: Vec<usize> = (0..n)
            .filter(|&v| locked_zone[v] == usize::MAX && villages[v].population > c)
            .collect();
        if !over.is_empty() {
            let most = over
                .iter()
                .map(|&v| villages[v].population)
                .fold(0.0, f64::max);
            return Ok(Setup {
                nb,
                groups: Vec::new(),
                free: Vec::new(),
                proofs: vec![Certificate {
                    constraint: "pop_ceiling",
                    detail: format!(
                        "人口上限 {c} 低于单个村的人口（最多 {most:.0}） / the population ceiling {c} is below single villages (up to {most:.0}): {}",
                        names(villages, &over)
                    ),
                    needed: most,
                    available: c,
                    unit: "people",
                    steps: None,
                    strong: Vec::new(),
                    villages: over,
                }],
            });
        }
    }
    let free: Vec<usize> = (0..n).filter(|&v| locked_zone[v] == usize::MAX).collect();
    let component_of = {
        let mut c = vec![usize::MAX; n];
        for (i, comp) in graph.components.iter().enumerate() {
            for &v in comp {
                c[v] = i;
            }
        }
        c
    };
    let mut groups: Vec<Group> = Vec::new();
    let mut proofs: Vec<Certificate> = Vec::new();
    for members in connected_parts(&free, &nb) {
        match group_range(lv, graph, b, &members, &component_of) {
            Ok(g) => groups.push(g),
            Err(c) => proofs.push(*c),
        }
    }
    if b.require_strong {
        let mut in_play = vec![false; n];
        for g in &groups {
            for &v in &g.members {
                in_play[v] = true;
            }
        }
        let leader: Vec<bool> = lv.iter().map(|v| v.strong).collect();
        let mut certs =
            strong_reach_certificates(lv, &nb, &leader, &in_play, b.max_members, b.pop_ceiling);
        for c in &mut certs {
            c.detail = format!(
                "{}（{}）：{}",
                towns(villages, &c.villages),
                names(villages, &c.villages),
                c.detail
            );
        }
        proofs.extend(certs);
    }
    Ok(Setup {
        nb,
        groups,
        free,
        proofs,
    })
}

/// Annealing with `effort` moves per village in two to four cycles, each from the best zoning
/// so far and followed by a descent, starting at 1, 0.1, 0.3 and 0.1 × the sampled temperature:
/// the hot cycle explores (it is what lowers the SSD under a population floor), the cool one
/// refines a good start such as Ward's without scattering it (without a floor the hot cycle
/// alone never improved on Ward at 2,800 villages). Measured on the synthetic counties of
/// `bench/zones` (GEODA.md).
fn improve(search: &mut Search, rng: &mut Rng, effort: usize, base: usize) {
    const HEAT: [f64; 4] = [1.0, 0.1, 0.3, 0.1];
    let cycles = (effort / base.max(1)).clamp(2, 4);
    for heat in HEAT.iter().take(cycles) {
        search.anneal(rng, effort.div_ceil(cycles), *heat);
        search.descend(rng);
    }
}

/// The range of zone counts of one connected group, or the proof that it is empty.
fn group_range(
    villages: &[ZoningVillage],
    graph: &ContiguityGraph,
    b: &Bounds,
    members: &[usize],
    component_of: &[usize],
) -> Result<Group, Box<Certificate>> {
    let ng = members.len();
    let pop: f64 = members
        .iter()
        .map(|&v| villages[v].population.max(0.0))
        .sum();
    let strong = members.iter().filter(|&&v| villages[v].strong).count();
    let comp = component_of[members[0]];
    let whole_component = graph.components[comp].len() == ng;
    let island_hint = if whole_component && graph.components.len() > 1 && comp > 0 {
        "；这些村与其他村不相邻，可用 --bridge 连接到最近的村 / these villages touch no other village: bridge them (--bridge)"
    } else if b.within_town {
        "（限本乡镇 within the township）"
    } else {
        ""
    };
    let cert =
        |constraint: &'static str, needed: f64, available: f64, unit, detail: String| Certificate {
            constraint,
            villages: members.to_vec(),
            strong: members
                .iter()
                .copied()
                .filter(|&v| villages[v].strong)
                .collect(),
            needed,
            available,
            unit,
            steps: None,
            detail,
        };
    if ng < b.min_members {
        return Err(Box::new(cert(
            "min_members",
            b.min_members as f64,
            ng as f64,
            "villages",
            format!(
                "{ng} 个相连的村不够组成一个至少 {} 个村的片区{island_hint} / {ng} connected villages cannot make a zone of at least {}: {}",
                b.min_members,
                b.min_members,
                names(villages, members)
            ),
        )));
    }
    if b.require_strong && strong == 0 {
        return Err(Box::new(cert(
            "strong",
            1.0,
            0.0,
            "zones",
            format!(
                "这 {ng} 个相连的村（{}）中没有强村{island_hint} / no strong village among these {ng} connected villages: {}",
                towns(villages, members),
                names(villages, members)
            ),
        )));
    }
    if let Some(f) = b.pop_floor
        && pop < f
    {
        return Err(Box::new(cert(
            "pop_floor",
            f,
            pop,
            "people",
            format!(
                "人口下限 {f} 高于这 {ng} 个相连的村的总人口 {pop:.0}{island_hint} / the floor is above the population of these connected villages: {}",
                names(villages, members)
            ),
        )));
    }
    let lo = [
        1,
        ng.div_ceil(b.max_members),
        b.pop_ceiling.map_or(1, |c| (pop / c).ceil() as usize),
    ]
    .into_iter()
    .max()
    .unwrap_or(1);
    let mut caps = vec![(ng / b.min_members, "成员下限 min_members")];
    if b.require_strong {
        caps.push((strong, "强村数 strong villages"));
    }
    if let Some(f) = b.pop_floor {
        caps.push(((pop / f).floor() as usize, "人口下限 pop_floor"));
    }
    let hi = caps.iter().map(|c| c.0).min().unwrap_or(ng);
    if lo > hi {
        let why: Vec<String> = caps
            .iter()
            .map(|(k, what)| format!("{what} ≤ {k}"))
            .collect();
        return Err(Box::new(cert(
            "bounds",
            lo as f64,
            hi as f64,
            "zones",
            format!(
                "这 {ng} 个相连的村（{}）至少要分 {lo} 个片区（成员上限/人口上限），但最多只能分 {hi} 个（{}） / these {ng} connected villages need at least {lo} zones but allow at most {hi}: {}",
                towns(villages, members),
                why.join("，"),
                names(villages, members)
            ),
        )));
    }
    Ok(Group {
        members: members.to_vec(),
        lo,
        hi,
        k: lo,
        whole_component,
    })
}

/// The zoning of one group: constructed, repaired, restarted with other seeds until the
/// deadline; with [`Count::Most`] the count found, then one more tried as long as it works.
/// Err: the closest attempt's zones that still break a bound.
#[allow(clippy::too_many_arguments)]
fn construct_group(
    villages: &[ZoningVillage],
    p: &Prepared,
    nb: &[Vec<usize>],
    params: &ProposeParams,
    g: &Group,
    count: Count,
    rng: &mut Rng,
    deadline: Instant,
    first_attempt: usize,
) -> Result<Vec<Vec<usize>>, Broken> {
    let b = &params.bounds;
    let leaders: Vec<usize> = if b.require_strong {
        g.members
            .iter()
            .copied()
            .filter(|&v| villages[v].strong)
            .collect()
    } else {
        g.members.clone()
    };
    let mut best_failure: Option<(f64, Broken)> = None;
    let mut attempt = first_attempt;
    let mut found: Option<Vec<Vec<usize>>> = None;
    loop {
        let mut s = Search::new(villages, p, b, &params.objective, nb, g.lo.max(1), deadline);
        let exact = match count {
            Count::Exact(k) => Some(k),
            Count::Near(k0) => {
                // k0, k0 + 1, k0 − 1, k0 + 2 … within the range, two attempts each.
                let step = attempt / 2;
                let off = step.div_ceil(2);
                let k = if !step.is_multiple_of(2) {
                    k0 + off
                } else {
                    k0.saturating_sub(off)
                };
                Some(k.clamp(g.lo, g.hi))
            }
            Count::Most => None,
        };
        let ok = match (count, exact) {
            (_, Some(k)) => {
                // With attributes to make alike and no strong rule, the first attempt starts
                // from contiguity-constrained Ward clustering (the linkage of the peer methods);
                // the others from seeds.
                let ward = (attempt == 0
                    && !b.require_strong
                    && p.dims > 0
                    && params.objective.heterogeneity > 0.0)
                    .then(|| ward_regions(villages, p, nb, b, &g.members, k))
                    .flatten();
                if let Some(regions) = ward {
                    for r in &regions {
                        s.add_zone(r, true);
                    }
                } else if b.require_strong && attempt.is_multiple_of(2) {
                    let seeds = spread_seeds(p, &leaders, k, rng);
                    s.grow_far_first(&g.members, &seeds);
                } else {
                    let seeds = spread_seeds(p, &leaders, k, rng);
                    s.grow_from_seeds(&g.members, &seeds);
                }
                s.set_k(k);
                let mut ok = s.repair();
                for round in 0..3 {
                    if ok || s.out_of_time() {
                        break;
                    }
                    s.shake(rng, 100 * g.members.len() * (round + 1));
                    ok = s.repair();
                }
                ok
            }
            (_, None) => {
                if b.require_strong {
                    let seeds: Vec<usize> = if attempt == 0 {
                        leaders.clone()
                    } else {
                        // Later attempts drop some strong villages that touch another strong
                        // village, so that other pairings are tried.
                        leaders
                            .iter()
                            .copied()
                            .filter(|&v| {
                                !(nb[v].iter().any(|&w| villages[w].strong)
                                    && rng.next_f64() < 0.1 * (attempt / 2).min(5) as f64)
                            })
                            .collect()
                    };
                    if attempt.is_multiple_of(2) {
                        s.grow_far_first(&g.members, &seeds);
                    } else {
                        s.grow_from_seeds(&g.members, &seeds);
                    }
                } else {
                    let floor = b.pop_floor.unwrap_or(0.0);
                    let passes = (2_000_000 / g.members.len().max(1)).clamp(4, 60);
                    let mut best: Option<Vec<Vec<usize>>> = None;
                    for pass in 0..passes {
                        if Instant::now() > deadline || crate::engine::cancel::requested() {
                            break;
                        }
                        let regions = maxp_regions(
                            villages,
                            p,
                            nb,
                            b,
                            &g.members,
                            floor,
                            rng,
                            pass > 0 || attempt > 0,
                        );
                        if best.as_ref().is_none_or(|r| regions.len() > r.len()) {
                            best = Some(regions);
                        }
                    }
                    for r in best.unwrap_or_default() {
                        s.add_zone(&r, true);
                    }
                    s.attach_leftovers(&g.members);
                }
                let k = s.live_count();
                s.set_k(k);
                let mut ok = false;
                let mut shaken = 0;
                for _ in 0..2 * g.members.len() {
                    if s.repair() {
                        ok = true;
                        break;
                    }
                    if s.out_of_time() {
                        break;
                    }
                    if s.merge_undersized() || s.split_oversized() {
                        continue;
                    }
                    // Neither: walk the plateaus before giving up on this construction.
                    if shaken == 3 {
                        break;
                    }
                    shaken += 1;
                    s.shake(rng, 100 * g.members.len() * shaken);
                }
                ok
            }
        };
        if ok {
            found = Some(s.zones(true));
            break;
        }
        let zones: Vec<(Vec<usize>, Vec<Violation>)> = s
            .live_movable()
            .into_iter()
            .filter_map(|z| {
                let v = bound_violations(b, &s.sums[z]);
                (!v.is_empty()).then(|| (s.members[z].clone(), v))
            })
            .collect();
        let total: f64 = s.live_movable().iter().map(|&z| s.zone_violation(z)).sum();
        if best_failure.as_ref().is_none_or(|(t, _)| total < *t) {
            best_failure = Some((total, zones));
        }
        attempt += 1;
        if Instant::now() > deadline || crate::engine::cancel::requested() {
            break;
        }
    }
    let Some(mut zones) = found else {
        return Err(best_failure.map(|f| f.1).unwrap_or_default());
    };
    if count == Count::Most {
        // More zones, as an exact count, while it works (within a quarter of the time left):
        // the step doubles after a success and falls back to one after a failure; a failure at
        // one more (three attempts) ends the search.
        let budget_end = {
            let now = Instant::now();
            now + deadline.saturating_duration_since(now) / 4
        };
        let mut step = 1usize;
        'more: while zones.len() < g.hi {
            let k = (zones.len() + step).min(g.hi);
            let tries = if step == 1 { 3usize } else { 1 };
            for t in 0..tries {
                if Instant::now() > budget_end || crate::engine::cancel::requested() {
                    break 'more;
                }
                let mut s = Search::new(villages, p, b, &params.objective, nb, k, budget_end);
                let seeds = spread_seeds(p, &leaders, k, rng);
                if b.require_strong && t.is_multiple_of(2) {
                    s.grow_far_first(&g.members, &seeds);
                } else {
                    s.grow_from_seeds(&g.members, &seeds);
                }
                s.set_k(k);
                if s.repair() && s.live_count() == k {
                    zones = s.zones(true);
                    step *= 2;
                    continue 'more;
                }
            }
            if step == 1 {
                break;
            }
            step = 1;
        }
    }
    Ok(zones)
}

/// The words for a count found automatically.
fn auto_rule(
    villages: &[ZoningVillage],
    b: &Bounds,
    groups: &[Group],
    k_total: usize,
    upper: usize,
) -> String {
    let strong: usize = groups
        .iter()
        .map(|g| g.members.iter().filter(|&&v| villages[v].strong).count())
        .sum();
    if b.require_strong {
        format!(
            "自动：约束允许的最多片区数，找到 {k_total} 个（强村 {strong} 个，按约束计数最多 {upper} 个） / found automatically: {k_total} zones, as many as the bounds allowed ({strong} strong villages, at most {upper} by the counts)"
        )
    } else if let Some(f) = b.pop_floor {
        format!(
            "自动（max-p）：人口下限 {f:.0} 下找到 {k_total} 个片区（按人口计数最多 {upper} 个） / found automatically (max-p): {k_total} zones with the population floor {f:.0} (at most {upper} by the counts)"
        )
    } else {
        format!(
            "约每 5 个村一个片区，受约束调整：{k_total} 个 / about five villages per zone, adjusted to the bounds: {k_total}"
        )
    }
}

fn not_found(
    villages: &[ZoningVillage],
    zones: Vec<(Vec<usize>, Vec<Violation>)>,
    spent: Duration,
) -> ZoningError {
    let detail: Vec<String> = zones
        .iter()
        .take(5)
        .map(|(m, v)| {
            let d: Vec<String> = v.iter().map(Violation::describe).collect();
            format!("[{}] {}", names(villages, m), d.join("; "))
        })
        .collect();
    let mut involved: Vec<usize> = zones.iter().flat_map(|(m, _)| m.clone()).collect();
    involved.sort_unstable();
    involved.dedup();
    let constraint = zones
        .first()
        .and_then(|(_, v)| v.first())
        .map_or("bounds", Violation::code);
    ZoningError::NotFound {
        constraint,
        detail: format!(
            "用时 {:.1} s 未找到满足全部约束的分区（没有证明无解；可延长时间、换随机种子或放宽约束）；最接近的方案中仍有 {} 个片区违反约束 / no zoning meeting every bound was found in {:.1} s (not proven impossible: allow more time, another seed, or relax the bounds); the closest still has {} zones breaking a bound. {}",
            spent.as_secs_f64(),
            zones.len(),
            spent.as_secs_f64(),
            zones.len(),
            detail.join(" | ")
        ),
        villages: involved,
        zones,
    }
}

/// The key village: the strong member with the highest collective income (without a strong
/// member, the richest), ties broken by the smallest total distance to the other members.
pub fn key_village(villages: &[ZoningVillage], members: &[usize]) -> usize {
    let any_strong = members.iter().any(|&v| villages[v].strong);
    let spread = |v: usize| -> f64 {
        members
            .iter()
            .map(|&w| {
                (villages[v].anchor.x - villages[w].anchor.x)
                    .hypot(villages[v].anchor.y - villages[w].anchor.y)
            })
            .sum()
    };
    *members
        .iter()
        .filter(|&&v| !any_strong || villages[v].strong)
        .min_by(|&&a, &&c| {
            villages[c]
                .income
                .total_cmp(&villages[a].income)
                .then(spread(a).total_cmp(&spread(c)))
                .then(villages[a].code.cmp(&villages[c].code))
        })
        .expect("a zone has members")
}

fn explain(
    villages: &[ZoningVillage],
    p: &Prepared,
    members: &[usize],
    key: usize,
    s: &ZoneSums,
    binding: &[Binding],
    zone_type: ZoneType,
) -> String {
    let kv = &villages[key];
    let role = match (kv.strong, zone_type) {
        (true, ZoneType::StrongLeads) => "强村中集体收入最高",
        (true, ZoneType::MutualAid) => "村村互助型片区的牵头村",
        _ => "成员中集体收入最高",
    };
    let (top, count) = s
        .industry_counts
        .iter()
        .enumerate()
        .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))
        .map(|(i, c)| (p.industries[i].as_str(), *c))
        .unwrap_or(("", 0));
    let mut text = format!(
        "以{}为中心村（{role}，{:.1} 万元）；{} 个村相邻连片，人口 {:.0}，集体收入合计 {:.1} 万元；主导产业{} {}/{}",
        kv.name,
        kv.income,
        members.len(),
        s.population,
        s.income,
        top,
        count,
        members.len()
    );
    for bnd in binding {
        text.push('；');
        text.push_str(&bnd.text_zh());
    }
    text.push_str(&format!(
        " / key village {} ({}); {} adjacent villages, population {:.0}",
        kv.code,
        if kv.strong {
            "strongest by collective income"
        } else {
            "richest member"
        },
        members.len(),
        s.population
    ));
    text
}
