//! Corpus replay and a small bounded fuzzing pass over the `depot-api`
//! targets (`scripts/fuzz.sh` runs the long pass).

use depot_api::methods;
use depot_fuzz::api_targets::{self, decode_args};
use depot_fuzz::engine::{Rng, Target, test_pass};

#[test]
fn corpus_and_bounded_pass() {
    test_pass(&api_targets::targets(), 256);
}

#[test]
fn every_method_has_a_candid_target() {
    let names: Vec<String> = api_targets::targets().iter().map(|t| t.name().to_string()).collect();
    for m in methods::bucket::ALL {
        assert!(names.contains(&format!("candid_bucket_{}", m.name)), "no fuzz target for bucket {}", m.name);
    }
    for m in methods::directory::ALL {
        assert!(names.contains(&format!("candid_directory_{}", m.name)), "no fuzz target for directory {}", m.name);
    }
    assert_eq!(
        names.iter().filter(|n| n.starts_with("candid_")).count(),
        methods::bucket::ALL.len() + methods::directory::ALL.len()
    );
}

/// The grammars reach past the first checks: most generated URLs parse,
/// some verify; most generated Candid arguments decode.
#[test]
fn generators_reach_deep() {
    let mut rng = Rng::new(7);
    let (mut parsed, mut verified) = (0, 0);
    for _ in 0..1000 {
        let u = String::from_utf8(api_targets::gen_url(&mut rng)).unwrap();
        if let Ok(s) = depot_api::url::SignedUrl::parse(&u) {
            parsed += 1;
            if s.verify(&api_targets::keyset(), api_targets::bucket_id(), 0).is_ok() {
                verified += 1;
            }
        }
    }
    assert!(parsed > 300 && verified > 200, "parsed {parsed}, verified {verified} of 1000");
    let mime = api_targets::mime_target();
    let accepted = (0..1000)
        .filter(|_| depot_api::mime_type::canonical_mime(&String::from_utf8_lossy(&(mime.generate)(&mut rng))).is_ok())
        .count();
    assert!(accepted > 50, "{accepted} of 1000 generated MIME types accepted");
    let mut decoded = 0;
    let mut total = 0;
    for t in api_targets::candid_targets() {
        let Target::Bytes(b) = t else { unreachable!() };
        for _ in 0..50 {
            total += 1;
            let input = (b.generate)(&mut rng);
            if depot_fuzz::engine::run_one(&b, &input).is_ok() && !input.is_empty() && input.starts_with(b"DIDL") {
                decoded += 1;
            }
        }
    }
    assert!(decoded * 2 > total, "{decoded} of {total}");
    // the token target: its generator's valid share decodes
    let ok = (0..200)
        .filter(|_| {
            let mut r = rng.clone();
            rng.next_u64();
            let b = (api_targets::token_target().generate)(&mut r);
            decode_args::<(depot_api::token::UploadToken,)>(&b, &api_targets::strict_config()).is_ok()
        })
        .count();
    assert!(ok > 100, "{ok} of 200 tokens decode");
}
