//! Value encodings shared by the chunk writer: UTF-16, FILETIME, GUID and SID parsing, and the
//! small non-cryptographic hash the writer keys templates by.

use std::io;

/// Milliseconds between 1601-01-01 (the FILETIME epoch) and 1970-01-01.
const FILETIME_EPOCH_OFFSET_MS: i64 = 11_644_473_600_000;
/// 9999-12-31T23:59:59.999Z: readers (the evtx crate among them) reject later years.
const MAX_TIME_MS: i64 = 253_402_300_799_999;

pub(super) fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Unix epoch milliseconds to a FILETIME (100 ns ticks since 1601).
pub(super) fn filetime(time_ms: i64) -> io::Result<u64> {
    if !(-FILETIME_EPOCH_OFFSET_MS..=MAX_TIME_MS).contains(&time_ms) {
        return Err(invalid(format!(
            "EVTX: time_ms {time_ms} is outside the years 1601..=9999 that FILETIME readers accept"
        )));
    }
    // In range, so neither the sum nor the product overflows.
    Ok((time_ms + FILETIME_EPOCH_OFFSET_MS) as u64 * 10_000)
}

/// Bytes a string takes as UTF-16 (no terminator).
#[inline]
pub(super) fn utf16_size(s: &str) -> usize {
    if s.is_ascii() { s.len() * 2 } else { s.encode_utf16().count() * 2 }
}

/// Writes `s` as UTF-16LE at `buf[pos..]` and returns the end. The caller has checked that
/// [`utf16_size`] bytes fit.
#[inline]
pub(super) fn put_utf16(buf: &mut [u8], pos: usize, s: &str) -> usize {
    if s.is_ascii() {
        let end = pos + s.len() * 2;
        // ASCII is the common case by far; this loop vectorizes.
        for (dst, &b) in buf[pos..end].chunks_exact_mut(2).zip(s.as_bytes()) {
            dst[0] = b;
            dst[1] = 0;
        }
        end
    } else {
        let mut p = pos;
        for unit in s.encode_utf16() {
            buf[p..p + 2].copy_from_slice(&unit.to_le_bytes());
            p += 2;
        }
        p
    }
}

/// Parses `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` (braces optional) into the GUID's
/// little-endian wire form (Data1, Data2 and Data3 little-endian, Data4 as is).
pub(super) fn parse_guid(text: &str) -> io::Result<[u8; 16]> {
    let bad = || invalid(format!("EVTX: {text:?} is not a GUID"));
    let trimmed = text.trim();
    let inner = trimmed.strip_prefix('{').and_then(|s| s.strip_suffix('}')).unwrap_or(trimmed).as_bytes();
    // 8-4-4-4-12 hex digits; checked by position rather than split, to stay allocation-free.
    if inner.len() != 36
        || [8, 13, 18, 23].iter().any(|&i| inner[i] != b'-')
        || inner.iter().enumerate().any(|(i, b)| ![8, 13, 18, 23].contains(&i) && !b.is_ascii_hexdigit())
    {
        return Err(bad());
    }
    let hex = |from: usize, to: usize| {
        inner[from..to].iter().fold(0u64, |v, &b| (v << 4) | u64::from((b as char).to_digit(16).unwrap_or(0)))
    };
    let mut out = [0u8; 16];
    out[0..4].copy_from_slice(&(hex(0, 8) as u32).to_le_bytes());
    out[4..6].copy_from_slice(&(hex(9, 13) as u16).to_le_bytes());
    out[6..8].copy_from_slice(&(hex(14, 18) as u16).to_le_bytes());
    out[8..10].copy_from_slice(&(hex(19, 23) as u16).to_be_bytes());
    out[10..16].copy_from_slice(&hex(24, 36).to_be_bytes()[2..]);
    Ok(out)
}

/// Largest SID: revision, count, 6-byte authority and 15 sub-authorities.
pub(super) const MAX_SID_SIZE: usize = 8 + 15 * 4;

/// A binary SID, as the SidType value stores it.
#[derive(Clone, Copy)]
pub(super) struct Sid {
    pub(super) bytes: [u8; MAX_SID_SIZE],
    pub(super) len: usize,
}

