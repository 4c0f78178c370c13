//! exsweep sinks: findings as JSON lines, JSON, CSV or text; the human summary per host; and
//! evidence bundles with a SHA-256 manifest that can be verified later.

pub mod evidence;
pub mod findings;
pub mod summary;
