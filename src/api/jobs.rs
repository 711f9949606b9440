//! Bounded analysis jobs: how long one may run, how many run at once, and stopping the ones
//! nobody waits for any more.
//!
//! Every analysis (`/analysis/*`, a proposal inside `POST /plans`) runs through [`Jobs::run`]:
//! - it waits for a slot in one of two pools: callers with a token and anonymous callers each
//!   have their own, so anonymous load cannot take an editor's slot. A full pool answers 503
//!   with `Retry-After` after [`JobLimits::queue_wait`];
//! - the work runs on a blocking thread under a [`CancelFlag`]: the flag is raised when the
//!   request future is dropped (the client went away, the server is shutting down) or when the
//!   hard wall time ([`JobLimits::max_seconds`] plus a grace for proofs and reports) has passed;
//!   the engine then stops at its next deadline check and the slot is freed when the thread is
//!   really done, never before;
//! - [`JobLimits::check_time_limit`] refuses a requested `time_limit_s` above the server's
//!   limit (422 naming the field), so a request cannot ask for an hour on a public server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::sync::Semaphore;

use super::error::ApiError;
use crate::engine::cancel::{self, CancelFlag};

/// The server's analysis budget (`liancun serve --analysis-seconds --analysis-slots`).
#[derive(Debug, Clone)]
pub struct JobLimits {
    /// The longest `time_limit_s` a request may ask for, and the default when it asks none
    /// longer (seconds).
    pub max_seconds: f64,
    /// Analyses running at once for callers with a token, and again for anonymous callers.
    pub slots: usize,
    /// How long a request waits for a slot before it is told to come back (503).
    pub queue_wait: Duration,
    /// The largest dense assignment MILP (demand × site pairs) one request may build: about
    /// 2 KB each in HiGHS, so the default 400,000 keeps one exact p-median under ~1 GB.
    pub max_milp_pairs: usize,
}

impl Default for JobLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        JobLimits {
            // The CLI's default search time; a bureau that wants longer runs says so at start.
            max_seconds: 60.0,
            slots: cores.max(1),
            queue_wait: Duration::from_secs(10),
            max_milp_pairs: 400_000,
        }
    }
}

impl JobLimits {
    /// Checks a requested time limit against the server's (field `time_limit_s`, 422 when
    /// above) and gives the one to use: the request's, else the server's when that is shorter
    /// than the analysis's own default.
    pub fn check_time_limit(
        &self,
        requested: Option<f64>,
        analysis_default: f64,
    ) -> Result<f64, ApiError> {
        crate::request::time_limit(requested, analysis_default, Some(self.max_seconds))
            .map(|d| d.as_secs_f64())
            .map_err(ApiError::from)
    }

    /// The wall time after which a job is cancelled: its search time plus what proofs and
    /// verified relaxations may take on top (their budget is at most 20 s) and a margin.
    fn hard_limit(&self) -> Duration {
        Duration::from_secs_f64(self.max_seconds + self.max_seconds.min(20.0) + 10.0)
    }
}

/// The two pools and their counters.
pub struct Jobs {
    /// The budget every job runs under.
    pub limits: JobLimits,
    with_token: Arc<Semaphore>,
    anonymous: Arc<Semaphore>,
    /// Jobs started, refused for want of a slot, and cancelled (client gone or hard limit).
    pub started: AtomicU64,
    /// Requests answered 503 because no slot freed in time.
    pub busy: AtomicU64,
    /// Jobs stopped before they finished.
    pub cancelled: AtomicU64,
    /// The flags of the jobs running now, by job number (to cancel them all at shutdown).
    running: std::sync::Mutex<std::collections::HashMap<u64, CancelFlag>>,
    /// Jobs running now (for /metrics).
    pub running_now: AtomicU64,
}

/// Takes a job off the running list however its request ends.
struct Forget<'a> {
    jobs: &'a Jobs,
    number: u64,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.jobs
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.number);
        self.jobs.running_now.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Raises the flag when the request future is dropped before the job ended.
struct CancelOnDrop<'a> {
    flag: CancelFlag,
    armed: bool,
    cancelled: &'a AtomicU64,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.flag.cancel();
            self.cancelled.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Jobs {
    /// Two empty pools of `limits.slots` each.
    pub fn new(limits: JobLimits) -> Jobs {
        Jobs {
            with_token: Arc::new(Semaphore::new(limits.slots.max(1))),
            anonymous: Arc::new(Semaphore::new(limits.slots.max(1))),
            limits,
            started: AtomicU64::new(0),
            busy: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            running: Default::default(),
            running_now: AtomicU64::new(0),
        }
    }

    /// Asks every running job to stop (server shutdown).
    pub fn cancel_all(&self) {
        for flag in self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            flag.cancel();
        }
    }

    /// Runs `work` as a bounded job (module documentation).
    pub async fn run<T: Send + 'static>(
        &self,
        has_token: bool,
        work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let pool = if has_token {
            &self.with_token
        } else {
            &self.anonymous
        };
        let permit = match tokio::time::timeout(
            self.limits.queue_wait,
            pool.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(p)) => p,
            _ => {
                self.busy.fetch_add(1, Ordering::Relaxed);
                let mut e = ApiError::status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "服务繁忙 Busy",
                    format!(
                        "分析任务已满（每类调用者同时 {} 个），请稍后再试 / all {} analysis slots are busy; retry later",
                        self.limits.slots, self.limits.slots
                    ),
                );
                e.retry_after = Some(5);
                return Err(e);
            }
        };
        let number = self.started.fetch_add(1, Ordering::Relaxed);
        let flag = CancelFlag::new();
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(number, flag.clone());
        self.running_now.fetch_add(1, Ordering::Relaxed);
        let _forget = Forget { jobs: self, number };
        let mut guard = CancelOnDrop {
            flag: flag.clone(),
            armed: true,
            cancelled: &self.cancelled,
        };
        let job_flag = flag.clone();
        let handle = tokio::task::spawn_blocking(move || {
            let out = cancel::scope(Some(job_flag), work);
            // The slot is given back only when the thread is done, never while it still runs.
            drop(permit);
            out
        });
        tokio::pin!(handle);
        let out = match tokio::time::timeout(self.limits.hard_limit(), &mut handle).await {
            Ok(joined) => joined,
            Err(_) => {
                flag.cancel();
                self.cancelled.fetch_add(1, Ordering::Relaxed);
                handle.await
            }
        };
        guard.armed = false;
        if flag.is_cancelled() && out.as_ref().is_ok_and(|r| r.is_err()) {
            // Stopped by the hard limit: say so rather than pass on a half-made failure.
            return Err(ApiError::status(
                StatusCode::SERVICE_UNAVAILABLE,
                "分析超时 Analysis stopped",
                format!(
                    "分析超过本服务的时限 {} 秒后停止 / the analysis was stopped after this server's limit of {} s",
                    self.limits.max_seconds, self.limits.max_seconds
                ),
            ));
        }
        out.map_err(ApiError::internal)?
    }
}
