//! `exsweep bench`: generates a large synthetic Exchange server (HttpProxy, ECP, OAB and IIS logs,
//! 1 GB or more), then times full `exsweep scan` runs in a child process and reports MB/s and peak
//! RSS, beside `rg -c ServerInfo~` over the same files. Both are measured with a warm page cache
//! and, where the OS lets us drop it (Linux, root), a cold one.

use crate::demo::{LayoutArg, ServerArgs};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[derive(Args, Clone)]
pub struct BenchArgs {
    /// Corpus size to generate, in GB (decimal): 1 for the scan benchmark, 2 for the sweep.
    #[arg(long)]
    size_gb: Option<f64>,
    /// Where to keep the corpus; reused when it is already there with the same size.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Timed runs per measurement (the best is reported).
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// Worker threads for the scan (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Skip the cold-cache runs even where dropping the page cache is possible.
    #[arg(long)]
    warm_only: bool,
    /// Benchmark Sigma instead: these rule files or folders over a generated Windows event mix
    /// (Sysmon 1/3/7/11/13, Security 4624/4688/4663, PowerShell 4104).
    #[arg(long)]
    sigma: Vec<PathBuf>,
    /// Events in the generated Sigma corpus.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Also time the Sigma rules over this folder of real event logs.
    #[arg(long)]
    real: Option<PathBuf>,
    /// Benchmark the file sweep instead: a generated tree of `--files` files (`--size-gb` in
    /// all) swept with `--yara` rules and `--ioc` feeds, beside a plain yara-x loop and hashing.
    #[arg(long)]
    sweep: bool,
    /// Files in the generated sweep tree.
    #[arg(long, default_value_t = 50_000)]
    files: u64,
    /// YARA rule files or folders for the sweep benchmark (repeatable).
    #[arg(long)]
    yara: Vec<PathBuf>,
    /// IOC feeds for the sweep benchmark (repeatable).
    #[arg(long)]
    ioc: Vec<PathBuf>,
    /// Internal: run the plain yara-x loop over this tree (the sweep benchmark's baseline).
    #[arg(long, hide = true)]
    yara_baseline: Option<PathBuf>,
    /// Internal: hash every file of this tree (the sweep benchmark's hashing figure).
    #[arg(long, hide = true)]
    hash_baseline: Option<PathBuf>,
}

/// Wall time and peak resident memory of one child process.
pub(crate) struct Run {
    pub secs: f64,
    pub max_rss_kb: i64,
    pub ok: bool,
}

/// Runs a command and measures it with wait4, which reports the child's own peak RSS.
#[cfg(unix)]
pub(crate) fn measure(cmd: &mut Command) -> std::io::Result<Run> {
    let started = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, and wait4 writes it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = started.elapsed().as_secs_f64();
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) <= 1;
    // ru_maxrss is in KiB on Linux and in bytes on macOS.
    let max_rss_kb = if cfg!(target_os = "macos") { usage.ru_maxrss / 1024 } else { usage.ru_maxrss };
    Ok(Run { secs, max_rss_kb: max_rss_kb as i64, ok })
}

/// Runs a command and times it; peak RSS is not measured on this OS (reported as 0).
#[cfg(not(unix))]
pub(crate) fn measure(cmd: &mut Command) -> std::io::Result<Run> {
    let started = Instant::now();
    let status = cmd.status()?;
    let ok = status.code().is_some_and(|c| c <= 1);
    Ok(Run { secs: started.elapsed().as_secs_f64(), max_rss_kb: 0, ok })
}

/// (bytes, files) of every regular file below `dir`.
pub(crate) fn corpus_bytes(dir: &Path) -> (u64, u64) {
    let mut bytes = 0;
    let mut files = 0;
    for e in walk(dir) {
        bytes += e.1;
        files += 1;
    }
    (bytes, files)
}

/// Every regular file below `dir`, with its size, in no particular order.
pub(crate) fn walk(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                stack.push(e.path());
            } else if m.is_file() {
                out.push((e.path(), m.len()));
            }
        }
    }
    out
}

/// Drops the page cache (Linux, root only); false when not allowed.
fn drop_caches() -> bool {
    #[cfg(unix)]
    // SAFETY: sync has no preconditions.
    unsafe {
        libc::sync()
    };
    std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

fn warm(dir: &Path) {
    let mut buf = vec![0u8; 1 << 20];
    for (p, _) in walk(dir) {
        if let Ok(mut f) = std::fs::File::open(p) {
            while matches!(std::io::Read::read(&mut f, &mut buf), Ok(n) if n > 0) {}
        }
    }
}

/// Arguments of a timed `scan` or `hunt`: findings to the null device, quiet, exit status 0.
pub(crate) fn discard_findings() -> [&'static str; 7] {
    ["--format", "jsonl", "--output", null_device(), "--quiet", "--fail-on", "never"]
}

/// Where output goes to be thrown away.
pub(crate) fn null_device() -> &'static str {
    if cfg!(windows) { "NUL" } else { "/dev/null" }
}

