//! Joint-village zones (联村片区): where a village becomes a member of a zone.
//!
//! - [`propose`]: build a zoning from the contiguity graph under the planners' constraints
//!   (connected zones, member and population bounds, a strong village in every zone, townships,
//!   locked zones) with a weighted objective.
//! - [`evaluate`]: judge any zoning, proposed or drawn by hand, by the same measures.
//! - [`certify`]: proofs that no zoning can meet the bounds (certificates a planner can check).
//! - [`relax`]: the smallest changes of the request that make it feasible, each verified by a
//!   zoning.
//! - `search` (private): construction, ejection-chain repair and local search behind
//!   [`propose`].
//!
//! Both share the village description ([`ZoningVillage`]), the bounds ([`Bounds`]) and the
//! objective ([`Objective`]) defined here.

pub mod certify;
pub mod evaluate;
pub mod propose;
pub mod relax;
mod search;

use geo::Coord;

/// A village as the zoning sees it (metric coordinates).
#[derive(Debug, Clone, PartialEq)]
pub struct ZoningVillage {
    /// The 12-digit village code.
    pub code: String,
    /// The village's name.
    pub name: String,
    /// The 9-digit township code (for `within_town`).
    pub town_code: String,
    /// Registered population (户籍人口), persons; 0 when unknown.
    pub population: f64,
    /// Collective income (万元).
    pub income: f64,
    /// The main industry as the data words it (compared as text).
    pub industry: String,
    /// Whether this village counts as strong (resolved by [`StrongRule`]).
    pub strong: bool,
    /// A point inside the village (metres).
    pub anchor: Coord<f64>,
    /// Planar area of the village, m².
    pub area_m2: f64,
    /// Length of the village's whole boundary (m).
    pub perimeter_m: f64,
    /// Values of the heterogeneity attributes (raw; standardised by the objective).
    pub attributes: Vec<f64>,
}

/// Which villages are strong: the `strong` flag of the data, the top share by collective
/// income county-wide, or the top share within each township (so that a township that is poor
/// county-wide still has villages to lead its zones).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StrongRule {
    /// The data's own `strong` flag.
    Flag,
    /// The top share (0–1) of villages by collective income, county-wide.
    TopIncomeShare(f64),
    /// The top share (0–1) of villages by collective income within each township.
    TopIncomeShareInTown(f64),
}

/// Resolves the strong villages: by flag (`None` flags count as not strong), or the
/// `ceil(share·n)` villages with the highest income (ties by code) — county-wide, or within
/// each township (`towns[i]`: the township code of village i; at least one per township when
/// the share is positive).
pub fn strong_villages(
    flags: &[Option<bool>],
    incomes: &[f64],
    codes: &[String],
    towns: &[String],
    rule: StrongRule,
) -> Vec<bool> {
    let top = |ids: &[usize], share: f64, strong: &mut Vec<bool>| {
        let take = ((share.clamp(0.0, 1.0) * ids.len() as f64).ceil() as usize).min(ids.len());
        let mut order = ids.to_vec();
        order.sort_by(|&a, &b| {
            incomes[b]
                .total_cmp(&incomes[a])
                .then(codes[a].cmp(&codes[b]))
        });
        for &i in order.iter().take(take) {
            strong[i] = true;
        }
    };
    let n = incomes.len();
    match rule {
        StrongRule::Flag => flags.iter().map(|f| f.unwrap_or(false)).collect(),
        StrongRule::TopIncomeShare(share) => {
            let mut strong = vec![false; n];
            top(&(0..n).collect::<Vec<_>>(), share, &mut strong);
            strong
        }
        StrongRule::TopIncomeShareInTown(share) => {
            let mut by_town: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
            for (i, t) in towns.iter().enumerate() {
                by_town.entry(t.as_str()).or_default().push(i);
            }
            let mut strong = vec![false; n];
            for ids in by_town.values() {
                top(ids, share, &mut strong);
            }
            strong
        }
    }
}

