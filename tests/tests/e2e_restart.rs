//! Depot on a devnet that is saved, stopped and loaded again (what
//! `scripts/start.sh` does across restarts): the same canister ids, the
//! files still download through the verifying gateway with the URLs signed
//! before the stop, and uploads go on.

use depot_api::directory::{GetDownloadUrlReq, ListFilesReq};
use depot_cli::upload::upload;
use depot_devnet::DevnetConfig;
use depot_devnet::persistence::{SaveOutcome, StateDir};
use depot_tests::env::{DepotEnv, EnvOpts};

fn pattern(n: usize, salt: u8) -> Vec<u8> {
    (0..n).map(|i| ((i as u32).wrapping_mul(2654435761) >> 11) as u8 ^ salt).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_and_signed_urls_survive_a_restart() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let port = env.port();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let data = pattern(3 * depot_api::limits::CHUNK_SIZE as usize + 5, 3);
    let path = dir.path().join("movie.bin");
    std::fs::write(&path, &data).unwrap();
    let client = env.client(DepotEnv::identity(1)).await.unwrap();
    let out = upload(&client, &dir.path().join("cfg"), depot_tests::clients::plain_upload(path)).await.unwrap();
    let file_id = out.meta.file_id.clone();
    let url = client
        .get_download_url(GetDownloadUrlReq { file_id: file_id.clone(), ttl_secs: None, disposition: None })
        .await
        .unwrap()
        .url;
    let before = env.http().get(&url).send().await.unwrap();
    assert_eq!(before.status(), 200);
    assert!(before.bytes().await.unwrap()[..] == data[..]);
    let ids = env.with_devnet(|d| d.canister_ids());

    let mut state_dir = StateDir::open(&state).unwrap();
    let saved = env.with_devnet(|d| state_dir.save(d, true)).unwrap();
    assert!(matches!(saved, SaveOutcome::Saved { .. }), "{saved:?}");
    drop(state_dir);
    let deployment = env.deployment.clone();
    // The agent's pooled connection would hold the graceful stop open.
    drop(client);
    env.server.stop().await.unwrap();
    drop(env.devnet);

    let mut state_dir = StateDir::open(&state).unwrap();
    let dev = state_dir.load(DevnetConfig { debug_print: false, ..DevnetConfig::default() }).unwrap().unwrap();
    let env = DepotEnv::resume(dev, deployment, port, std::time::Duration::ZERO).await.unwrap();
    assert_eq!(env.with_devnet(|d| d.canister_ids()), ids, "the same canisters");
    // The URL signed before the stop, through the verifying gateway.
    let resp = env.http().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    let body = resp.bytes().await.unwrap();
    assert!(body[..] == data[..], "the same bytes");
    let ranged = env.http().get(&url).header("range", "bytes=10-19").send().await.unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(&ranged.bytes().await.unwrap()[..], &data[10..20]);
    // The directory still knows the file, and takes new ones.
    let client = env.client(DepotEnv::identity(1)).await.unwrap();
    let listed = client.list_files(ListFilesReq::default()).await.unwrap();
    assert!(listed.files.iter().any(|f| f.file_id == file_id));
    let second = dir.path().join("second.bin");
    std::fs::write(&second, pattern(1000, 4)).unwrap();
    upload(&client, &dir.path().join("cfg2"), depot_tests::clients::plain_upload(second)).await.unwrap();
    drop(client);
    env.server.stop().await.unwrap();
}
