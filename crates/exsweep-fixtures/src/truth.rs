//! Ground truth: where each planted indicator and each benign trap is, per layout.
//!
//! Paths are relative to the source root the layout was written to (or the paths inside the zip),
//! `/`-separated and spelled exactly as they appear in the source (Velociraptor escapes included),
//! which is how exsweep reports a finding's `path`. `line` is 1-based in text logs (header lines
//! count); `record` is the EVTX EventRecordID.

use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;

/// Everything a test needs to check a scan of a generated server.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct GroundTruth {
    /// Server name (`EX01`).
    pub host: String,
    /// Layout name (`drive`, `kape`, `velociraptor`, `velociraptor-ntfs`), with `+zip` appended
    /// when the tree was written as one zip file.
    pub layout: String,
    /// One entry per (rule, line): a line that fires several rules is listed once per rule.
    pub indicators: Vec<Planted>,
    /// Benign look-alikes that must raise no finding at all.
    pub traps: Vec<Trap>,
    /// Malicious files on disk (web shells and the like) for file scanning; not checked yet.
    pub files_on_disk: Vec<DiskFile>,
}

/// A planted indicator: `rule_id` must fire at `path` (+ `line` or `record`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Planted {
    pub rule_id: String,
    pub path: String,
    pub line: Option<u64>,
    pub record: Option<u64>,
    pub note: String,
}

/// A benign look-alike at `path` (+ `line` or `record`) that must raise no finding.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Trap {
    pub path: String,
    pub line: Option<u64>,
    pub record: Option<u64>,
    pub note: String,
}

/// A malicious file on disk (`kind`: `webshell`, `lsass_dump`, `archive`, ...).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DiskFile {
    pub path: String,
    pub kind: String,
    pub note: String,
}

impl GroundTruth {
    /// Writes the truth as pretty-printed JSON.
    pub fn write_json(&self, path: &Path) -> io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        text.push('\n');
        std::fs::write(path, text)
    }

    /// Reads a truth file written by [`GroundTruth::write_json`].
    pub fn read_json(path: &Path) -> io::Result<Self> {
        let text = std::fs::read(path)?;
        serde_json::from_slice(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// The distinct rule ids that have at least one planted indicator, sorted.
    pub fn rule_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.indicators.iter().map(|p| p.rule_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Sorts every list into its canonical order (path, line, record, then rule), so that two
    /// truths of the same server compare equal.
    pub fn sort(&mut self) {
        self.indicators
            .sort_by(|a, b| (&a.path, a.line, a.record, &a.rule_id).cmp(&(&b.path, b.line, b.record, &b.rule_id)));
        self.indicators.dedup();
        self.traps.sort();
        self.traps.dedup();
        self.files_on_disk.sort();
    }
}