/// Hard bounds on every zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    /// Fewest villages in a zone.
    pub min_members: usize,
    /// Most villages in a zone.
    pub max_members: usize,
    /// Smallest population of a zone, persons; `None`: no floor.
    pub pop_floor: Option<f64>,
    /// Largest population of a zone, persons; `None`: no ceiling.
    pub pop_ceiling: Option<f64>,
    /// Every zone must hold a strong village (强村带弱村).
    pub require_strong: bool,
    /// Every zone must lie within one township.
    pub within_town: bool,
}

impl Default for Bounds {
    /// 2–10 villages per zone (the zones planners report hold 2–10 villages, about 4.5 on
    /// average in Zibo's 128 zones over 573 villages); no population bounds; a strong village in
    /// every zone (强村带弱村); townships may be crossed.
    fn default() -> Self {
        Bounds {
            min_members: 2,
            max_members: 10,
            pop_floor: None,
            pop_ceiling: None,
            require_strong: true,
            within_town: false,
        }
    }
}

/// Whether the industry term rewards zones of one industry or of many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndustryMode {
    /// 产业相近: members share their main industry.
    Similar,
    /// 资源互补: members bring different industries.
    Complementary,
}

/// Weights of the objective terms (each term is normalised to about 1 for a typical zoning).
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// Within-zone sum of squared deviations of the standardised attributes, divided by n·d.
    pub heterogeneity: f64,
    /// Industry impurity Σ(size − Σc²/size) / n (Similar) or its negative (Complementary).
    pub industry: f64,
    /// Whether the industry term rewards one industry per zone or many.
    pub industry_mode: IndustryMode,
    /// Moment of inertia of member anchors about their zone centre × K / that of the county.
    pub compactness: f64,
    /// Spread of zone incomes: Σ(T_z − T̄)² / (K·T̄²), the squared coefficient of variation.
    pub balance: f64,
}

impl Default for Objective {
    /// Industry similarity, compactness and income balance weighted equally; heterogeneity of
    /// extra attributes off unless attributes are given.
    fn default() -> Self {
        Objective {
            heterogeneity: 0.0,
            industry: 1.0,
            industry_mode: IndustryMode::Similar,
            compactness: 1.0,
            balance: 1.0,
        }
    }
}

/// Per-village quantities the objective works on, precomputed once.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub n: usize,
    /// Standardised attributes, row per village.
    pub z: Vec<Vec<f64>>,
    pub dims: usize,
    /// Industry index per village.
    pub industry: Vec<usize>,
    pub industries: Vec<String>,
    /// Anchors in km, centred on the county's mean.
    pub xy: Vec<(f64, f64)>,
    /// Σ |anchor − mean|² over all villages (km²).
    pub total_inertia: f64,
    pub total_income: f64,
}

impl Prepared {
    pub fn new(villages: &[ZoningVillage]) -> Prepared {
        let n = villages.len();
        let dims = villages.first().map_or(0, |v| v.attributes.len());
        let mut z = vec![vec![0.0; dims]; n];
        #[allow(clippy::needless_range_loop)] // d indexes both the attributes and z's rows
        for d in 0..dims {
            let vals: Vec<f64> = villages
                .iter()
                .map(|v| v.attributes[d])
                .filter(|x| x.is_finite())
                .collect();
            let mean = vals.iter().sum::<f64>() / vals.len().max(1) as f64;
            let var =
                vals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / vals.len().max(1) as f64;
            let sd = var.sqrt();
            for (i, v) in villages.iter().enumerate() {
                let x = v.attributes[d];
                // A missing value counts as the mean (z = 0); a constant attribute adds nothing.
                z[i][d] = if x.is_finite() && sd > 0.0 {
                    (x - mean) / sd
                } else {
                    0.0
                };
            }
        }
        let mut industries: Vec<String> = villages.iter().map(|v| v.industry.clone()).collect();
        industries.sort();
        industries.dedup();
        let industry = villages
            .iter()
            .map(|v| industries.binary_search(&v.industry).unwrap_or(0))
            .collect();
        let (mx, my) = villages
            .iter()
            .fold((0.0, 0.0), |(x, y), v| (x + v.anchor.x, y + v.anchor.y));
        let (mx, my) = (mx / n.max(1) as f64, my / n.max(1) as f64);
        let xy: Vec<(f64, f64)> = villages
            .iter()
            .map(|v| ((v.anchor.x - mx) / 1000.0, (v.anchor.y - my) / 1000.0))
            .collect();
        let total_inertia = xy.iter().map(|(x, y)| x * x + y * y).sum();
        Prepared {
            n,
            z,
            dims,
            industry,
            industries,
            xy,
            total_inertia,
            total_income: villages.iter().map(|v| v.income.max(0.0)).sum(),
        }
    }
}

