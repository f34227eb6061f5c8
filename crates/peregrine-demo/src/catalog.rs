//! Static vocabulary of the demo tenant: executables and libraries with their version
//! information, departments, names, internet services and document names.

/// One executable or library as Defender describes it.
pub(crate) struct ImageDef {
    pub name: &'static str,
    /// `FolderPath` as Defender reports it: the full path including the file name.
    pub path: &'static str,
    pub company: &'static str,
    pub product: &'static str,
    pub version: &'static str,
    pub description: &'static str,
    pub size: i64,
    /// `InitiatingProcessSignerType`: `OsVendor`, `Microsoft`, `ThirdParty`, `None`.
    pub signer: &'static str,
}

const MS: &str = "Microsoft Corporation";
const WIN: &str = "Microsoft® Windows® Operating System";
const WV: &str = "10.0.22621.4317";
const OFFICE: &str = "Microsoft Office";
const OV: &str = "16.0.17928.20216";
const DEF: &str = "Microsoft Malware Protection";
const DV: &str = "4.18.24090.11";

macro_rules! images {
    ($($id:ident => ($name:expr, $path:expr, $company:expr, $product:expr, $version:expr, $desc:expr, $size:expr, $signer:expr)),* $(,)?) => {
        /// An image of [`IMAGES`] (some only complete the vocabulary).
        #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Img { $($id),* }

        /// Every [`Img`], in the order of [`IMAGES`].
        pub(crate) const ALL_IMGS: &[Img] = &[$(Img::$id),*];

        pub(crate) const IMAGES: &[ImageDef] = &[
            $(ImageDef {
                name: $name,
                path: $path,
                company: $company,
                product: $product,
                version: $version,
                description: $desc,
                size: $size,
                signer: $signer,
            }),*
        ];
    };
}