fn best(runs: &[Run]) -> Option<&Run> {
    runs.iter().filter(|r| r.ok).min_by(|a, b| a.secs.total_cmp(&b.secs))
}

/// Times `exsweep hunt` with the given rules over the generated event mix (and a real corpus).
fn run_sigma(a: &BenchArgs) -> u8 {
    let dir = a.dir.clone().unwrap_or_else(|| std::env::temp_dir().join("exsweep-bench-sigma"));
    let corpus = dir.join(format!("mix-{}", a.events));
    let marker = corpus.join(".done");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&corpus);
        let t = Instant::now();
        let spec = exsweep_fixtures::winevents::MixSpec { events: a.events, files: 60, ..Default::default() };
        match exsweep_fixtures::winevents::write_mix(&corpus, &spec) {
            Ok(st) => eprintln!(
                "bench: wrote {} events in {} EVTX files in {:.1} s",
                st.events,
                st.files.len(),
                t.elapsed().as_secs_f64()
            ),
            Err(e) => return crate::fail(format!("bench: cannot write the event corpus: {e}")),
        }
        let _ = std::fs::write(&marker, "");
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return crate::fail(format!("bench: cannot find the exsweep binary: {e}")),
    };
    // `exsweep hunt` with the rules, then `tail` (the events and output, or `--list-unsupported`).
    let hunt_with = |tail: &[&std::ffi::OsStr]| {
        let mut c = Command::new(&exe);
        c.arg("hunt");
        for r in &a.sigma {
            c.arg("--sigma").arg(r);
        }
        c.args(tail);
        if let Some(t) = a.threads {
            c.args(["--threads", &t.to_string()]);
        }
        c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        c
    };
    let hunt = |events: &Path| {
        let mut tail = vec![events.as_os_str()];
        tail.extend(discard_findings().map(std::ffi::OsStr::new));
        hunt_with(&tail)
    };
    // Rule loading alone, to tell it from evaluation.
    let mut load = hunt_with(&[std::ffi::OsStr::new("--list-unsupported")]);
    let load_run = measure(&mut load).ok();
    let mut sets = vec![("generated", corpus.clone(), a.events)];
    if let Some(real) = &a.real {
        sets.push(("real", real.clone(), 0));
    }
    for (label, path, events) in sets {
        let mb = corpus_bytes(&path).0 as f64 / 1e6;
        let runs: Vec<Run> = (0..a.runs.max(1)).filter_map(|_| measure(&mut hunt(&path)).ok()).collect();
        let Some(b) = best(&runs) else {
            println!("{label}: hunt failed");
            continue;
        };
        let peak = runs.iter().map(|r| r.max_rss_kb).max().unwrap_or(0) as f64 / 1024.0;
        let eval = b.secs - load_run.as_ref().map_or(0.0, |l| l.secs);
        let rate = if events > 0 {
            format!(
                "{:.0} events/s ({:.0} ev/s after rule loading), ",
                events as f64 / b.secs,
                events as f64 / eval.max(1e-9)
            )
        } else {
            String::new()
        };
        println!("{label}: {:.1} MB in {:.2} s: {rate}{:.0} MB/s, peak RSS {peak:.0} MB", mb, b.secs, mb / b.secs);
    }
    if let Some(l) = load_run {
        println!("rule loading alone: {:.2} s, peak RSS {:.0} MB", l.secs, l.max_rss_kb as f64 / 1024.0);
    }
    0
}

