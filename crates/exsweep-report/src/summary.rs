//! The human summary (stderr): per host, the verdict, the builds in use over time and the CVEs
//! they leave open, counts per severity and per CVE, first and last malicious activity, and the
//! log coverage with what it cannot rule out.

use exsweep_core::ScanReport;
use exsweep_core::correlate::Verdict;
use exsweep_core::model::{Category, Severity};
use std::io::{self, Write};

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

pub fn write(w: &mut dyn Write, report: &ScanReport) -> io::Result<()> {
    let s = &report.stats;
    let secs = s.elapsed.as_secs_f64();
    writeln!(
        w,
        "exsweep {} — {} source(s), {} host(s); {} files listed, {} read ({}) in {:.2} s ({}/s)",
        env!("CARGO_PKG_VERSION"),
        report.sources.len(),
        report.hosts.len(),
        s.files_listed,
        s.files_read,
        human_bytes(s.bytes_read),
        secs,
        human_bytes((s.bytes_read as f64 / secs.max(1e-6)) as u64),
    )?;
    for h in &report.hosts {
        writeln!(w)?;
        let marker = match h.verdict {
            Verdict::Compromised => "!!",
            Verdict::ExploitationAttempted => "! ",
            Verdict::CannotTell => "? ",
            Verdict::NoEvidence => "  ",
        };
        writeln!(w, "{marker} Host {}: {}", h.host, h.verdict.label())?;
        writeln!(w, "   sources: {}", h.sources.join(", "))?;
        if h.exchange_installs.is_empty() {
            writeln!(w, "   Exchange install: not found")?;
        } else {
            writeln!(w, "   Exchange install: {}", h.exchange_installs.join(", "))?;
        }
        if !h.build_history.is_empty() {
            writeln!(w, "   builds in log headers, in the order they were in use:")?;
            for b in &h.build_history {
                let span = match (b.first, b.last) {
                    (Some(x), Some(y)) => format!("{x} to {y}"),
                    _ => "undated".into(),
                };
                writeln!(w, "     {:<16} {:>6} logs, {span}", b.build, b.files)?;
            }
        }
        let vulns: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.host == h.host && f.category == Category::Vulnerability)
            .map(|f| f.title.as_str())
            .collect();
        if !vulns.is_empty() {
            writeln!(w, "   vulnerability (from the build in the log headers):")?;
            for v in vulns {
                writeln!(w, "     - {v}")?;
            }
        }
        let counts: Vec<String> =
            Severity::ALL.iter().filter_map(|sev| h.severity_counts.get(sev).map(|n| format!("{n} {sev}"))).collect();
        writeln!(w, "   findings: {}", if counts.is_empty() { "none".into() } else { counts.join(", ") })?;
        if !h.cve_counts.is_empty() {
            let c: Vec<String> = h.cve_counts.iter().map(|(c, n)| format!("{c}: {n}")).collect();
            writeln!(w, "   per CVE: {}", c.join(", "))?;
        }
        if let (Some(a), Some(b)) = (h.first_activity, h.last_activity) {
            writeln!(w, "   malicious activity: first {a}, last {b}")?;
        }
        if !h.actors.is_empty() {
            writeln!(w, "   attribution (groups the indicators are published for):")?;
            for a in &h.actors {
                let span = match (a.first_seen, a.last_seen) {
                    (Some(x), Some(y)) => format!("first {x}, last {y}"),
                    _ => "undated".into(),
                };
                let only = if a.exclusive == a.evidence {
                    String::new()
                } else {
                    format!(" ({} shared with other groups)", a.evidence - a.exclusive)
                };
                writeln!(w, "     {:<24} {:>5} finding(s){only}; {span}", a.actor, a.evidence)?;
            }
            for s in &h.shared_attribution {
                writeln!(
                    w,
                    "     overlap: {} finding(s) attributed to {} at once, e.g. {}",
                    s.findings,
                    s.actors.join(" + "),
                    s.example
                )?;
            }
        }
        if h.files_swept > 0 {
            writeln!(w, "   files swept by content: {} ({})", h.files_swept, human_bytes(h.bytes_swept))?;
        }
        writeln!(w, "   log coverage:")?;
        writeln!(w, "     {:<26} {:>7} {:>10}  {:<24} {:<24} gaps>1d", "family", "files", "size", "first", "last")?;
        for (label, inv) in &h.inventory {
            writeln!(
                w,
                "     {:<26} {:>7} {:>10}  {:<24} {:<24} {}",
                label,
                inv.files,
                human_bytes(inv.bytes),
                inv.first.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
                inv.last.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
                inv.gaps.len()
            )?;
        }
        for m in &h.missing {
            writeln!(w, "     {m:<26} MISSING")?;
        }
        if !h.blind_spots.is_empty() {
            writeln!(w, "   cannot be ruled out:")?;
            for b in &h.blind_spots {
                writeln!(w, "     - {b}")?;
            }
        }
    }
    Ok(())
}
