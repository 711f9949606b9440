//! `serve`: the HTTP API, tiles and the web map over a workspace.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::*;

pub fn run(command: Command) -> Result<ExitCode> {
    match command {
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
                        super::workspace::run(Command::Demo {
                            workspace: demo.clone(),
                            seed: 2026,
                            reference: PathBuf::from("data/reference"),
                        })?;
                    }
                    demo
                }
            };
            let ws = open_existing(&path)?;
            let name = match ws.location() {
                liancun::store::StoreLocation::GeoPackage(p) => p
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("workspace")
                    .to_string(),
                liancun::store::StoreLocation::Postgres(db) => db.schema().to_string(),
            };
            let title = format!("liancun 联村 — {name}");
            let shown = ws.location().to_string();
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
                    "规划方案的编辑需要令牌：liancun token create -w {} --role editor / editing plans needs a token: liancun token create -w {} --role editor",
                    shown, shown
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
        _ => unreachable!("main dispatches only this family's commands here"),
    }
}
