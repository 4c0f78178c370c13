//! The scan engine: lists every source, classifies each file by its path and its content, reads
//! the files in parallel (rayon) through the right reader with a literal prefilter per log kind,
//! runs the detectors, and hands findings and observations to the correlation step. Output is
//! deterministic: results are merged in file order and sorted, whatever the thread count.

use crate::correlate::{self, HostSummary};
use crate::detect::{self, Detector, FileCtx, files};
use crate::inventory::{Family, HTTPPROXY_PROTOCOLS, RULE_FILE};
use crate::model::{ArtifactKind, Finding, RuleMeta, Severity};
use crate::read::prefilter::CiLiterals;
use crate::read::{self, Bom, Dialect, FieldGate, FileObs, Format, Gate, ReadOptions, SNIFF_LEN, events};
use crate::record::Record;
use crate::source::{Entry, ExchangeInstall, Locator, Source, SourceError, SourceLayout, ZipLimits, read_up_to};
use crate::sweep::{self, FileCheck, FileHashes, SkipReason, SweepOptions, SweptFile};
use crate::time::Timestamp;
use rayon::prelude::*;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Scan settings.
#[derive(Clone)]
pub struct ScanOptions {
    /// Logs must reach back to this time for a family to count as covering the exploitation window.
    pub since: Timestamp,
    /// Worker threads (default: one per core).
    pub threads: Option<usize>,
    pub read: ReadOptions,
    pub zip: ZipLimits,
    /// The file sweep (which files are read by content, and within which limits).
    pub sweep: SweepOptions,
    /// Counters the caller may watch (progress display).
    pub progress: Option<Arc<Progress>>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            since: Timestamp::parse("2021-03-03").unwrap_or(Timestamp(1_614_729_600_000)),
            threads: None,
            read: ReadOptions::default(),
            zip: ZipLimits::default(),
            sweep: SweepOptions::default(),
            progress: None,
        }
    }
}

/// Live counters of a running scan.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_total: AtomicU64,
    pub files_done: AtomicU64,
    pub bytes_total: AtomicU64,
    pub bytes_done: AtomicU64,
}

/// Totals of a finished scan.
#[derive(Clone, Debug, Default)]
pub struct ScanStats {
    pub files_listed: u64,
    pub files_read: u64,
    pub bytes_read: u64,
    /// Files the file checks looked at, and their bytes.
    pub files_swept: u64,
    pub bytes_swept: u64,
    pub elapsed: std::time::Duration,
}

/// Everything a scan produced.
pub struct ScanReport {
    /// All findings, sorted (host, time, path, line, rule).
    pub findings: Vec<Finding>,
    /// One summary per host, in host order.
    pub hosts: Vec<HostSummary>,
    /// The sources, kept open so that evidence can be collected from them.
    pub sources: Vec<Source>,
    pub stats: ScanStats,
}

/// How a file was classified by its path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PathClass {
    HttpProxy {
        protocol: String,
    },
    EcpServer,
    OabGenerator,
    Iis {
        site: String,
    },
    Evtx,
    /// Not in a known log folder: the content decides.
    Sniff,
    /// Known binary type outside log folders: not read (file rules still apply).
    Skip,
}

impl PathClass {
    fn is_log_folder(&self) -> bool {
        !matches!(self, PathClass::Sniff | PathClass::Skip)
    }
}

/// A file to process.
struct Artifact {
    source: usize,
    entry: Entry,
    class: PathClass,
    exchange_path: Option<String>,
    file_rule: Option<&'static RuleMeta>,
    /// The drop folder the file lies in (its path below it is worked out again when it is
    /// swept: kept small, as there is one artifact per file of the source).
    place: Option<sweep::Place>,
    /// Median modification time of the files in the same folder.
    folder_mtime: Option<Timestamp>,
}

/// What processing one file gave.
#[derive(Default)]
struct FileResult {
    findings: Vec<Finding>,
    family: Option<Family>,
    obs: Option<FileObs>,
    read: bool,
    /// Bytes the file checks looked at (None: not swept).
    swept: Option<u64>,
}

/// Files swept in one task (their MD5s are computed side by side), and the most bytes a task
/// holds at once.
const SWEEP_BATCH: usize = sweep::hashes::BATCH;
const SWEEP_BATCH_BYTES: u64 = sweep::hashes::BATCH_BYTES;

/// A unit of parallel work: one file (and whether it is swept), or a batch of files to sweep.
enum Task {
    One(usize, bool),
    Batch(Vec<usize>),
}

/// A file read with its batch, and its MD5.
struct Preloaded {
    file: Result<sweep::LoadedFile, SkipReason>,
    md5: [u8; 16],
}

