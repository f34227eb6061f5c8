//! The Microsoft Graph shape: `microsoft.graph.security.incident` and
//! `microsoft.graph.security.alert` (spec §8.2–8.6).
//!
//! Enums are written in camelCase (evolvable members as `unknownFutureValue` unless asked
//! for); comments as `alertComment` (`comment`, `createdByDisplayName`, `createdDateTime`;
//! the incident examples' `createdBy`/`createdTime` are read too); tags as `customTags`
//! (`tags` is read too). Every documented property is written, `null` when unset.

use crate::View;
use crate::enums::*;
use crate::evidence::{self, string_list, string_value};
use crate::legacy::{alert_url, incident_url};
use crate::model::{Alert, Comment, Incident};
use crate::time::Time;
use serde_json::{Map, Value, json};

pub const INCIDENT_TYPE: &str = "#microsoft.graph.security.incident";
pub const ALERT_TYPE: &str = "#microsoft.graph.security.alert";

fn time(t: Option<Time>) -> Value {
    t.map_or(Value::Null, |t| json!(t.to_string()))
}

fn comments(cs: &[Comment]) -> Value {
    Value::Array(
        cs.iter()
            .map(|c| {
                json!({
                    "comment": c.comment,
                    "createdByDisplayName": c.created_by,
                    "createdDateTime": time(c.created_time),
                })
            })
            .collect(),
    )
}

/// An incident as Graph writes it; `alerts` only when `expand_alerts`.
pub fn incident_to_json(i: &Incident, view: &View, expand_alerts: bool) -> Value {
    let u = view.include_unknown_enum_members;
    let mut m = Map::new();
    m.insert("@odata.type".into(), json!(INCIDENT_TYPE));
    m.insert("id".into(), json!(i.id.to_string()));
    m.insert("incidentWebUrl".into(), json!(incident_url(i, view)));
    m.insert(
        "redirectIncidentId".into(),
        json!(i.redirect_incident_id.map(|r| r.to_string())),
    );
    m.insert("tenantId".into(), json!(i.tenant_id));
    m.insert("displayName".into(), json!(i.name));
    m.insert("createdDateTime".into(), time(Some(i.created)));
    m.insert("lastUpdateDateTime".into(), time(Some(i.last_update)));
    m.insert("assignedTo".into(), json!(i.assigned_to));
    m.insert(
        "classification".into(),
        json!(i.classification.graph_view(u)),
    );
    m.insert("determination".into(), json!(i.determination.graph_view(u)));
    m.insert("status".into(), json!(i.status.graph_view(u)));
    m.insert("severity".into(), json!(i.severity.graph_view(u)));
    m.insert("customTags".into(), json!(i.tags));
    m.insert("comments".into(), comments(&i.comments));
    m.insert("systemTags".into(), json!(i.system_tags));
    m.insert("description".into(), json!(i.description));
    if expand_alerts {
        m.insert(
            "alerts".into(),
            Value::Array(
                i.alerts
                    .iter()
                    .map(|a| alert_to_json(a, view, Some(i)))
                    .collect(),
            ),
        );
    }
    Value::Object(m)
}

