//! Header-driven delimited logs: Exchange CSV logs (HttpProxy, ECP Server, OABGenerator and any
//! other `#Software: Microsoft Exchange Server` log) and IIS W3C extended logs. Columns come from
//! each `#Fields:` line, which may change inside a file (IIS writes a new block after a restart).
//!
//! Hot path: a literal prefilter (Aho-Corasick over whole blocks) picks the lines that detectors
//! can fire on; other lines only feed the time coverage, read from the first bytes of the line.

use super::lines::{Chunk, for_each_chunk, line_ranges};
use super::prefilter::CiLiterals;
use super::{FileObs, Gate, ReadOptions};
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

/// Reads a delimited log, calling `on_record` for every line the prefilter lets through (all lines
/// when `prefilter` is `None`) and for the first data line after each header.
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
    let mut header: Option<Arc<Header>> = None;
    let mut time_cols = TimeCols::None;
    let mut parser = LineParser::new(dialect);
    let mut line_no: u64 = 0;
    let mut hour_key = [0u8; 13];
    let mut last_lead = [0u8; 32];
    let mut last_lead_len = 0usize;
    let mut force_parse = true;
    let mut used_default = false;
    let prefilter = if gate.all { None } else { gate.literals };
    // Field gates resolved against the current header; `None` when a column is missing (then
    // every line is parsed, which is always correct).
    let mut gate_cols: Option<Vec<ResolvedGate>> = None;
    let resolve = |h: &Header| -> Option<Vec<ResolvedGate>> {
        gate.fields.iter().map(|g| h.index(g.column).map(|i| (i, g.test))).collect()
    };
    let sep = if dialect == Dialect::W3c { b' ' } else { b',' };
    let mut lossy_line = String::new();

    let tail = for_each_chunk(reader, opts.max_line, |chunk| match chunk {
        Chunk::LongLine { offset, len, .. } => {
            line_no += 1;
            obs.note_long_line(line_no, offset, len);
        }
        Chunk::Lines { text, offset } => {
            let mut next_hit = next_hit_from(prefilter, text, 0);
            let chunk_has_nul = memchr::memchr(0, text).is_some();
            for (a, b) in line_ranges(text) {
                line_no += 1;
                let line = &text[a..b];
                if line.is_empty() {
                    continue;
                }
                if line.len() > opts.max_line {
                    obs.note_long_line(line_no, offset + a as u64, line.len() as u64);
                    continue;
                }
                if line[0] == b'#' {
                    handle_directive(line, dialect, &mut header, obs);
                    if let Some(h) = &header {
                        time_cols = TimeCols::of(h, dialect);
                        gate_cols = resolve(h);
                    }
                    force_parse = true;
                    continue;
                }
                if chunk_has_nul && memchr::memchr(0, line).is_some() {
                    obs.note_nul(line_no, offset + a as u64);
                    continue;
                }
                obs.lines += 1;
                if header.is_none()
                    && let Some(d) = default_header
                {
                    header = Some(Arc::clone(d));
                    time_cols = TimeCols::of(d, dialect);
                    gate_cols = resolve(d);
                    used_default = true;
                }
                // Coverage: the time at the start of the line, parsed only when the hour changes.
                if time_cols.leads_line() || (header.is_none() && text_mode) {
                    let k = line.len().min(13);
                    if line[..k] != hour_key[..k] || k < 13 {
                        hour_key[..k].copy_from_slice(&line[..k]);
                        if let Some(t) = lead_time(line, dialect) {
                            obs.time.observe(t);
                        }
                    }
                    last_lead_len = line.len().min(32);
                    last_lead[..last_lead_len].copy_from_slice(&line[..last_lead_len]);
                }
                let hit = gate.all
                    || match next_hit {
                        Some(h) if h < b => {
                            next_hit = next_hit_from(prefilter, text, b);
                            true
                        }
                        _ => false,
                    }
                    || (!gate.fields.is_empty()
                        && match &gate_cols {
                            Some(cols) => cols.iter().any(|&(i, test)| match nth_field(line, sep, i) {
                                Some(v) => std::str::from_utf8(v).map_or(true, test),
                                None => true,
                            }),
                            None => true,
                        });
                if !(hit || force_parse) {
                    continue;
                }
                force_parse = false;
                let Some(h) = header.as_ref() else {
                    if text_mode {
                        // Plain text lines (no header): detectors read the raw line only.
                        if let Ok(t) = std::str::from_utf8(line) {
                            let rec = Record {
                                line: Some(line_no),
                                record_id: None,
                                time: lead_time(line, dialect),
                                raw: t,
                                fields: Fields::Text,
                            };
                            obs.records += 1;
                            on_record(&rec, obs);
                        } else {
                            obs.note_invalid_utf8(line_no, offset + a as u64);
                            let lossy = String::from_utf8_lossy(line);
                            let rec = Record {
                                line: Some(line_no),
                                record_id: None,
                                time: None,
                                raw: &lossy,
                                fields: Fields::Text,
                            };
                            obs.records += 1;
                            on_record(&rec, obs);
                        }
                    } else {
                        obs.note_headerless(line_no);
                    }
                    continue;
                };
                let text_line: &str = match std::str::from_utf8(line) {
                    Ok(s) => s,
                    Err(_) => {
                        obs.note_invalid_utf8(line_no, offset + a as u64);
                        lossy_line.clear();
                        lossy_line.push_str(&String::from_utf8_lossy(line));
                        &lossy_line
                    }
                };
                let (values, spans) = parser.split(text_line);
                let rec_time = match time_cols {
                    TimeCols::None => None,
                    TimeCols::One(i) => {
                        spans.get(i).and_then(|&(x, y)| Timestamp::parse(&values[x as usize..y as usize]))
                    }
                    TimeCols::DateTime(d, t) => match (spans.get(d), spans.get(t)) {
                        (Some(&(a1, b1)), Some(&(a2, b2))) => {
                            let s =
                                format!("{} {}", &values[a1 as usize..b1 as usize], &values[a2 as usize..b2 as usize]);
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
                    fields: Fields::Columns { header: h, text: values, spans },
                };
                obs.records += 1;
                on_record(&rec, obs);
            }
        }
    });
    if last_lead_len > 0
        && let Some(t) = lead_time(&last_lead[..last_lead_len], dialect)
    {
        obs.time.observe(t);
    }
    if used_default {
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

fn next_hit_from(prefilter: Option<&CiLiterals>, text: &[u8], from: usize) -> Option<usize> {
    prefilter?.find_from(text, from)
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
        // ECP Server logs write a fixed `15.0.0.0`, which names no build.
        "version" if dialect == Dialect::ExchangeCsv && !is_placeholder_version(value) => {
            obs.build = Some(value.to_string())
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::is_placeholder_version;

    #[test]
    fn ecp_format_version_is_not_a_build() {
        assert!(is_placeholder_version("15.0.0.0"));
        assert!(!is_placeholder_version("15.01.2176.002"));
        assert!(!is_placeholder_version("15.00.0847.032"));
        assert!(!is_placeholder_version("garbage"));
    }
}
