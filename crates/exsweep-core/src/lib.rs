//! exsweep core.
