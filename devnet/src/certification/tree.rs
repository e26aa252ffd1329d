//! A labeled tree built from paths, turned into a well-formed IC hash tree.
//!
//! Clients look labels up by binary search over forks, so the labels of each
//! node must be sorted (a `BTreeMap` does that) and a node with no children is
//! `Empty`, which lets clients prove the absence of a path (e.g. an unknown
//! `request_status`) instead of treating it as "unknown".

use std::collections::BTreeMap;

use ic_certification::HashTree;
use ic_certification::hash_tree::{empty, fork, label, leaf};

/// Errors from inserting an inconsistent path.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TreeError {
    #[error("path is empty")]
    EmptyPath,
    #[error("path {0} crosses an existing leaf")]
    PathThroughLeaf(String),
    #[error("path {0} already holds a subtree")]
    LeafOverSubtree(String),
}

/// A node of the labeled state tree (leaves hold raw bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateTree {
    Leaf(Vec<u8>),
    Node(BTreeMap<Vec<u8>, StateTree>),
}

impl Default for StateTree {
    fn default() -> Self {
        StateTree::Node(BTreeMap::new())
    }
}

fn show_path(path: &[&[u8]]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|l| match std::str::from_utf8(l) {
            Ok(s) if s.chars().all(|c| c.is_ascii_graphic()) => s.to_string(),
            _ => hex::encode(l),
        })
        .collect();
    format!("/{}", parts.join("/"))
}

impl StateTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts `value` at `path`, creating intermediate nodes.
    pub fn insert(&mut self, path: &[&[u8]], value: impl Into<Vec<u8>>) -> Result<(), TreeError> {
        let (last, init) = path.split_last().ok_or(TreeError::EmptyPath)?;
        let node = self.subtree_mut(init)?;
        match node {
            StateTree::Node(children) => {
                if let Some(StateTree::Node(_)) = children.get(*last) {
                    return Err(TreeError::LeafOverSubtree(show_path(path)));
                }
                children.insert(last.to_vec(), StateTree::Leaf(value.into()));
                Ok(())
            }
            StateTree::Leaf(_) => Err(TreeError::PathThroughLeaf(show_path(path))),
        }
    }

    /// Makes sure an (initially empty) subtree exists at `path`; used to
    /// prove absence below it.
    pub fn ensure_node(&mut self, path: &[&[u8]]) -> Result<(), TreeError> {
        self.subtree_mut(path).map(|_| ())
    }

    fn subtree_mut(&mut self, path: &[&[u8]]) -> Result<&mut StateTree, TreeError> {
        let mut node = self;
        for (i, l) in path.iter().enumerate() {
            node = match node {
                StateTree::Node(children) => children.entry(l.to_vec()).or_default(),
                StateTree::Leaf(_) => return Err(TreeError::PathThroughLeaf(show_path(&path[..i]))),
            };
        }
        match node {
            StateTree::Leaf(_) => Err(TreeError::PathThroughLeaf(show_path(path))),
            n => Ok(n),
        }
    }

    /// The IC hash tree (balanced forks over sorted labels).
    pub fn to_hash_tree(&self) -> HashTree {
        match self {
            StateTree::Leaf(v) => leaf(v.clone()),
            StateTree::Node(children) => {
                let labeled: Vec<HashTree> =
                    children.iter().map(|(l, child)| label(l.clone(), child.to_hash_tree())).collect();
                balanced_forks(labeled)
            }
        }
    }
}

/// Joins sorted labeled subtrees with forks, halving each time so lookups
/// stay logarithmic.
fn balanced_forks(mut nodes: Vec<HashTree>) -> HashTree {
    match nodes.len() {
        0 => empty(),
        1 => nodes.remove(0),
        n => {
            let right = nodes.split_off(n / 2);
            fork(balanced_forks(nodes), balanced_forks(right))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_certification::LookupResult;

    #[test]
    fn lookup_and_absence() {
        let mut t = StateTree::new();
        t.insert(&[b"time"], vec![1]).unwrap();
        t.insert(&[b"canister", b"c1", b"certified_data"], vec![2]).unwrap();
        t.insert(&[b"canister", b"c0", b"certified_data"], vec![3]).unwrap();
        t.ensure_node(&[b"request_status"]).unwrap();
        let h = t.to_hash_tree();
        assert_eq!(h.lookup_path([b"time".as_ref()]), LookupResult::Found(&[1]));
        assert_eq!(h.lookup_path([b"canister".as_ref(), b"c0", b"certified_data"]), LookupResult::Found(&[3]));
        assert_eq!(h.lookup_path([b"request_status".as_ref(), b"x", b"status"]), LookupResult::Absent);
    }

    #[test]
    fn rejects_inconsistent_paths() {
        let mut t = StateTree::new();
        t.insert(&[b"a"], vec![1]).unwrap();
        assert!(t.insert(&[b"a", b"b"], vec![1]).is_err());
        assert_eq!(t.insert(&[], vec![1]), Err(TreeError::EmptyPath));
    }
}
