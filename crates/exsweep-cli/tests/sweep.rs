//! The file sweep end to end, through the `exsweep` binary, against the synthetic server's ground
//! truth: in every layout and as a zip, every planted web shell, dump and tool is found by a YARA
//! rule, by hash (a Loki hash list built from the planted files), and — for the renamed and
//! modified copies — by the unknown-file check; legitimate Exchange files and the traps raise
//! nothing; the host is compromised and attributed.

use exsweep_fixtures::generator::{Server, ServerSpec};
use exsweep_fixtures::layout::{Layout, write_tree, write_zip};
use exsweep_fixtures::truth::GroundTruth;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

struct Scan {
    findings: Vec<serde_json::Value>,
    hosts: serde_json::Value,
}

fn scan(source: &Path, hash_list: &Path, cache: &Path) -> Scan {
    let out_dir = tempfile::tempdir().unwrap();
    let inv = out_dir.path().join("inventory.json");
    let out = Command::new(env!("CARGO_BIN_EXE_exsweep"))
        .arg("scan")
        .arg(source)
        .args(["--format", "jsonl", "--fail-on", "never", "--quiet", "--ioc"])
        .arg(hash_list)
        .arg("--inventory")
        .arg(&inv)
        .env("EXSWEEP_CACHE_DIR", cache)
        .output()
        .expect("run exsweep");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let findings = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let hosts = serde_json::from_slice(&std::fs::read(&inv).unwrap()).unwrap();
    Scan { findings, hosts }
}

/// A Loki hash list of every planted file (`SHA256;COMMENT`).
fn hash_list(truth: &GroundTruth, path: &Path) {
    let mut text = String::from("# planted by exsweep-fixtures\n");
    for f in &truth.files_on_disk {
        text.push_str(&format!("{};fixture {} {}\n", f.sha256, f.family, f.variant));
    }
    std::fs::write(path, text).unwrap();
}

