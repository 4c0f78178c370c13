//! One 64 KiB `ElfChnk` chunk being filled: its string and template tables, the BinXML of
//! template definitions and event records, and the header with its CRC32s.
//!
//! Layout (libevtx's "Windows XML Event Log (EVTX) format", MS-EVEN6):
//! - header, 512 bytes: magic, first/last record number and id, header size (128), offset of
//!   the last record, free space offset, CRC32 of the records (512..free), flags, CRC32 of bytes
//!   0..120 and 128..512, 64 string-table buckets and 32 template-table buckets (chunk offsets);
//! - records from offset 512: `**\0\0`, size, record id, FILETIME, BinXML, copy of the size.
//!
//! Each record's BinXML is a fragment header and one TemplateInstance. The first record of a
//! shape in a chunk carries the template definition inline (and the element and attribute names
//! it uses, inline too, entered in the string table); later records point at it by offset.

use super::EventSpec;
use super::encode::{Sid, put_utf16, utf16_size};

pub(super) const CHUNK_SIZE: usize = 0x1_0000;
pub(super) const CHUNK_HEADER_SIZE: usize = 512;
/// Room for records: everything after the chunk header.
pub(super) const CHUNK_DATA_SIZE: usize = CHUNK_SIZE - CHUNK_HEADER_SIZE;

/// Record header (magic, size, id, FILETIME) plus the size copy after the BinXML.
pub(super) const RECORD_OVERHEAD: usize = 24 + 4;
/// Fragment header and TemplateInstance header (token, version, template id, definition offset).
pub(super) const INSTANCE_HEADER: usize = 4 + 10;

/// A record (or the template definition it carries) does not fit in the rest of the chunk.
#[derive(Debug)]
pub(super) struct Full;

type Fits<T = ()> = Result<T, Full>;

/// BinXML tokens (MS-EVEN6 2.2.3.1).
mod token {
    pub const OPEN_START: u8 = 0x01;
    pub const OPEN_START_ATTRS: u8 = 0x41;
    pub const CLOSE_START: u8 = 0x02;
    pub const CLOSE_EMPTY: u8 = 0x03;
    pub const END_ELEMENT: u8 = 0x04;
    pub const VALUE: u8 = 0x05;
    pub const ATTRIBUTE: u8 = 0x06;
    /// Attribute token with the "more attributes follow" bit.
    pub const ATTRIBUTE_MORE: u8 = 0x46;
    pub const TEMPLATE_INSTANCE: u8 = 0x0c;
    pub const NORMAL_SUB: u8 = 0x0d;
    pub const OPTIONAL_SUB: u8 = 0x0e;
    pub const FRAGMENT_HEADER: [u8; 4] = [0x0f, 0x01, 0x01, 0x00];
    pub const EOF: u8 = 0x00;
}

/// Substitution value types (MS-EVEN6 2.2.4.1).
pub(super) mod ty {
    pub const NULL: u8 = 0x00;
    pub const STRING: u8 = 0x01;
    pub const UINT8: u8 = 0x04;
    pub const UINT16: u8 = 0x06;
    pub const UINT32: u8 = 0x08;
    pub const UINT64: u8 = 0x0a;
    pub const GUID: u8 = 0x0f;
    pub const FILETIME: u8 = 0x11;
    pub const SID: u8 = 0x13;
    pub const HEX64: u8 = 0x15;
}

/// Substitution indexes of the System values; EventData values follow from [`SUB_DATA`].
/// The order follows no standard (each template names its own); these are grouped like
/// Windows' own system template.
pub(super) mod sub {
    pub const LEVEL: u16 = 0;
    pub const TASK: u16 = 1;
    pub const OPCODE: u16 = 2;
    pub const KEYWORDS: u16 = 3;
    pub const TIME: u16 = 4;
    pub const RECORD_ID: u16 = 5;
    pub const PROCESS_ID: u16 = 6;
    pub const THREAD_ID: u16 = 7;
    pub const EVENT_ID: u16 = 8;
    pub const QUALIFIERS: u16 = 9;
    pub const VERSION: u16 = 10;
    pub const PROVIDER_GUID: u16 = 11;
    pub const SOURCE_NAME: u16 = 12;
    pub const COMPUTER: u16 = 13;
    pub const USER_ID: u16 = 14;
    pub const DATA: u16 = 15;
}

const EVENT_NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

