//! Feed files: one parser per public format (Loki/signature-base, MSTIC and Volexity CSV, ESET
//! hash lists and AsciiDoc, CISA CHIRP YAML, exsweep's own pack TSV), and the loader that picks
//! the parser for a file by its name and content ([`IocSet::add_path`]). No parser panics or drops
//! a line silently: every non-empty, non-comment line (row, document) gives an indicator, an
//! ignored entry with its reason, or a problem with its line.

pub mod chirp;
pub mod eset;
pub mod loki;
pub mod pack;
pub mod typed_csv;

use crate::actors;
use crate::indicator::{FeedFile, Indicator, IndicatorKind, IocNote, IocProblem, IocSet, IocSource};
use crate::normalize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A feed format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FeedFormat {
    /// Loki/signature-base hash list (`HASH;COMMENT`, `HASH;SCORE;COMMENT`).
    LokiHash,
    /// A Loki hash list whose file name contains "falsepositive": an allow-list.
    LokiHashAllow,
    /// Loki filename IOCs (`REGEX;SCORE[;FALSE_POSITIVE_REGEX]`).
    LokiFilename,
    /// Loki C2 list (one domain or IP per line, optional `;score`).
    LokiC2,
    /// MSTIC CSV (`DateAdded,FirstSeen,Indicator,IndicatorType,TLP`).
    Mstic,
    /// A value/type CSV such as Volexity's `indicators.csv` (`value,type,notes`).
    TypedCsv,
    /// Bare hashes, one per line (ESET `samples.md5/.sha1/.sha256`).
    BareHashes,
    /// ESET `README.adoc` (AsciiDoc tables of hashes and network indicators).
    EsetAdoc,
    /// CISA CHIRP indicator YAML.
    Chirp,
    /// exsweep's pack TSV (`kind value score actors source note`).
    Pack,
}

impl FeedFormat {
    /// The feed name sources and findings carry.
    pub fn name(self) -> &'static str {
        match self {
            FeedFormat::LokiHash => "loki-hash",
            FeedFormat::LokiHashAllow => "loki-hash-falsepositive",
            FeedFormat::LokiFilename => "loki-filename",
            FeedFormat::LokiC2 => "loki-c2",
            FeedFormat::Mstic => "mstic",
            FeedFormat::TypedCsv => "typed-csv",
            FeedFormat::BareHashes => "hash-list",
            FeedFormat::EsetAdoc => "eset-adoc",
            FeedFormat::Chirp => "chirp",
            FeedFormat::Pack => "exsweep-pack",
        }
    }
}

/// Feed files larger than this are not read (bytes).
pub const MAX_FEED_BYTES: u64 = 256 << 20;

/// Collects what one file gives.
pub(crate) struct Sink<'a> {
    pub feed: &'a str,
    pub file: &'a str,
    pub indicators: Vec<Indicator>,
    pub allowed: Vec<Indicator>,
    pub ignored: Vec<IocNote>,
    pub problems: Vec<IocProblem>,
    /// Entries read (data lines, rows, documents).
    pub entries: u64,
    /// Publications every indicator of this file cites (pack files set them per line).
    pub cites: Vec<String>,
}

