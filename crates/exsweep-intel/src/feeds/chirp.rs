//! CISA CHIRP indicator YAML: documents separated by `---`, each with `name`, `description`,
//! `confidence` (0–10), `ioc_type` and an `indicator` map. `network` blocks of IPs and domains
//! become network indicators; `yara` rules are kept as text with their `files` glob for the YARA
//! crate; `events` regexes (`~= `) become event regexes. What exsweep cannot express (registry
//! checks, `==`/`!=` event tests) is a problem naming the document, never dropped silently.

use super::{Sink, numbered_lines};
use crate::actors;
use crate::indicator::{Indicator, IndicatorKind};
use crate::normalize;
use yaml_rust2::{Yaml, YamlLoader};

/// Parses every document of a CHIRP file.
pub(crate) fn parse(text: &str, sink: &mut Sink<'_>) {
    for doc in documents(text) {
        let start = doc.start;
        let docs = match YamlLoader::load_from_str(&doc.text) {
            Ok(d) => d,
            Err(e) => {
                sink.entries += 1;
                let at = doc.first + (e.marker().line() as u64).saturating_sub(1);
                sink.problem(at.clamp(start, doc.last), format!("YAML error: {e}"));
                continue;
            }
        };
        for yaml in docs {
            if yaml.is_null() {
                continue;
            }
            sink.entries += 1;
            document(&yaml, start, sink);
        }
    }
}

/// One `---`-separated document: its text, the line of its first content line (`start`), and
/// the lines its text spans (`first`..=`last`, for YAML error positions).
struct Doc {
    text: String,
    start: u64,
    first: u64,
    last: u64,
}

/// The documents of a multi-document YAML text.
fn documents(text: &str) -> Vec<Doc> {
    let mut out = Vec::new();
    let mut cur = Doc { text: String::new(), start: 0, first: 0, last: 0 };
    for (n, line) in numbered_lines(text) {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            let done = std::mem::replace(&mut cur, Doc { text: String::new(), start: 0, first: 0, last: 0 });
            if done.start > 0 {
                out.push(done);
            }
            continue;
        }
        if cur.first == 0 {
            cur.first = n;
        }
        if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            if cur.start == 0 {
                cur.start = n;
            }
            cur.last = n;
        }
        cur.text.push_str(line);
        cur.text.push('\n');
    }
    if cur.start > 0 {
        out.push(cur);
    }
    out
}

