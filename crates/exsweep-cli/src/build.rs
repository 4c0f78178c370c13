//! `exsweep build <BUILD>...`: the CVEs an Exchange build leaves open, fixed or uncertain, and the
//! update that closes each, from the embedded build table and CVE rules.

use crate::fail;
use clap::{Args, ValueEnum};
use exsweep_intel::builds::{self, Assessment, Status};
use serde_json::{Value, json};
use std::io::Write;

#[derive(Args, Clone, Debug)]
pub struct BuildArgs {
    /// Builds by number (15.2.792.10, 15.02.0792.010, "Version 15.2 (Build 792.10)", 15.1.2176)
    /// or by name ("Exchange 2019 CU8 Mar21SU").
    #[arg(required_unless_present = "every_known")]
    builds: Vec<String>,
    /// Assess every build of the embedded table instead.
    #[arg(long)]
    every_known: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: BuildFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BuildFormat {
    Text,
    Json,
}

/// Exit status: 0 when every CVE is fixed, 1 when one is open or uncertain, 2 on a build that
/// cannot be read (the others are still printed).
pub fn run(args: &BuildArgs) -> u8 {
    let mut assessments: Vec<(String, Assessment)> = Vec::new();
    let mut bad = false;
    if args.every_known {
        for row in builds::table::rows() {
            if let Some(a) = builds::assess(&row.build) {
                assessments.push((row.name(), a));
            }
        }
    }
    for input in &args.builds {
        match builds::resolve(input) {
            Ok(list) => {
                for b in list {
                    match builds::assess(&b) {
                        Some(a) => assessments.push((input.clone(), a)),
                        None => {
                            fail(format!("{input}: {b} is not an Exchange 2010–SE build"));
                            bad = true;
                        }
                    }
                }
            }
            Err(e) => {
                fail(e);
                bad = true;
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        BuildFormat::Json => {
            let list: Vec<Value> = assessments.iter().map(|(input, a)| to_json(input, a)).collect();
            let doc = if list.len() == 1 && !args.every_known { list[0].clone() } else { Value::Array(list) };
            writeln!(out, "{}", serde_json::to_string_pretty(&doc).unwrap_or_default())
        }
        BuildFormat::Text => assessments.iter().try_for_each(|(input, a)| write_text(&mut out, input, a)),
    };
    if let Err(e) = written {
        return fail(format!("cannot write: {e}"));
    }
    if bad {
        2
    } else if assessments.iter().any(|(_, a)| a.not_fixed().next().is_some()) {
        1
    } else {
        0
    }
}

fn counts(a: &Assessment) -> (usize, usize, usize) {
    let n = |s: Status| a.cves.iter().filter(|v| v.status == s).count();
    (n(Status::Open), n(Status::Uncertain), n(Status::Fixed))
}

fn to_json(input: &str, a: &Assessment) -> Value {
    let (open, uncertain, fixed) = counts(a);
    json!({
        "input": input,
        "build": a.build.to_string(),
        "build_padded": a.build.padded(),
        "product": a.product.name(),
        "cu": a.cu.map(|r| exsweep_intel::builds::table::cu_label(&r.label)),
        "known_as": a.known_as.iter().map(|r| json!({
            "name": r.name(), "released": r.released, "kb": r.kb, "sources": r.sources, "note": r.note,
        })).collect::<Vec<_>>(),
        "knowledge_version": builds::BUILDS_VERSION,
        "summary": { "open": open, "uncertain": uncertain, "fixed": fixed },
        "cves": a.cves.iter().map(|v| json!({
            "cve": v.cve,
            "group": v.group,
            "name": v.name,
            "verdict": v.status.as_str(),
            "reason": v.reason,
            "published": v.published,
            "sources": v.sources,
            "closes": v.closes.as_ref().map(|u| u.to_json()),
        })).collect::<Vec<_>>(),
    })
}

fn write_text(out: &mut dyn Write, input: &str, a: &Assessment) -> std::io::Result<()> {
    let name = match a.known_as.first() {
        Some(r) => {
            let kb = if r.kb.is_empty() { String::new() } else { format!(", {}", r.kb) };
            format!("{}, released {}{kb}", r.name(), r.released)
        }
        None => match (a.cu, a.build.revision) {
            (Some(cu), None) => format!(
                "{} {} (the update level is not known)",
                cu.product,
                exsweep_intel::builds::table::cu_label(&cu.label)
            ),
            (Some(cu), Some(_)) => format!(
                "a build of {} {} that the table does not list",
                cu.product,
                exsweep_intel::builds::table::cu_label(&cu.label)
            ),
            (None, _) => format!("{}, a CU the table does not list", a.product.name()),
        },
    };
    writeln!(out, "{input}: {} ({}) = {name}", a.build, a.build.padded())?;
    for other in a.known_as.iter().skip(1) {
        writeln!(out, "  also listed as {} ({})", other.name(), other.sources)?;
    }
    if let Some(note) = a.known_as.iter().map(|r| r.note.as_str()).find(|n| !n.is_empty()) {
        writeln!(out, "  note: {note}")?;
    }
    let (open, uncertain, fixed) = counts(a);
    writeln!(out, "  {open} open, {uncertain} uncertain, {fixed} fixed (knowledge {})", builds::BUILDS_VERSION)?;
    writeln!(out, "  {:<16} {:<28} {:<10} closes with", "CVE", "group", "verdict")?;
    for v in &a.cves {
        let closes = match &v.closes {
            Some(u) => {
                let when = [u.released.as_str(), u.kb.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ");
                let upgrade = if u.needs_cu_upgrade { "upgrade to " } else { "" };
                format!("{upgrade}{} ({}{}{when})", u.name, u.build, if when.is_empty() { "" } else { ", " })
            }
            None => String::new(),
        };
        writeln!(out, "  {:<16} {:<28} {:<10} {closes}", v.cve, v.name, v.status.as_str())?;
        if v.status == Status::Uncertain {
            writeln!(out, "  {:<16} {}", "", v.reason)?;
        }
    }
    writeln!(out)
}
