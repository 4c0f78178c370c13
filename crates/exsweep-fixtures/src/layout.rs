//! Writes a generated server as a drive copy, KAPE or Velociraptor collection, or a zip of one.
//!
//! A logical Windows path `C:\X\Y` lands at
//! - `X/Y` in a [`Layout::Drive`] (a copy of the system drive; an install on another drive is put
//!   in the same tree);
//! - `C/X/Y` in a [`Layout::Kape`] tree (`D/...` for drive D);
//! - `uploads/auto/C%3A/X/Y` in a [`Layout::Velociraptor`] collection, each component escaped the
//!   Velociraptor way ([`velociraptor_escape`]), next to the collection's own
//!   `collection_context.json`, `log.json` and `results/...json`, which are not evidence;
//! - `uploads/ntfs/%5C%5C.%5CC%3A/X/Y` in a [`Layout::VelociraptorNtfs`] collection.
//!
//! Files are written in sorted path order with fixed modification times, so the same server gives
//! byte-identical trees and zips.

use crate::generator::{Content, FileSpec, Mark, Server};
use crate::truth::{DiskFile, GroundTruth, Planted, Trap};
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Cursor, Write};
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

/// How a triage copy is laid out on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    Drive,
    Kape,
    Velociraptor,
    VelociraptorNtfs,
}

impl Layout {
    pub const ALL: [Layout; 4] = [Layout::Drive, Layout::Kape, Layout::Velociraptor, Layout::VelociraptorNtfs];

    /// `drive`, `kape`, `velociraptor`, `velociraptor-ntfs`.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Drive => "drive",
            Layout::Kape => "kape",
            Layout::Velociraptor => "velociraptor",
            Layout::VelociraptorNtfs => "velociraptor-ntfs",
        }
    }

    /// Where a logical Windows path (`C:\X\Y`) lands in this layout, `/`-separated, relative to
    /// the source root.
    pub fn source_path(self, windows_path: &str) -> String {
        let (drive, parts) = split_windows_path(windows_path);
        let mut out: Vec<String> = match self {
            Layout::Drive => Vec::new(),
            Layout::Kape => vec![drive.to_string()],
            Layout::Velociraptor => vec!["uploads".into(), "auto".into(), velociraptor_escape(&format!("{drive}:"))],
            Layout::VelociraptorNtfs => {
                vec!["uploads".into(), "ntfs".into(), velociraptor_escape(&format!("\\\\.\\{drive}:"))]
            }
        };
        let escape = matches!(self, Layout::Velociraptor | Layout::VelociraptorNtfs);
        out.extend(parts.iter().map(|p| if escape { velociraptor_escape(p) } else { (*p).to_string() }));
        out.join("/")
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Layout {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "drive" => Ok(Layout::Drive),
            "kape" => Ok(Layout::Kape),
            "velociraptor" | "velo" => Ok(Layout::Velociraptor),
            "velociraptor-ntfs" | "velo-ntfs" => Ok(Layout::VelociraptorNtfs),
            other => Err(format!("unknown layout {other:?} (drive, kape, velociraptor, velociraptor-ntfs)")),
        }
    }
}

/// Drive letter (upper case, `C` when absent) and components of a Windows path.
fn split_windows_path(p: &str) -> (char, Vec<&str>) {
    let b = p.as_bytes();
    let (drive, rest) = if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        ((b[0] as char).to_ascii_uppercase(), &p[2..])
    } else {
        ('C', p)
    };
    (drive, rest.split(['\\', '/']).filter(|c| !c.is_empty()).collect())
}

/// Escapes one path component as Velociraptor names uploads: `%` `:` `/` `\` and characters
/// Windows forbids in names become `%XX`, a leading `.` becomes `%2E`; spaces are kept.
pub fn velociraptor_escape(component: &str) -> String {
    let mut out = String::with_capacity(component.len() + 8);
    for (i, ch) in component.chars().enumerate() {
        let escape = match ch {
            '%' | ':' | '/' | '\\' | '<' | '>' | '"' | '|' | '?' | '*' => true,
            '.' => i == 0,
            c => (c as u32) < 0x20,
        };
        if escape {
            out.push_str(&format!("%{:02X}", ch as u32));
        } else {
            out.push(ch);
        }
    }
    out
}

/// One file of the output: a server file or a collection file of the layout itself.
enum Entry<'s> {
    Server(&'s FileSpec),
    Extra(ExtraFile),
}

#[derive(Clone, Copy)]
enum ExtraFile {
    Context,
    Log,
    Metadata,
}

