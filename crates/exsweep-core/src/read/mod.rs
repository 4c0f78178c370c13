//! Readers: one per format, all streaming with bounded memory, none of which stops the scan on bad
//! input. This module sniffs a file's format from its first bytes (not its name), undoes byte-order
//! marks and UTF-16, and hands the file to the right reader. What a reader could not read is noted
//! in [`FileObs`] with its line or offset, and becomes a coverage finding.

pub mod delimited;
pub mod events;
pub mod lines;
pub mod prefilter;

use crate::inventory::TimeTracker;
use crate::model::ArtifactKind;
use crate::record::Header;
use std::collections::BTreeMap;
use std::io::Read;

pub use delimited::Dialect;

/// A cheap test on one column, run on every line before parsing it: a line is parsed when the
/// test passes (or when the column cannot be found cheaply).
#[derive(Clone, Copy, Debug)]
pub struct FieldGate {
    /// Column name, matched case-insensitively against the `#Fields:` header.
    pub column: &'static str,
    pub test: fn(&str) -> bool,
    /// Literals, one of which every line whose value passes `test` contains (matched ASCII
    /// case-insensitively; they may include the separators around the value, as the column is
    /// then never the first or last). Empty when the test has no such literals: every line must
    /// then be looked at.
    pub literals: &'static [&'static str],
}

/// Which lines a delimited reader must parse for the detectors: every line, or the lines that
/// contain one of the literals or pass one of the field gates.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gate<'a> {
    pub all: bool,
    pub literals: Option<&'a prefilter::CiLiterals>,
    pub fields: &'a [FieldGate],
    /// The detector literals and every field gate's literals together, when every field gate has
    /// some: runs of lines without any of them are skipped in bulk.
    pub bulk: Option<&'a prefilter::CiLiterals>,
}

/// Reader settings.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    /// Lines longer than this are reported and skipped.
    pub max_line: usize,
    /// EVTX from a zip is held in memory up to this size, else spooled to a temporary file.
    pub evtx_mem_limit: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { max_line: 1 << 20, evtx_mem_limit: 32 << 20 }
    }
}

/// A problem that may repeat on many lines: counted, with the first place it occurred.
#[derive(Clone, Copy, Debug, Default)]
struct Repeated {
    count: u64,
    first_line: u64,
    first_offset: Option<u64>,
}

impl Repeated {
    fn hit(&mut self, line: u64, offset: Option<u64>) {
        if self.count == 0 {
            self.first_line = line;
            self.first_offset = offset;
        }
        self.count += 1;
    }

    fn describe(&self, what: &str) -> Option<String> {
        (self.count > 0).then(|| {
            let at = match self.first_offset {
                Some(o) => format!("line {}, offset {}", self.first_line, o),
                None => format!("line {}", self.first_line),
            };
            format!("{} {what} (first at {at})", self.count)
        })
    }
}

/// What reading one file observed, besides records: time coverage, header facts, hints about the
/// host, and problems.
#[derive(Clone, Debug, Default)]
pub struct FileObs {
    pub kind_label: &'static str,
    pub time: TimeTracker,
    pub bytes: u64,
    pub lines: u64,
    pub records: u64,
    pub log_type: Option<String>,
    pub software: Option<String>,
    /// Exchange build from the `#Version:` header.
    pub build: Option<String>,
    /// The first `#Date:` header: when the log was started.
    pub created: Option<crate::time::Timestamp>,
    pub header_changes: u32,
    /// Server names seen in the file, with counts.
    pub hosts: BTreeMap<String, u64>,
    /// Event channels seen, with counts.
    pub channels: BTreeMap<String, u64>,
    /// Value of the HttpProxy `Protocol` column in the first row.
    pub protocol: Option<String>,
    notes: Vec<String>,
    long_lines: Repeated,
    invalid_utf8: Repeated,
    nul_lines: Repeated,
    headerless: Repeated,
    /// Only informational notes (e.g. UTF-16 transcoded): the file was still read in full.
    pub info_only: bool,
}

impl FileObs {
    pub fn new(kind_label: &'static str) -> FileObs {
        FileObs { kind_label, ..FileObs::default() }
    }

    pub fn note(&mut self, reason: String) {
        self.notes.push(reason);
    }

    pub fn note_long_line(&mut self, line: u64, offset: u64, len: u64) {
        if self.long_lines.count == 0 {
            self.notes.push(format!("line {line} at offset {offset} is {len} bytes long; skipped"));
        }
        self.long_lines.hit(line, Some(offset));
    }

    pub fn note_invalid_utf8(&mut self, line: u64, offset: u64) {
        self.invalid_utf8.hit(line, Some(offset));
    }

