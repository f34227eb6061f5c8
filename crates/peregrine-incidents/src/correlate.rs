//! Correlation: which incident a new alert belongs to. Pure and deterministic; the store
//! gathers the facts ([`Known`]) and applies the [`Decision`].
//!
//! Rules:
//!
//! 1. An alert's *entities* are the correlation keys of its evidence
//!    ([`crate::evidence::entity_keys`]): `device:`, `user:`, `file:` (hash), `ip:`,
//!    `mailbox:`.
//! 2. It *matches* an alert already in an **open** incident (active, in progress) when
//!    they share an entity and their activity times are at most `window` apart.
//! 3. No match: the alert opens a new incident. Matches in one incident: it joins it.
//!    Matches in several: they merge into the oldest (lowest id); the others are
//!    redirected to it (`redirectIncidentId`, status `redirected`) and their alerts move.
//! 4. Each decision carries its reasons ([`GroupingReason`]): per matched incident, the
//!    first shared entity (in sorted order) and the earliest alert sharing it.
//! 5. [`roll_up`]: an incident's severity is its highest alert severity; it is resolved
//!    when all its alerts are, and active again when a resolved incident has an
//!    unresolved alert; its name follows its alerts.

use crate::enums::{AlertStatus, IncidentStatus, Severity};
use crate::model::{Alert, GroupingReason, Incident};
use crate::time::Time;
use std::collections::{BTreeMap, BTreeSet};

/// Correlation settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationConfig {
    /// Largest distance between two alerts' activity times for them to correlate.
    pub window_secs: i64,
}

impl Default for CorrelationConfig {
    /// A day.
    fn default() -> Self {
        CorrelationConfig {
            window_secs: 24 * 3600,
        }
    }
}

/// An alert already in an open incident, as correlation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub alert_id: String,
    pub incident_id: i64,
    pub time: Time,
    pub entities: Vec<String>,
}

/// Where a new alert goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    New {
        reasons: Vec<GroupingReason>,
    },
    Join {
        incident_id: i64,
        reasons: Vec<GroupingReason>,
    },
    Merge {
        into: i64,
        from: Vec<i64>,
        reasons: Vec<GroupingReason>,
    },
}

/// Decides where alert `alert_id` (activity at `time`, with `entities`) goes, given the
/// alerts of open incidents in `known`.
pub fn correlate(
    alert_id: &str,
    time: Time,
    entities: &[String],
    known: &[Known],
    config: &CorrelationConfig,
    now: Time,
) -> Decision {
    let mine: BTreeSet<&str> = entities.iter().map(String::as_str).collect();
    // Per incident: the best witness (shared entity, its time, the alert id), chosen as
    // the lowest entity, then the earliest alert, then the lowest alert id.
    let mut best: BTreeMap<i64, (&str, Time, &str)> = BTreeMap::new();
    for k in known {
        if k.alert_id == alert_id {
            continue;
        }
        let apart = (k.time.ticks() - time.ticks()).unsigned_abs();
        if apart > (config.window_secs.max(0) as u64).saturating_mul(10_000_000) {
            continue;
        }
        let Some(shared) = k
            .entities
            .iter()
            .map(String::as_str)
            .filter(|e| mine.contains(e))
            .min()
        else {
            continue;
        };
        let candidate = (shared, k.time, k.alert_id.as_str());
        best.entry(k.incident_id)
            .and_modify(|b| {
                if candidate < *b {
                    *b = candidate;
                }
            })
            .or_insert(candidate);
    }
    let reason = |kind: &str,
                  entity: Option<&str>,
                  related: Option<&str>,
                  merged: Option<i64>,
                  text: String| {
        GroupingReason {
            alert_id: alert_id.to_string(),
            kind: kind.to_string(),
            entity: entity.map(str::to_string),
            related_alert_id: related.map(str::to_string),
            merged_incident_id: merged,
            time: now,
            explanation: text,
        }
    };
    let mut incidents = best.iter();
    let Some((&into, &(entity, _, related))) = incidents.next() else {
        let what = if entities.is_empty() {
            "it has no entities to correlate on".to_string()
        } else {
            format!(
                "no open incident has an alert sharing {} within {}",
                entities.join(", "),
                window_text(config.window_secs)
            )
        };
        return Decision::New {
            reasons: vec![reason(
                "created",
                None,
                None,
                None,
                format!("Alert {alert_id} opened the incident: {what}."),
            )],
        };
    };
    let mut reasons = vec![reason(
        "joined",
        Some(entity),
        Some(related),
        None,
        format!(
            "Alert {alert_id} shares {entity} with alert {related} within {}.",
            window_text(config.window_secs)
        ),
    )];
    let from: Vec<i64> = incidents.map(|(id, _)| *id).collect();
    if from.is_empty() {
        return Decision::Join {
            incident_id: into,
            reasons,
        };
    }
    for id in &from {
        if let Some(&(entity, _, related)) = best.get(id) {
            reasons.push(reason(
                "merged",
                Some(entity),
                Some(related),
                Some(*id),
                format!(
                    "Alert {alert_id} also shares {entity} with alert {related} of incident {id}, so incident {id} was merged into incident {into}."
                ),
            ));
        }
    }
    Decision::Merge {
        into,
        from,
        reasons,
    }
}

