//! Builds one synthetic Exchange server: benign traffic, traps and planted indicators.
//!
//! A [`Server`] is a logical description (population, traffic model, scenario) from which every
//! file is produced on demand and streamed line by line: nothing holds a whole log in memory.
//! Each file draws from its own random stream derived from the seed, so the same [`ServerSpec`]
//! always gives byte-identical files, whatever order they are written in.
//!
//! What a server holds (logical Windows paths, `<EX>` = the install path):
//! - `<EX>\Logging\HttpProxy\<Protocol>\HttpProxy_<yyyyMMddHH>-1.LOG`, hourly, ten protocols;
//! - `<EX>\Logging\ECP\Server\ECPServer<yyyyMMdd>-1.LOG` and
//!   `<EX>\Logging\OABGeneratorLog\OABGenerator<yyyyMMdd>-1.LOG`, daily;
//! - `C:\inetpub\logs\LogFiles\W3SVC1\u_exYYMMDD.log` (front end) and `W3SVC2` (back end), daily;
//! - `C:\Windows\System32\winevt\Logs\{Application,System,Security}.evtx`;
//! - the legitimate OWA/ECP/OAB/EWS web files, `aspnet_client`, `Bin\ExSetup.exe`, and
//!   (compromised servers) web shells of every public family in every drop folder, compiled
//!   shells in `Temporary ASP.NET Files`, LSASS dumps, archives and tool scripts.
//!
//! [`oracle`] is the reading of DETECTIONS.md used to label planted lines and traps.

mod artifacts;
mod disk;
mod ecp;
mod events;
pub(crate) mod fmt;
mod httpproxy;
mod iis;
mod oab;
pub mod oracle;
mod population;
pub(crate) mod rng;
mod scenario;
mod shells;
mod traffic;

pub use httpproxy::HTTPPROXY_FIELDS;
pub use iis::IIS_FIELDS;
pub use traffic::Protocol;

use fmt::{MS_PER_DAY, MS_PER_HOUR, days_from_civil, guid_string, stamp};
use population::{Database, ExServer, User};
use rng::Rng;
use std::io::{self, Write};

/// What to generate. `Default` is the demo server: EX01.contoso.local, Exchange 2016 CU19,
/// 14 days from 2021-02-24, compromised, scale 1.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerSpec {
    pub seed: u64,
    /// NetBIOS-style server name, `EX01`.
    pub host: String,
    /// AD domain, `contoso.local`; the public mail domain is its first label + `.com`.
    pub domain: String,
    /// Windows path of the Exchange install (no trailing `\` needed).
    pub exchange_path: String,
    /// Build as Exchange writes it in `#Version` headers, `15.01.2176.002`.
    pub build: String,
    /// First day of logs (UTC).
    pub first_day: (i32, u8, u8),
    pub days: u32,
    /// `false`: a clean server (benign traffic and traps only).
    pub compromised: bool,
    /// 1.0 = demo size (about 30 MB of logs); bytes grow linearly with it.
    pub scale: f64,
    /// A security update installed while the logs were written: logs created from then on name
    /// its build in their `#Version` header.
    pub patch: Option<Patch>,
}

/// A security update installed on the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    /// When it was installed: the first log created at or after this time names `build`.
    pub at: (i32, u8, u8, u8),
    /// The build after it, as Exchange writes it (`15.01.2176.009`).
    pub build: String,
}

impl Default for ServerSpec {
    fn default() -> Self {
        ServerSpec {
            seed: 2021,
            host: "EX01".into(),
            domain: "contoso.local".into(),
            exchange_path: r"C:\Program Files\Microsoft\Exchange Server\V15".into(),
            build: "15.01.2176.002".into(),
            first_day: (2021, 2, 24),
            days: 14,
            compromised: true,
            scale: 1.0,
            // The March 2021 SU for CU19 (KB5000871), installed in the night to 2021-03-05:
            // after the HAFNIUM exploitation, before the web shells were used again.
            patch: Some(Patch { at: (2021, 3, 5, 1), build: "15.01.2176.009".into() }),
        }
    }
}

