//! SigmaHQ's own regression suite, read through exsweep's EVTX reader and routing: each test's
//! rule must fire on its sample at least `match_count` times. Also loads the whole SigmaHQ tree
//! and reports what loads and what does not. Needs `../shared/data` (set `EXSWEEP_SHARED`); run by
//! `.ci/run`. The rules are DRL 1.1: they are read where they lie, never copied.

use exsweep_core::read::FileObs;
use exsweep_core::read::events::read_evtx;
use exsweep_sigma::SigmaRules;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn sigma_dir() -> PathBuf {
    let shared = std::env::var_os("EXSWEEP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    let dir = shared.join("data/sigma");
    assert!(dir.is_dir(), "{} not found (set EXSWEEP_SHARED)", dir.display());
    dir
}

fn rule_folders(sigma: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(sigma)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("rules")))
        .collect();
    v.sort();
    v
}

/// One regression test: its `regression_tests_info` entry (an EVTX sample), or, when that is
/// commented out or not EVTX, the raw sample beside it.
struct Case {
    info: PathBuf,
    rule_id: String,
    evtx: Option<PathBuf>,
    match_count: usize,
    /// A raw text sample, for tests whose entry is commented out (or is not EVTX).
    raw: Option<PathBuf>,
}

fn cases(sigma: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(sigma.join("regression_data")).sort_by_file_name().into_iter().flatten() {
        if e.file_name() != "info.yml" {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap();
        // Commented-out lines are not part of the test.
        let live: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
        let value =
            |key: &str| live.iter().find_map(|l| l.trim_start().strip_prefix(key).map(|v| v.trim().to_string()));
        let rule_id = value("- id:").unwrap_or_default();
        let evtx = value("path:").filter(|p| p.ends_with(".evtx")).map(|p| sigma.join(p));
        let match_count = value("match_count:").and_then(|c| c.parse().ok()).unwrap_or(1);
        let raw = text.lines().find_map(|l| {
            let p = l.trim_start_matches(|c: char| c == '#' || c.is_whitespace()).strip_prefix("path:")?.trim();
            p.ends_with(".raw").then(|| sigma.join(p))
        });
        out.push(Case { info: e.path().to_path_buf(), rule_id, evtx, match_count, raw });
    }
    out
}

/// The rule file of every rule id in the tree.
fn rule_files(sigma: &Path) -> BTreeMap<String, PathBuf> {
    let mut by_id = BTreeMap::new();
    for dir in rule_folders(sigma) {
        for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
            if e.path().extension().is_some_and(|x| x == "yml")
                && let Ok(text) = std::fs::read_to_string(e.path())
            {
                for line in text.lines() {
                    if let Some(id) = line.strip_prefix("id:") {
                        by_id.insert(id.trim().to_string(), e.path().to_path_buf());
                    }
                }
            }
        }
    }
    by_id
}

#[test]
#[ignore = "needs ../shared/data; run by .ci/run"]
fn sigmahq_regression_suite() {
    let sigma = sigma_dir();
    let by_id = rule_files(&sigma);
    let all = cases(&sigma);
    let mut passed = 0;
    let mut failures = Vec::new();
    let mut not_evtx = Vec::new();
    let mut raw_passed = 0;
    for case in &all {
        let Some(rule_path) = by_id.get(&case.rule_id) else {
            failures.push(format!("{}: rule {} not found", case.info.display(), case.rule_id));
            continue;
        };
        let rules = SigmaRules::load(std::slice::from_ref(rule_path));
        let Some(evtx) = &case.evtx else {
            not_evtx.push(case.info.display().to_string());
            // Run the raw sample anyway: each line as a keyword-only record of the rule's logsource.
            if let Some(raw) = &case.raw {
                let text = std::fs::read_to_string(raw).unwrap();
                let spec = &rules.rule(0).logsource;
                let hits: usize = text
                    .lines()
                    .map(|l| {
                        rules.evaluate_text(l, spec).iter().filter(|m| m.id.as_deref() == Some(&case.rule_id)).count()
                    })
                    .sum();
                if hits >= 1 {
                    raw_passed += 1;
                } else {
                    failures.push(format!("{} (raw sample): no match", rule_path.display()));
                }
            }
            continue;
        };
        let mut obs = FileObs::new("EVTX");
        let mut hits = 0usize;
        let mut file = std::fs::File::open(evtx).unwrap();
        let read = read_evtx(&mut file, None, &mut obs, &mut |rec, _| {
            if let Some(ev) = rec.event() {
                hits +=
                    rules.evaluate_event(ev).iter().filter(|m| m.id.as_deref() == Some(case.rule_id.as_str())).count();
            }
        });
        if let Err(e) = read {
            failures.push(format!("{}: {e}", evtx.display()));
        } else if hits >= case.match_count {
            passed += 1;
        } else {
            failures.push(format!(
                "{} ({}): {hits} matches, {} wanted; problems {:?}",
                rule_path.display(),
                case.rule_id,
                case.match_count,
                rules.problems
            ));
        }
    }
    let active = all.len() - not_evtx.len();
    println!(
        "SigmaHQ regression suite: {}/{} pass ({passed}/{active} EVTX tests, {raw_passed}/{} raw samples of tests without an active EVTX entry)",
        passed + raw_passed,
        all.len(),
        not_evtx.len()
    );
    for n in &not_evtx {
        println!("  no active EVTX test (commented out or not EVTX), raw sample run: {n}");
    }
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert!(failures.is_empty(), "{} of {active} regression tests fail", failures.len());
}

#[test]
#[ignore = "needs ../shared/data; run by .ci/run"]
fn whole_sigmahq_tree_loads_with_every_problem_listed() {
    let sigma = sigma_dir();
    let started = std::time::Instant::now();
    let rules = SigmaRules::load(&rule_folders(&sigma));
    let s = rules.stats;
    println!(
        "SigmaHQ tree: {} files, {} rules compiled, {} correlations, {} filters, {} problems, in {:.2} s",
        s.files,
        s.rules,
        s.correlations,
        s.filters,
        rules.problems.len(),
        started.elapsed().as_secs_f64()
    );
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for p in &rules.problems {
        *reasons.entry(p.reason.chars().take(80).collect()).or_default() += 1;
    }
    for (r, n) in &reasons {
        println!("  {n:5}  {r}");
    }
    assert!(s.rules > 3000, "only {} rules compiled", s.rules);
    // Every problem of this tree is an `expand` placeholder without a value: given values (as
    // `--sigma-placeholders` does), every rule compiles.
    // (A rule names its first missing placeholder only: repeat until none is missing.)
    let mut values = exsweep_sigma::Placeholders::new();
    let mut problems = rules.problems.clone();
    let mut all = rules;
    for _ in 0..5 {
        for p in &problems {
            let name = p.reason.split('%').nth(1).unwrap_or_else(|| panic!("not a placeholder problem: {p:?}"));
            values.insert(name.to_string(), vec![format!("value-of-{name}")]);
        }
        all = SigmaRules::load_with(&rule_folders(&sigma), values.clone());
        problems = all.problems.clone();
        if problems.is_empty() {
            break;
        }
    }
    println!("with placeholder values: {} rules compiled, {} problems", all.stats.rules, all.problems.len());
    assert!(all.problems.is_empty(), "{:?}", all.problems);
    assert_eq!(all.stats.rules, s.files);
}
