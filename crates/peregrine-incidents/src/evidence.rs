//! Evidence in both shapes: Graph's polymorphic `alertEvidence` (`@odata.type`) and the
//! Defender alert's `devices` and `entities`, with the conversions between them.
//!
//! | Defender | Graph |
//! | --- | --- |
//! | `devices[]` | `deviceEvidence` (`mdatpDeviceId` ↔ `mdeDeviceId`, `aadDeviceId` ↔ `azureAdDeviceId`, `firstSeen` ↔ `firstSeenDateTime`; `osProcessor` kept aside) |
//! | `File` | `fileEvidence` (`fileDetails.{sha1,sha256,fileName,filePath}`, `deviceId` ↔ `mdeDeviceId`) |
//! | `Process` | `processEvidence` (ids, command line, creation times, `imageFile`, `userAccount`) |
//! | `User` | `userEvidence` (`userAccount`; `aadUserId` ↔ `azureAdUserId`) |
//! | `Ip`, `Url` | `ipEvidence`, `urlEvidence` |
//! | `MailBox` | `mailboxEvidence` (`mailboxDisplayName` ↔ `displayName`, `mailboxAddress` ↔ `primaryAddress`, `userPrincipalName` ↔ `upn`) |
//! | `MailMessage` | `analyzedMessageEvidence` (`sender` ↔ `p1Sender.emailAddress`, `recipient` ↔ `recipientEmailAddress`, `subject`, `deliveryAction`) |
//! | `MailCluster` | `mailClusterEvidence` (`clusterBy`) |
//! | `Registry` | `registryValueEvidence` (with a value) or `registryKeyEvidence` |
//! | `SecurityGroup` | `securityGroupEvidence` (`securityGroupName` ↔ `displayName`) |
//!
//! Graph's cloud- and OAuth-application evidence has no Defender entity and is left out of
//! `entities`.

use crate::enums::{self, EvidenceRole, PropEnum, RemediationStatus, Verdict, WireEnum};
use crate::model::{Evidence, EvidenceKind};
use crate::time::Time;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

const BASE_HEAD: &[&str] = &[
    "createdDateTime",
    "verdict",
    "remediationStatus",
    "remediationStatusDetails",
];
const BASE_TAIL: &[&str] = &["roles", "detailedRoles", "tags"];

/// The type's own properties in Graph's order (device evidence has its own full layout).
fn own_keys(kind: EvidenceKind) -> &'static [&'static str] {
    match kind {
        EvidenceKind::Device => &[],
        EvidenceKind::File => &["detectionStatus", "fileDetails", "mdeDeviceId"],
        EvidenceKind::Process => &[
            "processId",
            "parentProcessId",
            "processCommandLine",
            "processCreationDateTime",
            "parentProcessCreationDateTime",
            "detectionStatus",
            "mdeDeviceId",
            "imageFile",
            "parentProcessImageFile",
            "userAccount",
        ],
        EvidenceKind::RegistryKey => &["registryKey", "registryHive"],
        EvidenceKind::RegistryValue => &[
            "mdeDeviceId",
            "registryKey",
            "registryHive",
            "registryValue",
            "registryValueName",
            "registryValueType",
        ],
        EvidenceKind::Ip => &["ipAddress", "countryLetterCode"],
        EvidenceKind::Url => &["url"],
        EvidenceKind::User => &["userAccount"],
        EvidenceKind::Mailbox => &["displayName", "primaryAddress", "upn", "userAccount"],
        EvidenceKind::AnalyzedMessage => &[
            "networkMessageId",
            "internetMessageId",
            "subject",
            "language",
            "senderIp",
            "recipientEmailAddress",
            "antiSpamDirection",
            "deliveryAction",
            "deliveryLocation",
            "urn",
            "threats",
            "threatDetectionMethods",
            "urls",
            "urlCount",
            "attachmentsCount",
            "receivedDateTime",
            "p1Sender",
            "p2Sender",
        ],
        EvidenceKind::MailCluster => &[
            "clusterBy",
            "clusterByValue",
            "emailCount",
            "networkMessageIds",
            "query",
            "urn",
        ],
        EvidenceKind::CloudApplication => &[
            "appId",
            "displayName",
            "instanceId",
            "instanceName",
            "saasAppId",
        ],
        EvidenceKind::OauthApplication => &["appId", "displayName", "objectId", "publisher"],
        EvidenceKind::SecurityGroup => &[
            "activeDirectoryObjectGuid",
            "displayName",
            "distinguishedName",
            "friendlyName",
            "securityGroupId",
            "sid",
        ],
    }
}

