//! Streaming line blocks: reads a text log through one fixed buffer and hands out blocks of whole
//! lines, so that prefilters run over large blocks and memory stays bounded whatever the file size.
//! A line longer than the buffer is reported and skipped, never buffered.

use std::io::{self, Read};

/// Size of one read block.
pub const BLOCK: usize = 256 << 10;

/// What the block reader hands out.
pub enum Chunk<'a> {
    /// Whole lines (each ending in `\n`, except possibly the last line of the file).
    Lines { text: &'a [u8], offset: u64 },
    /// A line too long for the buffer: its first bytes, its offset and full length; skipped.
    LongLine { head: &'a [u8], offset: u64, len: u64 },
}

/// How the input ended.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tail {
    pub bytes: u64,
    /// The last line had no newline (a truncated copy, or a log still being written).
    pub unterminated: bool,
}

/// Reads `reader` to the end in blocks of whole lines. Lines up to `max_line` bytes always come
/// whole inside a `Lines` chunk; longer lines may come as `LongLine`.
pub fn for_each_chunk(reader: &mut dyn Read, max_line: usize, mut f: impl FnMut(Chunk<'_>)) -> io::Result<Tail> {
    let cap = BLOCK + max_line;
    // One buffer per thread, reused across files: a fresh 2 MiB zeroed buffer per file cost more
    // than reading a typical (hourly) log.
    let mut buf = SPARE.with(|b| std::mem::take(&mut *b.borrow_mut()));
    if buf.len() < cap {
        buf.resize(cap, 0);
    }
    let result = fill_and_split(reader, &mut buf[..cap], &mut f);
    SPARE.with(|b| *b.borrow_mut() = buf);
    result
}

thread_local! {
    static SPARE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn fill_and_split(reader: &mut dyn Read, buf: &mut [u8], f: &mut impl FnMut(Chunk<'_>)) -> io::Result<Tail> {
    let cap = buf.len();
    let mut end = 0usize; // valid bytes in buf[..end]
    let mut offset = 0u64; // file offset of buf[0]
    let mut eof = false;
    let mut last_byte = b'\n';
    // Blocks of `BLOCK` bytes stay in the CPU cache while the prefilter and the line counter pass
    // over them; the rest of the buffer is only filled to finish a long line.
    let mut want = BLOCK.min(cap);
    loop {
        while end < want && !eof {
            match reader.read(&mut buf[end..want]) {
                Ok(0) => eof = true,
                Ok(n) => end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Hand out what was read before the error, then report it.
                    if end > 0 {
                        f(Chunk::Lines { text: &buf[..end], offset });
                        offset += end as u64;
                    }
                    return Err(io::Error::new(e.kind(), format!("at offset {offset}: {e}")));
                }
            }
        }
        if end == 0 {
            return Ok(Tail { bytes: offset, unterminated: last_byte != b'\n' });
        }
        last_byte = buf[end - 1];
        match memchr::memrchr(b'\n', &buf[..end]) {
            Some(p) => {
                want = BLOCK.min(cap);
                f(Chunk::Lines { text: &buf[..=p], offset });
                let used = p + 1;
                buf.copy_within(used..end, 0);
                end -= used;
                offset += used as u64;
            }
            None if end < cap && !eof => {
                want = cap;
                continue;
            }
            None if eof => {
                f(Chunk::Lines { text: &buf[..end], offset });
                offset += end as u64;
                end = 0;
            }
            None => {
                // The buffer is full and holds no newline: skip the rest of this line.
                let head_len = end.min(256);
                let head = buf[..head_len].to_vec();
                let start = offset;
                let mut len = end as u64;
                end = 0;
                loop {
                    let n = match reader.read(buf) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            return Err(io::Error::new(e.kind(), format!("at offset {}: {e}", start + len)));
                        }
                    };
                    if n == 0 {
                        eof = true;
                        last_byte = b'x';
                        len += 0;
                        break;
                    }
                    if let Some(p) = memchr::memchr(b'\n', &buf[..n]) {
                        len += (p + 1) as u64;
                        buf.copy_within(p + 1..n, 0);
                        end = n - p - 1;
                        last_byte = b'\n';
                        break;
                    }
                    len += n as u64;
                }
                f(Chunk::LongLine { head: &head, offset: start, len });
                offset = start + len;
                if eof && end == 0 {
                    return Ok(Tail { bytes: offset, unterminated: last_byte != b'\n' });
                }
            }
        }
    }
}

/// Iterates the lines of a `Lines` chunk: (start, end) byte ranges without the `\n` (and `\r`).
pub fn line_ranges(text: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let start = pos;
        let nl = memchr::memchr(b'\n', &text[pos..]).map(|i| pos + i);
        let mut end = nl.unwrap_or(text.len());
        pos = nl.map(|i| i + 1).unwrap_or(text.len());
        if end > start && text[end - 1] == b'\r' {
            end -= 1;
        }
        Some((start, end))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max_line: usize) -> (Vec<String>, Vec<(u64, u64)>, Tail) {
        let mut lines = Vec::new();
        let mut longs = Vec::new();
        let tail = for_each_chunk(&mut &input[..], max_line, |c| match c {
            Chunk::Lines { text, .. } => {
                for (a, b) in line_ranges(text) {
                    lines.push(String::from_utf8_lossy(&text[a..b]).into_owned());
                }
            }
            Chunk::LongLine { offset, len, .. } => longs.push((offset, len)),
        })
        .unwrap();
        (lines, longs, tail)
    }

    #[test]
    fn splits_lines_and_flags_unterminated() {
        let (l, longs, t) = collect(b"a\r\nbb\nccc", 16);
        assert_eq!(l, vec!["a", "bb", "ccc"]);
        assert!(longs.is_empty());
        assert!(t.unterminated);
        assert_eq!(t.bytes, 9);
        let (_, _, t) = collect(b"a\n", 16);
        assert!(!t.unterminated);
    }

    #[test]
    fn long_line_is_skipped_and_reading_goes_on() {
        let mut input = b"first\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', BLOCK + 5000));
        input.extend(b"\nlast\n");
        let (l, longs, t) = collect(&input, 1000);
        assert_eq!(l, vec!["first", "last"]);
        assert_eq!(longs, vec![(6, (BLOCK + 5001) as u64)]);
        assert_eq!(t.bytes, input.len() as u64);
    }
}
