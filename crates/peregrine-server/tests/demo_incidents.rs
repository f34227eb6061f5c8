//! The demo tenant's attack stories become incidents: the built-in rules and the demo's
//! own alerts (in `AlertInfo`/`AlertEvidence`), correlated, each story in one incident
//! with every alert explained.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use peregrine_incidents::odata::{Api, parse_options};
use peregrine_incidents::{Incident, Time};
use peregrine_server::ServerConfig;
use peregrine_server::detections::{builtin_rules, run_due};
use std::collections::BTreeSet;

const PHISHING: &[&str] = &[
    // the demo's alerts
    "Email messages containing malicious URL removed after delivery",
    "A potentially malicious URL click was detected",
    "Suspicious PowerShell command line",
    "Suspicious connection to a rare external host",
    "Possible credential dumping from LSASS memory",
    "Mass download by a single user",
    // the built-in rules'
    "Office application launched encoded PowerShell",
    "LSASS memory read by rundll32 (comsvcs MiniDump)",
    "Mass download from a cloud app",
];

const RANSOMWARE: &[&str] = &[
    "Successful RDP logon after multiple failed attempts",
    "File backups were deleted",
    "Ransomware behavior detected in the file system",
    "RDP brute force from the internet",
    "Volume shadow copies deleted",
    "Ransomware-like mass file renames",
];

fn holding<'a>(incidents: &'a [Incident], title: &str) -> &'a Incident {
    let found: Vec<&Incident> = incidents
        .iter()
        .filter(|i| i.alerts.iter().any(|a| a.title == title))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{title}: {:?}",
        found.iter().map(|i| i.id).collect::<Vec<_>>()
    );
    found[0]
}

fn assert_story(incidents: &[Incident], titles: &[&str]) -> i64 {
    let incident = holding(incidents, titles[0]);
    let have: BTreeSet<&str> = incident.alerts.iter().map(|a| a.title.as_str()).collect();
    for t in titles {
        assert!(
            have.contains(t),
            "'{t}' is not in incident {} ({have:?})",
            incident.id
        );
    }
    // every alert of the incident is explained
    for a in &incident.alerts {
        assert!(
            incident
                .grouping
                .iter()
                .any(|g| g.alert_id == a.id && !g.explanation.is_empty()),
            "alert {} ({}) has no reason in {:?}",
            a.id,
            a.title,
            incident.grouping
        );
    }
    incident.id
}

#[tokio::test]
async fn each_story_lands_in_one_incident() {
    let app = app_with(ServerConfig {
        incident_calls_per_minute: 0,
        incident_calls_per_hour: 0,
        ..test_config()
    });
    let now_secs = chrono::Utc::now().timestamp() / 60 * 60;
    let opts = peregrine_demo::DemoOptions {
        devices: 4,
        days: 3,
        now_nanos: now_secs * 1_000_000_000,
        ..peregrine_demo::DemoOptions::default()
    };
    peregrine_demo::generate(&app.store, "default", &opts, |_| {}).unwrap();
    let store = &app.state.incidents.store;
    for rule in builtin_rules() {
        store.put_rule("default", &rule).unwrap();
    }
    let reports = run_due(&app.state, Time::from_unix_nanos(opts.now_nanos)).await;
    for r in &reports {
        assert_eq!(r.error, None, "{r:?}");
    }
    for r in reports.iter().filter(|r| r.rule != "alert-tables") {
        assert!(
            r.new_alerts >= 1,
            "the built-in rule {} raised nothing: {r:?}",
            r.rule
        );
    }
    let all = parse_options(&[("$top".into(), "100".into())], Api::DefenderIncidents).unwrap();
    let incidents = store.list_incidents("default", &all).unwrap().items;
    let phishing = assert_story(&incidents, PHISHING);
    let ransomware = assert_story(&incidents, RANSOMWARE);
    assert_ne!(phishing, ransomware);
    // the story incidents are high severity and open; merged ones point at them
    for id in [phishing, ransomware] {
        let i = incidents.iter().find(|i| i.id == id).unwrap();
        assert_eq!(i.severity, peregrine_incidents::enums::Severity::High);
        assert_eq!(i.status, peregrine_incidents::enums::IncidentStatus::Active);
        assert!(
            i.name.starts_with("Multi-stage incident involving"),
            "{}",
            i.name
        );
    }
    for i in incidents
        .iter()
        .filter(|i| i.redirect_incident_id.is_some())
    {
        assert!(i.alerts.is_empty());
    }
    // a second tick adds nothing
    let again = run_due(
        &app.state,
        Time::from_unix_nanos(opts.now_nanos).plus_secs(3600),
    )
    .await;
    assert!(again.iter().all(|r| r.new_alerts == 0), "{again:?}");
}