/// An alert as Graph writes it (`incident`, when known, gives its portal link).
pub fn alert_to_json(a: &Alert, view: &View, incident: Option<&Incident>) -> Value {
    let u = view.include_unknown_enum_members;
    let incident_web_url = a.incident_web_url.clone().or_else(|| match incident {
        Some(i) => incident_url(i, view),
        None => a.incident_id.and_then(|id| {
            view.portal
                .map(|p| format!("{p}/incidents/{id}?tid={}", a.tenant_id))
        }),
    });
    let mut m = Map::new();
    m.insert("@odata.type".into(), json!(ALERT_TYPE));
    m.insert("id".into(), json!(a.id));
    m.insert("providerAlertId".into(), json!(a.provider_alert_id));
    m.insert(
        "incidentId".into(),
        json!(a.incident_id.map(|i| i.to_string())),
    );
    m.insert("status".into(), json!(a.status.graph_view(u)));
    m.insert("severity".into(), json!(a.severity.graph_view(u)));
    m.insert(
        "classification".into(),
        json!(
            a.classification
                .unwrap_or(Classification::Unknown)
                .graph_view(u)
        ),
    );
    m.insert(
        "determination".into(),
        json!(
            a.determination
                .unwrap_or(Determination::Unknown)
                .graph_view(u)
        ),
    );
    m.insert(
        "serviceSource".into(),
        json!(a.service_source.graph_view(u)),
    );
    m.insert(
        "detectionSource".into(),
        json!(a.detection_source.graph_view(u)),
    );
    m.insert("detectorId".into(), json!(a.detector_id));
    m.insert("tenantId".into(), json!(a.tenant_id));
    m.insert("title".into(), json!(a.title));
    m.insert("description".into(), json!(a.description));
    m.insert("recommendedActions".into(), json!(a.recommended_actions));
    m.insert("category".into(), json!(a.category));
    m.insert("assignedTo".into(), json!(a.assigned_to));
    m.insert("alertWebUrl".into(), json!(alert_url(a, view)));
    m.insert("incidentWebUrl".into(), json!(incident_web_url));
    m.insert("actorDisplayName".into(), json!(a.actor_name));
    m.insert("threatDisplayName".into(), json!(a.threat_display_name));
    m.insert("threatFamilyName".into(), json!(a.threat_family_name));
    m.insert("mitreTechniques".into(), json!(a.mitre_techniques));
    m.insert("createdDateTime".into(), time(Some(a.created)));
    m.insert("lastUpdateDateTime".into(), time(Some(a.last_update)));
    m.insert("resolvedDateTime".into(), time(a.resolved));
    m.insert("firstActivityDateTime".into(), time(a.first_activity));
    m.insert("lastActivityDateTime".into(), time(a.last_activity));
    m.insert("comments".into(), comments(&a.comments));
    m.insert(
        "evidence".into(),
        Value::Array(
            a.evidence
                .iter()
                .map(|e| evidence::to_graph(e, u))
                .collect(),
        ),
    );
    m.insert("systemTags".into(), json!(a.system_tags));
    Value::Object(m)
}

/// Fields of a Graph object, read with their own error messages.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, k: &str) -> Option<&Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }
    fn string(&self, k: &str) -> Result<Option<String>, String> {
        self.get(k).map_or(Ok(None), |v| string_value(k, v))
    }
    fn required(&self, k: &str) -> Result<String, String> {
        self.string(k)?.ok_or_else(|| format!("'{k}' is required"))
    }
    fn time(&self, k: &str) -> Result<Option<Time>, String> {
        self.string(k)?
            .map(|s| Time::parse(&s).ok_or_else(|| format!("{k}: '{s}' is not a date-time")))
            .transpose()
    }
    fn en<E: WireEnum>(&self, k: &str) -> Result<Option<E>, String> {
        self.string(k)?.map(|s| E::parse_or_err(&s)).transpose()
    }
    fn list(&self, k: &str) -> Result<Vec<String>, String> {
        self.get(k).map_or(Ok(Vec::new()), |v| string_list(k, v))
    }
    fn id(&self, k: &str) -> Result<Option<i64>, String> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(format!("{k} must be an id")),
            Some(Value::String(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| format!("{k}: '{s}' is not a numeric id")),
            Some(_) => Err(format!("{k} must be an id")),
        }
    }
    fn comments(&self) -> Result<Vec<Comment>, String> {
        let Some(v) = self.get("comments") else {
            return Ok(Vec::new());
        };
        let items = v.as_array().ok_or("comments must be an array")?;
        items
            .iter()
            .map(|c| {
                let c = Fields(c.as_object().ok_or("a comment must be an object")?);
                Ok(Comment {
                    comment: c.string("comment")?.unwrap_or_default(),
                    created_by: match c.string("createdByDisplayName")? {
                        Some(s) => Some(s),
                        None => c.string("createdBy")?,
                    },
                    created_time: match c.time("createdDateTime")? {
                        Some(t) => Some(t),
                        None => c.time("createdTime")?,
                    },
                })
            })
            .collect()
    }
}

