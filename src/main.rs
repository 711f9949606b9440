//! The `liancun` command line. Each subcommand is a thin shell over the library: parse
//! arguments, call one library function, print the result. Exit codes: 0 success, 1 failure,
//! 2 rejected input (an import whose validation found errors).

/// `eprintln!` in the language chosen by `--lang` or the locale (messages are written
/// "中文 / English"; see `liancun::lang`).
macro_rules! note {
    ($($arg:tt)*) => {
        eprintln!("{}", liancun::lang::line(&format!($($arg)*)))
    };
}

/// `println!` for a line a person reads (never for JSON, CSV or tables), in the chosen language.
macro_rules! tell {
    ($($arg:tt)*) => {
        println!("{}", liancun::lang::line(&format!($($arg)*)))
    };
}

mod plan_cli;

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
use liancun::report::{csv_field, csv_text};
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
    /// 输出语言 Language of messages: zh, en or both (default: from LIANCUN_LANG or the locale)
    #[arg(long, global = true, value_name = "LANG")]
    lang: Option<String>,
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
        /// Who may read: public (no token) or viewer (a viewer token or better); writes always
        /// need an editor token (liancun token create)
        #[arg(long, default_value = "public")]
        read: liancun::auth::ReadAccess,
        /// The longest search one analysis request may ask for (time_limit_s), seconds; a run
        /// is stopped when this plus its proofs' margin has passed
        #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
        analysis_seconds: f64,
        /// Analyses running at once, for token holders and again for anonymous callers
        /// (default: the number of cores)
        #[arg(long, value_name = "N")]
        analysis_slots: Option<usize>,
    },
    /// 村庄邻接关系 Contiguity graph of the villages (shared borders, islands, exclaves)
    Contiguity {
        #[arg(long, short)]
        workspace: PathBuf,
        /// Boundaries closer than this count as touching (gaps/overlaps of real data), metres
        #[arg(long, default_value_t = 1.0)]
        tolerance: f64,
        /// Connect islands to their nearest village within this many metres
        #[arg(long, value_name = "METRES")]
        bridge: Option<f64>,
        #[arg(long, value_enum, default_value_t = GraphFormat::Json)]
        format: GraphFormat,
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// 联村片区 Propose or evaluate joint-village zones
    Zones {
        #[command(subcommand)]
        action: ZonesAction,
    },
    /// 规划方案 Plans: create, show, edit (each edit a version), versions, diff, restore, export
    Plan {
        #[command(subcommand)]
        action: plan_cli::PlanAction,
    },
    /// 访问令牌 API tokens with roles viewer / editor / admin (stored hashed)
    Token {
        #[command(subcommand)]
        action: plan_cli::TokenAction,
    },
    /// 操作日志 The audit log of writes (plans, tokens, refused attempts), newest first
    Audit {
        #[arg(long, short)]
        workspace: PathBuf,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// 设施选址 Facility location: lscp | mclp | pmedian | pcenter (exact MILP with HiGHS, or heuristic with a proven gap)
    Locate {
        /// lscp (fewest sites covering everyone), mclp (most people covered by p sites),
        /// pmedian (least total population-weighted distance), pcenter (least maximum distance)
        model: String,
        #[arg(long, short)]
        workspace: PathBuf,
        /// Service radius in metres (lscp, mclp) [default: the --kind's radius from the table]
        #[arg(long)]
        radius: Option<f64>,
        /// Number of new facilities (mclp, pmedian, pcenter)
        #[arg(long)]
        p: Option<usize>,
        /// Where demand sits: residential (三调 0702 parcels, else the village point), centroid, representative
        #[arg(long, default_value = "residential")]
        demand: String,
        /// Candidate sites: representative (village interior points), centroid, construction (建设用地 parcels)
        #[arg(long, default_value = "representative")]
        candidates: String,
        /// Extra candidate sites: a CSV of name,lon,lat
        #[arg(long, value_name = "CSV")]
        given: Option<PathBuf>,
        /// Existing facilities of this kind stay open (and give the default radius)
        #[arg(long)]
        kind: Option<String>,
        /// Capacity of a new site in people (lscp, pmedian); existing sites use their `capacity`
        #[arg(long)]
        capacity: Option<f64>,
        /// auto (exact where it fits, else heuristic with a proven bound), exact, heuristic
        #[arg(long, default_value = "auto")]
        method: String,
        #[arg(long, default_value_t = 60.0)]
        time_limit: f64,
        #[command(flatten)]
        reach: DistanceArgs,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// 服务覆盖 Who lives within the service radius of a facility kind
    Coverage {
        #[arg(long, short)]
        workspace: PathBuf,
        /// Facility kind, e.g. 卫生室
        #[arg(long)]
        kind: String,
        /// Radius in metres for every facility [default: the facility's radius_m, else the table's]
        #[arg(long)]
        radius: Option<f64>,
        /// residential (三调 0702 parcels, else the village point), centroid, representative
        #[arg(long, default_value = "residential")]
        demand: String,
        #[command(flatten)]
        reach: DistanceArgs,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// 中心村评选 Rank the villages of a zone (or a set) as its key/center village
    Centers {
        #[arg(long, short)]
        workspace: PathBuf,
        /// Village codes, comma-separated
        #[arg(long, value_delimiter = ',')]
        villages: Vec<String>,
        /// Or: a zoning file (proposal JSON, {code: zone} or CSV) and a zone id in it
        #[arg(long, requires = "zone")]
        zoning: Option<PathBuf>,
        #[arg(long)]
        zone: Option<String>,
        /// Or: every village of a township (its 9-digit code or its name, e.g. 悦庄镇)
        #[arg(long)]
        town: Option<String>,
        /// strength=0.4,centrality=0.3,facilities=0.15,industry=0.15
        #[arg(long, value_name = "TERM=W,…")]
        weights: Option<String>,
        /// json: the full breakdown; csv: one row per village with the four parts
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// 服务半径表 List or edit the service radius per facility kind (with its source)
    Radii {
        #[arg(long, short)]
        workspace: PathBuf,
        /// Set a kind's radius: KIND=METRES
        #[arg(long, value_name = "KIND=METRES")]
        set: Option<String>,
        /// Where the number comes from (with --set)
        #[arg(long, requires = "set")]
        source: Option<String>,
        /// Back to the shipped table
        #[arg(long, conflicts_with = "set")]
        reset: bool,
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

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Json,
    Geojson,
}

/// Constraints and objective shared by `zones propose` and `zones evaluate`.
/// How distance is measured in `locate` and `coverage`, and where service areas go.
#[derive(clap::Args)]
struct DistanceArgs {
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

#[derive(clap::Args)]
struct ZoneArgs {
    #[arg(long, short)]
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
enum ZonesAction {
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

fn write_output(out: Option<&Path>, text: &str) -> Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            lock.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                lock.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.lang.as_deref().map(liancun::lang::Lang::parse) {
        Some(Some(lang)) => liancun::lang::set(lang),
        Some(None) => {
            eprintln!(
                "错误 error (lang): '{}': {}",
                cli.lang.as_deref().unwrap_or_default(),
                liancun::lang::Lang::NAMES
            );
            return ExitCode::from(2);
        }
        None => {}
    }
    if !matches!(cli.command, Command::Serve { .. }) {
        // Rust ignores SIGPIPE, so printing into a closed pipe (`liancun plan list | head`)
        // panicked; a command-line tool should end quietly as other Unix tools do. The server
        // keeps ignoring it: a client closing its socket must not stop the process.
        // SAFETY: called before any thread starts; SIG_DFL is a valid disposition.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
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
            note!("错误 error: {message}");
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
        Command::Plan { action } => plan_cli::run_plan(action),
        Command::Token { action } => plan_cli::run_token(action),
        Command::Audit { workspace, limit } => plan_cli::run_audit(workspace, limit),
        Command::Serve {
            workspace,
            bind,
            basemap,
            read,
            analysis_seconds,
            analysis_slots,
        } => {
            anyhow::ensure!(
                analysis_seconds.is_finite() && (1.0..=86_400.0).contains(&analysis_seconds),
                "--analysis-seconds {analysis_seconds}: 应在 1–86400 秒之间 / must be 1–86400 seconds"
            );
            anyhow::ensure!(
                analysis_slots != Some(0),
                "--analysis-slots 0: 至少 1 / at least 1"
            );
            let path = match workspace {
                Some(p) => p,
                None => {
                    let demo = PathBuf::from("data/demo.gpkg");
                    if !demo.exists() {
                        note!(
                            "演示工作区不存在，正在生成 {} … / generating the demo workspace {} …",
                            demo.display(),
                            demo.display()
                        );
                        run(Cli {
                            command: Command::Demo {
                                workspace: demo.clone(),
                                seed: 2026,
                                reference: PathBuf::from("data/reference"),
                            },
                            lang: None,
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
            state.read_access = read;
            let mut limits = liancun::api::jobs::JobLimits {
                max_seconds: analysis_seconds,
                ..Default::default()
            };
            if let Some(n) = analysis_slots {
                limits.slots = n;
            }
            state.jobs = liancun::api::jobs::Jobs::new(limits);
            let state = std::sync::Arc::new(state);
            // One line per request on standard error (RUST_LOG-style filtering is not needed:
            // the request log is the only thing logged at info level).
            let _ = tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_ansi(false)
                .try_init();
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
                note!(
                    "规划方案的编辑需要令牌 / editing plans needs a token: liancun token create -w {} --role editor",
                    path.display()
                );
                tokio::spawn(liancun::api::follow_workspace(state.clone()));
                let app = liancun::api::router(state.clone());
                liancun::api::server::serve(
                    listener,
                    app,
                    state,
                    liancun::api::server::shutdown_signal(),
                )
                .await?;
                Ok::<(), anyhow::Error>(())
            })?;
            // Cancelled analyses stop at their next check; a HiGHS solve at its time limit.
            // The process does not wait longer than this for them.
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            note!("已停止 / stopped");
            Ok(ExitCode::SUCCESS)
        }
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
                Err(liancun::zones::ZonesError::Input(m)) => {
                    note!("错误 error: {m}");
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
            if !(time_limit.is_finite() && time_limit > 0.0) {
                anyhow::bail!("--time-limit {time_limit}: a positive number of seconds");
            }
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
                method: parse_method(&method)?,
                time_limit: std::time::Duration::try_from_secs_f64(time_limit)
                    .map_err(|_| anyhow::anyhow!("--time-limit {time_limit}: too large"))?,
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
            let mut body = match locate(&data, &request) {
                Ok(b) => b,
                Err(e) => return location_failure(e),
            };
            write_service_areas(areas.as_deref(), &mut body)?;
            let farthest = format!("allocated_farthest_{}", distance.unit());
            let radius_key = if distance.is_time() {
                "minutes"
            } else {
                "radius_m"
            };
            let cell = |v: &serde_json::Value| match v {
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            match format {
                Format::Json => {
                    write_output(out.as_deref(), &serde_json::to_string_pretty(&body)?)?
                }
                Format::Csv => {
                    let mut text = format!(
                        "name,existing,village,lon,lat,allocated_population,{farthest},{radius_key},covered_population\n"
                    );
                    for f in body["facilities"].as_array().into_iter().flatten() {
                        text.push_str(&format!(
                            "{},{},{},{},{},{},{},{},{}\n",
                            csv_field(f["name"].as_str().unwrap_or("")),
                            f["existing"],
                            csv_field(f["village"].as_str().unwrap_or("")),
                            f["point"][0],
                            f["point"][1],
                            cell(&f["allocated_population"]),
                            cell(&f[&farthest]),
                            cell(&f[radius_key]),
                            cell(&f["covered_population"]),
                        ));
                    }
                    write_output(out.as_deref(), &text)?;
                }
            }
            let unit = body["objective_unit"].as_str().unwrap_or("");
            note!(
                "{}: 目标值 {} {unit}（界 {} {unit}），差距 {:.4}% ，方法 {} ，用时 {:.2} s / objective {} {unit} (bound {} {unit}), gap {:.4} %, {}",
                body["model"].as_str().unwrap_or(""),
                body["objective"],
                body["bound"],
                body["gap"].as_f64().unwrap_or(0.0) * 100.0,
                body["method"].as_str().unwrap_or(""),
                body["seconds"].as_f64().unwrap_or(0.0),
                body["objective"],
                body["bound"],
                body["gap"].as_f64().unwrap_or(0.0) * 100.0,
                body["method"].as_str().unwrap_or("")
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
            let mut body = match coverage(
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
                Ok(b) => b,
                Err(e) => return location_failure(e),
            };
            write_service_areas(areas.as_deref(), &mut body)?;
            let nearest = format!("nearest_{}", distance.unit());
            match format {
                Format::Json => {
                    write_output(out.as_deref(), &serde_json::to_string_pretty(&body)?)?
                }
                Format::Csv => {
                    let mut text = format!(
                        "\u{feff}code,name,population,covered_population,covered_share,covered,nearest_facility,{nearest}\n",
                    );
                    for v in body["villages"].as_array().into_iter().flatten() {
                        text.push_str(&format!(
                            "{},{},{},{},{},{},{},{}\n",
                            csv_field(v["code"].as_str().unwrap_or("")),
                            csv_field(v["name"].as_str().unwrap_or("")),
                            v["population"],
                            v["covered_population"],
                            v["covered_share"],
                            v["covered"],
                            csv_field(v["nearest_facility"].as_str().unwrap_or("")),
                            v[&nearest]
                        ));
                    }
                    write_output(out.as_deref(), &text)?;
                }
            }
            let t = &body["totals"];
            note!(
                "{}：覆盖人口 {:.1}% ，覆盖村 {}/{} / covered population {:.1} %, villages {}/{}",
                body["kind"].as_str().unwrap_or(""),
                t["covered_share"].as_f64().unwrap_or(0.0) * 100.0,
                t["villages_covered"],
                t["villages"],
                t["covered_share"].as_f64().unwrap_or(0.0) * 100.0,
                t["villages_covered"],
                t["villages"]
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
            let body = liancun::zones::evaluation_json(&data, &evaluation);
            let text = match format {
                Format::Json => serde_json::to_string_pretty(&body)?,
                Format::Csv => {
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
                    for z in body["zones"].as_array().into_iter().flatten() {
                        let violations: Vec<String> = z["violations"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|v| v["constraint"].as_str().unwrap_or("").to_string())
                            .collect();
                        w.write_record([
                            csv_text(z["id"].as_str().unwrap_or("")).into_owned(),
                            z["members"].as_array().map_or(0, Vec::len).to_string(),
                            csv_text(z["key_village"]["code"].as_str().unwrap_or("")).into_owned(),
                            z["connected"].to_string(),
                            violations.join(";"),
                            z["population"].to_string(),
                            z["income"]["total"].to_string(),
                            z["income"]["gini"].to_string(),
                            z["heterogeneity"].to_string(),
                            z["compactness_polsby_popper"].to_string(),
                            z["key_to_farthest_member_km"].to_string(),
                        ])?;
                    }
                    String::from_utf8(w.into_inner()?)?
                }
            };
            write_output(out.as_deref(), &text)?;
            let t = &body["totals"];
            note!(
                "{} 个片区：{} 个不连通，{} 处违反约束，异质性 {:.4} / {} zones, {} disconnected, {} violations",
                t["zones"],
                t["disconnected_zones"],
                t["violations"],
                evaluation.heterogeneity,
                t["zones"],
                t["disconnected_zones"],
                t["violations"]
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
    }
}

fn parse_method(s: &str) -> Result<liancun::engine::location::Method> {
    use liancun::engine::location::Method;
    match s {
        "auto" => Ok(Method::Auto),
        "exact" => Ok(Method::Exact),
        "heuristic" => Ok(Method::Heuristic),
        other => anyhow::bail!("--method {other}: auto, exact or heuristic"),
    }
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

/// Prints a location error; user mistakes and infeasible requests exit with 2.
/// Moves `service_areas` out of an analysis answer into its own GeoJSON file, when asked for.
fn write_service_areas(path: Option<&Path>, body: &mut serde_json::Value) -> anyhow::Result<()> {
    if let Some(path) = path {
        let areas = body
            .as_object_mut()
            .and_then(|o| o.remove("service_areas"))
            .unwrap_or_else(|| serde_json::json!({"type": "FeatureCollection", "features": []}));
        std::fs::write(path, serde_json::to_string(&areas)?)
            .with_context(|| format!("writing {}", path.display()))?;
        note!(
            "服务范围 / service areas: {} ({} features)",
            path.display(),
            areas["features"].as_array().map_or(0, |f| f.len())
        );
    }
    Ok(())
}

fn location_failure(e: liancun::location::LocationError) -> Result<ExitCode> {
    use liancun::location::LocationError;
    match e {
        LocationError::Input { field, message } => {
            note!("错误 error ({field}): {message}");
            Ok(ExitCode::from(2))
        }
        LocationError::Locate(liancun::engine::location::LocateError::BadParams(m)) => {
            note!("错误 error: {m}");
            Ok(ExitCode::from(2))
        }
        other => Err(other.into()),
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