/// Every element and attribute name a template uses (Data names are attribute values).
#[derive(Clone, Copy)]
enum NameId {
    Event,
    Xmlns,
    System,
    Provider,
    NameAttr,
    Guid,
    EventSourceName,
    EventId,
    Qualifiers,
    Version,
    Level,
    Task,
    Opcode,
    Keywords,
    TimeCreated,
    SystemTime,
    EventRecordId,
    Correlation,
    Execution,
    ProcessId,
    ThreadId,
    Channel,
    Computer,
    Security,
    UserId,
    EventData,
    Data,
}

const NAMES: [&str; 27] = [
    "Event",
    "xmlns",
    "System",
    "Provider",
    "Name",
    "Guid",
    "EventSourceName",
    "EventID",
    "Qualifiers",
    "Version",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "TimeCreated",
    "SystemTime",
    "EventRecordID",
    "Correlation",
    "Execution",
    "ProcessID",
    "ThreadID",
    "Channel",
    "Computer",
    "Security",
    "UserID",
    "EventData",
    "Data",
];

/// The hash Windows stores with each string-table name: `h = h * 65599 + unit` over UTF-16.
fn name_hash(name: &str) -> u32 {
    name.encode_utf16().fold(0u32, |h, unit| h.wrapping_mul(65599).wrapping_add(u32::from(unit)))
}

/// The chunk's common string and template tables, and where each name already is.
#[derive(Clone)]
struct Tables {
    strings: [u32; 64],
    templates: [u32; 32],
    names: [u32; NAMES.len()],
}

impl Tables {
    const EMPTY: Tables = Tables { strings: [0; 64], templates: [0; 32], names: [0; NAMES.len()] };
}

/// A template substitution's value: literal text, or substitution `index` of value type `ty`.
#[derive(Clone, Copy)]
enum Content<'a> {
    Text(&'a str),
    Sub { index: u16, ty: u8, optional: bool },
}

const fn opt(index: u16, ty: u8) -> Content<'static> {
    Content::Sub { index, ty, optional: true }
}

const fn normal(index: u16, ty: u8) -> Content<'static> {
    Content::Sub { index, ty, optional: false }
}

/// The System values of one record, already validated and converted.
pub(super) struct SystemValues<'a> {
    pub(super) filetime: u64,
    pub(super) record_id: u64,
    pub(super) qualifiers: Option<u16>,
    pub(super) provider_guid: Option<[u8; 16]>,
    pub(super) source_name: Option<&'a str>,
    pub(super) user_sid: Option<Sid>,
}

pub(super) struct Chunk {
    buf: Box<[u8]>,
    /// Free space offset: where the next record goes.
    free: usize,
    first_id: u64,
    last_id: u64,
    last_record_offset: u32,
    records: u32,
    tables: Tables,
    /// Bumped for every new chunk, so that shapes know whether their template is defined here.
    generation: u64,
}

/// Writes into the chunk buffer at a moving position, failing (without panicking) at its end.
struct Cursor<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Cursor<'_> {
    #[inline]
    fn bytes(&mut self, b: &[u8]) -> Fits {
        let end = self.pos + b.len();
        self.buf.get_mut(self.pos..end).ok_or(Full)?.copy_from_slice(b);
        self.pos = end;
        Ok(())
    }

    fn u8(&mut self, v: u8) -> Fits {
        self.bytes(&[v])
    }

    fn u16(&mut self, v: u16) -> Fits {
        self.bytes(&v.to_le_bytes())
    }

    fn u32(&mut self, v: u32) -> Fits {
        self.bytes(&v.to_le_bytes())
    }

    fn patch_u32(&mut self, at: usize, v: u32) {
        self.buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// Length-prefixed UTF-16 text, as value-text tokens and names store it.
    fn counted_utf16(&mut self, s: &str) -> Fits {
        let size = utf16_size(s);
        let units = u16::try_from(size / 2).map_err(|_| Full)?;
        self.u16(units)?;
        if self.pos + size > self.buf.len() {
            return Err(Full);
        }
        self.pos = put_utf16(self.buf, self.pos, s);
        Ok(())
    }
}

/// An element whose start has been written and whose sizes are patched when it closes.
struct Open {
    start: usize,
    attrs_at: Option<usize>,
}

impl Chunk {
    pub(super) fn new() -> Self {
        Chunk {
            buf: vec![0u8; CHUNK_SIZE].into_boxed_slice(),
            free: CHUNK_HEADER_SIZE,
            first_id: 0,
            last_id: 0,
            last_record_offset: 0,
            records: 0,
            tables: Tables::EMPTY,
            generation: 0,
        }
    }

