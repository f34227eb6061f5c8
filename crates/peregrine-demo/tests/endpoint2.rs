//! The activity of `endpoint2.rs`, generated into a store and hunted with KQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{count, now, open, rows};
use peregrine_demo::{DemoOptions, generate};

/// Yesterday 20:00 UTC: the red-team exercise's afternoon lies wholly in the past whatever
/// the time of day the test runs (with the current minute, a morning run found none of it).
fn yesterday_evening() -> i64 {
    const HOUR: i64 = 3_600_000_000_000;
    let t = now();
    t - t.rem_euclid(24 * HOUR) - 4 * HOUR
}

#[tokio::test]
async fn more_endpoint_activity_is_coherent() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let opts = DemoOptions {
        devices: 12,
        days: 7,
        seed: 3,
        now_nanos: yesterday_evening(),
        endpoint_tables: None,
    };
    generate(&store, "default", &opts, |_| {}).unwrap();

    // The beacon's sacrificial rundll32.exe: no command line, started by the implant, and
    // its children name it as their (argument-less) parent.
    let sacrificial = rows(
        &store,
        "DeviceProcessEvents | where FileName == 'rundll32.exe' and isempty(ProcessCommandLine) | project DeviceId, ProcessId, InitiatingProcessFileName",
    )
    .await;
    assert_eq!(sacrificial.len(), 1, "{sacrificial:?}");
    assert_eq!(sacrificial[0][2], "rt-implant.exe");
    let children = rows(
        &store,
        &format!(
            "DeviceProcessEvents | where DeviceId == '{}' and InitiatingProcessId == {} | project FileName, InitiatingProcessFileName, InitiatingProcessCommandLine",
            sacrificial[0][0], sacrificial[0][1]
        ),
    )
    .await;
    assert_eq!(
        children,
        vec![vec![
            "cmd.exe".to_string(),
            "rundll32.exe".to_string(),
            String::new()
        ]]
    );

    // Definition updates: MpSigStub writes two files, everywhere but on the stale laptop.
    let stubs = count(
        &store,
        "DeviceProcessEvents | where FileName == 'MpSigStub.exe'",
    )
    .await;
    assert!(stubs > 0);
    let files = count(
        &store,
        "DeviceFileEvents | where InitiatingProcessFileName == 'MpSigStub.exe' | join kind=inner (DeviceProcessEvents | where FileName == 'MpSigStub.exe' | project DeviceId, InitiatingProcessId = ProcessId, InitiatingProcessCommandLine = ProcessCommandLine) on DeviceId, InitiatingProcessId, InitiatingProcessCommandLine",
    )
    .await;
    assert_eq!(files, 2 * stubs);
    let stale = rows(
        &store,
        "DeviceInfo | where ClientVersion startswith '10.8295' | distinct DeviceId",
    )
    .await;
    assert_eq!(stale.len(), 1);
    let stale_updates = count(
        &store,
        &format!(
            "DeviceProcessEvents | where DeviceId == '{}' and FileName == 'MpSigStub.exe'",
            stale[0][0]
        ),
    )
    .await;
    assert_eq!(stale_updates, 0);

    // The OneDrive library sync: more than 100 documents within five minutes, typed.
    let burst = rows(
        &store,
        "DeviceFileEvents | where InitiatingProcessFileName == 'OneDrive.exe' and isnotempty(tostring(parse_json(AdditionalFields).FileType)) | summarize n = count() by bin(Timestamp, 5m), InitiatingProcessAccountName | where n > 100",
    )
    .await;
    assert_eq!(burst.len(), 1, "{burst:?}");

    // Vendor binaries: the certificate rows carry the same SHA1 as the processes; the
    // developer's test build is signed by an untrusted certificate.
    let mismatched = count(
        &store,
        "DeviceProcessEvents | where FileName in ('g2mcomm.exe', 'tvnviewer.exe', 'DefendpointService.exe', 'ContosoFieldSync.exe') | distinct DeviceId, SHA1 | join kind=leftanti (DeviceFileCertificateInfo) on DeviceId, SHA1",
    )
    .await;
    let procs = count(
        &store,
        "DeviceProcessEvents | where FileName in ('g2mcomm.exe', 'tvnviewer.exe', 'DefendpointService.exe', 'ContosoFieldSync.exe') | distinct DeviceId, SHA1",
    )
    .await;
    assert!(procs > 0);
    // A device reports each image's signature about one day in three: most match.
    assert!(mismatched * 2 < procs, "{mismatched} of {procs}");
    let untrusted = rows(
        &store,
        "DeviceFileCertificateInfo | where IsTrusted == false | distinct Signer, Issuer",
    )
    .await;
    assert_eq!(
        untrusted,
        vec![vec![
            "Contoso Dev Test".to_string(),
            "Contoso Dev Test".to_string()
        ]]
    );

    // The isolated victim: the sensor's registry write.
    let iso = rows(
        &store,
        "DeviceRegistryEvents | where RegistryValueName == 'DisableEnterpriseAuthProxyValueToRestoreAfterIsolation' | project InitiatingProcessFileName, PreviousRegistryValueName",
    )
    .await;
    assert_eq!(iso.len(), 1, "{iso:?}");
    assert_eq!(iso[0][0], "MsSense.exe");

    // Remote-access tools: the processes their connections come from were started in the
    // window (an agent's service restarts nightly, a support client from Explorer), and the
    // binaries' signatures are reported with the same SHA1.
    const VENDORS: &str = "('Atera Networks', 'MeshCentral', 'MMSoft Design Ltd.', 'LogMeIn, Inc.', 'IDrive Inc.', 'Purslane Ltd', 'NavMK1 Limited', 'Parsec Cloud, Inc.', 'ISL Online Ltd.', 'RealVNC', 'mRemoteNG', 'Remote Utilities LLC', 'SolarWinds MSP', 'MSP360')";
    let started = format!(
        "DeviceNetworkEvents | where InitiatingProcessVersionInfoCompanyName in {VENDORS} and InitiatingProcessCreationTime > ago(6d) and InitiatingProcessFileName != 'chrome.exe' | distinct DeviceId, InitiatingProcessId, InitiatingProcessCreationTime"
    );
    let n = count(&store, &started).await;
    assert!(n > 0);
    let unstarted = count(
        &store,
        &format!(
            "{started} | join kind=leftanti (DeviceProcessEvents | project DeviceId, InitiatingProcessId = ProcessId, InitiatingProcessCreationTime = ProcessCreationTime) on DeviceId, InitiatingProcessId, InitiatingProcessCreationTime"
        ),
    )
    .await;
    assert_eq!(unstarted, 0, "of {n}");
    let unsigned = count(
        &store,
        &format!(
            "DeviceNetworkEvents | where InitiatingProcessVersionInfoCompanyName in {VENDORS} and InitiatingProcessFileName != 'chrome.exe' | distinct DeviceId, SHA1 = InitiatingProcessSHA1 | join kind=leftanti (DeviceFileCertificateInfo) on DeviceId, SHA1"
        ),
    )
    .await;
    assert_eq!(unsigned, 0);

    // Story 2's ransomware prepares the host through cmd.exe: a dozen services stopped and
    // processes killed within two minutes, the security log cleared by wevtutil.
    let stops = rows(
        &store,
        "DeviceProcessEvents | where FileName =~ 'net.exe' and ProcessCommandLine has 'stop' | summarize n = dcount(ProcessCommandLine) by DeviceId, bin(Timestamp, 2m) | where n > 10",
    )
    .await;
    assert_eq!(stops.len(), 1, "{stops:?}");
    let kills = count(
        &store,
        "DeviceProcessEvents | where FileName =~ 'taskkill.exe' and InitiatingProcessParentFileName == 'winupd.exe'",
    )
    .await;
    assert!(kills > 10);
    let cleared = rows(
        &store,
        "DeviceEvents | where ActionType == 'SecurityLogCleared' | project DeviceId, InitiatingProcessFileName",
    )
    .await;
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert_eq!(cleared[0][0], stops[0][0]);
    assert_eq!(cleared[0][1], "wevtutil.exe");

    // The red team's DCSync: Defender for Identity's replication event and the sensor's
    // connection to the domain controller have the same ports.
    let dcsync = count(
        &store,
        "IdentityDirectoryEvents | where ActionType == 'Directory Services replication' | join kind=inner DeviceNetworkEvents on $left.IPAddress == $right.LocalIP and $left.Port == $right.LocalPort and $left.DestinationIPAddress == $right.RemoteIP and $left.DestinationPort == $right.RemotePort",
    )
    .await;
    assert_eq!(dcsync, 1);
    // The beacon injects into its spawn-to MSBuild.exe.
    let injected = count(
        &store,
        "DeviceEvents | where ActionType == 'CreateRemoteThreadApiCall' and FileName == 'MSBuild.exe' | join kind=inner (DeviceProcessEvents | where FileName == 'MSBuild.exe' and InitiatingProcessFileName == 'rt-implant.exe' | project DeviceId, ProcessId, InitiatingProcessId) on DeviceId, ProcessId, InitiatingProcessId",
    )
    .await;
    assert_eq!(injected, 1);

    // Device discovery found the branch router.
    let router = count(
        &store,
        "DeviceInfo | where DeviceType == 'NetworkDevice' and DeviceSubtype == 'Router'",
    )
    .await;
    assert!(router > 0);
}
