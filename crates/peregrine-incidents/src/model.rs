//! The incident and alert model, one set of types for both wire shapes.
//!
//! The Defender (legacy) API and Graph describe the same things with different names and
//! spellings: [`crate::legacy`] and [`crate::graph`] read and write their shapes, converting
//! through these types. An alert's evidence is kept in Graph's richer form
//! ([`Evidence`]); the Defender `devices` and `entities` are derived from it (and read
//! into it). What one shape has and the other has not (a device's `osProcessor`, an
//! entity's `deviceId` on an IP) is kept in the evidence's properties under its own name,
//! so a Defender document reads back the same.

use crate::enums::*;
use crate::time::Time;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A comment on an incident or alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub comment: String,
    pub created_by: Option<String>,
    pub created_time: Option<Time>,
}

/// Why an alert is in its incident: the entity it shares with an alert already there
/// (correlation), or that it started the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupingReason {
    /// The alert this reason is about.
    pub alert_id: String,
    /// `created` (the alert opened the incident), `joined` (it shares `entity` with
    /// `related_alert_id`), `merged` (it linked incident `merged_incident_id` into this one).
    pub kind: String,
    pub entity: Option<String>,
    pub related_alert_id: Option<String>,
    pub merged_incident_id: Option<i64>,
    pub time: Time,
    /// The reason in words.
    pub explanation: String,
}

/// An incident: a group of related alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: i64,
    pub tenant_id: String,
    /// The portal link, when it came with the incident (imported documents); otherwise
    /// the server makes one.
    #[serde(default)]
    pub web_url: Option<String>,
    pub redirect_incident_id: Option<i64>,
    /// `incidentName` / `displayName`.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub created: Time,
    pub last_update: Time,
    pub assigned_to: Option<String>,
    pub classification: Classification,
    pub determination: Determination,
    /// The Defender `detectionSource` of the incident (free text).
    #[serde(default)]
    pub detection_source: Option<String>,
    pub status: IncidentStatus,
    pub severity: Severity,
    /// `tags` / `customTags`.
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub system_tags: Vec<String>,
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// Filled when asked for (Defender always; Graph with `$expand=alerts`); stored apart.
    #[serde(skip)]
    pub alerts: Vec<Alert>,
    /// Why the alerts are grouped (Peregrine's own; not in either wire shape).
    #[serde(default)]
    pub grouping: Vec<GroupingReason>,
    /// Optimistic-concurrency row version (not serialised: it is the row's).
    #[serde(skip)]
    pub version: i64,
}

impl Incident {
    /// A new, empty incident.
    pub fn new(id: i64, tenant_id: &str, name: &str, now: Time) -> Incident {
        Incident {
            id,
            tenant_id: tenant_id.to_string(),
            web_url: None,
            redirect_incident_id: None,
            name: name.to_string(),
            description: None,
            created: now,
            last_update: now,
            assigned_to: None,
            classification: Classification::Unknown,
            determination: Determination::Unknown,
            detection_source: None,
            status: IncidentStatus::Active,
            severity: Severity::Unknown,
            tags: Vec::new(),
            system_tags: Vec::new(),
            comments: Vec::new(),
            alerts: Vec::new(),
            grouping: Vec::new(),
            version: 0,
        }
    }
}

/// An alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: String,
    #[serde(default)]
    pub provider_alert_id: Option<String>,
    pub incident_id: Option<i64>,
    pub tenant_id: String,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub incident_web_url: Option<String>,
    pub service_source: ServiceSource,
    pub detection_source: DetectionSource,
    #[serde(default)]
    pub detector_id: Option<String>,
    pub created: Time,
    pub last_update: Time,
    pub resolved: Option<Time>,
    pub first_activity: Option<Time>,
    pub last_activity: Option<Time>,
    pub title: String,
    pub description: Option<String>,
    #[serde(default)]
    pub recommended_actions: Option<String>,
    pub category: Option<String>,
    pub status: AlertStatus,
    pub severity: Severity,
    #[serde(default)]
    pub investigation_id: Option<i64>,
    #[serde(default)]
    pub investigation_state: Option<InvestigationState>,
    /// `null` on the Defender shape until set; `unknown` on Graph.
    pub classification: Option<Classification>,
    pub determination: Option<Determination>,
    pub assigned_to: Option<String>,
    /// `actorName` / `actorDisplayName`.
    #[serde(default)]
    pub actor_name: Option<String>,
    #[serde(default)]
    pub threat_display_name: Option<String>,
    #[serde(default)]
    pub threat_family_name: Option<String>,
    #[serde(default)]
    pub mitre_techniques: Vec<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub comments: Vec<Comment>,
    #[serde(default)]
    pub system_tags: Vec<String>,
    /// Optimistic-concurrency row version.
    #[serde(skip)]
    pub version: i64,
}

