//! One path's certified responses, as the hash tree under
//! `<path>/<$|*>/<cel hash>/""`: a label per response hash, each over an
//! empty leaf, in a balanced fork tree.
//!
//! A file's set is built once (at commit, or when its owner pays again),
//! kept in stable memory, and read back by each query that serves one of
//! its responses and by the rebuild after an upgrade, so nothing is hashed
//! twice. The set holds, level by level, the response hashes sorted (the
//! labels) and every fork above them, plus where each response (in
//! `responses::file_responses` order) sits among the sorted labels: a
//! witness for one response is then read, not computed.
//!
//! Shape: level 0 is the sorted labels; entry j of level k+1 is the fork
//! of entries 2j and 2j+1 of level k, or entry 2j itself when it has no
//! right neighbour. Any shape verifies (a verifier only walks forks in
//! order); this one needs no stored structure besides the hashes.

use ic_certification::hash_tree::{fork_hash, labeled_hash, leaf_hash};
use ic_certification::{HashTree, fork, labeled, leaf, pruned};
use ic_stable_structures::Storable;
use ic_stable_structures::storable::Bound;
use std::borrow::Cow;
use std::sync::LazyLock;

/// Hash of the empty leaf every response label sits over.
static EMPTY_LEAF: LazyLock<[u8; 32]> = LazyLock::new(|| leaf_hash(b""));

/// First byte of an encoded set: its layout's version.
const LAYOUT_V1: u8 = 1;
const HEADER_BYTES: usize = 1 + 4 + 4;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseSet {
    /// Which response format the hashes were made with (see
    /// `certs::response_format`): a set of another generation is stale.
    pub generation: u32,
    /// `rank[i]`: the sorted position of response i.
    rank: Vec<u32>,
    /// Level 0 (labels), then each level of forks up to the root.
    levels: Vec<Vec<[u8; 32]>>,
}

impl ResponseSet {
    /// The set of `hashes`, given in response order (at least one).
    pub fn new(generation: u32, hashes: &[[u8; 32]]) -> Self {
        assert!(!hashes.is_empty(), "a response set has at least one response");
        let mut order: Vec<u32> = (0..hashes.len() as u32).collect();
        order.sort_by_key(|&i| hashes[i as usize]);
        let mut rank = vec![0u32; hashes.len()];
        for (pos, &i) in order.iter().enumerate() {
            rank[i as usize] = pos as u32;
        }
        let labels: Vec<[u8; 32]> = order.iter().map(|&i| hashes[i as usize]).collect();
        let mut levels = vec![labels];
        while levels.last().expect("level 0").len() > 1 {
            let below = levels.last().expect("a level");
            let k = levels.len() - 1;
            let node = |j: usize| if k == 0 { label_node(&below[j]) } else { below[j] };
            let up = (0..below.len().div_ceil(2))
                .map(|j| if 2 * j + 1 < below.len() { fork_hash(&node(2 * j), &node(2 * j + 1)) } else { node(2 * j) })
                .collect();
            levels.push(up);
        }
        Self { generation, rank, levels }
    }

    pub fn len(&self) -> usize {
        self.rank.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rank.is_empty()
    }

    /// Hash of the whole set: the content of the `""` label above it.
    pub fn root(&self) -> [u8; 32] {
        let top = self.levels.len() - 1;
        self.node(top, 0)
    }

    /// Response `i`'s hash (its label).
    pub fn response_hash(&self, i: usize) -> [u8; 32] {
        self.levels[0][self.rank[i] as usize]
    }

    fn node(&self, level: usize, j: usize) -> [u8; 32] {
        if level == 0 { label_node(&self.levels[0][j]) } else { self.levels[level][j] }
    }

    /// The set with response `i` revealed (its label over the empty leaf)
    /// and everything else pruned, but for its neighbour in the bottom
    /// pair, which is revealed too: pruning it needs its label's hash, a
    /// SHA-256 (~10 k instructions, a third of a witness), and a witness
    /// may show more than it proves. The neighbour's label is the hash of
    /// another response of the same file.
    pub fn witness(&self, i: usize) -> HashTree {
        let pos = self.rank[i] as usize;
        self.witness_at(self.levels.len() - 1, 0, pos)
    }

    /// The same for the response whose hash is `label`, if in the set.
    pub fn witness_of(&self, label: &[u8; 32]) -> Option<HashTree> {
        let pos = self.levels[0].binary_search(label).ok()?;
        Some(self.witness_at(self.levels.len() - 1, 0, pos))
    }

    fn witness_at(&self, level: usize, j: usize, pos: usize) -> HashTree {
        if level == 0 {
            return labeled(self.levels[0][j].to_vec(), leaf(b"".to_vec()));
        }
        let (l, r) = (2 * j, 2 * j + 1);
        if r >= self.levels[level - 1].len() {
            return self.witness_at(level - 1, l, pos);
        }
        let sibling = |k: usize| match level - 1 {
            0 => labeled(self.levels[0][k].to_vec(), leaf(b"".to_vec())),
            below => pruned(self.levels[below][k]),
        };
        if pos >> (level - 1) == l {
            fork(self.witness_at(level - 1, l, pos), sibling(r))
        } else {
            fork(sibling(l), self.witness_at(level - 1, r, pos))
        }
    }
}