impl<'a> Sink<'a> {
    pub fn new(feed: &'a str, file: &'a str) -> Sink<'a> {
        Sink {
            feed,
            file,
            indicators: Vec::new(),
            allowed: Vec::new(),
            ignored: Vec::new(),
            problems: Vec::new(),
            entries: 0,
            cites: Vec::new(),
        }
    }

    /// Adds an indicator read at `line`: its regexes are checked, its actors canonical, and its
    /// source recorded. A regex that cannot run becomes a problem.
    pub fn add(&mut self, line: u64, ind: Indicator) {
        self.push(line, ind, false);
    }

    /// Adds an allow-list entry.
    pub fn allow(&mut self, line: u64, ind: Indicator) {
        self.push(line, ind, true);
    }

    fn push(&mut self, line: u64, mut ind: Indicator, allow: bool) {
        if let Err(e) = normalize::prepare_regexes(&mut ind) {
            self.problem(line, e);
            return;
        }
        let mut names: Vec<String> = Vec::new();
        for a in &ind.actors {
            let c = actors::canonical(a).map_or_else(|| a.trim().to_string(), str::to_string);
            if !c.is_empty() && !names.contains(&c) {
                names.push(c);
            }
        }
        names.sort();
        ind.actors = names;
        ind.sources.push(IocSource {
            feed: self.feed.to_string(),
            file: self.file.to_string(),
            line,
            cites: self.cites.clone(),
            actors: ind.actors.clone(),
            description: ind.description.clone(),
        });
        if allow {
            self.allowed.push(ind);
        } else {
            self.indicators.push(ind);
        }
    }

    pub fn problem(&mut self, line: u64, reason: impl Into<String>) {
        self.problems.push(IocProblem { path: self.file.to_string(), line: Some(line), reason: reason.into() });
    }

    pub fn file_problem(&mut self, reason: impl Into<String>) {
        self.problems.push(IocProblem { path: self.file.to_string(), line: None, reason: reason.into() });
    }

    pub fn ignore(&mut self, line: u64, value: &str, reason: impl Into<String>) {
        self.ignored.push(IocNote {
            path: self.file.to_string(),
            line: Some(line),
            value: value.to_string(),
            reason: reason.into(),
        });
    }

    /// Moves everything into `set`, with a [`FeedFile`] record.
    pub fn finish(self, set: &mut IocSet, licence: Option<String>) {
        let mut counts: BTreeMap<IndicatorKind, u64> = BTreeMap::new();
        for i in &self.indicators {
            *counts.entry(i.kind).or_insert(0) += 1;
        }
        set.files.push(FeedFile {
            path: self.file.to_string(),
            feed: self.feed.to_string(),
            licence,
            entries: self.entries,
            counts,
            allowed: self.allowed.len() as u64,
            ignored: self.ignored.len() as u64,
            problems: self.problems.len() as u64,
        });
        for i in self.indicators {
            set.insert(i);
        }
        for i in self.allowed {
            set.insert_allowed(i);
        }
        set.ignored.extend(self.ignored);
        set.problems.extend(self.problems);
    }
}

/// Lines of `text` with their 1-based numbers, line ends (`\n`, `\r\n`) removed.
pub(crate) fn numbered_lines(text: &str) -> impl Iterator<Item = (u64, &str)> {
    text.split('\n').enumerate().map(|(i, l)| (i as u64 + 1, l.strip_suffix('\r').unwrap_or(l)))
}

/// What the loader does with a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    Feed(FeedFormat),
    /// Recognisably not a feed (documentation, licence): noted, not read.
    Skip(String),
    /// Not a feed exsweep knows: a problem.
    Unknown(String),
}

/// Picks the parser for a file from its name and its first bytes (decoded text).
pub fn place(path: &Path, head: &str) -> Placement {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let first = head.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or("");
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
    let feed_ext = ["adoc", "asciidoc", "csv", "tsv", "yml", "yaml", "md5", "sha1", "sha256"].contains(&ext);
    if !feed_ext && ["readme", "license", "licence", "copying", "commit", "source", "notice", "authors"].contains(&stem)
        || ["md", "pdf", "html", "htm"].contains(&ext)
        || ["license", "licence", "copying", "commit", "source"].contains(&name.as_str())
    {
        return Placement::Skip("documentation or licence file, not a feed".into());
    }
    match ext {
        "yar" | "yara" => {
            return Placement::Unknown("YARA rule file: exsweep reads YARA rules with --yara, not as IOCs".into());
        }
        "yml" | "yaml" => {
            return if head.contains("ioc_type") {
                Placement::Feed(FeedFormat::Chirp)
            } else {
                Placement::Unknown(
                    "YAML without `ioc_type`: not a CHIRP indicator file (Sigma rules go to --sigma)".into(),
                )
            };
        }
        "adoc" | "asciidoc" => return Placement::Feed(FeedFormat::EsetAdoc),
        "csv" => {
            return match typed_csv::header_kind(first) {
                Some(f) => Placement::Feed(f),
                None => Placement::Unknown(format!(
                    "CSV header {:?} has no value and type columns (MSTIC: Indicator,IndicatorType; Volexity: value,type)",
                    crate::clip(first, 120)
                )),
            };
        }
        "tsv" => {
            return if pack::is_pack_header(first) {
                Placement::Feed(FeedFormat::Pack)
            } else {
                Placement::Unknown(format!("TSV without the exsweep pack header {:?}", pack::HEADER))
            };
        }
        "md5" | "sha1" | "sha256" => return Placement::Feed(FeedFormat::BareHashes),
        _ => {}
    }
    if name.contains("falsepositive") && name.contains("hash") {
        return Placement::Feed(FeedFormat::LokiHashAllow);
    }
    if name.contains("hash") {
        return Placement::Feed(FeedFormat::LokiHash);
    }
    if name.contains("filename") {
        return Placement::Feed(FeedFormat::LokiFilename);
    }
    if name.contains("c2") {
        return Placement::Feed(FeedFormat::LokiC2);
    }
    if name.contains("falsepositive") {
        return Placement::Unknown(
            "\"falsepositive\" file without \"hash\" in its name: Loki reads only hash allow-lists".into(),
        );
    }
    Placement::Unknown(
        "cannot tell the feed format: Loki files need \"hash\", \"filename\" or \"c2\" in their name; \
         otherwise .csv (MSTIC, Volexity), .adoc (ESET), .yaml (CHIRP), .md5/.sha1/.sha256, .tsv (exsweep pack)"
            .into(),
    )
}

