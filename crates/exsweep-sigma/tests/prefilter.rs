//! The prefilter never hides a match: for every record, the rules the routed, prefiltered engine
//! reports are exactly those that full evaluation of every rule of the route gives. Checked on
//! tricky hand-made cases (case folding outside ASCII, cased tests, wildcards, keywords, regexes,
//! numbers), on seeded random records built from the rules' own literals, and (with
//! `../shared`) on all SigmaHQ Windows rules over the real EVTX corpus and the generated mix.

use exsweep_core::read::FileObs;
use exsweep_core::read::events::read_evtx;
use exsweep_core::record::EventRecord;
use exsweep_sigma::SigmaRules;
use exsweep_sigma::event::FlatEvent;
use exsweep_sigma::logsource::route_of;
use std::path::PathBuf;

const RULES: &str = r#"
title: Contains Mimikatz
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|contains: 'sekurlsa::'
    condition: sel
---
title: Cased WhoAmI
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|cased|contains: 'WhoAmI'
    condition: sel
---
title: Kelvin
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|contains: 'kelvin'
    condition: sel
---
title: Umlaut
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|contains: 'ÄRGER'
    condition: sel
---
title: Emoji
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|contains: '🔥'
    condition: sel
---
title: Regex Long S
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|re|i: 'pass(word)?s'
    condition: sel
---
title: Glob
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image: 'C:\\*\\rundll32.ex?'
        CommandLine|contains|all:
            - 'javascript:'
            - 'RunHTMLApplication'
    condition: sel
---
title: Keywords
logsource: {product: windows}
detection:
    keywords:
        - 'invoke-mimikatz'
        - 'lsadump::'
    condition: keywords
---
title: Event id only
logsource: {product: windows, service: security}
detection:
    sel:
        EventID: 4688
    condition: sel
---
title: Event id and not
logsource: {product: windows, service: security}
detection:
    sel:
        EventID:
            - 4624
            - 4625
    filter:
        LogonType: 3
    condition: sel and not filter
---
title: Windash Base64
logsource: {product: windows, category: process_creation}
detection:
    sel_flag:
        CommandLine|windash|contains: ' -enc '
    sel_b64:
        CommandLine|wide|base64offset|contains: 'IEX'
    condition: 1 of sel_*
---
title: Regex Schtasks Not
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|contains: '/create'
    filter:
        CommandLine|re: '(?i)schtasks'
    condition: sel and not filter
---
title: Nul Literal
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|cased|contains: "\0EventID=4624"
    condition: sel
---
title: Nothing to anchor
logsource: {product: windows, category: process_creation}
detection:
    sel:
        ProcessId|gt: 60000
    condition: sel
"#;

fn rules() -> SigmaRules {
    let mut r = SigmaRules::new();
    r.add_yaml(RULES, "prefilter.yml");
    r.finish();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    r
}

fn sysmon1(cmd: &str, image: &str) -> EventRecord {
    EventRecord {
        record_id: Some(1),
        channel: "Microsoft-Windows-Sysmon/Operational".into(),
        provider: "Microsoft-Windows-Sysmon".into(),
        event_id: Some(1),
        computer: "EX01".into(),
        data: vec![
            (Some("Image".into()), image.into()),
            (Some("CommandLine".into()), cmd.into()),
            (Some("ProcessId".into()), "4242".into()),
        ],
        ..EventRecord::default()
    }
}

/// Prefiltered and exhaustive evaluation agree; returns the titles that fired.
fn agree(r: &SigmaRules, ev: &EventRecord) -> Vec<String> {
    let flat = FlatEvent::from_event(ev);
    let route = route_of(ev);
    let fast = r.matching(&flat, &route);
    let slow = r.matching_exhaustive(&flat, &route);
    assert_eq!(fast, slow, "prefilter disagrees on {ev:?}");
    assert!(slow.iter().all(|i| r.candidates(&flat, &route).contains(i)));
    fast.iter().map(|&i| r.rule(i).info.title.clone()).collect()
}

