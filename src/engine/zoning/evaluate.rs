//! Evaluation of any zoning (village → zone), proposed or drawn by hand.
//!
//! **Parameters**: the villages, their contiguity graph, the zone of every village (`None`:
//! not assigned), optional key villages per zone, the [`Bounds`] to check and the
//! [`Objective`] to price.
//!
//! **Returns** per zone: members, connected or not (number of parts under the adjacency), every
//! bound violated, population, collective income total/min/max and Gini, within-zone
//! heterogeneity (sum of squared deviations of the standardised attributes), compactness
//! (Polsby–Popper 4πA/P² of the dissolved zone, with P = Σ member perimeters − 2 × the borders
//! shared inside the zone, so no polygon union is needed), and the distance from the key village
//! to its farthest member; and the totals, with the objective terms.
//!
//! **Complexity**: O(n + edges) plus O(m²) per zone of m members for the distances.

use std::collections::BTreeMap;

use super::propose::key_village;
use super::{
    Bounds, Objective, ObjectiveTerms, Prepared, Violation, ZoneSums, ZoningVillage,
    bound_violations, connected_parts, gini,
};
use crate::engine::contiguity::ContiguityGraph;

/// One zone of an evaluated zoning: its members, bounds broken, population, income and shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneEvaluation {
    /// The zone's id as the zoning names it (e.g. `Z001`).
    pub id: String,
    /// Village indices, ascending.
    pub members: Vec<usize>,
    /// The key (lead) village: the one given for the zone, else the strongest member.
    pub key_village: usize,
    /// Number of connected pieces of the members under the adjacency (1: connected).
    pub parts: usize,
    /// Every bound the zone breaks, disconnection included.
    pub violations: Vec<Violation>,
    /// Total registered population of the members, persons.
    pub population: f64,
    /// Total collective income of the members (万元).
    pub income_total: f64,
    /// Smallest member income (万元; negatives count as 0).
    pub income_min: f64,
    /// Largest member income (万元).
    pub income_max: f64,
    /// Gini coefficient of the member incomes (0: equal, towards 1: concentrated).
    pub income_gini: f64,
    /// Number of strong villages among the members.
    pub strong_villages: usize,
    /// Σ squared deviations of the standardised attributes from the zone mean.
    pub heterogeneity: f64,
    /// Total planar area of the members, m².
    pub area_m2: f64,
    /// Polsby–Popper compactness 4πA/P² of the dissolved zone (1 for a disc, towards 0 when
    /// elongated).
    pub polsby_popper: f64,
    /// From the key village's anchor to the farthest member's anchor (m).
    pub key_to_farthest_m: f64,
}

/// The evaluation of a whole zoning: each zone, the unassigned villages and the totals.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// One entry per zone, ascending by zone id.
    pub zones: Vec<ZoneEvaluation>,
    /// Villages in no zone (indices, ascending).
    pub unassigned: Vec<usize>,
    /// The objective terms of the zoning (normalised, with the weighted total).
    pub terms: ObjectiveTerms,
    /// Σ zone heterogeneity (squared deviations of the standardised attributes).
    pub heterogeneity: f64,
    /// Zones whose members are not connected.
    pub disconnected_zones: usize,
    /// Number of (zone, violated bound) pairs, disconnection included.
    pub violations: usize,
    /// Zones that break at least one bound.
    pub zones_with_violations: usize,
}

/// Evaluates a zoning. `zone_of[v]` is the zone id of village v; `keys` optional key villages
/// by zone id (otherwise chosen as in the proposal: the strongest member).
pub fn evaluate(
    villages: &[ZoningVillage],
    graph: &ContiguityGraph,
    zone_of: &[Option<String>],
    keys: &BTreeMap<String, usize>,
    bounds: &Bounds,
    objective: &Objective,
    queen: bool,
) -> Evaluation {
    let p = Prepared::new(villages);
    let nb = graph.neighbour_lists(queen);
    let mut by_zone: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut unassigned = Vec::new();
    for (v, z) in zone_of.iter().enumerate() {
        match z {
            Some(z) => by_zone.entry(z.as_str()).or_default().push(v),
            None => unassigned.push(v),
        }
    }
    let mut sums_all = Vec::new();
    let mut zones = Vec::new();
    for (id, members) in by_zone {
        let mut s = ZoneSums::empty(&p);
        for &v in &members {
            s.apply(&p, villages, v, 1.0);
        }
        let parts = connected_parts(&members, &nb).len();
        let mut violations = Vec::new();
        if parts > 1 {
            violations.push(Violation::Disconnected { parts });
        }
        violations.extend(bound_violations(bounds, &s));
        if bounds.within_town {
            let mut towns: Vec<&str> = members
                .iter()
                .map(|&v| villages[v].town_code.as_str())
                .collect();
            towns.sort_unstable();
            towns.dedup();
            if towns.len() > 1 {
                violations.push(Violation::CrossesTowns { towns: towns.len() });
            }
        }
        let incomes: Vec<f64> = members
            .iter()
            .map(|&v| villages[v].income.max(0.0))
            .collect();
        let area: f64 = members.iter().map(|&v| villages[v].area_m2).sum();
        let mut perimeter: f64 = members.iter().map(|&v| villages[v].perimeter_m).sum();
        for &v in &members {
            for &(w, e) in graph.adjacent(v) {
                if v < w && zone_of[w].as_deref() == Some(id) {
                    perimeter -= 2.0 * graph.edges[e].shared_m;
                }
            }
        }
        let key = keys
            .get(id)
            .copied()
            .filter(|k| members.contains(k))
            .unwrap_or_else(|| key_village(villages, &members));
        let ka = villages[key].anchor;
        let farthest = members
            .iter()
            .map(|&v| (villages[v].anchor.x - ka.x).hypot(villages[v].anchor.y - ka.y))
            .fold(0.0, f64::max);
        zones.push(ZoneEvaluation {
            id: id.to_string(),
            key_village: key,
            parts,
            population: s.population,
            income_total: s.income,
            income_min: incomes.iter().copied().fold(f64::INFINITY, f64::min),
            income_max: incomes.iter().copied().fold(0.0, f64::max),
            income_gini: gini(&incomes),
            strong_villages: s.strong,
            heterogeneity: s.ssd() + 0.0,
            area_m2: area,
            polsby_popper: if perimeter > 0.0 {
                4.0 * std::f64::consts::PI * area / (perimeter * perimeter)
            } else {
                0.0
            },
            key_to_farthest_m: farthest,
            violations,
            members,
        });
        sums_all.push(s);
    }
    let terms = objective.terms(&p, &sums_all);
    let disconnected_zones = zones.iter().filter(|z| z.parts > 1).count();
    Evaluation {
        heterogeneity: zones.iter().map(|z| z.heterogeneity).sum::<f64>() + 0.0,
        disconnected_zones,
        violations: zones.iter().map(|z| z.violations.len()).sum(),
        zones_with_violations: zones.iter().filter(|z| !z.violations.is_empty()).count(),
        zones,
        unassigned,
        terms,
    }
}
