//! The file-sweep corpus of a compromised server: every web-shell family of the public sources
//! in every drop folder, renamed and modified copies, compiled shells, LSASS dumps, archives and
//! tools, each with a truth entry saying how it must be found (`rule`, `hash`, `unknown`) and
//! the SHA-256 of its bytes; and the legitimate web files next to them, which must raise nothing.
//!
//! The trait checks below restate the conditions of signature-base's `apt_hafnium.yar` and
//! Volexity's `exchange-marauder/yara.yar` as plain substring tests, independently of the
//! generator.

mod generator_common;

use exsweep_fixtures::generator::{Server, ServerSpec, sha256_hex};
use exsweep_fixtures::layout::{Layout, write_tree, write_zip};
use exsweep_fixtures::truth::{DROP_FOLDERS, DiskFile, FAMILIES, GroundTruth, is_web_place, place_group};
use generator_common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

/// Two days around the attack, no benign traffic: quick to write in every layout.
fn short() -> ServerSpec {
    ServerSpec { days: 2, first_day: (2021, 3, 3), scale: 0.0, ..ServerSpec::default() }
}

fn unusual() -> Vec<ServerSpec> {
    vec![
        ServerSpec {
            host: "MAIL03".into(),
            domain: "corp.example.org".into(),
            build: "15.02.0792.003".into(),
            exchange_path: r"E:\Exchange Server\V15\".into(),
            first_day: (2021, 2, 27),
            days: 4,
            seed: 99,
            scale: 0.0,
            ..ServerSpec::default()
        },
        ServerSpec { exchange_path: r"D:\Exchange".into(), days: 1, first_day: (2021, 6, 1), seed: 5, ..short() },
    ]
}

/// `15.01.2176.002` -> `15.1.2176` (the versioned OWA folder).
fn short_version(build: &str) -> String {
    let p: Vec<u32> = build.split('.').map(|x| x.parse().unwrap()).collect();
    format!("{}.{}.{}", p[0], p[1], p[2])
}

/// The place template with `<EX>` and `<version>` filled in, lower case.
fn expand(place: &str, spec: &ServerSpec) -> String {
    place
        .replace("<EX>", spec.exchange_path.trim_end_matches('\\'))
        .replace("<version>", &short_version(&spec.build))
        .to_ascii_lowercase()
}

fn lower_name(path: &str) -> String {
    path.rsplit('/').next().unwrap().to_ascii_lowercase()
}

const SCRIPT_EXTENSIONS: &[&str] = &["aspx", "ashx", "asmx", "asp", "asax", "ascx", "cshtml", "svc", "php", "jsp"];

fn is_script(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, e)| SCRIPT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

