//! EVTX writer: real Windows XML Event Log files (file header, 64 KiB chunks, BinXML templates,
//! CRC32 checksums) that the `evtx` crate and python-evtx read back.
