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

mod cli;

use std::io::Write;
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

use liancun::domain::LayerKind;
use liancun::ingest::Progress;
use liancun::ingest::import::DEFAULT_BOUNDARY_TOLERANCE_M;
use liancun::workspace::Workspace;

/// The help of every command's `--workspace` (alias `--database`).
const WORKSPACE_HELP: &str = "工作区 The workspace: a GeoPackage file, or a PostGIS database postgres://USER:PASSWORD@HOST/DB[?schema=NAME] (default schema liancun)";

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
        #[arg(long, short, visible_alias = "database", help = WORKSPACE_HELP)]
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
        #[arg(long, short, visible_alias = "database", help = WORKSPACE_HELP)]
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
        #[arg(long, short, visible_alias = "database", help = WORKSPACE_HELP)]
        workspace: PathBuf,
        #[arg(long, short)]
        layer: LayerKind,
        #[arg(long, short)]
        out: PathBuf,
    },
    /// 工作区信息 List the layers of a workspace
    Info {
        #[arg(long, short, visible_alias = "database", help = WORKSPACE_HELP)]
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
        /// 工作区 The workspace: a GeoPackage file (default data/demo.gpkg, generated first if
        /// missing) or a PostGIS database, postgres://USER:PASSWORD@HOST/DB[?schema=NAME]
        #[arg(long, short, visible_alias = "database")]
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
        #[arg(long, short, visible_alias = "database", help = WORKSPACE_HELP)]
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
        action: cli::zones::ZonesAction,
    },
    /// 规划方案 Plans: create, show, edit (each edit a version), versions, diff, restore, export
    Plan {
        #[command(subcommand)]
        action: cli::plan::PlanAction,
    },
    /// 访问令牌 API tokens with roles viewer / editor / admin (stored hashed)
    Token {
        #[command(subcommand)]
        action: cli::plan::TokenAction,
    },
    /// 工作区 Workspace operations: copy a whole workspace between a GeoPackage and PostGIS
    Workspace {
        #[command(subcommand)]
        action: cli::workspace::WorkspaceAction,
    },
    /// 操作日志 The audit log of writes (plans, tokens, refused attempts), newest first
    Audit {
        #[arg(long, short, visible_alias = "database", help = WORKSPACE_HELP)]
        workspace: PathBuf,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// 设施选址 Facility location: lscp | mclp | pmedian | pcenter (exact MILP with HiGHS, or heuristic with a proven gap)
    Locate {
        /// lscp (fewest sites covering everyone), mclp (most people covered by p sites),
        /// pmedian (least total population-weighted distance), pcenter (least maximum distance)
        model: String,
        #[arg(long, short, visible_alias = "database", help = WORKSPACE_HELP)]
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
        reach: cli::location::DistanceArgs,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// 服务覆盖 Who lives within the service radius of a facility kind
    Coverage {
        #[arg(long, short, visible_alias = "database", help = WORKSPACE_HELP)]
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
        reach: cli::location::DistanceArgs,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// 中心村评选 Rank the villages of a zone (or a set) as its key/center village
    Centers {
        #[arg(long, short, visible_alias = "database", help = WORKSPACE_HELP)]
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
        #[arg(long, short, visible_alias = "database", help = WORKSPACE_HELP)]
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
        #[arg(long, short, visible_alias = "database", help = WORKSPACE_HELP)]
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
            // A refused input, wherever it surfaced: exit 2 naming the request field, as the
            // HTTP API's problem documents do.
            if let Some((field, message)) = refused_input(&e) {
                note!("错误 error ({field}): {message}");
                return ExitCode::from(2);
            }
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

/// The request field and message of an error that is a refused input (not a failure).
fn refused_input(e: &anyhow::Error) -> Option<(String, String)> {
    use liancun::engine::location::LocateError;
    use liancun::location::LocationError;
    use liancun::plan::PlanError;
    use liancun::zones::ZonesError;
    if let Some(ZonesError::Input { field, message }) = e.downcast_ref::<ZonesError>() {
        return Some((field.clone(), message.clone()));
    }
    if let Some(PlanError::Zones(ZonesError::Input { field, message })) = e.downcast_ref() {
        return Some((format!("params.{field}"), message.clone()));
    }
    if let Some(PlanError::Input { field, reason }) = e.downcast_ref() {
        return Some((field.to_string(), reason.clone()));
    }
    match e.downcast_ref::<LocationError>() {
        Some(LocationError::Input { field, message })
        | Some(LocationError::Locate(LocateError::BadParams { field, message })) => {
            return Some((field.to_string(), message.clone()));
        }
        _ => {}
    }
    if let Some(f) = e.downcast_ref::<liancun::request::FieldError>() {
        return Some((f.field.to_string(), f.message.clone()));
    }
    None
}

fn run(cli: Cli) -> Result<ExitCode> {
    use Command as C;
    match cli.command {
        c @ (C::Import { .. }
        | C::Stats { .. }
        | C::Export { .. }
        | C::Info { .. }
        | C::DemoData { .. }
        | C::Demo { .. }
        | C::Query { .. }) => cli::workspace::run(c),
        c @ C::Serve { .. } => cli::serve::run(c),
        c @ (C::Contiguity { .. } | C::Zones { .. }) => cli::zones::run(c),
        c @ (C::Locate { .. } | C::Coverage { .. } | C::Centers { .. } | C::Radii { .. }) => {
            cli::location::run(c)
        }
        Command::Plan { action } => cli::plan::run_plan(action),
        Command::Token { action } => cli::plan::run_token(action),
        Command::Audit { workspace, limit } => cli::plan::run_audit(workspace, limit),
        Command::Workspace { action } => cli::workspace::run_action(action),
    }
}

fn open_existing(path: &Path) -> Result<Workspace> {
    let location = liancun::workspace::location_of(path)?;
    if !location.exists()? {
        bail!("工作区不存在 workspace {location} does not exist (create it with liancun import)");
    }
    Ok(Workspace::open_at(&location)?)
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
