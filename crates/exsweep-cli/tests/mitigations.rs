//! Mitigations on disk: EOMT's URL Rewrite rules in `applicationHost.config`, EOMTv2's
//! ProxyNotShell rule, and the traces EOMT and MSERT leave. The build still leaves ProxyLogon
//! open; the finding says it is mitigated, not patched.

use exsweep_core::read::HTTPPROXY_FIELDS;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const APPHOST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <location path="Default Web Site">
    <system.webServer>
      <rewrite>
        <rules>
          <rule name="X-AnonResource-Backend Abort - inbound" stopProcessing="false">
            <match url=".*" />
            <conditions>
              <add input="{HTTP_COOKIE}" pattern="(.*)X-AnonResource-Backend(.*)" />
            </conditions>
            <action type="AbortRequest" />
          </rule>
          <rule name="X-BEResource Abort - inbound" stopProcessing="true">
            <match url=".*" />
            <conditions>
              <add input="{HTTP_COOKIE}" pattern="(.*)X-BEResource=(.+)/(.+)~(.+)" />
            </conditions>
            <action type="AbortRequest" />
          </rule>
          <rule name="PowerShell - inbound">
            <match url=".*" />
            <conditions>
              <add input="{UrlDecode:{REQUEST_URI}}" pattern="(?=.*autodiscover)(?=.*powershell)" />
            </conditions>
            <action type="AbortRequest" />
          </rule>
        </rules>
      </rewrite>
    </system.webServer>
  </location>
</configuration>
"#;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn rewrite_rules_and_eomt_traces_are_reported_as_mitigations() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("EX01");
    let row: Vec<&str> = HTTPPROXY_FIELDS
        .iter()
        .map(|f| match *f {
            "DateTime" => "2021-03-06T06:00:00.000Z",
            "Protocol" => "Owa",
            "UrlStem" => "/owa/service.svc",
            "HttpStatus" => "200",
            "ServerHostName" => "EX01",
            _ => "",
        })
        .collect();
    write(
        &root,
        "C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/HttpProxy_2021030606-1.LOG",
        &format!(
            "#Software: Microsoft Exchange Server\r\n#Version: 15.01.2176.002\r\n#Log-type: HttpProxy Logs\r\n#Date: 2021-03-06T06:00:00.000Z\r\n#Fields: {}\r\n{}\r\n",
            HTTPPROXY_FIELDS.join(","),
            row.join(",")
        ),
    );
    write(&root, "C/Windows/System32/inetsrv/config/applicationHost.config", APPHOST);
    write(
        &root,
        "C/EOMTSummary.txt",
        "Microsoft Safety Scanner is complete.\r\nExchange On-premises Mitigation Tool v21.03.22 ran.\r\n",
    );
    write(
        &root,
        "C/Windows/debug/msert.log",
        "Microsoft Safety Scanner v1.333, (build 1.333.561.0)\r\nResults Summary:\r\n----------------\r\nThreat Detected: Backdoor:ASP/Chopper.F!dha, not removed.\r\n  file://C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx\r\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_exsweep"))
        .args(["scan", root.to_str().unwrap(), "--format", "jsonl", "--quiet"])
        .output()
        .unwrap();
    let findings: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by = |rule: &str| findings.iter().filter(|f| f["rule_id"] == rule).collect::<Vec<_>>();

    let eomt = by("EXS-MITIGATION-EOMT");
    assert_eq!(eomt.len(), 1, "{findings:#?}");
    assert_eq!(eomt[0]["path"], "C/Windows/System32/inetsrv/config/applicationHost.config");
    assert!(eomt[0]["evidence"].as_str().unwrap().contains("X-AnonResource-Backend"));
    assert_eq!(by("EXS-MITIGATION-EOMTV2").len(), 1);
    let ran: Vec<&str> = by("EXS-MITIGATION-EOMT-RAN").iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(ran.contains(&"C/EOMTSummary.txt") && ran.contains(&"C/Windows/debug/msert.log"), "{ran:?}");
    let threat = by("EXS-MSERT-THREAT");
    assert_eq!(threat.len(), 1);
    assert_eq!(threat[0]["line"], 4);
    assert!(threat[0]["title"].as_str().unwrap().contains("Backdoor:ASP/Chopper.F!dha"));

    // The build (CU19 without SUs) leaves ProxyLogon open, mitigated by the rule.
    let logon = findings
        .iter()
        .find(|f| f["rule_id"] == "EXS-VULN-OPEN" && f["extra"]["group"] == "proxylogon")
        .expect("ProxyLogon open by build");
    assert_eq!(logon["extra"]["mitigated_by"], "C/Windows/System32/inetsrv/config/applicationHost.config");
    assert!(logon["title"].as_str().unwrap().contains("mitigated, not patched"));
    let shell =
        findings.iter().find(|f| f["rule_id"] == "EXS-VULN-OPEN" && f["extra"]["group"] == "proxyshell").unwrap();
    assert!(shell["extra"].get("mitigated_by").is_none(), "the rule does nothing against ProxyShell");
}
