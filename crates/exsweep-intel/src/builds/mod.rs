//! Exchange builds and the CVEs they leave open: the embedded build table, the CVE rules, and the
//! verdict for a build (fixed, open or uncertain per CVE, with the update that closes it).
//! Both data files are copied from exsweep's research notes (`../shared/knowledge/exchange-builds.md`
//! §2 and §3), with the sources named for every row.

pub mod installed;
pub mod mitigations;
pub mod posture;
pub mod rules;
pub mod table;
pub mod version;

pub use rules::{Assessment, CveVerdict, Status, Update, assess};
pub use table::{BuildRow, by_name};
pub use version::{Build, Product};

/// The version of the embedded build knowledge (bumped when either data file changes).
pub const BUILDS_VERSION: &str = "2026.08-1";

/// A build given by number or by name: the builds it stands for (several when the sources
/// disagree on a name's build), or why it is not understood.
pub fn resolve(text: &str) -> Result<Vec<Build>, String> {
    if let Some(b) = Build::parse(text) {
        return Ok(vec![b]);
    }
    let rows = by_name(text);
    if rows.is_empty() {
        return Err(format!(
            "{text:?} is neither an Exchange build (15.2.792.10, 15.02.0792.010, Version 15.2 (Build 792.10)) \
             nor a CU or update name of the build table (Exchange 2019 CU8 Mar21SU)"
        ));
    }
    Ok(rows.iter().map(|r| r.build).collect())
}
