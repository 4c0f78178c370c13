//! exsweep's Sigma engine. It loads Sigma rules (v2: detection rules, filters, correlations; v1
//! collections too) with a problem listed for every rule it cannot use, routes each record to the
//! rules of its logsource, prefilters with one Aho-Corasick pass over the record's values, and
//! evaluates what is left. See `docs/SIGMA.md` for what is supported and
//! `docs/SIGMA_LOGSOURCES.md` for the routing table.
//!
//! Data flow: YAML → [`rule`] (typed documents) → [`detection`] and [`value`] (compiled
//! selections and value tests, with [`needles`] for the prefilter) → [`rules::SigmaRules`]
//! (buckets per route, evaluation) → [`detector::SigmaDetector`] (findings, [`correlation`]s).

pub mod builtin;
pub mod columns;
pub mod condition;
pub mod correlation;
pub mod detection;
pub mod detector;
pub mod event;
pub mod logsource;
pub mod needles;
pub mod pattern;
pub mod rule;
pub mod rules;
pub mod value;

pub use detector::SigmaDetector;
pub use rules::{LoadStats, RuleProblem, SigmaMatch, SigmaRules};
pub use value::{Placeholders, placeholders_from_yaml};