    pub fn note_nul(&mut self, line: u64, offset: u64) {
        self.nul_lines.hit(line, Some(offset));
    }

    pub fn note_headerless(&mut self, line: u64) {
        self.headerless.hit(line, None);
    }

    pub fn hint_host(&mut self, name: &str) {
        let short = name.split('.').next().unwrap_or(name).trim();
        if short.is_empty() || short == "-" {
            return;
        }
        // Upper-cased on the stack when short (host names are), as this runs once per event.
        let mut buf = [0u8; 64];
        if let Some(upper) = buf.get_mut(..short.len()) {
            upper.copy_from_slice(short.as_bytes());
            upper.make_ascii_uppercase();
            if let Ok(key) = std::str::from_utf8(upper)
                && let Some(n) = self.hosts.get_mut(key)
            {
                *n += 1;
                return;
            }
        }
        *self.hosts.entry(short.to_ascii_uppercase()).or_insert(0) += 1;
    }

    /// Every problem, worded for a person.
    pub fn reasons(&self) -> Vec<String> {
        let mut r = self.notes.clone();
        if self.long_lines.count > 1 {
            r.extend(self.long_lines.describe("over-long lines skipped"));
        }
        r.extend(self.invalid_utf8.describe("lines with invalid UTF-8 (read with replacement characters)"));
        r.extend(self.nul_lines.describe("lines with NUL bytes (binary data) skipped"));
        r.extend(self.headerless.describe("data lines before any #Fields header, not parsed"));
        r
    }

    pub fn has_problems(&self) -> bool {
        !self.notes.is_empty()
            || self.long_lines.count > 0
            || self.invalid_utf8.count > 0
            || self.nul_lines.count > 0
            || self.headerless.count > 0
    }
}

/// A file format, as sniffed from content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Delimited(Dialect, ArtifactKind),
    Evtx,
    EventXml,
    EventJson,
    /// Text without a recognised header (used for OABGeneratorLog files).
    PlainText,
    Binary,
    Unknown,
}

/// Bytes sniffed from the start of a file.
pub const SNIFF_LEN: usize = 8192;

/// Sniffs a format from the first bytes (after any UTF-8 BOM; UTF-16 already transcoded).
pub fn sniff(head: &[u8]) -> Format {
    if head.starts_with(b"ElfFile\0") {
        return Format::Evtx;
    }
    // `from_utf8` first: its ASCII fast path is several times quicker than the lossy decoder, and
    // every file is sniffed.
    let text = match std::str::from_utf8(head) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(head),
    };
    let t = text.trim_start();
    if t.starts_with("#Software: Microsoft Exchange Server") || (t.starts_with('#') && t.contains("\n#Log-type:")) {
        let log_type = t
            .lines()
            .find_map(|l| l.strip_prefix("#Log-type:"))
            .map(|s| s.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let kind = if log_type.contains("httpproxy") {
            ArtifactKind::Httpproxy
        } else if log_type.contains("ecp server") {
            ArtifactKind::EcpServer
        } else if log_type.contains("oab") {
            ArtifactKind::OabGenerator
        } else {
            ArtifactKind::ExchangeLog
        };
        return Format::Delimited(Dialect::ExchangeCsv, kind);
    }
    if t.starts_with("#Software: Microsoft Internet Information Services")
        || (t.starts_with('#') && t.lines().any(|l| l.starts_with("#Fields:") && l.contains(" cs-")))
    {
        return Format::Delimited(Dialect::W3c, ArtifactKind::IisW3c);
    }
    if t.starts_with('<') && (t.contains("<Event ") || t.contains("<Event>") || t.contains("<Events")) {
        return Format::EventXml;
    }
    if (t.starts_with('{')
        && (t.contains("\"Event\"")
            || t.contains("\"EventID\"")
            || t.contains("\"EventId\"")
            || t.contains("\"winlog\"")))
        || (t.starts_with("Record ") && t.contains('{'))
    {
        return Format::EventJson;
    }
    let nul = head.iter().filter(|&&b| b == 0).count();
    let ctrl = head.iter().filter(|&&b| b < 0x09 || (b > 0x0d && b < 0x20)).count();
    if nul > 0 || ctrl * 20 > head.len().max(1) {
        return Format::Binary;
    }
    if head.is_empty() {
        return Format::Unknown;
    }
    Format::PlainText
}

