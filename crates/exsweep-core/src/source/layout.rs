//! Source layouts: maps each entry of a drive copy, KAPE output (`C/...`), Velociraptor collection
//! (`uploads/auto/C%3A/...`, `uploads/ntfs/%5C%5C.%5CC%3A/...`) or loose folder to its logical
//! Windows path, and finds the Exchange install folder by its content rather than by its name.
//! All matching is case-insensitive, as on Windows.

use super::Entry;
use std::collections::BTreeMap;

/// Top-level folders of a Windows system drive; the folder holding one of them is a drive root.
const DRIVE_TOP_LEVEL: &[&str] =
    &["windows", "program files", "program files (x86)", "programdata", "inetpub", "users"];

/// An entry's path as Windows would see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogicalPath {
    /// Drive letter (lowercase) when the layout tells it.
    pub drive: Option<char>,
    /// Lowercase, percent-decoded components below the drive root (or below the source root when
    /// no drive root was recognised).
    pub parts: Vec<String>,
    /// True when the path is known to start at a drive root.
    pub anchored: bool,
}

impl LogicalPath {
    /// True when the components `seq` appear, in order and adjacent, somewhere in the path.
    pub fn contains_seq(&self, seq: &[&str]) -> Option<usize> {
        if seq.is_empty() || seq.len() > self.parts.len() {
            return None;
        }
        (0..=self.parts.len() - seq.len()).find(|&i| seq.iter().enumerate().all(|(k, s)| self.parts[i + k] == *s))
    }

    /// True when the path starts (at the drive root) with `seq`.
    pub fn starts_with(&self, seq: &[&str]) -> bool {
        self.anchored && self.parts.len() >= seq.len() && seq.iter().zip(&self.parts).all(|(a, b)| a == b)
    }

    pub fn file_name(&self) -> &str {
        self.parts.last().map(|s| s.as_str()).unwrap_or("")
    }

    /// Name of the parent folder (lowercase).
    pub fn parent_name(&self) -> Option<&str> {
        let n = self.parts.len();
        (n >= 2).then(|| self.parts[n - 2].as_str())
    }
}

/// An Exchange install folder found in a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeInstall {
    /// Components of the install folder in the source (original case, as in the source).
    pub source_prefix: Vec<String>,
    /// Lowercase decoded components, for matching.
    pub prefix_lower: Vec<String>,
    /// The install path as Windows wrote it, with a trailing `\` (`C:\Program Files\...\V15\`),
    /// when the drive root is known.
    pub windows_path: Option<String>,
    /// False when the drive letter of `windows_path` is a guess (`C`): a plain drive copy does not
    /// say which drive it was, and Exchange is often installed on another one.
    pub drive_known: bool,
    /// How many entries vouch for it (log folders, FrontEnd\HttpProxy, ClientAccess, Bin\ExSetup.exe).
    pub votes: usize,
}

impl ExchangeInstall {
    /// The install path for matching against paths Exchange logged: `?:\...\` when the drive
    /// letter is unknown.
    pub fn match_path(&self) -> Option<String> {
        let p = self.windows_path.as_ref()?;
        Some(if self.drive_known { p.clone() } else { format!("?{}", &p[1..]) })
    }

    /// The folder as shown to people: `/`-separated source path.
    pub fn display(&self) -> String {
        self.windows_path.clone().unwrap_or_else(|| self.source_prefix.join("/"))
    }
}

/// What the layout analysis learned about one source.
#[derive(Clone, Debug, Default)]
pub struct SourceLayout {
    /// Drive roots: lowercase decoded source components leading to a drive root, and its letter.
    roots: Vec<(Vec<String>, Option<char>)>,
    /// Exchange installs, most-vouched first.
    pub exchange: Vec<ExchangeInstall>,
}

/// Lowercase, percent-decoded form of one path component.
pub fn normalize_component(c: &str) -> String {
    let decoded = if c.contains('%') {
        percent_encoding::percent_decode_str(c).decode_utf8_lossy().into_owned()
    } else {
        c.to_string()
    };
    decoded.to_lowercase()
}

/// The drive letter a component names: `C:` and `\\.\C:` (both as decoded from Velociraptor).
fn drive_marker(c: &str) -> Option<char> {
    let b = c.as_bytes();
    let letter = match b {
        [l, b':'] => *l,
        [b'\\', b'\\', b'.' | b'?', b'\\', l, b':'] => *l,
        _ => return None,
    };
    letter.is_ascii_alphabetic().then(|| letter.to_ascii_lowercase() as char)
}

fn split(rel_path: &str) -> Vec<&str> {
    rel_path.split('/').filter(|c| !c.is_empty()).collect()
}

