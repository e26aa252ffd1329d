//! The bucket's state and the rules that change it, free of ic-cdk so every
//! rule runs in native tests.

pub mod memory;
pub mod records;
pub mod sha256_stream;
pub mod slab;
pub mod store;

pub use store::BucketStore;
