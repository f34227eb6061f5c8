//! The documented enums. Each member has one Graph spelling (camelCase), one Defender
//! (legacy API) spelling and any other documented spellings; input in any of them is
//! accepted, case-insensitively and ignoring spaces and punctuation (so the prose
//! "Informational, expected activity" is `InformationalExpectedActivity`); output is the
//! canonical spelling of the shape being written.
//!
//! Graph's *evolvable* members (listed after `unknownFutureValue` in Graph's enum) are
//! written as `unknownFutureValue` unless the request asked for them
//! (`Prefer: include-unknown-enum-members`). `unknownFutureValue` itself is never a member:
//! it is refused on input.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `s` lower-cased without anything but letters and digits.
pub(crate) fn fold(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Implemented by every wire enum.
pub trait WireEnum: Sized + Copy + 'static {
    const TYPE_NAME: &'static str;
    fn all() -> &'static [Self];
    fn graph_name(self) -> &'static str;
    fn legacy_name(self) -> &'static str;
    fn is_evolvable(self) -> bool;
    fn parse(text: &str) -> Option<Self>;

    /// The Graph spelling, or `unknownFutureValue` for an evolvable member the client did
    /// not ask for.
    fn graph_view(self, include_unknown_enum_members: bool) -> &'static str {
        if self.is_evolvable() && !include_unknown_enum_members {
            "unknownFutureValue"
        } else {
            self.graph_name()
        }
    }

    /// The accepted (canonical Graph) spellings, for error messages.
    fn expected() -> String {
        Self::all()
            .iter()
            .map(|v| v.graph_name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// [`WireEnum::parse`] with an error naming the type and the accepted values.
    fn parse_or_err(text: &str) -> Result<Self, String> {
        Self::parse(text).ok_or_else(|| {
            format!(
                "'{text}' is not a valid {}; expected one of: {}",
                Self::TYPE_NAME,
                Self::expected()
            )
        })
    }
}

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($type_name:literal) {
            $( $variant:ident = ($graph:literal, $legacy:literal $(, evolvable $evo:tt)? $(; $($alias:literal),+)?) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl WireEnum for $name {
            const TYPE_NAME: &'static str = $type_name;
            fn all() -> &'static [Self] { &[$($name::$variant),+] }
            fn graph_name(self) -> &'static str { match self { $($name::$variant => $graph),+ } }
            fn legacy_name(self) -> &'static str { match self { $($name::$variant => $legacy),+ } }
            fn is_evolvable(self) -> bool {
                match self { $($name::$variant => wire_enum!(@evo $($evo)?)),+ }
            }
            fn parse(text: &str) -> Option<Self> {
                let k = fold(text);
                if k.is_empty() { return None; }
                $(
                    if k == fold($graph) || k == fold($legacy) $($(|| k == fold($alias))+)? {
                        return Some($name::$variant);
                    }
                )+
                None
            }
        }

        /// Stored (and serialised inside Peregrine) in the Graph spelling.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.graph_name())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse_or_err(&s).map_err(serde::de::Error::custom)
            }
        }
    };
    (@evo) => { false };
    (@evo $t:tt) => { true };
}

wire_enum! {
    /// Incident status (`incidentStatus`).
    pub enum IncidentStatus ("incident status") {
        Active = ("active", "Active"),
        Resolved = ("resolved", "Resolved"),
        InProgress = ("inProgress", "InProgress"),
        Redirected = ("redirected", "Redirected"),
        AwaitingAction = ("awaitingAction", "AwaitingAction", evolvable yes),
    }
}

impl IncidentStatus {
    /// Whether alerts may still join the incident.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            IncidentStatus::Active | IncidentStatus::InProgress | IncidentStatus::AwaitingAction
        )
    }
}

wire_enum! {
    /// Severity of incidents and alerts (`alertSeverity`); ordered, lowest first.
    pub enum Severity ("severity") {
        Unknown = ("unknown", "UnSpecified"; "Unspecified"),
        Informational = ("informational", "Informational"),
        Low = ("low", "Low"),
        Medium = ("medium", "Medium"),
        High = ("high", "High"),
    }
}

