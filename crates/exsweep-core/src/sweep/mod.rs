//! The file sweep: which files are looked at by content (the drop folders of the 2021
//! intrusions, or every file with `--all-files`), reading each within a size limit (memory-mapped
//! when large, into a pooled per-thread buffer when small: [`read`]), MD5, SHA-1 and SHA-256
//! ([`hashes`]: small files in batches, their MD5s side by side in SIMD lanes), and the
//! [`FileCheck`]s (YARA, hash and name IOCs, unknown files) that run over the bytes. A file that
//! changes while it is read is reported and its results dropped.

pub mod hashes;
pub mod places;
mod read;

use crate::model::{ArtifactKind, Finding, RuleMeta};
use crate::source::{Entry, LogicalPath};
use crate::time::Timestamp;

pub use hashes::{FileHashes, hex};
pub use places::{Located, Place, is_script_name, place_of};
pub use read::{LoadedFile, SkipReason, load, with_bytes};

/// What the sweep reads, and how.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Sweep every file of the source, not only the drop folders.
    pub all_files: bool,
    /// Files larger than this are reported and not read (bytes).
    pub max_file_size: u64,
    /// Files at least this large are memory-mapped; smaller ones are read into a buffer (bytes).
    pub mmap_min: u64,
    /// Never memory-map (a live system whose files may be truncated while mapped: that would
    /// raise SIGBUS).
    pub no_mmap: bool,
    /// Start of the exploitation window: script files written on or after it are reported.
    pub window_start: Timestamp,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            all_files: false,
            max_file_size: 64 << 20,
            mmap_min: 1 << 20,
            no_mmap: false,
            // CISA AA21-062A: investigate back to 2021-01-01; MSTIC's earliest FirstSeen is 2021-01-06.
            window_start: Timestamp::parse("2021-01-01").unwrap_or(Timestamp(1_609_459_200_000)),
        }
    }
}

/// A file as the file checks see it.
pub struct SweptFile<'a> {
    pub source: usize,
    /// Path relative to the source root, as in the source.
    pub path: &'a str,
    pub logical: &'a LogicalPath,
    /// The Windows path (`C:\inetpub\...`, original case) when the drive root is known; otherwise
    /// the source path with `\` separators.
    pub windows_path: &'a str,
    /// The drop folder the file lies in (`None` only with `--all-files` outside them).
    pub located: Option<&'a Located>,
    pub entry: &'a Entry,
    pub hashes: &'a FileHashes,
    pub data: &'a [u8],
    /// Start of the exploitation window (see [`SweepOptions::window_start`]).
    pub window_start: Timestamp,
    /// The median modification time of the file's neighbours (all Exchange web folders for a
    /// file in one, else its own folder): files installed together share it, and one rewritten
    /// later stands out.
    pub folder_mtime: Option<Timestamp>,
}

impl SweptFile<'_> {
    /// True when the file was modified more than a day apart from the median of its neighbours
    /// ([`SweptFile::folder_mtime`]).
    pub fn stands_out_in_folder(&self) -> bool {
        match (self.entry.mtime, self.folder_mtime) {
            (Some(t), Some(m)) => (t.0 - m.0).abs() > crate::time::DAY_MS,
            _ => false,
        }
    }

    /// The lowercase file name.
    pub fn name(&self) -> &str {
        self.logical.file_name()
    }

    /// The place, [`Place::Elsewhere`] outside the drop folders.
    pub fn place(&self) -> Place {
        self.located.map_or(Place::Elsewhere, |l| l.place)
    }

    /// A finding of `rule` about this file: path, modification time, hashes, size and times.
    pub fn finding(&self, rule: &RuleMeta) -> Finding {
        let mut f = Finding::new(rule, ArtifactKind::File, self.path);
        f.source = self.source;
        f.time = self.entry.mtime;
        f.sha256 = Some(self.hashes.sha256_hex());
        describe(&mut f, self);
        f
    }

    /// A coverage finding: this file was not fully checked, for `reason`.
    pub fn problem(&self, reason: &str) -> Finding {
        let mut f = Finding::new(&crate::inventory::RULE_FILE, ArtifactKind::File, self.path)
            .titled(format!("{} not fully checked: {reason}", self.path))
            .with_evidence(reason)
            .with_extra("reasons", vec![reason.to_string()]);
        f.source = self.source;
        f.sha256 = Some(self.hashes.sha256_hex());
        f
    }
}

