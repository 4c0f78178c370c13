//! Ground truth: where each planted indicator and each benign trap is, per layout.
//!
//! Paths are relative to the source root the layout was written to (or the paths inside the zip),
//! `/`-separated and spelled exactly as they appear in the source (Velociraptor escapes included),
//! which is how exsweep reports a finding's `path`. `line` is 1-based in text logs (header lines
//! count); `record` is the EVTX EventRecordID.

use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;

/// Everything a test needs to check a scan of a generated server.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct GroundTruth {
    /// Server name (`EX01`).
    pub host: String,
    /// Layout name (`drive`, `kape`, `velociraptor`, `velociraptor-ntfs`), with `+zip` appended
    /// when the tree was written as one zip file.
    pub layout: String,
    /// One entry per (rule, line): a line that fires several rules is listed once per rule.
    pub indicators: Vec<Planted>,
    /// Benign look-alikes that must raise no finding at all.
    pub traps: Vec<Trap>,
    /// Malicious files on disk (web shells, compiled shells, LSASS dumps, archives, tools) for
    /// the file sweep.
    pub files_on_disk: Vec<DiskFile>,
    /// Legitimate files in the web drop folders (Exchange's own `.aspx`, `.asax`, `web.config`,
    /// ...): the file sweep must raise nothing about them.
    #[serde(default)]
    pub legit_files: Vec<String>,
    /// The security update installed while the logs were written, if any.
    #[serde(default)]
    pub patch: Option<TruthPatch>,
}

/// A security update of the synthetic server: logs created from `installed_at` on name
/// `fixed_build` in their `#Version` header, earlier ones `open_build`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TruthPatch {
    /// As the headers write it: `15.01.2176.002`.
    pub open_build: String,
    pub fixed_build: String,
    /// RFC 3339 UTC.
    pub installed_at: String,
}

/// A planted indicator: `rule_id` must fire at `path` (+ `line` or `record`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Planted {
    pub rule_id: String,
    pub path: String,
    pub line: Option<u64>,
    pub record: Option<u64>,
    pub note: String,
}

/// A benign look-alike at `path` (+ `line` or `record`) that must raise no finding.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Trap {
    pub path: String,
    pub line: Option<u64>,
    pub record: Option<u64>,
    pub note: String,
}

/// A malicious file on disk.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DiskFile {
    pub path: String,
    /// `webshell`, `compiled_webshell`, `lsass_dump`, `archive` or `tool`.
    pub kind: String,
    pub note: String,
    /// The family whose public traits the content carries ([`FAMILIES`]): `china_chopper`,
    /// `oab_dump`, `secchecker`, ..., or `custom_cmd_shell` for the home-made shell no public rule
    /// describes.
    #[serde(default)]
    pub family: String,
    /// The variant within the family (`classic`, `eval_space`, `request_item`, ...), empty when
    /// the family has one form.
    #[serde(default)]
    pub variant: String,
    /// The drop folder ([`DROP_FOLDERS`]), as a Windows path template: `<EX>` is the Exchange
    /// install path, `<version>` the versioned OWA folder (`15.1.2176`).
    #[serde(default)]
    pub place: String,
    /// How the file sweep must find it: `rule` (the content carries its family's documented
    /// literals), `hash` (every planted file: a hash IOC list built from the planted files finds
    /// it), `unknown` (a script file under a name that is not legitimate for its web folder).
    #[serde(default)]
    pub expect: Vec<String>,
    /// SHA-256 of the bytes written (lowercase hex).
    #[serde(default)]
    pub sha256: String,
}

/// Every family planted on a compromised server.
pub const FAMILIES: &[&str] = &[
    "china_chopper",
    "oab_dump",
    "secchecker",
    "sportsball",
    "regeorg",
    "simpleseesharp",
    "streamwriter",
    "csharp_uploader",
    "file_explorer",
    "custom_cmd_shell",
    "compiled_webshell",
    "lsass_dump_procdump",
    "lsass_dump_comsvcs",
    "staging_zip",
    "recon_cab",
    "powercat_batch",
    "nishang_tcp_oneliner",
];