/// The server's files in this layout, sorted by path, then the layout's own files.
fn plan(files: &[FileSpec], layout: Layout) -> Vec<(String, i64, Entry<'_>)> {
    let mut entries: Vec<(String, i64, Entry)> =
        files.iter().map(|f| (layout.source_path(&f.win_path), f.mtime, Entry::Server(f))).collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    if matches!(layout, Layout::Velociraptor | Layout::VelociraptorNtfs) {
        let end = files.iter().map(|f| f.mtime).max().unwrap_or(0) + 3_600_000;
        entries.push(("collection_context.json".into(), end, Entry::Extra(ExtraFile::Context)));
        entries.push(("log.json".into(), end, Entry::Extra(ExtraFile::Log)));
        entries.push((
            "results/Windows.KapeFiles.Targets%2FAll File Metadata.json".into(),
            end,
            Entry::Extra(ExtraFile::Metadata),
        ));
    }
    entries
}

/// Collects the ground truth while files are written.
struct TruthBuilder {
    truth: GroundTruth,
    /// (source path, windows path, size, mtime) of every evidence file, for Velociraptor metadata.
    written: Vec<(String, String, u64, i64)>,
}

impl TruthBuilder {
    fn new(server: &Server, layout: String) -> Self {
        TruthBuilder {
            truth: GroundTruth {
                host: server.spec().host.clone(),
                layout,
                patch: server.truth_patch(),
                ..GroundTruth::default()
            },
            written: Vec::new(),
        }
    }

    fn add(&mut self, path: &str, f: &FileSpec, marks: Vec<Mark>, size: u64) {
        for m in marks {
            if m.trap {
                self.truth.traps.push(Trap { path: path.into(), line: m.line, record: m.record, note: m.note });
            } else {
                for rule in &m.rules {
                    self.truth.indicators.push(Planted {
                        rule_id: (*rule).into(),
                        path: path.into(),
                        line: m.line,
                        record: m.record,
                        note: m.note.clone(),
                    });
                }
            }
        }
        match f.disk.as_ref() {
            Some(d) if d.kind == "legit" => self.truth.legit_files.push(path.into()),
            Some(d) if d.kind != "trap" => {
                let sha256 = match &f.content {
                    Content::Bytes(b) => crate::generator::sha256_hex(b),
                    _ => String::new(),
                };
                self.truth.files_on_disk.push(DiskFile {
                    path: path.into(),
                    kind: d.kind.into(),
                    note: d.note.clone(),
                    family: d.family.into(),
                    variant: d.variant.into(),
                    place: d.place.into(),
                    expect: d.expect.iter().map(|e| (*e).to_string()).collect(),
                    sha256,
                });
            }
            _ => {}
        }
        self.written.push((path.into(), f.win_path.clone(), size, f.mtime));
    }

    fn finish(mut self) -> GroundTruth {
        self.truth.sort();
        self.truth
    }
}

/// Counts bytes passed through.
struct Counting<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.inner.write(buf)?;
        self.n += k as u64;
        Ok(k)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn system_time(t_ms: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(t_ms.max(0) as u64)
}

/// Writes the server under `out` (created if missing) in the layout; returns the ground truth.
pub fn write_tree(server: &Server, layout: Layout, out: &Path) -> io::Result<GroundTruth> {
    std::fs::create_dir_all(out)?;
    let files = server.files();
    let mut tb = TruthBuilder::new(server, layout.name().into());
    for (path, mtime, entry) in plan(&files, layout) {
        let full = out.join(&path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match entry {
            Entry::Server(f) => match &f.content {
                Content::Dir => std::fs::create_dir_all(&full)?,
                Content::Evtx(log) => {
                    let (file, marks) = server.write_evtx(*log, File::create(&full)?)?;
                    let size = file.metadata()?.len();
                    file.set_modified(system_time(mtime))?;
                    tb.add(&path, f, marks, size);
                }
                _ => {
                    let mut w = Counting { inner: BufWriter::with_capacity(1 << 18, File::create(&full)?), n: 0 };
                    let marks = server.write_file(f, &mut w)?;
                    let file = w.inner.into_inner().map_err(|e| e.into_error())?;
                    file.set_modified(system_time(mtime))?;
                    tb.add(&path, f, marks, w.n);
                }
            },
            Entry::Extra(x) => {
                let bytes = extra_file(server, x, &tb.written);
                std::fs::write(&full, bytes)?;
                File::options().write(true).open(&full)?.set_modified(system_time(mtime))?;
            }
        }
    }
    Ok(tb.finish())
}

/// Writes the same tree into one zip file at `zip_path` (deflate); ground-truth paths are the
/// paths inside the zip.
pub fn write_zip(server: &Server, layout: Layout, zip_path: &Path) -> io::Result<GroundTruth> {
    if let Some(parent) = zip_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let files = server.files();
    let mut tb = TruthBuilder::new(server, format!("{}+zip", layout.name()));
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, File::create(zip_path)?));
    for (path, mtime, entry) in plan(&files, layout) {
        let opts = zip_options(mtime);
        match entry {
            Entry::Server(f) => match &f.content {
                Content::Dir => zip.add_directory(format!("{path}/"), opts).map_err(io::Error::other)?,
                Content::Evtx(log) => {
                    // The EVTX writer needs Seek; Application.evtx and friends are small.
                    let (cursor, marks) = server.write_evtx(*log, Cursor::new(Vec::new()))?;
                    let bytes = cursor.into_inner();
                    zip.start_file(path.as_str(), opts).map_err(io::Error::other)?;
                    zip.write_all(&bytes)?;
                    tb.add(&path, f, marks, bytes.len() as u64);
                }
                _ => {
                    zip.start_file(path.as_str(), opts).map_err(io::Error::other)?;
                    let mut w = Counting { inner: BufWriter::with_capacity(1 << 16, &mut zip), n: 0 };
                    let marks = server.write_file(f, &mut w)?;
                    w.flush()?;
                    let n = w.n;
                    drop(w);
                    tb.add(&path, f, marks, n);
                }
            },
            Entry::Extra(x) => {
                let bytes = extra_file(server, x, &tb.written);
                zip.start_file(path.as_str(), opts).map_err(io::Error::other)?;
                zip.write_all(&bytes)?;
            }
        }
    }
    zip.finish().map_err(io::Error::other)?.flush()?;
    Ok(tb.finish())
}