/// Running sums of one zone, enough to price any term in O(dims).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ZoneSums {
    pub size: usize,
    pub population: f64,
    pub income: f64,
    pub strong: usize,
    pub sz: Vec<f64>,
    pub sz2: Vec<f64>,
    pub sx: f64,
    pub sy: f64,
    pub sr2: f64,
    pub industry_counts: Vec<u32>,
    pub sum_c2: f64,
}

impl ZoneSums {
    pub fn empty(p: &Prepared) -> ZoneSums {
        ZoneSums {
            size: 0,
            population: 0.0,
            income: 0.0,
            strong: 0,
            sz: vec![0.0; p.dims],
            sz2: vec![0.0; p.dims],
            sx: 0.0,
            sy: 0.0,
            sr2: 0.0,
            industry_counts: vec![0; p.industries.len()],
            sum_c2: 0.0,
        }
    }

    /// Adds (sign = 1) or removes (sign = −1) village `v`.
    pub fn apply(&mut self, p: &Prepared, villages: &[ZoningVillage], v: usize, sign: f64) {
        let vil = &villages[v];
        if sign > 0.0 {
            self.size += 1;
        } else {
            self.size -= 1;
        }
        self.population += sign * vil.population.max(0.0);
        self.income += sign * vil.income.max(0.0);
        if vil.strong {
            if sign > 0.0 {
                self.strong += 1;
            } else {
                self.strong -= 1;
            }
        }
        for d in 0..p.dims {
            let x = p.z[v][d];
            self.sz[d] += sign * x;
            self.sz2[d] += sign * x * x;
        }
        let (x, y) = p.xy[v];
        self.sx += sign * x;
        self.sy += sign * y;
        self.sr2 += sign * (x * x + y * y);
        let k = p.industry[v];
        let c = self.industry_counts[k] as f64;
        if sign > 0.0 {
            self.sum_c2 += 2.0 * c + 1.0;
            self.industry_counts[k] += 1;
        } else {
            self.sum_c2 -= 2.0 * c - 1.0;
            self.industry_counts[k] -= 1;
        }
    }

    pub fn ssd(&self) -> f64 {
        if self.size == 0 {
            return 0.0;
        }
        let s = self.size as f64;
        (0..self.sz.len())
            .map(|d| (self.sz2[d] - self.sz[d] * self.sz[d] / s).max(0.0))
            .sum()
    }

    pub fn inertia(&self) -> f64 {
        if self.size == 0 {
            return 0.0;
        }
        (self.sr2 - (self.sx * self.sx + self.sy * self.sy) / self.size as f64).max(0.0)
    }

    pub fn impurity(&self) -> f64 {
        if self.size == 0 {
            return 0.0;
        }
        (self.size as f64 - self.sum_c2 / self.size as f64).max(0.0)
    }
}

/// The objective terms of a zoning (each already normalised, before weighting).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ObjectiveTerms {
    /// Heterogeneity term, unweighted (see [`Objective::heterogeneity`]).
    pub heterogeneity: f64,
    /// Industry term (see [`Objective::industry`]).
    pub industry: f64,
    /// Compactness term (see [`Objective::compactness`]).
    pub compactness: f64,
    /// Income-balance term (see [`Objective::balance`]).
    pub balance: f64,
    /// Σ weight × term.
    pub total: f64,
}

