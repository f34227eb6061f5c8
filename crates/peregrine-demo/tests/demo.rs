//! The demo tenant end to end: generated into a store, then hunted with KQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{count, now, open, rows};
use peregrine_demo::{DemoOptions, DemoReport, TABLES, generate};
use peregrine_store::Store;

fn small(seed: u64, now: i64) -> DemoOptions {
    DemoOptions {
        devices: 5,
        days: 2,
        seed,
        now_nanos: now,
        endpoint_tables: None,
    }
}

fn run(store: &Store, opts: &DemoOptions) -> DemoReport {
    let mut calls = 0usize;
    let report = generate(store, "default", opts, |p| {
        calls += 1;
        assert!(p.rows_done <= p.rows_total, "{p:?}");
    })
    .unwrap();
    assert!(calls > 0);
    report
}

/// Per table: row count and an order-independent hash of every row (all columns).
async fn fingerprint(store: &Arc<Store>) -> Vec<(String, Vec<Vec<String>>)> {
    let mut out = Vec::new();
    for t in TABLES {
        let schema = store.catalog().table(t).unwrap();
        // strcat takes at most 64 arguments: groups of 16 columns.
        let cells = schema
            .columns
            .chunks(16)
            .map(|group| {
                let inner = group
                    .iter()
                    .map(|c| format!("tostring(['{}'])", c.name))
                    .collect::<Vec<_>>()
                    .join(", '|', ");
                format!("strcat({inner})")
            })
            .collect::<Vec<_>>()
            .join(", '|', ");
        // Inventories and knowledge bases have no Timestamp.
        let times = if schema.columns.iter().any(|c| c.name == "Timestamp") {
            ", first = min(Timestamp), last = max(Timestamp)"
        } else {
            ""
        };
        let q = format!(
            "{t} | extend row_text = strcat({cells}) | summarize n = count(), h = sum(hash(row_text, 1000000007)){times}"
        );
        out.push((t.to_string(), rows(store, &q).await));
    }
    out
}

#[tokio::test]
async fn same_options_give_identical_data() {
    let now = now();
    let opts = |seed| DemoOptions {
        devices: 4,
        days: 1,
        seed,
        now_nanos: now,
        endpoint_tables: None,
    };
    let (d1, d2, d3) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let (s1, s2, s3) = (open(d1.path()), open(d2.path()), open(d3.path()));
    let r1 = run(&s1, &opts(7));
    let r2 = run(&s2, &opts(7));
    let r3 = run(&s3, &opts(8));
    assert_eq!(r1, r2);
    assert_ne!(r1, r3, "another seed gives other data");
    let (f1, f2) = (fingerprint(&s1).await, fingerprint(&s2).await);
    assert_eq!(f1, f2);
    // The report counts what the store holds.
    for (table, fp) in &f1 {
        assert_eq!(fp[0][0], r1.rows[table].to_string(), "{table}");
    }
}

#[tokio::test]
async fn every_table_has_rows_in_the_window() {
    let now = now();
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let opts = small(1, now);
    let report = run(&store, &opts);
    assert_eq!(report.rows.len(), TABLES.len());
    for t in TABLES {
        let n = report.rows[t];
        assert!(n > 0, "{t} is empty");
        assert_eq!(count(&store, t).await, n, "{t}");
        let timed = store
            .catalog()
            .table(t)
            .unwrap()
            .columns
            .iter()
            .any(|c| c.name == "Timestamp");
        if !timed {
            continue;
        }
        let outside = count(
            &store,
            &format!(
                "{t} | where Timestamp < datetime_add('day', -2, unixtime_nanoseconds_todatetime({now})) or Timestamp >= unixtime_nanoseconds_todatetime({now})"
            ),
        )
        .await;
        assert_eq!(outside, 0, "{t} has rows outside the window");
    }
    // Background volumes: about 2,000 process creations per device and day, network ~3x.
    let per_device_day = report.rows["DeviceProcessEvents"] as f64 / 10.0;
    assert!(
        (1_200.0..3_000.0).contains(&per_device_day),
        "{per_device_day}"
    );
    let ratio =
        report.rows["DeviceNetworkEvents"] as f64 / report.rows["DeviceProcessEvents"] as f64;
    assert!((2.5..3.5).contains(&ratio), "{ratio}");
    assert_eq!(report.stories.len(), 2);
}