fn window_text(secs: i64) -> String {
    match secs {
        s if s % 86400 == 0 && s > 0 => format!("{} day(s)", s / 86400),
        s if s % 3600 == 0 && s > 0 => format!("{} hour(s)", s / 3600),
        s => format!("{s} second(s)"),
    }
}

/// Makes `incident` follow its `alerts` (see the module notes). Returns whether anything
/// changed; `last_update` is then `now`.
pub fn roll_up(incident: &mut Incident, alerts: &[Alert], now: Time) -> bool {
    if alerts.is_empty() || incident.status == IncidentStatus::Redirected {
        return false;
    }
    let before = (incident.severity, incident.status, incident.name.clone());
    incident.severity = alerts
        .iter()
        .map(|a| a.severity)
        .max()
        .unwrap_or(Severity::Unknown);
    let all_resolved = alerts.iter().all(|a| a.status == AlertStatus::Resolved);
    if all_resolved && incident.status.is_open() {
        incident.status = IncidentStatus::Resolved;
    } else if !all_resolved && incident.status == IncidentStatus::Resolved {
        incident.status = IncidentStatus::Active;
    }
    incident.name = incident_name(alerts);
    let changed = before != (incident.severity, incident.status, incident.name.clone());
    if changed {
        incident.last_update = now;
    }
    changed
}

