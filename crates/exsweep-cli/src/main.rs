//! The `exsweep` binary: argument parsing, progress and the choice of sinks. The work happens in
//! exsweep-core (scan), exsweep-report (output, evidence) and exsweep-fixtures (demo, bench).

mod bench;
mod bench_sweep;
mod build;
mod demo;
mod intel;

use clap::{Args, Parser, Subcommand, ValueEnum};
use exsweep_core::model::Severity;
use exsweep_core::time::Timestamp;
use exsweep_core::{Engine, ScanOptions, ScanReport};
use exsweep_report::{evidence, findings, summary};
use exsweep_sigma::{SigmaDetector, SigmaRules};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "exsweep",
    version,
    about = "Compromise assessment for on-premises Microsoft Exchange (ProxyLogon / HAFNIUM)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan triage copies, drive copies, KAPE/Velociraptor collections, zips or loose logs.
    Scan(ScanArgs),
    /// Build a synthetic compromised Exchange server, scan it and print the report.
    Demo(demo::DemoArgs),
    /// Evidence bundles written by `scan --collect`.
    Evidence {
        #[command(subcommand)]
        action: EvidenceCmd,
    },
    /// Write a synthetic Exchange server (with its ground truth) for tests and experiments.
    Fixtures(demo::FixturesArgs),
    /// Measure scan throughput and peak memory on a generated corpus.
    Bench(bench::BenchArgs),
    /// Run Sigma rules over event logs (EVTX, `wevtutil` XML, JSON exports).
    Hunt(HuntArgs),
    /// The built-in knowledge (YARA rules, IOC pack, actors, known-good files), and checks of
    /// rule folders and IOC feeds.
    Intel {
        #[command(subcommand)]
        action: intel::IntelCmd,
    },
    /// The CVEs an Exchange build leaves open, and the update that closes each.
    Build(build::BuildArgs),
}

