//! Running the npm-installed icp-cli 1.5 with devnet as its network
//! launcher. Shared by devnet's own launcher test and by the end-to-end
//! test that deploys Depot's icp.yaml (tests/tests/e2e_icp_cli.rs, which
//! includes this file by path).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `npm ci` of devnet/tests/icp-cli's lock once (a file lock keeps
/// parallel test processes out of each other's way); the icp binary it
/// installs.
pub fn icp_binary(workspace: &Path) -> PathBuf {
    let dir = workspace.join("devnet/tests/icp-cli");
    let lock = std::fs::File::create(dir.join(".install.lock")).expect("lock file");
    lock.lock().expect("lock the npm install");
    let bin = dir.join("node_modules/@icp-sdk/icp-cli-linux-x64/bin/icp");
    if !bin.exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm runs (icp-cli is installed from the npm registry)");
        assert!(status.success(), "npm ci failed in {}", dir.display());
    }
    bin
}

/// The release wasm directory of devnet's system canisters (built by
/// scripts/build-wasm.sh).
pub fn system_wasm_dir(workspace: &Path) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| workspace.join("target"));
    let dir = target.join("wasm32-unknown-unknown/release");
    assert!(dir.join("test_cmc.wasm").exists(), "build the system canisters first: scripts/build-wasm.sh");
    dir
}

/// icp-cli in one project, with its own global state (identities, the
/// network's cache) in `icp_home`, and devnet as the launcher.
pub struct Icp {
    pub bin: PathBuf,
    pub project: PathBuf,
    pub icp_home: PathBuf,
    pub launcher: PathBuf,
    pub system_wasm: PathBuf,
}

impl Icp {
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .current_dir(&self.project)
            .env("ICP_HOME", &self.icp_home)
            .env("DO_NOT_TRACK", "1")
            .env("ICP_CLI_NETWORK_LAUNCHER_PATH", &self.launcher)
            .env("DEVNET_SYSTEM_WASM_DIR", &self.system_wasm)
            .output()
            .expect("icp runs")
    }

    /// Runs `icp args…`, which must succeed; its stdout and stderr.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "icp {} failed:\n{text}\n{}", args.join(" "), self.launcher_log());
        text
    }

    /// Makes identity `name` the default (icp-cli seeds ICP and cycles for
    /// it at start), then `icp network start -d`; its output.
    pub fn start_as_new_identity(&self, name: &str) -> String {
        self.ok(&["identity", "new", name, "--storage", "plaintext"]);
        self.ok(&["identity", "default", name]);
        self.ok(&["network", "start", "-d"])
    }

    pub fn launcher_log(&self) -> String {
        let dir = self.project.join(".icp/cache/networks/local/network-launcher");
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        format!("devnet stdout:\n{}\ndevnet stderr:\n{}", read("stdout.log"), read("stderr.log"))
    }
}

/// Stops the network even when an assertion fails midway.
pub struct StopOnDrop<'a>(pub &'a Icp);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["network", "stop"]);
    }
}
