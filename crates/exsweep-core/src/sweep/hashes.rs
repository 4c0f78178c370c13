//! The digests of swept files: MD5, SHA-1 and SHA-256, one file at a time or a batch at once.
//!
//! SHA-1 and SHA-256 use the CPU's SHA instructions (sha1/sha2 detect them) and reach about
//! 1.8 GB/s per core here. MD5 has no such help, and one MD5 stream is serial: md-5 does
//! 0.6 GB/s per core, which alone held the three-digest pass near 0.5 GB/s on two cores. So
//! small files are hashed in batches and their MD5s computed side by side in SIMD lanes
//! (md5-many: 16 lanes with AVX-512, 8 with AVX2, 4 with SSE/NEON), which measured 3.4 GB/s
//! per core on files of mixed sizes. A large file (memory-mapped) is hashed alone, with its
//! three digests fed block by block so each block is read from memory once.

use md5_many::{Md5, Md5Many};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// MD5, SHA-1 and SHA-256 of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHashes {
    pub md5: [u8; 16],
    pub sha1: [u8; 20],
    pub sha256: [u8; 32],
}

/// Files hashed together: enough for the SIMD lanes (16 with AVX-512) to stay full as files of
/// different lengths finish.
pub const BATCH: usize = 32;
/// The most bytes a batch holds (mapped or read) at once.
pub const BATCH_BYTES: u64 = 16 << 20;

/// The batch engine, with the CPU's SIMD level detected once.
fn engine() -> Md5Many {
    static ENGINE: OnceLock<Md5Many> = OnceLock::new();
    *ENGINE.get_or_init(Md5Many::new)
}

impl FileHashes {
    /// All three digests of `data`, in one pass over it (cache-sized blocks, so each block is
    /// read from memory once).
    pub fn of(data: &[u8]) -> FileHashes {
        let (mut m, mut s1, mut s2) = (Md5::new(), Sha1::new(), Sha256::new());
        for block in data.chunks(64 * 1024) {
            m.update(block);
            s1.update(block);
            s2.update(block);
        }
        FileHashes { md5: m.finalize().into(), sha1: s1.finalize().into(), sha256: s2.finalize().into() }
    }

    /// SHA-1 and SHA-256 of `data`, with its MD5 computed already (by [`md5_of_many`]).
    pub fn with_md5(data: &[u8], md5: [u8; 16]) -> FileHashes {
        let (mut s1, mut s2) = (Sha1::new(), Sha256::new());
        for block in data.chunks(64 * 1024) {
            s1.update(block);
            s2.update(block);
        }
        FileHashes { md5, sha1: s1.finalize().into(), sha256: s2.finalize().into() }
    }

    /// The digests of each of `files`, in order: the MD5s side by side in SIMD lanes.
    pub fn of_many(files: &[&[u8]]) -> Vec<FileHashes> {
        md5_of_many(files).into_iter().zip(files).map(|(m, d)| FileHashes::with_md5(d, m)).collect()
    }

    pub fn md5_hex(&self) -> String {
        hex(&self.md5)
    }
    pub fn sha1_hex(&self) -> String {
        hex(&self.sha1)
    }
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }
}

/// The MD5 of each of `files`, in order, computed side by side in SIMD lanes.
pub fn md5_of_many(files: &[&[u8]]) -> Vec<[u8; 16]> {
    let mut out = vec![[0u8; 16]; files.len()];
    engine().hash_many(files, &mut out);
    out
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that differ per length and per file, so that a lane mix-up shows.
    fn message(len: usize, salt: usize) -> Vec<u8> {
        (0..len).map(|j| (j.wrapping_mul(131) ^ salt.wrapping_mul(7919) ^ (j >> 8)) as u8).collect()
    }

    fn reference(data: &[u8]) -> [u8; 16] {
        md5::Md5::digest(data).into()
    }

    #[test]
    fn hashes_of_known_inputs() {
        let h = FileHashes::of(b"abc");
        assert_eq!(h.md5_hex(), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(h.sha1_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(h.sha256_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(FileHashes::of(b"").md5_hex(), "d41d8cd98f00b204e9800998ecf8427e");
        // Across block boundaries the digest is that of the whole.
        let big = vec![b'a'; 200_000];
        let whole = FileHashes::of(&big);
        assert_eq!(whole.sha256, <[u8; 32]>::from(Sha256::digest(&big)));
        assert_eq!(whole.sha1, <[u8; 20]>::from(Sha1::digest(&big)));
        assert_eq!(whole.md5, reference(&big));
    }

    /// The SIMD batch agrees with the RustCrypto md-5 crate for every length around the
    /// 64-byte block and its padding boundary (55/56 bytes), in every lane position and for
    /// batches smaller, equal to and larger than the lane count.
    #[test]
    fn batched_md5_matches_the_reference_for_every_length_and_lane() {
        let messages: Vec<Vec<u8>> = (0..=300).map(|len| message(len, len)).collect();
        for batch in [1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64] {
            for offset in [0, 5] {
                let group: Vec<&[u8]> = messages.iter().skip(offset).map(Vec::as_slice).collect();
                for chunk in group.chunks(batch) {
                    let got = md5_of_many(chunk);
                    assert_eq!(got.len(), chunk.len());
                    for (d, m) in chunk.iter().zip(&got) {
                        assert_eq!(*m, reference(d), "length {} in a batch of {batch}", d.len());
                    }
                }
            }
        }
        assert!(md5_of_many(&[]).is_empty());
    }

    /// Skewed batches, as a sweep makes them: one large file among small ones, equal sizes,
    /// empty files, and sizes up to a megabyte.
    #[test]
    fn batched_md5_matches_the_reference_on_mixed_sizes() {
        let sizes: [&[usize]; 5] = [
            &[1 << 20, 10, 200, 4096, 0, 65_536, 3, 999_999],
            &[40_000; 16],
            &[0, 0, 0, 1, 64, 64, 128, 55, 56, 57, 119, 120, 121],
            &[777_777, 512_001, 12, 300_000, 300_001, 300_002, 8191, 8193, 70_000, 1, 2, 3, 4, 5, 6, 7, 8],
            &[123_456],
        ];
        for (k, set) in sizes.iter().enumerate() {
            let data: Vec<Vec<u8>> = set.iter().enumerate().map(|(i, &n)| message(n, i + 100 * k)).collect();
            let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
            let many = FileHashes::of_many(&refs);
            for (d, h) in refs.iter().zip(&many) {
                assert_eq!(*h, FileHashes::of(d), "size {} in set {k}", d.len());
                assert_eq!(h.md5, reference(d), "size {} in set {k}", d.len());
            }
        }
    }
}
