//! Zone proposal: "strong leads weak" (强村带弱村) joint-village zones.
//!
//! **Parameters** ([`ProposeParams`]): hard [`Bounds`] (members, population floor/ceiling, a
//! strong village per zone, within townships), the [`Objective`] weights, the number of zones
//! (or the default rule below), locked zones, rook or queen adjacency, a seed, a time limit.
//!
//! **Returns** a [`Proposal`]: every free village in exactly one connected zone, each with its
//! key village and the constraints that bind it; or a [`ZoningError::Infeasible`] naming the
//! constraint and the villages when no zoning can meet the bounds — never a zoning that breaks
//! them.
//!
//! **Algorithm.**
//! 1. *Groups*: villages that are not locked are split into connected groups (components of the
//!    adjacency, cut at township borders with `within_town`). Each group is zoned on its own;
//!    the feasible number of zones per group follows from the bounds:
//!    `max(⌈n/max_members⌉, ⌈pop/ceiling⌉, 1) ≤ k ≤ min(⌊n/min_members⌋, strong villages,
//!    ⌊pop/floor⌋)`. An empty range is reported as infeasible with the binding numbers.
//! 2. *Number of zones*: given, distributed over groups (each within its range, the rest to the
//!    groups with the most villages per zone); by default one zone per strong village, within
//!    the range ("1+N": every strong village leads a zone).
//! 3. *Seeds and growth*: the seeds are strong villages spread by farthest-point sampling
//!    (the first one drawn with the seed); zones grow over the adjacency, the zone with the
//!    least population (relative to its share) taking its nearest unassigned neighbour, within
//!    the member and population caps. Villages left over join an adjacent zone.
//! 4. *Local search*: single-village moves between adjacent zones that keep the donor zone
//!    connected (checked by a breadth-first search of that zone only), priced incrementally from
//!    per-zone running sums — first a steepest descent on objective + penalty (the penalty
//!    repairs any broken bound), then simulated annealing with a geometric cooling schedule
//!    (`effort` moves per village), then a final descent from the best zoning seen.
//!
//! **Complexity.** Growth O(n·k) for k zones; each move costs O(d) to price plus the size of the
//! donor zone to check connectivity; the annealing does `effort·n` moves. Deterministic for a
//! seed: the time limit only stops a run early, and the proposal says so.
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

use std::time::{Duration, Instant};

use super::{
    Bounds, Objective, ObjectiveTerms, Prepared, Violation, ZoneSums, ZoningVillage,
    bound_violations, connected_parts,
};
use crate::engine::contiguity::ContiguityGraph;
use crate::engine::random::Rng;

#[derive(Debug, Clone, PartialEq)]
pub struct ProposeParams {
    pub bounds: Bounds,
    pub objective: Objective,
    /// Number of zones in all (locked ones included); `None`: one per strong village.
    pub zones: Option<usize>,
    /// Zones kept as they are (village indices).
    pub locked: Vec<Vec<usize>>,
    /// Count point touches as adjacency (queen); default rook (a shared border).
    pub queen: bool,
    pub seed: u64,
    pub time_limit: Duration,
    /// Annealing moves per village.
    pub effort: usize,
}

