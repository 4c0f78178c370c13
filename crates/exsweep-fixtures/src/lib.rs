//! Synthetic Exchange servers for tests, `exsweep demo` and benchmarks.
//!
//! The generator builds one server's artifacts (Exchange and IIS logs, event logs, files on disk)
//! from a seed: mostly benign traffic, benign look-alikes ("traps") that must not fire, and planted
//! indicators of every built-in detection, with a ground-truth list saying where each one is.
//! It writes the server as a drive copy, a KAPE or Velociraptor collection, or a zip of any of them.
//! No Rust crate writes EVTX, so [`evtx`] holds a writer of our own.

pub mod evtx;
pub mod generator;
pub mod layout;
pub mod truth;
pub mod winevents;
