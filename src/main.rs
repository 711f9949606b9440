//! The `liancun` command line. Each subcommand is a thin shell over the library: parse
//! arguments, call one library function, print the result. Exit codes: 0 success, 1 failure,
//! 2 rejected input (an import whose validation found errors).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// mimalloc: the import moves features between a reader and a writer thread, and glibc malloc
/// serialises those cross-thread frees on an arena lock (measured: 15 % of import time in futex).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{Parser, Subcommand, ValueEnum};

use liancun::demo::{DemoParams, generate};
use liancun::domain::LayerKind;
use liancun::engine::crs::{EPSG_CGCS2000, Reprojector, parse_crs};
use liancun::engine::stats::VillageStatsReport;
use liancun::ingest::import::{DEFAULT_BOUNDARY_TOLERANCE_M, ImportOptions, Severity, import};
use liancun::ingest::{Progress, ReadOptions};
use liancun::store::FeatureStore;
use liancun::workspace::Workspace;

#[derive(Parser)]
#[command(
    name = "liancun",
    version,
    about = "联村片区规划 joint-village zone planning: import, workspace, statistics"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 导入图层 Import a GeoJSON, Shapefile, CSV or GeoPackage file as a workspace layer (replaces it atomically)
    Import {
        #[arg(long, short)]
        workspace: PathBuf,
        /// villages | parcels | greenhouses | facilities | roads | members
        #[arg(long, short)]
        layer: LayerKind,
        /// The file to import (.geojson/.json, .shp, .csv, .gpkg)
        file: PathBuf,
        /// CRS of the file when it declares none or declares it wrongly, e.g. EPSG:4527
        #[arg(long)]
        crs: Option<String>,
        /// Text encoding of Shapefile/CSV attributes, e.g. gbk (default: .cpg, else detected)
        #[arg(long)]
        encoding: Option<String>,
        /// Map a source field to a canonical or new field: --map 村庄编号=code (repeatable)
        #[arg(long = "map", value_name = "SRC=DST")]
        mappings: Vec<String>,
        /// Fix what can be fixed (unclosed rings, self-intersections, swapped lat/lon) and report it
        #[arg(long)]
        repair: bool,
        /// Table to read when a GeoPackage holds several
        #[arg(long)]
        source_layer: Option<String>,
        /// Gaps/overlaps between villages narrower than this on average (m) are ignored
        #[arg(long, default_value_t = DEFAULT_BOUNDARY_TOLERANCE_M)]
        tolerance: f64,
    },
    /// 村级统计 Per-village statistics: land use, cultivated/construction land, greenhouses, facilities
    Stats {
        #[arg(long, short)]
        workspace: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Only this village (12-digit code)
        #[arg(long)]
        village: Option<String>,
        /// Write to a file instead of standard output (CSV files get a BOM for Excel)
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// 导出图层 Export a layer as GeoJSON (lon/lat)
    Export {
        #[arg(long, short)]
        workspace: PathBuf,
        #[arg(long, short)]
        layer: LayerKind,
        #[arg(long, short)]
        out: PathBuf,
    },
    /// 工作区信息 List the layers of a workspace
    Info {
        #[arg(long, short)]
        workspace: PathBuf,
    },
    /// 演示数据 Generate the demo county (GeoJSON layers) without importing it
    DemoData {
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        #[arg(long, short)]
        out: PathBuf,
        /// About this many parcels (1000000 for the benchmark county)
        #[arg(long, default_value_t = 20_000)]
        parcels: usize,
        /// Directory of the real reference data (county outline, village list)
        #[arg(long, default_value = "data/reference")]
        reference: PathBuf,
    },
    /// 演示工作区 Generate the demo county and import every layer into a workspace (default data/demo.gpkg)
    Demo {
        #[arg(long, short, default_value = "data/demo.gpkg")]
        workspace: PathBuf,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        #[arg(long, default_value = "data/reference")]
        reference: PathBuf,
    },
    /// 服务 Serve the workspace over HTTP (OGC API – Features); without --workspace, the demo county
    Serve {
        /// Defaults to data/demo.gpkg, generated first if missing
        #[arg(long, short)]
        workspace: Option<PathBuf>,
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Raster basemap for the web map, an XYZ URL template such as
        /// https://tile.example.org/{z}/{x}/{y}.png (none by default: the map works offline)
        #[arg(long, value_name = "URL")]
        basemap: Option<String>,
    },
    /// 空间查询 Query a layer with the in-memory spatial engine around a lon/lat point
    Query {
        #[arg(long, short)]
        workspace: PathBuf,
        #[arg(long, short)]
        layer: LayerKind,
        /// lon,lat (CGCS2000)
        #[arg(long, value_name = "LON,LAT", allow_hyphen_values = true)]
        at: String,
        /// The k nearest features
        #[arg(long, default_value_t = 5)]
        k: usize,
        /// Instead of k nearest: every feature within this many metres
        #[arg(long)]
        within: Option<f64>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Our error types already include their cause in the message; print each link of
            // the chain only when it adds something.
            let mut message = String::new();
            for cause in e.chain() {
                let text = cause.to_string();
                if !message.contains(&text) {
                    if !message.is_empty() {
                        message.push_str(": ");
                    }
                    message.push_str(&text);
                }
            }
            eprintln!("错误 error: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
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
                    bail!("no village with code {code} in {}", workspace.display());
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
            eprintln!(
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
            eprintln!("导出 exported {n} features of {layer} to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Info { workspace } => {
            let ws = open_existing(&workspace)?;
            println!(
                "工作区 workspace {} (metric CRS EPSG:{})",
                workspace.display(),
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
            let dir = workspace.with_extension("");
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
            let mut ws = Workspace::open(&workspace)?;
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
                workspace.display(),
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
                workspace.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            workspace,
            bind,
            basemap,
        } => {
            let path = match workspace {
                Some(p) => p,
                None => {
                    let demo = PathBuf::from("data/demo.gpkg");
                    if !demo.exists() {
                        eprintln!(
                            "演示工作区不存在，正在生成 generating the demo workspace {} …",
                            demo.display()
                        );
                        run(Cli {
                            command: Command::Demo {
                                workspace: demo.clone(),
                                seed: 2026,
                                reference: PathBuf::from("data/reference"),
                            },
                        })?;
                    }
                    demo
                }
            };
            let ws = open_existing(&path)?;
            let title = format!(
                "liancun 联村 — {}",
                path.file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("workspace")
            );
            let mut state = liancun::api::AppState::load(&ws, &title)?;
            state.basemap = basemap;
            let state = std::sync::Arc::new(state);
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&bind)
                    .await
                    .with_context(|| format!("binding {bind}"))?;
                let addr = listener.local_addr()?;
                // The first line of output is the address (tests start the server on port 0 and read it).
                println!("listening on http://{addr}/");
                use std::io::Write as _;
                std::io::stdout().flush()?;
                axum::serve(listener, liancun::api::router(state))
                    .with_graceful_shutdown(async {
                        let _ = tokio::signal::ctrl_c().await;
                    })
                    .await?;
                Ok::<(), anyhow::Error>(())
            })?;
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
    }
}

fn open_existing(path: &Path) -> Result<Workspace> {
    if !path.exists() {
        bail!(
            "工作区不存在 workspace {} does not exist (create it with liancun import)",
            path.display()
        );
    }
    Ok(Workspace::open(path)?)
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
    header.extend(kinds.iter().map(|k| format!("facilities_{k}")));
    w.write_record(&header)?;
    for v in &report.villages {
        let mut row = vec![
            v.code.clone(),
            v.name.clone(),
            v.town.clone(),
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

/// A progress bar on standard error fed by a [`Progress`]; hidden when stderr is not a terminal.
fn spawn_progress_bar(progress: &Progress, message: &str) -> ProgressHandle {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {percent:>3}% {elapsed_precise} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    let (done, total) = (progress.done.clone(), progress.total.clone());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_flag = stop.clone();
    let thread_bar = bar.clone();
    let handle = std::thread::spawn(move || {
        while !stop_flag.load(Ordering::Relaxed) {
            thread_bar.set_length(total.load(Ordering::Relaxed).max(1));
            thread_bar.set_position(done.load(Ordering::Relaxed));
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    ProgressHandle {
        bar,
        stop,
        handle: Some(handle),
    }
}

struct ProgressHandle {
    bar: indicatif::ProgressBar,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ProgressHandle {
    fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.bar.finish_and_clear();
    }
}
