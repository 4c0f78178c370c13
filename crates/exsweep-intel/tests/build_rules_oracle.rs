//! For every row of the research notes' build table (`../shared/knowledge/exchange-builds.md`
//! §2), the verdict of the embedded rules equals the one the notes' own rule text (§3.1
//! ProxyLogon, §3.2 ProxyShell, §3.5 ProxyNotShell) implies, read here by an independent parser
//! of that text. Also checks that the embedded table is the notes' table. Needs the notes:
//! `EXSWEEP_SHARED=../shared cargo test -p exsweep-intel --test build_rules_oracle -- --ignored`.

use exsweep_intel::builds::{self, Build, Status, table};
use regex::Regex;
use std::path::PathBuf;

fn notes() -> String {
    let root = PathBuf::from(std::env::var("EXSWEEP_SHARED").expect("EXSWEEP_SHARED must point at ../shared"));
    std::fs::read_to_string(root.join("knowledge/exchange-builds.md")).expect("exchange-builds.md")
}

/// The fenced block that follows the first line containing `after`.
fn block_after<'a>(text: &'a str, after: &str) -> &'a str {
    let at = text.find(after).unwrap_or_else(|| panic!("{after:?} not in the notes"));
    let open = at + text[at..].find("```").unwrap();
    let body = open + text[open..].find('\n').unwrap() + 1;
    let close = body + text[body..].find("```").unwrap();
    &text[body..close]
}

/// A product's fixed builds as the notes write them: (from-CU bounds, (CU, revision, HC's
/// revision where it differs)).
#[derive(Default, Debug, Clone)]
struct OracleRule {
    /// "all builds" (Exchange SE for ProxyNotShell).
    all: bool,
    from_cu: Vec<u32>,
    on_cu: Vec<(u32, u32, Option<u32>)>,
}

impl OracleRule {
    fn parse(segment: &str) -> OracleRule {
        let from = Regex::new(r"b\s*>=\s*(\d+)").unwrap();
        let on = Regex::new(r"(?:b=)?(\d+)(?:\s*\([^)]*\))?\s*r>=(\d+)(?:\s*\[HC:\s*(\d+)\])?").unwrap();
        let mut r = OracleRule { all: segment.contains("all builds"), ..OracleRule::default() };
        for c in from.captures_iter(segment) {
            r.from_cu.push(c[1].parse().unwrap());
        }
        for c in on.captures_iter(segment) {
            r.on_cu.push((c[1].parse().unwrap(), c[2].parse().unwrap(), c.get(3).map(|m| m.as_str().parse().unwrap())));
        }
        r
    }

    fn verdict(&self, b: &Build) -> Status {
        let rev = b.revision.unwrap();
        if self.all || self.from_cu.iter().any(|&cu| b.build >= cu) {
            return Status::Fixed;
        }
        for &(cu, r, hc) in &self.on_cu {
            if b.build == cu {
                if rev >= r {
                    return Status::Fixed;
                }
                if hc.is_some_and(|h| rev >= h) {
                    return Status::Uncertain;
                }
            }
        }
        Status::Open
    }
}

/// `2013 … | 2016 … | 2019 …` segments of one rule line, by product year.
fn segments(line: &str) -> Vec<(String, OracleRule)> {
    let year = Regex::new(r"^\s*(?:Exchange\s+)?(2010|2013|2016|2019|SE)\b").unwrap();
    line.split('|')
        .filter_map(|seg| {
            let y = year.captures(seg)?[1].to_string();
            let rule = OracleRule::parse(&seg[seg.find(&y).unwrap() + y.len()..]);
            Some((y, rule))
        })
        .collect()
}

struct Group {
    cves: Vec<&'static str>,
    rules: Vec<(String, OracleRule)>,
}