#[tokio::test]
async fn entities_are_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    run(&store, &small(3, now()));
    // DeviceId is 40 hex digits and maps to one DeviceName everywhere.
    let ids = rows(
        &store,
        "union DeviceProcessEvents, DeviceNetworkEvents, (DeviceInfo | where OnboardingStatus == 'Onboarded') | summarize names = dcount(DeviceName) by DeviceId | extend ok = DeviceId matches regex '^[0-9a-f]{40}$'",
    )
    .await;
    assert_eq!(ids.len(), 5);
    for r in &ids {
        assert_eq!(r[1], "1");
        assert_eq!(r[2], "true");
    }
    // Hashes have the right lengths; one file name has one SHA256.
    let bad = count(
        &store,
        "DeviceProcessEvents | where strlen(SHA1) != 40 or strlen(SHA256) != 64 or strlen(MD5) != 32",
    )
    .await;
    assert_eq!(bad, 0);
    let multi = count(
        &store,
        "DeviceFileEvents | where isnotempty(SHA256) | summarize h = dcount(SHA256) by FileName | where h > 1",
    )
    .await;
    assert_eq!(multi, 0);
    // Process trees: svchost.exe comes from services.exe, chrome renderers from chrome.exe.
    let svchost_parents = rows(
        &store,
        "DeviceProcessEvents | where FileName == 'svchost.exe' | distinct InitiatingProcessFileName",
    )
    .await;
    assert_eq!(svchost_parents, vec![vec!["services.exe".to_string()]]);
    let unique_ids = rows(
        &store,
        "DeviceProcessEvents | summarize n = count(), ids = dcount(ReportId)",
    )
    .await;
    assert_eq!(unique_ids[0][0], unique_ids[0][1], "ReportId is unique");
    // An initiating process runs before its events; its parent before it.
    let early = count(
        &store,
        "union DeviceProcessEvents, DeviceNetworkEvents, DeviceFileEvents, DeviceRegistryEvents, DeviceImageLoadEvents, DeviceEvents, DeviceLogonEvents | where InitiatingProcessCreationTime > Timestamp or InitiatingProcessParentCreationTime > InitiatingProcessCreationTime",
    )
    .await;
    assert_eq!(early, 0);
    // People work in office hours.
    let by_hour = rows(
        &store,
        "DeviceProcessEvents | where AccountDomain == 'contoso' | summarize office = countif(hourofday(Timestamp) between (7 .. 19)), all = count()",
    )
    .await;
    let (office, all): (f64, f64) = (
        by_hour[0][0].parse().unwrap(),
        by_hour[0][1].parse().unwrap(),
    );
    assert!(office / all > 0.95, "{office} of {all}");
    // Every account in the process events is a known identity or a built-in one.
    let unknown = count(
        &store,
        "DeviceProcessEvents | where AccountDomain == 'contoso' | distinct AccountSid | join kind=leftanti (IdentityInfo | distinct OnPremSid) on $left.AccountSid == $right.OnPremSid",
    )
    .await;
    assert_eq!(unknown, 0);
}

