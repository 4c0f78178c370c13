//! Helpers shared by the generator tests: generating small servers, walking trees and zips,
//! mapping source paths back to Windows paths, and scanning a tree with the reference oracle.

#![allow(dead_code)]

use exsweep_fixtures::generator::{Server, ServerSpec, oracle};
use exsweep_fixtures::layout::{Layout, write_tree};
use exsweep_fixtures::truth::GroundTruth;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A small compromised server: 0.05 scale keeps debug-build tests quick.
pub fn small_spec() -> ServerSpec {
    ServerSpec { scale: 0.05, ..ServerSpec::default() }
}

pub fn generate(spec: ServerSpec, layout: Layout) -> (tempfile::TempDir, GroundTruth) {
    let dir = tempfile::tempdir().expect("tempdir");
    let truth = write_tree(&Server::new(spec), layout, dir.path()).expect("write_tree");
    (dir, truth)
}

/// Every file under `root`, as (`/`-separated relative path, full path), sorted.
pub fn walk(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir") {
            let e = e.expect("entry");
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).expect("prefix").to_string_lossy().replace('\\', "/");
                out.push((rel, p));
            }
        }
    }
    out.sort();
    out
}

/// Lines of a CRLF text file (without the line ends).
pub fn lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(text.is_empty() || text.ends_with("\r\n"), "{} does not end with CRLF", path.display());
    let mut v: Vec<String> = text.split("\r\n").map(str::to_string).collect();
    v.pop();
    assert!(v.iter().all(|l| !l.contains('\n') && !l.contains('\r')), "{}: bare line break", path.display());
    v
}

/// Decodes `%XX` escapes.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 3 <= b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

/// The Windows path a source path stands for, or `None` for a collection's own files.
/// (Drive layout: everything is taken to be on C:.)
pub fn logical(layout: Layout, rel: &str) -> Option<String> {
    let parts: Vec<&str> = rel.split('/').collect();
    let (drive, rest): (String, Vec<String>) = match layout {
        Layout::Drive => ("C".into(), parts.iter().map(|s| s.to_string()).collect()),
        Layout::Kape => (parts[0].to_string(), parts[1..].iter().map(|s| s.to_string()).collect()),
        Layout::Velociraptor | Layout::VelociraptorNtfs => {
            if parts.len() < 4 || parts[0] != "uploads" {
                return None;
            }
            let dev = percent_decode(parts[2]);
            let letter = dev.trim_start_matches("\\\\.\\").trim_end_matches(':').to_string();
            (letter, parts[3..].iter().map(|s| percent_decode(s)).collect())
        }
    };
    Some(format!("{drive}:\\{}", rest.join("\\")))
}

/// Key of a finding: (rule, path, line, record).
pub type Key = (String, String, Option<u64>, Option<u64>);

/// The truth's indicators as keys.
pub fn truth_keys(t: &GroundTruth) -> BTreeSet<Key> {
    t.indicators.iter().map(|p| (p.rule_id.clone(), p.path.clone(), p.line, p.record)).collect()
}

/// Column index by name from a `#Fields:` line.
pub fn field_index(fields_line: &str, sep: char) -> BTreeMap<String, usize> {
    fields_line.trim_start_matches("#Fields: ").split(sep).enumerate().map(|(i, f)| (f.to_string(), i)).collect()
}

/// Parses one CSV record with the `csv` crate.
pub fn csv_record(line: &str) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(line.as_bytes());
    let rec = r.records().next().expect("one record").expect("valid CSV");
    rec.iter().map(str::to_string).collect()
}

/// All string leaves of a JSON value.
pub fn json_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| json_strings(x, out)),
        other => out.push(other.to_string()),
    }
}

/// One event read back with the `evtx` crate.
#[derive(Debug, Clone)]
pub struct Event {
    pub record: u64,
    pub provider: String,
    pub level: u64,
    pub event_id: u64,
    pub data: Vec<String>,
    pub time: String,
}