/// Reads a feed file's text: UTF-8 (BOM stripped) or UTF-16 with a BOM. Invalid UTF-8 is
/// replaced and reported.
pub(crate) fn decode(bytes: &[u8]) -> (String, Option<String>) {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return decode(rest);
    }
    let utf16 = |le: bool, b: &[u8]| {
        let units = b
            .chunks_exact(2)
            .map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) });
        char::decode_utf16(units).map(|r| r.unwrap_or('\u{FFFD}')).collect::<String>()
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return (utf16(true, rest), None);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return (utf16(false, rest), None);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), None),
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            (
                String::from_utf8_lossy(bytes).into_owned(),
                Some(format!("invalid UTF-8 (first at line {line}); read with replacement characters")),
            )
        }
    }
}

/// Parses `text` as `format` into `set`. `file` names it in sources and problems.
pub(crate) fn parse_into(set: &mut IocSet, format: FeedFormat, file: &str, text: &str, licence: Option<String>) {
    let mut sink = Sink::new(format.name(), file);
    match format {
        FeedFormat::LokiHash => loki::hashes(text, &mut sink, false),
        FeedFormat::LokiHashAllow => loki::hashes(text, &mut sink, true),
        FeedFormat::LokiFilename => loki::filenames(text, &mut sink),
        FeedFormat::LokiC2 => loki::c2(text, &mut sink),
        FeedFormat::Mstic | FeedFormat::TypedCsv => typed_csv::parse(text, &mut sink),
        FeedFormat::BareHashes => eset::bare_hashes(text, expected_hash(file), &mut sink),
        FeedFormat::EsetAdoc => eset::adoc(text, &mut sink),
        FeedFormat::Chirp => chirp::parse(text, &mut sink),
        FeedFormat::Pack => pack::parse(text, &mut sink, None),
    }
    sink.finish(set, licence);
}

fn expected_hash(file: &str) -> Option<IndicatorKind> {
    let lower = file.to_ascii_lowercase();
    [(".md5", IndicatorKind::Md5), (".sha1", IndicatorKind::Sha1), (".sha256", IndicatorKind::Sha256)]
        .into_iter()
        .find(|(e, _)| lower.ends_with(e))
        .map(|(_, k)| k)
}

impl IocSet {
    /// Loads a feed file, or every file below a folder (recursive, in sorted path order). Files
    /// that cannot be placed or read become problems; documentation files are noted. Fails only
    /// when `path` itself cannot be read (the caller's argument is wrong). Returns the number
    /// of feed files read.
    pub fn add_path(&mut self, path: &Path) -> Result<usize, IocProblem> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| IocProblem {
            path: shown.clone(),
            line: None,
            reason: format!("cannot read: {e}"),
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, 0, &mut files, self);
            files.sort();
            let mut n = 0;
            for f in files {
                n += usize::from(self.add_file(&f));
            }
            Ok(n)
        } else {
            Ok(usize::from(self.add_file(path)))
        }
    }

    /// Parses `text` as a feed of `format` named `name` (tests, embedded data, stdin).
    pub fn add_text(&mut self, name: &str, text: &str, format: FeedFormat) {
        parse_into(self, format, name, text, None);
    }

    /// Places, reads and parses one file; true when it was read as a feed.
    fn add_file(&mut self, path: &Path) -> bool {
        let shown = path.display().to_string();
        let problem = |set: &mut IocSet, reason: String| {
            set.problems.push(IocProblem { path: shown.clone(), line: None, reason });
        };
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if len > MAX_FEED_BYTES {
            problem(self, format!("{len} bytes, larger than the feed limit of {MAX_FEED_BYTES}; not read"));
            return false;
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                problem(self, format!("cannot read: {e}"));
                return false;
            }
        };
        let (text, bad_utf8) = decode(&bytes);
        let head: String = text.chars().take(8192).collect();
        match place(path, &head) {
            Placement::Feed(format) => {
                if let Some(r) = bad_utf8 {
                    problem(self, r);
                }
                let licence = licence_near(path, format);
                parse_into(self, format, &shown, &text, licence);
                true
            }
            Placement::Skip(reason) => {
                self.ignored.push(IocNote { path: shown.clone(), line: None, value: String::new(), reason });
                false
            }
            Placement::Unknown(reason) => {
                problem(self, reason);
                false
            }
        }
    }
}

