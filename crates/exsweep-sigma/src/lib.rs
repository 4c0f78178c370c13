//! exsweep's Sigma layer: loads Sigma rules with a problem list per rule, routes each record to
//! the rules of its logsource, and evaluates them. Matching itself is rsigma's
//! (`rsigma-parser`/`rsigma-eval` 0.23), chosen on the SigmaHQ regression suite; see
//! `docs/SIGMA_LOGSOURCES.md` for the routing table.

pub mod columns;
pub mod detector;
pub mod event;
pub mod logsource;
pub mod rules;

pub use detector::SigmaDetector;
pub use rules::{LoadStats, RuleProblem, SigmaMatch, SigmaRules};
