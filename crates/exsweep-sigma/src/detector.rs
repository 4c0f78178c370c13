//! Sigma rules as an exsweep detector: every Windows event record (EVTX, XML and JSON exports),
//! IIS line and Exchange log line goes through the loaded rules of its logsource, and each hit
//! becomes a finding with `rule_source: "sigma"` (or the `rule_source` an embedded rule names).
//! Hits of rules that correlations use are kept, small, until the scan ends; then the
//! correlations run and their hits become findings too.

use crate::columns::{ColumnLog, flat_columns};
use crate::correlation::{CorrelationHit, CorrelationInput, Location};
use crate::event::FlatEvent;
use crate::logsource::{Route, route_of};
use crate::rule::RuleInfo;
use crate::rules::SigmaRules;
use exsweep_core::detect::{Detector, FileCtx};
use exsweep_core::model::{ArtifactKind, Category, Finding, MAX_EVIDENCE, RuleMeta, Severity};
use exsweep_core::record::Record;
use std::sync::Mutex;

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

/// Longest evidence of a Sigma hit, in bytes: the fields the rule read, not the whole record.
const SIGMA_EVIDENCE: usize = 1024;

/// `Name=value` of the fields a rule reads (EventID first for events), then, for keyword rules,
/// the start of the record.
fn evidence_of(fields: &(Vec<String>, bool), ev: &FlatEvent<'_>, record_text: &dyn Fn() -> String) -> String {
    let mut parts: Vec<String> = Vec::new();
    let named = |name: &str, parts: &mut Vec<String>| {
        for i in ev.find(name).iter() {
            if let Some(v) = ev.value(i) {
                parts.push(format!("{name}={}", v.replace(['\r', '\n'], " ")));
            }
        }
    };
    if !fields.0.iter().any(|f| f == "EventID") {
        named("EventID", &mut parts);
    }
    for f in &fields.0 {
        named(f, &mut parts);
    }
    if fields.1 || parts.is_empty() {
        parts.push(record_text());
    }
    exsweep_core::model::truncate(&parts.join(" | "), SIGMA_EVIDENCE).to_string()
}

/// Correlation inputs kept at most; past this, correlations see a prefix and say so.
const MAX_CORRELATION_INPUTS: usize = 2_000_000;

/// Runs loaded Sigma rules over records.
pub struct SigmaDetector {
    pub rules: SigmaRules,
    kinds: Vec<ArtifactKind>,
    /// Line anchors per text-log kind (`None`: every line).
    anchors: Vec<(ArtifactKind, Option<Vec<String>>)>,
    inputs: Mutex<(Vec<CorrelationInput>, bool)>,
    /// Per rule, its `exsweep:` presentation block.
    looks: Vec<Option<Presentation>>,
}

/// The column log of a text-log kind.
fn column_log(kind: ArtifactKind) -> Option<ColumnLog> {
    match kind {
        ArtifactKind::IisW3c => Some(ColumnLog::Iis),
        ArtifactKind::Httpproxy => Some(ColumnLog::Exchange("httpproxy")),
        ArtifactKind::EcpServer => Some(ColumnLog::Exchange("ecp_server")),
        ArtifactKind::OabGenerator => Some(ColumnLog::Exchange("oab_generator")),
        _ => None,
    }
}

/// A needle as it appears in a raw IIS line: the user agent is decoded (`+` is a space) for rules,
/// and `cs-uri-query` joins stem and query with `?`, which the line does not hold. The part of a
/// needle before its first `?` (or after its last) is in the line whatever the junction.
fn iis_line_anchor(n: &str) -> String {
    let n = n.replace(' ', "+");
    match (n.find('?'), n.rfind('?')) {
        (Some(first), Some(last)) => {
            let (a, b) = (&n[..first], &n[last + 1..]);
            if a.len() >= b.len() { a.to_string() } else { b.to_string() }
        }
        _ => n,
    }
}

/// The longest part of a needle that raw bytes hold wherever the value holds the needle. The
/// raw-byte prefilters fold ASCII case only, and a test lowers the Kelvin sign to `k` and a
/// rule's `(?i)` reads long s as `s`, so `k` and `s` are cut out; in Exchange's CSV logs a `"`
/// is written `""`, so it is cut out there too. Empty: the needle cannot anchor.
fn raw_anchor(n: &str, csv: bool) -> String {
    n.split(|c: char| matches!(c, 'k' | 'K' | 's' | 'S') || (csv && c == '"'))
        .max_by_key(|p| p.len())
        .unwrap_or("")
        .to_string()
}

/// Anchors sorted, each once, and without those that hold another (a line holding
/// `/owa/auth/current/logon.css` holds `/owa/auth/current`): fewer literals keep the scan's
/// block prefilter on its fast packed search.
fn sorted(mut l: Vec<String>) -> Vec<String> {
    l.sort();
    l.dedup();
    let all = l.clone();
    l.retain(|a| !all.iter().any(|b| b != a && a.contains(b.as_str())));
    l
}

