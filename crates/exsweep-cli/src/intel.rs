//! The file sweep's knowledge for `scan`: exsweep's built-in YARA rules, IOC pack and known-good
//! baseline, the user's `--yara` folders and `--ioc` feeds, with a count on stderr of what loaded
//! and what did not; and `exsweep intel list|check`, which show what is inside and what a rule
//! folder or feed gives.

use crate::fail;
use clap::{Args, Subcommand, ValueEnum};
use exsweep_core::detect::Detector;
use exsweep_core::sweep::{FileCheck, SweepOptions};
use exsweep_core::time::Timestamp;
use exsweep_intel::builds::{installed::InstalledBuildCheck, mitigations::MitigationCheck};
use exsweep_intel::known_good::UnknownFileCheck;
use exsweep_intel::{IocFileCheck, IocSet, NetworkIocDetector};
use exsweep_yara::{LoadOptions, ScanSettings, YaraCheck, YaraRules};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// What the file sweep reads and with which rules and indicators.
#[derive(Args, Clone, Debug)]
pub struct SweepArgs {
    /// YARA rule files or folders (repeatable), e.g. signature-base's `yara` folder.
    #[arg(long)]
    pub yara: Vec<PathBuf>,
    /// IOC files or folders (repeatable): Loki/signature-base lists, MSTIC CSV, ESET, Volexity, CHIRP.
    #[arg(long)]
    pub ioc: Vec<PathBuf>,
    /// Sweep every file of the sources by content, not only the drop folders.
    #[arg(long)]
    pub all_files: bool,
    /// Largest file the sweep reads; larger ones are reported and skipped (K, M, G suffixes).
    #[arg(long, default_value = "64M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// YARA time limit per file, in seconds.
    #[arg(long, default_value_t = 10)]
    pub yara_timeout: u64,
    /// Read files with read() only, never memory-mapped (for live systems, where a file
    /// truncated while mapped would stop the process).
    #[arg(long)]
    pub no_mmap: bool,
    /// Folder for compiled YARA rule sets (default: the user's cache folder).
    #[arg(long)]
    pub yara_cache: Option<PathBuf>,
    /// Compile the YARA rules every time.
    #[arg(long)]
    pub no_yara_cache: bool,
    /// Start of the exploitation window: script files written on or after it are reported.
    #[arg(long, default_value = "2021-01-01")]
    pub window_start: String,
    /// No built-in file checks (YARA rules, IOC pack, unknown files): logs only.
    #[arg(long)]
    pub no_sweep: bool,
}

impl Default for SweepArgs {
    fn default() -> Self {
        SweepArgs {
            yara: Vec::new(),
            ioc: Vec::new(),
            all_files: false,
            max_file_size: 64 << 20,
            yara_timeout: 10,
            no_mmap: false,
            yara_cache: None,
            no_yara_cache: false,
            window_start: "2021-01-01".into(),
            no_sweep: false,
        }
    }
}

