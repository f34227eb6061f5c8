//! Updates (`PATCH`) of incidents and alerts: reading a body in either shape, checking it,
//! applying it.
//!
//! Property names are case-sensitive and unknown ones are refused (a wrong case is a bad
//! body, as on the Defender API); enum values are accepted in any documented spelling.
//! Omitted fields keep their values; `tags`/`customTags` replace the list; `comment`
//! appends one comment. A determination must fit the classification (spec §5.3's
//! per-classification lists, plus `other`, plus the deprecated list-page members under
//! `truePositive`); changing the classification resets a determination that no longer
//! fits to `NotAvailable`. Resolving an incident resolves its alerts
//! ([`resolves_alerts`], [`resolve_with_incident`]; the store writes them with the incident).

use crate::enums::*;
use crate::model::{Alert, Comment, Incident};
use crate::time::Time;
use serde_json::{Map, Value};

/// Which API the body came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Defender,
    Graph,
}

/// A checked incident update.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentPatch {
    pub status: Option<IncidentStatus>,
    /// `Some(None)` clears the owner.
    pub assigned_to: Option<Option<String>>,
    pub classification: Option<Classification>,
    pub determination: Option<Determination>,
    pub tags: Option<Vec<String>>,
    pub comment: Option<String>,
}

/// A checked alert update (Graph `alerts_v2`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertPatch {
    pub status: Option<AlertStatus>,
    pub assigned_to: Option<Option<String>>,
    pub classification: Option<Classification>,
    pub determination: Option<Determination>,
    pub comment: Option<String>,
}

fn object(body: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("the body must be a JSON object".into()),
        Err(e) => Err(format!("the body is not valid JSON: {e}")),
    }
}

fn enum_field<E: WireEnum>(k: &str, v: &Value) -> Result<E, String> {
    match v {
        Value::String(s) => E::parse_or_err(s),
        _ => Err(format!("'{k}' must be a string")),
    }
}

fn text(k: &str, v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(format!("'{k}' must be a string")),
    }
}

fn tag_list(k: &str, v: &Value) -> Result<Vec<String>, String> {
    let items = v
        .as_array()
        .ok_or_else(|| format!("'{k}' must be an array of strings"))?;
    items
        .iter()
        .map(|t| {
            t.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("'{k}' must be an array of strings"))
        })
        .collect()
}

impl IncidentPatch {
    /// Reads and checks a PATCH body of the given shape.
    pub fn parse(body: &[u8], shape: Shape) -> Result<IncidentPatch, String> {
        let mut p = IncidentPatch::default();
        for (k, v) in &object(body)? {
            match (k.as_str(), shape) {
                ("status", _) => {
                    let s: IncidentStatus = enum_field(k, v)?;
                    if s == IncidentStatus::AwaitingAction {
                        return Err(
                            "status 'awaitingAction' is set by Defender Experts only".into()
                        );
                    }
                    p.status = Some(s);
                }
                ("assignedTo", _) => p.assigned_to = Some(text(k, v)?),
                ("classification", _) => p.classification = Some(enum_field(k, v)?),
                ("determination", _) => p.determination = Some(enum_field(k, v)?),
                ("tags", Shape::Defender) | ("customTags", Shape::Graph) => {
                    p.tags = Some(tag_list(k, v)?)
                }
                ("comment", Shape::Defender) | ("resolvingComment", Shape::Graph) => {
                    p.comment = text(k, v)?.filter(|c| !c.trim().is_empty())
                }
                (k, Shape::Graph) if k.starts_with("@odata.") => {}
                (k, _) => return Err(format!("'{k}' is not a property that can be updated")),
            }
        }
        Ok(p)
    }

