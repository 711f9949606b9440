//! How far a demand is from a site: straight lines in the workspace's metric CRS, or along the
//! roads layer (metres, or minutes at each road's speed). Builds the demand × site cost matrix
//! the location models need and the service areas the map draws (circles, or the reachable roads
//! buffered, as isochrones).

use geo::{Coord, MultiPolygon};
use serde_json::{Value as Json, json};

use super::{LocationData, LocationError, input, round};
use crate::engine::crs::Reprojector;
use crate::engine::network::{ACCESS_SPEED_KMH, Access, NetCost, Network, SERVICE_AREA_TRIM_M};

/// A demand point or site farther than this from every road does not join the network: the
/// request is refused, naming it (a roads layer that does not reach a village is a data problem to
/// show, not to hide behind a long straight access leg).
pub const MAX_ACCESS_M: f64 = 2000.0;

/// How distance is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Distance {
    /// Straight line in the workspace's CGCS2000 Gauss–Krüger zone (metres).
    #[default]
    Straight,
    /// Shortest path along the roads (metres).
    Network,
    /// Quickest path along the roads at each road's speed (minutes): driving.
    Time,
    /// Along the roads on foot at [`WALK_KMH`] (minutes).
    Walk,
}

/// Walking speed on every road and access leg: 5 km/h, the usual planning figure for a
/// 15-minute walking life circle (《城市居住区规划设计标准》GB 50180-2018 takes 15 min ≈ 1 km
/// with detours; 5 km/h is the straight-line pace).
pub const WALK_KMH: f64 = ACCESS_SPEED_KMH;

impl Distance {
    /// The mode a request names (field `distance`).
    pub fn parse(s: &str) -> Result<Distance, LocationError> {
        match s {
            "straight" | "euclidean" => Ok(Distance::Straight),
            "network" | "road" | "roads" => Ok(Distance::Network),
            "time" | "minutes" | "drive" | "driving" => Ok(Distance::Time),
            "walk" | "walking" => Ok(Distance::Walk),
            other => Err(input(
                "distance",
                format!(
                    "distance = '{other}': straight（直线）, network（路网距离）, time（驾车时间）or walk（步行时间）"
                ),
            )),
        }
    }

    /// The mode's name as requests spell it.
    pub fn name(self) -> &'static str {
        match self {
            Distance::Straight => "straight",
            Distance::Network => "network",
            Distance::Time => "time",
            Distance::Walk => "walk",
        }
    }

    /// Whether costs are travel times (minutes) rather than metres.
    pub fn is_time(self) -> bool {
        matches!(self, Distance::Time | Distance::Walk)
    }

    /// The unit of costs and radii: metres, or minutes for travel time.
    /// The unit's key suffix: `m` or `min`.
    pub fn unit(self) -> &'static str {
        self.reach_unit().suffix()
    }

    /// Minutes for the time modes, metres otherwise.
    pub fn reach_unit(self) -> super::ReachUnit {
        if self.is_time() {
            super::ReachUnit::Minutes
        } else {
            super::ReachUnit::Metres
        }
    }

    /// Whether the mode needs the roads layer.
    pub fn uses_roads(self) -> bool {
        self != Distance::Straight
    }

    fn net_cost(self) -> NetCost {
        match self {
            Distance::Time => NetCost::Time,
            _ => NetCost::Length,
        }
    }

    /// Engine cost (metres or seconds) to the unit reported (metres or minutes).
    fn scale(self) -> f64 {
        match self {
            Distance::Time => 1.0 / 60.0,
            // Metres along the roads at walking pace.
            Distance::Walk => 60.0 / (WALK_KMH * 1000.0),
            _ => 1.0,
        }
    }

    /// How distances are measured, in words, for the answer.
    pub fn describe(self, epsg: u32) -> String {
        match self {
            Distance::Straight => format!("straight line in EPSG:{epsg} (m)"),
            Distance::Network => format!(
                "shortest path along the roads layer (m), access from each point to its nearest road in a straight line (≤ {MAX_ACCESS_M} m); EPSG:{epsg}"
            ),
            Distance::Time => format!(
                "quickest path along the roads layer (min) at each road's speed_kmh or its class's JTG B01-2014 design speed; access legs walked at {ACCESS_SPEED_KMH} km/h (≤ {MAX_ACCESS_M} m); EPSG:{epsg}"
            ),
            Distance::Walk => format!(
                "walking along the roads layer (min) at {WALK_KMH} km/h, access legs included (≤ {MAX_ACCESS_M} m); EPSG:{epsg}"
            ),
        }
    }
}

/// A named point that must be reached (a demand's village or a site's name), for messages.
pub struct Place {
    /// What messages call it.
    pub label: String,
    /// Where it is (metres).
    pub point: Coord<f64>,
}

/// Distances between demands and sites under one `Distance` mode.
pub struct CostSpace {
    /// The mode distances are measured in.
    pub distance: Distance,
    network: Option<Network>,
}

impl CostSpace {
    /// The space for a mode; road modes build the network from the roads layer.
    pub fn new(data: &LocationData, distance: Distance) -> Result<CostSpace, LocationError> {
        let network = if distance.uses_roads() {
            if data.roads.is_empty() {
                return Err(input(
                    "roads",
                    "工作区没有道路图层，无法按路网计算 / the workspace has no roads layer: import one (liancun import --layer roads FILE) or use distance straight",
                ));
            }
            Some(Network::build(&data.roads).map_err(|e| input("roads", e.to_string()))?)
        } else {
            None
        };
        Ok(CostSpace { distance, network })
    }

