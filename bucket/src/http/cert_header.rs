//! The `IC-Certificate` header (response verification v2), written by hand.
//!
//! `ic_http_certification::utils::add_v2_certificate_header` encodes the
//! witness and the expression path through serde_cbor, which took ~31 k
//! instructions of a certified 206 (`depot-bench`, section 2's phases).
//! Both are short CBOR arrays of a known shape, written here directly into
//! one buffer, and base64-encoded two digits per lookup.
//! `tests::header_is_the_librarys` checks the bytes against the
//! library's on witnesses of every node kind and size class.

use ic_certification::HashTree;
use ic_certification::hash_tree::HashTreeNode;

pub const CERTIFICATE_HEADER_NAME: &str = "IC-Certificate";

/// CBOR's self-describe tag, which the library's encoding starts with.
const SELF_DESCRIBE: [u8; 3] = [0xd9, 0xd9, 0xf7];

const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;

/// The header's value: `certificate=:…:, tree=:…:, expr_path=:…:, version=2`.
pub fn header_value(data_certificate: &[u8], witness: &HashTree, expr_path: &[&[u8]]) -> String {
    let mut tree = Vec::with_capacity(512);
    tree.extend_from_slice(&SELF_DESCRIBE);
    write_node(&mut tree, witness.as_ref());
    let mut path = Vec::with_capacity(64);
    path.extend_from_slice(&SELF_DESCRIBE);
    head(&mut path, MAJOR_ARRAY, expr_path.len());
    for segment in expr_path {
        head(&mut path, MAJOR_TEXT, segment.len());
        path.extend_from_slice(segment);
    }
    let encoded = |n: usize| n.div_ceil(3) * 4;
    let len = 60 + encoded(data_certificate.len()) + encoded(tree.len()) + encoded(path.len());
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(b"certificate=:");
    base64(&mut out, data_certificate);
    out.extend_from_slice(b":, tree=:");
    base64(&mut out, &tree);
    out.extend_from_slice(b":, expr_path=:");
    base64(&mut out, &path);
    out.extend_from_slice(b":, version=2");
    String::from_utf8(out).expect("base64 and ASCII text")
}

const BASE64_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The two base64 digits of every 12-bit value.
static BASE64_PAIRS: [[u8; 2]; 4096] = {
    let mut t = [[0u8; 2]; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = [BASE64_ALPHABET[i >> 6], BASE64_ALPHABET[i & 63]];
        i += 1;
    }
    t
};

/// Standard base64 with padding (RFC 4648 §4), as the header wants,
/// appended to `out`. Two digits per lookup: the base64 crate's engine,
/// and a loop of one digit per lookup, both took ~28 instructions per
/// input byte in wasm (wasm counts every local read), a fifth of a
/// certified 1 KiB response for the ~600 bytes of certificate and tree.
fn base64(out: &mut Vec<u8>, input: &[u8]) {
    let start = out.len();
    out.resize(start + input.len().div_ceil(3) * 4, b'=');
    let groups = input.chunks_exact(3);
    let rest = groups.remainder();
    let mut slots = out[start..].chunks_exact_mut(4);
    for (g, o) in groups.zip(&mut slots) {
        let n = (g[0] as usize) << 16 | (g[1] as usize) << 8 | g[2] as usize;
        o[..2].copy_from_slice(&BASE64_PAIRS[n >> 12]);
        o[2..].copy_from_slice(&BASE64_PAIRS[n & 0xfff]);
    }
    if let Some(o) = slots.next() {
        // The last one or two bytes; the padding is already in place.
        let n = rest.iter().enumerate().fold(0usize, |n, (i, &b)| n | (b as usize) << (16 - 8 * i));
        o[..2].copy_from_slice(&BASE64_PAIRS[n >> 12]);
        if rest.len() == 2 {
            o[2] = BASE64_PAIRS[n & 0xfff][0];
        }
    }
}

/// `[0] | [1 tree tree] | [2 label tree] | [3 leaf] | [4 hash]`.
fn write_node(out: &mut Vec<u8>, node: &HashTreeNode<Vec<u8>>) {
    match node {
        HashTreeNode::Empty() => out.extend_from_slice(&[0x81, 0]),
        HashTreeNode::Fork(pair) => {
            out.extend_from_slice(&[0x83, 1]);
            write_node(out, &pair.0);
            write_node(out, &pair.1);
        }
        HashTreeNode::Labeled(label, tree) => {
            out.extend_from_slice(&[0x83, 2]);
            bytes(out, label.as_bytes());
            write_node(out, tree);
        }
        HashTreeNode::Leaf(leaf) => {
            out.extend_from_slice(&[0x82, 3]);
            bytes(out, leaf);
        }
        HashTreeNode::Pruned(hash) => {
            out.extend_from_slice(&[0x82, 4]);
            bytes(out, hash);
        }
    }
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    head(out, MAJOR_BYTES, b.len());
    out.extend_from_slice(b);
}

/// A CBOR item head: major type and length, in the shortest form.
fn head(out: &mut Vec<u8>, major: u8, n: usize) {
    let m = major << 5;
    let n = n as u64;
    match n {
        0..24 => out.push(m | n as u8),
        24..0x100 => out.extend_from_slice(&[m | 24, n as u8]),
        0x100..0x1_0000 => {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..0x1_0000_0000 => {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_certification::{empty, fork, labeled, leaf, pruned};
    use ic_http_certification::HttpResponse;
    use ic_http_certification::utils::add_v2_certificate_header;

    fn librarys(cert: &[u8], witness: &HashTree, expr_path: &[&[u8]]) -> String {
        let path: Vec<String> = expr_path.iter().map(|s| String::from_utf8(s.to_vec()).unwrap()).collect();
        let mut resp = HttpResponse::builder().build();
        add_v2_certificate_header(cert, &mut resp, witness, &path);
        let (name, value) = resp.headers().last().unwrap().clone();
        assert_eq!(name, CERTIFICATE_HEADER_NAME);
        value
    }

    #[test]
    fn base64_is_the_crates() {
        use base64::Engine;
        for n in 0..300 {
            let input: Vec<u8> = (0..n).map(|i| (i * 97 + n * 13) as u8).collect();
            let mut ours = b"x".to_vec();
            base64(&mut ours, &input);
            let theirs = base64::engine::general_purpose::STANDARD.encode(&input);
            assert_eq!(String::from_utf8(ours).unwrap(), format!("x{theirs}"), "{n} bytes");
        }
    }

    #[test]
    fn header_is_the_librarys() {
        // Labels and leaves across the CBOR length classes (23/24, 255/256,
        // 65535/65536 bytes), every node kind, and nesting.
        let sizes = [0, 1, 23, 24, 255, 256, 65_535, 65_536];
        for (i, &n) in sizes.iter().enumerate() {
            let label = vec![b'a' + i as u8; n];
            let witness = fork(
                labeled(label.clone(), fork(leaf(vec![7; n]), pruned([i as u8; 32]))),
                labeled(b"http_expr".to_vec(), fork(empty(), labeled(b"".to_vec(), pruned([9; 32])))),
            );
            let text = "é".repeat(n / 2);
            let path: [&[u8]; 4] = [b"http_expr", b"f", text.as_bytes(), b"<$>"];
            let cert = vec![i as u8; n];
            assert_eq!(header_value(&cert, &witness, &path), librarys(&cert, &witness, &path), "size {n}");
        }
        assert_eq!(header_value(b"", &empty(), &[]), librarys(b"", &empty(), &[]));
    }
}