/// Extensions never sniffed as logs outside log folders (binaries, media, databases).
const SKIP_EXT: &[&str] = &[
    "dll", "exe", "sys", "mui", "cab", "msi", "msp", "png", "jpg", "jpeg", "gif", "ico", "ttf", "eot", "woff", "woff2",
    "pdb", "lzx", "edb", "chk", "jrs", "jfm", "dat", "bin", "pf", "mdb", "dmp", "zip", "7z", "rar", "gz", "cat",
    "node", "wim", "vhd", "vhdx", "iso", "pst", "ost", "otf", "svg", "mp3", "mp4", "wav", "etl", "pyc",
];

/// A configured scanner: detectors and their per-kind prefilters, built once.
pub struct Engine {
    detectors: Vec<Box<dyn Detector>>,
    file_checks: Vec<Box<dyn FileCheck>>,
    plans: Vec<(ArtifactKind, KindPlan)>,
}

struct KindPlan {
    detectors: Vec<usize>,
    /// Every record must reach the detectors (a detector with neither anchors nor a field gate).
    all: bool,
    literals: Option<CiLiterals>,
    fields: Vec<FieldGate>,
    /// Detector and field-gate literals together (see [`Gate::bulk`]).
    bulk: Option<CiLiterals>,
    /// For EVTX: the same literals, searched in raw chunks (UTF-16LE and ASCII).
    evtx_anchors: Option<events::EvtxAnchors>,
}

impl KindPlan {
    fn gate(&self) -> Gate<'_> {
        Gate { all: self.all, literals: self.literals.as_ref(), fields: &self.fields, bulk: self.bulk.as_ref() }
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(detect::builtin())
    }
}

impl Engine {
    pub fn new(detectors: Vec<Box<dyn Detector>>) -> Engine {
        let kinds = [
            ArtifactKind::Httpproxy,
            ArtifactKind::EcpServer,
            ArtifactKind::OabGenerator,
            ArtifactKind::ExchangeLog,
            ArtifactKind::IisW3c,
            ArtifactKind::Evtx,
            ArtifactKind::EventExport,
        ];
        let plans = kinds
            .iter()
            .map(|&kind| {
                let ids: Vec<usize> = (0..detectors.len()).filter(|&i| detectors[i].kinds().contains(&kind)).collect();
                // One detector that needs every record disables the gate for the kind.
                let all = ids.iter().any(|&i| {
                    detectors[i].anchors_for(kind).is_empty()
                        && detectors[i].ipv4_anchors(kind).is_empty()
                        && detectors[i].field_gate().is_none()
                });
                let lits: Vec<&str> = ids.iter().flat_map(|&i| detectors[i].anchors_for(kind)).collect();
                let ips: Vec<std::net::Ipv4Addr> = ids.iter().flat_map(|&i| detectors[i].ipv4_anchors(kind)).collect();
                let literals = (!lits.is_empty() || !ips.is_empty()).then(|| CiLiterals::with_ipv4(&lits, &ips));
                let fields: Vec<FieldGate> = ids.iter().filter_map(|&i| detectors[i].field_gate()).collect();
                // EVTX chunks are searched for the addresses as plain text (UTF-16LE and ASCII):
                // more lines than the address runs, never fewer.
                let evtx_anchors = (kind == ArtifactKind::Evtx && !all && fields.is_empty())
                    .then(|| {
                        let ip_text: Vec<String> = ips.iter().map(|a| a.to_string()).collect();
                        let mut all_lits = lits.clone();
                        all_lits.extend(ip_text.iter().map(String::as_str));
                        events::EvtxAnchors::new(&all_lits)
                    })
                    .flatten();
                let bulk = (!all && fields.iter().all(|g| !g.literals.is_empty())).then(|| {
                    let mut lits = lits.clone();
                    lits.extend(fields.iter().flat_map(|g| g.literals.iter().copied()));
                    CiLiterals::with_ipv4(&lits, &ips)
                });
                (kind, KindPlan { detectors: ids, all, literals, fields, bulk, evtx_anchors })
            })
            .collect();
        Engine { detectors, file_checks: Vec::new(), plans }
    }

    /// Adds checks over the content of swept files (YARA, IOCs, unknown files).
    pub fn with_file_checks(mut self, checks: Vec<Box<dyn FileCheck>>) -> Engine {
        self.file_checks.extend(checks);
        self
    }

    fn plan(&self, kind: ArtifactKind) -> Option<&KindPlan> {
        self.plans.iter().find(|(k, _)| *k == kind).map(|(_, p)| p)
    }

