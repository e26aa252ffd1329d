//! The HTTP certification tree (response verification v2).
//!
//! Per committed file, every response of `responses::file_responses` sits at
//! the file's exact path; the 404 for everything else sits at the wildcard
//! `/`. The tree lives on the heap and is rebuilt from stable metadata and
//! chunk hashes in `post_upgrade` (no body is read).
//!
//! A file enters the tree one response at a time, so that a file of tens of
//! thousands of chunks (~1.3 M instructions each) is certified over several
//! messages; until all of its responses are in, it is served by update.

use super::responses::{
    CEL, CEL_STRING, FallbackResponse, FileView, ResponseShape, UNSPLIT_RESPONSES, fallback_shape, file_responses,
    file_shape,
};
use crate::logic::CertChange;
use crate::model::BucketStore;
use depot_api::FileKey;
use ic_http_certification::{
    HttpCertification, HttpCertificationPath, HttpCertificationTree, HttpCertificationTreeEntry, HttpResponse,
    response_hash, utils::add_v2_certificate_header,
};
use ic_stable_structures::Memory;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

pub const FALLBACK_PATH: &str = "/";

#[derive(Default)]
pub struct CertTree {
    tree: HttpCertificationTree,
    entries: u64,
    /// Files whose responses are all in the tree. Until a file is in here
    /// (a large file being certified, a tree being rebuilt after an
    /// upgrade) it is served by update.
    certified: BTreeSet<FileKey>,
    /// Files partly in the tree: how many of their responses (in
    /// `file_responses` order) are in.
    partial: BTreeMap<FileKey, usize>,
}

/// SHA-256 of the CEL expression every response is certified with.
static CEL_HASH: LazyLock<[u8; 32]> = LazyLock::new(|| Sha256::digest(CEL_STRING.as_bytes()).into());

/// What `HttpCertification::response_only` computes, without formatting,
/// checking and hashing the same CEL expression again for each response
/// (`tests::http_answers::certification_matches_the_librarys` checks
/// they agree).
pub(crate) fn certification(shape: &ResponseShape) -> HttpCertification {
    let response = shape.to_response(vec![], false);
    let response_hash = response_hash(&response, &CEL.response, Some(shape.body_hash));
    HttpCertification::response_only_prehashed(*CEL_HASH, response_hash)
}

fn entry<'a>(path: HttpCertificationPath<'a>, shape: &ResponseShape) -> HttpCertificationTreeEntry<'a> {
    HttpCertificationTreeEntry::new(path, certification(shape))
}

impl CertTree {
    pub fn root_hash(&self) -> [u8; 32] {
        self.tree.root_hash()
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    pub fn insert_fallbacks(&mut self) {
        for r in [
            FallbackResponse::NotFound,
            FallbackResponse::Forbidden,
            FallbackResponse::Preflight,
            FallbackResponse::PaymentRequired,
        ] {
            let shape = fallback_shape(r);
            self.tree.insert(&entry(HttpCertificationPath::wildcard(FALLBACK_PATH), &shape));
            self.entries += 1;
        }
    }

    /// All of the file's responses are in the tree.
    pub fn is_certified(&self, file: &FileKey) -> bool {
        self.certified.contains(file)
    }

    /// Some or all of the file's responses are in the tree: its exact path
    /// exists, with at least its 403 and preflight answers.
    pub fn has_path(&self, file: &FileKey) -> bool {
        self.certified.contains(file) || self.partial.contains_key(file)
    }

    /// Adds all of a file's responses; a file already in the tree is left as is.
    pub fn insert_file(&mut self, f: &FileView, chunk_hashes: &[[u8; 32]]) {
        self.insert_file_until(f, chunk_hashes, || false);
    }

    /// Adds a file's responses from where an earlier call stopped, until
    /// all are in (true) or `out_of_budget()`, asked after each response,
    /// says stop (false: the file stays partial).
    pub fn insert_file_until(
        &mut self,
        f: &FileView,
        chunk_hashes: &[[u8; 32]],
        mut out_of_budget: impl FnMut() -> bool,
    ) -> bool {
        if self.certified.contains(&f.key) {
            return true;
        }
        let done = self.partial.get(&f.key).copied().unwrap_or(0);
        let path = f.path();
        let responses = file_responses(f);
        for (n, r) in responses.iter().enumerate().skip(done) {
            let shape = file_shape(f, *r, |i| chunk_hashes[i as usize]);
            self.tree.insert(&entry(HttpCertificationPath::exact(path.as_str()), &shape));
            self.entries += 1;
            if n + 1 < responses.len() && n + 1 >= UNSPLIT_RESPONSES && out_of_budget() {
                self.partial.insert(f.key, n + 1);
                return false;
            }
        }
        self.partial.remove(&f.key);
        self.certified.insert(f.key);
        true
    }

    /// The first file that is partly in the tree.
    pub fn first_partial(&self) -> Option<FileKey> {
        self.partial.keys().next().copied()
    }

    /// Brings the tree up to date with a change the logic reported, within
    /// `out_of_budget` (see `insert_file_until`): a new file may be left
    /// partial, for `lifecycle::certify_step` to finish.
    pub fn apply<M: Memory>(
        &mut self,
        store: &BucketStore<M>,
        change: &CertChange,
        out_of_budget: impl FnMut() -> bool,
    ) {
        match change {
            CertChange::Unchanged => {}
            CertChange::Added(key) => {
                let view = store.file_view(key).expect("a file reported as committed is committed");
                self.insert_file_until(&view, &store.chunk_hashes(key), out_of_budget);
            }
            CertChange::Removed(view) => self.remove_file(view),
        }
    }

    /// Takes a file's responses out, whether all or some of them are in.
    pub fn remove_file(&mut self, f: &FileView) {
        let inserted = if self.certified.remove(&f.key) {
            file_responses(f).len()
        } else if let Some(n) = self.partial.remove(&f.key) {
            n
        } else {
            return;
        };
        self.tree.delete_by_path(&HttpCertificationPath::exact(f.path()));
        self.entries -= inserted as u64;
    }

    /// Adds the `IC-Certificate` header proving `shape` for `request_url`.
    /// Fails (it never traps) when no witness can be built for that URL,
    /// e.g. a URL that is not a path: the caller answers uncertified.
    pub fn certify(
        &self,
        response: &mut HttpResponse,
        shape: &ResponseShape,
        path: HttpCertificationPath,
        request_url: &str,
        data_certificate: &[u8],
    ) -> Result<(), String> {
        let e = entry(path, shape);
        let witness = self.tree.witness(&e, request_url).map_err(|e| e.to_string())?;
        add_v2_certificate_header(data_certificate, response, &witness, &e.path.to_expr_path());
        Ok(())
    }
}
