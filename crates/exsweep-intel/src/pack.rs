//! The built-in knowledge pack: IOCs and actors compiled from public sources, embedded in the
//! binary (data/pack/*.tsv, format in [`crate::feeds::pack`]), versioned by [`PACK_VERSION`].
//! Every entry names its sources (tags of data/pack/sources.tsv, each with its licence). This
//! module loads the pack, lists it (`exsweep intel list`), and writes the listing for people.

use crate::actors;
use crate::feeds::{Sink, pack as pack_format};
use crate::indicator::{Indicator, IndicatorKind, IocSet};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::OnceLock;

/// The pack version: year.month of the newest fact, and a revision.
pub const PACK_VERSION: &str = "2021.04-1";

/// The source table.
pub const SOURCES_TSV: &str = include_str!("../data/pack/sources.tsv");

/// The licence notices of the pack's sources (BSD-2-Clause notices of ESET and Volexity, DRL 1.1
/// attribution of signature-base, CC0 and TLP:WHITE notes), for the binary's documentation.
pub const LICENSES: &str = include_str!("../data/pack/LICENSES.md");

/// The indicator files, in load order.
pub const FILES: [(&str, &str); 5] = [
    ("cisa.tsv", include_str!("../data/pack/cisa.tsv")),
    ("microsoft.tsv", include_str!("../data/pack/microsoft.tsv")),
    ("volexity.tsv", include_str!("../data/pack/volexity.tsv")),
    ("eset.tsv", include_str!("../data/pack/eset.tsv")),
    ("community.tsv", include_str!("../data/pack/community.tsv")),
];

/// A publication the pack cites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackSource {
    pub tag: &'static str,
    pub citation: &'static str,
    pub licence: &'static str,
    pub url: &'static str,
}

impl PackSource {
    /// `TAG: citation [licence] url`, as sources record it.
    pub fn cite(&self) -> String {
        format!("{}: {} [{}] {}", self.tag, self.citation, self.licence, self.url)
    }
}

fn sources_table() -> &'static (Vec<PackSource>, Vec<String>) {
    static T: OnceLock<(Vec<PackSource>, Vec<String>)> = OnceLock::new();
    T.get_or_init(|| {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for (n, line) in SOURCES_TSV.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') || line.starts_with("tag\t") {
                continue;
            }
            let c: Vec<&'static str> = line.split('\t').collect();
            if c.len() != 4 {
                problems.push(format!("sources.tsv:{}: {} columns, 4 expected", n + 1, c.len()));
                continue;
            }
            out.push(PackSource { tag: c[0], citation: c[1], licence: c[2], url: c[3] });
        }
        (out, problems)
    })
}

/// Every source of the pack.
pub fn sources() -> &'static [PackSource] {
    &sources_table().0
}

/// The source with `tag`.
pub fn source(tag: &str) -> Option<&'static PackSource> {
    sources().iter().find(|s| s.tag == tag)
}

/// The built-in pack, parsed once.
pub fn builtin() -> &'static IocSet {
    static SET: OnceLock<IocSet> = OnceLock::new();
    SET.get_or_init(|| {
        let mut set = IocSet::new();
        for p in &sources_table().1 {
            set.problems.push(crate::indicator::IocProblem {
                path: "builtin:sources.tsv".into(),
                line: None,
                reason: p.clone(),
            });
        }
        for p in actors::problems() {
            set.problems.push(crate::indicator::IocProblem {
                path: "builtin:actors.tsv".into(),
                line: None,
                reason: p.clone(),
            });
        }
        let resolve = |tag: &str| source(tag).map(PackSource::cite);
        for (name, text) in FILES {
            let file = format!("builtin:{name}");
            let mut sink = Sink::new(crate::feeds::FeedFormat::Pack.name(), &file);
            pack_format::parse(text, &mut sink, Some(&resolve));
            sink.finish(
                &mut set,
                Some(format!("exsweep built-in pack {PACK_VERSION}; per-entry licences in sources.tsv")),
            );
        }
        set
    })
}

impl IocSet {
    /// A set holding the built-in pack (add user feeds to it with [`IocSet::add_path`]).
    pub fn with_builtin() -> IocSet {
        builtin().clone()
    }
}

/// One entry of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListEntry {
    pub kind: IndicatorKind,
    pub value: String,
    pub score: Option<u8>,
    pub actors: Vec<String>,
    /// Source tags (pack) or feed names, in order, without repeats.
    pub sources: Vec<String>,
    /// Where each occurrence was read (`feed file:line`).
    pub locations: Vec<String>,
    pub note: String,
}

