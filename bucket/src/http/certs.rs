//! The HTTP certification tree (response verification v2), built for
//! millions of small files.
//!
//! The tree, as a verifier sees it:
//!
//! ```text
//! http_expr ─┬─ "" ─ <*> ─ <cel hash> ─ "" ─ {4 fallback response hashes}
//!            └─ f ─┬─ <key hex> ─ <$> ─ <cel hash> ─ "" ─ {the file's response hashes}
//!                  └─ … one per certified file
//! ```
//!
//! What is kept where:
//! - each file's response hashes, with every fork above them, in stable
//!   memory (`model::response_set`), made once when the file is certified;
//! - on the heap, one fixed-size node per file (`file_index`), holding the
//!   hashes a witness or the root needs. Files of many chunks also keep
//!   their response set on the heap (`CACHED_SET_RESPONSES`), so that a
//!   query does not read a long set from stable memory.
//!
//! A file enters the tree whole, or not at all: its response hashes are
//! made over as many messages as its size needs (`pending`), and until it
//! is in it is served by update (and its 403 and preflight, which are the
//! same bytes for every path, come from the fallback). After an upgrade
//! the files are put back from their stored sets, without hashing a
//! response again, unless the responses this code certifies differ from
//! those the sets were made with (`response_format`).

mod file_index;

use super::cert_header;
use super::responses::{
    CEL, CEL_STRING, FallbackResponse, FileResponse, FileView, ResponseShape, fallback_shape, file_response_at,
    file_response_count, file_response_index, file_shape,
};
use crate::logic::CertChange;
use crate::model::BucketStore;
use crate::model::records::ResponseFormat;
use crate::model::response_set::ResponseSet;
use depot_api::FileKey;
use file_index::{FileIndex, Position, hex_label};
use ic_certification::hash_tree::labeled_hash;
use ic_certification::{HashTree, labeled, merge_hash_trees, pruned};
use ic_http_certification::utils::more_specific_wildcards_for;
use ic_http_certification::{HttpCertificationPath, HttpRequest, HttpResponse, response_hash};
use ic_stable_structures::Memory;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

pub use file_index::NODE_BYTES;

pub const FALLBACK_PATH: &str = "/";
/// The segment all file paths start with (`depot_api::url::FILE_PATH_PREFIX`).
const FILES_SEGMENT: &[u8] = b"f";
const _: () = assert!(matches!(depot_api::url::FILE_PATH_PREFIX.as_bytes(), b"/f/"));
const EXACT: &[u8] = b"<$>";
const WILDCARD: &[u8] = b"<*>";

/// Response sets of at least this many responses (files of about 90
/// chunks and more, so at least 5.6 MiB) stay on the heap as well: 72
/// bytes per chunk, instead of reading the whole set from stable memory
/// for each of its chunks' queries.
pub const CACHED_SET_RESPONSES: usize = 96;

/// SHA-256 of the CEL expression every response is certified with.
static CEL_HASH: LazyLock<[u8; 32]> = LazyLock::new(|| Sha256::digest(CEL_STRING.as_bytes()).into());

/// The fallbacks at the wildcard `/`, in `FallbackResponse` order.
const FALLBACKS: [FallbackResponse; 4] = [
    FallbackResponse::NotFound,
    FallbackResponse::Forbidden,
    FallbackResponse::Preflight,
    FallbackResponse::PaymentRequired,
];
static FALLBACK_SET: LazyLock<ResponseSet> = LazyLock::new(|| {
    let hashes: Vec<[u8; 32]> = FALLBACKS.iter().map(|r| shape_hash(&fallback_shape(*r))).collect();
    ResponseSet::new(0, &hashes)
});
/// Hash of everything under the wildcard's `""` label.
static FALLBACK_CHAIN: LazyLock<[u8; 32]> = LazyLock::new(|| chain_hash(WILDCARD, &FALLBACK_SET.root()));

/// The hash a response is certified by: what `HttpCertification::
/// response_only` computes, with the CEL expression hashed once
/// (`tests::http_answers::certification_matches_the_librarys`).
pub(crate) fn shape_hash(shape: &ResponseShape) -> [u8; 32] {
    let response = shape.to_response(vec![], false);
    response_hash(&response, &CEL.response, Some(shape.body_hash))
}

