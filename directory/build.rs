//! Embeds the gzipped bucket wasm the directory installs in the buckets it
//! creates (docs/provisioning.md §1). `scripts/build-wasm.sh` builds the
//! bucket first and points `DEPOT_BUCKET_WASM_GZ` at it: Cargo cannot depend
//! on another crate's wasm artifact. Without the variable (native tests,
//! clippy) nothing is embedded, and provisioning refuses to run.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=DEPOT_BUCKET_WASM_GZ");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("bucket.wasm.gz");
    let bytes = match std::env::var_os("DEPOT_BUCKET_WASM_GZ") {
        Some(path) => {
            let path = PathBuf::from(path);
            println!("cargo:rerun-if-changed={}", path.display());
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("DEPOT_BUCKET_WASM_GZ={}: {e}", path.display()));
            assert!(
                bytes.starts_with(&[0x1f, 0x8b]),
                "DEPOT_BUCKET_WASM_GZ={} is not gzipped (scripts/build-wasm.sh makes it)",
                path.display()
            );
            bytes
        }
        None => vec![],
    };
    // Written only when changed, so an unchanged wasm rebuilds nothing.
    if std::fs::read(&out).ok().as_deref() != Some(&bytes[..]) {
        std::fs::write(&out, &bytes).expect("writing OUT_DIR/bucket.wasm.gz");
    }
}
