//! Correlation: turns per-file results into per-host answers. It names each host from its
//! artifacts, merges sources of the same host, builds the inventory and the coverage findings,
//! adjusts the severity of file findings to the rest of the evidence, and gives the verdict:
//! compromised, exploitation attempted, cannot tell, or no evidence.

use crate::detect::files::{RULE_ARCHIVE, RULE_LSASS_DUMP};
use crate::inventory::{Family, FamilyInventory, RULE_NO_EXCHANGE, coverage_findings};
use crate::model::{ArtifactKind, Category, Finding, Severity};
use crate::read::FileObs;
use crate::source::{Entry, Source, SourceLayout};
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// The answer for one host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Compromised,
    ExploitationAttempted,
    CannotTell,
    NoEvidence,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Compromised => "COMPROMISED",
            Verdict::ExploitationAttempted => "EXPLOITATION ATTEMPTED",
            Verdict::CannotTell => "CANNOT TELL (logs missing)",
            Verdict::NoEvidence => "NO EVIDENCE FOUND",
        }
    }
}

/// Everything learned from one source, before hosts are merged.
pub struct SourceResult {
    label: String,
    name: String,
    index: usize,
    exchange: Vec<String>,
    needs_exchange: bool,
    families: BTreeMap<Family, FamilyInventory>,
    hosts: BTreeMap<String, u64>,
    builds: BTreeMap<String, BuildSpan>,
    findings: Vec<Finding>,
    files_read: u64,
    bytes_read: u64,
    files_swept: u64,
    bytes_swept: u64,
}

impl SourceResult {
    pub fn new(src: &Source, layout: &SourceLayout, listing_findings: Vec<Finding>) -> SourceResult {
        SourceResult {
            label: src.label.clone(),
            name: src.name(),
            index: src.index,
            exchange: layout.exchange.iter().map(|x| x.display()).collect(),
            needs_exchange: layout.has_drive_root() && layout.exchange.is_empty(),
            families: BTreeMap::new(),
            hosts: BTreeMap::new(),
            builds: BTreeMap::new(),
            findings: listing_findings,
            files_read: 0,
            bytes_read: 0,
            files_swept: 0,
            bytes_swept: 0,
        }
    }

    /// Counts a file the file checks looked at.
    pub fn add_swept(&mut self, bytes: u64) {
        self.files_swept += 1;
        self.bytes_swept += bytes;
    }

    /// Room for this many more findings (one allocation instead of doubling copies).
    pub fn reserve(&mut self, n: usize) {
        self.findings.reserve_exact(n);
    }

    /// Findings that belong to the source but to no one file (correlations across files).
    pub fn add_findings(&mut self, findings: Vec<Finding>) {
        self.findings.extend(findings);
    }

    pub fn add_file(&mut self, entry: &Entry, family: Option<Family>, obs: Option<FileObs>, findings: Vec<Finding>) {
        self.findings.extend(findings);
        let Some(obs) = obs else { return };
        self.files_read += 1;
        self.bytes_read += obs.bytes;
        for (h, n) in &obs.hosts {
            *self.hosts.entry(h.clone()).or_insert(0) += n;
        }
        if let Some(b) = &obs.build {
            self.builds.entry(b.clone()).or_insert_with(|| BuildSpan::new(b, &entry.rel_path, self.index)).add(
                obs.time.first(),
                obs.time.last(),
                obs.created.or(obs.time.first()),
            );
        }
        if let Some(f) = family {
            self.families.entry(f).or_default().add_file(obs.bytes, obs.lines.max(obs.records), &obs.time);
        }
    }

    fn host_name(&self) -> String {
        self.hosts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(h, _)| h.clone())
            .unwrap_or_else(|| self.name.clone())
    }
}

/// One Exchange build as the log headers show it: how many files name it, and the time span of
/// their records (the first file written by a new build dates an update).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BuildSpan {
    /// As written in `#Version:` (`15.01.2176.002`).
    pub build: String,
    pub files: u64,
    /// First and last record of the files that name it.
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// The latest start (`#Date:` header, else first record) of such a file: when the build was
    /// last seen starting a log. A daily log started before an update may hold records from after
    /// it; a log started by a build is proof that it was running then.
    pub last_start: Option<Timestamp>,
    /// A file that names it (the first in listing order), and its source.
    pub example_path: String,
    pub example_source: usize,
}

