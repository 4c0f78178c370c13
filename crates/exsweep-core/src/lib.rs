//! exsweep core: the model (findings, records), sources and their layouts, inventory and coverage,
//! streaming readers (one per log format), detectors and the scan engine. The data flows one way:
//! source → inventory → readers → records → detectors → findings → correlate; beside the
//! readers, the file sweep hands the bytes of files in drop folders to the file checks.

pub mod correlate;
pub mod detect;
pub mod engine;
pub mod inventory;
pub mod model;
pub mod read;
pub mod record;
pub mod source;
pub mod sweep;
pub mod time;

pub use engine::{Engine, ScanOptions, ScanReport};
