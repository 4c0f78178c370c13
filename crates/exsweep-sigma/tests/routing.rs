//! A rule only sees records of its logsource: Sysmon 1 and Security 4688 both feed
//! `process_creation` rules (4688 through the Sysmon field names), a Security rule never sees a
//! Sysmon event with the same EventID, a web-server rule never sees an EVTX record, and a keyword
//! rule for MSExchange Management never sees the Application log.

use exsweep_core::record::EventRecord;
use exsweep_sigma::SigmaRules;

fn event(channel: &str, provider: &str, id: u32, data: &[(&str, &str)]) -> EventRecord {
    EventRecord {
        record_id: Some(1),
        channel: channel.into(),
        provider: provider.into(),
        event_id: Some(id),
        computer: "EX01.contoso.local".into(),
        data: data.iter().map(|(k, v)| (Some(k.to_string()), v.to_string())).collect(),
        ..EventRecord::default()
    }
}

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

const RULES: &str = r#"
title: Whoami Execution
id: 00000000-0000-4000-8000-000000000001
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
level: medium
tags:
    - attack.discovery
    - attack.t1033
---
title: Security Log EventID 1 With Image
id: 00000000-0000-4000-8000-000000000002
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 1
        Image|endswith: '\whoami.exe'
    condition: selection
level: high
---
title: Webserver Query With whoami
id: 00000000-0000-4000-8000-000000000003
logsource:
    category: webserver
detection:
    selection:
        cs-uri-query|contains: 'whoami'
    condition: selection
level: high
---
title: Exchange Mailbox Export Keyword
id: 00000000-0000-4000-8000-000000000004
logsource:
    product: windows
    service: msexchange-management
detection:
    keywords:
        - 'New-MailboxExportRequest'
    condition: keywords
level: critical
"#;

fn fired(rules: &SigmaRules, ev: &EventRecord) -> Vec<String> {
    rules.evaluate_event(ev).into_iter().map(|m| m.title).collect()
}

fn rules() -> SigmaRules {
    let mut r = SigmaRules::new();
    r.add_yaml(RULES, "inline");
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.len(), 4);
    r
}

#[test]
fn process_creation_rules_see_sysmon_1_and_security_4688() {
    let r = rules();
    let sysmon1 = event(SYSMON, "Microsoft-Windows-Sysmon", 1, &[("Image", r"C:\Windows\System32\whoami.exe")]);
    assert_eq!(fired(&r, &sysmon1), vec!["Whoami Execution"]);
    let sec4688 = event(
        "Security",
        "Microsoft-Windows-Security-Auditing",
        4688,
        &[("NewProcessName", r"C:\Windows\System32\whoami.exe")],
    );
    assert_eq!(fired(&r, &sec4688), vec!["Whoami Execution"]);
}

#[test]
fn other_event_types_with_the_same_fields_do_not_fire() {
    let r = rules();
    // A Sysmon file event naming whoami.exe is not a process creation.
    let sysmon11 = event(SYSMON, "Microsoft-Windows-Sysmon", 11, &[("Image", r"C:\Windows\System32\whoami.exe")]);
    assert!(fired(&r, &sysmon11).is_empty());
    // A Security 4624 logon with the same field is not either.
    let sec4624 = event("Security", "Microsoft-Windows-Security-Auditing", 4624, &[("Image", r"C:\x\whoami.exe")]);
    assert!(fired(&r, &sec4624).is_empty());
}

#[test]
fn a_security_rule_never_sees_sysmon_and_a_webserver_rule_never_sees_evtx() {
    let r = rules();
    let ev = event(
        SYSMON,
        "Microsoft-Windows-Sysmon",
        1,
        &[("Image", r"C:\Windows\System32\whoami.exe"), ("cs-uri-query", "cmd=whoami")],
    );
    let titles = fired(&r, &ev);
    assert!(!titles.iter().any(|t| t.starts_with("Security Log")), "{titles:?}");
    assert!(!titles.iter().any(|t| t.starts_with("Webserver")), "{titles:?}");
    // The same Security rule does fire on its own channel.
    let sec = event("Security", "Microsoft-Windows-Security-Auditing", 1, &[("Image", r"C:\x\whoami.exe")]);
    assert_eq!(fired(&r, &sec), vec!["Security Log EventID 1 With Image"]);
}

#[test]
fn keyword_rules_match_their_channel_only() {
    let r = rules();
    let mut mgmt = event("MSExchange Management", "MSExchange CmdletLogs", 1, &[]);
    mgmt.data = vec![
        (None, "New-MailboxExportRequest".into()),
        (None, "-Mailbox 'ceo' -FilePath '\\\\ex01\\c$\\x.pst'".into()),
    ];
    assert_eq!(fired(&r, &mgmt), vec!["Exchange Mailbox Export Keyword"]);
    let mut app = mgmt.clone();
    app.channel = "Application".into();
    assert!(fired(&r, &app).is_empty());
}