    pub(super) fn records(&self) -> u32 {
        self.records
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation
    }

    /// Empties the chunk for the next records.
    pub(super) fn reset(&mut self) {
        self.buf.fill(0);
        self.free = CHUNK_HEADER_SIZE;
        self.first_id = 0;
        self.last_id = 0;
        self.last_record_offset = 0;
        self.records = 0;
        self.tables = Tables::EMPTY;
        self.generation += 1;
    }

    /// Fills in the header (tables, offsets, CRC32s) and returns the whole chunk.
    pub(super) fn seal(&mut self) -> &[u8] {
        let h = &mut self.buf[..CHUNK_HEADER_SIZE];
        h[0..8].copy_from_slice(b"ElfChnk\0");
        // Record numbers equal record ids: the log has not wrapped around.
        h[8..16].copy_from_slice(&self.first_id.to_le_bytes());
        h[16..24].copy_from_slice(&self.last_id.to_le_bytes());
        h[24..32].copy_from_slice(&self.first_id.to_le_bytes());
        h[32..40].copy_from_slice(&self.last_id.to_le_bytes());
        h[40..44].copy_from_slice(&128u32.to_le_bytes());
        h[44..48].copy_from_slice(&self.last_record_offset.to_le_bytes());
        h[48..52].copy_from_slice(&(self.free as u32).to_le_bytes());
        h[120..124].copy_from_slice(&0u32.to_le_bytes());
        for (i, offset) in self.tables.strings.iter().enumerate() {
            h[128 + i * 4..132 + i * 4].copy_from_slice(&offset.to_le_bytes());
        }
        for (i, offset) in self.tables.templates.iter().enumerate() {
            h[384 + i * 4..388 + i * 4].copy_from_slice(&offset.to_le_bytes());
        }
        let records_crc = crc32fast::hash(&self.buf[CHUNK_HEADER_SIZE..self.free]);
        self.buf[52..56].copy_from_slice(&records_crc.to_le_bytes());
        let mut header_crc = crc32fast::Hasher::new();
        header_crc.update(&self.buf[..120]);
        header_crc.update(&self.buf[128..CHUNK_HEADER_SIZE]);
        let header_crc = header_crc.finalize();
        self.buf[124..128].copy_from_slice(&header_crc.to_le_bytes());
        &self.buf
    }

