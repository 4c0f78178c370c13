//! Windows events from three forms: binary EVTX (the `evtx` crate, rendered to XML), the XML
//! export of `wevtutil qe /f:xml` (or `/f:RenderedXml`), and evtx_dump JSON (one object per line,
//! or its `Record N` + pretty JSON form). The EVTX and XML forms share one XML event parser, so
//! both give the same fields for the same event.

use super::lines::{Chunk, for_each_chunk, line_ranges};
use super::{FileObs, ReadOptions};
use crate::record::{EventRecord, Fields, Record};
use crate::time::Timestamp;
use quick_xml::events::{BytesRef, BytesStart, BytesText, Event};
use std::borrow::Cow;
use std::io::{self, Read, Seek};

/// A seekable reader (EVTX needs random access to chunks).
pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

fn emit(ev: &EventRecord, obs: &mut FileObs, on_record: &mut dyn FnMut(&Record<'_>, &mut FileObs)) {
    if let Some(t) = ev.time {
        obs.time.observe(t);
    }
    if !ev.channel.is_empty() {
        // Looked up before inserting: a file holds one channel, so its name is copied once.
        match obs.channels.get_mut(&ev.channel) {
            Some(n) => *n += 1,
            None => {
                obs.channels.insert(ev.channel.clone(), 1);
            }
        }
    }
    if !ev.computer.is_empty() {
        obs.hint_host(&ev.computer);
    }
    obs.records += 1;
    let rec = Record { line: None, record_id: ev.record_id, time: ev.time, raw: "", fields: Fields::Event(ev) };
    on_record(&rec, obs);
}

/// Literals that every record a detector can fire on contains, searched case-insensitively in the
/// raw bytes of each 64 KiB EVTX chunk, both as UTF-16LE (how EVTX stores strings) and as ASCII
/// (ANSI string values). A chunk holding none of them is not rendered at all: only its record
/// headers are walked, for the record count and times the inventory needs.
///
/// Rendering through the `evtx` crate runs at about 50 MB/s per core; walking record headers runs
/// at memory speed, so logs full of unrelated events (Security, System, busy Application logs)
/// cost almost nothing. Templates and string tables live in the chunk too, so a literal that is a
/// template's static text is found as well.
pub struct EvtxAnchors {
    searcher: aho_corasick::AhoCorasick,
}

impl EvtxAnchors {
    /// `None` when there are no literals (every record must then be rendered).
    pub fn new(literals: &[&str]) -> Option<EvtxAnchors> {
        if literals.is_empty() {
            return None;
        }
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        for l in literals {
            patterns.push(l.as_bytes().to_vec());
            patterns.push(l.encode_utf16().flat_map(u16::to_le_bytes).collect());
        }
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&patterns)
            .ok()
            .map(|searcher| EvtxAnchors { searcher })
    }

    fn in_chunk(&self, data: &[u8]) -> bool {
        self.searcher.is_match(data)
    }
}

