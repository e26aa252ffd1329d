//! Canister id allocation, like a local replica: canister number `n` gets
//! the principal bytes `[n as u64 big-endian, 0x01, 0x01]`, so the first id is
//! `rwlgt-iiaaa-aaaaa-aaaaa-cai`, then `rrkah-fqaaa-aaaaa-aaaaq-cai`, ...

use candid::Principal;

pub fn canister_id(index: u64) -> Principal {
    let mut bytes = index.to_be_bytes().to_vec();
    bytes.extend_from_slice(&[0x01, 0x01]);
    Principal::from_slice(&bytes)
}

/// The index of a principal that has the canister id shape, if it has it.
pub fn canister_index(p: &Principal) -> Option<u64> {
    let b = p.as_slice();
    if b.len() == 10 && b[8] == 1 && b[9] == 1 {
        let mut idx = [0u8; 8];
        idx.copy_from_slice(&b[..8]);
        Some(u64::from_be_bytes(idx))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_replica_ids() {
        assert_eq!(canister_id(0).to_text(), "rwlgt-iiaaa-aaaaa-aaaaa-cai");
        assert_eq!(canister_id(1).to_text(), "rrkah-fqaaa-aaaaa-aaaaq-cai");
        assert_eq!(canister_index(&canister_id(77)), Some(77));
        assert_eq!(canister_index(&Principal::anonymous()), None);
    }
}