    /// Scans the given sources. Fails only when a source itself cannot be opened.
    pub fn scan(&self, paths: &[PathBuf], opts: &ScanOptions) -> Result<ScanReport, SourceError> {
        let started = std::time::Instant::now();
        let sources: Vec<Source> =
            paths.iter().enumerate().map(|(i, p)| Source::open(i, p, opts.zip)).collect::<Result<_, _>>()?;
        let pool = rayon::ThreadPoolBuilder::new().num_threads(opts.threads.unwrap_or(0)).build();
        let run = || self.scan_sources(&sources, opts);
        let (findings, hosts, mut stats) = match pool {
            Ok(pool) => pool.install(run),
            Err(_) => run(),
        };
        stats.elapsed = started.elapsed();
        Ok(ScanReport { findings, hosts, sources, stats })
    }

    fn scan_sources(&self, sources: &[Source], opts: &ScanOptions) -> (Vec<Finding>, Vec<HostSummary>, ScanStats) {
        let mut stats = ScanStats::default();
        let mut layouts = Vec::new();
        let mut artifacts = Vec::new();
        let mut listing_findings: Vec<Vec<Finding>> = Vec::new();
        for src in sources {
            let (entries, problems) = src.entries();
            stats.files_listed += entries.len() as u64;
            let layout = SourceLayout::analyze(&entries);
            let mut lf = Vec::new();
            for p in problems {
                let mut f = Finding::new(&RULE_FILE, ArtifactKind::File, &p.rel_path)
                    .with_evidence(&p.reason)
                    .with_extra("reasons", vec![p.reason.clone()])
                    .titled(format!("{} not read: {}", p.rel_path, p.reason));
                f.source = src.index;
                lf.push(f);
            }
            listing_findings.push(lf);
            let first = artifacts.len();
            for entry in entries {
                artifacts.push(classify(src.index, entry, &layout));
            }
            set_folder_mtimes(&mut artifacts[first..]);
            layouts.push(layout);
        }
        if let Some(p) = &opts.progress {
            p.files_total.store(artifacts.len() as u64, Ordering::Relaxed);
            p.bytes_total.store(artifacts.iter().map(|a| a.entry.size).sum(), Ordering::Relaxed);
        }
        // Largest files first, one file per task: a big log left for the end (or bundled into one
        // task with many others) would keep one core busy while the others idle. Small files to
        // sweep go in batches instead, for their MD5s to be computed side by side. Results go back
        // in listing order, so output does not depend on scheduling.
        let mut order: Vec<usize> = (0..artifacts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(artifacts[i].entry.size));
        let tasks = self.tasks(&order, &artifacts, &layouts, opts);
        let mut done: Vec<(usize, FileResult)> = tasks
            .par_iter()
            .with_max_len(1)
            .flat_map_iter(|task| {
                let results = self.run_task(task, sources, &layouts, &artifacts, opts);
                if let Some(p) = &opts.progress {
                    p.files_done.fetch_add(results.len() as u64, Ordering::Relaxed);
                    let bytes: u64 = results.iter().map(|(i, _)| artifacts[*i].entry.size).sum();
                    p.bytes_done.fetch_add(bytes, Ordering::Relaxed);
                }
                results
            })
            .collect();
        done.sort_unstable_by_key(|(i, _)| *i);
        let mut per_source: Vec<correlate::SourceResult> = sources
            .iter()
            .zip(&layouts)
            .zip(listing_findings)
            .map(|((s, l), lf)| correlate::SourceResult::new(s, l, lf))
            .collect();
        let mut per_source_count = vec![0usize; per_source.len()];
        for (a, (_, r)) in artifacts.iter().zip(&done) {
            per_source_count[a.source] += r.findings.len();
        }
        for (s, n) in per_source.iter_mut().zip(per_source_count) {
            s.reserve(n);
        }
        let results = done.into_iter().map(|(_, r)| r);
        for (a, r) in artifacts.iter().zip(results) {
            if r.read {
                stats.files_read += 1;
            }
            if let Some(o) = &r.obs {
                stats.bytes_read += o.bytes;
            }
            if let Some(n) = r.swept {
                stats.files_swept += 1;
                stats.bytes_swept += n;
                per_source[a.source].add_swept(n);
            }
            per_source[a.source].add_file(&a.entry, r.family, r.obs, r.findings);
        }
        for d in &self.detectors {
            for f in d.finish() {
                if let Some(s) = per_source.get_mut(f.source) {
                    s.add_findings(vec![f]);
                }
            }
        }
        let (findings, hosts) = correlate::finish(per_source, opts.since);
        (findings, hosts, stats)
    }

    /// True when `a` is read by the sweep: it lies in a drop folder, `--all-files` is on, a
    /// check selects it by its path, or a file rule matched its name.
    fn sweeps(&self, layout: &SourceLayout, a: &Artifact, opts: &ScanOptions) -> bool {
        a.file_rule.is_some()
            || (!self.file_checks.is_empty()
                && (a.place.is_some() || opts.sweep.all_files || {
                    let lp = layout.logical(&a.entry.rel_path);
                    let win = sweep::windows_path(&a.entry.rel_path, &lp);
                    self.file_checks.iter().any(|c| c.selects(&win, &lp))
                }))
    }

