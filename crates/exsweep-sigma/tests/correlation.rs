//! Sigma v2 correlation rules: event_count, value_count, temporal and temporal_ordered, with
//! group-by, field aliases, sliding windows (a burst across a fixed time bucket still counts),
//! upper-bound conditions on whole windows, `generate`, chains, and the problems of broken ones.

use exsweep_core::record::EventRecord;
use exsweep_sigma::SigmaRules;
use exsweep_sigma::correlation::{CorrelationHit, CorrelationInput, Location};
use exsweep_sigma::event::FlatEvent;
use exsweep_sigma::logsource::route_of;

const BASE: &str = r#"
title: Failed logon
name: failed_logon
id: 00000000-0000-4000-8000-00000000c001
logsource: {product: windows, service: security}
detection:
    sel:
        EventID: 4625
    condition: sel
---
title: Successful logon
name: successful_logon
logsource: {product: windows, service: security}
detection:
    sel:
        EventID: 4624
    condition: sel
---
title: Whoami
name: recon_whoami
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|contains: whoami
    condition: sel
---
title: Net user
name: recon_net
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|contains: 'net user'
    condition: sel
"#;

fn security(id: u32, user: &str, ip: &str) -> EventRecord {
    EventRecord {
        channel: "Security".into(),
        provider: "Microsoft-Windows-Security-Auditing".into(),
        event_id: Some(id),
        computer: "EX01".into(),
        data: vec![(Some("TargetUserName".into()), user.into()), (Some("IpAddress".into()), ip.into())],
        ..EventRecord::default()
    }
}

fn process(cmd: &str, user: &str) -> EventRecord {
    EventRecord {
        channel: "Microsoft-Windows-Sysmon/Operational".into(),
        provider: "Microsoft-Windows-Sysmon".into(),
        event_id: Some(1),
        computer: "EX01".into(),
        data: vec![(Some("CommandLine".into()), cmd.into()), (Some("User".into()), user.into())],
        ..EventRecord::default()
    }
}

/// Loads the base rules and `correlations`, runs `events` (time in seconds, record) through them
/// as a scan would, and returns the correlation hits with the rule set.
fn run(correlations: &str, events: &[(i64, EventRecord)]) -> (SigmaRules, Vec<CorrelationHit>) {
    let mut r = SigmaRules::new();
    r.add_yaml(BASE, "base.yml");
    r.add_yaml(correlations, "corr.yml");
    r.finish();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    let mut inputs: Vec<CorrelationInput> = Vec::new();
    for (n, (t, ev)) in events.iter().enumerate() {
        let flat = FlatEvent::from_event(ev);
        let loc = Location { path: "Security.evtx".into(), record: Some(n as u64 + 1), ..Location::default() };
        for i in r.matching(&flat, &route_of(ev)) {
            inputs.extend(r.correlation_inputs(i, &flat, Some(1_614_729_600_000 + t * 1000), &loc));
        }
    }
    let hits = r.correlate(inputs);
    (r, hits)
}

fn title(r: &SigmaRules, h: &CorrelationHit) -> String {
    r.correlations()[h.correlation].info.title.clone()
}

const BRUTE: &str = r#"
title: Brute force
correlation:
    type: event_count
    rules: [failed_logon]
    group-by: [TargetUserName]
    timespan: 5m
    condition:
        gte: 10
level: high
"#;

