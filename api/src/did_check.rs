//! The interface test both canisters run (feature `did-check`, enabled by
//! their dev-dependencies only): the checked-in `.did` equals what the code
//! exports, the code stays compatible with the last released `.did`, and
//! every typed method descriptor names a method of the service in its mode.
//!
//! `UPDATE_DID=1` rewrites the checked-in `.did` after an intended change,
//! but never the released one: a change that breaks released clients fails
//! until someone decides to release it and copies the file by hand.

use crate::methods::{MethodName, Mode};
use candid::types::{FuncMode, TypeInner};
use candid_parser::utils::{CandidSource, instantiate_candid, service_compatible, service_equal};
use std::path::Path;

/// Panics with the reason when any check fails.
pub fn check_interface(generated: &str, did: &Path, released: &Path, methods: &[MethodName]) {
    let name = did.display();
    if std::env::var("UPDATE_DID").as_deref() == Ok("1") {
        std::fs::write(did, generated).unwrap_or_else(|e| panic!("write {name}: {e}"));
    }
    let checked_in = std::fs::read_to_string(did).unwrap_or_else(|e| panic!("read {name}: {e}"));
    if let Err(e) = service_equal(CandidSource::Text(generated), CandidSource::Text(&checked_in)) {
        panic!("{name} differs from the code ({e}); run with UPDATE_DID=1 and review the diff.\n{generated}");
    }
    let old = std::fs::read_to_string(released).unwrap_or_else(|e| panic!("read {}: {e}", released.display()));
    if let Err(e) = service_compatible(CandidSource::Text(generated), CandidSource::Text(&old)) {
        panic!("the interface breaks clients of the released {} ({e})", released.display());
    }
    check_descriptors(generated, methods);
}

/// Every descriptor is a method of the service, with the same mode.
pub fn check_descriptors(did: &str, methods: &[MethodName]) {
    let (_, (env, service)) = instantiate_candid(CandidSource::Text(did)).expect("the interface parses");
    let declared = env.as_service(&service).expect("a service");
    for m in methods {
        let (_, ty) = declared
            .iter()
            .find(|(n, _)| n == m.name)
            .unwrap_or_else(|| panic!("descriptor {} names no method of the service", m.name));
        let func = env.as_func(ty).expect("a method is a function");
        let is_query = func.modes.iter().any(|f| matches!(f, FuncMode::Query | FuncMode::CompositeQuery));
        let mode = if is_query { Mode::Query } else { Mode::Update };
        assert_eq!(mode, m.mode, "descriptor {} has the wrong mode", m.name);
        assert!(matches!(ty.as_ref(), TypeInner::Func(_) | TypeInner::Var(_)), "{} is a function", m.name);
    }
}