pub fn run(a: &BenchArgs) -> u8 {
    if let Some(tree) = &a.yara_baseline {
        return crate::bench_sweep::baseline_loop(tree, &a.yara, a.threads);
    }
    if let Some(tree) = &a.hash_baseline {
        return crate::bench_sweep::hash_loop(tree, a.threads);
    }
    if a.sweep {
        let dir = a.dir.clone().unwrap_or_else(|| std::env::temp_dir().join("exsweep-bench-sweep"));
        let size_gb = a.size_gb.unwrap_or(2.0);
        return crate::bench_sweep::run(&crate::bench_sweep::SweepBench {
            dir,
            files: a.files,
            size_gb,
            runs: a.runs,
            threads: a.threads,
            yara: &a.yara,
            ioc: &a.ioc,
        });
    }
    if !a.sigma.is_empty() {
        return run_sigma(a);
    }
    let dir = a.dir.clone().unwrap_or_else(|| std::env::temp_dir().join("exsweep-bench"));
    let size_gb = a.size_gb.unwrap_or(1.0);
    let target = (size_gb * 1e9) as u64;
    let marker = dir.join(format!("corpus-{size_gb:.2}GB.done"));
    let source = dir.join("EX01");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        // Calibrate: size grows linearly with scale above a fixed part, so fit a line through
        // two small generations.
        let mut sizes = Vec::new();
        for probe_scale in [0.2, 0.6] {
            let probe = dir.join("probe");
            let small = ServerArgs::for_bench(probe_scale, LayoutArg::Drive);
            match crate::demo::generate(&small, &probe) {
                Ok((p, _)) => sizes.push(corpus_bytes(&p).0 as f64),
                Err(e) => return crate::fail(format!("bench: cannot generate the calibration corpus: {e}")),
            }
            let _ = std::fs::remove_dir_all(&probe);
        }
        let per_scale = ((sizes[1] - sizes[0]) / 0.4).max(1.0);
        let fixed = sizes[0] - 0.2 * per_scale;
        let scale = ((target as f64 - fixed) / per_scale).max(0.1);
        eprintln!("bench: generating ~{size_gb:.2} GB (scale {scale:.1}) in {} ...", dir.display());
        let t = Instant::now();
        let big = ServerArgs::for_bench(scale, LayoutArg::Drive);
        if let Err(e) = crate::demo::generate(&big, &dir) {
            return crate::fail(format!("bench: cannot generate the corpus: {e}"));
        }
        let (bytes, _) = corpus_bytes(&source);
        eprintln!(
            "bench: generated {:.2} GB in {:.1} s ({:.0} MB/s)",
            bytes as f64 / 1e9,
            t.elapsed().as_secs_f64(),
            bytes as f64 / 1e6 / t.elapsed().as_secs_f64()
        );
        let _ = std::fs::write(&marker, "");
    }
    let (bytes, files) = corpus_bytes(&source);
    let mb = bytes as f64 / 1e6;
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return crate::fail(format!("bench: cannot find the exsweep binary: {e}")),
    };
    let scan_cmd = || {
        let mut c = Command::new(&exe);
        c.arg("scan").arg(&source).args(discard_findings());
        if let Some(t) = a.threads {
            c.args(["--threads", &t.to_string()]);
        }
        c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        c
    };
    let rg_cmd = || {
        let mut c = Command::new("rg");
        c.args(["-c", "ServerInfo~"]).arg(&source);
        c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        c
    };
    let have_rg = Command::new("rg").arg("--version").output().is_ok_and(|o| o.status.success());
    println!(
        "corpus: {} files, {:.2} GB (HttpProxy, ECP, OABGenerator, IIS W3SVC1/2, Application, Security and System EVTX)",
        files,
        mb / 1e3
    );
    let report = |label: &str, cold: bool| {
        let mut scans = Vec::new();
        let mut rgs = Vec::new();
        for _ in 0..a.runs.max(1) {
            if cold && !drop_caches() {
                return false;
            }
            if let Ok(r) = measure(&mut scan_cmd()) {
                scans.push(r);
            }
            if have_rg {
                if cold {
                    drop_caches();
                }
                if let Ok(r) = measure(&mut rg_cmd()) {
                    rgs.push(r);
                }
            }
        }
        let Some(s) = best(&scans) else {
            println!("{label}: scan failed");
            return true;
        };
        let peak = scans.iter().map(|r| r.max_rss_kb).max().unwrap_or(0);
        print!(
            "{label}: exsweep scan {:.2} s = {:.0} MB/s, peak RSS {:.0} MB",
            s.secs,
            mb / s.secs,
            peak as f64 / 1024.0
        );
        match best(&rgs) {
            Some(r) => println!(
                "; rg -c ServerInfo~ {:.2} s = {:.0} MB/s; exsweep/rg time ratio {:.2}",
                r.secs,
                mb / r.secs,
                s.secs / r.secs
            ),
            None => println!("; rg not found (install ripgrep to compare)"),
        }
        true
    };
    warm(&source);
    report("warm cache", false);
    if !a.warm_only && !report("cold cache", true) {
        println!("cold cache: not measured (dropping the page cache needs Linux and root)");
    }
    0
}