/// Hash of the labels between a path and its response set:
/// `<terminator> / <cel hash> / "" / set`.
fn chain_hash(terminator: &[u8], set_root: &[u8; 32]) -> [u8; 32] {
    let h = labeled_hash(b"", set_root);
    let h = labeled_hash(CEL_HASH.as_slice(), &h);
    labeled_hash(terminator, &h)
}

/// The witness of that chain for `rest` of a lookup path: each label is
/// revealed (which proves any other label at its level absent), and the
/// set is entered only along the path.
fn chain_witness(terminator: &[u8], set: &ResponseSet, rest: &[Vec<u8>]) -> HashTree {
    let labels: [&[u8]; 3] = [terminator, CEL_HASH.as_slice(), b""];
    fn at(labels: &[&[u8]], set: &ResponseSet, rest: &[Vec<u8>]) -> HashTree {
        let Some((label, deeper)) = labels.split_first() else {
            return match rest.first().and_then(|h| <[u8; 32]>::try_from(h.as_slice()).ok()) {
                Some(h) => set.witness_of(&h).unwrap_or_else(|| pruned(set.root())),
                None => pruned(set.root()),
            };
        };
        let inner = match rest.split_first() {
            Some((first, rest)) if first.as_slice() == *label => at(deeper, set, rest),
            _ => pruned(inner_hash(deeper, set)),
        };
        labeled(label.to_vec(), inner)
    }
    fn inner_hash(labels: &[&[u8]], set: &ResponseSet) -> [u8; 32] {
        labels.iter().rev().fold(set.root(), |h, l| labeled_hash(l, &h))
    }
    at(&labels, set, rest)
}

/// Whose response to certify.
#[derive(Clone, Copy, Debug)]
pub enum Certified<'a> {
    File(&'a FileView, FileResponse),
    Fallback(FallbackResponse),
}

#[derive(Default)]
pub struct CertTree {
    files: FileIndex,
    /// Response sets of the files with `CACHED_SET_RESPONSES` or more.
    cached_sets: BTreeMap<FileKey, ResponseSet>,
    /// Files whose response hashes are being made: those made so far.
    pending: BTreeMap<FileKey, Vec<[u8; 32]>>,
    /// Responses in the tree: the fallbacks' and every certified file's.
    entries: u64,
    /// The generation of response sets this code makes and accepts.
    generation: u32,
}

impl CertTree {
    /// An empty tree (only the fallbacks) for response sets of `generation`.
    pub fn new(generation: u32) -> Self {
        Self { generation, entries: FALLBACKS.len() as u64, ..Self::default() }
    }

    pub fn generation(&self) -> u32 {
        self.generation
    }

    pub fn root_hash(&self) -> [u8; 32] {
        labeled_hash(b"http_expr", &self.top_hash())
    }

