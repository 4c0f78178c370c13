//! On the synthetic server, the March 2021 SU is installed while the logs are written: the scan
//! learns both builds from the log headers, dates the update between the last log of the old
//! build and the first of the new, and tells each ProxyLogon finding before or after it, as the
//! ground truth says.

use serde_json::Value;
use std::process::Command;

fn exsweep(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_exsweep")).args(args).output().expect("run exsweep")
}

#[test]
fn the_patch_is_dated_and_findings_say_before_or_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = exsweep(&["fixtures", dir.path().to_str().unwrap(), "--scale", "0.05"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let source = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let truth: Value = serde_json::from_slice(&std::fs::read(dir.path().join("truth.json")).unwrap()).unwrap();
    let patch = &truth["patch"];
    assert_eq!(patch["fixed_build"], "15.01.2176.009");
    let installed = patch["installed_at"].as_str().unwrap().to_string();

    let inventory = dir.path().join("hosts.json");
    let out = exsweep(&["scan", &source, "--format", "jsonl", "--quiet", "--inventory", inventory.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let findings: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let hosts: Value = serde_json::from_slice(&std::fs::read(&inventory).unwrap()).unwrap();
    let history: Vec<&str> =
        hosts[0]["build_history"].as_array().unwrap().iter().map(|b| b["build"].as_str().unwrap()).collect();
    assert_eq!(history, [patch["open_build"].as_str().unwrap(), "15.01.2176.009"]);

    // Dated from the headers: the old build's last record before the install, the new build's
    // first record after it.
    let patched = findings
        .iter()
        .find(|f| f["rule_id"] == "EXS-VULN-PATCHED" && f["extra"]["group"] == "proxylogon")
        .expect("the ProxyLogon update is seen");
    let between = patched["extra"]["patched_between"].as_array().unwrap();
    let (a, b) = (between[0].as_str().unwrap(), between[1].as_str().unwrap());
    assert!(a < installed.as_str() && installed.as_str() <= b, "{a} < {installed} <= {b}");

    // Every ProxyLogon activity finding with a time says before or after, by the truth's time.
    let mut seen = (0, 0);
    for f in findings.iter().filter(|f| {
        f["cves"].as_array().unwrap().iter().any(|c| c == "CVE-2021-26855" || c == "CVE-2021-27065")
            && f["category"] != "vulnerability"
            && f["time"].is_string()
    }) {
        let t = f["time"].as_str().unwrap();
        let state = f["extra"]["patch"]["state"].as_str().unwrap_or_else(|| panic!("no patch state: {f}"));
        let want = if t < a {
            "before_patch"
        } else if t >= b {
            "after_patch"
        } else {
            "in_patch_window"
        };
        assert_eq!(state, want, "{} at {t}", f["rule_id"]);
        if t < installed.as_str() {
            seen.0 += 1;
        } else {
            seen.1 += 1;
        }
    }
    assert!(seen.0 > 0 && seen.1 > 0, "findings on both sides of the update: {seen:?}");

    // ExSetup.exe's file version tells the installed build (the one after the update).
    let installed = findings.iter().find(|f| f["rule_id"] == "EXS-BUILD-INSTALLED").expect("ExSetup.exe version");
    assert_eq!(installed["extra"]["build"], "15.1.2176.9");
    assert!(installed["path"].as_str().unwrap().ends_with("Bin/ExSetup.exe"));

    // The build in use after the update still leaves ProxyShell open; ProxyLogon is not reported
    // as open.
    let open: Vec<&Value> = findings.iter().filter(|f| f["rule_id"] == "EXS-VULN-OPEN").collect();
    assert!(open.iter().any(|f| f["extra"]["group"] == "proxyshell"));
    assert!(open.iter().all(|f| f["extra"]["group"] != "proxylogon"));
}
