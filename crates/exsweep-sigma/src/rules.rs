//! The rule set: loading Sigma files with a problem per rule that cannot be used, and evaluating
//! records.
//!
//! Evaluation is routed and prefiltered. Each record names its logsources (see
//! [`crate::logsource`]); the rules of that route form a *bucket*, built once per route on first
//! use, with one Aho-Corasick automaton over the (lowercase) needles of its rules (see
//! [`crate::needles`]). One pass of that automaton over the record's values, lowered as they are
//! copied, tells which rules can match; only those, and the few rules without needles, are evaluated in full. Results come in
//! rule order (files sorted, rules in file order), whatever the thread count.

use crate::columns::{ColumnLog, flat_columns};
use crate::correlation::{Correlation, CorrelationHit, CorrelationInput, Location};
use crate::detection::Detection;
use crate::event::FlatEvent;
use crate::logsource::{Route, route_of};
use crate::needles::{NeedleTable, Needles, Seen};
use crate::rule::{Document, FilterDoc, FilterTargets, LogSourceSpec, RuleDoc, RuleInfo};
use crate::value::Placeholders;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use exsweep_core::record::{EventRecord, Record};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};

/// A rule file, or a rule in one, that is not evaluated, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleProblem {
    pub path: String,
    /// Title or id of the rule, when the file was parsed far enough to tell.
    pub rule: Option<String>,
    pub reason: String,
}

/// Counts of what a load found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub files: usize,
    pub rules: usize,
    pub correlations: usize,
    pub filters: usize,
    /// Filters applied to at least one loaded rule.
    pub filters_applied: usize,
}

/// One rule that fired on one record.
#[derive(Clone, Debug, PartialEq)]
pub struct SigmaMatch {
    pub title: String,
    pub id: Option<String>,
    pub level: Option<String>,
    pub tags: Vec<String>,
    /// The rule's author and the file it came from: the DRL 1.1 licence of SigmaHQ rules asks
    /// that both be shown wherever a rule is cited.
    pub author: Option<String>,
    pub origin: String,
}

impl SigmaMatch {
    fn of(info: &RuleInfo) -> SigmaMatch {
        SigmaMatch {
            title: info.title.clone(),
            id: info.id.clone(),
            level: info.level.clone(),
            tags: info.tags.clone(),
            author: info.author.clone(),
            origin: info.origin.clone(),
        }
    }
}

/// A compiled detection rule.
#[derive(Debug)]
pub struct CompiledRule {
    pub info: RuleInfo,
    pub logsource: LogSourceSpec,
    pub detection: Detection,
    /// The prefilter: a matching record hits a needle of every clause (see
    /// [`Detection::clauses`]). Empty: the rule is evaluated on every record of its logsource.
    pub clauses: Vec<Vec<String>>,
    /// The clauses as needle ids.
    clause_ids: Vec<Vec<u32>>,
    /// Needles found in the raw bytes of any EVTX chunk holding a matching record (see
    /// [`chunk_needles`]). `None`: unknown.
    pub chunk_needles: Needles,
    /// The fields the rule reads (for evidence), and whether it searches keywords.
    pub fields: (Vec<String>, bool),
    /// Fields its findings show besides (an `exsweep:` block's title, evidence and extra).
    shown: Vec<String>,
    /// False for rules a correlation uses without `generate: true`: their hits feed the
    /// correlation only.
    pub generates: bool,
}

impl CompiledRule {
    /// The most selective clause: one of these is in every matching record.
    pub fn needles(&self) -> Option<&[String]> {
        self.clauses.first().map(Vec::as_slice)
    }

    /// Derives what the prefilter and the findings need from the detection, as compiled or as
    /// changed by a filter.
    fn derive(&mut self, table: &mut NeedleTable) {
        self.detection.assign_needle_ids(table);
        self.clauses = self.detection.clauses();
        self.clause_ids = self.clauses.iter().map(|c| c.iter().map(|n| table.id(n)).collect()).collect();
        self.fields = self.detection.fields();
        self.chunk_needles = chunk_needles(&self.detection);
    }
}