    /// Applies the update to `i` at `now`; `caller` signs a comment.
    pub fn apply(&self, i: &mut Incident, caller: &str, now: Time) -> Result<(), String> {
        let classification = self.classification.unwrap_or(i.classification);
        let determination = match (self.determination, self.classification) {
            (Some(d), _) => d,
            (None, Some(c)) if !fits(c, i.determination) => Determination::Unknown,
            (None, _) => i.determination,
        };
        if !fits(classification, determination) {
            return Err(format!(
                "determination '{}' does not fit classification '{}'",
                determination.legacy_name(),
                classification.legacy_name()
            ));
        }
        i.classification = classification;
        i.determination = determination;
        if let Some(s) = self.status {
            i.status = s;
        }
        if let Some(a) = &self.assigned_to {
            i.assigned_to = a.clone();
        }
        if let Some(t) = &self.tags {
            i.tags = t.clone();
        }
        if let Some(c) = &self.comment {
            i.comments.push(Comment {
                comment: c.clone(),
                created_by: Some(caller.to_string()),
                created_time: Some(now),
            });
        }
        i.last_update = now;
        Ok(())
    }
}

impl AlertPatch {
    pub fn parse(body: &[u8]) -> Result<AlertPatch, String> {
        let mut p = AlertPatch::default();
        for (k, v) in &object(body)? {
            match k.as_str() {
                "status" => p.status = Some(enum_field(k, v)?),
                "assignedTo" => p.assigned_to = Some(text(k, v)?),
                "classification" => p.classification = Some(enum_field(k, v)?),
                "determination" => p.determination = Some(enum_field(k, v)?),
                "comment" => p.comment = text(k, v)?.filter(|c| !c.trim().is_empty()),
                k if k.starts_with("@odata.") => {}
                k => return Err(format!("'{k}' is not a property that can be updated")),
            }
        }
        Ok(p)
    }

    pub fn apply(&self, a: &mut Alert, caller: &str, now: Time) -> Result<(), String> {
        let classification = self
            .classification
            .or(a.classification)
            .unwrap_or(Classification::Unknown);
        let current = a.determination.unwrap_or(Determination::Unknown);
        let determination = match (self.determination, self.classification) {
            (Some(d), _) => d,
            (None, Some(c)) if !fits(c, current) => Determination::Unknown,
            (None, _) => current,
        };
        if !fits(classification, determination) {
            return Err(format!(
                "determination '{}' does not fit classification '{}'",
                determination.graph_name(),
                classification.graph_name()
            ));
        }
        a.classification = Some(classification).filter(|c| *c != Classification::Unknown);
        a.determination = Some(determination).filter(|d| *d != Determination::Unknown);
        if let Some(s) = self.status {
            if s == AlertStatus::Resolved && a.status != AlertStatus::Resolved {
                a.resolved = Some(now);
            } else if s != AlertStatus::Resolved {
                a.resolved = None;
            }
            a.status = s;
        }
        if let Some(o) = &self.assigned_to {
            a.assigned_to = o.clone();
        }
        if let Some(c) = &self.comment {
            a.comments.push(Comment {
                comment: c.clone(),
                created_by: Some(caller.to_string()),
                created_time: Some(now),
            });
        }
        a.last_update = now;
        Ok(())
    }
}

/// Whether an incident going from status `was` to `now` resolves its alerts: a
/// transition to `Resolved` does (as in Defender); reopening leaves them alone.
pub fn resolves_alerts(was: IncidentStatus, now: IncidentStatus) -> bool {
    now == IncidentStatus::Resolved && was != IncidentStatus::Resolved
}

/// Resolves alert `a` with its incident at `now` (status, `resolved`, `last_update`);
/// whether it changed (an alert already resolved keeps its times).
pub fn resolve_with_incident(a: &mut Alert, now: Time) -> bool {
    if a.status == AlertStatus::Resolved {
        return false;
    }
    a.status = AlertStatus::Resolved;
    a.resolved = Some(now);
    a.last_update = now;
    true
}

