//! The SQLite incident store: schema and WAL, filters in SQL, paging, tenant isolation,
//! simultaneous updates, correlation (join, window, merge) and de-duplication.

use peregrine_incidents::enums::{AlertStatus, IncidentStatus, Severity};
use peregrine_incidents::model::{Evidence, EvidenceKind};
use peregrine_incidents::odata::{Api, ListOptions, parse_options};
use peregrine_incidents::patch::{IncidentPatch, Shape};
use peregrine_incidents::sqlite::MIGRATIONS;
use peregrine_incidents::{
    Alert, AlertOutcome, CorrelationConfig, Incident, IncidentStore, SqliteStore, Time,
};
use serde_json::json;
use std::sync::Arc;

type R = Result<(), Box<dyn std::error::Error>>;
/// Query options and the incident ids they list, in order.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [i64]);

fn t(hours: i64) -> Time {
    Time::parse("2026-11-01T00:00:00Z")
        .unwrap_or(Time::from_ticks(0))
        .plus_secs(hours * 3600)
}

fn opts(api: Api, pairs: &[(&str, &str)]) -> ListOptions {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    parse_options(&pairs, api).unwrap_or_else(|e| panic!("{pairs:?}: {e}"))
}

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let s = SqliteStore::open_in(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    (dir, s)
}

/// An incident of `tenant` created and updated `hours` after the epoch of the tests.
fn incident(
    tenant: &str,
    id: i64,
    hours: i64,
    status: IncidentStatus,
    owner: Option<&str>,
) -> Incident {
    let mut i = Incident::new(id, tenant, &format!("incident {id}"), t(hours));
    i.status = status;
    i.assigned_to = owner.map(str::to_string);
    i.severity = Severity::Medium;
    i
}

fn ids(items: &[Incident]) -> Vec<i64> {
    items.iter().map(|i| i.id).collect()
}

#[test]
fn schema_is_migrated_in_wal_mode_and_kept() -> R {
    let (dir, s) = store();
    assert_eq!(s.schema_version()?, MIGRATIONS.len() as i64);
    s.put_incident(&incident("a", 1, 0, IncidentStatus::Active, None))?;
    drop(s);
    let path = SqliteStore::path_in(dir.path());
    assert!(path.ends_with("_incidents/incidents.sqlite"));
    let s = SqliteStore::open_in(dir.path())?;
    assert!(
        s.get_incident("a", 1, false)?.is_some(),
        "data survives a reopen"
    );
    let conn = rusqlite_free_check(&path);
    assert_eq!(conn, "wal");
    Ok(())
}

/// The journal mode as recorded in the database header (bytes 18 and 19 are 2 for WAL).
fn rusqlite_free_check(path: &std::path::Path) -> &'static str {
    match std::fs::read(path) {
        Ok(b) if b.len() > 19 && b[18] == 2 && b[19] == 2 => "wal",
        _ => "other",
    }
}

