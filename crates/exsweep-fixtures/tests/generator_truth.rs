//! The ground truth is right and complete: every built-in rule is planted, each planted entry
//! points at a line / record / file that shows its indicator, traps are where they say, and the
//! reference oracle run over the whole tree fires exactly the planted set (nothing else fires).

mod generator_common;

use exsweep_fixtures::generator::{Server, ServerSpec};
use exsweep_fixtures::layout::Layout;
use exsweep_fixtures::truth::GroundTruth;
use generator_common::*;
use std::collections::BTreeSet;

/// Every non-coverage rule of docs/DETECTIONS.md.
const RULES: &[&str] = &[
    "EXS-26855-SERVERINFO",
    "EXS-26855-BECOOKIE",
    "EXS-27065-RESETVDIR",
    "EXS-27065-SETVDIR",
    "EXS-27065-SETVDIR-SCRIPT",
    "EXS-26858-OAB-DOWNLOAD",
    "EXS-26857-UM-INVALIDCAST",
    "EXS-IIS-HAFNIUM-POST",
    "EXS-IIS-ECP-SHORT-JS",
    "EXS-IIS-AUTH-JS",
    "EXS-IIS-RPC-POC",
    "EXS-IIS-HAFNIUM-UA",
    "EXS-IIS-WEBSHELL-ASPX",
    "EXS-FILE-LSASS-DUMP",
    "EXS-FILE-ARCHIVE-PROGRAMDATA",
];

const EX: &str = r"C:\Program Files\Microsoft\Exchange Server\V15";

fn iis_fields(root: &std::path::Path, rel: &str, line: u64) -> Vec<String> {
    let l = line_at(root, rel, line);
    let v: Vec<String> = l.split(' ').map(str::to_string).collect();
    assert_eq!(v.len(), 15, "{rel}:{line} is not an IIS data line: {l}");
    v
}

