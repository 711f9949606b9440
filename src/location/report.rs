//! The answers of the location analyses as types, shared by the two front doors: the CLI
//! prints its tables from these fields and HTTP serialises the same values. The rows people
//! read (facilities, villages) and the headline numbers are typed; the rest of an answer
//! (rules, counts, the village allocation, service areas) travels in `other` as it goes on the
//! wire. Distance fields carry their unit in their key (`allocated_farthest_m` or `_min`,
//! `radius_m` or `minutes`), so the rows serialise by hand.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value as Json, json};

/// The distance unit of an answer: metres or minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReachUnit {
    /// Metres (straight-line or along the roads).
    Metres,
    /// Minutes of travel (driving at road speeds, or walking).
    Minutes,
}

impl ReachUnit {
    /// The unit as distance keys end (`m`, `min`).
    pub fn suffix(self) -> &'static str {
        match self {
            ReachUnit::Metres => "m",
            ReachUnit::Minutes => "min",
        }
    }

    /// The key of a service radius in this unit.
    pub fn reach_key(self) -> &'static str {
        match self {
            ReachUnit::Metres => "radius_m",
            ReachUnit::Minutes => "minutes",
        }
    }
}

/// An open site's service radius (LSCP, MCLP): how far it reaches, where that number comes
/// from, and the population within it (which may overlap other sites').
#[derive(Debug, Clone, PartialEq)]
pub struct FacilityReach {
    /// The service radius, in the answer's unit.
    pub reach: f64,
    /// Where the radius comes from: `request`, `request (minutes)`, `facility radius_m` or `service
    /// radius table`.
    pub from: &'static str,
    /// Population within the radius (may also be within other sites'), persons.
    pub covered_population: f64,
}

/// One open facility of a site selection: who it is, who it serves by allocation (each demand
/// to its nearest open site) and, for covering models, who is within its reach.
#[derive(Debug, Clone, PartialEq)]
pub struct LocatedFacility {
    /// The facility's name (an existing facility's, or the new site's).
    pub name: String,
    /// Whether it is an existing facility (fixed open) rather than a new site.
    pub existing: bool,
    /// The 12-digit code of the village it stands in, if any.
    pub village: Option<String>,
    /// That village's name.
    pub village_name: Option<String>,
    /// Longitude and latitude (EPSG:4490); `None` when the point cannot be transformed.
    pub lonlat: Option<[f64; 2]>,
    /// Metric coordinates in the workspace's CRS.
    pub x: f64,
    /// Northing in the workspace's metric CRS (metres).
    pub y: f64,
    /// Population allocated to it (each demand to its nearest open site), persons.
    pub allocated_population: f64,
    /// Demand points allocated to it.
    pub allocated_demand_points: usize,
    /// The farthest allocated demand, in `unit`.
    pub allocated_farthest: f64,
    /// Its service radius and the population within it (covering models only).
    pub reach: Option<FacilityReach>,
    /// The unit of `allocated_farthest` and the reach.
    pub unit: ReachUnit,
}

impl LocatedFacility {
    /// The facility as a JSON object, with unit-suffixed distance keys.
    pub fn to_json(&self) -> Json {
        let mut f = json!({
            "name": self.name,
            "existing": self.existing,
            "village": self.village,
            "village_name": self.village_name,
            "point": self.lonlat,
            "x": self.x,
            "y": self.y,
            "allocated_population": self.allocated_population,
            "allocated_demand_points": self.allocated_demand_points,
        });
        f[format!("allocated_farthest_{}", self.unit.suffix())] = json!(self.allocated_farthest);
        if let Some(r) = &self.reach {
            f[self.unit.reach_key()] = json!(r.reach);
            f["radius_from"] = json!(r.from);
            f["covered_population"] = json!(r.covered_population);
        }
        f
    }
}