impl Objective {
    /// The weighted cost of one zone (its share of the total), with `k` zones in all.
    pub(crate) fn zone_cost(&self, p: &Prepared, s: &ZoneSums, k: usize) -> f64 {
        let t = self.zone_terms(p, s, k);
        self.heterogeneity * t.heterogeneity
            + self.industry * t.industry
            + self.compactness * t.compactness
            + self.balance * t.balance
    }

    pub(crate) fn zone_terms(&self, p: &Prepared, s: &ZoneSums, k: usize) -> ObjectiveTerms {
        let n = p.n.max(1) as f64;
        let het = if p.dims > 0 {
            s.ssd() / (n * p.dims as f64)
        } else {
            0.0
        };
        let imp = s.impurity() / n;
        let industry = match self.industry_mode {
            IndustryMode::Similar => imp,
            IndustryMode::Complementary => -imp,
        };
        let compact = if p.total_inertia > 0.0 {
            s.inertia() * k as f64 / p.total_inertia
        } else {
            0.0
        };
        let mean = p.total_income / k.max(1) as f64;
        let balance = if mean > 0.0 {
            (s.income - mean).powi(2) / (k as f64 * mean * mean)
        } else {
            0.0
        };
        ObjectiveTerms {
            heterogeneity: het,
            industry,
            compactness: compact,
            balance,
            total: 0.0,
        }
    }

    /// Terms summed over zones, with the weighted total.
    pub(crate) fn terms(&self, p: &Prepared, zones: &[ZoneSums]) -> ObjectiveTerms {
        let k = zones.len();
        let mut t = ObjectiveTerms::default();
        for s in zones {
            let z = self.zone_terms(p, s, k);
            t.heterogeneity += z.heterogeneity;
            t.industry += z.industry;
            t.compactness += z.compactness;
            t.balance += z.balance;
        }
        t.total = self.heterogeneity * t.heterogeneity
            + self.industry * t.industry
            + self.compactness * t.compactness
            + self.balance * t.balance;
        t
    }
}

/// A broken bound of one zone.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// The members do not form one connected piece in the contiguity graph.
    Disconnected {
        /// Number of connected pieces.
        parts: usize,
    },
    /// Fewer members than [`Bounds::min_members`].
    TooFewMembers {
        /// The zone's member count.
        members: usize,
        /// The lower bound.
        min: usize,
    },
    /// More members than [`Bounds::max_members`].
    TooManyMembers {
        /// The zone's member count.
        members: usize,
        /// The upper bound.
        max: usize,
    },
    /// Population below [`Bounds::pop_floor`].
    BelowFloor {
        /// The zone's population, persons.
        population: f64,
        /// The floor, persons.
        floor: f64,
    },
    /// Population above [`Bounds::pop_ceiling`].
    AboveCeiling {
        /// The zone's population, persons.
        population: f64,
        /// The ceiling, persons.
        ceiling: f64,
    },
    /// No strong village among the members while [`Bounds::require_strong`] holds.
    NoStrongVillage,
    /// Members from several townships while [`Bounds::within_town`] holds.
    CrossesTowns {
        /// Number of townships among the members.
        towns: usize,
    },
}

