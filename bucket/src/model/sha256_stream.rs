//! A SHA-256 whose state survives between messages.
//!
//! Hashing the largest file in one message would take too many instructions
//! (40 B per update), so the bucket absorbs whole chunks as they become
//! contiguous and stores the eight state words plus the byte count between
//! messages. Chunks are multiples of 64 bytes except the last, so only the
//! final chunk ever leaves a partial block, and it is absorbed by `finish`.
//!
//! A chunk that arrives in order is absorbed in the same pass that computes
//! its own digest ([`StreamingSha256::absorb_and_digest`]), so its bytes
//! are read once.

use super::sha256_pair::compress_pair;
use candid::CandidType;
use serde::{Deserialize, Serialize};
use sha2::digest::generic_array::GenericArray;

const INITIAL_STATE: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

#[derive(CandidType, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamingSha256 {
    state: [u32; 8],
    /// Bytes absorbed so far (always a multiple of 64).
    absorbed: u64,
}

impl Default for StreamingSha256 {
    fn default() -> Self {
        Self { state: INITIAL_STATE, absorbed: 0 }
    }
}

impl StreamingSha256 {
    pub fn absorbed(&self) -> u64 {
        self.absorbed
    }

    /// The chaining state and the bytes absorbed, for a stored record.
    pub fn parts(&self) -> ([u32; 8], u64) {
        (self.state, self.absorbed)
    }

    /// From `parts`; `None` when `absorbed` is not whole blocks.
    pub fn from_parts(state: [u32; 8], absorbed: u64) -> Option<Self> {
        absorbed.is_multiple_of(64).then_some(Self { state, absorbed })
    }

    /// Absorbs whole 64-byte blocks. Panics on a partial block: callers pass
    /// only chunks that are not the last, which are multiples of 64.
    pub fn absorb_blocks(&mut self, bytes: &[u8]) {
        assert!(bytes.len().is_multiple_of(64), "absorb_blocks takes whole blocks");
        // Block by block from the caller's bytes: collecting copies first
        // (`GenericArray::clone_from_slice`) cost ~23 M instructions per MiB
        // in wasm, close to a third of the compression itself.
        for block in bytes.chunks_exact(64) {
            sha2::compress256(&mut self.state, std::slice::from_ref(GenericArray::from_slice(block)));
        }
        self.absorbed += bytes.len() as u64;
    }

    /// One pass over `chunk`: absorbs its whole 64-byte blocks (all of it,
    /// for any chunk but a file's last) and returns the SHA-256 of `chunk`
    /// alone.
    pub fn absorb_and_digest(&mut self, chunk: &[u8]) -> [u8; 32] {
        let whole = chunk.len() / 64 * 64;
        let mut own = StreamingSha256::default();
        compress_pair(&mut self.state, &mut own.state, &chunk[..whole]);
        self.absorbed += whole as u64;
        own.absorbed = whole as u64;
        own.finish(&chunk[whole..])
    }

    /// Absorbs the final bytes (any length) and returns the digest.
    pub fn finish(mut self, tail: &[u8]) -> [u8; 32] {
        let whole = tail.len() / 64 * 64;
        self.absorb_blocks(&tail[..whole]);
        let rest = &tail[whole..];
        let bit_len = (self.absorbed + rest.len() as u64) * 8;
        // Padding: 0x80, zeros, then the 64-bit big-endian bit length.
        let mut last = Vec::with_capacity(128);
        last.extend_from_slice(rest);
        last.push(0x80);
        while last.len() % 64 != 56 {
            last.push(0);
        }
        last.extend_from_slice(&bit_len.to_be_bytes());
        let blocks: Vec<GenericArray<u8, _>> = last.chunks_exact(64).map(GenericArray::clone_from_slice).collect();
        sha2::compress256(&mut self.state, &blocks);
        let mut out = [0u8; 32];
        for (i, w) in self.state.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn matches_sha2_for_every_tail_length() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 251) as u8).collect();
        for split_blocks in [0usize, 1, 3] {
            for total in [0usize, 1, 55, 56, 63, 64, 65, 119, 120, 128, 500, 1000] {
                let head = (split_blocks * 64).min(total / 64 * 64);
                let mut h = StreamingSha256::default();
                h.absorb_blocks(&data[..head]);
                let got = h.finish(&data[head..total]);
                let want: [u8; 32] = Sha256::digest(&data[..total]).into();
                assert_eq!(got, want, "total {total} head {head}");
            }
        }
    }

    /// Every chunk length from 0 to 300 bytes (and a few larger), after a
    /// prefix of 0, 1 and 3 blocks: the chunk's digest is its own SHA-256,
    /// and the stream goes on to the SHA-256 of prefix and chunk.
    #[test]
    fn absorb_and_digest_matches_sha2_for_every_length() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect();
        let lengths = (0..=300).chain([511, 512, 513, 1000, 4096, 4097]);
        for chunk_len in lengths {
            for prefix_blocks in [0usize, 1, 3] {
                let (prefix, rest) = data.split_at(prefix_blocks * 64);
                let chunk = &rest[..chunk_len];
                let mut h = StreamingSha256::default();
                h.absorb_blocks(prefix);
                let own = h.absorb_and_digest(chunk);
                assert_eq!(own, <[u8; 32]>::from(Sha256::digest(chunk)), "chunk {chunk_len} after {prefix_blocks}");
                assert_eq!(h.absorbed() as usize, prefix.len() + chunk_len / 64 * 64);
                let whole = h.finish(&chunk[chunk_len / 64 * 64..]);
                let want: [u8; 32] = Sha256::digest(&data[..prefix.len() + chunk_len]).into();
                assert_eq!(whole, want, "stream {chunk_len} after {prefix_blocks}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "absorb_blocks takes whole blocks")]
    fn partial_block_is_refused() {
        StreamingSha256::default().absorb_blocks(&[0; 65]);
    }
}