/// Collects the files below `dir` (depth-limited against link loops); `.git` folders are noted
/// and skipped, unreadable folders are problems.
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>, set: &mut IocSet) {
    let shown = dir.display().to_string();
    if depth > 32 {
        set.problems.push(IocProblem {
            path: shown,
            line: None,
            reason: "folder nesting deeper than 32; not read".into(),
        });
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            set.problems.push(IocProblem { path: shown, line: None, reason: format!("cannot list: {e}") });
            return;
        }
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => {
                if name == ".git" {
                    set.ignored.push(IocNote {
                        path: p.display().to_string(),
                        line: None,
                        value: String::new(),
                        reason: "git metadata folder; not read".into(),
                    });
                } else {
                    walk(&p, depth + 1, out, set);
                }
            }
            Ok(_) => out.push(p),
            Err(err) => set.problems.push(IocProblem {
                path: p.display().to_string(),
                line: None,
                reason: format!("cannot read: {err}"),
            }),
        }
    }
}

/// The licence that goes with a feed file: a LICENSE/COPYING file in its folder or up to three
/// folders above, recognised by its text; MSTIC feeds state TLP:WHITE per row.
fn licence_near(path: &Path, format: FeedFormat) -> Option<String> {
    let mut dir = path.parent();
    for _ in 0..4 {
        let d = dir?;
        for name in ["LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING"] {
            let p = d.join(name);
            if let Ok(text) = std::fs::read_to_string(&p) {
                return Some(format!("{} ({})", classify_licence(&text), p.display()));
            }
        }
        dir = d.parent();
    }
    (format == FeedFormat::Mstic).then(|| "TLP:WHITE (per row)".to_string())
}