/// Every drop folder that gets at least one planted file (the `place` of [`DiskFile`]).
pub const DROP_FOLDERS: &[&str] = &[
    r"C:\inetpub\wwwroot\aspnet_client",
    r"C:\inetpub\wwwroot\aspnet_client\system_web",
    r"<EX>\FrontEnd\HttpProxy\owa\auth",
    r"<EX>\FrontEnd\HttpProxy\owa\auth\Current",
    r"<EX>\FrontEnd\HttpProxy\owa\auth\Current\themes\resources",
    r"<EX>\FrontEnd\HttpProxy\owa\auth\<version>",
    r"<EX>\FrontEnd\HttpProxy\ecp\auth",
    r"<EX>\FrontEnd\HttpProxy\OAB",
    r"<EX>\FrontEnd\HttpProxy\ews",
    r"<EX>\ClientAccess\ecp",
    r"<EX>\ClientAccess\owa",
    r"<EX>\ClientAccess\OAB",
    r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files",
    r"C:\ProgramData",
    r"C:\Windows\Temp",
    r"C:\root",
    r"C:\Users\Public",
];

/// True for the drop folders IIS serves (where an unknown script file is a web-shell candidate).
pub fn is_web_place(place: &str) -> bool {
    let p = place.to_ascii_lowercase();
    p.contains(r"\aspnet_client") || p.starts_with(r"<ex>\frontend\httpproxy\") || p.starts_with(r"<ex>\clientaccess\")
}

/// The coarse drop-folder name of a `place`, as exsweep-core's sweep names its places
/// (`aspnet_client`, `owa_auth`, `ecp_auth`, `httpproxy`, `client_access`,
/// `temporary_aspnet_files`, `programdata`, `windows_temp`, `root`, `users_public`).
pub fn place_group(place: &str) -> &'static str {
    let p = place.to_ascii_lowercase();
    let has = |s: &str| p.contains(s);
    if has(r"\aspnet_client") {
        "aspnet_client"
    } else if has(r"\frontend\httpproxy\owa\auth") {
        "owa_auth"
    } else if has(r"\frontend\httpproxy\ecp\auth") {
        "ecp_auth"
    } else if has(r"\frontend\httpproxy\") {
        "httpproxy"
    } else if has(r"\clientaccess\") {
        "client_access"
    } else if has("temporary asp.net files") {
        "temporary_aspnet_files"
    } else if p.starts_with(r"c:\programdata") {
        "programdata"
    } else if p.starts_with(r"c:\windows\temp") {
        "windows_temp"
    } else if p.starts_with(r"c:\root") {
        "root"
    } else if p.starts_with(r"c:\users\public") {
        "users_public"
    } else {
        "elsewhere"
    }
}

impl DiskFile {
    /// True when the file must be found by `how` (`rule`, `hash`, `unknown`).
    pub fn expects(&self, how: &str) -> bool {
        self.expect.iter().any(|e| e == how)
    }

    /// The file name (last path component).
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

impl GroundTruth {
    /// Writes the truth as pretty-printed JSON.
    pub fn write_json(&self, path: &Path) -> io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        text.push('\n');
        std::fs::write(path, text)
    }

    /// Reads a truth file written by [`GroundTruth::write_json`].
    pub fn read_json(path: &Path) -> io::Result<Self> {
        let text = std::fs::read(path)?;
        serde_json::from_slice(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// The distinct rule ids that have at least one planted indicator, sorted.
    pub fn rule_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.indicators.iter().map(|p| p.rule_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Sorts every list into its canonical order (path, line, record, then rule), so that two
    /// truths of the same server compare equal.
    pub fn sort(&mut self) {
        self.indicators
            .sort_by(|a, b| (&a.path, a.line, a.record, &a.rule_id).cmp(&(&b.path, b.line, b.record, &b.rule_id)));
        self.indicators.dedup();
        self.traps.sort();
        self.traps.dedup();
        self.files_on_disk.sort();
        self.legit_files.sort();
        self.legit_files.dedup();
    }
}
