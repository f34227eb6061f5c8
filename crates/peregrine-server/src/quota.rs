//! Per-tenant quotas of advanced hunting behind traits, so a shared store can replace the
//! in-process ones: calls per period ([`Quota`], [`SlidingWindows`]) and measured execution
//! time per rolling period ([`TimeQuota`], [`ExecutionBudget`]).
//!
//! The documentation states both per tenant ("The number of executions is limited per
//! tenant": calls, and "10 minutes of running time every hour and 3 hours of running time
//! a day" for MDE, 4 hours in the Defender XDR terms); no limit is documented per app, so
//! every app of a tenant shares its tenant's quotas.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A call refused by a quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Calls allowed per `period`.
    pub limit: u32,
    pub period: Duration,
    /// When the next call would be admitted.
    pub retry_after: Duration,
}

impl Refusal {
    /// `API calls quota exceeded! maximum allowed 15 per 00:01:00. Calls may resume in 12
    /// seconds.` (the observed Defender text, and when to come back).
    pub fn message(&self) -> String {
        let p = self.period.as_secs();
        format!(
            "API calls quota exceeded! maximum allowed {} per {:02}:{:02}:{:02}. Calls may resume in {} seconds.",
            self.limit,
            p / 3600,
            (p / 60) % 60,
            p % 60,
            self.retry_after_secs()
        )
    }

    /// `Retry-After` in whole seconds, rounded up (at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }
}

/// Admission of calls per tenant.
pub trait Quota: Send + Sync {
    /// Admits one call of `tenant` at `now` (counting it), or refuses it.
    fn admit(&self, tenant: &str, now: Instant) -> Result<(), Refusal>;
}

/// Several sliding windows at once (50 a minute *and* 1,500 an hour): a call is admitted
/// only if every window has room, and then counted in all of them (a refused call counts
/// in none); exact under concurrency (one lock). A limit of 0 is no limit.
pub struct SlidingWindows {
    windows: Vec<(u32, Duration)>,
    calls: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl SlidingWindows {
    pub fn new(windows: &[(u32, Duration)]) -> SlidingWindows {
        SlidingWindows {
            windows: windows.iter().copied().filter(|(n, _)| *n > 0).collect(),
            calls: Mutex::new(HashMap::new()),
        }
    }

    /// At most `limit` calls per tenant in any sliding `period`.
    pub fn one(limit: u32, period: Duration) -> SlidingWindows {
        SlidingWindows::new(&[(limit, period)])
    }
}

impl Quota for SlidingWindows {
    fn admit(&self, tenant: &str, now: Instant) -> Result<(), Refusal> {
        let Some(longest) = self.windows.iter().map(|(_, p)| *p).max() else {
            return Ok(());
        };
        let mut calls = self
            .calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let q = calls.entry(tenant.to_string()).or_default();
        while q
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= longest)
        {
            q.pop_front();
        }
        for &(limit, period) in &self.windows {
            let in_window: Vec<Instant> = q
                .iter()
                .copied()
                .filter(|t| now.saturating_duration_since(*t) < period)
                .collect();
            if in_window.len() >= limit as usize {
                // The call that frees a place is the `limit`-th most recent one.
                let freeing = in_window[in_window.len() - limit as usize];
                return Err(Refusal {
                    limit,
                    period,
                    retry_after: (freeing + period).saturating_duration_since(now),
                });
            }
        }
        q.push_back(now);
        Ok(())
    }
}

/// No quota.
pub struct Unlimited;

impl Quota for Unlimited {
    fn admit(&self, _tenant: &str, _now: Instant) -> Result<(), Refusal> {
        Ok(())
    }
}

impl TimeQuota for Unlimited {
    fn check(&self, _tenant: &str, _now: Instant) -> Result<(), TimeRefusal> {
        Ok(())
    }

    fn charge(&self, _tenant: &str, _used: Duration, _at: Instant) {}
}