fn zip_options(mtime: i64) -> zip::write::SimpleFileOptions {
    let c = crate::generator::fmt::civil(mtime);
    let when = zip::DateTime::from_date_and_time(c.y as u16, c.mo as u8, c.d as u8, c.h as u8, c.mi as u8, c.s as u8)
        .unwrap_or_default();
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .last_modified_time(when)
        .unix_permissions(0o644)
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Velociraptor's own collection files (not evidence).
fn extra_file(server: &Server, which: ExtraFile, written: &[(String, String, u64, i64)]) -> Vec<u8> {
    let spec = server.spec();
    let end = written.iter().map(|w| w.3).max().unwrap_or(0) + 3_600_000;
    let us = end * 1000;
    let mut seed = crate::generator::rng::Rng::stream(spec.seed, &[11]);
    let client = format!("C.{:016x}", seed.next_u64());
    let flow = format!("F.{}", seed.chars(b"0123456789ABCDEFGHIJKLMNOPQRSTUV", 13));
    let total: u64 = written.iter().map(|w| w.2).sum();
    let text = match which {
        ExtraFile::Context => format!(
            "{{\"client_id\":\"{client}\",\"session_id\":\"{flow}\",\"request\":{{\"creator\":\"admin\",\"artifacts\":[\"Windows.KapeFiles.Targets\"],\"specs\":[{{\"artifact\":\"Windows.KapeFiles.Targets\",\"parameters\":{{\"env\":[{{\"key\":\"Device\",\"value\":\"C:\"}},{{\"key\":\"EventLogs\",\"value\":\"Y\"}},{{\"key\":\"IISLogFiles\",\"value\":\"Y\"}},{{\"key\":\"Exchange\",\"value\":\"Y\"}}]}}}}]}},\"create_time\":{},\"start_time\":{},\"active_time\":{},\"total_uploaded_files\":{},\"total_expected_uploaded_bytes\":{total},\"total_uploaded_bytes\":{total},\"total_collected_rows\":{},\"state\":\"FINISHED\",\"artifacts_with_results\":[\"Windows.KapeFiles.Targets/All File Metadata\",\"Windows.KapeFiles.Targets/Uploads\"],\"hostname\":{}}}\n",
            us - 120_000_000,
            us - 119_000_000,
            us,
            written.len(),
            written.len().min(100),
            json_str(&format!("{}.{}", spec.host, spec.domain)),
        ),
        ExtraFile::Log => {
            let mut s = String::new();
            for (k, msg) in [
                "Starting collection of Windows.KapeFiles.Targets",
                "Windows.KapeFiles.Targets: Collecting file metadata",
                "Windows.KapeFiles.Targets: Uploading files",
                "Collection is done after 119 seconds",
            ]
            .iter()
            .enumerate()
            {
                let t = us - 120_000_000 + k as i64 * 39_000_000;
                s.push_str(&format!(
                    "{{\"_ts\":{},\"client_time\":{},\"level\":\"DEFAULT\",\"message\":{}}}\n",
                    t / 1_000_000,
                    t / 1_000_000,
                    json_str(msg)
                ));
            }
            s
        }
        ExtraFile::Metadata => {
            let mut s = String::new();
            for (_, win, size, mtime) in written.iter().take(100) {
                let c = crate::generator::fmt::civil(*mtime);
                let when = format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.y, c.mo, c.d, c.h, c.mi, c.s);
                s.push_str(&format!(
                    "{{\"SourceFile\":{},\"Size\":{size},\"Created\":\"{when}\",\"Modified\":\"{when}\",\"Type\":\"auto\"}}\n",
                    json_str(win)
                ));
            }
            s
        }
    };
    text.into_bytes()
}