    /// Splits the artifacts, in `order`, into tasks: one per file not swept; files to sweep go
    /// in batches of up to [`SWEEP_BATCH`] files and [`SWEEP_BATCH_BYTES`] bytes, read together
    /// and their MD5s computed side by side (in size order, so batches hold similar sizes).
    fn tasks(
        &self,
        order: &[usize],
        artifacts: &[Artifact],
        layouts: &[SourceLayout],
        opts: &ScanOptions,
    ) -> Vec<Task> {
        let mut tasks = Vec::with_capacity(order.len());
        let mut batch: Vec<usize> = Vec::new();
        let mut batch_bytes = 0u64;
        for &i in order {
            let a = &artifacts[i];
            if !self.sweeps(&layouts[a.source], a, opts) {
                tasks.push(Task::One(i, false));
                continue;
            }
            // Files past the size limit are not read: they cost nothing in a batch.
            let size = if a.entry.size > opts.sweep.max_file_size { 0 } else { a.entry.size };
            if !batch.is_empty() && (batch.len() == SWEEP_BATCH || batch_bytes + size > SWEEP_BATCH_BYTES) {
                tasks.push(Task::Batch(std::mem::take(&mut batch)));
                batch_bytes = 0;
            }
            batch.push(i);
            batch_bytes += size;
        }
        if !batch.is_empty() {
            tasks.push(Task::Batch(batch));
        }
        tasks
    }

    fn run_task(
        &self,
        task: &Task,
        sources: &[Source],
        layouts: &[SourceLayout],
        artifacts: &[Artifact],
        opts: &ScanOptions,
    ) -> Vec<(usize, FileResult)> {
        let ctx = |i: usize| (&sources[artifacts[i].source], &layouts[artifacts[i].source], &artifacts[i]);
        match task {
            Task::One(i, sweeps) => {
                let (src, layout, a) = ctx(*i);
                vec![(*i, self.process(src, layout, a, opts, *sweeps, None))]
            }
            Task::Batch(batch) if batch.len() == 1 => {
                // Alone: the three digests in one pass over the bytes.
                let (src, layout, a) = ctx(batch[0]);
                vec![(batch[0], self.process(src, layout, a, opts, true, None))]
            }
            Task::Batch(batch) => {
                let loaded: Vec<Result<sweep::LoadedFile, SkipReason>> = batch
                    .iter()
                    .map(|&i| {
                        let (src, _, a) = ctx(i);
                        sweep::load(src, &a.entry, &opts.sweep)
                    })
                    .collect();
                let bytes: Vec<&[u8]> = loaded.iter().map(|l| l.as_ref().map_or(&[][..], |l| l.bytes())).collect();
                let md5s = sweep::hashes::md5_of_many(&bytes);
                batch
                    .iter()
                    .zip(loaded)
                    .zip(md5s)
                    .map(|((&i, file), md5)| {
                        let (src, layout, a) = ctx(i);
                        (i, self.process(src, layout, a, opts, true, Some(Preloaded { file, md5 })))
                    })
                    .collect()
            }
        }
    }