impl Default for ProposeParams {
    fn default() -> Self {
        ProposeParams {
            bounds: Bounds::default(),
            objective: Objective::default(),
            zones: None,
            locked: Vec::new(),
            queen: false,
            seed: 1,
            time_limit: Duration::from_secs(60),
            effort: 200,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ZoningError {
    /// No zoning can satisfy the request; `villages` are the ones involved.
    #[error("{constraint}: {detail}")]
    Infeasible {
        constraint: &'static str,
        detail: String,
        villages: Vec<usize>,
    },
    #[error("{0}")]
    BadParams(String),
}

/// A constraint that shapes a zone (for its explanation).
#[derive(Debug, Clone, PartialEq)]
pub enum Binding {
    AtMaxMembers(usize),
    AtMinMembers(usize),
    NearFloor(f64),
    NearCeiling(f64),
    SingleStrong,
    WholeGroup(usize),
    WithinTown,
    Locked,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProposedZone {
    /// Village indices, ascending.
    pub members: Vec<usize>,
    pub key_village: usize,
    pub locked: bool,
    pub binding: Vec<Binding>,
    /// Why these members, which constraint bound (中文, then English).
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub zones: Vec<ProposedZone>,
    pub terms: ObjectiveTerms,
    /// How the number of zones was set.
    pub zone_count_rule: String,
    pub stopped_by_time_limit: bool,
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

struct Group {
    members: Vec<usize>,
    lo: usize,
    hi: usize,
    k: usize,
    /// The group is a whole component of the adjacency (not cut by a township border).
    whole_component: bool,
}

/// Proposes zones. See the module documentation.
pub fn propose(
    villages: &[ZoningVillage],
    graph: &ContiguityGraph,
    params: &ProposeParams,
) -> Result<Proposal, ZoningError> {
    let started = Instant::now();
    let n = villages.len();
    let b = &params.bounds;
    if n == 0 {
        return Err(ZoningError::BadParams(
            "没有村可以分区 / no villages to zone".into(),
        ));
    }
    if b.min_members == 0 || b.min_members > b.max_members {
        return Err(ZoningError::BadParams(format!(
            "成员数范围无效 / bad member range: min {} max {}",
            b.min_members, b.max_members
        )));
    }
    if let (Some(f), Some(c)) = (b.pop_floor, b.pop_ceiling)
        && f > c
    {
        return Err(ZoningError::BadParams(format!(
            "人口下限 {f} 高于上限 {c} / population floor above ceiling"
        )));
    }
    // Adjacency: rook or queen, cut at township borders, without locked villages.
    let mut locked_zone = vec![usize::MAX; n];
    for (z, members) in params.locked.iter().enumerate() {
        for &v in members {
            if v >= n || locked_zone[v] != usize::MAX {
                return Err(ZoningError::BadParams(format!(
                    "锁定片区 {z} 的成员无效或重复 / locked zone {z}: unknown or repeated village"
                )));
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
            return Err(ZoningError::Infeasible {
                constraint: "pop_ceiling",
                detail: format!(
                    "人口上限 {c} 低于单个村的人口 / the population ceiling is below single villages: {}",
                    names(villages, &over)
                ),
                villages: over,
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
    for members in connected_parts(&free, &nb) {
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
        if ng < b.min_members {
            return Err(ZoningError::Infeasible {
                constraint: "min_members",
                detail: format!(
                    "{ng} 个相连的村不够组成一个至少 {} 个村的片区{island_hint} / {ng} connected villages cannot make a zone of at least {}: {}",
                    b.min_members,
                    b.min_members,
                    names(villages, &members)
                ),
                villages: members,
            });
        }
        if b.require_strong && strong == 0 {
            return Err(ZoningError::Infeasible {
                constraint: "strong",
                detail: format!(
                    "这 {ng} 个相连的村中没有强村{island_hint} / no strong village among these {ng} connected villages: {}",
                    names(villages, &members)
                ),
                villages: members,
            });
        }
        if let Some(f) = b.pop_floor
            && pop < f
        {
            return Err(ZoningError::Infeasible {
                constraint: "pop_floor",
                detail: format!(
                    "人口下限 {f} 高于这 {ng} 个相连的村的总人口 {pop:.0}{island_hint} / the floor is above the population of these connected villages: {}",
                    names(villages, &members)
                ),
                villages: members,
            });
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
            return Err(ZoningError::Infeasible {
                constraint: "bounds",
                detail: format!(
                    "这 {ng} 个相连的村至少要分 {lo} 个片区（成员上限/人口上限），但最多只能分 {hi} 个（{}） / these {ng} connected villages need at least {lo} zones but allow at most {hi}: {}",
                    why.join("，"),
                    names(villages, &members)
                ),
                villages: members,
            });
        }
        groups.push(Group {
            members,
            lo,
            hi,
            k: lo,
            whole_component,
        });
    }
    // Number of zones per group.
    let zone_count_rule;
    match params.zones {
        Some(total) => {
            let free_k = total.checked_sub(params.locked.len()).ok_or_else(|| {
                ZoningError::BadParams(format!(
                    "片区数 {total} 少于锁定片区数 {} / fewer zones than locked zones",
                    params.locked.len()
                ))
            })?;
            let (sum_lo, sum_hi): (usize, usize) =
                groups.iter().fold((0, 0), |(l, h), g| (l + g.lo, h + g.hi));
            if free_k < sum_lo || free_k > sum_hi {
                let strong_total = free.iter().filter(|&&v| villages[v].strong).count();
                return Err(ZoningError::Infeasible {
                    constraint: "zones",
                    detail: format!(
                        "要求 {free_k} 个新片区，但约束允许 {sum_lo}–{sum_hi} 个（{} 个连通区域，强村 {strong_total} 个） / {free_k} new zones requested, the bounds allow {sum_lo}–{sum_hi} ({} connected groups, {strong_total} strong villages)",
                        groups.len(),
                        groups.len()
                    ),
                    villages: Vec::new(),
                });
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
            zone_count_rule = format!("指定 {total} 个片区 / {total} zones as requested");
        }
        None => {
            for g in &mut groups {
                let want = if b.require_strong {
                    g.members.iter().filter(|&&v| villages[v].strong).count()
                } else {
                    g.members.len().div_ceil(5)
                };
                g.k = want.clamp(g.lo, g.hi);
            }
            zone_count_rule = if b.require_strong {
                "每个强村牵头一个片区，受成员数和人口约束调整 / one zone per strong village, adjusted to the bounds".into()
            } else {
                "约每 5 个村一个片区，受约束调整 / about five villages per zone, adjusted to the bounds".into()
            };
        }
    }

    let prepared = Prepared::new(villages);
    let k_total = params.locked.len() + groups.iter().map(|g| g.k).sum::<usize>();
    let mut rng = Rng::new(params.seed ^ 0x6c69_616e_6375_6e00);
    let mut search = Search::new(villages, &prepared, params, &nb, k_total);
    for members in &params.locked {
        search.add_zone(members, false);
    }
    for g in &groups {
        search.grow(g, &mut rng);
    }
    search.descend(&mut rng, started);
    search.anneal(&mut rng, started);
    search.descend(&mut rng, started);

    // Never return a zoning that breaks a bound.
    let mut broken = Vec::new();
    for z in 0..search.members.len() {
        if !search.movable[z] {
            continue;
        }
        let v = bound_violations(b, &search.sums[z]);
        if !v.is_empty() {
            broken.push((z, v));
        }
    }
    if !broken.is_empty() {
        let detail: Vec<String> = broken
            .iter()
            .take(5)
            .map(|(z, v)| {
                let d: Vec<String> = v.iter().map(Violation::describe).collect();
                format!(
                    "[{}] {}",
                    names(villages, &search.members[*z]),
                    d.join("; ")
                )
            })
            .collect();
        let mut involved: Vec<usize> = broken
            .iter()
            .flat_map(|(z, _)| search.members[*z].clone())
            .collect();
        involved.sort_unstable();
        return Err(ZoningError::Infeasible {
            constraint: broken[0].1[0].code(),
            detail: format!(
                "在时间和搜索范围内找不到满足全部约束的分区，请放宽约束 / no zoning meeting every bound was found; relax the bounds. {}",
                detail.join(" | ")
            ),
            villages: involved,
        });
    }

    let terms = params.objective.terms(&prepared, &search.sums);
    let group_of: std::collections::HashMap<usize, usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(gi, g)| g.members.iter().map(move |&v| (v, gi)))
        .collect();
    let mut zones: Vec<ProposedZone> = (0..search.members.len())
        .map(|z| {
            let mut members = search.members[z].clone();
            members.sort_unstable();
            let locked = !search.movable[z];
            let key = key_village(villages, &members);
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
                if let Some(&gi) = group_of.get(&members[0])
                    && groups[gi].k == 1
                {
                    binding.push(Binding::WholeGroup(groups[gi].members.len()));
                }
                if b.within_town
                    && !groups
                        .get(group_of.get(&members[0]).copied().unwrap_or(0))
                        .is_some_and(|g| g.whole_component)
                {
                    binding.push(Binding::WithinTown);
                }
            }
            let explanation = explain(villages, &prepared, &members, key, s, &binding);
            ProposedZone {
                members,
                key_village: key,
                locked,
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
        stopped_by_time_limit: search.timed_out,
        moves: search.moves,
    })
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
) -> String {
    let kv = &villages[key];
    let role = if kv.strong {
        "强村中集体收入最高"
    } else {
        "成员中集体收入最高"
    };
    let (top, count) = s
        .industry_counts
        .iter()
        .enumerate()
        .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))
        .map(|(i, c)| (p.industries[i].as_str(), *c))
        .unwrap_or(("", 0));
    let mut text = format!(
        "以{}为核心村（{role}，{:.1} 万元）；{} 个村相邻连片，人口 {:.0}，集体收入合计 {:.1} 万元；主导产业{} {}/{}",
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
        text.push_str(&match bnd {
            Binding::AtMaxMembers(m) => format!("成员数已达上限 {m}"),
            Binding::AtMinMembers(m) => format!("成员数为下限 {m}"),
            Binding::NearFloor(f) => format!("人口接近下限 {f:.0}"),
            Binding::NearCeiling(c) => format!("人口接近上限 {c:.0}"),
            Binding::SingleStrong => "仅含 1 个强村".into(),
            Binding::WholeGroup(g) => format!("所在连通区域（{g} 个村）只够组成这一个片区"),
            Binding::WithinTown => "限于本乡镇".into(),
            Binding::Locked => "锁定片区，按现有方案保留".into(),
        });
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

/// The mutable zoning during the search.
struct Search<'a> {
    villages: &'a [ZoningVillage],
    p: &'a Prepared,
    params: &'a ProposeParams,
    nb: &'a [Vec<usize>],
    k: usize,
    zone_of: Vec<usize>,
    members: Vec<Vec<usize>>,
    pos: Vec<usize>,
    sums: Vec<ZoneSums>,
    cost: Vec<f64>,
    movable: Vec<bool>,
    penalty_weight: f64,
    target_pop: f64,
    stamp: Vec<u32>,
    generation: u32,
    scratch_a: ZoneSums,
    scratch_b: ZoneSums,
    moves: usize,
    timed_out: bool,
}

const UNASSIGNED: usize = usize::MAX;

impl<'a> Search<'a> {
    fn new(
        villages: &'a [ZoningVillage],
        p: &'a Prepared,
        params: &'a ProposeParams,
        nb: &'a [Vec<usize>],
        k: usize,
    ) -> Search<'a> {
        let o = &params.objective;
        let weights =
            o.heterogeneity.abs() + o.industry.abs() + o.compactness.abs() + o.balance.abs();
        let total_pop: f64 = villages.iter().map(|v| v.population.max(0.0)).sum();
        Search {
            villages,
            p,
            params,
            nb,
            k,
            zone_of: vec![UNASSIGNED; villages.len()],
            members: Vec::new(),
            pos: vec![0; villages.len()],
            sums: Vec::new(),
            cost: Vec::new(),
            movable: Vec::new(),
            penalty_weight: 100.0 * (weights + 1.0),
            target_pop: (total_pop / k.max(1) as f64).max(1.0),
            stamp: vec![0; villages.len()],
            generation: 0,
            scratch_a: ZoneSums::empty(p),
            scratch_b: ZoneSums::empty(p),
            moves: 0,
            timed_out: false,
        }
    }

    fn penalty(&self, s: &ZoneSums) -> f64 {
        let b = &self.params.bounds;
        let mut x = 0.0;
        x += b.min_members.saturating_sub(s.size) as f64;
        x += s.size.saturating_sub(b.max_members) as f64;
        if let Some(f) = b.pop_floor {
            x += (f - s.population).max(0.0) / self.target_pop;
        }
        if let Some(c) = b.pop_ceiling {
            x += (s.population - c).max(0.0) / self.target_pop;
        }
        if b.require_strong && s.strong == 0 {
            x += 1.0;
        }
        self.penalty_weight * x
    }

    fn zone_total(&self, s: &ZoneSums) -> f64 {
        self.params.objective.zone_cost(self.p, s, self.k) + self.penalty(s)
    }

    fn add_zone(&mut self, members: &[usize], movable: bool) -> usize {
        let z = self.members.len();
        let mut s = ZoneSums::empty(self.p);
        for &v in members {
            s.apply(self.p, self.villages, v, 1.0);
            self.zone_of[v] = z;
            self.pos[v] = self.members.len();
        }
        let list: Vec<usize> = members.to_vec();
        for (i, &v) in list.iter().enumerate() {
            self.pos[v] = i;
        }
        self.members.push(list);
        self.cost.push(0.0);
        self.sums.push(s);
        self.movable.push(movable);
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

    fn dist2(&self, v: usize, z: usize) -> f64 {
        let s = &self.sums[z];
        let (cx, cy) = (s.sx / s.size as f64, s.sy / s.size as f64);
        let (x, y) = self.p.xy[v];
        (x - cx).powi(2) + (y - cy).powi(2)
    }

    /// Seeds and region growth for one group (module documentation, step 3).
    fn grow(&mut self, g: &Group, rng: &mut Rng) {
        let b = &self.params.bounds;
        let candidates: Vec<usize> = if b.require_strong {
            g.members
                .iter()
                .copied()
                .filter(|&v| self.villages[v].strong)
                .collect()
        } else {
            g.members.clone()
        };
        let mut seeds = vec![candidates[rng.below(candidates.len())]];
        let mut nearest: Vec<f64> = candidates
            .iter()
            .map(|&c| {
                let (a, d) = (self.p.xy[c], self.p.xy[seeds[0]]);
                (a.0 - d.0).powi(2) + (a.1 - d.1).powi(2)
            })
            .collect();
        while seeds.len() < g.k {
            let (i, _) = nearest
                .iter()
                .enumerate()
                .max_by(|a, c| a.1.total_cmp(c.1).then(c.0.cmp(&a.0)))
                .expect("candidates left");
            let s = candidates[i];
            seeds.push(s);
            for (j, &c) in candidates.iter().enumerate() {
                let (a, d) = (self.p.xy[c], self.p.xy[s]);
                nearest[j] = nearest[j].min((a.0 - d.0).powi(2) + (a.1 - d.1).powi(2));
            }
        }
        let zones: Vec<usize> = seeds.iter().map(|&s| self.add_zone(&[s], true)).collect();
        let group_pop: f64 = g
            .members
            .iter()
            .map(|&v| self.villages[v].population.max(0.0))
            .sum();
        let share = group_pop / g.k as f64;
        let mut frontier: Vec<Vec<usize>> = seeds.iter().map(|&s| self.nb[s].clone()).collect();
        let mut open: Vec<bool> = vec![true; zones.len()];
        loop {
            // The open zone with the least population relative to its share grows next.
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
                        .is_none_or(|c| self.sums[z].population + self.villages[v].population <= c)
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
        // Leftovers join an adjacent zone (the search repairs any broken bound).
        let mut left: Vec<usize> = g
            .members
            .iter()
            .copied()
            .filter(|&v| self.zone_of[v] == UNASSIGNED)
            .collect();
        while !left.is_empty() {
            let before = left.len();
            left.retain(|&v| {
                let target = self.nb[v]
                    .iter()
                    .filter(|&&w| self.zone_of[w] != UNASSIGNED)
                    .map(|&w| self.zone_of[w])
                    .min_by(|&a, &c| {
                        self.sums[a]
                            .population
                            .total_cmp(&self.sums[c].population)
                            .then(a.cmp(&c))
                    });
                match target {
                    Some(z) => {
                        self.assign(v, z);
                        false
                    }
                    None => true,
                }
            });
            if left.len() == before {
                break; // unreachable: groups are connected
            }
        }
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

    /// Whether the zone of `v` stays connected without `v`.
    fn stays_connected_without(&mut self, v: usize) -> bool {
        let z = self.zone_of[v];
        let size = self.members[z].len();
        if size <= 2 {
            return size == 2;
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

    fn apply_move(&mut self, v: usize, to: usize) {
        let from = self.zone_of[v];
        let i = self.pos[v];
        self.members[from].swap_remove(i);
        if let Some(&moved) = self.members[from].get(i) {
            self.pos[moved] = i;
        }
        self.sums[from].apply(self.p, self.villages, v, -1.0);
        self.cost[from] = self.zone_total(&self.sums[from]);
        self.assign(v, to);
        self.moves += 1;
    }

    /// Adjacent zones `v` could move to (none when `v` is its zone's last strong village: every
    /// zone starts from a strong seed and keeps one).
    fn targets(&self, v: usize, out: &mut Vec<usize>) {
        out.clear();
        let from = self.zone_of[v];
        if self.params.bounds.require_strong
            && self.villages[v].strong
            && self.sums[from].strong <= 1
        {
            return;
        }
        for &w in &self.nb[v] {
            let z = self.zone_of[w];
            if z != from && z != UNASSIGNED && self.movable[z] && !out.contains(&z) {
                out.push(z);
            }
        }
    }

    fn out_of_time(&mut self, started: Instant) -> bool {
        if started.elapsed() > self.params.time_limit {
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
    fn descend(&mut self, rng: &mut Rng, started: Instant) {
        let mut order = self.free_villages();
        let mut targets = Vec::new();
        loop {
            shuffle(&mut order, rng);
            let mut improved = false;
            for (count, &v) in order.iter().enumerate() {
                if count % 256 == 0 && self.out_of_time(started) {
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

    fn total(&self) -> f64 {
        self.cost.iter().sum()
    }

    /// Simulated annealing over single moves; ends on the best zoning seen.
    fn anneal(&mut self, rng: &mut Rng, started: Instant) {
        let free = self.free_villages();
        if free.is_empty() || self.params.effort == 0 {
            return;
        }
        let steps = self.params.effort.saturating_mul(free.len());
        let mut targets = Vec::new();
        // Starting temperature: the mean cost increase of a sample of moves, so that about a
        // third of worsening moves are accepted at first.
        let mut sample = Vec::new();
        for _ in 0..200 {
            let v = free[rng.below(free.len())];
            self.targets(v, &mut targets);
            if targets.is_empty() || self.members[self.zone_of[v]].len() <= 1 {
                continue;
            }
            let z = targets[rng.below(targets.len())];
            let d = self.move_delta(v, z);
            if d > 0.0 && d < self.penalty_weight * 0.5 {
                sample.push(d);
            }
        }
        if sample.is_empty() {
            return;
        }
        let t0 = sample.iter().sum::<f64>() / sample.len() as f64;
        let t_end = t0 * 1e-3;
        let levels = 100usize;
        let per_level = (steps / levels).max(1);
        let cooling = (t_end / t0).powf(1.0 / levels as f64);
        let mut t = t0;
        let mut best_total = self.total();
        let mut best_zone_of = self.zone_of.clone();
        for _ in 0..levels {
            if self.out_of_time(started) {
                break;
            }
            for _ in 0..per_level {
                let v = free[rng.below(free.len())];
                if self.members[self.zone_of[v]].len() <= 1 {
                    continue;
                }
                self.targets(v, &mut targets);
                if targets.is_empty() {
                    continue;
                }
                let z = targets[rng.below(targets.len())];
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
}

fn shuffle(v: &mut [usize], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
}
