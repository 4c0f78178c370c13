//! Zip sources, read in place: entries are inflated on the fly while they are scanned, never
//! unpacked to disk. Each reader works on its own clone of the archive over a shared file handle
//! (positioned reads), so files of one zip are scanned in parallel.

use super::{Entry, ListProblem, Locator, ZipLimits};
use crate::time::Timestamp;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A cloneable, positioned reader over one open file.
#[derive(Clone)]
struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}

pub(super) struct ZipSource {
    archive: zip::ZipArchive<SharedFile>,
}

/// Why a zip entry name is not safe to use as a path, if it is not.
pub(crate) fn unsafe_name_reason(name: &str) -> Option<&'static str> {
    let n = name.replace('\\', "/");
    if n.starts_with('/') {
        return Some("absolute path");
    }
    let b = n.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return Some("absolute path with a drive letter");
    }
    if n.split('/').any(|c| c == "..") {
        return Some("parent-directory (`..`) component");
    }
    if n.contains('\0') {
        return Some("NUL byte in the name");
    }
    None
}

/// The entry at `i`: `Ok(None)` for folders, `Err` for entries that are listed as problems.
fn entry_at(archive: &mut zip::ZipArchive<SharedFile>, i: usize) -> Result<Option<Entry>, ListProblem> {
    // Raw access reads metadata without starting decompression (cheap, and works for
    // encrypted or unsupported entries, which are reported rather than skipped silently).
    let fallback_name = |a: &zip::ZipArchive<SharedFile>| {
        a.name_for_index(i).and_then(|r| r.ok()).map(|s| s.into_owned()).unwrap_or_else(|| format!("<zip entry #{i}>"))
    };
    let name_guess = fallback_name(archive);
    let zf = archive
        .by_index_raw(i)
        .map_err(|e| ListProblem { rel_path: name_guess.clone(), reason: format!("unreadable zip entry: {e}") })?;
    let raw_name = zf
        .name()
        .map_err(|e| ListProblem { rel_path: name_guess.clone(), reason: format!("unreadable entry name: {e}") })?
        .into_owned();
    if zf.is_dir() {
        return Ok(None);
    }
    let name = raw_name.replace('\\', "/");
    if let Some(why) = unsafe_name_reason(&raw_name) {
        return Err(ListProblem {
            rel_path: raw_name.clone(),
            reason: format!("zip entry with an unsafe path ({why}); not read"),
        });
    }
    if zf.encrypted() {
        return Err(ListProblem { rel_path: name, reason: "encrypted zip entry; not read".into() });
    }
    if zf.is_symlink() {
        return Err(ListProblem { rel_path: name, reason: "symlink stored in the zip; not followed".into() });
    }
    let mtime = zf.last_modified().and_then(|d| {
        Timestamp::from_parts(
            d.year() as i16,
            d.month() as i8,
            d.day() as i8,
            d.hour() as i8,
            d.minute() as i8,
            d.second() as i8,
            0,
        )
    });
    Ok(Some(Entry { rel_path: name, size: zf.size(), mtime, created: None, accessed: None, locator: Locator::Zip(i) }))
}

impl ZipSource {
    pub(super) fn open(path: &Path) -> io::Result<ZipSource> {
        let file = super::open_read_only(path)?;
        let len = file.metadata()?.len();
        let shared = SharedFile { file: Arc::new(file), pos: 0, len };
        let archive = zip::ZipArchive::new(shared).map_err(io::Error::other)?;
        Ok(ZipSource { archive })
    }

    pub(super) fn list(&self) -> (Vec<Entry>, Vec<ListProblem>) {
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        let mut archive = self.archive.clone();
        for i in 0..archive.len() {
            match entry_at(&mut archive, i) {
                Ok(Some(e)) => entries.push(e),
                Ok(None) => {}
                Err(p) => problems.push(p),
            }
        }
        (entries, problems)
    }

    pub(super) fn entry_by_path(&self, rel_path: &str) -> Option<Entry> {
        let mut archive = self.archive.clone();
        let i = archive.index_for_name(rel_path).or_else(|| archive.index_for_name(&rel_path.replace('/', "\\")))?;
        entry_at(&mut archive, i).ok().flatten()
    }

    pub(super) fn with_reader<T>(
        &self,
        index: usize,
        limits: &ZipLimits,
        total: &AtomicU64,
        f: impl FnOnce(&mut dyn Read) -> T,
    ) -> io::Result<T> {
        let mut archive = self.archive.clone();
        let zf = archive.by_index(index).map_err(|e| match e {
            zip::result::ZipError::UnsupportedArchive(m) => {
                io::Error::new(io::ErrorKind::Unsupported, format!("unsupported zip entry: {m}"))
            }
            other => io::Error::other(other),
        })?;
        let compressed = zf.compressed_size().max(1);
        let mut limited = LimitedReader { inner: zf, read: 0, compressed, limits: *limits, total };
        Ok(f(&mut limited))
    }
}

/// Counts inflated bytes and stops at the zip limits with a clear error.
struct LimitedReader<'a, R> {
    inner: R,
    read: u64,
    compressed: u64,
    limits: ZipLimits,
    total: &'a AtomicU64,
}

/// Marker text in errors raised by the zip limits (readers put it in coverage findings).
pub const INFLATE_LIMIT: &str = "zip inflate limit";

impl<R: Read> Read for LimitedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        let total = self.total.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        let limit = |what: String| Err(io::Error::new(io::ErrorKind::FileTooLarge, format!("{INFLATE_LIMIT}: {what}")));
        if self.read > self.limits.max_entry_bytes {
            return limit(format!("entry inflated past {} bytes", self.limits.max_entry_bytes));
        }
        if self.read > self.limits.ratio_floor && self.read / self.compressed > self.limits.max_ratio {
            return limit(format!(
                "entry inflated {} bytes from {} compressed (ratio over {}:1, likely a zip bomb)",
                self.read, self.compressed, self.limits.max_ratio
            ));
        }
        if total > self.limits.max_total_bytes {
            return limit(format!("zip inflated past {} bytes in total", self.limits.max_total_bytes));
        }
        Ok(n)
    }
}
