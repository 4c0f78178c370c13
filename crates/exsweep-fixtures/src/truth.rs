//! Ground truth: where each planted indicator and each benign trap is, per layout.