wire_enum! {
    /// `alertClassification`.
    pub enum Classification ("classification") {
        Unknown = ("unknown", "Unknown"),
        FalsePositive = ("falsePositive", "FalsePositive"),
        TruePositive = ("truePositive", "TruePositive"),
        InformationalExpectedActivity = ("informationalExpectedActivity", "InformationalExpectedActivity"; "Informational, expected activity"),
    }
}

wire_enum! {
    /// `alertDetermination`: the union of the list page, the resource page and the PATCH
    /// pages (which spell three members differently), emitted as the resource page does.
    /// Unset reads `NotAvailable` (Defender) / `unknown` (Graph).
    pub enum Determination ("determination") {
        Unknown = ("unknown", "NotAvailable"),
        Apt = ("apt", "Apt"),
        Malware = ("malware", "Malware"),
        SecurityPersonnel = ("securityPersonnel", "SecurityPersonnel"),
        SecurityTesting = ("securityTesting", "SecurityTesting"),
        UnwantedSoftware = ("unwantedSoftware", "UnwantedSoftware"),
        Other = ("other", "Other"),
        MultiStagedAttack = ("multiStagedAttack", "MultiStagedAttack"),
        CompromisedUser = ("compromisedUser", "CompromisedUser"; "CompromisedAccount"),
        Phishing = ("phishing", "Phishing"),
        MaliciousUserActivity = ("maliciousUserActivity", "MaliciousUserActivity"),
        Clean = ("clean", "Clean"; "NotMalicious"),
        InsufficientData = ("insufficientData", "InsufficientData"; "NoEnoughDataToValidate", "NotEnoughDataToValidate"),
        ConfirmedUserActivity = ("confirmedUserActivity", "ConfirmedUserActivity"; "ConfirmedActivity"),
        LineOfBusinessApplication = ("lineOfBusinessApplication", "LineOfBusinessApplication"),
    }
}

wire_enum! {
    /// Alert status (`alertStatus`). The Defender table's `Active` is read as `InProgress`.
    pub enum AlertStatus ("alert status") {
        Unknown = ("unknown", "Unknown"),
        New = ("new", "New"),
        InProgress = ("inProgress", "InProgress"; "Active"),
        Resolved = ("resolved", "Resolved"),
    }
}

wire_enum! {
    /// `serviceSource`; the Defender spellings are those of the documented examples.
    pub enum ServiceSource ("service source") {
        Unknown = ("unknown", "Unknown"),
        MicrosoftDefenderForEndpoint = ("microsoftDefenderForEndpoint", "MicrosoftDefenderATP"; "MicrosoftDefenderForEndpoint"),
        MicrosoftDefenderForIdentity = ("microsoftDefenderForIdentity", "AzureATP"; "MicrosoftDefenderForIdentity"),
        MicrosoftDefenderForCloudApps = ("microsoftDefenderForCloudApps", "MicrosoftCloudAppSecurity"; "MCAS"),
        MicrosoftDefenderForOffice365 = ("microsoftDefenderForOffice365", "OfficeATP"),
        Microsoft365Defender = ("microsoft365Defender", "Microsoft365Defender"; "MicrosoftDefenderXDR", "MTP"),
        AzureAdIdentityProtection = ("azureAdIdentityProtection", "AzureAdIdentityProtection"; "AAD"),
        MicrosoftAppGovernance = ("microsoftAppGovernance", "MicrosoftAppGovernance"; "AppGovernance"),
        DataLossPrevention = ("dataLossPrevention", "DataLossPrevention"; "DLP"),
        MicrosoftDefenderForCloud = ("microsoftDefenderForCloud", "MicrosoftDefenderForCloud", evolvable yes),
        MicrosoftSentinel = ("microsoftSentinel", "MicrosoftSentinel", evolvable yes),
    }
}