    /// Hash of everything under `http_expr`: `""` and, with files, `f`.
    fn top_hash(&self) -> [u8; 32] {
        let fallback = labeled_hash(b"", &FALLBACK_CHAIN);
        match self.files.root_hash() {
            None => fallback,
            Some(files) => ic_certification::hash_tree::fork_hash(&fallback, &labeled_hash(FILES_SEGMENT, &files)),
        }
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// The treap's depth (the benchmark prints it).
    pub fn depth(&self) -> usize {
        self.files.depth()
    }

    /// All of the file's responses are in the tree.
    pub fn is_certified(&self, file: &FileKey) -> bool {
        self.files.contains(&file.0)
    }

    /// The first file whose response hashes are being made.
    pub fn first_partial(&self) -> Option<FileKey> {
        self.pending.keys().next().copied()
    }

    /// Makes the file's response hashes from where an earlier call
    /// stopped, until all are made and the file is in the tree (true) or
    /// `out_of_budget()`, asked after each response, says stop (false).
    /// A response set stored by an earlier certification of the same
    /// generation is used as it is. Call `rehash` before the root is read.
    pub fn insert_file_until<M: Memory>(
        &mut self,
        store: &mut BucketStore<M>,
        key: &FileKey,
        mut out_of_budget: impl FnMut() -> bool,
    ) -> bool {
        if self.is_certified(key) {
            return true;
        }
        let f = store.file_view(key).expect("only committed, served files are certified");
        let n = file_response_count(&f);
        if !self.pending.contains_key(key)
            && let Some(set) = store.response_set(key)
            && set.generation == self.generation
            && set.len() == n
        {
            self.put(key, set);
            return true;
        }
        let made = self.pending.entry(*key).or_default();
        while made.len() < n {
            let shape = file_shape(&f, file_response_at(&f, made.len()), |i| store.chunk_hash(key, i));
            made.push(shape_hash(&shape));
            if made.len() < n && out_of_budget() {
                return false;
            }
        }
        let made = self.pending.remove(key).expect("made above");
        let set = ResponseSet::new(self.generation, &made);
        store.put_response_set(key, &set);
        self.put(key, set);
        true
    }

    fn put(&mut self, key: &FileKey, set: ResponseSet) {
        let label = labeled_hash(&hex_label(&key.0), &chain_hash(EXACT, &set.root()));
        self.files.insert(key.0, label);
        self.entries += set.len() as u64;
        if set.len() >= CACHED_SET_RESPONSES {
            self.cached_sets.insert(*key, set);
        }
    }

    /// Brings the hashes of the tree up to date after files came in or
    /// went out.
    pub fn rehash(&mut self) {
        self.files.rehash();
    }

    /// Brings the tree up to date with a change the logic reported, within
    /// `out_of_budget` (see `insert_file_until`): a new file may be left
    /// partial, for `lifecycle::certify_step` to finish.
    pub fn apply<M: Memory>(
        &mut self,
        store: &mut BucketStore<M>,
        change: &CertChange,
        out_of_budget: impl FnMut() -> bool,
    ) {
        match change {
            CertChange::Unchanged => {}
            CertChange::Added(key) => {
                self.insert_file_until(store, key, out_of_budget);
            }
            CertChange::Removed(view) => self.remove_file(store, &view.key),
        }
        self.rehash();
    }

    /// Takes a file out, whether it is in or being certified, and drops
    /// its stored response set (a file that comes back, e.g. when its owner
    /// pays again, is certified afresh).
    pub fn remove_file<M: Memory>(&mut self, store: &mut BucketStore<M>, key: &FileKey) {
        self.pending.remove(key);
        let set = store.remove_response_set(key);
        self.cached_sets.remove(key);
        if self.files.remove(&key.0) {
            self.entries -= set.map_or(0, |s| s.len() as u64);
        }
        self.rehash();
    }

    /// The response set of a certified file (a large one's without a copy).
    fn set_of<M: Memory>(&self, store: &BucketStore<M>, key: &[u8; 16]) -> Cow<'_, ResponseSet> {
        match self.cached_sets.get(&FileKey(*key)) {
            Some(set) => Cow::Borrowed(set),
            None => Cow::Owned(store.response_set(&FileKey(*key)).expect("a certified file has its response set")),
        }
    }

    /// The witness (without `http_expr`) of a certified file's response
    /// `response_hash` in its `set`: what `witness_path` gives for the path
    /// `f/<key>/<$>/<cel>/""/<response_hash>`, made without searching for
    /// the path (the file is known to be in the tree), in one walk down the
    /// treap.
    fn file_witness(&self, key: &[u8; 16], set: &ResponseSet, response_hash: [u8; 32]) -> HashTree {
        let rest = [EXACT.to_vec(), CEL_HASH.to_vec(), vec![], response_hash.to_vec()];
        let files = self.files.witness(&[*key], &mut |k| labeled(hex_label(k), chain_witness(EXACT, set, &rest)));
        ic_certification::fork(labeled(b"".to_vec(), pruned(*FALLBACK_CHAIN)), labeled(FILES_SEGMENT.to_vec(), files))
    }

    /// The witness of one lookup path (without `http_expr`).
    fn witness_path<M: Memory>(&self, store: &BucketStore<M>, path: &[Vec<u8>]) -> HashTree {
        let (first, rest) = path.split_first().map_or((None, &[][..]), |(f, r)| (Some(f.as_slice()), r));
        let fallback = if first == Some(b"".as_slice()) {
            labeled(b"".to_vec(), chain_witness(WILDCARD, &FALLBACK_SET, rest))
        } else {
            labeled(b"".to_vec(), pruned(*FALLBACK_CHAIN))
        };
        let Some(files_root) = self.files.root_hash() else { return fallback };
        let files = if first == Some(FILES_SEGMENT) { self.files_witness(store, rest) } else { pruned(files_root) };
        ic_certification::fork(fallback, labeled(FILES_SEGMENT.to_vec(), files))
    }