/// A query refused because its tenant used up an execution-time budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeRefusal {
    /// Execution time allowed per `period`.
    pub budget: Duration,
    pub period: Duration,
    /// When the time used in the period falls below the budget again.
    pub retry_after: Duration,
}

/// `hh:mm:ss`, with a day count when longer (`1.00:00:00`).
fn hms(d: Duration) -> String {
    let s = d.as_secs();
    let days = s / 86_400;
    let clock = format!("{:02}:{:02}:{:02}", (s / 3600) % 24, (s / 60) % 60, s % 60);
    if days > 0 {
        format!("{days}.{clock}")
    } else {
        clock
    }
}

impl TimeRefusal {
    /// The documented CPU-quota text, naming the budget that was used up and when queries
    /// may run again: `You have exceeded processing resources allocated to this tenant
    /// (query execution time quota: 00:10:00 per 01:00:00). You can run queries again in
    /// 00:12:05 (725 seconds).` Budgets under a second (tests) are shown in milliseconds.
    pub fn message(&self) -> String {
        let budget = if self.budget < Duration::from_secs(1) {
            format!("{} ms", self.budget.as_millis())
        } else {
            hms(self.budget)
        };
        let secs = self.retry_after_secs();
        format!(
            "You have exceeded processing resources allocated to this tenant (query execution time quota: {budget} per {}). You can run queries again in {} ({secs} seconds).",
            hms(self.period),
            hms(Duration::from_secs(secs)),
        )
    }

    /// `Retry-After` in whole seconds, rounded up (at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }
}

/// Measured query execution time per tenant.
///
/// A query is admitted while, in every budget's rolling period, the time charged to its
/// tenant is below the budget; its execution time is charged when it ends (succeeded,
/// failed, timed out or abandoned). Queries running when a budget runs out finish, so
/// the time used can pass a budget by what those queries take (each at most the query
/// timeout); the calls after them are refused until enough time has left the period.
pub trait TimeQuota: Send + Sync {
    /// Whether `tenant` may start a query at `now` (nothing is counted).
    fn check(&self, tenant: &str, now: Instant) -> Result<(), TimeRefusal>;
    /// Charges `used` execution time to `tenant`, for a query that ended at `at`.
    fn charge(&self, tenant: &str, used: Duration, at: Instant);
}

/// Execution-time budgets over rolling periods (by default 10 minutes per hour and 4 hours
/// per day), in process: each tenant's charges of the longest period, in time order, behind
/// one mutex (a charge is never lost, and a check sees every charge made before it).
pub struct ExecutionBudget {
    /// `(budget, period)` pairs; a zero budget is no limit.
    limits: Vec<(Duration, Duration)>,
    charges: Mutex<HashMap<String, VecDeque<(Instant, Duration)>>>,
}

impl ExecutionBudget {
    pub fn new(limits: Vec<(Duration, Duration)>) -> Self {
        ExecutionBudget {
            limits: limits
                .into_iter()
                .filter(|(b, p)| !b.is_zero() && !p.is_zero())
                .collect(),
            charges: Mutex::new(HashMap::new()),
        }
    }

    /// The time charged to `tenant` in the `period` before `now`.
    pub fn used(&self, tenant: &str, period: Duration, now: Instant) -> Duration {
        let charges = self
            .charges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        charges.get(tenant).map_or(Duration::ZERO, |q| {
            q.iter()
                .filter(|(at, _)| in_period(*at, period, now))
                .map(|(_, d)| *d)
                .sum()
        })
    }

    fn longest(&self) -> Duration {
        self.limits
            .iter()
            .map(|(_, p)| *p)
            .max()
            .unwrap_or_default()
    }
}

/// Whether a charge made `at` is within the `period` before `now` (charges made "after"
/// `now`, by a clock read a moment later, count).
fn in_period(at: Instant, period: Duration, now: Instant) -> bool {
    now.saturating_duration_since(at) < period
}

