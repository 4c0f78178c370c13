//! Header-driven delimited logs: Exchange CSV logs (HttpProxy, ECP Server, OABGenerator and any
//! other `#Software: Microsoft Exchange Server` log) and IIS W3C extended logs. Columns come from
//! each `#Fields:` line, which may change inside a file (IIS writes a new block after a restart).
//!
//! Hot path: a literal prefilter (packed Teddy over whole blocks) picks the lines that detectors
//! can fire on. Runs of data lines under one header go through a bulk path: only lines holding a
//! detector's or a field gate's literal are looked at, the rest are counted in one pass and their
//! times sampled at both ends of the run. Anything unusual in a run (blank or over-long lines,
//! times more than a day apart) sends it through the line-by-line path, which gives the same
//! results by construction and is checked against the bulk path in tests.

use super::lines::{Chunk, for_each_chunk, line_ranges};
use super::prefilter::CiLiterals;
use super::{FieldGate, FileObs, Gate, ReadOptions};
use crate::record::{Fields, Header, Record};
use crate::time::Timestamp;
use std::io::{self, Read};
use std::sync::Arc;

/// The two delimited dialects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Exchange CSV: comma-separated, `"`-quoted values with doubled inner quotes.
    ExchangeCsv,
    /// IIS W3C extended: space-separated, never quoted (spaces inside values are `+`).
    W3c,
}

/// Where a record's time is.
#[derive(Clone, Copy, Debug)]
enum TimeCols {
    None,
    One(usize),
    DateTime(usize, usize),
}

impl TimeCols {
    fn of(header: &Header, dialect: Dialect) -> TimeCols {
        match dialect {
            Dialect::W3c => match (header.index("date"), header.index("time")) {
                (Some(d), Some(t)) => TimeCols::DateTime(d, t),
                _ => TimeCols::None,
            },
            Dialect::ExchangeCsv => ["DateTime", "date-time", "TimeStamp", "Timestamp", "Time"]
                .iter()
                .find_map(|n| header.index(n))
                .map(TimeCols::One)
                .unwrap_or(TimeCols::None),
        }
    }

    /// True when the time is at the very start of every line, so it can be read without parsing.
    fn leads_line(self) -> bool {
        matches!(self, TimeCols::One(0) | TimeCols::DateTime(0, 1))
    }
}

/// A field gate with its column resolved against the current header.
type ResolvedGate = (usize, fn(&str) -> bool);

/// Reusable per-file parse state.
struct LineParser {
    dialect: Dialect,
    /// Built on the first quoted line: building one costs more than splitting thousands of lines.
    csv: Option<csv_core::Reader>,
    out: Vec<u8>,
    ends: Vec<usize>,
    spans: Vec<(u32, u32)>,
    lossy: String,
}

impl LineParser {
    fn new(dialect: Dialect) -> LineParser {
        LineParser {
            dialect,
            csv: None,
            out: Vec::new(),
            ends: vec![0; 128],
            spans: Vec::with_capacity(128),
            lossy: String::new(),
        }
    }