#[tokio::test]
async fn agents_scans_protection_and_certificates_are_coherent() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    run(&store, &small(7, now()));
    // Remote-support agents connect to their vendor's cloud, with their version info.
    let agents = rows(
        &store,
        "DeviceNetworkEvents | where InitiatingProcessFileName in ('ScreenConnect.ClientService.exe', 'TeamViewer_Service.exe', 'PDQConnectAgent.exe') | summarize n = count(), companies = dcount(InitiatingProcessVersionInfoCompanyName), parents = make_set(InitiatingProcessParentFileName), public = countif(RemoteIPType == 'Public') by InitiatingProcessFileName",
    )
    .await;
    assert!(!agents.is_empty());
    for a in &agents {
        assert_eq!(a[2], "1", "{a:?}");
        assert_eq!(a[3], r#"["services.exe"]"#, "{a:?}");
        assert_eq!(a[1], a[4], "{a:?}");
    }
    // Their signatures: the certificate rows carry the same SHA1 as the running image.
    let signed = count(
        &store,
        "DeviceNetworkEvents | where InitiatingProcessFileName == 'ScreenConnect.ClientService.exe' | distinct DeviceId, InitiatingProcessSHA1 | join kind=inner (DeviceFileCertificateInfo | where Signer == 'ConnectWise, LLC' and IsTrusted) on DeviceId, $left.InitiatingProcessSHA1 == $right.SHA1",
    )
    .await;
    assert!(signed > 0);
    let unknown_sha1 = count(
        &store,
        "DeviceFileCertificateInfo | where Signer == 'Microsoft Windows' | distinct SHA1 | join kind=leftanti (union (DeviceProcessEvents | project SHA1 = InitiatingProcessSHA1), (DeviceImageLoadEvents | project SHA1), (DeviceProcessEvents | project SHA1)) on SHA1",
    )
    .await;
    let total_sha1 = count(
        &store,
        "DeviceFileCertificateInfo | where Signer == 'Microsoft Windows' | distinct SHA1",
    )
    .await;
    assert!(
        unknown_sha1 * 2 < total_sha1,
        "{unknown_sha1} of {total_sha1}"
    );
    // The nightly discovery scan: many ports of one host within a second, and the
    // workstations' firewalls dropping it.
    let bursts = count(
        &store,
        "DeviceNetworkEvents | where InitiatingProcessFileName == 'nessusd.exe' and ActionType in ('ConnectionRequest', 'ConnectionSuccess') | summarize ports = dcount(RemotePort) by DeviceName, RemoteIP, bin(Timestamp, 1s) | where ports > 10",
    )
    .await;
    assert!(bursts > 0);
    let dropped = count(
        &store,
        "DeviceEvents | where ActionType == 'FirewallInboundConnectionBlocked' | join kind=inner (DeviceNetworkEvents | where InitiatingProcessFileName == 'nessusd.exe' | project RemoteIP = LocalIP | distinct RemoteIP) on RemoteIP",
    )
    .await;
    assert!(dropped > 0);
    // Protection and plumbing events have their JSON fields.
    let pnp = count(
        &store,
        "DeviceEvents | where ActionType == 'PnpDeviceConnected' | where isempty(tostring(parse_json(AdditionalFields).ClassName))",
    )
    .await;
    assert_eq!(pnp, 0);
    let attest = count(
        &store,
        "DeviceEvents | where ActionType == 'DeviceBootAttestationInfo' | where isnotnull(toint(parse_json(AdditionalFields).SystemGuardSecurityLevel))",
    )
    .await;
    assert!(attest > 0);
    // Device discovery: unmanaged devices, never with a sensor's events.
    let discovered = rows(
        &store,
        "DeviceInfo | where OnboardingStatus != 'Onboarded' | distinct DeviceId | join kind=inner (DeviceNetworkEvents | distinct DeviceId) on DeviceId | count",
    )
    .await;
    assert_eq!(discovered[0][0], "0");
    let can_onboard = count(
        &store,
        "DeviceInfo | where OnboardingStatus == 'Can be onboarded' | distinct DeviceName",
    )
    .await;
    assert!(can_onboard > 0);
}