#[test]
fn event_count_slides_over_bucket_boundaries() {
    // Ten failures between 4:40 and 5:30 after the hour: a fixed 5-minute bucket splits them.
    let burst: Vec<(i64, EventRecord)> = (0..10).map(|i| (280 + i * 5, security(4625, "alice", "10.0.0.9"))).collect();
    let (r, hits) = run(BRUTE, &burst);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(title(&r, &hits[0]), "Brute force");
    assert_eq!(hits[0].count, 10);
    assert_eq!(hits[0].group, vec![("TargetUserName".to_string(), "alice".to_string())]);
    assert_eq!(hits[0].events.len(), 10);
    assert_eq!(hits[0].events.last().unwrap().record, Some(10));
    // Nine are not enough; ten spread over 20 minutes neither; other users count apart.
    assert!(run(BRUTE, &burst[..9]).1.is_empty());
    let spread: Vec<_> = (0..10).map(|i| (i * 120, security(4625, "alice", "x"))).collect();
    assert!(run(BRUTE, &spread).1.is_empty());
    let mixed: Vec<_> = (0..10).map(|i| (i, security(4625, if i % 2 == 0 { "alice" } else { "bob" }, "x"))).collect();
    assert!(run(BRUTE, &mixed).1.is_empty());
    // Twenty in a burst: two hits, each window counted afresh.
    let twenty: Vec<_> = (0..20).map(|i| (i, security(4625, "alice", "x"))).collect();
    assert_eq!(run(BRUTE, &twenty).1.len(), 2);
}

#[test]
fn value_count_counts_distinct_values() {
    let spray = r#"
title: Password spray
correlation:
    type: value_count
    rules: [failed_logon]
    group-by: [IpAddress]
    timespan: 1h
    condition:
        field: TargetUserName
        gte: 3
"#;
    let users = ["alice", "bob", "alice", "carol"];
    let evs: Vec<_> = users.iter().enumerate().map(|(i, u)| (i as i64 * 60, security(4625, u, "10.0.0.7"))).collect();
    let (_, hits) = run(spray, &evs);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].count, 3, "three distinct users");
    assert_eq!(hits[0].events.len(), 4);
    assert!(run(spray, &evs[..3]).1.is_empty(), "alice twice is one value");
}

#[test]
fn temporal_needs_every_rule_in_the_window_and_the_group() {
    let recon = r#"
title: Recon burst
correlation:
    type: temporal
    rules: [recon_whoami, recon_net]
    group-by: [User]
    timespan: 5m
"#;
    let evs = vec![(0, process("net user /domain", "eve")), (100, process("whoami /all", "eve"))];
    assert_eq!(run(recon, &evs).1.len(), 1, "any order");
    let apart = vec![(0, process("net user", "eve")), (400, process("whoami", "eve"))];
    assert!(run(recon, &apart).1.is_empty(), "outside the timespan");
    let others = vec![(0, process("net user", "eve")), (10, process("whoami", "mallory"))];
    assert!(run(recon, &others).1.is_empty(), "different users");
}

#[test]
fn temporal_ordered_needs_the_order_and_chains_take_correlations() {
    let chain = r#"
title: Many failures
name: many_failures
correlation:
    type: event_count
    rules: [failed_logon]
    group-by: [TargetUserName]
    timespan: 10m
    condition:
        gte: 3
---
title: Failures then success
correlation:
    type: temporal_ordered
    rules: [many_failures, successful_logon]
    group-by: [TargetUserName]
    timespan: 1h
level: critical
"#;
    let mut evs: Vec<_> = (0..3).map(|i| (i * 10, security(4625, "alice", "x"))).collect();
    evs.push((600, security(4624, "alice", "x")));
    let (r, hits) = run(chain, &evs);
    let titles: Vec<String> = hits.iter().map(|h| title(&r, h)).collect();
    assert_eq!(titles, vec!["Many failures", "Failures then success"]);
    // Success first, failures after: not in order.
    let mut reversed = vec![(0, security(4624, "alice", "x"))];
    reversed.extend((0..3).map(|i| (100 + i * 10, security(4625, "alice", "x"))));
    let (r, hits) = run(chain, &reversed);
    assert_eq!(hits.iter().map(|h| title(&r, h)).collect::<Vec<_>>(), vec!["Many failures"]);
}

#[test]
fn aliases_group_different_fields() {
    let aliased = r#"
title: Logon then recon by the same account
correlation:
    type: temporal
    rules: [successful_logon, recon_whoami]
    group-by: [account]
    timespan: 10m
    aliases:
        account:
            successful_logon: TargetUserName
            recon_whoami: User
"#;
    let evs = vec![(0, security(4624, "eve", "x")), (60, process("whoami", "eve"))];
    let (_, hits) = run(aliased, &evs);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].group, vec![("account".to_string(), "eve".to_string())]);
    let other = vec![(0, security(4624, "eve", "x")), (60, process("whoami", "bob"))];
    assert!(run(aliased, &other).1.is_empty());
}

