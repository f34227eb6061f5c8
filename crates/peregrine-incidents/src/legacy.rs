//! The Defender XDR (legacy) shape: `GET /api/incidents` objects, spec §5.3–5.5.
//!
//! Keys are written in the documented order; every documented key is present (`null`
//! when unset), except `incidentUri` and the incident's `detectionSource`, which the
//! documented example does not carry: they are written only when known.

use crate::View;
use crate::enums::*;
use crate::evidence::{self, Device, Entity};
use crate::model::{Alert, Comment, Incident};
use crate::time::Time;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyComment {
    pub comment: String,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub created_time: Option<Time>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyIncident {
    pub incident_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_uri: Option<String>,
    #[serde(default)]
    pub redirect_incident_id: Option<i64>,
    pub incident_name: String,
    pub created_time: Time,
    pub last_update_time: Time,
    #[serde(default)]
    pub assigned_to: Option<String>,
    #[serde(default)]
    pub classification: Option<String>,
    #[serde(default)]
    pub determination: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection_source: Option<String>,
    pub status: String,
    pub severity: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub comments: Vec<LegacyComment>,
    #[serde(default)]
    pub alerts: Vec<LegacyAlert>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyAlert {
    pub alert_id: String,
    #[serde(default)]
    pub incident_id: Option<i64>,
    pub service_source: String,
    pub creation_time: Time,
    pub last_updated_time: Time,
    #[serde(default)]
    pub resolved_time: Option<Time>,
    #[serde(default)]
    pub first_activity: Option<Time>,
    #[serde(default)]
    pub last_activity: Option<Time>,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    pub status: String,
    pub severity: String,
    #[serde(default)]
    pub investigation_id: Option<i64>,
    #[serde(default)]
    pub investigation_state: Option<String>,
    #[serde(default)]
    pub classification: Option<String>,
    #[serde(default)]
    pub determination: Option<String>,
    pub detection_source: String,
    #[serde(default)]
    pub assigned_to: Option<String>,
    #[serde(default)]
    pub actor_name: Option<String>,
    #[serde(default)]
    pub threat_family_name: Option<String>,
    #[serde(default)]
    pub mitre_techniques: Vec<String>,
    #[serde(default)]
    pub devices: Vec<Device>,
    #[serde(default)]
    pub entities: Vec<Entity>,
}

fn comment_out(c: &Comment) -> LegacyComment {
    LegacyComment {
        comment: c.comment.clone(),
        created_by: c.created_by.clone(),
        created_time: c.created_time,
    }
}

fn comment_in(c: LegacyComment) -> Comment {
    Comment {
        comment: c.comment,
        created_by: c.created_by,
        created_time: c.created_time,
    }
}

/// The portal link of an incident: its own, else one on `view.portal`.
pub(crate) fn incident_url(i: &Incident, view: &View) -> Option<String> {
    i.web_url.clone().or_else(|| {
        view.portal
            .map(|p| format!("{p}/incidents/{}?tid={}", i.id, i.tenant_id))
    })
}

pub(crate) fn alert_url(a: &Alert, view: &View) -> Option<String> {
    a.web_url.clone().or_else(|| {
        view.portal
            .map(|p| format!("{p}/alerts/{}?tid={}", a.id, a.tenant_id))
    })
}

pub fn incident_to_wire(i: &Incident, view: &View) -> LegacyIncident {
    LegacyIncident {
        incident_id: i.id,
        incident_uri: incident_url(i, view),
        redirect_incident_id: i.redirect_incident_id,
        incident_name: i.name.clone(),
        created_time: i.created,
        last_update_time: i.last_update,
        assigned_to: i.assigned_to.clone(),
        classification: Some(i.classification.legacy_name().to_string()),
        determination: Some(i.determination.legacy_name().to_string()),
        detection_source: i.detection_source.clone(),
        status: i.status.legacy_name().to_string(),
        severity: i.severity.legacy_name().to_string(),
        tags: i.tags.clone(),
        comments: i.comments.iter().map(comment_out).collect(),
        alerts: i.alerts.iter().map(alert_to_wire).collect(),
    }
}

/// An incident (with its alerts) as the Defender API writes it.
pub fn incident_to_json(i: &Incident, view: &View) -> Value {
    serde_json::to_value(incident_to_wire(i, view)).unwrap_or(Value::Null)
}

pub fn alert_to_wire(a: &Alert) -> LegacyAlert {
    let (devices, entities) = evidence::to_legacy(&a.evidence);
    LegacyAlert {
        alert_id: a.id.clone(),
        incident_id: a.incident_id,
        service_source: a.service_source.legacy_name().to_string(),
        creation_time: a.created,
        last_updated_time: a.last_update,
        resolved_time: a.resolved,
        first_activity: a.first_activity,
        last_activity: a.last_activity,
        title: a.title.clone(),
        description: a.description.clone(),
        category: a.category.clone(),
        status: a.status.legacy_name().to_string(),
        severity: a.severity.legacy_name().to_string(),
        investigation_id: a.investigation_id,
        investigation_state: a.investigation_state.map(|s| s.legacy_name().to_string()),
        classification: a.classification.map(|c| c.legacy_name().to_string()),
        determination: a.determination.map(|d| d.legacy_name().to_string()),
        detection_source: a.detection_source.legacy_name().to_string(),
        assigned_to: a.assigned_to.clone(),
        actor_name: a.actor_name.clone(),
        threat_family_name: a.threat_family_name.clone(),
        mitre_techniques: a.mitre_techniques.clone(),
        devices,
        entities,
    }
}

fn opt_enum<E: WireEnum>(v: Option<String>) -> Result<Option<E>, String> {
    v.map(|s| E::parse_or_err(&s)).transpose()
}

/// Reads a Defender incident document (any documented enum spelling).
pub fn incident_from_json(v: &Value, tenant_id: &str) -> Result<Incident, String> {
    let w: LegacyIncident = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    incident_from_wire(w, tenant_id)
}

pub fn incident_from_wire(w: LegacyIncident, tenant_id: &str) -> Result<Incident, String> {
    let mut i = Incident::new(w.incident_id, tenant_id, &w.incident_name, w.created_time);
    i.web_url = w.incident_uri;
    i.redirect_incident_id = w.redirect_incident_id;
    i.last_update = w.last_update_time;
    i.assigned_to = w.assigned_to;
    i.classification = opt_enum(w.classification)?.unwrap_or(Classification::Unknown);
    i.determination = opt_enum(w.determination)?.unwrap_or(Determination::Unknown);
    i.detection_source = w.detection_source;
    i.status = IncidentStatus::parse_or_err(&w.status)?;
    i.severity = Severity::parse_or_err(&w.severity)?;
    i.tags = w.tags;
    i.comments = w.comments.into_iter().map(comment_in).collect();
    i.alerts = w
        .alerts
        .into_iter()
        .map(|a| alert_from_wire(a, tenant_id))
        .collect::<Result<_, _>>()?;
    Ok(i)
}

pub fn alert_from_wire(w: LegacyAlert, tenant_id: &str) -> Result<Alert, String> {
    let mut a = Alert::new(
        &w.alert_id,
        tenant_id,
        &w.title,
        Severity::parse_or_err(&w.severity)?,
        w.creation_time,
    );
    a.provider_alert_id = None;
    a.incident_id = w.incident_id;
    a.service_source = ServiceSource::parse_or_err(&w.service_source)?;
    a.detection_source = DetectionSource::parse_or_err(&w.detection_source)?;
    a.last_update = w.last_updated_time;
    a.resolved = w.resolved_time;
    a.first_activity = w.first_activity;
    a.last_activity = w.last_activity;
    a.description = w.description;
    a.category = w.category;
    a.status = AlertStatus::parse_or_err(&w.status)?;
    a.investigation_id = w.investigation_id;
    a.investigation_state = opt_enum(w.investigation_state)?;
    a.classification = opt_enum(w.classification)?;
    a.determination = opt_enum(w.determination)?;
    a.assigned_to = w.assigned_to;
    a.actor_name = w.actor_name;
    a.threat_family_name = w.threat_family_name;
    a.mitre_techniques = w.mitre_techniques;
    let mut ev = Vec::new();
    for d in &w.devices {
        ev.push(evidence::from_device(d)?);
    }
    for e in &w.entities {
        ev.push(evidence::from_entity(e)?);
    }
    a.evidence = ev;
    Ok(a)
}
