//! [`IocFileCheck`]: the file check of the IOC set. Hashes are looked up by raw digest; Loki
//! filename regexes run over the Windows path (their false-positive regex suppresses); exact
//! paths (MSTIC `filepath`) match case-insensitively on any drive, and paths below
//! `FrontEnd\HttpProxy` or `ClientAccess` also below any Exchange install folder; bare names
//! match the file name. A file whose hash is on an allow-list (Loki `falsepositive` files) gives
//! no IOC finding at all, as in Loki.

use super::pathre::{PathRegexes, RegexError};
use super::{actor_label, describe, source_label};
use crate::indicator::{Indicator, IndicatorKind, IocSet};
use exsweep_core::model::{Category, Finding, RuleMeta, Severity};
use exsweep_core::source::LogicalPath;
use exsweep_core::sweep::{FileCheck, SweptFile, is_script_name};
use std::collections::{HashMap, HashSet};

pub const RULE_HASH: RuleMeta = RuleMeta {
    id: "EXS-IOC-HASH",
    title: "File hash matches a published IOC",
    severity: Severity::Critical,
    category: Category::Ioc,
    cves: &[],
    actors: &[],
    attack: &[],
};

pub const RULE_FILENAME: RuleMeta = RuleMeta {
    id: "EXS-IOC-FILENAME",
    title: "File name matches a published IOC",
    severity: Severity::Medium,
    category: Category::Ioc,
    cves: &[],
    actors: &[],
    attack: &[],
};

pub const RULE_PATH: RuleMeta = RuleMeta {
    id: "EXS-IOC-PATH",
    title: "File path matches a published IOC",
    severity: Severity::High,
    category: Category::Ioc,
    cves: &[],
    actors: &[],
    attack: &[],
};

/// Severity of a hash hit: critical at score ≥ 80 or without a score, high at 60–79, else medium.
pub fn hash_severity(score: Option<u8>) -> Severity {
    match score {
        None => Severity::Critical,
        Some(s) if s >= 80 => Severity::Critical,
        Some(s) if s >= 60 => Severity::High,
        Some(_) => Severity::Medium,
    }
}

/// Severity of a name or path hit by score: ≥ 90 high, 70–89 medium, 40–69 low, else info;
/// without a score (MSTIC paths, the pack's exact paths) high.
pub fn name_severity(score: Option<u8>) -> Severity {
    match score {
        None => Severity::High,
        Some(s) if s >= 90 => Severity::High,
        Some(s) if s >= 70 => Severity::Medium,
        Some(s) if s >= 40 => Severity::Low,
        Some(_) => Severity::Info,
    }
}

/// How a path indicator matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PathMatch {
    /// The whole path below the drive root (any drive letter).
    Exact,
    /// The source has no known drive root: the indicator's path is a tail of the file's.
    Suffix,
    /// Below a different Exchange install folder than the indicator's.
    ExchangeRelative,
}