/// Puts the file facts of the sweep into a finding's `extra`.
fn describe(f: &mut Finding, file: &SweptFile<'_>) {
    let e = file.entry;
    let x = &mut f.extra;
    x.insert("size".into(), e.size.into());
    x.insert("md5".into(), file.hashes.md5_hex().into());
    x.insert("sha1".into(), file.hashes.sha1_hex().into());
    x.insert("windows_path".into(), file.windows_path.into());
    x.insert("place".into(), file.place().as_str().into());
    for (k, t) in [("modified", e.mtime), ("created", e.created), ("accessed", e.accessed)] {
        if let Some(t) = t {
            x.insert(k.into(), t.to_string().into());
        }
    }
    x.insert("file_type".into(), file_type(file.data).into());
}

/// A check over the content, hashes, name and place of swept files.
pub trait FileCheck: Send + Sync {
    /// Checks one file; pushes findings (made with [`SweptFile::finding`]). A problem met while
    /// checking (a rule that timed out) is pushed as a coverage finding made with
    /// [`SweptFile::problem`]: the file was not fully checked, and the report says so.
    fn check(&self, file: &SweptFile<'_>, out: &mut Vec<Finding>);
    /// True when a file outside the drop folders must be swept anyway, by its path alone (a
    /// published IOC path or name): it is then read, hashed and given to every check.
    fn selects(&self, _windows_path: &str, _logical: &LogicalPath) -> bool {
        false
    }
}

/// The file type by magic bytes, named as Loki names it for the YARA `filetype` external.
pub fn file_type(data: &[u8]) -> &'static str {
    let starts = |m: &[u8]| data.starts_with(m);
    if starts(b"MZ") {
        "EXE"
    } else if starts(b"MDMP") {
        "MDMP"
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        "ZIP"
    } else if starts(b"Rar!") {
        "RAR"
    } else if starts(b"7z\xbc\xaf\x27\x1c") {
        "7Z"
    } else if starts(b"MSCF") {
        "CAB"
    } else if starts(b"\x7fELF") {
        "ELF"
    } else if starts(b"%PDF") {
        "PDF"
    } else if starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        "OLE"
    } else if starts(b"{\\rtf") {
        "RTF"
    } else if starts(b"ElfFile\0") {
        "EVTX"
    } else if starts(b"\x1f\x8b") {
        "GZIP"
    } else {
        "UNKNOWN"
    }
}

/// The Windows form of an entry's path: `C:\` plus its original-case components below the drive
/// root when the root is known, otherwise its source path with `\` separators.
pub fn windows_path(rel_path: &str, lp: &LogicalPath) -> String {
    let raw: Vec<String> = rel_path
        .split('/')
        .filter(|c| !c.is_empty())
        .map(|c| percent_encoding::percent_decode_str(c).decode_utf8_lossy().into_owned())
        .collect();
    if lp.anchored && lp.parts.len() <= raw.len() {
        let drive = lp.drive.unwrap_or('c').to_ascii_uppercase();
        format!("{drive}:\\{}", raw[raw.len() - lp.parts.len()..].join("\\"))
    } else {
        raw.join("\\")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_types_by_magic() {
        assert_eq!(file_type(b"MZ\x90\0"), "EXE");
        assert_eq!(file_type(b"MDMP\x93\xa7"), "MDMP");
        assert_eq!(file_type(b"<%@ Page"), "UNKNOWN");
    }

    #[test]
    fn windows_paths() {
        let lp = LogicalPath {
            drive: Some('c'),
            parts: vec!["inetpub".into(), "wwwroot".into(), "aspnet_client".into(), "x.aspx".into()],
            anchored: true,
        };
        assert_eq!(
            windows_path("C/inetpub/wwwRoot/aspnet_client/X.aspx", &lp),
            r"C:\inetpub\wwwRoot\aspnet_client\X.aspx"
        );
        let loose = LogicalPath { drive: None, parts: vec!["a".into(), "b.aspx".into()], anchored: false };
        assert_eq!(windows_path("a/b%20c.aspx", &loose), r"a\b c.aspx");
    }
}
