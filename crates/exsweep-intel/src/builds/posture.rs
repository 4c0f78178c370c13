//! What a scan's log headers say about patching: the CVE groups the build in use leaves open
//! (`vulnerability` findings), when an update closed one ("patched between A and B", learned from
//! the first log a fixed build wrote), and whether each exploitation finding happened before or
//! after that point.

use super::rules::{Status, assess};
use super::version::Build;
use exsweep_core::correlate::{BuildSpan, HostSummary, sort_findings};
use exsweep_core::model::{ArtifactKind, Category, Finding, RuleMeta, Severity};
use exsweep_core::time::Timestamp;
use serde_json::json;
use std::collections::BTreeMap;

pub static RULE_VULN_OPEN: RuleMeta = RuleMeta {
    id: "EXS-VULN-OPEN",
    title: "The Exchange build in use leaves CVEs open",
    severity: Severity::High,
    category: Category::Vulnerability,
    cves: &[],
    actors: &[],
    attack: &["T1190"],
};

pub static RULE_VULN_UNCERTAIN: RuleMeta = RuleMeta {
    id: "EXS-VULN-UNCERTAIN",
    title: "Whether the Exchange build in use fixes these CVEs cannot be told",
    severity: Severity::Medium,
    category: Category::Vulnerability,
    cves: &[],
    actors: &[],
    attack: &["T1190"],
};

pub static RULE_VULN_PATCHED: RuleMeta = RuleMeta {
    id: "EXS-VULN-PATCHED",
    title: "An update closed these CVEs while the logs were written",
    severity: Severity::Info,
    category: Category::Vulnerability,
    cves: &[],
    actors: &[],
    attack: &[],
};

/// When a CVE group was closed on a host: between the last log the last open build started and
/// the first record of the first fixed build after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchPoint {
    pub group: &'static str,
    pub name: &'static str,
    pub cves: Vec<String>,
    pub open_build: String,
    pub fixed_build: String,
    pub open_until: Option<Timestamp>,
    pub fixed_from: Option<Timestamp>,
}

/// The build in use and where it was learned.
struct InUse {
    build: Build,
    path: String,
    source: usize,
    time: Option<Timestamp>,
    evidence: String,
}

/// Per CVE group, the statuses of each build of the history (in order).
fn group_statuses(history: &[(Build, &BuildSpan)]) -> BTreeMap<&'static str, (&'static str, Vec<String>, Vec<Status>)> {
    let mut out: BTreeMap<&'static str, (&'static str, Vec<String>, Vec<Status>)> = BTreeMap::new();
    for (i, (b, _)) in history.iter().enumerate() {
        let Some(a) = assess(b) else { continue };
        for v in &a.cves {
            let e = out.entry(v.group).or_insert_with(|| (v.name, Vec::new(), vec![Status::Fixed; history.len()]));
            if !e.1.contains(&v.cve) {
                e.1.push(v.cve.clone());
            }
            e.2[i] = e.2[i].min(v.status);
        }
    }
    out
}

/// The builds of a host's history that parse, in order.
fn parsed(host: &HostSummary) -> Vec<(Build, &BuildSpan)> {
    host.build_history.iter().filter_map(|s| Build::parse(&s.build).map(|b| (b, s))).collect()
}

/// The patch points of a host: each group open on one build and fixed on a later one.
pub fn patch_points(host: &HostSummary) -> Vec<PatchPoint> {
    let history = parsed(host);
    let mut out = Vec::new();
    for (group, (name, cves, statuses)) in group_statuses(&history) {
        for i in 1..statuses.len() {
            if statuses[i] == Status::Fixed && statuses[i - 1] != Status::Fixed {
                out.push(PatchPoint {
                    group,
                    name,
                    cves: cves.clone(),
                    open_build: history[i - 1].0.to_string(),
                    fixed_build: history[i].0.to_string(),
                    open_until: history[i - 1].1.last_start,
                    fixed_from: history[i].1.first,
                });
            }
        }
    }
    out
}

