//! The Sigma benchmark's event mix: the requested number of events, one channel per file, every
//! kind of the mix present, and files the evtx crate reads in full.

use exsweep_fixtures::winevents::{MixSpec, write_mix};
use std::collections::BTreeMap;

#[test]
fn mix_has_every_kind_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let spec = MixSpec { events: 6_000, files: 6, ..MixSpec::default() };
    let stats = write_mix(dir.path(), &spec).unwrap();
    assert_eq!(stats.files.len(), 6);
    let mut kinds: BTreeMap<(String, u64), u64> = BTreeMap::new();
    let mut total = 0;
    for f in &stats.files {
        let mut p = evtx::EvtxParser::from_path(f).unwrap();
        let mut channels = std::collections::BTreeSet::new();
        for r in p.records_json_value() {
            let r = r.unwrap();
            let sys = &r.data["Event"]["System"];
            let channel = sys["Channel"].as_str().unwrap().to_string();
            let id = sys["EventID"].as_u64().or_else(|| sys["EventID"]["#text"].as_u64()).unwrap();
            channels.insert(channel.clone());
            *kinds.entry((channel, id)).or_default() += 1;
            total += 1;
        }
        assert_eq!(channels.len(), 1, "{}: one channel per file", f.display());
    }
    assert_eq!(total, stats.events);
    assert!((5_900..=6_100).contains(&total), "{total} events");
    for (channel, id) in [
        ("Microsoft-Windows-Sysmon/Operational", 1),
        ("Microsoft-Windows-Sysmon/Operational", 3),
        ("Microsoft-Windows-Sysmon/Operational", 7),
        ("Microsoft-Windows-Sysmon/Operational", 11),
        ("Microsoft-Windows-Sysmon/Operational", 13),
        ("Security", 4624),
        ("Security", 4688),
        ("Security", 4663),
        ("Microsoft-Windows-PowerShell/Operational", 4104),
    ] {
        assert!(kinds.get(&(channel.to_string(), id)).is_some_and(|&n| n > 50), "{channel} {id}: {kinds:?}");
    }
}
