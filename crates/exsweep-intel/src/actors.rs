//! The activity groups named for the 2021 Exchange exploitation (data/pack/actors.tsv, embedded):
//! canonical names, the aliases a source states, and the mapping from free text (an ESET
//! "Details" cell, a Loki comment such as "HAFNIUM Webshells") to canonical names.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::sync::OnceLock;

/// The embedded actor table.
pub const ACTORS_TSV: &str = include_str!("../data/pack/actors.tsv");

/// One activity group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The canonical name, as findings carry it.
    pub name: &'static str,
    /// Names other vendors use, each stated by one of `sources`.
    pub aliases: Vec<&'static str>,
    /// Further phrases that name the group in feed text (a leading `=`: case-sensitive).
    pub terms: Vec<&'static str>,
    /// Source tags (see data/pack/sources.tsv).
    pub sources: Vec<&'static str>,
    pub note: &'static str,
}

struct Table {
    actors: Vec<Actor>,
    /// Problems in the embedded table (a unit test keeps this empty).
    problems: Vec<String>,
    matcher: Option<AhoCorasick>,
    /// Per pattern: actor index and whether it matches case-sensitively.
    patterns: Vec<(usize, bool, &'static str)>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| build(ACTORS_TSV))
}

fn build(text: &'static str) -> Table {
    let mut actors = Vec::new();
    let mut problems = Vec::new();
    let split =
        |s: &'static str| -> Vec<&'static str> { s.split('|').map(str::trim).filter(|s| !s.is_empty()).collect() };
    let mut header_seen = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !header_seen {
            header_seen = true;
            if line.starts_with("name\t") {
                continue;
            }
        }
        let cols: Vec<&'static str> = line.split('\t').collect();
        if cols.len() != 5 {
            problems.push(format!("actors.tsv:{}: {} columns, 5 expected", n + 1, cols.len()));
            continue;
        }
        actors.push(Actor {
            name: cols[0].trim(),
            aliases: split(cols[1]),
            terms: split(cols[2]),
            sources: split(cols[3]),
            note: cols[4].trim(),
        });
    }
    let mut patterns: Vec<(usize, bool, &'static str)> = Vec::new();
    for (i, a) in actors.iter().enumerate() {
        // A case-sensitive term replaces the case-insensitive reading of the same words.
        let strict: Vec<&str> = a.terms.iter().filter_map(|t| t.strip_prefix('=')).collect();
        for t in std::iter::once(&a.name).chain(&a.aliases).chain(&a.terms) {
            match t.strip_prefix('=') {
                Some(cs) => patterns.push((i, true, cs)),
                None if strict.iter().any(|s| s.eq_ignore_ascii_case(t)) => {}
                None => patterns.push((i, false, *t)),
            }
        }
    }
    let matcher = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(patterns.iter().map(|p| p.2))
        .map_err(|e| problems.push(format!("actor terms: {e}")))
        .ok();
    Table { actors, problems, matcher, patterns }
}

/// Every actor of the table, in table order.
pub fn all() -> &'static [Actor] {
    &table().actors
}

/// Problems in the embedded table (empty unless the data file is broken).
pub fn problems() -> &'static [String] {
    &table().problems
}

/// The actor named `name` (canonical name or alias, case-insensitive).
pub fn get(name: &str) -> Option<&'static Actor> {
    let n = name.trim();
    all().iter().find(|a| a.name.eq_ignore_ascii_case(n) || a.aliases.iter().any(|x| x.eq_ignore_ascii_case(n)))
}

/// The canonical name for `name` (a canonical name or an alias).
pub fn canonical(name: &str) -> Option<&'static str> {
    get(name).map(|a| a.name)
}

