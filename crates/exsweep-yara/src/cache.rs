//! The compiled-rule cache: a compiled set is stored as `yara-<key>.bin` (yara-x's serialized
//! form) beside `yara-<key>.json` (origins, compile problems, counts), where the key is the
//! SHA-256 of the yara-x and exsweep versions and of every source's origin and bytes. A changed
//! rule file changes the key; a corrupt or foreign cache file is ignored and rebuilt.

use crate::{LoadStats, RuleProblem};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What is stored beside the compiled rules.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Sidecar {
    pub origins: Vec<String>,
    pub problems: Vec<RuleProblem>,
    pub stats: LoadStats,
}

/// The default cache folder: `$EXSWEEP_CACHE_DIR`, else `$XDG_CACHE_HOME/exsweep`, else
/// `~/.cache/exsweep` (`%LOCALAPPDATA%\exsweep` on Windows).
pub fn default_cache_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("EXSWEEP_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("exsweep")))
        .or_else(|| env("LOCALAPPDATA").map(|d| d.join("exsweep")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("exsweep")))
}

pub fn key<'a>(sources: impl Iterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut h = Sha256::new();
    h.update(b"yara-x 1.22.1\0exsweep ");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update([0]);
    for (origin, text) in sources {
        h.update((origin.len() as u64).to_le_bytes());
        h.update(origin.as_bytes());
        h.update((text.len() as u64).to_le_bytes());
        h.update(text);
    }
    exsweep_core::sweep::hex(&h.finalize()[..16])
}

fn paths(dir: &Path, key: &str) -> (PathBuf, PathBuf) {
    (dir.join(format!("yara-{key}.bin")), dir.join(format!("yara-{key}.json")))
}

pub fn read(dir: &Path, key: &str) -> Option<(yara_x::Rules, Sidecar)> {
    let (bin, json) = paths(dir, key);
    let side: Sidecar = serde_json::from_slice(&std::fs::read(json).ok()?).ok()?;
    let rules = yara_x::Rules::deserialize(std::fs::read(bin).ok()?).ok()?;
    Some((rules, side))
}

/// Writes both files through temporary names and renames them into place, so that a reader
/// never sees half a file.
pub fn write(dir: &Path, key: &str, rules: &yara_x::Rules, side: &Sidecar) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let (bin, json) = paths(dir, key);
    let data = rules.serialize().map_err(std::io::Error::other)?;
    let put = |target: &Path, bytes: &[u8]| -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, bytes)?;
        tmp.persist(target).map_err(|e| e.error)?;
        Ok(())
    };
    put(&bin, &data)?;
    put(&json, &serde_json::to_vec(side).map_err(std::io::Error::other)?)
}
