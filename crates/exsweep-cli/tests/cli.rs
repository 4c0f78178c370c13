//! The `exsweep` binary: exit codes, output formats per the schema, evidence bundles, refusal to
//! write inside a source, and the demo.

use std::path::Path;
use std::process::{Command, Output};

fn exsweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exsweep")).args(args).output().expect("run exsweep")
}

fn fixture(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["fixtures", dir.to_str().unwrap(), "--scale", "0.03"];
    args.extend_from_slice(extra);
    let out = exsweep(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

const SCHEMA: [&str; 17] = [
    "id",
    "host",
    "time",
    "severity",
    "category",
    "title",
    "rule_id",
    "rule_source",
    "cves",
    "actors",
    "attack",
    "artifact_kind",
    "path",
    "line",
    "record",
    "evidence",
    "sha256",
];

#[test]
fn exit_codes_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let bad = fixture(&dir.path().join("bad"), &[]);
    let clean = fixture(&dir.path().join("clean"), &["--clean", "--host", "EX02"]);

    let out = exsweep(&["scan", &bad, "--format", "jsonl", "--quiet"]);
    assert_eq!(out.status.code(), Some(1), "compromised server: findings at or above high");
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() > 20);
    for v in &lines {
        let o = v.as_object().unwrap();
        for k in SCHEMA {
            assert!(o.contains_key(k), "missing {k} in {v}");
        }
        assert!(matches!(o["severity"].as_str().unwrap(), "critical" | "high" | "medium" | "low" | "info"));
        assert!(o["path"].as_str().unwrap().split('/').all(|c| c != ".."));
    }
    assert!(lines.iter().any(|v| v["rule_id"] == "EXS-26855-SERVERINFO"
        && v["cves"][0] == "CVE-2021-26855"
        && v["attack"][0] == "T1190"));

    // The clean server runs Exchange 2016 CU19 with only the March 2021 SU: no activity, but the
    // CVEs its build leaves open (ProxyShell and later) are high findings.
    let out = exsweep(&["scan", &clean, "--format", "json", "--quiet"]);
    assert_eq!(out.status.code(), Some(1), "clean but not fully patched server");
    let arr: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = arr.as_array().unwrap();
    assert!(arr.iter().all(|v| v["category"] == "coverage" || v["category"] == "vulnerability"));
    assert!(arr.iter().any(
        |v| v["rule_id"] == "EXS-VULN-OPEN" && v["cves"].as_array().unwrap().iter().any(|c| c == "CVE-2021-34473")
    ));
    let out = exsweep(&["scan", &clean, "--format", "json", "--quiet", "--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(0), "clean server, nothing critical");

    let out = exsweep(&["scan", &bad, "--format", "csv", "--quiet", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0));
    let mut r = csv::Reader::from_reader(&out.stdout[..]);
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(&header[..17], &SCHEMA);
    assert_eq!(r.records().count(), lines.len());

    let out = exsweep(&["scan", "/no/such/source"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/source"));
    let out = exsweep(&["scan", &bad, "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));

    // The summary goes to stderr, findings to stdout.
    let out = exsweep(&["scan", &bad, "--format", "jsonl"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Host EX01: COMPROMISED"), "{err}");
    assert!(err.contains("CVE-2021-26855"));
    assert!(err.contains("malicious activity: first 2021-"));
    assert!(err.contains("HttpProxy/Ecp"));
}

#[test]
fn evidence_bundle_is_collected_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture(&dir.path().join("src"), &["--layout", "kape"]);
    let bundle = dir.path().join("bundle");
    let out = exsweep(&["scan", &src, "--quiet", "--collect", bundle.to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    let files = manifest["files"].as_array().unwrap();
    let evidence: Vec<_> = files.iter().filter(|f| f["kind"] == "evidence").collect();
    assert!(evidence.len() >= 5);
    for f in &evidence {
        let p = bundle.join(f["path"].as_str().unwrap());
        let data = std::fs::read(&p).unwrap();
        assert_eq!(data.len() as u64, f["size"].as_u64().unwrap());
        // Copies keep the source-relative path below the host folder.
        assert!(f["path"].as_str().unwrap().starts_with("EX01/C/"), "{}", f["path"]);
        assert_eq!(f["path"].as_str().unwrap(), format!("EX01/{}", f["source_path"].as_str().unwrap()));
    }
    assert!(evidence.iter().any(|f| f["source_path"].as_str().unwrap().ends_with("lsass.dmp")));
    let out = exsweep(&["evidence", "verify", bundle.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    // Tamper with one copy and add a stray file: both are reported.
    let victim = bundle.join(evidence[0]["path"].as_str().unwrap());
    let mut data = std::fs::read(&victim).unwrap();
    data[0] ^= 0x20;
    std::fs::write(&victim, data).unwrap();
    std::fs::write(bundle.join("EX01/stray.txt"), "x").unwrap();
    let out = exsweep(&["evidence", "verify", bundle.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SHA-256"), "{text}");
    assert!(text.contains("stray.txt"), "{text}");
}

#[test]
fn refuses_to_write_inside_a_source() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture(&dir.path().join("src"), &[]);
    for flag in ["--output", "--collect", "--inventory"] {
        let inside = Path::new(&src).join("out");
        let out = exsweep(&["scan", &src, flag, inside.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("never writes inside evidence"));
        assert!(!inside.exists());
    }
}

#[test]
fn demo_runs_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("demo");
    let out = exsweep(&["demo", "--keep", keep.to_str().unwrap(), "--format", "jsonl", "--scale", "0.03"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l.contains("EXS-27065-RESETVDIR")));
    assert!(String::from_utf8_lossy(&out.stderr).contains("COMPROMISED"));
}