#[test]
fn upper_bounds_are_judged_on_whole_windows() {
    let quiet = r#"
title: Few failures
correlation:
    type: event_count
    rules: [failed_logon]
    group-by: [TargetUserName]
    timespan: 10m
    condition:
        lt: 3
"#;
    // Two in the first window (a hit), then four in the next (not).
    let mut evs = vec![(0, security(4625, "a", "x")), (30, security(4625, "a", "x"))];
    evs.extend((0..4).map(|i| (1000 + i, security(4625, "a", "x"))));
    let (_, hits) = run(quiet, &evs);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].count, 2);
}

#[test]
fn generate_decides_whether_the_used_rules_report_on_their_own() {
    let (r, _) = run(BRUTE, &[]);
    let used = r.rules().iter().find(|x| x.info.title == "Failed logon").unwrap();
    assert!(!used.generates, "used by a correlation without generate: only the correlation reports");
    assert!(r.rules().iter().find(|x| x.info.title == "Whoami").unwrap().generates);
    let generating = BRUTE.replace("    timespan: 5m\n", "    timespan: 5m\n    generate: true\n");
    let (r, _) = run(&generating, &[]);
    assert!(r.rules().iter().find(|x| x.info.title == "Failed logon").unwrap().generates);
}

#[test]
fn broken_correlations_are_problems() {
    let mut r = SigmaRules::new();
    r.add_yaml(BASE, "base.yml");
    r.add_yaml(
        "title: Unknown rule\ncorrelation:\n    type: event_count\n    rules: [no_such_rule]\n    group-by: [x]\n    timespan: 5m\n    condition:\n        gte: 2\n",
        "unknown.yml",
    );
    r.add_yaml(
        "title: Bad type\ncorrelation:\n    type: value_sum\n    rules: [failed_logon]\n    timespan: 5m\n",
        "type.yml",
    );
    r.add_yaml(
        "title: Bad span\ncorrelation:\n    type: event_count\n    rules: [failed_logon]\n    timespan: 5 minutes\n    condition:\n        gte: 2\n",
        "span.yml",
    );
    r.add_yaml(
        "title: No field\ncorrelation:\n    type: value_count\n    rules: [failed_logon]\n    timespan: 5m\n    condition:\n        gte: 2\n",
        "field.yml",
    );
    r.add_yaml(
        "title: Loop A\nname: loop_a\ncorrelation:\n    type: temporal\n    rules: [loop_b, failed_logon]\n    timespan: 5m\n---\ntitle: Loop B\nname: loop_b\ncorrelation:\n    type: temporal\n    rules: [loop_a, failed_logon]\n    timespan: 5m\n",
        "loop.yml",
    );
    r.finish();
    let reason =
        |path: &str| r.problems.iter().filter(|p| p.path == path).map(|p| p.reason.clone()).collect::<Vec<_>>();
    assert!(reason("unknown.yml")[0].contains("no_such_rule"), "{:?}", r.problems);
    assert!(reason("type.yml")[0].contains("value_sum"));
    assert!(reason("span.yml")[0].contains("timespan"));
    assert!(reason("field.yml")[0].contains("field"));
    assert_eq!(reason("loop.yml").len(), 2);
    assert!(reason("loop.yml")[0].contains("cycle"));
    assert_eq!(r.len(), 4, "the detection rules still load");
    assert!(r.correlations().is_empty());
}

#[test]
fn ranges_and_equality_are_judged_on_whole_windows() {
    let range = BRUTE.replace("        gte: 10\n", "        gte: 2\n        lte: 3\n");
    let ten: Vec<_> = (0..10).map(|i| (i, security(4625, "alice", "x"))).collect();
    assert!(run(&range, &ten).1.is_empty(), "ten in the window is outside 2..=3");
    let three: Vec<_> = (0..3).map(|i| (i, security(4625, "alice", "x"))).collect();
    let (_, hits) = run(&range, &three);
    assert_eq!(hits.iter().map(|h| h.count).collect::<Vec<_>>(), vec![3]);
    let eq = BRUTE.replace("        gte: 10\n", "        eq: 3\n");
    assert!(run(&eq, &ten).1.is_empty());
    assert_eq!(run(&eq, &three).1.len(), 1);
}