#[derive(Args, Clone)]
pub struct HuntArgs {
    /// Sigma rule files or folders (repeatable).
    #[arg(long, required = true)]
    sigma: Vec<PathBuf>,
    /// Values for the `%name%` placeholders of `expand` modifiers: a YAML map of names to lists.
    #[arg(long)]
    sigma_placeholders: Option<PathBuf>,
    /// Event logs, folders, zips or collections to hunt in.
    #[arg(required_unless_present = "list_unsupported")]
    events: Vec<PathBuf>,
    /// List the rules that cannot be evaluated, with the reason, and exit.
    #[arg(long)]
    list_unsupported: bool,
    /// Findings format on stdout (or --output).
    #[arg(long, value_enum, default_value = "text")]
    format: OutFormat,
    /// Write findings to this file instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Exit with status 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "high")]
    fail_on: FailOn,
    /// No summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Subcommand)]
enum EvidenceCmd {
    /// Re-hash every file of a bundle against its manifest and report every difference.
    Verify { bundle: PathBuf },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutFormat {
    Text,
    Jsonl,
    Json,
    Csv,
}

impl OutFormat {
    fn sink(self) -> findings::Format {
        match self {
            OutFormat::Text => findings::Format::Text,
            OutFormat::Jsonl => findings::Format::Jsonl,
            OutFormat::Json => findings::Format::Json,
            OutFormat::Csv => findings::Format::Csv,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
    Never,
}

impl FailOn {
    fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

#[derive(Args, Clone)]
pub struct ScanArgs {
    /// Folders, zips or files to scan; each is one source (usually one host).
    #[arg(required = true)]
    sources: Vec<PathBuf>,
    /// Findings format on stdout (or --output).
    #[arg(long, value_enum, default_value = "text")]
    format: OutFormat,
    /// Write findings to this file instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Copy every artifact with a finding into this folder, with a SHA-256 manifest.
    #[arg(long)]
    collect: Option<PathBuf>,
    /// Write the per-host inventory and summary as JSON to this file.
    #[arg(long)]
    inventory: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Exit with status 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "high")]
    fail_on: FailOn,
    /// Logs must reach back to this date (YYYY-MM-DD or RFC 3339) to rule out exploitation.
    #[arg(long, default_value = "2021-03-03")]
    since: String,
    /// No summary or progress on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Also run these Sigma rule files or folders over the event logs (repeatable).
    #[arg(long)]
    sigma: Vec<PathBuf>,
    /// Values for the `%name%` placeholders of Sigma `expand` modifiers (YAML map).
    #[arg(long)]
    sigma_placeholders: Option<PathBuf>,
    #[command(flatten)]
    sweep: intel::SweepArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Scan(args) => run_scan(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Evidence { action: EvidenceCmd::Verify { bundle } } => verify(&bundle),
        Command::Fixtures(args) => demo::fixtures(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Hunt(args) => hunt(&args),
        Command::Intel { action } => intel::run(&action),
        Command::Build(args) => build::run(&args),
    };
    ExitCode::from(code)
}

/// Prints an error and returns exit status 2.
pub fn fail(msg: impl std::fmt::Display) -> u8 {
    eprintln!("exsweep: error: {msg}");
    2
}

fn run_scan(args: &ScanArgs) -> u8 {
    match scan(args) {
        Ok((report, code)) => {
            drop(report);
            code
        }
        Err(code) => code,
    }
}

/// Runs a scan with the given arguments; returns the report and the exit status, or an error status.
pub fn scan(args: &ScanArgs) -> Result<(ScanReport, u8), u8> {
    let Some(since) = Timestamp::parse(&args.since) else {
        return Err(fail(format!("--since {:?} is not a date (YYYY-MM-DD or RFC 3339)", args.since)));
    };
    check_sources(&args.sources, &[&args.output, &args.collect, &args.inventory])?;
    let loaded = intel::load(&args.sweep, args.quiet)?;
    let mut opts = ScanOptions { since, threads: args.threads, sweep: loaded.options, ..ScanOptions::default() };
    let progress = Arc::new(exsweep_core::engine::Progress::default());
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    if show_progress {
        opts.progress = Some(progress.clone());
    }
    let ticker = show_progress.then(|| spawn_progress(progress.clone()));
    // The embedded rules and the user's share one Sigma rule set (one prefilter pass per record).
    let rules = load_sigma(&args.sigma, args.sigma_placeholders.as_deref(), true, args.quiet || args.sigma.is_empty())?;
    let mut detectors = exsweep_sigma::builtin::detectors_with(rules);
    detectors.extend(loaded.detectors);
    let engine = Engine::new(detectors).with_file_checks(loaded.file_checks);
    let result = engine.scan(&args.sources, &opts);
    if let Some((stop, handle)) = ticker {
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = handle.join();
    }
    let mut report = match result {
        Ok(r) => r,
        Err(e) => return Err(fail(e)),
    };
    // The builds the log headers name: open CVEs, patch points, before/after patch.
    exsweep_intel::builds::posture::annotate(&mut report.findings, &report.hosts);
    write_findings(args.output.as_deref(), args.format, &report.findings)?;
    if let Some(path) = &args.inventory {
        let text = serde_json::to_vec_pretty(&report.hosts).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text) {
            return Err(fail(format!("cannot write {}: {e}", path.display())));
        }
    }
    if !args.quiet {
        let mut err = std::io::stderr().lock();
        let _ = summary::write(&mut err, &report);
    }
    if let Some(dir) = &args.collect {
        match evidence::collect(&report, dir) {
            Ok(m) => {
                if !args.quiet {
                    let copied = m.files.iter().filter(|e| e.kind == "evidence").count();
                    eprintln!("\nevidence: {copied} artifact(s) copied to {} with manifest.json", dir.display());
                    for e in evidence::not_copied(&m) {
                        eprintln!("  {} ({})", e.source_path, e.kind);
                    }
                }
            }
            Err(e) => return Err(fail(format!("cannot collect evidence into {}: {e}", dir.display()))),
        }
    }
    let threshold = args.fail_on.severity();
    let hit = threshold.is_some_and(|t| report.findings.iter().any(|f| f.severity >= t));
    Ok((report, u8::from(hit)))
}

/// Every source must exist, and no output may lie inside one: exsweep never writes inside evidence.
fn check_sources(sources: &[PathBuf], outputs: &[&Option<PathBuf>]) -> Result<(), u8> {
    if let Some(s) = sources.iter().find(|s| !s.exists()) {
        return Err(fail(format!("cannot read source {}: no such file or folder", s.display())));
    }
    for out in outputs.iter().copied().flatten() {
        if let Some(src) = sources.iter().find(|s| inside(out, s)) {
            return Err(fail(format!(
                "{} lies inside the source {}: exsweep never writes inside evidence",
                out.display(),
                src.display()
            )));
        }
    }
    Ok(())
}

/// Writes findings to a file or stdout; a closed pipe is not an error.
fn write_findings(output: Option<&Path>, format: OutFormat, list: &[exsweep_core::model::Finding]) -> Result<(), u8> {
    let result = match output {
        Some(path) => std::fs::File::create(path).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            findings::write(&mut w, format.sink(), list)
        }),
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            findings::write(&mut w, format.sink(), list)
        }
    };
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(fail(format!("cannot write findings: {e}"))),
        _ => Ok(()),
    }
}

/// Loads Sigma rules and says on stderr how many load and how many cannot be used.
/// With `builtins`, exsweep's embedded rules come first.
fn load_sigma(paths: &[PathBuf], placeholders: Option<&Path>, builtins: bool, quiet: bool) -> Result<SigmaRules, u8> {
    let values = match placeholders {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| fail(format!("cannot read {}: {e}", p.display())))?;
            exsweep_sigma::placeholders_from_yaml(&text).map_err(|e| fail(format!("{}: {e}", p.display())))?
        }
        None => Default::default(),
    };
    let mut rules = SigmaRules::with_placeholders(values);
    if builtins {
        exsweep_sigma::builtin::add_to(&mut rules);
    }
    let embedded = rules.len();
    rules.add_paths(paths);
    rules.finish();
    if !quiet {
        eprintln!(
            "sigma: {} rule(s) loaded from {} file(s); {} not usable (`exsweep hunt --list-unsupported` lists them)",
            rules.len() - embedded,
            rules.stats.files - if builtins { exsweep_sigma::builtin::RULE_FILES.len() } else { 0 },
            rules.problems.len()
        );
    }
    Ok(rules)
}

