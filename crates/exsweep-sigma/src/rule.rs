//! Sigma YAML documents, read into typed rules: detection rules, correlation rules and filters
//! (Sigma v2), and the v1 multi-document collections (`action: global`, `reset`, `repeat`).
//! Every problem is an error string naming what is wrong; the caller ties it to the file.

use crate::value::{CmpOp, scalar_text as text};
use std::collections::BTreeMap;
use yaml_rust2::Yaml;
use yaml_rust2::yaml::Hash;

/// The logsource a rule asks for; fields are lowercased, `None` when not given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSourceSpec {
    pub product: Option<String>,
    pub service: Option<String>,
    pub category: Option<String>,
}

/// What findings cite of a rule.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleInfo {
    pub title: String,
    pub id: Option<String>,
    /// The rule's `name`, by which correlations may refer to it.
    pub name: Option<String>,
    pub level: Option<String>,
    pub status: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// Kept for the DRL 1.1 licence of SigmaHQ rules: cite the author wherever a rule is cited.
    pub author: Option<String>,
    /// The file the rule came from.
    pub origin: String,
    /// Attributes outside the Sigma specification (exsweep's own rules use `exsweep:`).
    pub custom: BTreeMap<String, serde_json::Value>,
}

/// A detection rule before compilation.
#[derive(Clone, Debug)]
pub struct RuleDoc {
    pub info: RuleInfo,
    pub logsource: LogSourceSpec,
    /// Search identifiers in file order.
    pub detection: Vec<(String, Yaml)>,
    pub conditions: Vec<String>,
}

/// Which rules a filter applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterTargets {
    Any,
    Rules(Vec<String>),
}

/// A filter (Sigma v2 meta rule): its condition is added with `and` to each rule it names.
#[derive(Clone, Debug)]
pub struct FilterDoc {
    pub title: String,
    pub id: Option<String>,
    pub origin: String,
    pub logsource: LogSourceSpec,
    pub targets: FilterTargets,
    pub detection: Vec<(String, Yaml)>,
    pub condition: String,
}

/// Correlation types of the Sigma v2 specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorrelationKind {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
}

/// A correlation condition: every bound must hold (`gt: 10` and `lte: 20` is a range).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CountCondition {
    pub bounds: Vec<(Option<CmpOp>, f64)>,
}

impl CountCondition {
    /// `None` as the op means equality (`eq`).
    pub fn holds(&self, n: f64) -> bool {
        self.bounds.iter().all(|(op, v)| match op {
            Some(op) => op.holds(n, *v),
            None => n == *v,
        })
    }
}

/// A correlation rule before it is tied to its rules.
#[derive(Clone, Debug)]
pub struct CorrelationDoc {
    pub info: RuleInfo,
    pub kind: CorrelationKind,
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    pub timespan_ms: i64,
    /// `None` for temporal types without a condition (all rules must appear).
    pub condition: Option<CountCondition>,
    /// The field whose distinct values `value_count` counts.
    pub field: Option<String>,
    /// alias → (rule name or id → field name).
    pub aliases: BTreeMap<String, BTreeMap<String, String>>,
    pub generate: bool,
}

/// One YAML document.
#[derive(Clone, Debug)]
pub enum Document {
    Rule(Box<RuleDoc>),
    Correlation(Box<CorrelationDoc>),
    Filter(Box<FilterDoc>),
}

fn key(s: &str) -> Yaml {
    Yaml::String(s.to_string())
}

fn get<'a>(h: &'a Hash, k: &str) -> Option<&'a Yaml> {
    h.get(&key(k))
}

fn get_text(h: &Hash, k: &str) -> Option<String> {
    get(h, k).and_then(text)
}

fn strings(y: Option<&Yaml>) -> Vec<String> {
    match y {
        Some(Yaml::Array(a)) => a.iter().filter_map(text).collect(),
        Some(y) => text(y).into_iter().collect(),
        None => Vec::new(),
    }
}

/// YAML to JSON, for custom attributes.
pub fn to_json(y: &Yaml) -> serde_json::Value {
    use serde_json::Value;
    match y {
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Real(s) => {
            s.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(Value::String(s.clone()), Value::Number)
        }
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::Hash(h) => Value::Object(h.iter().filter_map(|(k, v)| Some((text(k)?, to_json(v)))).collect()),
        _ => Value::Null,
    }
}