pub fn read_evtx(path: &Path) -> Vec<Event> {
    let mut parser = evtx::EvtxParser::from_path(path).expect("EVTX opens");
    let mut out = Vec::new();
    for rec in parser.records_json_value() {
        let rec = rec.expect("record parses");
        let sys = &rec.data["Event"]["System"];
        let provider = sys["Provider"]["#attributes"]["Name"].as_str().unwrap_or("").to_string();
        let level = sys["Level"].as_u64().unwrap_or(99);
        let event_id = sys["EventID"].as_u64().or_else(|| sys["EventID"]["#text"].as_u64()).unwrap_or(0);
        let time = sys["TimeCreated"]["#attributes"]["SystemTime"].as_str().unwrap_or("").to_string();
        let mut data = Vec::new();
        json_strings(&rec.data["Event"]["EventData"], &mut data);
        out.push(Event { record: rec.event_record_id, provider, level, event_id, data, time });
    }
    out
}

/// Runs the reference oracle over every line, record and file of a generated tree and returns
/// what fires. `ex` is the Exchange install path.
pub fn oracle_scan(root: &Path, layout: Layout, ex: &str) -> BTreeSet<Key> {
    let mut hits = BTreeSet::new();
    for (rel, full) in walk(root) {
        let lower = rel.to_ascii_lowercase();
        let Some(win) = logical(layout, &rel) else { continue };
        for rule in oracle::file(&win) {
            hits.insert((rule.to_string(), rel.clone(), None, None));
        }
        if lower.contains("/logging/httpproxy/") {
            let folder = rel.rsplit('/').nth(1).expect("folder").to_string();
            let ls = lines(&full);
            let idx = field_index(&ls[4], ',');
            for (n, l) in ls.iter().enumerate().skip(5) {
                let v = csv_record(l);
                for rule in oracle::httpproxy(
                    &folder,
                    &v[idx["AnchorMailbox"]],
                    &v[idx["HttpStatus"]],
                    &v[idx["BackEndCookie"]],
                ) {
                    hits.insert((rule.to_string(), rel.clone(), Some(n as u64 + 1), None));
                }
            }
        } else if lower.contains("/logging/ecp/server/") {
            for (n, l) in lines(&full).iter().enumerate().filter(|(_, l)| !l.starts_with('#')) {
                for rule in oracle::ecp_line(l) {
                    hits.insert((rule.to_string(), rel.clone(), Some(n as u64 + 1), None));
                }
            }
        } else if lower.contains("/logging/oabgeneratorlog/") {
            for (n, l) in lines(&full).iter().enumerate().filter(|(_, l)| !l.starts_with('#')) {
                for rule in oracle::oab_line(l, ex) {
                    hits.insert((rule.to_string(), rel.clone(), Some(n as u64 + 1), None));
                }
            }
        } else if lower.contains("/logfiles/w3svc") {
            let mut idx = BTreeMap::new();
            for (n, l) in lines(&full).iter().enumerate() {
                if let Some(f) = l.strip_prefix("#Fields: ") {
                    idx = field_index(f, ' ');
                    continue;
                }
                if l.starts_with('#') {
                    continue;
                }
                let v: Vec<&str> = l.split(' ').collect();
                let status: u16 = v[idx["sc-status"]].parse().expect("status");
                for rule in oracle::iis(
                    v[idx["cs-method"]],
                    v[idx["cs-uri-stem"]],
                    v[idx["cs-uri-query"]],
                    v[idx["cs(User-Agent)"]],
                    status,
                ) {
                    hits.insert((rule.to_string(), rel.clone(), Some(n as u64 + 1), None));
                }
            }
        } else if lower.ends_with("/application.evtx") {
            for e in read_evtx(&full) {
                for rule in oracle::app_event(&e.provider, e.level as u8, &e.data.join(" ")) {
                    hits.insert((rule.to_string(), rel.clone(), None, Some(e.record)));
                }
            }
        }
    }
    hits
}

/// Reads line `n` (1-based) of a text file.
pub fn line_at(root: &Path, rel: &str, n: u64) -> String {
    let ls = lines(&root.join(rel));
    ls.get(n as usize - 1).unwrap_or_else(|| panic!("{rel} has no line {n}")).clone()
}
