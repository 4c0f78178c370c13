//! The embedded CVE rules (`data/builds/cve-rules.tsv`) and the verdict they give a build: for
//! each CVE, fixed, open or uncertain, and the update that closes it.

use super::table::{self, BuildRow};
use super::version::{Build, Product};
use std::sync::OnceLock;

pub const RULES_TSV: &str = include_str!("../../data/builds/cve-rules.tsv");

/// One clause of a rule: which builds carry the fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clause {
    /// Every build of CU `build` and of later CUs.
    FromCu(u32),
    /// CU `build` from revision `revision` on.
    OnCu { build: u32, revision: u32 },
}

/// The fixed builds of one product, as one source set says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub clauses: Vec<Clause>,
    pub sources: String,
}

/// What a rule says of a build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Says {
    Fixed,
    Open,
    /// Only the CU is known (three-field build) and the fix is an SU on that CU.
    DependsOnSu,
}

impl Rule {
    fn parse(text: &str, sources: &str) -> Result<Rule, String> {
        let mut clauses = Vec::new();
        for c in text.split_whitespace() {
            let num = |s: &str| s.parse::<u32>().map_err(|_| format!("bad number {s:?} in clause {c:?}"));
            clauses.push(match c.strip_prefix(">=") {
                Some(b) => Clause::FromCu(num(b)?),
                None => {
                    let (b, r) = c.split_once('.').ok_or_else(|| format!("bad clause {c:?}"))?;
                    Clause::OnCu { build: num(b)?, revision: num(r)? }
                }
            });
        }
        if clauses.is_empty() {
            return Err("empty rule".into());
        }
        Ok(Rule { clauses, sources: sources.to_string() })
    }

    pub fn says(&self, b: &Build) -> Says {
        let mut depends = false;
        for c in &self.clauses {
            match *c {
                Clause::FromCu(cu) if b.build >= cu => return Says::Fixed,
                Clause::OnCu { build, revision } if b.build == build => match b.revision {
                    Some(r) if r >= revision => return Says::Fixed,
                    Some(_) => {}
                    None => depends = true,
                },
                _ => {}
            }
        }
        if depends { Says::DependsOnSu } else { Says::Open }
    }

    /// The clause that fixes CU `cu`, if the rule names it.
    fn for_cu(&self, cu: u32) -> Option<Clause> {
        self.clauses.iter().copied().find(|c| match *c {
            Clause::OnCu { build, .. } => build == cu,
            Clause::FromCu(b) => cu >= b,
        })
    }

    /// The newest fixed build the rule names (the CU to upgrade to when the server's CU has none).
    fn newest(&self) -> Option<Clause> {
        self.clauses.iter().copied().max_by_key(|c| match *c {
            Clause::FromCu(b) => (b, 0),
            Clause::OnCu { build, revision } => (build, revision),
        })
    }
}

/// One row of the rules: a group of CVEs on one product.
#[derive(Clone, Debug)]
pub struct CveRule {
    pub group: String,
    pub name: String,
    pub cves: Vec<String>,
    /// `2010`, `2013`, `2016` or `2019` (SE shares 2019's rules).
    pub product: String,
    /// The update that carries the fix: `Mar21SU`, `SP3 RU32`.
    pub update: String,
    /// When the CVEs were published.
    pub published: String,
    pub rule: Rule,
    /// What another source says, where it disagrees.
    pub alt: Option<Rule>,
    /// What the fix also needs that a build cannot tell.
    pub condition: String,
    pub note: String,
}

/// The rules as embedded.
pub fn rules() -> &'static [CveRule] {
    static RULES: OnceLock<Vec<CveRule>> = OnceLock::new();
    RULES.get_or_init(|| parse_rules(RULES_TSV).0)
}