/// The name Defender gives: the alert's title for one kind of alert, else
/// `Multi-stage incident involving <categories> on <one endpoint | multiple endpoints>`.
pub fn incident_name(alerts: &[Alert]) -> String {
    let mut sorted: Vec<&Alert> = alerts.iter().collect();
    sorted.sort_by(|a, b| (a.activity_time(), &a.id).cmp(&(b.activity_time(), &b.id)));
    let titles: BTreeSet<&str> = sorted.iter().map(|a| a.title.as_str()).collect();
    if titles.len() <= 1 {
        return sorted.first().map(|a| a.title.clone()).unwrap_or_default();
    }
    let mut categories: Vec<&str> = Vec::new();
    for a in &sorted {
        if let Some(c) = a.category.as_deref().filter(|c| !c.is_empty())
            && !categories.contains(&c)
        {
            categories.push(c);
        }
    }
    // Devices are counted once whatever identifiers they show (id, host name): the key
    // sets of one device's evidence items are merged when they overlap.
    let mut devices: Vec<BTreeSet<String>> = Vec::new();
    for e in alerts.iter().flat_map(|a| a.evidence.iter()) {
        let mut keys: BTreeSet<String> = crate::evidence::entity_keys(e)
            .into_iter()
            .filter(|k| k.starts_with("device:"))
            .collect();
        if keys.is_empty() {
            continue;
        }
        devices.retain(|d| {
            if d.is_disjoint(&keys) {
                true
            } else {
                keys.extend(d.iter().cloned());
                false
            }
        });
        devices.push(keys);
    }
    let on = match devices.len() {
        0 => String::new(),
        1 => " on one endpoint".to_string(),
        _ => " on multiple endpoints".to_string(),
    };
    let what = match categories.len() {
        0 => format!("{} alerts", alerts.len()),
        1 => categories[0].to_string(),
        n => format!("{} & {}", categories[..n - 1].join(", "), categories[n - 1]),
    };
    format!("Multi-stage incident involving {what}{on}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600 * 10_000_000;

    fn t(hours: i64) -> Time {
        Time::from_ticks(1_700_000_000 * 10_000_000 + hours * H)
    }

    fn known(id: &str, incident: i64, hours: i64, entities: &[&str]) -> Known {
        Known {
            alert_id: id.into(),
            incident_id: incident,
            time: t(hours),
            entities: entities.iter().map(|e| e.to_string()).collect(),
        }
    }

    fn keys(e: &[&str]) -> Vec<String> {
        e.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn joins_on_a_shared_entity_within_the_window() {
        let k = [
            known("a1", 7, 0, &["device:d1", "user:bob"]),
            known("a2", 7, 1, &["ip:1.2.3.4"]),
        ];
        let d = correlate(
            "new",
            t(5),
            &keys(&["user:bob", "file:ff"]),
            &k,
            &CorrelationConfig::default(),
            t(6),
        );
        let Decision::Join {
            incident_id,
            reasons,
        } = d
        else {
            panic!("{d:?}")
        };
        assert_eq!(incident_id, 7);
        assert_eq!(reasons[0].entity.as_deref(), Some("user:bob"));
        assert_eq!(reasons[0].related_alert_id.as_deref(), Some("a1"));
        assert!(
            reasons[0]
                .explanation
                .contains("shares user:bob with alert a1 within 1 day(s)"),
            "{}",
            reasons[0].explanation
        );
    }

    #[test]
    fn no_join_outside_the_window_or_without_shared_entities() {
        let k = [known("a1", 7, 0, &["device:d1"])];
        let cfg = CorrelationConfig { window_secs: 3600 };
        for (hours, entities) in [
            (2, &["device:d1"][..]),
            (-2, &["device:d1"]),
            (0, &["device:d2"]),
            (0, &[]),
        ] {
            let d = correlate("new", t(hours), &keys(entities), &k, &cfg, t(3));
            assert!(
                matches!(d, Decision::New { .. }),
                "{hours} {entities:?}: {d:?}"
            );
        }
        // exactly at the window's edge still joins
        let d = correlate("new", t(1), &keys(&["device:d1"]), &k, &cfg, t(3));
        assert!(matches!(d, Decision::Join { incident_id: 7, .. }), "{d:?}");
    }

    #[test]
    fn an_alert_linking_two_incidents_merges_them_into_the_oldest() {
        let k = [
            known("b1", 12, 0, &["ip:9.9.9.9"]),
            known("a1", 5, 0, &["device:d1"]),
            known("c1", 9, 0, &["mailbox:x@y"]),
        ];
        let d = correlate(
            "new",
            t(0),
            &keys(&["device:d1", "ip:9.9.9.9"]),
            &k,
            &CorrelationConfig::default(),
            t(1),
        );
        let Decision::Merge {
            into,
            from,
            reasons,
        } = d
        else {
            panic!("{d:?}")
        };
        assert_eq!((into, from), (5, vec![12]));
        assert_eq!(reasons.len(), 2);
        assert_eq!(reasons[1].merged_incident_id, Some(12));
        assert!(
            reasons[1]
                .explanation
                .contains("incident 12 was merged into incident 5")
        );
    }

    #[test]
    fn deterministic_whatever_the_order() {
        let mut k = vec![
            known("x2", 3, 2, &["user:u", "device:d"]),
            known("x1", 3, 1, &["user:u"]),
            known("y1", 4, 0, &["device:d"]),
        ];
        let first = correlate(
            "n",
            t(1),
            &keys(&["user:u", "device:d"]),
            &k,
            &CorrelationConfig::default(),
            t(9),
        );
        k.reverse();
        let second = correlate(
            "n",
            t(1),
            &keys(&["device:d", "user:u"]),
            &k,
            &CorrelationConfig::default(),
            t(9),
        );
        assert_eq!(first, second);
        let Decision::Merge {
            into: 3, reasons, ..
        } = first
        else {
            panic!()
        };
        // lowest shared entity first (device:d < user:u), then the earliest alert
        assert_eq!(reasons[0].related_alert_id.as_deref(), Some("x2"));
        assert_eq!(reasons[0].entity.as_deref(), Some("device:d"));
    }

    #[test]
    fn roll_up_follows_the_alerts() {
        let mut i = Incident::new(1, "t", "x", t(0));
        let mut a = Alert::new("a", "t", "Suspicious PowerShell", Severity::Low, t(0));
        a.category = Some("Execution".into());
        let mut b = Alert::new("b", "t", "Credential dumping", Severity::High, t(1));
        b.category = Some("CredentialAccess".into());
        assert!(roll_up(&mut i, &[a.clone(), b.clone()], t(2)));
        assert_eq!(i.severity, Severity::High);
        assert_eq!(i.last_update, t(2));
        assert_eq!(
            i.name,
            "Multi-stage incident involving Execution & CredentialAccess"
        );
        assert!(
            !roll_up(&mut i, &[a.clone(), b.clone()], t(3)),
            "no change, no update"
        );
        a.status = AlertStatus::Resolved;
        b.status = AlertStatus::Resolved;
        roll_up(&mut i, &[a.clone(), b.clone()], t(4));
        assert_eq!(i.status, IncidentStatus::Resolved);
        b.status = AlertStatus::New;
        roll_up(&mut i, &[a, b], t(5));
        assert_eq!(i.status, IncidentStatus::Active);
    }
}