#[tokio::test]
async fn phishing_story_is_found_by_hunting_queries() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let report = run(&store, &small(5, now()));
    assert!(
        report.stories[0].contains("WINWORD.EXE"),
        "{:?}",
        report.stories
    );

    let mail = rows(
        &store,
        "EmailEvents | where ThreatTypes has 'Phish' and DeliveryAction == 'Delivered' | project SenderFromAddress, RecipientEmailAddress, NetworkMessageId",
    )
    .await;
    assert!(!mail.is_empty());
    assert!(mail.iter().all(|r| r[0] == "payroll@contoso-hr.net"));
    let victim = mail[0][1].clone();
    let nmid = mail[0][2].clone();

    let clicks = rows(
        &store,
        &format!(
            "UrlClickEvents | where NetworkMessageId == '{nmid}' and ActionType == 'ClickAllowed' | project AccountUpn, Url"
        ),
    )
    .await;
    assert_eq!(clicks.len(), 1);
    assert_eq!(clicks[0][0], victim);
    // The click raises an alert whose evidence names the user.
    let click_alert = count(
        &store,
        &format!(
            "AlertInfo | where Title contains 'click' | join kind=inner AlertEvidence on AlertId | where AccountUpn == '{victim}'"
        ),
    )
    .await;
    assert!(click_alert > 0);

    let spawn = rows(
        &store,
        "DeviceProcessEvents | where ProcessCommandLine has '-EncodedCommand' and InitiatingProcessFileName =~ 'winword.exe' | project DeviceName, AccountUpn, FileName, InitiatingProcessParentFileName",
    )
    .await;
    assert_eq!(spawn.len(), 1, "{spawn:?}");
    assert_eq!(spawn[0][1], victim);
    assert_eq!(spawn[0][2], "powershell.exe");
    assert_eq!(spawn[0][3], "explorer.exe");
    let device = spawn[0][0].clone();

    // Beaconing to a rare external address.
    let beacons = rows(
        &store,
        "DeviceNetworkEvents | where RemoteIPType == 'Public' | summarize devices = dcount(DeviceId), n = count() by RemoteIP | where devices == 1 and n > 100",
    )
    .await;
    assert_eq!(beacons.len(), 1, "{beacons:?}");
    assert_eq!(beacons[0][0], "198.51.100.23");

    let dump = rows(
        &store,
        "DeviceEvents | where ActionType == 'OpenProcessApiCall' and FileName =~ 'lsass.exe' and InitiatingProcessFileName =~ 'rundll32.exe' | project DeviceName, InitiatingProcessCommandLine, ProcessId",
    )
    .await;
    assert_eq!(dump.len(), 1);
    assert_eq!(dump[0][0], device);
    assert!(dump[0][1].contains(&format!("MiniDump {} ", dump[0][2])));

    // The dumped process is the device's lsass.
    let lsass = rows(
        &store,
        &format!(
            "DeviceNetworkEvents | where DeviceName == '{device}' and InitiatingProcessFileName == 'lsass.exe' | distinct InitiatingProcessId"
        ),
    )
    .await;
    if !lsass.is_empty() {
        assert_eq!(lsass, vec![vec![dump[0][2].clone()]]);
    }

    let lateral = rows(
        &store,
        &format!(
            "DeviceLogonEvents | where LogonType == 'RemoteInteractive' and RemoteDeviceName =~ '{}' and AccountName startswith 'adm-' and DeviceName != '{device}' | project DeviceName",
            device.split('.').next().unwrap()
        ),
    )
    .await;
    assert_eq!(lateral, vec![vec!["srv-file-01.contoso.com".to_string()]]);

    let exfil = count(
        &store,
        "CloudAppEvents | where ActionType == 'FileDownloaded' and IPAddress == '198.51.100.23'",
    )
    .await;
    assert_eq!(exfil, 80);
    let alerts = rows(
        &store,
        "AlertInfo | where Title in ('Suspicious PowerShell command line', 'Possible credential dumping from LSASS memory') | join kind=inner (AlertEvidence | where EntityType == 'Machine') on AlertId | distinct DeviceName",
    )
    .await;
    assert_eq!(alerts, vec![vec![device]]);
}