wire_enum! {
    /// `detectionSource`; the Defender spellings are those of the documented examples
    /// (`MCAS`, `WindowsDefenderAv`, `OfficeATP`) and the Defender portal's names.
    pub enum DetectionSource ("detection source") {
        Unknown = ("unknown", "Unknown"),
        MicrosoftDefenderForEndpoint = ("microsoftDefenderForEndpoint", "WindowsDefenderAtp"; "EDR"),
        Antivirus = ("antivirus", "WindowsDefenderAv"),
        SmartScreen = ("smartScreen", "WindowsDefenderSmartScreen"),
        CustomTi = ("customTi", "CustomerTI"),
        MicrosoftDefenderForOffice365 = ("microsoftDefenderForOffice365", "OfficeATP"),
        AutomatedInvestigation = ("automatedInvestigation", "AutomatedInvestigation"),
        MicrosoftThreatExperts = ("microsoftThreatExperts", "ThreatExperts"),
        CustomDetection = ("customDetection", "CustomDetection"),
        MicrosoftDefenderForIdentity = ("microsoftDefenderForIdentity", "AzureATP"),
        CloudAppSecurity = ("cloudAppSecurity", "MCAS"; "MicrosoftCloudAppSecurity"),
        Microsoft365Defender = ("microsoft365Defender", "Microsoft365Defender"; "MTP"),
        AzureAdIdentityProtection = ("azureAdIdentityProtection", "AzureAdIdentityProtection"),
        Manual = ("manual", "Manual"),
        MicrosoftDataLossPrevention = ("microsoftDataLossPrevention", "MicrosoftDataLossPrevention"),
        AppGovernancePolicy = ("appGovernancePolicy", "AppGovernancePolicy"),
        AppGovernanceDetection = ("appGovernanceDetection", "AppGovernanceDetection"),
        MicrosoftDefenderForCloud = ("microsoftDefenderForCloud", "MicrosoftDefenderForCloud", evolvable yes),
        MicrosoftDefenderForIoT = ("microsoftDefenderForIoT", "MicrosoftDefenderForIoT", evolvable yes),
        MicrosoftDefenderForServers = ("microsoftDefenderForServers", "MicrosoftDefenderForServers", evolvable yes),
        MicrosoftDefenderForStorage = ("microsoftDefenderForStorage", "MicrosoftDefenderForStorage", evolvable yes),
        MicrosoftDefenderForDns = ("microsoftDefenderForDNS", "MicrosoftDefenderForDNS", evolvable yes),
        MicrosoftDefenderForDatabases = ("microsoftDefenderForDatabases", "MicrosoftDefenderForDatabases", evolvable yes),
        MicrosoftDefenderForContainers = ("microsoftDefenderForContainers", "MicrosoftDefenderForContainers", evolvable yes),
        MicrosoftDefenderForNetwork = ("microsoftDefenderForNetwork", "MicrosoftDefenderForNetwork", evolvable yes),
        MicrosoftDefenderForAppService = ("microsoftDefenderForAppService", "MicrosoftDefenderForAppService", evolvable yes),
        MicrosoftDefenderForKeyVault = ("microsoftDefenderForKeyVault", "MicrosoftDefenderForKeyVault", evolvable yes),
        MicrosoftDefenderForResourceManager = ("microsoftDefenderForResourceManager", "MicrosoftDefenderForResourceManager", evolvable yes),
        MicrosoftDefenderForApiManagement = ("microsoftDefenderForApiManagement", "MicrosoftDefenderForApiManagement", evolvable yes),
        MicrosoftSentinel = ("microsoftSentinel", "MicrosoftSentinel", evolvable yes),
        NrtAlerts = ("nrtAlerts", "NrtAlerts", evolvable yes),
        ScheduledAlerts = ("scheduledAlerts", "ScheduledAlerts", evolvable yes),
        MicrosoftDefenderThreatIntelligenceAnalytics = ("microsoftDefenderThreatIntelligenceAnalytics", "MicrosoftDefenderThreatIntelligenceAnalytics", evolvable yes),
        BuiltInMl = ("builtInMl", "BuiltInMl", evolvable yes),
    }
}

