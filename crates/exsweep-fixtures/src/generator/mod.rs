//! Builds one synthetic Exchange server: benign traffic, traps and planted indicators.