/// A published calendar (OwaCalendar traffic).
#[derive(Clone, Debug)]
pub(crate) struct Calendar {
    pub user: usize,
    pub ics: String,
    pub html: String,
}

/// The generated logical server.
#[derive(Clone, Debug)]
pub struct Server {
    pub(crate) spec: ServerSpec,
    /// Install path without the trailing `\`.
    pub(crate) ex: String,
    pub(crate) host: String,
    /// `EX01.contoso.local`
    pub(crate) fqdn: String,
    /// `ex01.contoso.local`
    pub(crate) internal_host: String,
    pub(crate) netbios: String,
    pub(crate) mail_host: String,
    pub(crate) autodiscover_host: String,
    pub(crate) ip: String,
    pub(crate) lb_ips: [String; 2],
    pub(crate) archive_ip: String,
    pub(crate) monitor_ip: String,
    /// Major, minor, build, revision of `spec.build`.
    pub(crate) version: [u32; 4],
    /// `15.01.2176.000`
    pub(crate) target_version: String,
    /// `15.1.2176`, the versioned OWA/ECP resource folder.
    pub(crate) short_version: String,
    pub(crate) be_version: u32,
    pub(crate) servers: Vec<ExServer>,
    pub(crate) dbs: Vec<Database>,
    pub(crate) users: Vec<User>,
    pub(crate) mobile_users: Vec<usize>,
    pub(crate) health: Vec<User>,
    pub(crate) svc_archive: User,
    pub(crate) calendars: Vec<Calendar>,
    pub(crate) probe_eas_tail: String,
    pub(crate) oab_guid: String,
    pub(crate) oab_xml_stem: String,
    pub(crate) oab_lzx_stem: String,
    pub(crate) canary: String,
    pub(crate) ecp_referer: String,
    pub(crate) owa_referer: String,
    pub(crate) logon_referer: String,
    /// Static files the OWA logon page loads from the versioned folder.
    pub(crate) owa_resources: Vec<String>,
    /// Internet scanners.
    pub(crate) noise_ips: Vec<String>,
    /// First day, 00:00 UTC, unix ms.
    pub(crate) t0: i64,
    /// Index of the main attack day (2021-03-03 when the span covers it).
    pub(crate) attack_day: u32,
    /// Random 8-character name of the China Chopper shell in `aspnet_client\system_web`.
    pub(crate) shell_name: String,
    pub(crate) scenario: scenario::Scenario,
}

