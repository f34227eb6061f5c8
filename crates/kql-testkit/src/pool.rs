//! Runs independent jobs on worker threads, a few at a time, with a deadline each.
//!
//! Each job runs on a thread of its own (with a large stack), so a job that panics becomes
//! [`JobError::Panic`] and a job that never returns becomes [`JobError::Timeout`] once its
//! deadline passes: the run goes on without it (the stuck thread is left behind and ends with
//! the process). Nothing a job does can abort the run.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Why a job has no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// The job did not finish before its deadline.
    Timeout,
    /// The job panicked; the panic message.
    Panic(String),
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::Timeout => f.write_str("timeout"),
            JobError::Panic(m) => write!(f, "panic: {m}"),
        }
    }
}

/// Stack size of a job thread: parsing and binding recurse.
const JOB_STACK: usize = 64 * 1024 * 1024;

/// The number of jobs to run at once: the machine's parallelism, or `$PEREGRINE_JOBS`.
pub fn default_parallelism() -> usize {
    if let Some(n) = std::env::var("PEREGRINE_JOBS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return n;
    }
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// A panic payload as text.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// Runs `f` on every item, at most `parallelism` at once, each with `deadline` to finish.
/// Results come back in item order. `progress(done, total)` is called after each job.
pub fn run<T, R, F>(
    items: Vec<T>,
    parallelism: usize,
    deadline: Duration,
    f: F,
    progress: &mut dyn FnMut(usize, usize),
) -> Vec<Result<R, JobError>>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> R + Send + Sync + 'static,
{
    let total = items.len();
    let f = Arc::new(f);
    let parallelism = parallelism.max(1);
    let mut pending: Vec<Option<T>> = items.into_iter().map(Some).collect();
    let mut results: Vec<Option<Result<R, JobError>>> = (0..total).map(|_| None).collect();
    let (tx, rx) = mpsc::channel::<(usize, Result<R, JobError>)>();
    let mut in_flight: HashMap<usize, Instant> = HashMap::new();
    let mut next = 0;
    let mut done = 0;

    while done < total {
        while in_flight.len() < parallelism && next < total {
            let i = next;
            next += 1;
            let Some(item) = pending[i].take() else {
                continue;
            };
            let f = Arc::clone(&f);
            let tx = tx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("kql-job-{i}"))
                .stack_size(JOB_STACK)
                .spawn(move || {
                    let r = catch_unwind(AssertUnwindSafe(|| f(item)))
                        .map_err(|p| JobError::Panic(panic_message(p.as_ref())));
                    // The receiver is gone only when the run has given up on this job.
                    let _ = tx.send((i, r));
                });
            match spawned {
                Ok(_) => {
                    in_flight.insert(i, Instant::now() + deadline);
                }
                Err(e) => {
                    results[i] = Some(Err(JobError::Panic(format!(
                        "could not start a thread: {e}"
                    ))));
                    done += 1;
                    progress(done, total);
                }
            }
        }
        if in_flight.is_empty() {
            continue;
        }
        let now = Instant::now();
        let earliest = in_flight.values().min().copied().unwrap_or(now);
        let wait = earliest.saturating_duration_since(now);
        match rx.recv_timeout(wait) {
            Ok((i, r)) => {
                if in_flight.remove(&i).is_some() {
                    results[i] = Some(r);
                    done += 1;
                    progress(done, total);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                let expired: Vec<usize> = in_flight
                    .iter()
                    .filter(|(_, d)| **d <= now)
                    .map(|(i, _)| *i)
                    .collect();
                for i in expired {
                    in_flight.remove(&i);
                    results[i] = Some(Err(JobError::Timeout));
                    done += 1;
                    progress(done, total);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Cannot happen while we hold `tx`; treat what is left as lost.
                for (i, _) in in_flight.drain() {
                    results[i] = Some(Err(JobError::Panic("job thread vanished".into())));
                    done += 1;
                }
            }
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or(Err(JobError::Panic("job did not run".into()))))
        .collect()
}

/// A current-thread tokio runtime with timers, for running one async job on a job thread.
pub fn job_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_in_order_with_panics_and_timeouts() {
        let items: Vec<u64> = (0..8).collect();
        let mut calls = 0;
        let out = run(
            items,
            3,
            Duration::from_secs(3),
            |i| {
                if i == 3 {
                    panic!("boom {i}");
                }
                if i == 5 {
                    std::thread::sleep(Duration::from_secs(30));
                }
                i * 10
            },
            &mut |_, _| calls += 1,
        );
        assert_eq!(calls, 8);
        assert_eq!(out[0], Ok(0));
        assert_eq!(out[7], Ok(70));
        assert_eq!(out[3], Err(JobError::Panic("boom 3".into())));
        assert_eq!(out[5], Err(JobError::Timeout));
    }
}