#[test]
fn filters_order_paging_and_tenants() -> R {
    let (_dir, s) = store();
    s.put_incident(&incident("a", 1, 1, IncidentStatus::Active, None))?;
    s.put_incident(&incident(
        "a",
        2,
        2,
        IncidentStatus::Resolved,
        Some("bob@contoso.com"),
    ))?;
    s.put_incident(&incident(
        "a",
        3,
        3,
        IncidentStatus::InProgress,
        Some("O'Brien"),
    ))?;
    s.put_incident(&incident(
        "a",
        4,
        4,
        IncidentStatus::Active,
        Some("bob@contoso.com"),
    ))?;
    s.put_incident(&incident("b", 5, 5, IncidentStatus::Active, None))?;
    let d = Api::DefenderIncidents;
    let cases: &[Case] = &[
        (&[], &[4, 3, 2, 1]),
        (&[("$filter", "status eq 'Active'")], &[4, 1]),
        (&[("$filter", "status ne 'active'")], &[3, 2]),
        (
            &[("$filter", "lastUpdateTime ge 2026-11-01T03:00:00Z")],
            &[4, 3],
        ),
        (
            &[("$filter", "lastUpdateTime gt 2026-11-01T03:00:00.0000000Z")],
            &[4],
        ),
        (
            &[(
                "$filter",
                "createdTime lt 2026-11-01T02:00:00Z or createdTime eq 2026-11-01T04:00:00Z",
            )],
            &[4, 1],
        ),
        (
            &[(
                "$filter",
                "assignedTo eq 'bob@contoso.com' and status eq 'Active'",
            )],
            &[4],
        ),
        (&[("$filter", "assignedTo eq 'O''Brien'")], &[3]),
        (&[("$filter", "assignedTo eq null")], &[1]),
        (&[("$filter", "assignedTo ne null")], &[4, 3, 2]),
        (&[("$filter", "assignedTo ne 'bob@contoso.com'")], &[3, 1]),
        (
            &[(
                "$filter",
                "not (status eq 'Active' or status eq 'Resolved')",
            )],
            &[3],
        ),
        (
            &[(
                "$filter",
                "(status eq 'Active' or status eq 'Resolved') and lastUpdateTime le 2026-11-01T02:00:00Z",
            )],
            &[2, 1],
        ),
        (&[("$top", "2")], &[4, 3]),
        (&[("$top", "2"), ("$skip", "2")], &[2, 1]),
        (&[("$skip", "10")], &[]),
        (&[("$top", "0")], &[]),
    ];
    for (q, want) in cases {
        let page = s.list_incidents("a", &opts(d, q))?;
        assert_eq!(ids(&page.items), *want, "{q:?}");
    }
    let page = s.list_incidents(
        "a",
        &opts(d, &[("$top", "1"), ("$filter", "status eq 'Active'")]),
    )?;
    assert_eq!(page.total, 2, "the count is of all matches, not the page");
    // tenant isolation: b sees its own only, and not a's ids
    assert_eq!(ids(&s.list_incidents("b", &opts(d, &[]))?.items), vec![5]);
    assert!(s.get_incident("b", 1, false)?.is_none());
    assert!(s.update_incident("b", 1, &|_| Ok(()))?.is_none());
    assert!(s.list_incidents("c", &opts(d, &[]))?.items.is_empty());
    // Graph: severity is ordered
    let g = Api::GraphIncidents;
    assert_eq!(
        s.list_incidents("a", &opts(g, &[("$filter", "severity ge 'medium'")]))?
            .total,
        4
    );
    assert_eq!(
        s.list_incidents("a", &opts(g, &[("$filter", "severity gt 'medium'")]))?
            .total,
        0
    );
    assert_eq!(
        s.list_incidents("a", &opts(g, &[("$filter", "classification eq 'unknown'")]))?
            .total,
        4
    );
    Ok(())
}

#[test]
fn a_filter_value_is_data_not_sql() -> R {
    let (_dir, s) = store();
    s.put_incident(&incident("a", 1, 1, IncidentStatus::Active, Some("x")))?;
    for evil in [
        "assignedTo eq 'x'' OR 1=1 --'",
        "assignedTo eq ''' OR tenant <> ''a'",
        "assignedTo eq 'x); DROP TABLE incidents; --'",
    ] {
        let page = s.list_incidents("a", &opts(Api::DefenderIncidents, &[("$filter", evil)]))?;
        assert!(page.items.is_empty(), "{evil}");
    }
    assert_eq!(
        s.list_incidents("a", &opts(Api::DefenderIncidents, &[]))?
            .total,
        1
    );
    Ok(())
}

