//! Known-good versus unknown: the legitimate server-script names of each Exchange web folder
//! (data/known-good-exchange.tsv, from Microsoft's CSS-Exchange baselines of 2013, 2016 and 2019
//! builds), and the file check that flags a script file in a drop folder whose name Exchange does
//! not ship there, even when no rule matches it, and says when it was written relative to the
//! exploitation window.

use exsweep_core::model::{Category, Finding, RuleMeta, Severity};
use exsweep_core::sweep::{FileCheck, Place, SweptFile, is_script_name};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// The embedded baseline.
pub const BASELINE_TSV: &str = include_str!("../data/known-good-exchange.tsv");

/// Legitimate script names per Exchange web folder.
#[derive(Debug, Default)]
pub struct KnownGood {
    /// Lowercase install-relative folder (`frontend\httpproxy\owa\auth`, version folders as
    /// `version`) → lowercase names of the scripts shipped there (empty: a folder with none).
    folders: HashMap<String, HashSet<String>>,
    /// The builds the baseline was taken from.
    pub builds: Vec<String>,
}

/// A line of the baseline that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaselineProblem {
    pub line: usize,
    pub reason: String,
}

impl KnownGood {
    /// The embedded baseline, parsed once.
    pub fn builtin() -> &'static KnownGood {
        static KG: OnceLock<KnownGood> = OnceLock::new();
        KG.get_or_init(|| KnownGood::parse(BASELINE_TSV).0)
    }

    /// Parses `folder<TAB>name<TAB>builds` lines (`#` comments; name `-` for a folder without
    /// scripts).
    pub fn parse(text: &str) -> (KnownGood, Vec<BaselineProblem>) {
        let mut kg = KnownGood::default();
        let mut problems = Vec::new();
        let mut builds = std::collections::BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [folder, name, seen] = cols[..] else {
                problems.push(BaselineProblem {
                    line: i + 1,
                    reason: format!("expected 3 tab-separated columns, got {}", cols.len()),
                });
                continue;
            };
            for b in seen.split(',').map(str::trim).filter(|b| !b.is_empty()) {
                builds.insert(b.to_string());
            }
            let names = kg.folders.entry(folder_key(folder.split('\\'))).or_default();
            if name != "-" {
                names.insert(name.to_lowercase());
            }
        }
        kg.builds = builds.into_iter().collect();
        (kg, problems)
    }

    /// `Some(true)` when `name` is shipped in `folder`, `Some(false)` when the folder is known
    /// and the name is not, `None` when the baseline does not know the folder.
    pub fn knows(&self, folder: &str, name: &str) -> Option<bool> {
        self.folders.get(folder).map(|names| names.contains(&name.to_lowercase()))
    }

    /// Number of (folder, name) pairs.
    pub fn len(&self) -> usize {
        self.folders.values().map(HashSet::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// True for a version-number folder (`15.2.792.10`) or `Current`, which the baseline writes as
/// `version` (Exchange ships only static resources there).
fn is_version_folder(c: &str) -> bool {
    c.eq_ignore_ascii_case("current")
        || c.eq_ignore_ascii_case("version")
        || (c.contains('.') && c.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
}

/// The lookup key of a folder: lowercase components joined by `\`, version folders as `version`.
fn folder_key<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    parts
        .filter(|p| !p.is_empty())
        .map(|p| if is_version_folder(p) { "version".to_string() } else { p.to_lowercase() })
        .collect::<Vec<_>>()
        .join("\\")
}

pub const RULE_UNKNOWN_SCRIPT: RuleMeta = RuleMeta {
    id: "EXS-FILE-UNKNOWN-SCRIPT",
    title: "Server script that Exchange does not ship in this folder",
    severity: Severity::High,
    category: Category::Webshell,
    cves: &[],
    actors: &[],
    attack: &["T1505.003"],
};

pub const RULE_SCRIPT_OUTSIDE_WEB: RuleMeta = RuleMeta {
    id: "EXS-FILE-SCRIPT-STAGED",
    title: "Server script staged outside the web folders",
    severity: Severity::Low,
    category: Category::Webshell,
    cves: &[],
    actors: &[],
    attack: &["T1505.003", "T1074.001"],
};

pub const RULE_AUTH_FILE_IN_WINDOW: RuleMeta = RuleMeta {
    id: "EXS-FILE-AUTH-MODIFIED",
    title: "Legitimate OWA/ECP logon page rewritten apart from its folder, in or after the exploitation window",
    severity: Severity::Info,
    category: Category::Webshell,
    cves: &[],
    actors: &[],
    attack: &["T1505.003"],
};

/// The unknown-file check.
pub struct UnknownFileCheck {
    baseline: &'static KnownGood,
}

impl Default for UnknownFileCheck {
    fn default() -> Self {
        UnknownFileCheck { baseline: KnownGood::builtin() }
    }
}

impl UnknownFileCheck {
    pub fn new(baseline: &'static KnownGood) -> UnknownFileCheck {
        UnknownFileCheck { baseline }
    }
}

/// The install-relative folder of a file in an Exchange web place.
fn exchange_folder(place: Place, below: &[String]) -> Option<String> {
    let root: &[&str] = match place {
        Place::OwaAuth => &["frontend", "httpproxy", "owa", "auth"],
        Place::EcpAuth => &["frontend", "httpproxy", "ecp", "auth"],
        Place::HttpProxy => &["frontend", "httpproxy"],
        Place::ClientAccess => &["clientaccess"],
        _ => return None,
    };
    let dirs = &below[..below.len().saturating_sub(1)];
    Some(folder_key(root.iter().copied().chain(dirs.iter().map(String::as_str))))
}

/// True when `file` has a name Exchange ships in its web folder (by the embedded baseline).
pub fn is_shipped(file: &SweptFile<'_>) -> bool {
    let Some(located) = file.located else { return false };
    exchange_folder(located.place, &located.below)
        .is_some_and(|folder| KnownGood::builtin().knows(&folder, file.name()) == Some(true))
}

impl FileCheck for UnknownFileCheck {
    fn check(&self, file: &SweptFile<'_>, out: &mut Vec<Finding>) {
        let name = file.name();
        let Some(located) = file.located else { return };
        if !is_script_name(name) {
            return;
        }
        let written = file.entry.mtime;
        let in_window = written.is_some_and(|t| t >= file.window_start);
        let when = match written {
            Some(t) if in_window => {
                format!("written {t}, in or after the exploitation window (from {})", file.window_start.date_string())
            }
            Some(t) => format!("written {t}, before the exploitation window"),
            None => "write time unknown".to_string(),
        };
        let place = located.place;
        let verdict = match place {
            Place::AspnetClient => {
                Some((Severity::High, "aspnet_client holds no server scripts on a clean server".to_string()))
            }
            Place::OwaAuth | Place::EcpAuth | Place::HttpProxy | Place::ClientAccess => {
                let folder = exchange_folder(place, &located.below).unwrap_or_default();
                match self.baseline.knows(&folder, name) {
                    Some(true) => {
                        // A shipped name: its content is for the rules; a logon page rewritten
                        // during the window is still worth a look (web shells hid in them).
                        if in_window && file.stands_out_in_folder() && matches!(place, Place::OwaAuth | Place::EcpAuth)
                        {
                            let mut f = file.finding(&RULE_AUTH_FILE_IN_WINDOW).with_evidence(&format!(
                                "{} ({} bytes, {when}; the other files of its folder date from {}); compare its hash with Microsoft's baseline for the build",
                                file.windows_path,
                                file.entry.size,
                                file.folder_mtime.map(|t| t.to_string()).unwrap_or_default()
                            ));
                            f.title = format!("{}: {}", RULE_AUTH_FILE_IN_WINDOW.title, file.windows_path);
                            out.push(f);
                        }
                        None
                    }
                    Some(false) => {
                        let strict = matches!(place, Place::OwaAuth | Place::EcpAuth) || folder.contains("\\version");
                        let sev = if strict || in_window { Severity::High } else { Severity::Medium };
                        Some((
                            sev,
                            format!(
                                "not among the {} script(s) Exchange ships in {folder}",
                                self.baseline.folders.get(&folder).map_or(0, HashSet::len)
                            ),
                        ))
                    }
                    None => Some((
                        if in_window { Severity::High } else { Severity::Medium },
                        format!("in {folder}, a folder Exchange's baseline does not have"),
                    )),
                }
            }
            Place::TempAspNet | Place::Elsewhere => None,
            Place::ProgramData | Place::WindowsTemp | Place::Root | Place::UsersPublic => {
                let mut f = file.finding(&RULE_SCRIPT_OUTSIDE_WEB).with_evidence(&format!(
                    "{} ({} bytes, {when}): a server script in {}",
                    file.windows_path,
                    file.entry.size,
                    place.as_str()
                ));
                if in_window {
                    f.severity = Severity::Medium;
                }
                f.title = format!("{}: {}", RULE_SCRIPT_OUTSIDE_WEB.title, file.windows_path);
                out.push(f);
                None
            }
        };
        if let Some((severity, why)) = verdict {
            let mut f = file
                .finding(&RULE_UNKNOWN_SCRIPT)
                .with_evidence(&format!("{} ({} bytes, {when}): {why}", file.windows_path, file.entry.size));
            f.severity = severity;
            f.title = format!("Unknown server script in {}: {}", place.as_str(), file.windows_path);
            f.extra.insert("in_window".into(), in_window.into());
            f.extra.insert("why".into(), why.into());
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_baseline_parses_and_knows_the_auth_folders() {
        let (kg, problems) = KnownGood::parse(BASELINE_TSV);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(kg.len() > 900, "{}", kg.len());
        assert_eq!(kg.builds, ["15.0.1497.12", "15.1.2242.4", "15.2.792.10"]);
        let owa = "frontend\\httpproxy\\owa\\auth";
        for legit in ["logon.aspx", "LOGOFF.ASPX", "errorFE.aspx", "RedirSuiteServiceProxy.aspx", "OutlookCN.aspx"] {
            assert_eq!(kg.knows(owa, legit), Some(true), "{legit}");
        }
        // Look-alikes seen in the wild.
        for fake in ["RedirSuiteServerProxy.aspx", "OutlookEN.aspx", "errorEE.aspx", "ChackCookieEN.aspx"] {
            assert_eq!(kg.knows(owa, fake), Some(false), "{fake}");
        }
        assert_eq!(kg.knows("frontend\\httpproxy\\ecp\\auth", "TimeoutLogout.aspx"), Some(true));
        assert_eq!(kg.knows("frontend\\httpproxy\\ecp\\auth", "TimeoutLogoff.aspx"), Some(false));
        assert_eq!(kg.knows("frontend\\httpproxy\\owa\\auth\\version\\themes\\resources", "logon.aspx"), Some(false));
        assert_eq!(kg.knows("frontend\\httpproxy\\oab", "log.aspx"), Some(false));
        assert_eq!(kg.knows("clientaccess\\owa", "default.aspx"), Some(true));
        assert_eq!(kg.knows("nowhere", "x.aspx"), None);
    }

    #[test]
    fn version_folders_and_bad_lines() {
        assert_eq!(
            folder_key(["FrontEnd", "HttpProxy", "owa", "auth", "15.2.792.10", "themes"].into_iter()),
            "frontend\\httpproxy\\owa\\auth\\version\\themes"
        );
        assert_eq!(folder_key(["owa", "auth", "Current"].into_iter()), "owa\\auth\\version");
        let (kg, problems) = KnownGood::parse("# c\nA\\B\tx.aspx\t15.0.1.1\nbroken line\n");
        assert_eq!(kg.knows("a\\b", "X.ASPX"), Some(true));
        assert_eq!(problems, [BaselineProblem { line: 3, reason: "expected 3 tab-separated columns, got 1".into() }]);
    }
}
