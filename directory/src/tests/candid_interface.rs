//! The checked-in `directory.did` must equal the interface the code
//! exports. `UPDATE_DID=1 cargo test -p depot-directory candid` rewrites it.

use candid_parser::utils::{CandidSource, service_equal};
use std::path::PathBuf;

#[test]
fn candid_interface_matches_directory_did() {
    let generated = crate::__export_service();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("directory.did");
    if std::env::var("UPDATE_DID").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).expect("write directory.did");
    }
    let checked_in = std::fs::read_to_string(&path).expect("directory.did exists (UPDATE_DID=1 creates it)");
    if let Err(e) = service_equal(CandidSource::Text(&generated), CandidSource::Text(&checked_in)) {
        panic!("directory.did differs from the code ({e}); run with UPDATE_DID=1 and review the diff.\n{generated}");
    }
}