impl SourceLayout {
    /// Learns drive roots and Exchange installs from a source's entries.
    pub fn analyze(entries: &[Entry]) -> SourceLayout {
        let mut candidates: BTreeMap<Vec<String>, Option<char>> = BTreeMap::new();
        let mut installs: BTreeMap<Vec<String>, (Vec<String>, usize)> = BTreeMap::new();
        for e in entries {
            let raw = split(&e.rel_path);
            let lower: Vec<String> = raw.iter().map(|c| normalize_component(c)).collect();
            for (i, c) in lower.iter().enumerate() {
                if let Some(d) = drive_marker(c) {
                    candidates.entry(lower[..=i].to_vec()).or_insert(Some(d));
                    break;
                }
                if i + 1 < lower.len() && DRIVE_TOP_LEVEL.contains(&c.as_str()) {
                    let prefix = lower[..i].to_vec();
                    // KAPE writes each drive as a single-letter folder (`C/...`).
                    let drive = prefix
                        .last()
                        .filter(|p| p.len() == 1 && p.as_bytes()[0].is_ascii_alphabetic())
                        .and_then(|p| p.chars().next());
                    candidates.entry(prefix).or_insert(drive);
                    break;
                }
            }
            if let Some(j) = install_marker(&lower) {
                let slot = installs
                    .entry(lower[..j].to_vec())
                    .or_insert_with(|| (raw[..j].iter().map(|s| s.to_string()).collect(), 0));
                slot.1 += 1;
            }
        }
        // Keep only the outermost roots: a `Windows` folder deep inside a profile is not a drive.
        let keys: Vec<Vec<String>> = candidates.keys().cloned().collect();
        let roots: Vec<(Vec<String>, Option<char>)> = candidates
            .into_iter()
            .filter(|(k, _)| !keys.iter().any(|o| o.len() < k.len() && k.starts_with(o)))
            .collect();
        let mut roots = roots;
        // KAPE puts every drive in a single-letter folder side by side (`C/...`, `D/...`): once one
        // of them is a drive root, its single-letter siblings are drive roots too.
        let kape_parents: Vec<Vec<String>> = roots
            .iter()
            .filter(|(r, d)| d.is_some() && r.last().is_some_and(|c| c.len() == 1))
            .map(|(r, _)| r[..r.len() - 1].to_vec())
            .collect();
        if !kape_parents.is_empty() {
            let mut extra = Vec::new();
            for e in entries {
                let lower: Vec<String> = split(&e.rel_path).iter().map(|c| normalize_component(c)).collect();
                for parent in &kape_parents {
                    let n = parent.len();
                    if lower.len() > n + 1 && lower.starts_with(parent) {
                        let c = &lower[n];
                        if c.len() == 1 && c.as_bytes()[0].is_ascii_alphabetic() {
                            let root = lower[..=n].to_vec();
                            if !roots.iter().any(|(r, _)| *r == root) && !extra.iter().any(|(r, _)| *r == root) {
                                extra.push((root, c.chars().next()));
                            }
                        }
                    }
                }
            }
            roots.extend(extra);
        }
        let mut layout = SourceLayout { roots, exchange: Vec::new() };
        let mut exchange: Vec<ExchangeInstall> = installs
            .into_iter()
            .map(|(lower, (orig, votes))| {
                let windows_path = layout.windows_path_of(&lower, &orig);
                let drive_known = layout.root_of(&lower).is_some_and(|(_, d)| d.is_some());
                ExchangeInstall { source_prefix: orig, prefix_lower: lower, windows_path, drive_known, votes }
            })
            .collect();
        exchange.sort_by(|a, b| b.votes.cmp(&a.votes).then(a.prefix_lower.cmp(&b.prefix_lower)));
        layout.exchange = exchange;
        layout
    }

    /// The Windows form (`C:\...\`) of a folder given by its source components.
    fn windows_path_of(&self, lower: &[String], orig: &[String]) -> Option<String> {
        let (root, drive) = self.root_of(lower)?;
        let drive = drive.unwrap_or('c').to_ascii_uppercase();
        let rest: Vec<String> = orig[root.len()..]
            .iter()
            .map(|c| percent_encoding::percent_decode_str(c).decode_utf8_lossy().into_owned())
            .collect();
        let mut s = format!("{drive}:\\");
        for r in rest {
            s.push_str(&r);
            s.push('\\');
        }
        Some(s)
    }

    fn root_of(&self, lower: &[String]) -> Option<(&Vec<String>, Option<char>)> {
        self.roots
            .iter()
            .filter(|(r, _)| lower.len() >= r.len() && lower.starts_with(r))
            .max_by_key(|(r, _)| r.len())
            .map(|(r, d)| (r, *d))
    }

    /// The logical path of an entry.
    pub fn logical(&self, rel_path: &str) -> LogicalPath {
        let lower: Vec<String> = split(rel_path).iter().map(|c| normalize_component(c)).collect();
        match self.root_of(&lower) {
            Some((root, drive)) => {
                let n = root.len();
                LogicalPath { drive, parts: lower[n..].to_vec(), anchored: true }
            }
            None => LogicalPath { drive: None, parts: lower, anchored: false },
        }
    }