/// The rules of one route, with their prefilter.
struct Bucket {
    /// Global rule indices, ascending.
    rules: Vec<u32>,
    /// Local indices of rules evaluated on every record (no needles).
    always: Vec<u32>,
    automaton: Option<AhoCorasick>,
    /// The needle id of each slot (automaton patterns first, then event-id needles).
    pattern_ids: Vec<u32>,
    /// (local rule index, clause bit) per slot.
    pattern_rules: Vec<Vec<(u32, u8)>>,
    /// Automaton pattern index → slot.
    ac_slots: Vec<usize>,
    /// EventID → slot of its event-id needle.
    event_id_slots: HashMap<u32, usize>,
    /// Per local rule, the clause bits that must all be hit.
    full_mask: Vec<u8>,
    /// When no rule of the bucket searches keywords and they read few fields: those fields,
    /// the only values the automaton needs to see (an HttpProxy line has 74 columns; the
    /// built-in rule reads one).
    scan_fields: Option<Vec<String>>,
    /// When no rule of the bucket searches keywords: every field its rules read or show, so a
    /// delimited record can be split into these alone.
    view_fields: Option<Arc<Vec<String>>>,
}

/// Needle sets up to this size are searched with a DFA (under a megabyte).
const SMALL_AUTOMATON: usize = 256;

/// Buckets whose rules read more fields than this scan every value (finding them costs more).
const MAX_SCAN_FIELDS: usize = 12;

/// What evaluation did, for the benchmark: records seen, rules evaluated in full, hits.
#[derive(Default)]
struct Counters {
    records: std::sync::atomic::AtomicU64,
    evaluated: std::sync::atomic::AtomicU64,
    hits: std::sync::atomic::AtomicU64,
}

/// A summary of evaluation so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvalStats {
    pub records: u64,
    /// Rules evaluated in full (those the prefilter let through).
    pub evaluated: u64,
    pub hits: u64,
}

impl Bucket {
    /// The prefilter found the needle of `slot`: mark it, and the clauses it satisfies.
    #[inline]
    fn hit(&self, slot: usize, s: &mut Scratch, generation: u32) {
        let id = self.pattern_ids[slot] as usize;
        if s.needle_seen[id] == generation {
            return;
        }
        s.needle_seen[id] = generation;
        for &(r, bit) in &self.pattern_rules[slot] {
            let r = r as usize;
            if s.rule_seen[r] != generation {
                s.rule_seen[r] = generation;
                s.rule_mask[r] = 0;
            }
            let full = self.full_mask[r];
            if s.rule_mask[r] == full {
                continue;
            }
            s.rule_mask[r] |= 1 << bit;
            if s.rule_mask[r] == full {
                s.candidates.push(r as u32);
            }
        }
    }
}

/// Per-thread marks for deduplicating candidates without clearing arrays per record.
#[derive(Default)]
struct Scratch {
    generation: u32,
    /// Per needle id: the generation in which the prefilter last saw it.
    needle_seen: Vec<u32>,
    rule_seen: Vec<u32>,
    /// Clause bits hit so far, for rules whose `rule_seen` is this generation.
    rule_mask: Vec<u8>,
    candidates: Vec<u32>,
    /// The record's values, joined by NUL, scanned in one automaton pass.
    text: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
    /// The bucket of the last route looked up: records come file by file, so nearly every
    /// lookup is the last one again (no lock, no hashing).
    static LAST_BUCKET: RefCell<Option<(u64, Route, Arc<Bucket>)>> = const { RefCell::new(None) };
}

