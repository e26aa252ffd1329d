//! The installed binary answers `--version` and prints shell completions
//! without reaching any network.

use std::process::Command;

fn depot(args: &[&str]) -> std::process::Output {
    // No network configured: these commands must not need one.
    Command::new(env!("CARGO_BIN_EXE_depot"))
        .args(args)
        .env("DEPOT_NETWORK", "http://127.0.0.1:9")
        .output()
        .expect("runs the depot binary")
}

#[test]
fn version_names_the_binary_and_its_version() {
    let out = depot(&["--version"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("depot {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn completions_for_each_shell_name_the_commands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = depot(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        let script = String::from_utf8_lossy(&out.stdout);
        for cmd in ["upload", "download", "deposit", "balance"] {
            assert!(script.contains(cmd), "{shell} completions lack {cmd}");
        }
    }
    let out = depot(&["completions", "tcsh"]);
    assert!(!out.status.success(), "an unknown shell is refused");
}
