//! exsweep-yara: the yara-x adapter. It compiles exsweep's built-in rules (rules/*.yar) and the
//! user's rule folders (`--yara`) once, with the externals Loki and signature-base use
//! (`filename`, `filepath`, `extension`, `filetype`, `owner`, `md5`), caches the compiled set on
//! disk keyed by the sources' hash, reports every rule file that fails to compile while the others
//! still run, and scans swept files with one reused scanner per thread and a timeout per file.

mod cache;
mod meta;

use exsweep_core::model::{Category, Finding, RuleMeta, Severity};
use exsweep_core::sweep::{FileCheck, SweptFile, is_script_name};
use meta::RuleInfo;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use cache::default_cache_dir;
/// The yara-x crate, for callers that drive it directly (the sweep benchmark's baseline).
pub use yara_x;

/// The built-in rule files, embedded in the binary: (origin, text).
pub const BUILTIN_RULES: &[(&str, &str)] = &[
    ("exsweep:rules/webshells.yar", include_str!("../rules/webshells.yar")),
    ("exsweep:rules/tools.yar", include_str!("../rules/tools.yar")),
];

/// The externals every rule may read; values are set per file before it is scanned.
pub const EXTERNALS: &[&str] = &["filename", "filepath", "extension", "filetype", "owner", "md5"];

/// A rule file that could not be used (wholly or in part), with the reason.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleProblem {
    /// The file (or `exsweep:` origin of a built-in file).
    pub path: String,
    /// The compiler's message, with the line and column it points at.
    pub reason: String,
}

/// How loading went.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoadStats {
    /// Rule files read (built-in and user).
    pub files: usize,
    /// Files that compiled without error.
    pub compiled: usize,
    /// Rules in the compiled set.
    pub rules: usize,
    /// True when the compiled set came from the cache.
    #[serde(skip)]
    pub from_cache: bool,
}

/// What to load.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Include exsweep's built-in rules.
    pub builtin: bool,
    /// User rule files or folders (`.yar`, `.yara`; folders are walked, sorted).
    pub paths: Vec<PathBuf>,
    /// Extra rule texts (origin, text), e.g. YARA rules carried by an IOC feed.
    pub extra: Vec<(String, String)>,
    /// Where compiled sets are cached; None: no cache.
    pub cache_dir: Option<PathBuf>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { builtin: true, paths: Vec::new(), extra: Vec::new(), cache_dir: None }
    }
}

/// A compiled rule set with what is known of each rule.
pub struct YaraRules {
    /// Leaked once per load: scanners borrow it for the life of their thread.
    rules: &'static yara_x::Rules,
    /// Per-rule facts by (namespace, identifier).
    info: HashMap<(String, String), RuleInfo>,
    /// Identity of this set, so a thread's cached scanner is never used with another set.
    generation: u64,
    pub problems: Vec<RuleProblem>,
    pub stats: LoadStats,
}

static GENERATION: AtomicU64 = AtomicU64::new(1);

/// One rule source to compile.
struct Source {
    origin: String,
    text: Vec<u8>,
}

impl YaraRules {
    /// Loads and compiles the rules (or takes them from the cache). Never fails: unreadable or
    /// broken files are listed in `problems`.
    pub fn load(opts: &LoadOptions) -> YaraRules {
        let mut problems = Vec::new();
        let mut sources = Vec::new();
        if opts.builtin {
            for (origin, text) in BUILTIN_RULES {
                sources.push(Source { origin: origin.to_string(), text: text.as_bytes().to_vec() });
            }
        }
        for p in &opts.paths {
            collect_files(p, &mut sources, &mut problems);
        }
        for (origin, text) in &opts.extra {
            sources.push(Source { origin: origin.clone(), text: text.as_bytes().to_vec() });
        }
        let key = cache::key(sources.iter().map(|s| (s.origin.as_str(), s.text.as_slice())));
        if let Some(dir) = &opts.cache_dir
            && let Some((rules, cached)) = cache::read(dir, &key)
        {
            problems.extend(cached.problems);
            let mut stats = cached.stats;
            stats.from_cache = true;
            return YaraRules::from_compiled(rules, &cached.origins, problems, stats);
        }
        let (rules, compile_problems, mut stats) = compile(&sources);
        stats.files = sources.len();
        let origins: Vec<String> = sources.iter().map(|s| s.origin.clone()).collect();
        if let Some(dir) = &opts.cache_dir {
            // A cache that cannot be written only costs the next run a compile.
            let _ = cache::write(
                dir,
                &key,
                &rules,
                &cache::Sidecar { origins: origins.clone(), problems: compile_problems.clone(), stats: stats.clone() },
            );
        }
        problems.extend(compile_problems);
        YaraRules::from_compiled(rules, &origins, problems, stats)
    }

