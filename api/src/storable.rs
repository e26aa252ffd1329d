//! The one record codec of both canisters' stable structures (feature
//! `storable`): CBOR through serde (ciborium). Self-describing, so a field
//! added later with `#[serde(default)]` still decodes old records, and a
//! removed field is skipped. Chosen over Candid by measurement
//! (`cargo test -p depot-bucket --release codec_figures -- --nocapture`, a
//! bucket `FileRecord`): CBOR 451 B, encode 1.8 µs, decode 6.9 µs; Candid
//! 401 B, 6.8 µs, 8.2 µs. Keys are not encoded with this: they are fixed
//! binary layouts whose byte order is the iteration order. Nor are the
//! records read on hot paths, which have binary layouts of their own (the
//! directory's file records, the bucket's `FileRecord`); those still
//! decode the CBOR records earlier releases wrote.

pub use ic_stable_structures;

pub fn cbor_encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail; a serde error here is a programming bug.
    ciborium::into_writer(value, &mut out).expect("CBOR encoding of a state record failed");
    out
}

pub fn cbor_decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> T {
    // A record that does not decode means corrupted state: trapping keeps the
    // canister from acting on garbage (the message is rolled back).
    ciborium::from_reader(bytes).expect("CBOR decoding of a state record failed")
}

/// Implements `Storable` (unbounded, CBOR) for a serde type.
#[macro_export]
macro_rules! cbor_storable {
    ($t:ty) => {
        impl $crate::storable::ic_stable_structures::Storable for $t {
            fn to_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
                std::borrow::Cow::Owned($crate::storable::cbor_encode(self))
            }
            fn into_bytes(self) -> Vec<u8> {
                $crate::storable::cbor_encode(&self)
            }
            fn from_bytes(bytes: std::borrow::Cow<[u8]>) -> Self {
                $crate::storable::cbor_decode(&bytes)
            }
            const BOUND: $crate::storable::ic_stable_structures::storable::Bound =
                $crate::storable::ic_stable_structures::storable::Bound::Unbounded;
        }
    };
}
