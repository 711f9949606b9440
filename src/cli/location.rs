//! `locate`, `coverage`, `centers` and `radii`: shared facilities, their coverage and the
//! center villages.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use liancun::report::csv_field;

use crate::*;

pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Locate {
            model,
            workspace,
            radius,
            p,
            demand,
            candidates,
            given,
            kind,
            capacity,
            method,
            time_limit,
            reach:
                DistanceArgs {
                    distance,
                    minutes,
                    areas,
                },
            format,
            out,
        } => {
            use liancun::location::*;
            let distance = match Distance::parse(&distance) {
                Ok(d) => d,
                Err(e) => return location_failure(e),
            };
            let ws = open_existing(&workspace)?;
            let demand = match DemandMode::parse(&demand) {
                Ok(d) => d,
                Err(e) => return location_failure(e),
            };
            let candidates = match CandidateMode::parse(&candidates) {
                Ok(c) => c,
                Err(e) => return location_failure(e),
            };
            let method = match liancun::engine::location::Method::parse(&method) {
                Ok(m) => m,
                Err(e) => return location_failure(e.into()),
            };
            let time_limit = match liancun::request::time_limit(Some(time_limit), 60.0, None) {
                Ok(t) => t,
                Err(e) => return location_failure(e.into()),
            };
            let request = LocateRequest {
                model,
                radius_m: radius,
                p,
                demand,
                candidates,
                given: match &given {
                    Some(path) => read_given_sites(path)?,
                    None => vec![],
                },
                kind,
                capacity,
                method,
                time_limit,
                distance,
                minutes,
                service_areas: areas.is_some(),
                max_milp_pairs: None,
            };
            let data = LocationData::load(
                &ws,
                LoadParcels {
                    residential: demand == DemandMode::Residential,
                    construction: candidates == CandidateMode::Construction,
                    roads: distance.uses_roads(),
                },
            )?;
            let mut report = match locate(&data, &request) {
                Ok(r) => r,
                Err(e) => return location_failure(e),
            };
            write_service_areas(areas.as_deref(), report.take_service_areas())?;
            let unit = report.unit;
            let cell = liancun::report::json_number_or_empty;
            match format {
                Format::Json => write_output(
                    out.as_deref(),
                    &serde_json::to_string_pretty(&report.to_json())?,
                )?,
                Format::Csv => {
                    let mut text = format!(
                        "name,existing,village,lon,lat,allocated_population,allocated_farthest_{},{},covered_population\n",
                        unit.suffix(),
                        unit.reach_key()
                    );
                    for f in &report.facilities {
                        let [lon, lat] = f.lonlat.map_or([None, None], |[x, y]| [Some(x), Some(y)]);
                        text.push_str(&format!(
                            "{},{},{},{},{},{},{},{},{}\n",
                            csv_field(&f.name),
                            f.existing,
                            csv_field(f.village.as_deref().unwrap_or("")),
                            cell(lon),
                            cell(lat),
                            cell(Some(f.allocated_population)),
                            cell(Some(f.allocated_farthest)),
                            cell(f.reach.as_ref().map(|r| r.reach)),
                            cell(f.reach.as_ref().map(|r| r.covered_population)),
                        ));
                    }
                    write_output(out.as_deref(), &text)?;
                }
            }
            let unit = report.objective_unit;
            let (objective, bound) = (
                liancun::report::json_number(report.objective),
                liancun::report::json_number(report.bound),
            );
            note!(
                "{}: 目标值 {objective} {unit}（界 {bound} {unit}），差距 {:.4}% ，方法 {} ，用时 {:.2} s / objective {objective} {unit} (bound {bound} {unit}), gap {:.4} %, {}",
                report.model,
                report.gap * 100.0,
                report.method,
                report.seconds,
                report.gap * 100.0,
                report.method
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Coverage {
            workspace,
            kind,
            radius,
            demand,
            reach:
                DistanceArgs {
                    distance,
                    minutes,
                    areas,
                },
            format,
            out,
        } => {
            use liancun::location::*;
            let ws = open_existing(&workspace)?;
            let demand = match DemandMode::parse(&demand) {
                Ok(d) => d,
                Err(e) => return location_failure(e),
            };
            let distance = match Distance::parse(&distance) {
                Ok(d) => d,
                Err(e) => return location_failure(e),
            };
            let data = LocationData::load(
                &ws,
                LoadParcels {
                    residential: demand == DemandMode::Residential,
                    construction: false,
                    roads: distance.uses_roads(),
                },
            )?;
            let mut report = match coverage(
                &data,
                &CoverageRequest {
                    kind,
                    radius_m: radius,
                    minutes,
                    demand,
                    distance,
                    service_areas: areas.is_some(),
                },
            ) {
                Ok(r) => r,
                Err(e) => return location_failure(e),
            };
            write_service_areas(areas.as_deref(), report.take_service_areas())?;
            let num = liancun::report::json_number;
            match format {
                Format::Json => write_output(
                    out.as_deref(),
                    &serde_json::to_string_pretty(&report.to_json())?,
                )?,
                Format::Csv => {
                    let mut text = format!(
                        "\u{feff}code,name,population,covered_population,covered_share,covered,nearest_facility,nearest_{}\n",
                        report.unit.suffix()
                    );
                    for v in &report.villages {
                        text.push_str(&format!(
                            "{},{},{},{},{},{},{},{}\n",
                            csv_field(&v.code),
                            csv_field(&v.name),
                            num(v.population),
                            num(v.covered_population),
                            num(v.covered_share),
                            v.covered,
                            csv_field(v.nearest_facility.as_deref().unwrap_or("")),
                            v.nearest.map_or("null".into(), num)
                        ));
                    }
                    write_output(out.as_deref(), &text)?;
                }
            }
            let t = &report.totals;
            note!(
                "{}：覆盖人口 {:.1}% ，覆盖村 {}/{} / covered population {:.1} %, villages {}/{}",
                report.kind,
                t.covered_share * 100.0,
                t.villages_covered,
                t.villages,
                t.covered_share * 100.0,
                t.villages_covered,
                t.villages
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Centers {
            workspace,
            villages,
            zoning,
            zone,
            town,
            weights,
            format,
            out,
        } => {
            use liancun::location::*;
            let ws = open_existing(&workspace)?;
            let data = LocationData::load(&ws, LoadParcels::default())?;
            let mut members: Vec<usize> = if villages.is_empty() && town.is_none() {
                Vec::new()
            } else {
                match center_members(&data, &villages, town.as_deref()) {
                    Ok(m) => m,
                    Err(e) => return location_failure(e),
                }
            };
            if let (Some(path), Some(zone)) = (&zoning, &zone) {
                let zdata = liancun::zones::ZoningData::load(&ws, &Default::default())?;
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let (zone_of, _) = liancun::zones::parse_zoning(&zdata, &text)?;
                let before = members.len();
                for (v, z) in zone_of.iter().enumerate() {
                    if z.as_deref() == Some(zone.as_str())
                        && let Some(k) = data.village(&zdata.villages[v].code)
                    {
                        members.push(k);
                    }
                }
                if members.len() == before {
                    note!(
                        "错误 error (zone): {} 中没有片区 {zone} / no zone {zone} in the zoning",
                        path.display()
                    );
                    return Ok(ExitCode::from(2));
                }
            }
            members.sort_unstable();
            members.dedup();
            let mut w = CenterWeights::default();
            if let Some(spec) = &weights {
                for part in spec.split(',') {
                    let (k, v) = part
                        .split_once('=')
                        .with_context(|| format!("--weights {part}: TERM=W"))?;
                    let v: f64 = v
                        .trim()
                        .parse()
                        .with_context(|| format!("--weights {part}: W is not a number"))?;
                    match k.trim() {
                        "strength" => w.strength = v,
                        "centrality" => w.centrality = v,
                        "facilities" => w.facilities = v,
                        "industry" => w.industry = v,
                        other => anyhow::bail!(
                            "--weights: unknown term '{other}' (strength, centrality, facilities, industry)"
                        ),
                    }
                }
            }
            let ranking = match rank_centers(&data, &members, w) {
                Ok(r) => r,
                Err(e) => return location_failure(e),
            };
            let text = match format {
                Format::Json => serde_json::to_string_pretty(&ranking)?,
                Format::Csv => centers_csv(&ranking),
            };
            write_output(out.as_deref(), &text)?;
            if let Some(top) = ranking.candidates.first() {
                note!(
                    "首选：{} {}（{}）/ top: {} {} ({})",
                    top.name,
                    top.code,
                    top.score,
                    top.name,
                    top.code,
                    top.score
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Radii {
            workspace,
            set,
            source,
            reset,
        } => {
            use liancun::location::*;
            let mut ws = open_existing(&workspace)?;
            if reset {
                reset_service_radii(&mut ws)?;
            }
            if let Some(spec) = &set {
                let Some((kind, metres)) = spec.split_once('=') else {
                    anyhow::bail!("--set {spec}: KIND=METRES");
                };
                let metres: f64 = metres
                    .trim()
                    .parse()
                    .with_context(|| format!("--set {spec}: METRES is not a number"))?;
                if let Err(e) =
                    set_service_radius(&mut ws, kind.trim(), metres, source.as_deref(), None)
                {
                    return location_failure(e);
                }
            }
            let table = service_radii(&ws)?;
            println!("{}", serde_json::to_string_pretty(&table)?);
            Ok(ExitCode::SUCCESS)
        }
        _ => unreachable!("main dispatches only this family's commands here"),
    }
}

/// How distance is measured in `locate` and `coverage`, and where service areas go.
#[derive(clap::Args)]
pub struct DistanceArgs {
    /// straight (line in the metric CRS), network (metres along the roads layer), time (driving
    /// minutes at each road's speed) or walk (minutes on foot at 5 km/h)
    #[arg(long, default_value = "straight")]
    distance: String,
    /// With --distance time or walk: the reach in minutes (instead of --radius)
    #[arg(long)]
    minutes: Option<f64>,
    /// Write the service areas (circles, or isochrones along the roads) as GeoJSON
    #[arg(long, value_name = "GEOJSON")]
    areas: Option<PathBuf>,
}

/// The center ranking as CSV: one row per village, best first, with the four parts.
fn centers_csv(r: &liancun::location::CenterRanking) -> String {
    use liancun::report::csv_text;
    let mut out = String::from(
        "排名 rank,村代码 code,村名 name,总分 score,实力 strength,区位 centrality,设施 facilities,产业 industry,集体收入(万元) income,人口 population,人口加权平均距离(km) mean_distance_km,设施数 facilities_count,主导产业 industry_name\n",
    );
    for c in &r.candidates {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            c.rank,
            csv_text(&c.code),
            csv_text(&c.name),
            c.score,
            c.strength.score,
            c.centrality.score,
            c.facilities.score,
            c.industry.score,
            c.strength.collective_income,
            c.strength.population,
            c.centrality.mean_distance_km,
            c.facilities.count,
            csv_text(&c.industry.industry),
        ));
    }
    out
}

/// Candidate sites from a CSV of name,lon,lat (a header row is skipped).
fn read_given_sites(path: &Path) -> Result<Vec<(String, f64, f64)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (k, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() < 3 || line.trim().is_empty() {
            continue;
        }
        match (cells[1].parse::<f64>(), cells[2].parse::<f64>()) {
            (Ok(lon), Ok(lat)) => out.push((cells[0].to_string(), lon, lat)),
            _ if k == 0 => {} // header
            _ => anyhow::bail!(
                "{} 第 {} 行：经纬度不是数 / line {}: lon,lat are not numbers",
                path.display(),
                k + 1,
                k + 1
            ),
        }
    }
    Ok(out)
}

/// Moves `service_areas` out of an analysis answer into its own GeoJSON file, when asked for.
fn write_service_areas(
    path: Option<&Path>,
    areas: Option<serde_json::Value>,
) -> anyhow::Result<()> {
    if let Some(path) = path {
        let areas = areas
            .unwrap_or_else(|| serde_json::json!({"type": "FeatureCollection", "features": []}));
        std::fs::write(path, serde_json::to_string(&areas)?)
            .with_context(|| format!("writing {}", path.display()))?;
        note!(
            "服务范围：{}（{} 个要素）/ service areas: {} ({} features)",
            path.display(),
            areas["features"].as_array().map_or(0, |f| f.len()),
            path.display(),
            areas["features"].as_array().map_or(0, |f| f.len())
        );
    }
    Ok(())
}

/// Prints a location error; user mistakes and infeasible requests exit with 2.
fn location_failure(e: liancun::location::LocationError) -> Result<ExitCode> {
    use liancun::location::LocationError;
    match e {
        LocationError::Input { field, message } => {
            note!("错误 error ({field}): {message}");
            Ok(ExitCode::from(2))
        }
        LocationError::Locate(liancun::engine::location::LocateError::BadParams {
            field,
            message,
        }) => {
            note!("错误 error ({field}): {message}");
            Ok(ExitCode::from(2))
        }
        LocationError::Locate(liancun::engine::location::LocateError::Infeasible {
            constraint,
            detail,
            ..
        }) => {
            let field = liancun::location::request_field(constraint);
            note!("错误 error ({field}): {detail}");
            Ok(ExitCode::from(2))
        }
        other => Err(other.into()),
    }
}
