//! The smallest relaxations that make an infeasible request feasible, each verified by an
//! actual zoning.
//!
//! **Parameters**: the villages, their graph, the request that was proven infeasible, its
//! [`Certificate`]s and a time budget for the verifying runs.
//!
//! **Returns** [`VerifiedRelaxation`]s, most useful first: each names one change of the
//! request, the zoning's zone count and the seconds it took. A candidate whose verifying run
//! finds no zoning in its share of the budget is left out, never offered unverified.
//!
//! **Algorithm.** Candidates follow the proofs' constraints:
//! - a bound that only loosens (member ceiling up, member floor down, population floor down,
//!   population ceiling up) is searched by bisection for the smallest change under which
//!   [`proofs`] finds nothing (the counting arguments are monotone in each bound), then
//!   verified by [`propose`], stepping on when the first value does not verify;
//! - for a lack of strong villages: villages of the short areas are designated strong, richest
//!   first, skipping any that does not lower the shortfall, until no proof remains; the same
//!   villages are also offered as leaders of 村村互助型 zones without a strong village;
//! - an exact zone count outside the allowed range: the nearest allowed count;
//! - with zones kept inside townships: crossing township borders, when that clears the proofs;
//! - small separate groups (islands, cut-off fragments) that cannot make a valid zone: kept as
//!   zones of their own (locked, outside the bounds).
//!
//! **Complexity.** One proof costs a bounded BFS per weak village and a max-flow; a bisection
//! takes O(log n) proofs; each candidate costs one proposal within its budget share.

use std::time::{Duration, Instant};

use super::ZoningVillage;
use super::certify::Certificate;
use super::propose::{ProposeParams, ZoningError, proofs, propose};
use crate::engine::contiguity::ContiguityGraph;

/// One change of the request.
#[derive(Debug, Clone, PartialEq)]
pub enum Relaxation {
    /// Raise the member bound to this many villages per zone.
    MaxMembers(usize),
    /// Lower the member bound to this many villages per zone.
    MinMembers(usize),
    /// Lower the population floor to this many persons.
    PopFloor(f64),
    /// Raise the population ceiling to this many persons.
    PopCeiling(f64),
    /// Ask for this many zones instead.
    Zones(usize),
    /// Zones may cross township borders (for fragments of a township cut off from the rest).
    CrossTowns,
    /// Keep these small separate groups (islands, cut-off fragments) as zones of their own,
    /// locked, outside the bounds.
    OwnZones(Vec<Vec<usize>>),
    /// Designate these villages strong (richest first in the areas that lack them).
    DesignateStrong(Vec<usize>),
    /// Let these villages lead 村村互助型 zones without a strong village.
    MutualAid(Vec<usize>),
}

impl Relaxation {
    /// A stable code for the wire.
    pub fn code(&self) -> &'static str {
        match self {
            Relaxation::MaxMembers(_) => "max_members",
            Relaxation::MinMembers(_) => "min_members",
            Relaxation::PopFloor(_) => "pop_floor",
            Relaxation::PopCeiling(_) => "pop_ceiling",
            Relaxation::Zones(_) => "zones",
            Relaxation::CrossTowns => "within_town",
            Relaxation::OwnZones(_) => "own_zones",
            Relaxation::DesignateStrong(_) => "designate_strong",
            Relaxation::MutualAid(_) => "mutual_aid",
        }
    }

    /// The request with this change.
    pub fn apply(&self, params: &ProposeParams) -> ProposeParams {
        let mut p = params.clone();
        match self {
            Relaxation::MaxMembers(m) => p.bounds.max_members = *m,
            Relaxation::MinMembers(m) => p.bounds.min_members = *m,
            Relaxation::PopFloor(f) => p.bounds.pop_floor = Some(*f),
            Relaxation::PopCeiling(c) => p.bounds.pop_ceiling = Some(*c),
            Relaxation::Zones(k) => p.zones = Some(*k),
            Relaxation::CrossTowns => p.bounds.within_town = false,
            Relaxation::OwnZones(groups) => {
                p.locked.extend(groups.iter().cloned());
                if let Some(k) = p.zones.as_mut() {
                    *k += groups.len();
                }
            }
            Relaxation::DesignateStrong(_) => {}
            Relaxation::MutualAid(v) => p.mutual_aid.extend(v.iter().copied()),
        }
        p
    }

    /// The villages with this change (designated strong villages marked).
    pub fn apply_villages(&self, villages: &[ZoningVillage]) -> Vec<ZoningVillage> {
        let mut out = villages.to_vec();
        if let Relaxation::DesignateStrong(list) = self {
            for &v in list {
                out[v].strong = true;
            }
        }
        out
    }
}

/// A relaxation with the zoning that shows it works.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedRelaxation {
    /// The change of the request.
    pub relaxation: Relaxation,
    /// Zones of the verifying zoning.
    pub zones: usize,
    /// Wall-clock seconds the verifying proposal took.
    pub seconds: f64,
}

