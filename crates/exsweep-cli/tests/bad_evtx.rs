//! A corrupt or truncated EVTX file: the damaged chunks are reported in a coverage finding, and the
//! events of the intact chunks still reach the detectors.

use exsweep_core::ScanOptions;
use exsweep_fixtures::evtx::{EventData, EventSpec, EvtxWriter};

fn um_event(i: u64, invalid_cast: bool) -> EventSpec {
    EventSpec {
        provider: "MSExchange Unified Messaging".into(),
        event_id: 1040,
        qualifiers: Some(49152),
        level: if invalid_cast { 2 } else { 4 },
        time_ms: 1_614_755_000_000 + i as i64 * 1000,
        channel: "Application".into(),
        computer: "EX01.contoso.local".into(),
        data: EventData::Unnamed(vec![
            "UMWorkerProcess".into(),
            if invalid_cast {
                "System.InvalidCastException: Unable to cast object of type 'System.String' to type 'Microsoft.Exchange.UM.UMCore.UMMailboxPolicy'.".into()
            } else {
                format!("call {i} answered; padding {}", "x".repeat(400))
            },
        ]),
        ..EventSpec::default()
    }
}

#[test]
fn truncated_evtx_keeps_the_events_before_the_cut() {
    let mut w = EvtxWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
    let mut planted = None;
    let mut late = None;
    for i in 0..600u64 {
        let id = w.write(&um_event(i, i == 5 || i == 590)).unwrap();
        if i == 5 {
            planted = Some(id);
        }
        if i == 590 {
            late = Some(id);
        }
    }
    assert!(w.chunk_count() >= 4);
    let bytes = w.finish().unwrap().into_inner();
    // Cut in the middle of the third chunk.
    let cut = &bytes[..4096 + 65536 * 2 + 30_000];
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("Windows/System32/winevt/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("Application.evtx"), cut).unwrap();
    // Garbage with the EVTX name: not an EVTX file at all.
    std::fs::write(logs.join("System.evtx"), b"this is not an event log").unwrap();
    let r = exsweep_sigma::builtin::engine().scan(&[dir.path().to_path_buf()], &ScanOptions::default()).unwrap();
    let hits: Vec<_> =
        r.findings.iter().filter(|f| f.rule_id == "EXS-26857-UM-INVALIDCAST").map(|f| f.record).collect();
    assert_eq!(hits, vec![planted], "the event in the first chunk is found; the one after the cut is gone ({late:?})");
    let cov: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule_id == "EXS-COV-FILE")
        .map(|f| (f.path.as_str(), f.evidence.as_str()))
        .collect();
    assert!(cov.iter().any(|(p, e)| p.ends_with("Application.evtx") && e.contains("truncated EVTX")), "{cov:?}");
    assert!(cov.iter().any(|(p, e)| p.ends_with("System.evtx") && e.contains("not a readable EVTX")), "{cov:?}");
}

/// Chunks without a detector's literal are only walked for record headers; the record count, the
/// times (including a gap of several days) and every hit must equal a full rendering.
#[test]
fn unrendered_chunks_still_count_and_time_every_record() {
    use exsweep_core::read::FileObs;
    use exsweep_core::read::events::{EvtxAnchors, read_evtx};
    let mut w = EvtxWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
    let mut planted = Vec::new();
    for i in 0..900u64 {
        let mut ev = um_event(i, i == 450 || i == 899);
        if i >= 600 {
            ev.time_ms += 5 * 86_400_000; // a five-day hole in the log
        }
        if i == 899 {
            // `-like` is case-insensitive: so is the chunk prefilter.
            ev.data = EventData::Unnamed(vec!["UMWorkerProcess".into(), "system.INVALIDCASTexception: x".into()]);
        }
        let id = w.write(&ev).unwrap();
        if i == 450 || i == 899 {
            planted.push(id);
        }
    }
    assert!(w.chunk_count() >= 6);
    let bytes = w.finish().unwrap().into_inner();
    let read = |anchors: Option<&EvtxAnchors>| {
        let mut obs = FileObs::new("EVTX");
        let mut hits = Vec::new();
        let mut seen = 0u64;
        read_evtx(&mut std::io::Cursor::new(&bytes), anchors, &mut obs, &mut |rec, _| {
            seen += 1;
            let ev = rec.event().unwrap();
            if ev.data.iter().any(|(_, v)| v.to_ascii_lowercase().contains("invalidcastexception")) {
                hits.push(rec.record_id.unwrap());
            }
        })
        .unwrap();
        (obs.records, obs.time.first(), obs.time.last(), obs.time.gaps(), obs.channels.clone(), hits, seen)
    };
    let anchors = EvtxAnchors::new(&["InvalidCastException"]).unwrap();
    let full = read(None);
    let fast = read(Some(&anchors));
    assert_eq!(full.0, 900);
    assert_eq!(full.3.len(), 1, "the five-day hole is a gap");
    assert_eq!(full.5, planted);
    assert_eq!(
        (&fast.0, &fast.1, &fast.2, &fast.3, &fast.4, &fast.5),
        (&full.0, &full.1, &full.2, &full.3, &full.4, &full.5)
    );
    assert!(fast.6 < full.6 / 2, "most chunks were not rendered ({} of {} records)", fast.6, full.6);
}
