//! EVTX writer: real Windows XML Event Log files (file header, 64 KiB chunks, BinXML templates,
//! CRC32 checksums) that the `evtx` crate and python-evtx read back.
//!
//! A file is a 4096-byte `ElfFile` header followed by 64 KiB `ElfChnk` chunks. Each chunk holds
//! event records (`**\0\0`) whose content is BinXML: one TemplateInstance per record, with the
//! record's values as typed substitutions. As Windows does, records of the same shape (provider,
//! channel, EventData kind and field names) share one template per chunk: the first record of the
//! shape in a chunk defines it inline, the others point at it. Element and attribute names live
//! in the chunk's common string table.
//!
//! Every event renders as Windows renders its own:
//!
//! ```xml
//! <Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
//!   <System>
//!     <Provider Name=".." Guid="{..}" EventSourceName=".."/>
//!     <EventID Qualifiers="..">..</EventID>
//!     <Version/> <Level/> <Task/> <Opcode/> <Keywords>0x..</Keywords>
//!     <TimeCreated SystemTime=".."/>
//!     <EventRecordID>..</EventRecordID>
//!     <Correlation/>
//!     <Execution ProcessID=".." ThreadID=".."/>
//!     <Channel>..</Channel> <Computer>..</Computer>
//!     <Security UserID=".."/>
//!   </System>
//!   <EventData><Data Name="..">..</Data>..</EventData>
//! </Event>
//! ```
//!
//! Optional values (Guid, EventSourceName, Qualifiers, UserID) are optional substitutions whose
//! value is NullType when absent, so readers leave the attribute out.
//!
//! The writer keeps one chunk in memory and streams each full chunk to its output; it reserves
//! the file header at the start and rewrites it in [`EvtxWriter::finish`].

mod chunk;
mod encode;

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;

use chunk::{CHUNK_DATA_SIZE, CHUNK_SIZE, Chunk, Full, INSTANCE_HEADER, RECORD_OVERHEAD};
use encode::{IdentityHasher, ShapeHasher, invalid};

/// Size of the file header block.
const FILE_HEADER_SIZE: usize = 4096;
/// The file header counts chunks in 16 bits.
const MAX_CHUNKS: u64 = u16::MAX as u64;
/// Shapes remembered before the table is dropped and rebuilt (keeps memory bounded).
const MAX_SHAPES: usize = 4096;
/// EventData fields per event: substitution indexes are 16-bit (no such event fits anyway).
const MAX_FIELDS: usize = 16_384;

/// One event to write. Times are Unix epoch milliseconds, UTC.
#[derive(Clone, Debug, Default)]
pub struct EventSpec {
    /// System/Provider @Name.
    pub provider: String,
    /// System/Provider @Guid, e.g. `"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"` (braces optional).
    pub provider_guid: Option<String>,
    /// System/Provider @EventSourceName (classic providers).
    pub event_source_name: Option<String>,
    pub event_id: u16,
    /// System/EventID @Qualifiers (classic providers, e.g. 16388 for MSExchange).
    pub qualifiers: Option<u16>,
    pub version: u8,
    /// 0..5; 2 = Error, 3 = Warning, 4 = Information.
    pub level: u8,
    pub task: u16,
    pub opcode: u8,
    pub keywords: u64,
    /// TimeCreated @SystemTime (and the record's written time), Unix epoch milliseconds.
    pub time_ms: i64,
    pub process_id: u32,
    pub thread_id: u32,
    /// "Application", "Security", "Microsoft-Windows-Sysmon/Operational", "MSExchange
    /// Management", ...
    pub channel: String,
    pub computer: String,
    /// System/Security @UserID, e.g. "S-1-5-18".
    pub user_sid: Option<String>,
    pub data: EventData,
}

/// The EventData of an event.
#[derive(Clone, Debug)]
pub enum EventData {
    /// `<EventData><Data Name="k">v</Data>...</EventData>` (manifest providers: Security,
    /// Sysmon, PowerShell 4104, ...).
    Named(Vec<(String, String)>),
    /// `<EventData><Data>v</Data>...</EventData>` with no Name attributes (classic providers:
    /// Application events of MSExchange*, and the MSExchange Management cmdlet log).
    Unnamed(Vec<String>),
}