/// The attributes of the Sigma specification; anything else is a custom attribute.
const STANDARD: &[&str] = &[
    "title",
    "id",
    "name",
    "related",
    "status",
    "description",
    "license",
    "author",
    "references",
    "date",
    "modified",
    "logsource",
    "detection",
    "fields",
    "falsepositives",
    "level",
    "tags",
    "scope",
    "taxonomy",
    "correlation",
    "filter",
    "action",
    "generate",
    "simulation",
    "regression_tests_path",
];

fn info_of(h: &Hash, origin: &str) -> Result<RuleInfo, String> {
    let title = get_text(h, "title").filter(|t| !t.trim().is_empty()).ok_or("no title")?;
    let custom = h
        .iter()
        .filter_map(|(k, v)| {
            let k = text(k)?;
            (!STANDARD.contains(&k.as_str())).then(|| (k, to_json(v)))
        })
        .collect();
    Ok(RuleInfo {
        title,
        id: get_text(h, "id"),
        name: get_text(h, "name"),
        level: get_text(h, "level").map(|l| l.to_ascii_lowercase()),
        status: get_text(h, "status"),
        description: get_text(h, "description"),
        tags: strings(get(h, "tags")),
        author: get_text(h, "author"),
        origin: origin.to_string(),
        custom,
    })
}

fn logsource_of(h: &Hash) -> Result<LogSourceSpec, String> {
    let Some(Yaml::Hash(ls)) = get(h, "logsource") else {
        return Err("no logsource".into());
    };
    let f = |k: &str| get_text(ls, k).map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty());
    Ok(LogSourceSpec { product: f("product"), service: f("service"), category: f("category") })
}

/// Search identifiers and the condition(s) of a detection (or filter) block.
/// Search identifiers (in file order) and conditions.
type DetectionParts = (Vec<(String, Yaml)>, Vec<String>);

fn detection_of(d: &Hash, skip: &[&str]) -> Result<DetectionParts, String> {
    let conditions = match get(d, "condition") {
        Some(Yaml::Array(a)) => {
            a.iter().map(|c| text(c).ok_or("a condition is not a string")).collect::<Result<_, _>>()?
        }
        Some(c) => vec![text(c).ok_or("the condition is not a string")?],
        None => return Err("no condition".into()),
    };
    let mut idents = Vec::new();
    for (k, v) in d {
        let k = text(k).ok_or("a search identifier is not a string")?;
        if k == "condition" || k == "timeframe" || skip.contains(&k.as_str()) {
            continue;
        }
        idents.push((k, v.clone()));
    }
    Ok((idents, conditions))
}

fn timespan_ms(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().map_err(|_| format!("timespan '{s}' is not a number and a unit"))?;
    let per = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        "M" => 30 * 86_400_000,
        "y" => 365 * 86_400_000,
        _ => return Err(format!("timespan '{s}': unit must be s, m, h or d")),
    };
    if n <= 0 {
        return Err(format!("timespan '{s}' must be positive"));
    }
    n.checked_mul(per).ok_or_else(|| format!("timespan '{s}' is too long"))
}

fn count_condition(y: &Yaml) -> Result<(CountCondition, Option<String>), String> {
    let Yaml::Hash(h) = y else { return Err("the correlation condition must be a map (gte: 10)".into()) };
    let mut c = CountCondition::default();
    let mut field = None;
    for (k, v) in h {
        let k = text(k).unwrap_or_default();
        if k == "field" {
            field = text(v);
            continue;
        }
        let n = match v {
            Yaml::Integer(i) => *i as f64,
            Yaml::Real(r) => r.parse().map_err(|_| format!("condition {k}: not a number"))?,
            _ => return Err(format!("condition {k}: not a number")),
        };
        let op = match k.as_str() {
            "gt" => Some(CmpOp::Gt),
            "gte" => Some(CmpOp::Gte),
            "lt" => Some(CmpOp::Lt),
            "lte" => Some(CmpOp::Lte),
            "eq" => None,
            other => return Err(format!("unknown correlation condition '{other}'")),
        };
        c.bounds.push((op, n));
    }
    Ok((c, field))
}

