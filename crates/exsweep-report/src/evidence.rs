//! Evidence bundles: `--collect DIR` copies every artifact that has a finding (keeping its path
//! relative to the source, below a folder per host), hashes each copy with SHA-256 while copying,
//! writes the findings beside them, and lists everything in `manifest.json`.
//! `exsweep evidence verify DIR` re-hashes the copies and reports every difference.

use exsweep_core::ScanReport;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "manifest.json";
pub const FINDINGS: &str = "findings.jsonl";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestEntry {
    /// Path inside the bundle, `/`-separated.
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// Last-modified time of the original, RFC 3339.
    pub mtime: Option<String>,
    /// `evidence` for copied artifacts, `report` for files exsweep wrote.
    pub kind: String,
    pub host: String,
    /// The source the artifact came from, as given on the command line.
    pub source: String,
    /// The artifact's path relative to its source root.
    pub source_path: String,
    /// Ids of the findings that point at the artifact.
    pub finding_ids: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub tool: String,
    pub created: String,
    pub files: Vec<ManifestEntry>,
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies `r` to `out`, returning (bytes, sha256).
fn copy_hashed(r: &mut dyn Read, out: &mut dyn Write) -> io::Result<(u64, String)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..k]);
        out.write_all(&buf[..k])?;
        n += k as u64;
    }
    out.flush()?;
    Ok((n, hex(&h.finalize())))
}

/// A relative path made safe to join below the bundle (no `..`, no roots, no empty parts).
fn safe_rel(path: &str) -> PathBuf {
    path.split(['/', '\\']).filter(|c| !c.is_empty() && *c != "." && *c != "..").map(|c| c.replace(':', "_")).collect()
}

/// Creates the bundle. `dir` must not exist or be empty.
pub fn collect(report: &ScanReport, dir: &Path) -> io::Result<Manifest> {
    if dir.exists() && fs::read_dir(dir)?.next().is_some() {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{} is not empty", dir.display())));
    }
    fs::create_dir_all(dir)?;
    // Artifacts with findings, in a stable order: (source, path) → finding ids and host.
    let mut wanted: BTreeMap<(usize, String), (String, Vec<String>)> = BTreeMap::new();
    for f in report.findings.iter().filter(|f| !f.path.is_empty()) {
        let slot = wanted.entry((f.source, f.path.clone())).or_insert_with(|| (f.host.clone(), Vec::new()));
        slot.1.push(f.id.clone());
    }
    let mut files = Vec::new();
    let mut taken = BTreeSet::new();
    for ((src_index, rel), (host, ids)) in wanted {
        let Some(src) = report.sources.get(src_index) else { continue };
        let Some(entry) = src.entry_by_path(&rel) else { continue };
        let mut bundle_rel = Path::new(&safe_rel(&host)).join(safe_rel(&rel));
        if !taken.insert(bundle_rel.clone()) {
            bundle_rel = Path::new(&safe_rel(&host)).join(format!("_source{src_index}")).join(safe_rel(&rel));
            taken.insert(bundle_rel.clone());
        }
        let dest = dir.join(&bundle_rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut out = fs::File::create(&dest)?;
        let copied = src.with_reader(&entry, |r| copy_hashed(r, &mut out));
        let (size, sha256) = match copied {
            Ok(Ok(v)) => v,
            // Unreadable originals (the reason they have a coverage finding) are listed with the error.
            Ok(Err(e)) | Err(e) => {
                drop(out);
                let _ = fs::remove_file(&dest);
                files.push(ManifestEntry {
                    path: String::new(),
                    size: 0,
                    sha256: String::new(),
                    mtime: entry.mtime.map(|t| t.to_string()),
                    kind: format!("not copied: {e}"),
                    host,
                    source: src.label.clone(),
                    source_path: rel,
                    finding_ids: ids,
                });
                continue;
            }
        };
        drop(out);
        if let Some(t) = entry.mtime
            && let Ok(f) = fs::OpenOptions::new().write(true).open(&dest)
        {
            let st = std::time::UNIX_EPOCH + std::time::Duration::from_millis(t.0.max(0) as u64);
            let _ = f.set_modified(st);
        }
        files.push(ManifestEntry {
            path: to_slash(&bundle_rel),
            size,
            sha256,
            mtime: entry.mtime.map(|t| t.to_string()),
            kind: "evidence".into(),
            host,
            source: src.label.clone(),
            source_path: rel,
            finding_ids: ids,
        });
    }
    // The findings themselves travel with the evidence.
    let mut buf = Vec::new();
    crate::findings::write(&mut buf, crate::findings::Format::Jsonl, &report.findings)?;
    fs::write(dir.join(FINDINGS), &buf)?;
    files.push(ManifestEntry {
        path: FINDINGS.into(),
        size: buf.len() as u64,
        sha256: hex(&Sha256::digest(&buf)),
        mtime: None,
        kind: "report".into(),
        host: String::new(),
        source: String::new(),
        source_path: String::new(),
        finding_ids: Vec::new(),
    });
    let manifest = Manifest {
        tool: format!("exsweep {}", env!("CARGO_PKG_VERSION")),
        created: jiff::Timestamp::now().to_string(),
        files,
    };
    let text = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    fs::write(dir.join(MANIFEST), text)?;
    Ok(manifest)
}

fn to_slash(p: &Path) -> String {
    p.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

/// One difference found by `verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub path: String,
    pub reason: String,
}

/// The result of re-checking a bundle.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    pub checked: u64,
    pub ok: u64,
    pub mismatches: Vec<Mismatch>,
}

/// Re-hashes every file of a bundle against its manifest. Errors only when the manifest cannot be read.
pub fn verify(dir: &Path) -> io::Result<VerifyReport> {
    let text = fs::read(dir.join(MANIFEST))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{MANIFEST}: {e}")))?;
    let mut rep = VerifyReport::default();
    let mut listed = BTreeSet::new();
    for e in manifest.files.iter().filter(|e| !e.path.is_empty()) {
        rep.checked += 1;
        listed.insert(e.path.clone());
        let p = dir.join(safe_rel(&e.path));
        let hashed = fs::File::open(&p).and_then(|mut f| copy_hashed(&mut f, &mut io::sink()));
        match hashed {
            Ok((size, sha)) if size == e.size && sha == e.sha256 => rep.ok += 1,
            Ok((size, sha)) => rep.mismatches.push(Mismatch {
                path: e.path.clone(),
                reason: if size != e.size {
                    format!("size {size}, manifest says {}", e.size)
                } else {
                    format!("SHA-256 {sha}, manifest says {}", e.sha256)
                },
            }),
            Err(err) => rep.mismatches.push(Mismatch { path: e.path.clone(), reason: format!("cannot read: {err}") }),
        }
    }
    for item in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let Ok(item) = item else { continue };
        if !item.file_type().is_file() {
            continue;
        }
        let rel = to_slash(item.path().strip_prefix(dir).unwrap_or(item.path()));
        if rel != MANIFEST && !listed.contains(&rel) {
            rep.mismatches.push(Mismatch { path: rel, reason: "file not listed in the manifest".into() });
        }
    }
    Ok(rep)
}

/// Ids of findings whose artifact could not be copied (for the summary).
pub fn not_copied(m: &Manifest) -> Vec<&ManifestEntry> {
    m.files.iter().filter(|e| e.kind.starts_with("not copied")).collect()
}
