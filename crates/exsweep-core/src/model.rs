//! The finding schema (ARCHITECTURE.md) and the small enums it uses. Field names here are a contract:
//! other tools read them, so they are never renamed.

use crate::time::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;

/// How bad a finding is, ordered from `Info` to `Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Exploitation,
    Webshell,
    PostExploitation,
    Ioc,
    Vulnerability,
    Coverage,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Exploitation => "exploitation",
            Category::Webshell => "webshell",
            Category::PostExploitation => "post_exploitation",
            Category::Ioc => "ioc",
            Category::Vulnerability => "vulnerability",
            Category::Coverage => "coverage",
        }
    }

    /// Categories that are evidence of attacker activity (as opposed to coverage or vulnerability).
    pub fn is_activity(self) -> bool {
        matches!(self, Category::Exploitation | Category::Webshell | Category::PostExploitation | Category::Ioc)
    }
}

/// The kind of artifact a finding points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// `Logging\HttpProxy\<Protocol>\HttpProxy_*.LOG`
    Httpproxy,
    /// `Logging\ECP\Server\ECPServer*.LOG`
    EcpServer,
    /// `Logging\OABGeneratorLog\*`
    OabGenerator,
    /// Another Exchange CSV log recognised by its header.
    ExchangeLog,
    /// IIS W3C extended log.
    IisW3c,
    /// Binary Windows event log.
    Evtx,
    /// Event export: `wevtutil qe /f:xml` or evtx_dump JSON lines.
    EventExport,
    /// Any other file (checked by path, name or content).
    File,
}

impl ArtifactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Httpproxy => "httpproxy",
            ArtifactKind::EcpServer => "ecp_server",
            ArtifactKind::OabGenerator => "oab_generator",
            ArtifactKind::ExchangeLog => "exchange_log",
            ArtifactKind::IisW3c => "iis_w3c",
            ArtifactKind::Evtx => "evtx",
            ArtifactKind::EventExport => "event_export",
            ArtifactKind::File => "file",
        }
    }
}

/// Static description of a rule: everything a finding inherits from the rule that fired.
#[derive(Clone, Copy, Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub category: Category,
    pub cves: &'static [&'static str],
    pub actors: &'static [&'static str],
    pub attack: &'static [&'static str],
}

/// One finding, serialized exactly per the schema in ARCHITECTURE.md.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub id: String,
    pub host: String,
    pub time: Option<Timestamp>,
    pub severity: Severity,
    pub category: Category,
    pub title: String,
    pub rule_id: String,
    pub rule_source: String,
    pub cves: Vec<String>,
    pub actors: Vec<String>,
    pub attack: Vec<String>,
    pub artifact_kind: ArtifactKind,
    pub path: String,
    pub line: Option<u64>,
    pub record: Option<u64>,
    pub evidence: String,
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Index of the source (command-line argument) the finding came from; not part of the schema.
    #[serde(skip)]
    pub source: usize,
}

/// Longest evidence excerpt kept in a finding, in bytes.
pub const MAX_EVIDENCE: usize = 2048;

impl Finding {
    /// A finding for `rule`, with the rule's defaults; callers fill in location and evidence.
    pub fn new(rule: &RuleMeta, kind: ArtifactKind, path: &str) -> Finding {
        Finding {
            id: String::new(),
            host: String::new(),
            time: None,
            severity: rule.severity,
            category: rule.category,
            title: rule.title.to_string(),
            rule_id: rule.id.to_string(),
            rule_source: "builtin".to_string(),
            cves: rule.cves.iter().map(|s| s.to_string()).collect(),
            actors: rule.actors.iter().map(|s| s.to_string()).collect(),
            attack: rule.attack.iter().map(|s| s.to_string()).collect(),
            artifact_kind: kind,
            path: path.to_string(),
            line: None,
            record: None,
            evidence: String::new(),
            sha256: None,
            extra: serde_json::Map::new(),
            source: 0,
        }
    }

    pub fn with_evidence(mut self, evidence: &str) -> Finding {
        self.evidence = truncate(evidence, MAX_EVIDENCE).to_string();
        self
    }

    pub fn titled(mut self, title: String) -> Finding {
        self.title = title;
        self
    }

    pub fn with_extra(mut self, key: &str, value: impl Into<serde_json::Value>) -> Finding {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// Sets `id`: a stable hash of (rule, host, path, line, record, discriminator), identical across runs.
    pub fn assign_id(&mut self) {
        let mut h = Sha256::new();
        for part in [self.rule_id.as_str(), self.host.as_str(), self.path.as_str()] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update(self.line.unwrap_or(0).to_le_bytes());
        h.update(self.record.unwrap_or(0).to_le_bytes());
        // Coverage findings without a line are told apart by what they are about.
        if self.line.is_none() && self.record.is_none() {
            h.update(self.title.as_bytes());
        }
        // Two indicators of one rule on one line (two domains in one request) are two findings.
        if let Some(v) = self.extra.get("ioc_value").and_then(|v| v.as_str()) {
            h.update([1]);
            h.update(v.as_bytes());
        }
        let digest = h.finalize();
        self.id = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: RuleMeta = RuleMeta {
        id: "EXS-TEST",
        title: "test rule",
        severity: Severity::High,
        category: Category::Exploitation,
        cves: &["CVE-2021-26855"],
        actors: &[],
        attack: &["T1190"],
    };

    #[test]
    fn schema_field_names_and_order() {
        let mut f = Finding::new(&RULE, ArtifactKind::Httpproxy, "a/b.LOG").with_evidence("x");
        f.line = Some(7);
        f.host = "EX01".into();
        f.assign_id();
        let v = serde_json::to_value(&f).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        let mut expected = vec![
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
        ];
        expected.sort();
        let mut got = keys.clone();
        got.sort();
        assert_eq!(got, expected);
        assert_eq!(v["severity"], "high");
        assert_eq!(v["artifact_kind"], "httpproxy");
        assert_eq!(v["record"], serde_json::Value::Null);
        assert_eq!(f.id.len(), 32);
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let mut a = Finding::new(&RULE, ArtifactKind::Httpproxy, "p");
        a.line = Some(1);
        let mut b = a.clone();
        a.assign_id();
        b.assign_id();
        assert_eq!(a.id, b.id);
        b.line = Some(2);
        b.assign_id();
        assert_ne!(a.id, b.id);
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
