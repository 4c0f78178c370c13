//! The EVTX and wevtutil XML readers as they were before they were made faster (commit 97dfd90),
//! with `FileObs::hint_host` as it was then, kept verbatim apart from paths: the reference the
//! current readers must match exactly (the same records, fields, counts and notes). Also the
//! comparison the parity suites share.

#![allow(dead_code)]

use exsweep_core::read::FileObs;
use exsweep_core::read::events::{EvtxAnchors, read_event_xml, read_evtx};
use exsweep_core::record::{EventRecord, Fields, Record};
use exsweep_core::time::Timestamp;
use quick_xml::events::{BytesStart, Event};
use std::io::{self, Read, Seek};

/// What a reader hands out for one record, and what it observed of the whole file.
pub type Seen = (Vec<(Option<u64>, Option<u64>, Option<Timestamp>, String, Option<EventRecord>)>, String);

fn record_of(rec: &Record<'_>) -> (Option<u64>, Option<u64>, Option<Timestamp>, String, Option<EventRecord>) {
    (rec.line, rec.record_id, rec.time, rec.raw.to_string(), rec.event().cloned())
}

/// The current EVTX reader on `bytes`.
pub fn current_evtx(bytes: &[u8], anchors: Option<&[&str]>) -> Seen {
    let anchors = anchors.and_then(EvtxAnchors::new);
    let mut obs = FileObs::new("evtx");
    let mut got = Vec::new();
    let res =
        read_evtx(&mut io::Cursor::new(bytes), anchors.as_ref(), &mut obs, &mut |rec, _| got.push(record_of(rec)));
    (got, format!("{res:?} {obs:?}"))
}

/// The reference EVTX reader on `bytes`.
pub fn reference_evtx(bytes: &[u8], anchors: Option<&[&str]>) -> Seen {
    let anchors = anchors.and_then(RefAnchors::new);
    let mut obs = FileObs::new("evtx");
    let mut got = Vec::new();
    let res =
        ref_read_evtx(&mut io::Cursor::new(bytes), anchors.as_ref(), &mut obs, &mut |rec, _| got.push(record_of(rec)));
    (got, format!("{res:?} {obs:?}"))
}

/// The current wevtutil XML reader on `xml`.
pub fn current_xml(xml: &[u8]) -> Seen {
    let mut obs = FileObs::new("xml");
    let mut got = Vec::new();
    let res = read_event_xml(&mut &xml[..], &mut obs, &mut |rec, _| got.push(record_of(rec)));
    (got, format!("{res:?} {obs:?}"))
}

/// The reference wevtutil XML reader on `xml`.
pub fn reference_xml(xml: &[u8]) -> Seen {
    let mut obs = FileObs::new("xml");
    let mut got = Vec::new();
    let res = ref_read_event_xml(&mut &xml[..], &mut obs, &mut |rec, _| got.push(record_of(rec)));
    (got, format!("{res:?} {obs:?}"))
}

/// Asserts that both readers saw the same, naming the first record that differs.
pub fn assert_same(what: &str, current: &Seen, reference: &Seen) {
    for (i, (c, r)) in current.0.iter().zip(&reference.0).enumerate() {
        assert_eq!(c, r, "{what}: record {i} differs (current, then reference)");
    }
    assert_eq!(current.0.len(), reference.0.len(), "{what}: number of records");
    assert_eq!(current.1, reference.1, "{what}: file observations");
}

// ---- the reference, as it was ----

pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

