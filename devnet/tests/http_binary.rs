//! The `devnet` binary: `start --port 0 --status-dir DIR` writes
//! status.json, serves real clients, and stops cleanly on SIGINT.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("devnet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_writes_status_serves_and_stops_on_ctrl_c() {
    let status_dir = temp_dir("status");
    let child = Command::new(env!("CARGO_BIN_EXE_devnet"))
        .args(["start", "--port", "0", "--status-dir"])
        .arg(&status_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("devnet starts");

    let status_file = status_dir.join("status.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !status_file.exists() {
        assert!(Instant::now() < deadline, "no status.json after 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status: serde_json::Value = serde_json::from_slice(&std::fs::read(&status_file).unwrap()).unwrap();
    let port = status["port"].as_u64().unwrap();
    let root_key = hex::decode(status["root_key"].as_str().unwrap()).unwrap();

    let agent = ic_agent::Agent::builder().with_url(format!("http://127.0.0.1:{port}")).build().unwrap();
    agent.fetch_root_key().await.unwrap();
    assert_eq!(agent.read_root_key(), root_key);

    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "exit {:?}\n{stdout}\n{}", output.status, String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(&format!("root key: {}", hex::encode(&root_key))), "{stdout}");
    assert!(stdout.contains("devnet stopped"), "{stdout}");
    assert!(!status_file.exists(), "status.json is removed on exit");
    let _ = std::fs::remove_dir_all(&status_dir);
}

#[test]
fn help_says_state_is_in_memory() {
    let output = Command::new(env!("CARGO_BIN_EXE_devnet")).args(["start", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("memory only"), "{help}");
    assert!(help.contains("--status-dir"), "{help}");
}