impl TimeQuota for ExecutionBudget {
    fn check(&self, tenant: &str, now: Instant) -> Result<(), TimeRefusal> {
        let mut all = self
            .charges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(q) = all.get_mut(tenant) else {
            return Ok(());
        };
        let longest = self.longest();
        while q
            .front()
            .is_some_and(|(at, _)| !in_period(*at, longest, now))
        {
            q.pop_front();
        }
        // The refusal that lasts longest, when several budgets are used up.
        let mut refusal: Option<TimeRefusal> = None;
        for &(budget, period) in &self.limits {
            let window: Vec<(Instant, Duration)> = q
                .iter()
                .copied()
                .filter(|(at, _)| in_period(*at, period, now))
                .collect();
            let mut used: Duration = window.iter().map(|(_, d)| *d).sum();
            if used < budget {
                continue;
            }
            // The oldest charges leave the period first: the call may come back once
            // enough of them have left for the rest to be under the budget.
            let mut retry_after = Duration::ZERO;
            for (at, d) in &window {
                used = used.saturating_sub(*d);
                retry_after = (*at + period).saturating_duration_since(now);
                if used < budget {
                    break;
                }
            }
            if refusal.as_ref().is_none_or(|r| r.retry_after < retry_after) {
                refusal = Some(TimeRefusal {
                    budget,
                    period,
                    retry_after,
                });
            }
        }
        refusal.map_or(Ok(()), Err)
    }