impl ListEntry {
    pub fn of(ind: &Indicator) -> ListEntry {
        let mut sources: Vec<String> = Vec::new();
        for s in &ind.sources {
            let tags: Vec<String> = if s.cites.is_empty() {
                vec![s.feed.clone()]
            } else {
                s.cites.iter().map(|c| c.split(':').next().unwrap_or(c).to_string()).collect()
            };
            for t in tags {
                if !sources.contains(&t) {
                    sources.push(t);
                }
            }
        }
        ListEntry {
            kind: ind.kind,
            value: ind.value.clone(),
            score: ind.score,
            actors: ind.actors.clone(),
            sources,
            locations: ind.locations(),
            note: ind.description.clone(),
        }
    }
}

impl ListEntry {
    /// The entry as JSON (`kind`, `value`, `score`, `actors`, `sources`, `locations`, `note`), for
    /// `exsweep intel list --format json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind.as_str(),
            "value": self.value,
            "score": self.score,
            "actors": self.actors,
            "sources": self.sources,
            "locations": self.locations,
            "note": self.note,
        })
    }
}

/// The entries of the built-in pack (duplicates across its files merged), in pack order.
pub fn listing() -> Vec<ListEntry> {
    builtin().indicators().iter().map(ListEntry::of).collect()
}

/// Writes the built-in pack for people: version, counts per kind, entries grouped by actor with
/// the sources of each, and the source table with licences.
pub fn write_listing(w: &mut dyn Write) -> io::Result<()> {
    write_set_listing(builtin(), &format!("exsweep built-in IOC pack {PACK_VERSION}"), w)?;
    writeln!(w)?;
    writeln!(w, "Sources:")?;
    for s in sources() {
        writeln!(w, "  {:<18} {} [{}]", s.tag, s.citation, s.licence)?;
        writeln!(w, "  {:<18} {}", "", s.url)?;
    }
    Ok(())
}