/// Device evidence in the order of the documented example.
const DEVICE_LAYOUT: &[&str] = &[
    "createdDateTime",
    "verdict",
    "remediationStatus",
    "remediationStatusDetails",
    "firstSeenDateTime",
    "mdeDeviceId",
    "azureAdDeviceId",
    "deviceDnsName",
    "osPlatform",
    "osBuild",
    "version",
    "healthStatus",
    "riskScore",
    "rbacGroupId",
    "rbacGroupName",
    "onboardingStatus",
    "defenderAvStatus",
    "ipInterfaces",
    "loggedOnUsers",
    "roles",
    "detailedRoles",
    "tags",
    "vmMetadata",
];

/// Every Graph key of an evidence kind, in order.
pub fn graph_layout(kind: EvidenceKind) -> Vec<&'static str> {
    if kind == EvidenceKind::Device {
        return DEVICE_LAYOUT.to_vec();
    }
    BASE_HEAD
        .iter()
        .chain(own_keys(kind))
        .chain(BASE_TAIL)
        .copied()
        .collect()
}

const COLLECTIONS: &[&str] = &[
    "ipInterfaces",
    "loggedOnUsers",
    "threats",
    "threatDetectionMethods",
    "urls",
    "networkMessageIds",
];
const DATES: &[&str] = &[
    "firstSeenDateTime",
    "processCreationDateTime",
    "parentProcessCreationDateTime",
    "receivedDateTime",
];
const FILE_DETAILS: &[&str] = &[
    "sha1",
    "sha256",
    "md5",
    "sha265Ac",
    "fileName",
    "filePath",
    "fileSize",
    "filePublisher",
    "signer",
    "issuer",
];
const USER_ACCOUNT: &[&str] = &[
    "accountName",
    "azureAdUserId",
    "displayName",
    "domainName",
    "userPrincipalName",
    "userSid",
];
const EMAIL_SENDER: &[&str] = &["emailAddress", "displayName", "domainName"];
const VM_METADATA: &[&str] = &["vmId", "cloudProvider", "resourceId", "subscriptionId"];
const LOGGED_ON_USER: &[&str] = &["accountName", "domainName"];

fn prop_enum(key: &str) -> Option<&'static PropEnum> {
    Some(match key {
        "detectionStatus" => &enums::DETECTION_STATUS,
        "healthStatus" => &enums::HEALTH_STATUS,
        "riskScore" => &enums::RISK_SCORE,
        "onboardingStatus" => &enums::ONBOARDING_STATUS,
        "defenderAvStatus" => &enums::DEFENDER_AV_STATUS,
        "antiSpamDirection" => &enums::ANTI_SPAM_DIRECTION,
        "deliveryAction" => &enums::DELIVERY_ACTION,
        "deliveryLocation" => &enums::DELIVERY_LOCATION,
        _ => return None,
    })
}

/// `v` in the canonical spelling of the enum property `key` (or an error).
fn canonical_enum(key: &str, v: &Value) -> Result<Value, String> {
    let (Some(e), Value::String(s)) = (prop_enum(key), v) else {
        return Ok(v.clone());
    };
    e.canonical(s)
        .map(|(c, _)| Value::String(c.to_string()))
        .ok_or_else(|| {
            let names: Vec<&str> = e.values.iter().map(|(n, _)| *n).collect();
            format!(
                "'{s}' is not a valid {key}; expected one of: {}",
                names.join(", ")
            )
        })
}

