//! Inventory and coverage: which log families a host has, how many files, the first and last
//! entry, the gaps longer than a day, and — as first-class output — what is missing. "Nothing
//! found" with no logs from before the exploitation window is not "clean".

use crate::model::{ArtifactKind, Category, Finding, RuleMeta, Severity};
use crate::time::{DAY_MS, Timestamp};
use serde::Serialize;

/// Time spans seen in one file or family, as disjoint runs with no hole longer than a day.
#[derive(Clone, Debug, Default)]
pub struct TimeTracker {
    segs: Vec<(Timestamp, Timestamp)>,
}

/// Bound on runs kept per tracker before they are compacted.
const MAX_SEGS: usize = 4096;

impl TimeTracker {
    pub fn observe(&mut self, t: Timestamp) {
        if let Some(cur) = self.segs.last_mut()
            && t.0 >= cur.0.0 - DAY_MS
            && t.0 <= cur.1.0 + DAY_MS
        {
            cur.0 = cur.0.min(t);
            cur.1 = cur.1.max(t);
            return;
        }
        self.segs.push((t, t));
        if self.segs.len() > MAX_SEGS {
            self.compact();
        }
    }

    pub fn merge(&mut self, other: &TimeTracker) {
        self.segs.extend_from_slice(&other.segs);
        self.compact();
    }

    /// Sorts and joins runs that touch or lie within a day of each other.
    fn compact(&mut self) {
        self.segs.sort();
        let mut out: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(self.segs.len());
        for &(a, b) in &self.segs {
            match out.last_mut() {
                Some(last) if a.0 <= last.1.0 + DAY_MS => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        self.segs = out;
    }

    pub fn first(&self) -> Option<Timestamp> {
        self.segs.iter().map(|s| s.0).min()
    }

    pub fn last(&self) -> Option<Timestamp> {
        self.segs.iter().map(|s| s.1).max()
    }

    /// Holes longer than a day, after compaction.
    pub fn gaps(&self) -> Vec<(Timestamp, Timestamp)> {
        let mut t = self.clone();
        t.compact();
        t.segs.windows(2).map(|w| (w[0].1, w[1].0)).collect()
    }
}

/// A log family whose presence and time span decide what can be ruled out.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "family", content = "name", rename_all = "snake_case")]
pub enum Family {
    /// HttpProxy logs of one protocol folder (`Owa`, `Ecp`, ...).
    HttpProxy(String),
    EcpServer,
    OabGenerator,
    /// IIS logs of one site (`W3SVC1`, `W3SVC2`, ...).
    Iis(String),
    ApplicationLog,
    /// Any other event channel seen (not required).
    EventChannel(String),
    /// Any other Exchange log by its Log-type (not required).
    ExchangeLog(String),
}

/// HttpProxy protocol folders whose age Test-ProxyLogon reports.
pub const HTTPPROXY_PROTOCOLS: &[&str] =
    &["Autodiscover", "Eas", "Ecp", "Ews", "Mapi", "Oab", "Owa", "OwaCalendar", "PowerShell", "RpcHttp"];

impl Family {
    pub fn label(&self) -> String {
        match self {
            Family::HttpProxy(p) => format!("HttpProxy/{p}"),
            Family::EcpServer => "ECP Server".into(),
            Family::OabGenerator => "OABGeneratorLog".into(),
            Family::Iis(s) => format!("IIS {s}"),
            Family::ApplicationLog => "Application event log".into(),
            Family::EventChannel(c) => format!("Event log {c}"),
            Family::ExchangeLog(t) => format!("Exchange log {t}"),
        }
    }

    /// The families every assessment needs, in report order.
    pub fn required() -> Vec<Family> {
        let mut v: Vec<Family> = HTTPPROXY_PROTOCOLS.iter().map(|p| Family::HttpProxy(p.to_string())).collect();
        v.push(Family::EcpServer);
        v.push(Family::OabGenerator);
        v.push(Family::Iis("W3SVC1".into()));
        v.push(Family::Iis("W3SVC2".into()));
        v.push(Family::ApplicationLog);
        v
    }

    pub fn artifact_kind(&self) -> ArtifactKind {
        match self {
            Family::HttpProxy(_) => ArtifactKind::Httpproxy,
            Family::EcpServer => ArtifactKind::EcpServer,
            Family::OabGenerator => ArtifactKind::OabGenerator,
            Family::Iis(_) => ArtifactKind::IisW3c,
            Family::ApplicationLog | Family::EventChannel(_) => ArtifactKind::Evtx,
            Family::ExchangeLog(_) => ArtifactKind::ExchangeLog,
        }
    }

    /// What cannot be ruled out without this family, in plain words.
    pub fn blind_spot(&self) -> String {
        match self {
            Family::HttpProxy(p) if p.eq_ignore_ascii_case("Ecp") => {
                "CVE-2021-26855 SSRF requests through /ecp (the usual ProxyLogon entry) and CVE-2021-27065 ResetVirtualDirectory calls".into()
            }
            Family::HttpProxy(p) => format!("CVE-2021-26855 SSRF requests through the {p} endpoint"),
            Family::EcpServer => "CVE-2021-27065 (a script written into a virtual directory URL with Set-*VirtualDirectory)".into(),
            Family::OabGenerator => "CVE-2021-26858 (arbitrary file write through the OAB generator)".into(),
            Family::Iis(s) if s.eq_ignore_ascii_case("W3SVC1") => {
                "web shell access and HAFNIUM exploit requests on the front-end site (Default Web Site)".into()
            }
            Family::Iis(s) if s.eq_ignore_ascii_case("W3SVC2") => {
                "exploit requests proxied to the Exchange Back End site (port 444)".into()
            }
            Family::Iis(s) => format!("requests to IIS site {s}"),
            Family::ApplicationLog => "CVE-2021-26857 (Unified Messaging deserialization)".into(),
            Family::EventChannel(c) => format!("activity logged in {c}"),
            Family::ExchangeLog(t) => format!("activity logged in {t}"),
        }
    }
}

/// What the inventory holds for one family of one host.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FamilyInventory {
    pub files: u64,
    pub bytes: u64,
    /// Lines (text logs) or events read.
    pub records: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// Holes longer than a day: (last entry before, first entry after).
    pub gaps: Vec<(Timestamp, Timestamp)>,
    #[serde(skip)]
    pub tracker: TimeTracker,
}

impl FamilyInventory {
    pub fn add_file(&mut self, bytes: u64, records: u64, tracker: &TimeTracker) {
        self.files += 1;
        self.bytes += bytes;
        self.records += records;
        self.tracker.merge(tracker);
    }