#[test]
fn simultaneous_patches_lose_no_write() -> R {
    let (_dir, s) = store();
    let s = Arc::new(s);
    s.put_incident(&incident("a", 1, 0, IncidentStatus::Active, None))?;
    let writers = 8;
    let each = 10;
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || -> Result<(), String> {
                for n in 0..each {
                    let body = json!({"comment": format!("w{w} n{n}"), "tags": [format!("w{w}")]})
                        .to_string();
                    let patch = IncidentPatch::parse(body.as_bytes(), Shape::Defender)?;
                    let update =
                        |i: &mut Incident| patch.apply(i, &format!("writer{w}"), Time::now());
                    s.update_incident("a", 1, &update)
                        .map_err(|e| e.to_string())?
                        .ok_or("gone")?;
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "writer panicked")??;
    }
    let i = s.get_incident("a", 1, false)?.ok_or("gone")?;
    assert_eq!(i.comments.len(), writers * each, "every comment kept");
    for w in 0..writers {
        for n in 0..each {
            let c = format!("w{w} n{n}");
            assert!(i.comments.iter().any(|x| x.comment == c), "{c} lost");
        }
    }
    assert_eq!(i.version, (writers * each) as i64, "one version per write");
    Ok(())
}

#[test]
fn a_refused_update_changes_nothing() -> R {
    let (_dir, s) = store();
    s.put_incident(&incident("a", 1, 0, IncidentStatus::Active, None))?;
    let before = s.get_incident("a", 1, false)?;
    let r = s.update_incident("a", 1, &|i: &mut Incident| {
        i.status = IncidentStatus::Resolved;
        Err("no".into())
    });
    assert_eq!(
        r,
        Err(peregrine_incidents::StoreError::Invalid("no".into()))
    );
    assert_eq!(s.get_incident("a", 1, false)?, before);
    Ok(())
}

fn evidence(kind: EvidenceKind, props: serde_json::Value) -> Evidence {
    let mut e = Evidence::new(kind);
    if let serde_json::Value::Object(m) = props {
        e.props = m;
    }
    e
}

fn device(id: &str) -> Evidence {
    evidence(
        EvidenceKind::Device,
        json!({"mdeDeviceId": id, "deviceDnsName": format!("{id}.contoso.com")}),
    )
}

fn user(upn: &str) -> Evidence {
    evidence(
        EvidenceKind::User,
        json!({"userAccount": {"userPrincipalName": upn}}),
    )
}

fn ip(addr: &str) -> Evidence {
    evidence(EvidenceKind::Ip, json!({"ipAddress": addr}))
}

fn alert(id: &str, hours: i64, severity: Severity, evidence: Vec<Evidence>) -> Alert {
    let mut a = Alert::new(id, "a", &format!("alert {id}"), severity, t(hours));
    a.category = Some(format!("Category{id}"));
    a.evidence = evidence;
    a
}

fn stored(o: AlertOutcome) -> i64 {
    match o {
        AlertOutcome::Stored { incident_id, .. } => incident_id,
        AlertOutcome::Duplicate { incident_id } => panic!("duplicate of {incident_id:?}"),
    }
}

