//! The paired compression against the `sha2` crate's, one state at a time.

use super::*;
use proptest::prelude::*;
use sha2::digest::generic_array::GenericArray;

fn reference(state: &[u32; 8], blocks: &[u8]) -> [u32; 8] {
    let mut s = *state;
    for block in blocks.chunks_exact(64) {
        sha2::compress256(&mut s, std::slice::from_ref(GenericArray::from_slice(block)));
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Two unrelated states (any words: mid-stream states are arbitrary)
    /// over the same 0 to 9 blocks each end where `sha2` takes them.
    #[test]
    fn both_states_match_sha2(
        first in any::<[u32; 8]>(),
        second in any::<[u32; 8]>(),
        blocks in (0usize..10).prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n * 64)),
    ) {
        let (mut a, mut b) = (first, second);
        compress_pair(&mut a, &mut b, &blocks);
        prop_assert_eq!(a, reference(&first, &blocks));
        prop_assert_eq!(b, reference(&second, &blocks));
    }
}

#[test]
fn no_blocks_changes_nothing() {
    let (mut a, mut b) = ([1; 8], [2; 8]);
    compress_pair(&mut a, &mut b, &[]);
    assert_eq!((a, b), ([1; 8], [2; 8]));
}

#[test]
fn words_with_every_bit_set_carry_correctly() {
    // All-ones words make every 32-bit addition wrap, and a carry leaking
    // into the neighbouring half would show here.
    let (first, second) = ([u32::MAX; 8], [0x8000_0001; 8]);
    let blocks = [0xff; 128];
    let (mut a, mut b) = (first, second);
    compress_pair(&mut a, &mut b, &blocks);
    assert_eq!(a, reference(&first, &blocks));
    assert_eq!(b, reference(&second, &blocks));
}

#[test]
#[should_panic(expected = "compress_pair takes whole blocks")]
fn partial_block_is_refused() {
    compress_pair(&mut [0; 8], &mut [0; 8], &[0; 100]);
}