fn canonical_date(key: &str, v: &Value) -> Result<Value, String> {
    match v {
        Value::String(s) => Time::parse(s)
            .map(|t| Value::String(t.to_string()))
            .ok_or_else(|| format!("{key}: '{s}' is not an ISO 8601 date-time")),
        Value::Null => Ok(Value::Null),
        _ => Err(format!("{key} must be a date-time string")),
    }
}

/// An object with exactly `keys`, in order (absent ones `null`).
fn shaped(v: &Value, keys: &[&str]) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for k in keys {
                let mut val = m.get(*k).cloned().unwrap_or(Value::Null);
                if *k == "cloudProvider" {
                    val = canonical_enum_in(&enums::CLOUD_PROVIDER, &val);
                }
                out.insert((*k).to_string(), val);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn canonical_enum_in(e: &PropEnum, v: &Value) -> Value {
    match v {
        Value::String(s) => e
            .canonical(s)
            .map_or_else(|| v.clone(), |(c, _)| Value::String(c.to_string())),
        _ => v.clone(),
    }
}

/// Reads one Graph `alertEvidence` object.
pub fn from_graph(v: &Value) -> Result<Evidence, String> {
    let Value::Object(m) = v else {
        return Err("an evidence item must be an object".into());
    };
    let t = m
        .get("@odata.type")
        .and_then(Value::as_str)
        .ok_or("an evidence item needs its '@odata.type'")?;
    let kind = EvidenceKind::from_odata_type(t)
        .ok_or_else(|| format!("'{t}' is not a supported evidence type"))?;
    let mut e = Evidence::new(kind);
    for (k, v) in m {
        match k.as_str() {
            "@odata.type" => {}
            "createdDateTime" => {
                e.created = match v {
                    Value::Null => None,
                    Value::String(s) => Some(
                        Time::parse(s)
                            .ok_or_else(|| format!("createdDateTime: '{s}' is not a date-time"))?,
                    ),
                    _ => return Err("createdDateTime must be a string".into()),
                }
            }
            "verdict" => e.verdict = enum_value::<Verdict>(v)?.unwrap_or(Verdict::Unknown),
            "remediationStatus" => {
                e.remediation_status =
                    enum_value::<RemediationStatus>(v)?.unwrap_or(RemediationStatus::None)
            }
            "remediationStatusDetails" => e.remediation_status_details = string_value(k, v)?,
            "roles" => e.roles = enum_list::<EvidenceRole>(k, v)?,
            "detailedRoles" => e.detailed_roles = string_list(k, v)?,
            "tags" => e.tags = string_list(k, v)?,
            _ if DATES.contains(&k.as_str()) => {
                e.props.insert(k.clone(), canonical_date(k, v)?);
            }
            _ => {
                e.props.insert(k.clone(), canonical_enum(k, v)?);
            }
        }
    }
    Ok(e)
}

fn enum_value<E: WireEnum>(v: &Value) -> Result<Option<E>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => E::parse_or_err(s).map(Some),
        _ => Err(format!("a {} must be a string", E::TYPE_NAME)),
    }
}

fn enum_list<E: WireEnum>(key: &str, v: &Value) -> Result<Vec<E>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|i| enum_value::<E>(i)?.ok_or_else(|| format!("{key}: null member")))
            .collect(),
        _ => Err(format!("{key} must be an array")),
    }
}

pub(crate) fn string_value(key: &str, v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(format!("{key} must be a string")),
    }
}

pub(crate) fn string_list(key: &str, v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{key} must be an array of strings"))
            })
            .collect(),
        _ => Err(format!("{key} must be an array of strings")),
    }
}

