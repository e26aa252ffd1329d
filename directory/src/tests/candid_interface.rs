//! `directory.did` equals the interface the code exports, stays compatible
//! with `released.did`, and names every method descriptor of
//! `depot_api::methods`. After an intended change:
//! `UPDATE_DID=1 cargo test -p depot-directory candid`.

use depot_api::did_check::check_interface;
use depot_api::methods;
use std::path::Path;

#[test]
fn candid_interface_matches_directory_did() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    check_interface(
        &crate::__export_service(),
        &dir.join("directory.did"),
        &dir.join("released.did"),
        &methods::directory::ALL,
    );
}