    /// Reads one file; never fails (problems become findings). `sweeps` is [`Engine::sweeps`];
    /// `pre` holds the file's bytes when they were read with its batch.
    fn process(
        &self,
        src: &Source,
        layout: &SourceLayout,
        a: &Artifact,
        opts: &ScanOptions,
        sweeps: bool,
        pre: Option<Preloaded>,
    ) -> FileResult {
        let mut res = FileResult::default();
        if sweeps {
            res.read = true;
            res.swept = self.sweep_file(src, layout, a, &opts.sweep, pre, &mut res.findings);
            // A file rule's file (a dump, an archive) and a binary are not logs.
            if a.file_rule.is_some() || a.class == PathClass::Skip {
                return res;
            }
        }
        if a.class == PathClass::Skip {
            return res;
        }
        if a.entry.size == 0 {
            if a.class.is_log_folder() {
                let mut obs = FileObs::new("empty");
                obs.note("empty file (0 bytes)".into());
                res.findings.push(problem_finding(src.index, &a.entry.rel_path, kind_of_class(&a.class), &obs));
                res.family = family_of(a, kind_of_class(&a.class), &obs);
                res.obs = Some(obs);
            }
            return res;
        }
        res.read = true;
        let outcome = src.with_reader(&a.entry, |r| self.read_stream(src, a, r, opts));
        let (kind, mut obs, mut findings, needs_seek) = match outcome {
            Ok(v) => v,
            Err(e) => {
                let mut obs = FileObs::new("file");
                obs.note(format!("unreadable: {e}"));
                let kind = kind_of_class(&a.class);
                res.findings.push(problem_finding(src.index, &a.entry.rel_path, kind, &obs));
                if a.class.is_log_folder() {
                    res.family = family_of(a, kind, &obs);
                }
                res.obs = Some(obs);
                return res;
            }
        };
        if needs_seek {
            // EVTX needs random access: reopen the file, or spool a zip entry, seekably.
            let mut ev_findings = Vec::new();
            let ctx = self.ctx(src, a, ArtifactKind::Evtx);
            let plan = self.plan(ArtifactKind::Evtx);
            let anchors = plan.and_then(|p| p.evtx_anchors.as_ref());
            let mut on = |rec: &Record<'_>, _: &mut FileObs| self.run(plan, &ctx, rec, &mut ev_findings);
            let r: std::io::Result<()> = match &a.entry.locator {
                Locator::Fs(p) => crate::source::open_read_only(p)
                    .and_then(|mut f| events::read_evtx(&mut f, anchors, &mut obs, &mut on)),
                Locator::Zip(_) => src
                    .with_reader(&a.entry, |r| {
                        let mut spooled = events::spool(r, opts.read.evtx_mem_limit)?;
                        events::read_evtx(&mut *spooled, anchors, &mut obs, &mut on)
                    })
                    .and_then(|x| x),
            };
            if let Err(e) = r {
                obs.note(e.to_string());
            }
            findings.extend(ev_findings);
        }
        if obs.has_problems() {
            let mut f = problem_finding(src.index, &a.entry.rel_path, kind, &obs);
            if obs.info_only && obs.reasons().len() == 1 {
                f.severity = Severity::Info;
            }
            findings.push(f);
        }
        res.family = family_of(a, kind, &obs);
        res.findings.extend(findings);
        res.obs = Some(obs);
        res
    }

    /// Reads a file for the file checks and the file rule; returns the bytes looked at, or None
    /// when the file could not be swept (a coverage finding then says why).
    fn sweep_file(
        &self,
        src: &Source,
        layout: &SourceLayout,
        a: &Artifact,
        opts: &SweepOptions,
        pre: Option<Preloaded>,
        out: &mut Vec<Finding>,
    ) -> Option<u64> {
        let logical = layout.logical(&a.entry.rel_path);
        let located = sweep::place_of(layout, &a.entry.rel_path, &logical);
        let windows_path = sweep::windows_path(&a.entry.rel_path, &logical);
        let check = |data: &[u8], hashes: FileHashes| {
            let file = SweptFile {
                source: src.index,
                path: &a.entry.rel_path,
                logical: &logical,
                windows_path: &windows_path,
                located: located.as_ref(),
                entry: &a.entry,
                hashes: &hashes,
                data,
                window_start: opts.window_start,
                folder_mtime: a.folder_mtime,
            };
            let mut found = Vec::new();
            if let Some(rule) = a.file_rule {
                let when = a.entry.mtime.map(|t| format!(", modified {t}")).unwrap_or_default();
                found.push(
                    file.finding(rule).with_evidence(&format!("{} ({} bytes{when})", a.entry.rel_path, a.entry.size)),
                );
            }
            for c in &self.file_checks {
                c.check(&file, &mut found);
            }
            (found, data.len() as u64)
        };
        let result = match pre {
            Some(Preloaded { file, md5 }) => file.and_then(|l| {
                let out = check(l.bytes(), FileHashes::with_md5(l.bytes(), md5));
                l.finish().map(|()| out)
            }),
            None => sweep::with_bytes(src, &a.entry, opts, |data| check(data, FileHashes::of(data))),
        };
        match result {
            Ok((found, n)) => {
                out.extend(found);
                Some(n)
            }
            Err(SkipReason(reason)) => {
                if let Some(rule) = a.file_rule {
                    let mut f = Finding::new(rule, ArtifactKind::File, &a.entry.rel_path)
                        .with_evidence(&format!("{} ({} bytes)", a.entry.rel_path, a.entry.size))
                        .with_extra("size", a.entry.size)
                        .with_extra("hash_error", reason.clone());
                    f.source = src.index;
                    f.time = a.entry.mtime;
                    out.push(f);
                }
                let mut f = Finding::new(&RULE_FILE, ArtifactKind::File, &a.entry.rel_path)
                    .titled(format!("{} not swept: {reason}", a.entry.rel_path))
                    .with_evidence(&reason)
                    .with_extra("reasons", vec![reason.clone()])
                    .with_extra("size", a.entry.size);
                f.source = src.index;
                out.push(f);
                None
            }
        }
    }