impl Server {
    /// Builds the logical server: population, traffic model and scenario. Cheap (no file is
    /// generated until the server is written with [`crate::layout`]). `days` below 1 counts as 1.
    pub fn new(spec: ServerSpec) -> Server {
        let mut rng = Rng::stream(spec.seed, &[0]);
        let spec = ServerSpec { days: spec.days.max(1), ..spec };
        let ex = spec.exchange_path.trim_end_matches('\\').to_string();
        let host = spec.host.clone();
        let label = spec.domain.split('.').next().unwrap_or("contoso").to_ascii_lowercase();
        let smtp_domain = format!("{label}.com");
        let fqdn = format!("{}.{}", host, spec.domain);
        let mut version = [15u32, 1, 2176, 2];
        for (slot, part) in version.iter_mut().zip(spec.build.split('.')) {
            if let Ok(v) = part.trim().parse() {
                *slot = v;
            }
        }
        let other = if host.eq_ignore_ascii_case("EX02") { "EX03" } else { "EX02" };
        let domain_sid = format!(
            "S-1-5-21-{}-{}-{}",
            rng.range(1_000_000_000, 4_000_000_000),
            rng.range(1_000_000_000, 4_000_000_000),
            rng.range(100_000_000, 4_000_000_000)
        );
        let dbs: Vec<Database> =
            [0usize, 0, 1, 0].iter().map(|&server| Database { guid: guid_string(&rng.guid()), server }).collect();
        let mut users = population::users(&mut rng, 400, &label, &smtp_domain, &domain_sid, dbs.len());
        users[0].sid = format!("{domain_sid}-500");
        let mut health = Vec::new();
        for i in 0..2 {
            let hex = guid_string(&rng.guid()).replace('-', "");
            let sam = format!("HealthMailbox{hex}");
            let mut u = users[1].clone();
            u.upn = format!("{sam}@{}", spec.domain);
            u.nt = format!("{label}\\{sam}");
            u.sid = format!("{domain_sid}-{}", 1150 + i);
            u.mailbox_guid = guid_string(&rng.guid());
            u.mailbox_id = format!("{}@{}", u.mailbox_guid, spec.domain);
            u.object_guid = guid_string(&rng.guid());
            u.db = if i == 0 { 0 } else { 1 };
            u.sam = sam;
            health.push(u);
        }
        let mut svc_archive = users[2].clone();
        svc_archive.sam = "svc-archive".into();
        svc_archive.nt = format!("{label}\\svc-archive");
        svc_archive.upn = format!("svc-archive@{smtp_domain}");
        let mobile_users: Vec<usize> = (0..users.len()).filter(|&i| users[i].eas_tail.is_some()).collect();
        let mobile_users = if mobile_users.is_empty() { vec![0] } else { mobile_users };
        let mail_host = format!("mail.{smtp_domain}");
        let mut calendars: Vec<Calendar> = users
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u.calendar.as_ref().map(|c| (i, c.clone())))
            .map(|(i, c)| Calendar {
                user: i,
                ics: format!("/owa/calendar/{}/{}/calendar.ics", users[i].mailbox_id, c),
                html: format!("/owa/calendar/{}/{}/calendar.html", users[i].mailbox_id, c),
            })
            .collect();
        if calendars.is_empty() {
            calendars.push(Calendar {
                user: 1,
                ics: format!("/owa/calendar/{}/{}/calendar.ics", users[1].mailbox_id, "0"),
                html: format!("/owa/calendar/{}/{}/calendar.html", users[1].mailbox_id, "0"),
            });
        }
        let oab_guid = guid_string(&rng.guid());
        let oab_file = guid_string(&rng.guid());
        let canary = rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", 75) + ".";
        let shell_name = rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 8);
        let (y, m, d) = spec.first_day;
        let t0 = days_from_civil(y, u32::from(m), u32::from(d)) * MS_PER_DAY;
        let march3 = days_from_civil(2021, 3, 3) * MS_PER_DAY;
        let attack_day = if march3 >= t0 && march3 < t0 + i64::from(spec.days) * MS_PER_DAY {
            ((march3 - t0) / MS_PER_DAY) as u32
        } else {
            spec.days / 2
        };
        let [major, minor, build, _] = version;
        let short_version = format!("{major}.{minor}.{build}");
        let owa_resources = [
            "themes/resources/logon.css",
            "scripts/premium/flogon.js",
            "themes/resources/favicon.ico",
            "themes/resources/sign_in_arrow.png",
        ]
        .iter()
        .map(|f| format!("/owa/auth/{short_version}/{f}"))
        .collect();
        let noise_ips = (0..40).map(|_| population::public_ip(&mut rng).replacen("84.208", "45.146", 1)).collect();
        let mut server = Server {
            ex,
            internal_host: fqdn.to_ascii_lowercase(),
            netbios: label,
            autodiscover_host: format!("autodiscover.{smtp_domain}"),
            ecp_referer: format!("https://{mail_host}/ecp/"),
            owa_referer: format!("https://{mail_host}/owa/"),
            logon_referer: format!(
                "https://{mail_host}/owa/auth/logon.aspx?replaceCurrent=1&url=https%3a%2f%2f{mail_host}%2fowa%2f"
            ),
            owa_resources,
            noise_ips,
            mail_host,
            ip: format!("10.0.1.{}", rng.range(20, 40)),
            lb_ips: ["10.0.1.5".into(), "10.0.1.6".into()],
            archive_ip: format!("10.0.1.{}", rng.range(50, 60)),
            monitor_ip: format!("10.0.1.{}", rng.range(70, 80)),
            version,
            target_version: format!("{major:02}.{minor:02}.{build:04}.000"),
            short_version,
            be_version: 0x7000_0000 | (major << 22) | (minor << 16) | 0x8000 | (build & 0x7FFF),
            servers: vec![ExServer { fqdn: fqdn.clone() }, ExServer { fqdn: format!("{other}.{}", spec.domain) }],
            dbs,
            users,
            mobile_users,
            health,
            svc_archive,
            calendars,
            probe_eas_tail: "&DeviceId=EASProbeDeviceId1&DeviceType=EASProbeDeviceType".into(),
            oab_xml_stem: format!("/OAB/{oab_guid}/oab.xml"),
            oab_lzx_stem: format!("/OAB/{oab_guid}/{oab_file}-data-1.lzx"),
            oab_guid,
            canary,
            fqdn,
            host,
            t0,
            attack_day,
            shell_name,
            scenario: scenario::Scenario::default(),
            spec,
        };
        server.scenario = scenario::Scenario::build(&server);
        server
    }

    /// The spec the server was built from.
    pub fn spec(&self) -> &ServerSpec {
        &self.spec
    }

    /// The Exchange install path as a Windows path with a trailing `\` (as Test-ProxyLogon uses it).
    pub fn exchange_path(&self) -> String {
        format!("{}\\", self.ex)
    }

    /// When the spec's patch was installed (unix ms).
    pub fn patch_time(&self) -> Option<i64> {
        self.spec.patch.as_ref().map(|p| {
            let (y, m, d, h) = p.at;
            fmt::days_from_civil(y, u32::from(m), u32::from(d)) * MS_PER_DAY + i64::from(h) * MS_PER_HOUR
        })
    }

    /// The patch as the ground truth records it.
    pub fn truth_patch(&self) -> Option<crate::truth::TruthPatch> {
        let (p, at) = (self.spec.patch.as_ref()?, self.patch_time()?);
        let mut when = Vec::new();
        fmt::push_iso_ms(&mut when, at);
        Some(crate::truth::TruthPatch {
            open_build: self.spec.build.clone(),
            fixed_build: p.build.clone(),
            installed_at: String::from_utf8_lossy(&when).into_owned(),
        })
    }

    /// The build a log created at `t_ms` names in its `#Version` header.
    pub(crate) fn build_at(&self, t_ms: i64) -> &str {
        match (&self.spec.patch, self.patch_time()) {
            (Some(p), Some(at)) if t_ms >= at => &p.build,
            _ => &self.spec.build,
        }
    }

    /// Start (unix ms) of day `day` counted from the first day.
    pub(crate) fn day_start(&self, day: u32) -> i64 {
        self.t0 + i64::from(day) * MS_PER_DAY
    }

    /// The logical files of the server, in a fixed order.
    pub(crate) fn files(&self) -> Vec<FileSpec> {
        let mut out = Vec::new();
        let days = self.spec.days;
        for p in Protocol::ALL {
            for hour in 0..days * 24 {
                let t = self.t0 + i64::from(hour) * MS_PER_HOUR;
                out.push(FileSpec {
                    win_path: format!(r"{}\Logging\HttpProxy\{}\HttpProxy_{}-1.LOG", self.ex, p.name(), stamp(t, true)),
                    content: Content::HttpProxy { protocol: p, hour },
                    mtime: t + MS_PER_HOUR - 1000,
                    disk: None,
                });
            }
        }
        for day in 0..days {
            let t = self.day_start(day);
            let end = t + MS_PER_DAY - 1000;
            let ymd = stamp(t, false);
            out.push(FileSpec {
                win_path: format!(r"{}\Logging\ECP\Server\ECPServer{ymd}-1.LOG", self.ex),
                content: Content::Ecp { day },
                mtime: end,
                disk: None,
            });
            out.push(FileSpec {
                win_path: format!(r"{}\Logging\OABGeneratorLog\OABGenerator{ymd}-1.LOG", self.ex),
                content: Content::Oab { day },
                mtime: end,
                disk: None,
            });
            for site in [1u8, 2] {
                out.push(FileSpec {
                    win_path: format!(r"C:\inetpub\logs\LogFiles\W3SVC{site}\u_ex{}.log", &ymd[2..]),
                    content: Content::Iis { site, day },
                    mtime: end,
                    disk: None,
                });
            }
        }
        let last = self.day_start(days) - 1000;
        for log in [EvtxLog::Application, EvtxLog::Security, EvtxLog::System] {
            out.push(FileSpec {
                win_path: format!(r"C:\Windows\System32\winevt\Logs\{}.evtx", log.name()),
                content: Content::Evtx(log),
                mtime: last,
                disk: None,
            });
        }
        out.extend(self.disk_files());
        // Zip stores times in 2-second steps: even seconds keep a tree and its zip identical.
        for f in &mut out {
            f.mtime -= f.mtime.rem_euclid(2000);
        }
        out
    }

    /// Streams a text or static file into `w`, returning the marks (planted lines and traps).
    /// EVTX files go through [`Server::write_evtx`] instead (the writer needs `Seek`).
    pub(crate) fn write_file(&self, f: &FileSpec, w: &mut dyn Write) -> io::Result<Vec<Mark>> {
        match &f.content {
            Content::HttpProxy { protocol, hour } => self.write_httpproxy(*protocol, *hour, w),
            Content::Ecp { day } => self.write_ecp(*day, w),
            Content::Oab { day } => self.write_oab(*day, w),
            Content::Iis { site, day } => self.write_iis(*site, *day, w),
            Content::Bytes(b) => {
                w.write_all(b)?;
                Ok(self.file_marks(f))
            }
            Content::Dir => Ok(Vec::new()),
            Content::Evtx(_) => Err(io::Error::other("EVTX files are written with write_evtx")),
        }
    }

    /// Marks of a whole file (LSASS dumps, archives, and their look-alikes).
    pub(crate) fn file_marks(&self, f: &FileSpec) -> Vec<Mark> {
        let rules = oracle::file(&f.win_path);
        let trap = f.disk.as_ref().is_some_and(|d| d.kind == "trap");
        match (rules.is_empty(), trap) {
            (false, _) => {
                debug_assert!(!trap, "trap file fires {rules:?}: {}", f.win_path);
                let note = f.disk.as_ref().map(|d| d.note.clone()).unwrap_or_default();
                vec![Mark { line: None, record: None, rules, trap: false, note }]
            }
            (true, true) => {
                let note = f.disk.as_ref().map(|d| d.note.clone()).unwrap_or_default();
                vec![Mark { line: None, record: None, rules, trap: true, note }]
            }
            (true, false) => Vec::new(),
        }
    }
}

