//! The real public feeds, read from the shared data folder (never copied into the repository).
//! Ignored by default; run with
//! `EXSWEEP_SHARED=/work/shared cargo test -p exsweep-intel --release -- --ignored --nocapture`.
//! Each test prints what it read; the counts asserted were checked by hand against the files.

use exsweep_intel::{IndicatorKind as K, IocFileCheck, IocSet, NetworkIocDetector};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn shared() -> PathBuf {
    let root = std::env::var("EXSWEEP_SHARED").expect("set EXSWEEP_SHARED to the shared folder (e.g. /work/shared)");
    PathBuf::from(root).join("data")
}

fn load(p: &Path) -> IocSet {
    let mut set = IocSet::new();
    set.add_path(p).unwrap_or_else(|e| panic!("{e}"));
    set
}

/// Prints a per-file summary: entries, indicators per kind, ignored and problems with reasons.
fn report(set: &IocSet) {
    for f in &set.files {
        let kinds: Vec<String> = f.counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        println!(
            "{} [{}] entries {}: {}; allowed {}, ignored {}, problems {}; licence {}",
            f.path,
            f.feed,
            f.entries,
            kinds.join(", "),
            f.allowed,
            f.ignored,
            f.problems,
            f.licence.as_deref().unwrap_or("-")
        );
    }
    let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &set.problems {
        reasons.entry(p.reason.clone()).or_default().push(p.line.map_or(p.path.clone(), |l| format!("{}:{l}", p.path)));
    }
    for (r, at) in &reasons {
        println!("  problem x{}: {r} (first at {})", at.len(), at[0]);
    }
    for n in &set.ignored {
        println!("  ignored: {n}");
    }
}

/// The lines of `file` that gave an indicator, an ignored entry or a problem.
fn accounted(set: &IocSet, file: &str) -> BTreeSet<u64> {
    let mut lines = BTreeSet::new();
    for i in set.indicators().iter().chain(set.allowed()) {
        for s in &i.sources {
            if s.file == file {
                lines.insert(s.line);
            }
        }
    }
    lines.extend(set.ignored.iter().filter(|n| n.path == file).filter_map(|n| n.line));
    lines.extend(set.problems.iter().filter(|p| p.path == file).filter_map(|p| p.line));
    lines
}

/// Non-empty, non-comment lines (1-based), skipping the first `skip` of them (a CSV header).
fn data_lines(path: &Path, skip: usize) -> BTreeSet<u64> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .skip(skip)
        .map(|(i, _)| i as u64 + 1)
        .collect()
}

fn assert_all_accounted(set: &IocSet, path: &Path, expected: &BTreeSet<u64>) {
    let shown = path.display().to_string();
    let got = accounted(set, &shown);
    let missing: Vec<&u64> = expected.difference(&got).collect();
    assert!(missing.is_empty(), "{shown}: lines without indicator, note or problem: {missing:?}");
    let file = set.files.iter().find(|f| f.path == shown).expect("file loaded");
    assert_eq!(file.entries as usize, expected.len(), "{shown}: entries");
}

#[test]
#[ignore]
fn signature_base_iocs() {
    let dir = shared().join("signature-base/iocs");
    let set = load(&dir);
    report(&set);
    for name in ["hash-iocs.txt", "filename-iocs.txt", "c2-iocs.txt"] {
        let p = dir.join(name);
        assert_all_accounted(&set, &p, &data_lines(&p, 0));
    }
    let c = set.counts();
    // Distinct values, counted with sort -u over the first column (hashes lowercased).
    assert_eq!((c[&K::Md5], c[&K::Sha1], c[&K::Sha256]), (986, 893, 1174));
    assert_eq!((c[&K::Ip], c[&K::Domain]), (118, 1655));
    assert_eq!(c[&K::FileNameRegex], 3711);
    let hash = set.files.iter().find(|f| f.path.ends_with("hash-iocs.txt")).unwrap();
    assert_eq!(hash.entries, 3224);
    assert_eq!(hash.problems, 0);
    let fname = set.files.iter().find(|f| f.path.ends_with("filename-iocs.txt")).unwrap();
    assert_eq!(fname.entries, 3828);
    assert_eq!(fname.problems, 0, "every signature-base filename regex runs in Rust");
    let c2 = set.files.iter().find(|f| f.path.ends_with("c2-iocs.txt")).unwrap();
    assert_eq!(c2.entries, 1844);
    // README.txt is noted as documentation; keywords.txt is not a Loki IOC type exsweep reads.
    assert!(set.ignored.iter().any(|n| n.path.ends_with("README.txt")));
    assert!(set.problems.iter().any(|p| p.path.ends_with("keywords.txt") && p.line.is_none()));
    let hafnium = set.get(K::Sha256, "b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0").unwrap();
    assert_eq!(hafnium.actors, vec!["HAFNIUM"]);
    let tick = set.get(K::FileNameRegex, r"\\inetpub\\wwwroot\\aspnet_client\\aspnet\.aspx").unwrap();
    assert_eq!(tick.actors, vec!["Tick"]);
}

