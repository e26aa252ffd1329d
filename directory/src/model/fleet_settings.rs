//! Settings of the bucket fleet the directory provisions: part of
//! `Settings`, from the same install argument.

use candid::{Nat, Principal};
use depot_api::directory::{BucketFactory, DirectoryInit};
use depot_api::limits::*;
use serde::{Deserialize, Serialize};

/// Capacity of a created bucket when none is set: the bucket's own default.
pub const DEFAULT_CREATED_BUCKET_CAPACITY_BYTES: u64 = 200 * 1024 * 1024 * 1024;
/// Smallest capacity a created bucket may be given (one default chunk).
pub const MIN_BUCKET_CAPACITY_BYTES: u64 = CHUNK_SIZE as u64;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FleetSettings {
    pub bucket_capacity_bytes: u64,
    pub pool_target: u32,
    pub creation_cycles: u128,
    pub directory_reserve_cycles: u128,
    pub bucket_max_files: u64,
    pub bucket_controllers: Vec<Principal>,
    pub freezing_threshold_secs: u64,
    pub top_up_threshold_cycles: u128,
    pub top_up_cycles: u128,
    /// Added later: older settings decode with the management canister.
    #[serde(default)]
    pub factory: BucketFactory,
}

impl Default for FleetSettings {
    fn default() -> Self {
        Self {
            bucket_capacity_bytes: DEFAULT_CREATED_BUCKET_CAPACITY_BYTES,
            pool_target: DEFAULT_BUCKET_POOL_TARGET,
            creation_cycles: DEFAULT_BUCKET_CREATION_CYCLES,
            directory_reserve_cycles: DEFAULT_DIRECTORY_RESERVE_CYCLES,
            bucket_max_files: DEFAULT_BUCKET_MAX_FILES,
            bucket_controllers: vec![],
            freezing_threshold_secs: DEFAULT_BUCKET_FREEZING_THRESHOLD_SECS,
            top_up_threshold_cycles: DEFAULT_BUCKET_TOP_UP_THRESHOLD_CYCLES,
            top_up_cycles: DEFAULT_BUCKET_TOP_UP_CYCLES,
            factory: BucketFactory::ManagementCanister,
        }
    }
}

fn cycles(name: &str, n: &Nat) -> Result<u128, String> {
    u128::try_from(n.0.clone()).map_err(|_| format!("{name} does not fit in 128 bits"))
}

