//! Sigma rules as an exsweep detector: every Windows event record (EVTX, XML and JSON exports),
//! IIS line and Exchange log line goes through the loaded rules of its logsource, and each hit
//! becomes a finding with `rule_source: "sigma"`.

use crate::columns::ColumnLog;
use crate::rules::{SigmaMatch, SigmaRules};
use exsweep_core::detect::{Detector, FileCtx};
use exsweep_core::model::{ArtifactKind, Category, Finding, MAX_EVIDENCE, RuleMeta, Severity};
use exsweep_core::record::Record;

/// Placeholder metadata: the finding's fields are then set from the Sigma rule.
const SIGMA_META: RuleMeta = RuleMeta {
    id: "sigma",
    title: "Sigma rule",
    severity: Severity::Medium,
    category: Category::PostExploitation,
    cves: &[],
    actors: &[],
    attack: &[],
};

/// Runs loaded Sigma rules over event records.
pub struct SigmaDetector {
    pub rules: SigmaRules,
}

impl SigmaDetector {
    pub fn new(rules: SigmaRules) -> SigmaDetector {
        SigmaDetector { rules }
    }
}

/// Sigma `level` → exsweep severity.
pub fn severity_of(level: Option<&str>) -> Severity {
    match level.unwrap_or("medium") {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "low" => Severity::Low,
        "informational" => Severity::Info,
        _ => Severity::Medium,
    }
}

/// ATT&CK technique ids from Sigma tags (`attack.t1059.001` → `T1059.001`).
pub fn attack_ids(tags: &[String]) -> Vec<String> {
    tags.iter()
        .filter_map(|t| t.strip_prefix("attack.t").or_else(|| t.strip_prefix("attack.T")))
        .filter(|rest| rest.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|rest| format!("T{}", rest.to_ascii_uppercase()))
        .collect()
}

/// The finding category a rule's tags suggest: exploit of a public-facing application,
/// web shell, or else post-exploitation activity.
fn category_of(attack: &[String]) -> Category {
    if attack.iter().any(|a| a.starts_with("T1505.003")) {
        Category::Webshell
    } else if attack.iter().any(|a| a == "T1190") {
        Category::Exploitation
    } else {
        Category::PostExploitation
    }
}

fn finding_of(m: &SigmaMatch, ctx: &FileCtx<'_>, rec: &Record<'_>, evidence: &str) -> Finding {
    let mut f = ctx.finding(&SIGMA_META, rec);
    f.title = m.title.clone();
    f.rule_id = m.id.clone().unwrap_or_else(|| m.title.clone());
    f.rule_source = "sigma".into();
    f.severity = severity_of(m.level.as_deref());
    f.attack = attack_ids(&m.tags);
    f.category = category_of(&f.attack);
    f = f.with_evidence(evidence).with_extra("rule_file", m.origin.clone());
    if let Some(a) = &m.author {
        f = f.with_extra("rule_author", a.clone());
    }
    f
}

impl Detector for SigmaDetector {
    fn kinds(&self) -> &[ArtifactKind] {
        &[
            ArtifactKind::Evtx,
            ArtifactKind::EventExport,
            ArtifactKind::IisW3c,
            ArtifactKind::Httpproxy,
            ArtifactKind::EcpServer,
            ArtifactKind::OabGenerator,
        ]
    }
    fn anchors(&self) -> &[&'static str] {
        &[]
    }
    fn check(&self, ctx: &FileCtx<'_>, rec: &Record<'_>, out: &mut Vec<Finding>) {
        if let Some(ev) = rec.event() {
            let hits = self.rules.evaluate_event(ev);
            if !hits.is_empty() {
                let evidence = ev.excerpt(MAX_EVIDENCE);
                out.extend(hits.iter().map(|m| finding_of(m, ctx, rec, &evidence)));
            }
            return;
        }
        let log = match ctx.kind {
            ArtifactKind::IisW3c => ColumnLog::Iis,
            ArtifactKind::Httpproxy => ColumnLog::Exchange("httpproxy"),
            ArtifactKind::EcpServer => ColumnLog::Exchange("ecp_server"),
            ArtifactKind::OabGenerator => ColumnLog::Exchange("oab_generator"),
            _ => return,
        };
        if rec.header().is_none() {
            return;
        }
        let hits = self.rules.evaluate_columns(rec, log);
        out.extend(hits.iter().map(|m| finding_of(m, ctx, rec, rec.raw)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_levels_map_to_the_schema() {
        let tags: Vec<String> = ["attack.execution", "attack.t1059.001", "attack.T1190", "cve.2021-26855"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(attack_ids(&tags), vec!["T1059.001", "T1190"]);
        assert_eq!(category_of(&attack_ids(&tags)), Category::Exploitation);
        assert_eq!(severity_of(Some("informational")), Severity::Info);
        assert_eq!(severity_of(Some("critical")), Severity::Critical);
        assert_eq!(severity_of(None), Severity::Medium);
    }
}