impl PathMatch {
    fn as_str(self) -> &'static str {
        match self {
            PathMatch::Exact => "exact (any drive letter)",
            PathMatch::Suffix => "tail of the path (drive root of the source unknown)",
            PathMatch::ExchangeRelative => "same path below the Exchange install folder",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Hit {
    Hash(usize, IndicatorKind),
    Path(usize, PathMatch),
    Name(usize),
    Regex(usize),
}

/// Lowercase path key without the drive: `\inetpub\wwwroot\x.aspx`.
fn path_key(p: &str) -> String {
    let lower = p.trim().to_lowercase().replace('/', "\\");
    let rest = match lower.as_bytes() {
        [d, b':', ..] if d.is_ascii_alphabetic() => &lower[2..],
        _ => &lower,
    };
    let rest = rest.trim_start_matches('\\');
    format!("\\{rest}")
}

/// The part of a path key from the Exchange web folders on (`frontend\httpproxy\...`,
/// `clientaccess\...`), when the path is below an Exchange install.
fn exchange_tail(key: &str) -> Option<&str> {
    ["\\frontend\\httpproxy\\", "\\clientaccess\\"].iter().filter_map(|m| key.find(m)).min().map(|i| &key[i + 1..])
}

/// The IOC file check. Build it once per scan.
pub struct IocFileCheck {
    inds: Vec<Indicator>,
    md5: HashMap<[u8; 16], Vec<usize>>,
    sha1: HashMap<[u8; 20], Vec<usize>>,
    sha256: HashMap<[u8; 32], Vec<usize>>,
    allow_md5: HashSet<[u8; 16]>,
    allow_sha1: HashSet<[u8; 20]>,
    allow_sha256: HashSet<[u8; 32]>,
    paths: HashMap<String, Vec<usize>>,
    tails: HashMap<String, Vec<usize>>,
    names: HashMap<String, Vec<usize>>,
    regexes: PathRegexes,
}

fn digest<const N: usize>(hex: &str) -> Option<[u8; N]> {
    if hex.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl IocFileCheck {
    /// Takes the hash, path, name and filename-regex indicators and the allow-list of `set`.
    pub fn new(set: &IocSet) -> IocFileCheck {
        let inds: Vec<Indicator> = set.indicators().iter().filter(|i| i.kind.is_file()).cloned().collect();
        let mut c = IocFileCheck {
            md5: HashMap::new(),
            sha1: HashMap::new(),
            sha256: HashMap::new(),
            allow_md5: HashSet::new(),
            allow_sha1: HashSet::new(),
            allow_sha256: HashSet::new(),
            paths: HashMap::new(),
            tails: HashMap::new(),
            names: HashMap::new(),
            regexes: PathRegexes::new(inds.iter().enumerate().filter(|(_, i)| i.kind == IndicatorKind::FileNameRegex)),
            inds: Vec::new(),
        };
        for (n, i) in inds.iter().enumerate() {
            match i.kind {
                IndicatorKind::Md5 => c.md5.entry(digest(&i.value).unwrap_or_default()).or_default().push(n),
                IndicatorKind::Sha1 => c.sha1.entry(digest(&i.value).unwrap_or_default()).or_default().push(n),
                IndicatorKind::Sha256 => c.sha256.entry(digest(&i.value).unwrap_or_default()).or_default().push(n),
                IndicatorKind::FilePath => {
                    let key = path_key(&i.value);
                    if let Some(t) = exchange_tail(&key) {
                        c.tails.entry(t.to_string()).or_default().push(n);
                    }
                    c.paths.entry(key).or_default().push(n);
                }
                IndicatorKind::FileName => c.names.entry(i.value.to_lowercase()).or_default().push(n),
                _ => {}
            }
        }
        for a in set.allowed() {
            match a.kind {
                IndicatorKind::Md5 => c.allow_md5.extend(digest(&a.value)),
                IndicatorKind::Sha1 => c.allow_sha1.extend(digest(&a.value)),
                IndicatorKind::Sha256 => c.allow_sha256.extend(digest(&a.value)),
                _ => {}
            }
        }
        c.inds = inds;
        c
    }

    /// Indicators the check holds.
    pub fn len(&self) -> usize {
        self.inds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inds.is_empty() && self.allow_md5.is_empty() && self.allow_sha1.is_empty() && self.allow_sha256.is_empty()
    }

    /// Filename regexes that run on every path (no literal prefilter).
    pub fn unfiltered_regexes(&self) -> usize {
        self.regexes.unfiltered()
    }

    /// The filename regexes alone, for benchmarks: indicator indexes matching `windows_path`.
    pub fn match_path_regexes(&self, windows_path: &str) -> Vec<usize> {
        let (mut hits, mut errs) = (Vec::new(), Vec::new());
        self.regexes.matches(windows_path, &mut hits, &mut errs);
        hits
    }

    fn hits(&self, file: &SweptFile<'_>, errors: &mut Vec<RegexError>) -> Option<Vec<Hit>> {
        let h = file.hashes;
        if self.allow_md5.contains(&h.md5) || self.allow_sha1.contains(&h.sha1) || self.allow_sha256.contains(&h.sha256)
        {
            return None;
        }
        let mut hits = Vec::new();
        let mut seen = HashSet::new();
        let lists = [
            (self.md5.get(&h.md5), IndicatorKind::Md5),
            (self.sha1.get(&h.sha1), IndicatorKind::Sha1),
            (self.sha256.get(&h.sha256), IndicatorKind::Sha256),
        ];
        for (list, kind) in lists {
            for &i in list.into_iter().flatten() {
                if seen.insert(i) {
                    hits.push(Hit::Hash(i, kind));
                }
            }
        }
        self.name_hits(file.windows_path, file.logical, &mut seen, &mut hits, errors);
        Some(hits)
    }

    /// The path, name and filename-regex hits of a path (no bytes needed).
    fn name_hits(
        &self,
        windows_path: &str,
        logical: &LogicalPath,
        seen: &mut HashSet<usize>,
        hits: &mut Vec<Hit>,
        errors: &mut Vec<RegexError>,
    ) {
        let parts: Vec<String> = logical.parts.iter().map(|p| p.to_lowercase()).collect();
        if !self.paths.is_empty() && !parts.is_empty() {
            let full = format!("\\{}", parts.join("\\"));
            let mut found = |key: &str, how: PathMatch, hits: &mut Vec<Hit>| {
                for &i in self.paths.get(key).into_iter().flatten() {
                    if seen.insert(i) {
                        hits.push(Hit::Path(i, how));
                    }
                }
            };
            found(&full, PathMatch::Exact, hits);
            if !logical.anchored {
                for k in 1..parts.len() {
                    found(&format!("\\{}", parts[k..].join("\\")), PathMatch::Suffix, hits);
                }
            }
            if let Some(t) = exchange_tail(&full) {
                for &i in self.tails.get(t).into_iter().flatten() {
                    if seen.insert(i) {
                        hits.push(Hit::Path(i, PathMatch::ExchangeRelative));
                    }
                }
            }
        }
        let name = logical.file_name().to_lowercase();
        for &i in self.names.get(&name).into_iter().flatten() {
            if seen.insert(i) {
                hits.push(Hit::Name(i));
            }
        }
        if !self.regexes.is_empty() {
            let mut rx = Vec::new();
            self.regexes.matches(windows_path, &mut rx, errors);
            hits.extend(rx.into_iter().filter(|i| seen.insert(*i)).map(Hit::Regex));
        }
    }

    fn finding(&self, file: &SweptFile<'_>, hit: Hit) -> Finding {
        let (i, rule) = match hit {
            Hit::Hash(i, _) => (i, &RULE_HASH),
            Hit::Path(i, _) => (i, &RULE_PATH),
            Hit::Name(i) | Hit::Regex(i) => (i, &RULE_FILENAME),
        };
        let ind = &self.inds[i];
        let mut f = file.finding(rule);
        describe(&mut f, ind);
        let script = is_script_name(&file.name().to_lowercase());
        if script {
            f.category = Category::Webshell;
            f.attack = vec!["T1505.003".into()];
        }
        let from = source_label(ind);
        let who = actor_label(ind);
        let score = ind.score.map(|s| format!("score {s}; ")).unwrap_or_default();
        match hit {
            Hit::Hash(_, kind) => {
                f.severity = hash_severity(ind.score);
                f.title = format!(
                    "{} {} of {} is a known-bad hash ({score}{from}{who})",
                    kind.label(),
                    ind.value,
                    file.windows_path
                );
                f.evidence = format!("{} {} = {}", kind.label(), ind.value, file.windows_path);
            }
            Hit::Path(_, how) => {
                f.severity = self.path_severity(ind, script);
                f.title = format!("{} is a published IOC path ({score}{from}{who})", file.windows_path);
                f.evidence = format!("path {} = {}", ind.value, file.windows_path);
                f.extra.insert("ioc_match".into(), how.as_str().into());
            }
            Hit::Name(_) => {
                f.severity = self.path_severity(ind, script);
                f.title =
                    format!("{} has a published IOC file name {} ({score}{from}{who})", file.windows_path, ind.value);
                f.evidence = format!("file name {} = {}", ind.value, file.windows_path);
            }
            Hit::Regex(_) => {
                f.severity = self.path_severity(ind, script);
                f.title = format!("{} matches file name IOC {} ({score}{from}{who})", file.windows_path, ind.value);
                f.evidence = format!("regex {} = {}", ind.value, file.windows_path);
                if let Some(fp) = &ind.false_positive {
                    f.extra.insert("ioc_false_positive".into(), fp.clone().into());
                }
                if let Some(r) = ind.attrs.get("regex") {
                    f.extra.insert("ioc_regex".into(), r.clone().into());
                }
            }
        }
        f
    }

    /// Score severity; a web shell (script) at a path the pack or MSTIC publishes is high at least.
    fn path_severity(&self, ind: &Indicator, script: bool) -> Severity {
        let s = name_severity(ind.score);
        let trusted = ind.sources.iter().any(|x| x.feed == "exsweep-pack" || x.feed == "mstic");
        if script && trusted { s.max(Severity::High) } else { s }
    }
}

impl FileCheck for IocFileCheck {
    fn selects(&self, windows_path: &str, logical: &LogicalPath) -> bool {
        let (mut seen, mut hits, mut errors) = (HashSet::new(), Vec::new(), Vec::new());
        self.name_hits(windows_path, logical, &mut seen, &mut hits, &mut errors);
        !hits.is_empty()
    }

    fn check(&self, file: &SweptFile<'_>, out: &mut Vec<Finding>) {
        let mut errors = Vec::new();
        let Some(hits) = self.hits(file, &mut errors) else { return };
        // A name Exchange itself ships in that folder (MSTIC lists `ecp\auth\TimeoutLogout.aspx`,
        // which shells overwrote): the name alone proves nothing; the content and the hash decide.
        let shipped = crate::known_good::is_shipped(file);
        for h in hits {
            if shipped && !matches!(h, Hit::Hash(..)) {
                continue;
            }
            out.push(self.finding(file, h));
        }
        for e in errors {
            let v = &self.inds[e.ind].value;
            out.push(file.problem(&format!("file name IOC {} could not run: {}", crate::clip(v, 200), e.reason)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::FeedFormat;
    use exsweep_core::source::{Entry, Locator, LogicalPath};
    use exsweep_core::sweep::{FileHashes, Located, Place};
    use exsweep_core::time::Timestamp;

    struct Fixture {
        lp: LogicalPath,
        entry: Entry,
        hashes: FileHashes,
        data: Vec<u8>,
        win: String,
        located: Option<Located>,
    }

    fn fixture(win: &str, anchored: bool, data: &[u8]) -> Fixture {
        let parts: Vec<String> = win[3..].split('\\').map(|p| p.to_lowercase()).collect();
        let rel = win[3..].replace('\\', "/");
        Fixture {
            lp: LogicalPath { drive: Some('c'), parts: parts.clone(), anchored },
            entry: Entry {
                rel_path: rel.clone(),
                size: data.len() as u64,
                mtime: Timestamp::parse("2021-03-03T06:48:00Z"),
                created: None,
                accessed: None,
                locator: Locator::Fs(rel.into()),
            },
            hashes: FileHashes::of(data),
            data: data.to_vec(),
            win: win.to_string(),
            located: parts
                .iter()
                .position(|p| p == "aspnet_client")
                .map(|i| Located { place: Place::AspnetClient, below: parts[i + 1..].to_vec() }),
        }
    }

    fn run(check: &IocFileCheck, fx: &Fixture) -> Vec<Finding> {
        let file = SweptFile {
            source: 0,
            path: &fx.entry.rel_path,
            logical: &fx.lp,
            windows_path: &fx.win,
            located: fx.located.as_ref(),
            entry: &fx.entry,
            hashes: &fx.hashes,
            data: &fx.data,
            window_start: Timestamp::parse("2021-01-01").unwrap(),
            folder_mtime: None,
        };
        let mut out = Vec::new();
        check.check(&file, &mut out);
        out
    }

    const SHELL: &[u8] = b"<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"x\"],\"unsafe\");%>";

    fn set_for(shell_sha256: &str) -> IocSet {
        let mut set = IocSet::new();
        set.add_text(
            "hash-iocs.txt",
            &format!(
                "# t\n{shell_sha256};HAFNIUM Webshells - test\n{};55;low score md5\n",
                FileHashes::of(b"low").md5_hex()
            ),
            FeedFormat::LokiHash,
        );
        set.add_text(
            "filename-iocs.txt",
            "# Tick Group Webshell Exchange Exploitation IOCs\n\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\aspnet\\.aspx;90\n\
             # generic\n(?i)\\\\procdump\\.exe;50;SysInternals\n",
            FeedFormat::LokiFilename,
        );
        set.add_text(
            "mstic.csv",
            "DateAdded,FirstSeen,Indicator,IndicatorType,TLP\n\
             2021-03-09,,C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\OutlookZH.aspx,filepath,White\n\
             2021-03-11,,C:\\users\\public\\opera\\opera_browser.exe,filepath,White\n",
            FeedFormat::Mstic,
        );
        set.add_text(
            "names.tsv",
            "kind\tvalue\tscore\tactors\tsource\tnote\nfilename\tUwSPMsFi.aspx\t90\t\tCISA\tMAR\n",
            FeedFormat::Pack,
        );
        set
    }

    #[test]
    fn hash_regex_path_and_name_hits() {
        let sha = FileHashes::of(SHELL).sha256_hex();
        let check = IocFileCheck::new(&set_for(&sha));
        let fx = fixture(r"C:\inetpub\wwwroot\aspnet_client\aspnet.aspx", true, SHELL);
        let out = run(&check, &fx);
        assert_eq!(out.len(), 2, "{out:#?}");
        let h = &out[0];
        assert_eq!(h.rule_id, "EXS-IOC-HASH");
        assert_eq!(h.rule_source, "ioc");
        assert_eq!(h.severity, Severity::Critical);
        assert_eq!(h.category, Category::Webshell);
        assert_eq!(h.actors, vec!["HAFNIUM"]);
        assert!(h.title.contains(&sha) && h.title.contains("hash-iocs.txt:2"), "{}", h.title);
        assert_eq!(h.extra["ioc_kind"], "sha256");
        assert_eq!(h.extra["ioc_sources"][0]["line"], 2);
        assert_eq!(h.extra["ioc_score"], serde_json::Value::Null);
        assert_eq!(h.sha256.as_deref(), Some(sha.as_str()));
        let r = &out[1];
        assert_eq!(r.rule_id, "EXS-IOC-FILENAME");
        assert_eq!(r.severity, Severity::High);
        assert_eq!(r.actors, vec!["Tick"]);
        assert_eq!(r.extra["ioc_score"], 90);

        // A low score hash is medium; a non-script is category ioc.
        let fx = fixture(r"C:\ProgramData\low.bin", true, b"low");
        let out = run(&check, &fx);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].severity, Severity::Medium);
        assert_eq!(out[0].category, Category::Ioc);

        // The false-positive regex suppresses.
        assert_eq!(run(&check, &fixture(r"C:\Tools\PROCDUMP.exe", true, b"x")).len(), 1);
        assert!(run(&check, &fixture(r"C:\SysInternals\procdump.exe", true, b"x")).is_empty());
    }

    #[test]
    fn paths_match_any_drive_any_case_and_other_exchange_installs() {
        let check = IocFileCheck::new(&set_for(&"0".repeat(64)));
        let default = fixture(
            r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\outlookzh.ASPX",
            true,
            b"a",
        );
        let out = run(&check, &default);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule_id, "EXS-IOC-PATH");
        assert_eq!(out[0].severity, Severity::High);
        assert_eq!(out[0].category, Category::Webshell);
        assert_eq!(out[0].extra["ioc_match"], PathMatch::Exact.as_str());
        let other = fixture(r"D:\Exchange\FrontEnd\HttpProxy\owa\auth\OutlookZH.aspx", true, b"a");
        let out = run(&check, &other);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].extra["ioc_match"], PathMatch::ExchangeRelative.as_str());
        // Without a known drive root, the published path as a tail of the source path.
        let loose = fixture(r"C:\triage\c\users\public\opera\opera_browser.exe", false, b"a");
        let out = run(&check, &loose);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].extra["ioc_match"], PathMatch::Suffix.as_str());
        assert_eq!(out[0].category, Category::Ioc);
        // The same name elsewhere is not a path hit; a bare-name indicator matches anywhere.
        assert!(run(&check, &fixture(r"C:\Program Files\Opera\opera_browser.exe", true, b"a")).is_empty());
        let named = run(&check, &fixture(r"C:\inetpub\wwwroot\aspnet_client\uwspmsfi.aspx", true, b"a"));
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].rule_id, "EXS-IOC-FILENAME");
        assert_eq!(named[0].severity, Severity::High);
    }

    #[test]
    fn allow_listed_hashes_suppress_everything() {
        let sha = FileHashes::of(SHELL).sha256_hex();
        let mut set = set_for(&sha);
        set.add_text(
            "falsepositive-hashes.txt",
            &format!("{};our own page\n", FileHashes::of(SHELL).md5_hex()),
            FeedFormat::LokiHashAllow,
        );
        let check = IocFileCheck::new(&set);
        assert!(run(&check, &fixture(r"C:\inetpub\wwwroot\aspnet_client\aspnet.aspx", true, SHELL)).is_empty());
    }

    #[test]
    fn the_builtin_pack_finds_a_published_shell() {
        let check = IocFileCheck::new(crate::pack::builtin());
        let out = run(&check, &fixture(r"C:\inetpub\wwwroot\aspnet_client\discover.aspx", true, b"x"));
        let rules: Vec<&str> = out.iter().map(|f| f.rule_id.as_str()).collect();
        assert!(rules.contains(&"EXS-IOC-PATH"), "{rules:?}");
        let p = out.iter().find(|f| f.rule_id == "EXS-IOC-PATH").unwrap();
        assert_eq!(p.actors, vec!["Calypso"]);
        assert!(p.severity >= Severity::High);
        // Sorted, stable ids across runs.
        let again = run(&check, &fixture(r"C:\inetpub\wwwroot\aspnet_client\discover.aspx", true, b"x"));
        assert_eq!(
            out.iter().map(|f| &f.title).collect::<Vec<_>>(),
            again.iter().map(|f| &f.title).collect::<Vec<_>>()
        );
    }
}