#[test]
fn every_family_and_every_drop_folder_is_planted() {
    let mut specs = vec![small_spec()];
    specs.extend(unusual());
    for spec in specs {
        let layout = Layout::Kape;
        let (_dir, truth) = generate(spec.clone(), layout);
        let families: BTreeSet<&str> = truth.files_on_disk.iter().map(|d| d.family.as_str()).collect();
        assert_eq!(families, FAMILIES.iter().copied().collect(), "{spec:?}");
        let places: BTreeSet<&str> = truth.files_on_disk.iter().map(|d| d.place.as_str()).collect();
        assert_eq!(places, DROP_FOLDERS.iter().copied().collect(), "{spec:?}");
        let variants = |family: &str| -> BTreeSet<&str> {
            truth.files_on_disk.iter().filter(|d| d.family == family).map(|d| d.variant.as_str()).collect()
        };
        assert_eq!(
            variants("china_chopper"),
            BTreeSet::from(["base64_eval", "classic", "classic_modified", "debug_form", "eval_space", "request_item"])
        );
        assert_eq!(variants("oab_dump"), BTreeSet::from(["classic", "key_only", "obfuscated_0x"]));
        assert_eq!(variants("compiled_webshell"), BTreeSet::from(["china_chopper", "oab_dump"]));
        // Most families several times.
        let count = |f: &str| truth.files_on_disk.iter().filter(|d| d.family == f).count();
        assert!(count("china_chopper") >= 6 && count("oab_dump") >= 3 && count("sportsball") >= 2);
        assert!(count("simpleseesharp") >= 2 && count("lsass_dump_comsvcs") >= 2);

        // Each file lies in its drop folder (directly, or below it for Temporary ASP.NET Files).
        for d in &truth.files_on_disk {
            let win = logical(layout, &d.path).unwrap().to_ascii_lowercase();
            let folder = expand(&d.place, &spec);
            let parent = win.rsplit_once('\\').unwrap().0;
            if d.family == "compiled_webshell" {
                assert!(win.starts_with(&format!("{folder}\\")), "{win} not below {folder}");
                let name = lower_name(&d.path);
                assert!(name.starts_with("app_web_") && name.len() == "app_web_12345678.dll".len(), "{name}");
            } else {
                assert_eq!(parent, folder, "{}", d.path);
            }
            assert_ne!(place_group(&d.place), "elsewhere", "{}", d.place);
        }
        // The random names: 8 characters in system_web (SB filename IOC), CISA-like elsewhere.
        let system_web: Vec<&DiskFile> = truth
            .files_on_disk
            .iter()
            .filter(|d| d.place.ends_with(r"\system_web") && d.name().ends_with(".aspx"))
            .collect();
        assert!(system_web.len() >= 2);
        for d in system_web {
            let stem = d.name().trim_end_matches(".aspx");
            assert!(stem.len() == 8 && stem.chars().all(|c| c.is_ascii_alphanumeric()), "{}", d.name());
        }
    }
}

#[test]
fn truth_paths_exist_and_hashes_match_in_every_layout_and_zip() {
    let server = Server::new(short());
    let mut reference: Option<BTreeMap<(String, String), String>> = None;
    for layout in Layout::ALL {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        let truth = write_tree(&server, layout, &tree).unwrap();
        assert!(truth.files_on_disk.len() >= 30, "{layout}: {}", truth.files_on_disk.len());
        assert!(truth.legit_files.len() >= 25, "{layout}: {}", truth.legit_files.len());
        for d in &truth.files_on_disk {
            let bytes = std::fs::read(tree.join(&d.path)).unwrap_or_else(|e| panic!("{layout} {}: {e}", d.path));
            assert_eq!(sha256_hex(&bytes), d.sha256, "{layout} {}", d.path);
        }
        for l in &truth.legit_files {
            assert!(tree.join(l).is_file(), "{layout} {l}");
        }
        // The same files and bytes in every layout, modulo the path mapping.
        let logical_hashes: BTreeMap<(String, String), String> = truth
            .files_on_disk
            .iter()
            .map(|d| ((logical(layout, &d.path).unwrap().to_ascii_lowercase(), d.family.clone()), d.sha256.clone()))
            .collect();
        match &reference {
            None => reference = Some(logical_hashes),
            Some(r) => assert_eq!(r, &logical_hashes, "{layout}"),
        }

        let zip_path = dir.path().join("copy.zip");
        let ztruth = write_zip(&server, layout, &zip_path).unwrap();
        assert_eq!(ztruth.files_on_disk, truth.files_on_disk, "{layout}+zip");
        assert_eq!(ztruth.legit_files, truth.legit_files, "{layout}+zip");
        let mut z = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
        let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for i in 0..z.len() {
            let mut e = z.by_index(i).unwrap();
            if e.is_dir() {
                continue;
            }
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            entries.insert(e.name().unwrap().to_string(), bytes);
        }
        for d in &ztruth.files_on_disk {
            let bytes = entries.get(&d.path).unwrap_or_else(|| panic!("{layout}+zip: no entry {}", d.path));
            assert_eq!(sha256_hex(bytes), d.sha256, "{layout}+zip {}", d.path);
        }
        for l in &ztruth.legit_files {
            assert!(entries.contains_key(l), "{layout}+zip: no entry {l}");
        }
    }
}