/// Reads a binary EVTX file. Corrupt chunks and records are reported and skipped; the records
/// around them are still read. With `anchors`, chunks without any of them are only walked for
/// record times (see [`EvtxAnchors`]); the first chunk is always rendered, to learn the
/// file's channel and computer.
pub fn read_evtx(
    input: &mut dyn ReadSeek,
    anchors: Option<&EvtxAnchors>,
    obs: &mut FileObs,
    on_record: &mut dyn FnMut(&Record<'_>, &mut FileObs),
) -> io::Result<()> {
    let size = input.seek(io::SeekFrom::End(0))?;
    input.seek(io::SeekFrom::Start(0))?;
    obs.bytes = size;
    let parser = evtx::EvtxParser::from_read_seek(input)
        .map_err(|e| io::Error::other(format!("not a readable EVTX file: {e}")))?;
    // A copy cut short loses its last chunk silently in the parser: say so.
    let header = parser.header();
    let block = u64::from(header.header_block_size.max(1));
    let whole_chunks = size.saturating_sub(block) / 65536;
    let partial = size.saturating_sub(block) % 65536;
    if partial != 0 {
        obs.note(format!(
            "truncated EVTX: {partial} bytes of a partial chunk at offset {} not read (file cut short?)",
            block + whole_chunks * 65536
        ));
    }
    if u64::from(header.chunk_count) > whole_chunks {
        obs.note(format!(
            "truncated EVTX: the header lists {} chunks, the file holds {whole_chunks}",
            header.chunk_count
        ));
    }
    if !header.validate_checksum() {
        obs.note("EVTX file header checksum mismatch (header damaged; chunks read anyway)".into());
    }
    let settings = evtx::ParserSettings::new().num_threads(1).validate_checksums(true);
    let shared_settings = std::sync::Arc::new(settings.clone());
    let mut parser = parser.with_configuration(settings);
    let mut xml = XmlEventParser::default();
    let mut errors = 0u64;
    let mut first_error = None;
    let mut rendered_any = false;
    let mut file_channel: Option<String> = None;
    for chunk in parser.chunks() {
        let mut chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                errors += 1;
                first_error.get_or_insert_with(|| e.to_string());
                continue;
            }
        };
        let render = !rendered_any || anchors.is_none_or(|a| a.in_chunk(&chunk.data));
        if !render {
            walk_record_headers(&chunk, file_channel.as_deref(), obs);
            continue;
        }
        let mut parsed = match chunk.parse(shared_settings.clone()) {
            Ok(p) => p,
            Err(e) => {
                errors += 1;
                first_error.get_or_insert_with(|| e.to_string());
                continue;
            }
        };
        for item in parsed.iter() {
            match item.and_then(|r| r.into_xml()) {
                Ok(rec) => {
                    rendered_any = true;
                    let result = xml.feed_document(&rec.data, &mut |ev| {
                        ev.record_id = ev.record_id.or(Some(rec.event_record_id));
                        if file_channel.is_none() && !ev.channel.is_empty() {
                            file_channel = Some(ev.channel.clone());
                        }
                        emit(ev, obs, on_record);
                    });
                    if let Err(e) = result {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("record {}: {e}", rec.event_record_id));
                    }
                }
                Err(e) => {
                    errors += 1;
                    first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
    if errors > 0 {
        obs.note(format!(
            "{errors} corrupt EVTX chunk(s) or record(s) skipped (first: {})",
            first_error.unwrap_or_default()
        ));
    }
    Ok(())
}

/// Counts the live records of a chunk that is not rendered and observes their times, from the
/// 24-byte record headers alone. A file holds one channel, so they count toward `channel`.
fn walk_record_headers(chunk: &evtx::EvtxChunkData, channel: Option<&str>, obs: &mut FileObs) {
    const CHUNK_HEADER: usize = 512;
    let live_end = (chunk.header.free_space_offset as usize).min(chunk.data.len());
    let mut offset = CHUNK_HEADER;
    let mut n = 0u64;
    while offset + 24 <= live_end {
        let Ok(h) = evtx::EvtxRecordHeader::from_bytes_at(&chunk.data, offset) else { break };
        if (h.data_size as usize) < 28 || offset + h.data_size as usize > live_end {
            break;
        }
        obs.time.observe(Timestamp(h.timestamp.as_millisecond()));
        n += 1;
        offset += h.data_size as usize;
        if h.event_record_id == chunk.header.last_event_record_id {
            break;
        }
    }
    obs.records += n;
    if let Some(c) = channel {
        *obs.channels.entry(c.to_string()).or_insert(0) += n;
    }
}

/// Reads a `wevtutil qe /f:xml` export (events one after another, with or without a root element).
pub fn read_event_xml(
    input: &mut dyn Read,
    obs: &mut FileObs,
    on_record: &mut dyn FnMut(&Record<'_>, &mut FileObs),
) -> io::Result<()> {
    let mut counting = CountingReader { inner: input, count: 0 };
    let buffered = io::BufReader::with_capacity(256 * 1024, &mut counting);
    let mut reader = quick_xml::Reader::from_reader(buffered);
    let mut xml = XmlEventParser::default();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let res = reader.read_event_into(&mut buf);
        match res {
            Ok(Event::Eof) => break,
            Ok(event) => {
                if xml.handle(event) {
                    emit(&xml.cur, obs, on_record);
                }
            }
            Err(e) => {
                obs.note(format!(
                    "malformed XML at offset {}: {e}; the rest of the file was not read",
                    reader.error_position()
                ));
                break;
            }
        }
    }
    if xml.in_event {
        obs.note("file ends inside an <Event> element (truncated export)".to_string());
    }
    obs.bytes = reader.buffer_position();
    Ok(())
}

struct CountingReader<'a> {
    inner: &'a mut dyn Read,
    count: u64,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// The elements an [`EventRecord`] is built from, by local name; every other element is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Elem {
    Event,
    System,
    Provider,
    EventId,
    Level,
    TimeCreated,
    EventRecordId,
    Channel,
    Computer,
    EventData,
    Data,
    UserData,
    RenderingInfo,
    Message,
    Other,
}

impl Elem {
    fn of(local_name: &str) -> Elem {
        match local_name {
            "Event" => Elem::Event,
            "System" => Elem::System,
            "Provider" => Elem::Provider,
            "EventID" => Elem::EventId,
            "Level" => Elem::Level,
            "TimeCreated" => Elem::TimeCreated,
            "EventRecordID" => Elem::EventRecordId,
            "Channel" => Elem::Channel,
            "Computer" => Elem::Computer,
            "EventData" => Elem::EventData,
            "Data" => Elem::Data,
            "UserData" => Elem::UserData,
            "RenderingInfo" => Elem::RenderingInfo,
            "Message" => Elem::Message,
            _ => Elem::Other,
        }
    }
}

/// An open element.
#[derive(Clone, Copy, Debug)]
struct Open {
    elem: Elem,
    /// Whether it has child elements (UserData leaves are the childless ones).
    had_child: bool,
}

/// Strings kept from earlier records for later ones, so a record's values need no allocation.
const SPARE_STRINGS: usize = 1024;

/// Streaming XML → [`EventRecord`] builder, shared by EVTX and wevtutil exports. It builds one
/// record at a time in place (`cur`, handed out when its `</Event>` is seen) and reuses the
/// record's strings for the next: allocating every name and value took a quarter of the time
/// spent reading EVTX.
#[derive(Default)]
struct XmlEventParser {
    /// Open elements, innermost last. Kept from one EVTX record to the next, as they always
    /// were: a record whose XML is malformed leaves its elements open.
    open: Vec<Open>,
    /// How many of `open` are `UserData`.
    user_data_open: usize,
    cur: EventRecord,
    /// Text since the last start or end tag.
    text: String,
    /// `Name` of the last `<Data>` element, while `has_data_name`.
    data_name: String,
    has_data_name: bool,
    in_event: bool,
    /// Strings of earlier records, emptied, for the values of later ones.
    spare: Vec<String>,
    /// Scratch space of [`scan_document`], kept for the next document.
    tokens: Vec<Token>,
    scan_open: Vec<(u32, u32)>,
}

fn local(name: &str) -> &str {
    // A byte loop: names are short, and `rfind` costs more to set up than to run here.
    match name.bytes().rposition(|b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

fn attr<'a>(e: &'a BytesStart<'_>, key: &str) -> Option<Cow<'a, str>> {
    if let Some(found) = plain_attr(e.attributes_raw(), key) {
        return found.map(Cow::Borrowed);
    }
    e.attributes()
        .flatten()
        .find(|a| local(a.key.as_ref()) == key)
        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

const fn byte_set(bytes: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
}

/// Bytes that end a name in a plain tag: XML white space, `>`, `/`, quotes and `=`.
const ENDS_NAME: [bool; 256] = byte_set(b" \t\r\n>/\"'=");

/// The value of the first attribute whose local name is `key`, found without quick_xml's
/// attribute iterator (which allocates to check for duplicates) when the attributes up to it are
/// plain: `name="value"`, values with nothing to unescape or normalise, and distinct names (after
/// a duplicate, quick_xml goes on from inside its value). `None` when they are not; quick_xml
/// must then decide.
fn plain_attr<'a>(attrs: &'a str, key: &str) -> Option<Option<&'a str>> {
    const MAX_SEEN: usize = 8;
    let b = attrs.as_bytes();
    let mut seen = [(0usize, 0usize); MAX_SEEN];
    let mut n_seen = 0;
    let mut i = 0;
    loop {
        while i < b.len() && is_xml_space(b[i]) {
            i += 1;
        }
        if i == b.len() {
            return Some(None);
        }
        if matches!(b[i], b'=' | b'"' | b'\'') {
            return None;
        }
        let name_from = i;
        while i < b.len() && !ENDS_NAME[b[i] as usize] {
            i += 1;
        }
        let name_to = i;
        if b.get(i) != Some(&b'=') || b.get(i + 1) != Some(&b'"') {
            return None;
        }
        let value_from = i + 2;
        // The value ends at its quote, unless quick_xml would replace something before it.
        let value_to = value_from + find_byte(&b[value_from..], [b'"', b'&', b'\t', b'\r', b'\n'])?;
        if b[value_to] != b'"' {
            return None;
        }
        let name = &b[name_from..name_to];
        if n_seen == MAX_SEEN || seen[..n_seen].iter().any(|&(f, t)| &b[f..t] == name) {
            return None;
        }
        seen[n_seen] = (name_from, name_to);
        n_seen += 1;
        let name = attrs.get(name_from..name_to)?;
        if local(name) == key {
            return Some(Some(attrs.get(value_from..value_to)?));
        }
        i = value_to + 1;
    }
}

/// One piece of markup of a document read by [`scan_document`], as byte offsets into it.
#[derive(Clone, Copy, Debug)]
enum Token {
    /// A start tag's content (between `<` and `>`) and the length of its name.
    Start {
        from: u32,
        to: u32,
        name_len: u32,
    },
    /// An empty element's content (between `<` and `/>`) and the length of its name.
    Empty {
        from: u32,
        to: u32,
        name_len: u32,
    },
    /// An end tag's name.
    End {
        from: u32,
        to: u32,
    },
    Text {
        from: u32,
        to: u32,
    },
    /// An entity or character reference, without `&` and `;`.
    Ref {
        from: u32,
        to: u32,
    },
}

/// The first byte of `b` that is one of `set`, looked for eight bytes at a time: the names,
/// values and runs of text searched here are mostly short, where memchr costs more to set up
/// than to run.
fn find_byte<const N: usize>(b: &[u8], set: [u8; N]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else { break };
        let word = u64::from_le_bytes(bytes);
        // A high bit per byte equal to one of `set`; the lowest one set is always a true match.
        let mut hits = 0;
        for c in set {
            let x = word ^ (ONES * u64::from(c));
            hits |= x.wrapping_sub(ONES) & !x & HIGHS;
        }
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|c| set.contains(c)).map(|p| at + p)
}

/// The length of the text at the start of `b`, up to the next `<` or `&`.
fn text_run(b: &[u8]) -> Option<usize> {
    // Most runs are short (indentation, small values): look at them before calling memchr.
    const SHORT: usize = 16;
    match find_byte(&b[..b.len().min(SHORT)], [b'<', b'&']) {
        Some(p) => Some(p),
        None if b.len() <= SHORT => None,
        None => memchr::memchr2(b'<', b'&', &b[SHORT..]).map(|p| p + SHORT),
    }
}

/// Whether `b` starts with `prefix`; a loop, as the names compared are a few bytes long.
fn same_bytes(prefix: &[u8], b: &[u8]) -> bool {
    prefix.len() <= b.len() && prefix.iter().zip(b).all(|(x, y)| x == y)
}

/// The `>` that closes the tag starting at `from`, skipping quoted attribute values.
fn tag_end(b: &[u8], from: usize) -> Option<usize> {
    let mut quote = 0u8;
    for i in memchr::memchr3_iter(b'>', b'\'', b'"', &b[from..]) {
        let c = b[from + i];
        if quote == 0 {
            if c == b'>' {
                return Some(from + i);
            }
            quote = c;
        } else if c == quote {
            quote = 0;
        }
    }
    None
}

/// The end of a tag of plain `name="value"` attributes (nearly every tag the `evtx` crate
/// renders) and the length of its name, found without searching; `None` for any other tag, to be
/// left to [`tag_end`].
fn plain_tag_end(b: &[u8], from: usize) -> Option<(usize, usize)> {
    let name_end = |mut i: usize| {
        while i < b.len() && !ENDS_NAME[b[i] as usize] {
            i += 1;
        }
        i
    };
    let mut i = name_end(from + 1);
    let name_len = i - (from + 1);
    loop {
        match *b.get(i)? {
            b'>' => return Some((i, name_len)),
            b'/' => return (b.get(i + 1) == Some(&b'>')).then_some((i + 1, name_len)),
            c if is_xml_space(c) => {
                while i < b.len() && is_xml_space(b[i]) {
                    i += 1;
                }
                match *b.get(i)? {
                    b'>' | b'/' => continue,
                    c if ENDS_NAME[c as usize] => return None,
                    _ => {}
                }
                i = name_end(i);
                if b.get(i) != Some(&b'=') || b.get(i + 1) != Some(&b'"') {
                    return None;
                }
                i += 2;
                i += memchr::memchr(b'"', &b[i..])? + 1;
            }
            _ => return None,
        }
    }
}

/// Splits one XML document into the events quick_xml's reader would give for it, when it is made
/// of elements, text, references and processing instructions only, with every element closed by
/// a matching end tag: what the `evtx` crate renders. False for anything else (comments, CDATA,
/// a DOCTYPE, a byte-order mark, malformed markup), which is then left to quick_xml.
///
/// Why: once the parser stopped allocating, quick_xml's reader was most of what was left. On
/// records of the benchmark mix (about 100 reader events each; `tests::parse_speed`), quick_xml's
/// reader and the parser take 4.7 µs per record (52k instructions), this scan 0.8 µs (11k), the
/// scan and the same parser on its tokens 2.0 µs (25k). Where a rule here mirrors quick_xml, it
/// says so; the tests compare the two on rendered records and on mutated markup.
fn scan_document(xml: &str, tokens: &mut Vec<Token>, open: &mut Vec<(u32, u32)>) -> bool {
    tokens.clear();
    open.clear();
    let b = xml.as_bytes();
    if u32::try_from(b.len()).is_err() || b.starts_with(b"\xEF\xBB\xBF") {
        return false;
    }
    let at = |i: usize| i as u32;
    let mut i = 0;
    while i < b.len() {
        let Some(run) = text_run(&b[i..]) else {
            tokens.push(Token::Text { from: at(i), to: at(b.len()) });
            break;
        };
        if run > 0 {
            tokens.push(Token::Text { from: at(i), to: at(i + run) });
        }
        i += run;
        if b[i] == b'&' {
            // quick_xml: a reference ends at the first `;`, and an `&` or `<` before it is an error.
            match memchr::memchr3(b';', b'&', b'<', &b[i + 1..]) {
                Some(len) if b[i + 1 + len] == b';' => {
                    tokens.push(Token::Ref { from: at(i + 1), to: at(i + 1 + len) });
                    i += len + 2;
                }
                _ => return false,
            }
            continue;
        }
        match b.get(i + 1) {
            None | Some(b'!') => return false,
            Some(b'?') => {
                // quick_xml: the first `>` after a `?` ends it; `<?>` is an error.
                let Some(len) = memchr::memchr_iter(b'>', &b[i..]).find(|&r| b[i + r - 1] == b'?') else {
                    return false;
                };
                if len <= 2 {
                    return false;
                }
                i += len + 1;
            }
            Some(b'/') => {
                let Some((from, to)) = open.pop() else { return false };
                let expected = &b[from as usize..to as usize];
                let name_from = i + 2;
                let quick_end = name_from + expected.len();
                // The end tag expected is nearly always there, as `</name>` (a start tag's name has
                // no quotes, see below, so that `>` ends the tag).
                let (name_to, end) = if same_bytes(expected, &b[name_from..]) && b.get(quick_end) == Some(&b'>') {
                    (quick_end, quick_end)
                } else {
                    let Some(end) = tag_end(b, i) else { return false };
                    // quick_xml: white space after the name is dropped, the rest must equal the start's name.
                    let content = &b[name_from..end];
                    let name_len = content.iter().rposition(|&c| !is_xml_space(c)).map_or(content.len(), |p| p + 1);
                    if expected != &content[..name_len] {
                        return false;
                    }
                    (name_from + name_len, end)
                };
                tokens.push(Token::End { from: at(name_from), to: at(name_to) });
                i = end + 1;
            }
            Some(_) => {
                let (end, name_len) = match plain_tag_end(b, i) {
                    Some(found) => found,
                    None => {
                        let Some(end) = tag_end(b, i) else { return false };
                        // quick_xml: `/>` ends an empty element; its name ends at white space.
                        let content_end = if end >= i + 2 && b[end - 1] == b'/' { end - 1 } else { end };
                        let content = &b[i + 1..content_end];
                        let name_len = content.iter().position(|&c| is_xml_space(c)).unwrap_or(content.len());
                        // A quote in a name would start a quoted part of its end tag for quick_xml.
                        if content[..name_len].iter().any(|&c| c == b'"' || c == b'\'') {
                            return false;
                        }
                        (end, name_len)
                    }
                };
                let empty = end >= i + 2 && b[end - 1] == b'/';
                let content_end = if empty { end - 1 } else { end };
                if name_len == 0 {
                    return false;
                }
                let (from, to, name_len) = (at(i + 1), at(content_end), at(name_len));
                // Text before a start tag is dropped by the parser unread: leave it out.
                while matches!(tokens.last(), Some(Token::Text { .. } | Token::Ref { .. })) {
                    tokens.pop();
                }
                if empty {
                    tokens.push(Token::Empty { from, to, name_len });
                } else {
                    open.push((from, from + name_len));
                    tokens.push(Token::Start { from, to, name_len });
                }
                i = end + 1;
            }
        }
    }
    open.is_empty()
}

impl XmlEventParser {
    /// Parses one XML document, calling `on_event` with each event closed in it. Stops at the
    /// first malformed markup, leaving what it has read in place.
    fn feed_str(&mut self, xml: &str, on_event: &mut dyn FnMut(&mut EventRecord)) -> quick_xml::Result<()> {
        let mut reader = quick_xml::Reader::from_str(xml);
        loop {
            match reader.read_event()? {
                Event::Eof => return Ok(()),
                ev => {
                    if self.handle(ev) {
                        on_event(&mut self.cur);
                    }
                }
            }
        }
    }

    /// Like [`Self::feed_str`], through [`scan_document`] when the document allows it.
    fn feed_document(&mut self, xml: &str, on_event: &mut dyn FnMut(&mut EventRecord)) -> quick_xml::Result<()> {
        let mut tokens = std::mem::take(&mut self.tokens);
        let mut open = std::mem::take(&mut self.scan_open);
        let simple = scan_document(xml, &mut tokens, &mut open);
        if simple {
            let text = |from: u32, to: u32| xml.get(from as usize..to as usize).unwrap_or_default();
            // Without a CR there are no line ends to normalise, and text goes in as it is.
            let has_cr = memchr::memchr(b'\r', xml.as_bytes()).is_some();
            // The calls `handle` makes for the events quick_xml would give.
            for &token in &tokens {
                let closed_event = match token {
                    Token::Start { from, to, name_len } | Token::Empty { from, to, name_len } => {
                        let tag = BytesStart::from_content(text(from, to), name_len as usize);
                        let name = text(from, from + name_len);
                        self.start(name, &tag);
                        matches!(token, Token::Empty { .. }) && self.end(name)
                    }
                    Token::End { from, to } => self.end(text(from, to)),
                    Token::Text { from, to } if !has_cr => {
                        self.text.push_str(text(from, to));
                        false
                    }
                    Token::Text { from, to } => {
                        self.text.push_str(&BytesText::from_escaped(text(from, to)).xml10_content());
                        false
                    }
                    Token::Ref { from, to } => {
                        self.reference(&BytesRef::new(text(from, to)));
                        false
                    }
                };
                if closed_event {
                    on_event(&mut self.cur);
                }
            }
        }
        self.tokens = tokens;
        self.scan_open = open;
        if simple { Ok(()) } else { self.feed_str(xml, on_event) }
    }

    fn spare_string(&mut self) -> String {
        let mut s = self.spare.pop().unwrap_or_default();
        s.clear();
        s
    }

    fn recycle(&mut self, s: String) {
        if self.spare.len() < SPARE_STRINGS {
            self.spare.push(s);
        }
    }

    /// The text so far, leaving `text` empty.
    fn take_text(&mut self) -> String {
        let mut s = self.spare_string();
        std::mem::swap(&mut s, &mut self.text);
        s
    }

    /// Empties `cur` for the next event, keeping its strings for reuse.
    fn reset_record(&mut self) {
        let mut data = std::mem::take(&mut self.cur.data);
        for (name, value) in data.drain(..) {
            if let Some(n) = name {
                self.recycle(n);
            }
            self.recycle(value);
        }
        if let Some(m) = self.cur.message.take() {
            self.recycle(m);
        }
        let ev = &mut self.cur;
        ev.data = data;
        ev.record_id = None;
        ev.time = None;
        ev.channel.clear();
        ev.provider.clear();
        ev.event_id = None;
        ev.level = None;
        ev.computer.clear();
    }

    /// Opens an element named `name`, the name of tag `e`.
    fn start(&mut self, name: &str, e: &BytesStart<'_>) {
        let elem = Elem::of(local(name));
        if let Some(parent) = self.open.last_mut() {
            parent.had_child = true;
        }
        match elem {
            Elem::Event => {
                self.reset_record();
                self.in_event = true;
            }
            Elem::Provider if self.in_event => {
                if let Some(n) = attr(e, "Name").or_else(|| attr(e, "EventSourceName")) {
                    self.cur.provider.clear();
                    self.cur.provider.push_str(&n);
                }
            }
            Elem::TimeCreated => {
                if let Some(t) = attr(e, "SystemTime") {
                    self.cur.time = Timestamp::parse(&t);
                }
            }
            Elem::Data => {
                self.has_data_name = false;
                if let Some(n) = attr(e, "Name") {
                    self.data_name.clear();
                    self.data_name.push_str(&n);
                    self.has_data_name = true;
                }
            }
            Elem::UserData => self.user_data_open += 1,
            _ => {}
        }
        self.open.push(Open { elem, had_child: false });
        self.text.clear();
    }

    /// Closes the innermost element, named `name`. True when it closed an event, now in `cur`.
    fn end(&mut self, name: &str) -> bool {
        let n = self.open.len();
        let Some(&Open { elem, had_child }) = self.open.last() else {
            return false;
        };
        let parent = if n >= 2 { self.open[n - 2].elem } else { Elem::Other };
        let mut closed_event = false;
        if self.in_event {
            match (parent, elem) {
                (Elem::System, Elem::EventId) => self.cur.event_id = self.text.trim().parse().ok(),
                (Elem::System, Elem::Level) => self.cur.level = self.text.trim().parse().ok(),
                (Elem::System, Elem::EventRecordId) => self.cur.record_id = self.text.trim().parse().ok(),
                (Elem::System, Elem::Channel) => std::mem::swap(&mut self.cur.channel, &mut self.text),
                (Elem::System, Elem::Computer) => std::mem::swap(&mut self.cur.computer, &mut self.text),
                (Elem::EventData, Elem::Data) => {
                    let data_name = if self.has_data_name {
                        let mut s = self.spare_string();
                        std::mem::swap(&mut s, &mut self.data_name);
                        Some(s)
                    } else {
                        None
                    };
                    self.has_data_name = false;
                    let value = self.take_text();
                    self.cur.data.push((data_name, value));
                }
                (Elem::RenderingInfo, Elem::Message) => {
                    let message = self.take_text();
                    if let Some(old) = self.cur.message.replace(message) {
                        self.recycle(old);
                    }
                }
                (_, Elem::Event) => {
                    closed_event = true;
                    self.in_event = false;
                }
                _ => {
                    if !had_child && self.user_data_open > 0 && elem != Elem::UserData {
                        let mut key = self.spare_string();
                        key.push_str(local(name));
                        let value = self.take_text();
                        self.cur.data.push((Some(key), value));
                    }
                }
            }
        }
        self.text.clear();
        self.open.pop();
        if elem == Elem::UserData {
            self.user_data_open -= 1;
        }
        closed_event
    }

    /// Takes one reader event. True when it closed an event, now in `cur`.
    fn handle(&mut self, event: Event<'_>) -> bool {
        match event {
            Event::Start(e) => {
                self.start(e.name().as_ref(), &e);
                false
            }
            Event::Empty(e) => {
                self.start(e.name().as_ref(), &e);
                self.end(e.name().as_ref())
            }
            Event::End(e) => self.end(e.name().as_ref()),
            Event::Text(t) => {
                self.text.push_str(&t.xml10_content());
                false
            }
            Event::CData(t) => {
                self.text.push_str(&t);
                false
            }
            Event::GeneralRef(r) => {
                self.reference(&r);
                false
            }
            _ => false,
        }
    }

    /// Appends what an entity or character reference stands for (nothing for an unknown one).
    fn reference(&mut self, r: &BytesRef<'_>) {
        match r.resolve_char_ref() {
            Ok(Some(c)) => self.text.push(c),
            _ => self.text.push_str(match &**r {
                "lt" => "<",
                "gt" => ">",
                "amp" => "&",
                "quot" => "\"",
                "apos" => "'",
                _ => "",
            }),
        }
    }
}

/// Reads evtx_dump JSON: one object per line, or `Record N` lines each followed by pretty JSON.
pub fn read_event_json(
    input: &mut dyn Read,
    opts: &ReadOptions,
    obs: &mut FileObs,
    on_record: &mut dyn FnMut(&Record<'_>, &mut FileObs),
) -> io::Result<()> {
    let mut pending = String::new();
    let mut line_no = 0u64;
    let mut bad = BadJson::default();
    let mut flush = |pending: &mut String, at_line: u64, obs: &mut FileObs, bad: &mut BadJson| {
        if pending.trim().is_empty() {
            pending.clear();
            return;
        }
        match serde_json::from_str::<serde_json::Value>(pending) {
            Ok(v) => {
                if let Some(ev) = event_from_json(&v) {
                    emit(&ev, obs, on_record);
                }
            }
            Err(e) => bad.hit(format!("line {at_line}: {e}")),
        }
        pending.clear();
    };
    let mut block_start = 1u64;
    let tail = for_each_chunk(input, opts.max_line, |chunk| match chunk {
        Chunk::LongLine { offset, len, .. } => {
            line_no += 1;
            obs.note_long_line(line_no, offset, len);
        }
        Chunk::Lines { text, .. } => {
            for (a, b) in line_ranges(text) {
                line_no += 1;
                let line = String::from_utf8_lossy(&text[a..b]);
                let t = line.trim();
                if t.starts_with("Record ") && t[7..].trim().chars().all(|c| c.is_ascii_digit()) {
                    flush(&mut pending, block_start, obs, &mut bad);
                    block_start = line_no + 1;
                    continue;
                }
                if pending.is_empty() && t.starts_with('{') && t.ends_with('}') {
                    // JSON lines: try the line on its own first.
                    pending.push_str(t);
                    flush(&mut pending, line_no, obs, &mut bad);
                    block_start = line_no + 1;
                    continue;
                }
                if pending.is_empty() {
                    block_start = line_no;
                }
                if pending.len() + t.len() > opts.max_line {
                    bad.hit(format!("line {block_start}: JSON object over {} bytes", opts.max_line));
                    pending.clear();
                    continue;
                }
                pending.push_str(&line);
                pending.push('\n');
            }
        }
    });
    flush(&mut pending, block_start, obs, &mut bad);
    if bad.count > 0 {
        obs.note(format!(
            "{} JSON record(s) could not be parsed (first: {})",
            bad.count,
            bad.first.unwrap_or_default()
        ));
    }
    let tail = tail?;
    obs.bytes = tail.bytes;
    Ok(())
}

#[derive(Default)]
struct BadJson {
    count: u64,
    first: Option<String>,
}

impl BadJson {
    fn hit(&mut self, what: String) {
        self.count += 1;
        self.first.get_or_insert(what);
    }
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(o) => o.get("#text").map(json_text).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn json_u64(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        serde_json::Value::Object(o) => o.get("#text").and_then(json_u64),
        _ => None,
    }
}

/// Converts the evtx crate / evtx_dump JSON shape (`{"Event": {"System": .., "EventData": ..}}`)
/// to an [`EventRecord`]. Flat exports (top-level `Channel`, `EventID`, ...) and Winlogbeat/ECS
/// documents (`winlog.channel`, `winlog.event_data.*`, `event.code`) are accepted too.
pub fn event_from_json(v: &serde_json::Value) -> Option<EventRecord> {
    if let Some(w) = v.get("winlog").and_then(|w| w.as_object()) {
        return Some(event_from_winlogbeat(v, w));
    }
    let root = v.get("Event").unwrap_or(v);
    let obj = root.as_object()?;
    let mut ev = EventRecord::default();
    if let Some(sys) = obj.get("System").and_then(|s| s.as_object()) {
        if let Some(p) = sys.get("Provider") {
            let attrs = p.get("#attributes").unwrap_or(p);
            ev.provider = attrs.get("Name").or_else(|| attrs.get("EventSourceName")).map(json_text).unwrap_or_default();
        }
        ev.event_id = sys.get("EventID").and_then(json_u64).map(|v| v as u32);
        ev.level = sys.get("Level").and_then(json_u64).map(|v| v as u8);
        ev.record_id = sys.get("EventRecordID").and_then(json_u64);
        ev.channel = sys.get("Channel").map(json_text).unwrap_or_default();
        ev.computer = sys.get("Computer").map(json_text).unwrap_or_default();
        if let Some(tc) = sys.get("TimeCreated") {
            let attrs = tc.get("#attributes").unwrap_or(tc);
            ev.time = attrs.get("SystemTime").and_then(|s| Timestamp::parse(&json_text(s)));
        }
        if let Some(ed) = obj.get("EventData") {
            push_event_data(ed, &mut ev.data);
        }
        if let Some(ud) = obj.get("UserData") {
            flatten_leaves(None, ud, &mut ev.data);
        }
        if let Some(m) = obj.get("RenderingInfo").and_then(|r| r.get("Message")) {
            ev.message = Some(json_text(m));
        }
        return Some(ev);
    }
    // Flat form (NXLog and similar): well-known keys, everything else is event data.
    let mut any = false;
    for (k, val) in obj {
        let text = json_text(val);
        match k.as_str() {
            "Channel" => ev.channel = text,
            "EventID" | "EventId" => ev.event_id = json_u64(val).map(|v| v as u32),
            "Level" => ev.level = json_u64(val).map(|v| v as u8),
            "SourceName" | "ProviderName" | "Provider" | "Provider_Name" => ev.provider = text,
            "Hostname" | "Computer" => ev.computer = text,
            "RecordNumber" | "EventRecordID" => ev.record_id = json_u64(val),
            "TimeCreated" | "EventTime" | "@timestamp" => ev.time = Timestamp::parse(&text),
            "Message" => ev.message = Some(text),
            _ => {
                ev.data.push((Some(k.clone()), text));
                continue;
            }
        }
        any = true;
    }
    any.then_some(ev)
}

/// A Winlogbeat (Elastic Common Schema) document.
fn event_from_winlogbeat(v: &serde_json::Value, w: &serde_json::Map<String, serde_json::Value>) -> EventRecord {
    let text = |x: Option<&serde_json::Value>| x.map(json_text).unwrap_or_default();
    let mut ev = EventRecord {
        channel: text(w.get("channel")),
        provider: text(w.get("provider_name")),
        computer: text(w.get("computer_name").or_else(|| v.get("host").and_then(|h| h.get("name")))),
        record_id: w.get("record_id").and_then(json_u64),
        event_id: w
            .get("event_id")
            .and_then(json_u64)
            .or_else(|| v.get("event").and_then(|e| e.get("code")).and_then(json_u64))
            .map(|id| id as u32),
        time: v.get("@timestamp").and_then(|t| Timestamp::parse(&json_text(t))),
        message: v.get("message").map(json_text),
        ..EventRecord::default()
    };
    for section in ["event_data", "user_data"] {
        if let Some(obj) = w.get(section).and_then(|d| d.as_object()) {
            for (k, val) in obj {
                ev.data.push((Some(k.clone()), json_text(val)));
            }
        }
    }
    ev
}

fn push_event_data(ed: &serde_json::Value, out: &mut Vec<(Option<String>, String)>) {
    let Some(obj) = ed.as_object() else {
        return;
    };
    for (k, v) in obj {
        match k.as_str() {
            "#attributes" | "Binary" => {}
            "Data" => match v {
                serde_json::Value::Array(items) => {
                    for it in items {
                        let name = it.get("#attributes").and_then(|a| a.get("Name")).map(json_text);
                        out.push((name, json_text(it)));
                    }
                }
                serde_json::Value::Object(o) => match o.get("#text") {
                    Some(serde_json::Value::Array(items)) => {
                        out.extend(items.iter().map(|i| (None, json_text(i))));
                    }
                    Some(t) => out.push((None, json_text(t))),
                    None => {}
                },
                other => out.push((None, json_text(other))),
            },
            _ => out.push((Some(k.clone()), json_text(v))),
        }
    }
}

fn flatten_leaves(name: Option<&str>, v: &serde_json::Value, out: &mut Vec<(Option<String>, String)>) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, val) in o {
                if k != "#attributes" {
                    flatten_leaves(Some(k), val, out);
                }
            }
        }
        other => out.push((name.map(str::to_string), json_text(other))),
    }
}