/// SHA-256 of `bytes`, lowercase hex (the truth's `sha256` of a planted file).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The three event logs written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EvtxLog {
    Application,
    Security,
    System,
}

impl EvtxLog {
    pub(crate) fn name(self) -> &'static str {
        match self {
            EvtxLog::Application => "Application",
            EvtxLog::Security => "Security",
            EvtxLog::System => "System",
        }
    }
}

/// How a file's bytes are produced.
#[derive(Clone, Debug)]
pub(crate) enum Content {
    HttpProxy {
        protocol: Protocol,
        hour: u32,
    },
    Ecp {
        day: u32,
    },
    Oab {
        day: u32,
    },
    Iis {
        site: u8,
        day: u32,
    },
    Evtx(EvtxLog),
    /// A small static file.
    Bytes(Vec<u8>),
    /// An empty folder.
    Dir,
}

/// A file of the logical server.
#[derive(Clone, Debug)]
pub(crate) struct FileSpec {
    /// `C:\...` path.
    pub win_path: String,
    pub content: Content,
    /// Last-modified time, unix ms.
    pub mtime: i64,
    /// Set for planted files on disk (kind `webshell`, ...), for trap files (kind `trap`) and for
    /// the legitimate files of the web folders (kind `legit`).
    pub disk: Option<DiskNote>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct DiskNote {
    pub kind: &'static str,
    pub note: String,
    /// For planted files: family, variant, drop folder (template) and how the sweep must find it.
    pub family: &'static str,
    pub variant: &'static str,
    pub place: &'static str,
    pub expect: Vec<&'static str>,
}

impl DiskNote {
    /// A trap (a benign look-alike listed in the truth's traps).
    pub(crate) fn trap(note: impl Into<String>) -> DiskNote {
        DiskNote { kind: "trap", note: note.into(), ..DiskNote::default() }
    }