/// Relaxations of `params` that make it feasible (module documentation).
pub fn relaxations(
    villages: &[ZoningVillage],
    graph: &ContiguityGraph,
    params: &ProposeParams,
    certificates: &[Certificate],
    budget: Duration,
) -> Vec<VerifiedRelaxation> {
    let started = Instant::now();
    let b = &params.bounds;
    let has = |c: &str| certificates.iter().any(|x| x.constraint == c);
    let strong_short = has("strong_reach")
        || has("strong_reach_population")
        || has("strong")
        || (has("bounds") && b.require_strong);
    let clear =
        |v: &[ZoningVillage], p: &ProposeParams| proofs(v, graph, p).is_ok_and(|c| c.is_empty());
    let n = villages.len();
    let mut candidates: Vec<Relaxation> = Vec::new();
    if strong_short || has("bounds") {
        // Smallest member ceiling without a proof.
        let ok = |m: usize| {
            let mut p = params.clone();
            p.bounds.max_members = m;
            clear(villages, &p)
        };
        if let Some(m) = smallest(b.max_members + 1, n.max(b.max_members + 1), ok) {
            candidates.push(Relaxation::MaxMembers(m));
        }
    }
    if strong_short {
        let chosen = designate(villages, graph, params, certificates);
        if !chosen.is_empty() {
            candidates.push(Relaxation::DesignateStrong(chosen.clone()));
            candidates.push(Relaxation::MutualAid(chosen));
        }
    }
    if (has("bounds") || has("min_members")) && b.min_members > 1 {
        // Largest member floor without a proof.
        let ok = |m: usize| {
            let mut p = params.clone();
            p.bounds.min_members = b.min_members - m;
            clear(villages, &p)
        };
        if let Some(d) = smallest(1, b.min_members - 1, ok) {
            candidates.push(Relaxation::MinMembers(b.min_members - d));
        }
    }
    if let Some(f) = b.pop_floor
        && (has("bounds") || has("pop_floor"))
    {
        // Largest floor (whole people) without a proof.
        let ok = |cut: usize| {
            let mut p = params.clone();
            p.bounds.pop_floor = Some((f - cut as f64).max(0.0));
            clear(villages, &p)
        };
        if let Some(cut) = smallest(1, f.ceil() as usize, ok) {
            candidates.push(Relaxation::PopFloor((f - cut as f64).max(0.0)));
        }
    }
    if let Some(c) = b.pop_ceiling
        && (has("bounds") || has("pop_ceiling") || has("strong_reach_population"))
    {
        let total: f64 = villages.iter().map(|v| v.population.max(0.0)).sum();
        let ok = |add: usize| {
            let mut p = params.clone();
            p.bounds.pop_ceiling = Some(c + add as f64);
            clear(villages, &p)
        };
        if let Some(add) = smallest(1, total.ceil() as usize + 1, ok) {
            candidates.push(Relaxation::PopCeiling(c + add as f64));
        }
    }
    if b.within_town && certificates.iter().any(|c| c.constraint != "pop_ceiling") {
        let mut p = params.clone();
        p.bounds.within_town = false;
        if clear(villages, &p) {
            candidates.push(Relaxation::CrossTowns);
        }
    }
    // Small separate groups that cannot make a valid zone: kept as zones of their own.
    let small: Vec<Vec<usize>> = certificates
        .iter()
        .filter(|c| {
            matches!(
                c.constraint,
                "min_members" | "strong" | "pop_floor" | "bounds"
            )
        })
        .filter(|c| !c.villages.is_empty() && c.villages.len() <= b.max_members)
        .map(|c| c.villages.clone())
        .collect();
    if !small.is_empty() {
        let p = Relaxation::OwnZones(small.clone()).apply(params);
        if clear(villages, &p) {
            candidates.push(Relaxation::OwnZones(small));
        }
    }
    if let Some(z) = certificates.iter().find(|c| c.constraint == "zones") {
        let k = z.available as usize + params.locked.len();
        if k > 0 {
            candidates.push(Relaxation::Zones(k));
        }
    }
    // Verify each in its share of the budget. A candidate that clears every proof may still
    // find no zoning in its time (the proofs are necessary conditions, not sufficient ones),
    // so it is loosened step by step: one more member, the next richest village of the short
    // areas, 5 % on a population bound.
    let mut spare: Vec<usize> = certificates
        .iter()
        .filter(|c| c.constraint.starts_with("strong") || c.constraint == "bounds")
        .flat_map(|c| c.villages.iter().copied())
        .filter(|&v| !villages[v].strong)
        .collect();
    spare.sort_by(|&a, &b| {
        villages[b]
            .income
            .total_cmp(&villages[a].income)
            .then(villages[a].code.cmp(&villages[b].code))
    });
    spare.dedup();
    const STEPS: u32 = 6;
    let mut out = Vec::new();
    let count = candidates.len().max(1) as u32;
    for (i, cand) in candidates.into_iter().enumerate() {
        if crate::engine::cancel::requested() {
            break;
        }
        let left = budget.saturating_sub(started.elapsed());
        let share = left / (count - i as u32).max(1);
        let mut cand = cand;
        for _ in 0..STEPS {
            let t = Instant::now();
            let mut p = cand.apply(params);
            p.time_limit = share / STEPS;
            let vs = cand.apply_villages(villages);
            match propose(&vs, graph, &p) {
                Ok(z) => {
                    out.push(VerifiedRelaxation {
                        relaxation: cand,
                        zones: z.zones.len(),
                        seconds: t.elapsed().as_secs_f64(),
                    });
                    break;
                }
                Err(ZoningError::BadParams { .. }) => break,
                Err(_) => {
                    let next_of = |list: &[usize]| {
                        spare.iter().copied().find(|v| !list.contains(v)).map(|v| {
                            let mut l = list.to_vec();
                            l.push(v);
                            l.sort_unstable();
                            l
                        })
                    };
                    cand = match cand {
                        Relaxation::MaxMembers(m) if m < n => Relaxation::MaxMembers(m + 1),
                        Relaxation::MinMembers(m) if m > 1 => Relaxation::MinMembers(m - 1),
                        Relaxation::PopFloor(f) => Relaxation::PopFloor((f * 0.95).floor()),
                        Relaxation::PopCeiling(c) => Relaxation::PopCeiling((c * 1.05).ceil()),
                        Relaxation::DesignateStrong(l) => match next_of(&l) {
                            Some(l) => Relaxation::DesignateStrong(l),
                            None => break,
                        },
                        Relaxation::MutualAid(l) => match next_of(&l) {
                            Some(l) => Relaxation::MutualAid(l),
                            None => break,
                        },
                        _ => break,
                    };
                }
            }
        }
    }
    out
}

