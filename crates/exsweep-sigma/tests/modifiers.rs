//! The Sigma v2 value modifiers and condition forms, each on an event that must match and one
//! that must not, evaluated through exsweep's event records and routing.

use exsweep_core::record::EventRecord;
use exsweep_sigma::SigmaRules;

fn sysmon1(data: &[(&str, &str)]) -> EventRecord {
    EventRecord {
        record_id: Some(1),
        channel: "Microsoft-Windows-Sysmon/Operational".into(),
        provider: "Microsoft-Windows-Sysmon".into(),
        event_id: Some(1),
        computer: "EX01".into(),
        data: data.iter().map(|(k, v)| (Some(k.to_string()), v.to_string())).collect(),
        ..EventRecord::default()
    }
}

/// (case, detection block, fields of an event that matches, fields of one that does not)
type Case =
    (&'static str, &'static str, &'static [(&'static str, &'static str)], &'static [(&'static str, &'static str)]);

const CASES: &[Case] = &[
    (
        "contains",
        "sel:\n    CommandLine|contains: 'whoami'\ncondition: sel",
        &[("CommandLine", "cmd /c WHOAMI /all")],
        &[("CommandLine", "cmd /c dir")],
    ),
    (
        "startswith",
        "sel:\n    Image|startswith: 'C:\\Windows\\'\ncondition: sel",
        &[("Image", "c:\\windows\\x.exe")],
        &[("Image", "D:\\Windows\\x.exe")],
    ),
    (
        "endswith",
        "sel:\n    Image|endswith: '\\cmd.exe'\ncondition: sel",
        &[("Image", "C:\\x\\CMD.EXE")],
        &[("Image", "C:\\x\\cmd.exe.bak")],
    ),
    (
        "all",
        "sel:\n    CommandLine|contains|all:\n        - 'net'\n        - 'user'\ncondition: sel",
        &[("CommandLine", "net user /add x")],
        &[("CommandLine", "net share")],
    ),
    (
        "re",
        "sel:\n    CommandLine|re: '^cmd /c [a-z]+$'\ncondition: sel",
        &[("CommandLine", "cmd /c dir")],
        &[("CommandLine", "cmd /c DIR")],
    ),
    (
        "re|i",
        "sel:\n    CommandLine|re|i: '^cmd /c [a-z]+$'\ncondition: sel",
        &[("CommandLine", "CMD /c DIR")],
        &[("CommandLine", "cmd /c 123")],
    ),
    (
        "re|m",
        "sel:\n    CommandLine|re|m: '^second$'\ncondition: sel",
        &[("CommandLine", "first\nsecond")],
        &[("CommandLine", "first second")],
    ),
    ("re|s", "sel:\n    CommandLine|re|s: 'a.b'\ncondition: sel", &[("CommandLine", "a\nb")], &[("CommandLine", "ab")]),
    (
        "base64",
        "sel:\n    CommandLine|base64: 'whoami'\ncondition: sel",
        &[("CommandLine", "d2hvYW1p")],
        &[("CommandLine", "whoami")],
    ),
    (
        "base64offset|contains",
        "sel:\n    CommandLine|base64offset|contains: 'http://'\ncondition: sel",
        &[("CommandLine", "x aHR0cDovL2V2aWw= y")],
        &[("CommandLine", "http://evil")],
    ),
    (
        "wide|base64offset|contains",
        "sel:\n    CommandLine|wide|base64offset|contains: 'IEX'\ncondition: sel",
        &[("CommandLine", "-enc SQBFAFgA")],
        &[("CommandLine", "-enc SUVY")],
    ),
    (
        "utf16le|base64offset|contains",
        "sel:\n    CommandLine|utf16le|base64offset|contains: 'IEX'\ncondition: sel",
        &[("CommandLine", "-enc SQBFAFgA")],
        &[("CommandLine", "-enc SUVY")],
    ),
    (
        "utf16be|base64offset|contains",
        "sel:\n    CommandLine|utf16be|base64offset|contains: 'IEX'\ncondition: sel",
        &[(
            "CommandLine",
            "-e AHgAIABJAEUAWAAgACgATgBlAHcALQBPAGIAagBlAGMAdAAgAE4AZQB0AC4AVwBlAGIAQwBsAGkAZQBuAHQAKQ==",
        )],
        &[("CommandLine", "-e SQBFAFgA")],
    ),
    (
        "utf16|base64offset|contains (byte order mark)",
        "sel:\n    CommandLine|utf16|base64offset|contains: 'IEX'\ncondition: sel",
        &[("CommandLine", "-e //5JAEUAWAAgACgATgBlAHcALQBPAGIAagBlAGMAdAAgAE4AZQB0AC4AVwBlAGIAQwBsAGkAZQBuAHQAKQA=")],
        &[("CommandLine", "-e SQBFAFgA")],
    ),
    (
        "windash|contains|all (each value through any dash)",
        "sel:\n    CommandLine|windash|contains|all:\n        - ' -a '\n        - ' -b '\ncondition: sel",
        &[("CommandLine", "x /a –b y")],
        &[("CommandLine", "x /a y")],
    ),
    (
        "base64offset|contains|all (each value at any offset)",
        "sel:\n    CommandLine|base64offset|contains|all:\n        - 'http://'\n        - 'evil'\ncondition: sel",
        &[("CommandLine", "powershell -e aHR0cDovL2V2aWwuY29tL2V2aWw=")],
        &[("CommandLine", "powershell -e aHR0cDovL2dvb2QuY29t")],
    ),
    (
        "windash",
        "sel:\n    CommandLine|windash|contains: ' -enc '\ncondition: sel",
        &[("CommandLine", "powershell /enc abc")],
        &[("CommandLine", "powershell enc abc")],
    ),
    (
        "cidr",
        "sel:\n    SourceIp|cidr: '10.0.0.0/8'\ncondition: sel",
        &[("SourceIp", "10.1.2.3")],
        &[("SourceIp", "192.168.1.1")],
    ),
    ("gt", "sel:\n    Count|gt: 10\ncondition: sel", &[("Count", "11")], &[("Count", "10")]),
    ("gte", "sel:\n    Count|gte: 10\ncondition: sel", &[("Count", "10")], &[("Count", "9")]),
    ("lt", "sel:\n    Count|lt: 10\ncondition: sel", &[("Count", "9")], &[("Count", "10")]),
    ("lte", "sel:\n    Count|lte: 10\ncondition: sel", &[("Count", "10")], &[("Count", "11")]),
    ("exists", "sel:\n    Hashes|exists: true\ncondition: sel", &[("Hashes", "SHA256=AB")], &[("Other", "x")]),
    (
        "fieldref",
        "sel:\n    ParentImage|fieldref: Image\ncondition: sel",
        &[("Image", "C:\\a.exe"), ("ParentImage", "C:\\a.exe")],
        &[("Image", "C:\\a.exe"), ("ParentImage", "C:\\b.exe")],
    ),
    (
        "cased",
        "sel:\n    CommandLine|cased|contains: 'WhoAmI'\ncondition: sel",
        &[("CommandLine", "x WhoAmI")],
        &[("CommandLine", "x whoami")],
    ),
    ("neq", "sel:\n    User|neq: 'SYSTEM'\ncondition: sel", &[("User", "alice")], &[("User", "SYSTEM")]),
    (
        "null",
        "sel:\n    Image|endswith: '.exe'\n    Description: null\ncondition: sel",
        &[("Image", "a.exe")],
        &[("Image", "a.exe"), ("Description", "d")],
    ),
    (
        "wildcards",
        "sel:\n    Image: 'C:\\\\*\\cmd.ex?'\ncondition: sel",
        &[("Image", "C:\\Windows\\cmd.exe")],
        &[("Image", "C:\\Windows\\cmd.exe2")],
    ),
    (
        "escaped wildcard",
        "sel:\n    CommandLine: 'echo \\*'\ncondition: sel",
        &[("CommandLine", "echo *")],
        &[("CommandLine", "echo x")],
    ),
    (
        "keywords",
        "keywords:\n    - 'mimikatz'\ncondition: keywords",
        &[("CommandLine", "x MIMIKATZ y")],
        &[("CommandLine", "x")],
    ),
    (
        "1 of pattern",
        "sel_a:\n    Image|endswith: '\\a.exe'\nsel_b:\n    Image|endswith: '\\b.exe'\ncondition: 1 of sel_*",
        &[("Image", "C:\\b.exe")],
        &[("Image", "C:\\c.exe")],
    ),
    (
        "2 of pattern",
        "sel_a:\n    Image|endswith: '.exe'\nsel_b:\n    CommandLine|contains: 'x'\nsel_c:\n    User: 'eve'\ncondition: 2 of sel_*",
        &[("Image", "a.exe"), ("User", "eve")],
        &[("Image", "a.exe"), ("User", "bob")],
    ),
    (
        "time part",
        "sel:\n    UtcTime|hour|gte: 22\ncondition: sel",
        &[("UtcTime", "2021-03-03 23:10:00.000")],
        &[("UtcTime", "2021-03-03 06:10:00.000")],
    ),
    (
        "all of them",
        "sel_a:\n    Image|endswith: '.exe'\nsel_b:\n    CommandLine|contains: 'x'\ncondition: all of them",
        &[("Image", "a.exe"), ("CommandLine", "x")],
        &[("Image", "a.exe"), ("CommandLine", "y")],
    ),
    (
        "nested boolean",
        "a:\n    Image|endswith: '.exe'\nb:\n    CommandLine|contains: 'x'\nc:\n    User: 'eve'\ncondition: a and (b or c) and not (b and c)",
        &[("Image", "a.exe"), ("User", "eve")],
        &[("Image", "a.exe"), ("User", "eve"), ("CommandLine", "x")],
    ),
];

