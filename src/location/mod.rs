//! Facility analyses on a workspace: service radii (a table a bureau can edit), coverage of a
//! facility kind, facility location (LSCP / MCLP / p-median / p-center) and the ranking of
//! key-village candidates. Loads what the engine needs from the workspace and turns results into
//! JSON; the algorithms live in `engine::location`.
//!
//! Distances are straight lines in the workspace's CGCS2000 3° Gauss–Krüger zone (metres) by
//! default, what a GIS analyst would compute, so results compare with other tools; with a roads
//! layer they can be shortest paths along the roads, in metres or minutes (`distance.rs`).

pub mod distance;
mod report;

use crate::zones::round;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use geo::{Centroid, Contains, Coord, InteriorPoint, Point};
use serde_json::{Value as Json, json};

use crate::domain::{LayerKind, landuse, village_code_of};
use crate::engine::crs::{Crs, EPSG_CGCS2000, Reprojector};
use crate::engine::geometry::{envelope_tree, to_multilinestring, to_multipolygon};
use crate::engine::location::{self, Instance, LocateError, Method, Model, Params, Solution};
use crate::engine::network::{RoadLine, default_speed_kmh};
use crate::workspace::{Workspace, WorkspaceError};
pub use distance::Distance;
use distance::{CostSpace, Place};
pub use report::{
    CoverageReport, CoverageTotals, CoveredVillage, FacilityReach, LocateReport, LocatedFacility,
    ReachUnit,
};