fn groups(text: &str) -> Vec<Group> {
    let mut out = Vec::new();
    // §3.1: one product per line, continuation lines indented.
    let mut logon: Vec<(String, OracleRule)> = Vec::new();
    let mut current = String::new();
    for line in block_after(text, "Rule (fixed iff condition holds").lines() {
        if let Some(rest) = line.strip_prefix("Exchange ") {
            if !current.is_empty() {
                let year = current.split_whitespace().nth(1).unwrap().to_string();
                logon.push((year, OracleRule::parse(&current[current.find(':').unwrap()..])));
            }
            current = format!("Exchange {rest}");
        } else {
            current.push(' ');
            current.push_str(line.trim());
        }
    }
    let year = current.split_whitespace().nth(1).unwrap().to_string();
    logon.push((year, OracleRule::parse(&current[current.find(':').unwrap()..])));
    let (e2010, rest): (Vec<_>, Vec<_>) = logon.into_iter().partition(|(y, _)| y == "2010");
    out.push(Group { cves: vec!["CVE-2021-26855", "CVE-2021-26858", "CVE-2021-27065", "CVE-2021-26857"], rules: rest });
    out.push(Group { cves: vec!["CVE-2021-26857"], rules: e2010 });
    // §3.2 and §3.5: `... fixed iff: 2013 … | 2016 … | 2019 …` lines.
    let shell = block_after(text, "### 3.2 ProxyShell");
    for line in shell.lines() {
        if let Some((head, body)) = line.split_once("fixed iff:") {
            let cves =
                if head.contains("34473") { vec!["CVE-2021-34473", "CVE-2021-34523"] } else { vec!["CVE-2021-31207"] };
            out.push(Group { cves, rules: segments(body) });
        }
    }
    let notshell = block_after(text, "### 3.5 ProxyNotShell");
    let line = notshell.lines().find(|l| l.contains("fixed iff:")).unwrap();
    out.push(Group {
        cves: vec!["CVE-2022-41040", "CVE-2022-41082", "CVE-2022-41080"],
        rules: segments(line.split_once("fixed iff:").unwrap().1),
    });
    out
}

#[test]
#[ignore = "needs ../shared (EXSWEEP_SHARED)"]
fn every_row_of_the_build_table_gets_the_verdict_the_notes_imply() {
    let text = notes();
    // The embedded table is the notes' table.
    let csv = block_after(&text, "Columns: `product, cu_su");
    let embedded: String =
        table::BUILDS_CSV.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
    assert_eq!(embedded, csv, "data/builds/exchange-builds.csv differs from the notes' table");
    let (rows, problems) = table::parse_rows(csv);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(rows.len(), 358);

    let groups = groups(&text);
    assert_eq!(groups.len(), 5, "ProxyLogon (2013–2019, 2010), ProxyShell (two lines), ProxyNotShell");
    // The parser read the rules: ProxyLogon on 2016 is CU20 and later, 12 CUs with their March
    // SU, and HC's two differing revisions.
    let e2016 = &groups[0].rules.iter().find(|(y, _)| y == "2016").unwrap().1;
    assert_eq!((e2016.from_cu.as_slice(), e2016.on_cu.len()), (&[2242][..], 12));
    assert_eq!(e2016.on_cu.iter().filter(|c| c.2.is_some()).count(), 2);
    assert_eq!(groups[1].rules[0].1.from_cu, [513], "2010 SP3 RU32");
    let mut checked = 0;
    let mut by_status = [0usize; 3];
    for row in &rows {
        let a = builds::assess(&row.build).unwrap();
        let year = match row.product.as_str() {
            "Exchange 2010 SP3" => "2010",
            "Exchange SE" => "SE",
            p => p.trim_start_matches("Exchange "),
        };
        for g in &groups {
            // Exchange SE: the 2019 numbering (every listed fix predates SE) unless the line names SE.
            let rule = g
                .rules
                .iter()
                .find(|(y, _)| y == year)
                .or_else(|| (year == "SE").then(|| g.rules.iter().find(|(y, _)| y == "2019")).flatten());
            let Some((_, rule)) = rule else { continue };
            for cve in &g.cves {
                let got = a.cves.iter().find(|v| v.cve == *cve).map(|v| v.status);
                let want = rule.verdict(&row.build);
                assert_eq!(got, Some(want), "{} ({}): {cve}", row.name(), row.build);
                by_status[want as usize] += 1;
                checked += 1;
            }
        }
        if year == "2010" {
            // Exchange 2010 is affected by CVE-2021-26857 only.
            assert!(
                a.cves
                    .iter()
                    .all(|v| !["CVE-2021-26855", "CVE-2021-26858", "CVE-2021-27065"].contains(&v.cve.as_str()))
            );
        }
    }
    eprintln!(
        "{} rows, {checked} verdicts checked: {} open, {} uncertain, {} fixed",
        rows.len(),
        by_status[Status::Open as usize],
        by_status[Status::Uncertain as usize],
        by_status[Status::Fixed as usize]
    );
    // The traps, by the notes' rules as well.
    let v = |b: &str, cve: &str| {
        builds::assess(&Build::parse(b).unwrap()).unwrap().cves.into_iter().find(|v| v.cve == cve).map(|v| v.status)
    };
    assert_eq!(v("15.0.847.64", "CVE-2021-26855"), Some(Status::Fixed), "2013 SP1 March SU");
    assert_eq!(v("15.2.221.18", "CVE-2021-26855"), Some(Status::Fixed), "2019 RTM March SU");
    assert_eq!(v("14.3.509.0", "CVE-2021-26857"), Some(Status::Open), "2010 before RU32");
    assert_eq!(v("15.1.1261.35", "CVE-2021-26855"), Some(Status::Open), "2016 CU7 never got a fix");
}