/// The smallest x in lo..=hi with ok(x), assuming ok is monotone (false … false true … true).
fn smallest(lo: usize, hi: usize, ok: impl Fn(usize) -> bool) -> Option<usize> {
    if lo > hi || !ok(hi) {
        return None;
    }
    let (mut a, mut b) = (lo, hi);
    while a < b {
        let m = a + (b - a) / 2;
        if ok(m) {
            b = m;
        } else {
            a = m + 1;
        }
    }
    Some(a)
}

/// Villages to designate strong so that no strong-village proof remains: in the short areas,
/// richest first, skipping any that does not lower the shortfall.
fn designate(
    villages: &[ZoningVillage],
    graph: &ContiguityGraph,
    params: &ProposeParams,
    certificates: &[Certificate],
) -> Vec<usize> {
    let shortfall = |certs: &[Certificate]| -> f64 {
        certs
            .iter()
            .filter(|c| c.constraint.starts_with("strong") || c.constraint == "bounds")
            .map(|c| (c.needed - c.available).max(0.0) + 1.0)
            .sum()
    };
    // More than 30 villages to designate is not a relaxation a township would adopt (and the
    // search below costs a proof per candidate): offer none.
    let per_zone = params.bounds.max_members.saturating_sub(1).max(1) as f64;
    let estimate: f64 = certificates
        .iter()
        .filter(|c| c.constraint.starts_with("strong") || c.constraint == "bounds")
        .map(|c| match c.unit {
            "zones" => (c.needed - c.available).max(0.0),
            "villages" => ((c.needed - c.available).max(0.0) / per_zone).ceil(),
            _ => 0.0,
        })
        .sum();
    if estimate > 30.0 {
        return Vec::new();
    }
    let mut vs = villages.to_vec();
    let mut chosen = Vec::new();
    let mut certs: Vec<Certificate> = certificates.to_vec();
    let mut current = shortfall(&certs);
    for _ in 0..villages.len().min(60) {
        if current <= 0.0 {
            break;
        }
        let mut area: Vec<usize> = certs
            .iter()
            .filter(|c| c.constraint.starts_with("strong") || c.constraint == "bounds")
            .flat_map(|c| c.villages.iter().copied())
            .filter(|&v| !vs[v].strong)
            .collect();
        area.sort_by(|&a, &b| {
            villages[b]
                .income
                .total_cmp(&villages[a].income)
                .then(villages[a].code.cmp(&villages[b].code))
        });
        area.dedup();
        let mut progressed = false;
        for &v in area.iter().take(12) {
            vs[v].strong = true;
            let Ok(next) = proofs(&vs, graph, params) else {
                return Vec::new();
            };
            let s = shortfall(&next);
            if s < current {
                chosen.push(v);
                certs = next;
                current = s;
                progressed = true;
                break;
            }
            vs[v].strong = false;
        }
        if !progressed {
            // No single village helps (e.g. a proof about another bound): take the richest.
            let Some(&v) = area.first() else { break };
            vs[v].strong = true;
            chosen.push(v);
            match proofs(&vs, graph, params) {
                Ok(next) => {
                    current = shortfall(&next);
                    certs = next;
                }
                Err(_) => return Vec::new(),
            }
        }
    }
    if current > 0.0 {
        return Vec::new();
    }
    chosen.sort_unstable();
    chosen
}
