//! File checks by location and name: Test-ProxyLogon's `Get-SuspiciousFile` (LSASS dumps under
//! `C:\root` and `%WINDIR%\Temp`, archives under `%ProgramData%`). The script looks for them only
//! after another hit; exsweep always reports them, and the correlation step lowers their severity
//! when nothing else was found on the host.

use crate::model::{Category, RuleMeta, Severity};
use crate::source::LogicalPath;

pub const RULE_LSASS_DUMP: RuleMeta = RuleMeta {
    id: "EXS-FILE-LSASS-DUMP",
    title: "LSASS memory dump on disk (credential theft)",
    severity: Severity::High,
    category: Category::PostExploitation,
    cves: &[],
    actors: &[],
    attack: &["T1003.001"],
};
pub const RULE_ARCHIVE: RuleMeta = RuleMeta {
    id: "EXS-FILE-ARCHIVE-PROGRAMDATA",
    title: "Archive under ProgramData (staging for exfiltration)",
    severity: Severity::Medium,
    category: Category::PostExploitation,
    cves: &[],
    actors: &[],
    attack: &["T1560.001", "T1074.001"],
};

/// The file rule a path falls under, if any. Needs a path anchored at a drive root.
pub fn file_rule(lp: &LogicalPath) -> Option<&'static RuleMeta> {
    if !lp.anchored || lp.parts.len() < 2 {
        return None;
    }
    let name = lp.file_name();
    // `Get-ChildItem -Recurse -Filter 'lsass.*dmp'` / the issue's `lsass*.dmp`: both are covered.
    if name.starts_with("lsass")
        && name.ends_with("dmp")
        && (lp.starts_with(&["root"]) || lp.starts_with(&["windows", "temp"]))
    {
        return Some(&RULE_LSASS_DUMP);
    }
    if lp.starts_with(&["programdata"]) && [".7z", ".zip", ".rar"].iter().any(|e| name.ends_with(e)) {
        return Some(&RULE_ARCHIVE);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lp(parts: &[&str], anchored: bool) -> LogicalPath {
        LogicalPath { drive: Some('c'), parts: parts.iter().map(|s| s.to_string()).collect(), anchored }
    }

    #[test]
    fn rules_by_location() {
        assert_eq!(file_rule(&lp(&["windows", "temp", "lsass.dmp"], true)).unwrap().id, "EXS-FILE-LSASS-DUMP");
        assert_eq!(file_rule(&lp(&["root", "x", "lsass.exe.dmp"], true)).unwrap().id, "EXS-FILE-LSASS-DUMP");
        assert!(file_rule(&lp(&["windows", "temp", "lsass-notes.txt"], true)).is_none());
        assert!(file_rule(&lp(&["users", "public", "lsass.dmp"], true)).is_none());
        assert_eq!(file_rule(&lp(&["programdata", "it.zip"], true)).unwrap().id, "EXS-FILE-ARCHIVE-PROGRAMDATA");
        assert_eq!(
            file_rule(&lp(&["programdata", "a", "b", "pst.7z"], true)).unwrap().id,
            "EXS-FILE-ARCHIVE-PROGRAMDATA"
        );
        assert!(file_rule(&lp(&["users", "public", "report.zip"], true)).is_none());
        assert!(file_rule(&lp(&["windows", "temp", "lsass.dmp"], false)).is_none());
    }
}
