//! The delimited reader's bulk path (runs of lines without any literal are counted, not split)
//! must give exactly what the line-by-line path gives: the same records at the same lines, the
//! same line count, times and problems. Checked on every log of a generated server and on
//! hand-made files with the cases that force the line-by-line path.

use exsweep_core::model::ArtifactKind;
use exsweep_core::read::delimited::{Dialect, read};
use exsweep_core::read::prefilter::CiLiterals;
use exsweep_core::read::{FieldGate, FileObs, Gate, ReadOptions, default_header};
use exsweep_fixtures::generator::{Server, ServerSpec};
use exsweep_fixtures::layout::{Layout, write_tree};
use std::path::Path;

/// What one read of a file gives.
#[derive(Debug, PartialEq)]
struct Outcome {
    records: Vec<(Option<u64>, String)>,
    lines: u64,
    first: Option<i64>,
    last: Option<i64>,
    gaps: usize,
    reasons: Vec<String>,
}

struct Plan {
    literals: CiLiterals,
    fields: Vec<FieldGate>,
    bulk: CiLiterals,
}

fn plan(kind: ArtifactKind) -> Plan {
    // The shipped detector set: the Rust checks and the embedded Sigma rules' anchors.
    let detectors = exsweep_sigma::builtin::detectors();
    let mine: Vec<_> = detectors.iter().filter(|d| d.kinds().contains(&kind)).collect();
    let lits: Vec<&str> = mine.iter().flat_map(|d| d.anchors_for(kind)).collect();
    let fields: Vec<FieldGate> = mine.iter().filter_map(|d| d.field_gate()).collect();
    let mut all = lits.clone();
    all.extend(fields.iter().flat_map(|g| g.literals.iter().copied()));
    Plan { literals: CiLiterals::new(&lits), bulk: CiLiterals::new(&all), fields }
}

fn run(bytes: &[u8], dialect: Dialect, kind: ArtifactKind, p: &Plan, bulk: bool, max_line: usize) -> Outcome {
    let gate = Gate {
        all: false,
        literals: Some(&p.literals),
        fields: &p.fields,
        bulk: if bulk { Some(&p.bulk) } else { None },
    };
    let opts = ReadOptions { max_line, ..ReadOptions::default() };
    let mut obs = FileObs::new("log");
    let mut records = Vec::new();
    let default = default_header(kind);
    let mut input: &[u8] = bytes;
    read(&mut input, dialect, default.as_ref(), false, &gate, &opts, &mut obs, &mut |rec, _| {
        records.push((rec.line, rec.raw.to_string()));
    })
    .unwrap();
    Outcome {
        records,
        lines: obs.lines,
        first: obs.time.first().map(|t| t.0),
        last: obs.time.last().map(|t| t.0),
        gaps: obs.time.gaps().len(),
        reasons: obs.reasons(),
    }
}

