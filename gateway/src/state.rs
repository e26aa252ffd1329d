//! The gateway's state: its settings, in stable memory behind one
//! `MemoryManager` (MemoryId 0: `CONFIG_MEMORY`, never reused), so an
//! upgrade keeps them without an argument.

use candid::Principal;
use depot_api::gateway::GatewayInit;
use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};
use ic_stable_structures::{DefaultMemoryImpl, StableCell};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

pub const CONFIG_MEMORY: MemoryId = MemoryId::new(0);

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Config {
    /// Set at install; `None` only before it.
    pub init: Option<Settings>,
}

/// The install argument with the directory resolved (the field names are
/// those of the `GatewayInit` older gateways stored, so their config loads).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub directory: Principal,
    #[serde(default)]
    pub local_network: Option<String>,
}

impl Settings {
    /// `args` checked, its directory given or else `env_directory` (from
    /// `PUBLIC_CANISTER_ID:directory`); why not, for the install to fail.
    pub fn resolve(args: GatewayInit, env_directory: Option<Result<Principal, String>>) -> Result<Settings, String> {
        if let Some(origin) = &args.local_network {
            // The origin goes into the CSP and the app's config: refuse the
            // install rather than serve a policy with a hole in it.
            if depot_api::gateway::local_network_port(origin).is_none() {
                return Err(format!(
                    "local_network {origin:?} is not http://localhost:<port> or http://127.0.0.1:<port>"
                ));
            }
        }
        let directory = match (args.directory, env_directory) {
            (Some(d), _) => d,
            (None, Some(env)) => env?,
            (None, None) => {
                return Err("no directory: name it in GatewayInit, or deploy with icp-cli beside a canister named \"directory\" (PUBLIC_CANISTER_ID:directory)".into());
            }
        };
        Ok(Settings { directory, local_network: args.local_network })
    }
}
depot_api::cbor_storable!(Config);

type Memory = VirtualMemory<DefaultMemoryImpl>;

thread_local! {
    static MANAGER: MemoryManager<DefaultMemoryImpl> = MemoryManager::init(DefaultMemoryImpl::default());
    static CONFIG: RefCell<StableCell<Config, Memory>> =
        RefCell::new(StableCell::init(MANAGER.with(|m| m.get(CONFIG_MEMORY)), Config::default()));
}

pub fn set_init(init: Settings) {
    CONFIG.with_borrow_mut(|c| c.set(Config { init: Some(init) }));
}

/// The install argument (`None` only before install).
pub fn init_args() -> Option<Settings> {
    CONFIG.with_borrow(|c| c.get().init.clone())
}

/// The directory whose shares this gateway resolves.
pub fn directory() -> Option<Principal> {
    CONFIG.with_borrow(|c| c.get().init.as_ref().map(|i| i.directory))
}

#[cfg(test)]
mod tests {
    use super::Settings;
    use candid::Principal;
    use depot_api::gateway::GatewayInit;

    fn id(n: u8) -> Principal {
        Principal::from_slice(&[n; 10])
    }

    #[test]
    fn the_directory_comes_from_the_argument_else_from_icp_cli_else_the_install_fails() {
        let given = GatewayInit { directory: Some(id(1)), local_network: None };
        assert_eq!(Settings::resolve(given.clone(), Some(Ok(id(2)))).unwrap().directory, id(1), "the argument wins");
        assert_eq!(Settings::resolve(given, Some(Err("bad".into()))).unwrap().directory, id(1));
        assert_eq!(Settings::resolve(GatewayInit::default(), Some(Ok(id(2)))).unwrap().directory, id(2));
        let bad = Settings::resolve(GatewayInit::default(), Some(Err("not a principal".into()))).unwrap_err();
        assert_eq!(bad, "not a principal");
        let none = Settings::resolve(GatewayInit::default(), None).unwrap_err();
        assert!(none.contains("PUBLIC_CANISTER_ID:directory"), "{none}");
    }

    #[test]
    fn a_local_network_must_be_a_plain_local_origin() {
        let local = |o: &str| GatewayInit { directory: Some(id(1)), local_network: Some(o.into()) };
        let ok = Settings::resolve(local("http://localhost:8000"), None).unwrap();
        assert_eq!(ok.local_network.as_deref(), Some("http://localhost:8000"));
        for bad in ["https://localhost:8000", "http://evil.com:1", "http://localhost:8000/x", "http://localhost:"] {
            let e = Settings::resolve(local(bad), None).unwrap_err();
            assert!(e.contains("is not http://localhost:<port>"), "{bad}: {e}");
        }
    }

    /// A config stored by a gateway whose `GatewayInit` held a plain
    /// principal loads as the new `Settings`.
    #[test]
    fn configs_stored_before_the_optional_directory_still_load() {
        #[derive(serde::Serialize)]
        struct OldInit {
            directory: Principal,
            local_network: Option<String>,
        }
        #[derive(serde::Serialize)]
        struct OldConfig {
            init: Option<OldInit>,
        }
        let old =
            OldConfig { init: Some(OldInit { directory: id(7), local_network: Some("http://localhost:4943".into()) }) };
        use ic_stable_structures::Storable;
        let bytes = depot_api::storable::cbor_encode(&old);
        let config = super::Config::from_bytes(std::borrow::Cow::Owned(bytes));
        let settings = config.init.unwrap();
        assert_eq!((settings.directory, settings.local_network.as_deref()), (id(7), Some("http://localhost:4943")));
    }
}