/// The anchors of a rule set: each rule's needles through `anchor`, or `None` when a rule has no
/// needles or gives an anchor the raw-byte prefilters cannot search (empty; non-ASCII, as needles
/// are lowered and those prefilters fold ASCII only; or an event-id needle).
fn anchors_of<'r>(
    needles: impl Iterator<Item = Option<&'r [String]>>,
    anchor: impl Fn(&str) -> String,
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for n in needles {
        out.extend(n?.iter().map(|x| anchor(x)));
    }
    out.iter().all(|a| !a.is_empty() && a.is_ascii() && !a.starts_with('\0')).then(|| sorted(out))
}

impl SigmaDetector {
    pub fn new(rules: SigmaRules) -> SigmaDetector {
        let mut kinds = Vec::new();
        let mut anchors = Vec::new();
        let sees_events = |r: &&crate::rules::CompiledRule| {
            r.logsource.product.as_deref().is_none_or(|p| p == "windows")
                && r.logsource.category.as_deref() != Some("webserver")
                && r.logsource.service.as_deref() != Some("iis")
        };
        let windows = rules.rules().iter().any(|r| sees_events(&r));
        if windows {
            kinds.extend([ArtifactKind::Evtx, ArtifactKind::EventExport]);
            // Chunks of binary EVTX are skipped when they hold none of these (every Windows rule
            // has some); exports are read whole.
            let chunk = rules.rules().iter().filter(sees_events).map(|r| r.chunk_needles.as_deref());
            anchors.push((ArtifactKind::Evtx, anchors_of(chunk, |x| raw_anchor(x, false))));
        }
        for kind in [ArtifactKind::IisW3c, ArtifactKind::Httpproxy, ArtifactKind::EcpServer, ArtifactKind::OabGenerator]
        {
            let Some(log) = column_log(kind) else { continue };
            let route = log.route();
            let mine: Vec<_> = rules.rules().iter().filter(|r| route.satisfies(&r.logsource)).collect();
            if mine.is_empty() {
                continue;
            }
            kinds.push(kind);
            let iis = kind == ArtifactKind::IisW3c;
            let lits = anchors_of(mine.iter().map(|r| r.needles()), |x| {
                if iis { raw_anchor(&iis_line_anchor(x), false) } else { raw_anchor(x, true) }
            });
            anchors.push((kind, lits));
        }
        let looks: Vec<Option<Presentation>> = rules.rules().iter().map(|r| Presentation::of(&r.info)).collect();
        let mut rules = rules;
        for (i, l) in looks.iter().enumerate() {
            if let Some(l) = l {
                rules.show_fields(i, l.fields());
            }
        }
        SigmaDetector { rules, kinds, anchors, inputs: Mutex::new((Vec::new(), false)), looks }
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

/// CVE ids from Sigma tags (`cve.2021-26855` → `CVE-2021-26855`).
pub fn cve_ids(tags: &[String]) -> Vec<String> {
    tags.iter()
        .filter_map(|t| t.strip_prefix("cve.").or_else(|| t.strip_prefix("CVE.")))
        .map(|rest| format!("CVE-{}", rest.to_ascii_uppercase()))
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

fn category_named(s: &str) -> Option<Category> {
    Some(match s {
        "exploitation" => Category::Exploitation,
        "webshell" => Category::Webshell,
        "post_exploitation" => Category::PostExploitation,
        "ioc" => Category::Ioc,
        "vulnerability" => Category::Vulnerability,
        "coverage" => Category::Coverage,
        _ => return None,
    })
}

/// How an embedded rule's findings look: its `exsweep:` block. Sigma says what matches; this
/// says what exsweep's own rules report besides (the finding schema's `category` and `actors`,
/// `rule_source: builtin`, a title naming the request, the evidence and `extra` fields the
/// built-in checks always gave).
#[derive(Clone, Debug, Default)]
struct Presentation {
    rule_source: Option<String>,
    category: Option<Category>,
    actors: Vec<String>,
    /// With `{Field}` placeholders.
    title: Option<String>,
    evidence: EvidenceKind,
    /// (extra key, field)
    extra: Vec<(String, String)>,
}

#[derive(Clone, Debug, Default)]
enum EvidenceKind {
    /// The fields the rule reads.
    #[default]
    Fields,
    /// The whole line, or the event's excerpt.
    Record,
    /// These fields, `Name=value` separated by spaces.
    List(Vec<String>),
}

impl Presentation {
    /// The fields its title, evidence and extra read.
    fn fields(&self) -> Vec<String> {
        let mut out: Vec<String> = self.extra.iter().map(|(_, f)| f.clone()).collect();
        if let EvidenceKind::List(l) = &self.evidence {
            out.extend(l.iter().cloned());
        }
        let mut rest = self.title.as_deref().unwrap_or("");
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else { break };
            out.push(rest[open + 1..open + close].to_string());
            rest = &rest[open + close + 1..];
        }
        out
    }

    fn of(info: &RuleInfo) -> Option<Presentation> {
        let x = info.custom.get("exsweep")?.as_object()?;
        let text = |k: &str| x.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let evidence = match x.get("evidence") {
            Some(serde_json::Value::String(s)) if s == "record" => EvidenceKind::Record,
            Some(serde_json::Value::Array(a)) => {
                EvidenceKind::List(a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            }
            _ => EvidenceKind::Fields,
        };
        let extra = x
            .get("extra")
            .and_then(|v| v.as_object())
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default();
        Some(Presentation {
            rule_source: text("rule_source"),
            category: text("category").as_deref().and_then(category_named),
            actors: x
                .get("actors")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            title: text("title"),
            evidence,
            extra,
        })
    }
}

/// The first present, non-empty value of a field (W3C `-` is absent).
fn first_value<'e>(ev: &'e FlatEvent<'_>, name: &str) -> Option<&'e str> {
    ev.find(name).iter().find_map(|i| ev.value(i)).filter(|v| !v.is_empty() && *v != "-")
}

/// `{Field}` in a title template, replaced by the record's value.
fn fill(template: &str, ev: &FlatEvent<'_>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        out.push_str(&rest[..open]);
        out.push_str(first_value(ev, &rest[open + 1..open + close]).unwrap_or("-"));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// Sets what a finding takes from its rule: title, id, severity, ATT&CK and CVE tags, and for
/// rules from files the rule's author and file (DRL 1.1: cite the author wherever a rule is cited).
fn cite(mut f: Finding, info: &RuleInfo, look: Option<&Presentation>, ev: &FlatEvent<'_>) -> Finding {
    f.title = info.title.clone();
    f.rule_id = info.id.clone().unwrap_or_else(|| info.title.clone());
    f.rule_source = "sigma".into();
    f.severity = severity_of(info.level.as_deref());
    f.attack = attack_ids(&info.tags);
    f.cves = cve_ids(&info.tags);
    f.category = category_of(&f.attack);
    if let Some(p) = look {
        if let Some(c) = p.category {
            f.category = c;
        }
        f.actors = p.actors.clone();
        if let Some(s) = &p.rule_source {
            f.rule_source = s.clone();
        }
        if let Some(t) = &p.title {
            f.title = fill(t, ev);
        }
        for (key, field) in &p.extra {
            if let Some(v) = first_value(ev, field) {
                f.extra.insert(key.clone(), v.into());
            }
        }
    }
    if f.rule_source == "sigma" {
        f = f.with_extra("rule_file", info.origin.clone());
        if let Some(a) = &info.author {
            f = f.with_extra("rule_author", a.clone());
        }
    }
    f
}

/// A record as text, made only when a finding needs it: short (after the fields a rule read, for
/// keyword rules) and whole (the line, or the event's full excerpt).
#[derive(Clone, Copy)]
struct RecordText<'a> {
    short: &'a dyn Fn() -> String,
    whole: &'a dyn Fn() -> String,
}

impl SigmaDetector {
    fn hits(
        &self,
        ctx: &FileCtx<'_>,
        rec: &Record<'_>,
        ev: &FlatEvent<'_>,
        route: &Route,
        text: RecordText<'_>,
        out: &mut Vec<Finding>,
    ) {
        let matched = self.rules.matching(ev, route);
        if matched.is_empty() {
            return;
        }
        for i in matched {
            let rule = self.rules.rule(i);
            if !self.rules.correlations().is_empty() {
                let loc = Location {
                    source: ctx.source,
                    path: ctx.path.to_string(),
                    line: rec.line,
                    record: rec.record_id,
                    kind: ctx.kind,
                };
                let new = self.rules.correlation_inputs(i, ev, rec.time.map(|t| t.0), &loc);
                if !new.is_empty()
                    && let Ok(mut g) = self.inputs.lock()
                {
                    if g.0.len() + new.len() <= MAX_CORRELATION_INPUTS {
                        g.0.extend(new);
                    } else {
                        g.1 = true;
                    }
                }
            }
            if rule.generates {
                let look = self.looks.get(i).and_then(Option::as_ref);
                let e = match look.map(|l| &l.evidence) {
                    Some(EvidenceKind::Record) => (text.whole)(),
                    Some(EvidenceKind::List(names)) => names
                        .iter()
                        .filter_map(|n| first_value(ev, n).map(|v| format!("{n}={v}")))
                        .collect::<Vec<_>>()
                        .join(" "),
                    _ => evidence_of(&rule.fields, ev, text.short),
                };
                out.push(cite(ctx.finding(&SIGMA_META, rec), &rule.info, look, ev).with_evidence(&e));
            }
        }
    }

    fn correlation_finding(&self, h: &CorrelationHit, truncated: bool) -> Finding {
        let c = &self.rules.correlations()[h.correlation];
        let last = h.events.last().cloned().unwrap_or_default();
        let mut f = Finding::new(&SIGMA_META, last.kind, &last.path);
        f.source = last.source;
        f.line = last.line;
        f.record = last.record;
        f.time = Some(exsweep_core::time::Timestamp(h.last_ms));
        let mut f = cite(f, &c.info, None, &FlatEvent::new(Vec::new(), &[]));
        let group: Vec<String> = h.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let span = |ms: i64| exsweep_core::time::Timestamp(ms).to_string();
        let evidence = format!(
            "{:?} correlation: {} over {} to {}{}",
            c.kind,
            h.count,
            span(h.first_ms),
            span(h.last_ms),
            if group.is_empty() { String::new() } else { format!(" for {}", group.join(", ")) }
        );
        let events: Vec<serde_json::Value> = h
            .events
            .iter()
            .take(20)
            .map(|l| serde_json::json!({"path": l.path, "line": l.line, "record": l.record}))
            .collect();
        f = f
            .with_evidence(&evidence)
            .with_extra("correlation_type", format!("{:?}", c.kind))
            .with_extra(
                "group",
                serde_json::Value::Object(h.group.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect()),
            )
            .with_extra("count", h.count)
            .with_extra("first_time", span(h.first_ms))
            .with_extra("events", events);
        if truncated {
            f = f.with_extra("inputs_truncated", true);
        }
        f
    }
}

impl Detector for SigmaDetector {
    fn kinds(&self) -> &[ArtifactKind] {
        &self.kinds
    }

    fn anchors(&self) -> &[&'static str] {
        &[]
    }

    fn anchors_for(&self, kind: ArtifactKind) -> Vec<&str> {
        match self.anchors.iter().find(|(k, _)| *k == kind) {
            Some((_, Some(l))) => l.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }

    fn check(&self, ctx: &FileCtx<'_>, rec: &Record<'_>, out: &mut Vec<Finding>) {
        if let Some(e) = rec.event() {
            let ev = FlatEvent::from_event(e);
            let excerpt = |max| move || e.excerpt(max);
            let text = RecordText { short: &excerpt(SIGMA_EVIDENCE), whole: &excerpt(MAX_EVIDENCE) };
            self.hits(ctx, rec, &ev, &route_of(e), text, out);
            return;
        }
        let Some(log) = column_log(ctx.kind) else { return };
        if rec.header().is_none() {
            return;
        }
        let route = log.route();
        let view = self.rules.view_fields(&route);
        let ev = flat_columns(rec, log, view.as_deref().map(Vec::as_slice));
        let line = || rec.raw.to_string();
        self.hits(ctx, rec, &ev, &route, RecordText { short: &line, whole: &line }, out);
    }

    fn finish(&self) -> Vec<Finding> {
        let (inputs, truncated) = match self.inputs.lock() {
            Ok(mut g) => (std::mem::take(&mut g.0), g.1),
            Err(_) => return Vec::new(),
        };
        self.rules
            .correlate(inputs)
            .iter()
            .filter(|h| self.rules.correlations()[h.correlation].generates)
            .map(|h| self.correlation_finding(h, truncated))
            .collect()
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
        assert_eq!(cve_ids(&tags), vec!["CVE-2021-26855"]);
        assert_eq!(category_of(&attack_ids(&tags)), Category::Exploitation);
        assert_eq!(severity_of(Some("informational")), Severity::Info);
        assert_eq!(severity_of(Some("critical")), Severity::Critical);
        assert_eq!(severity_of(None), Severity::Medium);
    }

    #[test]
    fn raw_anchors_leave_out_what_raw_bytes_may_spell_otherwise() {
        assert_eq!(raw_anchor("kiwitool", false), "iwitool");
        assert_eq!(raw_anchor("python-requests/2.25.1", false), "python-reque");
        assert_eq!(raw_anchor("tool \"evil", true), "tool ");
        assert_eq!(raw_anchor("tool \"evil", false), "tool \"evil");
        assert_eq!(raw_anchor("ss", false), "");
    }

    #[test]
    fn iis_anchors_hold_in_the_raw_line() {
        assert_eq!(iis_line_anchor("python requests"), "python+requests");
        assert_eq!(iis_line_anchor("logon.aspx?x=1"), "logon.aspx");
        assert_eq!(iis_line_anchor("?cmd=whoami"), "cmd=whoami");
    }
}
