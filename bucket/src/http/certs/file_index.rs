//! The certified files under `/f/`: a treap keyed by file key, each node
//! holding the hash of its file's labeled subtree and the hashes of its
//! own parts, so that the tree's root and any file's witness are read,
//! not computed.
//!
//! Why not `ic_certification::RbTree` (what `HttpCertificationTree` uses):
//! it keeps every label and subtree of every response on the heap, about
//! 1.8 KB per small file. Here a file costs one node of fixed size on the
//! heap; its responses live in stable memory (`model::response_set`).
//!
//! A node's priority is a hash of its key, so the treap's shape, and thus
//! the root hash, depends only on the set of keys, not on the order they
//! came in: a rebuild after an upgrade certifies the same root.
//!
//! Hash layout of the subtree at node N (a verifier accepts any fork
//! shape whose labels are in order; hex labels sort as the keys do):
//! `part(N) = fork(T(left), label(N))` (or `label(N)` without a left
//! child) and `T(N) = fork(part(N), T(right))` (or `part(N)`).

use ic_certification::HashTree;
use ic_certification::hash_tree::fork_hash;
use ic_certification::{fork, pruned};
use std::cmp::Ordering;

const NIL: u32 = u32::MAX;

struct Node {
    key: [u8; 16],
    left: u32,
    right: u32,
    /// Hash of `labeled(hex(key), file subtree)`.
    label: [u8; 32],
    part: [u8; 32],
    subtree: [u8; 32],
    /// `part` and `subtree` are stale: the node or a descendant changed.
    /// A dirty node's ancestors are all dirty.
    dirty: bool,
}

/// Heap bytes of one node.
pub const NODE_BYTES: usize = std::mem::size_of::<Node>();

/// Nodes per block of the arena.
const BLOCK_NODES: usize = 4096;

/// The nodes, in blocks of `BLOCK_NODES` that never move: a growing
/// `Vec` would copy all nodes at each doubling and leave the old buffer
/// behind on a heap that never shrinks (measured: 428 bytes per file of
/// heap growth while seeding, against 229 after a rebuild).
#[derive(Default)]
struct Arena {
    blocks: Vec<Vec<Node>>,
    len: usize,
}

impl Arena {
    fn push(&mut self, node: Node) -> usize {
        if self.len.is_multiple_of(BLOCK_NODES) {
            self.blocks.push(Vec::with_capacity(BLOCK_NODES));
        }
        self.blocks.last_mut().expect("a block with room").push(node);
        self.len += 1;
        self.len - 1
    }
}

impl std::ops::Index<usize> for Arena {
    type Output = Node;
    fn index(&self, i: usize) -> &Node {
        &self.blocks[i / BLOCK_NODES][i % BLOCK_NODES]
    }
}

impl std::ops::IndexMut<usize> for Arena {
    fn index_mut(&mut self, i: usize) -> &mut Node {
        &mut self.blocks[i / BLOCK_NODES][i % BLOCK_NODES]
    }
}

#[derive(Default)]
pub struct FileIndex {
    nodes: Arena,
    free: Vec<u32>,
    root: Option<u32>,
    len: usize,
}

/// Where a label falls among the files' hex labels.
#[derive(Debug, PartialEq, Eq)]
pub enum Position {
    Found([u8; 16]),
    /// Between these neighbours (either may be absent at an end).
    Between(Option<[u8; 16]>, Option<[u8; 16]>),
}

