//! Findings on stdout: JSON lines, a JSON array, CSV (schema columns, arrays joined with `;`,
//! `extra` as a JSON object), or a text listing for people.

use exsweep_core::model::Finding;
use std::io::{self, Write};

/// Output formats for findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Jsonl,
    Json,
    Csv,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Some(Format::Text),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// The CSV columns, in schema order.
pub const CSV_COLUMNS: [&str; 18] = [
    "id",
    "host",
    "time",
    "severity",
    "category",
    "title",
    "rule_id",
    "rule_source",
    "cves",
    "actors",
    "attack",
    "artifact_kind",
    "path",
    "line",
    "record",
    "evidence",
    "sha256",
    "extra",
];

pub fn write(w: &mut dyn Write, format: Format, findings: &[Finding]) -> io::Result<()> {
    match format {
        Format::Jsonl => {
            for f in findings {
                serde_json::to_writer(&mut *w, f)?;
                w.write_all(b"\n")?;
            }
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, findings)?;
            w.write_all(b"\n")?;
        }
        Format::Csv => write_csv(w, findings)?,
        Format::Text => write_text(w, findings)?,
    }
    w.flush()
}

fn write_csv(w: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record(CSV_COLUMNS)?;
    for f in findings {
        let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
        c.write_record([
            f.id.clone(),
            f.host.clone(),
            f.time.map(|t| t.to_string()).unwrap_or_default(),
            f.severity.to_string(),
            f.category.as_str().to_string(),
            f.title.clone(),
            f.rule_id.clone(),
            f.rule_source.clone(),
            f.cves.join(";"),
            f.actors.join(";"),
            f.attack.join(";"),
            f.artifact_kind.as_str().to_string(),
            f.path.clone(),
            opt(f.line),
            opt(f.record),
            f.evidence.clone(),
            f.sha256.clone().unwrap_or_default(),
            if f.extra.is_empty() { String::new() } else { serde_json::Value::Object(f.extra.clone()).to_string() },
        ])?;
    }
    c.flush()
}

fn write_text(w: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        let at = match (f.line, f.record) {
            (Some(l), _) => format!("{}:{}", f.path, l),
            (None, Some(r)) => format!("{} record {}", f.path, r),
            _ if f.path.is_empty() => String::new(),
            _ => f.path.clone(),
        };
        writeln!(
            w,
            "[{:<8}] {} {} {}",
            f.severity.as_str().to_uppercase(),
            f.time.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
            f.host,
            f.title
        )?;
        writeln!(
            w,
            "           rule {}{}",
            f.rule_id,
            if f.cves.is_empty() { String::new() } else { format!("  {}", f.cves.join(" ")) }
        )?;
        if !at.is_empty() {
            writeln!(w, "           at {at}")?;
        }
        if !f.evidence.is_empty() {
            let ev = exsweep_core::model::truncate(&f.evidence, 300);
            writeln!(w, "           evidence {}{}", ev, if ev.len() < f.evidence.len() { " …" } else { "" })?;
        }
    }
    Ok(())
}
