//! Counters and the id generator's secret seed.

use super::storable::cbor_storable;
use depot_api::ids::ID_BYTES;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Domain tags of the id generator, so a file key and an upload id drawn
/// from the same counter value still differ.
pub const ID_DOMAIN_FILE: &[u8] = b"depot-file-key";
pub const ID_DOMAIN_UPLOAD: &[u8] = b"depot-upload-id";
pub const ID_DOMAIN_SHARE: &[u8] = b"depot-share-id";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Runtime {
    /// 32 bytes from `raw_rand`, fetched by a one-shot timer after install.
    /// Until it exists no ids can be drawn ("initialising").
    pub rng_seed: Option<[u8; 32]>,
    /// Number of ids drawn so far.
    pub rng_counter: u64,
    /// Key id of the newest signing key (0: none yet; the first is 1).
    pub last_kid: u32,
    /// Incremented whenever the public key set changes; buckets that
    /// accepted an older version get `set_key_ring` again.
    pub keys_version: u64,
    /// Where the storage-charging job goes on (`logic::billing::accrue_due`).
    /// Added later: older runtimes decode with none (start from the first).
    #[serde(default)]
    pub accrual_cursor: Option<candid::Principal>,
    /// Sequence number of the next provisioning journal entry.
    #[serde(default)]
    pub next_provision_seq: u64,
    /// Buckets the directory created and registered, over its life.
    #[serde(default)]
    pub buckets_created: u64,
    /// Cycles sent to buckets as top-ups, over the directory's life.
    #[serde(default)]
    pub top_up_cycles_sent: u128,
    /// Where the fleet-status job goes on (`jobs::fleet`).
    #[serde(default)]
    pub fleet_status_cursor: Option<candid::Principal>,
    /// Buckets' `reserved_files` were counted from the upload sessions
    /// (records written before the counter existed have none).
    #[serde(default)]
    pub reserved_files_counted: bool,
    /// Buckets are sent key rings with their MAC keys (`set_key_ring`), not
    /// public keys alone. Added later: older runtimes decode without it,
    /// and the upgrade bumps `keys_version` once so every bucket gets its
    /// ring (`lifecycle::send_key_rings_once`).
    #[serde(default)]
    pub key_rings_sent: bool,
    /// Why no bucket can be created, as the provisioning job last found it
    /// (none: it can).
    #[serde(default)]
    pub provision_paused: Option<String>,
}
cbor_storable!(Runtime);

impl Runtime {
    /// 16 unpredictable bytes: SHA-256(seed ‖ counter ‖ domain), truncated.
    /// Unpredictable to anyone who does not know the seed, unique because
    /// the counter never repeats. `None` while the seed is missing.
    pub fn draw_id(&mut self, domain: &[u8]) -> Option<[u8; ID_BYTES]> {
        let seed = self.rng_seed?;
        let mut h = Sha256::new();
        h.update(seed);
        h.update(self.rng_counter.to_be_bytes());
        h.update(domain);
        self.rng_counter += 1;
        let digest = h.finalize();
        Some(digest[..ID_BYTES].try_into().expect("digest is 32 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_need_a_seed_and_never_repeat() {
        let mut r = Runtime::default();
        assert_eq!(r.draw_id(ID_DOMAIN_FILE), None);
        r.rng_seed = Some([1; 32]);
        let a = r.draw_id(ID_DOMAIN_FILE).unwrap();
        let b = r.draw_id(ID_DOMAIN_FILE).unwrap();
        assert_ne!(a, b);
        assert_eq!(r.rng_counter, 2);
        let mut r2 = Runtime { rng_seed: Some([1; 32]), ..Default::default() };
        assert_ne!(r2.draw_id(ID_DOMAIN_UPLOAD).unwrap(), a);
    }
}