/// `exsweep hunt`: Sigma rules only, over event logs.
fn hunt(args: &HuntArgs) -> u8 {
    let rules =
        match load_sigma(&args.sigma, args.sigma_placeholders.as_deref(), false, args.quiet || args.list_unsupported) {
            Ok(r) => r,
            Err(code) => return code,
        };
    if args.list_unsupported {
        let mut out = std::io::stdout().lock();
        for p in &rules.problems {
            let _ = writeln!(out, "{}\t{}\t{}", p.path, p.rule.as_deref().unwrap_or("-"), p.reason);
        }
        let _ = writeln!(
            out,
            "{} file(s), {} rule(s) loaded, {} not usable",
            rules.stats.files,
            rules.len(),
            rules.problems.len()
        );
        return 0;
    }
    if let Err(code) = check_sources(&args.events, &[&args.output]) {
        return code;
    }
    let detector = std::sync::Arc::new(SigmaDetector::new(rules));
    let engine = Engine::new(vec![Box::new(detector.clone())]);
    let opts = ScanOptions { threads: args.threads, ..ScanOptions::default() };
    let report = match engine.scan(&args.events, &opts) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    // Sigma hits, and the files that could not be read in full; not the Exchange log coverage.
    let hits: Vec<_> = report
        .findings
        .into_iter()
        .filter(|f| f.rule_source == "sigma" || f.rule_id == exsweep_core::inventory::RULE_FILE.id)
        .collect();
    if let Err(code) = write_findings(args.output.as_deref(), args.format, &hits) {
        return code;
    }
    if !args.quiet {
        let n = hits.iter().filter(|f| f.rule_source == "sigma").count();
        let e = detector.rules.eval_stats();
        eprintln!(
            "hunt: {n} Sigma hit(s), {} file problem(s); {} file(s) read, {} record(s) evaluated, {:.2} rule(s) per record past the prefilter",
            hits.len() - n,
            report.stats.files_read,
            e.records,
            e.evaluated as f64 / e.records.max(1) as f64
        );
        if std::env::var_os("EXSWEEP_SIGMA_BUCKETS").is_some() {
            for (route, rules, always, needles, bytes) in detector.rules.bucket_stats() {
                eprintln!(
                    "  {:?}: {rules} rules, {always} without needles, {needles} needles, automaton {:.1} MB",
                    route.sources(),
                    bytes as f64 / 1e6
                );
            }
        }
    }
    let threshold = args.fail_on.severity();
    u8::from(threshold.is_some_and(|t| hits.iter().any(|f| f.severity >= t)))
}

/// True when `path` (which may not exist yet) lies inside `source` (a folder) or is `source` itself.
fn inside(path: &Path, source: &Path) -> bool {
    let Ok(src) = std::fs::canonicalize(source) else { return false };
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    // Resolve the nearest existing ancestor so that links and `..` cannot hide the relation.
    let mut probe = abs.clone();
    let mut rest = Vec::new();
    let resolved = loop {
        if let Ok(c) = std::fs::canonicalize(&probe) {
            break rest.iter().rev().fold(c, |acc: PathBuf, part| acc.join(part));
        }
        match (probe.parent(), probe.file_name()) {
            (Some(p), Some(n)) => {
                rest.push(n.to_os_string());
                probe = p.to_path_buf();
            }
            _ => break abs.clone(),
        }
    };
    resolved.starts_with(&src)
}

fn spawn_progress(
    p: Arc<exsweep_core::engine::Progress>,
) -> (Arc<std::sync::atomic::AtomicBool>, std::thread::JoinHandle<()>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let handle = std::thread::spawn(move || {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {bytes_per_sec} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        while !s2.load(Ordering::Relaxed) {
            bar.set_length(p.bytes_total.load(Ordering::Relaxed));
            bar.set_position(p.bytes_done.load(Ordering::Relaxed));
            bar.set_message(format!(
                "{}/{} files",
                p.files_done.load(Ordering::Relaxed),
                p.files_total.load(Ordering::Relaxed)
            ));
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        bar.finish_and_clear();
    });
    (stop, handle)
}

fn verify(bundle: &Path) -> u8 {
    match evidence::verify(bundle) {
        Ok(rep) => {
            let mut out = std::io::stdout().lock();
            for m in &rep.mismatches {
                let _ = writeln!(out, "MISMATCH {}: {}", m.path, m.reason);
            }
            let _ = writeln!(
                out,
                "{} file(s) checked, {} intact, {} problem(s)",
                rep.checked,
                rep.ok,
                rep.mismatches.len()
            );
            u8::from(!rep.mismatches.is_empty())
        }
        Err(e) => fail(format!("cannot verify {}: {e}", bundle.display())),
    }
}