#[tokio::test]
async fn brute_force_story_is_found_by_hunting_queries() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    run(&store, &small(11, now()));

    let spray = rows(
        &store,
        "DeviceLogonEvents | where ActionType == 'LogonFailed' and RemoteIPType == 'Public' | summarize failures = count() by RemoteIP, DeviceName | where failures > 100",
    )
    .await;
    assert_eq!(
        spray
            .iter()
            .map(|r| (r[0].as_str(), r[1].as_str()))
            .collect::<Vec<_>>(),
        vec![("203.0.113.77", "srv-web-01.contoso.com")]
    );
    let success = rows(
        &store,
        "DeviceLogonEvents | where ActionType == 'LogonSuccess' and RemoteIP == '203.0.113.77' | distinct AccountName, LogonType | order by LogonType asc",
    )
    .await;
    assert_eq!(
        success,
        vec![
            vec!["svc-backup".to_string(), "Network".to_string()],
            vec!["svc-backup".to_string(), "RemoteInteractive".to_string()],
        ]
    );
    let renamed = count(
        &store,
        "DeviceFileEvents | where ActionType == 'FileRenamed' and FileName endswith '.locked'",
    )
    .await;
    assert_eq!(renamed, 250);
    let shadows = count(
        &store,
        "DeviceProcessEvents | where FileName =~ 'vssadmin.exe' and ProcessCommandLine has 'delete shadows'",
    )
    .await;
    assert_eq!(shadows, 1);
    let backdoor = count(
        &store,
        "DeviceProcessEvents | where FileName in~ ('net.exe', 'net1.exe') and ProcessCommandLine has_all ('localgroup', 'administrators', '/add')",
    )
    .await;
    assert_eq!(backdoor, 2);
}

#[test]
fn odd_options_do_not_fail() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    // Fewer devices than the minimum, no days, a time long ago.
    let report = generate(
        &store,
        "odd",
        &DemoOptions {
            devices: 0,
            days: 0,
            seed: 0,
            now_nanos: 1_700_000_000_000_000_000,
            endpoint_tables: None,
        },
        |_| {},
    )
    .unwrap();
    assert!(report.rows["DeviceProcessEvents"] > 0);
    assert_eq!(report.stories.len(), 2);
    // An invalid tenant is an error, not a panic.
    assert!(generate(&store, "../x", &DemoOptions::default(), |_| {}).is_err());
}

#[tokio::test]
async fn posture_and_sign_ins_are_coherent() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let report = run(&store, &small(4, now()));
    for t in [
        "DeviceTvmSoftwareInventory",
        "DeviceTvmSoftwareVulnerabilities",
        "DeviceTvmSecureConfigurationAssessment",
        "ExposureGraphNodes",
        "AADSignInEventsBeta",
        "OAuthAppInfo",
    ] {
        assert!(report.rows[t] > 0, "{t}");
    }
    // A vulnerability is of installed software, its CVE is in the knowledge base, and the
    // devices are the tenant's.
    let orphans = count(
        &store,
        "DeviceTvmSoftwareVulnerabilities | join kind=leftanti DeviceTvmSoftwareInventory on DeviceId, SoftwareName, SoftwareVersion",
    )
    .await;
    assert_eq!(orphans, 0);
    let unknown_cves = count(
        &store,
        "DeviceTvmSoftwareVulnerabilities | join kind=leftanti DeviceTvmSoftwareVulnerabilitiesKB on CveId",
    )
    .await;
    assert_eq!(unknown_cves, 0);
    let unknown_devices = count(
        &store,
        "union DeviceTvmSoftwareInventory, DeviceTvmSecureConfigurationAssessment, DeviceTvmInfoGathering, DeviceTvmBrowserExtensions | distinct DeviceId | join kind=leftanti (DeviceInfo | distinct DeviceId) on DeviceId",
    )
    .await;
    assert_eq!(unknown_devices, 0);
    // The inventory's Chrome is the version the processes run.
    let chrome = rows(
        &store,
        "DeviceTvmSoftwareInventory | where SoftwareName == 'chrome' | distinct SoftwareVersion",
    )
    .await;
    let running = rows(
        &store,
        "DeviceProcessEvents | where FileName == 'chrome.exe' | distinct ProcessVersionInfoProductVersion",
    )
    .await;
    if !chrome.is_empty() && !running.is_empty() {
        assert_eq!(chrome, running);
    }
    // Graph edges connect existing nodes.
    let dangling = count(
        &store,
        "ExposureGraphEdges | project NodeId = SourceNodeId | union (ExposureGraphEdges | project NodeId = TargetNodeId) | distinct NodeId | join kind=leftanti ExposureGraphNodes on NodeId",
    )
    .await;
    assert_eq!(dangling, 0);
    // Members sign in with their directory identity; both sign-in tables hold the same rows.
    let strangers = count(
        &store,
        "AADSignInEventsBeta | where not(IsGuestUser) | distinct AccountObjectId | join kind=leftanti (IdentityInfo | distinct AccountObjectId) on AccountObjectId",
    )
    .await;
    assert_eq!(strangers, 0);
    assert_eq!(
        report.rows["AADSignInEventsBeta"],
        report.rows["EntraIdSignInEvents"]
    );
    // Story 1: the stolen session is replayed from the attacker's address.
    let replay = rows(
        &store,
        "AADSignInEventsBeta | where IPAddress == '198.51.100.23' | project SessionId, AccountUpn, Country",
    )
    .await;
    assert_eq!(replay.len(), 1, "{replay:?}");
    assert_eq!(replay[0][2], "NL");
    let same_session = count(
        &store,
        &format!(
            "AADSignInEventsBeta | where SessionId == '{}' and Country == 'US' and Application == 'OfficeHome'",
            replay[0][0]
        ),
    )
    .await;
    assert!(same_session >= 1);
}

