//! Certification: the BLS root key that signs every certificate, the
//! labeled state tree that certificates reveal, and the representation-
//! independent hash that names requests and signs query responses.
//!
//! devnet has a single subnet and no NNS delegation: the root key signs
//! certificates directly, exactly as a root-subnet replica would.

mod certifier;
mod node_keys;
mod request_id;
mod root_key;
mod tree;

pub use certifier::{Certifier, SubnetKeys, leb128_u64};
pub use node_keys::NodeKey;
pub use request_id::{RequestId, RiHashError, hash_of_map, representation_independent_hash};
pub use root_key::{DER_PREFIX, RootKey};
pub use tree::{StateTree, TreeError};