#[test]
#[ignore]
fn mstic_copy() {
    let dir = shared().join("ioc/mstic");
    println!("{}", std::fs::read_to_string(dir.join("SOURCE")).unwrap_or_default().trim());
    let set = load(&dir);
    report(&set);
    let p = dir.join("MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021.csv");
    assert_all_accounted(&set, &p, &data_lines(&p, 1));
    // This copy is commit 03ba89f6 (last row 2021-03-16): 61 rows, 14 sha256 and 47 filepath, of
    // which 42 distinct paths (shell.aspx, Server.aspx and owa\auth log/logg/logout twice).
    let f = &set.files[0];
    assert_eq!(f.entries, 61);
    assert_eq!(f.counts[&K::Sha256], 14);
    assert_eq!(f.counts[&K::FilePath], 47);
    let c = set.counts();
    assert_eq!((c[&K::Sha256], c[&K::FilePath], c[&K::Domain]), (14, 42, 0));
    assert!(set.problems.is_empty());
    assert_eq!(f.licence.as_deref(), Some("TLP:WHITE (per row)"));
    // Every row of this copy is in the built-in pack (which has the later, 152-row version).
    let pack = exsweep_intel::pack::builtin();
    for i in set.indicators() {
        assert!(pack.get(i.kind, &i.value).is_some(), "{} {} not in the pack", i.kind, i.value);
    }
}

#[test]
#[ignore]
fn eset() {
    let dir = shared().join("ioc/eset");
    let set = load(&dir);
    report(&set);
    let base = dir.join("exchange_exploitation");
    for n in ["samples.md5", "samples.sha1", "samples.sha256"] {
        let p = base.join(n);
        assert_all_accounted(&set, &p, &data_lines(&p, 0));
    }
    let readme = base.join("README.adoc");
    let text = std::fs::read_to_string(&readme).unwrap();
    let rows: BTreeSet<u64> =
        text.lines().enumerate().filter(|(_, l)| l.starts_with("|`")).map(|(i, _)| i as u64 + 1).collect();
    assert_all_accounted(&set, &readme, &rows);
    let file = |suffix: &str| set.files.iter().find(|f| f.path.ends_with(suffix)).unwrap();
    let r = file("README.adoc");
    assert_eq!((r.counts[&K::Sha1], r.counts[&K::Ip], r.counts[&K::Domain]), (23, 7, 10));
    for s in ["samples.md5", "samples.sha1", "samples.sha256"] {
        assert_eq!(file(s).indicators(), 23, "{s}");
    }
    let c = set.counts();
    assert_eq!((c[&K::Md5], c[&K::Sha1], c[&K::Sha256]), (23, 23, 23));
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    assert!(r.licence.as_deref().unwrap_or("").starts_with("BSD-2-Clause"));
    // Every README SHA-1 is attributed, and the pack agrees with the README.
    let pack = exsweep_intel::pack::builtin();
    for i in set.indicators().iter().filter(|i| i.kind == K::Sha1 || i.kind == K::Ip || i.kind == K::Domain) {
        assert_eq!(i.actors.len(), 1, "{} {:?}", i.value, i.actors);
        assert_eq!(pack.get(i.kind, &i.value).map(|p| &p.actors), Some(&i.actors), "{}", i.value);
    }
    for i in set.indicators() {
        assert!(pack.get(i.kind, &i.value).is_some(), "{} not in the pack", i.value);
    }
}

#[test]
#[ignore]
fn volexity() {
    let dir = shared().join("ioc/volexity");
    let set = load(&dir);
    report(&set);
    let p = dir.join("exchange-marauder/indicators.csv");
    assert_all_accounted(&set, &p, &data_lines(&p, 1));
    let c = set.counts();
    assert_eq!(c[&K::Ip], 13);
    // yara.yar is YARA, not an IOC list: reported, not read.
    assert!(set.problems.iter().any(|p| p.path.ends_with("yara.yar")));
    assert!(set.files[0].licence.as_deref().unwrap_or("").starts_with("BSD-2-Clause"));
    let pack = exsweep_intel::pack::builtin();
    for i in set.indicators() {
        assert!(pack.get(i.kind, &i.value).is_some(), "{} not in the pack", i.value);
    }
}

#[test]
#[ignore]
fn chirp() {
    let dir = shared().join("ioc/cisa-chirp");
    let set = load(&dir);
    report(&set);
    let f = set.files.iter().find(|f| f.path.ends_with("AA21062A.yaml")).unwrap();
    let text = std::fs::read_to_string(&f.path).unwrap();
    let docs = text.lines().filter(|l| l.trim_end() == "---").count();
    assert_eq!(docs, 11);
    assert_eq!(f.entries, 11);
    // 1 network document (15 IPs), 8 YARA rules, 2 event regexes: every document gives something.
    assert_eq!((f.counts[&K::Ip], f.counts[&K::YaraRule], f.counts[&K::EventRegex]), (15, 8, 2));
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    assert!(f.licence.as_deref().unwrap_or("").starts_with("CC0-1.0"));
    let rules: Vec<String> = set.yara_rules().map(|r| r.attrs["rule_name"].clone()).collect();
    println!("  YARA rules: {rules:?}");
    assert_eq!(set.get(K::Ip, "91.192.103.43").unwrap().actors, vec!["HAFNIUM"]);
}

