//! Depot deployed the way icp-cli users deploy: the project's own icp.yaml,
//! unchanged, with the npm-installed icp-cli 1.5 and devnet as its network
//! launcher. `icp network start -d`, `icp deploy` (which builds through
//! scripts/build-canister.sh, creates the directory and the gateway, sets
//! `PUBLIC_CANISTER_ID:*` on both, then installs them with the local
//! environment's arguments), `icp canister call directory …`, then what a
//! user does on that network: an upload with the CLI's client, a share
//! link the directory pointed at the gateway by itself, the file through
//! that link with curl, and `icp network stop`.
//!
//! icp-cli's local network listens on port 8000 (its default, which
//! icp.yaml keeps), so this test needs that port free.

#[path = "../../devnet/tests/support/icp_cli.rs"]
mod icp_cli;

use candid::Principal;
use depot_api::share::CreateShareReq;
use depot_cli::client::Depot;
use depot_tests::clients::plain_upload;
use depot_tests::env::DepotEnv;
use icp_cli::{Icp, StopOnDrop};
use std::path::{Path, PathBuf};

/// icp-cli's default local network, as icp.yaml's local environment names it.
const LOCAL_NETWORK: &str = "http://localhost:8000";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The launcher: devnet's binary, built beside this test's (nextest builds
/// every binary of the workspace).
fn devnet_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().and_then(Path::parent).unwrap();
    let devnet = debug.join("devnet");
    assert!(devnet.exists(), "build devnet first: cargo build -p depot-devnet ({})", devnet.display());
    devnet
}

/// A project that is this repository's icp.yaml, byte for byte; its build
/// scripts are this checkout's (scripts/ linked).
fn project(dir: &Path) -> PathBuf {
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::copy(workspace().join("icp.yaml"), project.join("icp.yaml")).unwrap();
    std::os::unix::fs::symlink(workspace().join("scripts"), project.join("scripts")).unwrap();
    project
}

/// The id `icp deploy` printed for `name`.
fn created_id(deployed: &str, name: &str) -> Principal {
    let prefix = format!("Created canister {name} with ID ");
    let line = deployed.lines().find_map(|l| l.trim().strip_prefix(&prefix)).unwrap_or_else(|| panic!("{deployed}"));
    Principal::from_text(line.trim()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn icp_deploy_of_depots_own_icp_yaml_serves_uploads_and_share_links() {
    let tmp = tempfile::tempdir().unwrap();
    let icp = Icp {
        bin: icp_cli::icp_binary(&workspace()),
        project: project(tmp.path()),
        icp_home: tmp.path().join("icp-home"),
        launcher: devnet_binary(),
        system_wasm: icp_cli::system_wasm_dir(&workspace()),
    };
    let started = icp.start_as_new_identity("alice");
    let _stop = StopOnDrop(&icp);
    assert!(started.contains("Network started on port 8000"), "{started}");

    // The directory creates its buckets from its own balance (2 T each,
    // keeping 5 T): more than icp-cli's default 2 T per canister.
    let deployed = icp.ok(&["deploy", "--cycles", "20t"]);
    let (directory, gateway) = (created_id(&deployed, "directory"), created_id(&deployed, "gateway"));
    let pricing = icp.ok(&["canister", "call", "--query", "directory", "get_pricing", "()"]);
    assert!(pricing.contains("variant {\n    Ok = record"), "{pricing}");

    // The gateway found the directory through PUBLIC_CANISTER_ID:directory.
    let config = reqwest::get(format!("http://127.0.0.1:8000/config.json?canisterId={gateway}")).await.unwrap();
    assert_eq!(config.status(), 200);
    let config: serde_json::Value = config.json().await.unwrap();
    assert_eq!(config["directory"], directory.to_text());
    assert_eq!(config["local_network"], LOCAL_NETWORK);

    // A user uploads and shares; the link points at the gateway (the
    // directory read PUBLIC_CANISTER_ID:gateway) on the local domain.
    let alice = Depot::connect("http://127.0.0.1:8000", true, DepotEnv::identity(41), directory).await.unwrap();
    let bytes: Vec<u8> = (0..2_500_000u32).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect();
    let path = tmp.path().join("report.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let meta = depot_cli::upload::upload(&alice, &tmp.path().join("cfg"), plain_upload(path)).await.unwrap().meta;
    let req = CreateShareReq { file_id: meta.file_id, expires_in_secs: None, download_only: false, max_uses: None };
    let share = alice.create_share(req).await.unwrap();
    let url = share.url.expect("shares carry a URL");
    assert_eq!(url, format!("http://{gateway}.localhost:8000/s/{}", share.share_id));

    // curl follows the link's /raw redirect to the bucket, verified by the
    // HTTP gateway at each step.
    let out_file = tmp.path().join("fetched.pdf");
    depot_tests::clients::run("curl", &["-sS", "-f", "-L", "-o", out_file.to_str().unwrap(), &format!("{url}/raw")]);
    assert!(std::fs::read(&out_file).unwrap() == bytes, "the exact bytes through the share link");

    let stopped = icp.ok(&["network", "stop"]);
    assert!(stopped.contains("stopped"), "{stopped}");
}
