//! Column builders for one hunting table, addressed by pre-resolved column handles.
//!
//! A [`Sink`] holds one Arrow builder per column of the table's schema (exactly the types of
//! `peregrine_store::records::arrow_schema`). Generators write the values they have with
//! `s`/`l`/`i`/`b`/`t`, then call [`Sink::end`], which appends a null to every column the row
//! did not set. A handle of a column the table does not have, a value of the wrong type, or a
//! second value for the same column in one row is ignored, so a row can never misalign.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, DurationNanosecondBuilder, Float64Builder,
    Int32Builder, Int64Builder, StringBuilder, TimestampNanosecondBuilder, new_null_array,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use peregrine_store::{IngestError, Store};

/// A column of a sink (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Col(u16);

impl Col {
    pub(crate) const NONE: Col = Col(u16::MAX);
}

enum ColB {
    Str(StringBuilder),
    Bool(BooleanBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    F64(Float64Builder),
    Ts(TimestampNanosecondBuilder),
    Dur(DurationNanosecondBuilder),
    /// A type the generator never writes: all null.
    Null(DataType, usize),
}

impl ColB {
    fn new(dt: &DataType, cap: usize) -> Self {
        match dt {
            DataType::Utf8 => ColB::Str(StringBuilder::with_capacity(cap, cap * 16)),
            DataType::Boolean => ColB::Bool(BooleanBuilder::with_capacity(cap)),
            DataType::Int32 => ColB::I32(Int32Builder::with_capacity(cap)),
            DataType::Int64 => ColB::I64(Int64Builder::with_capacity(cap)),
            DataType::Float64 => ColB::F64(Float64Builder::with_capacity(cap)),
            DataType::Timestamp(TimeUnit::Nanosecond, None) => {
                ColB::Ts(TimestampNanosecondBuilder::with_capacity(cap))
            }
            DataType::Duration(TimeUnit::Nanosecond) => {
                ColB::Dur(DurationNanosecondBuilder::with_capacity(cap))
            }
            other => ColB::Null(other.clone(), 0),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        match self {
            ColB::Str(b) => b.len(),
            ColB::Bool(b) => b.len(),
            ColB::I32(b) => b.len(),
            ColB::I64(b) => b.len(),
            ColB::F64(b) => b.len(),
            ColB::Ts(b) => b.len(),
            ColB::Dur(b) => b.len(),
            ColB::Null(_, n) => *n,
        }
    }

    #[inline]
    fn null(&mut self) {
        match self {
            ColB::Str(b) => b.append_null(),
            ColB::Bool(b) => b.append_null(),
            ColB::I32(b) => b.append_null(),
            ColB::I64(b) => b.append_null(),
            ColB::F64(b) => b.append_null(),
            ColB::Ts(b) => b.append_null(),
            ColB::Dur(b) => b.append_null(),
            ColB::Null(_, n) => *n += 1,
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColB::Str(b) => Arc::new(b.finish()),
            ColB::Bool(b) => Arc::new(b.finish()),
            ColB::I32(b) => Arc::new(b.finish()),
            ColB::I64(b) => Arc::new(b.finish()),
            ColB::F64(b) => Arc::new(b.finish()),
            ColB::Ts(b) => Arc::new(b.finish()),
            ColB::Dur(b) => Arc::new(b.finish()),
            ColB::Null(dt, n) => {
                let a = new_null_array(dt, *n);
                *n = 0;
                a
            }
        }
    }
}

/// The rows of one table being built.
pub(crate) struct Sink {
    table: String,
    schema: SchemaRef,
    cols: Vec<ColB>,
    index: HashMap<String, usize>,
    rows: usize,
    pub(crate) c: Cols,
}

impl Sink {
    /// A sink in the exact schema of `table` in the store's catalog.
    pub(crate) fn new(store: &Store, table: &str, cap: usize) -> Result<Sink, IngestError> {
        let schema = store.catalog().table(table).ok_or_else(|| {
            IngestError::new(
                "UnknownTable",
                format!("'{table}' is not in the store's catalog"),
            )
        })?;
        let arrow = peregrine_store::records::arrow_schema(&schema);
        let cols = arrow
            .fields()
            .iter()
            .map(|f| ColB::new(f.data_type(), cap))
            .collect();
        let index = arrow
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name().clone(), i))
            .collect::<HashMap<_, _>>();
        let mut sink = Sink {
            table: table.to_string(),
            schema: arrow,
            cols,
            index,
            rows: 0,
            c: Cols::none(),
        };
        sink.c = Cols::resolve(&sink);
        Ok(sink)
    }