#[test]
fn broken_rules_are_listed_and_the_others_still_run() {
    let mut r = SigmaRules::new();
    r.add_yaml("title: [unclosed", "bad-yaml.yml");
    r.add_yaml(
        "title: Bad Condition\nlogsource:\n    product: windows\ndetection:\n    sel:\n        EventID: 1\n    condition: sel and (\n",
        "bad-condition.yml",
    );
    r.add_yaml(
        "title: Bad Regex\nlogsource:\n    product: windows\ndetection:\n    sel:\n        CommandLine|re: '(unclosed'\n    condition: sel\n",
        "bad-regex.yml",
    );
    r.add_yaml(
        "title: Unknown Modifier\nlogsource:\n    product: windows\ndetection:\n    sel:\n        CommandLine|nosuchmodifier: 'x'\n    condition: sel\n",
        "bad-modifier.yml",
    );
    // PCRE recursion is beyond both Rust's `regex` and the backtracking fallback.
    r.add_yaml(
        "title: Recursion\nlogsource:\n    product: windows\ndetection:\n    sel:\n        CommandLine|re: 'a(?R)?b'\n    condition: sel\n",
        "recursion.yml",
    );
    r.add_yaml(RULES, "good.yml");
    assert!(
        r.problems.iter().any(|p| p.path == "recursion.yml" && p.reason.contains("does not compile")),
        "{:?}",
        r.problems
    );
    let bad: Vec<&str> = r.problems.iter().map(|p| p.path.as_str()).collect();
    for f in ["bad-yaml.yml", "bad-condition.yml", "bad-regex.yml", "bad-modifier.yml", "recursion.yml"] {
        assert!(bad.contains(&f), "{f} not reported: {:?}", r.problems);
    }
    assert!(r.problems.iter().all(|p| !p.reason.is_empty()));
    assert_eq!(r.len(), 4, "the good rules still load");
    let sysmon1 = event(SYSMON, "Microsoft-Windows-Sysmon", 1, &[("Image", r"C:\Windows\System32\whoami.exe")]);
    assert_eq!(fired(&r, &sysmon1), vec!["Whoami Execution"]);
}

#[test]
fn look_around_and_back_references_run_on_the_backtracking_fallback() {
    let mut r = SigmaRules::new();
    r.add_yaml(
        "title: Look Behind\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        CommandLine|re: '(?<=-e )b(?!ad)'\n    condition: sel\n",
        "look-behind.yml",
    );
    r.add_yaml(
        "title: Back Reference\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        CommandLine|re: '(\\w+) \\1'\n    condition: sel\n",
        "backref.yml",
    );
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    let run = |cmd: &str| fired(&r, &event(SYSMON, "Microsoft-Windows-Sysmon", 1, &[("CommandLine", cmd)]));
    assert_eq!(run("x -e bx"), vec!["Look Behind"]);
    assert!(run("x -e bad").is_empty());
    assert!(run("x -f bx").is_empty());
    assert_eq!(run("echo echo"), vec!["Back Reference"]);
    assert!(run("echo test").is_empty());
}

#[test]
fn the_logsource_table_in_docs_is_the_one_in_code() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/SIGMA_LOGSOURCES.md")).unwrap();
    assert!(
        doc.contains(&exsweep_sigma::logsource::markdown_table()),
        "docs/SIGMA_LOGSOURCES.md is out of date: paste exsweep_sigma::logsource::markdown_table() into it"
    );
}

#[test]
fn filter_rules_narrow_the_rules_they_name() {
    let mut r = SigmaRules::new();
    r.add_yaml(RULES, "rules.yml");
    r.add_yaml(
        r#"title: Admins Run Whoami
logsource:
    category: process_creation
    product: windows
filter:
    rules:
        - 00000000-0000-4000-8000-000000000001
    selection:
        User: 'CONTOSO\admin'
    condition: not selection
"#,
        "filter.yml",
    );
    r.add_yaml(
        "title: Orphan\nlogsource:\n    product: windows\nfilter:\n    rules:\n        - no-such-rule\n    selection:\n        User: x\n    condition: not selection\n",
        "orphan.yml",
    );
    r.finish();
    assert_eq!(r.stats.filters, 2);
    assert_eq!(r.stats.filters_applied, 1);
    assert!(
        r.problems.iter().any(|p| p.path == "orphan.yml" && p.reason.contains("no loaded rule")),
        "{:?}",
        r.problems
    );
    let mut admin = event(SYSMON, "Microsoft-Windows-Sysmon", 1, &[("Image", r"C:\Windows\System32\whoami.exe")]);
    admin.data.push((Some("User".into()), r"CONTOSO\admin".into()));
    assert!(fired(&r, &admin).is_empty(), "the filter removes the admin's run");
    let other = event(
        SYSMON,
        "Microsoft-Windows-Sysmon",
        1,
        &[("Image", r"C:\Windows\System32\whoami.exe"), ("User", r"CONTOSO\eve")],
    );
    assert_eq!(fired(&r, &other), vec!["Whoami Execution"]);
}
