//! The connection loop: HTTP/1.1 on hyper with the timeouts a server left running needs, and a
//! graceful shutdown.
//!
//! - A client has [`HEADER_TIMEOUT`] to send a request's headers; the same clock runs while a
//!   kept-alive connection waits for its next request, so idle and slow-header connections
//!   are closed (the body has its own limit in [`super::guard`]).
//! - On Ctrl-C or SIGTERM the listener closes, running analyses are cancelled, and requests in
//!   flight get [`DRAIN_TIMEOUT`] to finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use super::AppState;

/// The time a client has to send a request's headers (and an idle connection to send its
/// next request).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The time requests in flight get to finish after a shutdown signal.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` resolves, then drains (module documentation).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a moment, keep serving.
                        tracing::warn!("accept: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(app.clone());
                let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    eprintln!(
        "正在停止：取消分析，等待进行中的请求 / stopping: cancelling analyses, draining requests"
    );
    state.jobs.cancel_all();
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            eprintln!("请求未在 {} 秒内结束，强制停止 / requests still running after {} s: stopping anyway", DRAIN_TIMEOUT.as_secs(), DRAIN_TIMEOUT.as_secs());
        }
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
