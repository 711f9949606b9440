//! `import`, `info`, `stats`, `export`, `query`, `demo` and `demo-data`: the workspace and its layers.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use liancun::demo::{DemoParams, generate};
use liancun::domain::LayerKind;
use liancun::engine::crs::{EPSG_CGCS2000, Reprojector, parse_crs};
use liancun::engine::stats::VillageStatsReport;
use liancun::ingest::import::{ImportOptions, Severity, import};
use liancun::ingest::{Progress, ReadOptions};
use liancun::report::csv_text;
use liancun::store::StoreLocation;
use liancun::workspace::Workspace;

use crate::*;

pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Import {
            workspace,
            layer,
            file,
            crs,
            encoding,
            mappings,
            repair,
            source_layer,
            tolerance,
        } => {
            let mut options = ImportOptions::new(layer);
            options.crs = crs.as_deref().map(parse_crs).transpose()?;
            options.read = ReadOptions {
                encoding,
                source_layer,
            };
            options.repair = repair;
            options.boundary_tolerance_m = tolerance;
            for rule in mappings {
                let (src, dst) = rule.split_once('=').with_context(|| {
                    format!("--map '{rule}': expected SRC=DST, e.g. --map 村庄编号=code")
                })?;
                options.mappings.push((src.to_string(), dst.to_string()));
            }
            let mut ws = Workspace::open(&workspace)?;
            let progress = Progress::default();
            let bar = spawn_progress_bar(&progress, &format!("导入 {layer}"));
            let result = import(ws.store_mut(), &file, &options, progress);
            bar.finish();
            let report = result?;
            print!("{}", report.render());
            Ok(if report.committed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Stats {
            workspace,
            format,
            village,
            out,
        } => {
            let ws = open_existing(&workspace)?;
            let mut report = ws.village_stats()?;
            let metric = ws.metric_epsg()?;
            let error = report.parcel_reconciliation_error();
            if let Some(code) = &village {
                report.villages.retain(|v| &v.code == code);
                if report.villages.is_empty() {
                    bail!("no village with code {code} in {}", ws.location());
                }
            }
            let mut sink: Box<dyn Write> = match &out {
                Some(path) => {
                    let mut f = BufWriter::new(
                        std::fs::File::create(path)
                            .with_context(|| format!("creating {}", path.display()))?,
                    );
                    if matches!(format, Format::Csv) {
                        f.write_all(b"\xEF\xBB\xBF")?;
                    }
                    Box::new(f)
                }
                None => Box::new(BufWriter::new(std::io::stdout().lock())),
            };
            match format {
                Format::Csv => write_stats_csv(&report, &mut sink)?,
                Format::Json => {
                    serde_json::to_writer_pretty(
                        &mut sink,
                        &liancun::report::stats_json(&report, metric, error),
                    )?;
                    writeln!(sink)?;
                }
            }
            sink.flush()?;
            let t = &report.totals;
            note!(
                "统计 stats: {} villages; parcels {:.0} m² of which unassigned {:.0} m² (reconciliation error {:.2e}); greenhouses {} ({} outside villages); facilities {} ({} outside villages); metric CRS EPSG:{metric}",
                report.villages.len(),
                t.parcel_area_m2,
                t.unassigned_parcel_area_m2,
                error,
                t.greenhouse_count,
                t.unassigned_greenhouses,
                t.facility_count,
                t.unassigned_facilities
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            workspace,
            layer,
            out,
        } => {
            let ws = open_existing(&workspace)?;
            let mut file = BufWriter::new(
                std::fs::File::create(&out)
                    .with_context(|| format!("creating {}", out.display()))?,
            );
            let n = ws.export_geojson(layer, &mut file)?;
            file.flush()?;
            note!(
                "已导出 {layer} 的 {n} 个要素到 {} / exported {n} features of {layer} to {}",
                out.display(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Info { workspace } => {
            let ws = open_existing(&workspace)?;
            println!(
                "工作区 workspace {} (metric CRS EPSG:{})",
                ws.location(),
                ws.metric_epsg().unwrap_or(0)
            );
            for l in ws.store().layers()? {
                let fields: Vec<&str> = l.columns.iter().map(|c| c.name.as_str()).collect();
                println!(
                    "  {:<12} {:>9} features  v{}  bbox {:?}\n               fields: {}\n               source: {} at {}",
                    l.kind.name(),
                    l.feature_count,
                    l.data_version,
                    l.bbox.unwrap_or_default(),
                    fields.join(", "),
                    l.source,
                    l.imported_at
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::DemoData {
            seed,
            out,
            parcels,
            reference,
        } => {
            let params = DemoParams {
                seed,
                reference_dir: reference,
                target_parcels: parcels,
                ..Default::default()
            };
            let summary = generate(&params, &out)?;
            println!(
                "演示数据 demo county (seed {seed}) in {}: {} villages in {} towns, {} parcels, {} greenhouses, {} facilities, {} members, {} roads",
                out.display(),
                summary.villages,
                summary.towns,
                summary.parcels,
                summary.greenhouses,
                summary.facilities,
                summary.members,
                summary.roads
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            workspace,
            seed,
            reference,
        } => {
            let location = liancun::workspace::location_of(&workspace)?;
            // The demo's GeoJSON files go beside a GeoPackage; for a database, to a temporary
            // directory.
            let dir = match &location {
                StoreLocation::GeoPackage(path) => path.with_extension(""),
                StoreLocation::Postgres(db) => {
                    std::env::temp_dir().join(format!("liancun-demo-{}", db.schema()))
                }
            };
            let params = DemoParams {
                seed,
                reference_dir: reference,
                ..Default::default()
            };
            let summary = generate(&params, &dir)
                .with_context(|| format!("generating the demo county into {}", dir.display()))?;
            println!(
                "演示数据 generated the demo county (seed {seed}) into {}",
                dir.display()
            );
            let mut ws = Workspace::open_at(&location)?;
            for layer in LayerKind::ALL {
                let file = dir.join(format!("{}.geojson", layer.name()));
                let report = import(
                    ws.store_mut(),
                    &file,
                    &ImportOptions::new(layer),
                    Progress::default(),
                )?;
                println!(
                    "  {:<12} {:>7} features  {} error(s) {} warning(s)",
                    layer.name(),
                    report.features_written,
                    report.count(Severity::Error),
                    report.count(Severity::Warning)
                );
                if !report.committed {
                    print!("{}", report.render());
                    bail!("the demo layer {layer} was rejected");
                }
            }
            let stats = ws.village_stats()?;
            let t = &stats.totals;
            let cultivated: f64 = stats.villages.iter().map(|v| v.cultivated_m2).sum();
            println!(
                "工作区 workspace {}: {} villages, {:.1} km², population {}; parcels {:.1} km² ({:.1} % cultivated), {} greenhouses, {} facilities; metric CRS EPSG:{}",
                location,
                summary.villages,
                t.village_area_m2 / 1e6,
                t.population,
                t.parcel_area_m2 / 1e6,
                100.0 * cultivated / t.parcel_area_m2.max(1.0),
                t.greenhouse_count,
                t.facility_count,
                ws.metric_epsg()?
            );
            println!(
                "next: liancun info -w {0}; liancun stats -w {0} --format json; or open it in QGIS",
                location
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Query {
            workspace,
            layer,
            at,
            k,
            within,
        } => {
            let ws = open_existing(&workspace)?;
            let (lon, lat) = at
                .split_once(',')
                .and_then(|(a, b)| {
                    Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?))
                })
                .with_context(|| format!("--at '{at}': expected LON,LAT such as 118.17,36.18"))?;
            let engine = ws.load_engine()?;
            let loaded = engine
                .layers
                .get(&layer)
                .with_context(|| format!("layer '{layer}' is not in the workspace"))?;
            let mut point = geo::Geometry::Point(geo::Point::new(lon, lat));
            Reprojector::new(
                &liancun::engine::crs::Crs::Epsg(EPSG_CGCS2000),
                &liancun::engine::crs::Crs::Epsg(engine.metric_epsg),
            )?
            .transform_geometry(&mut point)?;
            let geo::Geometry::Point(p) = point else {
                unreachable!("a point stays a point")
            };
            let hits = match within {
                Some(d) if d.is_finite() && d >= 0.0 => loaded.index.within_distance(p, d),
                Some(d) => bail!("--within {d}: expected a distance in metres ≥ 0"),
                None => loaded.index.nearest(p, k),
            };
            let inside = loaded.index.containing(p);
            let label_cols: Vec<usize> = ["code", "name", "kind", "dlbm"]
                .iter()
                .filter_map(|c| loaded.info.column_index(c))
                .collect();
            for (slot, d) in hits {
                let label: Vec<String> = label_cols
                    .iter()
                    .filter_map(|&c| loaded.values[slot][c].as_text())
                    .collect();
                let mark = if inside.contains(&slot) {
                    " (contains the point)"
                } else {
                    ""
                };
                println!(
                    "fid {:>8}  {:>10.1} m  {}{mark}",
                    loaded.index.fid(slot),
                    d,
                    label.join(" ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => unreachable!("main dispatches only this family's commands here"),
    }
}

fn write_stats_csv(report: &VillageStatsReport, out: &mut dyn Write) -> Result<()> {
    let mut codes: Vec<&String> = report
        .villages
        .iter()
        .flat_map(|v| v.land_use_m2.keys())
        .collect();
    codes.sort();
    codes.dedup();
    let mut kinds: Vec<&String> = report
        .villages
        .iter()
        .flat_map(|v| v.facilities.keys())
        .collect();
    kinds.sort();
    kinds.dedup();
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = [
        "code",
        "name",
        "town",
        "population",
        "area_m2",
        "parcel_area_m2",
        "cultivated_m2",
        "construction_m2",
        "greenhouse_count",
        "greenhouse_area_m2",
        "population_density_per_km2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(codes.iter().map(|c| format!("land_use_{c}_m2")));
    header.extend(
        kinds
            .iter()
            .map(|k| csv_text(&format!("facilities_{k}")).into_owned()),
    );
    w.write_record(&header)?;
    for v in &report.villages {
        let mut row = vec![
            csv_text(&v.code).into_owned(),
            csv_text(&v.name).into_owned(),
            csv_text(&v.town).into_owned(),
            v.population.map(|p| p.to_string()).unwrap_or_default(),
            format!("{:.2}", v.area_m2),
            format!("{:.2}", v.parcel_area_m2),
            format!("{:.2}", v.cultivated_m2),
            format!("{:.2}", v.construction_m2),
            v.greenhouse_count.to_string(),
            format!("{:.2}", v.greenhouse_area_m2),
            v.population_density_per_km2
                .map(|d| format!("{d:.1}"))
                .unwrap_or_default(),
        ];
        row.extend(
            codes
                .iter()
                .map(|c| format!("{:.2}", v.land_use_m2.get(*c).copied().unwrap_or(0.0))),
        );
        row.extend(
            kinds
                .iter()
                .map(|k| v.facilities.get(*k).copied().unwrap_or(0).to_string()),
        );
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

/// `liancun workspace …`.
#[derive(clap::Subcommand)]
pub enum WorkspaceAction {
    /// 复制工作区 Copy every layer, setting, plan (all versions), token and audit entry into an
    /// empty workspace: GeoPackage → PostGIS, PostGIS → GeoPackage, or to another file or schema
    Copy {
        /// 源工作区 The workspace to copy: a GeoPackage file or postgres://…[?schema=NAME]
        #[arg(long)]
        from: std::path::PathBuf,
        /// 目标工作区 An empty (or new) workspace: a GeoPackage file or postgres://…[?schema=NAME]
        #[arg(long)]
        to: std::path::PathBuf,
    },
}

/// Runs a `workspace` action.
pub fn run_action(action: WorkspaceAction) -> Result<ExitCode> {
    match action {
        WorkspaceAction::Copy { from, to } => {
            let source = open_existing(&from)?;
            let target_at = liancun::workspace::location_of(&to)?;
            anyhow::ensure!(
                &target_at != source.location(),
                "--to 与 --from 相同 / --to is the workspace being copied ({target_at})"
            );
            let mut target = Workspace::open_at(&target_at)?;
            let report = liancun::store::copy::copy_workspace(source.store(), target.store_mut())
                .with_context(|| format!("copying {} → {target_at}", source.location()))?;
            println!("已复制 copied {} → {target_at}", source.location());
            for (kind, n) in &report.layers {
                println!("  {:<12} {n:>9} features", kind.name());
            }
            println!(
                "  settings {}, plans {} ({} versions), tokens {}, audit entries {}",
                report.settings, report.plans, report.versions, report.tokens, report.audit
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