/// Why a facility analysis could not run.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    /// The workspace could not be read.
    #[error("{0}")]
    Workspace(#[from] WorkspaceError),
    /// Bad input from the user; `field` names the parameter.
    #[error("{message}")]
    Input {
        /// The parameter at fault, as the request spells it.
        field: &'static str,
        /// What is wrong with it, Chinese and English.
        message: String,
    },
    /// The location model has no solution, a bad parameter, or the solver failed.
    #[error("{0}")]
    Locate(#[from] LocateError),
    /// The run was asked to stop (the client went away or the server's time limit passed).
    #[error("分析已停止 / the analysis was stopped before it finished")]
    Cancelled,
}

impl From<crate::request::FieldError> for LocationError {
    fn from(e: crate::request::FieldError) -> LocationError {
        LocationError::Input {
            field: e.field,
            message: e.message,
        }
    }
}

/// The request field behind an engine constraint code (the radius is `radius_m` in a request).
pub fn request_field(constraint: &'static str) -> &'static str {
    match constraint {
        "radius" => "radius_m",
        other => other,
    }
}

fn input(field: &'static str, message: impl Into<String>) -> LocationError {
    LocationError::Input {
        field,
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Service radii

/// A facility kind's default service radius and where the number comes from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ServiceRadius {
    /// The facility kind, as in the facilities layer (e.g. 卫生室).
    pub kind: String,
    /// The default service radius, metres.
    pub radius_m: f64,
    /// 生活圈层级: 村/组 (village) or 乡集镇 (township).
    pub level: String,
    /// Where the number comes from (standard, guide, or liancun's assumption).
    pub source: String,
}

const WALK_15: &str = "TD/T 1062-2021《社区生活圈规划技术指南》村/组层级按步行 15 分钟配置；按 GB 50180-2018 步行 60 m/min 折算约 900–1000 m（省级导则另有规定时以其为准）";
const TOWN_LEVEL: &str =
    "TD/T 1062-2021 乡集镇层级服务全镇域；liancun 暂取 5 km（约 15 分钟车行），请按省级导则修改";

/// The shipped table. Radii of rural facilities are set by provincial guides, so every row says
/// where its number comes from and a workspace may override any of them.
pub fn default_service_radii() -> Vec<ServiceRadius> {
    let row = |kind: &str, radius_m: f64, level: &str, source: &str| ServiceRadius {
        kind: kind.into(),
        radius_m,
        level: level.into(),
        source: source.into(),
    };
    vec![
        row("党群服务中心", 1000.0, "村/组", WALK_15),
        row("卫生室", 1000.0, "村/组", WALK_15),
        row("养老服务中心", 1000.0, "村/组", WALK_15),
        row("文化活动室", 1000.0, "村/组", WALK_15),
        row(
            "便民超市",
            500.0,
            "村/组",
            "GB 50180-2018 十分钟生活圈（步行约 500 m）",
        ),
        row(
            "幼儿园",
            300.0,
            "村/组",
            "GB 50180-2018 幼儿园服务半径不宜大于 300 m",
        ),
        row(
            "小学",
            500.0,
            "乡集镇",
            "GB 50180-2018 小学服务半径不宜大于 500 m（农村地区常按省定标准放宽）",
        ),
        row(
            "初中",
            1000.0,
            "乡集镇",
            "GB 50180-2018 初中服务半径不宜大于 1000 m（农村地区常按省定标准放宽）",
        ),
        row("卫生院", 5000.0, "乡集镇", TOWN_LEVEL),
        row("农事服务中心", 5000.0, "乡集镇", TOWN_LEVEL),
        row("冷库", 5000.0, "乡集镇", TOWN_LEVEL),
    ]
}

const RADII_SETTING: &str = "service_radii";

/// The workspace's table: the defaults with its own rows over them.
pub fn service_radii(ws: &Workspace) -> Result<Vec<ServiceRadius>, LocationError> {
    let mut table = default_service_radii();
    if let Some(text) = ws
        .store()
        .setting(RADII_SETTING)
        .map_err(WorkspaceError::from)?
    {
        let own: Vec<ServiceRadius> = serde_json::from_str(&text).map_err(|e| {
            input(
                "service_radii",
                format!("工作区的服务半径表损坏 / the workspace's radius table is unreadable: {e}"),
            )
        })?;
        for r in own {
            match table.iter_mut().find(|t| t.kind == r.kind) {
                Some(t) => *t = r,
                None => table.push(r),
            }
        }
    }
    Ok(table)
}

/// Sets (or adds) a kind's radius in the workspace, with its source.
pub fn set_service_radius(
    ws: &mut Workspace,
    kind: &str,
    radius_m: f64,
    source: Option<&str>,
    level: Option<&str>,
) -> Result<ServiceRadius, LocationError> {
    if kind.trim().is_empty() {
        return Err(input("kind", "设施类型为空 / the facility kind is empty"));
    }
    check_radius(radius_m)?;
    let mut own: Vec<ServiceRadius> = match ws
        .store()
        .setting(RADII_SETTING)
        .map_err(WorkspaceError::from)?
    {
        Some(text) => serde_json::from_str(&text).unwrap_or_default(),
        None => vec![],
    };
    let base = service_radii(ws)?
        .into_iter()
        .find(|r| r.kind == kind)
        .unwrap_or(ServiceRadius {
            kind: kind.into(),
            radius_m,
            level: "村/组".into(),
            source: String::new(),
        });
    let row = ServiceRadius {
        kind: kind.into(),
        radius_m,
        level: level.map_or(base.level, str::to_string),
        source: source.map_or_else(
            || {
                format!(
                    "工作区设置 / set in this workspace (was {} m: {})",
                    base.radius_m, base.source
                )
            },
            str::to_string,
        ),
    };
    own.retain(|r| r.kind != kind);
    own.push(row.clone());
    ws.store_mut()
        .set_setting(
            RADII_SETTING,
            &serde_json::to_string(&own).expect("serialisable"),
        )
        .map_err(WorkspaceError::from)?;
    Ok(row)
}

/// Drops the workspace's own rows: back to the shipped table.
pub fn reset_service_radii(ws: &mut Workspace) -> Result<(), LocationError> {
    ws.store_mut()
        .set_setting(RADII_SETTING, "[]")
        .map_err(WorkspaceError::from)?;
    Ok(())
}

/// The largest radius a request or the table may give: 100 km is wider than any county's
/// service planning needs (township-level radii are a few km, county-level ones tens of km),
/// and beyond it metric projections and network searches stop being meaningful.
pub const MAX_RADIUS_M: f64 = 100_000.0;
/// The longest travel time a request may give (4 hours is past any daily service trip).
pub const MAX_MINUTES: f64 = 240.0;

fn check_radius(r: f64) -> Result<(), LocationError> {
    if r.is_finite() && r > 0.0 && r <= MAX_RADIUS_M {
        Ok(())
    } else {
        Err(input(
            "radius_m",
            format!(
                "radius = {r}: 服务半径应为不超过 {MAX_RADIUS_M} 的正数（米） / the radius must be a positive number of metres, at most {MAX_RADIUS_M}"
            ),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Workspace data

/// A village as the facility analyses see it (metric CRS).
#[derive(Debug, Clone)]
pub struct LocVillage {
    /// The 12-digit village code.
    pub code: String,
    /// The village's name.
    pub name: String,
    /// The 9-digit township code.
    pub town_code: String,
    /// The township's name ("" when the layer has none).
    pub town: String,
    /// Registered population (户籍人口), persons; 0 when unknown.
    pub population: f64,
    /// Collective income (万元); 0 when unknown.
    pub income: f64,
    /// Party members (党员数), when the layer has them.
    pub party_members: Option<f64>,
    /// The main industry as the data words it.
    pub industry: String,
    /// Polygon centroid in the metric CRS.
    pub centroid: Coord<f64>,
    /// Interior point in the metric CRS (inside even a concave village).
    pub point: Coord<f64>,
    /// The village boundary in the metric CRS (metres).
    pub polygon: geo::MultiPolygon<f64>,
}

/// An existing facility from the facilities layer (metric CRS).
#[derive(Debug, Clone)]
pub struct Facility {
    /// The facility kind (e.g. 卫生室, 养老服务中心).
    pub kind: String,
    /// The facility's name.
    pub name: String,
    /// Its location: the interior point of its geometry, metres.
    pub point: Coord<f64>,
    /// Its own service radius (m), when the layer gives a positive one.
    pub radius_m: Option<f64>,
    /// Its capacity (persons served), when the layer gives one.
    pub capacity: Option<f64>,
    /// The village it lies in (by `village_code`, else by containment).
    pub village: Option<usize>,
}

/// A residential parcel (三调 0702) of a village: where its people live.
#[derive(Debug, Clone)]
pub struct Residential {
    /// The village it belongs to (by ZLDWDM, else by containment).
    pub village: usize,
    /// An interior point of the parcel, metres.
    pub point: Coord<f64>,
    /// The parcel's planar area, m² (weights the village's population among its parcels).
    pub area_m2: f64,
}

/// Everything the facility analyses read from a workspace: villages, facilities and, on request,
/// residential and construction parcels and roads.
#[derive(Debug, Clone)]
pub struct LocationData {
    /// Every village of the villages layer, in layer order.
    pub villages: Vec<LocVillage>,
    /// Every facility of the facilities layer (those with a geometry).
    pub facilities: Vec<Facility>,
    /// Residential parcels (三调 0702) placed in a village, when asked for.
    pub residential: Vec<Residential>,
    /// Construction-land parcels (candidate sites): centroid and area.
    pub construction: Vec<(usize, Coord<f64>, f64)>,
    /// The roads (metric CRS) with their speeds, when asked for.
    pub roads: Vec<RoadLine>,
    /// The workspace's metric CRS (CGCS2000 3° Gauss–Krüger EPSG code).
    pub metric_epsg: u32,
    /// The service radius table (the shipped defaults with the workspace's overrides).
    pub radii: Vec<ServiceRadius>,
    index_of_code: HashMap<String, usize>,
}

/// What to read besides villages and facilities (parcels are the costly part).
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadParcels {
    /// Read residential parcels (三调 0702), for demand at homes.
    pub residential: bool,
    /// Read construction-land parcels, for candidate sites.
    pub construction: bool,
    /// Read the roads, for network distances and travel times.
    pub roads: bool,
}

impl LocationData {
    /// Reads villages, facilities and the parcels and roads asked for, all in the metric CRS.
    pub fn load(ws: &Workspace, parcels: LoadParcels) -> Result<LocationData, LocationError> {
        let rows = match ws.villages() {
            Ok((_, rows)) => rows,
            Err(WorkspaceError::Missing(m)) => return Err(input("workspace", m)),
            Err(e) => return Err(e.into()),
        };
        let metric_epsg = ws.metric_epsg()?;
        let mut index_of_code = HashMap::new();
        let villages: Vec<LocVillage> = rows
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let centroid = v.metric.centroid().map(|p| p.0).unwrap_or_default();
                let point = v.metric.interior_point().map(|p| p.0).unwrap_or(centroid);
                index_of_code.insert(v.code.clone(), i);
                LocVillage {
                    code: v.code,
                    name: v.name,
                    town_code: v.town_code,
                    town: v.town,
                    population: v.population.unwrap_or(0.0),
                    income: v.collective_income.unwrap_or(0.0),
                    party_members: v.party_members,
                    industry: v.industry,
                    centroid,
                    point,
                    polygon: v.metric,
                }
            })
            .collect();
        let tree = envelope_tree(villages.iter().map(|v| &v.polygon));
        let containing = |p: Coord<f64>| -> Option<usize> {
            tree.locate_all_at_point(&[p.x, p.y])
                .map(|e| e.slot)
                .filter(|&s| villages[s].polygon.contains(&Point(p)))
                .min()
        };
        let mut facilities = Vec::new();
        if let Some(info) = ws
            .store()
            .layer(LayerKind::Facilities)
            .map_err(WorkspaceError::from)?
        {
            let col = |name: &str| info.column_index(name);
            ws.scan_metric(LayerKind::Facilities, &mut |f| {
                let text =
                    |c: Option<usize>| c.and_then(|c| f.values[c].as_text()).unwrap_or_default();
                let num = |c: Option<usize>| c.and_then(|c| f.values[c].as_f64());
                let Some(point) = f.geometry.interior_point().map(|p| p.0) else {
                    return Ok(());
                };
                let village = index_of_code
                    .get(&text(col("village_code")))
                    .copied()
                    .or_else(|| containing(point));
                facilities.push(Facility {
                    kind: text(col("kind")),
                    name: text(col("name")),
                    point,
                    radius_m: num(col("radius_m")).filter(|r| r.is_finite() && *r > 0.0),
                    capacity: num(col("capacity")),
                    village,
                });
                Ok(())
            })?;
        }
        let mut residential = Vec::new();
        let mut construction = Vec::new();
        if (parcels.residential || parcels.construction)
            && let Some(info) = ws
                .store()
                .layer(LayerKind::Parcels)
                .map_err(WorkspaceError::from)?
        {
            let (dlbm_c, owner_c) = (info.column_index("dlbm"), info.column_index("zldwdm"));
            let wanted = parcels;
            ws.scan_prepared(
                LayerKind::Parcels,
                &|f, to_metric| {
                    let dlbm = dlbm_c
                        .and_then(|c| f.values[c].as_text())
                        .unwrap_or_default();
                    let is_home = wanted.residential && dlbm.trim() == "0702";
                    let is_site = wanted.construction && landuse::is_construction(&dlbm);
                    if !is_home && !is_site {
                        return Ok(None);
                    }
                    let owner = owner_c
                        .and_then(|c| f.values[c].as_text())
                        .and_then(|z| village_code_of(&z).map(str::to_string));
                    let mut g = f.geometry;
                    to_metric.transform_geometry(&mut g)?;
                    let Some(mp) = to_multipolygon(g) else {
                        return Ok(None);
                    };
                    use geo::Area;
                    let area = mp.unsigned_area();
                    let point = mp.interior_point().map(|p| p.0);
                    Ok(point.map(|p| (is_home, is_site, owner, p, area)))
                },
                &mut |item| {
                    let Some((is_home, is_site, owner, p, area)) = item else {
                        return Ok(());
                    };
                    let village = owner
                        .and_then(|c| index_of_code.get(&c).copied())
                        .or_else(|| containing(p));
                    if let Some(v) = village {
                        if is_home {
                            residential.push(Residential {
                                village: v,
                                point: p,
                                area_m2: area,
                            });
                        }
                        if is_site {
                            construction.push((v, p, area));
                        }
                    }
                    Ok(())
                },
            )?;
        }
        let mut roads = Vec::new();
        if parcels.roads
            && let Some(info) = ws
                .store()
                .layer(LayerKind::Roads)
                .map_err(WorkspaceError::from)?
        {
            let (class_c, speed_c) = (info.column_index("class"), info.column_index("speed_kmh"));
            ws.scan_metric(LayerKind::Roads, &mut |f| {
                let class = class_c
                    .and_then(|c| f.values[c].as_text())
                    .unwrap_or_default();
                let speed_kmh = speed_c
                    .and_then(|c| f.values[c].as_f64())
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .unwrap_or_else(|| default_speed_kmh(&class).0);
                if let Some(mls) = to_multilinestring(f.geometry.clone()) {
                    for ls in mls.0 {
                        roads.push(RoadLine {
                            coords: ls.0,
                            speed_kmh,
                        });
                    }
                }
                Ok(())
            })?;
        }
        Ok(LocationData {
            villages,
            facilities,
            residential,
            construction,
            roads,
            metric_epsg,
            radii: service_radii(ws)?,
            index_of_code,
        })
    }

    /// The index of the village with this 12-digit code.
    pub fn village(&self, code: &str) -> Option<usize> {
        self.index_of_code.get(code).copied()
    }

    /// The facility kinds present, with counts.
    pub fn kinds(&self) -> BTreeMap<String, usize> {
        let mut k = BTreeMap::new();
        for f in &self.facilities {
            *k.entry(f.kind.clone()).or_insert(0) += 1;
        }
        k
    }

    fn check_kind(&self, kind: &str) -> Result<Vec<usize>, LocationError> {
        let of_kind: Vec<usize> = (0..self.facilities.len())
            .filter(|&f| self.facilities[f].kind == kind)
            .collect();
        if of_kind.is_empty() {
            let known: Vec<String> = self
                .kinds()
                .into_iter()
                .map(|(k, n)| format!("{k} ({n})"))
                .collect();
            return Err(input(
                "kind",
                format!(
                    "工作区没有类型为 '{kind}' 的设施 / no facility of kind '{kind}'; kinds present: {}",
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        Ok(of_kind)
    }

    /// The radius of a kind from the table, if it has one.
    pub fn radius_of(&self, kind: &str) -> Option<&ServiceRadius> {
        self.radii.iter().find(|r| r.kind == kind)
    }

    fn to_lonlat(&self) -> Result<Reprojector, LocationError> {
        Reprojector::new(&Crs::Epsg(self.metric_epsg), &Crs::Epsg(EPSG_CGCS2000))
            .map_err(|e| LocationError::Workspace(WorkspaceError::from(e)))
    }
}

fn lonlat(r: &Reprojector, p: Coord<f64>) -> Json {
    json!(lonlat_pair(r, p))
}

/// Longitude and latitude to 7 decimals; `None` when the point cannot be transformed.
fn lonlat_pair(r: &Reprojector, p: Coord<f64>) -> Option<[f64; 2]> {
    let mut c = [p];
    r.transform_coords(&mut c).ok()?;
    Some([round(c[0].x, 7), round(c[0].y, 7)])
}

/// Where demand sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DemandMode {
    /// Population spread over the village's residential parcels (0702) by area; the
    /// representative point when a village has none.
    #[default]
    Residential,
    /// The village polygon's centroid.
    Centroid,
    /// The village's interior point.
    Representative,
}

impl DemandMode {
    /// The demand mode a request names: `residential`, `centroid` or `representative` (`point`).
    pub fn parse(s: &str) -> Result<DemandMode, LocationError> {
        match s {
            "residential" => Ok(DemandMode::Residential),
            "centroid" => Ok(DemandMode::Centroid),
            "representative" | "point" => Ok(DemandMode::Representative),
            other => Err(input(
                "demand",
                format!("demand = '{other}': residential, centroid or representative"),
            )),
        }
    }
    fn name(self) -> &'static str {
        match self {
            DemandMode::Residential => "residential",
            DemandMode::Centroid => "centroid",
            DemandMode::Representative => "representative",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct DemandPoint {
    village: usize,
    point: Coord<f64>,
    weight: f64,
}

fn demand_points(data: &LocationData, mode: DemandMode) -> Vec<DemandPoint> {
    let mut homes: Vec<Vec<&Residential>> = vec![vec![]; data.villages.len()];
    if mode == DemandMode::Residential {
        for r in &data.residential {
            homes[r.village].push(r);
        }
    }
    let mut out = Vec::new();
    for (v, vil) in data.villages.iter().enumerate() {
        let total: f64 = homes[v].iter().map(|r| r.area_m2).sum();
        if mode == DemandMode::Residential && total > 0.0 {
            for r in &homes[v] {
                out.push(DemandPoint {
                    village: v,
                    point: r.point,
                    weight: vil.population * r.area_m2 / total,
                });
            }
        } else {
            out.push(DemandPoint {
                village: v,
                point: if mode == DemandMode::Centroid {
                    vil.centroid
                } else {
                    vil.point
                },
                weight: vil.population,
            });
        }
    }
    out
}

fn dist(a: Coord<f64>, b: Coord<f64>) -> f64 {
    (a.x - b.x).hypot(a.y - b.y)
}

// ---------------------------------------------------------------------------------------------
// Coverage

/// Who is inside the service radius of a facility kind.
#[derive(Debug, Clone, Default)]
pub struct CoverageRequest {
    /// The facility kind analysed (e.g. 卫生室).
    pub kind: String,
    /// Overrides every facility's radius (and the table's); metres.
    pub radius_m: Option<f64>,
    /// The reach in minutes, for `Distance::Time` (the radius table is in metres).
    pub minutes: Option<f64>,
    /// Where each village's demand sits.
    pub demand: DemandMode,
    /// How distances are measured (straight, along the roads, or minutes).
    pub distance: Distance,
    /// Add each facility's service area (circle or isochrone) as GeoJSON.
    pub service_areas: bool,
}

/// How a facility's service radius is chosen, the same for coverage, LSCP, MCLP and the map.
pub const RADIUS_RULE: &str = "请求给出的半径用于所有设施；否则现有设施用自己的 radius_m，新设施与没有 radius_m 的设施用服务半径表 / a radius in the request applies to every facility; otherwise an existing facility keeps its own radius_m, and new sites (and facilities without one) take the kind's table radius";

/// The unit of a location model's objective (and bound) in this distance mode.
pub fn objective_unit(model: Model, distance: Distance) -> &'static str {
    match (model, distance) {
        (Model::Lscp { .. }, _) => "facilities",
        (Model::Mclp { .. }, _) => "persons",
        (Model::PMedian { .. }, Distance::Time | Distance::Walk) => "person·min",
        (Model::PMedian { .. }, _) => "person·m",
        (Model::PCenter { .. }, Distance::Time | Distance::Walk) => "min",
        (Model::PCenter { .. }, _) => "m",
    }
}

/// A village counts as covered when at least this share of its population is.
pub const VILLAGE_COVERED_SHARE: f64 = 0.5;

/// The reach of a facility in the distance mode's unit, and where it comes from.
fn reach_of(
    req_radius: Option<f64>,
    minutes: Option<f64>,
    distance: Distance,
    facility_radius: Option<f64>,
    table: Option<&ServiceRadius>,
) -> Option<(f64, &'static str)> {
    if distance.is_time() {
        return minutes.map(|m| (m, "request (minutes)"));
    }
    req_radius
        .map(|r| (r, "request"))
        .or(facility_radius.map(|r| (r, "facility radius_m")))
        .or(table.map(|t| (t.radius_m, "service radius table")))
}

/// Checks the radius / minutes a request gives against its distance mode.
fn check_reach(
    radius_m: Option<f64>,
    minutes: Option<f64>,
    distance: Distance,
    needed: bool,
) -> Result<(), LocationError> {
    if let Some(r) = radius_m {
        check_radius(r)?;
    }
    if let Some(m) = minutes
        && !(m.is_finite() && m > 0.0 && m <= MAX_MINUTES)
    {
        return Err(input(
            "minutes",
            format!(
                "minutes = {m}: 应为不超过 {MAX_MINUTES} 的正数（分钟） / must be a positive number of minutes, at most {MAX_MINUTES}"
            ),
        ));
    }
    match distance {
        Distance::Time | Distance::Walk if radius_m.is_some() => Err(input(
            "radius_m",
            "按出行时间（distance time）时请给 minutes 而不是 radius_m / with distance time give minutes, not a radius in metres",
        )),
        Distance::Time | Distance::Walk if needed && minutes.is_none() => Err(input(
            "minutes",
            "按出行时间（distance time）需要 minutes / distance time needs minutes",
        )),
        Distance::Straight | Distance::Network if minutes.is_some() => Err(input(
            "minutes",
            "minutes 只用于 distance time / minutes applies to distance time only",
        )),
        _ => Ok(()),
    }
}

/// Coverage of a facility kind: which villages' people are within reach of a facility, per village
/// and in total.
pub fn coverage(
    data: &LocationData,
    req: &CoverageRequest,
) -> Result<CoverageReport, LocationError> {
    check_reach(req.radius_m, req.minutes, req.distance, true)?;
    let sites = data.check_kind(&req.kind)?;
    let table = data.radius_of(&req.kind);
    let reach = |f: &Facility| reach_of(req.radius_m, req.minutes, req.distance, f.radius_m, table);
    if sites.iter().any(|&f| reach(&data.facilities[f]).is_none()) {
        return Err(input(
            "radius_m",
            format!(
                "'{}' 不在服务半径表中且设施没有 radius_m：请给出 --radius / kind '{}' has no radius in the table and its facilities no radius_m: give --radius",
                req.kind, req.kind
            ),
        ));
    }
    let points = demand_points(data, req.demand);
    let space = CostSpace::new(data, req.distance)?;
    let demand_places = demand_places(data, &points);
    let site_places: Vec<Place> = sites
        .iter()
        .map(|&f| Place {
            label: data.facilities[f].name.clone(),
            point: data.facilities[f].point,
        })
        .collect();
    let cost = space.matrix(&demand_places, &site_places)?;
    let m = sites.len();
    let n = data.villages.len();
    let mut pop = vec![0.0; n];
    let mut covered = vec![0.0; n];
    let mut nearest = vec![f64::INFINITY; n];
    let mut nearest_site = vec![usize::MAX; n];
    for (i, d) in points.iter().enumerate() {
        pop[d.village] += d.weight;
        let mut inside = false;
        for (k, &f) in sites.iter().enumerate() {
            let dd = cost[i * m + k];
            if dd <= reach(&data.facilities[f]).expect("checked").0 {
                inside = true;
            }
            if dd < nearest[d.village] {
                nearest[d.village] = dd;
                nearest_site[d.village] = f;
            }
        }
        if inside {
            covered[d.village] += d.weight;
        }
    }
    let total_pop: f64 = pop.iter().sum();
    let total_covered: f64 = covered.iter().sum();
    let r = data.to_lonlat()?;
    let share = |v: usize| {
        if pop[v] > 0.0 {
            covered[v] / pop[v]
        } else {
            1.0
        }
    };
    let unit = req.distance.reach_unit();
    let villages: Vec<CoveredVillage> = (0..n)
        .map(|v| {
            let vil = &data.villages[v];
            CoveredVillage {
                code: vil.code.clone(),
                name: vil.name.clone(),
                population: vil.population,
                covered_population: round(covered[v], 1),
                covered_share: round(share(v), 4),
                covered: share(v) >= VILLAGE_COVERED_SHARE,
                nearest_facility: data.facilities.get(nearest_site[v]).map(|f| f.name.clone()),
                lonlat: lonlat_pair(&r, vil.point),
                // Not reachable over the roads: no nearest facility and no distance (null).
                nearest: nearest[v].is_finite().then(|| round(nearest[v], 1)),
                unit,
            }
        })
        .collect();
    let mut uncovered: Vec<usize> = (0..n)
        .filter(|&v| share(v) < VILLAGE_COVERED_SHARE)
        .collect();
    uncovered.sort_by(|&a, &b| {
        (pop[b] - covered[b])
            .total_cmp(&(pop[a] - covered[a]))
            .then(a.cmp(&b))
    });
    let radius_key = if req.distance.is_time() {
        "minutes"
    } else {
        "radius_m"
    };
    let facilities: Vec<Json> = sites
        .iter()
        .map(|&f| {
            let fac = &data.facilities[f];
            let (radius, from) = reach(fac).expect("checked");
            let mut j = json!({"name": fac.name, "radius_from": from,
                   "village": fac.village.map(|v| data.villages[v].code.clone()), "point": lonlat(&r, fac.point)});
            j[radius_key] = json!(radius);
            j
        })
        .collect();
    let totals = CoverageTotals {
        facilities: sites.len(),
        villages: n,
        villages_covered: n - uncovered.len(),
        population: round(total_pop, 1),
        covered_population: round(total_covered, 1),
        covered_share: round(
            if total_pop > 0.0 {
                total_covered / total_pop
            } else {
                1.0
            },
            4,
        ),
    };
    let mut out = json!({
        "radius_source": if req.radius_m.is_some() || req.minutes.is_some() { "request".to_string() } else { table.map(|t| t.source.clone()).unwrap_or_default() },
        "distance": space.distance.describe(data.metric_epsg),
        "distance_mode": req.distance.name(),
        "demand": req.demand.name(),
        "demand_points": points.len(),
        "village_covered_rule": format!("覆盖人口占比 ≥ {:.0}% 的村计为已覆盖 / a village is covered when ≥ {:.0}% of its population is", VILLAGE_COVERED_SHARE * 100.0, VILLAGE_COVERED_SHARE * 100.0),
        "uncovered_villages": uncovered.iter().map(|&v| data.villages[v].code.clone()).collect::<Vec<_>>(),
        "facilities": facilities,
    });
    // One radius when every facility has the same; otherwise null and each facility's own.
    let radii: Vec<f64> = sites
        .iter()
        .map(|&f| reach(&data.facilities[f]).expect("checked").0)
        .collect();
    out[radius_key] = match radii.first() {
        Some(&r0) if radii.iter().all(|&r| r == r0) => json!(r0),
        None => json!(if req.distance.is_time() {
            req.minutes
        } else {
            req.radius_m.or(table.map(|t| t.radius_m))
        }),
        Some(_) => Json::Null,
    };
    out["radius_rule"] = json!(RADIUS_RULE);
    if req.service_areas {
        let areas: Vec<(Place, f64, Json)> = sites
            .iter()
            .zip(site_places)
            .map(|(&f, place)| {
                let fac = &data.facilities[f];
                let radius = reach(fac).expect("checked").0;
                // `radius` + `unit` as in locate's service areas; the unit-named key stays for
                // the clients that read it.
                let mut props = json!({"name": fac.name, "kind": fac.kind, "existing": true,
                                       "radius": radius, "unit": req.distance.unit()});
                props[radius_key] = json!(radius);
                (place, radius, props)
            })
            .collect();
        out["service_areas"] = space.service_areas(data, &areas)?;
    }
    let Json::Object(other) = out else {
        unreachable!("built as an object")
    };
    Ok(CoverageReport {
        kind: req.kind.clone(),
        unit,
        totals,
        villages,
        other,
    })
}

/// Each demand point as a place named by its village (for the messages about unreached ones).
fn demand_places(data: &LocationData, points: &[DemandPoint]) -> Vec<Place> {
    points
        .iter()
        .map(|d| {
            let v = &data.villages[d.village];
            Place {
                label: format!("{} {}", v.code, v.name),
                point: d.point,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Location

/// Where new facilities may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CandidateMode {
    /// Village polygon centroids.
    Centroid,
    /// Village interior points.
    #[default]
    Representative,
    /// Construction-land parcels (三调 05–10 except wetland/rural roads, 1109, 1201), the largest
    /// per 250 m grid cell.
    Construction,
}

impl CandidateMode {
    /// The candidate mode a request names: `centroid`, `representative` (`point`, `village`) or
    /// `construction`.
    pub fn parse(s: &str) -> Result<CandidateMode, LocationError> {
        match s {
            "centroid" => Ok(CandidateMode::Centroid),
            "representative" | "point" | "village" => Ok(CandidateMode::Representative),
            "construction" => Ok(CandidateMode::Construction),
            other => Err(input(
                "candidates",
                format!("candidates = '{other}': centroid, representative or construction"),
            )),
        }
    }
    fn name(self) -> &'static str {
        match self {
            CandidateMode::Centroid => "centroid",
            CandidateMode::Representative => "representative",
            CandidateMode::Construction => "construction",
        }
    }
}

/// A site-selection request (`locate`, `POST /analysis/locate`).
#[derive(Debug, Clone)]
pub struct LocateRequest {
    /// The model: `lscp`, `mclp`, `pmedian` or `pcenter`.
    pub model: String,
    /// Service radius for LSCP and MCLP, metres (default: the kind's table radius).
    pub radius_m: Option<f64>,
    /// Number of new facilities (MCLP, p-median, p-center).
    pub p: Option<usize>,
    /// Where each village's demand sits.
    pub demand: DemandMode,
    /// Where new facilities may go.
    pub candidates: CandidateMode,
    /// Extra candidate sites given as lon/lat with a name.
    pub given: Vec<(String, f64, f64)>,
    /// Facilities of this kind are fixed open (and their radius is the default radius).
    pub kind: Option<String>,
    /// Use facility capacities (`capacity`) for fixed sites and this capacity for new ones.
    pub capacity: Option<f64>,
    /// Exact, heuristic, or automatic.
    pub method: Method,
    /// Wall-clock budget of the solve.
    pub time_limit: Duration,
    /// How distances are measured (straight, along the roads, or minutes).
    pub distance: Distance,
    /// The reach in minutes for LSCP/MCLP with `Distance::Time`.
    pub minutes: Option<f64>,
    /// Add the open facilities' service areas (LSCP/MCLP) as GeoJSON.
    pub service_areas: bool,
    /// The largest dense assignment MILP (demand × site pairs) to build: a server's memory
    /// budget; `None` (the CLI) builds any size.
    pub max_milp_pairs: Option<usize>,
}

impl Default for LocateRequest {
    fn default() -> Self {
        LocateRequest {
            model: "pmedian".into(),
            radius_m: None,
            p: None,
            demand: DemandMode::Residential,
            candidates: CandidateMode::Representative,
            given: vec![],
            kind: None,
            capacity: None,
            method: Method::Auto,
            time_limit: Duration::from_secs(60),
            distance: Distance::Straight,
            minutes: None,
            service_areas: false,
            max_milp_pairs: None,
        }
    }
}

/// Largest cost matrix (demand × candidates) a server request builds in memory: 50 M entries =
/// 400 MB. The CLI, on the analyst's own machine, goes to [`MAX_PAIRS_CLI`].
const MAX_PAIRS: usize = 50_000_000;
/// Largest cost matrix for the CLI: 150 M entries = 1.2 GB, e.g. 10,000 villages × 10,000 sites
/// plus what the solvers keep beside it (measured peak at 10,000 × 10,000: see
/// bench/locate/README.md).
const MAX_PAIRS_CLI: usize = 150_000_000;

struct Site {
    name: String,
    village: Option<usize>,
    point: Coord<f64>,
    existing: bool,
    capacity: Option<f64>,
    /// Its service radius (LSCP, MCLP) and where it comes from.
    reach: Option<(f64, &'static str)>,
}

/// Solves a site selection: builds demand, candidates and the cost matrix, solves the model and
/// reports the open facilities.
pub fn locate(data: &LocationData, req: &LocateRequest) -> Result<LocateReport, LocationError> {
    let started = Instant::now();
    let fixed_sites: Vec<usize> = match &req.kind {
        Some(k) => data.check_kind(k)?,
        None => vec![],
    };
    check_reach(req.radius_m, req.minutes, req.distance, false)?;
    // The radius of new sites: the request's, else the kind's table radius (minutes in time
    // mode). Existing facilities follow the same rule as `coverage` (`reach_of`).
    let table = req.kind.as_deref().and_then(|k| data.radius_of(k));
    // A new site has no radius of its own: the same rule with none.
    let new_reach = reach_of(req.radius_m, req.minutes, req.distance, None, table);
    let radius = new_reach.map(|(r, _)| r);
    let model = match req.model.as_str() {
        "lscp" | "mclp" if radius.is_none() && req.distance.is_time() => {
            return Err(input(
                "minutes",
                format!(
                    "{} 按出行时间需要 minutes / {} with distance time needs minutes",
                    req.model, req.model
                ),
            ));
        }
        "lscp" | "mclp" if radius.is_none() => {
            return Err(input(
                "radius_m",
                format!(
                    "{} 需要服务半径 --radius / {} needs a radius",
                    req.model, req.model
                ),
            ));
        }
        "lscp" => Model::Lscp {
            radius: radius.expect("checked"),
        },
        "mclp" | "pmedian" | "pcenter" => {
            let p = req.p.ok_or_else(|| {
                input(
                    "p",
                    format!("{} 需要 --p / {} needs p", req.model, req.model),
                )
            })?;
            match req.model.as_str() {
                "mclp" => Model::Mclp {
                    radius: radius.expect("checked"),
                    p,
                },
                "pmedian" => Model::PMedian { p },
                _ => Model::PCenter { p },
            }
        }
        other => {
            return Err(input(
                "model",
                format!("model = '{other}': lscp, mclp, pmedian or pcenter"),
            ));
        }
    };
    if let Some(c) = req.capacity
        && !(c.is_finite() && c > 0.0)
    {
        return Err(input(
            "capacity",
            format!("capacity = {c}: 应为正数 / must be positive"),
        ));
    }
    // Candidates: existing facilities first (fixed open), then the new sites.
    let mut sites: Vec<Site> = fixed_sites
        .iter()
        .map(|&f| {
            let fac = &data.facilities[f];
            Site {
                name: fac.name.clone(),
                village: fac.village,
                point: fac.point,
                existing: true,
                capacity: fac.capacity,
                reach: reach_of(req.radius_m, req.minutes, req.distance, fac.radius_m, table)
                    .or(new_reach),
            }
        })
        .collect();
    match req.candidates {
        CandidateMode::Centroid | CandidateMode::Representative => {
            for (v, vil) in data.villages.iter().enumerate() {
                sites.push(Site {
                    name: vil.name.clone(),
                    village: Some(v),
                    point: if req.candidates == CandidateMode::Centroid {
                        vil.centroid
                    } else {
                        vil.point
                    },
                    existing: false,
                    capacity: req.capacity,
                    reach: new_reach,
                });
            }
        }
        CandidateMode::Construction => {
            let mut best: HashMap<(i64, i64), (usize, Coord<f64>, f64)> = HashMap::new();
            for &(v, p, area) in &data.construction {
                let cell = ((p.x / 250.0).floor() as i64, (p.y / 250.0).floor() as i64);
                let e = best.entry(cell).or_insert((v, p, area));
                if area > e.2 {
                    *e = (v, p, area);
                }
            }
            let mut cells: Vec<_> = best.into_iter().collect();
            cells.sort_by_key(|(k, _)| *k);
            if cells.is_empty() {
                return Err(input(
                    "candidates",
                    "工作区没有建设用地图斑 / the workspace has no construction-land parcels (三调 05–10)",
                ));
            }
            for (_, (v, p, area)) in cells {
                sites.push(Site {
                    name: format!("{} 建设用地 {:.0} m²", data.villages[v].name, area),
                    village: Some(v),
                    point: p,
                    existing: false,
                    capacity: req.capacity,
                    reach: new_reach,
                });
            }
        }
    }
    if !req.given.is_empty() {
        let to_metric = Reprojector::to_metric(data.metric_epsg)
            .map_err(|e| LocationError::Workspace(e.into()))?;
        for (name, lon, lat) in &req.given {
            if !(lon.is_finite() && lat.is_finite() && crate::engine::crs::in_china(*lon, *lat)) {
                return Err(input(
                    "given",
                    format!(
                        "候选点 '{name}' 的经纬度 ({lon}, {lat}) 无效 / candidate '{name}' has invalid lon/lat"
                    ),
                ));
            }
            let mut c = [Coord { x: *lon, y: *lat }];
            to_metric
                .transform_coords(&mut c)
                .map_err(|e| LocationError::Workspace(e.into()))?;
            sites.push(Site {
                name: name.clone(),
                village: None,
                point: c[0],
                existing: false,
                capacity: req.capacity,
                reach: new_reach,
            });
        }
    }
    let demand = demand_points(data, req.demand);
    let (n, m) = (demand.len(), sites.len());
    // A server (which sets a MILP budget) keeps the smaller matrix cap.
    let max_pairs = if req.max_milp_pairs.is_some() {
        MAX_PAIRS
    } else {
        MAX_PAIRS_CLI
    };
    if n.saturating_mul(m) > max_pairs {
        return Err(input(
            "candidates",
            format!(
                "{n} 个需求点 × {m} 个候选点超出内存上限 / {n} demands × {m} candidates is more than {max_pairs} pairs: use --demand centroid or fewer candidates"
            ),
        ));
    }
    let space = CostSpace::new(data, req.distance)?;
    let demand_places = demand_places(data, &demand);
    let site_places: Vec<Place> = sites
        .iter()
        .map(|s| Place {
            label: s.name.clone(),
            point: s.point,
        })
        .collect();
    let mut cost = space.matrix(&demand_places, &site_places)?;
    // Over the roads some pairs may not connect at all. A demand no site reaches is refused by
    // name; the other unconnected pairs cost more than any connected one, so a solution uses one
    // only when p sites cannot reach every demand — checked after solving.
    let unreachable: Vec<usize> = (0..n)
        .filter(|&i| cost[i * m..(i + 1) * m].iter().all(|c| c.is_infinite()))
        .collect();
    if !unreachable.is_empty() {
        let mut names: Vec<&str> = unreachable
            .iter()
            .map(|&i| demand_places[i].label.as_str())
            .collect();
        names.dedup();
        return Err(input(
            "roads",
            format!(
                "这些村的需求点经道路到不了任何候选点 / over the roads no candidate site reaches these villages: {}",
                names.join(", ")
            ),
        ));
    }
    let longest = cost
        .iter()
        .copied()
        .filter(|c| c.is_finite())
        .fold(0.0, f64::max);
    let unconnected_cost = 10.0 * longest + 1.0;
    let mut has_unconnected = false;
    for c in cost.iter_mut().filter(|c| c.is_infinite()) {
        *c = unconnected_cost;
        has_unconnected = true;
    }
    let capacities = if req.capacity.is_some() {
        if !matches!(model, Model::Lscp { .. } | Model::PMedian { .. }) {
            return Err(input(
                "capacity",
                "容量只用于 lscp 与 pmedian / capacities apply to lscp and pmedian",
            ));
        }
        Some(
            sites
                .iter()
                .map(|s| s.capacity.unwrap_or(f64::INFINITY))
                .collect(),
        )
    } else {
        None
    };
    // Per-site radii only where an existing facility's own radius differs from the new sites'.
    let reach = match (model, radius) {
        (Model::Lscp { .. } | Model::Mclp { .. }, Some(r))
            if sites.iter().any(|s| s.reach.is_some_and(|(x, _)| x != r)) =>
        {
            Some(
                sites
                    .iter()
                    .map(|s| s.reach.map_or(r, |(x, _)| x))
                    .collect(),
            )
        }
        _ => None,
    };
    let inst = Instance {
        weights: demand.iter().map(|d| d.weight).collect(),
        cost,
        n,
        m,
        fixed_open: (0..fixed_sites.len()).collect(),
        capacities,
        reach,
    };
    // A dense assignment MILP holds about 2 KB per demand × site pair in HiGHS (1.2 M pairs
    // grew a server by 2.7 GB): above the caller's budget it is refused before it is built.
    let dense_milp = match model {
        Model::PMedian { .. } => req.method == Method::Exact || inst.capacities.is_some(),
        Model::Lscp { .. } => inst.capacities.is_some(),
        _ => false,
    };
    if let Some(max) = req.max_milp_pairs
        && dense_milp
        && n * m > max
    {
        let (field, fix) = if inst.capacities.is_some() {
            (
                "capacity",
                "不设容量或减少候选点 / drop the capacity or use fewer candidates",
            )
        } else {
            (
                "method",
                "用 method auto（启发式并给出证明界） / use method auto (heuristic with a proven bound) or fewer candidates",
            )
        };
        return Err(input(
            field,
            format!(
                "{n} 个需求点 × {m} 个候选点 = {} 对，超过本服务精确求解的上限 {max} 对（内存）；{fix} / {n} demand points × {m} sites = {} assignment pairs exceed this server's exact-model budget of {max} pairs (memory)",
                n * m,
                n * m
            ),
        ));
    }
    let built = started.elapsed().as_secs_f64();
    let params = Params {
        model,
        method: req.method,
        time_limit: req.time_limit.saturating_sub(started.elapsed()),
        // HiGHS stops within 1e-7 of the optimum (its tolerances make tighter targets noise).
        gap: 1e-7,
    };
    let solution = location::solve(&inst, &params).map_err(|e| match e {
        LocateError::Infeasible {
            constraint,
            detail,
            demands,
        } => {
            let mut codes: Vec<String> = demands
                .iter()
                .map(|&i| data.villages[demand[i].village].code.clone())
                .collect();
            codes.dedup();
            LocationError::Input {
                field: request_field(constraint),
                message: format!("{detail}: {}", codes.join(", ")),
            }
        }
        other => LocationError::Locate(other),
    })?;
    if has_unconnected && matches!(model, Model::PMedian { .. } | Model::PCenter { .. }) {
        let mut cut: Vec<&str> = (0..n)
            .filter(|&i| inst.d(i, solution.assignment[i]) >= unconnected_cost)
            .map(|i| demand_places[i].label.as_str())
            .collect();
        cut.dedup();
        if !cut.is_empty() {
            return Err(input(
                "p",
                format!(
                    "道路网分成互不连通的几部分，{} 个新设施不够每部分一个：这些村到不了任何设施 / the roads fall into parts that p new sites cannot all reach; these villages reach no open site: {}",
                    req.p.unwrap_or(0),
                    cut.join(", ")
                ),
            ));
        }
    }
    let mut out = location_json(
        data,
        req,
        &inst,
        &sites,
        &demand,
        &solution,
        model,
        built,
        started.elapsed().as_secs_f64(),
    )?;
    out.other.insert(
        "distance".into(),
        json!(space.distance.describe(data.metric_epsg)),
    );
    out.other
        .insert("distance_mode".into(), json!(req.distance.name()));
    if req.service_areas
        && let Model::Lscp { radius } | Model::Mclp { radius, .. } = model
    {
        let areas: Vec<(Place, f64, Json)> = solution
            .open
            .iter()
            .map(|&j| {
                let site = &sites[j];
                let (reach, from) = site.reach.unwrap_or((radius, "request"));
                (
                    Place {
                        label: site.name.clone(),
                        point: site.point,
                    },
                    reach,
                    json!({"name": site.name, "existing": site.existing, "radius": reach,
                           "radius_from": from, "unit": req.distance.unit()}),
                )
            })
            .collect();
        out.other
            .insert("service_areas".into(), space.service_areas(data, &areas)?);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn location_json(
    data: &LocationData,
    req: &LocateRequest,
    inst: &Instance,
    sites: &[Site],
    demand: &[DemandPoint],
    s: &Solution,
    model: Model,
    build_seconds: f64,
    seconds: f64,
) -> Result<LocateReport, LocationError> {
    let r = data.to_lonlat()?;
    // Allocation: every demand goes to its nearest open site (who would use it). Coverage: the
    // demand within a site's own radius (LSCP, MCLP). The two are reported under their own names.
    let mut allocated = vec![0.0; inst.m];
    let mut allocated_demands = vec![0usize; inst.m];
    let mut farthest = vec![0.0f64; inst.m];
    for (i, &j) in s.assignment.iter().enumerate() {
        allocated[j] += inst.weights[i];
        allocated_demands[j] += 1;
        farthest[j] = farthest[j].max(inst.d(i, j));
    }
    let covering_radius = match model {
        Model::Lscp { radius } | Model::Mclp { radius, .. } => Some(radius),
        _ => None,
    };
    let unit = req.distance.reach_unit();
    let facilities: Vec<LocatedFacility> = s
        .open
        .iter()
        .map(|&j| {
            let site = &sites[j];
            LocatedFacility {
                name: site.name.clone(),
                existing: site.existing,
                village: site.village.map(|v| data.villages[v].code.clone()),
                village_name: site.village.map(|v| data.villages[v].name.clone()),
                lonlat: lonlat_pair(&r, site.point),
                x: round(site.point.x, 2),
                y: round(site.point.y, 2),
                allocated_population: round(allocated[j], 1),
                allocated_demand_points: allocated_demands[j],
                allocated_farthest: round(farthest[j], 1),
                reach: covering_radius.map(|radius| {
                    let (reach, from) = site.reach.unwrap_or((radius, "request"));
                    FacilityReach {
                        reach,
                        from,
                        // May overlap with other sites' (the total counts each person once).
                        covered_population: round(
                            (0..inst.n)
                                .filter(|&i| inst.covers(i, j, radius))
                                .map(|i| inst.weights[i])
                                .sum(),
                            1,
                        ),
                    }
                }),
                unit,
            }
        })
        .collect();
    // Each village with the open facility serving most of its demand, and its mean distance.
    let position: HashMap<usize, usize> = s.open.iter().enumerate().map(|(k, &j)| (j, k)).collect();
    let mut by_village: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); data.villages.len()];
    let mut weighted = vec![(0.0, 0.0); data.villages.len()];
    for (i, &j) in s.assignment.iter().enumerate() {
        let v = demand[i].village;
        *by_village[v].entry(j).or_insert(0.0) += inst.weights[i];
        weighted[v].0 += inst.weights[i] * inst.d(i, j);
        weighted[v].1 += inst.weights[i];
    }
    let distance_key = format!("distance_{}", req.distance.unit());
    let villages: Vec<Json> = data
        .villages
        .iter()
        .enumerate()
        .map(|(v, vil)| {
            let main = by_village[v]
                .iter()
                .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(&j, _)| position[&j]);
            let (sum, w) = weighted[v];
            json!({"code": vil.code, "name": vil.name, "population": vil.population,
                   "point": lonlat(&r, vil.point),
                   "facility": main,
                   distance_key.as_str(): if w > 0.0 { json!(round(sum / w, 1)) } else { Json::Null }})
        })
        .collect();
    // The villages left out, by coverage's rule: less than half the population within reach.
    let uncovered: Vec<String> = match model {
        Model::Mclp { radius, .. } => {
            let mut population = vec![0.0; data.villages.len()];
            let mut within = vec![0.0; data.villages.len()];
            for (i, d) in demand.iter().enumerate() {
                let v = d.village;
                population[v] += inst.weights[i];
                if s.open.iter().any(|&j| inst.covers(i, j, radius)) {
                    within[v] += inst.weights[i];
                }
            }
            (0..data.villages.len())
                .filter(|&v| {
                    population[v] > 0.0 && within[v] / population[v] < VILLAGE_COVERED_SHARE
                })
                .map(|v| data.villages[v].code.clone())
                .collect()
        }
        _ => vec![],
    };
    let mut out = json!({
        "objective_meaning": match model {
            Model::Lscp { .. } => "新设施数 / number of new facilities opened",
            Model::Mclp { .. } => "服务半径内人口 / population within the radius",
            Model::PMedian { .. } if req.distance.is_time() => "人口加权出行时间之和（分钟·人） / total population-weighted travel time (min)",
            Model::PCenter { .. } if req.distance.is_time() => "最远需求点到最近设施的出行时间（分钟） / the longest travel time to the nearest facility (min)",
            Model::PMedian { .. } => "人口加权距离之和（米·人） / total population-weighted distance (m)",
            Model::PCenter { .. } => "最远需求点到最近设施的距离（米） / the largest distance to the nearest facility (m)",
        },
        "optimal": s.optimal,
        "stopped_by_time_limit": s.stopped_by_time_limit,
        "new_facilities": s.new_sites.len(),
        "existing_facilities": inst.fixed_open.len(),
        "villages": villages,
        "demand": req.demand.name(),
        "demand_points": inst.n,
        "candidates": req.candidates.name(),
        "candidate_sites": inst.m - inst.fixed_open.len(),
        "distance": format!("straight line in EPSG:{}", data.metric_epsg),
        "seconds_build": build_seconds,
    });
    if let Some(radius) = covering_radius {
        // The new sites' radius; existing facilities may keep their own (`radius_rule`).
        out[unit.reach_key()] = json!(radius);
        out["radius_rule"] = json!(RADIUS_RULE);
        out["covered_population"] =
            json!(round(location::covered_weight(inst, &s.open, radius), 1));
    }
    if let Model::Mclp { p, .. } | Model::PMedian { p } | Model::PCenter { p } = model {
        out["p"] = json!(p);
    }
    if matches!(model, Model::Mclp { .. }) {
        out["uncovered_villages"] = json!(uncovered);
        let total: f64 = inst.weights.iter().sum();
        out["covered_share"] = json!(round(s.objective / total.max(1e-12), 6));
    }
    let Json::Object(other) = out else {
        unreachable!("built as an object")
    };
    Ok(LocateReport {
        model: model.name(),
        objective: s.objective,
        objective_unit: objective_unit(model, req.distance),
        bound: s.bound,
        gap: s.gap,
        method: s.method.clone(),
        seconds,
        unit,
        facilities,
        other,
    })
}

// ---------------------------------------------------------------------------------------------
// Key-village ranking

/// Weights of the four parts of a candidate's score (normalised to sum 1).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CenterWeights {
    /// Weight of 实力 (income, population, party members).
    pub strength: f64,
    /// Weight of 区位 (closeness to the other members' people).
    pub centrality: f64,
    /// Weight of 设施 (facilities already in the village).
    pub facilities: f64,
    /// Weight of 产业 (sharing the members' leading industry).
    pub industry: f64,
}

impl Default for CenterWeights {
    /// liancun's defaults: "strong leads weak" puts strength first, then being reachable from
    /// the other members, then what the village already has.
    fn default() -> Self {
        CenterWeights {
            strength: 0.4,
            centrality: 0.3,
            facilities: 0.15,
            industry: 0.15,
        }
    }
}

/// The ranking of a set of villages as its key/center village: one typed report for the CLI
/// (table, CSV, JSON) and the HTTP API (JSON).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CenterRanking {
    /// How many villages were ranked.
    pub villages: usize,
    /// The weights used (as given, before normalising).
    pub weights: CenterWeights,
    /// liancun's default weights, in words (Chinese and English).
    pub weights_default: &'static str,
    /// The member with the least population-weighted distance to the others.
    pub one_median: VillageRef,
    /// How distances were measured.
    pub distance: String,
    /// Best first.
    pub candidates: Vec<CenterCandidate>,
}

/// A village named by code and name.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VillageRef {
    /// The village's 12-digit code.
    pub code: String,
    /// The village's name.
    pub name: String,
}

/// One ranked village: its total score (0–1, weighted) and the four parts it is made of.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CenterCandidate {
    /// 1 for the best candidate.
    pub rank: usize,
    /// The village's 12-digit code.
    pub code: String,
    /// The village's name.
    pub name: String,
    /// The weighted total score, 0–1.
    pub score: f64,
    /// The 实力 part.
    pub strength: StrengthPart,
    /// The 区位 part.
    pub centrality: CentralityPart,
    /// The 设施 part.
    pub facilities: FacilitiesPart,
    /// The 产业 part.
    pub industry: IndustryPart,
}

/// 实力: income, population and party members against the strongest member.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StrengthPart {
    /// 0.5 × income/highest + 0.3 × population/largest + 0.2 × party members/most, 0–1.
    pub score: f64,
    /// Collective income (万元).
    pub collective_income: f64,
    /// Registered population, persons.
    pub population: f64,
    /// Party members (党员数), when known.
    pub party_members: Option<f64>,
    /// The rule, in words.
    pub rule: &'static str,
}

/// 区位: how close the other members' people are.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CentralityPart {
    /// The 1-median's weighted distance / this village's, 0–1 (1 for the 1-median).
    pub score: f64,
    /// Σ population × distance to the other members, person·km.
    pub weighted_distance_km: f64,
    /// Mean distance of the members' people to this village, km.
    pub mean_distance_km: f64,
    /// The rule, in words.
    pub rule: &'static str,
}

/// 设施: the facilities in the village, against the best-equipped member.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FacilitiesPart {
    /// This village's facility count / the best-equipped member's, 0–1.
    pub score: f64,
    /// Facilities in the village.
    pub count: usize,
    /// Facility kind → count.
    pub kinds: BTreeMap<String, usize>,
}

/// 产业: the share of the members' people who share the village's leading industry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IndustryPart {
    /// Population share of the members sharing this village's industry, 0–1.
    pub score: f64,
    /// This village's main industry.
    pub industry: String,
    /// The rule, in words.
    pub rule: &'static str,
}

/// The villages to rank as a zone's center: the given codes plus, with `town`, every village of
/// that township, named by its code or its name (悦庄镇). Shared by the CLI and the HTTP API so
/// both accept and refuse the same things.
pub fn center_members(
    data: &LocationData,
    codes: &[String],
    town: Option<&str>,
) -> Result<Vec<usize>, LocationError> {
    let mut members = Vec::new();
    for code in codes {
        members.push(data.village(code).ok_or_else(|| {
            input(
                "villages",
                format!("村代码 {code} 不在工作区 / unknown village code {code}"),
            )
        })?);
    }
    if let Some(t) = town {
        let t = t.trim();
        let before = members.len();
        members.extend(
            (0..data.villages.len())
                .filter(|&v| data.villages[v].town_code == t || data.villages[v].town == t),
        );
        if members.len() == before {
            return Err(input(
                "town",
                format!(
                    "乡镇 {t} 没有村（按乡镇代码或名称） / no village in town {t} (by code or name)"
                ),
            ));
        }
    }
    members.sort_unstable();
    members.dedup();
    Ok(members)
}

/// Ranks the villages of a zone (or any set) as its key/center village, with the breakdown.
pub fn rank_centers(
    data: &LocationData,
    members: &[usize],
    weights: CenterWeights,
) -> Result<CenterRanking, LocationError> {
    if members.is_empty() {
        return Err(input("villages", "没有给出村 / no villages given"));
    }
    let w = [
        weights.strength,
        weights.centrality,
        weights.facilities,
        weights.industry,
    ];
    if w.iter().any(|x| !x.is_finite() || *x < 0.0) || w.iter().sum::<f64>() <= 0.0 {
        return Err(input(
            "weights",
            "权重应为非负数且不全为 0 / weights must be non-negative and not all 0",
        ));
    }
    let wsum: f64 = w.iter().sum();
    let vs: Vec<&LocVillage> = members.iter().map(|&v| &data.villages[v]).collect();
    let max_of = |f: &dyn Fn(&LocVillage) -> f64| vs.iter().map(|v| f(v)).fold(0.0, f64::max);
    let (max_income, max_pop) = (max_of(&|v| v.income), max_of(&|v| v.population));
    let max_party = max_of(&|v| v.party_members.unwrap_or(0.0));
    let mut fac_count = vec![0usize; members.len()];
    let mut fac_kinds: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); members.len()];
    for f in &data.facilities {
        if let Some(k) = f.village.and_then(|v| members.iter().position(|&m| m == v)) {
            fac_count[k] += 1;
            *fac_kinds[k].entry(f.kind.clone()).or_insert(0) += 1;
        }
    }
    let max_fac = fac_count.iter().copied().max().unwrap_or(0);
    // 1-median: population-weighted distance from each candidate to the other members.
    let wdist: Vec<f64> = vs
        .iter()
        .map(|c| {
            vs.iter()
                .map(|o| o.population * dist(c.point, o.point))
                .sum()
        })
        .collect();
    let best_wdist = wdist.iter().copied().fold(f64::INFINITY, f64::min);
    let total_pop: f64 = vs.iter().map(|v| v.population).sum();
    let mut rows: Vec<(f64, CenterCandidate)> = vs
        .iter()
        .enumerate()
        .map(|(k, v)| {
            let norm = |x: f64, max: f64| if max > 0.0 { x / max } else { 0.0 };
            let parts = [
                (0.5, norm(v.income, max_income)),
                (0.3, norm(v.population, max_pop)),
                (0.2, norm(v.party_members.unwrap_or(0.0), max_party)),
            ];
            let strength = parts.iter().map(|(a, b)| a * b).sum::<f64>();
            let centrality = if wdist[k] > 0.0 {
                best_wdist / wdist[k]
            } else {
                1.0
            };
            let facilities = norm(fac_count[k] as f64, max_fac as f64);
            let shared: f64 = vs
                .iter()
                .filter(|o| !v.industry.is_empty() && o.industry == v.industry)
                .map(|o| o.population)
                .sum();
            let industry = if total_pop > 0.0 {
                shared / total_pop
            } else {
                0.0
            };
            let total =
                (w[0] * strength + w[1] * centrality + w[2] * facilities + w[3] * industry) / wsum;
            let mean_km = if total_pop > 0.0 {
                wdist[k] / total_pop / 1000.0
            } else {
                0.0
            };
            (
                total,
                CenterCandidate {
                    rank: 0,
                    code: v.code.clone(),
                    name: v.name.clone(),
                    score: round(total, 4),
                    strength: StrengthPart {
                        score: round(strength, 4),
                        collective_income: v.income,
                        population: v.population,
                        party_members: v.party_members,
                        rule: "0.5×收入/最高收入 + 0.3×人口/最大人口 + 0.2×党员数/最多党员数",
                    },
                    centrality: CentralityPart {
                        score: round(centrality, 4),
                        weighted_distance_km: round(wdist[k] / 1000.0, 3),
                        mean_distance_km: round(mean_km, 3),
                        rule: "人口加权距离最小者（1-中位点）得 1，其余按最小值/本村值",
                    },
                    facilities: FacilitiesPart {
                        score: round(facilities, 4),
                        count: fac_count[k],
                        kinds: fac_kinds[k].clone(),
                    },
                    industry: IndustryPart {
                        score: round(industry, 4),
                        industry: v.industry.clone(),
                        rule: "与本村主导产业相同的成员人口占比",
                    },
                },
            )
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.code.cmp(&b.1.code)));
    let median = (0..vs.len())
        .min_by(|&a, &b| wdist[a].total_cmp(&wdist[b]))
        .expect("members");
    let candidates: Vec<CenterCandidate> = rows
        .into_iter()
        .enumerate()
        .map(|(i, (_, c))| CenterCandidate { rank: i + 1, ..c })
        .collect();
    Ok(CenterRanking {
        villages: members.len(),
        weights,
        weights_default: "liancun 默认：实力 0.4、区位 0.3、设施 0.15、产业 0.15 / liancun defaults: strength 0.4, centrality 0.3, facilities 0.15, industry 0.15",
        one_median: VillageRef {
            code: vs[median].code.clone(),
            name: vs[median].name.clone(),
        },
        distance: format!(
            "straight line between interior points in EPSG:{}",
            data.metric_epsg
        ),
        candidates,
    })
}