#[test]
fn correlation_join_window_merge_and_dedup() -> R {
    let (_dir, s) = store();
    let cfg = CorrelationConfig {
        window_secs: 6 * 3600,
    };
    let now = t(100);
    let i1 = stored(s.add_alert(
        "a",
        alert(
            "a1",
            0,
            Severity::Low,
            vec![device("d1"), user("alice@c.com")],
        ),
        &cfg,
        now,
    )?);
    // shares the user within the window: joins
    let j = stored(s.add_alert(
        "a",
        alert(
            "a2",
            2,
            Severity::High,
            vec![user("ALICE@c.com"), ip("9.9.9.9")],
        ),
        &cfg,
        now,
    )?);
    assert_eq!(j, i1);
    // shares the device, but 10 h later: outside the window, a new incident
    let i2 = stored(s.add_alert(
        "a",
        alert("a3", 10, Severity::Low, vec![device("d1")]),
        &cfg,
        now,
    )?);
    assert_ne!(i2, i1);
    // another tenant's alert on the same device never joins tenant a's incidents
    let mut other = alert("a1", 0, Severity::Low, vec![device("d1")]);
    other.tenant_id = "b".into();
    let ib = stored(s.add_alert("b", other, &cfg, now)?);
    assert!(s.get_incident("a", ib, false)?.is_none() || ib != i1);
    // de-duplicated by id
    assert_eq!(
        s.add_alert("a", alert("a2", 2, Severity::High, vec![]), &cfg, now)?,
        AlertOutcome::Duplicate {
            incident_id: Some(i1)
        }
    );
    let inc = s.get_incident("a", i1, true)?.ok_or("gone")?;
    assert_eq!(inc.alerts.len(), 2);
    assert_eq!(inc.severity, Severity::High, "follows the highest alert");
    assert_eq!(inc.grouping.len(), 2);
    assert_eq!(inc.grouping[1].kind, "joined");
    assert_eq!(inc.grouping[1].entity.as_deref(), Some("user:alice"));
    assert_eq!(
        inc.name,
        "Multi-stage incident involving Categorya1 & Categorya2 on one endpoint"
    );
    // an alert sharing the IP of incident 1 and the device of incident 2 (in both windows) merges them
    let later = stored(s.add_alert(
        "a",
        alert("a4", 6, Severity::Medium, vec![device("d1"), ip("9.9.9.9")]),
        &cfg,
        now,
    )?);
    assert_eq!(later, i1, "into the oldest");
    let old = s.get_incident("a", i2, true)?.ok_or("gone")?;
    assert_eq!(old.status, IncidentStatus::Redirected);
    assert_eq!(old.redirect_incident_id, Some(i1));
    assert!(old.alerts.is_empty(), "its alerts moved");
    let merged = s.get_incident("a", i1, true)?.ok_or("gone")?;
    let mut alert_ids: Vec<&str> = merged.alerts.iter().map(|a| a.id.as_str()).collect();
    alert_ids.sort();
    assert_eq!(alert_ids, ["a1", "a2", "a3", "a4"]);
    assert!(merged.alerts.iter().all(|a| a.incident_id == Some(i1)));
    assert!(
        merged
            .grouping
            .iter()
            .any(|g| g.kind == "merged" && g.merged_incident_id == Some(i2))
    );
    let a3 = s.get_alert("a", "a3")?.ok_or("gone")?;
    assert_eq!(a3.incident_id, Some(i1));
    // a redirected or resolved incident takes no new alerts
    let resolve = |i: &mut Incident| {
        i.status = IncidentStatus::Resolved;
        Ok(())
    };
    s.update_incident("a", i1, &resolve)?;
    let fresh = stored(s.add_alert(
        "a",
        alert("a5", 7, Severity::Low, vec![device("d1")]),
        &cfg,
        now,
    )?);
    assert!(fresh != i1 && fresh != i2);
    Ok(())
}

#[test]
fn alert_updates_roll_up_into_the_incident() -> R {
    let (_dir, s) = store();
    let cfg = CorrelationConfig::default();
    let i = stored(s.add_alert(
        "a",
        alert("x1", 0, Severity::Low, vec![device("d9")]),
        &cfg,
        t(1),
    )?);
    stored(s.add_alert(
        "a",
        alert("x2", 1, Severity::Medium, vec![device("d9")]),
        &cfg,
        t(1),
    )?);
    for id in ["x1", "x2"] {
        let resolve = |a: &mut Alert| {
            a.status = AlertStatus::Resolved;
            Ok(())
        };
        s.update_alert("a", id, &resolve, t(2))?.ok_or("gone")?;
    }
    let inc = s.get_incident("a", i, false)?.ok_or("gone")?;
    assert_eq!(inc.status, IncidentStatus::Resolved);
    assert_eq!(inc.last_update, t(2));
    // alert lists, filters on alerts
    let page = s.list_alerts(
        "a",
        &opts(
            Api::GraphAlerts,
            &[("$filter", "status eq 'resolved' and severity eq 'medium'")],
        ),
    )?;
    assert_eq!(
        page.items.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["x2"]
    );
    let page = s.list_alerts(
        "a",
        &opts(
            Api::GraphAlerts,
            &[("$filter", "serviceSource eq 'microsoft365Defender'")],
        ),
    )?;
    assert_eq!(page.total, 2);
    assert!(
        s.list_alerts("b", &opts(Api::GraphAlerts, &[]))?
            .items
            .is_empty()
    );
    assert!(s.get_alert("b", "x1")?.is_none());
    Ok(())
}