impl Sid {
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Parses `S-R-A-S1-S2-...` (the authority decimal or `0x` hex, at most 15 sub-authorities).
pub(super) fn parse_sid(text: &str) -> io::Result<Sid> {
    let bad = || invalid(format!("EVTX: {text:?} is not a SID (S-1-5-...)"));
    let mut parts = text.trim().split('-');
    if !parts.next().is_some_and(|s| s.eq_ignore_ascii_case("S")) {
        return Err(bad());
    }
    let revision: u8 = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let authority = parts.next().ok_or_else(bad)?;
    let authority = match authority.strip_prefix("0x").or_else(|| authority.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => authority.parse(),
    }
    .ok()
    .filter(|a| *a < 1 << 48)
    .ok_or_else(bad)?;
    let mut sid = Sid { bytes: [0; MAX_SID_SIZE], len: 8 };
    sid.bytes[0] = revision;
    sid.bytes[2..8].copy_from_slice(&authority.to_be_bytes()[2..]);
    for (count, part) in parts.enumerate() {
        if count == 15 {
            return Err(bad());
        }
        let sub: u32 = part.parse().map_err(|_| bad())?;
        sid.bytes[sid.len..sid.len + 4].copy_from_slice(&sub.to_le_bytes());
        sid.len += 4;
        sid.bytes[1] = count as u8 + 1;
    }
    Ok(sid)
}

/// A small, fast, deterministic hash (FxHash-style) for template shapes: the same input gives
/// the same template GUIDs from run to run, so fixtures are reproducible byte for byte.
#[derive(Clone, Copy)]
pub(super) struct ShapeHasher(u64);

impl ShapeHasher {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    pub(super) fn new(seed: u64) -> Self {
        ShapeHasher(seed)
    }

    #[inline]
    pub(super) fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(Self::K);
    }

    /// Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
    #[inline]
    pub(super) fn bytes(&mut self, b: &[u8]) {
        self.word(b.len() as u64);
        let (words, rest) = b.as_chunks::<8>();
        for w in words {
            self.word(u64::from_le_bytes(*w));
        }
        if !rest.is_empty() {
            let mut tail = [0u8; 8];
            tail[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(tail));
        }
    }

    pub(super) fn finish(self) -> u64 {
        // A final avalanche (splitmix64), since the GUID is made from these bits.
        let mut z = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Hasher for maps keyed by an already well-mixed `u64`.
#[derive(Default)]
pub(super) struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_wire_form() {
        let g = parse_guid("{5770385F-C22A-43E0-BF4C-06F5698FFBD9}").unwrap();
        assert_eq!(g, [0x5f, 0x38, 0x70, 0x57, 0x2a, 0xc2, 0xe0, 0x43, 0xbf, 0x4c, 0x06, 0xf5, 0x69, 0x8f, 0xfb, 0xd9]);
        assert_eq!(parse_guid("5770385f-c22a-43e0-bf4c-06f5698ffbd9").unwrap(), g);
        for bad in ["", "{}", "5770385F-C22A-43E0-BF4C", "{5770385F-C22A-43E0-BF4C-06F5698FFBDZ}"] {
            assert_eq!(parse_guid(bad).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn sid_wire_form() {
        let sid = parse_sid("S-1-5-18").unwrap();
        assert_eq!(sid.as_bytes(), [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]);
        let sid = parse_sid("S-1-5-21-1004336348-1177238915-682003330-512").unwrap();
        assert_eq!(sid.len, 8 + 5 * 4);
        assert_eq!(sid.bytes[1], 5);
        assert_eq!(parse_sid("S-1-0x10").unwrap().bytes[7], 0x10);
        let too_many = format!("S-1-5{}", "-1".repeat(16));
        for bad in ["", "S", "S-1", "X-1-5", "S-1-5-x", "S-1-281474976710656", &too_many] {
            assert!(parse_sid(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn filetime_range() {
        assert_eq!(filetime(0).unwrap(), 116_444_736_000_000_000);
        assert_eq!(filetime(-FILETIME_EPOCH_OFFSET_MS).unwrap(), 0);
        assert!(filetime(-FILETIME_EPOCH_OFFSET_MS - 1).is_err());
        assert!(filetime(MAX_TIME_MS + 1).is_err());
        assert!(filetime(i64::MIN).is_err());
        assert!(filetime(i64::MAX).is_err());
    }

    #[test]
    fn utf16_round_trip() {
        for s in ["", "abc", "é<&>\"'", "emoji 😀 and 中文"] {
            let mut buf = vec![0u8; utf16_size(s)];
            assert_eq!(put_utf16(&mut buf, 0, s), buf.len());
            let units: Vec<u16> = buf.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            assert_eq!(String::from_utf16(&units).unwrap(), s);
        }
    }
}