    fn charge(&self, tenant: &str, used: Duration, at: Instant) {
        if self.limits.is_empty() || used.is_zero() {
            return;
        }
        let mut all = self
            .charges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let q = all.entry(tenant.to_string()).or_default();
        // Keep the charges in time order (clocks read just before the lock may arrive in
        // any order).
        let i = q.iter().rposition(|(t, _)| *t <= at).map_or(0, |i| i + 1);
        q.insert(i, (at, used));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn minute_and_hour_windows() {
        let q =
            SlidingWindows::new(&[(2, Duration::from_secs(60)), (3, Duration::from_secs(3600))]);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert!(q.admit("a", at(0)).is_ok());
        assert!(q.admit("a", at(1)).is_ok());
        let r = q.admit("a", at(2)).err();
        assert_eq!(
            r.as_ref().map(|r| (r.limit, r.retry_after_secs())),
            Some((2, 58))
        );
        assert!(q.admit("b", at(2)).is_ok(), "per tenant");
        assert!(
            q.admit("a", at(61)).is_ok(),
            "the minute slid; third call of the hour"
        );
        let r = q.admit("a", at(130)).err();
        assert_eq!(
            r.as_ref().map(|r| (r.limit, r.retry_after_secs())),
            Some((3, 3470)),
            "the hour is full; the first call frees a place at 3600 s"
        );
        assert!(q.admit("a", at(3600)).is_ok());
        let off = SlidingWindows::new(&[(0, Duration::from_secs(60))]);
        assert!((0..1000).all(|_| off.admit("a", t0).is_ok()));
    }

    #[test]
    fn window_slides_per_tenant() {
        let q = SlidingWindows::one(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(q.admit("a", t0).is_ok());
        assert!(q.admit("a", t0 + Duration::from_secs(10)).is_ok());
        let r = q.admit("a", t0 + Duration::from_secs(20)).err();
        assert_eq!(r.as_ref().map(Refusal::retry_after_secs), Some(40), "{r:?}");
        assert_eq!(
            r.map(|r| r.message()).unwrap_or_default(),
            "API calls quota exceeded! maximum allowed 2 per 00:01:00. Calls may resume in 40 seconds."
        );
        assert!(q.admit("b", t0 + Duration::from_secs(20)).is_ok());
        assert!(q.admit("a", t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn execution_budget_rolls_per_period_and_tenant() {
        let s = Duration::from_secs;
        let b = ExecutionBudget::new(vec![(s(600), s(3600)), (s(4 * 3600), s(86_400))]);
        let t0 = Instant::now();
        assert!(b.check("a", t0).is_ok());
        // 9 minutes, then 2 more: over the hourly budget
        b.charge("a", s(540), t0);
        assert!(b.check("a", t0 + s(10)).is_ok());
        b.charge("a", s(120), t0 + s(600));
        assert_eq!(b.used("a", s(3600), t0 + s(600)), s(660));
        let r = b.check("a", t0 + s(700)).err();
        // back when the first charge leaves the hour: at t0 + 3600
        assert_eq!(
            r.as_ref().map(TimeRefusal::retry_after_secs),
            Some(2900),
            "{r:?}"
        );
        assert_eq!(
            r.map(|r| r.message()).unwrap_or_default(),
            "You have exceeded processing resources allocated to this tenant (query execution time quota: 00:10:00 per 01:00:00). You can run queries again in 00:48:20 (2900 seconds)."
        );
        // another tenant has its own budget
        assert!(b.check("b", t0 + s(700)).is_ok());
        assert!(b.check("a", t0 + s(3600)).is_ok());
        // the day's budget, with each hour under its own
        let d = ExecutionBudget::new(vec![(s(600), s(3600)), (s(1000), s(86_400))]);
        d.charge("a", s(500), t0);
        d.charge("a", s(500), t0 + s(7200));
        let r = d.check("a", t0 + s(7201)).err();
        assert_eq!(
            r.as_ref()
                .map(|r| (r.budget, r.period, r.retry_after_secs())),
            Some((s(1000), s(86_400), 86_400 - 7201)),
            "{r:?}"
        );
        assert!(
            r.map(|r| r.message()).unwrap_or_default().contains(
                "(query execution time quota: 00:16:40 per 1.00:00:00). You can run queries again in 21:59:59 (79199 seconds)."
            )
        );
        // both used up: the refusal that lasts longer
        d.charge("a", s(200), t0 + s(7300));
        let r = d.check("a", t0 + s(7301)).err();
        assert_eq!(r.map(|r| r.period), Some(s(86_400)));
        assert!(
            d.check("a", t0 + s(7200 + 3600)).is_err(),
            "the hour holds 200 s, the day still 1200 s"
        );
        assert!(
            d.check("a", t0 + s(86_400)).is_ok(),
            "t0's charge left the day: 700 s"
        );
        assert!(d.check("a", t0 + s(7300 + 86_400)).is_ok());
    }

    #[test]
    fn charges_from_racing_threads_all_count() {
        let b = Arc::new(ExecutionBudget::new(vec![(
            Duration::from_millis(500),
            Duration::from_secs(3600),
        )]));
        let now = Instant::now();
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let b = Arc::clone(&b);
                std::thread::spawn(move || {
                    b.charge(
                        "t",
                        Duration::from_millis(10),
                        now + Duration::from_micros(i),
                    );
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap_or(());
        }
        let later = now + Duration::from_millis(1);
        assert_eq!(
            b.used("t", Duration::from_secs(3600), later),
            Duration::from_millis(500)
        );
        // used up: every racing check is refused
        let refused: usize = (0..50)
            .map(|_| {
                let b = Arc::clone(&b);
                std::thread::spawn(move || usize::from(b.check("t", later).is_err()))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap_or(0))
            .sum();
        assert_eq!(refused, 50);
    }

    #[test]
    fn exact_under_concurrency() {
        let q = Arc::new(SlidingWindows::one(15, Duration::from_secs(60)));
        let now = Instant::now();
        let admitted: usize = (0..50)
            .map(|_| {
                let q = Arc::clone(&q);
                std::thread::spawn(move || usize::from(q.admit("t", now).is_ok()))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap_or(0))
            .sum();
        assert_eq!(admitted, 15);
    }
}
