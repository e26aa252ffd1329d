//! devnet as icp-cli's network launcher (`ICP_CLI_NETWORK_LAUNCHER_PATH`):
//! the system canisters icp-cli calls right after a start, at their mainnet
//! ids and funded as PocketIC funds them, and the status file icp-cli waits
//! for. The command line is in `main.rs`; what icp-cli expects is in
//! devnet/README.md, "icp-cli".
//!
//! The system canisters are devnet's TEST-ONLY stand-ins
//! (devnet/test-canisters, built by scripts/build-wasm.sh): the official
//! ledger wasm cannot be downloaded where devnet runs.

use std::path::{Path, PathBuf};

use candid::{CandidType, Encode, Nat, Principal};
use serde_bytes::ByteBuf;

use crate::{Devnet, InstallMode};

/// The ICP ledger's mainnet id (icp-cli seeds ICP through its legacy `transfer`).
pub const ICP_LEDGER_ID: &str = "ryjl3-tyaaa-aaaaa-aaaba-cai";
/// The cycles ledger's mainnet id (icp-cli seeds cycles and creates canisters through it).
pub const CYCLES_LEDGER_ID: &str = "um5iw-rqaaa-aaaaq-qaaba-cai";
/// The cycles minting canister's mainnet id.
pub const CMC_ID: &str = "rkp4c-7iaaa-aaaaa-aaaca-cai";
/// The NNS governance canister's id: the ICP ledger's minting account, as on mainnet.
pub const GOVERNANCE_ID: &str = "rrkah-fqaaa-aaaaa-aaaaq-cai";
/// The NNS root canister's id: controller of the system canisters, as on
/// mainnet (no canister runs there, so nobody can change them).
pub const ROOT_ID: &str = "r7inp-6aaaa-aaaaa-aaabq-cai";

/// User canisters get ids from this index on: the ones below are the NNS
/// canisters' on mainnet (registry, governance, ICP ledger, root, CMC, …),
/// which must not name a canister of the user's (the governance id is the
/// ICP ledger's minting account).
pub const FIRST_USER_CANISTER_INDEX: u64 = 16;

/// ICP the anonymous principal starts with: icp-cli transfers from it to
/// every identity (PocketIC gives it a billion ICP, in e8s).
pub const ANONYMOUS_ICP_E8S: u64 = 1_000_000_000 * 100_000_000;
/// Cycles-ledger balance the anonymous principal starts with (icp-cli sends
/// each identity 1,000 T cycles from it).
pub const ANONYMOUS_CYCLES: u128 = 1_000_000_000_000_000_000_000_000;
/// Cycles each system canister holds; the cycles ledger's back every
/// balance it hands out as a new canister's cycles.
pub const SYSTEM_CANISTER_CYCLES: u128 = 2 * ANONYMOUS_CYCLES;
/// The ICP ledger's fee (e8s), as on mainnet.
pub const ICP_FEE_E8S: u64 = 10_000;

/// The stand-in wasm files, by the names scripts/build-wasm.sh gives them.
const ICP_LEDGER_WASM: &str = "test_icrc_ledger.wasm";
const CYCLES_LEDGER_WASM: &str = "test_cycles_ledger.wasm";
const CMC_WASM: &str = "test_cmc.wasm";

/// Where the stand-ins' wasm is looked for: `DEVNET_SYSTEM_WASM_DIR`, else
/// the cargo target directory the devnet binary was built in.
pub fn system_wasm_dir(exe: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("DEVNET_SYSTEM_WASM_DIR") {
        return PathBuf::from(dir);
    }
    // <target>/debug/devnet → <target>/wasm32-unknown-unknown/release
    let target = exe.parent().and_then(Path::parent).unwrap_or(Path::new("."));
    target.join("wasm32-unknown-unknown").join("release")
}

#[derive(CandidType)]
struct Account {
    owner: Principal,
    subaccount: Option<ByteBuf>,
}

/// `test-icrc-ledger`'s install argument.
#[derive(CandidType)]
struct TokenInit {
    name: String,
    symbol: String,
    decimals: u8,
    fee: Nat,
    minting_account: Account,
    initial_balances: Vec<(Account, Nat)>,
}

/// `test-cmc`'s install argument.
#[derive(CandidType)]
struct CmcInit {
    default_subnets: Vec<Principal>,
}

/// `test-cycles-ledger`'s install argument.
#[derive(CandidType)]
struct CyclesLedgerInit {
    initial_balances: Vec<(Account, Nat)>,
}

fn principal(text: &str) -> Principal {
    Principal::from_text(text).expect("a constant principal")
}

fn anonymous() -> Account {
    Account { owner: Principal::anonymous(), subaccount: None }
}

/// Creates the ICP ledger, the cycles ledger and the CMC at their mainnet
/// ids, before any other canister, with the anonymous principal funded.
pub fn install_system_canisters(d: &mut Devnet, wasm_dir: &Path) -> Result<(), String> {
    let read = |name: &str| {
        let path = wasm_dir.join(name);
        std::fs::read(&path).map_err(|e| {
            format!(
                "cannot read {} ({e}): build the system canisters with scripts/build-wasm.sh, \
                 or point DEVNET_SYSTEM_WASM_DIR at their directory",
                path.display()
            )
        })
    };
    let icp = TokenInit {
        name: "Internet Computer".into(),
        symbol: "ICP".into(),
        decimals: 8,
        fee: Nat::from(ICP_FEE_E8S),
        minting_account: Account { owner: principal(GOVERNANCE_ID), subaccount: None },
        initial_balances: vec![(anonymous(), Nat::from(ANONYMOUS_ICP_E8S))],
    };
    let cycles = CyclesLedgerInit { initial_balances: vec![(anonymous(), Nat::from(ANONYMOUS_CYCLES))] };
    let canisters = [
        (ICP_LEDGER_ID, read(ICP_LEDGER_WASM)?, Encode!(&icp).map_err(|e| e.to_string())?),
        (CYCLES_LEDGER_ID, read(CYCLES_LEDGER_WASM)?, Encode!(&Some(cycles)).map_err(|e| e.to_string())?),
        (
            CMC_ID,
            read(CMC_WASM)?,
            Encode!(&Some(CmcInit { default_subnets: d.subnet_ids() })).map_err(|e| e.to_string())?,
        ),
    ];
    let root = principal(ROOT_ID);
    for (id, wasm, arg) in canisters {
        let id = d
            .create_canister(root, SYSTEM_CANISTER_CYCLES, Some(principal(id)))
            .map_err(|e| format!("creating {id}: {e}"))?;
        d.install_code(root, id, &wasm, &arg, InstallMode::Install).map_err(|e| format!("installing {id}: {e}"))?;
    }
    d.reserve_canister_ids_below(FIRST_USER_CANISTER_INDEX);
    Ok(())
}

/// The one-line status file icp-cli waits for (`status.json`, launcher
/// interface 1.x): version, port and root key; the PocketIC-only fields
/// are null. It ends with a newline: icp-cli reads it only then.
pub fn status_line(gateway_port: u16, root_key_der: &[u8]) -> String {
    let status = serde_json::json!({
        "v": "1",
        "gateway_port": gateway_port,
        "root_key": hex::encode(root_key_der),
        "instance_id": null,
        "config_port": null,
        "default_effective_canister_id": null,
        "supported_features": [],
    });
    format!("{status}\n")
}
