//! `exsweep hunt` and `scan --sigma`: Sigma rules over real EVTX files written by the fixtures'
//! writer; hits are findings per the schema, with the rule's author and file (DRL 1.1), ATT&CK ids
//! from its tags, the record id and the path; broken rules are listed, not dropped.

use exsweep_fixtures::evtx::{EventData, EventSpec, write_file};
use std::process::{Command, Output};

fn exsweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exsweep")).args(args).output().expect("run exsweep")
}

fn sysmon1(i: i64, image: &str, cmd: &str) -> EventSpec {
    EventSpec {
        provider: "Microsoft-Windows-Sysmon".into(),
        event_id: 1,
        level: 4,
        time_ms: 1_614_755_000_000 + i * 1000,
        channel: "Microsoft-Windows-Sysmon/Operational".into(),
        computer: "EX01.contoso.local".into(),
        data: EventData::Named(vec![
            ("Image".into(), image.into()),
            ("CommandLine".into(), cmd.into()),
            ("ParentImage".into(), r"c:\windows\system32\inetsrv\w3wp.exe".into()),
        ]),
        ..EventSpec::default()
    }
}

const RULE: &str = r#"title: Shell Spawned By IIS Worker
id: 8f2a4c1e-0000-4000-8000-0000000000aa
status: test
author: exsweep tests
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        ParentImage|endswith: '\w3wp.exe'
        Image|endswith: '\cmd.exe'
    condition: selection
level: high
tags:
    - attack.persistence
    - attack.t1505.003
"#;

#[test]
fn hunt_reports_sigma_hits_as_findings() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let events = (0..300).map(|i| {
        if i == 137 {
            sysmon1(i, r"C:\Windows\System32\cmd.exe", "cmd /c whoami")
        } else {
            sysmon1(i, r"C:\Windows\System32\svchost.exe", "svchost -k netsvcs")
        }
    });
    write_file(&logs.join("Sysmon.evtx"), events).unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("shell.yml"), RULE).unwrap();
    std::fs::write(
        rules.join("broken.yml"),
        "title: Broken\nlogsource:\n    product: windows\ndetection:\n    condition: nothing\n",
    )
    .unwrap();

    let out = exsweep(&["hunt", "--sigma", rules.to_str().unwrap(), logs.to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(1), "a high hit exits 1: {}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let f = &lines[0];
    assert_eq!(f["rule_source"], "sigma");
    assert_eq!(f["rule_id"], "8f2a4c1e-0000-4000-8000-0000000000aa");
    assert_eq!(f["title"], "Shell Spawned By IIS Worker");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["category"], "webshell");
    assert_eq!(f["attack"], serde_json::json!(["T1505.003"]));
    assert_eq!(f["record"], 138);
    assert_eq!(f["path"], "Sysmon.evtx");
    assert_eq!(f["extra"]["rule_author"], "exsweep tests");
    assert!(f["extra"]["rule_file"].as_str().unwrap().ends_with("shell.yml"));
    // Evidence: the fields the rule read.
    let evidence = f["evidence"].as_str().unwrap();
    assert!(evidence.contains(r"Image=C:\Windows\System32\cmd.exe"), "{evidence}");
    assert!(evidence.contains(r"ParentImage=c:\windows\system32\inetsrv\w3wp.exe"), "{evidence}");

    let listed = exsweep(&["hunt", "--sigma", rules.to_str().unwrap(), "--list-unsupported"]);
    assert!(listed.status.success());
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(text.contains("broken.yml"), "{text}");
    assert!(text.contains("1 rule(s) loaded, 1 not usable"), "{text}");

    // `scan --sigma` adds the same hit to a scan's findings.
    let out = exsweep(&["scan", logs.to_str().unwrap(), "--sigma", rules.to_str().unwrap(), "--format", "jsonl", "-q"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().filter(|l| l.contains("\"rule_source\":\"sigma\"")).count(), 1, "{text}");
}

/// SigmaHQ's own HAFNIUM web-server rule, over the IIS logs of the generated server: every hit is
/// a planted HAFNIUM request, none is a trap, and the finding cites the rule's author.
#[test]
#[ignore = "needs ../shared/data; run by .ci/run"]
fn sigmahq_hafnium_webserver_rule_finds_planted_requests_only() {
    use exsweep_core::{Engine, ScanOptions};
    use exsweep_fixtures::generator::{Server, ServerSpec};
    use exsweep_fixtures::layout::{Layout, write_tree};
    let shared = std::env::var_os("EXSWEEP_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared").into());
    let rule = shared.join("data/sigma/rules-emerging-threats/2021/TA/HAFNIUM/web_exchange_exploitation_hafnium.yml");
    assert!(rule.is_file(), "{} not found (set EXSWEEP_SHARED)", rule.display());
    let dir = tempfile::tempdir().unwrap();
    let truth =
        write_tree(&Server::new(ServerSpec { scale: 0.05, ..ServerSpec::default() }), Layout::Drive, dir.path())
            .unwrap();
    let rules = exsweep_sigma::SigmaRules::load(&[rule]);
    assert_eq!(rules.len(), 1);
    let mut detectors = exsweep_core::detect::builtin();
    detectors.push(Box::new(exsweep_sigma::SigmaDetector::new(rules)));
    let report = Engine::new(detectors).scan(&[dir.path().to_path_buf()], &ScanOptions::default()).unwrap();
    let hits: Vec<_> = report.findings.iter().filter(|f| f.rule_source == "sigma").collect();
    let planted: std::collections::BTreeSet<_> = truth
        .indicators
        .iter()
        .filter(|p| p.rule_id.starts_with("EXS-IIS"))
        .map(|p| (p.path.clone(), p.line))
        .collect();
    assert!(hits.len() >= 10, "only {} hits", hits.len());
    for f in &hits {
        assert!(
            planted.contains(&(f.path.clone(), f.line)),
            "hit outside the planted requests: {}:{:?}",
            f.path,
            f.line
        );
        assert_eq!(f.extra["rule_author"], "Florian Roth (Nextron Systems)");
        assert!(!truth.traps.iter().any(|t| t.path == f.path && t.line == f.line));
    }
}

