//! Detection rules and alerts from hunting rows: what a rule is, when it is due, how a
//! result row becomes an alert, and how rows of the `AlertInfo`/`AlertEvidence` hunting
//! tables become alerts. Pure: the server runs the queries (its KQL engine) and stores the
//! alerts.
//!
//! A rule's alert is de-duplicated across runs by its id: a hash of the rule id, the
//! row's mapped entity values and its `Timestamp` (for rows without one, the lookback
//! period the run falls in), so a row seen again by an overlapping lookback is the same
//! alert.

use crate::enums::{DetectionSource, ServiceSource, Severity, WireEnum};
use crate::evidence::string_list;
use crate::model::{Alert, Evidence, EvidenceKind};
use crate::time::Time;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// What a result column holds, for an alert's evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EntityKind {
    /// `DeviceId` (the MDE id).
    DeviceId,
    /// `DeviceName`, `RemoteDeviceName`.
    DeviceName,
    /// `AccountUpn`, `InitiatingProcessAccountUpn`.
    UserPrincipalName,
    /// `AccountName`.
    AccountName,
    /// `AccountSid`.
    AccountSid,
    /// `AccountObjectId`.
    AccountObjectId,
    /// `SHA256`.
    Sha256,
    /// `SHA1`.
    Sha1,
    /// `RemoteIP`, `IPAddress`, `SenderIPv4`.
    Ip,
    /// `RemoteUrl`, `Url`.
    Url,
    /// `RecipientEmailAddress`.
    Mailbox,
}

impl EntityKind {
    pub fn parse(s: &str) -> Option<EntityKind> {
        serde_json::from_value(json!(s)).ok().or_else(|| {
            let k = crate::enums::fold(s);
            Some(match k.as_str() {
                "device" | "deviceid" | "machine" => EntityKind::DeviceId,
                "devicename" | "host" => EntityKind::DeviceName,
                "user" | "upn" | "accountupn" | "userprincipalname" => {
                    EntityKind::UserPrincipalName
                }
                "accountname" | "account" => EntityKind::AccountName,
                "accountsid" | "sid" => EntityKind::AccountSid,
                "accountobjectid" | "aaduserid" => EntityKind::AccountObjectId,
                "sha256" | "filehash" | "file" => EntityKind::Sha256,
                "sha1" => EntityKind::Sha1,
                "ip" | "ipaddress" | "remoteip" => EntityKind::Ip,
                "url" | "remoteurl" => EntityKind::Url,
                "mailbox" | "recipientemailaddress" | "email" => EntityKind::Mailbox,
                _ => return None,
            })
        })
    }
}

/// The entity a result column is read as, when a rule names none: the Defender columns
/// that identify devices, users, files, addresses and mailboxes.
pub fn default_entity(column: &str) -> Option<EntityKind> {
    Some(match column {
        "DeviceId" => EntityKind::DeviceId,
        "DeviceName" | "RemoteDeviceName" => EntityKind::DeviceName,
        "AccountUpn" | "InitiatingProcessAccountUpn" | "UserPrincipalName" => {
            EntityKind::UserPrincipalName
        }
        "AccountName" | "InitiatingProcessAccountName" => EntityKind::AccountName,
        "AccountSid" | "InitiatingProcessAccountSid" => EntityKind::AccountSid,
        "AccountObjectId" | "InitiatingProcessAccountObjectId" => EntityKind::AccountObjectId,
        "SHA256" => EntityKind::Sha256,
        "SHA1" => EntityKind::Sha1,
        "RemoteIP" | "IPAddress" | "SenderIPv4" => EntityKind::Ip,
        "RemoteUrl" | "Url" => EntityKind::Url,
        "RecipientEmailAddress" => EntityKind::Mailbox,
        _ => return None,
    })
}

/// A scheduled detection: a KQL query whose result rows become alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetectionRule {
    pub id: String,
    pub name: String,
    pub query: String,
    /// How often it runs.
    pub period_secs: i64,
    /// How far back each run looks (the query sees only events in `[run - lookback, run)`).
    pub lookback_secs: i64,
    pub severity: Severity,
    pub category: String,
    #[serde(default)]
    pub mitre_techniques: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub recommended_actions: Option<String>,
    /// Result column → entity; empty: [`default_entity`] of each column.
    #[serde(default)]
    pub entities: BTreeMap<String, EntityKind>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub last_run: Option<Time>,
    /// Alerts the rule has raised (new ones, not duplicates).
    #[serde(default)]
    pub alerts_raised: u64,
    #[serde(default)]
    pub last_error: Option<String>,
}

