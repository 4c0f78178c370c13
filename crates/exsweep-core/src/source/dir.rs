//! Listing a folder source: a sorted recursive walk that follows links, reports loops, dangling
//! links, unreadable folders and special files, and never stops on them.

use super::{Entry, ListProblem, Locator};
use crate::time::Timestamp;
use std::fs::Metadata;
use std::path::Path;

pub(super) fn list(root: &Path) -> (Vec<Entry>, Vec<ListProblem>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let walker = walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name();
    for item in walker {
        match item {
            Ok(de) => {
                let rel = rel_of(root, de.path());
                if de.file_type().is_dir() {
                    continue;
                }
                match de.metadata() {
                    Ok(m) if m.is_file() => entries.push(entry_for(de.path(), rel, &m)),
                    Ok(_) => problems.push(ListProblem {
                        rel_path: rel,
                        reason: "not a regular file (device, FIFO or socket); not read".into(),
                    }),
                    Err(e) => problems.push(ListProblem { rel_path: rel, reason: format!("unreadable: {e}") }),
                }
            }
            Err(e) => {
                let rel = e.path().map(|p| rel_of(root, p)).unwrap_or_default();
                let reason = if let Some(anc) = e.loop_ancestor() {
                    format!("symlink loop back to {}; not followed", rel_of(root, anc))
                } else if let Some(io) = e.io_error() {
                    if io.kind() == std::io::ErrorKind::NotFound {
                        "dangling symlink; target missing, not read".to_string()
                    } else {
                        format!("unreadable: {io}")
                    }
                } else {
                    format!("unreadable: {e}")
                };
                problems.push(ListProblem { rel_path: rel, reason });
            }
        }
    }
    (entries, problems)
}

pub(super) fn entry_for(path: &Path, rel_path: String, meta: &Metadata) -> Entry {
    let stamp = |t: std::io::Result<std::time::SystemTime>| {
        t.ok().and_then(|t| jiff::Timestamp::try_from(t).ok()).map(|t| Timestamp(t.as_millisecond()))
    };
    Entry {
        rel_path,
        size: meta.len(),
        mtime: stamp(meta.modified()),
        created: stamp(meta.created()),
        accessed: stamp(meta.accessed()),
        locator: Locator::Fs(path.to_path_buf()),
    }
}

/// The `/`-separated path of `p` relative to `root`.
fn rel_of(root: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    parts.join("/")
}
