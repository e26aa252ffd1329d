//! icp-cli 1.5, installed from npm, runs devnet as its network launcher
//! (`ICP_CLI_NETWORK_LAUNCHER_PATH`) through what a developer does:
//! `icp network start -d`, balances seeded for an identity, `icp deploy`,
//! `icp canister call`, `icp network stop`. The system canisters are
//! devnet's stand-ins, built by scripts/build-wasm.sh.

#[path = "support/icp_cli.rs"]
mod icp_cli;

use icp_cli::{Icp, StopOnDrop};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn write_project(dir: &Path) {
    std::fs::copy(icp_cli::system_wasm_dir(&workspace()).join("test_cmc.wasm"), dir.join("hello.wasm")).unwrap();
    // The local network on any free port, so the test runs beside others.
    std::fs::write(
        dir.join("icp.yaml"),
        "canisters:\n  - name: hello\n    build:\n      steps:\n        - type: pre-built\n          path: hello.wasm\n\
         networks:\n  - name: local\n    mode: managed\n    gateway:\n      port: 0\n",
    )
    .unwrap();
}

#[test]
fn icp_cli_starts_deploys_to_calls_and_stops_devnet() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    write_project(&project);
    let icp = Icp {
        bin: icp_cli::icp_binary(&workspace()),
        project,
        icp_home: tmp.path().join("icp-home"),
        launcher: env!("CARGO_BIN_EXE_devnet").into(),
        system_wasm: icp_cli::system_wasm_dir(&workspace()),
    };
    let started = icp.start_as_new_identity("alice");
    let _stop = StopOnDrop(&icp);
    assert!(started.contains("Network started on port"), "{started}");
    let status = icp.ok(&["network", "status"]);
    assert!(status.contains("Root Key: 3081"), "the status file's root key (DER): {status}");
    let icp_balance = icp.ok(&["token", "balance"]);
    assert!(
        icp_balance.contains("1000000.00000000 ICP"),
        "seeded through the ICP ledger's legacy transfer: {icp_balance}"
    );
    let cycles = icp.ok(&["cycles", "balance"]);
    assert!(cycles.contains("1_000_000_000_000_000 cycles"), "seeded through the cycles ledger: {cycles}");

    let deployed = icp.ok(&["deploy"]);
    assert!(deployed.contains("Created canister hello"), "{deployed}");
    let answer = icp.ok(&["canister", "call", "hello", "subnet_selections", "()"]);
    assert!(answer.contains("(vec {})"), "the deployed canister answers: {answer}");
    let cmc = depot_devnet::launcher::CMC_ID;
    let subnets = icp.ok(&["canister", "call", cmc, "get_default_subnets", "()"]);
    assert!(subnets.contains("principal \""), "the system CMC names devnet's subnet: {subnets}");
    let after = icp.ok(&["cycles", "balance"]);
    assert!(!after.contains("1_000_000_000_000_000 cycles"), "creating the canister was paid in cycles: {after}");

    let stopped = icp.ok(&["network", "stop"]);
    assert!(stopped.contains("stopped"), "{stopped}");
    let again = icp.run(&["network", "status"]);
    assert!(!again.status.success(), "no network after the stop");
}

/// What devnet cannot do as a launcher is refused at once, naming the flag
/// (icp-cli shows the launcher's stderr when it exits before its status).
#[test]
fn launcher_flags_devnet_cannot_honour_are_refused_by_name() {
    let status_dir = tempfile::tempdir().unwrap();
    let status = status_dir.path().to_str().unwrap();
    for (extra, named) in [
        (&["--ii"][..], "--ii"),
        (&["--nns"][..], "--nns"),
        (&["--subnet=bitcoin"][..], "--subnet"),
        (&["--bitcoind-addr=127.0.0.1:18444"][..], "--bitcoind-addr"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_devnet"))
            .args(["--interface-version", "1.1.0", "--status-dir", status, "--gateway-port", "0"])
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains("not supported by devnet") && stderr.contains(named),
            "{stderr}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_devnet"))
        .args(["--interface-version", "2.0.0", "--status-dir", status])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("launcher interface 2.0.0 is not supported"), "{stderr}");
    assert!(!status_dir.path().join("status.json").exists(), "no status for a refused start");
}