    pub(crate) fn col(&self, name: &str) -> Col {
        match self.index.get(name) {
            Some(i) if *i < usize::from(u16::MAX) => Col(*i as u16),
            _ => Col::NONE,
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    #[inline]
    fn slot(&mut self, c: Col) -> Option<&mut ColB> {
        let rows = self.rows;
        let b = self.cols.get_mut(usize::from(c.0))?;
        (b.len() == rows).then_some(b)
    }

    /// A string (also `guid` and `dynamic` JSON text).
    #[inline]
    pub(crate) fn s(&mut self, c: Col, v: &str) {
        if let Some(ColB::Str(b)) = self.slot(c) {
            b.append_value(v);
        }
    }

    /// A string, or nothing (null) for `""`.
    #[inline]
    pub(crate) fn so(&mut self, c: Col, v: &str) {
        if !v.is_empty() {
            self.s(c, v);
        }
    }

    /// A formatted string, written straight into the column.
    #[inline]
    pub(crate) fn f(&mut self, c: Col, args: std::fmt::Arguments<'_>) {
        if let Some(ColB::Str(b)) = self.slot(c) {
            let _ = b.write_fmt(args);
            b.append_value("");
        }
    }

    /// A `long` (or its decimal text where the column is a string, as `ReportId` is in
    /// some tables).
    #[inline]
    pub(crate) fn l(&mut self, c: Col, v: i64) {
        match self.slot(c) {
            Some(ColB::I64(b)) => b.append_value(v),
            Some(ColB::Str(b)) => {
                let _ = write!(b, "{v}");
                b.append_value("");
            }
            Some(ColB::I32(b)) => {
                if let Ok(v) = i32::try_from(v) {
                    b.append_value(v);
                }
            }
            _ => {}
        }
    }

    #[inline]
    pub(crate) fn i(&mut self, c: Col, v: i32) {
        match self.slot(c) {
            Some(ColB::I32(b)) => b.append_value(v),
            Some(ColB::I64(b)) => b.append_value(i64::from(v)),
            _ => {}
        }
    }

    #[inline]
    pub(crate) fn b(&mut self, c: Col, v: bool) {
        if let Some(ColB::Bool(b)) = self.slot(c) {
            b.append_value(v);
        }
    }

    /// A `real`.
    #[inline]
    pub(crate) fn r(&mut self, c: Col, v: f64) {
        if let Some(ColB::F64(b)) = self.slot(c) {
            b.append_value(v);
        }
    }

    /// A `datetime` in nanoseconds since the epoch (UTC).
    #[inline]
    pub(crate) fn t(&mut self, c: Col, v: i64) {
        if let Some(ColB::Ts(b)) = self.slot(c) {
            b.append_value(v);
        }
    }

    /// Ends the row: every column it did not set becomes null.
    #[inline]
    pub(crate) fn end(&mut self) {
        let rows = self.rows;
        for b in &mut self.cols {
            if b.len() == rows {
                b.null();
            }
        }
        self.rows += 1;
    }

    /// The rows so far as a batch; the sink is empty afterwards.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch, IngestError> {
        let columns: Vec<ArrayRef> = self.cols.iter_mut().map(ColB::finish).collect();
        self.rows = 0;
        RecordBatch::try_new(Arc::clone(&self.schema), columns)
            .map_err(|e| IngestError::internal(format!("{}: {e}", self.table)))
    }
}

macro_rules! columns {
    ($($name:ident),* $(,)?) => {
        /// Handles of every column the demo writes, resolved per table ([`Col::NONE`] where
        /// the table has no such column).
        #[allow(non_snake_case, dead_code)]
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct Cols {
            $(pub(crate) $name: Col,)*
        }

        impl Cols {
            fn none() -> Self {
                Cols { $($name: Col::NONE,)* }
            }

            fn resolve(sink: &Sink) -> Self {
                Cols { $($name: sink.col(stringify!($name)),)* }
            }
        }
    };
}

columns! {
    Timestamp, AlertId, Title, Categories, AttackTechniques, ServiceSource, DetectionSource,
    EntityType, EvidenceRole, EvidenceDirection, FileName, FolderPath, SHA1, SHA256, FileSize,
    ThreatFamily, RemoteIP, RemoteUrl, AccountName, AccountDomain, AccountSid, AccountObjectId,
    AccountUpn, DeviceId, DeviceName, LocalIP, NetworkMessageId, EmailSubject, Application,
    ApplicationId, OAuthApplicationId, ProcessCommandLine, RegistryKey, RegistryValueName,
    RegistryValueData, AdditionalFields, Severity, CloudResource, CloudPlatform, ResourceType,
    ResourceID, SubscriptionId, Category, ActionType, AppInstanceId, AccountId,
    AccountDisplayName, IsAdminOperation, DeviceType, OSPlatform, IPAddress, IsAnonymousProxy,
    CountryCode, City, Isp, UserAgent, ActivityType, ActivityObjects, ObjectName, ObjectType,
    ObjectId, ReportId, AccountType, IsExternalUser, IsImpersonated, IPTags, IPCategory,
    UserAgentTags, RawEventData, LastSeenForUser, UncommonForUser, AuditSource, SessionData,
    OAuthAppId, MD5, RemoteDeviceName, ProcessId, ProcessCreationTime, ProcessTokenElevation,
    LogonId, RemotePort, LocalPort, FileOriginUrl, FileOriginIP, InitiatingProcessSHA1,
    InitiatingProcessSHA256, InitiatingProcessMD5, InitiatingProcessFileName,
    InitiatingProcessFileSize, InitiatingProcessFolderPath, InitiatingProcessId,
    InitiatingProcessCommandLine, InitiatingProcessCreationTime,
    InitiatingProcessAccountDomain, InitiatingProcessAccountName, InitiatingProcessAccountSid,
    InitiatingProcessAccountUpn, InitiatingProcessAccountObjectId,
    InitiatingProcessVersionInfoCompanyName, InitiatingProcessVersionInfoProductName,
    InitiatingProcessVersionInfoProductVersion, InitiatingProcessVersionInfoInternalFileName,
    InitiatingProcessVersionInfoOriginalFileName, InitiatingProcessVersionInfoFileDescription,
    InitiatingProcessParentId, InitiatingProcessParentFileName,
    InitiatingProcessParentCreationTime, InitiatingProcessLogonId, AppGuardContainerId,
    InitiatingProcessSessionId, IsInitiatingProcessRemoteSession,
    InitiatingProcessRemoteSessionDeviceName, InitiatingProcessRemoteSessionIP,
    CreatedProcessSessionId, IsProcessRemoteSession, ProcessRemoteSessionDeviceName,
    ProcessRemoteSessionIP, FileOriginReferrerUrl, PreviousFolderPath, PreviousFileName,
    InitiatingProcessIntegrityLevel, InitiatingProcessTokenElevation, RequestProtocol,
    RequestSourceIP, RequestSourcePort, RequestAccountName, RequestAccountDomain,
    RequestAccountSid, ShareName, SensitivityLabel, SensitivitySubLabel,
    IsAzureInfoProtectionApplied, ClientVersion, PublicIP, OSArchitecture, OSBuild,
    IsAzureADJoined, JoinType, AadDeviceId, LoggedOnUsers, RegistryDeviceTag, OSVersion,
    MachineGroup, OnboardingStatus, DeviceCategory, DeviceSubtype, Model, Vendor,
    OSDistribution, OSVersionInfo, MergedDeviceIds, MergedToDeviceId, IsInternetFacing,
    SensorHealthState, IsExcluded, ExclusionReason, ExposureLevel, AssetValue,
    DeviceManualTags, DeviceDynamicTags, ConnectivityType, HostDeviceId, LogonType, Protocol,
    FailureReason, IsLocalAdmin, RemoteIPType, LocalIPType, NetworkAdapterName, MacAddress,
    NetworkAdapterType, NetworkAdapterStatus, TunnelType, ConnectedNetworks, DnsAddresses,
    IPv4Dhcp, IPv6Dhcp, DefaultGateways, IPAddresses, NetworkAdapterVendor,
    ProcessVersionInfoCompanyName, ProcessVersionInfoProductName,
    ProcessVersionInfoProductVersion, ProcessVersionInfoInternalFileName,
    ProcessVersionInfoOriginalFileName, ProcessVersionInfoFileDescription,
    ProcessIntegrityLevel, InitiatingProcessSignerType, InitiatingProcessSignatureStatus,
    RegistryValueType, PreviousRegistryKey, PreviousRegistryValueName,
    PreviousRegistryValueData, SenderFromAddress, SenderDisplayName, SenderObjectId,
    RecipientEmailAddress, RecipientObjectId, FileType, ThreatTypes, ThreatNames,
    DetectionMethods, InternetMessageId, SenderMailFromAddress, SenderMailFromDomain,
    SenderFromDomain, SenderIPv4, SenderIPv6, Subject, EmailClusterId, EmailDirection,
    DeliveryAction, DeliveryLocation, ConfidenceLevel, BulkComplaintLevel, EmailAction,
    EmailActionPolicy, EmailActionPolicyGuid, AuthenticationDetails, AttachmentCount, UrlCount,
    EmailLanguage, Connectors, OrgLevelAction, OrgLevelPolicy, UserLevelAction,
    UserLevelPolicy, LatestDeliveryLocation, LatestDeliveryAction, Action, ActionTrigger,
    ActionResult, Url, UrlDomain, UrlLocation, TargetAccountUpn, TargetAccountDisplayName,
    TargetDeviceName, DestinationDeviceName, DestinationIPAddress, DestinationPort, Port,
    Location, ISP, OnPremSid, CriticalityLevel, Type, DistinguishedName, CloudSid, GivenName,
    Surname, Department, JobTitle, EmailAddress, SipProxyAddress, Address, Country,
    IsAccountEnabled, Manager, Phone, CreatedDateTime, ChangeSource, BlastRadius, CompanyName,
    DeletedDateTime, EmployeeId, OtherMailAddresses, RiskLevel, RiskLevelDetails, State, Tags,
    AssignedRoles, PrivilegedEntraPimRoles, TenantId, SourceSystem, OnPremObjectId,
    TenantMembershipType, RiskStatus, UserAccountControl, IdentityEnvironment, SourceProviders,
    GroupMembership, QueryType, QueryTarget, Query, Workload, IsClickedThrough, UrlChain,
}