    fn ctx<'a>(&self, src: &Source, a: &'a Artifact, kind: ArtifactKind) -> FileCtx<'a> {
        FileCtx {
            source: src.index,
            path: &a.entry.rel_path,
            kind,
            protocol: match &a.class {
                PathClass::HttpProxy { protocol } => Some(protocol.as_str()),
                _ => None,
            },
            exchange_path: a.exchange_path.as_deref(),
        }
    }

    fn run(&self, plan: Option<&KindPlan>, ctx: &FileCtx<'_>, rec: &Record<'_>, out: &mut Vec<Finding>) {
        if let Some(p) = plan {
            for &i in &p.detectors {
                self.detectors[i].check(ctx, rec, out);
            }
        }
    }

    /// Sniffs and reads a file from a stream. Returns the kind read, the observations, the
    /// findings, and whether the file is EVTX (which needs a seekable second pass).
    fn read_stream(
        &self,
        src: &Source,
        a: &Artifact,
        input: &mut dyn Read,
        opts: &ScanOptions,
    ) -> (ArtifactKind, FileObs, Vec<Finding>, bool) {
        let mut findings = Vec::new();
        let mut raw_head = vec![0u8; SNIFF_LEN];
        let n = match read_up_to(input, &mut raw_head) {
            Ok(n) => n,
            Err(e) => {
                let mut obs = FileObs::new("file");
                obs.note(format!("unreadable at offset 0: {e}"));
                return (kind_of_class(&a.class), obs, findings, false);
            }
        };
        raw_head.truncate(n);
        let bom = read::bom_of(&raw_head);
        if raw_head.starts_with(b"ElfFile\0") || (a.class == PathClass::Evtx && bom == Bom::None) {
            return (ArtifactKind::Evtx, FileObs::new("EVTX"), findings, true);
        }
        let chained: Box<dyn Read + '_> = Box::new(std::io::Cursor::new(raw_head).chain(input));
        let mut text = read::utf8_reader(chained, bom);
        let mut head = vec![0u8; SNIFF_LEN];
        let hn = read_up_to(&mut text, &mut head).unwrap_or(0);
        head.truncate(hn);
        let sniffed = read::sniff(&head);
        let mut text: Box<dyn Read + '_> = Box::new(std::io::Cursor::new(head).chain(text));

        // Path class and content together decide the reader.
        let (format, kind) = match (&a.class, sniffed) {
            (_, Format::Evtx) => return (ArtifactKind::Evtx, FileObs::new("EVTX"), findings, true),
            (PathClass::HttpProxy { .. }, Format::Delimited(Dialect::ExchangeCsv, _) | Format::PlainText) => {
                (Format::Delimited(Dialect::ExchangeCsv, ArtifactKind::Httpproxy), ArtifactKind::Httpproxy)
            }
            (PathClass::EcpServer, Format::Delimited(Dialect::ExchangeCsv, _) | Format::PlainText) => {
                (Format::Delimited(Dialect::ExchangeCsv, ArtifactKind::EcpServer), ArtifactKind::EcpServer)
            }
            (PathClass::OabGenerator, Format::Delimited(Dialect::ExchangeCsv, _) | Format::PlainText) => {
                (Format::Delimited(Dialect::ExchangeCsv, ArtifactKind::OabGenerator), ArtifactKind::OabGenerator)
            }
            (PathClass::Iis { .. }, Format::Delimited(Dialect::W3c, _) | Format::PlainText) => {
                (Format::Delimited(Dialect::W3c, ArtifactKind::IisW3c), ArtifactKind::IisW3c)
            }
            (_, f @ Format::Delimited(_, k)) => (f, k),
            (_, Format::EventXml) => (Format::EventXml, ArtifactKind::EventExport),
            (_, Format::EventJson) => (Format::EventJson, ArtifactKind::EventExport),
            (class, Format::Binary) if class.is_log_folder() => {
                let mut obs = FileObs::new("binary");
                obs.note("binary content (NUL or control bytes) where a log was expected; not read".into());
                return (kind_of_class(class), obs, findings, false);
            }
            (class, f) => {
                let mut obs = FileObs::new("unrecognised");
                if class.is_log_folder() {
                    obs.note(format!("content not recognised as a log ({f:?}); not read"));
                }
                return (kind_of_class(class), obs, findings, false);
            }
        };
        let mut obs = FileObs::new(kind.as_str());
        match bom {
            Bom::Utf16Le | Bom::Utf16Be => {
                obs.note(format!(
                    "{} with a byte-order mark; transcoded to UTF-8 and read in full",
                    if bom == Bom::Utf16Le { "UTF-16LE" } else { "UTF-16BE" }
                ));
                obs.info_only = true;
            }
            _ => {}
        }
        let ctx = self.ctx(src, a, kind);
        let plan = self.plan(kind);
        let result = match format {
            Format::Delimited(dialect, _) => {
                let default = read::default_header(kind);
                let gate = plan.map(KindPlan::gate).unwrap_or_default();
                let text_mode = kind == ArtifactKind::OabGenerator;
                read::delimited::read(
                    &mut text,
                    dialect,
                    default.as_ref(),
                    text_mode,
                    &gate,
                    &opts.read,
                    &mut obs,
                    &mut |rec, obs| {
                        if obs.records == 1 || rec.line.is_some() && obs.hosts.is_empty() {
                            for col in ["ServerHostName", "ServerName", "s-computername"] {
                                if let Some(h) = rec.get(col) {
                                    obs.hint_host(h);
                                }
                            }
                            if obs.protocol.is_none() {
                                obs.protocol = rec.get("Protocol").map(str::to_string);
                            }
                        }
                        self.run(plan, &ctx, rec, &mut findings)
                    },
                )
            }
            Format::EventXml => {
                events::read_event_xml(&mut text, &mut obs, &mut |rec, _| self.run(plan, &ctx, rec, &mut findings))
            }
            Format::EventJson => events::read_event_json(&mut text, &opts.read, &mut obs, &mut |rec, _| {
                self.run(plan, &ctx, rec, &mut findings)
            }),
            _ => Ok(()),
        };
        if let Err(e) = result {
            obs.note(format!("read error: {e}; findings before it are kept"));
            obs.info_only = false;
        }
        if obs.has_problems() && obs.reasons().len() > 1 {
            obs.info_only = false;
        }
        (kind, obs, findings, false)
    }
}