    /// Under `f`: the file the path names, or its neighbours to prove
    /// that no file has that name.
    fn files_witness<M: Memory>(&self, store: &BucketStore<M>, path: &[Vec<u8>]) -> HashTree {
        let Some((label, rest)) = path.split_first() else {
            return pruned(self.files.root_hash().expect("files exist"));
        };
        match self.files.position(label) {
            Position::Found(key) => self
                .files
                .witness(&[key], &mut |k| labeled(hex_label(k), chain_witness(EXACT, &self.set_of(store, k), rest))),
            Position::Between(below, above) => {
                let want: Vec<[u8; 16]> = below.into_iter().chain(above).collect();
                self.files.witness(&want, &mut |k| {
                    labeled(hex_label(k), pruned(chain_hash(EXACT, &self.set_of(store, k).root())))
                })
            }
        }
    }

    /// The lookups a witness must answer, each cut after the label that is
    /// absent (what follows it cannot change the witness), without
    /// repeats: a URL of thousands of segments under `/f/<name>` costs one
    /// absence proof, not one per segment.
    fn distinct_lookups(&self, paths: Vec<Vec<Vec<u8>>>) -> Vec<Vec<Vec<u8>>> {
        let mut cut: Vec<Vec<Vec<u8>>> = paths
            .into_iter()
            .map(|mut p| {
                let keep = match p.first().map(Vec::as_slice) {
                    Some(b"") => p.len(),
                    Some(FILES_SEGMENT) if !self.files.is_empty() => match p.get(1) {
                        Some(label) if matches!(self.files.position(label), Position::Between(..)) => 2,
                        // A file: its chain is entered only through `<$>`.
                        Some(_) if p.get(2).is_some_and(|l| l.as_slice() != EXACT) => 3,
                        _ => p.len(),
                    },
                    _ => 1,
                };
                p.truncate(keep);
                p
            })
            .collect();
        cut.sort();
        cut.dedup();
        cut
    }

    /// Adds the `IC-Certificate` header proving `response` for
    /// `request_url`. Fails (it never traps) when the URL has no path a
    /// verifier could parse, or the response is not in the tree: the
    /// caller answers uncertified.
    pub fn certify<M: Memory>(
        &self,
        store: &BucketStore<M>,
        response: &mut HttpResponse,
        what: Certified,
        request_url: &str,
        data_certificate: &[u8],
    ) -> Result<(), String> {
        let (witness, expr_path) = match what {
            Certified::File(f, r) => {
                if !self.is_certified(&f.key) {
                    return Err("the file is not certified yet".into());
                }
                let i = file_response_index(f, r).ok_or("a response not certified for this file")?;
                let set = self.set_of(store, &f.key.0);
                crate::phases::mark("response set read");
                debug_assert_eq!(
                    set.response_hash(i),
                    shape_hash(&file_shape(f, r, |c| store.chunk_hash(&f.key, c))),
                    "a stored response hash is stale"
                );
                // `HttpCertificationPath::exact(f.path()).to_expr_path()`.
                let expr_path =
                    vec![b"http_expr".to_vec(), FILES_SEGMENT.to_vec(), hex_label(&f.key.0), EXACT.to_vec()];
                (self.file_witness(&f.key.0, &set, set.response_hash(i)), expr_path)
            }
            Certified::Fallback(r) => {
                let i = FALLBACKS.iter().position(|x| *x == r).expect("every fallback is certified");
                let request_path = HttpRequest::get(request_url).build().get_path().map_err(|e| e.to_string())?;
                let mut requested: Vec<Vec<u8>> =
                    request_path.split('/').filter(|s| !s.is_empty()).map(|s| s.as_bytes().to_vec()).collect();
                if request_path.ends_with('/') {
                    requested.push(vec![]);
                }
                requested.push(EXACT.to_vec());
                let responding = vec![vec![], WILDCARD.to_vec()];
                let mut paths = more_specific_wildcards_for(&requested, &responding);
                let mut target = responding.clone();
                target.extend([CEL_HASH.to_vec(), vec![], FALLBACK_SET.response_hash(i).to_vec()]);
                paths.extend([requested, target]);
                let witness = self
                    .distinct_lookups(paths)
                    .iter()
                    .map(|p| self.witness_path(store, p))
                    .reduce(merge_hash_trees)
                    .expect("at least one path");
                let expr_path = HttpCertificationPath::wildcard(FALLBACK_PATH).to_expr_path();
                (witness, expr_path.into_iter().map(String::into_bytes).collect())
            }
        };
        let witness = labeled(b"http_expr".to_vec(), witness);
        crate::phases::mark("witness");
        let expr_path: Vec<&[u8]> = expr_path.iter().map(Vec::as_slice).collect();
        let value = cert_header::header_value(data_certificate, &witness, &expr_path);
        crate::phases::mark("IC-Certificate header");
        response.add_header((cert_header::CERTIFICATE_HEADER_NAME.to_string(), value));
        Ok(())
    }
}