fn correlation_of(h: &Hash, c: &Hash, origin: &str) -> Result<CorrelationDoc, String> {
    let info = info_of(h, origin)?;
    let kind = match get_text(c, "type").as_deref() {
        Some("event_count") => CorrelationKind::EventCount,
        Some("value_count") => CorrelationKind::ValueCount,
        Some("temporal") => CorrelationKind::Temporal,
        Some("temporal_ordered") => CorrelationKind::TemporalOrdered,
        Some(other) => {
            return Err(format!(
                "correlation type '{other}' is not one of event_count, value_count, temporal, temporal_ordered"
            ));
        }
        None => return Err("correlation without a type".into()),
    };
    let rules = strings(get(c, "rules"));
    if rules.is_empty() {
        return Err("correlation without rules".into());
    }
    let timespan =
        get_text(c, "timespan").or_else(|| get_text(c, "timeframe")).ok_or("correlation without a timespan")?;
    let (condition, field) = match get(c, "condition") {
        Some(y) => {
            let (c, f) = count_condition(y)?;
            (Some(c), f)
        }
        None => (None, None),
    };
    let field = field.or_else(|| get_text(c, "field"));
    match kind {
        CorrelationKind::EventCount | CorrelationKind::ValueCount if condition.is_none() => {
            return Err("event_count and value_count correlations need a condition".into());
        }
        CorrelationKind::ValueCount if field.is_none() => {
            return Err("value_count needs a field in its condition".into());
        }
        _ => {}
    }
    let mut aliases = BTreeMap::new();
    if let Some(Yaml::Hash(a)) = get(c, "aliases") {
        for (alias, m) in a {
            let Yaml::Hash(m) = m else { return Err("aliases must map rule names to fields".into()) };
            let per: BTreeMap<String, String> = m.iter().filter_map(|(r, f)| Some((text(r)?, text(f)?))).collect();
            aliases.insert(text(alias).unwrap_or_default(), per);
        }
    }
    let generate = matches!(get(c, "generate").or_else(|| get(h, "generate")), Some(Yaml::Boolean(true)));
    Ok(CorrelationDoc {
        info,
        kind,
        rules,
        group_by: strings(get(c, "group-by")),
        timespan_ms: timespan_ms(&timespan)?,
        condition,
        field,
        aliases,
        generate,
    })
}

fn filter_of(h: &Hash, f: &Hash, origin: &str) -> Result<FilterDoc, String> {
    let title = get_text(h, "title").ok_or("no title")?;
    let targets = match get(f, "rules") {
        Some(Yaml::String(s)) if s.eq_ignore_ascii_case("any") => FilterTargets::Any,
        Some(y) => FilterTargets::Rules(strings(Some(y))),
        None => return Err("filter without rules".into()),
    };
    let (detection, conditions) = detection_of(f, &["rules"])?;
    let [condition] = <[String; 1]>::try_from(conditions).map_err(|_| "a filter has exactly one condition")?;
    Ok(FilterDoc {
        title,
        id: get_text(h, "id"),
        origin: origin.to_string(),
        logsource: logsource_of(h)?,
        targets,
        detection,
        condition,
    })
}

/// Reads one document (already merged with any v1 `global` document).
pub fn document(h: &Hash, origin: &str) -> Result<Document, String> {
    if let Some(Yaml::Hash(c)) = get(h, "correlation") {
        return Ok(Document::Correlation(Box::new(correlation_of(h, c, origin)?)));
    }
    if let Some(Yaml::Hash(f)) = get(h, "filter") {
        return Ok(Document::Filter(Box::new(filter_of(h, f, origin)?)));
    }
    let info = info_of(h, origin)?;
    let logsource = logsource_of(h)?;
    let Some(Yaml::Hash(d)) = get(h, "detection") else {
        return Err("no detection".into());
    };
    let (detection, conditions) = detection_of(d, &[])?;
    Ok(Document::Rule(Box::new(RuleDoc { info, logsource, detection, conditions })))
}

/// A document's title (when it has one) and what reading it gave.
pub type TitledDocument = (Option<String>, Result<Document, String>);