impl Violation {
    /// The bound's name as requests spell it: `disconnected`, `min_members`, `max_members`,
    /// `pop_floor`, `pop_ceiling`, `strong` or `within_town`.
    pub fn code(&self) -> &'static str {
        match self {
            Violation::Disconnected { .. } => "disconnected",
            Violation::TooFewMembers { .. } => "min_members",
            Violation::TooManyMembers { .. } => "max_members",
            Violation::BelowFloor { .. } => "pop_floor",
            Violation::AboveCeiling { .. } => "pop_ceiling",
            Violation::NoStrongVillage => "strong",
            Violation::CrossesTowns { .. } => "within_town",
        }
    }

    /// The Chinese half of [`Violation::describe`], for what is printed on a sheet.
    pub fn describe_zh(&self) -> String {
        let text = self.describe();
        let cut = text
            .find(" / ")
            .or_else(|| text.find(" not connected"))
            .unwrap_or(text.len());
        text[..cut].to_string()
    }

    /// 中文 first, then English.
    pub fn describe(&self) -> String {
        match self {
            Violation::Disconnected { parts } => {
                format!("片区不连通（{parts} 块） not connected ({parts} parts)")
            }
            Violation::TooFewMembers { members, min } => {
                format!("成员 {members} 个，少于下限 {min} / {members} members, fewer than {min}")
            }
            Violation::TooManyMembers { members, max } => {
                format!("成员 {members} 个，多于上限 {max} / {members} members, more than {max}")
            }
            Violation::BelowFloor { population, floor } => {
                format!("人口 {population:.0} 低于下限 {floor:.0} / population below the floor")
            }
            Violation::AboveCeiling {
                population,
                ceiling,
            } => {
                format!("人口 {population:.0} 高于上限 {ceiling:.0} / population above the ceiling")
            }
            Violation::NoStrongVillage => "没有强村 / no strong village".into(),
            Violation::CrossesTowns { towns } => {
                format!("跨 {towns} 个乡镇 / spans {towns} townships")
            }
        }
    }
}

/// The violations of a zone's sums (connectivity and townships are checked by the caller).
pub(crate) fn bound_violations(b: &Bounds, s: &ZoneSums) -> Vec<Violation> {
    let mut v = Vec::new();
    if s.size < b.min_members {
        v.push(Violation::TooFewMembers {
            members: s.size,
            min: b.min_members,
        });
    }
    if s.size > b.max_members {
        v.push(Violation::TooManyMembers {
            members: s.size,
            max: b.max_members,
        });
    }
    if let Some(floor) = b.pop_floor
        && s.population < floor
    {
        v.push(Violation::BelowFloor {
            population: s.population,
            floor,
        });
    }
    if let Some(ceiling) = b.pop_ceiling
        && s.population > ceiling
    {
        v.push(Violation::AboveCeiling {
            population: s.population,
            ceiling,
        });
    }
    if b.require_strong && s.strong == 0 {
        v.push(Violation::NoStrongVillage);
    }
    v
}

/// Connected parts of a set of villages under the given adjacency (ascending villages per part).
pub fn connected_parts(members: &[usize], neighbours: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let set: std::collections::HashSet<usize> = members.iter().copied().collect();
    let mut seen = std::collections::HashSet::new();
    let mut parts = Vec::new();
    let mut sorted = members.to_vec();
    sorted.sort_unstable();
    for &start in &sorted {
        if !seen.insert(start) {
            continue;
        }
        let mut part = vec![start];
        let mut stack = vec![start];
        while let Some(v) = stack.pop() {
            for &w in &neighbours[v] {
                if set.contains(&w) && seen.insert(w) {
                    part.push(w);
                    stack.push(w);
                }
            }
        }
        part.sort_unstable();
        parts.push(part);
    }
    parts
}