/// `64M` → 67108864.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mul) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'B' => 1,
                _ => return Err(format!("{s:?}: unknown size suffix {c:?} (use K, M or G)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num.trim().parse().map_err(|_| format!("{s:?} is not a size (e.g. 64M)"))?;
    n.checked_mul(mul).ok_or_else(|| format!("{s:?} is too large"))
}

/// The sweep's checks and the IOC record detector, loaded.
pub struct Loaded {
    pub file_checks: Vec<Box<dyn FileCheck>>,
    pub detectors: Vec<Box<dyn Detector>>,
    pub options: SweepOptions,
}

impl SweepArgs {
    pub fn options(&self) -> Result<SweepOptions, u8> {
        let Some(window_start) = Timestamp::parse(&self.window_start) else {
            return Err(fail(format!("--window-start {:?} is not a date (YYYY-MM-DD or RFC 3339)", self.window_start)));
        };
        Ok(SweepOptions {
            all_files: self.all_files,
            max_file_size: self.max_file_size,
            no_mmap: self.no_mmap,
            window_start,
            ..SweepOptions::default()
        })
    }

    fn yara_options(&self) -> LoadOptions {
        let cache_dir =
            if self.no_yara_cache { None } else { self.yara_cache.clone().or_else(exsweep_yara::default_cache_dir) };
        LoadOptions { builtin: true, paths: self.yara.clone(), extra: Vec::new(), cache_dir }
    }
}

/// Loads everything the sweep needs; says on stderr what loaded (unless `quiet`).
pub fn load(args: &SweepArgs, quiet: bool) -> Result<Loaded, u8> {
    let options = args.options()?;
    if args.no_sweep {
        return Ok(Loaded { file_checks: Vec::new(), detectors: Vec::new(), options });
    }
    for p in args.yara.iter().chain(&args.ioc) {
        if !p.exists() {
            return Err(fail(format!("cannot read {}: no such file or folder", p.display())));
        }
    }
    let rules = YaraRules::load(&args.yara_options());
    if !quiet && !args.yara.is_empty() {
        let builtin = exsweep_yara::BUILTIN_RULES.len();
        eprintln!(
            "yara: {} rule file(s), {} compile, {} not usable (`exsweep intel check --yara ...` lists them); {} rules{}",
            rules.stats.files - builtin,
            rules.stats.compiled.saturating_sub(builtin),
            rules.problems.len(),
            rules.len(),
            if rules.stats.from_cache { " (compiled set from the cache)" } else { "" }
        );
    }
    let settings = ScanSettings { timeout: Duration::from_secs(args.yara_timeout.max(1)), ..ScanSettings::default() };
    let yara = YaraCheck::new(rules, settings).with_actor_names(actor_names);
    let iocs = load_iocs(&args.ioc, quiet)?;
    let file_checks: Vec<Box<dyn FileCheck>> = vec![
        Box::new(yara),
        Box::new(IocFileCheck::new(&iocs)),
        Box::new(UnknownFileCheck::default()),
        Box::new(MitigationCheck),
        Box::new(InstalledBuildCheck),
    ];
    let detectors: Vec<Box<dyn Detector>> = vec![Box::new(NetworkIocDetector::new(&iocs))];
    Ok(Loaded { file_checks, detectors, options })
}

/// The built-in pack and the user's feeds; says what each feed gave (unless `quiet`).
fn load_iocs(paths: &[PathBuf], quiet: bool) -> Result<IocSet, u8> {
    let mut set = IocSet::with_builtin();
    let before = set.files.len();
    for p in paths {
        if let Err(e) = set.add_path(p) {
            return Err(fail(e));
        }
    }
    if !quiet && !paths.is_empty() {
        let files = &set.files[before..];
        let read: u64 = files.iter().map(|f| f.indicators()).sum();
        let counts: Vec<String> = set.counts().iter().map(|(k, n)| format!("{n} {}", k.as_str())).collect();
        eprintln!(
            "ioc: {} feed file(s), {read} indicator(s) read; {} problem(s), {} entries ignored with a reason (`exsweep intel check --ioc ...` lists them); in all with the built-in pack: {}",
            files.len(),
            set.problems.len(),
            set.ignored.len(),
            counts.join(", ")
        );
    }
    Ok(set)
}

/// Activity groups named in a rule's name or description.
fn actor_names(text: &str) -> Vec<String> {
    exsweep_intel::actors::actors_in(text).into_iter().map(str::to_string).collect()
}

#[derive(Subcommand, Clone)]
pub enum IntelCmd {
    /// What the built-in knowledge holds: YARA rules, IOC pack entries (with their sources),
    /// activity groups and the known-good baseline.
    List {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Load rule folders and IOC feeds and report what compiles and parses, with every problem.
    Check {
        #[arg(long)]
        yara: Vec<PathBuf>,
        #[arg(long)]
        ioc: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

pub fn run(cmd: &IntelCmd) -> u8 {
    match cmd {
        IntelCmd::List { format } => list(*format),
        IntelCmd::Check { yara, ioc } => check(yara, ioc),
    }
}

fn list(format: ListFormat) -> u8 {
    let rules = YaraRules::load(&LoadOptions::default());
    let kg = exsweep_intel::known_good::KnownGood::builtin();
    let mut out = std::io::stdout().lock();
    match format {
        ListFormat::Text => {
            let _ = exsweep_intel::pack::write_listing(&mut out);
            let _ = writeln!(out);
            let _ = writeln!(out, "Built-in YARA rules ({}):", rules.len());
            for r in rules.rule_list() {
                let _ = writeln!(out, "  {:<28} {:<40} {}", r.id, r.name, r.origin);
            }
            let _ = writeln!(
                out,
                "\nKnown-good baseline: {} legitimate script names in Exchange web folders, from Microsoft's CSS-Exchange baselines of builds {}",
                kg.len(),
                kg.builds.join(", ")
            );
        }
        ListFormat::Json => {
            let v = serde_json::json!({
                "ioc_pack": {
                    "version": exsweep_intel::PACK_VERSION,
                    "entries": exsweep_intel::pack::listing().iter().map(|e| e.to_json()).collect::<Vec<_>>(),
                },
                "yara_rules": rules.rule_list().iter().map(|r| serde_json::json!({"id": r.id, "name": r.name, "file": r.origin})).collect::<Vec<_>>(),
                "known_good": {"names": kg.len(), "builds": kg.builds},
            });
            let _ = writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
    }
    0
}

fn check(yara: &[PathBuf], ioc: &[PathBuf]) -> u8 {
    let mut out = std::io::stdout().lock();
    let mut problems = 0;
    if !ioc.is_empty() {
        let mut set = IocSet::new();
        for p in ioc {
            if let Err(e) = set.add_path(p) {
                return fail(e);
            }
        }
        let _ = exsweep_intel::pack::write_set_listing(&set, "IOC feeds", &mut out);
        for f in &set.files {
            let counts: Vec<String> = f.counts.iter().map(|(k, n)| format!("{n} {}", k.as_str())).collect();
            let _ = writeln!(
                out,
                "  {} [{}]: {} entries, {}{}",
                f.path,
                f.feed,
                f.entries,
                if counts.is_empty() { "no indicators".into() } else { counts.join(", ") },
                f.licence.as_deref().map(|l| format!("; licence {l}")).unwrap_or_default()
            );
        }
        for p in &set.problems {
            let _ = writeln!(out, "  problem: {p}");
        }
        for n in &set.ignored {
            let _ = writeln!(out, "  ignored: {n}");
        }
        problems += set.problems.len();
    }
    if !yara.is_empty() {
        let rules = YaraRules::load(&LoadOptions { builtin: false, paths: yara.to_vec(), ..LoadOptions::default() });
        let _ = writeln!(
            out,
            "yara: {} rule file(s), {} compile, {} with problems; {} rules",
            rules.stats.files,
            rules.stats.compiled,
            rules.problems.len(),
            rules.len()
        );
        for p in &rules.problems {
            let _ = writeln!(out, "  {}\t{}", p.path, p.reason);
        }
        problems += rules.problems.len();
    }
    u8::from(problems > 0)
}
