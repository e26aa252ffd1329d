//! The bucket's storage, free of ic-cdk so that it runs in native tests:
//! records and their encodings, the chunk slab, the stable layout.

pub mod file_record_bytes;
pub mod memory;
pub mod records;
pub mod response_set;
pub mod sha256_pair;
pub mod sha256_stream;
pub mod slab;
pub mod store;
pub mod view;

pub use store::BucketStore;
pub use view::FileView;