impl BuildSpan {
    fn new(build: &str, path: &str, source: usize) -> BuildSpan {
        BuildSpan {
            build: build.into(),
            files: 0,
            first: None,
            last: None,
            last_start: None,
            example_path: path.into(),
            example_source: source,
        }
    }

    fn add(&mut self, first: Option<Timestamp>, last: Option<Timestamp>, started: Option<Timestamp>) {
        self.files += 1;
        self.first = match (self.first, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = self.last.max(last);
        self.last_start = self.last_start.max(started);
    }

    fn merge(&mut self, other: &BuildSpan) {
        let files = self.files + other.files;
        self.add(other.first, other.last, other.last_start);
        self.files = files;
    }
}

/// The per-host summary the text report prints.
#[derive(Clone, Debug, Serialize)]
pub struct HostSummary {
    pub host: String,
    pub sources: Vec<String>,
    pub exchange_installs: Vec<String>,
    /// Exchange builds from log headers, with the number of files naming each.
    pub builds: BTreeMap<String, u64>,
    /// The same builds in the order they were in use (first record time), with their spans.
    pub build_history: Vec<BuildSpan>,
    pub verdict: Verdict,
    /// Activity findings (not coverage) by severity.
    pub severity_counts: BTreeMap<Severity, u64>,
    /// Activity findings per CVE.
    pub cve_counts: BTreeMap<String, u64>,
    pub first_activity: Option<Timestamp>,
    pub last_activity: Option<Timestamp>,
    pub files_read: u64,
    pub bytes_read: u64,
    /// Inventory per log family (label → inventory), required families first.
    pub inventory: Vec<(String, FamilyInventory)>,
    /// Required families that are absent.
    pub missing: Vec<String>,
    /// Titles of the coverage findings at medium severity (what cannot be ruled out).
    pub blind_spots: Vec<String>,
    /// Activity groups the evidence is published for, most evidence first.
    pub actors: Vec<ActorSummary>,
    /// Findings attributed to more than one group at once (an indicator published for several):
    /// shown, not resolved.
    pub shared_attribution: Vec<SharedAttribution>,
    /// Files the file checks looked at, and their bytes.
    pub files_swept: u64,
    pub bytes_swept: u64,
}

/// One activity group on one host.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ActorSummary {
    pub actor: String,
    /// Activity findings attributed to the group.
    pub evidence: u64,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    /// Rules that fired for it, with their counts.
    pub rules: BTreeMap<String, u64>,
    /// Findings that name this group and no other.
    pub exclusive: u64,
}

/// A set of groups that one or more findings name together.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SharedAttribution {
    pub actors: Vec<String>,
    pub findings: u64,
    /// One example finding's title.
    pub example: String,
}

/// Attribution per host: every group named by an activity finding, with its evidence count,
/// first and last time, and the findings that name several groups.
pub fn attribute(findings: &[Finding]) -> (Vec<ActorSummary>, Vec<SharedAttribution>) {
    let mut actors: BTreeMap<String, ActorSummary> = BTreeMap::new();
    let mut shared: BTreeMap<Vec<String>, SharedAttribution> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.category.is_activity() && !f.actors.is_empty()) {
        let mut names = f.actors.clone();
        names.sort();
        names.dedup();
        for a in &names {
            let e = actors.entry(a.clone()).or_insert_with(|| ActorSummary {
                actor: a.clone(),
                evidence: 0,
                first_seen: None,
                last_seen: None,
                rules: BTreeMap::new(),
                exclusive: 0,
            });
            e.evidence += 1;
            if names.len() == 1 {
                e.exclusive += 1;
            }
            *e.rules.entry(f.rule_id.clone()).or_insert(0) += 1;
            if let Some(t) = f.time {
                e.first_seen = Some(e.first_seen.map_or(t, |x| x.min(t)));
                e.last_seen = Some(e.last_seen.map_or(t, |x| x.max(t)));
            }
        }
        if names.len() > 1 {
            let s = shared.entry(names.clone()).or_insert_with(|| SharedAttribution {
                actors: names.clone(),
                findings: 0,
                example: f.title.clone(),
            });
            s.findings += 1;
        }
    }
    let mut list: Vec<ActorSummary> = actors.into_values().collect();
    list.sort_by(|a, b| b.evidence.cmp(&a.evidence).then(a.actor.cmp(&b.actor)));
    (list, shared.into_values().collect())
}