impl Serialize for LocatedFacility {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// A site selection's answer (`locate`, `POST /analysis/locate`).
#[derive(Debug, Clone, PartialEq)]
pub struct LocateReport {
    /// The model solved: `lscp`, `mclp`, `pmedian` or `pcenter`.
    pub model: &'static str,
    /// The objective's value (see `objective_unit`).
    pub objective: f64,
    /// The objective's unit: `facilities`, `persons`, `person·m`, `person·min`, `m` or `min`.
    pub objective_unit: &'static str,
    /// The best proven bound on the objective.
    pub bound: f64,
    /// Relative gap between objective and bound (0 when proven optimal).
    pub gap: f64,
    /// What produced the answer, e.g. `highs-milp` or `interchange + lagrangian bound`.
    pub method: String,
    /// Wall-clock seconds of the analysis.
    pub seconds: f64,
    /// The distance unit of the answer.
    pub unit: ReachUnit,
    /// The open facilities, existing and new.
    pub facilities: Vec<LocatedFacility>,
    /// The rest of the answer as it goes on the wire.
    pub other: Map<String, Json>,
}

impl LocateReport {
    /// The whole answer as JSON (typed fields over `other`).
    pub fn to_json(&self) -> Json {
        let mut out = self.other.clone();
        out.insert("model".into(), json!(self.model));
        out.insert("objective".into(), json!(self.objective));
        out.insert("objective_unit".into(), json!(self.objective_unit));
        out.insert("bound".into(), json!(self.bound));
        out.insert("gap".into(), json!(self.gap));
        out.insert("method".into(), json!(self.method));
        out.insert("seconds".into(), json!(self.seconds));
        out.insert("unit".into(), json!(self.unit.suffix()));
        out.insert("facilities".into(), json!(self.facilities));
        Json::Object(out)
    }

    /// Takes the service areas out of the answer (the CLI writes them to their own file).
    pub fn take_service_areas(&mut self) -> Option<Json> {
        self.other.remove("service_areas")
    }
}

impl Serialize for LocateReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// One village of a coverage answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CoveredVillage {
    /// The village's 12-digit code.
    pub code: String,
    /// The village's name.
    pub name: String,
    /// Registered population (户籍人口), persons.
    pub population: f64,
    /// Population within reach of a facility, persons.
    pub covered_population: f64,
    /// Covered share of the population, 0–1 (1 for a village without population).
    pub covered_share: f64,
    /// Counted covered (by the rule in the answer's `village_covered_rule`).
    pub covered: bool,
    /// The name of the nearest facility; `None` when none is reachable.
    pub nearest_facility: Option<String>,
    /// The village's point in lon/lat (EPSG:4490); `None` when it cannot be transformed.
    pub lonlat: Option<[f64; 2]>,
    /// The distance to the nearest facility in `unit`; `None`: not reachable over the roads.
    pub nearest: Option<f64>,
    /// The unit of `nearest`.
    pub unit: ReachUnit,
}

impl CoveredVillage {
    /// The row as a JSON object, with a unit-suffixed `nearest_` key.
    pub fn to_json(&self) -> Json {
        let mut row = json!({
            "code": self.code,
            "name": self.name,
            "population": self.population,
            "covered_population": self.covered_population,
            "covered_share": self.covered_share,
            "covered": self.covered,
            "nearest_facility": self.nearest_facility,
            "point": self.lonlat,
        });
        row[format!("nearest_{}", self.unit.suffix())] = json!(self.nearest);
        row
    }
}

impl Serialize for CoveredVillage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// A coverage answer's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageTotals {
    /// Facilities of the kind considered.
    pub facilities: usize,
    /// Villages in the workspace.
    pub villages: usize,
    /// Villages counted covered (at least half the population within reach).
    pub villages_covered: usize,
    /// Total population, persons.
    pub population: f64,
    /// Population within reach of a facility, persons.
    pub covered_population: f64,
    /// Covered share of the total population, 0–1.
    pub covered_share: f64,
}

/// A coverage answer (`coverage`, `POST /analysis/coverage`).
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageReport {
    /// The facility kind analysed (e.g. 卫生室).
    pub kind: String,
    /// The distance unit of the answer.
    pub unit: ReachUnit,
    /// The totals over all villages.
    pub totals: CoverageTotals,
    /// One row per village.
    pub villages: Vec<CoveredVillage>,
    /// The rest of the answer as it goes on the wire.
    pub other: Map<String, Json>,
}

impl CoverageReport {
    /// The whole answer as JSON (typed fields over `other`).
    pub fn to_json(&self) -> Json {
        let mut out = self.other.clone();
        out.insert("kind".into(), json!(self.kind));
        out.insert("unit".into(), json!(self.unit.suffix()));
        out.insert("totals".into(), json!(self.totals));
        out.insert("villages".into(), json!(self.villages));
        Json::Object(out)
    }

    /// Takes the service areas out of the answer (the CLI writes them to their own file).
    pub fn take_service_areas(&mut self) -> Option<Json> {
        self.other.remove("service_areas")
    }
}

impl Serialize for CoverageReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}
