//! Builds `http_request` replies certified with response verification v2,
//! using a data certificate from the devnet's own certifier (what
//! `ic0.data_certificate` would hand the canister).

use candid::Principal;
use depot_devnet::certification::Certifier;
use ic_http_certification::{
    DefaultCelBuilder, DefaultResponseCertification, HttpCertification, HttpCertificationPath, HttpCertificationTree,
    HttpCertificationTreeEntry, HttpResponse, utils::add_v2_certificate_header,
};

/// A certified reply, the same reply with a body the certificate does not
/// cover, and the root hash the canister must hold as certified data.
pub struct Certified {
    pub reply: Vec<u8>,
    pub tampered_reply: Vec<u8>,
    pub certified_data: [u8; 32],
}

const EXPR_HEADER: &str = "IC-CertificateExpression";

pub fn certified_reply(certifier: &Certifier, canister: Principal, time_ns: u64, path: &str, body: &[u8]) -> Certified {
    let (response, certified_data) = certified_response(certifier, canister, time_ns, path, body);
    let mut tampered_body = body.to_vec();
    tampered_body.extend_from_slice(b" (tampered)");
    let tampered = HttpResponse::ok(tampered_body, response.headers().to_vec()).build();
    Certified {
        reply: candid::encode_one(&response).expect("candid"),
        tampered_reply: candid::encode_one(&tampered).expect("candid"),
        certified_data,
    }
}

/// The certified response (with its `IC-Certificate` header) and the root
/// hash to set as certified data.
pub fn certified_response(
    certifier: &Certifier,
    canister: Principal,
    time_ns: u64,
    path: &str,
    body: &[u8],
) -> (HttpResponse<'static>, [u8; 32]) {
    let cel = DefaultCelBuilder::response_only_certification()
        .with_response_certification(DefaultResponseCertification::certified_response_headers(vec!["Content-Type"]))
        .build();
    let headers =
        vec![("Content-Type".to_string(), "text/plain".to_string()), (EXPR_HEADER.to_string(), cel.to_string())];
    let mut response = HttpResponse::ok(body.to_vec(), headers.clone()).build();
    let certification = HttpCertification::response_only(&cel, &response, None).expect("certification");
    let tree_path = HttpCertificationPath::exact(path);
    let entry = HttpCertificationTreeEntry::new(&tree_path, certification);
    let mut tree = HttpCertificationTree::default();
    tree.insert(&entry);
    let certified_data = tree.root_hash();
    let witness = tree.witness(&entry, path).expect("witness");
    let certificate = certifier.data_certificate(canister, &certified_data, time_ns);
    add_v2_certificate_header(&certificate, &mut response, &witness, &tree_path.to_expr_path());
    (response, certified_data)
}

/// An uncertified reply asking the gateway to upgrade to `http_request_update`.
pub fn upgrade_reply() -> Vec<u8> {
    let response = HttpResponse::ok(Vec::<u8>::new(), vec![]).with_upgrade(true).build();
    candid::encode_one(&response).expect("candid")
}

pub fn plain_reply(body: &[u8]) -> Vec<u8> {
    let response = HttpResponse::ok(body.to_vec(), vec![("Content-Type".into(), "text/plain".into())]).build();
    candid::encode_one(&response).expect("candid")
}