/// Whether determination `d` may go with classification `c`.
pub fn fits(c: Classification, d: Determination) -> bool {
    use Determination as D;
    match (c, d) {
        (_, D::Unknown) => true,
        (Classification::Unknown, _) => false,
        (_, D::Other) => true,
        (Classification::TruePositive, d) => matches!(
            d,
            D::MultiStagedAttack
                | D::MaliciousUserActivity
                | D::CompromisedUser
                | D::Malware
                | D::Phishing
                | D::UnwantedSoftware
                | D::Apt
                | D::SecurityPersonnel
                | D::SecurityTesting
        ),
        (Classification::InformationalExpectedActivity, d) => matches!(
            d,
            D::SecurityTesting
                | D::LineOfBusinessApplication
                | D::ConfirmedUserActivity
                | D::SecurityPersonnel
        ),
        (Classification::FalsePositive, d) => matches!(d, D::Clean | D::InsufficientData),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident() -> Incident {
        Incident::new(1, "t", "x", Time::from_ticks(0))
    }

    #[test]
    fn documented_defender_body() -> Result<(), String> {
        let body = br#"{"status": "Resolved", "assignedTo": "secop2@contoso.com", "classification": "TruePositive",
            "determination": "Malware", "tags": ["Yossi's playground", "Don't mess with the Zohan"], "comment": "pen testing"}"#;
        let p = IncidentPatch::parse(body, Shape::Defender)?;
        let mut i = incident();
        let now = Time::from_ticks(5);
        p.apply(&mut i, "app-1", now)?;
        assert_eq!(i.status, IncidentStatus::Resolved);
        assert_eq!(i.assigned_to.as_deref(), Some("secop2@contoso.com"));
        assert_eq!(i.classification, Classification::TruePositive);
        assert_eq!(i.determination, Determination::Malware);
        assert_eq!(i.tags.len(), 2);
        assert_eq!(i.comments[0].created_by.as_deref(), Some("app-1"));
        assert_eq!(i.last_update, now);
        Ok(())
    }

    #[test]
    fn refusals() {
        let bad: &[(&[u8], Shape)] = &[
            (b"[]", Shape::Defender),
            (b"{", Shape::Defender),
            (br#"{"Status":"Resolved"}"#, Shape::Defender),
            (br#"{"status":"Closed"}"#, Shape::Defender),
            (br#"{"status":"awaitingAction"}"#, Shape::Graph),
            (br#"{"status":"unknownFutureValue"}"#, Shape::Graph),
            (br#"{"status":1}"#, Shape::Defender),
            (br#"{"tags":"x"}"#, Shape::Defender),
            (br#"{"customTags":["x"]}"#, Shape::Defender),
            (br#"{"tags":["x"]}"#, Shape::Graph),
            (br#"{"classification":"Maybe"}"#, Shape::Graph),
        ];
        for (body, shape) in bad {
            assert!(
                IncidentPatch::parse(body, *shape).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // a determination that does not fit the classification
        let p = IncidentPatch::parse(
            br#"{"classification":"FalsePositive","determination":"Malware"}"#,
            Shape::Defender,
        );
        let mut i = incident();
        assert!(
            p.and_then(|p| p.apply(&mut i, "a", Time::from_ticks(1)))
                .is_err()
        );
        assert_eq!(i.classification, Classification::Unknown, "nothing applied");
        let p = IncidentPatch::parse(br#"{"determination":"Malware"}"#, Shape::Defender);
        assert!(
            p.and_then(|p| p.apply(&mut i, "a", Time::from_ticks(1)))
                .is_err()
        );
    }

    #[test]
    fn patch_spellings_and_reset() -> Result<(), String> {
        let mut i = incident();
        IncidentPatch::parse(
            br#"{"classification":"truePositive","determination":"CompromisedAccount"}"#,
            Shape::Graph,
        )?
        .apply(&mut i, "a", Time::from_ticks(1))?;
        assert_eq!(i.determination, Determination::CompromisedUser);
        IncidentPatch::parse(br#"{"classification":"falsePositive"}"#, Shape::Graph)?.apply(
            &mut i,
            "a",
            Time::from_ticks(2),
        )?;
        assert_eq!(i.determination, Determination::Unknown);
        IncidentPatch::parse(
            br#"{"determination":"notEnoughDataToValidate","@odata.type":"x"}"#,
            Shape::Graph,
        )?
        .apply(&mut i, "a", Time::from_ticks(3))?;
        assert_eq!(i.determination, Determination::InsufficientData);
        Ok(())
    }
}