fn yes() -> bool {
    true
}

/// `"90s"`, `"15m"`, `"1h"`, `"7d"`, ISO 8601 `"PT1H"`/`"P1D"`, or a number of seconds.
pub fn parse_duration(v: &Value) -> Result<i64, String> {
    let bad = || format!("{v} is not a duration (such as \"1h\", \"30m\", \"PT1H\" or seconds)");
    let secs = match v {
        Value::Number(n) => n.as_i64().ok_or_else(bad)?,
        Value::String(s) => {
            let s = s.trim();
            let upper = s.to_ascii_uppercase();
            if let Some(iso) = upper.strip_prefix('P') {
                let (days, time) = match iso.split_once('T') {
                    Some((d, t)) => (d, t),
                    None => (iso, ""),
                };
                let mut total = 0i64;
                if !days.is_empty() {
                    total += days
                        .strip_suffix('D')
                        .and_then(|d| d.parse::<i64>().ok())
                        .ok_or_else(bad)?
                        * 86400;
                }
                let mut num = String::new();
                for c in time.chars() {
                    match c {
                        '0'..='9' => num.push(c),
                        'H' | 'M' | 'S' => {
                            let n: i64 = num.parse().map_err(|_| bad())?;
                            total += n * match c {
                                'H' => 3600,
                                'M' => 60,
                                _ => 1,
                            };
                            num.clear();
                        }
                        _ => return Err(bad()),
                    }
                }
                if !num.is_empty() {
                    return Err(bad());
                }
                total
            } else {
                let (n, unit) =
                    s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
                let n: i64 = n.parse().map_err(|_| bad())?;
                n.checked_mul(match unit.trim() {
                    "" | "s" => 1,
                    "m" => 60,
                    "h" => 3600,
                    "d" => 86400,
                    _ => return Err(bad()),
                })
                .ok_or_else(bad)?
            }
        }
        _ => return Err(bad()),
    };
    if !(60..=30 * 86400).contains(&secs) {
        return Err(format!(
            "{v}: a duration must be between 1 minute and 30 days"
        ));
    }
    Ok(secs)
}

