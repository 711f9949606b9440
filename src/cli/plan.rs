//! `liancun plan …`, `liancun token …` and `liancun audit`: plans, API tokens and the audit log
//! from the command line (the same [`liancun::plan`] functions the HTTP API calls).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use serde_json::Value as Json;

use liancun::domain::Role;
use liancun::plan::{self, Actor, Edit, PlanError, Source};
use liancun::store::StoreError;
use liancun::store::plans::{AuditEntry, PlanStore};
use liancun::workspace::Workspace;
use liancun::zones::{ZoneRequest, ZoningData};

#[derive(Subcommand, Debug)]
pub enum PlanAction {
    /// 新建方案 Create a plan from a fresh proposal, a zoning file, or empty
    Create {
        #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
        workspace: PathBuf,
        /// 方案名称 e.g. "2026 联村片区方案（征求意见稿）"
        #[arg(long)]
        name: String,
        /// proposal | empty | a zoning file (proposal JSON, {code: zone} or CSV code,zone)
        #[arg(long, default_value = "proposal")]
        from: String,
        /// Zoning bounds as JSON, e.g. '{"max_members": 8, "pop_floor": 3000}'
        #[arg(long)]
        params: Option<String>,
        #[command(flatten)]
        who: Who,
    },
    /// 方案列表 List the plans
    List {
        #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
        workspace: PathBuf,
    },
    /// 查看方案 Show a plan (zones, members, warnings)
    Show {
        #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
        workspace: PathBuf,
        #[arg(long)]
        plan: i64,
        /// An older version (default: the newest)
        #[arg(long)]
        version: Option<i64>,
        #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
    },
    /// 修改方案 Edit a plan: every option given becomes part of one new version
    Edit {
        #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
        workspace: PathBuf,
        #[arg(long)]
        plan: i64,
        /// The version you edited from; refused if someone saved a newer one (default: the newest)
        #[arg(long)]
        base: Option<i64>,
        /// Move a village to a zone: CODE=Z002 (CODE= leaves it unassigned)
        #[arg(long = "move", value_name = "CODE=ZONE")]
        moves: Vec<String>,
        /// Move an enterprise/community/school: NAME=ZONE
        #[arg(long = "move-member", value_name = "NAME=ZONE")]
        member_moves: Vec<String>,
        /// Set a zone's key village: ZONE=CODE
        #[arg(long = "key", value_name = "ZONE=CODE")]
        keys: Vec<String>,
        /// Rename a zone: ZONE=名称
        #[arg(long = "rename", value_name = "ZONE=NAME")]
        renames: Vec<String>,
        /// Set a zone's type: ZONE=强村带动型|村村互助型|村企联建型|城乡融合型
        #[arg(long = "type", value_name = "ZONE=TYPE")]
        types: Vec<String>,
        /// Set a zone's notes: ZONE=TEXT
        #[arg(long = "notes", value_name = "ZONE=TEXT")]
        notes: Vec<String>,
        /// Set a zone's shared facilities (replaces its list):
        /// ZONE=KIND@CODE[:NAME][,KIND@CODE…], e.g. Z002=冷库@370323001003:东片冷库; ZONE= clears it
        #[arg(long = "facilities", value_name = "ZONE=KIND@CODE,…")]
        facilities: Vec<String>,
        /// Add an empty zone with this name
        #[arg(long = "add-zone", value_name = "NAME")]
        add_zones: Vec<String>,
        /// Remove an empty zone
        #[arg(long = "remove-zone", value_name = "ZONE")]
        remove_zones: Vec<String>,
        /// Edits as JSON (the HTTP API's {"edits": […]} or a bare list), applied after the options
        #[arg(long, value_name = "FILE")]
        edits: Option<PathBuf>,
        #[command(flatten)]
        who: Who,
    },
    /// 版本列表 The versions of a plan, newest first
    Versions {
        #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
        workspace: PathBuf,
        #[arg(long)]
        plan: i64,
    },
    /// 版本对比 What changed between two versions (default: the newest and the one before)
    Diff {
        #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
        workspace: PathBuf,
        #[arg(long)]
        plan: i64,
        #[arg(long)]
        from: Option<i64>,
        #[arg(long)]
        to: Option<i64>,
    },
    /// 恢复版本 Make an older version the newest again (history is kept)
    Restore {
        #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
        workspace: PathBuf,
        #[arg(long)]
        plan: i64,
        #[arg(long)]
        version: i64,
        #[arg(long)]
        base: Option<i64>,
        #[command(flatten)]
        who: Who,
    },
    /// 一片一规划图 The sheet of a zone (or, without --zone, the county overview) as PDF, SVG or PNG
    Sheet {
        #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
        workspace: PathBuf,
        #[arg(long)]
        plan: i64,
        #[arg(long)]
        version: Option<i64>,
        /// The zone (e.g. Z003); without it, the county overview of all zones
        #[arg(long)]
        zone: Option<String>,
        /// pdf | svg | png (default: from the file name, else pdf)
        #[arg(long)]
        format: Option<String>,
        /// a3 | a4 (landscape), a3-portrait | a1-portrait
        #[arg(long, default_value = "a3")]
        paper: String,
        /// 编制单位 printed in the title block (blank to fill in by hand)
        #[arg(long, default_value = "")]
        organization: String,
        #[arg(long, short)]
        out: PathBuf,
    },
    /// 导出 Export zones (dissolved), members or statistics
    Export {
        #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
        workspace: PathBuf,
        #[arg(long)]
        plan: i64,
        #[arg(long)]
        version: Option<i64>,
        /// geojson | gpkg | shp | csv (members) | stats
        #[arg(long)]
        format: String,
        /// Output file (.shp writes .shp/.shx/.dbf/.prj/.cpg beside it; .zip zips them)
        #[arg(long, short)]
        out: PathBuf,
        /// Coordinates: 4490 (lon/lat), metric (the workspace's Gauss–Krüger zone) or EPSG:N
        #[arg(long, default_value = "4490")]
        crs: String,
        /// Shapefile text: utf-8 or gbk
        #[arg(long, default_value = "utf-8")]
        encoding: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct Who {
    /// Recorded as the author (default: $USER)
    #[arg(long)]
    author: Option<String>,
    /// A note kept with the version
    #[arg(long, short, default_value = "")]
    message: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ShowFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum TokenAction {
    /// 新建令牌 Create an API token; the token is the last word printed (shown once)
    Create {
        #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
        workspace: PathBuf,
        /// viewer | editor | admin
        #[arg(long)]
        role: Role,
        /// Who holds it (recorded as the author of their edits)
        #[arg(long, default_value = "")]
        name: String,
    },
    /// 令牌列表 List tokens (names, roles, dates; never the tokens)
    List {
        #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
        workspace: PathBuf,
    },
    /// 吊销令牌 Revoke a token by id
    Revoke {
        #[arg(long, short, visible_alias = "database", help = crate::WORKSPACE_HELP)]
        workspace: PathBuf,
        #[arg(long)]
        id: i64,
    },
}

fn zoning_data(ws: &Workspace) -> Result<ZoningData> {
    let options = ZoneRequest::default().load_options()?;
    Ok(ZoningData::load(ws, &options)?)
}

/// Input errors exit 2 naming the field; a stale base exits 3; the rest are errors (exit 1).
fn failure(e: PlanError) -> Result<ExitCode> {
    match e {
        PlanError::Edit(e) => {
            note!("错误 error (edits[{}].{}): {}", e.index, e.field, e.reason);
            Ok(ExitCode::from(2))
        }
        PlanError::Input { field, reason } => {
            note!("错误 error ({field}): {reason}");
            Ok(ExitCode::from(2))
        }
        PlanError::Zones(liancun::zones::ZonesError::Input { field, message }) => {
            note!("错误 error (params.{field}): {message}");
            Ok(ExitCode::from(2))
        }
        PlanError::Infeasible(f) => {
            liancun::zones::print_failure(&f);
            Ok(ExitCode::from(2))
        }
        e @ (PlanError::NoVersion { .. } | PlanError::Store(StoreError::NoPlan(_))) => {
            note!("错误 error (plan): {e}");
            Ok(ExitCode::from(2))
        }
        PlanError::Store(e @ StoreError::Conflict { .. }) => {
            note!("错误 error (base): {e}");
            Ok(ExitCode::from(3))
        }
        other => Err(other.into()),
    }
}

/// Writes beside `out`, then renames: a failed write never leaves half a file under `out`.
fn write_whole(out: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let partial = out.with_extension("partial");
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, out).with_context(|| format!("writing {}", out.display()))?;
    note!(
        "已写出 {}（{} 字节）/ wrote {} ({} bytes)",
        out.display(),
        bytes.len(),
        out.display(),
        bytes.len()
    );
    Ok(())
}

fn pair<'a>(flag: &str, text: &'a str) -> Result<(&'a str, &'a str)> {
    text.split_once('=')
        .map(|(a, b)| (a.trim(), b.trim()))
        .with_context(|| format!("--{flag} '{text}': expected A=B"))
}

fn zone_target(z: &str) -> Option<String> {
    (!z.is_empty()).then(|| z.to_string())
}

fn print_plan(data: &ZoningData, plan: &plan::PlanReport) {
    // Numbers as JSON writes them (12261.0), as the JSON format shows them.
    let num = |x: f64| Json::from(x).to_string();
    println!(
        "方案 {} 「{}」 第 {} 版（{} {}）",
        plan.id, plan.name, plan.version, plan.updated_by, plan.updated_at
    );
    println!("片区\t名称\t类型\t中心村\t村数\t人口\t面积(km²)\t连通");
    for z in &plan.zones {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            z.id,
            z.name,
            z.zone_type,
            z.key_village.as_ref().map_or("—", |k| k.name.as_str()),
            z.members.len(),
            num(z.population),
            num(z.area_km2),
            if z.connected { "是" } else { "否" },
        );
    }
    println!(
        "共 {} 个片区，{} 个村已划入，{} 个未划入（共 {} 个村）",
        plan.totals.zones,
        plan.totals.assigned,
        plan.unassigned.len(),
        data.villages.len()
    );
    print_warnings(&plan.warnings);
}