/// Gini coefficient of non-negative values (0 = equal).
pub fn gini(values: &[f64]) -> f64 {
    let n = values.len();
    let total: f64 = values.iter().sum();
    if n < 2 || total <= 0.0 {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let weighted: f64 = v
        .iter()
        .enumerate()
        .map(|(i, x)| (2.0 * (i as f64 + 1.0) - n as f64 - 1.0) * x)
        .sum();
    weighted / (n as f64 * total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_known_values() {
        assert_eq!(gini(&[5.0, 5.0, 5.0]), 0.0);
        assert!((gini(&[0.0, 0.0, 0.0, 10.0]) - 0.75).abs() < 1e-12);
        assert!((gini(&[1.0, 2.0, 3.0, 4.0]) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn strong_by_income_share() {
        let codes: Vec<String> = (0..5).map(|i| format!("v{i}")).collect();
        let towns: Vec<String> = ["a", "a", "a", "b", "b"].map(String::from).to_vec();
        let s = strong_villages(
            &[None; 5],
            &[1.0, 9.0, 3.0, 9.0, 0.5],
            &codes,
            &towns,
            StrongRule::TopIncomeShare(0.4),
        );
        assert_eq!(s, vec![false, true, false, true, false]);
        // Within each township: ⌈0.2·3⌉ = 1 of town a, ⌈0.2·2⌉ = 1 of town b.
        let t = strong_villages(
            &[None; 5],
            &[1.0, 9.0, 3.0, 0.2, 0.5],
            &codes,
            &towns,
            StrongRule::TopIncomeShareInTown(0.2),
        );
        assert_eq!(t, vec![false, true, false, false, true]);
        let f = strong_villages(
            &[Some(true), None, Some(false), None, None],
            &[0.0; 5],
            &codes,
            &towns,
            StrongRule::Flag,
        );
        assert_eq!(f, vec![true, false, false, false, false]);
    }

    #[test]
    fn zone_sums_match_direct_computation() {
        let villages: Vec<ZoningVillage> = (0..6)
            .map(|i| ZoningVillage {
                code: format!("{i}"),
                name: format!("v{i}"),
                town_code: "t".into(),
                population: 100.0 * (i + 1) as f64,
                income: i as f64,
                industry: ["a", "b"][i % 2].into(),
                strong: i == 0,
                anchor: Coord {
                    x: 1000.0 * i as f64,
                    y: 500.0 * (i % 3) as f64,
                },
                area_m2: 1.0,
                perimeter_m: 4.0,
                attributes: vec![i as f64, (i * i) as f64],
            })
            .collect();
        let p = Prepared::new(&villages);
        let mut s = ZoneSums::empty(&p);
        for v in [0, 2, 3, 5] {
            s.apply(&p, &villages, v, 1.0);
        }
        s.apply(&p, &villages, 3, -1.0);
        let members = [0usize, 2, 5];
        // SSD directly.
        let mut ssd = 0.0;
        for d in 0..2 {
            let mean: f64 = members.iter().map(|&v| p.z[v][d]).sum::<f64>() / 3.0;
            ssd += members
                .iter()
                .map(|&v| (p.z[v][d] - mean).powi(2))
                .sum::<f64>();
        }
        assert!((s.ssd() - ssd).abs() < 1e-9);
        let (cx, cy) = members.iter().fold((0.0, 0.0), |(x, y), &v| {
            (x + p.xy[v].0 / 3.0, y + p.xy[v].1 / 3.0)
        });
        let inertia: f64 = members
            .iter()
            .map(|&v| (p.xy[v].0 - cx).powi(2) + (p.xy[v].1 - cy).powi(2))
            .sum();
        assert!((s.inertia() - inertia).abs() < 1e-9);
        // Industries a, a, b (villages 0, 2 are "a", 5 is "b"): 3 − (4 + 1)/3.
        assert!((s.impurity() - (3.0 - 5.0 / 3.0)).abs() < 1e-12);
        assert_eq!((s.size, s.strong), (3, 1));
    }
}

/// Colour index per zone such that zones sharing a border get different colours, for maps and
/// printed sheets. DSatur greedy colouring of the zone adjacency graph (zones are adjacent when
/// any of their members are neighbours under `neighbours`, queen touches included so that corner
/// neighbours differ too); planar maps need at most a handful of colours this way.
/// `members[z]` are the villages of zone z; the result has one index per zone, smallest first.
pub fn zone_colours(members: &[Vec<usize>], neighbours: &[Vec<usize>]) -> Vec<usize> {
    zone_colours_keeping(members, neighbours, &vec![None; members.len()])
}

/// As [`zone_colours`], but a zone keeps its `previous` colour when no neighbouring zone that
/// also keeps its colour has the same one (zones in index order), so that an edit recolours
/// only the zones it must: a map does not change colour under the user after moving a village.
pub fn zone_colours_keeping(
    members: &[Vec<usize>],
    neighbours: &[Vec<usize>],
    previous: &[Option<usize>],
) -> Vec<usize> {
    let n = members.len();
    let mut zone_of = vec![usize::MAX; neighbours.len()];
    for (z, ms) in members.iter().enumerate() {
        for &v in ms {
            zone_of[v] = z;
        }
    }
    let mut adjacent: Vec<std::collections::BTreeSet<usize>> = vec![Default::default(); n];
    for (v, ns) in neighbours.iter().enumerate() {
        let a = zone_of[v];
        if a == usize::MAX {
            continue;
        }
        for &w in ns {
            let b = zone_of[w];
            if b != usize::MAX && b != a {
                adjacent[a].insert(b);
                adjacent[b].insert(a);
            }
        }
    }
    let mut colour = vec![usize::MAX; n];
    for z in 0..n {
        if let Some(c) = previous.get(z).copied().flatten()
            && adjacent[z].iter().all(|&w| colour[w] != c)
        {
            colour[z] = c;
        }
    }
    for _ in colour.iter().filter(|&&c| c != usize::MAX).count()..n {
        // The uncoloured zone with the most distinct neighbour colours, then the most neighbours,
        // then the lowest index (deterministic).
        let next = (0..n)
            .filter(|&z| colour[z] == usize::MAX)
            .max_by_key(|&z| {
                let seen: std::collections::BTreeSet<usize> = adjacent[z]
                    .iter()
                    .map(|&w| colour[w])
                    .filter(|&c| c != usize::MAX)
                    .collect();
                (seen.len(), adjacent[z].len(), std::cmp::Reverse(z))
            })
            .expect("an uncoloured zone is left");
        let used: std::collections::BTreeSet<usize> =
            adjacent[next].iter().map(|&w| colour[w]).collect();
        colour[next] = (0..).find(|c| !used.contains(c)).expect("a free colour");
    }
    colour
}

#[cfg(test)]
mod colour_tests {
    use super::zone_colours;

    #[test]
    fn neighbouring_zones_get_different_colours() {
        // A 4×4 grid of villages (queen adjacency), zones = single villages: needs 4 colours.
        let idx = |r: usize, c: usize| r * 4 + c;
        let mut neighbours = vec![vec![]; 16];
        for r in 0..4 {
            for c in 0..4 {
                for (dr, dc) in [
                    (-1i32, -1i32),
                    (-1, 0),
                    (-1, 1),
                    (0, -1),
                    (0, 1),
                    (1, -1),
                    (1, 0),
                    (1, 1),
                ] {
                    let (rr, cc) = (r as i32 + dr, c as i32 + dc);
                    if (0..4).contains(&rr) && (0..4).contains(&cc) {
                        neighbours[idx(r, c)].push(idx(rr as usize, cc as usize));
                    }
                }
            }
        }
        let zones: Vec<Vec<usize>> = (0..16).map(|v| vec![v]).collect();
        let colours = zone_colours(&zones, &neighbours);
        for (v, ns) in neighbours.iter().enumerate() {
            for &w in ns {
                assert_ne!(colours[v], colours[w], "villages {v} and {w}");
            }
        }
        assert_eq!(
            colours.iter().max(),
            Some(&3),
            "a king's graph needs exactly 4 colours"
        );
        // Two zones (left and right halves) that touch: two colours.
        let halves = vec![
            (0..16).filter(|v| v % 4 < 2).collect::<Vec<_>>(),
            (0..16).filter(|v| v % 4 >= 2).collect::<Vec<_>>(),
        ];
        assert_eq!(zone_colours(&halves, &neighbours), vec![0, 1]);
        // Earlier colours are kept where they still fit; a clash is recoloured.
        assert_eq!(
            super::zone_colours_keeping(&halves, &neighbours, &[Some(3), Some(5)]),
            vec![3, 5]
        );
        assert_eq!(
            super::zone_colours_keeping(&halves, &neighbours, &[Some(2), Some(2)]),
            vec![2, 0]
        );
        assert_eq!(
            super::zone_colours_keeping(&halves, &neighbours, &[None, Some(0)]),
            vec![1, 0]
        );
    }
}