wire_enum! {
    /// The Defender alert's `investigationState` (no Graph counterpart).
    pub enum InvestigationState ("investigation state") {
        Unknown = ("unknown", "Unknown"),
        Terminated = ("terminated", "Terminated"),
        SuccessfullyRemediated = ("successfullyRemediated", "SuccessfullyRemediated"),
        Benign = ("benign", "Benign"),
        Failed = ("failed", "Failed"),
        PartiallyRemediated = ("partiallyRemediated", "PartiallyRemediated"),
        Running = ("running", "Running"),
        PendingApproval = ("pendingApproval", "PendingApproval"),
        PendingResource = ("pendingResource", "PendingResource"),
        PartiallyInvestigated = ("partiallyInvestigated", "PartiallyInvestigated"),
        TerminatedByUser = ("terminatedByUser", "TerminatedByUser"),
        TerminatedBySystem = ("terminatedBySystem", "TerminatedBySystem"),
        Queued = ("queued", "Queued"),
        InnerFailure = ("innerFailure", "InnerFailure"),
        PreexistingAlert = ("preexistingAlert", "PreexistingAlert"),
        UnsupportedOs = ("unsupportedOs", "UnsupportedOs"),
        UnsupportedAlertType = ("unsupportedAlertType", "UnsupportedAlertType"),
        SuppressedAlert = ("suppressedAlert", "SuppressedAlert"),
    }
}

wire_enum! {
    /// `evidenceVerdict`.
    pub enum Verdict ("evidence verdict") {
        Unknown = ("unknown", "Unknown"),
        Suspicious = ("suspicious", "Suspicious"),
        Malicious = ("malicious", "Malicious"),
        NoThreatsFound = ("noThreatsFound", "NoThreatsFound"),
    }
}

wire_enum! {
    /// `evidenceRemediationStatus`.
    pub enum RemediationStatus ("evidence remediation status") {
        None = ("none", "None"),
        Remediated = ("remediated", "Remediated"),
        Prevented = ("prevented", "Prevented"),
        Blocked = ("blocked", "Blocked"),
        NotFound = ("notFound", "NotFound"),
        Active = ("active", "Active", evolvable yes),
        PendingApproval = ("pendingApproval", "PendingApproval", evolvable yes),
        Declined = ("declined", "Declined", evolvable yes),
        Unremediated = ("unremediated", "Unremediated", evolvable yes),
        Running = ("running", "Running", evolvable yes),
        PartiallyRemediated = ("partiallyRemediated", "PartiallyRemediated", evolvable yes),
    }
}

wire_enum! {
    /// `evidenceRole`.
    pub enum EvidenceRole ("evidence role") {
        Unknown = ("unknown", "Unknown"),
        Contextual = ("contextual", "Contextual"),
        Scanned = ("scanned", "Scanned"),
        Source = ("source", "Source"),
        Destination = ("destination", "Destination"),
        Created = ("created", "Created"),
        Added = ("added", "Added"),
        Compromised = ("compromised", "Compromised"),
        Edited = ("edited", "Edited"),
        Attacked = ("attacked", "Attacked"),
        Attacker = ("attacker", "Attacker"),
        CommandAndControl = ("commandAndControl", "CommandAndControl"),
        Loaded = ("loaded", "Loaded"),
        Suspicious = ("suspicious", "Suspicious"),
        PolicyViolator = ("policyViolator", "PolicyViolator"),
    }
}

/// An enum-valued evidence property: its accepted Graph values (`name`, evolvable).
pub(crate) struct PropEnum {
    pub values: &'static [(&'static str, bool)],
}

impl PropEnum {
    /// The canonical spelling of `text`, if it is a member.
    pub fn canonical(&self, text: &str) -> Option<(&'static str, bool)> {
        let k = fold(text);
        self.values.iter().copied().find(|(v, _)| fold(v) == k)
    }
}