/// Reads a Graph incident (with `alerts`, if present).
pub fn incident_from_json(v: &Value) -> Result<Incident, String> {
    let f = Fields(v.as_object().ok_or("an incident must be an object")?);
    let id = f.id("id")?.ok_or("'id' is required")?;
    let created = f
        .time("createdDateTime")?
        .ok_or("'createdDateTime' is required")?;
    let mut i = Incident::new(
        id,
        &f.required("tenantId")?,
        &f.required("displayName")?,
        created,
    );
    i.web_url = f.string("incidentWebUrl")?;
    i.redirect_incident_id = f.id("redirectIncidentId")?;
    i.last_update = f.time("lastUpdateDateTime")?.unwrap_or(created);
    i.assigned_to = f.string("assignedTo")?;
    i.classification = f.en("classification")?.unwrap_or(Classification::Unknown);
    i.determination = f.en("determination")?.unwrap_or(Determination::Unknown);
    i.status = f.en("status")?.unwrap_or(IncidentStatus::Active);
    i.severity = f.en("severity")?.unwrap_or(Severity::Unknown);
    i.tags = if f.get("customTags").is_some() {
        f.list("customTags")?
    } else {
        f.list("tags")?
    };
    i.system_tags = f.list("systemTags")?;
    i.description = f.string("description")?;
    i.comments = f.comments()?;
    if let Some(alerts) = f.get("alerts") {
        i.alerts = alerts
            .as_array()
            .ok_or("alerts must be an array")?
            .iter()
            .map(alert_from_json)
            .collect::<Result<_, _>>()?;
    }
    Ok(i)
}

/// Reads a Graph alert.
pub fn alert_from_json(v: &Value) -> Result<Alert, String> {
    let f = Fields(v.as_object().ok_or("an alert must be an object")?);
    let created = f
        .time("createdDateTime")?
        .ok_or("'createdDateTime' is required")?;
    let mut a = Alert::new(
        &f.required("id")?,
        &f.required("tenantId")?,
        &f.string("title")?.unwrap_or_default(),
        f.en("severity")?.unwrap_or(Severity::Unknown),
        created,
    );
    a.provider_alert_id = f.string("providerAlertId")?;
    a.incident_id = f.id("incidentId")?;
    a.web_url = f.string("alertWebUrl")?;
    a.incident_web_url = f.string("incidentWebUrl")?;
    a.status = f.en("status")?.unwrap_or(AlertStatus::Unknown);
    // Graph's `unknown` is the Defender shape's null.
    a.classification = f
        .en("classification")?
        .filter(|c| *c != Classification::Unknown);
    a.determination = f
        .en("determination")?
        .filter(|d| *d != Determination::Unknown);
    a.service_source = f.en("serviceSource")?.unwrap_or(ServiceSource::Unknown);
    a.detection_source = f.en("detectionSource")?.unwrap_or(DetectionSource::Unknown);
    a.detector_id = f.string("detectorId")?;
    a.description = f.string("description")?;
    a.recommended_actions = f.string("recommendedActions")?;
    a.category = f.string("category")?;
    a.assigned_to = f.string("assignedTo")?;
    a.actor_name = f.string("actorDisplayName")?;
    a.threat_display_name = f.string("threatDisplayName")?;
    a.threat_family_name = f.string("threatFamilyName")?;
    a.mitre_techniques = f.list("mitreTechniques")?;
    a.last_update = f.time("lastUpdateDateTime")?.unwrap_or(created);
    a.resolved = f.time("resolvedDateTime")?;
    a.first_activity = f.time("firstActivityDateTime")?;
    a.last_activity = f.time("lastActivityDateTime")?;
    a.comments = f.comments()?;
    a.system_tags = f.list("systemTags")?;
    if let Some(ev) = f.get("evidence") {
        a.evidence = ev
            .as_array()
            .ok_or("evidence must be an array")?
            .iter()
            .map(evidence::from_graph)
            .collect::<Result<_, _>>()?;
    }
    Ok(a)
}