fn print_warnings(warnings: &[plan::PlanWarning]) {
    if warnings.is_empty() {
        tell!("无警告 / no warnings");
    }
    for w in warnings {
        println!(
            "{} [{}] {}: {}",
            liancun::lang::say("警告", "warning"),
            w.zone.as_deref().unwrap_or("—"),
            w.constraint,
            liancun::lang::pick(&w.detail)
        );
    }
}

fn show(
    store: &dyn PlanStore,
    data: &ZoningData,
    id: i64,
    version: Option<i64>,
) -> Result<std::result::Result<plan::PlanReport, PlanError>> {
    let loaded = match plan::load(store, id, version) {
        Ok(l) => l,
        Err(e) => return Ok(Err(e)),
    };
    let (record, v, content) = loaded;
    let checked = match plan::check(data, &content) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(plan::plan_report(data, &record, v, &content, &checked)))
}

pub fn run_plan(action: PlanAction) -> Result<ExitCode> {
    match action {
        PlanAction::Create {
            workspace,
            name,
            from,
            params,
            who,
        } => {
            let mut ws = crate::open_existing(&workspace)?;
            let data = zoning_data(&ws)?;
            let params: serde_json::Map<String, Json> = match params {
                None => serde_json::Map::new(),
                Some(text) => match serde_json::from_str(&text) {
                    Ok(Json::Object(m)) => m,
                    _ => {
                        note!(
                            "错误 error (params): --params 应为 JSON 对象 / must be a JSON object"
                        );
                        return Ok(ExitCode::from(2));
                    }
                },
            };
            let source = match from.as_str() {
                "proposal" => Source::Proposal,
                "empty" => Source::Empty,
                file => Source::Zoning(
                    std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?,
                ),
            };
            let name = match liancun::request::plan_name(&name) {
                Ok(n) => n,
                Err(e) => {
                    note!("错误 error ({}): {}", e.field, e.message);
                    return Ok(ExitCode::from(2));
                }
            };
            let content = match plan::initial_content(&data, &name, &source, params) {
                Ok(c) => c,
                Err(e) => return failure(e),
            };
            let actor = Actor::cli(who.author.as_deref());
            let record = match plan::create(ws.store_mut(), &content, &actor, &who.message) {
                Ok(r) => r,
                Err(e) => return failure(e),
            };
            let checked = plan::check(&data, &content)?;
            let report = plan::plan_report(&data, &record, record.head, &content, &checked);
            print_plan(&data, &report);
            tell!("已新建方案 {} / created plan {}", record.id, record.id);
            Ok(ExitCode::SUCCESS)
        }
        PlanAction::List { workspace } => {
            let ws = crate::open_existing(&workspace)?;
            println!("编号\t名称\t版本\t修改人\t修改时间");
            for p in ws.store().plans()? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    p.id, p.name, p.head, p.updated_by, p.updated_at
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PlanAction::Show {
            workspace,
            plan: id,
            version,
            format,
        } => {
            let ws = crate::open_existing(&workspace)?;
            let data = zoning_data(&ws)?;
            let body = match show(ws.store(), &data, id, version)? {
                Ok(b) => b,
                Err(e) => return failure(e),
            };
            match format {
                ShowFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::to_value(&body)?)?
                ),
                ShowFormat::Text => print_plan(&data, &body),
            }
            Ok(ExitCode::SUCCESS)
        }
        PlanAction::Edit {
            workspace,
            plan: id,
            base,
            moves,
            member_moves,
            keys,
            renames,
            types,
            notes,
            facilities,
            add_zones,
            remove_zones,
            edits,
            who,
        } => {
            let mut list = Vec::new();
            for m in &moves {
                let (code, zone) = pair("move", m)?;
                list.push(Edit::Move {
                    village: code.into(),
                    to: zone_target(zone),
                });
            }
            for m in &member_moves {
                let (name, zone) = pair("move-member", m)?;
                list.push(Edit::MoveMember {
                    member: name.into(),
                    to: zone_target(zone),
                });
            }
            for name in &add_zones {
                list.push(Edit::AddZone {
                    id: None,
                    name: name.clone(),
                    kind: None,
                });
            }
            for k in &keys {
                let (zone, code) = pair("key", k)?;
                list.push(Edit::SetKey {
                    zone: zone.into(),
                    village: code.into(),
                });
            }
            for r in &renames {
                let (zone, name) = pair("rename", r)?;
                list.push(Edit::Rename {
                    zone: zone.into(),
                    name: name.into(),
                });
            }
            for t in &types {
                let (zone, kind) = pair("type", t)?;
                list.push(Edit::SetType {
                    zone: zone.into(),
                    kind: kind.into(),
                });
            }
            for n in &notes {
                let (zone, text) = pair("notes", n)?;
                list.push(Edit::SetNotes {
                    zone: zone.into(),
                    notes: text.into(),
                });
            }
            for f in &facilities {
                let (zone, entries) = pair("facilities", f)?;
                let mut items = Vec::new();
                for item in entries.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                    let Some((kind, at)) = item.split_once('@') else {
                        note!(
                            "错误 error (facilities): '{item}': 应为 种类@村代码[:名称] / expected KIND@CODE[:NAME]"
                        );
                        return Ok(ExitCode::from(2));
                    };
                    let (code, name) = at.split_once(':').unwrap_or((at, ""));
                    items.push(liancun::plan::model::PlanFacility {
                        kind: kind.trim().into(),
                        name: name.trim().into(),
                        village: code.trim().into(),
                        status: "planned".into(),
                    });
                }
                list.push(Edit::SetFacilities {
                    zone: zone.into(),
                    facilities: items,
                });
            }
            for z in &remove_zones {
                list.push(Edit::RemoveZone { zone: z.clone() });
            }
            if let Some(file) = edits {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?;
                let json: Json = serde_json::from_str(&text)
                    .with_context(|| format!("{}: not JSON", file.display()))?;
                let array = json.get("edits").cloned().unwrap_or(json);
                match serde_json::from_value::<Vec<Edit>>(array) {
                    Ok(more) => list.extend(more),
                    Err(e) => {
                        note!("错误 error (edits): {}: {e}", file.display());
                        return Ok(ExitCode::from(2));
                    }
                }
            }
            let mut ws = crate::open_existing(&workspace)?;
            let data = zoning_data(&ws)?;
            let base = match base {
                Some(b) => b,
                None => match ws.store().plan(id)? {
                    Some(p) => p.head,
                    None => return failure(StoreError::NoPlan(id).into()),
                },
            };
            let actor = Actor::cli(who.author.as_deref());
            let (record, content, diff) =
                match plan::edit(ws.store_mut(), &data, id, base, &list, &actor, &who.message) {
                    Ok(r) => r,
                    Err(e) => return failure(e),
                };
            let checked = plan::check(&data, &content)?;
            tell!(
                "方案 {id} 第 {} 版：{} / plan {id} version {}",
                record.head,
                diff.summary_named(&plan::village_names(&data)),
                record.head
            );
            print_warnings(&checked.warnings);
            Ok(ExitCode::SUCCESS)
        }
        PlanAction::Versions {
            workspace,
            plan: id,
        } => {
            let ws = crate::open_existing(&workspace)?;
            if ws.store().plan(id)?.is_none() {
                return failure(StoreError::NoPlan(id).into());
            }
            println!("版本\t作者\t时间\t变化\t说明");
            for v in ws.store().versions(id)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    v.version, v.author, v.at, v.summary, v.message
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PlanAction::Diff {
            workspace,
            plan: id,
            from,
            to,
        } => {
            let ws = crate::open_existing(&workspace)?;
            let data = zoning_data(&ws)?;
            let (_, to_v, to_c) = match plan::load(ws.store(), id, to) {
                Ok(l) => l,
                Err(e) => return failure(e),
            };
            let (_, from_v, from_c) =
                match plan::load(ws.store(), id, Some(from.unwrap_or((to_v - 1).max(1)))) {
                    Ok(l) => l,
                    Err(e) => return failure(e),
                };
            let diff = plan::diff_json(&data, (from_v, &from_c), (to_v, &to_c));
            println!("{}", serde_json::to_string_pretty(&diff)?);
            Ok(ExitCode::SUCCESS)
        }
        PlanAction::Restore {
            workspace,
            plan: id,
            version,
            base,
            who,
        } => {
            let mut ws = crate::open_existing(&workspace)?;
            let base = match base {
                Some(b) => b,
                None => match ws.store().plan(id)? {
                    Some(p) => p.head,
                    None => return failure(StoreError::NoPlan(id).into()),
                },
            };
            let data = zoning_data(&ws)?;
            let actor = Actor::cli(who.author.as_deref());
            match plan::restore(ws.store_mut(), &data, id, base, version, &actor) {
                Ok((record, _, diff)) => {
                    tell!(
                        "方案 {id} 第 {} 版 = 第 {version} 版：{} / plan {id} version {} restores version {version}",
                        record.head,
                        diff.summary_named(&plan::village_names(&data)),
                        record.head
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => failure(e),
            }
        }
        PlanAction::Sheet {
            workspace,
            plan: id,
            version,
            zone,
            format,
            paper,
            organization,
            out,
        } => {
            use liancun::plan::sheet::{SheetFormat, SheetOptions, render, sheet_input};
            use liancun::render::sheet::Paper;
            let format = format
                .or_else(|| out.extension().and_then(|e| e.to_str()).map(str::to_string))
                .unwrap_or_else(|| "pdf".into());
            let Some(kind) = SheetFormat::parse(&format) else {
                note!("错误 error (format): '{format}': pdf, svg or png");
                return Ok(ExitCode::from(2));
            };
            let Some(paper) = Paper::parse(&paper) else {
                note!("错误 error (paper): '{paper}': {}", Paper::NAMES);
                return Ok(ExitCode::from(2));
            };
            let ws = crate::open_existing(&workspace)?;
            let data = zoning_data(&ws)?;
            let (record, v, content) = match plan::load(ws.store(), id, version) {
                Ok(l) => l,
                Err(e) => return failure(e),
            };
            let stats = ws.village_stats()?;
            let input = match sheet_input(
                &ws,
                &data,
                &stats,
                (&record, v, &content),
                zone.as_deref(),
                &SheetOptions {
                    paper,
                    organization,
                },
            ) {
                Ok(i) => i,
                Err(e) => return failure(e),
            };
            write_whole(&out, &render(&input, kind)?)?;
            Ok(ExitCode::SUCCESS)
        }
        PlanAction::Export {
            workspace,
            plan: id,
            version,
            format,
            out,
            crs,
            encoding,
        } => {
            use liancun::plan::export::{
                ExportCrs, ExportFormat, ExportOptions, ShapefileEncoding, export_bytes,
                write_shapefile,
            };
            let Some(kind) = ExportFormat::parse(&format) else {
                note!("错误 error (format): '{format}': {}", ExportFormat::NAMES);
                return Ok(ExitCode::from(2));
            };
            let Some(crs) = ExportCrs::parse(&crs) else {
                note!("错误 error (crs): '{crs}': {}", ExportCrs::NAMES);
                return Ok(ExitCode::from(2));
            };
            let Some(encoding) = ShapefileEncoding::parse(&encoding) else {
                note!("错误 error (encoding): '{encoding}': utf-8 or gbk");
                return Ok(ExitCode::from(2));
            };
            let options = ExportOptions { crs, encoding };
            let ws = crate::open_existing(&workspace)?;
            let data = zoning_data(&ws)?;
            let (_, v, content) = match plan::load(ws.store(), id, version) {
                Ok(l) => l,
                Err(e) => return failure(e),
            };
            let is_zip = out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
            if kind == ExportFormat::Shapefile && !is_zip {
                let files =
                    match write_shapefile(&data, &content, v, &out.with_extension("shp"), &options)
                    {
                        Ok(f) => f,
                        Err(e) => return failure(e),
                    };
                for f in files {
                    note!("已写出 {} / wrote {}", f.display(), f.display());
                }
                return Ok(ExitCode::SUCCESS);
            }
            let stats = if kind == ExportFormat::Statistics {
                Some(ws.village_stats()?)
            } else {
                None
            };
            let bytes = match export_bytes(&data, stats.as_ref(), &content, v, kind, &options) {
                Ok(b) => b,
                Err(e) => return failure(e),
            };
            write_whole(&out, &bytes)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn run_token(action: TokenAction) -> Result<ExitCode> {
    let cli = Actor::cli(None);
    let audit = |action: &str, detail: String| AuditEntry {
        actor: cli.name.clone(),
        role: cli.role.clone(),
        action: action.into(),
        target: String::new(),
        outcome: "ok".into(),
        detail,
    };
    match action {
        TokenAction::Create {
            workspace,
            role,
            name,
        } => {
            let mut ws = crate::open_existing(&workspace)?;
            let token = liancun::auth::new_token().map_err(|e| anyhow::anyhow!("{e}"))?;
            let name = if name.trim().is_empty() {
                format!("{role}-token")
            } else {
                name.trim().to_string()
            };
            let record = ws.store_mut().create_token(
                &name,
                role,
                &liancun::auth::token_hash(&token),
                &audit("token.create", format!("{name} ({role})")),
            )?;
            note!(
                "令牌 {} 「{}」角色 {}（只显示这一次，请妥善保存）/ token {} for '{}', role {} (shown once):",
                record.id,
                record.name,
                role,
                record.id,
                record.name,
                role
            );
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        TokenAction::List { workspace } => {
            let ws = crate::open_existing(&workspace)?;
            println!("编号\t名称\t角色\t创建时间\t吊销时间");
            for t in ws.store().tokens()? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    t.role,
                    t.created_at,
                    t.revoked_at.as_deref().unwrap_or("—")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenAction::Revoke { workspace, id } => {
            let mut ws = crate::open_existing(&workspace)?;
            if ws
                .store_mut()
                .revoke_token(id, &audit("token.revoke", format!("tokens/{id}")))?
            {
                tell!("已吊销令牌 {id} / revoked token {id}");
                Ok(ExitCode::SUCCESS)
            } else {
                note!("错误 error (id): 没有有效的令牌 {id} / no live token {id}");
                Ok(ExitCode::from(2))
            }
        }
    }
}

/// `liancun audit`: the newest entries of the audit log.
pub fn run_audit(workspace: PathBuf, limit: usize) -> Result<ExitCode> {
    let ws = crate::open_existing(&workspace)?;
    println!("时间\t操作人\t角色\t操作\t对象\t结果\t详情");
    for a in ws.store().audit_log(limit)? {
        let e = a.entry;
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            a.at, e.actor, e.role, e.action, e.target, e.outcome, e.detail
        );
    }
    Ok(ExitCode::SUCCESS)
}