    /// Appends one record. `template` is the offset of the shape's definition in this chunk,
    /// or `None` to define it inline here (with `guid`). `data_sizes` holds the UTF-16 size of
    /// each EventData value, and `values_size` the size of all substitution values together.
    /// On success returns the template definition's offset; on [`Full`] the chunk is unchanged.
    pub(super) fn append(
        &mut self,
        event: &EventSpec,
        system: &SystemValues<'_>,
        data_sizes: &[u32],
        values_size: usize,
        template: Option<u32>,
        guid: &[u8; 16],
    ) -> Fits<u32> {
        let start = self.free;
        let snapshot = template.is_none().then(|| self.tables.clone());
        match self.append_at(start, event, system, data_sizes, values_size, template, guid) {
            Ok((end, def_offset)) => {
                self.free = end;
                if self.records == 0 {
                    self.first_id = system.record_id;
                }
                self.last_id = system.record_id;
                self.last_record_offset = start as u32;
                self.records += 1;
                Ok(def_offset)
            }
            Err(Full) => {
                // Leave the free space as Windows does: zeros, nothing half-written to carve.
                self.buf[start..].fill(0);
                if let Some(tables) = snapshot {
                    self.tables = tables;
                }
                Err(Full)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn append_at(
        &mut self,
        start: usize,
        event: &EventSpec,
        system: &SystemValues<'_>,
        data_sizes: &[u32],
        values_size: usize,
        template: Option<u32>,
        guid: &[u8; 16],
    ) -> Fits<(usize, u32)> {
        let template_id = u32::from_le_bytes([guid[0], guid[1], guid[2], guid[3]]);
        let count = sub::DATA as usize + data_sizes.len();
        let instance_data = 4 + 4 * count + values_size;
        // Cheap early exit before writing anything; the exact checks follow.
        if start + RECORD_OVERHEAD + INSTANCE_HEADER + instance_data > CHUNK_SIZE {
            return Err(Full);
        }

        let mut p = start + 24;
        let header = &mut self.buf[p..p + INSTANCE_HEADER];
        header[0..4].copy_from_slice(&token::FRAGMENT_HEADER);
        header[4] = token::TEMPLATE_INSTANCE;
        header[5] = 0x01;
        header[6..10].copy_from_slice(&template_id.to_le_bytes());
        p += INSTANCE_HEADER;
        // A definition that follows inline starts right after the offset that points at it.
        let def_offset = template.unwrap_or(p as u32);
        self.buf[p - 4..p].copy_from_slice(&def_offset.to_le_bytes());
        if template.is_none() {
            p = define_template(&mut self.buf, &mut self.tables, p, template_id, guid, event)?;
        }

        let end = p + instance_data + 4;
        if end > CHUNK_SIZE {
            return Err(Full);
        }
        // From here on everything fits: write the instance data without further checks.
        let buf = &mut self.buf[..];
        put(buf, &mut p, &(count as u32).to_le_bytes());

        // Descriptors: size (u16), type, 0. Absent optional values are NullType, size 0.
        let desc = |buf: &mut [u8], p: &mut usize, size: usize, ty: u8| {
            buf[*p..*p + 2].copy_from_slice(&(size as u16).to_le_bytes());
            buf[*p + 2] = ty;
            buf[*p + 3] = 0;
            *p += 4;
        };
        let optional = |present: bool, size: usize, ty: u8| {
            if present { (size, ty) } else { (0, ty::NULL) }
        };
        desc(buf, &mut p, 1, ty::UINT8); // Level
        desc(buf, &mut p, 2, ty::UINT16); // Task
        desc(buf, &mut p, 1, ty::UINT8); // Opcode
        desc(buf, &mut p, 8, ty::HEX64); // Keywords
        desc(buf, &mut p, 8, ty::FILETIME); // TimeCreated
        desc(buf, &mut p, 8, ty::UINT64); // EventRecordID
        desc(buf, &mut p, 4, ty::UINT32); // ProcessID
        desc(buf, &mut p, 4, ty::UINT32); // ThreadID
        desc(buf, &mut p, 2, ty::UINT16); // EventID
        let (size, t) = optional(system.qualifiers.is_some(), 2, ty::UINT16);
        desc(buf, &mut p, size, t);
        desc(buf, &mut p, 1, ty::UINT8); // Version
        let (size, t) = optional(system.provider_guid.is_some(), 16, ty::GUID);
        desc(buf, &mut p, size, t);
        let source_size = system.source_name.map_or(0, utf16_size);
        let (size, t) = optional(system.source_name.is_some(), source_size, ty::STRING);
        desc(buf, &mut p, size, t);
        desc(buf, &mut p, utf16_size(&event.computer), ty::STRING);
        let sid_size = system.user_sid.as_ref().map_or(0, |s| s.len);
        let (size, t) = optional(system.user_sid.is_some(), sid_size, ty::SID);
        desc(buf, &mut p, size, t);
        for &size in data_sizes {
            desc(buf, &mut p, size as usize, ty::STRING);
        }

        // Values, in the same order.
        put(buf, &mut p, &[event.level]);
        put(buf, &mut p, &event.task.to_le_bytes());
        put(buf, &mut p, &[event.opcode]);
        put(buf, &mut p, &event.keywords.to_le_bytes());
        put(buf, &mut p, &system.filetime.to_le_bytes());
        put(buf, &mut p, &system.record_id.to_le_bytes());
        put(buf, &mut p, &event.process_id.to_le_bytes());
        put(buf, &mut p, &event.thread_id.to_le_bytes());
        put(buf, &mut p, &event.event_id.to_le_bytes());
        if let Some(q) = system.qualifiers {
            put(buf, &mut p, &q.to_le_bytes());
        }
        put(buf, &mut p, &[event.version]);
        if let Some(g) = &system.provider_guid {
            put(buf, &mut p, g);
        }
        if let Some(s) = system.source_name {
            p = put_utf16(buf, p, s);
        }
        p = put_utf16(buf, p, &event.computer);
        if let Some(sid) = &system.user_sid {
            put(buf, &mut p, sid.as_bytes());
        }
        for s in event.data.values() {
            p = put_utf16(buf, p, s);
        }
        debug_assert_eq!(p + 4, end, "value sizes disagree with the values written");

        let size = (end - start) as u32;
        buf[p..p + 4].copy_from_slice(&size.to_le_bytes());
        let h = &mut buf[start..start + 24];
        h[0..4].copy_from_slice(b"**\0\0");
        h[4..8].copy_from_slice(&size.to_le_bytes());
        h[8..16].copy_from_slice(&system.record_id.to_le_bytes());
        h[16..24].copy_from_slice(&system.filetime.to_le_bytes());
        Ok((end, def_offset))
    }
}

#[inline]
fn put(buf: &mut [u8], p: &mut usize, bytes: &[u8]) {
    buf[*p..*p + bytes.len()].copy_from_slice(bytes);
    *p += bytes.len();
}

/// Size of `event`'s template definition in a chunk that has none of its names yet: what the
/// shape needs on top of its record in a fresh chunk.
pub(super) fn fresh_template_size(event: &EventSpec, guid: &[u8; 16]) -> usize {
    // Measured by writing it; rare (once per shape, when a chunk runs full), so the scratch
    // buffer is not kept.
    let mut scratch = vec![0u8; CHUNK_SIZE];
    let mut tables = Tables::EMPTY;
    define_template(&mut scratch, &mut tables, 0, 0, guid, event).unwrap_or(usize::MAX)
}

/// Writes a template definition for `event`'s shape at `pos` (right after the TemplateInstance
/// that points at it), enters it and its new names in `tables`, and returns where it ends.
fn define_template(
    buf: &mut [u8],
    tables: &mut Tables,
    pos: usize,
    template_id: u32,
    guid: &[u8; 16],
    event: &EventSpec,
) -> Fits<usize> {
    let mut t = TemplateWriter { w: Cursor { buf, pos }, tables };
    let def_offset = pos as u32;
    let bucket = (template_id % 32) as usize;
    // Prepend to the bucket's chain: the new definition links to the old head.
    t.w.u32(t.tables.templates[bucket])?;
    t.w.bytes(guid)?;
    let size_at = t.w.pos;
    t.w.u32(0)?;
    let body = t.w.pos;
    t.w.bytes(&token::FRAGMENT_HEADER)?;

    let ev = t.start(NameId::Event, true)?;
    t.attributes(&ev, &[(NameId::Xmlns, Content::Text(EVENT_NS))])?;
    t.w.u8(token::CLOSE_START)?;

    let system = t.start(NameId::System, false)?;
    t.w.u8(token::CLOSE_START)?;
    t.empty_with_attributes(
        NameId::Provider,
        &[
            (NameId::NameAttr, Content::Text(&event.provider)),
            (NameId::Guid, opt(sub::PROVIDER_GUID, ty::GUID)),
            (NameId::EventSourceName, opt(sub::SOURCE_NAME, ty::STRING)),
        ],
    )?;
    let id = t.start(NameId::EventId, true)?;
    t.attributes(&id, &[(NameId::Qualifiers, opt(sub::QUALIFIERS, ty::UINT16))])?;
    t.w.u8(token::CLOSE_START)?;
    t.content(opt(sub::EVENT_ID, ty::UINT16))?;
    t.end(&id, false)?;
    t.text_element(NameId::Version, opt(sub::VERSION, ty::UINT8))?;
    t.text_element(NameId::Level, opt(sub::LEVEL, ty::UINT8))?;
    t.text_element(NameId::Task, opt(sub::TASK, ty::UINT16))?;
    t.text_element(NameId::Opcode, opt(sub::OPCODE, ty::UINT8))?;
    t.text_element(NameId::Keywords, opt(sub::KEYWORDS, ty::HEX64))?;
    t.empty_with_attributes(NameId::TimeCreated, &[(NameId::SystemTime, normal(sub::TIME, ty::FILETIME))])?;
    t.text_element(NameId::EventRecordId, opt(sub::RECORD_ID, ty::UINT64))?;
    let correlation = t.start(NameId::Correlation, false)?;
    t.end(&correlation, true)?;
    t.empty_with_attributes(
        NameId::Execution,
        &[(NameId::ProcessId, opt(sub::PROCESS_ID, ty::UINT32)), (NameId::ThreadId, opt(sub::THREAD_ID, ty::UINT32))],
    )?;
    t.text_element(NameId::Channel, Content::Text(&event.channel))?;
    t.text_element(NameId::Computer, normal(sub::COMPUTER, ty::STRING))?;
    t.empty_with_attributes(NameId::Security, &[(NameId::UserId, opt(sub::USER_ID, ty::SID))])?;
    t.end(&system, false)?;

    let event_data = t.start(NameId::EventData, false)?;
    let fields = event.data.len();
    if fields == 0 {
        t.end(&event_data, true)?;
    } else {
        t.w.u8(token::CLOSE_START)?;
        for i in 0..fields {
            // Checked by the writer: the index stays below u16::MAX.
            let value = normal(sub::DATA + i as u16, ty::STRING);
            match &event.data {
                super::EventData::Named(pairs) => {
                    let data = t.start(NameId::Data, true)?;
                    t.attributes(&data, &[(NameId::NameAttr, Content::Text(&pairs[i].0))])?;
                    t.w.u8(token::CLOSE_START)?;
                    t.content(value)?;
                    t.end(&data, false)?;
                }
                super::EventData::Unnamed(_) => t.text_element(NameId::Data, value)?,
            }
        }
        t.end(&event_data, false)?;
    }
    t.end(&ev, false)?;
    t.w.u8(token::EOF)?;

    let end = t.w.pos;
    t.w.patch_u32(size_at, (end - body) as u32);
    t.tables.templates[bucket] = def_offset;
    Ok(end)
}

struct TemplateWriter<'a> {
    w: Cursor<'a>,
    tables: &'a mut Tables,
}

impl TemplateWriter<'_> {
    /// A name reference: the offset of the name in the chunk, written inline (and entered in the
    /// string table) the first time the chunk uses it.
    fn name(&mut self, name: NameId) -> Fits {
        let known = self.tables.names[name as usize];
        if known != 0 {
            return self.w.u32(known);
        }
        let here = (self.w.pos + 4) as u32;
        self.w.u32(here)?;
        let text = NAMES[name as usize];
        let hash = name_hash(text);
        let bucket = (hash % 64) as usize;
        self.w.u32(self.tables.strings[bucket])?;
        self.w.u16(hash as u16)?;
        self.w.counted_utf16(text)?;
        self.w.u16(0)?;
        self.tables.strings[bucket] = here;
        self.tables.names[name as usize] = here;
        Ok(())
    }

    /// Element start: token, dependency id (none), data size (patched by [`Self::end`]), name,
    /// and the attribute list size (patched by [`Self::attributes`]).
    fn start(&mut self, name: NameId, has_attributes: bool) -> Fits<Open> {
        let start = self.w.pos;
        self.w.u8(if has_attributes { token::OPEN_START_ATTRS } else { token::OPEN_START })?;
        self.w.u16(0xffff)?;
        self.w.u32(0)?;
        self.name(name)?;
        let attrs_at = if has_attributes {
            let at = self.w.pos;
            self.w.u32(0)?;
            Some(at)
        } else {
            None
        };
        Ok(Open { start, attrs_at })
    }

    fn attributes(&mut self, open: &Open, attrs: &[(NameId, Content<'_>)]) -> Fits {
        for (i, &(name, value)) in attrs.iter().enumerate() {
            let more = i + 1 < attrs.len();
            self.w.u8(if more { token::ATTRIBUTE_MORE } else { token::ATTRIBUTE })?;
            self.name(name)?;
            self.value(value)?;
        }
        if let Some(at) = open.attrs_at {
            let size = self.w.pos - at - 4;
            self.w.patch_u32(at, size as u32);
        }
        Ok(())
    }

    fn value(&mut self, value: Content<'_>) -> Fits {
        match value {
            Content::Text(text) => {
                self.w.u8(token::VALUE)?;
                self.w.u8(ty::STRING)?;
                self.w.counted_utf16(text)
            }
            Content::Sub { index, ty, optional } => {
                self.w.u8(if optional { token::OPTIONAL_SUB } else { token::NORMAL_SUB })?;
                self.w.u16(index)?;
                self.w.u8(ty)
            }
        }
    }

    /// Element content; empty literal text is left out rather than written as an empty value.
    fn content(&mut self, value: Content<'_>) -> Fits {
        match value {
            Content::Text("") => Ok(()),
            value => self.value(value),
        }
    }

    /// Closes an element (`/>` when `empty`, else `</name>`) and patches its data size, which
    /// counts everything after the first 7 bytes (token, dependency id, size).
    fn end(&mut self, open: &Open, empty: bool) -> Fits {
        self.w.u8(if empty { token::CLOSE_EMPTY } else { token::END_ELEMENT })?;
        let size = self.w.pos - open.start - 7;
        self.w.patch_u32(open.start + 3, size as u32);
        Ok(())
    }

    fn text_element(&mut self, name: NameId, value: Content<'_>) -> Fits {
        let open = self.start(name, false)?;
        self.w.u8(token::CLOSE_START)?;
        self.content(value)?;
        self.end(&open, false)
    }

    fn empty_with_attributes(&mut self, name: NameId, attrs: &[(NameId, Content<'_>)]) -> Fits {
        let open = self.start(name, true)?;
        self.attributes(&open, attrs)?;
        self.end(&open, true)
    }
}