/// Adds the vulnerability findings of every host to `findings`, marks each activity finding
/// about a CVE with the patch state at its time (`extra.patch`), and sorts the findings again.
pub fn annotate(findings: &mut Vec<Finding>, hosts: &[HostSummary]) {
    for host in hosts {
        let history = parsed(host);
        // The build in use: the installed one (ExSetup.exe, a registry export: the state at
        // collection time), else the one of the log with the latest record.
        let installed =
            findings.iter().filter(|f| f.host == host.host && f.rule_id == "EXS-BUILD-INSTALLED").find_map(|f| {
                let b = Build::parse(f.extra.get("build")?.as_str()?)?;
                Some(InUse {
                    build: b,
                    path: f.path.clone(),
                    source: f.source,
                    time: f.time,
                    evidence: f.evidence.clone(),
                })
            });
        let from_logs = history.iter().max_by_key(|(b, s)| (s.last, *b)).map(|&(b, s)| InUse {
            build: b,
            path: s.example_path.clone(),
            source: s.example_source,
            time: s.last,
            evidence: format!(
                "#Version: {} in {} ({} files{})",
                s.build,
                s.example_path,
                s.files,
                match (s.first, s.last) {
                    (Some(x), Some(y)) => format!(", records {x} to {y}"),
                    _ => String::new(),
                }
            ),
        });
        let Some(in_use) = installed.or(from_logs) else { continue };
        let current = in_use.build;
        let Some(a) = assess(&current) else { continue };
        let product = match a.known_as.first() {
            Some(r) => r.name(),
            None => a.product.name().to_string(),
        };
        // Groups in the rules' order (ProxyLogon first).
        let mut groups: Vec<(&'static str, Vec<&super::rules::CveVerdict>)> = Vec::new();
        for v in a.not_fixed() {
            match groups.iter_mut().find(|(g, _)| *g == v.group) {
                Some((_, vs)) => vs.push(v),
                None => groups.push((v.group, vec![v])),
            }
        }
        // Rewrite rules found on disk: the group stays open by build, and is mitigated.
        let mitigation = |group: &str| -> Option<String> {
            let rule = match group {
                "proxylogon" => "EXS-MITIGATION-EOMT",
                "proxynotshell" => "EXS-MITIGATION-EOMTV2",
                _ => return None,
            };
            findings.iter().find(|f| f.host == host.host && f.rule_id == rule).map(|f| f.path.clone())
        };
        let mut new = Vec::new();
        for (_, vs) in &groups {
            let worst = vs.iter().map(|v| v.status).min().unwrap_or(Status::Uncertain);
            let rule = if worst == Status::Open { &RULE_VULN_OPEN } else { &RULE_VULN_UNCERTAIN };
            let cves: Vec<String> = vs.iter().map(|v| v.cve.clone()).collect();
            // The update that closes every CVE of the group: the latest one named.
            let closes = vs.iter().filter_map(|v| v.closes.as_ref()).max_by_key(|u| (u.build, u.needs_cu_upgrade));
            let fix = match closes {
                Some(u) if u.needs_cu_upgrade => {
                    format!("; no update for this CU: upgrade to {} ({})", u.name, u.build)
                }
                Some(u) => format!(
                    "; fixed by {} ({}{})",
                    u.name,
                    u.build,
                    if u.kb.is_empty() { String::new() } else { format!(", {}", u.kb) }
                ),
                None => String::new(),
            };
            let verb = if worst == Status::Open { "leaves open" } else { "may leave open" };
            let kind = if in_use.path.to_ascii_lowercase().ends_with(".log") {
                ArtifactKind::ExchangeLog
            } else {
                ArtifactKind::File
            };
            let mut f = Finding::new(rule, kind, &in_use.path)
                .titled(format!("{product} ({current}) {verb} {}: {}{fix}", vs[0].name, cves.join(", ")))
                .with_evidence(&in_use.evidence)
                .with_extra("build", current.to_string())
                .with_extra("group", vs[0].group)
                .with_extra("reasons", vs.iter().map(|v| format!("{}: {}", v.cve, v.reason)).collect::<Vec<_>>());
            if let Some(u) = closes {
                f = f.with_extra("closes", u.to_json());
            }
            if let Some(path) = mitigation(vs[0].group) {
                f.title.push_str(&format!(" (mitigated, not patched: rewrite rule in {path})"));
                f = f.with_extra("mitigated_by", path);
            }
            f.cves = cves;
            f.time = in_use.time;
            f.host = host.host.clone();
            f.source = in_use.source;
            f.assign_id();
            new.push(f);
        }
        findings.extend(new);
        let points = patch_points(host);
        for p in &points {
            let window = |t: Option<Timestamp>| t.map_or("?".to_string(), |t| t.to_string());
            let mut f = Finding::new(&RULE_VULN_PATCHED, ArtifactKind::ExchangeLog, &in_use.path)
                .titled(format!(
                    "{} closed between {} and {}: the logs go from {} to {}",
                    p.name,
                    window(p.open_until),
                    window(p.fixed_from),
                    p.open_build,
                    p.fixed_build
                ))
                .with_evidence(&format!("{} open on {}, fixed on {}", p.cves.join(", "), p.open_build, p.fixed_build))
                .with_extra("group", p.group)
                .with_extra("patched_between", vec![window(p.open_until), window(p.fixed_from)]);
            if let Some(s) = history.iter().find(|(b, _)| b.to_string() == p.fixed_build) {
                f.path = s.1.example_path.clone();
                f.source = s.1.example_source;
            }
            f.cves = p.cves.clone();
            f.time = p.fixed_from;
            f.host = host.host.clone();
            f.assign_id();
            findings.push(f);
        }
        // Each activity finding about a CVE: before or after the update that closed it, or on a
        // build that never got it.
        let open_now: Vec<&str> = a.not_fixed().map(|v| v.cve.as_str()).collect();
        for f in findings.iter_mut().filter(|f| f.host == host.host && f.category.is_activity() && !f.cves.is_empty()) {
            let Some(t) = f.time else { continue };
            let state = match points.iter().find(|p| f.cves.iter().any(|c| p.cves.contains(c))) {
                Some(p) => {
                    let state = if p.open_until.is_some_and(|u| t <= u) {
                        "before_patch"
                    } else if p.fixed_from.is_some_and(|s| t >= s) {
                        "after_patch"
                    } else {
                        "in_patch_window"
                    };
                    json!({"state": state, "group": p.group, "patched_between": [p.open_until.map(|x| x.to_string()), p.fixed_from.map(|x| x.to_string())]})
                }
                None if f.cves.iter().any(|c| open_now.contains(&c.as_str())) => {
                    json!({"state": "unpatched", "build": current.to_string()})
                }
                None => continue,
            };
            f.extra.insert("patch".into(), state);
        }
    }
    sort_findings(findings);
}
