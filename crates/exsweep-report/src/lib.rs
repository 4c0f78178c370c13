//! exsweep sinks.
