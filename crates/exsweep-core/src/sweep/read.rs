//! Reading a file for the sweep: within the size limit, memory-mapped when large or into a
//! buffer from this thread's pool when small, and checked afterwards for changes made while it
//! was read (its results are then dropped).

use super::SweepOptions;
use crate::source::{Entry, Locator, Source};
use std::cell::RefCell;
use std::fs::{File, Metadata};
use std::io::Read;

/// Why a file was not swept (it becomes a coverage finding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkipReason(pub String);

fn skip<T>(reason: String) -> Result<T, SkipReason> {
    Err(SkipReason(reason))
}

thread_local! {
    /// Read buffers of this worker thread, reused across files: a batch of small files holds
    /// several at once.
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Largest buffer the pool keeps between files; a bigger one is freed after use.
const KEEP_BUFFER: usize = 4 << 20;
/// Most buffers the pool keeps per thread (a batch is at most this many files).
const KEEP_BUFFERS: usize = 64;

fn take_buffer() -> Vec<u8> {
    POOL.with(|p| p.borrow_mut().pop()).unwrap_or_default()
}

fn give_back(mut buf: Vec<u8>) {
    if buf.capacity() <= KEEP_BUFFER {
        buf.clear();
        POOL.with(|p| {
            let mut pool = p.borrow_mut();
            if pool.len() < KEEP_BUFFERS {
                pool.push(buf);
            }
        });
    }
}

enum Bytes {
    Map(memmap2::Mmap),
    Buffer(Vec<u8>),
}

/// A file's bytes as read for the sweep.
pub struct LoadedFile {
    bytes: Bytes,
    /// The open file and its metadata before it was read (filesystem sources), to tell whether
    /// it changed while read.
    opened: Option<(File, Metadata)>,
}

impl LoadedFile {
    pub fn bytes(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Map(m) => m,
            Bytes::Buffer(b) => b,
        }
    }

    /// Ok when the file still has the size and modification time it had before it was read;
    /// otherwise why whatever was found in it is dropped. Gives the buffer back to the pool.
    pub fn finish(self) -> Result<(), SkipReason> {
        let verdict = match &self.opened {
            None => Ok(()),
            Some((file, before)) => match file.metadata() {
                Ok(after) if after.len() == before.len() && after.modified().ok() == before.modified().ok() => Ok(()),
                Ok(_) => skip("changed while read (size or modification time changed); results dropped".into()),
                Err(e) => skip(format!("unreadable after reading: {e}")),
            },
        };
        if let Bytes::Buffer(b) = self.bytes {
            give_back(b);
        }
        verdict
    }
}

/// Reads `r` (at most `limit + 1` bytes, so that a longer input shows) into a pooled buffer.
fn read_into_buffer(r: &mut dyn Read, limit: u64) -> (std::io::Result<usize>, Vec<u8>) {
    let mut buf = take_buffer();
    let n = r.take(limit.saturating_add(1)).read_to_end(&mut buf);
    (n, buf)
}

/// Reads a file's bytes within the limits. A file larger than the limit, unreadable, not a
/// regular file, or changed while read gives a [`SkipReason`] instead. Call
/// [`LoadedFile::finish`] once done with the bytes: it tells whether they can be trusted.
pub fn load(src: &Source, entry: &Entry, opts: &SweepOptions) -> Result<LoadedFile, SkipReason> {
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
            let bytes = if !opts.no_mmap && before.len() >= opts.mmap_min && before.len() > 0 {
                // SAFETY: the map is read-only and dropped with the LoadedFile. A file truncated
                // by another process while mapped would raise SIGBUS: triage copies do not
                // change, and `no_mmap` is there for live systems.
                match unsafe { memmap2::Mmap::map(&file) } {
                    Ok(map) if map.len() as u64 == before.len() => Bytes::Map(map),
                    Ok(_) => return skip("changed while read (size differs from its mapping); not swept".into()),
                    Err(e) => return skip(format!("cannot map: {e}")),
                }
            } else {
                match read_into_buffer(&mut &file, opts.max_file_size) {
                    (Ok(n), buf) if n as u64 == before.len() => Bytes::Buffer(buf),
                    (Ok(n), buf) => {
                        give_back(buf);
                        return skip(format!(
                            "changed while read ({} bytes listed, {n} read); not swept",
                            before.len()
                        ));
                    }
                    (Err(e), buf) => {
                        give_back(buf);
                        return skip(format!("read error: {e}"));
                    }
                }
            };
            Ok(LoadedFile { bytes, opened: Some((file, before)) })
        }
        Locator::Zip(_) => {
            let read = src.with_reader(entry, |r| match read_into_buffer(r, opts.max_file_size) {
                (Ok(n), buf) if n as u64 > opts.max_file_size => {
                    give_back(buf);
                    skip(format!("inflates past the sweep limit of {} bytes; not swept", opts.max_file_size))
                }
                (Ok(_), buf) => Ok(LoadedFile { bytes: Bytes::Buffer(buf), opened: None }),
                (Err(e), buf) => {
                    give_back(buf);
                    skip(format!("cannot inflate: {e}"))
                }
            });
            match read {
                Ok(r) => r,
                Err(e) => skip(format!("unreadable: {e}")),
            }
        }
    }
}

/// Reads a file's bytes within the limits ([`load`]) and runs `f` over them; the result is
/// dropped for a [`SkipReason`] when the file changed while read.
pub fn with_bytes<T>(
    src: &Source,
    entry: &Entry,
    opts: &SweepOptions,
    f: impl FnOnce(&[u8]) -> T,
) -> Result<T, SkipReason> {
    let loaded = load(src, entry, opts)?;
    let out = f(loaded.bytes());
    loaded.finish().map(|()| out)
}