/// Merges per-source results into hosts, adds coverage findings, and returns the sorted findings
/// and the host summaries.
pub fn finish(sources: Vec<SourceResult>, since: Timestamp) -> (Vec<Finding>, Vec<HostSummary>) {
    let mut groups: BTreeMap<String, Vec<SourceResult>> = BTreeMap::new();
    for s in sources {
        groups.entry(s.host_name()).or_default().push(s);
    }
    let mut all = Vec::new();
    let mut hosts = Vec::new();
    for (host, group) in groups {
        let first_index = group.iter().map(|s| s.index).min().unwrap_or(0);
        let mut families: BTreeMap<Family, FamilyInventory> = BTreeMap::new();
        let mut builds = BTreeMap::new();
        let mut findings = Vec::new();
        let mut summary_sources = Vec::new();
        let mut installs = Vec::new();
        let (mut files_read, mut bytes_read, mut files_swept, mut bytes_swept) = (0, 0, 0, 0);
        for mut s in group {
            for (f, inv) in s.families {
                families.entry(f).or_default().merge(&inv);
            }
            for (b, span) in s.builds {
                match builds.entry(b) {
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(span);
                    }
                    std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().merge(&span),
                }
            }
            if s.needs_exchange {
                let mut f = Finding::new(&RULE_NO_EXCHANGE, ArtifactKind::File, "")
                    .titled(format!(
                        "No Exchange install folder in {}: Exchange logs are not in this source, so nothing they would show can be ruled out",
                        s.label
                    ))
                    .with_evidence("no Logging\\HttpProxy, FrontEnd\\HttpProxy, ClientAccess or Bin\\ExSetup.exe found below any folder")
                    .with_extra("source", s.label.clone());
                f.source = s.index;
                findings.push(f);
            }
            installs.extend(s.exchange);
            summary_sources.push(s.label);
            files_read += s.files_read;
            bytes_read += s.bytes_read;
            files_swept += s.files_swept;
            bytes_swept += s.bytes_swept;
            if findings.is_empty() {
                findings = std::mem::take(&mut s.findings);
            } else {
                findings.append(&mut s.findings);
            }
        }
        for inv in families.values_mut() {
            inv.finalize();
        }
        for mut f in coverage_findings(&families, since) {
            f.source = first_index;
            findings.push(f);
        }
        adjust_file_severities(&mut findings);
        for f in &mut findings {
            f.host = host.clone();
            f.assign_id();
        }
        let mut summary =
            summarize(&host, summary_sources, installs, builds, &families, &findings, files_read, bytes_read);
        summary.files_swept = files_swept;
        summary.bytes_swept = bytes_swept;
        hosts.push(summary);
        // Moved, not copied: with one host (the usual case) no second array of findings exists.
        if all.is_empty() {
            all = findings;
        } else {
            all.append(&mut findings);
        }
    }
    sort_findings(&mut all);
    (all, hosts)
}

/// Deterministic order: host, time (undated last), path, line, record, rule, title. Unstable (no
/// buffer of half the findings): ties keep an order that depends on the input order only, which
/// is the listing order, whatever the thread count.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_unstable_by(|a, b| {
        a.host
            .cmp(&b.host)
            .then_with(|| match (a.time, b.time) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| a.record.cmp(&b.record))
            .then_with(|| a.rule_id.cmp(&b.rule_id))
            .then_with(|| a.title.cmp(&b.title))
    });
}