/// The hash of `label` over the empty leaf.
fn label_node(label: &[u8; 32]) -> [u8; 32] {
    labeled_hash(label, &EMPTY_LEAF)
}

/// Version, generation, count, ranks, then every level's hashes.
impl Storable for ResponseSet {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        let n = self.rank.len();
        let hashes: usize = self.levels.iter().map(Vec::len).sum();
        let mut b = Vec::with_capacity(HEADER_BYTES + 4 * n + 32 * hashes);
        b.push(LAYOUT_V1);
        b.extend_from_slice(&self.generation.to_le_bytes());
        b.extend_from_slice(&(n as u32).to_le_bytes());
        for r in &self.rank {
            b.extend_from_slice(&r.to_le_bytes());
        }
        for level in &self.levels {
            for h in level {
                b.extend_from_slice(h);
            }
        }
        Cow::Owned(b)
    }

    fn into_bytes(self) -> Vec<u8> {
        self.to_bytes().into_owned()
    }

    fn from_bytes(b: Cow<[u8]>) -> Self {
        let fail = |why: &str| -> ! { panic!("decoding of a state record failed: ResponseSet: {why}") };
        if b.len() < HEADER_BYTES || b[0] != LAYOUT_V1 {
            fail("unknown layout");
        }
        let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
        let generation = u32_at(1);
        let n = u32_at(5) as usize;
        let mut at = HEADER_BYTES;
        // Checked: a damaged count must not wrap on a 32-bit target.
        let fits = |at: usize, items: usize, size: usize| items.checked_mul(size).and_then(|l| l.checked_add(at));
        if n == 0 || fits(at, n, 4).is_none_or(|end| b.len() < end) {
            fail("truncated ranks");
        }
        let rank: Vec<u32> = (0..n).map(|i| u32_at(at + 4 * i)).collect();
        at += 4 * n;
        let mut levels = Vec::new();
        let mut len = n;
        loop {
            if fits(at, len, 32).is_none_or(|end| b.len() < end) {
                fail("truncated hashes");
            }
            levels.push((0..len).map(|j| b[at + 32 * j..at + 32 * (j + 1)].try_into().expect("32 bytes")).collect());
            at += 32 * len;
            if len == 1 {
                break;
            }
            len = len.div_ceil(2);
        }
        if at != b.len() || rank.iter().any(|&r| r as usize >= n) {
            fail("inconsistent");
        }
        Self { generation, rank, levels }
    }

    const BOUND: Bound = Bound::Unbounded;
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_certification::{LookupResult, hash_tree};

    fn hashes(n: usize, seed: u8) -> Vec<[u8; 32]> {
        (0..n).map(|i| <sha2::Sha256 as sha2::Digest>::digest([seed, (i >> 8) as u8, i as u8]).into()).collect()
    }

    /// The set as a plain hash tree of the same shape, built with the
    /// library's constructors: its digest is what a verifier computes.
    fn reference(set: &ResponseSet) -> HashTree {
        fn at(set: &ResponseSet, level: usize, j: usize) -> HashTree {
            if level == 0 {
                return labeled(set.levels[0][j].to_vec(), leaf(b"".to_vec()));
            }
            let below = set.levels[level - 1].len();
            if 2 * j + 1 >= below {
                return at(set, level - 1, 2 * j);
            }
            hash_tree::fork(at(set, level - 1, 2 * j), at(set, level - 1, 2 * j + 1))
        }
        at(set, set.levels.len() - 1, 0)
    }

    #[test]
    fn every_witness_reveals_its_response_under_the_same_root() {
        for n in [1, 2, 3, 4, 5, 11, 12, 13, 33, 100] {
            let hs = hashes(n, n as u8);
            let set = ResponseSet::new(7, &hs);
            assert_eq!(set.root(), reference(&set).digest(), "n = {n}");
            for (i, h) in hs.iter().enumerate() {
                let w = set.witness(i);
                assert_eq!(w.digest(), set.root(), "n = {n}, i = {i}");
                assert_eq!(w.lookup_path([h.as_slice()]), LookupResult::Found(b"".as_slice()), "n = {n}, i = {i}");
                assert_eq!(set.response_hash(i), *h);
                // Of the other responses, only its neighbour in the bottom
                // pair (sorted position `pos ^ 1`) may be revealed.
                let pos = set.rank[i] as usize;
                for other in hs.iter().filter(|o| *o != h) {
                    let other_pos = set.levels[0].binary_search(other).unwrap();
                    if other_pos != pos ^ 1 {
                        assert_ne!(w.lookup_path([other.as_slice()]), LookupResult::Found(b"".as_slice()));
                    }
                }
            }
        }
    }

    #[test]
    fn encoding_round_trips_and_refuses_damage() {
        let set = ResponseSet::new(3, &hashes(11, 1));
        let bytes = set.to_bytes().into_owned();
        assert_eq!(bytes.len(), HEADER_BYTES + 4 * 11 + 32 * (11 + 6 + 3 + 2 + 1));
        assert_eq!(ResponseSet::from_bytes(Cow::Borrowed(&bytes)), set);
        for cut in [0, 1, HEADER_BYTES, bytes.len() - 1] {
            let r = std::panic::catch_unwind(|| ResponseSet::from_bytes(Cow::Owned(bytes[..cut].to_vec())));
            assert!(r.is_err(), "{cut} bytes decode");
        }
    }
}