/// Writes one evidence item in Graph's shape (every key of its type; absent ones `null`,
/// absent collections `[]`).
pub fn to_graph(e: &Evidence, include_unknown_enum_members: bool) -> Value {
    let mut out = Map::new();
    out.insert("@odata.type".into(), json!(e.kind.odata_type()));
    for key in graph_layout(e.kind) {
        let v = match key {
            "createdDateTime" => e.created.map_or(Value::Null, |t| json!(t.to_string())),
            "verdict" => json!(e.verdict.graph_view(include_unknown_enum_members)),
            "remediationStatus" => {
                json!(
                    e.remediation_status
                        .graph_view(include_unknown_enum_members)
                )
            }
            "remediationStatusDetails" => json!(e.remediation_status_details),
            "roles" => json!(
                e.roles
                    .iter()
                    .map(|r| r.graph_view(include_unknown_enum_members))
                    .collect::<Vec<_>>()
            ),
            "detailedRoles" => json!(e.detailed_roles),
            "tags" => json!(e.tags),
            k => {
                let v = e.props.get(k).cloned().unwrap_or(Value::Null);
                match k {
                    _ if COLLECTIONS.contains(&k) && v.is_null() => json!([]),
                    "fileDetails" | "imageFile" | "parentProcessImageFile" => {
                        shaped(&v, FILE_DETAILS)
                    }
                    "userAccount" => shaped(&v, USER_ACCOUNT),
                    "p1Sender" | "p2Sender" => shaped(&v, EMAIL_SENDER),
                    "vmMetadata" => shaped(&v, VM_METADATA),
                    "loggedOnUsers" => match v {
                        Value::Array(items) => {
                            Value::Array(items.iter().map(|i| shaped(i, LOGGED_ON_USER)).collect())
                        }
                        other => other,
                    },
                    _ => v,
                }
            }
        };
        out.insert(key.to_string(), v);
    }
    Value::Object(out)
}

/// A Defender alert's device (`devices[]`), keys in the documented order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Device {
    #[serde(default, alias = "deviceId")]
    pub mdatp_device_id: Option<String>,
    #[serde(default)]
    pub aad_device_id: Option<String>,
    #[serde(default)]
    pub device_dns_name: Option<String>,
    #[serde(default)]
    pub os_platform: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub os_processor: Option<String>,
    #[serde(default)]
    pub os_build: Option<i64>,
    #[serde(default)]
    pub health_status: Option<String>,
    #[serde(default)]
    pub risk_score: Option<String>,
    #[serde(default)]
    pub rbac_group_name: Option<String>,
    #[serde(default)]
    pub rbac_group_id: Option<i64>,
    #[serde(default)]
    pub first_seen: Option<Time>,
}

/// A Defender alert's entity (`entities[]`): every key always present, `null` when it
/// does not apply; keys in the documented order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Entity {
    pub entity_type: String,
    #[serde(default)]
    pub sha1: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub file_path: Option<String>,
    #[serde(default)]
    pub process_id: Option<i64>,
    #[serde(default)]
    pub process_command_line: Option<String>,
    #[serde(default)]
    pub process_creation_time: Option<Time>,
    #[serde(default)]
    pub parent_process_id: Option<i64>,
    #[serde(default)]
    pub parent_process_creation_time: Option<Time>,
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub account_name: Option<String>,
    #[serde(default)]
    pub domain_name: Option<String>,
    #[serde(default)]
    pub user_sid: Option<String>,
    #[serde(default)]
    pub aad_user_id: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub mailbox_display_name: Option<String>,
    #[serde(default)]
    pub mailbox_address: Option<String>,
    #[serde(default)]
    pub cluster_by: Option<String>,
    #[serde(default)]
    pub sender: Option<String>,
    #[serde(default)]
    pub recipient: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub delivery_action: Option<String>,
    #[serde(default)]
    pub security_group_id: Option<String>,
    #[serde(default)]
    pub security_group_name: Option<String>,
    #[serde(default)]
    pub registry_hive: Option<String>,
    #[serde(default)]
    pub registry_key: Option<String>,
    #[serde(default)]
    pub registry_value_type: Option<String>,
    #[serde(default)]
    pub registry_value: Option<String>,
    #[serde(default)]
    pub device_id: Option<String>,
}

/// The Defender entity types, canonical spelling first.
const ENTITY_TYPES: &[&str] = &[
    "User",
    "Ip",
    "Url",
    "File",
    "Process",
    "MailBox",
    "MailMessage",
    "MailCluster",
    "Registry",
    "SecurityGroup",
];

fn put(m: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v.filter(|v| !v.is_null()) {
        m.insert(key.to_string(), v);
    }
}

