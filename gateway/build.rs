//! Embeds the built web app (`www/dist`) in the gateway wasm, with gzip and
//! Brotli variants made here, once, rather than in the canister at every
//! install (docs/webapp.md §2). `scripts/build-wasm.sh` runs the npm build
//! and points `DEPOT_WWW_DIST` at its output; without the variable (native
//! tests, clippy) no app is embedded and the gateway says so at `/`.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A variant is kept only when it saves at least this share of the bytes:
/// below it, the extra certified entry and wasm bytes buy nothing.
const MIN_SAVING_PERCENT: usize = 10;

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("DEPOT_WWW_DIST: reading {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).expect("gzip in memory");
    e.finish().expect("gzip in memory")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli in memory");
    out
}

fn main() {
    println!("cargo:rerun-if-env-changed=DEPOT_WWW_DIST");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut entries = Vec::new();
    if let Some(dist) = std::env::var_os("DEPOT_WWW_DIST") {
        let dist = PathBuf::from(dist);
        println!("cargo:rerun-if-changed={}", dist.display());
        assert!(dist.join("index.html").is_file(), "DEPOT_WWW_DIST={} has no index.html", dist.display());
        let mut files = Vec::new();
        files_under(&dist, &mut files);
        let variants = out_dir.join("www");
        for file in files {
            let rel = file.strip_prefix(&dist).expect("under dist").to_str().expect("UTF-8 asset names").to_string();
            let bytes = std::fs::read(&file).expect("reading an asset");
            entries.push((rel.clone(), file.clone()));
            for (ext, encoded) in [("gz", gzip(&bytes)), ("br", brotli(&bytes))] {
                if encoded.len() * 100 <= bytes.len() * (100 - MIN_SAVING_PERCENT) {
                    let path = variants.join(format!("{rel}.{ext}"));
                    std::fs::create_dir_all(path.parent().expect("a parent")).expect("OUT_DIR/www");
                    std::fs::write(&path, encoded).expect("writing a variant");
                    entries.push((format!("{rel}.{ext}"), path));
                }
            }
        }
    }
    let mut code = String::from("/// The web app's files (and their `.gz`/`.br` variants), by path under `dist/`.\n");
    code.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for (rel, path) in &entries {
        code.push_str(&format!("    ({rel:?}, include_bytes!({:?})),\n", path.display().to_string()));
    }
    code.push_str("];\n");
    let out = out_dir.join("www_files.rs");
    if std::fs::read_to_string(&out).ok().as_deref() != Some(code.as_str()) {
        std::fs::write(&out, code).expect("writing OUT_DIR/www_files.rs");
    }
}