impl Default for EventData {
    fn default() -> Self {
        EventData::Unnamed(Vec::new())
    }
}

impl EventData {
    /// Number of Data elements.
    pub fn len(&self) -> usize {
        match self {
            EventData::Named(pairs) => pairs.len(),
            EventData::Unnamed(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The Data values, in order.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        let (named, unnamed) = match self {
            EventData::Named(pairs) => (pairs.as_slice(), &[][..]),
            EventData::Unnamed(values) => (&[][..], values.as_slice()),
        };
        named.iter().map(|(_, v)| v.as_str()).chain(unnamed.iter().map(String::as_str))
    }
}

/// A template shape: what a template definition depends on besides the values.
struct Shape {
    provider: String,
    channel: String,
    /// `None` for unnamed EventData, else the Data names.
    names: Option<Vec<String>>,
    fields: usize,
    guid: [u8; 16],
    /// The chunk generation and offset where this shape's template is defined, if it is.
    defined: Option<(u64, u32)>,
    /// Size of the template definition in a fresh chunk, once measured.
    fresh_template_size: Option<usize>,
}

impl Shape {
    fn matches(&self, event: &EventSpec) -> bool {
        self.provider == event.provider
            && self.channel == event.channel
            && self.fields == event.data.len()
            && match (&self.names, &event.data) {
                (None, EventData::Unnamed(_)) => true,
                (Some(names), EventData::Named(pairs)) => names.iter().zip(pairs).all(|(n, (k, _))| n == k),
                _ => false,
            }
    }
}

fn shape_hash(event: &EventSpec, seed: u64) -> u64 {
    let mut h = ShapeHasher::new(seed);
    h.bytes(event.provider.as_bytes());
    h.bytes(event.channel.as_bytes());
    match &event.data {
        EventData::Named(pairs) => {
            h.word(1);
            for (name, _) in pairs {
                h.bytes(name.as_bytes());
            }
        }
        EventData::Unnamed(values) => {
            h.word(2);
            h.word(values.len() as u64);
        }
    }
    h.finish()
}

/// Shapes seen so far, found by hash without allocating.
#[derive(Default)]
struct Shapes {
    list: Vec<Shape>,
    index: HashMap<u64, usize, BuildHasherDefault<IdentityHasher>>,
}

impl Shapes {
    fn find_or_insert(&mut self, event: &EventSpec) -> usize {
        let key = shape_hash(event, 0);
        if let Some(&i) = self.index.get(&key) {
            if self.list[i].matches(event) {
                return i;
            }
            // A 64-bit collision: look through the rest rather than trust the hash.
            if let Some(i) = self.list.iter().position(|s| s.matches(event)) {
                return i;
            }
        }
        let mut guid = [0u8; 16];
        guid[..8].copy_from_slice(&key.to_le_bytes());
        guid[8..].copy_from_slice(&shape_hash(event, 0x6576_7478).to_le_bytes());
        // Mark it a random (version 4, RFC 4122 variant) GUID, like the ones Windows uses.
        guid[7] = (guid[7] & 0x0f) | 0x40;
        guid[8] = (guid[8] & 0x3f) | 0x80;
        self.list.push(Shape {
            provider: event.provider.clone(),
            channel: event.channel.clone(),
            names: match &event.data {
                EventData::Named(pairs) => Some(pairs.iter().map(|(k, _)| k.clone()).collect()),
                EventData::Unnamed(_) => None,
            },
            fields: event.data.len(),
            guid,
            defined: None,
            fresh_template_size: None,
        });
        let i = self.list.len() - 1;
        self.index.entry(key).or_insert(i);
        i
    }

    fn clear(&mut self) {
        self.list.clear();
        self.index.clear();
    }
}

/// Streams events into one EVTX file. Record ids start at 1 and increase by one.
///
/// Call [`EvtxWriter::finish`] at the end: it writes the last chunk and the final file header.
/// A writer dropped without it leaves the last chunk out and a header marked dirty.
pub struct EvtxWriter<W: Write + Seek> {
    out: W,
    /// Where the file header starts in `out`.
    base: u64,
    chunk: Chunk,
    /// Chunks already written to `out`.
    flushed: u64,
    next_id: u64,
    max_chunks: u64,
    shapes: Shapes,
    /// UTF-16 size of each EventData value of the record being written (reused).
    data_sizes: Vec<u32>,
}

impl<W: Write + Seek> EvtxWriter<W> {
    /// Starts a file at the current position of `out`, reserving its header.
    pub fn new(mut out: W) -> io::Result<Self> {
        let base = out.stream_position()?;
        // A valid header already, marked dirty until `finish` writes the real one.
        out.write_all(&file_header(0, 1, true))?;
        Ok(EvtxWriter {
            out,
            base,
            chunk: Chunk::new(),
            flushed: 0,
            next_id: 1,
            max_chunks: MAX_CHUNKS,
            shapes: Shapes::default(),
            data_sizes: Vec::new(),
        })
    }

    /// Appends an event; returns its EventRecordID.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] for an event that cannot be written (one too
    /// large for a chunk, a malformed GUID or SID, a time outside 1601..=9999) and with
    /// [`io::ErrorKind::StorageFull`] once the file has its maximum of 65,535 chunks. Either way
    /// nothing is written and the file stays valid: rotate to a new file before that limit.
    pub fn write(&mut self, event: &EventSpec) -> io::Result<u64> {
        let fields = event.data.len();
        if fields > MAX_FIELDS {
            return Err(invalid(format!(
                "EVTX: event {} has {fields} EventData fields, more than one chunk can hold",
                event.event_id
            )));
        }
        let system = chunk::SystemValues {
            filetime: encode::filetime(event.time_ms)?,
            record_id: self.next_id,
            qualifiers: event.qualifiers,
            provider_guid: non_empty(&event.provider_guid).map(encode::parse_guid).transpose()?,
            source_name: event.event_source_name.as_deref().filter(|s| !s.is_empty()),
            user_sid: non_empty(&event.user_sid).map(encode::parse_sid).transpose()?,
        };

        // Sizes of all substitution values: fixed System ones plus the strings.
        self.data_sizes.clear();
        let mut values_size = 1 + 2 + 1 + 8 + 8 + 8 + 4 + 4 + 2 + 1;
        values_size += system.qualifiers.map_or(0, |_| 2);
        values_size += system.provider_guid.map_or(0, |_| 16);
        values_size += system.user_sid.as_ref().map_or(0, |s| s.len);
        let source_size = system.source_name.map_or(0, encode::utf16_size);
        let computer_size = encode::utf16_size(&event.computer);
        values_size += source_size + computer_size;
        let mut longest = source_size.max(computer_size);
        for value in event.data.values() {
            let size = encode::utf16_size(value);
            longest = longest.max(size);
            values_size += size;
            self.data_sizes.push(size as u32);
        }
        let instance_size =
            RECORD_OVERHEAD + INSTANCE_HEADER + 4 + 4 * (chunk::sub::DATA as usize + fields) + values_size;
        // Value sizes are 16-bit; and no chunk holds more than its data area, even before the
        // template definition is counted.
        if longest > usize::from(u16::MAX) || instance_size > CHUNK_DATA_SIZE {
            return Err(too_large(event, instance_size));
        }

        if self.shapes.list.len() > MAX_SHAPES {
            // Templates already in this chunk just get defined again: valid, if a few bytes
            // larger.
            self.shapes.clear();
        }
        let shape = self.shapes.find_or_insert(event);
        let generation = self.chunk.generation();
        let template = match self.shapes.list[shape].defined {
            Some((g, offset)) if g == generation => Some(offset),
            _ => None,
        };
        let guid = self.shapes.list[shape].guid;
        let appended = self.chunk.append(event, &system, &self.data_sizes, values_size, template, &guid);
        let def_offset = match appended {
            Ok(offset) => offset,
            Err(Full) => {
                if self.chunk.records() == 0 {
                    return Err(too_large(event, instance_size));
                }
                // Would it fit in a fresh chunk, template and all? If not, say so now rather
                // than close the current chunk early.
                let template_size = *self.shapes.list[shape]
                    .fresh_template_size
                    .get_or_insert_with(|| chunk::fresh_template_size(event, &guid));
                let needed = instance_size.saturating_add(template_size);
                if needed > CHUNK_DATA_SIZE {
                    return Err(too_large(event, needed));
                }
                if self.flushed + 1 >= self.max_chunks {
                    return Err(io::Error::new(
                        io::ErrorKind::StorageFull,
                        format!(
                            "EVTX: the file holds its maximum of {} chunks (its header counts \
                             them in 16 bits); start a new file",
                            self.max_chunks
                        ),
                    ));
                }
                self.flush_chunk()?;
                self.chunk
                    .append(event, &system, &self.data_sizes, values_size, None, &guid)
                    .map_err(|Full| too_large(event, instance_size))?
            }
        };
        self.shapes.list[shape].defined = Some((self.chunk.generation(), def_offset));
        self.next_id += 1;
        Ok(system.record_id)
    }

    /// Number of chunks used so far (including the one being filled).
    pub fn chunk_count(&self) -> usize {
        (self.flushed + u64::from(self.chunk.records() > 0)) as usize
    }

    /// Bytes written or pending so far: the size the file would have if finished now.
    pub fn bytes_written(&self) -> u64 {
        FILE_HEADER_SIZE as u64 + self.chunk_count() as u64 * CHUNK_SIZE as u64
    }

    /// Flushes the last chunk, writes the final file header (chunk count, next record id,
    /// checksum) and returns the writer, positioned at the end of the file.
    pub fn finish(mut self) -> io::Result<W> {
        if self.chunk.records() > 0 {
            self.flush_chunk()?;
        }
        // At most `max_chunks` (<= 65535) chunks are ever flushed.
        let chunks = u16::try_from(self.flushed).unwrap_or(u16::MAX);
        self.out.seek(SeekFrom::Start(self.base))?;
        self.out.write_all(&file_header(chunks, self.next_id, false))?;
        let end = self.base + FILE_HEADER_SIZE as u64 + self.flushed * CHUNK_SIZE as u64;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn flush_chunk(&mut self) -> io::Result<()> {
        self.out.write_all(self.chunk.seal())?;
        self.flushed += 1;
        self.chunk.reset();
        Ok(())
    }
}

/// An optional text value, `None` when absent or blank.
fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.trim().is_empty())
}

fn too_large(event: &EventSpec, size: usize) -> io::Error {
    invalid(format!(
        "EVTX: event {} ({}) needs at least {size} bytes, more than the {CHUNK_DATA_SIZE} bytes \
         a 64 KiB chunk has for records (or a value is over 65,535 bytes as UTF-16)",
        event.event_id, event.provider
    ))
}

/// The 4096-byte file header block: magic, first and last chunk number, next record id, header
/// size 128, version 3.1, block size 4096, chunk count, flags, and CRC32 of bytes 0..120.
fn file_header(chunks: u16, next_id: u64, dirty: bool) -> Vec<u8> {
    let mut h = vec![0u8; FILE_HEADER_SIZE];
    h[0..8].copy_from_slice(b"ElfFile\0");
    h[8..16].copy_from_slice(&0u64.to_le_bytes());
    h[16..24].copy_from_slice(&u64::from(chunks.saturating_sub(1)).to_le_bytes());
    h[24..32].copy_from_slice(&next_id.to_le_bytes());
    h[32..36].copy_from_slice(&128u32.to_le_bytes());
    h[36..38].copy_from_slice(&1u16.to_le_bytes());
    h[38..40].copy_from_slice(&3u16.to_le_bytes());
    h[40..42].copy_from_slice(&(FILE_HEADER_SIZE as u16).to_le_bytes());
    h[42..44].copy_from_slice(&chunks.to_le_bytes());
    h[120..124].copy_from_slice(&u32::from(dirty).to_le_bytes());
    let crc = crc32fast::hash(&h[..120]);
    h[124..128].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Convenience: writes all events to a new file at `path`; returns the number of records.
pub fn write_file(path: &Path, events: impl IntoIterator<Item = EventSpec>) -> io::Result<u64> {
    let file = std::fs::File::create(path)?;
    // Chunks go out 64 KiB at a time, so the file needs no buffer of its own.
    let mut writer = EvtxWriter::new(file)?;
    let mut count = 0;
    for event in events {
        writer.write(&event)?;
        count += 1;
    }
    writer.finish()?;
    Ok(count)
}

#[cfg(test)]
mod tests;