impl Alert {
    /// A new alert with the given essentials; the rest empty.
    pub fn new(id: &str, tenant_id: &str, title: &str, severity: Severity, now: Time) -> Alert {
        Alert {
            id: id.to_string(),
            provider_alert_id: Some(id.to_string()),
            incident_id: None,
            tenant_id: tenant_id.to_string(),
            web_url: None,
            incident_web_url: None,
            service_source: ServiceSource::Microsoft365Defender,
            detection_source: DetectionSource::CustomDetection,
            detector_id: None,
            created: now,
            last_update: now,
            resolved: None,
            first_activity: Some(now),
            last_activity: Some(now),
            title: title.to_string(),
            description: None,
            recommended_actions: None,
            category: None,
            status: AlertStatus::New,
            severity,
            investigation_id: None,
            investigation_state: None,
            classification: None,
            determination: None,
            assigned_to: None,
            actor_name: None,
            threat_display_name: None,
            threat_family_name: None,
            mitre_techniques: Vec::new(),
            evidence: Vec::new(),
            comments: Vec::new(),
            system_tags: Vec::new(),
            version: 0,
        }
    }

    /// When the alert's activity happened (for correlation windows): its first activity,
    /// else its creation.
    pub fn activity_time(&self) -> Time {
        self.first_activity.unwrap_or(self.created)
    }
}

/// The evidence types of Graph's `alertEvidence` (`@odata.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EvidenceKind {
    Device,
    File,
    Process,
    RegistryKey,
    RegistryValue,
    Ip,
    Url,
    User,
    Mailbox,
    AnalyzedMessage,
    MailCluster,
    CloudApplication,
    OauthApplication,
    SecurityGroup,
}

impl EvidenceKind {
    pub const ALL: &'static [EvidenceKind] = &[
        EvidenceKind::Device,
        EvidenceKind::File,
        EvidenceKind::Process,
        EvidenceKind::RegistryKey,
        EvidenceKind::RegistryValue,
        EvidenceKind::Ip,
        EvidenceKind::Url,
        EvidenceKind::User,
        EvidenceKind::Mailbox,
        EvidenceKind::AnalyzedMessage,
        EvidenceKind::MailCluster,
        EvidenceKind::CloudApplication,
        EvidenceKind::OauthApplication,
        EvidenceKind::SecurityGroup,
    ];

    /// `#microsoft.graph.security.<name>Evidence`.
    pub fn odata_type(self) -> &'static str {
        match self {
            EvidenceKind::Device => "#microsoft.graph.security.deviceEvidence",
            EvidenceKind::File => "#microsoft.graph.security.fileEvidence",
            EvidenceKind::Process => "#microsoft.graph.security.processEvidence",
            EvidenceKind::RegistryKey => "#microsoft.graph.security.registryKeyEvidence",
            EvidenceKind::RegistryValue => "#microsoft.graph.security.registryValueEvidence",
            EvidenceKind::Ip => "#microsoft.graph.security.ipEvidence",
            EvidenceKind::Url => "#microsoft.graph.security.urlEvidence",
            EvidenceKind::User => "#microsoft.graph.security.userEvidence",
            EvidenceKind::Mailbox => "#microsoft.graph.security.mailboxEvidence",
            EvidenceKind::AnalyzedMessage => "#microsoft.graph.security.analyzedMessageEvidence",
            EvidenceKind::MailCluster => "#microsoft.graph.security.mailClusterEvidence",
            EvidenceKind::CloudApplication => "#microsoft.graph.security.cloudApplicationEvidence",
            EvidenceKind::OauthApplication => "#microsoft.graph.security.oauthApplicationEvidence",
            EvidenceKind::SecurityGroup => "#microsoft.graph.security.securityGroupEvidence",
        }
    }

    /// The kind an `@odata.type` names (with or without `#`, any case).
    pub fn from_odata_type(t: &str) -> Option<EvidenceKind> {
        let t = t.trim_start_matches('#').to_ascii_lowercase();
        EvidenceKind::ALL
            .iter()
            .copied()
            .find(|k| k.odata_type()[1..].eq_ignore_ascii_case(&t))
    }
}

/// One piece of an alert's evidence: Graph's base properties, and the type's own in
/// `props` (Graph names; enum values in their canonical spelling).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub created: Option<Time>,
    pub verdict: Verdict,
    pub remediation_status: RemediationStatus,
    pub remediation_status_details: Option<String>,
    #[serde(default)]
    pub roles: Vec<EvidenceRole>,
    #[serde(default)]
    pub detailed_roles: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub props: Map<String, Value>,
}

impl Evidence {
    pub fn new(kind: EvidenceKind) -> Evidence {
        Evidence {
            kind,
            created: None,
            verdict: Verdict::Unknown,
            remediation_status: RemediationStatus::None,
            remediation_status_details: None,
            roles: Vec::new(),
            detailed_roles: Vec::new(),
            tags: Vec::new(),
            props: Map::new(),
        }
    }

    /// A string property (`a.b` reaches into an object property).
    pub fn str_prop(&self, path: &str) -> Option<&str> {
        let mut parts = path.split('.');
        let mut v = self.props.get(parts.next()?)?;
        for p in parts {
            v = v.get(p)?;
        }
        v.as_str().filter(|s| !s.is_empty())
    }
}