fn text_of(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// CHIRP descriptions are blocks of quoted lines; this joins them into one line.
fn clean_description(s: &str) -> String {
    s.lines().map(|l| l.trim().trim_matches('"').trim()).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

fn document(doc: &Yaml, line: u64, sink: &mut Sink<'_>) {
    let name = doc["name"].as_str().unwrap_or("").trim().to_string();
    let label = if name.is_empty() { format!("document at line {line}") } else { format!("{name:?}") };
    let description = doc["description"].as_str().map(clean_description).unwrap_or_default();
    let confidence = text_of(&doc["confidence"]);
    let ioc_type = doc["ioc_type"].as_str().unwrap_or("").trim().to_ascii_lowercase();
    let indicator = &doc["indicator"];
    let who: Vec<String> = actors::actors_in(&format!("{name} {description}")).into_iter().map(String::from).collect();
    let base = |kind: IndicatorKind, value: String| {
        let mut ind = Indicator::new(kind, value);
        ind.description = name.clone();
        ind.actors = who.clone();
        if !description.is_empty() {
            ind.attrs.insert("chirp_description".into(), description.clone());
        }
        if let Some(c) = &confidence {
            ind.attrs.insert("confidence".into(), c.clone());
        }
        ind.attrs.insert("name".into(), name.clone());
        ind
    };
    let before = sink.indicators.len() + sink.problems.len();
    match ioc_type.as_str() {
        "network" => {
            let Some(map) = indicator.as_hash() else {
                sink.problem(line, format!("{label}: network indicator without an `indicator` map"));
                return;
            };
            for (k, v) in map {
                let key = k.as_str().unwrap_or("").to_ascii_lowercase();
                let hint = match key.as_str() {
                    "ips" | "ip" | "ip_addresses" => IndicatorKind::Ip,
                    "domains" | "domain" | "hosts" => IndicatorKind::Domain,
                    _ => {
                        sink.problem(
                            line,
                            format!("{label}: network key `{key}` not expressible (ips and domains are)"),
                        );
                        continue;
                    }
                };
                let values: Vec<String> = match v {
                    Yaml::Array(a) => a.iter().filter_map(text_of).collect(),
                    other => text_of(other).map(|s| vec![s]).unwrap_or_default(),
                };
                for block in values {
                    for item in block.split(|c: char| c.is_whitespace() || c == ',').filter(|s| !s.is_empty()) {
                        match normalize::network(item, hint) {
                            Ok((k, v)) => {
                                let ind = base(k, v);
                                sink.add(line, ind);
                            }
                            Err(e) => sink.problem(line, format!("{label}: {e}")),
                        }
                    }
                }
            }
        }
        "yara" => {
            let rule = indicator["rule"].as_str().unwrap_or("").trim().to_string();
            if rule.is_empty() {
                sink.problem(line, format!("{label}: yara indicator without a `rule`"));
                return;
            }
            let files: Vec<String> = match &indicator["files"] {
                Yaml::Array(a) => a.iter().filter_map(text_of).collect(),
                other => text_of(other).into_iter().collect(),
            };
            let mut ind = base(IndicatorKind::YaraRule, rule.clone());
            if !files.is_empty() {
                ind.attrs.insert("files".into(), files.join("\n"));
            }
            if let Some(r) = rule.lines().find_map(|l| l.trim().strip_prefix("rule ")) {
                let rname: String = r.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                ind.attrs.insert("rule_name".into(), rname);
            }
            sink.add(line, ind);
        }
        "events" => {
            let Some(map) = indicator.as_hash() else {
                sink.problem(line, format!("{label}: events indicator without an `indicator` map"));
                return;
            };
            let event_type = indicator["event_type"].as_str().unwrap_or("").to_string();
            for (k, v) in map {
                let field = k.as_str().unwrap_or("").to_string();
                if field == "event_type" {
                    continue;
                }
                let tests: Vec<String> = match v {
                    Yaml::Array(a) => a.iter().filter_map(text_of).collect(),
                    other => text_of(other).into_iter().collect(),
                };
                for t in tests {
                    let t = t.trim();
                    if let Some(re) = t.strip_prefix("~=") {
                        let mut ind = base(IndicatorKind::EventRegex, re.trim().to_string());
                        ind.attrs.insert("field".into(), field.clone());
                        if !event_type.is_empty() {
                            ind.attrs.insert("event_type".into(), event_type.clone());
                        }
                        sink.add(line, ind);
                    } else {
                        let op = if t.starts_with("==") || t.starts_with("!=") { &t[..2] } else { "a plain value" };
                        sink.problem(
                            line,
                            format!("{label}: event test `{field}` with {op} is not expressible (only `~=` regexes are kept)"),
                        );
                    }
                }
            }
        }
        "registry" => {
            sink.problem(
                line,
                format!("{label}: registry indicator not expressible (exsweep reads no registry hives)"),
            );
        }
        "" => sink.problem(line, format!("{label}: no ioc_type")),
        other => sink.problem(line, format!("{label}: ioc_type `{other}` not expressible")),
    }
    if sink.indicators.len() + sink.problems.len() == before {
        sink.problem(line, format!("{label}: no indicators in the document"));
    }
}

#[cfg(test)]
mod tests {
    use crate::feeds::FeedFormat;
    use crate::indicator::{IndicatorKind as K, IocSet};

    const YAML: &str = r#"##########################
# CHIRP IOC indicator file #
##########################
---
name: "IP addresesses related to possible Hafnium activity"
description: |
  "Volexity has seen attackers leverage the following IP addresses."
confidence: 3
ioc_type: "network"
indicator:
  ips: |
    103.77.192.219
    5.2.69[.]14
    not-an-ip
---
name: "RCE via OAB VD cmdlet"
description: |
  "Evidence of this activity can be seen in Exchange's ECP Server logs."
confidence: 8
ioc_type: "yara"
indicator:
  files: "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Logging\\ECP\\Server\\*.LOG"
  rule: |
    rule unauthenticated_execution
    {
      strings:
      $req= "S:CMD=Set-OabVirtualDirectory.ExternalUrl='"
      condition:
      any of ($req)
    }
---
name: "Possible CVE-2021-26857 Exploitation"
confidence: 8
ioc_type: "events"
indicator:
  event_type: "Application"
  event.event_data: "~= .*System.InvalidCastException.*"
  event.provider: "== MSExchange Unified Messaging"
---
name: "Run key"
ioc_type: "registry"
indicator:
  path: "HKLM\\Software\\x"
---
name: [unclosed
"#;

    #[test]
    fn chirp_documents() {
        let mut set = IocSet::new();
        set.add_text("AA21062A.yaml", YAML, FeedFormat::Chirp);
        let c = set.counts();
        assert_eq!((c[&K::Ip], c[&K::YaraRule], c[&K::EventRegex]), (2, 1, 1), "{:?}", set.problems);
        let ip = set.get(K::Ip, "5.2.69.14").unwrap();
        assert_eq!(ip.actors, vec!["HAFNIUM"]);
        assert_eq!(ip.attrs["confidence"], "3");
        assert_eq!(ip.sources[0].line, 5);
        let y = set.yara_rules().next().unwrap();
        assert_eq!(y.attrs["rule_name"], "unauthenticated_execution");
        assert!(y.attrs["files"].ends_with(r"ECP\Server\*.LOG"));
        assert!(y.value.contains("Set-OabVirtualDirectory"));
        let ev = set.indicators().iter().find(|i| i.kind == K::EventRegex).unwrap();
        assert_eq!(ev.value, ".*System.InvalidCastException.*");
        assert_eq!(ev.attrs["event_type"], "Application");
        let reasons: Vec<String> = set.problems.iter().map(|p| format!("{}: {}", p.line.unwrap(), p.reason)).collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons[0].starts_with("5: ") && reasons[0].contains("not-an-ip"));
        assert!(reasons[1].starts_with("32: ") && reasons[1].contains("== is not expressible"));
        assert!(reasons[2].starts_with("40: ") && reasons[2].contains("registry"));
        assert!(reasons[3].starts_with("45: ") && reasons[3].contains("YAML error"));
        assert_eq!(set.files[0].entries, 5);
    }
}
