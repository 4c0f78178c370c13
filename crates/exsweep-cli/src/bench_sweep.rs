//! `exsweep bench --sweep`: the file-sweep benchmark. It generates a tree of many files (50,000,
//! about 2 GB by default: pages, scripts, style sheets, configs and binaries, laid out as an
//! Exchange server's drive with a few planted shells), then measures, each in a child process:
//! `exsweep scan --all-files` with the given YARA rules and IOC feeds; the baseline, a plain
//! parallel loop that reads every file and calls yara-x on it with the same compiled rules; and
//! hashing (MD5 + SHA-1 + SHA-256) of every file. It prints files/s, MB/s and peak RSS of each.

use crate::bench::{Run, corpus_bytes, discard_findings, measure, walk};
use exsweep_core::sweep::{FileHashes, hashes};
use exsweep_yara::{LoadOptions, YaraRules};
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Settings of the sweep benchmark (from `exsweep bench`).
pub struct SweepBench<'a> {
    pub dir: PathBuf,
    pub files: u64,
    pub size_gb: f64,
    pub runs: u32,
    pub threads: Option<usize>,
    pub yara: &'a [PathBuf],
    pub ioc: &'a [PathBuf],
}

/// Folders of the generated tree (a drive copy), with the extensions written there.
const FOLDERS: &[(&str, &[&str])] = &[
    ("C/inetpub/wwwroot/aspnet_client/system_web/4_0_30319", &["aspx", "js", "css"]),
    ("C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/15.2.792.10/scripts", &["js", "css"]),
    ("C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth", &["aspx", "htm"]),
    ("C/Program Files/Microsoft/Exchange Server/V15/ClientAccess/ecp/Reporting", &["aspx", "ascx", "svc", "js"]),
    ("C/Program Files/Microsoft/Exchange Server/V15/ClientAccess/owa/prem", &["js", "css", "htm", "xml"]),
    ("C/Program Files/Microsoft/Exchange Server/V15/Bin", &["dll", "exe", "config", "xml"]),
    ("C/Windows/System32", &["dll", "exe", "mui"]),
    ("C/Windows/Temp", &["tmp", "log", "txt"]),
    ("C/ProgramData/Microsoft/Windows", &["dat", "xml", "log"]),
    ("C/Users/Public/Documents", &["txt", "docx", "pdf"]),
];

const WORDS: &[&str] = &[
    "function",
    "var",
    "return",
    "if",
    "else",
    "for",
    "while",
    "this",
    "document",
    "getElementById",
    "window",
    "Microsoft.Exchange",
    "Owa",
    "Clients",
    "runat=\"server\"",
    "<div",
    "class=\"",
    "</div>",
    "<asp:Label",
    "ID=\"",
    "Text=\"",
    "/>",
    "{",
    "}",
    "(",
    ")",
    ";",
    "=",
    "==",
    "null",
    "true",
    "false",
    "string",
    "public",
    "protected",
    "void",
    "Page_Load",
    "object",
    "sender",
    "EventArgs",
    "e",
    "Response",
    "Request",
    "Server",
    "color:",
    "#333;",
    "font-family:",
    "'Segoe UI'",
    "margin:",
    "0",
    "padding:",
    "4px",
    "width:",
    "100%",
    "<configuration>",
    "<system.web>",
    "<add",
    "key=\"",
    "value=\"",
    "</appSettings>",
    "mailbox",
    "calendar",
    "message",
    "folder",
    "logon",
    "owa",
    "ecp",
    "user",
    "password",
    "session",
    "cookie",
    "token",
    "json",
];

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn text_file(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(size + 64);
    while b.len() < size {
        let w = WORDS[rng.below(WORDS.len() as u64) as usize];
        b.extend_from_slice(w.as_bytes());
        b.push(if rng.below(12) == 0 { b'\n' } else { b' ' });
    }
    b.truncate(size);
    b
}