#[test]
fn every_rule_is_planted_and_shows_its_indicator() {
    let (dir, truth) = generate(small_spec(), Layout::Kape);
    let root = dir.path();
    let planted: BTreeSet<&str> = truth.indicators.iter().map(|p| p.rule_id.as_str()).collect();
    assert_eq!(planted, RULES.iter().copied().collect::<BTreeSet<_>>());
    assert_eq!(truth.host, "EX01");
    assert_eq!(truth.layout, "kape");
    let app = read_evtx(&root.join("C/Windows/System32/winevt/Logs/Application.evtx"));
    for p in &truth.indicators {
        assert!(root.join(&p.path).is_file(), "{}", p.path);
        assert!(!p.note.is_empty());
        let at = || line_at(root, &p.path, p.line.expect("line"));
        match p.rule_id.as_str() {
            "EXS-26855-SERVERINFO" | "EXS-27065-RESETVDIR" | "EXS-26855-BECOOKIE" => {
                assert!(p.path.contains("/Logging/HttpProxy/"));
                let v = csv_record(&at());
                let (anchor, status, cookie) = (&v[15], &v[19], &v[28]);
                match p.rule_id.as_str() {
                    "EXS-26855-SERVERINFO" => {
                        assert!(anchor.starts_with("ServerInfo~") && anchor.contains('/'), "{anchor}");
                        assert!(!anchor.to_lowercase().contains("/autodiscover") && !anchor.contains("~localhost"));
                    }
                    "EXS-27065-RESETVDIR" => {
                        assert!(p.path.contains("/HttpProxy/Ecp/"));
                        assert!(anchor.contains("schema=ResetOABVirtualDirectory#") && status == "200");
                    }
                    _ => assert!(cookie.starts_with("Server~") && cookie.contains("/ews/") && cookie.contains(":444")),
                }
            }
            "EXS-27065-SETVDIR" | "EXS-27065-SETVDIR-SCRIPT" => {
                assert!(p.path.contains("/Logging/ECP/Server/"));
                let l = at();
                assert!(l.contains("S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script language=\"\"JScript\"\" runat=\"\"server\"\">"));
                assert!(l.contains("schema=OABVirtualDirectory"), "second VirtualDirectory for the TPL regex");
            }
            "EXS-26858-OAB-DOWNLOAD" => {
                let l = at();
                assert!(l.contains("Download failed and temporary file '") && !l.contains(r"ClientAccess\OAB"), "{l}");
            }
            "EXS-26857-UM-INVALIDCAST" => {
                let e = app.iter().find(|e| Some(e.record) == p.record).expect("record");
                assert_eq!(e.provider, "MSExchange Unified Messaging");
                assert_eq!(e.level, 2);
                assert!(e.data.join(" ").contains("System.InvalidCastException"));
                assert!(e.time.starts_with("2021-03-03"), "{}", e.time);
            }
            "EXS-IIS-HAFNIUM-POST" => {
                let v = iis_fields(root, &p.path, p.line.unwrap());
                assert_eq!(v[3], "POST");
                assert!(["/owa/auth/Current/themes/resources/logon.css", "/ecp/default.flt"].contains(&v[4].as_str()));
            }
            "EXS-IIS-ECP-SHORT-JS" => {
                let v = iis_fields(root, &p.path, p.line.unwrap());
                assert!(["/ecp/y.js", "/ecp/ab1.js"].contains(&v[4].as_str()), "{}", v[4]);
            }
            "EXS-IIS-AUTH-JS" => assert_eq!(iis_fields(root, &p.path, p.line.unwrap())[4], "/owa/auth/x.js"),
            "EXS-IIS-RPC-POC" => {
                let v = iis_fields(root, &p.path, p.line.unwrap());
                assert_eq!((v[3].as_str(), v[4].as_str(), v[11].as_str()), ("GET", "/rpc/", "200"));
                assert!(v[5].starts_with("&CorrelationID=<empty>;&RequestId="));
            }
            "EXS-IIS-HAFNIUM-UA" => {
                let v = iis_fields(root, &p.path, p.line.unwrap());
                let tool = ["ExchangeServicesClient/0.0.0.0", "python-requests/2.25.1", "antSword/v2.1"]
                    .contains(&v[9].as_str());
                let crawler = v[9].starts_with("DuckDuckBot/1.0") && v[3] == "POST";
                assert!(tool || crawler, "{}", v[9]);
            }
            "EXS-IIS-WEBSHELL-ASPX" => {
                let v = iis_fields(root, &p.path, p.line.unwrap());
                assert!(v[4].ends_with(".aspx"));
                assert!(
                    v[4].starts_with("/aspnet_client/") || v[4] == "/owa/auth/RedirSuiteServerProxy.aspx",
                    "{}",
                    v[4]
                );
            }
            "EXS-FILE-LSASS-DUMP" => {
                assert!(p.path.ends_with("/lsass.dmp") && p.line.is_none() && p.record.is_none());
                assert_eq!(&std::fs::read(root.join(&p.path)).unwrap()[..4], b"MDMP");
            }
            "EXS-FILE-ARCHIVE-PROGRAMDATA" => assert_eq!(p.path, "C/ProgramData/it.zip"),
            other => panic!("unexpected rule {other}"),
        }
    }
    // Lines that fire several rules are listed once per rule.
    let reset = truth.indicators.iter().filter(|p| p.rule_id == "EXS-27065-RESETVDIR").count();
    assert_eq!(reset, 2);
    for r in truth.indicators.iter().filter(|p| p.rule_id == "EXS-27065-RESETVDIR") {
        assert!(
            truth
                .indicators
                .iter()
                .any(|p| p.rule_id == "EXS-26855-SERVERINFO" && p.path == r.path && p.line == r.line)
        );
    }
    let setvdir: Vec<_> = truth.indicators.iter().filter(|p| p.rule_id.starts_with("EXS-27065-SETVDIR")).collect();
    assert_eq!(setvdir.len(), 2);
    assert_eq!((&setvdir[0].path, setvdir[0].line), (&setvdir[1].path, setvdir[1].line));
    let duck = truth.indicators.iter().filter(|p| p.note.contains("DuckDuckBot") && p.path.contains("W3SVC1")).count();
    assert_eq!(duck, 2, "the DuckDuckBot POST fires HAFNIUM-POST and HAFNIUM-UA");
    // SERVERINFO in the Ecp folder on the attack day, and in another folder on another day.
    let si: BTreeSet<&str> = truth
        .indicators
        .iter()
        .filter(|p| p.rule_id == "EXS-26855-SERVERINFO")
        .map(|p| p.path.rsplit('/').nth(1).unwrap())
        .collect();
    assert!(si.contains("Ecp") && si.len() >= 2, "{si:?}");
}

