//! `devnet start --state-dir`: a canister deployed over HTTP survives a
//! clean stop and a `kill -9`, with the same id, root key and state.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use candid::Principal;
use ic_agent::Agent;
use ic_agent::identity::BasicIdentity;
use ic_utils::interfaces::ManagementCanister;
use support::conformance::{counter_wat, u32_of, wasm};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("devnet-statebin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

struct Running {
    child: Child,
    port: u16,
    root_key: Vec<u8>,
}

async fn start(state: &Path, status: &Path) -> Running {
    let status_file = status.join("status.json");
    let _ = std::fs::remove_file(&status_file); // left by a killed devnet
    let child = Command::new(env!("CARGO_BIN_EXE_devnet"))
        .args(["start", "--port", "0", "--save-interval-secs", "1", "--state-dir"])
        .arg(state)
        .arg("--status-dir")
        .arg(status)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("devnet starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !status_file.exists() {
        assert!(Instant::now() < deadline, "no status.json after 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status: serde_json::Value = serde_json::from_slice(&std::fs::read(&status_file).unwrap()).unwrap();
    let port = status["port"].as_u64().unwrap() as u16;
    let root_key = hex::decode(status["root_key"].as_str().unwrap()).unwrap();
    Running { child, port, root_key }
}

async fn agent(port: u16) -> Agent {
    let agent = Agent::builder()
        .with_url(format!("http://127.0.0.1:{port}"))
        .with_identity(BasicIdentity::from_raw_key(&[33; 32]))
        .build()
        .unwrap();
    agent.fetch_root_key().await.unwrap();
    agent
}

async fn deploy_counter(agent: &Agent) -> Principal {
    let management = ManagementCanister::create(agent);
    let (id,) = management
        .create_canister()
        .as_provisional_create_with_amount(Some(100_000_000_000_000))
        .call_and_wait()
        .await
        .expect("create");
    management.install_code(&id, &wasm(&counter_wat())).call_and_wait().await.expect("install");
    id
}

async fn inc(agent: &Agent, id: Principal) -> u32 {
    u32_of(&agent.update(&id, "inc").call_and_wait().await.expect("inc"))
}

async fn get(agent: &Agent, id: Principal) -> u32 {
    u32_of(&agent.query(&id, "get").call().await.expect("get"))
}

async fn stop(run: Running, signal: &str) -> String {
    let killed = Command::new("kill").args([signal, &run.child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let output = tokio::task::spawn_blocking(move || run.child.wait_with_output().unwrap()).await.unwrap();
    format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_a_clean_stop() {
    let (state, status) = (temp_dir("clean-state"), temp_dir("clean-status"));
    let run = start(&state, &status).await;
    let a = agent(run.port).await;
    let id = deploy_counter(&a).await;
    for _ in 0..3 {
        inc(&a, id).await;
    }
    let root_key = run.root_key.clone();
    let out = stop(run, "-INT").await;
    assert!(out.contains("state saved"), "{out}");

    let run = start(&state, &status).await;
    assert_eq!(run.root_key, root_key, "the same root key");
    let a = agent(run.port).await;
    assert_eq!(get(&a, id).await, 3, "the same canister, with its heap");
    assert_eq!(a.read_state_canister_controllers(id).await.unwrap(), vec![a.get_principal().unwrap()]);
    assert_eq!(inc(&a, id).await, 4);
    let second = deploy_counter(&a).await;
    assert_ne!(second, id);
    let out = stop(run, "-TERM").await;
    assert!(out.contains("state saved"), "{out}");
    let _ = std::fs::remove_dir_all(&state);
    let _ = std::fs::remove_dir_all(&status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_mid_traffic_loses_at_most_the_last_seconds() {
    let (state, status) = (temp_dir("kill-state"), temp_dir("kill-status"));
    let run = start(&state, &status).await;
    let a = agent(run.port).await;
    let id = deploy_counter(&a).await;
    // Traffic for 3 s (three saves at least), then kill -9 while it goes on.
    let traffic = {
        let a = a.clone();
        tokio::spawn(async move {
            let mut replied = 0;
            while let Ok(reply) = a.update(&id, "inc").call_and_wait().await {
                replied = u32_of(&reply);
            }
            replied
        })
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let out = stop(run, "-KILL").await;
    let replied = traffic.await.unwrap();
    assert!(replied > 0, "traffic ran: {out}");

    let run = start(&state, &status).await;
    let a = agent(run.port).await;
    let kept = get(&a, id).await;
    // At most the last interval is lost, and nothing is made up.
    assert!(kept <= replied + 1, "kept {kept}, replied {replied}");
    assert!(kept > 0, "saves ran during the traffic (replied {replied})");
    assert_eq!(inc(&a, id).await, kept + 1, "the canister runs on from its saved state");
    stop(run, "-INT").await;
    let _ = std::fs::remove_dir_all(&state);
    let _ = std::fs::remove_dir_all(&status);
}