fn binary_file(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(size + 8);
    b.extend_from_slice(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00");
    while b.len() < size {
        if rng.below(64) == 0 {
            // Embedded strings, as binaries have.
            let w = WORDS[rng.below(WORDS.len() as u64) as usize];
            b.extend_from_slice(w.as_bytes());
            b.push(0);
        } else {
            b.extend_from_slice(&rng.next().to_le_bytes());
        }
    }
    b.truncate(size);
    b
}

/// Planted shells, so that the rules have something to find.
const SHELLS: &[(&str, &str)] = &[
    (
        "C/inetpub/wwwroot/aspnet_client/system_web/Xk2pQr7a.aspx",
        r#"<script language="JScript" runat="server">function Page_Load(){eval(Request["bench"],"unsafe");}</script>"#,
    ),
    (
        "C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/OutlookEN.aspx",
        r#"<%@ Page Language="Jscript"%><%eval(Request.Item["z"],"unsafe");%>"#,
    ),
];

/// Writes the tree once (a marker file says it is complete); returns (files, bytes).
fn generate(dir: &Path, files: u64, bytes: u64) -> std::io::Result<(u64, u64)> {
    let marker = dir.join(format!(".done-{files}-{bytes}"));
    let root = dir.join("tree");
    if marker.exists() {
        return Ok(tree_size(&root));
    }
    let _ = std::fs::remove_dir_all(dir);
    for (f, _) in FOLDERS {
        std::fs::create_dir_all(root.join(f))?;
    }
    // Most files are small; 1% are large and carry half the bytes, as on a real drive.
    let large = (files / 100).max(1);
    let small = files - large - SHELLS.len() as u64;
    let small_avg = (bytes / 2 / small.max(1)).max(512);
    let large_avg = (bytes / 2 / large).max(1 << 20);
    (0..files - SHELLS.len() as u64).into_par_iter().try_for_each(|i| -> std::io::Result<()> {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let (folder, exts) = FOLDERS[(i % FOLDERS.len() as u64) as usize];
        let ext = exts[rng.below(exts.len() as u64) as usize];
        let avg = if i < large { large_avg } else { small_avg };
        let size = (avg / 2 + rng.below(avg)) as usize;
        let data = match ext {
            "dll" | "exe" | "mui" | "dat" | "pdf" | "docx" | "tmp" => binary_file(&mut rng, size),
            _ => text_file(&mut rng, size),
        };
        let sub = format!("d{:03}", i / 500 % 1000);
        let d = root.join(folder).join(sub);
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join(format!("f{i:06}.{ext}")), data)
    })?;
    for (p, text) in SHELLS {
        std::fs::write(root.join(p), text)?;
    }
    std::fs::write(&marker, "")?;
    Ok(tree_size(&root))
}

/// (files, bytes) of the tree.
fn tree_size(root: &Path) -> (u64, u64) {
    let (bytes, files) = corpus_bytes(root);
    (files, bytes)
}

/// Every file of the tree, sorted (so that the hashing sample is always the same files).
fn files_of(root: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walk(root).into_iter().map(|(p, _)| p).collect();
    v.sort();
    v
}

/// Runs `work` on a pool of `threads` workers (default: one per core).
fn in_pool<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> T {
    match rayon::ThreadPoolBuilder::new().num_threads(threads.unwrap_or(0)).build() {
        Ok(p) => p.install(work),
        Err(_) => work(),
    }
}