    fn from_compiled(
        rules: yara_x::Rules,
        origins: &[String],
        problems: Vec<RuleProblem>,
        mut stats: LoadStats,
    ) -> YaraRules {
        let rules: &'static yara_x::Rules = Box::leak(Box::new(rules));
        let info = meta::collect(rules, origins);
        stats.rules = info.len();
        YaraRules { rules, info, generation: GENERATION.fetch_add(1, Ordering::Relaxed), problems, stats }
    }

    /// The compiled rules (for benchmarks that drive yara-x directly).
    pub fn compiled(&self) -> &'static yara_x::Rules {
        self.rules
    }

    /// Number of rules in the set.
    pub fn len(&self) -> usize {
        self.info.len()
    }

    pub fn is_empty(&self) -> bool {
        self.info.is_empty()
    }

    /// Every public rule: its finding id, name and file, sorted by file and name.
    pub fn rule_list(&self) -> Vec<RuleSummary> {
        let mut list: Vec<RuleSummary> = self
            .info
            .values()
            .filter(|i| !i.private)
            .map(|i| RuleSummary {
                id: i.id.clone().unwrap_or_else(|| format!("YARA:{}", i.name)),
                name: i.name.clone(),
                origin: i.origin.clone(),
            })
            .collect();
        list.sort_by(|a, b| a.origin.cmp(&b.origin).then(a.name.cmp(&b.name)));
        list
    }
}

/// A rule as `exsweep intel list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSummary {
    pub id: String,
    pub name: String,
    pub origin: String,
}

/// Walks a rule path: a file is taken whatever its extension; a folder gives its `.yar`/`.yara`
/// files, sorted.
fn collect_files(path: &Path, out: &mut Vec<Source>, problems: &mut Vec<RuleProblem>) {
    let mut files = Vec::new();
    if path.is_dir() {
        for e in walkdir::WalkDir::new(path).follow_links(true).sort_by_file_name() {
            match e {
                Ok(e) if e.file_type().is_file() => {
                    let ext = e.path().extension().and_then(|x| x.to_str()).unwrap_or("").to_ascii_lowercase();
                    if ext == "yar" || ext == "yara" {
                        files.push(e.path().to_path_buf());
                    }
                }
                Ok(_) => {}
                Err(e) => problems.push(RuleProblem {
                    path: e.path().unwrap_or(path).display().to_string(),
                    reason: format!("cannot list: {e}"),
                }),
            }
        }
    } else {
        files.push(path.to_path_buf());
    }
    for f in files {
        match std::fs::read(&f) {
            Ok(text) => out.push(Source { origin: f.display().to_string(), text }),
            Err(e) => problems.push(RuleProblem { path: f.display().to_string(), reason: format!("cannot read: {e}") }),
        }
    }
}

/// Compiles every source into one set, each in its own namespace (so that two files may use
/// the same rule name). A file with errors is reported; its rules that compiled are kept, and
/// the other files are unaffected.
fn compile(sources: &[Source]) -> (yara_x::Rules, Vec<RuleProblem>, LoadStats) {
    let mut compiler = yara_x::Compiler::new();
    compiler.colorize_errors(false);
    // Legacy YARA accepts some regex syntax that yara-x rejects by default (signature-base uses it).
    compiler.relaxed_re_syntax(true);
    for name in EXTERNALS {
        let _ = compiler.define_global(name, "");
    }
    let mut problems = Vec::new();
    let mut stats = LoadStats::default();
    for (i, s) in sources.iter().enumerate() {
        compiler.new_namespace(&format!("f{i}"));
        let code = yara_x::SourceCode::from(s.text.as_slice()).with_origin(s.origin.clone());
        match compiler.add_source(code) {
            Ok(_) => stats.compiled += 1,
            Err(e) => problems.push(RuleProblem { path: s.origin.clone(), reason: short_error(&e.to_string()) }),
        }
    }
    (compiler.build(), problems, stats)
}