/// Tells rule sets (and their bucket generations) apart in the per-thread bucket cache.
static NEXT_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_generation() -> u64 {
    NEXT_GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Compiled Sigma rules, ready to evaluate records.
pub struct SigmaRules {
    rules: Vec<CompiledRule>,
    correlations: Vec<Correlation>,
    /// Built on first use; a route's cell is filled once, other threads wait for it.
    buckets: RwLock<HashMap<Route, Arc<OnceLock<Arc<Bucket>>>>>,
    pending_filters: Vec<FilterDoc>,
    pending_correlations: Vec<crate::rule::CorrelationDoc>,
    placeholders: Placeholders,
    /// Changes whenever the buckets are dropped, and differs between rule sets.
    generation: u64,
    needles: NeedleTable,
    counters: Counters,
    pub stats: LoadStats,
    pub problems: Vec<RuleProblem>,
}

impl Default for SigmaRules {
    fn default() -> Self {
        Self::new()
    }
}

impl SigmaRules {
    pub fn new() -> SigmaRules {
        SigmaRules::with_placeholders(Placeholders::new())
    }

    /// An empty set whose `expand` modifiers take their values from `placeholders`.
    pub fn with_placeholders(placeholders: Placeholders) -> SigmaRules {
        SigmaRules {
            rules: Vec::new(),
            correlations: Vec::new(),
            buckets: RwLock::new(HashMap::new()),
            pending_filters: Vec::new(),
            pending_correlations: Vec::new(),
            placeholders,
            generation: next_generation(),
            needles: NeedleTable::default(),
            counters: Counters::default(),
            stats: LoadStats::default(),
            problems: Vec::new(),
        }
    }

    /// Loads every `.yml`/`.yaml` file under the given files and folders (sorted, so the rule
    /// order and the output do not depend on the file system), then applies filters and links
    /// correlations.
    pub fn load(paths: &[PathBuf]) -> SigmaRules {
        Self::load_with(paths, Placeholders::new())
    }

    /// [`SigmaRules::load`] with values for `expand` placeholders.
    pub fn load_with(paths: &[PathBuf], placeholders: Placeholders) -> SigmaRules {
        let mut rules = SigmaRules::with_placeholders(placeholders);
        rules.add_paths(paths);
        rules.finish();
        rules
    }

    /// Adds the rule files under these files and folders (see [`SigmaRules::load`]); call
    /// [`SigmaRules::finish`] after the last addition.
    pub fn add_paths(&mut self, paths: &[PathBuf]) {
        use rayon::prelude::*;
        let files = self.rule_files(paths);
        let placeholders = &self.placeholders;
        // Reading, YAML and regex compilation in parallel; the results are added in file order.
        let parsed: Vec<(String, ParsedFile)> = files
            .par_iter()
            .map(|f| {
                let origin = f.display().to_string();
                let parsed = match std::fs::read(f) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => parse_file(&text, &origin, placeholders),
                        Err(_) => Err("not UTF-8 text".into()),
                    },
                    Err(e) => Err(format!("not readable: {e}")),
                };
                (origin, parsed)
            })
            .collect();
        for (origin, p) in parsed {
            self.add_parsed(&origin, p);
        }
    }

    fn rule_files(&mut self, paths: &[PathBuf]) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for p in paths {
            if p.is_dir() {
                for e in walkdir::WalkDir::new(p).follow_links(true).sort_by_file_name() {
                    match e {
                        Ok(e) if e.file_type().is_file() && is_yaml(e.path()) => files.push(e.into_path()),
                        Ok(_) => {}
                        Err(err) => {
                            let path = err.path().map(|p| p.display().to_string()).unwrap_or_default();
                            self.problem(&path, None, format!("not readable: {err}"));
                        }
                    }
                }
            } else if p.exists() {
                files.push(p.clone());
            } else {
                self.problem(&p.display().to_string(), None, "no such file or folder".into());
            }
        }
        files
    }

    fn problem(&mut self, path: &str, rule: Option<String>, reason: String) {
        self.problems.push(RuleProblem { path: path.to_string(), rule, reason });
    }

    /// Adds the rules of one YAML text (one or more documents); `origin` names it in problems.
    /// Filters and correlations wait for [`SigmaRules::finish`], since they may name rules of
    /// other files.
    pub fn add_yaml(&mut self, text: &str, origin: &str) {
        let parsed = parse_file(text, origin, &self.placeholders);
        self.add_parsed(origin, parsed);
    }

    /// Adds what [`parse_file`] made of one file (parsing runs in parallel; adding, in file order).
    fn add_parsed(&mut self, origin: &str, parsed: ParsedFile) {
        self.stats.files += 1;
        self.drop_buckets();
        let docs = match parsed {
            Ok(d) => d,
            Err(e) => return self.problem(origin, None, e),
        };
        for doc in docs {
            match doc {
                Parsed::Problem(title, e) => self.problem(origin, title, e),
                Parsed::Rule(r, detection) => self.add_rule(*r, detection),
                Parsed::Filter(f) => {
                    self.stats.filters += 1;
                    self.pending_filters.push(*f);
                }
                Parsed::Correlation(c) => {
                    self.stats.correlations += 1;
                    self.pending_correlations.push(*c);
                }
            }
        }
    }

    fn add_rule(&mut self, r: RuleDoc, detection: Result<Detection, String>) {
        match detection {
            Ok(detection) => {
                self.stats.rules += 1;
                let mut rule = CompiledRule {
                    info: r.info,
                    logsource: r.logsource,
                    detection,
                    clauses: Vec::new(),
                    clause_ids: Vec::new(),
                    chunk_needles: None,
                    fields: (Vec::new(), false),
                    shown: Vec::new(),
                    generates: true,
                };
                rule.derive(&mut self.needles);
                self.rules.push(rule);
            }
            Err(e) => {
                let origin = r.info.origin.clone();
                self.problem(&origin, Some(r.info.title), format!("cannot compile: {e}"));
            }
        }
    }

    /// Applies the filters and links the correlations read so far. [`SigmaRules::load`] calls
    /// it; callers of [`SigmaRules::add_yaml`] call it after the last one.
    pub fn finish(&mut self) {
        for f in std::mem::take(&mut self.pending_filters) {
            self.apply_filter(f);
        }
        let docs = std::mem::take(&mut self.pending_correlations);
        let (links, problems) = crate::correlation::link(docs, &self.rules, &self.correlations);
        for p in problems {
            self.problems.push(p);
        }
        let base = self.correlations.len();
        self.correlations.extend(links);
        for ci in base..self.correlations.len() {
            let c = &self.correlations[ci];
            // The fields a correlation groups and counts by must be in the records its rules see.
            let mut wanted: Vec<(usize, String)> = Vec::new();
            for (slot, r) in c.refs.iter().enumerate() {
                if let crate::correlation::Ref::Rule(i) = r {
                    for col in c.group_by.iter().chain(&c.field) {
                        wanted.push((*i, c.field_for(col, slot)));
                    }
                }
            }
            let silence = !c.generate;
            let refs = c.refs.clone();
            for (i, f) in wanted {
                if !self.rules[i].shown.contains(&f) {
                    self.rules[i].shown.push(f);
                }
            }
            if silence {
                // Only the correlation reports: neither its rules nor the correlations it uses.
                for r in refs {
                    match r {
                        crate::correlation::Ref::Rule(i) => self.rules[i].generates = false,
                        crate::correlation::Ref::Correlation(j) => self.correlations[j].generates = false,
                    }
                }
            }
        }
        self.drop_buckets();
    }

    fn apply_filter(&mut self, f: FilterDoc) {
        let problem = |reason: String| RuleProblem { path: f.origin.clone(), rule: Some(f.title.clone()), reason };
        let targets: Vec<usize> = (0..self.rules.len())
            .filter(|&i| {
                let r = &self.rules[i];
                let named = match &f.targets {
                    FilterTargets::Any => true,
                    FilterTargets::Rules(names) => names.iter().any(|n| names_rule(&r.info, n)),
                };
                named && same_logsource(&r.logsource, &f.logsource)
            })
            .collect();
        if targets.is_empty() {
            let what = match &f.targets {
                FilterTargets::Any => "any".to_string(),
                FilterTargets::Rules(n) => n.join(", "),
            };
            self.problems.push(problem(format!("filter names no loaded rule of its logsource ({what})")));
            return;
        }
        let filter = match Detection::compile(&f.detection, std::slice::from_ref(&f.condition), &self.placeholders) {
            Ok(d) => d,
            Err(e) => return self.problems.push(problem(format!("cannot compile: {e}"))),
        };
        for i in targets {
            let rule = &mut self.rules[i];
            rule.detection.and(filter.clone());
            rule.derive(&mut self.needles);
        }
        self.stats.filters_applied += 1;
    }

    /// Drops the buckets built so far (the rules changed).
    fn drop_buckets(&mut self) {
        if let Ok(b) = self.buckets.get_mut() {
            b.clear();
        }
        self.generation = next_generation();
    }

    /// Registers fields rule `i`'s findings show besides those it reads (see [`CompiledRule`]).
    pub fn show_fields(&mut self, i: usize, fields: Vec<String>) {
        if let Some(r) = self.rules.get_mut(i) {
            for f in fields {
                if !r.shown.contains(&f) {
                    r.shown.push(f);
                }
            }
        }
        self.drop_buckets();
    }

    /// The fields records of `route` need to hold for its rules (`None`: all of them, as some
    /// rule searches keywords).
    pub fn view_fields(&self, route: &Route) -> Option<Arc<Vec<String>>> {
        self.bucket(route).view_fields.clone()
    }

    /// Compiled rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.correlations.is_empty()
    }

    pub fn rule(&self, i: usize) -> &CompiledRule {
        &self.rules[i]
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    fn bucket(&self, route: &Route) -> Arc<Bucket> {
        let cached = LAST_BUCKET.with(|c| match &*c.borrow() {
            Some((g, r, b)) if *g == self.generation && r == route => Some(b.clone()),
            _ => None,
        });
        if let Some(b) = cached {
            return b;
        }
        let b = self.bucket_shared(route);
        LAST_BUCKET.with(|c| *c.borrow_mut() = Some((self.generation, *route, b.clone())));
        b
    }

    fn bucket_shared(&self, route: &Route) -> Arc<Bucket> {
        let cell = self.buckets.read().ok().and_then(|m| m.get(route).cloned());
        let cell = match cell {
            Some(c) => c,
            None => match self.buckets.write() {
                Ok(mut m) => m.entry(*route).or_default().clone(),
                Err(_) => return Arc::new(self.build_bucket(route)),
            },
        };
        cell.get_or_init(|| Arc::new(self.build_bucket(route))).clone()
    }

    fn build_bucket(&self, route: &Route) -> Bucket {
        let rules: Vec<u32> =
            (0..self.rules.len()).filter(|&i| route.satisfies(&self.rules[i].logsource)).map(|i| i as u32).collect();
        let mut always = Vec::new();
        let mut pattern_ids: Vec<u32> = Vec::new();
        let mut index: HashMap<u32, usize> = HashMap::new();
        let mut pattern_rules: Vec<Vec<(u32, u8)>> = Vec::new();
        let mut full_mask = Vec::with_capacity(rules.len());
        let mut pattern_of = |id: u32, pattern_rules: &mut Vec<Vec<(u32, u8)>>| {
            *index.entry(id).or_insert_with(|| {
                pattern_ids.push(id);
                pattern_rules.push(Vec::new());
                pattern_ids.len() - 1
            })
        };
        let mut tests = Vec::new();
        for (local, &g) in rules.iter().enumerate() {
            let rule = &self.rules[g as usize];
            full_mask.push(((1u16 << rule.clause_ids.len()) - 1) as u8);
            if rule.clause_ids.is_empty() {
                always.push(local as u32);
            }
            for (bit, clause) in rule.clause_ids.iter().enumerate() {
                for &id in clause {
                    let p = pattern_of(id, &mut pattern_rules);
                    let entry = (local as u32, bit as u8);
                    if !pattern_rules[p].contains(&entry) {
                        pattern_rules[p].push(entry);
                    }
                }
            }
            tests.clear();
            rule.detection.test_needle_ids(&mut tests);
            for &id in &tests {
                pattern_of(id, &mut pattern_rules);
            }
        }
        let mut ac_slots = Vec::new();
        let mut event_id_slots = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        for (slot, &id) in pattern_ids.iter().enumerate() {
            let name = self.needles.name(id);
            match crate::needles::event_id_of_needle(name) {
                Some(eid) => {
                    event_id_slots.insert(eid, slot);
                }
                None => {
                    ac_slots.push(slot);
                    // The scanned text is lowered (ASCII) as it is copied: an automaton over
                    // lowercase needles only is half the size of a case-insensitive one, and faster.
                    patterns.push(name.to_ascii_lowercase());
                }
            }
        }
        // A contiguous NFA for large sets: a DFA scans about 30% faster but takes 5 to 20 times
        // the memory (90 MB for the 11,000 needles of SigmaHQ's process_creation rules, 2.6 MB
        // as an NFA). Small sets (exsweep's own rules on web and Exchange logs) get the DFA.
        let kind =
            if patterns.len() <= SMALL_AUTOMATON { AhoCorasickKind::DFA } else { AhoCorasickKind::ContiguousNFA };
        let automaton = (!patterns.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(false)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(kind))
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        if automaton.is_none() && !patterns.is_empty() {
            // Could not build the automaton: evaluate every rule rather than miss one.
            let n = rules.len() as u32;
            return Bucket {
                always: (0..n).collect(),
                rules,
                automaton: None,
                pattern_ids: Vec::new(),
                pattern_rules: Vec::new(),
                ac_slots: Vec::new(),
                event_id_slots: HashMap::new(),
                full_mask,
                scan_fields: None,
                view_fields: None,
            };
        }
        let mut names: Vec<String> = Vec::new();
        let mut keywords = false;
        for &g in &rules {
            let (fields, kw) = &self.rules[g as usize].fields;
            keywords |= *kw;
            for f in fields {
                if !names.contains(f) {
                    names.push(f.clone());
                }
            }
        }
        let mut view = names.clone();
        for &g in &rules {
            for f in &self.rules[g as usize].shown {
                if !view.contains(f) {
                    view.push(f.clone());
                }
            }
        }
        let view_fields = (!keywords).then(|| Arc::new(view));
        let scan_fields = (!keywords && names.len() <= MAX_SCAN_FIELDS).then_some(names);
        Bucket {
            rules,
            always,
            automaton,
            pattern_ids,
            pattern_rules,
            ac_slots,
            event_id_slots,
            full_mask,
            scan_fields,
            view_fields,
        }
    }

    /// Indices of the rules that match a record, ascending.
    pub fn matching(&self, ev: &FlatEvent<'_>, route: &Route) -> Vec<usize> {
        self.prefiltered(ev, route, true)
    }

    /// Indices of the rules that match a record, every rule of the route evaluated in full
    /// without the prefilter: the reference [`SigmaRules::matching`] must agree with.
    pub fn matching_exhaustive(&self, ev: &FlatEvent<'_>, route: &Route) -> Vec<usize> {
        (0..self.rules.len())
            .filter(|&i| route.satisfies(&self.rules[i].logsource))
            .filter(|&i| self.rules[i].detection.is_match(ev, Seen::everything()))
            .collect()
    }

    /// Indices of the rules the prefilter lets through for a record (a superset of
    /// [`SigmaRules::matching`]), ascending. For tests and tuning.
    pub fn candidates(&self, ev: &FlatEvent<'_>, route: &Route) -> Vec<usize> {
        self.prefiltered(ev, route, false)
    }

    fn prefiltered(&self, ev: &FlatEvent<'_>, route: &Route, evaluate: bool) -> Vec<usize> {
        let bucket = self.bucket(route);
        if bucket.rules.is_empty() {
            return Vec::new();
        }
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let s = &mut *s;
            s.generation = s.generation.wrapping_add(1);
            if s.generation == 0 {
                s.needle_seen.iter_mut().for_each(|x| *x = 0);
                s.rule_seen.iter_mut().for_each(|x| *x = 0);
                s.generation = 1;
            }
            let generation = s.generation;
            if s.rule_seen.len() < bucket.rules.len() {
                s.rule_seen.resize(bucket.rules.len(), 0);
                s.rule_mask.resize(bucket.rules.len(), 0);
            }
            if s.needle_seen.len() < self.needles.len() {
                s.needle_seen.resize(self.needles.len(), 0);
            }
            s.candidates.clear();
            if let Some(ac) = &bucket.automaton {
                // One pass over all values, NUL between them: a needle found across two values
                // only lets a rule be evaluated that then does not match.
                let mut text = std::mem::take(&mut s.text);
                text.clear();
                let mut wanted = crate::event::Indices::default();
                if let Some(fields) = &bucket.scan_fields {
                    for f in fields {
                        for i in ev.find(f).iter() {
                            wanted.push(i);
                        }
                    }
                }
                let all = bucket.scan_fields.is_none();
                for (i, e) in ev.entries.iter().enumerate() {
                    if !all && !wanted.as_slice().contains(&i) {
                        continue;
                    }
                    let Some(v) = e.value.as_deref() else { continue };
                    text.extend(v.bytes().map(|b| b.to_ascii_lowercase()));
                    text.push(0);
                    if !v.is_ascii() {
                        // Lowered as the tests lower, with the two characters outside ASCII that
                        // case-fold into it (the Kelvin sign lowers to `k`; long s folds to `s`).
                        text.extend(crate::pattern::lower(v).replace('\u{17F}', "s").as_bytes());
                        text.push(0);
                    }
                }
                for m in ac.find_overlapping_iter(&text) {
                    bucket.hit(bucket.ac_slots[m.pattern().as_usize()], s, generation);
                }
                s.text = text;
            }
            if !bucket.event_id_slots.is_empty() {
                // Every value a rule's `EventID` (in any spelling) can reach, read as tests read it.
                let named_event_id = |n: &str| {
                    n.len() >= 7 && n.as_bytes()[0].eq_ignore_ascii_case(&b'e') && crate::event::same_name(n, "EventID")
                };
                let ids = (0..ev.entries.len()).filter(|&i| named_event_id(ev.entries[i].name));
                for i in ids {
                    let whole =
                        |n: crate::value::Num| n.int.or_else(|| (n.float.fract() == 0.0).then_some(n.float as i128));
                    if let Some(slot) = ev
                        .value(i)
                        .and_then(crate::value::parse_number)
                        .and_then(whole)
                        .and_then(|n| u32::try_from(n).ok())
                        .and_then(|n| bucket.event_id_slots.get(&n))
                    {
                        bucket.hit(*slot, s, generation);
                    }
                }
            }
            s.candidates.extend_from_slice(&bucket.always);
            s.candidates.sort_unstable();
            let prefiltered = bucket.automaton.is_some() || !bucket.event_id_slots.is_empty();
            let seen = if prefiltered { Seen::new(&s.needle_seen, generation) } else { Seen::everything() };
            let candidates = s.candidates.iter().map(|&local| bucket.rules[local as usize] as usize);
            if !evaluate {
                return candidates.collect();
            }
            let hits: Vec<usize> = candidates.filter(|&g| self.rules[g].detection.is_match(ev, seen)).collect();
            use std::sync::atomic::Ordering::Relaxed;
            self.counters.records.fetch_add(1, Relaxed);
            self.counters.evaluated.fetch_add(s.candidates.len() as u64, Relaxed);
            self.counters.hits.fetch_add(hits.len() as u64, Relaxed);
            hits
        })
    }

    /// Records evaluated, rules evaluated in full, and hits, since loading.
    pub fn eval_stats(&self) -> EvalStats {
        use std::sync::atomic::Ordering::Relaxed;
        EvalStats {
            records: self.counters.records.load(Relaxed),
            evaluated: self.counters.evaluated.load(Relaxed),
            hits: self.counters.hits.load(Relaxed),
        }
    }

    /// Per route seen so far: (route, rules, rules without needles, needles, automaton bytes).
    pub fn bucket_stats(&self) -> Vec<(Route, usize, usize, usize, usize)> {
        let mut v: Vec<_> = self
            .buckets
            .read()
            .map(|m| {
                m.iter()
                    .filter_map(|(r, b)| Some((r, b.get()?)))
                    .map(|(r, b)| {
                        let bytes = b.automaton.as_ref().map_or(0, |a| a.memory_usage());
                        (*r, b.rules.len(), b.always.len(), b.pattern_rules.len(), bytes)
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by_key(|x| format!("{:?}", x.0));
        v
    }

    /// The rules that fire on a Windows event, in rule order. A rule only sees events of its
    /// logsource (see [`crate::logsource`]).
    pub fn evaluate_event(&self, record: &EventRecord) -> Vec<SigmaMatch> {
        let ev = FlatEvent::from_event(record);
        self.matching(&ev, &route_of(record)).into_iter().map(|i| SigmaMatch::of(&self.rules[i].info)).collect()
    }

    /// The rules that fire on a delimited log record (IIS as `webserver`, Exchange logs under
    /// `product: exchange`; see [`crate::columns`]).
    pub fn evaluate_columns(&self, record: &Record<'_>, log: ColumnLog) -> Vec<SigmaMatch> {
        let ev = flat_columns(record, log, None);
        self.matching(&ev, &log.route()).into_iter().map(|i| SigmaMatch::of(&self.rules[i].info)).collect()
    }

    /// The rules of logsource `spec` that fire on a line of plain text (a syslog line, say), which
    /// has no fields: only keywords can match it. Rules match when every logsource field they
    /// name is the one `spec` names.
    pub fn evaluate_text(&self, line: &str, spec: &LogSourceSpec) -> Vec<SigmaMatch> {
        let entry = crate::event::Entry::new("", Some(std::borrow::Cow::Borrowed(line)), true);
        let ev = FlatEvent::new(vec![entry], &[]);
        self.rules
            .iter()
            .filter(|r| same_logsource(spec, &r.logsource))
            .filter(|r| r.detection.is_match(&ev, Seen::everything()))
            .map(|r| SigmaMatch::of(&r.info))
            .collect()
    }

    /// What the correlations need of a hit of rule `i` on `ev`.
    pub fn correlation_inputs(
        &self,
        i: usize,
        ev: &FlatEvent<'_>,
        time_ms: Option<i64>,
        loc: &Location,
    ) -> Vec<CorrelationInput> {
        let mut out = Vec::new();
        let Some(t) = time_ms else { return out };
        for (ci, c) in self.correlations.iter().enumerate() {
            c.inputs_for_rule(ci, i, ev, t, loc, &mut out);
        }
        out
    }

    /// Runs the correlations over the inputs gathered in a scan.
    pub fn correlate(&self, inputs: Vec<CorrelationInput>) -> Vec<CorrelationHit> {
        crate::correlation::run(&self.correlations, inputs)
    }
}

/// Fields that EVTX stores as UTF-16 text in every chunk that holds the record (template text or
/// string substitutions), whatever the provider.
pub const CHUNK_TEXT_FIELDS: &[&str] = &["Provider_Name", "Provider", "Channel", "Computer"];

/// Whether a needle can only be found in text: other EventData values are stored binary (numbers,
/// hex numbers, GUIDs, SIDs, times, booleans, and arrays of these) and rendered with digits,
/// `a`-`f`, `x`, braces, brackets, commas, semicolons, dashes, colons, dots, `S`, `T`, `Z`, and
/// the letters of `true`, `false`, `inf` and `NaN`; a needle with any other character is in the
/// chunk's bytes wherever its record is.
pub fn textual(needle: &str) -> bool {
    needle.bytes().any(|b| {
        let b = b.to_ascii_lowercase();
        !(b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b"xstzilnru{}[],;-:.+ ".contains(&b))
    })
}

/// The needles of the rule that any EVTX chunk holding a matching record contains in its raw
/// bytes: a clause on data values whose needles are all [`textual`] (rarer than the provider or
/// channel, which every record of a log repeats), else a clause on [`CHUNK_TEXT_FIELDS`].
fn chunk_needles(d: &Detection) -> Needles {
    let on_text = |f: &str| CHUNK_TEXT_FIELDS.iter().any(|t| t.eq_ignore_ascii_case(f));
    let usable = |c: &Vec<String>| c.iter().all(|n| n.is_ascii() && !n.starts_with('\0'));
    let data = d.clauses_where(&|it| it.field.as_deref().is_none_or(|f| !on_text(f)));
    if let Some(c) = data.into_iter().find(|c| usable(c) && c.iter().all(|n| textual(n))) {
        return Some(c);
    }
    d.clauses_where(&|it| it.field.as_deref().is_some_and(on_text)).into_iter().find(usable)
}

/// One document of a rule file, parsed and (for detection rules) compiled.
enum Parsed {
    Rule(Box<RuleDoc>, Result<Detection, String>),
    Filter(Box<FilterDoc>),
    Correlation(Box<crate::rule::CorrelationDoc>),
    /// (title, reason)
    Problem(Option<String>, String),
}

/// A file's documents, or why it could not be read as YAML.
type ParsedFile = Result<Vec<Parsed>, String>;

/// Parses and compiles one rule file; needs no shared state, so files are parsed in parallel.
fn parse_file(text: &str, origin: &str, placeholders: &Placeholders) -> ParsedFile {
    let docs = crate::rule::documents(text, origin)?;
    Ok(docs
        .into_iter()
        .map(|(title, doc)| match doc {
            Err(e) => Parsed::Problem(title, e),
            Ok(Document::Rule(r)) => {
                let d = Detection::compile(&r.detection, &r.conditions, placeholders);
                Parsed::Rule(r, d)
            }
            Ok(Document::Filter(f)) => Parsed::Filter(f),
            Ok(Document::Correlation(c)) => Parsed::Correlation(c),
        })
        .collect())
}

/// Whether a rule has this id or name (or, failing both, title): how filters and correlations
/// name their rules.
pub fn names_rule(info: &RuleInfo, name: &str) -> bool {
    info.id.as_deref() == Some(name) || info.name.as_deref() == Some(name) || info.title == name
}

/// A filter applies to a rule of the same logsource.
fn same_logsource(rule: &LogSourceSpec, filter: &LogSourceSpec) -> bool {
    let ok = |f: &Option<String>, r: &Option<String>| f.is_none() || f == r;
    ok(&filter.product, &rule.product) && ok(&filter.service, &rule.service) && ok(&filter.category, &rule.category)
}

fn is_yaml(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}