/// Cases the current engine gets wrong, with why. Each must still fail as described, so that a
/// fix shows up here (and the case moves back to the plain list).
const KNOWN_GAPS: &[(&str, &str)] = &[];

#[test]
fn every_modifier_and_condition_form() {
    let mut failures = Vec::new();
    for (name, detection, yes, no) in CASES {
        let yaml = format!(
            "title: '{name}'\nid: 00000000-0000-4000-8000-000000000c01\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n{}\nlevel: low\n",
            detection.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
        );
        let mut rules = SigmaRules::new();
        rules.add_yaml(&yaml, name);
        if !rules.problems.is_empty() || rules.len() != 1 {
            failures.push(format!("{name}: not loaded: {:?}", rules.problems));
            continue;
        }
        let matched = !rules.evaluate_event(&sysmon1(yes)).is_empty();
        if let Some((_, why)) = KNOWN_GAPS.iter().find(|(gap, _)| gap == name) {
            assert!(!matched, "{name} now matches: remove it from KNOWN_GAPS ({why})");
            println!("known gap: {name}: {why}");
            continue;
        }
        if !matched {
            failures.push(format!("{name}: no match on {yes:?}"));
        }
        if !rules.evaluate_event(&sysmon1(no)).is_empty() {
            failures.push(format!("{name}: matched {no:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases fail:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}
