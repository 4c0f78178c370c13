//! exsweep's knowledge as data: IOCs from public feeds and from the built-in pack, the activity
//! groups they are attributed to, the known-good Exchange file baseline, the matchers that turn
//! indicators into findings, and the Exchange builds with the CVEs each leaves open.
//!
//! - [`indicator`]: the model ([`Indicator`], [`IocSet`] with duplicate merging, problems).
//! - [`feeds`]: one parser per public feed format, and [`IocSet::add_path`] to load files or
//!   folders of them.
//! - [`actors`]: canonical group names, cited aliases, and free text → names.
//! - [`pack`]: the embedded, versioned pack ([`pack::PACK_VERSION`]), its listing.
//! - [`matcher`]: [`IocFileCheck`] (a `FileCheck`) and [`NetworkIocDetector`] (a `Detector`).
//! - [`known_good`]: the legitimate Exchange web-folder scripts.
//! - [`builds`]: the Exchange build table, the CVE rules, and the verdict for a build.
//!
//! Typical use: `let mut set = IocSet::with_builtin(); set.add_path(path)?;` then
//! `IocFileCheck::new(&set)` and `NetworkIocDetector::new(&set)`, once per scan.

pub mod actors;
pub mod builds;
pub mod feeds;
pub mod indicator;
pub mod known_good;
pub mod matcher;
pub mod normalize;
pub mod pack;

pub use feeds::FeedFormat;
pub use indicator::{FeedFile, Indicator, IndicatorKind, IocNote, IocProblem, IocSet, IocSource};
pub use matcher::{IocFileCheck, NetworkIocDetector};
pub use pack::PACK_VERSION;

/// `s` cut to at most `max` bytes on a character boundary, with `…` when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
