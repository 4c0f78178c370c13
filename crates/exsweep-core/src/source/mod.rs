//! Sources: what the investigator passes on the command line. A source is a folder (a drive copy,
//! a KAPE or Velociraptor collection, or loose logs), a `.zip` of one (read in place, never
//! unpacked to disk), or a single file. A source lists its entries and opens them for reading;
//! it never writes, and it opens files read-only (without touching access times where the OS
//! allows).

mod dir;
pub mod layout;
mod zipsrc;

use crate::time::Timestamp;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

pub use layout::{ExchangeInstall, LogicalPath, SourceLayout};

/// Bounds on what a zip may inflate to, so that a zip bomb cannot stall a scan.
#[derive(Clone, Copy, Debug)]
pub struct ZipLimits {
    /// Stop reading one entry after this many inflated bytes.
    pub max_entry_bytes: u64,
    /// Stop reading one entry when inflated/compressed exceeds this ratio ...
    pub max_ratio: u64,
    /// ... once the entry has inflated past this many bytes (small files compress well legitimately).
    pub ratio_floor: u64,
    /// Stop reading a zip after this many inflated bytes in total.
    pub max_total_bytes: u64,
}

impl Default for ZipLimits {
    fn default() -> Self {
        ZipLimits { max_entry_bytes: 16 << 30, max_ratio: 250, ratio_floor: 64 << 20, max_total_bytes: 256 << 30 }
    }
}

/// Where an entry's bytes live.
#[derive(Clone, Debug)]
pub enum Locator {
    /// A file on disk (absolute path).
    Fs(PathBuf),
    /// An entry of the source zip, by index.
    Zip(usize),
}

/// One file inside a source.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Path relative to the source root, `/`-separated, as it appears in the source.
    pub rel_path: String,
    pub size: u64,
    pub mtime: Option<Timestamp>,
    /// Creation (birth) time, where the file system and the source keep it.
    pub created: Option<Timestamp>,
    /// Last access time, where kept (read-only opening leaves it as found).
    pub accessed: Option<Timestamp>,
    pub locator: Locator,
}

/// A file-level problem met while listing a source (it becomes a coverage finding).
#[derive(Clone, Debug)]
pub struct ListProblem {
    pub rel_path: String,
    pub reason: String,
}

/// What kind of thing the source path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Directory,
    Zip,
    File,
}

/// A source given on the command line.
pub struct Source {
    /// Position on the command line.
    pub index: usize,
    /// The path as given.
    pub label: String,
    /// Canonical path of the folder, zip or file.
    pub root: PathBuf,
    pub kind: SourceKind,
    zip: Option<zipsrc::ZipSource>,
    limits: ZipLimits,
    inflated: Arc<AtomicU64>,
}

/// A source that cannot be opened at all (exit status 2).
#[derive(Debug)]
pub struct SourceError {
    pub path: String,
    pub reason: String,
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read source {}: {}", self.path, self.reason)
    }
}

impl std::error::Error for SourceError {}

impl Source {
    /// Opens a source. Fails only when the path itself cannot be read.
    pub fn open(index: usize, path: &Path, limits: ZipLimits) -> Result<Source, SourceError> {
        let err = |reason: String| SourceError { path: path.display().to_string(), reason };
        let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
        let root = std::fs::canonicalize(path).map_err(|e| err(e.to_string()))?;
        let label = path.display().to_string();
        let (kind, zip) = if meta.is_dir() {
            (SourceKind::Directory, None)
        } else if meta.is_file() {
            if is_zip(&root).map_err(|e| err(e.to_string()))? {
                let z = zipsrc::ZipSource::open(&root).map_err(|e| err(format!("not a readable zip: {e}")))?;
                (SourceKind::Zip, Some(z))
            } else {
                (SourceKind::File, None)
            }
        } else {
            return Err(err("not a regular file or folder".into()));
        };
        Ok(Source { index, label, root, kind, zip, limits, inflated: Arc::new(AtomicU64::new(0)) })
    }