/// Sets each artifact's typical neighbour time: for the Exchange web folders, the median
/// modification time of all of them (setup writes them together, so a few shells cannot move
/// it); elsewhere the median of the file's own folder (entries are sorted by path, so a folder's
/// files are adjacent).
fn set_folder_mtimes(artifacts: &mut [Artifact]) {
    let web = |a: &Artifact| {
        a.place.is_some_and(|place| {
            matches!(
                place,
                sweep::Place::OwaAuth | sweep::Place::EcpAuth | sweep::Place::HttpProxy | sweep::Place::ClientAccess
            )
        })
    };
    let mut web_times: Vec<i64> =
        artifacts.iter().filter(|a| web(a)).filter_map(|a| a.entry.mtime.map(|t| t.0)).collect();
    web_times.sort_unstable();
    let web_median = web_times.get(web_times.len() / 2).map(|&t| Timestamp(t));
    let parent = |a: &Artifact| a.entry.rel_path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    let mut i = 0;
    while i < artifacts.len() {
        let dir = parent(&artifacts[i]);
        let mut j = i + 1;
        while j < artifacts.len() && parent(&artifacts[j]) == dir {
            j += 1;
        }
        let mut times: Vec<i64> = artifacts[i..j].iter().filter_map(|a| a.entry.mtime.map(|t| t.0)).collect();
        times.sort_unstable();
        let median = times.get(times.len() / 2).map(|&t| Timestamp(t));
        for a in &mut artifacts[i..j] {
            a.folder_mtime = if web(a) { web_median } else { median };
        }
        i = j;
    }
}

/// The coverage finding for a file that was not read in full.
fn problem_finding(source: usize, path: &str, kind: ArtifactKind, obs: &FileObs) -> Finding {
    let reasons = obs.reasons();
    let mut f = Finding::new(&RULE_FILE, kind, path)
        .titled(format!("{path} not read in full: {}", reasons.first().cloned().unwrap_or_default()))
        .with_evidence(&reasons.join("; "))
        .with_extra("reasons", reasons);
    f.source = source;
    f
}

fn kind_of_class(c: &PathClass) -> ArtifactKind {
    match c {
        PathClass::HttpProxy { .. } => ArtifactKind::Httpproxy,
        PathClass::EcpServer => ArtifactKind::EcpServer,
        PathClass::OabGenerator => ArtifactKind::OabGenerator,
        PathClass::Iis { .. } => ArtifactKind::IisW3c,
        PathClass::Evtx => ArtifactKind::Evtx,
        PathClass::Sniff | PathClass::Skip => ArtifactKind::File,
    }
}