fn assert_same(bytes: &[u8], dialect: Dialect, kind: ArtifactKind, p: &Plan, max_line: usize, what: &str) -> Outcome {
    let slow = run(bytes, dialect, kind, p, false, max_line);
    let fast = run(bytes, dialect, kind, p, true, max_line);
    assert_eq!(fast, slow, "{what}: bulk and line-by-line paths disagree");
    fast
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn every_generated_log_reads_the_same_both_ways() {
    let server = Server::new(ServerSpec { scale: 0.3, ..ServerSpec::default() });
    let dir = tempfile::tempdir().unwrap();
    write_tree(&server, Layout::Drive, dir.path()).unwrap();
    let mut files = Vec::new();
    walk(dir.path(), &mut files);
    files.sort();
    let plans = [
        (ArtifactKind::Httpproxy, Dialect::ExchangeCsv, "/httpproxy/", plan(ArtifactKind::Httpproxy)),
        (ArtifactKind::EcpServer, Dialect::ExchangeCsv, "/ecp/server/", plan(ArtifactKind::EcpServer)),
        (ArtifactKind::IisW3c, Dialect::W3c, "/w3svc", plan(ArtifactKind::IisW3c)),
    ];
    let mut checked = [0usize; 3];
    let mut records = 0;
    for f in &files {
        let lower = f.to_string_lossy().to_ascii_lowercase();
        for (i, (kind, dialect, marker, p)) in plans.iter().enumerate() {
            if lower.contains(marker) && lower.ends_with(".log") {
                let bytes = std::fs::read(f).unwrap();
                let o = assert_same(&bytes, *dialect, *kind, p, 1 << 20, &lower);
                assert!(o.lines > 0, "{lower}: no lines");
                records += o.records.len();
                checked[i] += 1;
            }
        }
    }
    assert!(checked.iter().all(|&n| n > 0), "files checked per kind: {checked:?}");
    assert!(records > 100, "only {records} records emitted");
}

const IIS_HEAD: &str = "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2021-03-03 00:00:00\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n";

fn iis_line(h: u32, m: u32, stem: &str, ua: &str) -> String {
    format!("2021-03-03 {h:02}:{m:02}:01 10.0.0.5 POST {stem} - 443 - 203.0.113.9 {ua} - 200 0 0 15\r\n")
}

#[test]
fn edge_cases_read_the_same_both_ways() {
    let p = plan(ArtifactKind::IisW3c);
    let benign = "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)";
    let mut text = String::from(IIS_HEAD);
    for m in 0..50 {
        text += &iis_line(1, m, "/owa/service.svc", benign);
    }
    text += &iis_line(2, 0, "/ecp/y.js", benign); // field gate hit
    text += &iis_line(2, 1, "/owa/service.svc", "python-requests/2.25.1"); // literal hit
    text += &iis_line(2, 2, "/aspnet_client/shell.aspx", benign);
    text += "\r\n"; // blank line
    for m in 3..40 {
        text += &iis_line(2, m, "/ews/exchange.asmx", benign);
    }
    // A header change in the middle of the file, with columns in another order.
    text += "#Fields: time date cs-uri-stem s-ip cs-method cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n";
    text += "03:00:00 2021-03-03 /owa/auth/x.js 10.0.0.5 GET - 443 - 203.0.113.9 curl/7.1 - 200 0 0 1\r\n";
    text += &IIS_HEAD[IIS_HEAD.find("#Fields").unwrap()..];
    // Two days later: a gap the inventory must report.
    for m in 0..20 {
        text += &format!("2021-03-05 04:{m:02}:00 10.0.0.5 GET /owa/ - 443 - 203.0.113.9 {benign} - 200 0 0 15\r\n");
    }
    text += &format!("2021-03-05 05:00:00 10.0.0.5 GET /owa/{} - 443 - 1.2.3.4 - - 200 0 0 1\r\n", "a".repeat(5000));
    text += &format!(
        "2021-03-05 05:01:01 10.0.0.5 GET /rpc/ &CorrelationID=<empty>;&RequestId=7 443 - 203.0.113.9 {benign} - 200 0 0 15\r\n"
    );
    text += "2021-03-05 05:02:00 10.0.0.5 GET /owa/ - 443 - 203.0.113.9 Slurp - 200 0 0 1"; // unterminated
    let o = assert_same(text.as_bytes(), Dialect::W3c, ArtifactKind::IisW3c, &p, 4096, "hand-made IIS");
    let lines: Vec<u64> = o.records.iter().filter_map(|r| r.0).collect();
    // The first line after each header, the hits, and the unterminated last line (a crawler).
    for want in [5, 55, 56, 57, 97, 99, 120, 121] {
        assert!(lines.contains(&want), "line {want} not emitted: {lines:?}");
    }
    assert_eq!(o.gaps, 1, "the two-day hole is a gap");
    assert!(o.reasons.iter().any(|r| r.contains("long")), "{:?}", o.reasons);
    assert!(o.reasons.iter().any(|r| r.contains("line break")), "{:?}", o.reasons);

    // HttpProxy with quoted values and a LF-only blank line.
    let p = plan(ArtifactKind::Httpproxy);
    let head = "#Software: Microsoft Exchange Server\n#Version: 15.01.2176.002\n#Log-type: HttpProxy Logs\n#Date: 2021-03-03T00:00:00.000Z\n#Fields: DateTime,RequestId,UrlStem,ServerHostName,UserAgent,AnchorMailbox\n";
    let mut csv = String::from(head);
    for i in 0..200 {
        csv += &format!(
            "2021-03-03T06:{:02}:{:02}.000Z,{i},/owa/service.svc,EX01,\"Mozilla/5.0 (KHTML, like Gecko)\",\n",
            i / 60,
            i % 60
        );
        if i == 120 {
            csv += "\n";
            csv += "2021-03-03T06:02:00.100Z,x,/ecp/y.js,EX01,x,ServerInfo~a]@ex01.contoso.local:444/ecp/proxyLogon.ecp#~1941997017\n";
        }
    }
    let o =
        assert_same(csv.as_bytes(), Dialect::ExchangeCsv, ArtifactKind::Httpproxy, &p, 1 << 20, "hand-made HttpProxy");
    assert_eq!(o.lines, 201);
    assert!(o.records.iter().any(|r| r.1.contains("ServerInfo~") && r.0 == Some(128)), "{:?}", o.records);
}

/// The scan's speed on text logs rests on the packed (Teddy) form of the block prefilter: the
/// shipped detector set, Rust checks and embedded Sigma rules together, must keep it for every
/// text log.
#[test]
fn shipped_detectors_keep_the_block_prefilter_packed() {
    for kind in [ArtifactKind::IisW3c, ArtifactKind::Httpproxy, ArtifactKind::EcpServer, ArtifactKind::OabGenerator] {
        let p = plan(kind);
        let detectors = exsweep_sigma::builtin::detectors();
        let lits: Vec<String> = detectors
            .iter()
            .filter(|d| d.kinds().contains(&kind))
            .flat_map(|d| d.anchors_for(kind).into_iter().map(String::from).collect::<Vec<_>>())
            .collect();
        assert!(p.bulk.is_packed(), "{kind:?}: block prefilter not packed ({} literals: {lits:?})", lits.len());
    }
}