#[test]
#[ignore]
fn whole_ioc_folder_and_builtin_pack() {
    let mut set = IocSet::with_builtin();
    let before = set.len();
    set.add_path(&shared().join("ioc")).unwrap();
    set.add_path(&shared().join("signature-base/iocs")).unwrap();
    println!("built-in {before}, with the shared feeds {} indicators: {:?}", set.len(), set.counts());
    for p in &set.problems {
        println!("  problem: {p}");
    }
    let t = Instant::now();
    let fc = IocFileCheck::new(&set);
    let nd = NetworkIocDetector::new(&set);
    println!(
        "built the file check ({} indicators, {} regexes without literal) and the network detector ({}) in {:?}",
        fc.len(),
        fc.unfiltered_regexes(),
        nd.len(),
        t.elapsed()
    );
}

/// Deterministic Windows paths: Exchange, IIS, system and user folders, names that hit and miss.
fn paths(n: usize) -> Vec<String> {
    let dirs = [
        r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth",
        r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\15.1.2176",
        r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\ecp\auth",
        r"C:\Program Files\Microsoft\Exchange Server\V15\ClientAccess\ecp\DDI",
        r"C:\Program Files\Microsoft\Exchange Server\V15\Bin",
        r"C:\inetpub\wwwroot\aspnet_client\system_web",
        r"C:\inetpub\wwwroot\aspnet_client",
        r"C:\Windows\System32",
        r"C:\Windows\SysWOW64\wbem",
        r"C:\Windows\Temp",
        r"C:\Users\Administrator\AppData\Local\Temp",
        r"C:\Users\Public",
        r"C:\ProgramData\Microsoft\Windows Defender\Scans",
        r"C:\ProgramData",
        r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\owa\a1b2c3d4",
        r"D:\Backup\Exchange\Logs",
    ];
    let names = [
        "logon.aspx",
        "web.config",
        "Microsoft.Exchange.Data.dll",
        "svchost.exe",
        "lsass.dmp",
        "shell.aspx",
        "abcd1234.aspx",
        "readme.txt",
        "it.zip",
        "procdump64.exe",
        "mimikatz.exe",
        "App_Web_x1y2z3.dll",
        "TimeoutLogout.aspx",
        "setup.log",
        "cmd.exe",
        "nc.exe",
        "owafont_ja.css",
        "errorFE.aspx",
        "xx.bat",
        "Dump.exe",
    ];
    (0..n)
        .map(|i| {
            format!("{}\\sub{}\\{}", dirs[i % dirs.len()], (i / dirs.len()) % 13, names[(i * 7 + i / 3) % names.len()])
        })
        .collect()
}

#[test]
#[ignore]
fn filename_regex_speed_and_prefilter_agreement() {
    let t = Instant::now();
    let set = load(&shared().join("signature-base/iocs"));
    let load_time = t.elapsed();
    let t = Instant::now();
    let check = IocFileCheck::new(&set);
    let build = t.elapsed();
    let ps = paths(50_000);
    // Direct paths too, not only below sub folders.
    let mut ps2: Vec<String> = ps.iter().map(|p| p.replace(r"\sub0\", r"\")).collect();
    ps2.truncate(50_000);
    let t = Instant::now();
    let mut hits = 0usize;
    for p in &ps2 {
        hits += check.match_path_regexes(p).len();
    }
    let first = t.elapsed();
    let t = Instant::now();
    for p in &ps2 {
        hits += check.match_path_regexes(p).len();
    }
    let second = t.elapsed();
    println!(
        "signature-base loaded in {load_time:?}; file check built in {build:?} ({} indicators, {} of {} regexes without literal); \
         50,000 paths: {first:?} (first pass, regexes compiled on first use), {second:?} (second pass); {} hits per pass",
        check.len(),
        check.unfiltered_regexes(),
        set.counts()[&K::FileNameRegex],
        hits / 2
    );
    // The figure is printed for the record; speed is judged by `exsweep bench --sweep`, not here.
    assert!(hits > 0, "signature-base's filename IOCs match some of the generated paths");
    // The prefilter changes nothing: compare with running every regex on a sample.
    let regexes = exsweep_intel::matcher::pathre::PathRegexes::new(
        set.indicators().iter().enumerate().filter(|(_, i)| i.kind == K::FileNameRegex),
    );
    let t = Instant::now();
    let mut differ = 0;
    let mut with_hits = 0;
    for p in ps2.iter().step_by(25) {
        let (mut fast, mut errs) = (Vec::new(), Vec::new());
        regexes.matches(p, &mut fast, &mut errs);
        let slow = regexes.matches_brute(p);
        with_hits += usize::from(!slow.is_empty());
        if fast != slow {
            differ += 1;
            println!("  differs on {p}: {fast:?} vs {slow:?}");
        }
    }
    println!("prefilter vs every regex on 2,000 paths ({with_hits} with hits): {differ} differ ({:?})", t.elapsed());
    assert_eq!(differ, 0);
}
