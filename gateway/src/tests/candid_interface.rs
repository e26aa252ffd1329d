//! `gateway.did` equals the interface the code exports and stays
//! compatible with `released.did`. After an intended change:
//! `UPDATE_DID=1 cargo test -p depot-gateway candid`.

use depot_api::did_check::check_interface;
use std::path::Path;

#[test]
fn candid_interface_matches_gateway_did() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    check_interface(&crate::__export_service(), &dir.join("gateway.did"), &dir.join("released.did"), &[]);
}
