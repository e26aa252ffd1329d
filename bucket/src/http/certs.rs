//! The HTTP certification tree (response verification v2).
//!
//! Per committed file, every response of `responses::file_responses` sits at
//! the file's exact path; the 404 for everything else sits at the wildcard
//! `/`. The tree lives on the heap and is rebuilt from stable metadata and
//! chunk hashes in `post_upgrade` (no body is read).

use super::responses::{CEL, FallbackResponse, FileView, ResponseShape, fallback_shape, file_responses, file_shape};
use crate::logic::CertChange;
use crate::model::BucketStore;
use depot_api::FileKey;
use ic_http_certification::{
    HttpCertification, HttpCertificationPath, HttpCertificationTree, HttpCertificationTreeEntry, HttpResponse,
    utils::add_v2_certificate_header,
};
use ic_stable_structures::Memory;
use std::collections::BTreeSet;

pub const FALLBACK_PATH: &str = "/";

#[derive(Default)]
pub struct CertTree {
    tree: HttpCertificationTree,
    entries: u64,
    /// Files whose responses are in the tree. After an upgrade the tree is
    /// rebuilt in steps; until a file is in here it is served by update.
    certified: BTreeSet<FileKey>,
}

fn entry<'a>(path: HttpCertificationPath<'a>, shape: &ResponseShape) -> HttpCertificationTreeEntry<'a> {
    let response = shape.to_response(vec![]);
    let cert = HttpCertification::response_only(&CEL, &response, Some(shape.body_hash))
        .expect("our responses carry the CEL header they are certified with");
    HttpCertificationTreeEntry::new(path, cert)
}

impl CertTree {
    pub fn root_hash(&self) -> [u8; 32] {
        self.tree.root_hash()
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    pub fn insert_fallbacks(&mut self) {
        for r in [FallbackResponse::NotFound, FallbackResponse::Forbidden, FallbackResponse::Preflight] {
            let shape = fallback_shape(r);
            self.tree.insert(&entry(HttpCertificationPath::wildcard(FALLBACK_PATH), &shape));
            self.entries += 1;
        }
    }

    pub fn is_certified(&self, file: &FileKey) -> bool {
        self.certified.contains(file)
    }

    /// Adds a file's responses; a file already in the tree is left as is.
    pub fn insert_file(&mut self, f: &FileView, chunk_hashes: &[[u8; 32]]) {
        if !self.certified.insert(f.key) {
            return;
        }
        let path = f.path();
        for r in file_responses(f) {
            let shape = file_shape(f, r, |i| chunk_hashes[i as usize]);
            self.tree.insert(&entry(HttpCertificationPath::exact(path.as_str()), &shape));
            self.entries += 1;
        }
    }

    /// Brings the tree up to date with a change the logic reported.
    pub fn apply<M: Memory>(&mut self, store: &BucketStore<M>, change: &CertChange) {
        match change {
            CertChange::Unchanged => {}
            CertChange::Added(key) => {
                let view = store.file_view(key).expect("a file reported as committed is committed");
                self.insert_file(&view, &store.chunk_hashes(key));
            }
            CertChange::Removed(view) => self.remove_file(view),
        }
    }

    pub fn remove_file(&mut self, f: &FileView) {
        if !self.certified.remove(&f.key) {
            return;
        }
        self.tree.delete_by_path(&HttpCertificationPath::exact(f.path()));
        self.entries -= file_responses(f).len() as u64;
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
