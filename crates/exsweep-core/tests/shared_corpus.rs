//! Larger suites over `../shared/data` (real EVTX samples). They run from `.ci/run` when the folder
//! exists (`cargo test -- --ignored`), and read the data in place: nothing is copied into the repository.

mod reference_reader;

use exsweep_core::{Engine, ScanOptions};
use std::path::PathBuf;

fn shared() -> Option<PathBuf> {
    let p = std::env::var_os("EXSWEEP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    p.join("data").is_dir().then_some(p)
}

/// Every real EVTX sample is read to the last record: the events exsweep hands to detectors
/// equal the records the evtx crate yields, and no file is reported as unreadable.
#[test]
#[ignore = "needs ../shared/data; run by .ci/run"]
fn real_evtx_samples_are_read_in_full() {
    let Some(shared) = shared() else { panic!("../shared/data not found (set EXSWEEP_SHARED)") };
    let dir = shared.join("data/evtx/evtx-to-mitre-attack");
    let mut expected = 0u64;
    let mut files = 0u64;
    for e in walkdir::WalkDir::new(&dir).into_iter().filter_map(|e| e.ok()) {
        if e.path().extension().is_some_and(|x| x.eq_ignore_ascii_case("evtx")) {
            files += 1;
            let mut p = evtx::EvtxParser::from_path(e.path()).unwrap();
            expected += p.records().filter(|r| r.is_ok()).count() as u64;
        }
    }
    assert!(files > 250, "found {files} EVTX files");
    let report = Engine::default().scan(&[dir], &ScanOptions::default()).unwrap();
    let read: u64 = report.hosts.iter().flat_map(|h| h.inventory.iter()).map(|(_, inv)| inv.records).sum();
    assert_eq!(read, expected, "events read by exsweep vs records in the evtx crate");
    let unreadable: Vec<_> =
        report.findings.iter().filter(|f| f.rule_id == "EXS-COV-FILE").map(|f| (&f.path, &f.evidence)).collect();
    eprintln!("{files} EVTX files, {read} events; file problems: {unreadable:?}");
    // The host is learned from the events' Computer names, not the folder name.
    assert_eq!(report.hosts.len(), 1);
    assert_ne!(report.hosts[0].host, "evtx-to-mitre-attack");
    // MSExchange Management samples become events with their cmdlet text.
    assert!(report.hosts.iter().any(|h| h.inventory.iter().any(|(l, _)| l.contains("MSExchange Management"))));
}

/// Every real EVTX sample reads exactly as with the reader it replaced (`reference_reader`): the
/// same events with the same fields, the same counts, times and notes.
#[test]
#[ignore = "needs ../shared/data; run by .ci/run"]
fn real_evtx_samples_read_as_before() {
    let Some(shared) = shared() else { panic!("../shared/data not found (set EXSWEEP_SHARED)") };
    let mut files = 0u64;
    let mut events = 0usize;
    for e in walkdir::WalkDir::new(shared.join("data/evtx")).into_iter().filter_map(|e| e.ok()) {
        if !e.path().extension().is_some_and(|x| x.eq_ignore_ascii_case("evtx")) {
            continue;
        }
        let bytes = std::fs::read(e.path()).unwrap();
        let what = e.path().display().to_string();
        for anchors in [None, Some(&["powershell", "cmd.exe"][..])] {
            let current = reference_reader::current_evtx(&bytes, anchors);
            reference_reader::assert_same(&what, &current, &reference_reader::reference_evtx(&bytes, anchors));
            if anchors.is_none() {
                events += current.0.len();
            }
        }
        files += 1;
    }
    eprintln!("{files} EVTX files, {events} events read as before");
    assert!(files > 250, "found {files} EVTX files");
}