/// Writes any set for people, grouped by actor (an indicator with several actors appears under
/// each, so that conflicting attribution shows), then the unattributed ones.
pub fn write_set_listing(set: &IocSet, heading: &str, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "{heading}")?;
    let counts: Vec<String> =
        set.counts().into_iter().filter(|(_, n)| *n > 0).map(|(k, n)| format!("{} {}", n, k.as_str())).collect();
    writeln!(w, "{} indicators: {}", set.len(), counts.join(", "))?;
    if !set.allowed().is_empty() {
        writeln!(w, "{} allow-listed hashes", set.allowed().len())?;
    }
    if !set.problems.is_empty() {
        writeln!(w, "{} problems", set.problems.len())?;
    }
    let mut groups: BTreeMap<(usize, String), Vec<&Indicator>> = BTreeMap::new();
    let rank = |name: &str| actors::all().iter().position(|a| a.name == name).unwrap_or(usize::MAX - 1);
    for ind in set.indicators() {
        if ind.actors.is_empty() {
            groups.entry((usize::MAX, "(no attribution)".into())).or_default().push(ind);
        }
        for a in &ind.actors {
            groups.entry((rank(a), a.clone())).or_default().push(ind);
        }
    }
    for ((_, actor), list) in &groups {
        writeln!(w)?;
        let aka =
            actors::get(actor).filter(|a| !a.aliases.is_empty()).map(|a| format!(" (aka {})", a.aliases.join(", ")));
        let n = list.len();
        writeln!(w, "{actor}{}: {n} indicator{}", aka.unwrap_or_default(), if n == 1 { "" } else { "s" })?;
        for ind in list {
            let e = ListEntry::of(ind);
            let score = e.score.map(|s| format!(" score {s}")).unwrap_or_default();
            let others: Vec<&String> = e.actors.iter().filter(|a| *a != actor).collect();
            let also = if others.is_empty() {
                String::new()
            } else {
                format!(" also attributed to {}", others.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
            };
            writeln!(w, "  {:<14} {}{score}{also}", e.kind.as_str(), crate::clip(&e.value, 140))?;
            let at: Vec<String> =
                ind.sources.iter().map(|s| format!("{}:{}", s.file.trim_start_matches("builtin:"), s.line)).collect();
            writeln!(w, "  {:<14} sources: {} (at {})", "", e.sources.join(", "), at.join(", "))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorKind as K;

    #[test]
    fn the_pack_loads_without_problems() {
        let set = builtin();
        assert!(set.problems.is_empty(), "{:#?}", set.problems);
        assert!(set.ignored.is_empty(), "{:#?}", set.ignored);
        for ind in set.indicators() {
            assert!(!ind.sources.is_empty());
            for s in &ind.sources {
                assert!(!s.cites.is_empty(), "{} has no source", ind.value);
            }
            for a in &ind.actors {
                assert!(actors::get(a).is_some(), "{a} is not a canonical actor");
            }
        }
        for a in actors::all() {
            for t in &a.sources {
                assert!(source(t).is_some(), "actor {} cites unknown source {t}", a.name);
            }
        }
    }

    #[test]
    fn the_pack_covers_the_published_facts() {
        let set = builtin();
        let c = set.counts();
        // MSTIC 45 + ESET 23 + Microsoft's 3 not in MSTIC + CISA MAR 2 + CISA_10328929 1.
        assert_eq!(c[&K::Sha256], 45 + 23 + 3 + 2 + 1);
        assert_eq!(c[&K::Sha1], 23);
        assert_eq!(c[&K::Md5], 23 + 1);
        assert_eq!(c[&K::Ip], 15 + 7);
        assert_eq!(c[&K::Domain], 3 + 10);
        assert_eq!(c[&K::UserAgent], 14);
        for h in [
            "b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0",
            "1631a90eb5395c4e19c7dbcbf611bbe6444ff312eb7937e286e4637cb9e72944",
        ] {
            assert_eq!(set.get(K::Sha256, h).unwrap().actors, vec!["HAFNIUM"]);
        }
        let dearcry = set.get(K::Sha256, "e044d9f2d0f1260c3f4a543a1e67f33fcac265be114a1b135fd575b860d2b8c6").unwrap();
        assert_eq!(dearcry.actors, vec!["DearCry operators"]);
        assert!(dearcry.sources.len() >= 2, "MSTIC and signature-base both list it");
        for (ip, actor) in
            [("34.90.207.23", "LuckyMouse"), ("161.129.64.124", "Winnti Group"), ("5.2.69.14", "HAFNIUM")]
        {
            assert_eq!(set.get(K::Ip, ip).unwrap().actors, vec![actor]);
        }
        assert_eq!(set.get(K::Domain, "lab.symantecsafe.org").unwrap().actors, vec!["Tonto Team"]);
        // ESET's inferred MD5 carries the actor of the SHA-1 on the same line.
        let md5 = set.get(K::Md5, "7a6c605af4b85954f62f35d648d532bf").unwrap();
        assert_eq!(md5.actors, vec!["Opera Cobalt Strike"]);
        assert!(md5.description.contains("inferred"));
        // One path, three publications, one attribution: every source stays visible.
        let shell = set.get(K::FilePath, r"C:\inetpub\wwwroot\aspnet_client\shell.aspx").unwrap();
        assert_eq!(shell.actors, vec!["Winnti Group"]);
        let tags = ListEntry::of(shell).sources;
        assert!(
            tags.contains(&"MSTIC".to_string())
                && tags.contains(&"ESET-BLOG".to_string())
                && tags.contains(&"HUNTRESS".to_string())
        );
        // Where two sources attribute one value differently, both stay, each with its source.
        let opera = set.get(K::FileName, "Opera_Browser.exe").unwrap();
        assert_eq!(opera.actors, vec!["Opera Cobalt Strike", "ShadowPad (unclassified)"]);
        assert_eq!(opera.sources.len(), 2);
        assert_eq!(opera.sources[0].actors, vec!["Opera Cobalt Strike"]);
        // Every group of the brief has entries.
        for a in actors::all() {
            assert!(set.indicators().iter().any(|i| i.actors.iter().any(|x| x == a.name)), "no entry for {}", a.name);
        }
    }

    #[test]
    fn listing_and_human_listing() {
        let l = listing();
        assert_eq!(l.len(), builtin().len());
        let j = l[0].to_json();
        assert_eq!(j["kind"], "sha256");
        assert_eq!(j["actors"][0], "HAFNIUM");
        let mut out = Vec::new();
        write_listing(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(&format!("exsweep built-in IOC pack {PACK_VERSION}")));
        assert!(text.contains("LuckyMouse (aka APT27"));
        assert!(text.contains("(no attribution)"));
        assert!(text.contains("BSD-2-Clause"));
        assert!(text.contains("sources: ESET-IOC, ESET-BLOG"));
    }
}
