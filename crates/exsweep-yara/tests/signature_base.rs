//! signature-base (`$EXSWEEP_SHARED/data/signature-base/yara`) loads with the Loki externals:
//! how many rule files compile, and the others listed with their reasons. Run from `.ci/run`:
//! `EXSWEEP_SHARED=../shared cargo test -p exsweep-yara --test signature_base -- --ignored --nocapture`.

use exsweep_yara::{LoadOptions, YaraRules};
use std::path::PathBuf;

fn shared() -> Option<PathBuf> {
    std::env::var_os("EXSWEEP_SHARED").map(PathBuf::from).filter(|p| p.join("data/signature-base/yara").is_dir())
}

#[test]
#[ignore = "needs ../shared (EXSWEEP_SHARED)"]
fn signature_base_loads() {
    let Some(root) = shared() else { panic!("EXSWEEP_SHARED must point at ../shared") };
    let dir = root.join("data/signature-base/yara");
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "yar" || x == "yara"))
        .count();
    let started = std::time::Instant::now();
    let rules = YaraRules::load(&LoadOptions { builtin: false, paths: vec![dir.clone()], ..Default::default() });
    let took = started.elapsed();
    println!(
        "signature-base: {} rule files, {} compile, {} with problems; {} rules in {:.1} s",
        rules.stats.files,
        rules.stats.compiled,
        rules.problems.len(),
        rules.len(),
        took.as_secs_f64()
    );
    for p in &rules.problems {
        println!("  {}: {}", p.path.rsplit('/').next().unwrap_or(&p.path), p.reason);
    }
    assert_eq!(rules.stats.files, files, "every rule file is read");
    assert_eq!(rules.stats.compiled + rules.problems.len(), files, "each file compiles or is listed with a reason");
    assert!(rules.stats.compiled * 100 >= files * 95, "at least 95% of signature-base compiles");
    assert!(rules.len() > 3000, "signature-base has thousands of rules: {}", rules.len());
    assert!(rules.problems.iter().all(|p| !p.reason.is_empty()));
}