    /// A short name for the source: the folder, zip or file name without extension.
    pub fn name(&self) -> String {
        let stem = match self.kind {
            SourceKind::Directory => self.root.file_name(),
            _ => self.root.file_stem(),
        };
        stem.map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| self.label.clone())
    }

    /// Lists every regular file in the source, sorted by path; problems are reported, not fatal.
    pub fn entries(&self) -> (Vec<Entry>, Vec<ListProblem>) {
        let (mut entries, problems) = match self.kind {
            SourceKind::Directory => dir::list(&self.root),
            SourceKind::Zip => match &self.zip {
                Some(z) => z.list(),
                None => (Vec::new(), Vec::new()),
            },
            SourceKind::File => {
                let name = self.root.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                match std::fs::metadata(&self.root) {
                    Ok(m) => (vec![dir::entry_for(&self.root, name, &m)], Vec::new()),
                    Err(e) => (Vec::new(), vec![ListProblem { rel_path: name, reason: format!("unreadable: {e}") }]),
                }
            }
        };
        entries.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
        (entries, problems)
    }

    /// Runs `f` over a reader of the entry's bytes. Zip entries are inflated on the fly, within
    /// the zip limits: past them the reader fails with an error that says which limit.
    pub fn with_reader<T>(&self, entry: &Entry, f: impl FnOnce(&mut dyn Read) -> T) -> io::Result<T> {
        match &entry.locator {
            Locator::Fs(p) => {
                let mut file = open_read_only(p)?;
                Ok(f(&mut file))
            }
            Locator::Zip(i) => match &self.zip {
                Some(z) => z.with_reader(*i, &self.limits, &self.inflated, f),
                None => Err(io::Error::other("zip entry in a non-zip source")),
            },
        }
    }

    /// Finds an entry by its relative path (used when collecting evidence after a scan).
    pub fn entry_by_path(&self, rel_path: &str) -> Option<Entry> {
        match self.kind {
            SourceKind::Directory => {
                let p = self.root.join(rel_path);
                let m = std::fs::metadata(&p).ok()?;
                m.is_file().then(|| dir::entry_for(&p, rel_path.to_string(), &m))
            }
            SourceKind::File => {
                let (entries, _) = self.entries();
                entries.into_iter().find(|e| e.rel_path == rel_path)
            }
            SourceKind::Zip => self.zip.as_ref()?.entry_by_path(rel_path),
        }
    }

    /// True when `path` lies inside this source (a folder source, or the zip/file itself).
    pub fn contains(&self, path: &Path) -> bool {
        let probe = canonical_or_parent(path);
        match self.kind {
            SourceKind::Directory => probe.starts_with(&self.root),
            _ => probe == self.root,
        }
    }
}

/// Canonicalizes a path that may not exist yet by canonicalizing its nearest existing ancestor.
fn canonical_or_parent(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let mut tail = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(cur) {
            let mut out = c;
            for t in tail.iter().rev() {
                out.push(t);
            }
            return out;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(p), Some(n)) => {
                tail.push(n.to_os_string());
                cur = p;
            }
            _ => return abs,
        }
    }
}

fn is_zip(path: &Path) -> io::Result<bool> {
    let mut f = open_read_only(path)?;
    let mut magic = [0u8; 4];
    let n = read_up_to(&mut f, &mut magic)?;
    // Local file header, or the end-of-central-directory record of an empty zip.
    Ok(n == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06"))
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Opens a file for reading only. On Linux it asks the kernel not to update the access time
/// (O_NOATIME), so that reading evidence leaves no trace on it; where that is not permitted it
/// falls back to a plain read-only open.
pub fn open_read_only(path: &Path) -> io::Result<std::fs::File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        if let Ok(f) = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOATIME).open(path) {
            return Ok(f);
        }
    }
    std::fs::OpenOptions::new().read(true).open(path)
}