/// The fingerprint of the responses this code certifies: the response
/// hashes of sample files covering every response kind and the inputs
/// their headers depend on (content types, names, sizes, chunk counts),
/// and the fallbacks. Any change to a certified response changes it.
pub fn response_fingerprint() -> [u8; 32] {
    let samples: [(&str, &str, u64, u32); 6] = [
        ("video/mp4", "movie.mp4", 100, 1),
        ("text/html", "page \"quoted\" ü.html", 3 * 1024 * 1024 + 7, 3),
        ("", "no extension", 0, 0),
        ("image/svg+xml", "x.svg", 5, 1),
        ("application/octet-stream", "data.bin", 2 * 1024 * 1024, 2),
        ("text/plain; charset=utf-8", "notes.txt", 12, 1),
    ];
    let mut h = Sha256::new();
    h.update(FALLBACK_SET.root());
    for (n, (mime, name, size, chunk_count)) in samples.into_iter().enumerate() {
        let f = FileView {
            key: FileKey([n as u8; 16]),
            name: name.into(),
            mime: mime.into(),
            size,
            chunk_size: 1024 * 1024,
            chunk_count,
            etag: [n as u8; 32],
        };
        for i in 0..file_response_count(&f) {
            h.update(shape_hash(&file_shape(&f, file_response_at(&f, i), |c| [c as u8; 32])));
        }
    }
    h.finalize().into()
}

/// The response format to certify with, given the stored one: the same
/// when this code's responses are those the stored sets were made with,
/// otherwise a new generation.
pub fn next_response_format(stored: Option<ResponseFormat>, fingerprint: [u8; 32]) -> ResponseFormat {
    match stored {
        Some(s) if s.fingerprint == fingerprint => s,
        Some(s) => ResponseFormat { fingerprint, generation: s.generation.wrapping_add(1) },
        None => ResponseFormat { fingerprint, generation: 1 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::fixture::{CHUNK, Fx, Upload};

    #[test]
    fn a_files_witness_is_what_the_path_search_makes() {
        let mut fx = Fx::new(1 << 30);
        // Single-chunk files and files of several chunks (larger sets).
        let uploads: Vec<Upload> = (1..=12u8)
            .map(|n| Upload::new(n, if n % 3 == 0 { 5 * CHUNK as usize + 7 } else { 100 * n as usize }))
            .collect();
        for u in &uploads {
            u.upload(&mut fx);
        }
        let tree = fx.certs();
        for u in &uploads {
            let key = u.file.0;
            let set = tree.set_of(&fx.store, &key);
            for i in 0..set.len() {
                let h = set.response_hash(i);
                let path = vec![
                    FILES_SEGMENT.to_vec(),
                    hex_label(&key),
                    EXACT.to_vec(),
                    CEL_HASH.to_vec(),
                    vec![],
                    h.to_vec(),
                ];
                let witness = tree.file_witness(&key, &set, h);
                assert!(witness == tree.witness_path(&fx.store, &path), "file {key:?}, response {i}");
            }
        }
    }
}