#[test]
fn tricky_cases_agree_and_fire() {
    let r = rules();
    let exe = r"C:\Windows\System32\cmd.exe";
    assert_eq!(agree(&r, &sysmon1("x SEKURLSA::msv", exe)), vec!["Contains Mimikatz"]);
    assert_eq!(agree(&r, &sysmon1("whoami", exe)), Vec::<String>::new());
    assert_eq!(agree(&r, &sysmon1("x WhoAmI", exe)), vec!["Cased WhoAmI"]);
    // The Kelvin sign lowercases to an ASCII `k`.
    assert_eq!(agree(&r, &sysmon1("\u{212A}ELVIN", exe)), vec!["Kelvin"]);
    assert_eq!(agree(&r, &sysmon1("großer ärger", exe)), vec!["Umlaut"]);
    assert_eq!(agree(&r, &sysmon1("fire 🔥 here", exe)), vec!["Emoji"]);
    // Long s is a case variant of `s` for a case-insensitive regex.
    assert_eq!(agree(&r, &sysmon1("PASSWORD\u{17F}", exe)), vec!["Regex Long S"]);
    assert_eq!(
        agree(&r, &sysmon1(r#"rundll32 javascript:"\..\mshtml,RunHTMLApplication ""#, r"C:\Windows\rundll32.exe")),
        vec!["Glob"]
    );
    assert_eq!(agree(&r, &sysmon1("x /enc abc", exe)), vec!["Windash Base64"]);
    assert_eq!(agree(&r, &sysmon1("-e SQBFAFgAIAAo", exe)), vec!["Windash Base64"]);
    let mut kw = sysmon1("powershell Invoke-Mimikatz", exe);
    assert_eq!(agree(&r, &kw), vec!["Keywords"]);
    kw.data[2].1 = "70000".into();
    assert_eq!(agree(&r, &kw), vec!["Keywords", "Nothing to anchor"]);
    let sec = |id: u32, logon: &str| EventRecord {
        channel: "Security".into(),
        provider: "Microsoft-Windows-Security-Auditing".into(),
        event_id: Some(id),
        data: vec![(Some("LogonType".into()), logon.into())],
        ..EventRecord::default()
    };
    assert_eq!(agree(&r, &sec(4688, "")), vec!["Event id only"]);
    // Kelvin sign and long s together, for a case-insensitive regex; and a `not` over one.
    assert!(!agree(&r, &sysmon1("schta\u{17F}\u{212A}s /create", exe)).contains(&"Regex Schtasks Not".to_string()));
    assert_eq!(agree(&r, &sysmon1("at /create", exe)), vec!["Regex Schtasks Not"]);
    // A rule literal that looks like the internal event-id needles is just text.
    assert_eq!(agree(&r, &sysmon1("x \0EventID=4624 y", exe)), vec!["Nul Literal"]);
    // Event ids that evaluation reads in hex, or from a data field, are marked for the prefilter too.
    let mut hex = sec(4624, "");
    hex.event_id = None;
    hex.data.push((Some("EventID".into()), "0x1250".into()));
    assert_eq!(agree(&r, &hex), vec!["Event id only"]);
    assert_eq!(agree(&r, &sec(4624, "2")), vec!["Event id and not"]);
    assert!(agree(&r, &sec(4624, "3")).is_empty());
    assert!(agree(&r, &sec(4634, "2")).is_empty());
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

#[test]
fn random_records_built_from_rule_literals_agree() {
    let r = rules();
    let pieces = [
        "sekurlsa::",
        "WhoAmI",
        "whoami",
        "kelvin",
        "\u{212A}elvin",
        "ÄRGER",
        "ärger",
        "🔥",
        "passwords",
        "pa\u{17F}s",
        "javascript:",
        "RunHTMLApplication",
        " -enc ",
        " /enc ",
        " –enc ",
        "SQBFAFgA",
        "invoke-mimikatz",
        "lsadump::",
        "C:\\Windows\\",
        "rundll32.exe",
        "x",
        " ",
        "\\",
        "*",
        "?",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut fired = 0;
    for _ in 0..20_000 {
        let mut cmd = String::new();
        for _ in 0..(rng.next() % 5) {
            let p = rng.pick(&pieces);
            // Random case flips exercise the case-insensitive paths.
            if rng.next().is_multiple_of(2) { cmd.push_str(&p.to_uppercase()) } else { cmd.push_str(p) }
        }
        let image =
            if rng.next().is_multiple_of(3) { r"C:\Windows\rundll32.exe" } else { r"C:\Windows\System32\cmd.exe" };
        let mut ev = sysmon1(&cmd, image);
        ev.data[2].1 = (rng.next() % 70_000).to_string();
        fired += agree(&r, &ev).len();
    }
    assert!(fired > 1_000, "the random records should fire rules ({fired})");
}

fn shared() -> Option<PathBuf> {
    let s = std::env::var_os("EXSWEEP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    s.join("data").is_dir().then_some(s)
}

#[test]
#[ignore = "needs ../shared/data; run by .ci/run"]
fn sigmahq_windows_rules_agree_on_real_and_generated_events() {
    let shared = shared().expect("../shared not found (set EXSWEEP_SHARED)");
    let rules = SigmaRules::load(&[shared.join("data/sigma/rules/windows")]);
    let dir = tempfile::tempdir().unwrap();
    let spec = exsweep_fixtures::winevents::MixSpec { events: 30_000, files: 6, ..Default::default() };
    exsweep_fixtures::winevents::write_mix(dir.path(), &spec).unwrap();
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(shared.join("data/evtx"))
        .into_iter()
        .chain(walkdir::WalkDir::new(dir.path()))
        .flatten()
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("evtx")))
        .collect();
    files.sort();
    let (mut events, mut hits, mut candidates) = (0usize, 0usize, 0usize);
    for f in &files {
        let Ok(mut file) = std::fs::File::open(f) else { continue };
        let mut obs = FileObs::new("EVTX");
        let _ = read_evtx(&mut file, None, &mut obs, &mut |rec, _| {
            let Some(ev) = rec.event() else { return };
            let flat = FlatEvent::from_event(ev);
            let route = route_of(ev);
            let fast = rules.matching(&flat, &route);
            assert_eq!(fast, rules.matching_exhaustive(&flat, &route), "{}: record {:?}", f.display(), ev.record_id);
            events += 1;
            hits += fast.len();
            candidates += rules.candidates(&flat, &route).len();
        });
    }
    println!(
        "prefilter agrees on {events} events from {} files: {hits} hits, {:.2} candidate rules per event",
        files.len(),
        candidates as f64 / events.max(1) as f64
    );
    assert!(events > 30_000 && hits > 0);
}

/// EVTX chunks are skipped when they hold none of the rules' chunk needles (see
/// `rules::textual`): over the real corpus, a scan with that chunk prefilter finds exactly what
/// evaluating every record finds, for every SigmaHQ Windows rule that has chunk needles.
#[test]
#[ignore = "needs ../shared/data; run by .ci/run"]
fn chunk_prefilter_hides_no_sigmahq_hit() {
    use exsweep_core::detect::Detector;
    use exsweep_core::model::ArtifactKind;
    let shared = shared().expect("../shared not found (set EXSWEEP_SHARED)");
    let all = SigmaRules::load(&[shared.join("data/sigma/rules/windows")]);
    let mut files: Vec<PathBuf> =
        all.rules().iter().filter(|r| r.chunk_needles.is_some()).map(|r| PathBuf::from(&r.info.origin)).collect();
    files.dedup();
    let with_needles = SigmaRules::load(&files);
    assert!(with_needles.len() > 200, "only {} rules have chunk needles", with_needles.len());
    let detector = exsweep_sigma::SigmaDetector::new(with_needles);
    let anchors: Vec<String> = detector.anchors_for(ArtifactKind::Evtx).into_iter().map(String::from).collect();
    assert!(!anchors.is_empty(), "the chunk prefilter is on");
    let report = exsweep_core::Engine::new(vec![Box::new(detector)])
        .scan(&[shared.join("data/evtx")], &exsweep_core::ScanOptions::default())
        .unwrap();
    let mut fast: Vec<(String, u64, String)> = report
        .findings
        .iter()
        .filter(|f| f.rule_source == "sigma")
        .map(|f| (f.path.clone(), f.record.unwrap_or(0), f.rule_id.clone()))
        .collect();
    fast.sort();
    let rules = SigmaRules::load(&files);
    let root = shared.join("data/evtx");
    let mut slow = Vec::new();
    for e in walkdir::WalkDir::new(&root).sort_by_file_name().into_iter().flatten() {
        if !e.path().extension().is_some_and(|x| x.eq_ignore_ascii_case("evtx")) {
            continue;
        }
        let rel = e.path().strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        let Ok(mut file) = std::fs::File::open(e.path()) else { continue };
        let mut obs = FileObs::new("EVTX");
        let _ = read_evtx(&mut file, None, &mut obs, &mut |rec, _| {
            let Some(ev) = rec.event() else { return };
            for m in rules.evaluate_event(ev) {
                slow.push((rel.clone(), ev.record_id.unwrap_or(0), m.id.clone().unwrap_or(m.title.clone())));
            }
        });
    }
    slow.sort();
    println!(
        "chunk prefilter: {} rules with chunk needles ({} anchors), {} hits with and without it",
        files.len(),
        anchors.len(),
        fast.len()
    );
    assert!(!slow.is_empty());
    assert_eq!(fast, slow);
}