#[test]
fn expectations_follow_the_content_and_the_folder() {
    let (_dir, truth) = generate(small_spec(), Layout::Velociraptor);
    let legit_names: BTreeSet<String> = truth.legit_files.iter().map(|p| lower_name(p)).collect();
    let planted_names: BTreeSet<String> = truth.files_on_disk.iter().map(|d| lower_name(&d.path)).collect();
    let clash: Vec<&String> = legit_names.intersection(&planted_names).collect();
    assert!(clash.is_empty(), "planted files under legitimate names: {clash:?}");
    // The legitimate owa\auth names of the baselines (§1.9) are all there.
    for n in [
        "getidtoken.htm",
        "outlookcn.aspx",
        "redirsuiteserviceproxy.aspx",
        "errorfe.aspx",
        "expiredpassword.aspx",
        "frowny.aspx",
        "logoff.aspx",
        "logon.aspx",
        "signout.aspx",
        "timeoutlogout.aspx",
    ] {
        assert!(legit_names.contains(n), "{n}");
    }
    for folder in ["/ClientAccess/ecp/", "/ClientAccess/owa/", "/ClientAccess/OAB/"] {
        assert!(truth.legit_files.iter().any(|l| l.contains(folder)), "{folder}");
    }

    let paths: BTreeSet<&str> = truth.files_on_disk.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths.len(), truth.files_on_disk.len(), "one entry per file");
    let kinds = BTreeSet::from(["webshell", "compiled_webshell", "lsass_dump", "archive", "tool"]);
    let mut unknown_without_rule = 0;
    let mut renamed_copies_with_rule = 0;
    for d in &truth.files_on_disk {
        assert!(kinds.contains(d.kind.as_str()), "{}", d.kind);
        assert!(!d.note.is_empty() && !d.family.is_empty());
        assert!(d.sha256.len() == 64 && d.sha256.bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(d.expects("hash"), "{}", d.path);
        let no_traits = ["custom_cmd_shell", "staging_zip"].contains(&d.family.as_str());
        assert_eq!(d.expects("rule"), !no_traits, "{}", d.path);
        let unknown = is_script(d.name()) && is_web_place(&d.place);
        assert_eq!(d.expects("unknown"), unknown, "{}", d.path);
        if d.expects("unknown") && !d.expects("rule") {
            unknown_without_rule += 1;
        }
        if d.note.starts_with("copy of") && d.expects("rule") && d.expects("unknown") {
            renamed_copies_with_rule += 1;
        }
        if d.kind == "webshell" {
            assert!(d.expects("unknown"), "every planted shell lies in a web folder: {}", d.path);
        }
    }
    assert!(unknown_without_rule >= 1, "a shell only the unknown-file check finds");
    assert!(renamed_copies_with_rule >= 2, "renamed, edited copies");
    // Copies differ in their bytes from the original.
    let hashes: BTreeMap<&str, Vec<&str>> = truth.files_on_disk.iter().fold(BTreeMap::new(), |mut m, d| {
        m.entry(d.sha256.as_str()).or_insert_with(Vec::new).push(d.path.as_str());
        m
    });
    let dupes: Vec<&Vec<&str>> = hashes.values().filter(|v| v.len() > 1).collect();
    assert_eq!(dupes.len(), 1, "only the SPORTSBALL copy is byte-identical: {dupes:?}");
    assert!(dupes[0].iter().all(|p| p.ends_with(".aspx")));
}

/// Literals of the public rules; a file carrying none of them is not matched by any.
const PUBLIC_LITERALS: &[&str] = &[
    "eval(",
    "\"unsafe\"",
    "fqrspt",
    "ZN2aDAB4rXsszEvCLrzgcvQ4oi5J1TuiRULlQbYwldE=",
    "StreamWriter(Request.Form[",
    ".Write(Request.Form[",
    "Request.Files[0]",
    "DriveInfo.GetDrives()",
    " Created!\";",
    "xagt.exe",
    "csfalconservice.exe",
    "Request.Headers.Get",
    "new Socket(",
    "ExternalUrl",
    "InternalAuthenticationMethods",
    "OfflineAddressBooks",
    "http://f/",
    "FromBase64String(",
];

fn has(data: &[u8], needle: &[u8]) -> bool {
    data.windows(needle.len()).any(|w| w == needle)
}

