//! The build followed through the log headers: the open CVEs of the build in use become
//! vulnerability findings, the update that closed ProxyLogon is dated from the first log the
//! fixed build wrote, and each exploitation finding says whether it came before or after it.

use exsweep_core::model::Category;
use exsweep_core::read::HTTPPROXY_FIELDS;
use exsweep_core::{Engine, ScanOptions};
use exsweep_intel::builds::posture;
use std::path::Path;

const EX: &str = "Program Files/Microsoft/Exchange Server/V15";

fn row(fields: &[(&str, &str)]) -> String {
    HTTPPROXY_FIELDS
        .iter()
        .map(|f| fields.iter().find(|(k, _)| k == f).map_or("", |(_, v)| *v).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn log(build: &str, time: &str, anchor: &str) -> String {
    format!(
        "#Software: Microsoft Exchange Server\r\n#Version: {build}\r\n#Log-type: HttpProxy Logs\r\n#Date: {time}\r\n#Fields: {}\r\n{}\r\n",
        HTTPPROXY_FIELDS.join(","),
        row(&[
            ("DateTime", time),
            ("Protocol", "Ecp"),
            ("UrlStem", "/ecp/y.js"),
            ("AnchorMailbox", anchor),
            ("HttpStatus", "241"),
            ("Method", "POST"),
            ("ClientIpAddress", "203.0.113.9"),
            ("ServerHostName", "EX01"),
        ])
    )
}

fn write(root: &Path, rel: &str, text: String) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn patch_window_and_before_after_patch() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ssrf = "ServerInfo~a]@ex01.contoso.local:444/ecp/proxyLogon.ecp?#";
    // CU19 without the March SU on the 2nd and 3rd (attacked on the 3rd), CU19 Mar21SU (2176.9)
    // from the 5th, attacked again on the 6th.
    for (day, build, anchor) in [
        (2, "15.01.2176.002", "Smtp~alice@contoso.com"),
        (3, "15.01.2176.002", ssrf),
        (5, "15.01.2176.009", "Smtp~alice@contoso.com"),
        (6, "15.01.2176.009", ssrf),
    ] {
        write(
            root,
            &format!("{EX}/Logging/HttpProxy/Ecp/HttpProxy_202103{day:02}06-1.LOG"),
            log(build, &format!("2021-03-{day:02}T06:00:00.000Z"), anchor),
        );
    }
    let mut report = Engine::default().scan(&[root.to_path_buf()], &ScanOptions::default()).unwrap();
    let host = report.hosts[0].clone();
    assert_eq!(host.build_history.len(), 2);
    let points = posture::patch_points(&host);
    let logon = points.iter().find(|p| p.group == "proxylogon").expect("ProxyLogon patch point");
    assert_eq!((logon.open_build.as_str(), logon.fixed_build.as_str()), ("15.1.2176.2", "15.1.2176.9"));
    assert_eq!(logon.open_until.unwrap().to_string(), "2021-03-03T06:00:00Z");
    assert_eq!(logon.fixed_from.unwrap().to_string(), "2021-03-05T06:00:00Z");

    posture::annotate(&mut report.findings, &report.hosts);
    let ssrf_findings: Vec<_> = report.findings.iter().filter(|f| f.rule_id == "EXS-26855-SERVERINFO").collect();
    assert_eq!(ssrf_findings.len(), 2, "{:?}", report.findings.iter().map(|f| &f.rule_id).collect::<Vec<_>>());
    let state = |day: &str| {
        let f = ssrf_findings.iter().find(|f| f.time.unwrap().to_string().starts_with(day)).unwrap();
        f.extra["patch"]["state"].as_str().unwrap().to_string()
    };
    assert_eq!(state("2021-03-03"), "before_patch");
    assert_eq!(state("2021-03-06"), "after_patch");

    let patched =
        report.findings.iter().find(|f| f.rule_id == "EXS-VULN-PATCHED" && f.extra["group"] == "proxylogon").unwrap();
    assert!(patched.title.contains("between 2021-03-03T06:00:00Z and 2021-03-05T06:00:00Z"), "{}", patched.title);
    assert!(patched.cves.contains(&"CVE-2021-26855".to_string()));
    // The build in use (CU19 Mar21SU) leaves ProxyShell open: a vulnerability finding naming the
    // update that closes it; none for ProxyLogon.
    let vulns: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.category == Category::Vulnerability && f.rule_id != "EXS-VULN-PATCHED")
        .collect();
    assert!(vulns.iter().all(|f| !f.cves.contains(&"CVE-2021-26855".to_string())));
    let shell = vulns
        .iter()
        .find(|f| f.extra["group"] == "proxyshell" && f.cves.contains(&"CVE-2021-34473".to_string()))
        .unwrap();
    assert_eq!(shell.rule_id, "EXS-VULN-OPEN");
    assert!(shell.title.contains("Exchange 2016 CU19 Mar21SU (15.1.2176.9) leaves open ProxyShell"), "{}", shell.title);
    // The group closes with its latest update (CVE-2021-31207 needs May 2021).
    assert!(shell.title.contains("fixed by Exchange 2016 CU19 May21SU (15.1.2176.14"), "{}", shell.title);
    assert!(shell.evidence.contains("#Version: 15.01.2176.009"), "{}", shell.evidence);
    // Vulnerability findings are not activity: the verdict is not changed by them.
    assert!(!Category::Vulnerability.is_activity());
}
