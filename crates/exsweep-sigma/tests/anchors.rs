//! The scan's raw-byte prefilters (line anchors for text logs, chunk anchors for EVTX) come from
//! the loaded rules' needles; they must let through every line a rule matches, also where the raw
//! bytes spell a value otherwise than rules read it: W3C's `+` for spaces, CSV's `""` for `"`,
//! and case variants outside ASCII (the Kelvin sign lowers to `k`).

use exsweep_core::{Engine, ScanOptions};
use exsweep_sigma::{SigmaDetector, SigmaRules};

fn hits(root: &std::path::Path, yaml: &str) -> Vec<(String, Option<u64>)> {
    let mut r = SigmaRules::new();
    r.add_yaml(yaml, "anchors.yml");
    r.finish();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    let report = Engine::new(vec![Box::new(SigmaDetector::new(r))])
        .scan(&[root.to_path_buf()], &ScanOptions::default())
        .unwrap();
    report.findings.iter().filter(|f| f.rule_source == "sigma").map(|f| (f.title.clone(), f.line)).collect()
}

#[test]
fn web_lines_with_spaces_kelvin_signs_and_queries_are_let_through() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("inetpub/logs/LogFiles/W3SVC1");
    std::fs::create_dir_all(&logs).unwrap();
    let mut text = String::from(
        "#Software: Microsoft Internet Information Services 8.5\n#Version: 1.0\n#Date: 2021-03-03 00:00:00\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n",
    );
    for i in 0..200 {
        text += &format!(
            "2021-03-03 06:00:{:02} 10.0.1.31 GET /owa/ - 443 - 10.1.2.3 Mozilla/5.0+(Windows) - 200 0 0 1\n",
            i % 60
        );
    }
    text += "2021-03-03 06:10:00 10.0.1.31 GET /owa/ - 443 - 10.1.2.3 \u{212A}iwiTool/1.0 - 200 0 0 1\n";
    text += "2021-03-03 06:10:01 10.0.1.31 GET /owa/ - 443 - 10.1.2.3 Evil+Scanner+2.0 - 200 0 0 1\n";
    text += "2021-03-03 06:10:02 10.0.1.31 GET /owa/auth/logon.aspx cmd=whoami 443 - 10.1.2.3 curl/7.1 - 200 0 0 1\n";
    std::fs::write(logs.join("u_ex210303.log"), text).unwrap();
    let rules = r#"
title: Kiwi tool
logsource: {category: webserver}
detection:
    sel:
        cs-user-agent|contains: 'kiwitool'
    condition: sel
---
title: Scanner with spaces
logsource: {category: webserver}
detection:
    sel:
        cs-user-agent|contains: 'evil scanner 2'
    condition: sel
---
title: Query joined to the path
logsource: {category: webserver}
detection:
    sel:
        cs-uri-query|contains: 'logon.aspx?cmd='
    condition: sel
"#;
    assert_eq!(
        hits(dir.path(), rules),
        vec![
            ("Kiwi tool".to_string(), Some(205)),
            ("Scanner with spaces".to_string(), Some(206)),
            ("Query joined to the path".to_string(), Some(207))
        ]
    );
}

#[test]
fn exchange_csv_lines_with_doubled_quotes_are_let_through() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa");
    std::fs::create_dir_all(&logs).unwrap();
    let mut text = String::from(
        "#Software: Microsoft Exchange Server\r\n#Version: 15.01.2176.002\r\n#Log-type: HttpProxy Logs\r\n#Date: 2021-03-03T06:00:00.000Z\r\n#Fields: DateTime,RequestId,UrlStem,UserAgent,AnchorMailbox\r\n",
    );
    for i in 0..100 {
        text += &format!("2021-03-03T06:00:{:02}.000Z,{i},/owa/service.svc,Mozilla/5.0,Smtp~a@contoso.com\r\n", i % 60);
    }
    text += "2021-03-03T06:02:00.000Z,x,/owa/service.svc,\"Tool \"\"evil\"\" 1.0\",Smtp~a@contoso.com\r\n";
    std::fs::write(logs.join("HttpProxy_2021030306-1.LOG"), text).unwrap();
    let rules = r#"
title: Quoted tool
logsource: {product: exchange, service: httpproxy}
detection:
    sel:
        UserAgent|contains: 'Tool "evil'
    condition: sel
"#;
    assert_eq!(hits(dir.path(), rules), vec![("Quoted tool".to_string(), Some(106))]);
}