fn check(scan: &Scan, truth: &GroundTruth) {
    let layout = &truth.layout;
    let mut at: BTreeMap<&str, Vec<&serde_json::Value>> = BTreeMap::new();
    for f in &scan.findings {
        at.entry(f["path"].as_str().unwrap()).or_default().push(f);
    }
    // Coverage, and vulnerability (the installed build, from ExSetup.exe), are not activity.
    fn activity(f: &serde_json::Value) -> bool {
        f["category"] != "coverage" && f["category"] != "vulnerability"
    }
    let mut missing = Vec::new();
    for d in &truth.files_on_disk {
        let here: Vec<&serde_json::Value> = at.get(d.path.as_str()).cloned().unwrap_or_default();
        for how in &d.expect {
            let found = match how.as_str() {
                "rule" => here.iter().any(|f| f["rule_source"] == "yara"),
                "hash" => here.iter().any(|f| f["rule_id"] == "EXS-IOC-HASH" && f["sha256"] == d.sha256.as_str()),
                "unknown" => here.iter().any(|f| f["rule_id"] == "EXS-FILE-UNKNOWN-SCRIPT"),
                other => panic!("unknown expectation {other}"),
            };
            if !found {
                missing.push(format!("{} ({} {}) not found by {how}", d.path, d.family, d.variant));
            }
        }
        // Every file finding carries the three hashes.
        for f in here.iter().filter(|f| f["artifact_kind"] == "file" && f["category"] != "coverage") {
            assert_eq!(f["sha256"], d.sha256.as_str(), "{layout}: {}", d.path);
            assert_eq!(f["extra"]["md5"].as_str().map(str::len), Some(32));
            assert_eq!(f["extra"]["sha1"].as_str().map(str::len), Some(40));
        }
    }
    assert!(missing.is_empty(), "{layout}:\n{}", missing.join("\n"));
    // Nothing fires on a legitimate Exchange file, a trap, or any other file.
    let planted: BTreeSet<&str> = truth.files_on_disk.iter().map(|d| d.path.as_str()).collect();
    for legit in &truth.legit_files {
        let fired: Vec<_> =
            at.get(legit.as_str()).into_iter().flatten().filter(|f| activity(f)).map(|f| &f["rule_id"]).collect();
        assert!(fired.is_empty(), "{layout}: legitimate file {legit} raised {fired:?}");
    }
    let strays: Vec<_> = scan
        .findings
        .iter()
        .filter(|f| f["artifact_kind"] == "file" && activity(f) && !planted.contains(f["path"].as_str().unwrap()))
        .map(|f| (f["rule_id"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    assert!(strays.is_empty(), "{layout}: file findings outside the planted files: {strays:#?}");
    let host = &scan.hosts[0];
    assert_eq!(host["verdict"], "compromised");
    assert!(host["files_swept"].as_u64().unwrap() >= truth.files_on_disk.len() as u64);
    let actors: Vec<&str> = host["actors"].as_array().unwrap().iter().map(|a| a["actor"].as_str().unwrap()).collect();
    assert_eq!(actors.first(), Some(&"HAFNIUM"), "{layout}: {actors:?}");
    let hafnium = &host["actors"][0];
    assert!(hafnium["evidence"].as_u64().unwrap() > 20);
    assert!(hafnium["first_seen"].as_str().unwrap() <= hafnium["last_seen"].as_str().unwrap());
}

#[test]
fn planted_files_are_found_in_every_layout_and_zip_and_legitimate_ones_raise_nothing() {
    let server = Server::new(ServerSpec { seed: 7, scale: 0.02, ..ServerSpec::default() });
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let mut per_layout = Vec::new();
    for layout in [Layout::Drive, Layout::Kape, Layout::Velociraptor, Layout::VelociraptorNtfs] {
        let tree = dir.path().join(layout.name());
        let truth = write_tree(&server, layout, &tree).unwrap();
        let list = dir.path().join(format!("{}-hash-iocs.txt", layout.name()));
        hash_list(&truth, &list);
        let s = scan(&tree, &list, &cache);
        check(&s, &truth);
        let zip = dir.path().join(format!("{}.zip", layout.name()));
        let ztruth = write_zip(&server, layout, &zip).unwrap();
        let z = scan(&zip, &list, &cache);
        check(&z, &ztruth);
        let files = |s: &Scan| {
            s.findings
                .iter()
                .filter(|f| f["artifact_kind"] == "file")
                .map(|f| (f["rule_id"].to_string(), f["sha256"].to_string()))
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(files(&s), files(&z), "{}: tree and zip sweep alike", layout.name());
        per_layout.push(files(&s));
    }
    assert!(per_layout.windows(2).all(|w| w[0] == w[1]), "the same files are found in every layout");
}

#[test]
fn a_clean_server_sweeps_its_legitimate_files_and_raises_nothing() {
    let server = Server::new(ServerSpec { seed: 8, scale: 0.02, compromised: false, ..ServerSpec::default() });
    let dir = tempfile::tempdir().unwrap();
    let truth = write_tree(&server, Layout::Kape, &dir.path().join("src")).unwrap();
    assert!(truth.files_on_disk.is_empty() && truth.legit_files.len() >= 20);
    let list = dir.path().join("hash-iocs.txt");
    std::fs::write(&list, "# nothing planted\n").unwrap();
    let s = scan(&dir.path().join("src"), &list, &dir.path().join("cache"));
    // Coverage, and the open CVEs of its build (vulnerability), are not activity.
    let activity: Vec<_> = s
        .findings
        .iter()
        .filter(|f| f["category"] != "coverage" && f["category"] != "vulnerability")
        .map(|f| (&f["rule_id"], &f["path"]))
        .collect();
    assert!(activity.is_empty(), "{activity:#?}");
    assert_eq!(s.hosts[0]["verdict"], "no_evidence");
    assert!(s.hosts[0]["files_swept"].as_u64().unwrap() >= truth.legit_files.len() as u64);
}
