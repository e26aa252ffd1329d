//! Depot across subnets: the directory on the root subnet, its buckets on
//! another one (asked of the CMC, as an operator would on mainnet). Every
//! call to a bucket and every byte it serves is then certified by a
//! subnet whose key the root subnet vouches for with a delegation, which
//! the CLI's ic-agent, devnet's HTTP gateway and curl's downloads go
//! through unchanged.

use depot_api::directory::{DirectoryInit, GetDownloadUrlReq};
use depot_api::limits::CHUNK_SIZE;
use depot_cli::upload::upload;
use depot_tests::clients::{plain_upload, run};
use depot_tests::env::{DepotEnv, EnvOpts};

const C: usize = CHUNK_SIZE as usize;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_on_another_subnet_take_and_serve_files() {
    let init = DirectoryInit { bucket_pool_target: Some(1), ..Default::default() };
    let opts = EnvOpts { buckets: 0, subnets: 2, bucket_subnet: Some(1), directory_init: init, ..EnvOpts::default() };
    let env = DepotEnv::start(opts).await.unwrap();
    let (root, other) = env.with_devnet(|d| (d.subnet_ids()[0], d.subnet_ids()[1]));
    assert_eq!(env.with_devnet(|d| d.subnet_of(env.directory())), root);
    let bucket = env.deployment.buckets[0];
    assert_eq!(env.with_devnet(|d| d.subnet_of(bucket)), other, "the bucket is on the subnet asked for");

    // Upload with the CLI's code path: put_chunk calls go to subnet 1 and
    // their certificates carry its delegation.
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..2 * C + 77).map(|i| (i as u32).wrapping_mul(2654435761).to_le_bytes()[2]).collect();
    let path = dir.path().join("across.bin");
    std::fs::write(&path, &data).unwrap();
    let client = env.client(DepotEnv::identity(1)).await.unwrap();
    let out = upload(&client, &dir.path().join("cfg"), plain_upload(path)).await.unwrap();
    assert_eq!(out.meta.bucket, bucket);
    let url = client
        .get_download_url(GetDownloadUrlReq { file_id: out.meta.file_id.clone(), ttl_secs: None, disposition: None })
        .await
        .unwrap()
        .url;

    // The verifying gateway: the whole file, then a range (a certified 206).
    let http = env.http();
    let whole = http.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert!(whole.bytes().await.unwrap()[..] == data[..]);
    let part = http.get(&url).header("range", "bytes=1000-2999").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert!(part.bytes().await.unwrap()[..] == data[1000..3000]);
    // And curl, once, resuming a partial copy.
    let copy = dir.path().join("copy.bin");
    std::fs::write(&copy, &data[..C + 5]).unwrap();
    run("curl", &["-s", "-S", "-f", "-C", "-", "-o", copy.to_str().unwrap(), &url]);
    assert!(std::fs::read(&copy).unwrap() == data, "curl -C - through the gateway");
}