    /// Splits one line into `spans` over the returned text (the line itself, or the unquoted copy).
    fn split<'s>(&'s mut self, line: &'s str) -> (&'s str, &'s [(u32, u32)]) {
        self.spans.clear();
        match self.dialect {
            Dialect::W3c => {
                let mut start = 0u32;
                for (i, b) in line.bytes().enumerate() {
                    if b == b' ' {
                        self.spans.push((start, i as u32));
                        start = i as u32 + 1;
                    }
                }
                self.spans.push((start, line.len() as u32));
                (line, &self.spans)
            }
            Dialect::ExchangeCsv => {
                // Fast path: no quotes means no unescaping, so spans index the line itself.
                if memchr::memchr(b'"', line.as_bytes()).is_none() {
                    let mut start = 0u32;
                    for i in memchr::memchr_iter(b',', line.as_bytes()) {
                        self.spans.push((start, i as u32));
                        start = i as u32 + 1;
                    }
                    self.spans.push((start, line.len() as u32));
                    return (line, &self.spans);
                }
                let csv = self.csv.get_or_insert_with(csv_core::Reader::new);
                csv.reset();
                self.out.clear();
                self.out.resize(line.len() + 1, 0);
                let mut input = line.as_bytes();
                let mut nout_total = 0;
                let mut nend_total = 0;
                loop {
                    let (res, nin, nout, nend) =
                        csv.read_record(input, &mut self.out[nout_total..], &mut self.ends[nend_total..]);
                    input = &input[nin..];
                    nout_total += nout;
                    nend_total += nend;
                    match res {
                        csv_core::ReadRecordResult::InputEmpty => {
                            // Signal end of input: the record ends here even inside quotes.
                            if input.is_empty() && nin == 0 {
                                let (r2, _, nout2, nend2) =
                                    csv.read_record(&[], &mut self.out[nout_total..], &mut self.ends[nend_total..]);
                                nout_total += nout2;
                                nend_total += nend2;
                                if matches!(r2, csv_core::ReadRecordResult::OutputEndsFull) {
                                    let n = self.ends.len();
                                    self.ends.resize(n * 2, 0);
                                    continue;
                                }
                                break;
                            }
                        }
                        csv_core::ReadRecordResult::OutputFull => {
                            let n = self.out.len();
                            self.out.resize(n * 2 + 16, 0);
                        }
                        csv_core::ReadRecordResult::OutputEndsFull => {
                            let n = self.ends.len();
                            self.ends.resize(n * 2, 0);
                        }
                        csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => {
                            break;
                        }
                    }
                }
                let mut start = 0usize;
                for &e in &self.ends[..nend_total] {
                    self.spans.push((start as u32, e as u32));
                    start = e;
                }
                self.lossy.clear();
                self.lossy.push_str(&String::from_utf8_lossy(&self.out[..nout_total]));
                // Lossy decoding can change lengths only if the input was not UTF-8, and the
                // caller hands us `&str`, so the unquoted bytes are UTF-8 too.
                (&self.lossy, &self.spans)
            }
        }
    }
}

/// Per-file reading state, shared by the line-by-line path and the bulk path.
struct Reader<'g> {
    dialect: Dialect,
    default_header: Option<&'g Arc<Header>>,
    text_mode: bool,
    gate: &'g Gate<'g>,
    max_line: usize,
    /// Detector literals (`None`: every line is wanted, or there are none).
    prefilter: Option<&'g CiLiterals>,
    header: Option<Arc<Header>>,
    time_cols: TimeCols,
    parser: LineParser,
    line_no: u64,
    hour_key: [u8; 13],
    last_lead: [u8; 32],
    last_lead_len: usize,
    force_parse: bool,
    used_default: bool,
    /// Field gates resolved against the current header; `None` when a column is missing (then
    /// every line is parsed, which is always correct).
    gate_cols: Option<Vec<ResolvedGate>>,
    /// The current header allows the bulk path (see [`Reader::bulk_segment`]).
    bulk_ok: bool,
    lossy_line: String,
}

impl<'g> Reader<'g> {
    fn sep(&self) -> u8 {
        if self.dialect == Dialect::W3c { b' ' } else { b',' }
    }

    fn set_header(&mut self, h: Arc<Header>) {
        self.time_cols = TimeCols::of(&h, self.dialect);
        self.gate_cols = self.gate.fields.iter().map(|g| h.index(g.column).map(|i| (i, g.test))).collect();
        // Field-gate literals may include the separators around the column's value, so they hold
        // only for a column that is neither the first nor the last.
        let inner = |g: &FieldGate| h.index(g.column).is_some_and(|i| i > 0 && i + 1 < h.names.len());
        self.bulk_ok = !self.gate.all
            && self.gate.bulk.is_some()
            && self.time_cols.leads_line()
            && self.gate.fields.iter().all(inner);
        self.header = Some(h);
    }

