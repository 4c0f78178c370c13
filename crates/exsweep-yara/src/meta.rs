//! What a finding needs to know of each compiled rule: its meta (exsweep's `id`, `title`,
//! `severity`, `category`, `actors`, `cves`, `attack`; Loki's `score`; `author`, `description`,
//! `reference` kept for DRL 1.1 attribution), its tags and the file it came from; and the defaults
//! for rules that do not say (signature-base's).

use exsweep_core::model::{Category, Severity};
use std::collections::HashMap;

/// Facts about one rule.
#[derive(Clone, Debug, Default)]
pub struct RuleInfo {
    pub name: String,
    pub origin: String,
    pub private: bool,
    pub id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub reference: Option<String>,
    pub score: Option<i64>,
    pub severity: Option<Severity>,
    pub category: Option<Category>,
    pub actors: Vec<String>,
    pub cves: Vec<String>,
    pub attack: Vec<String>,
    pub tags: Vec<String>,
}

/// Rule facts by (namespace, identifier); namespace `f<i>` is the i-th source.
pub fn collect(rules: &yara_x::Rules, origins: &[String]) -> HashMap<(String, String), RuleInfo> {
    let mut out = HashMap::new();
    for r in rules.iter() {
        let ns = r.namespace().to_string();
        let origin = ns.strip_prefix('f').and_then(|i| i.parse::<usize>().ok()).and_then(|i| origins.get(i));
        let mut info = RuleInfo {
            name: r.identifier().to_string(),
            origin: origin.cloned().unwrap_or_else(|| ns.clone()),
            private: r.is_private(),
            tags: r.tags().map(|t| t.identifier().to_string()).collect(),
            ..RuleInfo::default()
        };
        for (key, value) in r.metadata() {
            let text = match value {
                yara_x::MetaValue::String(s) => s.to_string(),
                yara_x::MetaValue::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                yara_x::MetaValue::Integer(i) => i.to_string(),
                yara_x::MetaValue::Float(f) => f.to_string(),
                yara_x::MetaValue::Bool(b) => b.to_string(),
            };
            let list = || text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            match key {
                "id" => info.id = Some(text),
                "title" => info.title = Some(text),
                "description" => info.description = Some(text),
                "author" => info.author = Some(text),
                "reference" => info.reference = Some(text),
                "score" => info.score = text.trim().parse().ok(),
                "severity" => info.severity = Severity::parse(&text),
                "category" => info.category = category(&text),
                "actors" => info.actors = list(),
                "cves" => info.cves = list(),
                "attack" => info.attack = list(),
                _ => {}
            }
        }
        out.insert((ns, info.name.clone()), info);
    }
    out
}

fn category(s: &str) -> Option<Category> {
    Some(match s {
        "webshell" => Category::Webshell,
        "post_exploitation" => Category::PostExploitation,
        "exploitation" => Category::Exploitation,
        "ioc" => Category::Ioc,
        _ => return None,
    })
}

/// The category of a rule that does not say, from signature-base's naming (`WEBSHELL_`,
/// `HKTL_`, `APT_WEBSHELL_`, ...) and whether the file is a server script.
pub fn category_by_name(name: &str, script_file: bool) -> Category {
    let n = name.to_ascii_uppercase();
    if n.contains("WEBSHELL") || n.contains("CHOPPER") || (script_file && n.contains("ASPX")) {
        Category::Webshell
    } else if n.starts_with("HKTL") || n.contains("MIMIKATZ") || n.contains("DUMP") || n.contains("RANSOM") {
        Category::PostExploitation
    } else {
        Category::Ioc
    }
}

/// Severity from Loki's `score` (default 70, as Loki scores a YARA match without one): 80 and
/// above is high (Loki's ALERT threshold in Loki-RS), 60 to 79 medium (WARNING), 40 to 59 low
/// (NOTICE), below that info. A web shell match at 70 or more is high: a shell on an Exchange
/// server is a compromise.
pub fn severity_by_score(score: Option<i64>, category: Category) -> Severity {
    let s = score.unwrap_or(70);
    match s {
        _ if s >= 80 => Severity::High,
        _ if s >= 70 && category == Category::Webshell => Severity::High,
        60.. => Severity::Medium,
        40.. => Severity::Low,
        _ => Severity::Info,
    }
}