#[test]
fn traps_are_present_and_fire_nothing() {
    let (dir, truth) = generate(small_spec(), Layout::Drive);
    let root = dir.path();
    assert!(truth.traps.len() >= 25, "{} traps", truth.traps.len());
    let notes: String = truth.traps.iter().map(|t| t.note.as_str()).collect::<Vec<_>>().join("\n");
    for needle in [
        "localhost/owa/auth/logon.aspx",
        "autodiscover",
        "without a path",
        "ResetOABVirtualDirectory",
        "BackEndCookie",
        "plain URL",
        "ClientAccess\\OAB\\Temp",
        "GET (not POST)",
        "Googlebot",
        "TimeoutLogout",
        "versioned folder",
        "OutOfMemoryException",
        "Level 4",
        "ADAccess",
        "lsass-notes",
        "outside ProgramData",
    ] {
        assert!(notes.contains(needle), "no trap about {needle}");
    }
    let mut days = BTreeSet::new();
    for t in &truth.traps {
        assert!(root.join(&t.path).is_file(), "{}", t.path);
        if let Some(n) = t.line {
            let l = line_at(root, &t.path, n);
            assert!(!l.starts_with('#'), "{}:{n} is a header", t.path);
            days.insert(l[..10].to_string());
        }
    }
    assert!(days.len() >= 8, "traps spread over the span: {days:?}");
    let trap_lines: BTreeSet<(String, Option<u64>, Option<u64>)> =
        truth.traps.iter().map(|t| (t.path.clone(), t.line, t.record)).collect();
    let fired = oracle_scan(root, Layout::Drive, EX);
    for (rule, path, line, record) in &fired {
        assert!(!trap_lines.contains(&(path.clone(), *line, *record)), "trap fires {rule} at {path}:{line:?}");
    }
}

#[test]
fn oracle_over_the_whole_tree_matches_the_truth() {
    let (dir, truth) = generate(small_spec(), Layout::Velociraptor);
    let fired = oracle_scan(dir.path(), Layout::Velociraptor, EX);
    let expected = truth_keys(&truth);
    let missing: Vec<_> = expected.difference(&fired).collect();
    let extra: Vec<_> = fired.difference(&expected).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:#?}\nextra {extra:#?}");
}

#[test]
fn clean_server_has_traps_and_no_indicator() {
    let spec = ServerSpec { compromised: false, ..small_spec() };
    let (dir, truth) = generate(spec, Layout::Kape);
    assert!(truth.indicators.is_empty(), "{:#?}", truth.indicators);
    assert!(truth.files_on_disk.is_empty());
    assert!(truth.traps.len() >= 20);
    assert!(oracle_scan(dir.path(), Layout::Kape, EX).is_empty());
    assert!(!dir.path().join("C/Windows/Temp/lsass.dmp").exists());
    assert!(dir.path().join("C/Windows/Temp/lsass-notes.txt").exists());
}

#[test]
fn truth_json_round_trips() {
    let (dir, truth) = generate(small_spec(), Layout::VelociraptorNtfs);
    let path = dir.path().join("truth.json");
    truth.write_json(&path).unwrap();
    assert_eq!(GroundTruth::read_json(&path).unwrap(), truth);
    assert!(GroundTruth::read_json(&dir.path().join("missing.json")).is_err());
    assert_eq!(Server::new(small_spec()).spec(), &small_spec());
}

#[test]
fn unusual_specs_still_plant_everything_consistently() {
    let specs = [
        // One day that is not 2021-03-03: the whole story is squeezed into it.
        ServerSpec { days: 1, first_day: (2021, 6, 1), scale: 0.0, ..small_spec() },
        // Another host, domain, build and install path, across a month end.
        ServerSpec {
            host: "MAIL03".into(),
            domain: "corp.example.org".into(),
            build: "15.02.0792.003".into(),
            exchange_path: r"E:\Exchange Server\V15\".into(),
            first_day: (2021, 2, 27),
            days: 4,
            seed: 99,
            ..small_spec()
        },
    ];
    for spec in specs {
        let ex = spec.exchange_path.clone();
        let (dir, truth) = generate(spec.clone(), Layout::VelociraptorNtfs);
        let planted: BTreeSet<&str> = truth.indicators.iter().map(|p| p.rule_id.as_str()).collect();
        assert_eq!(planted.len(), RULES.len(), "{spec:?}");
        assert_eq!(oracle_scan(dir.path(), Layout::VelociraptorNtfs, &ex), truth_keys(&truth), "{spec:?}");
        assert_eq!(truth.host, spec.host);
    }
}