/// Parses the rules text: the rows, and a message per row that could not be read.
pub fn parse_rules(text: &str) -> (Vec<CveRule>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.starts_with("group\t") || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 12 {
            problems.push(format!("line {}: {} fields, expected 12", i + 1, f.len()));
            continue;
        }
        let rule = match Rule::parse(f[6], f[7]) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("line {}: rule: {e}", i + 1));
                continue;
            }
        };
        let alt = match f[8].trim() {
            "" => None,
            t => match Rule::parse(t, f[9]) {
                Ok(r) => Some(r),
                Err(e) => {
                    problems.push(format!("line {}: alt_rule: {e}", i + 1));
                    continue;
                }
            },
        };
        if !matches!(f[3], "2010" | "2013" | "2016" | "2019") {
            problems.push(format!("line {}: unknown product {:?}", i + 1, f[3]));
            continue;
        }
        out.push(CveRule {
            group: f[0].into(),
            name: f[1].into(),
            cves: f[2].split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
            product: f[3].into(),
            update: f[4].into(),
            published: f[5].into(),
            rule,
            alt,
            condition: f[10].trim().into(),
            note: f[11].trim().into(),
        });
    }
    (out, problems)
}

/// The verdict on one CVE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Open,
    Uncertain,
    Fixed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Uncertain => "uncertain",
            Status::Fixed => "fixed",
        }
    }
}

/// An update that closes a CVE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// `Exchange 2019 CU8 Mar21SU`, or the CU to upgrade to.
    pub name: String,
    pub build: Build,
    pub released: String,
    pub kb: String,
    /// True when the server's CU has no fix and a CU upgrade is needed first.
    pub needs_cu_upgrade: bool,
}

impl Update {
    /// As `exsweep build --format json` and the vulnerability findings write it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "build": self.build.to_string(),
            "released": self.released,
            "kb": self.kb,
            "needs_cu_upgrade": self.needs_cu_upgrade,
        })
    }
}

/// The verdict on one CVE for one build.
#[derive(Clone, Debug)]
pub struct CveVerdict {
    pub cve: String,
    pub group: &'static str,
    pub name: &'static str,
    pub status: Status,
    /// Why, in a sentence; for "uncertain", what each source says.
    pub reason: String,
    /// The update that closes it (when open or uncertain).
    pub closes: Option<Update>,
    pub published: &'static str,
    pub sources: &'static str,
}

/// Everything the rules say about a build.
#[derive(Clone, Debug)]
pub struct Assessment {
    pub build: Build,
    pub product: Product,
    /// The table's rows for this exact build (empty for a build the sources do not list).
    pub known_as: Vec<&'static BuildRow>,
    /// The first row of the build's CU (its release), when the table lists the CU.
    pub cu: Option<&'static BuildRow>,
    pub cves: Vec<CveVerdict>,
}

impl Assessment {
    /// The CVEs not fixed, worst first (open before uncertain), in rule order.
    pub fn not_fixed(&self) -> impl Iterator<Item = &CveVerdict> {
        self.cves.iter().filter(|v| v.status != Status::Fixed)
    }
}

fn product_prefix(p: Product) -> (u32, u32) {
    match p {
        Product::Exchange2010Old | Product::Exchange2010Sp3 => (14, 3),
        Product::Exchange2013 => (15, 0),
        Product::Exchange2016 => (15, 1),
        Product::Exchange2019 | Product::ExchangeSe => (15, 2),
    }
}

/// The update a clause stands for, named from the build table.
fn update_of(product: Product, clause: Clause, update: &str, needs_cu_upgrade: bool) -> Update {
    let (major, minor) = product_prefix(product);
    let (build, revision) = match clause {
        Clause::OnCu { build, revision } => (build, Some(revision)),
        Clause::FromCu(b) => (b, None),
    };
    let row = match revision {
        Some(r) => table::rows_of(&Build::new(major, minor, build, Some(r))).into_iter().next(),
        None => {
            table::rows().iter().find(|r| r.build.major == major && r.build.minor == minor && r.build.build == build)
        }
    };
    match row {
        Some(r) => {
            Update { name: r.name(), build: r.build, released: r.released.clone(), kb: r.kb.clone(), needs_cu_upgrade }
        }
        None => Update {
            name: format!("{} {update}", product.name()),
            build: Build::new(major, minor, build, revision),
            released: String::new(),
            kb: String::new(),
            needs_cu_upgrade,
        },
    }
}