fn emit(ev: &EventRecord, obs: &mut FileObs, on_record: &mut dyn FnMut(&Record<'_>, &mut FileObs)) {
    if let Some(t) = ev.time {
        obs.time.observe(t);
    }
    if !ev.channel.is_empty() {
        *obs.channels.entry(ev.channel.clone()).or_insert(0) += 1;
    }
    if !ev.computer.is_empty() {
        ref_hint_host(obs, &ev.computer);
    }
    obs.records += 1;
    let rec = Record { line: None, record_id: ev.record_id, time: ev.time, raw: "", fields: Fields::Event(ev) };
    on_record(&rec, obs);
}

/// `FileObs::hint_host` as it was.
fn ref_hint_host(obs: &mut FileObs, name: &str) {
    let short = name.split('.').next().unwrap_or(name).trim();
    if !short.is_empty() && short != "-" {
        *obs.hosts.entry(short.to_ascii_uppercase()).or_insert(0) += 1;
    }
}

pub struct RefAnchors {
    searcher: aho_corasick::AhoCorasick,
}

impl RefAnchors {
    pub fn new(literals: &[&str]) -> Option<RefAnchors> {
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
            .map(|searcher| RefAnchors { searcher })
    }

    fn in_chunk(&self, data: &[u8]) -> bool {
        self.searcher.is_match(data)
    }
}

pub fn ref_read_evtx(
    input: &mut dyn ReadSeek,
    anchors: Option<&RefAnchors>,
    obs: &mut FileObs,
    on_record: &mut dyn FnMut(&Record<'_>, &mut FileObs),
) -> io::Result<()> {
    let size = input.seek(io::SeekFrom::End(0))?;
    input.seek(io::SeekFrom::Start(0))?;
    obs.bytes = size;
    let parser = evtx::EvtxParser::from_read_seek(input)
        .map_err(|e| io::Error::other(format!("not a readable EVTX file: {e}")))?;
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
                    let mut reader = quick_xml::Reader::from_str(&rec.data);
                    let mut got = Vec::new();
                    if let Err(e) = xml.feed_str(&mut reader, &mut got) {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("record {}: {e}", rec.event_record_id));
                    }
                    for mut ev in got {
                        ev.record_id = ev.record_id.or(Some(rec.event_record_id));
                        if file_channel.is_none() && !ev.channel.is_empty() {
                            file_channel = Some(ev.channel.clone());
                        }
                        emit(&ev, obs, on_record);
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

pub fn ref_read_event_xml(
    input: &mut dyn Read,
    obs: &mut FileObs,
    on_record: &mut dyn FnMut(&Record<'_>, &mut FileObs),
) -> io::Result<()> {
    let mut counting = CountingReader { inner: input, count: 0 };
    let buffered = io::BufReader::with_capacity(256 * 1024, &mut counting);
    let mut reader = quick_xml::Reader::from_reader(buffered);
    let mut xml = XmlEventParser::default();
    let mut buf = Vec::new();
    let mut got = Vec::new();
    loop {
        buf.clear();
        let res = reader.read_event_into(&mut buf);
        match res {
            Ok(Event::Eof) => break,
            Ok(event) => xml.handle(event, &mut got),
            Err(e) => {
                obs.note(format!(
                    "malformed XML at offset {}: {e}; the rest of the file was not read",
                    reader.error_position()
                ));
                break;
            }
        }
        for ev in got.drain(..) {
            emit(&ev, obs, on_record);
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

#[derive(Default)]
struct XmlEventParser {
    path: Vec<String>,
    cur: EventRecord,
    text: String,
    data_name: Option<String>,
    in_event: bool,
    had_child: Vec<bool>,
}

fn local(name: &str) -> &str {
    match name.rfind(':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| local(a.key.as_ref()) == key)
        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok().map(|v| v.into_owned()))
}

impl XmlEventParser {
    fn feed_str(&mut self, reader: &mut quick_xml::Reader<&[u8]>, out: &mut Vec<EventRecord>) -> quick_xml::Result<()> {
        loop {
            match reader.read_event()? {
                Event::Eof => return Ok(()),
                ev => self.handle(ev, out),
            }
        }
    }

    fn parent(&self) -> &str {
        let n = self.path.len();
        if n >= 2 { &self.path[n - 2] } else { "" }
    }

    fn start(&mut self, e: &BytesStart<'_>) {
        let name = local(e.name().as_ref()).to_string();
        if let Some(h) = self.had_child.last_mut() {
            *h = true;
        }
        if name == "Event" {
            self.cur = EventRecord::default();
            self.in_event = true;
        }
        match name.as_str() {
            "Provider" if self.in_event => {
                if let Some(n) = attr(e, "Name").or_else(|| attr(e, "EventSourceName")) {
                    self.cur.provider = n;
                }
            }
            "TimeCreated" => {
                if let Some(t) = attr(e, "SystemTime") {
                    self.cur.time = Timestamp::parse(&t);
                }
            }
            "Data" => self.data_name = attr(e, "Name"),
            _ => {}
        }
        self.path.push(name);
        self.had_child.push(false);
        self.text.clear();
    }

    fn end(&mut self, out: &mut Vec<EventRecord>) {
        let Some(name) = self.path.last().cloned() else {
            return;
        };
        let had_child = self.had_child.last().copied().unwrap_or(false);
        let parent = self.parent().to_string();
        let text = std::mem::take(&mut self.text);
        if self.in_event {
            match (parent.as_str(), name.as_str()) {
                ("System", "EventID") => self.cur.event_id = text.trim().parse().ok(),
                ("System", "Level") => self.cur.level = text.trim().parse().ok(),
                ("System", "EventRecordID") => self.cur.record_id = text.trim().parse().ok(),
                ("System", "Channel") => self.cur.channel = text,
                ("System", "Computer") => self.cur.computer = text,
                ("EventData", "Data") => self.cur.data.push((self.data_name.take(), text)),
                ("RenderingInfo", "Message") => self.cur.message = Some(text),
                (_, "Event") => {
                    out.push(std::mem::take(&mut self.cur));
                    self.in_event = false;
                }
                _ => {
                    if !had_child && self.path.iter().any(|p| p == "UserData") && name != "UserData" {
                        self.cur.data.push((Some(name.clone()), text));
                    }
                }
            }
        }
        self.path.pop();
        self.had_child.pop();
    }

    fn handle(&mut self, event: Event<'_>, out: &mut Vec<EventRecord>) {
        match event {
            Event::Start(e) => self.start(&e),
            Event::Empty(e) => {
                self.start(&e);
                self.end(out);
            }
            Event::End(_) => self.end(out),
            Event::Text(t) => self.text.push_str(&t.xml10_content()),
            Event::CData(t) => self.text.push_str(&t),
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => self.text.push(c),
                _ => self.text.push_str(match &*r {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                }),
            },
            _ => {}
        }
    }
}

/// `events_from_xml_str` as it was.
pub fn ref_events_from_xml_str(xml: &str) -> Vec<EventRecord> {
    let mut p = XmlEventParser::default();
    let mut out = Vec::new();
    let mut reader = quick_xml::Reader::from_str(xml);
    let _ = p.feed_str(&mut reader, &mut out);
    out
}