#[tokio::test]
async fn everyday_activity_and_red_team_exercise_are_coherent() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let opts = DemoOptions {
        devices: 6,
        days: 7,
        seed: 5,
        now_nanos: now(),
        endpoint_tables: None,
    };
    run(&store, &opts);
    // The red team's download cradle: cmd.exe under the Atomic Red Team PowerShell, run by
    // the IT person on their workstation, and the file certutil wrote.
    let cradle = rows(
        &store,
        "DeviceProcessEvents | where FileName == 'certutil.exe' and ProcessCommandLine has_all ('urlcache', 'http') | project DeviceId, ProcessId, AccountName, InitiatingProcessFileName, InitiatingProcessParentFileName, AccountDomain",
    )
    .await;
    assert_eq!(cradle.len(), 1, "{cradle:?}");
    assert_eq!(cradle[0][3], "cmd.exe");
    assert_eq!(cradle[0][4], "powershell.exe");
    assert_eq!(cradle[0][5], "contoso");
    let written = rows(
        &store,
        &format!(
            "DeviceFileEvents | where DeviceId == '{}' and InitiatingProcessId == {} | project FileName, InitiatingProcessFileName, InitiatingProcessAccountName",
            cradle[0][0], cradle[0][1]
        ),
    )
    .await;
    assert_eq!(
        written,
        vec![vec![
            "rt-implant.exe".to_string(),
            "certutil.exe".to_string(),
            cradle[0][2].clone()
        ]]
    );
    // The implant has the same hashes wherever it appears.
    let hashes = count(
        &store,
        "union DeviceProcessEvents, DeviceFileEvents | where FileName == 'rt-implant.exe' | distinct SHA256",
    )
    .await;
    assert_eq!(hashes, 1);
    // Every process the activity starts has a parent that exists in the process tree: a
    // long-running process or an earlier ProcessCreated row of the same device.
    let orphans = count(
        &store,
        "DeviceProcessEvents | where InitiatingProcessParentFileName in~ ('wmiprvse.exe', 'gpscript.exe', 'wsmprovhost.exe') | join kind=leftanti (DeviceProcessEvents | project DeviceId, InitiatingProcessId = ProcessId, InitiatingProcessCreationTime = ProcessCreationTime) on DeviceId, InitiatingProcessId, InitiatingProcessCreationTime",
    )
    .await;
    assert_eq!(orphans, 0);
    // PowerShell loads its engine; registry rows of the exercise name their writer.
    let engine = count(
        &store,
        "DeviceImageLoadEvents | where InitiatingProcessFileName == 'powershell.exe' and FileName == 'System.Management.Automation.ni.dll'",
    )
    .await;
    assert!(engine > 0);
    let wdigest = rows(
        &store,
        "DeviceRegistryEvents | where RegistryKey endswith 'WDigest' and RegistryValueName == 'UseLogonCredential' | project InitiatingProcessFileName, RegistryValueData",
    )
    .await;
    assert_eq!(wdigest, vec![vec!["reg.exe".to_string(), "1".to_string()]]);
}