fn has_ci(data: &[u8], needle: &str) -> bool {
    let lower: Vec<u8> = data.to_ascii_lowercase();
    has(&lower, needle.to_ascii_lowercase().as_bytes())
}

fn wide(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn check_traits(d: &DiskFile, data: &[u8]) {
    let all = |needles: &[&str]| {
        for n in needles {
            assert!(has(data, n.as_bytes()), "{} ({}/{}) lacks {n:?}", d.path, d.family, d.variant);
        }
    };
    let len = data.len();
    match (d.family.as_str(), d.variant.as_str()) {
        ("oab_dump", v) => {
            // MSTIC WEBSHELL_CVE_2021_27065_Webshells and CISA_10328929_02.
            assert!(len < 50 * 1024);
            all(&["OfflineAddressBooks", ": http://f/", "ExternalUrl    "]);
            assert!(has_ci(data, "internalauthenticationmethods") && has_ci(data, "extendedprotectiontokenchecking"));
            if v == "key_only" {
                assert!(!has_ci(data, "script") && !has_ci(data, "runat"), "{}", d.path);
            } else {
                assert!(has_ci(data, "script language") && has_ci(data, "runat=\"server\""));
            }
            if v == "classic" {
                all(&["<script language=\"JScript\" runat=\"server\">function Page_Load(){eval(Request[\""]);
            }
            if v == "obfuscated_0x" {
                assert!(len < 3 * 1024, "{len}");
                all(&[
                    "http://f/<script language=\"JScript\" runat=\"server\">var _0x",
                    "));function Page_Load(){var _0x",
                    ";eval(Request[_0x",
                    "','orange','unsafe','",
                ]);
            }
        }
        ("china_chopper", v) => {
            assert!(len < 10 * 1024);
            match v {
                "classic" => all(&[
                    "<script language=\"JScript\" runat=\"server\">function Page_Load(){eval(Request[\"",
                    "\"],\"unsafe\");}</script>",
                ]),
                "classic_modified" => {
                    all(&["eval(Request[\"", "\"],\"unsafe\")"]);
                    assert!(!has(data, b"runat=\"server\">function Page_Load(){eval(Request"), "edited copy");
                }
                "eval_space" => all(&[
                    "runat=\"server\">",
                    "<script language=\"JScript\" runat=\"server\"> function Page_Load(){eval (Request[\"",
                ]),
                "request_item" => {
                    all(&["eval(", "(Request.Item["]);
                    let s = String::from_utf8_lossy(data);
                    let at = s.find("(Request.Item[").unwrap();
                    let tail = &s[at + "(Request.Item[".len()..];
                    let close = tail.find("])),\"unsafe\")").expect("])),\"unsafe\")");
                    assert!((1..=36).contains(&close));
                }
                "base64_eval" => {
                    assert!(len < 850);
                    assert!(has_ci(data, "<%@Page Language=\"Jscript\"%>"));
                    all(&[".FromBase64String(", "eval(System.Text.Encoding."]);
                }
                "debug_form" => {
                    assert!(len < 300);
                    all(&["<%@ Page Language=\"Jscript\" Debug=true%>", "=Request.Form(\"", "eval("]);
                }
                other => panic!("unexpected variant {other}"),
            }
        }
        ("secchecker", _) => {
            assert!(data.starts_with(b"<%") && len < 1024, "{len}");
            all(&[
                r#"<%if(System.IO.File.Exists("c:\\program files (x86)\\fireeye\\xagt.exe"#,
                r#"\csfalconservice.exe")){Response.Write( "3");}%></head>"#,
            ]);
        }
        ("sportsball", _) => all(&[
            "HttpCookie newcook = new HttpCookie(\"fqrspt\", HttpContext.Current.Request.Form",
            "ZN2aDAB4rXsszEvCLrzgcvQ4oi5J1TuiRULlQbYwldE=",
            "Result.InnerText = string.Empty;",
            "newcook.Expires = DateTime.Now.AddDays(",
            "System.Diagnostics.Process process = new System.Diagnostics.Process();",
            "process.StandardInput.WriteLine(HttpContext.Current.Request.Form[\"",
            "else if (!string.IsNullOrEmpty(HttpContext.Current.Request.Form[\"",
            "<input type=\"submit\" value=\"Upload\" />",
        ]),
        ("regeorg", _) => all(&[
            "System.Net.Sockets",
            "System.Text.Encoding.Default.GetString(Convert.FromBase64String(StrTr(Request.Headers.Get",
            ".Split('|')",
            "Request.Headers.Get",
            ".Substring(",
            "new Socket(",
            "IPAddress ip;",
        ]),
        ("simpleseesharp", _) => {
            assert!(data.starts_with(b"<%@ Page Language=\"C#\" %>") && len < 1024);
            all(&["<% HttpPostedFile thisFile = Request.Files[0];thisFile.SaveAs(Path.Combine"]);
        }
        ("streamwriter", _) => {
            assert!(has_ci(data, "<script runat=\"server\">"));
            all(&[
                "new System.IO.StreamWriter(Request.Form[",
                ".Write(Request.Form[",
                "protected void Page_Load(object sender, EventArgs e){System.IO.StreamWriter sw = new System.IO.StreamWriter(Request.Form[\"p\"] , false, Encoding.Default);sw.Write(Request.Form[\"f\"]);",
            ]);
        }
        ("csharp_uploader", _) => {
            all(&["runat=\"server\">void Page_Load(object", "Request.Files[0].SaveAs(Server.MapPath("])
        }
        ("file_explorer", _) => {
            assert!(data.starts_with(b"<%"));
            all(&[
                "(Request.Form[",
                ".Text + \" Created!\";",
                "DriveInfo.GetDrives()",
                "Encoding.UTF8.GetString(FromBase64String(str.Replace(",
                "<span style=\"background-color: #778899; color: #fff; padding: 5px; cursor: pointer\" onclick=",
            ]);
        }
        ("custom_cmd_shell", _) => {
            assert!(has(data, b"Process.Start(") && has(data, b"runat=\"server\""));
            for n in PUBLIC_LITERALS {
                assert!(!has(data, n.as_bytes()), "{} carries the public literal {n:?}", d.path);
            }
        }
        ("compiled_webshell", v) => {
            // BSI WEBSHELL_Compiled_Webshell_Mar2021_1; the HAFNIUM UTF-16 literal for OAB dumps.
            assert!(data.starts_with(b"MZ") && len > 5 * 1024 && len < 40 * 1024, "{len}");
            let name = d.name();
            all(&[name, "JScriptEvaluate", "Page_Load"]);
            assert!(has(data, format!("\0{name}\0").as_bytes()), "fullword {name}");
            assert!(has(data, &wide("~/aspnet_client/")));
            let pe = u32::from_le_bytes(data[0x3c..0x40].try_into().unwrap()) as usize;
            assert_eq!(&data[pe..pe + 4], b"PE\0\0");
            assert!(has(data, b"BSJB") && has(data, b"#Strings") && has(data, b"#US"));
            if v == "oab_dump" {
                assert!(has(data, &wide(" : http://f/")));
            }
        }
        ("lsass_dump_procdump" | "lsass_dump_comsvcs", _) => check_minidump(d, data),
        ("recon_cab", _) => {
            // SB APT_HAFNIUM_ForensicArtefacts_Cab_Recon_Mar21_1.
            assert!(data.starts_with(b"MSCF"));
            assert_eq!(u32::from_le_bytes(data[8..12].try_into().unwrap()) as usize, len, "cbCabinet");
            for n in ["ip.txt", "arp.txt", "system", "security"] {
                let needle = format!("\0{n}\0");
                let at = data.windows(needle.len()).position(|w| w == needle.as_bytes()).unwrap();
                assert!(at + 1 < 200, "{n} at {at}");
            }
        }
        ("powercat_batch", _) => all(&["lsass.exe C:\\windows\\temp\\lsass\r\n", "powercat.ps1'); powercat -c "]),
        ("nishang_tcp_oneliner", _) => all(&[
            "=([text.encoding]::ASCII).GetBytes((iex $",
            ".GetStream();[byte[]]$",
            "New-Object Net.Sockets.TCPClient('",
        ]),
        ("staging_zip", _) => assert!(data.starts_with(b"PK\x03\x04")),
        (other, _) => panic!("unexpected family {other}"),
    }
}

/// A MINIDUMP with a header, a consistent stream directory, and the lsass module list.
fn check_minidump(d: &DiskFile, data: &[u8]) {
    let u32_at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap());
    let len = data.len();
    assert!(data.starts_with(b"MDMP") && u32_at(4) & 0xffff == 0xa793, "{}", d.path);
    assert!((10 * 1024..100 * 1024).contains(&len), "{len}");
    let (n, dir) = (u32_at(8) as usize, u32_at(12) as usize);
    assert_eq!(dir, 32);
    let mut types = BTreeSet::new();
    for k in 0..n {
        let (ty, size, rva) =
            (u32_at(dir + 12 * k), u32_at(dir + 12 * k + 4) as usize, u32_at(dir + 12 * k + 8) as usize);
        if ty != 0 {
            assert!(rva + size <= len && size > 0, "stream {ty} out of the file");
            types.insert(ty);
        }
    }
    // Thread list, module list, system info, Memory64 list, misc info.
    for ty in [3, 4, 7, 9, 15] {
        assert!(types.contains(&ty), "stream {ty} missing in {}", d.path);
    }
    let flags = u64::from_le_bytes(data[24..32].try_into().unwrap());
    assert_eq!(flags & 2, 2, "MiniDumpWithFullMemory");
    assert_eq!(d.family == "lsass_dump_procdump", types.contains(&17), "procdump writes the thread info list");
    for m in ["lsass.exe", "lsasrv.dll", "wdigest.dll", "kerberos.dll", "msv1_0.dll"] {
        assert!(has(data, &wide(m)), "{} lacks {m} (UTF-16)", d.path);
    }
}