impl DetectionRule {
    /// Reads a rule from its JSON (`name`, `query`, `period`, `lookback`, `severity`,
    /// `category`, `mitreTechniques`, `description`, `recommendedActions`, `entities`
    /// (column → entity), `enabled`); `id` from the body or the argument.
    pub fn from_json(v: &Value, id: Option<&str>) -> Result<DetectionRule, String> {
        let m = v.as_object().ok_or("a rule must be a JSON object")?;
        const KEYS: &[&str] = &[
            "id",
            "name",
            "query",
            "period",
            "lookback",
            "severity",
            "category",
            "mitreTechniques",
            "description",
            "recommendedActions",
            "entities",
            "enabled",
        ];
        if let Some(k) = m.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!(
                "'{k}' is not a rule property ({})",
                KEYS.join(", ")
            ));
        }
        let text = |k: &str| -> Result<Option<String>, String> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("'{k}' must be a string")),
            }
        };
        let id = match (id, text("id")?) {
            (Some(a), Some(b)) if a != b => {
                return Err(format!("the body's id '{b}' is not '{a}'"));
            }
            (Some(a), _) => a.to_string(),
            (None, Some(b)) => b,
            (None, None) => return Err("'id' is required".into()),
        };
        if id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "'{id}' is not a rule id (1 to 64 letters, digits, '-', '_')"
            ));
        }
        let name = text("name")?
            .filter(|s| !s.trim().is_empty())
            .ok_or("'name' is required")?;
        let query = text("query")?
            .filter(|s| !s.trim().is_empty())
            .ok_or("'query' is required")?;
        let period_secs = parse_duration(m.get("period").unwrap_or(&json!("1h")))?;
        let lookback_secs = parse_duration(m.get("lookback").unwrap_or(&json!(period_secs)))?;
        let severity = match text("severity")? {
            Some(s) => Severity::parse_or_err(&s)?,
            None => Severity::Medium,
        };
        let mut entities = BTreeMap::new();
        match m.get("entities") {
            None | Some(Value::Null) => {}
            Some(Value::Object(e)) => {
                for (col, kind) in e {
                    let kind = kind
                        .as_str()
                        .and_then(EntityKind::parse)
                        .ok_or_else(|| format!("entities.{col}: {kind} is not an entity kind (deviceId, deviceName, userPrincipalName, accountName, accountSid, accountObjectId, sha256, sha1, ip, url, mailbox)"))?;
                    entities.insert(col.clone(), kind);
                }
            }
            Some(_) => return Err("'entities' must map result columns to entity kinds".into()),
        }
        Ok(DetectionRule {
            id,
            name,
            query,
            period_secs,
            lookback_secs,
            severity,
            category: text("category")?.unwrap_or_else(|| "SuspiciousActivity".into()),
            mitre_techniques: m
                .get("mitreTechniques")
                .map_or(Ok(Vec::new()), |v| string_list("mitreTechniques", v))?,
            description: text("description")?,
            recommended_actions: text("recommendedActions")?,
            entities,
            enabled: match m.get("enabled") {
                None | Some(Value::Null) => true,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err("'enabled' must be true or false".into()),
            },
            last_run: None,
            alerts_raised: 0,
            last_error: None,
        })
    }

    /// The rule as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "query": self.query,
            "period": format!("{}s", self.period_secs),
            "lookback": format!("{}s", self.lookback_secs),
            "severity": self.severity.graph_name(),
            "category": self.category,
            "mitreTechniques": self.mitre_techniques,
            "description": self.description,
            "recommendedActions": self.recommended_actions,
            "entities": self.entities,
            "enabled": self.enabled,
            "lastRunTime": self.last_run.map(|t| t.to_string()),
            "alertsRaised": self.alerts_raised,
            "lastError": self.last_error,
        })
    }

    /// Whether the rule should run at `now`: enabled, and never run or its period passed.
    pub fn is_due(&self, now: Time) -> bool {
        self.enabled
            && self
                .last_run
                .is_none_or(|last| last.plus_secs(self.period_secs) <= now)
    }

    /// The entity kind of `column` for this rule.
    fn entity_of(&self, column: &str) -> Option<EntityKind> {
        if self.entities.is_empty() {
            default_entity(column)
        } else {
            self.entities.get(column).copied()
        }
    }

    /// The alert of one result row (`columns[i]` names `row[i]`; cells as JSON, datetimes
    /// as strings), run at `run`.
    pub fn alert_from_row(
        &self,
        tenant: &str,
        columns: &[String],
        row: &[Value],
        run: Time,
    ) -> Alert {
        let mut found: Vec<(EntityKind, String)> = Vec::new();
        let mut timestamp = None;
        for (c, v) in columns.iter().zip(row) {
            let Some(s) = cell_text(v) else { continue };
            if c == "Timestamp" {
                timestamp = Time::parse(&s);
            }
            if let Some(kind) = self.entity_of(c) {
                found.push((kind, s));
            }
        }
        found.sort();
        found.dedup();
        let mut key = format!("{}|", self.id);
        for (k, v) in &found {
            key.push_str(&format!("{k:?}={v}|"));
        }
        match timestamp {
            Some(t) => key.push_str(&t.to_string()),
            None => {
                let bucket = run
                    .ticks()
                    .div_euclid(self.lookback_secs.max(1) * 10_000_000);
                key.push_str(&format!("window{bucket}"));
            }
        }
        let id = format!(
            "pg{:016x}{:016x}",
            fnv64(key.as_bytes(), 0),
            fnv64(key.as_bytes(), 1)
        );
        let mut a = Alert::new(&id, tenant, &self.name, self.severity, run);
        a.category = Some(self.category.clone());
        a.description = self.description.clone();
        a.recommended_actions = self.recommended_actions.clone();
        a.mitre_techniques = self.mitre_techniques.clone();
        a.detector_id = Some(self.id.clone());
        a.detection_source = DetectionSource::CustomDetection;
        a.service_source = ServiceSource::Microsoft365Defender;
        a.first_activity = Some(timestamp.unwrap_or(run));
        a.last_activity = Some(timestamp.unwrap_or(run));
        a.evidence = evidence_of(&found);
        a
    }
}

