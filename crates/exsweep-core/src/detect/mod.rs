//! Detectors: the built-in checks. Each declares the record kinds it reads and the literal anchors
//! every line it can fire on contains, so the engine can prefilter whole blocks before parsing.
//! Rule ids, severities, CVEs and ATT&CK ids are listed in docs/DETECTIONS.md.

pub mod files;
pub mod iis;
pub mod like;
pub mod proxylogon;

use crate::model::{ArtifactKind, Finding, RuleMeta};
use crate::record::Record;

/// What a detector knows about the file a record came from.
#[derive(Clone, Copy, Debug)]
pub struct FileCtx<'a> {
    pub source: usize,
    /// Path relative to the source root, as in the source.
    pub path: &'a str,
    pub kind: ArtifactKind,
    /// HttpProxy protocol folder (`Ecp`, `Owa`, ...) when the file lies in one.
    pub protocol: Option<&'a str>,
    /// The Exchange install path the file belongs to, Windows form with a trailing `\`.
    pub exchange_path: Option<&'a str>,
}

impl FileCtx<'_> {
    /// A finding of `rule` located at `rec`.
    pub fn finding(&self, rule: &RuleMeta, rec: &Record<'_>) -> Finding {
        let mut f = Finding::new(rule, self.kind, self.path);
        f.source = self.source;
        f.line = rec.line;
        f.record = rec.record_id;
        f.time = rec.time;
        f
    }
}

pub use crate::read::FieldGate;

/// A built-in check over records.
pub trait Detector: Send + Sync {
    /// Record kinds the detector reads.
    fn kinds(&self) -> &[ArtifactKind];
    /// Literals (ASCII case-insensitive) of which every line the detector can fire on contains at
    /// least one, unless it passes the field gate. Empty with no field gate: every record.
    fn anchors(&self) -> &[&'static str];
    /// The anchors for one record kind, for detectors whose literals differ by kind or are only
    /// known at run time (loaded rules). Same contract as [`Detector::anchors`].
    fn anchors_for(&self, _kind: ArtifactKind) -> Vec<&str> {
        self.anchors().to_vec()
    }
    /// IPv4 addresses that select lines alongside the anchors: a line holding one as a whole
    /// run of digits and dots ([`crate::read::prefilter::CiLiterals::with_ipv4`]) reaches the
    /// detector. For detectors that read addresses that way (IOC addresses).
    fn ipv4_anchors(&self, _kind: ArtifactKind) -> Vec<std::net::Ipv4Addr> {
        Vec::new()
    }
    /// A column test that, together with the anchors, selects every line the detector can fire on.
    fn field_gate(&self) -> Option<FieldGate> {
        None
    }
    /// Checks one record; pushes findings.
    fn check(&self, ctx: &FileCtx<'_>, rec: &Record<'_>, out: &mut Vec<Finding>);
    /// Findings that need every record first (correlations across files); called once, after
    /// the last file. Each finding's `source` says which source it belongs to.
    fn finish(&self) -> Vec<Finding> {
        Vec::new()
    }
}

/// A shared detector, so that a caller keeps a handle on it (to read its counters after a scan)
/// while the engine owns the other.
impl<T: Detector + ?Sized> Detector for std::sync::Arc<T> {
    fn kinds(&self) -> &[ArtifactKind] {
        self.as_ref().kinds()
    }
    fn anchors(&self) -> &[&'static str] {
        self.as_ref().anchors()
    }
    fn anchors_for(&self, kind: ArtifactKind) -> Vec<&str> {
        self.as_ref().anchors_for(kind)
    }
    fn ipv4_anchors(&self, kind: ArtifactKind) -> Vec<std::net::Ipv4Addr> {
        self.as_ref().ipv4_anchors(kind)
    }
    fn field_gate(&self) -> Option<FieldGate> {
        self.as_ref().field_gate()
    }
    fn check(&self, ctx: &FileCtx<'_>, rec: &Record<'_>, out: &mut Vec<Finding>) {
        self.as_ref().check(ctx, rec, out)
    }
    fn finish(&self) -> Vec<Finding> {
        self.as_ref().finish()
    }
}

/// The built-in record detectors written in Rust (exsweep-sigma adds the Sigma ones).
pub fn builtin() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(proxylogon::ServerInfo26855),
        Box::new(proxylogon::ResetVDir27065),
        Box::new(proxylogon::SetVDir27065::new()),
        Box::new(proxylogon::OabDownload26858::new()),
        Box::new(iis::IisWebshell),
    ]
}

/// ASCII case-insensitive `starts_with`.
#[inline]
pub fn starts_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// ASCII case-insensitive `ends_with`.
#[inline]
pub fn ends_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len() && s.as_bytes()[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// ASCII case-insensitive `contains`.
pub fn contains_ci(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    h.len() >= n.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}
