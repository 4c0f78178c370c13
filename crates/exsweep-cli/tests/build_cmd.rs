//! `exsweep build`: every spelling of a build gives the same verdicts, names resolve (both
//! builds where the sources disagree), and bad input gets a clear message and exit status 2
//! while the other builds are still assessed.

use serde_json::Value;
use std::process::Command;

fn build(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_exsweep")).arg("build").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let (_, out, err) = build(&a);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"))
}

fn verdict(doc: &Value, cve: &str) -> String {
    doc["cves"].as_array().unwrap().iter().find(|v| v["cve"] == cve).unwrap()["verdict"].as_str().unwrap().to_string()
}

#[test]
fn every_spelling_gives_the_same_verdicts() {
    let docs: Vec<Value> =
        ["15.2.792.10", "15.02.0792.010", "Version 15.2 (Build 792.10)", "Exchange 2019 CU8 Mar21SU"]
            .iter()
            .map(|s| json(&[s]))
            .collect();
    for d in &docs {
        assert_eq!(d["build"], "15.2.792.10");
        assert_eq!(d["build_padded"], "15.02.0792.010");
        assert_eq!(d["known_as"][0]["name"], "Exchange 2019 CU8 Mar21SU");
        assert_eq!(d["known_as"][0]["kb"], "KB5000871");
        assert_eq!(d["cves"], docs[0]["cves"]);
    }
    let d = &docs[0];
    assert_eq!(verdict(d, "CVE-2021-26855"), "fixed");
    assert_eq!(verdict(d, "CVE-2021-34473"), "open");
    let shell = d["cves"].as_array().unwrap().iter().find(|v| v["cve"] == "CVE-2021-34473").unwrap();
    assert_eq!(shell["closes"]["name"], "Exchange 2019 CU8 Apr21SU");
    assert_eq!(shell["closes"]["build"], "15.2.792.13");
    assert_eq!(shell["closes"]["released"], "2021-04-13");
    assert_eq!(shell["closes"]["needs_cu_upgrade"], false);
}

#[test]
fn traps_and_disagreements() {
    // 2013 SP1 with its special March 2021 SU, 2019 RTM with its own: patched for ProxyLogon.
    assert_eq!(verdict(&json(&["15.0.847.64"]), "CVE-2021-26855"), "fixed");
    assert_eq!(verdict(&json(&["15.2.221.18"]), "CVE-2021-27065"), "fixed");
    // Exchange 2010 SP3 RU31 is not patched for CVE-2021-26857; RU32 is.
    assert_eq!(verdict(&json(&["14.3.509.0"]), "CVE-2021-26857"), "open");
    assert_eq!(verdict(&json(&["Exchange 2010 SP3 RU32"]), "CVE-2021-26857"), "fixed");
    // A CU that never got a fix: a CU upgrade closes it.
    let cu7 = json(&["15.1.1261.35"]);
    let v = cu7["cves"].as_array().unwrap().iter().find(|v| v["cve"] == "CVE-2021-26855").unwrap().clone();
    assert_eq!(v["verdict"], "open");
    assert_eq!(v["closes"]["needs_cu_upgrade"], true);
    // The sources disagree on 2016 CU8's March SU: the name gives both builds, one uncertain.
    let both = json(&["Exchange 2016 CU8 Mar21SU"]);
    let list = both.as_array().expect("two builds for one name");
    assert_eq!(list.len(), 2);
    assert_eq!(verdict(&list[0], "CVE-2021-26855"), "uncertain");
    assert_eq!(verdict(&list[1], "CVE-2021-26855"), "fixed");
    let reason = list[0]["cves"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("15.1.1415.10") && reason.contains("15.1.1415.8"), "{reason}");
}

#[test]
fn text_output_bad_input_and_exit_status() {
    let (code, out, _) = build(&["15.2.1544.4"]);
    assert_eq!(code, 1, "CU14 without SUs leaves CVEs open or uncertain");
    assert!(out.contains("Exchange 2019 CU14"), "{out}");
    let (code, out, err) = build(&["not-a-build", "15.2.792.10", "15.9.1.1"]);
    assert_eq!(code, 2);
    assert!(err.contains("\"not-a-build\" is neither an Exchange build"), "{err}");
    assert!(err.contains("\"15.9.1.1\""), "{err}");
    assert!(
        out.contains("15.2.792.10 (15.02.0792.010) = Exchange 2019 CU8 Mar21SU"),
        "the good build is still assessed: {out}"
    );
    // Every row of the table is assessed.
    let all = json(&["--every-known"]);
    assert_eq!(all.as_array().unwrap().len(), 358);
}