    /// A legitimate file of a web folder (listed in the truth's `legit_files`).
    pub(crate) fn legit() -> DiskNote {
        DiskNote { kind: "legit", ..DiskNote::default() }
    }
}

/// A line or record of a written file that the ground truth lists.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Mark {
    pub line: Option<u64>,
    pub record: Option<u64>,
    /// Rules the line fires; empty for a trap.
    pub rules: Vec<&'static str>,
    pub trap: bool,
    pub note: String,
}

/// What a scenario line is meant to be; the oracle says what it actually fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Must fire at least one rule.
    Indicator,
    /// Must fire nothing; listed as a trap.
    Trap,
    /// Part of the story; listed only if it fires.
    Context,
}

/// Turns a scenario line's oracle verdict into a mark (or none).
pub(crate) fn mark(
    expect: Expect,
    rules: Vec<&'static str>,
    line: Option<u64>,
    record: Option<u64>,
    note: &str,
) -> Option<Mark> {
    match expect {
        Expect::Indicator => debug_assert!(!rules.is_empty(), "planted line fires nothing: {note}"),
        Expect::Trap => debug_assert!(rules.is_empty(), "trap fires {rules:?}: {note}"),
        Expect::Context => {}
    }
    if rules.is_empty() && expect != Expect::Trap {
        return None;
    }
    let trap = rules.is_empty();
    Some(Mark { line, record, rules, trap, note: note.to_string() })
}

