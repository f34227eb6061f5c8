//! Per-tenant call quotas behind a trait, so a shared store can replace the in-process one.

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

/// At most `limit` calls per tenant in any sliding `period`, exact under concurrency (one
/// lock around check-and-count).
pub struct SlidingWindow {
    limit: u32,
    period: Duration,
    calls: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl SlidingWindow {
    pub fn new(limit: u32, period: Duration) -> Self {
        SlidingWindow {
            limit,
            period,
            calls: Mutex::new(HashMap::new()),
        }
    }
}

impl Quota for SlidingWindow {
    fn admit(&self, tenant: &str, now: Instant) -> Result<(), Refusal> {
        if self.limit == 0 {
            return Ok(());
        }
        let mut calls = self
            .calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let q = calls.entry(tenant.to_string()).or_default();
        while q
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.period)
        {
            q.pop_front();
        }
        if q.len() < self.limit as usize {
            q.push_back(now);
            return Ok(());
        }
        let oldest = q.front().copied().unwrap_or(now);
        Err(Refusal {
            limit: self.limit,
            period: self.period,
            retry_after: (oldest + self.period).saturating_duration_since(now),
        })
    }
}

/// No quota.
pub struct Unlimited;

impl Quota for Unlimited {
    fn admit(&self, _tenant: &str, _now: Instant) -> Result<(), Refusal> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn window_slides_per_tenant() {
        let q = SlidingWindow::new(2, Duration::from_secs(60));
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
    fn exact_under_concurrency() {
        let q = Arc::new(SlidingWindow::new(15, Duration::from_secs(60)));
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