/// LSASS dumps and ProgramData archives weigh more next to other evidence (Test-ProxyLogon only
/// looks for them then); alone they are reported one step lower.
fn adjust_file_severities(findings: &mut [Finding]) {
    let file_rules = [RULE_LSASS_DUMP.id, RULE_ARCHIVE.id];
    let other = findings
        .iter()
        .any(|f| f.category.is_activity() && f.severity >= Severity::High && !file_rules.contains(&f.rule_id.as_str()));
    for f in findings.iter_mut() {
        if f.rule_id == RULE_LSASS_DUMP.id {
            f.severity = if other { Severity::High } else { Severity::Medium };
        } else if f.rule_id == RULE_ARCHIVE.id {
            f.severity = if other { Severity::Medium } else { Severity::Low };
        }
        if file_rules.contains(&f.rule_id.as_str()) {
            f.extra.insert("other_evidence_on_host".into(), other.into());
        }
    }
}

/// The verdict rules of docs/DETECTIONS.md.
pub fn verdict(findings: &[Finding]) -> Verdict {
    let activity = || findings.iter().filter(|f| f.category.is_activity());
    if activity().any(|f| {
        f.severity == Severity::Critical
            || (f.severity >= Severity::High && matches!(f.category, Category::Webshell | Category::PostExploitation))
    }) {
        return Verdict::Compromised;
    }
    if activity().any(|f| f.severity >= Severity::Medium) {
        return Verdict::ExploitationAttempted;
    }
    if findings.iter().any(|f| {
        f.category == Category::Coverage
            && f.severity >= Severity::Medium
            && matches!(f.rule_id.as_str(), "EXS-COV-FAMILY-MISSING" | "EXS-COV-LATE-START" | "EXS-COV-NO-EXCHANGE")
    }) {
        return Verdict::CannotTell;
    }
    Verdict::NoEvidence
}

#[allow(clippy::too_many_arguments)]
fn summarize(
    host: &str,
    sources: Vec<String>,
    installs: Vec<String>,
    builds: BTreeMap<String, BuildSpan>,
    families: &BTreeMap<Family, FamilyInventory>,
    findings: &[Finding],
    files_read: u64,
    bytes_read: u64,
) -> HostSummary {
    let mut severity_counts = BTreeMap::new();
    let mut cve_counts = BTreeMap::new();
    let mut first = None;
    let mut last = None;
    for f in findings.iter().filter(|f| f.category.is_activity()) {
        *severity_counts.entry(f.severity).or_insert(0) += 1;
        for c in &f.cves {
            *cve_counts.entry(c.clone()).or_insert(0) += 1;
        }
        // Info findings are leads to look at, not activity: they do not date the intrusion.
        if let Some(t) = f.time.filter(|_| f.severity > Severity::Info) {
            first = Some(first.map_or(t, |x: Timestamp| x.min(t)));
            last = Some(last.map_or(t, |x: Timestamp| x.max(t)));
        }
    }
    let required = Family::required();
    let mut inventory: Vec<(String, FamilyInventory)> =
        required.iter().filter_map(|f| families.get(f).map(|inv| (f.label(), inv.clone()))).collect();
    inventory.extend(families.iter().filter(|(f, _)| !required.contains(f)).map(|(f, inv)| (f.label(), inv.clone())));
    let missing = required.iter().filter(|f| !families.contains_key(f)).map(|f| f.label()).collect();
    let blind_spots = findings
        .iter()
        .filter(|f| f.category == Category::Coverage && f.severity >= Severity::Medium)
        .map(|f| f.title.clone())
        .collect();
    let (actors, shared_attribution) = attribute(findings);
    let mut build_history: Vec<BuildSpan> = builds.values().cloned().collect();
    // Undated spans (a header without records) last.
    build_history.sort_by(|a, b| (a.first.is_none(), a.first, &a.build).cmp(&(b.first.is_none(), b.first, &b.build)));
    let builds = builds.into_iter().map(|(b, s)| (b, s.files)).collect();
    HostSummary {
        build_history,
        actors,
        shared_attribution,
        files_swept: 0,
        bytes_swept: 0,
        host: host.to_string(),
        sources,
        exchange_installs: installs,
        builds,
        verdict: verdict(findings),
        severity_counts,
        cve_counts,
        first_activity: first,
        last_activity: last,
        files_read,
        bytes_read,
        inventory,
        missing,
        blind_spots,
    }
}