/// What the rules say about `build`. `None` for a number that is not an Exchange build.
pub fn assess(build: &Build) -> Option<Assessment> {
    let product = build.product()?;
    let key = product.rule_key();
    let mut cves = Vec::new();
    for r in rules().iter().filter(|r| r.product == key) {
        // Exchange 2010 before SP3 gets no fix at all: SP3 and its rollup are the way out.
        let says = |rule: &Rule| if product == Product::Exchange2010Old { Says::Open } else { rule.says(build) };
        let (primary, alt) = (says(&r.rule), r.alt.as_ref().map(says));
        let (mut status, mut reason) = match (primary, alt) {
            (Says::Fixed, None | Some(Says::Fixed)) => (Status::Fixed, format!("fixed from {}", r.update)),
            (Says::Open, None | Some(Says::Open)) => (Status::Open, format!("open: fixed by {}", r.update)),
            (Says::DependsOnSu, _) | (_, Some(Says::DependsOnSu)) => (
                Status::Uncertain,
                format!("the CU is known but not its update level: fixed from {} on this CU", r.update),
            ),
            (_, Some(_)) => {
                let says = |rule: &Rule| match rule.for_cu(build.build) {
                    Some(Clause::OnCu { build: b, revision }) => {
                        format!(
                            "{}: fixed from {}",
                            rule.sources,
                            Build::new(build.major, build.minor, b, Some(revision))
                        )
                    }
                    Some(Clause::FromCu(b)) => format!("{}: fixed on every build from CU build {b}", rule.sources),
                    None => format!("{}: no fix on this CU", rule.sources),
                };
                let alt_rule = r.alt.as_ref().unwrap_or(&r.rule);
                (Status::Uncertain, format!("sources disagree: {}; {}", says(&r.rule), says(alt_rule)))
            }
        };
        if status == Status::Fixed && !r.condition.is_empty() {
            status = Status::Uncertain;
            reason = format!("build carries the fix ({}), which also needs: {}", r.update, r.condition);
        }
        let closes = (status != Status::Fixed)
            .then(|| {
                let strictest = match (&r.alt, primary, alt) {
                    // Where only the other source says open, its (later) update is the safe one.
                    (Some(a), Says::Fixed, Some(Says::Open)) => a,
                    _ => &r.rule,
                };
                if product == Product::Exchange2010Old {
                    return strictest.newest().map(|c| update_of(Product::Exchange2010Sp3, c, &r.update, true));
                }
                match strictest.for_cu(build.build) {
                    Some(c) => Some(update_of(product, c, &r.update, false)),
                    None => strictest.newest().map(|c| update_of(product, c, &r.update, true)),
                }
            })
            .flatten();
        if status == Status::Open && closes.as_ref().is_some_and(|u| u.needs_cu_upgrade) {
            reason = format!("open: this CU never got {}; a CU upgrade is needed", r.update);
        }
        for cve in &r.cves {
            cves.push(CveVerdict {
                cve: cve.clone(),
                group: r.group.as_str(),
                name: r.name.as_str(),
                status,
                reason: reason.clone(),
                closes: closes.clone(),
                published: r.published.as_str(),
                sources: r.rule.sources.as_str(),
            });
        }
    }
    Some(Assessment {
        build: *build,
        product,
        known_as: table::rows_of(build),
        cu: table::cu_row(product, build.build),
        cves,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(build: &str, cve: &str) -> Status {
        let a = assess(&Build::parse(build).unwrap()).unwrap();
        a.cves.iter().find(|v| v.cve == cve).unwrap_or_else(|| panic!("{cve} not assessed for {build}")).status
    }

    #[test]
    fn the_embedded_rules_read_whole_and_name_real_builds() {
        let (rules, problems) = parse_rules(RULES_TSV);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(rules.len() >= 40);
        let prefix = |p: &str| match p {
            "2010" => (14, 3),
            "2013" => (15, 0),
            "2016" => (15, 1),
            _ => (15, 2),
        };
        for r in &rules {
            let (ma, mi) = prefix(&r.product);
            for rule in std::iter::once(&r.rule).chain(r.alt.iter()) {
                for c in &rule.clauses {
                    let known = match *c {
                        Clause::OnCu { build, revision } => {
                            !table::rows_of(&Build::new(ma, mi, build, Some(revision))).is_empty()
                        }
                        Clause::FromCu(b) => {
                            table::rows().iter().any(|x| (x.build.major, x.build.minor, x.build.build) == (ma, mi, b))
                        }
                    };
                    assert!(known, "{} {}: {c:?} is no build of the table", r.group, r.product);
                }
            }
        }
    }

    #[test]
    fn proxylogon_verdicts_and_the_known_traps() {
        // Patched by the March SU on the supported CUs, and by later CUs.
        assert_eq!(status("15.2.792.10", "CVE-2021-26855"), Status::Fixed);
        assert_eq!(status("15.2.792.3", "CVE-2021-26855"), Status::Open);
        assert_eq!(status("15.2.858.5", "CVE-2021-26855"), Status::Fixed);
        // Exchange 2013 SP1 got its own March SU; 2019 RTM too.
        assert_eq!(status("15.0.847.64", "CVE-2021-26855"), Status::Fixed);
        assert_eq!(status("15.0.847.32", "CVE-2021-26855"), Status::Open);
        assert_eq!(status("15.2.221.18", "CVE-2021-26855"), Status::Fixed);
        assert_eq!(status("15.2.221.12", "CVE-2021-26855"), Status::Open);
        // A 2013 CU that never got a fix: open, and only a CU upgrade closes it.
        let a = assess(&Build::parse("15.0.1367.3").unwrap()).unwrap();
        let v = a.cves.iter().find(|v| v.cve == "CVE-2021-26855").unwrap();
        assert_eq!(v.status, Status::Open);
        let u = v.closes.as_ref().unwrap();
        assert!(u.needs_cu_upgrade && u.build.to_string() == "15.0.1497.12", "{u:?}");
        // Exchange 2010: only CVE-2021-26857, fixed by RU32, not by RU31 (a public script's trap).
        assert_eq!(status("14.3.513.0", "CVE-2021-26857"), Status::Fixed);
        assert_eq!(status("14.3.509.0", "CVE-2021-26857"), Status::Open);
        let e2010 = assess(&Build::parse("14.3.509.0").unwrap()).unwrap();
        assert!(e2010.cves.iter().all(|v| v.cve != "CVE-2021-26855"));
        // The sources disagree on 2016 CU8/CU9's March SU build.
        assert_eq!(status("15.1.1415.8", "CVE-2021-26855"), Status::Uncertain);
        assert_eq!(status("15.1.1415.10", "CVE-2021-26855"), Status::Fixed);
        assert_eq!(status("15.1.1466.13", "CVE-2021-26855"), Status::Uncertain);
        assert_eq!(status("15.1.1466.16", "CVE-2021-26855"), Status::Fixed);
        assert_eq!(status("15.1.1261.35", "CVE-2021-26855"), Status::Open);
        // Three fields: the CU is known, the SU is not.
        assert_eq!(status("15.1.2176", "CVE-2021-26855"), Status::Uncertain);
        assert_eq!(status("15.1.2242", "CVE-2021-26855"), Status::Fixed);
        assert_eq!(status("15.1.1261", "CVE-2021-26855"), Status::Open);
    }

    #[test]
    fn later_groups_and_conditions() {
        assert_eq!(status("15.2.858.10", "CVE-2021-34473"), Status::Fixed);
        assert_eq!(status("15.2.858.5", "CVE-2021-34473"), Status::Open);
        // ProxyToken: the CVE record says April, secondary sources July.
        assert_eq!(status("15.2.858.10", "CVE-2021-33766"), Status::Uncertain);
        assert_eq!(status("15.2.858.15", "CVE-2021-33766"), Status::Fixed);
        assert_eq!(status("15.2.2562.17", "CVE-2022-41040"), Status::Fixed);
        assert_eq!(status("15.2.1118.20", "CVE-2022-41082"), Status::Fixed);
        assert_eq!(status("15.2.1118.12", "CVE-2022-41082"), Status::Open);
        // The November 2023 fixes need serialized-data signing, which no build tells.
        assert_eq!(status("15.1.2507.35", "CVE-2023-36050"), Status::Uncertain);
        assert_eq!(status("15.1.2507.31", "CVE-2023-36050"), Status::Open);
        // 2010 before SP3: nothing is fixed.
        assert_eq!(status("14.2.247.5", "CVE-2021-26857"), Status::Open);
    }
}