#[tokio::test]
async fn more_network_events_and_red_team_detections_are_coherent() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let opts = DemoOptions {
        devices: 6,
        days: 7,
        seed: 5,
        now_nanos: now(),
        endpoint_tables: None,
    };
    run(&store, &opts);
    // The red team's downloads and reverse shell: connections to its server by processes
    // of the exercise (the same process ids and creation times as their ProcessCreated
    // rows), never by cmd.exe or reg.exe, which only pass the URL on.
    let conns = count(
        &store,
        "DeviceNetworkEvents | where RemoteIP == '192.0.2.80' and ActionType == 'ConnectionSuccess'",
    )
    .await;
    assert!(conns >= 8, "{conns}");
    for q in [
        "DeviceNetworkEvents | where RemoteIP == '192.0.2.80'",
        "DeviceEvents | where ActionType == 'AmsiScriptDetection'",
    ] {
        let orphans = count(
            &store,
            &format!("{q} | join kind=leftanti (DeviceProcessEvents | project DeviceId, InitiatingProcessId = ProcessId, InitiatingProcessCreationTime = ProcessCreationTime) on DeviceId, InitiatingProcessId, InitiatingProcessCreationTime"),
        )
        .await;
        assert_eq!(orphans, 0, "{q}");
    }
    let shells = count(
        &store,
        "DeviceNetworkEvents | where RemoteIP == '192.0.2.80' and InitiatingProcessFileName in~ ('cmd.exe', 'reg.exe')",
    )
    .await;
    assert_eq!(shells, 0);
    // Its alerts name the process that raised them.
    let mimikatz = rows(
        &store,
        "AlertInfo | where Title == 'Mimikatz credential theft tool' | join kind=inner (AlertEvidence | where EntityType == 'Process') on AlertId | project ProcessCommandLine",
    )
    .await;
    // One alert per Mimikatz run.
    let runs = count(
        &store,
        "DeviceProcessEvents | where FileName =~ 'powershell.exe' and ProcessCommandLine has 'Invoke-Mimikatz'",
    )
    .await;
    assert!(runs > 0);
    assert_eq!(mimikatz.len() as u64, runs, "{mimikatz:?}");
    assert!(mimikatz.iter().all(|m| m[0].contains("Invoke-Mimikatz")));
    // SharpHound's LDAP queries reach the domain controller within a minute.
    let ldap = rows(
        &store,
        "IdentityQueryEvents | where ActionType == 'LDAP query' | parse Query with * 'Search Filter: ' SearchFilter | summarize n = dcount(SearchFilter) by DeviceName, bin(Timestamp, 1m) | where n > 10",
    )
    .await;
    assert_eq!(ldap.len(), 1, "{ldap:?}");
    // Every initiating image, the tools outside the catalog too, has one set of hashes.
    let hashes = rows(
        &store,
        "DeviceNetworkEvents | where isnotempty(InitiatingProcessSHA256) | summarize h = dcount(InitiatingProcessSHA256) by InitiatingProcessFileName | where h > 1",
    )
    .await;
    assert!(hashes.is_empty(), "{hashes:?}");
    // Tenant administration: the reporting app's service principal gets a role the day
    // before the end of the window.
    let role = count(
        &store,
        "CloudAppEvents | where ActionType == 'Add member to role.' | where tostring(RawEventData.Target[2].ID) == 'ServicePrincipal'",
    )
    .await;
    assert_eq!(role, 1);
}
