//! The file sweep: which files are looked at by content (the drop folders of the 2021
//! intrusions, or every file with `--all-files`), reading each within a size limit (memory-mapped
//! when large, into a reused per-thread buffer when small), one pass of MD5, SHA-1 and SHA-256,
//! and the [`FileCheck`]s (YARA, hash and name IOCs, unknown files) that run over the bytes.
//! A file that changes while it is read is reported and its results dropped.

pub mod places;

use crate::model::{ArtifactKind, Finding, RuleMeta};
use crate::source::{Entry, Locator, LogicalPath, Source};
use crate::time::Timestamp;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::io::Read;

pub use places::{Located, Place, is_script_name, place_of};

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

/// MD5, SHA-1 and SHA-256 of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHashes {
    pub md5: [u8; 16],
    pub sha1: [u8; 20],
    pub sha256: [u8; 32],
}

impl FileHashes {
    /// All three digests of `data`, in one pass over it (cache-sized blocks, so each block is
    /// read from memory once).
    pub fn of(data: &[u8]) -> FileHashes {
        let (mut m, mut s1, mut s2) = (Md5::new(), Sha1::new(), Sha256::new());
        for block in data.chunks(64 * 1024) {
            m.update(block);
            s1.update(block);
            s2.update(block);
        }
        FileHashes { md5: m.finalize().into(), sha1: s1.finalize().into(), sha256: s2.finalize().into() }
    }

    pub fn md5_hex(&self) -> String {
        hex(&self.md5)
    }
    pub fn sha1_hex(&self) -> String {
        hex(&self.sha1)
    }
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
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

/// Why a file was not swept (it becomes a coverage finding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkipReason(pub String);

thread_local! {
    /// One read buffer per worker thread, reused across files (bounded by `mmap_min`, or by
    /// `max_file_size` with `no_mmap`).
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Largest buffer a thread keeps between files; a bigger one is freed after use.
const KEEP_BUFFER: usize = 4 << 20;

/// Reads `r` (at most `limit + 1` bytes, so that a longer input shows) into this thread's
/// buffer and runs `f` over the outcome and the bytes; the buffer is kept for the next file
/// unless it grew past [`KEEP_BUFFER`].
fn with_buffer<T>(r: &mut dyn Read, limit: u64, f: impl FnOnce(std::io::Result<usize>, &[u8]) -> T) -> T {
    BUFFER.with(|b| {
        let mut buf = b.borrow_mut();
        buf.clear();
        let n = r.take(limit.saturating_add(1)).read_to_end(&mut buf);
        let out = f(n, &buf);
        if buf.capacity() > KEEP_BUFFER {
            *buf = Vec::new();
        }
        out
    })
}

/// Reads a file's bytes within the limits and runs `f` over them. A file larger than the limit,
/// unreadable, not a regular file, or changed while read (size or modification time differ
/// before and after) gives a [`SkipReason`] instead.
pub fn with_bytes<T>(
    src: &Source,
    entry: &Entry,
    opts: &SweepOptions,
    f: impl FnOnce(&[u8]) -> T,
) -> Result<T, SkipReason> {
    let skip = |r: String| Err(SkipReason(r));
    if entry.size > opts.max_file_size {
        return skip(format!(
            "{} bytes, larger than the sweep limit of {} bytes (--max-file-size); not swept",
            entry.size, opts.max_file_size
        ));
    }
    match &entry.locator {
        Locator::Fs(p) => {
            let file = match crate::source::open_read_only(p) {
                Ok(f) => f,
                Err(e) => return skip(format!("unreadable: {e}")),
            };
            let before = match file.metadata() {
                Ok(m) if m.is_file() => m,
                Ok(_) => return skip("not a regular file; not read".into()),
                Err(e) => return skip(format!("unreadable: {e}")),
            };
            if before.len() > opts.max_file_size {
                return skip(format!(
                    "{} bytes (grew since listing), larger than the sweep limit of {} bytes; not swept",
                    before.len(),
                    opts.max_file_size
                ));
            }
            let out = if !opts.no_mmap && before.len() >= opts.mmap_min && before.len() > 0 {
                // SAFETY: the map is read-only and dropped before returning. A file truncated by
                // another process while mapped would raise SIGBUS: triage copies do not change,
                // and `no_mmap` is there for live systems.
                match unsafe { memmap2::Mmap::map(&file) } {
                    Ok(map) => {
                        if map.len() as u64 != before.len() {
                            return skip("changed while read (size differs from its mapping); not swept".into());
                        }
                        f(&map)
                    }
                    Err(e) => return skip(format!("cannot map: {e}")),
                }
            } else {
                let read = with_buffer(&mut &file, opts.max_file_size, |n, buf| match n {
                    Ok(n) if n as u64 != before.len() => {
                        Err(format!("changed while read ({} bytes listed, {n} read); not swept", before.len()))
                    }
                    Ok(_) => Ok(f(buf)),
                    Err(e) => Err(format!("read error: {e}")),
                });
                match read {
                    Ok(v) => v,
                    Err(r) => return skip(r),
                }
            };
            match file.metadata() {
                Ok(after) if after.len() == before.len() && after.modified().ok() == before.modified().ok() => Ok(out),
                Ok(_) => skip("changed while read (size or modification time changed); results dropped".into()),
                Err(e) => skip(format!("unreadable after reading: {e}")),
            }
        }
        Locator::Zip(_) => {
            let read = src.with_reader(entry, |r| {
                with_buffer(r, opts.max_file_size, |n, buf| match n {
                    Ok(n) if n as u64 > opts.max_file_size => {
                        Err(format!("inflates past the sweep limit of {} bytes; not swept", opts.max_file_size))
                    }
                    Ok(_) => Ok(f(buf)),
                    Err(e) => Err(format!("cannot inflate: {e}")),
                })
            });
            match read {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(r)) => skip(r),
                Err(e) => skip(format!("unreadable: {e}")),
            }
        }
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
    fn hashes_of_known_inputs() {
        let h = FileHashes::of(b"abc");
        assert_eq!(h.md5_hex(), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(h.sha1_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(h.sha256_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        // Across block boundaries the digest is that of the whole.
        let big = vec![b'a'; 200_000];
        let whole = FileHashes::of(&big);
        assert_eq!(whole.sha256, <[u8; 32]>::from(Sha256::digest(&big)));
        assert_eq!(whole.md5, <[u8; 16]>::from(Md5::digest(&big)));
    }

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