fn security(i: i64, id: u16, user: &str) -> EventSpec {
    EventSpec {
        provider: "Microsoft-Windows-Security-Auditing".into(),
        event_id: id,
        level: 0,
        time_ms: 1_614_755_000_000 + i * 5_000,
        channel: "Security".into(),
        computer: "EX01.contoso.local".into(),
        data: EventData::Named(vec![
            ("TargetUserName".into(), user.into()),
            ("IpAddress".into(), "203.0.113.7".into()),
            ("LogonType".into(), "3".into()),
        ]),
        ..EventSpec::default()
    }
}

const CORRELATION: &str = r#"title: Failed logon
name: failed_logon
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
level: low
---
title: Brute force against one account
id: 8f2a4c1e-0000-4000-8000-0000000000cc
author: exsweep tests
correlation:
    type: event_count
    rules:
        - failed_logon
    group-by:
        - TargetUserName
    timespan: 2m
    condition:
        gte: 10
level: high
tags:
    - attack.credential-access
    - attack.t1110
"#;

/// A correlation rule over writer-made Security EVTX: the burst against one account is one
/// finding at the correlation's level, pointing at the event that completed it; the failed-logon
/// rule it uses does not report on its own (no `generate: true`).
#[test]
fn hunt_runs_correlation_rules_across_events() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    // 12 failures against administrator, 5 s apart; background failures for other accounts.
    let events = (0..200).map(|i| match i {
        50..62 => security(i, 4625, "administrator"),
        _ if i % 20 == 0 => security(i, 4625, &format!("user{i}")),
        _ => security(i, 4624, "svc_backup"),
    });
    write_file(&logs.join("Security.evtx"), events).unwrap();
    let rules = dir.path().join("brute.yml");
    std::fs::write(&rules, CORRELATION).unwrap();
    let out = exsweep(&["hunt", "--sigma", rules.to_str().unwrap(), logs.to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let f = &lines[0];
    assert_eq!(f["rule_id"], "8f2a4c1e-0000-4000-8000-0000000000cc");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["attack"], serde_json::json!(["T1110"]));
    assert_eq!(f["record"], 60, "the tenth failure completes the window");
    assert_eq!(f["extra"]["count"], 10);
    assert_eq!(f["extra"]["group"]["TargetUserName"], "administrator");
    assert_eq!(f["extra"]["events"].as_array().unwrap().len(), 10);
    assert_eq!(f["time"], "2021-03-03T07:08:15Z");
}

/// A corrupt chunk in the middle of an EVTX file: `hunt` reports it as a file problem, and the
/// hits in the chunks before and after it are still found.
#[test]
fn hunt_skips_a_corrupt_chunk_and_evaluates_the_rest() {
    use exsweep_fixtures::evtx::EvtxWriter;
    let mut w = EvtxWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
    let mut planted = Vec::new();
    let mut chunk_of = Vec::new();
    for i in 0..2000 {
        let ev = if i % 400 == 7 {
            sysmon1(i, r"C:\Windows\System32\cmd.exe", "cmd /c whoami")
        } else {
            sysmon1(i, r"C:\Windows\System32\svchost.exe", &format!("svchost -k netsvcs {}", "x".repeat(300)))
        };
        let id = w.write(&ev).unwrap();
        if i % 400 == 7 {
            planted.push(id);
            chunk_of.push(w.chunk_count());
        }
    }
    let chunks = w.chunk_count();
    let mut bytes = w.finish().unwrap().into_inner();
    assert!(chunks >= 5, "{chunks} chunks");
    // Garbage over the records of the chunk holding the second planted event (`chunk_count` is
    // 1-based): its checksums no longer hold.
    let bad = chunk_of[1];
    let start = 4096 + 65536 * (bad - 1);
    for b in &mut bytes[start + 1024..start + 9000] {
        *b = 0xA5;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Sysmon.evtx"), &bytes).unwrap();
    let rules = dir.path().join("shell.yml");
    std::fs::write(&rules, RULE).unwrap();
    let out = exsweep(&[
        "hunt",
        "--sigma",
        rules.to_str().unwrap(),
        dir.path().join("Sysmon.evtx").to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let hits: Vec<u64> =
        lines.iter().filter(|f| f["rule_source"] == "sigma").filter_map(|f| f["record"].as_u64()).collect();
    let expected: Vec<u64> = planted.iter().zip(&chunk_of).filter(|(_, c)| **c != bad).map(|(id, _)| *id).collect();
    assert!(expected.len() >= 3 && expected.len() < planted.len(), "{planted:?} in chunks {chunk_of:?}");
    assert_eq!(hits, expected, "every hit outside the corrupt chunk");
    let problem = lines.iter().find(|f| f["rule_id"] == "EXS-COV-FILE").expect("the corrupt chunk is reported");
    assert!(problem["evidence"].as_str().unwrap().contains("corrupt EVTX chunk"), "{problem}");
}