    /// The Exchange install an entry lies in, and the entry's components below it (lowercase).
    pub fn in_exchange<'a>(&'a self, rel_path: &str) -> Option<(&'a ExchangeInstall, Vec<String>)> {
        let lower: Vec<String> = split(rel_path).iter().map(|c| normalize_component(c)).collect();
        self.exchange
            .iter()
            .filter(|x| lower.len() > x.prefix_lower.len() && lower.starts_with(&x.prefix_lower))
            .max_by_key(|x| x.prefix_lower.len())
            .map(|x| (x, lower[x.prefix_lower.len()..].to_vec()))
    }

    /// True when a drive root was recognised.
    pub fn has_drive_root(&self) -> bool {
        !self.roots.is_empty()
    }
}

/// Index of the component where an Exchange install's own layout starts, if the path shows one:
/// `Logging\{HttpProxy,ECP,OABGeneratorLog}`, `FrontEnd\HttpProxy`, `ClientAccess\{OAB,ecp,owa}`,
/// `Bin\ExSetup.exe`.
fn install_marker(lower: &[String]) -> Option<usize> {
    for j in 0..lower.len().saturating_sub(1) {
        let (a, b) = (lower[j].as_str(), lower[j + 1].as_str());
        let hit = match a {
            "logging" => matches!(b, "httpproxy" | "ecp" | "oabgeneratorlog"),
            "frontend" => b == "httpproxy",
            "clientaccess" => matches!(b, "oab" | "ecp" | "owa"),
            "bin" => b == "exsetup.exe",
            _ => false,
        };
        // The marker must be followed by more path (a file inside), except for ExSetup.exe itself.
        if hit && (j + 2 < lower.len() || b == "exsetup.exe") {
            return Some(j);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Locator;

    fn entries(paths: &[&str]) -> Vec<Entry> {
        paths
            .iter()
            .map(|p| Entry {
                rel_path: p.to_string(),
                size: 1,
                mtime: None,
                created: None,
                accessed: None,
                locator: Locator::Zip(0),
            })
            .collect()
    }

    #[test]
    fn drive_copy() {
        let e = entries(&[
            "Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/HttpProxy_2021030306-1.LOG",
            "Windows/Temp/lsass.dmp",
            "Users/bob/AppData/Local/Microsoft/Windows/x.dat",
        ]);
        let l = SourceLayout::analyze(&e);
        assert_eq!(l.exchange.len(), 1);
        assert_eq!(l.exchange[0].windows_path.as_deref(), Some("C:\\Program Files\\Microsoft\\Exchange Server\\V15\\"));
        let lp = l.logical("WINDOWS/temp/LSASS.DMP");
        assert!(lp.starts_with(&["windows", "temp"]));
        assert_eq!(lp.file_name(), "lsass.dmp");
    }

    #[test]
    fn kape_and_velociraptor_non_default_install() {
        let e = entries(&[
            "C/Windows/Temp/a.txt",
            "D/Exchange/Logging/ECP/Server/ECPServer20210303-1.LOG",
            "D/Exchange/Bin/ExSetup.exe",
        ]);
        let l = SourceLayout::analyze(&e);
        assert_eq!(l.exchange[0].windows_path.as_deref(), Some("D:\\Exchange\\"), "KAPE sibling drive");
        assert_eq!(l.exchange[0].source_prefix, vec!["D", "Exchange"]);
        assert_eq!(l.exchange[0].votes, 2);

        let v = entries(&[
            "uploads/auto/C%3A/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Ecp/x.LOG",
            "uploads/ntfs/%5C%5C.%5CC%3A/Windows/Temp/lsass.dmp",
            "uploads/auto/D%3A/Exchange/Logging/OABGeneratorLog/a.log",
            "results/Windows.KapeFiles.Targets%2FAll File Metadata.json",
        ]);
        let l = SourceLayout::analyze(&v);
        let paths: Vec<_> = l.exchange.iter().map(|x| x.windows_path.clone().unwrap()).collect();
        assert!(paths.contains(&"C:\\Program Files\\Microsoft\\Exchange Server\\V15\\".to_string()));
        assert!(paths.contains(&"D:\\Exchange\\".to_string()));
        let lp = l.logical("uploads/ntfs/%5C%5C.%5CC%3A/Windows/Temp/lsass.dmp");
        assert!(lp.anchored);
        assert_eq!(lp.drive, Some('c'));
        assert!(lp.starts_with(&["windows", "temp"]));
    }

    #[test]
    fn loose_folder_has_no_root() {
        let e = entries(&["logs/u_ex210303.log", "more/HttpProxy_2021030306-1.LOG"]);
        let l = SourceLayout::analyze(&e);
        assert!(!l.has_drive_root());
        assert!(l.exchange.is_empty());
        assert!(!l.logical("logs/u_ex210303.log").anchored);
    }
}