impl FleetSettings {
    pub fn apply(&mut self, init: &DirectoryInit) -> Result<(), String> {
        if let Some(v) = init.bucket_capacity_bytes {
            self.bucket_capacity_bytes = v;
        }
        if let Some(v) = init.bucket_pool_target {
            self.pool_target = v;
        }
        if let Some(v) = &init.bucket_creation_cycles {
            self.creation_cycles = cycles("bucket_creation_cycles", v)?;
        }
        if let Some(v) = &init.directory_reserve_cycles {
            self.directory_reserve_cycles = cycles("directory_reserve_cycles", v)?;
        }
        if let Some(v) = init.bucket_max_files {
            self.bucket_max_files = v;
        }
        if let Some(v) = &init.bucket_controllers {
            self.bucket_controllers = v.clone();
        }
        if let Some(v) = init.bucket_freezing_threshold_secs {
            self.freezing_threshold_secs = v;
        }
        if let Some(v) = &init.bucket_top_up_threshold_cycles {
            self.top_up_threshold_cycles = cycles("bucket_top_up_threshold_cycles", v)?;
        }
        if let Some(v) = &init.bucket_top_up_cycles {
            self.top_up_cycles = cycles("bucket_top_up_cycles", v)?;
        }
        if let Some(v) = &init.bucket_factory {
            self.factory = v.clone();
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.bucket_capacity_bytes < MIN_BUCKET_CAPACITY_BYTES {
            return Err(format!("bucket_capacity_bytes must be ≥ {MIN_BUCKET_CAPACITY_BYTES}"));
        }
        if self.pool_target > MAX_BUCKET_POOL_TARGET {
            return Err(format!("bucket_pool_target must be ≤ {MAX_BUCKET_POOL_TARGET}"));
        }
        if self.creation_cycles < MIN_BUCKET_CREATION_CYCLES {
            return Err(format!("bucket_creation_cycles must be ≥ {MIN_BUCKET_CREATION_CYCLES}"));
        }
        if self.bucket_max_files == 0 {
            return Err("bucket_max_files must be ≥ 1".into());
        }
        if self.bucket_controllers.len() > MAX_BUCKET_CONTROLLERS {
            return Err(format!("at most {MAX_BUCKET_CONTROLLERS} bucket_controllers"));
        }
        if self.bucket_controllers.iter().any(|p| *p == Principal::anonymous()) {
            return Err("the anonymous principal cannot control a bucket".into());
        }
        if self.top_up_cycles == 0 {
            return Err("bucket_top_up_cycles must be ≥ 1".into());
        }
        if let BucketFactory::CyclesMintingCanister { cmc, subnet, subnet_type } = &self.factory {
            if *cmc == Principal::anonymous() || *cmc == Principal::management_canister() {
                return Err("bucket_factory: not a cycles minting canister id".into());
            }
            if subnet.is_some() && subnet_type.is_some() {
                return Err("bucket_factory: name a subnet or a subnet type, not both".into());
            }
            if subnet_type.as_ref().is_some_and(|t| t.is_empty() || t.len() > MAX_SUBNET_TYPE_BYTES) {
                return Err(format!("bucket_factory: subnet_type must be 1..={MAX_SUBNET_TYPE_BYTES} bytes"));
            }
        }
        Ok(())
    }

    /// Soft and hard limits of a bucket created with this capacity.
    pub fn created_limits(&self) -> (u64, u64) {
        let hard = self.bucket_capacity_bytes;
        ((hard as u128 * BUCKET_SOFT_LIMIT_PERCENT as u128 / 100) as u64, hard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_is_checked_at_its_edge() {
        let ok = |init: DirectoryInit| {
            let mut f = FleetSettings::default();
            f.apply(&init).and_then(|_| f.validate())
        };
        assert_eq!(ok(DirectoryInit::default()), Ok(()));
        let cap = |v| DirectoryInit { bucket_capacity_bytes: Some(v), ..Default::default() };
        assert!(ok(cap(MIN_BUCKET_CAPACITY_BYTES)).is_ok());
        assert!(ok(cap(MIN_BUCKET_CAPACITY_BYTES - 1)).is_err());
        let pool = |v| DirectoryInit { bucket_pool_target: Some(v), ..Default::default() };
        assert!(ok(pool(0)).is_ok(), "no pool: buckets are made when needed");
        assert!(ok(pool(MAX_BUCKET_POOL_TARGET)).is_ok());
        assert!(ok(pool(MAX_BUCKET_POOL_TARGET + 1)).is_err());
        let creation = |v: u128| DirectoryInit { bucket_creation_cycles: Some(Nat::from(v)), ..Default::default() };
        assert!(ok(creation(MIN_BUCKET_CREATION_CYCLES)).is_ok());
        assert!(ok(creation(MIN_BUCKET_CREATION_CYCLES - 1)).is_err());
        let huge = Nat::from(u128::MAX) + Nat::from(1u8);
        assert!(ok(DirectoryInit { directory_reserve_cycles: Some(huge), ..Default::default() }).is_err());
        let files = |v| DirectoryInit { bucket_max_files: Some(v), ..Default::default() };
        assert!(ok(files(1)).is_ok());
        assert!(ok(files(0)).is_err());
        let ctl = |n: usize| DirectoryInit {
            bucket_controllers: Some((0..n).map(|i| Principal::from_slice(&[i as u8 + 1, 0xaa])).collect()),
            ..Default::default()
        };
        assert!(ok(ctl(MAX_BUCKET_CONTROLLERS)).is_ok());
        assert!(ok(ctl(MAX_BUCKET_CONTROLLERS + 1)).is_err());
        let anon = DirectoryInit { bucket_controllers: Some(vec![Principal::anonymous()]), ..Default::default() };
        assert!(ok(anon).is_err());
        let top = |v: u128| DirectoryInit { bucket_top_up_cycles: Some(Nat::from(v)), ..Default::default() };
        assert!(ok(top(1)).is_ok());
        assert!(ok(top(0)).is_err());
        let cmc = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 4, 1, 1]);
        let factory = |subnet: Option<Principal>, subnet_type: Option<&str>| DirectoryInit {
            bucket_factory: Some(BucketFactory::CyclesMintingCanister {
                cmc,
                subnet,
                subnet_type: subnet_type.map(String::from),
            }),
            ..Default::default()
        };
        assert!(ok(factory(None, None)).is_ok());
        assert!(ok(factory(Some(cmc), None)).is_ok());
        assert!(ok(factory(None, Some(&"a".repeat(MAX_SUBNET_TYPE_BYTES)))).is_ok());
        assert!(ok(factory(None, Some(&"a".repeat(MAX_SUBNET_TYPE_BYTES + 1)))).is_err());
        assert!(ok(factory(None, Some(""))).is_err());
        assert!(ok(factory(Some(cmc), Some("application"))).is_err(), "not both");
        let anon =
            BucketFactory::CyclesMintingCanister { cmc: Principal::anonymous(), subnet: None, subnet_type: None };
        assert!(ok(DirectoryInit { bucket_factory: Some(anon), ..Default::default() }).is_err());
    }

    #[test]
    fn created_buckets_drain_at_ninety_percent() {
        let f = FleetSettings { bucket_capacity_bytes: 1000 * 1024, ..Default::default() };
        assert_eq!(f.created_limits(), (900 * 1024, 1000 * 1024));
    }
}