    /// Where each place joins the roads; refuses places farther than [`MAX_ACCESS_M`] from every
    /// road, naming them (`what` says whether they are demands or sites).
    fn accesses(&self, places: &[Place], what: &str) -> Result<Vec<Access>, LocationError> {
        let net = self.network.as_ref().expect("network mode");
        let accesses: Vec<Access> = places.iter().map(|p| net.access(p.point)).collect();
        let mut far: Vec<String> = places
            .iter()
            .zip(&accesses)
            .filter(|(_, a)| a.leg_m > MAX_ACCESS_M)
            .map(|(p, a)| format!("{} ({:.0} m)", p.label, a.leg_m))
            .collect();
        far.dedup();
        if !far.is_empty() {
            return Err(input(
                "roads",
                format!(
                    "道路图层没有连到这些{what}（离最近道路超过 {MAX_ACCESS_M} m）/ the roads layer does not reach these {what} (more than {MAX_ACCESS_M} m from any road): {}",
                    far.join(", ")
                ),
            ));
        }
        Ok(accesses)
    }

    /// The demand × site matrix (row-major) in the mode's unit; `INFINITY` where the roads do not
    /// connect a demand to a site.
    pub fn matrix(&self, demands: &[Place], sites: &[Place]) -> Result<Vec<f64>, LocationError> {
        let (n, m) = (demands.len(), sites.len());
        let mut cost = vec![0.0; n * m];
        match &self.network {
            None => {
                for (i, d) in demands.iter().enumerate() {
                    for (j, s) in sites.iter().enumerate() {
                        cost[i * m + j] = (d.point.x - s.point.x).hypot(d.point.y - s.point.y);
                    }
                }
            }
            Some(net) => {
                let from = self.accesses(demands, "需求点 / demand points")?;
                let to = self.accesses(sites, "候选点 / sites")?;
                let nc = self.distance.net_cost();
                let scale = self.distance.scale();
                for (j, site) in to.iter().enumerate() {
                    let reach = net.reach(site, nc, f64::INFINITY);
                    for (i, d) in from.iter().enumerate() {
                        cost[i * m + j] = net.cost_to(&reach, d, nc) * scale;
                    }
                }
            }
        }
        Ok(cost)
    }

    /// The area served by each site within `radius` (mode unit) as lon/lat GeoJSON features:
    /// circles for straight lines, the reachable roads buffered by [`SERVICE_AREA_TRIM_M`] for
    /// network distances.
    pub fn service_areas(
        &self,
        data: &LocationData,
        sites: &[(Place, f64, Json)],
    ) -> Result<Json, LocationError> {
        let to_lonlat = data.to_lonlat()?;
        let mut features = Vec::new();
        let area_of = |site: &Place, radius: f64| match &self.network {
            None => circle(site.point, radius),
            Some(net) => {
                let access = net.access(site.point);
                let nc = self.distance.net_cost();
                let reach = net.reach(&access, nc, radius / self.distance.scale());
                net.service_area(&reach, nc)
            }
        };
        // Isochrones are a buffer of the reachable roads each, the slow part: the sites are
        // shared among the cores (each thread carries the request's cancel flag).
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = sites.len().div_ceil(threads).max(1);
        let cancel = crate::engine::cancel::current();
        let areas: Vec<Option<MultiPolygon<f64>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = sites
                .chunks(chunk)
                .map(|part| {
                    let cancel = cancel.clone();
                    let area_of = &area_of;
                    scope.spawn(move || {
                        crate::engine::cancel::scope(cancel, || {
                            part.iter()
                                .map(|(site, radius, _)| {
                                    (!crate::engine::cancel::requested())
                                        .then(|| area_of(site, *radius))
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a service area does not panic"))
                .collect()
        });
        for ((_, _, properties), area) in sites.iter().zip(areas) {
            let Some(area) = area else {
                return Err(LocationError::Cancelled);
            };
            features.push(json!({
                "type": "Feature",
                "properties": properties,
                "geometry": multipolygon_lonlat(&to_lonlat, &area)?,
            }));
        }
        Ok(json!({
            "type": "FeatureCollection",
            "features": features,
            "service_area": match self.distance {
                Distance::Straight => "circle of the radius".to_string(),
                _ => format!("roads reachable within the radius, buffered by {SERVICE_AREA_TRIM_M} m"),
            },
        }))
    }
}

/// A circle as a 72-gon.
fn circle(c: Coord<f64>, r: f64) -> MultiPolygon<f64> {
    let ring: Vec<Coord<f64>> = (0..=72)
        .map(|k| {
            let a = (k % 72) as f64 * std::f64::consts::TAU / 72.0;
            Coord {
                x: c.x + r * a.cos(),
                y: c.y + r * a.sin(),
            }
        })
        .collect();
    MultiPolygon(vec![geo::Polygon::new(geo::LineString(ring), vec![])])
}

fn multipolygon_lonlat(r: &Reprojector, mp: &MultiPolygon<f64>) -> Result<Json, LocationError> {
    let ring = |ls: &geo::LineString<f64>| -> Result<Json, LocationError> {
        let mut cs = ls.0.clone();
        r.transform_coords(&mut cs)
            .map_err(|e| LocationError::Workspace(e.into()))?;
        Ok(Json::Array(
            cs.iter()
                .map(|c| json!([round(c.x, 6), round(c.y, 6)]))
                .collect(),
        ))
    };
    let mut polys = Vec::new();
    for p in &mp.0 {
        let mut rings = vec![ring(p.exterior())?];
        for h in p.interiors() {
            rings.push(ring(h)?);
        }
        polys.push(Json::Array(rings));
    }
    Ok(json!({"type": "MultiPolygon", "coordinates": polys}))
}