    /// Adds another inventory of the same family (another source of the same host).
    pub fn merge(&mut self, other: &FamilyInventory) {
        self.files += other.files;
        self.bytes += other.bytes;
        self.records += other.records;
        self.tracker.merge(&other.tracker);
    }

    /// Computes first, last and gaps from the merged time runs.
    pub fn finalize(&mut self) {
        self.first = self.tracker.first();
        self.last = self.tracker.last();
        self.gaps = self.tracker.gaps();
    }
}

pub const RULE_FAMILY_MISSING: RuleMeta = RuleMeta {
    id: "EXS-COV-FAMILY-MISSING",
    title: "log family missing",
    severity: Severity::Medium,
    category: Category::Coverage,
    cves: &[],
    actors: &[],
    attack: &[],
};
pub const RULE_LATE_START: RuleMeta = RuleMeta {
    id: "EXS-COV-LATE-START",
    title: "logs start after the exploitation window",
    severity: Severity::Medium,
    category: Category::Coverage,
    cves: &[],
    actors: &[],
    attack: &[],
};
pub const RULE_GAP: RuleMeta = RuleMeta {
    id: "EXS-COV-GAP",
    title: "gap in the logs",
    severity: Severity::Low,
    category: Category::Coverage,
    cves: &[],
    actors: &[],
    attack: &[],
};
pub const RULE_NO_EXCHANGE: RuleMeta = RuleMeta {
    id: "EXS-COV-NO-EXCHANGE",
    title: "no Exchange install folder found",
    severity: Severity::Medium,
    category: Category::Coverage,
    cves: &[],
    actors: &[],
    attack: &[],
};
pub const RULE_FILE: RuleMeta = RuleMeta {
    id: "EXS-COV-FILE",
    title: "file not read in full",
    severity: Severity::Low,
    category: Category::Coverage,
    cves: &[],
    actors: &[],
    attack: &[],
};

/// Coverage findings for one host: missing families, late starts and gaps.
pub fn coverage_findings(
    families: &std::collections::BTreeMap<Family, FamilyInventory>,
    since: Timestamp,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for fam in Family::required() {
        let kind = fam.artifact_kind();
        match families.get(&fam) {
            None => {
                let title = format!("No {} logs: {} cannot be ruled out", fam.label(), fam.blind_spot());
                out.push(
                    Finding::new(&RULE_FAMILY_MISSING, kind, "")
                        .with_evidence(&format!("no {} files in the source", fam.label()))
                        .with_extra("family", fam.label())
                        .titled(title),
                );
            }
            Some(inv) => {
                if let Some(first) = inv.first
                    && first > since
                {
                    let title = format!(
                        "{} logs start {}, after {}: {} before then cannot be ruled out",
                        fam.label(),
                        first,
                        since.date_string(),
                        fam.blind_spot()
                    );
                    let mut f = Finding::new(&RULE_LATE_START, kind, "")
                        .with_evidence(&format!("{} files, first entry {}", inv.files, first))
                        .with_extra("family", fam.label())
                        .with_extra("first", first.to_string())
                        .titled(title);
                    f.time = Some(first);
                    out.push(f);
                }
                for (a, b) in &inv.gaps {
                    let days = (b.0 - a.0) as f64 / DAY_MS as f64;
                    let title = format!(
                        "No {} entries between {} and {} ({:.1} days): {} in that period cannot be ruled out",
                        fam.label(),
                        a,
                        b,
                        days,
                        fam.blind_spot()
                    );
                    let mut f = Finding::new(&RULE_GAP, kind, "")
                        .with_evidence(&format!("gap of {days:.1} days"))
                        .with_extra("family", fam.label())
                        .with_extra("gap_start", a.to_string())
                        .with_extra("gap_end", b.to_string())
                        .titled(title);
                    f.time = Some(*a);
                    out.push(f);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn tracker_finds_gaps_over_a_day() {
        let mut t = TimeTracker::default();
        for s in ["2021-03-01T00:00:00Z", "2021-03-01T12:00:00Z", "2021-03-02T11:00:00Z", "2021-03-05T00:00:00Z"] {
            t.observe(ts(s));
        }
        assert_eq!(t.first(), Some(ts("2021-03-01T00:00:00Z")));
        assert_eq!(t.last(), Some(ts("2021-03-05T00:00:00Z")));
        assert_eq!(t.gaps(), vec![(ts("2021-03-02T11:00:00Z"), ts("2021-03-05T00:00:00Z"))]);
        // Out-of-order input still merges.
        let mut u = TimeTracker::default();
        u.observe(ts("2021-03-05T00:00:00Z"));
        u.observe(ts("2021-03-01T00:00:00Z"));
        u.observe(ts("2021-03-02T00:00:00Z"));
        u.observe(ts("2021-03-03T00:00:00Z"));
        u.observe(ts("2021-03-04T00:00:00Z"));
        assert!(u.gaps().is_empty());
    }

    #[test]
    fn coverage_says_what_cannot_be_ruled_out() {
        let mut fams = std::collections::BTreeMap::new();
        let mut t = TimeTracker::default();
        t.observe(ts("2021-03-10T00:00:00Z"));
        let mut inv = FamilyInventory::default();
        inv.add_file(10, 1, &t);
        inv.finalize();
        fams.insert(Family::HttpProxy("Ecp".into()), inv);
        let f = coverage_findings(&fams, ts("2021-03-03"));
        let late: Vec<_> = f.iter().filter(|f| f.rule_id == "EXS-COV-LATE-START").collect();
        assert_eq!(late.len(), 1);
        assert!(late[0].title.contains("HttpProxy/Ecp logs start 2021-03-10T00:00:00Z, after 2021-03-03"));
        assert!(late[0].title.contains("cannot be ruled out"));
        let missing = f.iter().filter(|f| f.rule_id == "EXS-COV-FAMILY-MISSING").count();
        assert_eq!(missing, Family::required().len() - 1);
        assert!(f.iter().any(|f| f.title.contains("No OABGeneratorLog logs") && f.title.contains("CVE-2021-26858")));
    }
}