    /// The line-by-line path: one line (without its `\n`), `literal_hit` when a detector literal
    /// occurs in it. `counted` lines were already counted and timed by the bulk path.
    #[allow(clippy::too_many_arguments)]
    fn line(
        &mut self,
        line: &[u8],
        abs_offset: u64,
        chunk_has_nul: bool,
        literal_hit: bool,
        counted: bool,
        obs: &mut FileObs,
        on_record: &mut dyn FnMut(&Record<'_>, &mut FileObs),
    ) {
        let line_no = self.line_no;
        if line.is_empty() {
            return;
        }
        if line.len() > self.max_line {
            obs.note_long_line(line_no, abs_offset, line.len() as u64);
            return;
        }
        if line[0] == b'#' {
            handle_directive(line, self.dialect, &mut self.header, obs);
            if let Some(h) = self.header.clone() {
                self.set_header(h);
            }
            self.force_parse = true;
            return;
        }
        if chunk_has_nul && memchr::memchr(0, line).is_some() {
            obs.note_nul(line_no, abs_offset);
            return;
        }
        if !counted {
            obs.lines += 1;
        }
        if self.header.is_none()
            && let Some(d) = self.default_header
        {
            self.set_header(Arc::clone(d));
            self.used_default = true;
        }
        // Coverage: the time at the start of the line, parsed only when the hour changes.
        if !counted && (self.time_cols.leads_line() || (self.header.is_none() && self.text_mode)) {
            let k = line.len().min(13);
            if line[..k] != self.hour_key[..k] || k < 13 {
                self.hour_key[..k].copy_from_slice(&line[..k]);
                if let Some(t) = lead_time(line, self.dialect) {
                    obs.time.observe(t);
                }
            }
            self.last_lead_len = line.len().min(32);
            self.last_lead[..self.last_lead_len].copy_from_slice(&line[..self.last_lead_len]);
        }
        let sep = self.sep();
        let hit = self.gate.all
            || literal_hit
            || (!self.gate.fields.is_empty()
                && match &self.gate_cols {
                    Some(cols) => cols.iter().any(|&(i, test)| match nth_field(line, sep, i) {
                        Some(v) => std::str::from_utf8(v).map_or(true, test),
                        None => true,
                    }),
                    None => true,
                });
        if !(hit || self.force_parse) {
            return;
        }
        self.force_parse = false;
        let Some(h) = self.header.clone() else {
            if self.text_mode {
                // Plain text lines (no header): detectors read the raw line only.
                let (raw, time) = match std::str::from_utf8(line) {
                    Ok(t) => (std::borrow::Cow::Borrowed(t), lead_time(line, self.dialect)),
                    Err(_) => {
                        obs.note_invalid_utf8(line_no, abs_offset);
                        (String::from_utf8_lossy(line), None)
                    }
                };
                let rec = Record { line: Some(line_no), record_id: None, time, raw: &raw, fields: Fields::Text };
                obs.records += 1;
                on_record(&rec, obs);
            } else {
                obs.note_headerless(line_no);
            }
            return;
        };
        let text_line: &str = match std::str::from_utf8(line) {
            Ok(s) => s,
            Err(_) => {
                obs.note_invalid_utf8(line_no, abs_offset);
                self.lossy_line.clear();
                self.lossy_line.push_str(&String::from_utf8_lossy(line));
                &self.lossy_line
            }
        };
        let time_cols = self.time_cols;
        let (values, spans) = self.parser.split(text_line);
        let rec_time = match time_cols {
            TimeCols::None => None,
            TimeCols::One(i) => spans.get(i).and_then(|&(x, y)| Timestamp::parse(&values[x as usize..y as usize])),
            TimeCols::DateTime(d, t) => match (spans.get(d), spans.get(t)) {
                (Some(&(a1, b1)), Some(&(a2, b2))) => {
                    let s = format!("{} {}", &values[a1 as usize..b1 as usize], &values[a2 as usize..b2 as usize]);
                    Timestamp::parse(&s)
                }
                _ => None,
            },
        };
        if !time_cols.leads_line()
            && let Some(t) = rec_time
        {
            obs.time.observe(t);
        }
        let rec = Record {
            line: Some(line_no),
            record_id: None,
            time: rec_time,
            raw: text_line,
            fields: Fields::Columns { header: &h, text: values, spans },
        };
        obs.records += 1;
        on_record(&rec, obs);
    }

    /// Every line of `text[from..to]` (whole lines) through the line-by-line path.
    #[allow(clippy::too_many_arguments)]
    fn lines_of(
        &mut self,
        text: &[u8],
        from: usize,
        to: usize,
        offset: u64,
        chunk_has_nul: bool,
        obs: &mut FileObs,
        on_record: &mut dyn FnMut(&Record<'_>, &mut FileObs),
    ) {
        let mut finder = self.prefilter.map(|p| p.finder(&text[..to]));
        let mut next_hit = finder.as_mut().and_then(|f| f.find_from(from));
        for (a, b) in line_ranges(&text[from..to]) {
            let (a, b) = (from + a, from + b);
            self.line_no += 1;
            let hit = match next_hit {
                Some(h) if h < b => {
                    next_hit = finder.as_mut().and_then(|f| f.find_from(b));
                    true
                }
                _ => false,
            };
            self.line(&text[a..b], offset + a as u64, chunk_has_nul, hit, false, obs, on_record);
        }
    }

    /// One block of whole lines: runs of plain data lines go through the bulk path, everything
    /// else (headers, the first line after one, blank lines, NULs) line by line.
    fn chunk(
        &mut self,
        text: &[u8],
        offset: u64,
        obs: &mut FileObs,
        on_record: &mut dyn FnMut(&Record<'_>, &mut FileObs),
    ) {
        let chunk_has_nul = memchr::memchr(0, text).is_some();
        if chunk_has_nul || self.gate.bulk.is_none() || self.gate.all {
            self.lines_of(text, 0, text.len(), offset, chunk_has_nul, obs, on_record);
            return;
        }
        let mut pos = 0;
        while pos < text.len() {
            let plain = self.bulk_ok
                && !self.force_parse
                && self.header.is_some()
                && !matches!(text[pos], b'#' | b'\n' | b'\r');
            if !plain {
                let line_end = memchr::memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i + 1);
                self.lines_of(text, pos, line_end, offset, false, obs, on_record);
                pos = line_end;
                continue;
            }
            // A run of data lines ends where the next directive starts.
            let end = memchr::memmem::find(&text[pos..], b"\n#").map_or(text.len(), |i| pos + i + 1);
            if !self.bulk_segment(text, pos, end, offset, obs, on_record) {
                self.lines_of(text, pos, end, offset, false, obs, on_record);
            }
            pos = end;
        }
    }

    /// The bulk path over data lines `text[from..to]` under one header: only the lines holding a
    /// literal (a detector's, or a field gate's) are looked at; the others are counted with one
    /// pass, and their times sampled at both ends of the run. Returns false, having done nothing,
    /// when the run needs the line-by-line path for exact results: a blank or over-long line, or
    /// times more than a day apart (a possible gap, which needs every line's time) or going back.
    #[allow(clippy::too_many_arguments)]
    fn bulk_segment(
        &mut self,
        text: &[u8],
        from: usize,
        to: usize,
        offset: u64,
        obs: &mut FileObs,
        on_record: &mut dyn FnMut(&Record<'_>, &mut FileObs),
    ) -> bool {
        let run = &text[from..to];
        let (newlines, blank) = lines_and_blank(run);
        if blank {
            return false;
        }
        // A line longer than `max_line` covers a whole aligned half-window with no line break.
        let half = (self.max_line / 2).max(1);
        let mut k = 0;
        while k + half <= run.len() {
            if memchr::memchr(b'\n', &run[k..k + half]).is_none() {
                return false;
            }
            k += half;
        }
        let trim = |l: &'_ [u8]| -> usize { if l.last() == Some(&b'\r') { l.len() - 1 } else { l.len() } };
        let body = if run.last() == Some(&b'\n') { &run[..run.len() - 1] } else { run };
        let last_start = memchr::memrchr(b'\n', body).map_or(0, |i| i + 1);
        let first_line = &body[..memchr::memchr(b'\n', body).unwrap_or(body.len())];
        let last_line = &body[last_start..];
        let (first_line, last_line) = (&first_line[..trim(first_line)], &last_line[..trim(last_line)]);
        let t0 = lead_time(first_line, self.dialect);
        let t1 = lead_time(last_line, self.dialect);
        match (t0, t1) {
            (Some(a), Some(b)) if b.0 >= a.0 && b.0 - a.0 <= crate::time::DAY_MS => {
                obs.time.observe(a);
                obs.time.observe(b);
            }
            _ => return false,
        }
        // `body` is `run` without a final line break.
        let lines = (newlines - (body.len() < run.len()) as usize) as u64 + 1;
        obs.lines += lines;
        self.last_lead_len = last_line.len().min(32);
        self.last_lead[..self.last_lead_len].copy_from_slice(&last_line[..self.last_lead_len]);
        self.hour_key = [0; 13];
        // Candidate lines: the first line holding any literal, then on from the end of that line.
        let base_line = self.line_no;
        let mut cursor = 0; // start of the next unexamined line in `body`
        let mut newlines_before_cursor = 0u64;
        let mut finder = self.gate.bulk.map(|b| b.finder(body));
        while let Some(h) = finder.as_mut().and_then(|f| f.find_from(cursor)) {
            let ls = memchr::memrchr(b'\n', &body[cursor..h]).map_or(cursor, |i| cursor + i + 1);
            let le = memchr::memchr(b'\n', &body[h..]).map_or(body.len(), |i| h + i);
            newlines_before_cursor += count_newlines(&body[cursor..ls]) as u64;
            self.line_no = base_line + newlines_before_cursor + 1;
            let line = &body[ls..le];
            let line = &line[..trim(line)];
            let literal_hit = self.prefilter.is_some_and(|p| p.is_match(line));
            self.line(line, offset + (from + ls) as u64, false, literal_hit, true, obs, on_record);
            if le >= body.len() {
                break;
            }
            newlines_before_cursor += 1;
            cursor = le + 1;
        }
        self.line_no = base_line + lines;
        true
    }
}

/// Line breaks in a run, and whether one is followed by another or by `\r` (a blank line), in
/// one pass. Byte-wide counters over 32-byte columns keep the loop vectorised; with AVX2 (checked
/// at run time) it runs at twice the speed of the SSE2 baseline. Separate passes (`bytecount`
/// plus a packed search for `\n\n` and `\n\r`) cost a tenth of the whole scan.
fn lines_and_blank(b: &[u8]) -> (usize, bool) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, as checked just above.
        return unsafe { lines_and_blank_avx2(b) };
    }
    lines_and_blank_portable(b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lines_and_blank_avx2(b: &[u8]) -> (usize, bool) {
    lines_and_blank_portable(b)
}

#[inline(always)]
fn lines_and_blank_portable(b: &[u8]) -> (usize, bool) {
    const COLS: usize = 32;
    let Some(&last) = b.last() else { return (0, false) };
    let (x, y) = (&b[..b.len() - 1], &b[1..]);
    let mut count = (last == b'\n') as usize;
    let mut blank = 0u8;
    // Counters are bytes: sum them every 255 rows.
    for (bx, by) in x.chunks(COLS * 255).zip(y.chunks(COLS * 255)) {
        let mut acc = [0u8; COLS];
        let mut bl = [0u8; COLS];
        let mut rows_x = bx.chunks_exact(COLS);
        let mut rows_y = by.chunks_exact(COLS);
        for (rx, ry) in (&mut rows_x).zip(&mut rows_y) {
            for i in 0..COLS {
                let nl = (rx[i] == b'\n') as u8;
                acc[i] += nl;
                bl[i] |= nl & ((ry[i] == b'\n') as u8 | (ry[i] == b'\r') as u8);
            }
        }
        count += acc.iter().map(|&a| a as usize).sum::<usize>();
        blank |= bl.iter().fold(0, |a, &v| a | v);
        for (&p, &q) in rows_x.remainder().iter().zip(rows_y.remainder()) {
            let nl = (p == b'\n') as u8;
            count += nl as usize;
            blank |= nl & ((q == b'\n') as u8 | (q == b'\r') as u8);
        }
    }
    (count, blank != 0)
}

/// Line breaks in a block (`bytecount` picks AVX2 at run time; a portable loop ran at a fifth of
/// its speed and cost more than the per-line path it replaces).
fn count_newlines(b: &[u8]) -> usize {
    bytecount::count(b, b'\n')
}

/// Reads a delimited log, calling `on_record` for every line the gate lets through (all lines
/// when `gate.all`) and for the first data line after each header.
#[allow(clippy::too_many_arguments)]
pub fn read(
    reader: &mut dyn Read,
    dialect: Dialect,
    default_header: Option<&Arc<Header>>,
    text_mode: bool,
    gate: &Gate<'_>,
    opts: &ReadOptions,
    obs: &mut FileObs,
    on_record: &mut dyn FnMut(&Record<'_>, &mut FileObs),
) -> io::Result<()> {
    let mut r = Reader {
        dialect,
        default_header,
        text_mode,
        gate,
        max_line: opts.max_line,
        prefilter: if gate.all { None } else { gate.literals },
        header: None,
        time_cols: TimeCols::None,
        parser: LineParser::new(dialect),
        line_no: 0,
        hour_key: [0; 13],
        last_lead: [0; 32],
        last_lead_len: 0,
        force_parse: true,
        used_default: false,
        gate_cols: None,
        bulk_ok: false,
        lossy_line: String::new(),
    };
    let tail = for_each_chunk(reader, opts.max_line, |chunk| match chunk {
        Chunk::LongLine { offset, len, .. } => {
            r.line_no += 1;
            obs.note_long_line(r.line_no, offset, len);
        }
        Chunk::Lines { text, offset } => r.chunk(text, offset, obs, on_record),
    });
    if r.last_lead_len > 0
        && let Some(t) = lead_time(&r.last_lead[..r.last_lead_len], dialect)
    {
        obs.time.observe(t);
    }
    if r.used_default {
        obs.note(format!(
            "no #Fields header before the first data line; assumed the standard {} columns",
            obs.kind_label
        ));
    }
    match tail {
        Ok(t) => {
            obs.bytes = t.bytes;
            if t.unterminated {
                obs.note(format!("last line has no line break (file truncated at offset {}?)", t.bytes));
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Time at the start of a line: `2021-03-03T06:49:42.162Z,...` or `2021-03-05 03:06:27 ...`.
fn lead_time(line: &[u8], dialect: Dialect) -> Option<Timestamp> {
    let end = match dialect {
        Dialect::W3c => 19.min(line.len()),
        Dialect::ExchangeCsv => memchr::memchr(b',', line).unwrap_or(line.len()).min(40),
    };
    let s = std::str::from_utf8(&line[..end]).ok()?;
    Timestamp::parse(s.trim_matches('"'))
}

/// The `n`-th field of a line, found without parsing it. `None` when it cannot be found cheaply:
/// a CSV line with quotes (separators may hide inside them), or a short line.
fn nth_field(line: &[u8], sep: u8, n: usize) -> Option<&[u8]> {
    if sep == b',' && memchr::memchr(b'"', line).is_some() {
        return None;
    }
    let mut start = 0;
    for _ in 0..n {
        start += memchr::memchr(sep, &line[start..])? + 1;
    }
    let end = memchr::memchr(sep, &line[start..]).map_or(line.len(), |e| start + e);
    Some(&line[start..end])
}

/// A `#Version` value with build number 0 (`15.0.0.0`): a format version, not an Exchange build.
fn is_placeholder_version(v: &str) -> bool {
    v.split('.').nth(2).is_some_and(|b| b.trim_start_matches('0').is_empty())
}

/// Headers parsed recently on this thread, by their `#Fields` value: a log folder holds thousands
/// of files with the same header, and building one (74 names, lowercased) per file showed up as
/// a tenth of the HttpProxy scan time.
const HEADER_CACHE: usize = 16;
thread_local! {
    static HEADERS: std::cell::RefCell<Vec<(Dialect, String, Arc<Header>)>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn header_for(value: &str, dialect: Dialect) -> Arc<Header> {
    HEADERS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((_, _, h)) = cache.iter().find(|(d, v, _)| *d == dialect && v == value) {
            return Arc::clone(h);
        }
        let names: Vec<String> = match dialect {
            Dialect::W3c => value.split_ascii_whitespace().map(str::to_string).collect(),
            Dialect::ExchangeCsv => value.split(',').map(|s| s.trim().to_string()).collect(),
        };
        let h = Arc::new(Header::new(names));
        if cache.len() >= HEADER_CACHE {
            cache.remove(0);
        }
        cache.push((dialect, value.to_string(), Arc::clone(&h)));
        h
    })
}

fn handle_directive(line: &[u8], dialect: Dialect, header: &mut Option<Arc<Header>>, obs: &mut FileObs) {
    let text = String::from_utf8_lossy(line);
    let Some((key, value)) = text[1..].split_once(':') else {
        return;
    };
    let value = value.trim();
    match key.trim().to_ascii_lowercase().as_str() {
        "fields" => {
            let new = header_for(value, dialect);
            if header.as_ref().is_some_and(|h| h.names != new.names) {
                obs.header_changes += 1;
            }
            *header = Some(new);
        }
        "log-type" => obs.log_type = Some(value.to_string()),
        "software" => obs.software = Some(value.to_string()),
        // When the log was started (by the build its `#Version` names).
        "date" if obs.created.is_none() => obs.created = Timestamp::parse(value),
        // ECP Server logs write a fixed `15.0.0.0`, which names no build.
        "version" if dialect == Dialect::ExchangeCsv && !is_placeholder_version(value) => {
            obs.build = Some(value.to_string())
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::{is_placeholder_version, lines_and_blank, lines_and_blank_portable};

    #[test]
    fn line_and_blank_counts_match_a_plain_loop() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for len in [0usize, 1, 2, 31, 32, 33, 255 * 32, 255 * 32 + 7, 20_000] {
            for round in 0..20 {
                let mut b = Vec::with_capacity(len);
                for _ in 0..len {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Mostly text, some line breaks; blank lines only in some rounds.
                    b.push(match x % 97 {
                        0..=2 => b'\n',
                        3 if round % 2 == 0 => b'\r',
                        _ => b'a' + (x % 26) as u8,
                    });
                }
                let count = b.iter().filter(|&&c| c == b'\n').count();
                let blank = b.windows(2).any(|w| w[0] == b'\n' && (w[1] == b'\n' || w[1] == b'\r'));
                assert_eq!(lines_and_blank(&b), (count, blank), "len {len} round {round}");
                assert_eq!(lines_and_blank_portable(&b), (count, blank), "len {len} round {round}");
            }
        }
    }

    #[test]
    fn ecp_format_version_is_not_a_build() {
        assert!(is_placeholder_version("15.0.0.0"));
        assert!(!is_placeholder_version("15.01.2176.002"));
        assert!(!is_placeholder_version("15.00.0847.032"));
        assert!(!is_placeholder_version("garbage"));
    }
}
