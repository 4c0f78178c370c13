//! Writes a generated server as a drive copy, KAPE or Velociraptor collection, or a zip of one.