pub(crate) const DETECTION_STATUS: PropEnum = PropEnum {
    values: &[
        ("detected", false),
        ("blocked", false),
        ("prevented", false),
    ],
};
pub(crate) const HEALTH_STATUS: PropEnum = PropEnum {
    values: &[
        ("active", false),
        ("inactive", false),
        ("impairedCommunication", false),
        ("noSensorData", false),
        ("noSensorDataImpairedCommunication", false),
        ("unknown", false),
    ],
};
pub(crate) const RISK_SCORE: PropEnum = PropEnum {
    values: &[
        ("none", false),
        ("informational", false),
        ("low", false),
        ("medium", false),
        ("high", false),
    ],
};
pub(crate) const ONBOARDING_STATUS: PropEnum = PropEnum {
    values: &[
        ("insufficientInfo", false),
        ("onboarded", false),
        ("canBeOnboarded", false),
        ("unsupported", false),
    ],
};
pub(crate) const DEFENDER_AV_STATUS: PropEnum = PropEnum {
    values: &[
        ("notReporting", false),
        ("disabled", false),
        ("notUpdated", false),
        ("updated", false),
        ("unknown", false),
        ("notSupported", false),
    ],
};
pub(crate) const CLOUD_PROVIDER: PropEnum = PropEnum {
    values: &[("unknown", false), ("azure", false)],
};
pub(crate) const ANTI_SPAM_DIRECTION: PropEnum = PropEnum {
    values: &[("inbound", false), ("outbound", false), ("intraorg", false)],
};
pub(crate) const DELIVERY_ACTION: PropEnum = PropEnum {
    values: &[
        ("delivered", false),
        ("deliveredAsSpam", false),
        ("junked", false),
        ("blocked", false),
        ("replaced", false),
    ],
};
pub(crate) const DELIVERY_LOCATION: PropEnum = PropEnum {
    values: &[
        ("inbox", false),
        ("external", false),
        ("junkFolder", false),
        ("quarantine", false),
        ("failed", false),
        ("dropped", false),
        ("deletedFolder", false),
        ("forwarded", false),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_spelling() {
        let cases: &[(&str, Determination)] = &[
            ("NotAvailable", Determination::Unknown),
            ("unknown", Determination::Unknown),
            ("CompromisedAccount", Determination::CompromisedUser),
            ("compromisedUser", Determination::CompromisedUser),
            ("ConfirmedActivity", Determination::ConfirmedUserActivity),
            ("NoEnoughDataToValidate", Determination::InsufficientData),
            ("notEnoughDataToValidate", Determination::InsufficientData),
            ("notMalicious", Determination::Clean),
            ("MULTISTAGEDATTACK", Determination::MultiStagedAttack),
        ];
        for (text, want) in cases {
            assert_eq!(Determination::parse(text), Some(*want), "{text}");
        }
        assert_eq!(
            Classification::parse("Informational, expected activity"),
            Some(Classification::InformationalExpectedActivity)
        );
        assert_eq!(Severity::parse("UnSpecified"), Some(Severity::Unknown));
        assert_eq!(AlertStatus::parse("Active"), Some(AlertStatus::InProgress));
        assert_eq!(
            ServiceSource::parse("MicrosoftDefenderATP"),
            Some(ServiceSource::MicrosoftDefenderForEndpoint)
        );
        assert_eq!(
            DetectionSource::parse("MCAS"),
            Some(DetectionSource::CloudAppSecurity)
        );
        for bad in ["", "unknownFutureValue", "Bogus", "  "] {
            assert_eq!(IncidentStatus::parse(bad), None, "{bad}");
            assert_eq!(Determination::parse(bad), None, "{bad}");
        }
        let e = IncidentStatus::parse_or_err("Closed")
            .err()
            .unwrap_or_default();
        assert!(e.contains("'Closed'") && e.contains("inProgress"), "{e}");
    }

    #[test]
    fn canonical_output() {
        assert_eq!(Determination::Unknown.legacy_name(), "NotAvailable");
        assert_eq!(Severity::Unknown.legacy_name(), "UnSpecified");
        assert_eq!(
            IncidentStatus::AwaitingAction.graph_view(false),
            "unknownFutureValue"
        );
        assert_eq!(
            IncidentStatus::AwaitingAction.graph_view(true),
            "awaitingAction"
        );
        assert_eq!(IncidentStatus::InProgress.graph_view(false), "inProgress");
        // every spelling of every member parses back to it
        fn all_round_trip<E: WireEnum + PartialEq + std::fmt::Debug>() {
            for v in E::all() {
                assert_eq!(E::parse(v.graph_name()), Some(*v));
                assert_eq!(E::parse(v.legacy_name()), Some(*v));
            }
        }
        all_round_trip::<IncidentStatus>();
        all_round_trip::<Severity>();
        all_round_trip::<Classification>();
        all_round_trip::<Determination>();
        all_round_trip::<AlertStatus>();
        all_round_trip::<ServiceSource>();
        all_round_trip::<DetectionSource>();
        all_round_trip::<InvestigationState>();
        all_round_trip::<Verdict>();
        all_round_trip::<RemediationStatus>();
        all_round_trip::<EvidenceRole>();
    }
}