/// Deep merge for v1 collections: maps merge, anything else is replaced.
fn merge(base: &Yaml, over: &Yaml) -> Yaml {
    match (base, over) {
        (Yaml::Hash(a), Yaml::Hash(b)) => {
            let mut out = a.clone();
            for (k, v) in b {
                let merged = match a.get(k) {
                    Some(old) => merge(old, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Yaml::Hash(out)
        }
        (_, o) => o.clone(),
    }
}

/// Every document of a YAML text, each with its title (when known) and what it gave.
pub fn documents(text: &str, origin: &str) -> Result<Vec<TitledDocument>, String> {
    let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| {
        format!("not valid YAML: {} at line {}, column {}", e.info(), e.marker().line(), e.marker().col() + 1)
    })?;
    let mut out = Vec::new();
    let mut global: Option<Yaml> = None;
    let mut previous: Option<Yaml> = None;
    for doc in docs {
        let Yaml::Hash(h) = &doc else {
            if matches!(doc, Yaml::Null) {
                continue;
            }
            out.push((None, Err("a YAML document is not a map".to_string())));
            continue;
        };
        match get_text(h, "action").as_deref() {
            Some("global") => {
                let mut g = h.clone();
                g.remove(&key("action"));
                global = Some(Yaml::Hash(g));
                continue;
            }
            Some("reset") => {
                global = None;
                continue;
            }
            _ => {}
        }
        let mut merged = match (&global, get_text(h, "action").as_deref(), &previous) {
            (_, Some("repeat"), Some(prev)) => merge(prev, &doc),
            (Some(g), _, _) => merge(g, &doc),
            _ => doc.clone(),
        };
        if let Yaml::Hash(m) = &mut merged {
            m.remove(&key("action"));
        }
        previous = Some(merged.clone());
        let Yaml::Hash(m) = &merged else { continue };
        out.push((get_text(m, "title"), document(m, origin)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_correlation_and_filter_documents() {
        let text = "title: Failed logon\nname: failed_logon\nlogsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n    EventID: 4625\n  condition: sel\n---\ntitle: Brute force\ncorrelation:\n  type: event_count\n  rules: [failed_logon]\n  group-by: [TargetUserName]\n  timespan: 5m\n  condition:\n    gte: 10\nlevel: high\n---\ntitle: Not admins\nlogsource:\n  product: windows\nfilter:\n  rules: any\n  sel:\n    User|startswith: adm_\n  condition: not sel\n";
        let docs = documents(text, "t.yml").unwrap();
        assert_eq!(docs.len(), 3);
        let Ok(Document::Rule(r)) = &docs[0].1 else { panic!("{:?}", docs[0]) };
        assert_eq!(r.info.name.as_deref(), Some("failed_logon"));
        assert_eq!(r.logsource.service.as_deref(), Some("security"));
        let Ok(Document::Correlation(c)) = &docs[1].1 else { panic!() };
        assert_eq!(c.timespan_ms, 300_000);
        assert!(c.condition.as_ref().unwrap().holds(10.0));
        assert!(!c.condition.as_ref().unwrap().holds(9.0));
        let Ok(Document::Filter(f)) = &docs[2].1 else { panic!() };
        assert_eq!(f.targets, FilterTargets::Any);
        assert_eq!(f.condition, "not sel");
    }

    #[test]
    fn v1_global_collections_merge() {
        let text = "action: global\ntitle: T\nlogsource:\n  product: windows\ndetection:\n  condition: sel\n---\nlogsource:\n  service: security\ndetection:\n  sel:\n    EventID: 1\n---\nlogsource:\n  service: system\ndetection:\n  sel:\n    EventID: 2\n";
        let docs = documents(text, "c.yml").unwrap();
        assert_eq!(docs.len(), 2);
        for (_, d) in &docs {
            let Ok(Document::Rule(r)) = d else { panic!("{d:?}") };
            assert_eq!(r.logsource.product.as_deref(), Some("windows"));
            assert_eq!(r.conditions, vec!["sel".to_string()]);
        }
    }

    #[test]
    fn huge_timespans_are_refused() {
        assert!(timespan_ms("9223372036854775807s").unwrap_err().contains("too long"));
        assert!(timespan_ms("300000000000y").is_err());
        assert_eq!(timespan_ms("90m"), Ok(5_400_000));
    }

    #[test]
    fn bad_yaml_names_the_line() {
        let e = documents("title: x\n  bad: [\n", "b.yml").unwrap_err();
        assert!(e.contains("line"), "{e}");
    }
}