/// The baseline, run in a child: compile (or load from the cache) the same rules, then a plain
/// parallel loop that reads each file and calls yara-x on it. Prints one line of figures.
pub fn baseline_loop(tree: &Path, yara: &[PathBuf], threads: Option<usize>) -> u8 {
    let rules = YaraRules::load(&LoadOptions {
        builtin: true,
        paths: yara.to_vec(),
        extra: Vec::new(),
        cache_dir: exsweep_yara::default_cache_dir(),
    });
    let compiled = rules.compiled();
    let files = files_of(tree);
    let started = Instant::now();
    let (bytes, hits) = in_pool(threads, || {
        files
            .par_iter()
            .map_init(
                || {
                    let mut s = exsweep_yara::yara_x::Scanner::new(compiled);
                    s.set_timeout(std::time::Duration::from_secs(10));
                    s
                },
                |scanner, p| {
                    let Ok(data) = std::fs::read(p) else { return (0, 0) };
                    let hits = scanner.scan(&data).map(|r| r.matching_rules().len()).unwrap_or(0);
                    (data.len() as u64, hits as u64)
                },
            )
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    let secs = started.elapsed().as_secs_f64();
    println!("baseline-loop files={} bytes={bytes} hits={hits} scan_secs={secs:.3}", files.len());
    0
}

/// A file's bytes read as the sweep reads them: memory-mapped from 1 MiB, else into a buffer.
enum FileBytes {
    Map(memmap2::Mmap),
    Buffer(Vec<u8>),
}

impl FileBytes {
    fn read(p: &Path) -> FileBytes {
        let Ok(f) = std::fs::File::open(p) else { return FileBytes::Buffer(Vec::new()) };
        if f.metadata().is_ok_and(|m| m.len() >= 1 << 20) {
            // SAFETY: read-only map of a file of the generated tree, which nothing else changes.
            if let Ok(m) = unsafe { memmap2::Mmap::map(&f) } {
                return FileBytes::Map(m);
            }
        }
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut &f, &mut buf);
        FileBytes::Buffer(buf)
    }

    fn bytes(&self) -> &[u8] {
        match self {
            FileBytes::Map(m) => m,
            FileBytes::Buffer(b) => b,
        }
    }
}

/// Hashing alone, in a child: read every file (mapped from 1 MiB) and compute MD5, SHA-1 and
/// SHA-256 in parallel as the sweep does (largest first, in batches whose MD5s run side by side
/// in SIMD lanes), then
/// each digest alone on one core over a sample of 256 MB of files.
pub fn hash_loop(tree: &Path, threads: Option<usize>) -> u8 {
    let mut files: Vec<(PathBuf, u64)> = files_of(tree)
        .into_iter()
        .map(|p| (std::fs::metadata(&p).map_or(0, |m| m.len()), p))
        .map(|(n, p)| (p, n))
        .collect();
    files.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    // Batches as the sweep makes them: in size order, up to BATCH files and BATCH_BYTES bytes.
    let mut tasks: Vec<Vec<&Path>> = Vec::new();
    let mut batch_bytes = 0;
    for (p, n) in &files {
        match tasks.last_mut() {
            Some(b) if b.len() < hashes::BATCH && batch_bytes + n <= hashes::BATCH_BYTES => {
                b.push(p.as_path());
                batch_bytes += n;
            }
            _ => {
                tasks.push(vec![p.as_path()]);
                batch_bytes = *n;
            }
        }
    }
    let started = Instant::now();
    let (bytes, _) = in_pool(threads, || {
        tasks
            .par_iter()
            .with_max_len(1)
            .map(|task| {
                let data: Vec<FileBytes> = task.iter().map(|p| FileBytes::read(p)).collect();
                let refs: Vec<&[u8]> = data.iter().map(FileBytes::bytes).collect();
                let h = match refs.as_slice() {
                    [one] => vec![FileHashes::of(one)],
                    many => FileHashes::of_many(many),
                };
                (
                    refs.iter().map(|d| d.len() as u64).sum::<u64>(),
                    h.iter().fold(0u64, |x, h| x ^ u64::from(h.sha256[0])),
                )
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 ^ b.1))
    });
    let secs = started.elapsed().as_secs_f64();
    let mut sample: Vec<Vec<u8>> = Vec::new();
    let mut sample_bytes = 0usize;
    for (p, _) in files.iter().rev().step_by(7) {
        if sample_bytes > 256 << 20 {
            break;
        }
        let d = std::fs::read(p).unwrap_or_default();
        sample_bytes += d.len();
        sample.push(d);
    }
    let gbps = |f: &dyn Fn()| {
        let t = Instant::now();
        f();
        sample_bytes as f64 / t.elapsed().as_secs_f64() / 1e9
    };
    use sha2::Digest;
    let md5_serial = gbps(&|| {
        sample.iter().for_each(|d| {
            std::hint::black_box(md5::Md5::digest(d));
        })
    });
    let refs: Vec<&[u8]> = sample.iter().map(Vec::as_slice).collect();
    let md5_batched = gbps(&|| {
        refs.chunks(hashes::BATCH).for_each(|c| {
            std::hint::black_box(hashes::md5_of_many(c));
        })
    });
    let sha1 = gbps(&|| {
        sample.iter().for_each(|d| {
            std::hint::black_box(sha1::Sha1::digest(d));
        })
    });
    let sha256 = gbps(&|| {
        sample.iter().for_each(|d| {
            std::hint::black_box(sha2::Sha256::digest(d));
        })
    });
    println!(
        "hash-loop files={} bytes={bytes} secs={secs:.3} one_core_gbps md5_serial={md5_serial:.2} md5_batched={md5_batched:.2} sha1={sha1:.2} sha256={sha256:.2}",
        files.len()
    );
    0
}

fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace().find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

/// Runs a child that prints one line of figures; returns the line and the run.
fn child_line(cmd: &mut Command) -> Option<(String, Run)> {
    let out = tempfile::NamedTempFile::new().ok()?;
    cmd.stdout(out.reopen().ok()?).stderr(std::process::Stdio::null());
    let run = measure(cmd).ok()?;
    let text = std::fs::read_to_string(out.path()).ok()?;
    Some((text.lines().last().unwrap_or("").to_string(), run))
}

pub fn run(b: &SweepBench<'_>) -> u8 {
    let target = (b.size_gb * 1e9) as u64;
    let t = Instant::now();
    let (files, bytes) = match generate(&b.dir, b.files.max(100), target) {
        Ok(v) => v,
        Err(e) => return crate::fail(format!("bench: cannot write the sweep tree in {}: {e}", b.dir.display())),
    };
    let tree = b.dir.join("tree");
    let mb = bytes as f64 / 1e6;
    eprintln!("bench: tree of {files} files, {:.2} GB ready in {:.1} s", bytes as f64 / 1e9, t.elapsed().as_secs_f64());
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return crate::fail(format!("bench: cannot find the exsweep binary: {e}")),
    };
    let threads: Vec<String> = b.threads.map(|t| vec!["--threads".into(), t.to_string()]).unwrap_or_default();
    let mut rule_args = Vec::new();
    for y in b.yara {
        rule_args.push("--yara".into());
        rule_args.push(y.display().to_string());
    }
    let mut ioc_args = Vec::new();
    for i in b.ioc {
        ioc_args.push("--ioc".into());
        ioc_args.push(i.display().to_string());
    }
    let scan = |target: &Path| {
        let mut c = Command::new(&exe);
        c.arg("scan")
            .arg(target)
            .arg("--all-files")
            .args(&rule_args)
            .args(&ioc_args)
            .args(&threads)
            .args(discard_findings());
        c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        c
    };
    // Warm the rule cache and the page cache once.
    let _ = measure(&mut scan(&tree));
    let empty = tempfile::tempdir().ok();
    let startup = empty.as_ref().and_then(|d| measure(&mut scan(d.path())).ok());
    let startup_secs = startup.as_ref().map_or(0.0, |r| r.secs);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "sweep tree: {files} files, {:.2} GB; rules: built-in + {} YARA path(s); IOC feeds: built-in + {}",
        bytes as f64 / 1e9,
        b.yara.len(),
        b.ioc.len()
    );
    if let Some(s) = &startup {
        let _ = writeln!(
            out,
            "start-up (rules from the cache, IOC feeds parsed, empty source): {:.2} s, peak RSS {:.0} MB",
            s.secs,
            s.max_rss_kb as f64 / 1024.0
        );
    }
    let runs: Vec<Run> = (0..b.runs.max(1)).filter_map(|_| measure(&mut scan(&tree)).ok()).collect();
    let Some(best) = runs.iter().filter(|r| r.ok).min_by(|a, b| a.secs.total_cmp(&b.secs)) else {
        let _ = writeln!(out, "exsweep scan failed");
        return 1;
    };
    let peak = runs.iter().map(|r| r.max_rss_kb).max().unwrap_or(0) as f64 / 1024.0;
    let sweep_secs = (best.secs - startup_secs).max(1e-9);
    let _ = writeln!(
        out,
        "exsweep scan --all-files: {:.2} s in all ({:.2} s past start-up) = {:.0} files/s, {:.0} MB/s; peak RSS {peak:.0} MB",
        best.secs,
        sweep_secs,
        files as f64 / sweep_secs,
        mb / sweep_secs
    );
    let mut base = Command::new(&exe);
    base.args(["bench", "--yara-baseline"]).arg(&tree).args(&rule_args).args(&threads);
    let base_runs: Vec<(String, Run)> = (0..b.runs.max(1)).filter_map(|_| child_line(&mut base)).collect();
    if let Some((line, run)) =
        base_runs.iter().filter(|(l, _)| l.starts_with("baseline-loop")).min_by(|a, b| a.1.secs.total_cmp(&b.1.secs))
    {
        let secs = field(line, "scan_secs").unwrap_or(run.secs);
        let _ = writeln!(
            out,
            "baseline (plain loop: read + yara-x scan, same rules): {secs:.2} s = {:.0} files/s, {:.0} MB/s; peak RSS {:.0} MB; {} rule hits",
            files as f64 / secs,
            mb / secs,
            run.max_rss_kb as f64 / 1024.0,
            field(line, "hits").unwrap_or(0.0)
        );
        let _ = writeln!(out, "exsweep / baseline time ratio: {:.2} (target: 1.5 or less)", sweep_secs / secs);
    } else {
        let _ = writeln!(out, "baseline loop failed");
    }
    let mut hash = Command::new(&exe);
    hash.args(["bench", "--hash-baseline"]).arg(&tree).args(&threads);
    if let Some((line, run)) = child_line(&mut hash) {
        let secs = field(&line, "secs").unwrap_or(run.secs);
        let _ = writeln!(
            out,
            "hashing (read + MD5 + SHA-1 + SHA-256, all cores): {secs:.2} s = {:.2} GB/s (target >= 1); one core each: MD5 {:.2} batched ({:.2} one stream), SHA-1 {:.2}, SHA-256 {:.2} GB/s",
            bytes as f64 / 1e9 / secs,
            field(&line, "md5_batched").unwrap_or(0.0),
            field(&line, "md5_serial").unwrap_or(0.0),
            field(&line, "sha1").unwrap_or(0.0),
            field(&line, "sha256").unwrap_or(0.0)
        );
    }
    0
}