/// The canonical names of the actors `text` names, in table order. URLs in the text are not
/// read (a blog address such as `.../hafnium-targeting-exchange-servers/` names the blog, not
/// the actor of each indicator listed under it); names must stand as whole words.
pub fn actors_in(text: &str) -> Vec<&'static str> {
    let t = table();
    let Some(ac) = &t.matcher else { return Vec::new() };
    let cleaned = strip_urls(text);
    let mut found = vec![false; t.actors.len()];
    for m in ac.find_overlapping_iter(cleaned.as_str()) {
        let (actor, case_sensitive, pat) = t.patterns[m.pattern().as_usize()];
        if case_sensitive && &cleaned[m.start()..m.end()] != pat {
            continue;
        }
        let before = cleaned[..m.start()].chars().next_back();
        let after = cleaned[m.end()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        if word(before) || word(after) {
            continue;
        }
        found[actor] = true;
    }
    t.actors.iter().zip(found).filter(|(_, f)| *f).map(|(a, _)| a.name).collect()
}

fn strip_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let lower = word.trim_start_matches(['(', '[', '<', '"']).to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("hxxp")) {
            out.push_str(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_clean_and_complete() {
        assert!(problems().is_empty(), "{:?}", problems());
        let names: Vec<&str> = all().iter().map(|a| a.name).collect();
        for n in [
            "HAFNIUM",
            "Tick",
            "LuckyMouse",
            "Calypso",
            "Websiic",
            "Winnti Group",
            "Tonto Team",
            "ShadowPad (unclassified)",
            "Opera Cobalt Strike",
            "IIS backdoors",
            "Mikroceen",
            "DLTMiner",
            "DearCry operators",
        ] {
            assert!(names.contains(&n), "{n} missing");
        }
        for a in all() {
            assert!(!a.sources.is_empty(), "{} has no source", a.name);
        }
        assert!(!get("Winnti Group").unwrap().aliases.contains(&"APT41"));
    }

    #[test]
    fn aliases_resolve() {
        assert_eq!(canonical("apt27"), Some("LuckyMouse"));
        assert_eq!(canonical("Emissary Panda"), Some("LuckyMouse"));
        assert_eq!(canonical("Bronze Butler"), Some("Tick"));
        assert_eq!(canonical("CactusPete"), Some("Tonto Team"));
        assert_eq!(canonical("Silk Typhoon"), Some("HAFNIUM"));
        assert_eq!(canonical("APT41"), None);
    }

    #[test]
    fn free_text_maps_to_actors() {
        assert_eq!(actors_in("HAFNIUM Webshells - Exchange Exploitation - https://x/"), vec!["HAFNIUM"]);
        assert_eq!(actors_in("Mimikat_ssp used by Calypso"), vec!["Calypso"]);
        assert_eq!(actors_in("ShadowPad backdoor used by Tonto Team"), vec!["Tonto Team"]);
        assert_eq!(actors_in("Unclassified ShadowPad C&C server"), vec!["ShadowPad (unclassified)"]);
        assert_eq!(
            actors_in("Unattributed Shadowpad Activity in Exchange Exploiation IOC"),
            vec!["ShadowPad (unclassified)"]
        );
        assert_eq!(actors_in("“Opera Cobalt Strike” C&C & distribution server"), vec!["Opera Cobalt Strike"]);
        assert_eq!(actors_in("Opera Cobalt Strike loader"), vec!["Opera Cobalt Strike"]);
        assert_eq!(actors_in("Winnti Group PlugX C&C server"), vec!["Winnti Group"]);
        assert_eq!(actors_in("Winnti loader"), vec!["Winnti Group"]);
        assert_eq!(actors_in("IIS Backoor"), vec!["IIS backdoors"]);
        assert_eq!(actors_in("LuckyMouse SysUpdate C&C server"), vec!["LuckyMouse"]);
        assert_eq!(actors_in("Tick Delphi backdoor C&C server"), vec!["Tick"]);
        assert_eq!(actors_in("IP addresesses related to possible Hafnium activity"), vec!["HAFNIUM"]);
        // Whole words, case-sensitive "Tick", and URLs are not read.
        assert!(actors_in("a ticket for the stick").is_empty());
        assert!(actors_in("tick the box").is_empty());
        assert!(actors_in("Typical Webshell Names https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/").is_empty());
        assert_eq!(actors_in("Tick and Calypso both"), vec!["Tick", "Calypso"]);
    }
}