/// The family a file counts toward, from where it lies and what was read.
fn family_of(a: &Artifact, kind: ArtifactKind, obs: &FileObs) -> Option<Family> {
    let parent = a.entry.rel_path.rsplit('/').nth(1).unwrap_or("");
    match kind {
        ArtifactKind::Httpproxy => {
            let proto = match &a.class {
                PathClass::HttpProxy { protocol } => protocol.clone(),
                _ => {
                    let p = crate::source::layout::normalize_component(parent);
                    if HTTPPROXY_PROTOCOLS.iter().any(|k| k.eq_ignore_ascii_case(&p)) {
                        p
                    } else {
                        obs.protocol.clone().unwrap_or_else(|| "(unknown)".into())
                    }
                }
            };
            let canonical = HTTPPROXY_PROTOCOLS.iter().find(|k| k.eq_ignore_ascii_case(&proto)).map(|s| s.to_string());
            Some(Family::HttpProxy(canonical.unwrap_or(proto)))
        }
        ArtifactKind::EcpServer => Some(Family::EcpServer),
        ArtifactKind::OabGenerator => Some(Family::OabGenerator),
        ArtifactKind::IisW3c => {
            let site = match &a.class {
                PathClass::Iis { site } => site.clone(),
                _ if is_w3svc(&parent.to_ascii_lowercase()) => parent.to_ascii_uppercase(),
                _ => "(unknown site)".into(),
            };
            Some(Family::Iis(site))
        }
        ArtifactKind::Evtx | ArtifactKind::EventExport => {
            let name = a.entry.rel_path.rsplit('/').next().unwrap_or("");
            if obs.channels.keys().any(|c| c.eq_ignore_ascii_case("Application"))
                || (obs.channels.is_empty() && name.eq_ignore_ascii_case("Application.evtx"))
            {
                Some(Family::ApplicationLog)
            } else {
                obs.channels.iter().max_by_key(|(_, n)| **n).map(|(c, _)| Family::EventChannel(c.clone()))
            }
        }
        ArtifactKind::ExchangeLog => {
            Some(Family::ExchangeLog(obs.log_type.clone().unwrap_or_else(|| "(unknown)".into())))
        }
        ArtifactKind::File => None,
    }
}

fn is_w3svc(c: &str) -> bool {
    c.len() > 5 && c.starts_with("w3svc") && c[5..].bytes().all(|b| b.is_ascii_digit())
}

/// Classifies an entry by its path.
fn classify(source: usize, entry: Entry, layout: &SourceLayout) -> Artifact {
    let lp = layout.logical(&entry.rel_path);
    let file_rule = files::file_rule(&lp);
    let raw: Vec<&str> = entry.rel_path.split('/').filter(|c| !c.is_empty()).collect();
    let mut exchange: Option<&ExchangeInstall> = None;
    let mut class = PathClass::Sniff;
    if let Some((x, rest)) = layout.in_exchange(&entry.rel_path) {
        exchange = Some(x);
        let rs: Vec<&str> = rest.iter().map(|s| s.as_str()).collect();
        let offset = raw.len() - rest.len();
        class = match rs.as_slice() {
            ["logging", "httpproxy", _, .., _] => PathClass::HttpProxy {
                protocol: percent_encoding::percent_decode_str(raw[offset + 2]).decode_utf8_lossy().into_owned(),
            },
            ["logging", "ecp", "server", .., _] => PathClass::EcpServer,
            ["logging", "oabgeneratorlog", .., _] => PathClass::OabGenerator,
            _ => PathClass::Sniff,
        };
    }
    if class == PathClass::Sniff {
        let lower = &lp.parts;
        if let Some(i) = lower.iter().position(|c| is_w3svc(c))
            && i + 1 < lower.len()
        {
            class = PathClass::Iis { site: lower[i].to_ascii_uppercase() };
        } else if lp.file_name().ends_with(".evtx") {
            class = PathClass::Evtx;
        } else if let Some((_, ext)) = lp.file_name().rsplit_once('.')
            && SKIP_EXT.contains(&ext)
        {
            class = PathClass::Skip;
        }
    }
    // Unknown installs: a log under a folder named like Exchange's own still counts by path.
    if class == PathClass::Sniff && exchange.is_none() {
        if let Some(i) = lp.contains_seq(&["logging", "httpproxy"])
            && i + 3 < lp.parts.len() + 1
            && lp.parts.len() > i + 3
        {
            class = PathClass::HttpProxy {
                protocol: percent_encoding::percent_decode_str(raw[raw.len() - lp.parts.len() + i + 2])
                    .decode_utf8_lossy()
                    .into_owned(),
            };
        } else if lp.contains_seq(&["logging", "oabgeneratorlog"]).is_some() {
            class = PathClass::OabGenerator;
        }
    }
    let exchange_path = exchange.and_then(|x| x.match_path());
    let located = sweep::place_of(layout, &entry.rel_path, &lp);
    let place = located.map(|l| l.place);
    Artifact { source, entry, class, exchange_path, file_rule, place, folder_mtime: None }
}

/// For tests and tools: the rule ids of the built-in detections written in Rust.
pub fn builtin_rule_ids() -> Vec<&'static str> {
    use crate::detect::{iis, proxylogon};
    vec![
        proxylogon::RULE_26855_SERVERINFO.id,
        proxylogon::RULE_27065_RESETVDIR.id,
        proxylogon::RULE_27065_SETVDIR.id,
        proxylogon::RULE_27065_SETVDIR_SCRIPT.id,
        proxylogon::RULE_26858_OAB.id,
        iis::RULE_WEBSHELL.id,
        files::RULE_LSASS_DUMP.id,
        files::RULE_ARCHIVE.id,
    ]
}