#[test]
fn events_without_a_group_field_belong_to_no_group() {
    let lacking = |i: i64| {
        let mut ev = security(4625, "x", "y");
        ev.data.retain(|(k, _)| k.as_deref() != Some("TargetUserName"));
        (i, ev)
    };
    let evs: Vec<_> = (0..12).map(lacking).collect();
    assert!(run(BRUTE, &evs).1.is_empty());
}

#[test]
fn a_used_correlation_reports_only_through_the_one_using_it() {
    let chain = r#"
title: Many failures
name: many_failures
correlation:
    type: event_count
    rules: [failed_logon]
    group-by: [TargetUserName]
    timespan: 10m
    condition:
        gte: 3
---
title: Failures then success
correlation:
    type: temporal_ordered
    rules: [many_failures, successful_logon]
    group-by: [TargetUserName]
    timespan: 1h
"#;
    let (r, _) = run(chain, &[]);
    let by_title = |t: &str| r.correlations().iter().find(|c| c.info.title == t).unwrap();
    assert!(!by_title("Many failures").generates);
    assert!(by_title("Failures then success").generates);
}

/// 50,000 events in one group under a threshold they never reach: no hit. (Tallies make each
/// event cost a constant; the time is the benchmark's to show, not this test's.)
#[test]
fn a_long_window_below_its_threshold_fires_nothing() {
    let spread = r#"
title: Many accounts
correlation:
    type: value_count
    rules: [failed_logon]
    group-by: [IpAddress]
    timespan: 30d
    condition:
        field: TargetUserName
        gte: 100000
"#;
    let evs: Vec<_> = (0..50_000).map(|i| (i, security(4625, &format!("user{}", i % 70_000), "10.0.0.7"))).collect();
    assert!(run(spread, &evs).1.is_empty());
}

/// Correlations over IIS lines: the fields they group by are in the records their rules see,
/// even though the rules themselves read only the path.
#[test]
fn correlations_group_web_requests_by_their_own_fields() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("inetpub/logs/LogFiles/W3SVC1");
    std::fs::create_dir_all(&logs).unwrap();
    let mut text = String::from(
        "#Software: Microsoft Internet Information Services 8.5\n#Version: 1.0\n#Date: 2021-03-03 00:00:00\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n",
    );
    // Four probes from four addresses, then three from one.
    for (i, ip) in
        ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "198.51.100.9", "198.51.100.9", "198.51.100.9"]
            .iter()
            .enumerate()
    {
        text += &format!("2021-03-03 06:00:{i:02} 10.0.1.31 GET /probe - 443 - {ip} curl/7.1 - 404 0 0 1\n");
    }
    std::fs::write(logs.join("u_ex210303.log"), text).unwrap();
    let rules = r#"
title: Probe
name: probe
logsource:
    category: webserver
detection:
    selection:
        cs-uri-stem: '/probe'
    condition: selection
---
title: Same client probes three times
correlation:
    type: event_count
    rules: [probe]
    group-by: [c-ip]
    timespan: 1m
    condition:
        gte: 3
level: high
"#;
    let mut r = SigmaRules::new();
    r.add_yaml(rules, "probe.yml");
    r.finish();
    let detector = exsweep_sigma::SigmaDetector::new(r);
    let report = exsweep_core::Engine::new(vec![Box::new(detector)])
        .scan(&[dir.path().to_path_buf()], &exsweep_core::ScanOptions::default())
        .unwrap();
    let hits: Vec<_> = report.findings.iter().filter(|f| f.rule_source == "sigma").collect();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    assert_eq!(hits[0].extra["group"]["c-ip"], "198.51.100.9");
    assert_eq!(hits[0].line, Some(11));
}