images! {
    System => ("System", "", "", "", "", "", 0, "OsVendor"),
    Smss => ("smss.exe", r"C:\Windows\System32\smss.exe", MS, WIN, WV, "Windows Session Manager", 159_744, "OsVendor"),
    Wininit => ("wininit.exe", r"C:\Windows\System32\wininit.exe", MS, WIN, WV, "Windows Start-Up Application", 450_560, "OsVendor"),
    Winlogon => ("winlogon.exe", r"C:\Windows\System32\winlogon.exe", MS, WIN, WV, "Windows Logon Application", 921_600, "OsVendor"),
    Services => ("services.exe", r"C:\Windows\System32\services.exe", MS, WIN, WV, "Services and Controller app", 720_896, "OsVendor"),
    Lsass => ("lsass.exe", r"C:\Windows\System32\lsass.exe", MS, WIN, WV, "Local Security Authority Process", 86_016, "OsVendor"),
    Svchost => ("svchost.exe", r"C:\Windows\System32\svchost.exe", MS, WIN, WV, "Host Process for Windows Services", 57_360, "OsVendor"),
    Userinit => ("userinit.exe", r"C:\Windows\System32\userinit.exe", MS, WIN, WV, "Userinit Logon Application", 36_864, "OsVendor"),
    Explorer => ("explorer.exe", r"C:\Windows\explorer.exe", MS, WIN, WV, "Windows Explorer", 5_636_096, "OsVendor"),
    WmiPrvSE => ("WmiPrvSE.exe", r"C:\Windows\System32\wbem\WmiPrvSE.exe", MS, WIN, WV, "WMI Provider Host", 577_536, "OsVendor"),
    Taskhostw => ("taskhostw.exe", r"C:\Windows\System32\taskhostw.exe", MS, WIN, WV, "Host Process for Windows Tasks", 104_792, "OsVendor"),
    RuntimeBroker => ("RuntimeBroker.exe", r"C:\Windows\System32\RuntimeBroker.exe", MS, WIN, WV, "Runtime Broker", 147_456, "OsVendor"),
    BackgroundTaskHost => ("backgroundTaskHost.exe", r"C:\Windows\System32\backgroundTaskHost.exe", MS, WIN, WV, "Background Task Host", 36_864, "OsVendor"),
    SearchIndexer => ("SearchIndexer.exe", r"C:\Windows\System32\SearchIndexer.exe", MS, WIN, WV, "Microsoft Windows Search Indexer", 970_752, "OsVendor"),
    SearchProtocolHost => ("SearchProtocolHost.exe", r"C:\Windows\System32\SearchProtocolHost.exe", MS, WIN, WV, "Microsoft Windows Search Protocol Host", 442_368, "OsVendor"),
    SearchFilterHost => ("SearchFilterHost.exe", r"C:\Windows\System32\SearchFilterHost.exe", MS, WIN, WV, "Microsoft Windows Search Filter Host", 229_376, "OsVendor"),
    Spoolsv => ("spoolsv.exe", r"C:\Windows\System32\spoolsv.exe", MS, WIN, WV, "Spooler SubSystem App", 970_752, "OsVendor"),
    Conhost => ("conhost.exe", r"C:\Windows\System32\conhost.exe", MS, WIN, WV, "Console Window Host", 1_011_712, "OsVendor"),
    Cmd => ("cmd.exe", r"C:\Windows\System32\cmd.exe", MS, WIN, WV, "Windows Command Processor", 323_584, "OsVendor"),
    PowerShell => ("powershell.exe", r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", MS, WIN, WV, "Windows PowerShell", 455_680, "OsVendor"),
    MsMpEng => ("MsMpEng.exe", r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe", MS, DEF, DV, "Antimalware Service Executable", 133_504, "Microsoft"),
    MpCmdRun => ("MpCmdRun.exe", r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpCmdRun.exe", MS, DEF, DV, "Microsoft Malware Protection Command Line Utility", 1_547_104, "Microsoft"),
    MsSense => ("MsSense.exe", r"C:\Program Files\Windows Defender Advanced Threat Protection\MsSense.exe", MS, WIN, "10.8760.22621.1105", "Windows Defender Advanced Threat Protection Service Executable", 3_962_368, "OsVendor"),
    SenseCncProxy => ("SenseCncProxy.exe", r"C:\Program Files\Windows Defender Advanced Threat Protection\SenseCncProxy.exe", MS, WIN, "10.8760.22621.1105", "Windows Defender Advanced Threat Protection Communication Module", 1_281_024, "OsVendor"),
    CompatTelRunner => ("CompatTelRunner.exe", r"C:\Windows\System32\CompatTelRunner.exe", MS, WIN, WV, "Microsoft Compatibility Telemetry", 208_896, "OsVendor"),
    MoUsoCoreWorker => ("MoUsoCoreWorker.exe", r"C:\Windows\System32\MoUsoCoreWorker.exe", MS, WIN, WV, "MoUSO Core Worker Process", 1_142_784, "OsVendor"),
    Sihclient => ("sihclient.exe", r"C:\Windows\System32\sihclient.exe", MS, WIN, WV, "SIH Client", 282_624, "OsVendor"),
    TrustedInstaller => ("TrustedInstaller.exe", r"C:\Windows\servicing\TrustedInstaller.exe", MS, WIN, WV, "Windows Modules Installer", 151_552, "OsVendor"),
    Msiexec => ("msiexec.exe", r"C:\Windows\System32\msiexec.exe", MS, WIN, WV, "Windows® installer", 69_632, "OsVendor"),
    Gpupdate => ("gpupdate.exe", r"C:\Windows\System32\gpupdate.exe", MS, WIN, WV, "Microsoft® Windows Group Policy Update Utility", 36_864, "OsVendor"),
    Dllhost => ("dllhost.exe", r"C:\Windows\System32\dllhost.exe", MS, WIN, WV, "COM Surrogate", 24_576, "OsVendor"),
    Sihost => ("sihost.exe", r"C:\Windows\System32\sihost.exe", MS, WIN, WV, "Shell Infrastructure Host", 131_072, "OsVendor"),
    Ctfmon => ("ctfmon.exe", r"C:\Windows\System32\ctfmon.exe", MS, WIN, WV, "CTF Loader", 28_672, "OsVendor"),
    Smartscreen => ("smartscreen.exe", r"C:\Windows\System32\smartscreen.exe", MS, WIN, WV, "Windows Defender SmartScreen", 2_670_592, "OsVendor"),
    WerFault => ("WerFault.exe", r"C:\Windows\System32\WerFault.exe", MS, WIN, WV, "Windows Problem Reporting", 569_344, "OsVendor"),
    Rundll32 => ("rundll32.exe", r"C:\Windows\System32\rundll32.exe", MS, WIN, WV, "Windows host process (Rundll32)", 73_728, "OsVendor"),
    Net => ("net.exe", r"C:\Windows\System32\net.exe", MS, WIN, WV, "Net Command", 57_344, "OsVendor"),
    Net1 => ("net1.exe", r"C:\Windows\System32\net1.exe", MS, WIN, WV, "Net Command", 172_032, "OsVendor"),
    Whoami => ("whoami.exe", r"C:\Windows\System32\whoami.exe", MS, WIN, WV, "whoami - displays logged on user information", 73_728, "OsVendor"),
    Nltest => ("nltest.exe", r"C:\Windows\System32\nltest.exe", MS, WIN, WV, "Microsoft® Logon Server Test Utility", 443_392, "OsVendor"),
    Mstsc => ("mstsc.exe", r"C:\Windows\System32\mstsc.exe", MS, WIN, WV, "Remote Desktop Connection", 1_466_368, "OsVendor"),
    Reg => ("reg.exe", r"C:\Windows\System32\reg.exe", MS, WIN, WV, "Registry Console Tool", 77_824, "OsVendor"),
    Schtasks => ("schtasks.exe", r"C:\Windows\System32\schtasks.exe", MS, WIN, WV, "Task Scheduler Configuration Tool", 233_472, "OsVendor"),
    Vssadmin => ("vssadmin.exe", r"C:\Windows\System32\vssadmin.exe", MS, WIN, WV, "Command Line Interface for Microsoft® Volume Shadow Copy Service", 139_264, "OsVendor"),
    Curl => ("curl.exe", r"C:\Windows\System32\curl.exe", "curl, https://curl.se/", "The curl executable", "8.9.1", "The curl executable", 614_400, "OsVendor"),
    Notepad => ("notepad.exe", r"C:\Windows\System32\notepad.exe", MS, WIN, WV, "Notepad", 201_216, "OsVendor"),
    Ipconfig => ("ipconfig.exe", r"C:\Windows\System32\ipconfig.exe", MS, WIN, WV, "IP Configuration Utility", 36_864, "OsVendor"),
    Fodhelper => ("fodhelper.exe", r"C:\Windows\System32\fodhelper.exe", MS, WIN, WV, "Features On Demand Helper", 51_200, "OsVendor"),
    Bcdedit => ("bcdedit.exe", r"C:\Windows\System32\bcdedit.exe", MS, WIN, WV, "Boot Configuration Data Editor", 450_560, "OsVendor"),
    Tasklist => ("tasklist.exe", r"C:\Windows\System32\tasklist.exe", MS, WIN, WV, "Lists the current running tasks", 94_208, "OsVendor"),
    Chrome => ("chrome.exe", r"C:\Program Files\Google\Chrome\Application\chrome.exe", "Google LLC", "Google Chrome", "131.0.6778.86", "Google Chrome", 2_884_888, "ThirdParty"),
    Edge => ("msedge.exe", r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe", MS, "Microsoft Edge", "131.0.2903.70", "Microsoft Edge", 4_079_144, "Microsoft"),
    WebView2 => ("msedgewebview2.exe", r"C:\Program Files (x86)\Microsoft\EdgeWebView\Application\131.0.2903.70\msedgewebview2.exe", MS, "Microsoft Edge WebView2", "131.0.2903.70", "Microsoft Edge WebView2", 3_320_840, "Microsoft"),
    Outlook => ("OUTLOOK.EXE", r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE", MS, OFFICE, OV, "Microsoft Outlook", 43_191_720, "Microsoft"),
    Word => ("WINWORD.EXE", r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE", MS, OFFICE, OV, "Microsoft Word", 1_625_512, "Microsoft"),
    Excel => ("EXCEL.EXE", r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE", MS, OFFICE, OV, "Microsoft Excel", 68_743_080, "Microsoft"),
    PowerPoint => ("POWERPNT.EXE", r"C:\Program Files\Microsoft Office\root\Office16\POWERPNT.EXE", MS, OFFICE, OV, "Microsoft PowerPoint", 1_892_256, "Microsoft"),
    Teams => ("ms-teams.exe", r"C:\Program Files\WindowsApps\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe\ms-teams.exe", MS, "Microsoft Teams", "24295.605.3225.8804", "Microsoft Teams", 1_021_384, "Microsoft"),
    OneDrive => ("OneDrive.exe", r"C:\Program Files\Microsoft OneDrive\OneDrive.exe", MS, "Microsoft OneDrive", "24.211.1020.0002", "Microsoft OneDrive", 3_616_600, "Microsoft"),
    ClickToRun => ("OfficeClickToRun.exe", r"C:\Program Files\Common Files\microsoft shared\ClickToRun\OfficeClickToRun.exe", MS, OFFICE, OV, "Microsoft Office Click-to-Run", 11_930_024, "Microsoft"),
    Acrobat => ("Acrobat.exe", r"C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe", "Adobe Inc.", "Adobe Acrobat", "24.4.20272.0", "Adobe Acrobat", 6_418_296, "ThirdParty"),
    GoogleUpdate => ("GoogleUpdate.exe", r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe", "Google LLC", "Google Update", "1.3.36.372", "Google Installer", 161_648, "ThirdParty"),
    Code => ("Code.exe", r"C:\Program Files\Microsoft VS Code\Code.exe", MS, "Visual Studio Code", "1.95.3", "Visual Studio Code", 161_020_944, "Microsoft"),
    Git => ("git.exe", r"C:\Program Files\Git\cmd\git.exe", "The Git Development Community", "Git", "2.47.0.2", "Git for Windows", 47_680, "ThirdParty"),
    Node => ("node.exe", r"C:\Program Files\nodejs\node.exe", "Node.js", "Node.js", "20.18.0", "Node.js JavaScript Runtime", 82_315_776, "ThirdParty"),
    Mmc => ("mmc.exe", r"C:\Windows\System32\mmc.exe", MS, WIN, WV, "Microsoft Management Console", 2_256_896, "OsVendor"),
    // Tools and vendor software of `endpoint2.rs`.
    Runas => ("runas.exe", r"C:\Windows\System32\runas.exe", MS, WIN, WV, "Run As Utility", 50_688, "OsVendor"),
    Fsutil => ("fsutil.exe", r"C:\Windows\System32\fsutil.exe", MS, WIN, WV, "fsutil.exe", 233_472, "OsVendor"),
    MpSigStub => ("MpSigStub.exe", r"C:\Windows\System32\MpSigStub.exe", MS, DEF, "1.1.24090.11", "Microsoft Malware Protection Signature Update Stub", 1_167_264, "Microsoft"),
    DevTunnel => ("devtunnel.exe", r"C:\Tools\devtunnel\devtunnel.exe", MS, "Microsoft Dev Tunnels", "1.0.1435.40000", "Dev Tunnels CLI", 36_120_080, "Microsoft"),
    FieldSync => ("ContosoFieldSync.exe", r"C:\Dev\FieldSync\bin\Release\net8.0-windows\ContosoFieldSync.exe", "Contoso Ltd", "Contoso Field Sync", "0.9.14.0", "Contoso Field Sync (test build)", 187_904, "ThirdParty"),
    Wkhtmltopdf => ("wkhtmltopdf.exe", r"C:\Program Files\wkhtmltopdf\bin\wkhtmltopdf.exe", "wkhtmltopdf.org", "wkhtmltopdf", "0.12.6", "wkhtmltopdf", 29_892_608, "None"),
    GoToMeeting => ("g2mcomm.exe", r"C:\Program Files (x86)\GoToMeeting\21247\g2mcomm.exe", "LogMeIn, Inc.", "GoTo Meeting", "10.19.0.21247", "GoTo Meeting", 46_976, "ThirdParty"),
    TightVnc => ("tvnviewer.exe", r"C:\Program Files\TightVNC\tvnviewer.exe", "GlavSoft LLC.", "TightVNC Viewer", "2.8.85.0", "TightVNC Viewer", 2_018_248, "ThirdParty"),
    Defendpoint => ("DefendpointService.exe", r"C:\Program Files\Avecto\Privilege Guard Client\DefendpointService.exe", "BeyondTrust Software Ltd", "BeyondTrust Privilege Management", "24.3.248.0", "Defendpoint Service", 9_412_096, "ThirdParty"),
    AdapAgent => ("ADAPAgentService.exe", r"C:\Program Files\ManageEngine\ADAudit Plus Agent\bin\ADAPAgentService.exe", "Zoho Corporation Private Limited", "ManageEngine ADAudit Plus Agent", "8.1.0.0", "ADAudit Plus Agent Service", 1_372_160, "ThirdParty"),
    ExpressScribe => ("scribe.exe", r"C:\Program Files (x86)\NCH Software\Scribe\scribe.exe", "NCH Software", "Express Scribe", "14.07", "Express Scribe Transcription Software", 3_154_944, "ThirdParty"),
    SmaV2 => ("System.Management.Automation.dll", r"C:\Windows\assembly\GAC_MSIL\System.Management.Automation\1.0.0.0__31bf3856ad364e35\System.Management.Automation.dll", MS, WIN, "6.1.7600.16385", "System.Management.Automation", 2_707_456, "OsVendor"),
    // Administration, development and red-team tools (`activity.rs`).
    Certutil => ("certutil.exe", r"C:\Windows\System32\certutil.exe", MS, WIN, WV, "CertUtil.exe", 1_631_744, "OsVendor"),
    Mshta => ("mshta.exe", r"C:\Windows\System32\mshta.exe", MS, "Internet Explorer", "11.00.22621.1", "Microsoft (R) HTML Application host", 14_848, "OsVendor"),
    Regsvr32 => ("regsvr32.exe", r"C:\Windows\System32\regsvr32.exe", MS, WIN, WV, "Microsoft(C) Register Server", 25_088, "OsVendor"),
    Wscript => ("wscript.exe", r"C:\Windows\System32\wscript.exe", MS, "Microsoft ® Windows Script Host", "5.812.10240.16384", "Microsoft ® Windows Based Script Host", 167_936, "OsVendor"),
    Cscript => ("cscript.exe", r"C:\Windows\System32\cscript.exe", MS, "Microsoft ® Windows Script Host", "5.812.10240.16384", "Microsoft ® Console Based Script Host", 147_456, "OsVendor"),
    Wmic => ("WMIC.exe", r"C:\Windows\System32\wbem\WMIC.exe", MS, WIN, WV, "WMI Commandline Utility", 571_392, "OsVendor"),
    Sc => ("sc.exe", r"C:\Windows\System32\sc.exe", MS, WIN, WV, "Service Control Manager Configuration Tool", 69_632, "OsVendor"),
    Netsh => ("netsh.exe", r"C:\Windows\System32\netsh.exe", MS, WIN, WV, "Network Command Shell", 96_768, "OsVendor"),
    Bitsadmin => ("bitsadmin.exe", r"C:\Windows\System32\bitsadmin.exe", MS, WIN, WV, "BITS administration utility", 196_608, "OsVendor"),
    MsBuild => ("MSBuild.exe", r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\MSBuild.exe", MS, "Microsoft® .NET Framework", "4.8.9037.0", "MSBuild.exe", 347_224, "Microsoft"),
    Csc => ("csc.exe", r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\csc.exe", MS, "Microsoft® .NET Framework", "4.8.9037.0", "Visual C# Command Line Compiler", 2_759_232, "Microsoft"),
    Cvtres => ("cvtres.exe", r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\cvtres.exe", MS, "Microsoft® .NET Framework", "14.10.25028.0", "Microsoft® Resource File To COFF Object Conversion Utility", 49_256, "Microsoft"),
    InstallUtil => ("InstallUtil.exe", r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\InstallUtil.exe", MS, "Microsoft® .NET Framework", "4.8.9037.0", ".NET Framework installation utility", 49_248, "Microsoft"),
    Findstr => ("findstr.exe", r"C:\Windows\System32\findstr.exe", MS, WIN, WV, "Find String (QGREP) Utility", 36_864, "OsVendor"),
    Systeminfo => ("systeminfo.exe", r"C:\Windows\System32\systeminfo.exe", MS, WIN, WV, "Displays system information", 90_112, "OsVendor"),
    Hostname => ("HOSTNAME.EXE", r"C:\Windows\System32\HOSTNAME.EXE", MS, WIN, WV, "Hostname APP", 13_824, "OsVendor"),
    Ping => ("PING.EXE", r"C:\Windows\System32\PING.EXE", MS, WIN, WV, "TCP/IP Ping Command", 22_528, "OsVendor"),
    Nslookup => ("nslookup.exe", r"C:\Windows\System32\nslookup.exe", MS, WIN, WV, "nslookup", 98_304, "OsVendor"),
    Netstat => ("NETSTAT.EXE", r"C:\Windows\System32\NETSTAT.EXE", MS, WIN, WV, "TCP/IP Netstat Command", 39_424, "OsVendor"),
    Arp => ("ARP.EXE", r"C:\Windows\System32\ARP.EXE", MS, WIN, WV, "TCP/IP Arp Command", 33_280, "OsVendor"),
    Quser => ("quser.exe", r"C:\Windows\System32\quser.exe", MS, WIN, WV, "Query User Utility", 23_040, "OsVendor"),
    Klist => ("klist.exe", r"C:\Windows\System32\klist.exe", MS, WIN, WV, "Kerberos List Commandline Tool", 30_720, "OsVendor"),
    Gpresult => ("gpresult.exe", r"C:\Windows\System32\gpresult.exe", MS, WIN, WV, "Query Group Policy RSOP Data", 194_560, "OsVendor"),
    Wevtutil => ("wevtutil.exe", r"C:\Windows\System32\wevtutil.exe", MS, WIN, WV, "Eventing Command Line Utility", 236_544, "OsVendor"),
    Taskkill => ("taskkill.exe", r"C:\Windows\System32\taskkill.exe", MS, WIN, WV, "Terminates Processes", 90_112, "OsVendor"),
    Cipher => ("cipher.exe", r"C:\Windows\System32\cipher.exe", MS, WIN, WV, "File Encryption Utility", 53_248, "OsVendor"),
    Wbadmin => ("wbadmin.exe", r"C:\Windows\System32\wbadmin.exe", MS, WIN, WV, "Command Line Interface for Microsoft® BLB Backup", 285_184, "OsVendor"),
    Icacls => ("icacls.exe", r"C:\Windows\System32\icacls.exe", MS, WIN, WV, "icacls", 36_864, "OsVendor"),
    Robocopy => ("Robocopy.exe", r"C:\Windows\System32\Robocopy.exe", MS, WIN, WV, "Microsoft® Robust File Copy", 135_168, "OsVendor"),
    Cmdkey => ("cmdkey.exe", r"C:\Windows\System32\cmdkey.exe", MS, WIN, WV, "Credential Manager Command Line Utility", 20_480, "OsVendor"),
    Forfiles => ("forfiles.exe", r"C:\Windows\System32\forfiles.exe", MS, WIN, WV, "ForFiles - Executes a command on selected files", 46_592, "OsVendor"),
    Odbcconf => ("odbcconf.exe", r"C:\Windows\System32\odbcconf.exe", MS, WIN, WV, "ODBC Driver Configuration Program", 48_640, "OsVendor"),
    Cmstp => ("cmstp.exe", r"C:\Windows\System32\cmstp.exe", MS, WIN, WV, "Microsoft Connection Manager Profile Installer", 92_672, "OsVendor"),
    Hh => ("hh.exe", r"C:\Windows\hh.exe", MS, WIN, WV, "Microsoft® HTML Help Executable", 17_408, "OsVendor"),
    Pcalua => ("pcalua.exe", r"C:\Windows\System32\pcalua.exe", MS, WIN, WV, "Program Compatibility Assistant", 54_272, "OsVendor"),
    Esentutl => ("esentutl.exe", r"C:\Windows\System32\esentutl.exe", MS, WIN, WV, "Extensible Storage Engine Utilities for Microsoft(R) Windows(R)", 436_224, "OsVendor"),
    Ntdsutil => ("ntdsutil.exe", r"C:\Windows\System32\ntdsutil.exe", MS, WIN, "10.0.20348.2849", "NT5DS", 591_872, "OsVendor"),
    Repadmin => ("repadmin.exe", r"C:\Windows\System32\repadmin.exe", MS, WIN, "10.0.20348.2849", "Replication Diagnosis Tool", 593_408, "OsVendor"),
    Gpscript => ("gpscript.exe", r"C:\Windows\System32\gpscript.exe", MS, WIN, WV, "Group Policy Script Application", 46_080, "OsVendor"),
    Splwow64 => ("splwow64.exe", r"C:\Windows\splwow64.exe", MS, WIN, WV, "Print driver host for applications", 163_840, "OsVendor"),
    Wsmprovhost => ("wsmprovhost.exe", r"C:\Windows\System32\wsmprovhost.exe", MS, WIN, WV, "Host process for WinRM plug-ins", 61_440, "OsVendor"),
    Pwsh => ("pwsh.exe", r"C:\Program Files\PowerShell\7\pwsh.exe", MS, "PowerShell", "7.4.6", "pwsh", 289_336, "Microsoft"),
    Ssh => ("ssh.exe", r"C:\Windows\System32\OpenSSH\ssh.exe", MS, "OpenSSH for Windows", "9.5.4.1", "OpenSSH SSH client", 1_171_456, "OsVendor"),
    Wsl => ("wsl.exe", r"C:\Windows\System32\wsl.exe", MS, WIN, WV, "Windows Subsystem for Linux", 144_384, "OsVendor"),
    Python => ("python.exe", r"C:\Program Files\Python312\python.exe", "Python Software Foundation", "Python", "3.12.7", "Python", 103_192, "ThirdParty"),
    Dotnet => ("dotnet.exe", r"C:\Program Files\dotnet\dotnet.exe", MS, "Microsoft® .NET", "8.0.11", ".NET Host", 150_320, "Microsoft"),
    Winget => ("winget.exe", r"C:\Program Files\WindowsApps\Microsoft.DesktopAppInstaller_1.24.25200.0_x64__8wekyb3d8bbwe\winget.exe", MS, "Microsoft Windows Package Manager", "1.24.25200.0", "Windows Package Manager", 22_856, "Microsoft"),
    SevenZip => ("7z.exe", r"C:\Program Files\7-Zip\7z.exe", "Igor Pavlov", "7-Zip", "24.08", "7-Zip Console", 575_488, "ThirdParty"),
    PsExec => ("PsExec.exe", r"C:\Tools\SysinternalsSuite\PsExec.exe", "Sysinternals - www.sysinternals.com", "Sysinternals PsExec", "2.43", "Execute processes remotely", 716_176, "Microsoft"),
    Psexesvc => ("PSEXESVC.exe", r"C:\Windows\PSEXESVC.exe", "Sysinternals - www.sysinternals.com", "Sysinternals PsExec", "2.43", "PsExec Service", 196_496, "Microsoft"),
    Procdump => ("procdump64.exe", r"C:\Tools\SysinternalsSuite\procdump64.exe", "Sysinternals - www.sysinternals.com", "ProcDump", "11.0", "Sysinternals process dump utility", 424_856, "Microsoft"),
    ZoomInstaller => ("ZoomInstallerFull.exe", r"C:\Users\Public\Downloads\ZoomInstallerFull.exe", "Zoom Video Communications, Inc.", "Zoom", "6.2.11.52513", "Zoom Installer", 88_517_336, "ThirdParty"),
    SharpHound => ("SharpHound.exe", r"C:\Tools\RedTeam\SharpHound.exe", "", "", "", "", 1_052_160, "None"),
    Rubeus => ("Rubeus.exe", r"C:\Tools\RedTeam\Rubeus.exe", "", "", "", "", 446_976, "None"),
    Rclone => ("rclone.exe", r"C:\Tools\RedTeam\rclone.exe", "https://rclone.org", "Rclone", "1.68.1", "Rsync for cloud storage", 60_131_840, "None"),
    RtImplant => ("rt-implant.exe", r"C:\Users\Public\rt-implant.exe", "", "", "", "", 289_280, "None"),
    Mswsock => ("mswsock.dll", r"C:\Windows\System32\mswsock.dll", MS, WIN, WV, "Microsoft Windows Sockets 2.0 Service Provider", 528_384, "OsVendor"),
    Iphlpapi => ("IPHLPAPI.DLL", r"C:\Windows\System32\IPHLPAPI.DLL", MS, WIN, WV, "IP Helper API", 212_992, "OsVendor"),
    Ksproxy => ("ksproxy.ax", r"C:\Windows\System32\ksproxy.ax", MS, WIN, WV, "WDM Streaming ActiveMovie Proxy", 208_896, "OsVendor"),
    SmaDll => ("System.Management.Automation.dll", r"C:\Program Files\PowerShell\7\System.Management.Automation.dll", MS, "PowerShell", "7.4.6", "System.Management.Automation", 8_196_896, "Microsoft"),
    MscorlibNi => ("mscorlib.ni.dll", r"C:\Windows\assembly\NativeImages_v4.0.30319_64\mscorlib\0b3e6d2ec1e7ae8ba7f0bd7f8a3b7c3e\mscorlib.ni.dll", MS, "Microsoft® .NET Framework", "4.8.9290.0", "Microsoft Common Language Runtime Class Library", 23_624_448, "Microsoft"),
    ScreenConnectSvc => ("ScreenConnect.ClientService.exe", r"C:\Program Files (x86)\ScreenConnect Client (5b8c2a9e3f1d4c07)\ScreenConnect.ClientService.exe", "ConnectWise, LLC", "ScreenConnect", "24.3.7.9067", "ScreenConnect Client Service", 94_000, "ThirdParty"),
    ScreenConnectClient => ("ScreenConnect.WindowsClient.exe", r"C:\Program Files (x86)\ScreenConnect Client (5b8c2a9e3f1d4c07)\ScreenConnect.WindowsClient.exe", "ConnectWise, LLC", "ScreenConnect", "24.3.7.9067", "ScreenConnect Client", 612_776, "ThirdParty"),
    AnyDesk => ("AnyDesk.exe", r"C:\Program Files (x86)\AnyDesk\AnyDesk.exe", "AnyDesk Software GmbH", "AnyDesk", "8.1.0", "AnyDesk", 5_219_048, "ThirdParty"),
    Dwrcc => ("DWRCC.exe", r"C:\Program Files\SolarWinds\DameWare Mini Remote Control x64\DWRCC.exe", "SolarWinds Worldwide, LLC", "DameWare Mini Remote Control", "12.3.0.12", "DameWare Mini Remote Control", 8_622_176, "ThirdParty"),
    Pktmon => ("PktMon.exe", r"C:\Windows\System32\PktMon.exe", MS, WIN, WV, "Packet Monitor", 149_504, "OsVendor"),
    AtomicDll => ("AtomicTest.dll", r"C:\Users\Public\AtomicTest.dll", "", "", "", "", 8_704, "None"),
    Vaultcli => ("vaultcli.dll", r"C:\Windows\System32\vaultcli.dll", MS, WIN, WV, "Credential Vault Client Library", 368_640, "OsVendor"),
    IntuneAgent => ("AgentExecutor.exe", r"C:\Program Files (x86)\Microsoft Intune Management Extension\AgentExecutor.exe", MS, "Microsoft Intune Management Extension", "1.83.107.0", "AgentExecutor", 38_856, "Microsoft"),
    IntuneExt => ("Microsoft.Management.Services.IntuneWindowsAgent.exe", r"C:\Program Files (x86)\Microsoft Intune Management Extension\Microsoft.Management.Services.IntuneWindowsAgent.exe", MS, "Microsoft Intune Management Extension", "1.83.107.0", "Microsoft Intune Management Extension", 74_696, "Microsoft"),
    Sqlservr => ("sqlservr.exe", r"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\sqlservr.exe", MS, "Microsoft SQL Server", "2022.160.4145.4", "SQL Server Windows NT - 64 Bit", 486_296, "Microsoft"),
    SqlAgent => ("SQLAGENT.EXE", r"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\SQLAGENT.EXE", MS, "Microsoft SQL Server", "2022.160.4145.4", "SQLAgent - SQL Server Agent", 708_504, "Microsoft"),
    W3wp => ("w3wp.exe", r"C:\Windows\System32\inetsrv\w3wp.exe", MS, "Internet Information Services", "10.0.20348.1", "IIS Worker Process", 28_672, "OsVendor"),
    Dns => ("dns.exe", r"C:\Windows\System32\dns.exe", MS, WIN, "10.0.20348.2849", "Domain Name System (DNS) Server", 2_473_984, "OsVendor"),
    Dfsrs => ("dfsrs.exe", r"C:\Windows\System32\dfsrs.exe", MS, WIN, "10.0.20348.2849", "Distributed File System Replication", 3_145_728, "OsVendor"),
    AdWs => ("Microsoft.ActiveDirectory.WebServices.exe", r"C:\Windows\ADWS\Microsoft.ActiveDirectory.WebServices.exe", MS, WIN, "10.0.20348.2849", "Microsoft.ActiveDirectory.WebServices", 450_560, "OsVendor"),
    // Remote-support, deployment and scanning agents some devices run as services.
    TeamViewer => ("TeamViewer_Service.exe", r"C:\Program Files\TeamViewer\TeamViewer_Service.exe", "TeamViewer Germany GmbH", "TeamViewer", "15.59.5.0", "TeamViewer 15", 13_917_000, "ThirdParty"),
    ScreenConnect => ("ScreenConnect.ClientService.exe", r"C:\Program Files (x86)\ScreenConnect Client (7c1d9e4f2a6b3850)\ScreenConnect.ClientService.exe", "ConnectWise, LLC", "ScreenConnect", "24.2.4.8965", "ScreenConnect Client Service", 95_656, "ThirdParty"),
    PdqConnect => ("PDQConnectAgent.exe", r"C:\Program Files\PDQ\PDQConnectAgent\PDQConnectAgent.exe", "PDQ.com Corporation", "PDQConnectAgent", "5.9.4.0", "PDQ Connect Agent", 34_652_160, "ThirdParty"),
    Splashtop => ("SRService.exe", r"C:\Program Files (x86)\Splashtop\Splashtop Remote\Server\SRService.exe", "Splashtop Inc.", "Splashtop Streamer", "3.7.2.4", "Splashtop Remote Service", 3_265_896, "ThirdParty"),
    Nessus => ("nessusd.exe", r"C:\Program Files\Tenable\Nessus\nessusd.exe", "Tenable, Inc.", "Tenable Nessus", "10.8.3.20009", "Nessus Scanner", 12_058_112, "ThirdParty"),
    NotepadPP => ("notepad++.exe", r"C:\Program Files\Notepad++\notepad++.exe", "Don HO don.h@free.fr", "Notepad++", "8.6.9", "Notepad++", 6_455_640, "ThirdParty"),
    WinUpd => ("winupd.exe", r"C:\ProgramData\winupd.exe", "", "", "", "", 241_152, "None"),
    // Libraries (image loads).
    Ntdll => ("ntdll.dll", r"C:\Windows\System32\ntdll.dll", MS, WIN, WV, "NT Layer DLL", 2_506_752, "OsVendor"),
    Kernel32 => ("kernel32.dll", r"C:\Windows\System32\kernel32.dll", MS, WIN, WV, "Windows NT BASE API Client DLL", 774_144, "OsVendor"),
    KernelBase => ("KernelBase.dll", r"C:\Windows\System32\KernelBase.dll", MS, WIN, WV, "Windows NT BASE API Client DLL", 3_796_992, "OsVendor"),
    User32 => ("user32.dll", r"C:\Windows\System32\user32.dll", MS, WIN, WV, "Multi-User Windows USER API Client DLL", 1_823_376, "OsVendor"),
    Advapi32 => ("advapi32.dll", r"C:\Windows\System32\advapi32.dll", MS, WIN, WV, "Advanced Windows 32 Base API", 708_608, "OsVendor"),
    Combase => ("combase.dll", r"C:\Windows\System32\combase.dll", MS, WIN, WV, "Microsoft COM for Windows", 3_620_864, "OsVendor"),
    Ole32 => ("ole32.dll", r"C:\Windows\System32\ole32.dll", MS, WIN, WV, "Microsoft OLE for Windows", 1_589_248, "OsVendor"),
    Rpcrt4 => ("rpcrt4.dll", r"C:\Windows\System32\rpcrt4.dll", MS, WIN, WV, "Remote Procedure Call Runtime", 1_155_072, "OsVendor"),
    Bcrypt => ("bcrypt.dll", r"C:\Windows\System32\bcrypt.dll", MS, WIN, WV, "Windows Cryptographic Primitives Library", 159_744, "OsVendor"),
    Crypt32 => ("crypt32.dll", r"C:\Windows\System32\crypt32.dll", MS, WIN, WV, "Crypto API32", 1_458_176, "OsVendor"),
    Ws2_32 => ("ws2_32.dll", r"C:\Windows\System32\ws2_32.dll", MS, WIN, WV, "Windows Socket 2.0 32-Bit DLL", 471_040, "OsVendor"),
    Winhttp => ("winhttp.dll", r"C:\Windows\System32\winhttp.dll", MS, WIN, WV, "Windows HTTP Services", 1_191_936, "OsVendor"),
    Wininet => ("wininet.dll", r"C:\Windows\System32\wininet.dll", MS, WIN, WV, "Internet Extensions for Win32", 4_939_776, "OsVendor"),
    Dnsapi => ("dnsapi.dll", r"C:\Windows\System32\dnsapi.dll", MS, WIN, WV, "DNS Client API DLL", 724_992, "OsVendor"),
    Shell32 => ("shell32.dll", r"C:\Windows\System32\shell32.dll", MS, WIN, WV, "Windows Shell Common Dll", 7_680_000, "OsVendor"),
    WinStorage => ("windows.storage.dll", r"C:\Windows\System32\windows.storage.dll", MS, WIN, WV, "Microsoft WinRT Storage API", 9_068_544, "OsVendor"),
    Amsi => ("amsi.dll", r"C:\Windows\System32\amsi.dll", MS, WIN, WV, "Anti-Malware Scan Interface", 98_304, "OsVendor"),
    MpOav => ("MpOav.dll", r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpOav.dll", MS, DEF, DV, "IOfficeAntiVirus Module", 383_976, "Microsoft"),
    Clr => ("clr.dll", r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\clr.dll", MS, "Microsoft® .NET Framework", "4.8.9277.0", "Microsoft .NET Runtime Common Language Runtime - WorkStation", 10_717_616, "Microsoft"),
    Mscoree => ("mscoree.dll", r"C:\Windows\System32\mscoree.dll", MS, WIN, WV, "Microsoft .NET Runtime Execution Engine", 446_976, "OsVendor"),
    SmaNi => ("System.Management.Automation.ni.dll", r"C:\Windows\assembly\NativeImages_v4.0.30319_64\System.Manaa57fc8cc#\3d6dc0e0f4a8bd7a4e0e3bd0c6ee8a1b\System.Management.Automation.ni.dll", MS, "Microsoft (R) Windows (R) Operating System", "10.0.22621.1", "System.Management.Automation", 33_468_416, "Microsoft"),
    Uxtheme => ("uxtheme.dll", r"C:\Windows\System32\uxtheme.dll", MS, WIN, WV, "Microsoft UxTheme Library", 630_784, "OsVendor"),
    D3d11 => ("d3d11.dll", r"C:\Windows\System32\d3d11.dll", MS, WIN, WV, "Direct3D 11 Runtime", 2_519_040, "OsVendor"),
    Ucrtbase => ("ucrtbase.dll", r"C:\Windows\System32\ucrtbase.dll", MS, WIN, WV, "Microsoft® C Runtime Library", 1_327_104, "OsVendor"),
    Vcruntime => ("vcruntime140.dll", r"C:\Windows\System32\vcruntime140.dll", MS, "Microsoft® Visual Studio®", "14.40.33810.0", "Microsoft® C Runtime Library", 120_400, "Microsoft"),
    ChromeElf => ("chrome_elf.dll", r"C:\Program Files\Google\Chrome\Application\131.0.6778.86\chrome_elf.dll", "Google LLC", "Google Chrome", "131.0.6778.86", "Google Chrome", 1_361_432, "ThirdParty"),
    Mso => ("mso.dll", r"C:\Program Files\Common Files\Microsoft Shared\Office16\mso.dll", MS, OFFICE, OV, "Microsoft Office", 12_180_792, "Microsoft"),
    Wwlib => ("wwlib.dll", r"C:\Program Files\Microsoft Office\root\Office16\wwlib.dll", MS, OFFICE, OV, "Microsoft Word", 45_987_624, "Microsoft"),
    Vbe7 => ("VBE7.DLL", r"C:\Program Files\Common Files\Microsoft Shared\VBA\VBA7.1\VBE7.DLL", MS, "Microsoft Visual Basic for Applications", "7.1.11.24", "Visual Basic for Applications Runtime", 4_012_424, "Microsoft"),
    Comsvcs => ("comsvcs.dll", r"C:\Windows\System32\comsvcs.dll", MS, WIN, WV, "COM+ Services", 2_310_144, "OsVendor"),
    Dbghelp => ("dbghelp.dll", r"C:\Windows\System32\dbghelp.dll", MS, WIN, WV, "Windows Image Helper", 1_851_392, "OsVendor"),
    Dbgcore => ("dbgcore.dll", r"C:\Windows\System32\dbgcore.dll", MS, WIN, WV, "Windows DbgCore Library", 172_032, "OsVendor"),
    Samlib => ("samlib.dll", r"C:\Windows\System32\samlib.dll", MS, WIN, WV, "SAM Library DLL", 126_976, "OsVendor"),
    Mstscax => ("mstscax.dll", r"C:\Windows\System32\mstscax.dll", MS, WIN, WV, "Remote Desktop Services ActiveX Client", 5_234_176, "OsVendor"),
    Sqlmin => ("sqlmin.dll", r"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\sqlmin.dll", MS, "Microsoft SQL Server", "2022.160.4145.4", "SQL Server Windows NT - 64 Bit", 41_234_328, "Microsoft"),
}

/// Libraries most processes load (weighted toward the core ones by repetition).
pub(crate) const COMMON_DLLS: &[Img] = &[
    Img::Ntdll,
    Img::Kernel32,
    Img::KernelBase,
    Img::User32,
    Img::Advapi32,
    Img::Combase,
    Img::Ole32,
    Img::Rpcrt4,
    Img::Bcrypt,
    Img::Crypt32,
    Img::Ws2_32,
    Img::Winhttp,
    Img::Dnsapi,
    Img::Shell32,
    Img::WinStorage,
    Img::Uxtheme,
    Img::Ucrtbase,
    Img::Vcruntime,
    Img::Amsi,
    Img::MpOav,
];

/// A department: code for device names, display name, share of the workforce, job titles.
pub(crate) struct Dept {
    pub code: &'static str,
    pub name: &'static str,
    pub weight: u64,
    pub titles: &'static [&'static str],
    pub share: &'static str,
}

pub(crate) const DEPTS: &[Dept] = &[
    Dept {
        code: "fin",
        name: "Finance",
        weight: 12,
        titles: &[
            "Financial Analyst",
            "Accountant",
            "Controller",
            "Payroll Specialist",
        ],
        share: "Finance",
    },
    Dept {
        code: "it",
        name: "IT",
        weight: 8,
        titles: &[
            "Systems Administrator",
            "IT Support Specialist",
            "Network Engineer",
        ],
        share: "IT",
    },
    Dept {
        code: "hr",
        name: "Human Resources",
        weight: 6,
        titles: &["HR Generalist", "Recruiter", "HR Business Partner"],
        share: "HR",
    },
    Dept {
        code: "sales",
        name: "Sales",
        weight: 22,
        titles: &[
            "Account Executive",
            "Sales Manager",
            "Inside Sales Representative",
        ],
        share: "Sales",
    },
    Dept {
        code: "eng",
        name: "Engineering",
        weight: 24,
        titles: &[
            "Software Engineer",
            "Senior Software Engineer",
            "QA Engineer",
        ],
        share: "Engineering",
    },
    Dept {
        code: "mkt",
        name: "Marketing",
        weight: 10,
        titles: &[
            "Marketing Specialist",
            "Content Manager",
            "Product Marketing Manager",
        ],
        share: "Marketing",
    },
    Dept {
        code: "legal",
        name: "Legal",
        weight: 4,
        titles: &["Counsel", "Paralegal"],
        share: "Legal",
    },
    Dept {
        code: "ops",
        name: "Operations",
        weight: 14,
        titles: &[
            "Operations Analyst",
            "Logistics Coordinator",
            "Facilities Manager",
        ],
        share: "Operations",
    },
];

pub(crate) const DEPT_FIN: usize = 0;
pub(crate) const DEPT_IT: usize = 1;

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Megan",
    "Alex",
    "Lidia",
    "Nestor",
    "Adele",
    "Isaiah",
    "Grady",
    "Lee",
    "Diego",
    "Johanna",
    "Pradeep",
    "Miriam",
    "Lynne",
    "Patti",
    "Henrietta",
    "Irvin",
    "Joni",
    "Christie",
    "Debra",
    "Enrico",
    "Allan",
    "Emily",
    "Brian",
    "Sofia",
    "Daniel",
    "Aisha",
    "Tom",
    "Priya",
    "Marcus",
    "Yuki",
    "Olivia",
    "Rahul",
    "Chen",
    "Fatima",
    "Lukas",
    "Ines",
    "Mateo",
    "Hannah",
    "Noah",
    "Amara",
    "Kenji",
    "Zoe",
    "Omar",
    "Elena",
    "Victor",
    "Grace",
    "Samuel",
    "Leila",
    "Jonas",
    "Maya",
    "Kwame",
    "Sara",
    "Pavel",
    "Nadia",
    "Ethan",
    "Chloe",
    "Ravi",
    "Anya",
    "Felix",
    "Rosa",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Bowen",
    "Wilber",
    "Holloway",
    "Wilke",
    "Vance",
    "Richards",
    "Archie",
    "Gu",
    "Siciliani",
    "Lauer",
    "Gupta",
    "Graham",
    "Robbins",
    "Fernandez",
    "Gerhart",
    "Sink",
    "Sherman",
    "Cline",
    "Berg",
    "Catteneo",
    "Deyoung",
    "Braun",
    "Johnson",
    "Nakamura",
    "Okafor",
    "Schmidt",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Lindqvist",
    "Moreau",
    "Silva",
    "Kim",
    "Patel",
    "Novak",
    "Jensen",
    "Murphy",
    "Tanaka",
    "Costa",
    "Dubois",
    "Mendes",
    "Fischer",
    "Ivanova",
    "Khan",
    "Larsen",
    "Walsh",
    "Romero",
    "Chowdhury",
    "Becker",
    "Nguyen",
    "Hughes",
    "Owusu",
    "Park",
    "Santos",
    "Weber",
    "Reyes",
    "Yilmaz",
    "Hansen",
    "Abbott",
    "Sato",
];

pub(crate) const CITIES: &[(&str, &str, &str)] = &[
    ("Redmond", "US", "One Microsoft Way"),
    ("Seattle", "US", "1201 3rd Ave"),
    ("New York", "US", "11 Times Sq"),
    ("London", "GB", "2 Kingdom St"),
];

/// An internet service endpoint family: host names and the /24 its addresses come from.
pub(crate) struct NetService {
    pub hosts: &'static [&'static str],
    pub prefix: &'static str,
}

pub(crate) const WEB_SERVICES: &[NetService] = &[
    NetService {
        hosts: &[
            "www.google.com",
            "www.gstatic.com",
            "fonts.googleapis.com",
            "apis.google.com",
        ],
        prefix: "142.250.72",
    },
    NetService {
        hosts: &["www.youtube.com", "i.ytimg.com"],
        prefix: "142.251.33",
    },
    NetService {
        hosts: &["www.linkedin.com", "static.licdn.com"],
        prefix: "13.107.42",
    },
    NetService {
        hosts: &[
            "github.com",
            "api.github.com",
            "objects.githubusercontent.com",
        ],
        prefix: "140.82.112",
    },
    NetService {
        hosts: &["stackoverflow.com", "cdn.sstatic.net"],
        prefix: "151.101.1",
    },
    NetService {
        hosts: &["www.bing.com", "th.bing.com"],
        prefix: "204.79.197",
    },
    NetService {
        hosts: &["www.wikipedia.org", "upload.wikimedia.org"],
        prefix: "208.80.154",
    },
    NetService {
        hosts: &["www.salesforce.com", "contoso.my.salesforce.com"],
        prefix: "104.109.10",
    },
    NetService {
        hosts: &["cdnjs.cloudflare.com", "www.cloudflare.com"],
        prefix: "104.16.132",
    },
    NetService {
        hosts: &["www.nytimes.com", "static01.nyt.com"],
        prefix: "151.101.65",
    },
    NetService {
        hosts: &["zoom.us", "us02web.zoom.us"],
        prefix: "170.114.52",
    },
    NetService {
        hosts: &["www.amazon.com", "m.media-amazon.com"],
        prefix: "54.239.28",
    },
];

pub(crate) const MS_SERVICES: &[NetService] = &[
    NetService {
        hosts: &["login.microsoftonline.com", "aadcdn.msftauth.net"],
        prefix: "20.190.151",
    },
    NetService {
        hosts: &["outlook.office365.com", "outlook.office.com"],
        prefix: "52.96.165",
    },
    NetService {
        hosts: &["contoso.sharepoint.com", "contoso-my.sharepoint.com"],
        prefix: "13.107.136",
    },
    NetService {
        hosts: &["teams.microsoft.com", "presence.teams.microsoft.com"],
        prefix: "52.113.194",
    },
    NetService {
        hosts: &[
            "settings-win.data.microsoft.com",
            "v10.events.data.microsoft.com",
        ],
        prefix: "20.42.65",
    },
    NetService {
        hosts: &["ctldl.windowsupdate.com", "fe3cr.delivery.mp.microsoft.com"],
        prefix: "20.72.205",
    },
    NetService {
        hosts: &[
            "winatp-gw-eus.microsoft.com",
            "us-v20.events.data.microsoft.com",
        ],
        prefix: "20.189.173",
    },
    NetService {
        hosts: &["wdcp.microsoft.com", "definitionupdates.microsoft.com"],
        prefix: "52.182.143",
    },
];

pub(crate) const MS_LOGIN: usize = 0;
pub(crate) const MS_OUTLOOK: usize = 1;
pub(crate) const MS_SHAREPOINT: usize = 2;
pub(crate) const MS_TEAMS: usize = 3;
pub(crate) const MS_TELEMETRY: usize = 4;
pub(crate) const MS_UPDATE: usize = 5;
pub(crate) const MS_MDE: usize = 6;
pub(crate) const MS_DEFENDER: usize = 7;

/// Partner and vendor domains (external mail, links).
pub(crate) const PARTNER_DOMAINS: &[&str] = &[
    "fabrikam.com",
    "northwindtraders.com",
    "adatum.com",
    "tailspintoys.com",
    "wingtiptoys.com",
    "litwareinc.com",
    "woodgrovebank.com",
    "proseware.com",
    "fourthcoffee.com",
    "alpineskihouse.com",
];

pub(crate) const NEWSLETTER_SENDERS: &[(&str, &str)] = &[
    ("news@industryweekly.com", "Industry Weekly"),
    ("updates@saas-insights.io", "SaaS Insights"),
    ("noreply@eventbrite.com", "Eventbrite"),
    ("digest@medium.com", "Medium Daily Digest"),
    ("no-reply@zoom.us", "Zoom"),
];

pub(crate) const DOC_TOPICS: &[&str] = &[
    "Budget",
    "Forecast",
    "Roadmap",
    "Board Deck",
    "Vendor Contract",
    "Customer List",
    "Onboarding Plan",
    "Status Report",
    "Meeting Notes",
    "Invoice",
    "Expense Report",
    "Project Plan",
    "Pricing Proposal",
    "Org Chart",
    "Release Notes",
    "Campaign Brief",
    "Security Review",
    "Headcount Plan",
];

pub(crate) const DOC_PERIODS: &[&str] = &[
    "Q1", "Q2", "Q3", "Q4", "FY25", "2024", "Jan", "Feb", "Mar", "Week 42", "Draft", "Final",
];

pub(crate) const DOC_EXTS: &[&str] = &["docx", "xlsx", "pptx", "pdf", "docx", "xlsx", "txt", "csv"];

pub(crate) const SUBJECTS: &[&str] = &[
    "Re: Weekly sync",
    "Updated agenda for tomorrow",
    "FW: Contract review",
    "Quick question about the forecast",
    "Invoice attached",
    "Re: Customer escalation",
    "Lunch & learn on Friday",
    "Project status update",
    "Re: Budget approval",
    "Action items from today's meeting",
    "Please review the attached draft",
    "Re: Offsite planning",
    "Reminder: timesheets due",
    "Welcome to the team!",
    "Re: Pricing proposal",
];

pub(crate) const SVCHOST_GROUPS: &[(&str, &str)] = &[
    ("netsvcs", "Schedule"),
    ("netsvcs", "gpsvc"),
    ("netsvcs", "wuauserv"),
    ("netsvcs", "BITS"),
    ("LocalServiceNetworkRestricted", "Dhcp"),
    ("LocalServiceNetworkRestricted", "EventLog"),
    ("NetworkService", "Dnscache"),
    ("NetworkService", "CryptSvc"),
    ("LocalSystemNetworkRestricted", "SysMain"),
    ("DcomLaunch", "BrokerInfrastructure"),
    ("UnistackSvcGroup", "CDPUserSvc"),
    ("LocalService", "FontCache"),
    ("appmodel", "StateRepository"),
    ("wsappx", "AppXSvc"),
    ("RPCSS", "RpcSs"),
    ("utcsvc", "DiagTrack"),
];
