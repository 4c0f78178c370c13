//! The generated server against its ground truth: in every layout and as a zip, every planted
//! indicator is found at its exact path and line (or record), nothing fires outside the truth or
//! on a benign trap, and a clean server raises no activity finding at all.

use exsweep_core::correlate::Verdict;
use exsweep_core::model::{Category, Finding};
use exsweep_core::{ScanOptions, ScanReport};
use exsweep_fixtures::generator::{Server, ServerSpec};
use exsweep_fixtures::layout::{Layout, write_tree, write_zip};
use exsweep_fixtures::truth::GroundTruth;
use std::collections::BTreeSet;
use std::path::Path;

/// Small enough for debug-build tests, large enough for every planted indicator and trap.
const SCALE: f64 = 0.05;

fn spec(compromised: bool) -> ServerSpec {
    ServerSpec { seed: 7, compromised, scale: SCALE, ..ServerSpec::default() }
}

fn scan(path: &Path) -> ScanReport {
    exsweep_sigma::builtin::engine().scan(&[path.to_path_buf()], &ScanOptions::default()).expect("scan")
}

type Key = (String, String, Option<u64>, Option<u64>);

fn key(f: &Finding) -> Key {
    (f.rule_id.clone(), f.path.clone(), f.line, f.record)
}

/// Asserts the scan equals the truth for activity findings, and that no finding sits on a trap.
fn check(report: &ScanReport, truth: &GroundTruth) {
    let expected: BTreeSet<Key> =
        truth.indicators.iter().map(|p| (p.rule_id.clone(), p.path.clone(), p.line, p.record)).collect();
    let got: BTreeSet<Key> = report.findings.iter().filter(|f| f.category.is_activity()).map(key).collect();
    let missed: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(missed.is_empty(), "{}: planted indicators not found: {missed:#?}", truth.layout);
    assert!(extra.is_empty(), "{}: findings outside the ground truth: {extra:#?}", truth.layout);
    for t in &truth.traps {
        let on_trap: Vec<_> = report
            .findings
            .iter()
            .filter(|f| {
                f.path == t.path && f.line == t.line && f.record == t.record && f.category != Category::Coverage
            })
            .collect();
        assert!(on_trap.is_empty(), "{}: trap {:?} fired: {on_trap:#?}", truth.layout, t.note);
    }
    // Every built-in rule is exercised by the planted server.
    let rules: BTreeSet<&str> = truth.indicators.iter().map(|p| p.rule_id.as_str()).collect();
    for r in exsweep_sigma::builtin::rule_ids() {
        assert!(rules.contains(r.as_str()), "no planted indicator for {r}");
    }
    assert_eq!(report.hosts.len(), 1);
    assert_eq!(report.hosts[0].host, truth.host);
    assert_eq!(report.hosts[0].verdict, Verdict::Compromised);
}

#[test]
fn every_layout_and_zip_matches_the_truth() {
    let server = Server::new(spec(true));
    let dir = tempfile::tempdir().unwrap();
    for layout in [Layout::Drive, Layout::Kape, Layout::Velociraptor, Layout::VelociraptorNtfs] {
        let tree = dir.path().join(layout.name());
        let truth = write_tree(&server, layout, &tree).unwrap();
        let report = scan(&tree);
        check(&report, &truth);
        // No coverage gap on a complete server: every family is present from before 2021-03-03.
        let blind: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.category == Category::Coverage)
            .map(|f| (&f.rule_id, &f.title))
            .collect();
        assert!(blind.is_empty(), "{}: unexpected coverage findings {blind:#?}", truth.layout);

        let zip = dir.path().join(format!("{}.zip", layout.name()));
        let ztruth = write_zip(&server, layout, &zip).unwrap();
        let zreport = scan(&zip);
        check(&zreport, &ztruth);
        // The same findings, the same order, in the tree and in the zip.
        let strip = |r: &ScanReport| {
            r.findings.iter().map(|f| (f.rule_id.clone(), f.path.clone(), f.line, f.record, f.time)).collect::<Vec<_>>()
        };
        assert_eq!(strip(&report), strip(&zreport), "{} tree vs zip", layout.name());
    }
}

#[test]
fn clean_server_raises_no_activity_finding() {
    let server = Server::new(spec(false));
    let dir = tempfile::tempdir().unwrap();
    let truth = write_tree(&server, Layout::Drive, dir.path()).unwrap();
    assert!(truth.indicators.is_empty());
    assert!(!truth.traps.is_empty());
    let report = scan(dir.path());
    let activity: Vec<_> = report.findings.iter().filter(|f| f.category.is_activity()).map(key).collect();
    assert!(activity.is_empty(), "clean server fired: {activity:#?}");
    assert_eq!(report.hosts[0].verdict, Verdict::NoEvidence);
}

#[test]
fn non_default_install_path_is_found_by_content() {
    let spec = ServerSpec { exchange_path: r"D:\Exchange".into(), ..spec(true) };
    let server = Server::new(spec);
    let dir = tempfile::tempdir().unwrap();
    let truth = write_tree(&server, Layout::Kape, dir.path()).unwrap();
    let report = scan(dir.path());
    check(&report, &truth);
    assert!(report.hosts[0].exchange_installs.iter().any(|x| x.eq_ignore_ascii_case(r"D:\Exchange\")));
    // A plain drive copy does not name its drive; the OAB exclusion must still hold.
    let copy = tempfile::tempdir().unwrap();
    let truth = write_tree(&server, Layout::Drive, copy.path()).unwrap();
    check(&scan(copy.path()), &truth);
}

#[test]
fn several_sources_give_per_host_results() {
    let dir = tempfile::tempdir().unwrap();
    let a = Server::new(ServerSpec { host: "EX01".into(), ..spec(true) });
    let b = Server::new(ServerSpec { host: "EX02".into(), seed: 8, ..spec(false) });
    let ta = write_tree(&a, Layout::Kape, &dir.path().join("case-ex01")).unwrap();
    let zb = dir.path().join("ex02-velociraptor.zip");
    write_zip(&b, Layout::Velociraptor, &zb).unwrap();
    let report = exsweep_sigma::builtin::engine()
        .scan(&[dir.path().join("case-ex01"), zb], &ScanOptions { threads: Some(2), ..ScanOptions::default() })
        .unwrap();
    let hosts: Vec<(&str, Verdict)> = report.hosts.iter().map(|h| (h.host.as_str(), h.verdict)).collect();
    assert_eq!(hosts, vec![("EX01", Verdict::Compromised), ("EX02", Verdict::NoEvidence)]);
    assert!(report.findings.iter().filter(|f| f.category.is_activity()).all(|f| f.host == "EX01"));
    let ex01: BTreeSet<Key> =
        report.findings.iter().filter(|f| f.host == "EX01" && f.category.is_activity()).map(key).collect();
    assert_eq!(
        ex01.len(),
        ta.indicators.iter().map(|p| (&p.rule_id, &p.path, p.line, p.record)).collect::<BTreeSet<_>>().len()
    );
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let server = Server::new(spec(true));
    let dir = tempfile::tempdir().unwrap();
    write_tree(&server, Layout::Velociraptor, dir.path()).unwrap();
    let run = |threads| {
        let r = exsweep_sigma::builtin::engine()
            .scan(&[dir.path().to_path_buf()], &ScanOptions { threads: Some(threads), ..ScanOptions::default() })
            .unwrap();
        serde_json::to_string(&r.findings).unwrap()
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(4));
}
