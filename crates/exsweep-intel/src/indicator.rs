//! The indicator model: what an IOC is ([`Indicator`], [`IndicatorKind`]), where it came from
//! ([`IocSource`], [`FeedFile`]), what could not be read ([`IocProblem`]) or was dropped on
//! purpose ([`IocNote`]), and the set that holds them ([`IocSet`]). A set merges duplicates (same
//! kind and value) and keeps every source and the union of their actors, so that overlapping or
//! conflicting attribution stays visible.

use crate::normalize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// What an indicator matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndicatorKind {
    Md5,
    Sha1,
    Sha256,
    /// A Loki filename IOC: a (Python-syntax) regex searched in the full Windows path.
    FileNameRegex,
    /// An exact Windows path (MSTIC `filepath`), matched case-insensitively, any drive letter.
    FilePath,
    /// A bare file name, matched case-insensitively.
    FileName,
    Ip,
    Cidr,
    Domain,
    Url,
    UserAgent,
    /// A YARA rule carried by a feed (CHIRP), kept as text for the YARA crate.
    YaraRule,
    /// A CHIRP `events` regex (`~=`) over event data.
    EventRegex,
}

impl IndicatorKind {
    pub const ALL: [IndicatorKind; 13] = [
        IndicatorKind::Md5,
        IndicatorKind::Sha1,
        IndicatorKind::Sha256,
        IndicatorKind::FileNameRegex,
        IndicatorKind::FilePath,
        IndicatorKind::FileName,
        IndicatorKind::Ip,
        IndicatorKind::Cidr,
        IndicatorKind::Domain,
        IndicatorKind::Url,
        IndicatorKind::UserAgent,
        IndicatorKind::YaraRule,
        IndicatorKind::EventRegex,
    ];