fn opt_json<T: Serialize>(v: &Option<T>) -> Option<Value> {
    v.as_ref().and_then(|v| serde_json::to_value(v).ok())
}

/// An object of the non-null pairs, or `None` when all are null.
fn object(pairs: &[(&str, Option<Value>)]) -> Option<Value> {
    let mut m = Map::new();
    for (k, v) in pairs {
        put(&mut m, k, v.clone());
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// `Active` from `active`: the Defender spelling of a Graph enum value.
fn pascal(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// A Defender device as device evidence.
pub fn from_device(d: &Device) -> Result<Evidence, String> {
    let mut e = Evidence::new(EvidenceKind::Device);
    let m = &mut e.props;
    put(
        m,
        "firstSeenDateTime",
        d.first_seen.map(|t| json!(t.to_string())),
    );
    put(m, "mdeDeviceId", opt_json(&d.mdatp_device_id));
    put(m, "azureAdDeviceId", opt_json(&d.aad_device_id));
    put(m, "deviceDnsName", opt_json(&d.device_dns_name));
    put(m, "osPlatform", opt_json(&d.os_platform));
    put(m, "osBuild", opt_json(&d.os_build));
    put(m, "version", opt_json(&d.version));
    if let Some(h) = &d.health_status {
        m.insert(
            "healthStatus".into(),
            canonical_enum("healthStatus", &json!(h))?,
        );
    }
    if let Some(r) = &d.risk_score {
        m.insert("riskScore".into(), canonical_enum("riskScore", &json!(r))?);
    }
    put(m, "rbacGroupId", opt_json(&d.rbac_group_id));
    put(m, "rbacGroupName", opt_json(&d.rbac_group_name));
    // Not in Graph's device evidence: kept for the Defender shape.
    put(m, "osProcessor", opt_json(&d.os_processor));
    Ok(e)
}

/// A Defender entity as evidence.
pub fn from_entity(en: &Entity) -> Result<Evidence, String> {
    let ty = ENTITY_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(&en.entity_type))
        .ok_or_else(|| {
            format!(
                "'{}' is not a valid entityType; expected one of: {}",
                en.entity_type,
                ENTITY_TYPES.join(", ")
            )
        })?;
    let file = || {
        object(&[
            ("sha1", opt_json(&en.sha1)),
            ("sha256", opt_json(&en.sha256)),
            ("fileName", opt_json(&en.file_name)),
            ("filePath", opt_json(&en.file_path)),
        ])
    };
    let account = || {
        object(&[
            ("accountName", opt_json(&en.account_name)),
            ("azureAdUserId", opt_json(&en.aad_user_id)),
            ("domainName", opt_json(&en.domain_name)),
            ("userPrincipalName", opt_json(&en.user_principal_name)),
            ("userSid", opt_json(&en.user_sid)),
        ])
    };
    let kind = match *ty {
        "User" => EvidenceKind::User,
        "Ip" => EvidenceKind::Ip,
        "Url" => EvidenceKind::Url,
        "File" => EvidenceKind::File,
        "Process" => EvidenceKind::Process,
        "MailBox" => EvidenceKind::Mailbox,
        "MailMessage" => EvidenceKind::AnalyzedMessage,
        "MailCluster" => EvidenceKind::MailCluster,
        "SecurityGroup" => EvidenceKind::SecurityGroup,
        _ if en.registry_value.is_some() || en.registry_value_type.is_some() => {
            EvidenceKind::RegistryValue
        }
        _ => EvidenceKind::RegistryKey,
    };
    let mut e = Evidence::new(kind);
    let m = &mut e.props;
    match kind {
        EvidenceKind::User => put(m, "userAccount", account()),
        EvidenceKind::Ip => put(m, "ipAddress", opt_json(&en.ip_address)),
        EvidenceKind::Url => put(m, "url", opt_json(&en.url)),
        EvidenceKind::File => put(m, "fileDetails", file()),
        EvidenceKind::Process => {
            put(m, "processId", opt_json(&en.process_id));
            put(m, "parentProcessId", opt_json(&en.parent_process_id));
            put(m, "processCommandLine", opt_json(&en.process_command_line));
            put(
                m,
                "processCreationDateTime",
                opt_json(&en.process_creation_time),
            );
            put(
                m,
                "parentProcessCreationDateTime",
                opt_json(&en.parent_process_creation_time),
            );
            put(m, "imageFile", file());
            put(m, "userAccount", account());
        }
        EvidenceKind::Mailbox => {
            put(m, "displayName", opt_json(&en.mailbox_display_name));
            put(m, "primaryAddress", opt_json(&en.mailbox_address));
            put(m, "upn", opt_json(&en.user_principal_name));
        }
        EvidenceKind::AnalyzedMessage => {
            put(m, "subject", opt_json(&en.subject));
            put(m, "recipientEmailAddress", opt_json(&en.recipient));
            if let Some(a) = &en.delivery_action {
                m.insert(
                    "deliveryAction".into(),
                    canonical_enum("deliveryAction", &json!(a))?,
                );
            }
            put(
                m,
                "p1Sender",
                object(&[("emailAddress", opt_json(&en.sender))]),
            );
            put(m, "userPrincipalName", opt_json(&en.user_principal_name));
        }
        EvidenceKind::MailCluster => put(m, "clusterBy", opt_json(&en.cluster_by)),
        EvidenceKind::SecurityGroup => {
            put(m, "securityGroupId", opt_json(&en.security_group_id));
            put(m, "displayName", opt_json(&en.security_group_name));
        }
        EvidenceKind::RegistryKey | EvidenceKind::RegistryValue => {
            put(m, "registryHive", opt_json(&en.registry_hive));
            put(m, "registryKey", opt_json(&en.registry_key));
            put(m, "registryValueType", opt_json(&en.registry_value_type));
            put(m, "registryValue", opt_json(&en.registry_value));
        }
        _ => {}
    }
    // The related device of any entity.
    put(m, "mdeDeviceId", opt_json(&en.device_id));
    Ok(e)
}

/// What the Defender shape shows of `evidence`: its devices and its entities.
pub fn to_legacy(evidence: &[Evidence]) -> (Vec<Device>, Vec<Entity>) {
    let mut devices = Vec::new();
    let mut entities = Vec::new();
    for e in evidence {
        let s = |k: &str| e.str_prop(k).map(str::to_string);
        let i = |k: &str| e.props.get(k).and_then(Value::as_i64);
        let t = |k: &str| e.str_prop(k).and_then(Time::parse);
        if e.kind == EvidenceKind::Device {
            devices.push(Device {
                mdatp_device_id: s("mdeDeviceId"),
                aad_device_id: s("azureAdDeviceId"),
                device_dns_name: s("deviceDnsName"),
                os_platform: s("osPlatform"),
                version: s("version"),
                os_processor: s("osProcessor"),
                os_build: i("osBuild"),
                health_status: s("healthStatus").map(|v| pascal(&v)),
                risk_score: s("riskScore").map(|v| pascal(&v)),
                rbac_group_name: s("rbacGroupName"),
                rbac_group_id: i("rbacGroupId"),
                first_seen: t("firstSeenDateTime"),
            });
            continue;
        }
        let mut en = Entity {
            device_id: s("mdeDeviceId"),
            ..Entity::default()
        };
        let file = |en: &mut Entity, prefix: &str| {
            en.sha1 = s(&format!("{prefix}.sha1"));
            en.sha256 = s(&format!("{prefix}.sha256"));
            en.file_name = s(&format!("{prefix}.fileName"));
            en.file_path = s(&format!("{prefix}.filePath"));
        };
        let account = |en: &mut Entity| {
            en.account_name = s("userAccount.accountName");
            en.domain_name = s("userAccount.domainName");
            en.user_sid = s("userAccount.userSid");
            en.aad_user_id = s("userAccount.azureAdUserId");
            en.user_principal_name = s("userAccount.userPrincipalName");
        };
        en.entity_type = match e.kind {
            EvidenceKind::User => {
                account(&mut en);
                "User"
            }
            EvidenceKind::Ip => {
                en.ip_address = s("ipAddress");
                "Ip"
            }
            EvidenceKind::Url => {
                en.url = s("url");
                "Url"
            }
            EvidenceKind::File => {
                file(&mut en, "fileDetails");
                "File"
            }
            EvidenceKind::Process => {
                file(&mut en, "imageFile");
                account(&mut en);
                en.process_id = i("processId");
                en.parent_process_id = i("parentProcessId");
                en.process_command_line = s("processCommandLine");
                en.process_creation_time = t("processCreationDateTime");
                en.parent_process_creation_time = t("parentProcessCreationDateTime");
                "Process"
            }
            EvidenceKind::Mailbox => {
                en.mailbox_display_name = s("displayName");
                en.mailbox_address = s("primaryAddress");
                en.user_principal_name = s("upn");
                "MailBox"
            }
            EvidenceKind::AnalyzedMessage => {
                en.sender = s("p1Sender.emailAddress");
                en.recipient = s("recipientEmailAddress");
                en.subject = s("subject");
                en.delivery_action = s("deliveryAction").map(|v| pascal(&v));
                en.user_principal_name = s("userPrincipalName");
                "MailMessage"
            }
            EvidenceKind::MailCluster => {
                en.cluster_by = s("clusterBy");
                "MailCluster"
            }
            EvidenceKind::SecurityGroup => {
                en.security_group_id = s("securityGroupId");
                en.security_group_name = s("displayName");
                "SecurityGroup"
            }
            EvidenceKind::RegistryKey | EvidenceKind::RegistryValue => {
                en.registry_hive = s("registryHive");
                en.registry_key = s("registryKey");
                en.registry_value_type = s("registryValueType");
                en.registry_value = s("registryValue");
                "Registry"
            }
            EvidenceKind::Device
            | EvidenceKind::CloudApplication
            | EvidenceKind::OauthApplication => continue,
        }
        .to_string();
        entities.push(en);
    }
    (devices, entities)
}

/// Account names that say nothing about who acted (they would join unrelated alerts).
const WELL_KNOWN_ACCOUNTS: &[&str] = &[
    "system",
    "local service",
    "localservice",
    "network service",
    "networkservice",
    "administrator",
    "guest",
    "root",
    "-",
];

/// The correlation keys of one evidence item: `device:`, `user:`, `file:`, `ip:` and
/// `mailbox:` followed by the lower-cased identifier. A device gives its MDE id and its
/// host name (without the domain); a user each identifier it has (UPN, the UPN's name
/// part, account name, SID, Entra object id), so evidence from different tables, which
/// carry different columns, still meets.
pub fn entity_keys(e: &Evidence) -> Vec<String> {
    let mut keys = Vec::new();
    let mut add = |prefix: &str, v: Option<&str>| {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            let k = format!("{prefix}:{}", v.to_ascii_lowercase());
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    };
    fn user(e: &Evidence, add: &mut dyn FnMut(&str, Option<&str>)) {
        let upn = e.str_prop("userAccount.userPrincipalName");
        add("user", upn);
        add("user", upn.and_then(|u| u.split('@').next()));
        add(
            "user",
            e.str_prop("userAccount.accountName")
                .filter(|n| !WELL_KNOWN_ACCOUNTS.contains(&n.to_ascii_lowercase().as_str())),
        );
        add("user", e.str_prop("userAccount.userSid"));
        add("user", e.str_prop("userAccount.azureAdUserId"));
    }
    match e.kind {
        EvidenceKind::Device => {
            add("device", e.str_prop("mdeDeviceId"));
            add(
                "device",
                e.str_prop("deviceDnsName")
                    .and_then(|n| n.split('.').next()),
            );
        }
        EvidenceKind::User | EvidenceKind::Process => user(e, &mut add),
        EvidenceKind::File => add(
            "file",
            e.str_prop("fileDetails.sha256")
                .or_else(|| e.str_prop("fileDetails.sha1")),
        ),
        EvidenceKind::Ip => add("ip", e.str_prop("ipAddress")),
        EvidenceKind::Mailbox => add(
            "mailbox",
            e.str_prop("primaryAddress").or_else(|| e.str_prop("upn")),
        ),
        EvidenceKind::AnalyzedMessage => add("mailbox", e.str_prop("recipientEmailAddress")),
        _ => {}
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_round_trips_through_evidence() -> Result<(), String> {
        let entities = [
            Entity {
                entity_type: "File".into(),
                sha256: Some("ab".into()),
                file_name: Some("x.exe".into()),
                device_id: Some("d1".into()),
                ..Entity::default()
            },
            Entity {
                entity_type: "Process".into(),
                process_id: Some(42),
                process_command_line: Some("x.exe -a".into()),
                account_name: Some("alice".into()),
                sha1: Some("s1".into()),
                ..Entity::default()
            },
            Entity {
                entity_type: "User".into(),
                account_name: Some("alice".into()),
                domain_name: Some("CONTOSO".into()),
                user_principal_name: Some("alice@contoso.com".into()),
                ..Entity::default()
            },
            Entity {
                entity_type: "MailBox".into(),
                mailbox_address: Some("a@c.com".into()),
                mailbox_display_name: Some("A".into()),
                ..Entity::default()
            },
            Entity {
                entity_type: "MailMessage".into(),
                sender: Some("evil@x.com".into()),
                recipient: Some("a@c.com".into()),
                delivery_action: Some("Delivered".into()),
                ..Entity::default()
            },
            Entity {
                entity_type: "Registry".into(),
                registry_key: Some("HKLM\\Run".into()),
                registry_value: Some("x".into()),
                ..Entity::default()
            },
            Entity {
                entity_type: "SecurityGroup".into(),
                security_group_name: Some("Admins".into()),
                ..Entity::default()
            },
        ];
        let evidence: Vec<Evidence> = entities.iter().map(from_entity).collect::<Result<_, _>>()?;
        let (devices, back) = to_legacy(&evidence);
        assert!(devices.is_empty());
        assert_eq!(back, entities);
        assert_eq!(entity_keys(&evidence[0]), vec!["file:ab"]);
        assert_eq!(
            entity_keys(&evidence[2]),
            vec!["user:alice@contoso.com", "user:alice"]
        );
        assert_eq!(entity_keys(&evidence[3]), vec!["mailbox:a@c.com"]);
        assert!(
            from_entity(&Entity {
                entity_type: "Planet".into(),
                ..Entity::default()
            })
            .is_err()
        );
        Ok(())
    }

    #[test]
    fn graph_enums_are_checked_and_canonical() -> Result<(), String> {
        let e = from_graph(&json!({
            "@odata.type": "#microsoft.graph.security.deviceEvidence",
            "verdict": "Malicious", "healthStatus": "Active", "riskScore": "HIGH",
            "roles": ["Compromised"], "mdeDeviceId": "d1"
        }))?;
        let g = to_graph(&e, false);
        assert_eq!(g["verdict"], "malicious");
        assert_eq!(g["healthStatus"], "active");
        assert_eq!(g["riskScore"], "high");
        assert_eq!(g["roles"], json!(["compromised"]));
        assert_eq!(g["ipInterfaces"], json!([]));
        assert_eq!(g["vmMetadata"], Value::Null);
        assert!(from_graph(&json!({"@odata.type": "#microsoft.graph.security.deviceEvidence", "healthStatus": "sleepy"})).is_err());
        assert!(
            from_graph(&json!({"@odata.type": "#microsoft.graph.security.planetEvidence"}))
                .is_err()
        );
        assert!(from_graph(&json!({"verdict": "unknown"})).is_err());
        // an evolvable remediation status is hidden unless asked for
        let e = from_graph(
            &json!({"@odata.type": "microsoft.graph.security.ipEvidence", "remediationStatus": "running"}),
        )?;
        assert_eq!(
            to_graph(&e, false)["remediationStatus"],
            "unknownFutureValue"
        );
        assert_eq!(to_graph(&e, true)["remediationStatus"], "running");
        Ok(())
    }
}