/// The first line of a yara-x report and the location it points at (`--> file:line:col`).
fn short_error(report: &str) -> String {
    let mut lines = report.lines();
    let title = lines.next().unwrap_or("compile error").trim().trim_start_matches("error").trim_start_matches(':');
    let at = report.lines().find_map(|l| l.trim().strip_prefix("--> ")).map(|loc| format!(" at {loc}"));
    format!("{}{}", title.trim(), at.unwrap_or_default())
}

/// How YARA findings are made.
#[derive(Clone, Copy, Debug)]
pub struct ScanSettings {
    pub timeout: Duration,
    /// Matches kept per pattern (bounds memory on files with thousands of hits).
    pub max_matches_per_pattern: usize,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings { timeout: Duration::from_secs(10), max_matches_per_pattern: 100 }
    }
}

/// The YARA file check: scans each swept file with the compiled set.
pub struct YaraCheck {
    rules: YaraRules,
    settings: ScanSettings,
    /// Maps a rule's name and description to activity groups (for rules that do not say).
    actor_of: Option<fn(&str) -> Vec<String>>,
}

thread_local! {
    /// One scanner per thread and rule set, reused across files.
    static SCANNERS: RefCell<Vec<(u64, yara_x::Scanner<'static>)>> = const { RefCell::new(Vec::new()) };
}

/// The rule meta of YARA findings; fields are then set from the rule that matched.
const YARA_RULE: RuleMeta = RuleMeta {
    id: "EXS-YARA",
    title: "YARA rule matched",
    severity: Severity::Medium,
    category: Category::Ioc,
    cves: &[],
    actors: &[],
    attack: &[],
};

impl YaraCheck {
    pub fn new(rules: YaraRules, settings: ScanSettings) -> YaraCheck {
        YaraCheck { rules, settings, actor_of: None }
    }

    /// Names activity groups from a rule's name and description when its meta does not.
    pub fn with_actor_names(mut self, f: fn(&str) -> Vec<String>) -> YaraCheck {
        self.actor_of = Some(f);
        self
    }

    pub fn rules(&self) -> &YaraRules {
        &self.rules
    }

    /// Scans `data` with `file`'s externals; the matching rules (sorted) and their evidence, or
    /// the scan error.
    fn scan(&self, file: &SweptFile<'_>) -> Result<Vec<Hit>, String> {
        SCANNERS.with(|cell| {
            let mut scanners = cell.borrow_mut();
            let idx = match scanners.iter().position(|(g, _)| *g == self.rules.generation) {
                Some(i) => i,
                None => {
                    let mut s = yara_x::Scanner::new(self.rules.rules);
                    s.set_timeout(self.settings.timeout);
                    s.max_matches_per_pattern(self.settings.max_matches_per_pattern);
                    scanners.push((self.rules.generation, s));
                    scanners.len() - 1
                }
            };
            let scanner = &mut scanners[idx].1;
            let (dir, name) = split_windows_path(file.windows_path);
            let ext = name.rfind('.').map(|i| name[i..].to_ascii_lowercase()).unwrap_or_default();
            let ftype = exsweep_core::sweep::file_type(file.data);
            let md5 = file.hashes.md5_hex();
            for (k, v) in
                [("filename", name), ("filepath", dir), ("extension", ext.as_str()), ("filetype", ftype), ("owner", "")]
            {
                let _ = scanner.set_global(k, v);
            }
            let _ = scanner.set_global("md5", md5.as_str());
            let results = scanner.scan(file.data).map_err(|e| e.to_string())?;
            let mut hits: Vec<Hit> = results
                .matching_rules()
                .map(|r| Hit {
                    key: (r.namespace().to_string(), r.identifier().to_string()),
                    evidence: evidence(&r, file.data),
                })
                .collect();
            hits.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(hits)
        })
    }
}

struct Hit {
    key: (String, String),
    evidence: String,
}

/// `C:\a\b\x.aspx` → (`C:\a\b`, `x.aspx`).
fn split_windows_path(p: &str) -> (&str, &str) {
    match p.rfind('\\') {
        Some(i) => (&p[..i], &p[i + 1..]),
        None => ("", p),
    }
}

/// The first matches of a rule: `$id@offset: excerpt`, printable, short.
fn evidence(rule: &yara_x::Rule<'_, '_>, data: &[u8]) -> String {
    let mut parts = Vec::new();
    for p in rule.patterns() {
        if let Some(m) = p.matches().next() {
            let r = m.range();
            let bytes = &data[r.start..r.end.min(r.start + 80).min(data.len())];
            parts.push(format!("{}@{:#x}: {}", p.identifier(), r.start, printable(bytes)));
        }
        if parts.len() >= 4 {
            break;
        }
    }
    if parts.is_empty() { "condition matched (no pattern)".into() } else { parts.join("; ") }
}

/// Bytes as text: UTF-16LE text decoded, other control bytes as `.`.
fn printable(b: &[u8]) -> String {
    let wide = b.len() >= 4 && b.iter().skip(1).step_by(2).all(|&x| x == 0);
    let bytes: Vec<u8> = if wide { b.iter().step_by(2).copied().collect() } else { b.to_vec() };
    bytes.iter().map(|&c| if (0x20..0x7f).contains(&c) { c as char } else { '.' }).collect()
}

impl FileCheck for YaraCheck {
    fn check(&self, file: &SweptFile<'_>, out: &mut Vec<Finding>) {
        if self.rules.is_empty() {
            return;
        }
        let hits = match self.scan(file) {
            Ok(h) => h,
            Err(e) => {
                let reason = if e.contains("timeout") {
                    format!("YARA scan timed out after {:?}; rules not finished did not report", self.settings.timeout)
                } else {
                    format!("YARA scan failed: {e}")
                };
                out.push(file.problem(&reason));
                return;
            }
        };
        for h in hits {
            let Some(info) = self.rules.info.get(&h.key) else { continue };
            if info.private {
                continue;
            }
            let mut f = file.finding(&YARA_RULE);
            f.rule_source = "yara".into();
            f.rule_id = info.id.clone().unwrap_or_else(|| format!("YARA:{}", info.name));
            f.title = match &info.title {
                Some(t) => format!("{t}: {}", file.windows_path),
                None => format!("YARA rule {} matched {}", info.name, file.windows_path),
            };
            let script = is_script_name(file.name());
            f.category = info.category.unwrap_or_else(|| meta::category_by_name(&info.name, script));
            f.severity = info.severity.unwrap_or_else(|| meta::severity_by_score(info.score, f.category));
            f.cves = info.cves.clone();
            f.attack = info.attack.clone();
            f.actors = if !info.actors.is_empty() {
                info.actors.clone()
            } else if let Some(map) = self.actor_of {
                map(&format!("{} {}", info.name, info.description.as_deref().unwrap_or("")))
            } else {
                Vec::new()
            };
            f = f.with_evidence(&format!("{} matched {}: {}", info.name, file.path, h.evidence));
            let x = &mut f.extra;
            x.insert("yara_rule".into(), info.name.clone().into());
            x.insert("yara_file".into(), info.origin.clone().into());
            for (k, v) in [
                ("rule_author", &info.author),
                ("rule_description", &info.description),
                ("rule_reference", &info.reference),
            ] {
                if let Some(v) = v {
                    x.insert(k.into(), v.clone().into());
                }
            }
            if let Some(s) = info.score {
                x.insert("yara_score".into(), s.into());
            }
            if !info.tags.is_empty() {
                x.insert("yara_tags".into(), info.tags.clone().into());
            }
            out.push(f);
        }
    }
}