/// splitmix64 over the key's two halves: priorities independent of order.
fn priority(key: &[u8; 16]) -> u64 {
    let x = u128::from_be_bytes(*key);
    let mut z = (x as u64) ^ ((x >> 64) as u64).rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `a` belongs above `b` (ties, impossible for distinct random keys, are
/// broken by key so that the shape stays a function of the key set).
fn above(a: &[u8; 16], b: &[u8; 16]) -> bool {
    (priority(a), a) > (priority(b), b)
}

pub fn hex_label(key: &[u8; 16]) -> Vec<u8> {
    hex::encode(key).into_bytes()
}

/// The key whose `hex_label` is `label`, if it is one (32 lowercase hex
/// digits; uppercase ones sort differently and are not file labels).
fn key_of_hex_label(label: &[u8]) -> Option<[u8; 16]> {
    if label.len() != 32 || !label.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut key = [0u8; 16];
    hex::decode_to_slice(label, &mut key).ok()?;
    Some(key)
}

impl FileIndex {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn contains(&self, key: &[u8; 16]) -> bool {
        let mut t = self.root.unwrap_or(NIL);
        while t != NIL {
            let n = &self.nodes[t as usize];
            t = match key.cmp(&n.key) {
                Ordering::Equal => return true,
                Ordering::Less => n.left,
                Ordering::Greater => n.right,
            };
        }
        false
    }

    /// Root hash of the whole index (`None` when empty).
    pub fn root_hash(&self) -> Option<[u8; 32]> {
        let r = self.root?;
        let n = &self.nodes[r as usize];
        assert!(!n.dirty, "FileIndex read before rehash");
        Some(n.subtree)
    }

    /// Adds a file, or replaces its label hash. Hashes are brought up to
    /// date by `rehash`.
    pub fn insert(&mut self, key: [u8; 16], label: [u8; 32]) {
        let root = self.root.unwrap_or(NIL);
        let r = self.insert_at(root, key, label);
        self.root = Some(r);
    }

    fn alloc(&mut self, key: [u8; 16], label: [u8; 32]) -> u32 {
        let node = Node { key, left: NIL, right: NIL, label, part: [0; 32], subtree: [0; 32], dirty: true };
        self.len += 1;
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => self.nodes.push(node) as u32,
        }
    }

    fn insert_at(&mut self, t: u32, key: [u8; 16], label: [u8; 32]) -> u32 {
        if t == NIL {
            return self.alloc(key, label);
        }
        let i = t as usize;
        self.nodes[i].dirty = true;
        match key.cmp(&self.nodes[i].key) {
            Ordering::Equal => {
                self.nodes[i].label = label;
                t
            }
            Ordering::Less => {
                let c = self.insert_at(self.nodes[i].left, key, label);
                self.nodes[i].left = c;
                if above(&self.nodes[c as usize].key, &self.nodes[i].key) { self.rotate_right(t) } else { t }
            }
            Ordering::Greater => {
                let c = self.insert_at(self.nodes[i].right, key, label);
                self.nodes[i].right = c;
                if above(&self.nodes[c as usize].key, &self.nodes[i].key) { self.rotate_left(t) } else { t }
            }
        }
    }

    fn rotate_right(&mut self, t: u32) -> u32 {
        let l = self.nodes[t as usize].left;
        self.nodes[t as usize].left = self.nodes[l as usize].right;
        self.nodes[l as usize].right = t;
        self.nodes[l as usize].dirty = true;
        l
    }

    fn rotate_left(&mut self, t: u32) -> u32 {
        let r = self.nodes[t as usize].right;
        self.nodes[t as usize].right = self.nodes[r as usize].left;
        self.nodes[r as usize].left = t;
        self.nodes[r as usize].dirty = true;
        r
    }

    /// Takes a file out; false when it was not in.
    pub fn remove(&mut self, key: &[u8; 16]) -> bool {
        let Some(root) = self.root else { return false };
        let mut removed = false;
        let r = self.remove_at(root, key, &mut removed);
        self.root = (r != NIL).then_some(r);
        removed
    }

    fn remove_at(&mut self, t: u32, key: &[u8; 16], removed: &mut bool) -> u32 {
        if t == NIL {
            return NIL;
        }
        let i = t as usize;
        match key.cmp(&self.nodes[i].key) {
            Ordering::Equal => {
                *removed = true;
                self.len -= 1;
                self.free.push(t);
                self.merge(self.nodes[i].left, self.nodes[i].right)
            }
            Ordering::Less => {
                let c = self.remove_at(self.nodes[i].left, key, removed);
                self.nodes[i].left = c;
                self.nodes[i].dirty |= *removed;
                t
            }
            Ordering::Greater => {
                let c = self.remove_at(self.nodes[i].right, key, removed);
                self.nodes[i].right = c;
                self.nodes[i].dirty |= *removed;
                t
            }
        }
    }

    /// Joins two treaps, every key of `a` below every key of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if above(&self.nodes[a as usize].key, &self.nodes[b as usize].key) {
            let m = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = m;
            self.nodes[a as usize].dirty = true;
            a
        } else {
            let m = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = m;
            self.nodes[b as usize].dirty = true;
            b
        }
    }

    /// Recomputes the hashes of every changed node: two fork hashes per
    /// node, once, however many files were added since the last call.
    pub fn rehash(&mut self) {
        if let Some(r) = self.root {
            self.rehash_at(r);
        }
    }

    fn rehash_at(&mut self, t: u32) {
        let i = t as usize;
        if !self.nodes[i].dirty {
            return;
        }
        let (l, r) = (self.nodes[i].left, self.nodes[i].right);
        if l != NIL {
            self.rehash_at(l);
        }
        if r != NIL {
            self.rehash_at(r);
        }
        let n = &self.nodes[i];
        let part = if l == NIL { n.label } else { fork_hash(&self.nodes[l as usize].subtree, &n.label) };
        let subtree = if r == NIL { part } else { fork_hash(&part, &self.nodes[r as usize].subtree) };
        let n = &mut self.nodes[i];
        (n.part, n.subtree, n.dirty) = (part, subtree, false);
    }

    /// Where `label` (a path segment under `/f/`) falls.
    pub fn position(&self, label: &[u8]) -> Position {
        match key_of_hex_label(label) {
            // Lowercase hex sorts as the bytes it encodes: keys compare as
            // their labels do, without making a label per node (a Vec and
            // 32 hex digits at each of the treap's ~2 log2(n) levels).
            Some(key) => self.position_by(|node| key.cmp(node)),
            None => self.position_by_label(label),
        }
    }

    /// `position` of any label, comparing it with each node's hex label.
    fn position_by_label(&self, label: &[u8]) -> Position {
        self.position_by(|node| label.cmp(hex_label(node).as_slice()))
    }

    /// Where the sought label falls; `cmp` compares it with a node's.
    fn position_by(&self, cmp: impl Fn(&[u8; 16]) -> Ordering) -> Position {
        let (mut below, mut above) = (None, None);
        let mut t = self.root.unwrap_or(NIL);
        while t != NIL {
            let n = &self.nodes[t as usize];
            match cmp(&n.key) {
                Ordering::Equal => return Position::Found(n.key),
                Ordering::Less => {
                    above = Some(n.key);
                    t = n.left;
                }
                Ordering::Greater => {
                    below = Some(n.key);
                    t = n.right;
                }
            }
        }
        Position::Between(below, above)
    }

    /// The index with the files `want` (sorted, present) revealed by
    /// `reveal` (which gives each one's labeled subtree) and everything
    /// else pruned.
    pub fn witness(&self, want: &[[u8; 16]], reveal: &mut impl FnMut(&[u8; 16]) -> HashTree) -> HashTree {
        let r = self.root.expect("a witness of an empty index");
        self.witness_at(r, want, reveal)
    }

    fn witness_at(&self, t: u32, want: &[[u8; 16]], reveal: &mut impl FnMut(&[u8; 16]) -> HashTree) -> HashTree {
        let n = &self.nodes[t as usize];
        debug_assert!(!n.dirty, "FileIndex witness before rehash");
        if want.is_empty() {
            return pruned(n.subtree);
        }
        let lo = want.partition_point(|k| k < &n.key);
        let hi = want.partition_point(|k| k <= &n.key);
        let (left_want, here, right_want) = (&want[..lo], hi > lo, &want[hi..]);
        let part = if left_want.is_empty() && !here {
            pruned(n.part)
        } else {
            let label = if here { reveal(&n.key) } else { pruned(n.label) };
            match n.left {
                NIL => label,
                l => fork(self.witness_at(l, left_want, reveal), label),
            }
        };
        match n.right {
            NIL => part,
            r => fork(part, self.witness_at(r, right_want, reveal)),
        }
    }

    /// Depth of the deepest node, for the benchmark and tests.
    pub fn depth(&self) -> usize {
        fn at(ix: &FileIndex, t: u32) -> usize {
            if t == NIL {
                return 0;
            }
            let n = &ix.nodes[t as usize];
            1 + at(ix, n.left).max(at(ix, n.right))
        }
        at(self, self.root.unwrap_or(NIL))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_certification::hash_tree::{HashTreeNode, labeled_hash, leaf_hash};
    use ic_certification::{LookupResult, labeled, leaf};
    use proptest::prelude::*;

    fn content(key: &[u8; 16]) -> [u8; 32] {
        <sha2::Sha256 as sha2::Digest>::digest(key).into()
    }

    fn label_hash(key: &[u8; 16]) -> [u8; 32] {
        labeled_hash(&hex_label(key), &leaf_hash(&content(key)))
    }

    fn build(keys: &[[u8; 16]]) -> FileIndex {
        let mut ix = FileIndex::default();
        for k in keys {
            ix.insert(*k, label_hash(k));
        }
        ix.rehash();
        ix
    }

    /// Reveals a file as its label over a leaf standing for its subtree.
    fn reveal(key: &[u8; 16]) -> HashTree {
        labeled(hex_label(key), leaf(content(key).to_vec()))
    }

    fn key(n: u64) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&n.to_be_bytes());
        k[8..].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
        k
    }

    #[test]
    fn the_shape_depends_on_the_keys_not_their_order() {
        let keys: Vec<_> = (0..500).map(key).collect();
        let mut rev = keys.clone();
        rev.reverse();
        let (a, b) = (build(&keys), build(&rev));
        assert_eq!(a.root_hash(), b.root_hash());
        // Removing and adding back gives the same root again.
        let mut c = build(&keys);
        for k in &keys[100..300] {
            assert!(c.remove(k));
        }
        c.rehash();
        assert_ne!(c.root_hash(), a.root_hash());
        assert_eq!(c.len(), 300);
        for k in &keys[100..300] {
            c.insert(*k, label_hash(k));
        }
        c.rehash();
        assert_eq!(c.root_hash(), a.root_hash());
        assert!(a.depth() <= 30, "depth {} for 500 keys", a.depth());
    }

    #[test]
    fn sequential_keys_stay_shallow() {
        let keys: Vec<[u8; 16]> = (0..4096u128).map(|n| n.to_be_bytes()).collect();
        let ix = build(&keys);
        assert!(ix.depth() <= 40, "depth {} for 4096 sequential keys", ix.depth());
    }

    proptest! {
        #[test]
        fn witnesses_prove_presence_and_absence(
            keys in proptest::collection::btree_set(any::<[u8; 16]>(), 1..60),
            probe in any::<[u8; 16]>(),
            odd in "[0-9a-z<>*$]{0,34}",
        ) {
            let keys: Vec<_> = keys.into_iter().collect();
            let ix = build(&keys);
            let root = ix.root_hash().unwrap();
            for k in keys.iter().step_by(7) {
                let w = ix.witness(&[*k], &mut reveal);
                prop_assert_eq!(w.digest(), root);
                let c = content(k);
                prop_assert_eq!(w.lookup_path([hex_label(k)]), LookupResult::Found(c.as_slice()));
            }
            for label in [hex_label(&probe), odd.into_bytes(), vec![], b"<*>".to_vec()] {
                match ix.position(&label) {
                    Position::Found(k) => prop_assert_eq!(hex_label(&k), label),
                    Position::Between(below, above) => {
                        let want: Vec<_> = below.into_iter().chain(above).collect();
                        let w = ix.witness(&want, &mut reveal);
                        prop_assert_eq!(w.digest(), root);
                        prop_assert_eq!(w.lookup_path([label.as_slice()]), LookupResult::Absent);
                    }
                }
            }
            // Comparing keys finds what comparing labels finds.
            let upper = hex::encode_upper(probe).into_bytes();
            let mut near = hex_label(&keys[0]);
            near[31] = b'g';
            for label in [hex_label(&probe), hex_label(&keys[keys.len() / 2]), upper, near] {
                prop_assert_eq!(ix.position(&label), ix.position_by_label(&label));
            }
            // Nothing is revealed that was not asked for.
            let w = ix.witness(&[], &mut reveal);
            prop_assert!(matches!(HashTreeNode::from(w), HashTreeNode::Pruned(_)));
        }
    }
}