fn cell_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// FNV-1a, 64 bits, seeded.
fn fnv64(bytes: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Evidence from (entity kind, value) pairs: one device (id and name together), one user
/// (all its identifiers), one file (hashes), and one item per address, URL and mailbox.
fn evidence_of(found: &[(EntityKind, String)]) -> Vec<Evidence> {
    let mut out = Vec::new();
    let mut device = Map::new();
    let mut user = Map::new();
    let mut file = Map::new();
    for (k, v) in found {
        let v = json!(v);
        match k {
            EntityKind::DeviceId => {
                device.entry("mdeDeviceId").or_insert(v);
            }
            EntityKind::DeviceName => {
                device.entry("deviceDnsName").or_insert(v);
            }
            EntityKind::UserPrincipalName => {
                user.entry("userPrincipalName").or_insert(v);
            }
            EntityKind::AccountName => {
                user.entry("accountName").or_insert(v);
            }
            EntityKind::AccountSid => {
                user.entry("userSid").or_insert(v);
            }
            EntityKind::AccountObjectId => {
                user.entry("azureAdUserId").or_insert(v);
            }
            EntityKind::Sha256 => {
                file.entry("sha256").or_insert(v);
            }
            EntityKind::Sha1 => {
                file.entry("sha1").or_insert(v);
            }
            EntityKind::Ip => out.push(with(EvidenceKind::Ip, "ipAddress", v)),
            EntityKind::Url => out.push(with(EvidenceKind::Url, "url", v)),
            EntityKind::Mailbox => out.push(with(EvidenceKind::Mailbox, "primaryAddress", v)),
        }
    }
    let mut head = Vec::new();
    if !device.is_empty() {
        let mut e = Evidence::new(EvidenceKind::Device);
        e.props = device;
        head.push(e);
    }
    if !user.is_empty() {
        head.push(with(EvidenceKind::User, "userAccount", Value::Object(user)));
    }
    if !file.is_empty() {
        head.push(with(EvidenceKind::File, "fileDetails", Value::Object(file)));
    }
    head.extend(out);
    head
}

fn with(kind: EvidenceKind, key: &str, v: Value) -> Evidence {
    let mut e = Evidence::new(kind);
    e.props.insert(key.to_string(), v);
    e
}

/// Alerts from rows of `AlertInfo` joined with `AlertEvidence` (each row a map of column
/// to cell): one alert per `AlertId`, one evidence item per evidence row. Service and
/// detection sources are read in any documented spelling (the tables use the portal's
/// names, such as `Microsoft Defender for Endpoint`, `EDR`, `Custom detection`); unknown
/// ones are `unknown`.
pub fn alerts_from_alert_tables(tenant: &str, rows: &[Map<String, Value>]) -> Vec<Alert> {
    let mut by_id: BTreeMap<String, Alert> = BTreeMap::new();
    for r in rows {
        let s = |k: &str| r.get(k).and_then(cell_text);
        let Some(id) = s("AlertId") else { continue };
        let Some(time) = s("Timestamp").and_then(|t| Time::parse(&t)) else {
            continue;
        };
        let a = by_id.entry(id.clone()).or_insert_with(|| {
            let severity = s("Severity")
                .and_then(|v| Severity::parse(&v))
                .unwrap_or(Severity::Unknown);
            let mut a = Alert::new(&id, tenant, &s("Title").unwrap_or_default(), severity, time);
            a.category = s("Category");
            a.service_source = s("ServiceSource")
                .and_then(|v| ServiceSource::parse(&v))
                .unwrap_or(ServiceSource::Unknown);
            a.detection_source = s("DetectionSource")
                .and_then(|v| DetectionSource::parse(&v))
                .unwrap_or(DetectionSource::Unknown);
            a.mitre_techniques = s("AttackTechniques")
                .map(|t| techniques(&t))
                .unwrap_or_default();
            a
        });
        if let Some(e) = s("EntityType").and_then(|t| evidence_row(&t, &s))
            && !a.evidence.contains(&e)
        {
            a.evidence.push(e);
        }
        if time < a.activity_time() {
            a.first_activity = Some(time);
        }
    }
    by_id.into_values().collect()
}

/// `T1566.001, T1204` or a JSON array of them.
fn techniques(t: &str) -> Vec<String> {
    if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(t) {
        return items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect();
    }
    t.split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// One `AlertEvidence` row as evidence, by its `EntityType`.
fn evidence_row(entity_type: &str, s: &dyn Fn(&str) -> Option<String>) -> Option<Evidence> {
    let pairs = |ks: &[(&str, &str)]| {
        let mut m = Map::new();
        for (col, key) in ks {
            if let Some(v) = s(col) {
                m.insert((*key).to_string(), json!(v));
            }
        }
        m
    };
    let account = || {
        pairs(&[
            ("AccountName", "accountName"),
            ("AccountObjectId", "azureAdUserId"),
            ("AccountDomain", "domainName"),
            ("AccountUpn", "userPrincipalName"),
            ("AccountSid", "userSid"),
        ])
    };
    let file = || {
        pairs(&[
            ("SHA1", "sha1"),
            ("SHA256", "sha256"),
            ("FileName", "fileName"),
            ("FolderPath", "filePath"),
        ])
    };
    let mut e;
    match crate::enums::fold(entity_type).as_str() {
        "machine" | "device" => {
            e = Evidence::new(EvidenceKind::Device);
            e.props = pairs(&[("DeviceId", "mdeDeviceId"), ("DeviceName", "deviceDnsName")]);
            if let Some(ip) = s("LocalIP") {
                e.props.insert("ipInterfaces".into(), json!([ip]));
            }
        }
        "user" | "account" => e = with(EvidenceKind::User, "userAccount", Value::Object(account())),
        "file" => {
            e = with(EvidenceKind::File, "fileDetails", Value::Object(file()));
            if let Some(d) = s("DeviceId") {
                e.props.insert("mdeDeviceId".into(), json!(d));
            }
        }
        "process" => {
            e = with(EvidenceKind::Process, "imageFile", Value::Object(file()));
            if let Some(c) = s("ProcessCommandLine") {
                e.props.insert("processCommandLine".into(), json!(c));
            }
            if let Some(d) = s("DeviceId") {
                e.props.insert("mdeDeviceId".into(), json!(d));
            }
            let a = account();
            if !a.is_empty() {
                e.props.insert("userAccount".into(), Value::Object(a));
            }
        }
        "ip" => e = with(EvidenceKind::Ip, "ipAddress", json!(s("RemoteIP")?)),
        "url" => e = with(EvidenceKind::Url, "url", json!(s("RemoteUrl")?)),
        "mailbox" => {
            e = Evidence::new(EvidenceKind::Mailbox);
            e.props = pairs(&[
                ("AccountUpn", "primaryAddress"),
                ("AccountName", "displayName"),
            ]);
        }
        "mailmessage" => {
            e = Evidence::new(EvidenceKind::AnalyzedMessage);
            e.props = pairs(&[
                ("NetworkMessageId", "networkMessageId"),
                ("EmailSubject", "subject"),
                ("AccountUpn", "recipientEmailAddress"),
            ]);
        }
        "cloudapplication" | "oauthapplication" => {
            e = Evidence::new(EvidenceKind::CloudApplication);
            e.props = pairs(&[("Application", "displayName")]);
            if let Some(id) = s("ApplicationId").and_then(|v| v.parse::<i64>().ok()) {
                e.props.insert("appId".into(), json!(id));
            }
        }
        "registryvalue" | "registrykey" => {
            e = Evidence::new(EvidenceKind::RegistryValue);
            e.props = pairs(&[
                ("RegistryKey", "registryKey"),
                ("RegistryValueName", "registryValueName"),
                ("RegistryValueData", "registryValue"),
                ("DeviceId", "mdeDeviceId"),
            ]);
        }
        _ => return None,
    }
    if let Some(role) = s("EvidenceRole") {
        // `Impacted` and `Related` (the tables') are not Graph roles; keep them as detail.
        e.detailed_roles.push(role);
    }
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> DetectionRule {
        let v = json!({"id": "encoded-ps", "name": "Encoded PowerShell", "query": "DeviceProcessEvents | take 1",
                       "period": "1h", "lookback": "PT2H", "severity": "High", "category": "Execution",
                       "mitreTechniques": ["T1059.001"]});
        DetectionRule::from_json(&v, None).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn rules_read_and_validate() {
        let r = rule();
        assert_eq!(
            (r.period_secs, r.lookback_secs, r.severity),
            (3600, 7200, Severity::High)
        );
        for bad in [
            json!({"name": "x", "query": "q"}),
            json!({"id": "a b", "name": "x", "query": "q"}),
            json!({"id": "a", "query": "q"}),
            json!({"id": "a", "name": "x", "query": ""}),
            json!({"id": "a", "name": "x", "query": "q", "period": "1 fortnight"}),
            json!({"id": "a", "name": "x", "query": "q", "period": "10s"}),
            json!({"id": "a", "name": "x", "query": "q", "severity": "apocalyptic"}),
            json!({"id": "a", "name": "x", "query": "q", "entities": {"Col": "planet"}}),
            json!({"id": "a", "name": "x", "query": "q", "Period": "1h"}),
            json!([]),
        ] {
            assert!(DetectionRule::from_json(&bad, None).is_err(), "{bad}");
        }
        assert!(
            DetectionRule::from_json(&json!({"id": "a", "name": "x", "query": "q"}), Some("b"))
                .is_err()
        );
        assert_eq!(parse_duration(&json!("P1DT1H")), Ok(90000));
        assert_eq!(parse_duration(&json!(120)), Ok(120));
    }

    #[test]
    fn due_on_its_period() {
        let mut r = rule();
        let t0 = Time::from_ticks(0).plus_secs(1_800_000_000);
        assert!(r.is_due(t0));
        r.last_run = Some(t0);
        assert!(!r.is_due(t0.plus_secs(3599)));
        assert!(r.is_due(t0.plus_secs(3600)));
        r.enabled = false;
        assert!(!r.is_due(t0.plus_secs(7200)));
    }

    #[test]
    fn rows_become_deduplicated_alerts() {
        let r = rule();
        let cols: Vec<String> = [
            "Timestamp",
            "DeviceId",
            "DeviceName",
            "AccountUpn",
            "SHA256",
            "RemoteIP",
            "Other",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let row = [
            json!("2026-11-01T10:00:00Z"),
            json!("d1"),
            json!("wks-1"),
            json!("a@c.com"),
            json!("ff"),
            json!("1.2.3.4"),
            json!("x"),
        ];
        let run = Time::parse("2026-11-01T11:00:00Z").unwrap_or(Time::from_ticks(0));
        let a = r.alert_from_row("t", &cols, &row, run);
        assert_eq!(a.title, "Encoded PowerShell");
        assert_eq!(a.first_activity, Time::parse("2026-11-01T10:00:00Z"));
        let kinds: Vec<EvidenceKind> = a.evidence.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EvidenceKind::Device,
                EvidenceKind::User,
                EvidenceKind::File,
                EvidenceKind::Ip
            ]
        );
        // the same row in a later run: the same alert; another row: another
        assert_eq!(
            r.alert_from_row("t", &cols, &row, run.plus_secs(3600)).id,
            a.id
        );
        let mut other = row.clone();
        other[1] = json!("d2");
        assert_ne!(r.alert_from_row("t", &cols, &other, run).id, a.id);
    }

    #[test]
    fn alert_tables_become_alerts() {
        let rows: Vec<Map<String, Value>> = [
            json!({"Timestamp": "2026-11-01T10:00:00Z", "AlertId": "da1", "Title": "LSASS dump", "Category": "CredentialAccess",
                   "Severity": "High", "ServiceSource": "Microsoft Defender for Endpoint", "DetectionSource": "EDR",
                   "AttackTechniques": "[\"T1003.001\"]", "EntityType": "Machine", "DeviceId": "d1", "DeviceName": "wks-1"}),
            json!({"Timestamp": "2026-11-01T10:00:00Z", "AlertId": "da1", "EntityType": "User", "AccountUpn": "a@c.com", "EvidenceRole": "Impacted"}),
            json!({"Timestamp": "2026-11-01T09:00:00Z", "AlertId": "da2", "Title": "x", "Severity": "Low", "ServiceSource": "Nope", "EntityType": "Ip", "RemoteIP": "1.2.3.4"}),
        ]
        .into_iter()
        .filter_map(|v| v.as_object().cloned())
        .collect();
        let alerts = alerts_from_alert_tables("t", &rows);
        assert_eq!(alerts.len(), 2);
        let a = &alerts[0];
        assert_eq!((a.id.as_str(), a.severity), ("da1", Severity::High));
        assert_eq!(
            a.service_source,
            ServiceSource::MicrosoftDefenderForEndpoint
        );
        assert_eq!(
            a.detection_source,
            DetectionSource::MicrosoftDefenderForEndpoint
        );
        assert_eq!(a.mitre_techniques, ["T1003.001"]);
        assert_eq!(a.evidence.len(), 2);
        assert_eq!(a.evidence[1].detailed_roles, ["Impacted"]);
        assert_eq!(alerts[1].service_source, ServiceSource::Unknown);
    }
}
