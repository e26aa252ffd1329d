//! The checked-in `bucket.did` must equal the interface the code exports.
//! Run with `UPDATE_DID=1` to rewrite it after an intended change.

#[test]
fn did_file_matches_the_code() {
    let generated = crate::__export_service();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bucket.did");
    if std::env::var("UPDATE_DID").is_ok() {
        std::fs::write(path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    candid_parser::utils::service_equal(
        candid_parser::utils::CandidSource::Text(&generated),
        candid_parser::utils::CandidSource::Text(&checked_in),
    )
    .unwrap_or_else(|e| panic!("bucket.did differs from the code ({e}); run UPDATE_DID=1 cargo test -p depot-bucket"));
}