/// Names a licence from its text.
pub fn classify_licence(text: &str) -> &'static str {
    let t: String = text.chars().take(4000).collect();
    if t.contains("CC0 1.0") {
        "CC0-1.0"
    } else if t.contains("Detection Rule License") {
        "DRL-1.1"
    } else if t.contains("Redistribution and use in source and binary forms") {
        if t.contains("3. Neither") || t.contains("Neither the name") { "BSD-3-Clause" } else { "BSD-2-Clause" }
    } else if t.contains("Permission is hereby granted, free of charge") {
        "MIT"
    } else if t.contains("Apache License") {
        "Apache-2.0"
    } else if t.contains("GNU GENERAL PUBLIC LICENSE") {
        "GPL"
    } else {
        "licence file (not recognised)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_placed_by_name_and_content() {
        let p = |n: &str, head: &str| place(Path::new(n), head);
        assert_eq!(p("iocs/hash-iocs.txt", ""), Placement::Feed(FeedFormat::LokiHash));
        assert_eq!(p("iocs/falsepositive-hashes.txt", ""), Placement::Feed(FeedFormat::LokiHashAllow));
        assert_eq!(p("iocs/filename-iocs.txt", ""), Placement::Feed(FeedFormat::LokiFilename));
        assert_eq!(p("iocs/c2-iocs.txt", ""), Placement::Feed(FeedFormat::LokiC2));
        assert_eq!(p("x/samples.sha256", ""), Placement::Feed(FeedFormat::BareHashes));
        assert_eq!(p("x/README.adoc", ""), Placement::Feed(FeedFormat::EsetAdoc));
        assert_eq!(p("x/AA21062A.yaml", "---\nioc_type: network\n"), Placement::Feed(FeedFormat::Chirp));
        assert!(matches!(p("x/rule.yml", "title: x\nlogsource:\n"), Placement::Unknown(_)));
        assert_eq!(p("m.csv", "DateAdded,FirstSeen,Indicator,IndicatorType,TLP\n"), Placement::Feed(FeedFormat::Mstic));
        assert_eq!(p("v.csv", "value,type,notes\n"), Placement::Feed(FeedFormat::TypedCsv));
        assert!(matches!(p("other.csv", "a,b,c\n"), Placement::Unknown(_)));
        assert!(matches!(p("iocs/README.txt", ""), Placement::Skip(_)));
        assert!(matches!(p("LICENSE", ""), Placement::Skip(_)));
        assert!(matches!(p("iocs/keywords.txt", ""), Placement::Unknown(_)));
        assert!(matches!(p("yara/apt_hafnium.yar", ""), Placement::Unknown(_)));
        assert_eq!(p("my.tsv", "kind\tvalue\tscore\tactors\tsource\tnote\n"), Placement::Feed(FeedFormat::Pack));
    }

    /// Hostile input: every parser reports instead of panicking, and counts what it read.
    #[test]
    fn no_parser_panics_on_garbage() {
        let nasty = [
            "",
            "\u{0}\u{0}\u{0}",
            "\\",
            ";;;;",
            "|===\n|a|b\n|`x`|",
            "---\n---\n: :\n- [\n",
            "kind\tvalue\tscore\tactors\tsource\tnote\nsha1\t\t\t\t\t\n",
            "DateAdded,FirstSeen,Indicator,IndicatorType,TLP\n\"unclosed,\n",
            "\u{feff}# x\n[.][.][.]hxxp[:]//[at]\n(?P<x>\n\\(?<!a)b{,;\u{212a}\n",
            "value,type\n,,,,,\n1.2.3.4/99,cidr\n",
        ];
        let long = "a".repeat(100_000) + ";" + &"9".repeat(50);
        let formats = [
            FeedFormat::LokiHash,
            FeedFormat::LokiHashAllow,
            FeedFormat::LokiFilename,
            FeedFormat::LokiC2,
            FeedFormat::Mstic,
            FeedFormat::TypedCsv,
            FeedFormat::BareHashes,
            FeedFormat::EsetAdoc,
            FeedFormat::Chirp,
            FeedFormat::Pack,
        ];
        for f in formats {
            for text in nasty.iter().copied().chain(std::iter::once(long.as_str())) {
                let mut set = IocSet::new();
                set.add_text("x", text, f);
                assert_eq!(set.files.len(), 1);
            }
        }
    }

    #[test]
    fn text_decodes_with_boms() {
        assert_eq!(decode(b"\xEF\xBB\xBFabc").0, "abc");
        assert_eq!(decode(&[0xFF, 0xFE, b'a', 0, b'b', 0]).0, "ab");
        let (t, p) = decode(b"ok\n\xFF\n");
        assert!(t.contains('\u{FFFD}'));
        assert!(p.unwrap().contains("line 2"));
    }

    #[test]
    fn folders_load_recursively_in_order_with_problems_for_unknown_files() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("iocs");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("c2-iocs.txt"), "# Test C2\nevil[.]example.com\n").unwrap();
        std::fs::write(sub.join("hash-iocs.txt"), "# x\nd41d8cd98f00b204e9800998ecf8427e;empty file\n").unwrap();
        std::fs::write(sub.join("notes.txt"), "hello\n").unwrap();
        std::fs::write(dir.path().join("LICENSE"), "CC0 1.0 Universal\n").unwrap();
        let mut set = IocSet::new();
        assert_eq!(set.add_path(dir.path()).unwrap(), 2);
        assert_eq!(set.files.len(), 2);
        assert!(set.files[0].path.ends_with("c2-iocs.txt"));
        assert_eq!(set.files[0].licence.as_deref().map(|l| l.starts_with("CC0-1.0")), Some(true));
        assert_eq!(set.counts()[&IndicatorKind::Domain], 1);
        assert_eq!(set.problems.len(), 1, "{:?}", set.problems);
        assert!(set.problems[0].path.ends_with("notes.txt"));
        // The LICENSE is noted, the empty-file hash is ignored with its reason.
        assert_eq!(set.ignored.len(), 2, "{:?}", set.ignored);
        assert!(set.add_path(&dir.path().join("missing")).is_err());
    }
}