    /// The name used in data files and in findings (`extra.ioc_kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Md5 => "md5",
            IndicatorKind::Sha1 => "sha1",
            IndicatorKind::Sha256 => "sha256",
            IndicatorKind::FileNameRegex => "filename_regex",
            IndicatorKind::FilePath => "filepath",
            IndicatorKind::FileName => "filename",
            IndicatorKind::Ip => "ip",
            IndicatorKind::Cidr => "cidr",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::UserAgent => "user_agent",
            IndicatorKind::YaraRule => "yara_rule",
            IndicatorKind::EventRegex => "event_regex",
        }
    }

    /// The name for people.
    pub fn label(self) -> &'static str {
        match self {
            IndicatorKind::Md5 => "MD5",
            IndicatorKind::Sha1 => "SHA-1",
            IndicatorKind::Sha256 => "SHA-256",
            IndicatorKind::FileNameRegex => "file name regex",
            IndicatorKind::FilePath => "file path",
            IndicatorKind::FileName => "file name",
            IndicatorKind::Ip => "IP address",
            IndicatorKind::Cidr => "IP range",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "URL",
            IndicatorKind::UserAgent => "user agent",
            IndicatorKind::YaraRule => "YARA rule",
            IndicatorKind::EventRegex => "event regex",
        }
    }

    /// The kind named `s` ([`IndicatorKind::as_str`] names, case-insensitive).
    pub fn parse(s: &str) -> Option<IndicatorKind> {
        IndicatorKind::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn is_hash(self) -> bool {
        matches!(self, IndicatorKind::Md5 | IndicatorKind::Sha1 | IndicatorKind::Sha256)
    }

    /// Kinds the file check matches (hashes, names, paths).
    pub fn is_file(self) -> bool {
        self.is_hash()
            || matches!(self, IndicatorKind::FileNameRegex | IndicatorKind::FilePath | IndicatorKind::FileName)
    }

    /// Kinds the network detector matches in log records.
    pub fn is_network(self) -> bool {
        matches!(
            self,
            IndicatorKind::Ip
                | IndicatorKind::Cidr
                | IndicatorKind::Domain
                | IndicatorKind::Url
                | IndicatorKind::UserAgent
        )
    }

    /// The hash kind of a hex digest, by its length.
    pub fn hash_by_len(len: usize) -> Option<IndicatorKind> {
        match len {
            32 => Some(IndicatorKind::Md5),
            40 => Some(IndicatorKind::Sha1),
            64 => Some(IndicatorKind::Sha256),
            _ => None,
        }
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one occurrence of an indicator was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IocSource {
    /// The feed format (or publisher) name, e.g. `loki-hash`, `mstic`, `eset-adoc`, `exsweep-pack`.
    pub feed: String,
    /// The file it was read from, as given (built-in pack files as `builtin:<name>`).
    pub file: String,
    /// 1-based line (of the row, or of the first line of a YAML document).
    pub line: u64,
    /// The publications this occurrence cites (pack entries), each with its licence.
    pub cites: Vec<String>,
    /// The actors this occurrence names.
    pub actors: Vec<String>,
    /// The description this occurrence gives.
    pub description: String,
}

impl IocSource {
    /// `feed file:line`, as printed in listings and findings.
    pub fn location(&self) -> String {
        format!("{} {}:{}", self.feed, self.file, self.line)
    }
}

/// One indicator of compromise.
#[derive(Clone, Debug, PartialEq)]
pub struct Indicator {
    pub kind: IndicatorKind,
    /// Normalized: hashes lowercase; domains lowercase without a trailing dot; defanged input
    /// refanged; IPs in canonical form. File paths and names keep their case (they match
    /// case-insensitively).
    pub value: String,
    /// Loki-style score (0–100), when the feed gives one.
    pub score: Option<u8>,
    /// Loki filename IOC third column: a regex that, when it matches the path, suppresses the hit.
    pub false_positive: Option<String>,
    pub description: String,
    /// Canonical actor names (see [`crate::actors`]), the union over all sources.
    pub actors: Vec<String>,
    /// Every place the indicator was read (at least one once in a set).
    pub sources: Vec<IocSource>,
    /// Feed facts that have no field of their own (CHIRP `files` glob and `confidence`, MSTIC
    /// dates and TLP, ESET detection names, the Rust form of a translated regex, ...).
    pub attrs: BTreeMap<String, String>,
}

impl Indicator {
    /// An indicator of `kind` whose value is `raw` normalized (see [`crate::normalize::value`]).
    pub fn parse(kind: IndicatorKind, raw: &str) -> Result<Indicator, String> {
        let (kind, value) = normalize::value(kind, raw)?;
        Ok(Indicator::new(kind, value))
    }

    /// An indicator with an already normalized value.
    pub fn new(kind: IndicatorKind, value: String) -> Indicator {
        Indicator {
            kind,
            value,
            score: None,
            false_positive: None,
            description: String::new(),
            actors: Vec::new(),
            sources: Vec::new(),
            attrs: BTreeMap::new(),
        }
    }

    /// The first source, if any.
    pub fn source(&self) -> Option<&IocSource> {
        self.sources.first()
    }

    /// The identity used to merge duplicates: paths and names compare case-insensitively.
    pub fn key(&self) -> (IndicatorKind, String) {
        let k = match self.kind {
            IndicatorKind::FilePath | IndicatorKind::FileName => self.value.to_lowercase().replace('/', "\\"),
            _ => self.value.clone(),
        };
        (self.kind, k)
    }

    /// The regex the matcher compiles for a [`IndicatorKind::FileNameRegex`] (the Rust form of
    /// a translated Python regex, else the value).
    pub fn regex(&self) -> &str {
        self.attrs.get("regex").map_or(self.value.as_str(), String::as_str)
    }

    /// The Rust form of the false-positive regex.
    pub fn false_positive_regex(&self) -> Option<&str> {
        self.attrs.get("false_positive_regex").map(String::as_str).or(self.false_positive.as_deref())
    }

    /// Whether the pattern (or its false-positive regex) needs the backtracking engine.
    pub fn needs_fancy(&self) -> bool {
        self.attrs.contains_key("fancy")
    }

    /// Every source as `feed file:line`.
    pub fn locations(&self) -> Vec<String> {
        self.sources.iter().map(IocSource::location).collect()
    }
}

/// A line (or file) that could not be read as an indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IocProblem {
    pub path: String,
    /// 1-based line; `None` for the file as a whole.
    pub line: Option<u64>,
    pub reason: String,
}

impl fmt::Display for IocProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.path, l, self.reason),
            None => write!(f, "{}: {}", self.path, self.reason),
        }
    }
}

