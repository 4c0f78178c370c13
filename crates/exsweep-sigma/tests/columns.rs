//! IIS lines are `category: webserver` records with the Sigma taxonomy names, Exchange log lines
//! are `product: exchange` records under their own column names, and neither is seen by rules of
//! another logsource.

use exsweep_core::model::ArtifactKind;
use exsweep_core::read::delimited::{Dialect, read};
use exsweep_core::read::{FileObs, Gate, ReadOptions, default_header};
use exsweep_sigma::SigmaRules;
use exsweep_sigma::columns::ColumnLog;

const RULES: &str = r#"
title: HAFNIUM Style POST To OWA Resources
id: 00000000-0000-4000-8000-0000000000b1
logsource:
    category: webserver
detection:
    selection:
        cs-method: 'POST'
        cs-uri-query|contains: '/owa/auth/Current/themes/resources/'
    condition: selection
level: high
---
title: Exploit Tool User Agent
id: 00000000-0000-4000-8000-0000000000b2
logsource:
    category: webserver
detection:
    selection:
        cs-user-agent|contains: 'ExchangeServicesClient/0.0.0.0'
    condition: selection
level: high
---
title: Security Keyword logon.css
id: 00000000-0000-4000-8000-0000000000b3
logsource:
    product: windows
    service: security
detection:
    keywords:
        - 'logon.css'
    condition: keywords
level: high
---
title: HttpProxy ServerInfo Cookie
id: 00000000-0000-4000-8000-0000000000b4
logsource:
    product: exchange
    service: httpproxy
detection:
    selection:
        AnchorMailbox|startswith: 'ServerInfo~'
    condition: selection
level: critical
"#;

/// Titles of the rules that fire on each record of a log, by line.
fn hunt(text: &str, dialect: Dialect, kind: ArtifactKind, log: ColumnLog) -> Vec<(u64, String)> {
    let mut rules = SigmaRules::new();
    rules.add_yaml(RULES, "inline");
    assert!(rules.problems.is_empty(), "{:?}", rules.problems);
    let gate = Gate { all: true, ..Gate::default() };
    let mut obs = FileObs::new("log");
    let mut out = Vec::new();
    let default = default_header(kind);
    let mut input = text.as_bytes();
    read(&mut input, dialect, default.as_ref(), false, &gate, &ReadOptions::default(), &mut obs, &mut |rec, _| {
        for m in rules.evaluate_columns(rec, log) {
            out.push((rec.line.unwrap(), m.title));
        }
    })
    .unwrap();
    out
}

#[test]
fn iis_lines_are_webserver_records() {
    let log = "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n\
2021-03-03 06:47:55 10.0.1.31 POST /owa/auth/Current/themes/resources/logon.css &CorrelationID=<empty>; 443 - 130.255.189.21 ExchangeServicesClient/0.0.0.0 - 200 0 0 187\n\
2021-03-03 06:48:00 10.0.1.31 GET /owa/auth/Current/themes/resources/logon.css - 443 - 10.1.2.3 Mozilla/5.0 - 200 0 0 5\n";
    let hits = hunt(log, Dialect::W3c, ArtifactKind::IisW3c, ColumnLog::Iis);
    assert_eq!(
        hits,
        vec![(3, "HAFNIUM Style POST To OWA Resources".to_string()), (3, "Exploit Tool User Agent".to_string()),],
        "the GET and the Security keyword rule do not fire"
    );
}

#[test]
fn httpproxy_lines_are_exchange_records() {
    let log = "#Software: Microsoft Exchange Server\n#Version: 15.01.2176.002\n#Log-type: HttpProxy Logs\n#Fields: DateTime,RequestId,UrlStem,AnchorMailbox,UserAgent\n\
2021-03-03T06:49:42.162Z,1,/ecp/y.js,ServerInfo~a]@ex01.contoso.local:444/autodiscover/autodiscover.xml?#,ExchangeServicesClient/0.0.0.0\n\
2021-03-03T06:49:43.000Z,2,/owa/service.svc,Smtp~alice@contoso.com,Mozilla/5.0\n";
    let hits = hunt(log, Dialect::ExchangeCsv, ArtifactKind::Httpproxy, ColumnLog::Exchange("httpproxy"));
    assert_eq!(hits, vec![(5, "HttpProxy ServerInfo Cookie".to_string())], "webserver rules do not see HttpProxy");
}
