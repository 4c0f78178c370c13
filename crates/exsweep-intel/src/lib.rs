//! exsweep-intel: knowledge as data (IOC packs, actors, known-good baseline); under construction.