/// Fills a seekable buffer from a reader: in memory up to `mem_limit` bytes, else a temporary
/// file outside every source (the system temp folder), deleted when dropped.
pub fn spool(input: &mut dyn Read, mem_limit: usize) -> io::Result<Box<dyn ReadSeek>> {
    let mut mem = Vec::new();
    let n = input.take(mem_limit as u64 + 1).read_to_end(&mut mem)?;
    if n <= mem_limit {
        return Ok(Box::new(io::Cursor::new(mem)));
    }
    let mut tmp = tempfile::tempfile()?;
    io::Write::write_all(&mut tmp, &mem)?;
    drop(mem);
    io::copy(input, &mut tmp)?;
    tmp.seek(io::SeekFrom::Start(0))?;
    Ok(Box::new(tmp))
}

/// Parses `wevtutil`-style XML held in memory (tests, small exports).
pub fn events_from_xml_str(xml: &str) -> Vec<EventRecord> {
    let mut p = XmlEventParser::default();
    let mut out = Vec::new();
    let _ = p.feed_document(xml, &mut |ev| out.push(ev.clone()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parsing speed of rendered records: quick_xml's reader against [`scan_document`]. Ignored by
    /// default; run in release mode on a folder of EVTX files (e.g. `exsweep bench`'s corpus):
    /// `EXSWEEP_EVTX_BENCH=/tmp/sb/mix-1000000 cargo test --release -p exsweep-core --lib
    /// parse_speed -- --ignored --nocapture`.
    #[test]
    #[ignore = "benchmark; needs EXSWEEP_EVTX_BENCH"]
    fn parse_speed() {
        let Some(dir) = std::env::var_os("EXSWEEP_EVTX_BENCH") else { panic!("set EXSWEEP_EVTX_BENCH") };
        let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
        let (records, runs) = (env("EXSWEEP_EVTX_BENCH_RECORDS", 300_000), env("EXSWEEP_EVTX_BENCH_RUNS", 5));
        let mut docs = Vec::new();
        let mut files: Vec<_> = walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "evtx"))
            .collect();
        files.sort_by(|a, b| a.file_name().cmp(b.file_name()));
        // The same share from every file, for the mix of event kinds.
        let per_file = records.div_ceil(files.len().max(1));
        for e in files {
            let mut p = evtx::EvtxParser::from_path(e.path()).unwrap();
            docs.extend(p.records().filter_map(|r| r.ok()).map(|r| r.data).take(per_file));
        }
        let bytes: usize = docs.iter().map(|d| d.len()).sum();
        let only = std::env::var("EXSWEEP_EVTX_BENCH_ONLY").unwrap_or_default();
        let time = |what: &str, f: &mut dyn FnMut()| {
            if !what.contains(only.as_str()) {
                return;
            }
            let best = (0..runs)
                .map(|_| {
                    let t = std::time::Instant::now();
                    f();
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::MAX, f64::min);
            println!(
                "{what}: {:.0} ns per record ({} records, {bytes} bytes)",
                best * 1e9 / docs.len() as f64,
                docs.len()
            );
        };
        let mut p = XmlEventParser::default();
        let mut n = 0u64;
        time("quick_xml reader and parser", &mut || {
            for d in &docs {
                let _ = p.feed_str(d, &mut |_| n += 1);
            }
        });
        let (mut tokens, mut open) = (Vec::new(), Vec::new());
        time("scan only", &mut || {
            for d in &docs {
                n += u64::from(scan_document(d, &mut tokens, &mut open));
            }
        });
        time("scan and parser", &mut || {
            for d in &docs {
                let _ = p.feed_document(d, &mut |_| n += 1);
            }
        });
        let taken = docs.iter().filter(|d| scan_document(d, &mut tokens, &mut open)).count();
        println!("the scan takes {taken} of {} records", docs.len());
        std::hint::black_box(n);
    }

    /// The events a parser closes in `xml`, its result and the state it is left in.
    fn run(xml: &str, scanned: bool) -> (Vec<EventRecord>, String, String) {
        let mut p = XmlEventParser::default();
        let mut events = Vec::new();
        let mut on_event = |ev: &mut EventRecord| events.push(ev.clone());
        let result = if scanned { p.feed_document(xml, &mut on_event) } else { p.feed_str(xml, &mut on_event) };
        let state = format!(
            "{:?} {} {} {:?} {} {:?} {:?}",
            p.open, p.user_data_open, p.in_event, p.text, p.has_data_name, p.data_name, p.cur
        );
        (events, format!("{result:?}"), state)
    }

    fn rendered_records(events: &[exsweep_fixtures::evtx::EventSpec]) -> Vec<String> {
        let mut w = exsweep_fixtures::evtx::EvtxWriter::new(io::Cursor::new(Vec::new())).unwrap();
        for e in events {
            w.write(e).unwrap();
        }
        let bytes = w.finish().unwrap().into_inner();
        let mut parser = evtx::EvtxParser::from_buffer(bytes).unwrap();
        parser.records().map(|r| r.unwrap().data).collect()
    }

    #[test]
    fn find_byte_finds_the_first() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for len in 0..80 {
            for _ in 0..50 {
                let b: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Mostly bytes next to the ones looked for, where bit tricks go wrong.
                        [b'"', b'#', b'!', b'&', b'%', b'\'', 0x80, 0xA2, b'a'][(seed % 9) as usize]
                    })
                    .collect();
                assert_eq!(find_byte(&b, [b'"']), b.iter().position(|&c| c == b'"'), "{b:?}");
                assert_eq!(find_byte(&b, [b'"', b'&']), b.iter().position(|&c| c == b'"' || c == b'&'), "{b:?}");
            }
        }
    }

    /// The scan takes every record the `evtx` crate renders, even with markup in the values.
    #[test]
    fn scan_takes_rendered_records() {
        use exsweep_fixtures::evtx::{EventData, EventSpec};
        let values = ["a & b <c> \"d\" 'e'", "line\r\nnext\rlast", "tab\t", "", "ünï 日本", "]]> <!-- x --> <?pi?>"];
        let events: Vec<EventSpec> = values
            .iter()
            .map(|v| EventSpec {
                provider: format!("Provider {v}"),
                event_id: 1,
                channel: "Application".into(),
                computer: "EX01".into(),
                data: EventData::Named(vec![("Field".into(), v.to_string()), ("x:y".into(), v.to_string())]),
                ..EventSpec::default()
            })
            .collect();
        let records = rendered_records(&events);
        assert_eq!(records.len(), values.len());
        let (mut tokens, mut open) = (Vec::new(), Vec::new());
        for r in &records {
            assert!(scan_document(r, &mut tokens, &mut open), "{r}");
            assert_eq!(run(r, true), run(r, false), "{r}");
        }
    }

    /// Wherever the scan takes a document, the parser ends up exactly as with quick_xml's reader:
    /// the same events, result and state; elsewhere the scan declines it.
    #[test]
    fn scan_gives_what_quick_xml_gives() {
        let fixed = [
            UM_XML,
            "",
            "text only",
            "<?xml version='1.0'?>\n<Event><System><EventID>1</EventID></System></Event>\n\n",
            "<a><b x='1' y=\"2\"/>t&amp;u&#x41;&#66;&bad;&#xZZ;</a>",
            "<a b=\"x>y\" c='>'>v</a  >",
            "<e:Event><e:System><e:Channel>c</e:Channel></e:System></e:Event>",
            "<UserData><X><Leaf>v</Leaf><Empty/></X></UserData>",
            "<a>\r\nx\ry\n</a>",
            "<a/><b>",
            "<a></b>",
            "</a>",
            "<a><!-- c --></a>",
            "<a><![CDATA[x]]></a>",
            "\u{feff}<a/>",
            "<a>&amp</a>",
            "<a>& b</a>",
            "<?>",
            "<?pi?><a/>",
            "<",
            "< a/>",
            "<a\"b></a\"b>",
            "<a=b>x</a=b>",
            "<a b=c>x</a>",
        ];
        let pieces =
            ["<", ">", "/", "&", ";", "\"", "'", "=", " ", "\r", "\n", "<!--", "<?", "?>", "&amp;", "<x>", "</x>", "ü"];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut docs: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
        for _ in 0..4000 {
            let mut doc = UM_XML.to_string();
            for _ in 0..1 + next(3) {
                let mut at = next(doc.len() + 1);
                while !doc.is_char_boundary(at) {
                    at -= 1;
                }
                if next(2) == 0 {
                    doc.insert_str(at, pieces[next(pieces.len())]);
                } else {
                    let mut end = (at + 1 + next(6)).min(doc.len());
                    while !doc.is_char_boundary(end) {
                        end += 1;
                    }
                    doc.replace_range(at..end, "");
                }
            }
            docs.push(doc);
        }
        let (mut tokens, mut open) = (Vec::new(), Vec::new());
        let mut taken = 0;
        for doc in &docs {
            taken += usize::from(scan_document(doc, &mut tokens, &mut open));
            assert_eq!(run(doc, true), run(doc, false), "{doc:?}");
        }
        // Both ways are exercised.
        assert!(taken > docs.len() / 10 && taken < docs.len() * 9 / 10, "{taken} of {} taken", docs.len());
    }

    const UM_XML: &str = r#"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='MSExchange Unified Messaging'/><EventID Qualifiers='49152'>1040</EventID><Level>2</Level><Task>1</Task><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2021-03-03T07:12:01.123456700Z'/><EventRecordID>4711</EventRecordID><Channel>Application</Channel><Computer>EX01.contoso.local</Computer><Security/></System><EventData><Data>UMWorkerProcess</Data><Data>System.InvalidCastException: Unable to cast object &amp; more &lt;x&gt;</Data></EventData><RenderingInfo Culture='en-US'><Message>An unhandled exception: System.InvalidCastException</Message></RenderingInfo></Event>"#;

    #[test]
    fn xml_event_fields() {
        let evs = events_from_xml_str(&format!("<Events>{UM_XML}{UM_XML}</Events>"));
        assert_eq!(evs.len(), 2);
        let e = &evs[0];
        assert_eq!(e.provider, "MSExchange Unified Messaging");
        assert_eq!(e.event_id, Some(1040));
        assert_eq!(e.level, Some(2));
        assert_eq!(e.record_id, Some(4711));
        assert_eq!(e.channel, "Application");
        assert_eq!(e.computer, "EX01.contoso.local");
        assert_eq!(e.time.unwrap().to_string(), "2021-03-03T07:12:01.123Z");
        assert_eq!(e.data[1].1, "System.InvalidCastException: Unable to cast object & more <x>");
        assert_eq!(e.data[0].0, None);
        assert!(e.message.as_deref().unwrap().contains("InvalidCast"));
    }

    #[test]
    fn json_shapes() {
        let v: serde_json::Value = serde_json::from_str(r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"MSExchange Unified Messaging"}},"EventID":{"#attributes":{"Qualifiers":49152},"#text":1040},"Level":2,"EventRecordID":9,"Channel":"Application","Computer":"EX01","TimeCreated":{"#attributes":{"SystemTime":"2021-03-03T07:12:01.000000Z"}}},"EventData":{"Data":{"#text":["a","System.InvalidCastException"]}}}}"##).unwrap();
        let e = event_from_json(&v).unwrap();
        assert_eq!(e.event_id, Some(1040));
        assert_eq!(e.level, Some(2));
        assert_eq!(e.data, vec![(None, "a".to_string()), (None, "System.InvalidCastException".to_string())]);
        let named: serde_json::Value = serde_json::from_str(r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"X"}},"EventID":4688,"Channel":"Security"},"EventData":{"NewProcessName":"C:\\w.exe","SubjectUserSid":"S-1-5-18"}}}"##).unwrap();
        let e = event_from_json(&named).unwrap();
        assert_eq!(e.data[0], (Some("NewProcessName".into()), "C:\\w.exe".into()));
        let flat: serde_json::Value = serde_json::from_str(r##"{"Channel":"Application","EventID":1040,"SourceName":"MSExchange Unified Messaging","Hostname":"EX01","Level":2,"Data1":"x"}"##).unwrap();
        let e = event_from_json(&flat).unwrap();
        assert_eq!(e.provider, "MSExchange Unified Messaging");
        assert_eq!(e.data, vec![(Some("Data1".into()), "x".into())]);
        // Winlogbeat / ECS: the event under `winlog`, the id also as `event.code`.
        let ecs: serde_json::Value = serde_json::from_str(r##"{"@timestamp":"2021-03-03T07:12:01.000Z","event":{"code":"4688","provider":"Microsoft-Windows-Security-Auditing"},"host":{"name":"ex01.contoso.local"},"message":"A new process has been created.","winlog":{"channel":"Security","provider_name":"Microsoft-Windows-Security-Auditing","computer_name":"EX01.contoso.local","record_id":77,"event_data":{"NewProcessName":"C:\\Windows\\System32\\cmd.exe","ProcessId":"0x270"}}}"##).unwrap();
        let e = event_from_json(&ecs).unwrap();
        assert_eq!((e.channel.as_str(), e.event_id, e.record_id), ("Security", Some(4688), Some(77)));
        assert_eq!(e.provider, "Microsoft-Windows-Security-Auditing");
        assert_eq!(e.computer, "EX01.contoso.local");
        assert_eq!(e.time.unwrap().to_string(), "2021-03-03T07:12:01Z");
        assert_eq!(e.data[0], (Some("NewProcessName".into()), "C:\\Windows\\System32\\cmd.exe".into()));
        assert!(
            super::super::sniff(serde_json::to_string(&ecs).unwrap().as_bytes()) == super::super::Format::EventJson
        );
    }
}