#[test]
fn resolving_an_incident_resolves_its_alerts() -> R {
    let (_dir, s) = store();
    let cfg = CorrelationConfig::default();
    let i = stored(s.add_alert(
        "a",
        alert("r1", 0, Severity::Low, vec![device("d7")]),
        &cfg,
        t(1),
    )?);
    stored(s.add_alert(
        "a",
        alert("r2", 1, Severity::High, vec![device("d7")]),
        &cfg,
        t(1),
    )?);
    stored(s.add_alert(
        "a",
        alert("r3", 1, Severity::Medium, vec![device("d7")]),
        &cfg,
        t(1),
    )?);
    // r1 resolved on its own first: it keeps its times
    let resolve = |a: &mut Alert| {
        a.status = AlertStatus::Resolved;
        a.resolved = Some(t(2));
        a.last_update = t(2);
        Ok(())
    };
    s.update_alert("a", "r1", &resolve, t(2))?.ok_or("gone")?;
    let in_progress = |a: &mut Alert| {
        a.status = AlertStatus::InProgress;
        a.last_update = t(3);
        Ok(())
    };
    s.update_alert("a", "r3", &in_progress, t(3))?
        .ok_or("gone")?;
    let before = s.get_incident("a", i, false)?.ok_or("gone")?;
    assert_eq!(before.status, IncidentStatus::Active);

    let patch = IncidentPatch::parse(br#"{"status":"Resolved"}"#, Shape::Defender)?;
    let apply = |inc: &mut Incident| patch.apply(inc, "app", t(5));
    let updated = s.update_incident("a", i, &apply)?.ok_or("gone")?;
    assert_eq!(updated.status, IncidentStatus::Resolved);
    assert_eq!(updated.last_update, t(5));
    let check = |alerts: &[Alert]| {
        assert_eq!(alerts.len(), 3);
        for a in alerts {
            assert_eq!(a.status, AlertStatus::Resolved, "{}", a.id);
            let when = if a.id == "r1" { t(2) } else { t(5) };
            assert_eq!(a.last_update, when, "{}", a.id);
            assert_eq!(a.resolved, Some(when), "{}", a.id);
        }
    };
    // in the returned incident, a fresh read, and each alert (row columns too)
    check(&updated.alerts);
    check(&s.get_incident("a", i, true)?.ok_or("gone")?.alerts);
    let page = s.list_alerts(
        "a",
        &opts(Api::GraphAlerts, &[("$filter", "status eq 'resolved'")]),
    )?;
    assert_eq!(page.total, 3);
    // a later alert update does not reopen the incident
    let assign = |a: &mut Alert| {
        a.assigned_to = Some("x@contoso.com".into());
        Ok(())
    };
    s.update_alert("a", "r2", &assign, t(6))?.ok_or("gone")?;
    let after = s.get_incident("a", i, false)?.ok_or("gone")?;
    assert_eq!(after.status, IncidentStatus::Resolved);

    // reopening the incident leaves its alerts alone
    let reopen = IncidentPatch::parse(br#"{"status":"active"}"#, Shape::Graph)?;
    let apply = |inc: &mut Incident| reopen.apply(inc, "app", t(7));
    let reopened = s.update_incident("a", i, &apply)?.ok_or("gone")?;
    assert_eq!(reopened.status, IncidentStatus::Active);
    assert!(
        reopened
            .alerts
            .iter()
            .all(|a| a.status == AlertStatus::Resolved && a.last_update < t(7))
    );
    // and a PATCH of an already resolved incident touches no alert
    let again = IncidentPatch::parse(br#"{"status":"Resolved"}"#, Shape::Defender)?;
    let apply = |inc: &mut Incident| again.apply(inc, "app", t(8));
    s.update_incident("a", i, &apply)?;
    let apply = |inc: &mut Incident| again.apply(inc, "app", t(9));
    let twice = s.update_incident("a", i, &apply)?.ok_or("gone")?;
    assert!(twice.alerts.iter().all(|a| a.last_update < t(7)));
    Ok(())
}