#[test]
fn samples_carry_the_documented_traits_and_legit_files_none() {
    let mut specs = vec![small_spec()];
    specs.extend(unusual());
    for spec in specs {
        let (dir, truth) = generate(spec, Layout::Drive);
        for d in &truth.files_on_disk {
            let data = std::fs::read(dir.path().join(&d.path)).unwrap();
            check_traits(d, &data);
        }
        for l in &truth.legit_files {
            let data = std::fs::read(dir.path().join(l)).unwrap();
            for n in PUBLIC_LITERALS {
                assert!(!has(&data, n.as_bytes()), "legit {l} carries {n:?}");
            }
        }
    }
}

#[test]
fn times_legit_at_install_shells_during_the_attack() {
    let (dir, truth) = generate(short(), Layout::Drive);
    let first_day = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(18_689 * 86_400); // 2021-03-03
    let end = first_day + std::time::Duration::from_secs(2 * 86_400);
    let at = |rel: &str| std::fs::metadata(dir.path().join(rel)).unwrap().modified().unwrap();
    for l in &truth.legit_files {
        assert!(at(l) < first_day - std::time::Duration::from_secs(30 * 86_400), "{l} installed weeks before");
    }
    for d in &truth.files_on_disk {
        let t = at(&d.path);
        assert!(t >= first_day && t < end, "{} at {t:?}", d.path);
    }
}

#[test]
fn a_clean_server_has_the_legit_files_and_nothing_planted() {
    let (_c, clean) = generate(ServerSpec { compromised: false, ..short() }, Layout::Kape);
    let (_d, dirty) = generate(short(), Layout::Kape);
    assert!(clean.files_on_disk.is_empty());
    assert_eq!(clean.legit_files, dirty.legit_files);
    let round = {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json");
        dirty.write_json(&p).unwrap();
        GroundTruth::read_json(&p).unwrap()
    };
    assert_eq!(round, dirty);
    // A truth written before the new fields still reads.
    let old = r#"{"host":"EX01","layout":"kape","indicators":[],"traps":[],
        "files_on_disk":[{"path":"C/x.aspx","kind":"webshell","note":"n"}]}"#;
    let t: GroundTruth = serde_json::from_str(old).unwrap();
    assert!(t.legit_files.is_empty() && t.files_on_disk[0].expect.is_empty() && t.files_on_disk[0].sha256.is_empty());
}