/// Counts lines while streaming them: the writers build each line in `buf` and call `emit`.
pub(crate) struct LineSink<'w> {
    w: &'w mut dyn Write,
    pub line: u64,
    pub buf: Vec<u8>,
}

impl<'w> LineSink<'w> {
    pub(crate) fn new(w: &'w mut dyn Write) -> Self {
        LineSink { w, line: 0, buf: Vec::with_capacity(4096) }
    }

    /// Writes `buf` plus CRLF (Exchange and IIS logs end lines with CRLF) and clears it; returns
    /// the 1-based number of the line written.
    pub(crate) fn emit(&mut self) -> io::Result<u64> {
        self.buf.extend_from_slice(b"\r\n");
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        self.line += 1;
        Ok(self.line)
    }

    pub(crate) fn emit_str(&mut self, s: &str) -> io::Result<u64> {
        self.buf.extend_from_slice(s.as_bytes());
        self.emit()
    }

    /// The header block every Exchange CSV log starts with (`#Date` is the file's creation time).
    pub(crate) fn exchange_header(
        &mut self,
        version: &str,
        log_type: &str,
        created_ms: i64,
        fields: &str,
    ) -> io::Result<()> {
        self.emit_str("#Software: Microsoft Exchange Server")?;
        self.emit_str(&format!("#Version: {version}"))?;
        self.emit_str(&format!("#Log-type: {log_type}"))?;
        self.buf.extend_from_slice(b"#Date: ");
        fmt::push_iso_ms(&mut self.buf, created_ms);
        self.emit()?;
        self.emit_str(&format!("#Fields: {fields}"))?;
        Ok(())
    }
}