/// The standard columns of logs whose header may be missing from a truncated copy.
pub fn default_header(kind: ArtifactKind) -> Option<std::sync::Arc<Header>> {
    use std::sync::{Arc, OnceLock};
    static HEADERS: [OnceLock<Option<Arc<Header>>>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match kind {
        ArtifactKind::Httpproxy => 0,
        ArtifactKind::EcpServer => 1,
        ArtifactKind::IisW3c => 2,
        _ => return None,
    };
    HEADERS[slot].get_or_init(|| build_default_header(kind).map(Arc::new)).clone()
}

fn build_default_header(kind: ArtifactKind) -> Option<Header> {
    let names: &[&str] = match kind {
        ArtifactKind::Httpproxy => &HTTPPROXY_FIELDS,
        ArtifactKind::EcpServer => &["TimeStamp", "ServerName", "EventId", "EventData"],
        ArtifactKind::IisW3c => &[
            "date",
            "time",
            "s-ip",
            "cs-method",
            "cs-uri-stem",
            "cs-uri-query",
            "s-port",
            "cs-username",
            "c-ip",
            "cs(User-Agent)",
            "cs(Referer)",
            "sc-status",
            "sc-substatus",
            "sc-win32-status",
            "time-taken",
        ],
        _ => return None,
    };
    Some(Header::new(names.iter().map(|s| s.to_string()).collect()))
}

/// The 74 HttpProxy columns (Exchange 2016 CU22 order; knowledge file §1.3).
pub const HTTPPROXY_FIELDS: [&str; 74] = [
    "DateTime",
    "RequestId",
    "MajorVersion",
    "MinorVersion",
    "BuildVersion",
    "RevisionVersion",
    "ClientRequestId",
    "Protocol",
    "UrlHost",
    "UrlStem",
    "ProtocolAction",
    "AuthenticationType",
    "IsAuthenticated",
    "AuthenticatedUser",
    "Organization",
    "AnchorMailbox",
    "UserAgent",
    "ClientIpAddress",
    "ServerHostName",
    "HttpStatus",
    "BackEndStatus",
    "ErrorCode",
    "Method",
    "ProxyAction",
    "TargetServer",
    "TargetServerVersion",
    "RoutingType",
    "RoutingHint",
    "BackEndCookie",
    "ServerLocatorHost",
    "ServerLocatorLatency",
    "RequestBytes",
    "ResponseBytes",
    "TargetOutstandingRequests",
    "AuthModulePerfContext",
    "HttpPipelineLatency",
    "CalculateTargetBackEndLatency",
    "GlsLatencyBreakup",
    "TotalGlsLatency",
    "AccountForestLatencyBreakup",
    "TotalAccountForestLatency",
    "ResourceForestLatencyBreakup",
    "TotalResourceForestLatency",
    "ADLatency",
    "SharedCacheLatencyBreakup",
    "TotalSharedCacheLatency",
    "ActivityContextLifeTime",
    "ModuleToHandlerSwitchingLatency",
    "ClientReqStreamLatency",
    "BackendReqInitLatency",
    "BackendReqStreamLatency",
    "BackendProcessingLatency",
    "BackendRespInitLatency",
    "BackendRespStreamLatency",
    "ClientRespStreamLatency",
    "KerberosAuthHeaderLatency",
    "HandlerCompletionLatency",
    "RequestHandlerLatency",
    "HandlerToModuleSwitchingLatency",
    "ProxyTime",
    "CoreLatency",
    "RoutingLatency",
    "HttpProxyOverhead",
    "TotalRequestTime",
    "RouteRefresherLatency",
    "UrlQuery",
    "BackEndGenericInfo",
    "GenericInfo",
    "GenericErrors",
    "EdgeTraceId",
    "DatabaseGuid",
    "UserADObjectGuid",
    "PartitionEndpointLookupLatency",
    "RoutingStatus",
];

/// Text encoding found at the start of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bom {
    None,
    Utf8,
    Utf16Le,
    Utf16Be,
}

pub fn bom_of(head: &[u8]) -> Bom {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Bom::Utf8
    } else if head.starts_with(&[0xFF, 0xFE]) {
        Bom::Utf16Le
    } else if head.starts_with(&[0xFE, 0xFF]) {
        Bom::Utf16Be
    } else {
        Bom::None
    }
}

/// Wraps a reader so that it yields UTF-8: strips a UTF-8 BOM and transcodes UTF-16 (either
/// byte order, found by its BOM) on the fly.
pub fn utf8_reader<'a>(input: Box<dyn Read + 'a>, bom: Bom) -> Box<dyn Read + 'a> {
    match bom {
        Bom::None => input,
        _ => Box::new(encoding_rs_io::DecodeReaderBytesBuilder::new().bom_sniffing(true).strip_bom(true).build(input)),
    }
}
