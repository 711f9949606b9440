//! `contiguity` and `zones propose|evaluate`: where a village becomes a zone (the engine is
//! `liancun::engine::zoning`; requests and reports are `liancun::zones`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use clap::Subcommand;

use liancun::report::csv_text;

use crate::*;

pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Contiguity {
            workspace,
            tolerance,
            bridge,
            format,
            out,
        } => {
            let ws = open_existing(&workspace)?;
            let request = liancun::zones::ZoneRequest {
                tolerance_m: Some(tolerance),
                bridge_m: bridge,
                ..Default::default()
            };
            let data = liancun::zones::ZoningData::load(&ws, &request.load_options()?)?;
            let body = match format {
                GraphFormat::Json => liancun::zones::contiguity_json(&data),
                GraphFormat::Geojson => liancun::zones::contiguity_geojson(&data),
            };
            write_output(out.as_deref(), &serde_json::to_string_pretty(&body)?)?;
            let g = &data.graph;
            note!(
                "{} 个村，{} 条邻接边，{} 个连通区域，{} 个飞地 / {} villages, {} edges, {} components, {} exclaves",
                g.n,
                g.edges.len(),
                g.components.len(),
                g.exclaves.len(),
                g.n,
                g.edges.len(),
                g.components.len(),
                g.exclaves.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Zones {
            action:
                ZonesAction::Propose {
                    common,
                    zones,
                    locked,
                    lock_zone,
                    seed,
                    time_limit,
                    effort,
                    out,
                    geojson,
                },
        } => {
            let ws = open_existing(&common.workspace)?;
            let mut request = common.request()?;
            request.zones = zones;
            request.seed = Some(seed);
            request.time_limit_s = Some(time_limit);
            request.effort = effort;
            let data = liancun::zones::ZoningData::load(&ws, &request.load_options()?)?;
            if let Some(path) = &locked {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let (zone_of, _) = liancun::zones::parse_zoning(&data, &text)?;
                let mut by_zone: std::collections::BTreeMap<String, Vec<String>> =
                    Default::default();
                for (v, z) in zone_of.iter().enumerate() {
                    if let Some(z) = z {
                        by_zone
                            .entry(z.clone())
                            .or_default()
                            .push(data.villages[v].code.clone());
                    }
                }
                request.locked = by_zone.into_values().collect();
            }
            for z in &lock_zone {
                request.locked.push(
                    z.split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect(),
                );
            }
            let started = std::time::Instant::now();
            let proposal = match liancun::zones::propose_request(&data, &request) {
                Ok(Ok(p)) => p,
                Ok(Err(f)) => {
                    liancun::zones::print_failure(&f);
                    return Ok(ExitCode::from(2));
                }
                // A bad request (an unknown township, a bound out of range): exit 2, as every
                // other refused input.
                Err(liancun::zones::ZonesError::Input { field, message }) => {
                    note!("错误 error ({field}): {message}");
                    return Ok(ExitCode::from(2));
                }
                Err(e) => return Err(e.into()),
            };
            let seconds = started.elapsed().as_secs_f64();
            let mut body = liancun::zones::proposal_json(&data, &proposal);
            body["seconds"] = serde_json::json!(seconds);
            body["request"] = liancun::zones::request_echo(&request);
            write_output(out.as_deref(), &serde_json::to_string_pretty(&body)?)?;
            if let Some(path) = geojson {
                let fc = liancun::zones::proposal_geojson(&data, &proposal);
                std::fs::write(&path, serde_json::to_string(&fc)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            note!(
                "{} 个片区，目标值 {:.4}，用时 {seconds:.2} s{} / {} zones, objective {:.4}",
                proposal.zones.len(),
                proposal.terms.total,
                if proposal.stopped_by_time_limit {
                    "（达到时间上限）"
                } else {
                    ""
                },
                proposal.zones.len(),
                proposal.terms.total
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Zones {
            action:
                ZonesAction::Evaluate {
                    common,
                    zoning,
                    format,
                    out,
                },
        } => {
            let ws = open_existing(&common.workspace)?;
            let request = common.request()?;
            let data = liancun::zones::ZoningData::load(&ws, &request.load_options()?)?;
            let text = std::fs::read_to_string(&zoning)
                .with_context(|| format!("reading {}", zoning.display()))?;
            let evaluation = liancun::zones::evaluate_request(&data, &request, &text)?;
            let report = liancun::zones::evaluation_report(&data, &evaluation);
            let text = match format {
                Format::Json => serde_json::to_string_pretty(&serde_json::to_value(&report)?)?,
                Format::Csv => {
                    // Numbers as JSON writes them (1234.0), the same in both formats.
                    let num = liancun::report::json_number;
                    let mut w = csv::Writer::from_writer(Vec::new());
                    w.write_record([
                        "zone",
                        "members",
                        "key_village",
                        "connected",
                        "violations",
                        "population",
                        "income_total",
                        "income_gini",
                        "heterogeneity",
                        "compactness",
                        "key_to_farthest_km",
                    ])?;
                    for z in &report.zones {
                        let violations: Vec<&str> =
                            z.violations.iter().map(|v| v.constraint).collect();
                        w.write_record([
                            csv_text(&z.id).into_owned(),
                            z.members.len().to_string(),
                            csv_text(&z.key_village.code).into_owned(),
                            z.connected.to_string(),
                            violations.join(";"),
                            num(z.population),
                            num(z.income.total),
                            num(z.income.gini),
                            num(z.heterogeneity),
                            num(z.compactness_polsby_popper),
                            num(z.key_to_farthest_member_km),
                        ])?;
                    }
                    String::from_utf8(w.into_inner()?)?
                }
            };
            write_output(out.as_deref(), &text)?;
            let t = &report.totals;
            note!(
                "{} 个片区：{} 个不连通，{} 处违反约束，异质性 {:.4} / {} zones, {} disconnected, {} violations",
                t.zones,
                t.disconnected_zones,
                t.violations,
                t.heterogeneity,
                t.zones,
                t.disconnected_zones,
                t.violations
            );
            Ok(ExitCode::SUCCESS)
        }
        _ => unreachable!("main dispatches only this family's commands here"),
    }
}

/// Constraints and objective shared by `zones propose` and `zones evaluate`.
#[derive(clap::Args)]
pub struct ZoneArgs {
    #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
    workspace: PathBuf,
    /// Fewest villages per zone [default: 2]
    #[arg(long)]
    min_members: Option<usize>,
    /// Most villages per zone [default: 10]
    #[arg(long)]
    max_members: Option<usize>,
    /// Least population per zone
    #[arg(long)]
    pop_floor: Option<f64>,
    /// Most population per zone
    #[arg(long)]
    pop_ceiling: Option<f64>,
    /// Zones stay inside a township
    #[arg(long)]
    within_town: bool,
    /// Zone only these townships (name or code; repeatable or comma-separated)
    #[arg(long = "town", value_delimiter = ',', value_name = "TOWN")]
    towns: Vec<String>,
    /// Do not require a strong village in every zone
    #[arg(long)]
    no_strong: bool,
    /// Strong = the top share by collective income (default: the strong flag, else 0.2)
    #[arg(long, value_name = "SHARE")]
    strong_share: Option<f64>,
    /// Take the strong share within each township (so a poor township still has strong villages)
    #[arg(long)]
    strong_in_town: bool,
    /// Exactly these villages are strong (codes)
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    strong_codes: Vec<String>,
    /// These villages are strong as well (codes; e.g. a suggested relaxation)
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    strong_extra: Vec<String>,
    /// Villages that may lead a 村村互助型 zone without a strong village (codes)
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    mutual_aid: Vec<String>,
    /// Numeric village columns for within-zone heterogeneity, e.g. population,collective_income
    #[arg(long, value_delimiter = ',')]
    attributes: Vec<String>,
    /// Objective weights, e.g. industry=1,compactness=1,balance=1,heterogeneity=1
    #[arg(long, value_delimiter = ',', value_name = "TERM=W")]
    weights: Vec<String>,
    /// Reward zones of different industries (资源互补) instead of similar ones (产业相近)
    #[arg(long)]
    complementary: bool,
    /// Count point touches as adjacency
    #[arg(long)]
    queen: bool,
    /// Contiguity tolerance in metres [default: 1]
    #[arg(long)]
    tolerance: Option<f64>,
    /// Connect islands to their nearest village within this many metres
    #[arg(long, value_name = "METRES")]
    bridge: Option<f64>,
}

#[derive(Subcommand)]
pub enum ZonesAction {
    /// 片区方案 Propose zones (connected, bounded, a strong village in each)
    Propose {
        #[command(flatten)]
        common: ZoneArgs,
        /// Number of zones, exactly (default: found — as many as the strong villages and the
        /// population floor allow)
        #[arg(long)]
        zones: Option<usize>,
        /// A zoning file whose zones are kept as they are
        #[arg(long)]
        locked: Option<PathBuf>,
        /// A zone kept as it is, by its village codes (repeatable)
        #[arg(long, value_name = "CODE,CODE…")]
        lock_zone: Vec<String>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Stop the search after this many seconds
        #[arg(long, default_value_t = 60.0)]
        time_limit: f64,
        /// Annealing moves per village
        #[arg(long)]
        effort: Option<usize>,
        /// Where to write the proposal (JSON); standard output when absent
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Also write the dissolved zones as GeoJSON
        #[arg(long)]
        geojson: Option<PathBuf>,
    },
    /// 片区评价 Evaluate a zoning (JSON proposal, {code: zone} or CSV code,zone)
    Evaluate {
        #[command(flatten)]
        common: ZoneArgs,
        #[arg(long)]
        zoning: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

impl ZoneArgs {
    fn request(&self) -> Result<liancun::zones::ZoneRequest> {
        let mut weights = liancun::zones::WeightsRequest::default();
        for w in &self.weights {
            let (k, v) = w
                .split_once('=')
                .with_context(|| format!("--weights {w}: expected TERM=WEIGHT"))?;
            let v: f64 = v
                .trim()
                .parse()
                .with_context(|| format!("--weights {w}: not a number"))?;
            match k.trim() {
                "heterogeneity" => weights.heterogeneity = Some(v),
                "industry" => weights.industry = Some(v),
                "compactness" => weights.compactness = Some(v),
                "balance" => weights.balance = Some(v),
                other => bail!(
                    "--weights: unknown term '{other}' (heterogeneity, industry, compactness, balance)"
                ),
            }
        }
        Ok(liancun::zones::ZoneRequest {
            min_members: self.min_members,
            max_members: self.max_members,
            pop_floor: self.pop_floor,
            pop_ceiling: self.pop_ceiling,
            within_town: self.within_town,
            towns: self.towns.clone(),
            require_strong: self.no_strong.then_some(false),
            strong_share: self.strong_share,
            strong_in_town: self.strong_in_town,
            strong_codes: self.strong_codes.clone(),
            strong_extra: self.strong_extra.clone(),
            mutual_aid: self.mutual_aid.clone(),
            attributes: self.attributes.clone(),
            weights: Some(weights),
            industry_mode: self.complementary.then(|| "complementary".to_string()),
            queen: self.queen,
            tolerance_m: self.tolerance,
            bridge_m: self.bridge,
            ..Default::default()
        })
    }
}
