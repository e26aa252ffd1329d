//! Subnets: how many devnet runs and which canister ids each one owns.
//!
//! Subnet 0 is the root subnet: the root key is its key, so its
//! certificates carry no delegation (like the NNS subnet on mainnet, or
//! PocketIC's root subnet). Every other subnet signs with its own key and
//! proves it with a delegation that the root subnet signed.
//!
//! Canister ids are `[index as u64 big-endian, 0x01, 0x01]`
//! (`execution::ids`). Like mainnet, subnets own ranges of 2^20 ids. With
//! `n` subnets, subnet `k ≥ 1` owns indices `[k·2^20, (k+1)·2^20)`, and the
//! root subnet owns `[0, 2^20)` plus everything from `n·2^20` up, so
//! mainnet ids that tools expect at fixed places (the ICP ledger at index
//! 2, the cycles ledger at 0x2100001) stay on the root subnet. With one
//! subnet it owns every id.
//!
//! Difference from mainnet: a principal that is not of the canister-id
//! shape (a `specified_id` of another length) belongs to the root subnet.

use candid::Principal;

use crate::execution::ids::{canister_id as canister_principal, canister_index};

/// The most subnets devnet runs (each is a key pair and a range; the cap
/// keeps the ranges clear of the mainnet ids at index 0x2100001 and up).
pub const MAX_SUBNETS: usize = 16;

/// Canister ids per subnet range: mainnet allocates subnets 2^20 at a time.
pub const INDICES_PER_SUBNET: u64 = 1 << 20;

/// One range of canister indices, both ends included.
pub type IndexRange = (u64, u64);

/// The index ranges subnet `k` owns when devnet runs `n` subnets.
pub fn index_ranges(k: usize, n: usize) -> Vec<IndexRange> {
    let (k64, n64) = (k as u64, n as u64);
    match (k, n) {
        (_, 0 | 1) => vec![(0, u64::MAX)],
        (0, _) => vec![(0, INDICES_PER_SUBNET - 1), (n64 * INDICES_PER_SUBNET, u64::MAX)],
        _ => vec![(k64 * INDICES_PER_SUBNET, (k64 + 1) * INDICES_PER_SUBNET - 1)],
    }
}

/// The ranges as principals, for `/subnet/<id>/canister_ranges`.
pub fn principal_ranges(k: usize, n: usize) -> Vec<(Principal, Principal)> {
    index_ranges(k, n).into_iter().map(|(lo, hi)| (canister_principal(lo), canister_principal(hi))).collect()
}

/// The subnet that owns canister `id`.
pub fn subnet_of(id: &Principal, n: usize) -> usize {
    let Some(index) = canister_index(id) else { return 0 };
    if n <= 1 || index >= n as u64 * INDICES_PER_SUBNET {
        return 0;
    }
    (index / INDICES_PER_SUBNET) as usize
}

/// The first index subnet `k` hands out.
pub fn first_index(k: usize) -> u64 {
    k as u64 * INDICES_PER_SUBNET
}

/// The first index at or after `index` in subnet `k`'s ranges, if any.
pub fn at_or_after(k: usize, n: usize, index: u64) -> Option<u64> {
    index_ranges(k, n).into_iter().find_map(|(lo, hi)| (index <= hi).then(|| index.max(lo)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_subnet_owns_every_id() {
        assert_eq!(index_ranges(0, 1), vec![(0, u64::MAX)]);
        assert_eq!(subnet_of(&canister_principal(5 * INDICES_PER_SUBNET), 1), 0);
        assert_eq!(subnet_of(&Principal::anonymous(), 1), 0);
    }

    #[test]
    fn ranges_partition_the_ids() {
        let n = 3;
        for (index, want) in [
            (0, 0),
            (INDICES_PER_SUBNET - 1, 0),
            (INDICES_PER_SUBNET, 1),
            (2 * INDICES_PER_SUBNET - 1, 1),
            (2 * INDICES_PER_SUBNET, 2),
            (3 * INDICES_PER_SUBNET - 1, 2),
            (3 * INDICES_PER_SUBNET, 0),
            (0x2100001, 0),
            (u64::MAX, 0),
        ] {
            assert_eq!(subnet_of(&canister_principal(index), n), want, "index {index:#x}");
            let owner = index_ranges(want, n);
            assert!(owner.iter().any(|(lo, hi)| (*lo..=*hi).contains(&index)));
        }
    }

    #[test]
    fn principal_ranges_order_like_indices() {
        // Clients compare ranges bytewise: big-endian indices keep the order.
        for (lo, hi) in principal_ranges(0, 4).into_iter().chain(principal_ranges(2, 4)) {
            assert!(lo.as_slice() <= hi.as_slice());
        }
    }

    #[test]
    fn allocation_skips_to_the_next_range_and_stops_at_the_end() {
        assert_eq!(at_or_after(0, 3, 1), Some(1));
        assert_eq!(at_or_after(0, 3, INDICES_PER_SUBNET), Some(3 * INDICES_PER_SUBNET));
        assert_eq!(at_or_after(1, 3, 0), Some(INDICES_PER_SUBNET));
        assert_eq!(at_or_after(1, 3, 2 * INDICES_PER_SUBNET), None);
        assert_eq!(at_or_after(0, 1, u64::MAX), Some(u64::MAX));
    }
}