/// A line (or file) read and deliberately not used, with why (Loki's ignored hashes, short C2
/// entries, documentation files in a feed folder).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IocNote {
    pub path: String,
    pub line: Option<u64>,
    pub value: String,
    pub reason: String,
}

impl fmt::Display for IocNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.line.map(|l| format!(":{l}")).unwrap_or_default();
        if self.value.is_empty() {
            write!(f, "{}{at}: {}", self.path, self.reason)
        } else {
            write!(f, "{}{at}: {} ({})", self.path, self.value, self.reason)
        }
    }
}

/// One feed file that was loaded, with its tallies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedFile {
    pub path: String,
    /// The feed format name (`loki-hash`, `mstic`, ...).
    pub feed: String,
    /// The licence found next to the file (or stated by the format), if any.
    pub licence: Option<String>,
    /// Entries read: data lines, table rows or YAML documents.
    pub entries: u64,
    /// Indicators read, before merging with other files, by kind.
    pub counts: BTreeMap<IndicatorKind, u64>,
    /// Allow-list entries read (Loki `falsepositive` hash files).
    pub allowed: u64,
    pub ignored: u64,
    pub problems: u64,
}

impl FeedFile {
    pub fn indicators(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// Indicators from the built-in pack and any feeds, merged.
#[derive(Clone, Debug, Default)]
pub struct IocSet {
    indicators: Vec<Indicator>,
    allowed: Vec<Indicator>,
    index: HashMap<(IndicatorKind, String), usize>,
    allowed_index: HashMap<(IndicatorKind, String), usize>,
    /// The files loaded, in load order.
    pub files: Vec<FeedFile>,
    pub problems: Vec<IocProblem>,
    pub ignored: Vec<IocNote>,
}

impl IocSet {
    pub fn new() -> IocSet {
        IocSet::default()
    }

    /// The indicators that alert, in load order (duplicates merged into the first).
    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    /// Allow-listed hashes (Loki `falsepositive` files): a file with one of them is not reported.
    pub fn allowed(&self) -> &[Indicator] {
        &self.allowed
    }

    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// Distinct indicators per kind (every kind present, zero included).
    pub fn counts(&self) -> BTreeMap<IndicatorKind, usize> {
        let mut c: BTreeMap<IndicatorKind, usize> = IndicatorKind::ALL.iter().map(|&k| (k, 0)).collect();
        for i in &self.indicators {
            *c.entry(i.kind).or_insert(0) += 1;
        }
        c
    }

    /// The indicator of `kind` with `value` (normalized as a feed value would be).
    pub fn get(&self, kind: IndicatorKind, value: &str) -> Option<&Indicator> {
        let probe = Indicator::parse(kind, value).ok()?;
        self.index.get(&probe.key()).map(|&i| &self.indicators[i])
    }

    /// The YARA rules carried by feeds (CHIRP), for the YARA crate: the rule text is the value;
    /// `attrs` hold `name`, `files` (the glob the feed scans) and `confidence`.
    pub fn yara_rules(&self) -> impl Iterator<Item = &Indicator> {
        self.indicators.iter().filter(|i| i.kind == IndicatorKind::YaraRule)
    }

    /// Adds an indicator, merging it into an existing one of the same kind and value. Returns
    /// true when it is new.
    pub fn insert(&mut self, ind: Indicator) -> bool {
        insert_into(&mut self.indicators, &mut self.index, ind)
    }

    /// Adds an allow-list entry.
    pub fn insert_allowed(&mut self, ind: Indicator) -> bool {
        insert_into(&mut self.allowed, &mut self.allowed_index, ind)
    }

    /// Adds every indicator, problem, note and file of `other`.
    pub fn extend(&mut self, other: IocSet) {
        for i in other.indicators {
            self.insert(i);
        }
        for i in other.allowed {
            self.insert_allowed(i);
        }
        self.files.extend(other.files);
        self.problems.extend(other.problems);
        self.ignored.extend(other.ignored);
    }
}

fn insert_into(list: &mut Vec<Indicator>, index: &mut HashMap<(IndicatorKind, String), usize>, ind: Indicator) -> bool {
    let key = ind.key();
    match index.get(&key) {
        Some(&i) => {
            merge(&mut list[i], ind);
            false
        }
        None => {
            index.insert(key, list.len());
            list.push(ind);
            true
        }
    }
}

/// Merges `new` into `old`: all sources, the union of actors, the highest score (no score counts
/// as the highest: Loki scores unscored hashes 100), the first description. A false-positive
/// regex is kept only when every occurrence has the same one (the hit is then reported more
/// often, never less).
fn merge(old: &mut Indicator, new: Indicator) {
    for s in new.sources {
        if !old.sources.contains(&s) {
            old.sources.push(s);
        }
    }
    for a in new.actors {
        if !old.actors.contains(&a) {
            old.actors.push(a);
        }
    }
    old.actors.sort();
    old.score = match (old.score, new.score) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    };
    if old.false_positive != new.false_positive {
        old.false_positive = None;
        old.attrs.remove("false_positive_regex");
        old.attrs.insert("false_positive_dropped".into(), "occurrences disagree on the false-positive regex".into());
    }
    if old.description.is_empty() {
        old.description = new.description;
    }
    for (k, v) in new.attrs {
        old.attrs.entry(k).or_insert(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(feed: &str, line: u64, actors: &[&str]) -> IocSource {
        IocSource {
            feed: feed.into(),
            file: format!("{feed}.txt"),
            line,
            cites: Vec::new(),
            actors: actors.iter().map(|s| s.to_string()).collect(),
            description: String::new(),
        }
    }

    #[test]
    fn duplicates_merge_with_both_actors_and_sources() {
        let mut set = IocSet::new();
        let mut a = Indicator::parse(IndicatorKind::Domain, "Evil.Example.COM.").unwrap();
        a.actors = vec!["Tick".into()];
        a.score = Some(70);
        a.description = "Tick C&C".into();
        a.sources.push(src("eset-adoc", 12, &["Tick"]));
        let mut b = Indicator::parse(IndicatorKind::Domain, "evil[.]example[.]com").unwrap();
        b.actors = vec!["Calypso".into()];
        b.score = Some(90);
        b.description = "Calypso C&C".into();
        b.sources.push(src("loki-c2", 3, &["Calypso"]));
        assert!(set.insert(a));
        assert!(!set.insert(b));
        assert_eq!(set.len(), 1);
        let i = &set.indicators()[0];
        assert_eq!(i.value, "evil.example.com");
        assert_eq!(i.actors, vec!["Calypso", "Tick"]);
        assert_eq!(i.sources.len(), 2);
        assert_eq!(i.sources[0].actors, vec!["Tick"]);
        assert_eq!(i.sources[1].actors, vec!["Calypso"]);
        assert_eq!(i.score, Some(90));
        assert_eq!(i.description, "Tick C&C");
        assert_eq!(set.counts()[&IndicatorKind::Domain], 1);
        assert_eq!(set.counts()[&IndicatorKind::Ip], 0);
    }

    #[test]
    fn paths_merge_case_insensitively_and_unscored_wins() {
        let mut set = IocSet::new();
        let mut a = Indicator::parse(IndicatorKind::FilePath, r"C:\inetpub\wwwroot\aspnet_client\Server.aspx").unwrap();
        a.score = Some(50);
        set.insert(a);
        set.insert(Indicator::parse(IndicatorKind::FilePath, r"c:\inetpub\wwwroot\aspnet_client\server.aspx").unwrap());
        assert_eq!(set.len(), 1);
        assert_eq!(set.indicators()[0].value, r"C:\inetpub\wwwroot\aspnet_client\Server.aspx");
        assert_eq!(set.indicators()[0].score, None);
        assert!(set.get(IndicatorKind::FilePath, r"C:\INETPUB\wwwroot\aspnet_client\SERVER.aspx").is_some());
    }

    #[test]
    fn conflicting_false_positive_regexes_are_dropped() {
        let mut set = IocSet::new();
        let mut a = Indicator::parse(IndicatorKind::FileNameRegex, r"\\x\.exe").unwrap();
        a.false_positive = Some("Program Files".into());
        let mut b = a.clone();
        b.false_positive = Some("Windows".into());
        set.insert(a);
        set.insert(b);
        assert_eq!(set.indicators()[0].false_positive, None);
        assert!(set.indicators()[0].attrs.contains_key("false_positive_dropped"));
    }
}
