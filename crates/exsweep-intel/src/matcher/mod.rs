//! The IOC matchers, built once from an [`IocSet`](crate::IocSet): [`IocFileCheck`] (hashes,
//! filename regexes, exact paths and names of swept files) and [`NetworkIocDetector`] (IPs,
//! ranges, domains, URLs and user agents in log records). Both give one finding per (file or
//! record, indicator), in indicator order, so output does not depend on thread count.

pub mod file;
pub mod literals;
pub mod network;
pub mod pathre;

pub use file::IocFileCheck;
pub use network::NetworkIocDetector;

use crate::indicator::Indicator;
use exsweep_core::model::Finding;
use serde_json::{Value, json};

/// Puts the indicator's facts into a finding's `extra`: `ioc_value`, `ioc_kind`, `ioc_sources`
/// (feed, file and line of every occurrence, with the actors and citations each gives),
/// `ioc_description`, `ioc_score`.
pub(crate) fn describe(f: &mut Finding, ind: &Indicator) {
    let sources: Vec<Value> = ind
        .sources
        .iter()
        .map(|s| {
            let mut o = json!({ "feed": s.feed, "file": s.file, "line": s.line });
            if !s.actors.is_empty() {
                o["actors"] = json!(s.actors);
            }
            if !s.cites.is_empty() {
                o["cites"] = json!(s.cites);
            }
            if !s.description.is_empty() && s.description != ind.description {
                o["description"] = json!(s.description);
            }
            o
        })
        .collect();
    let x = &mut f.extra;
    x.insert("ioc_value".into(), ind.value.clone().into());
    x.insert("ioc_kind".into(), ind.kind.as_str().into());
    x.insert("ioc_sources".into(), Value::Array(sources));
    x.insert("ioc_description".into(), ind.description.clone().into());
    x.insert("ioc_score".into(), ind.score.map_or(Value::Null, |s| s.into()));
    f.rule_source = "ioc".into();
    f.actors = ind.actors.clone();
}

/// Short form of where an indicator comes from, for titles: the pack's source tags, or the
/// first feed file and line, with the number of further sources.
pub(crate) fn source_label(ind: &Indicator) -> String {
    let Some(first) = ind.sources.first() else { return "no source".into() };
    let head = if first.cites.is_empty() {
        let name = first.file.rsplit(['/', '\\']).next().unwrap_or(&first.file);
        format!("{} {}:{}", first.feed, name, first.line)
    } else {
        first.cites.iter().map(|c| c.split(':').next().unwrap_or(c)).collect::<Vec<_>>().join(", ")
    };
    match ind.sources.len() {
        1 => head,
        n => format!("{head} +{} more", n - 1),
    }
}

/// `"; HAFNIUM, Tick"` or empty.
pub(crate) fn actor_label(ind: &Indicator) -> String {
    if ind.actors.is_empty() { String::new() } else { format!("; {}", ind.actors.join(", ")) }
}
