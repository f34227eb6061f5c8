//! The spec's documented JSON examples (copied verbatim into `tests/examples/`) read into
//! the model and written back: byte-for-byte equal JSON in the same shape (after the
//! documented canonicalisations where the docs disagree with themselves), and converted
//! between the Defender and Graph shapes.

use peregrine_incidents::evidence::{self, Device};
use peregrine_incidents::patch::{AlertPatch, IncidentPatch, Shape};
use peregrine_incidents::{Time, View, graph, legacy};
use serde_json::{Value, json};

fn example(name: &str) -> Value {
    let path = format!("{}/tests/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Compares as serialised text, so key order counts too.
fn assert_same(actual: &Value, expected: &Value) {
    let a = serde_json::to_string_pretty(actual).unwrap_or_default();
    let e = serde_json::to_string_pretty(expected).unwrap_or_default();
    assert_eq!(a, e);
}

#[test]
fn defender_incident_round_trips() -> Result<(), String> {
    let list = example("defender-list.json");
    let doc = &list["value"][0];
    let incident = legacy::incident_from_json(doc, "contoso")?;
    assert_eq!(incident.id, 924565);
    assert_eq!(incident.alerts.len(), 1);
    assert_eq!(incident.alerts[0].evidence.len(), 1);
    assert_same(&legacy::incident_to_json(&incident, &View::default()), doc);
    Ok(())
}

#[test]
fn defender_device_round_trips_and_converts() -> Result<(), String> {
    let doc = example("defender-device.json");
    let device: Device = serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
    let ev = evidence::from_device(&device)?;
    let (devices, entities) = evidence::to_legacy(std::slice::from_ref(&ev));
    assert!(entities.is_empty());
    assert_same(
        &serde_json::to_value(&devices[0]).map_err(|e| e.to_string())?,
        &doc,
    );
    let g = evidence::to_graph(&ev, false);
    assert_eq!(g["@odata.type"], "#microsoft.graph.security.deviceEvidence");
    assert_eq!(g["mdeDeviceId"], doc["mdatpDeviceId"]);
    assert_eq!(g["healthStatus"], "active");
    assert_eq!(g["riskScore"], "high");
    assert_eq!(g["firstSeenDateTime"], doc["firstSeen"]);
    assert_eq!(g["osBuild"], 14393);
    assert!(g.get("osProcessor").is_none(), "not a Graph property");
    Ok(())
}

/// The Graph incident example with the documented canonical spellings: camelCase enums,
/// `alertComment`'s `createdByDisplayName`/`createdDateTime`.
fn canonical_graph_incident(mut doc: Value) -> Value {
    for (k, v) in [
        ("classification", "truePositive"),
        ("determination", "multiStagedAttack"),
        ("status", "active"),
        ("severity", "medium"),
    ] {
        doc[k] = json!(v);
    }
    if let Some(comments) = doc["comments"].as_array_mut() {
        for c in comments {
            *c = json!({
                "comment": c["comment"],
                "createdByDisplayName": c["createdBy"],
                "createdDateTime": c["createdTime"],
            });
        }
    }
    doc
}

#[test]
fn graph_incident_round_trips() -> Result<(), String> {
    let doc = example("graph-incidents-list.json")["value"][0].clone();
    let incident = graph::incident_from_json(&doc)?;
    assert_eq!(incident.id, 2972395);
    assert_eq!(incident.tags, vec!["Demo"]);
    let out = graph::incident_to_json(&incident, &View::default(), false);
    assert_same(&out, &canonical_graph_incident(doc.clone()));
    // and the canonical form reads back to the same incident
    assert_eq!(graph::incident_from_json(&out)?, incident);
    // the same incident in the Defender shape
    let l = legacy::incident_to_json(&incident, &View::default());
    assert_eq!(l["incidentId"], 2972395);
    assert_eq!(l["incidentName"], doc["displayName"]);
    assert_eq!(l["classification"], "TruePositive");
    assert_eq!(l["determination"], "MultiStagedAttack");
    assert_eq!(l["status"], "Active");
    assert_eq!(l["tags"], json!(["Demo"]));
    assert_eq!(l["incidentUri"], doc["incidentWebUrl"]);
    assert_eq!(
        l["comments"][0]["createdBy"],
        "DavidS@contoso.onmicrosoft.com"
    );
    Ok(())
}

#[test]
fn graph_comments_round_trip() -> Result<(), String> {
    let comments = example("graph-comments.json")["value"].clone();
    let doc = json!({
        "id": "3962396", "tenantId": "t", "displayName": "x",
        "createdDateTime": "2022-10-13T07:08:45Z", "comments": comments,
    });
    let out = graph::incident_to_json(&graph::incident_from_json(&doc)?, &View::default(), false);
    assert_same(&out["comments"], &comments);
    Ok(())
}

#[test]
fn graph_alert_round_trips_with_evidence() -> Result<(), String> {
    let mut doc = example("graph-alert.json");
    // the documented list's evidence, in place of the abridged sample's empty one
    doc["evidence"] = json!([example("graph-device-evidence.json")]);
    let alert = graph::alert_from_json(&doc)?;
    assert_eq!(alert.incident_id, Some(28282));
    let out = graph::alert_to_json(&alert, &View::default(), None);
    assert_same(&out, &doc);
    // in the Defender shape
    let l = serde_json::to_value(legacy::alert_to_wire(&alert)).map_err(|e| e.to_string())?;
    assert_eq!(l["status"], "InProgress");
    assert_eq!(l["severity"], "Low");
    assert_eq!(l["classification"], "TruePositive");
    assert_eq!(l["determination"], "Malware");
    assert_eq!(l["serviceSource"], "MicrosoftDefenderATP");
    assert_eq!(l["detectionSource"], "WindowsDefenderAv");
    assert_eq!(
        l["devices"][0]["mdatpDeviceId"],
        "73e7e2de709dff64ef64b1d0c30e67fab63279db"
    );
    assert_eq!(l["devices"][0]["healthStatus"], "Active");
    assert_eq!(l["devices"][0]["riskScore"], "Medium");
    Ok(())
}

#[test]
fn defender_alert_in_the_graph_shape() -> Result<(), String> {
    let list = example("defender-list.json");
    let incident = legacy::incident_from_json(&list["value"][0], "contoso")?;
    let view = View {
        portal: Some("https://peregrine.example"),
        include_unknown_enum_members: false,
    };
    let g = graph::incident_to_json(&incident, &view, true);
    assert_eq!(g["id"], "924565");
    assert_eq!(g["classification"], "unknown");
    assert_eq!(g["determination"], "unknown");
    assert_eq!(g["severity"], "medium");
    assert_eq!(
        g["incidentWebUrl"],
        "https://peregrine.example/incidents/924565?tid=contoso"
    );
    let a = &g["alerts"][0];
    assert_eq!(a["incidentId"], "924565");
    assert_eq!(a["serviceSource"], "microsoftDefenderForCloudApps");
    assert_eq!(a["detectionSource"], "cloudAppSecurity");
    assert_eq!(a["status"], "new");
    assert_eq!(
        a["evidence"][0]["@odata.type"],
        "#microsoft.graph.security.ipEvidence"
    );
    assert_eq!(a["evidence"][0]["ipAddress"], "62.216.203.204");
    assert_eq!(
        a["alertWebUrl"],
        "https://peregrine.example/alerts/caD70CFEE2-1F54-32DB-9988-3A868A1EBFAC?tid=contoso"
    );
    // back to the Defender shape: the same document
    let again = graph::incident_from_json(&g)?;
    let mut expected = list["value"][0].clone();
    expected["incidentUri"] = g["incidentWebUrl"].clone();
    let l = legacy::incident_to_json(&again, &view);
    assert_eq!(
        l["alerts"][0]["entities"],
        expected["alerts"][0]["entities"]
    );
    assert_eq!(l["alerts"][0]["serviceSource"], "MicrosoftCloudAppSecurity");
    assert_eq!(l["alerts"][0]["detectionSource"], "MCAS");
    assert_eq!(l["severity"], "Medium");
    Ok(())
}

#[test]
fn documented_patch_bodies_apply() -> Result<(), String> {
    let list = example("defender-list.json");
    let mut incident = legacy::incident_from_json(&list["value"][0], "contoso")?;
    let body = serde_json::to_vec(&example("defender-patch.json")).map_err(|e| e.to_string())?;
    let now = Time::parse("2021-02-01T00:00:00Z").ok_or("time")?;
    IncidentPatch::parse(&body, Shape::Defender)?.apply(
        &mut incident,
        "secop2@contoso.com",
        now,
    )?;
    let l = legacy::incident_to_json(&incident, &View::default());
    assert_eq!(l["status"], "Resolved");
    assert_eq!(l["assignedTo"], "secop2@contoso.com");
    assert_eq!(l["classification"], "TruePositive");
    assert_eq!(l["determination"], "Malware");
    assert_eq!(
        l["tags"],
        json!(["Yossi's playground", "Don't mess with the Zohan"])
    );
    assert_eq!(l["comments"][1]["comment"], "pen testing");
    assert_eq!(l["comments"][1]["createdTime"], "2021-02-01T00:00:00Z");
    assert_eq!(l["lastUpdateTime"], "2021-02-01T00:00:00Z");

    let body =
        serde_json::to_vec(&example("graph-incident-patch.json")).map_err(|e| e.to_string())?;
    let mut i = graph::incident_from_json(&example("graph-incidents-list.json")["value"][0])?;
    i.tags.clear();
    IncidentPatch::parse(&body, Shape::Graph)?.apply(&mut i, "x", now)?;
    assert_eq!(i.tags, vec!["Demo"]);

    let body = serde_json::to_vec(&example("graph-alert-patch.json")).map_err(|e| e.to_string())?;
    let mut doc = example("graph-alert.json");
    doc["status"] = json!("new");
    doc["assignedTo"] = Value::Null;
    let mut a = graph::alert_from_json(&doc)?;
    AlertPatch::parse(&body)?.apply(&mut a, "x", now)?;
    let out = graph::alert_to_json(&a, &View::default(), None);
    assert_eq!(out["status"], "inProgress");
    assert_eq!(out["assignedTo"], "secAdmin@contoso.onmicrosoft.com");
    assert_eq!(out["classification"], "truePositive");
    assert_eq!(out["determination"], "malware");
    Ok(())
}
