//! Automatic bucket provisioning (docs/provisioning.md): the directory
//! creates, installs, registers and tops up its own buckets on devnet.

use candid::{Decode, Encode, Principal};
use depot_api::DirectoryError;
use depot_api::directory::{BucketState, DirectoryInit, GetDownloadUrlReq, StartUploadReq, StartUploadRes};
use depot_api::limits::CHUNK_SIZE;
use depot_api::methods::{bucket as bm, directory as dm};
use depot_cli::upload::upload;
use depot_devnet::{Devnet, InstallMode};
use depot_tests::clients::{loopback_url, plain_upload};
use depot_tests::deploy::{DeployOpts, Deployment, admin_stats, call, deploy, query, wait_for_pool};
use depot_tests::env::{DepotEnv, EnvOpts};
use std::time::Duration;

const C: u64 = CHUNK_SIZE as u64;
const T: u128 = 1_000_000_000_000;

fn pattern(n: usize, salt: u8) -> Vec<u8> {
    (0..n).map(|i| ((i as u32).wrapping_mul(2654435761) >> 13) as u8 ^ salt).collect()
}

/// Runs the provisioning job's rounds to completion (devnet's HTTP server
/// ticks in the background): the pool is back at `ready`.
async fn pool_settles(env: &DepotEnv, ready: u32) {
    for _ in 0..200 {
        let s = env.with_devnet(|dev| admin_stats(dev, env.deployment.admin, env.directory())).unwrap();
        if s.provisioning.pool_ready >= ready && s.provisioning.in_progress.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the pool did not refill to {ready}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_fill_small_buckets_and_the_fleet_grows_by_itself() {
    let init = DirectoryInit {
        bucket_pool_target: Some(1),
        // Room for two files of 1.5 chunks under the soft limit (90 %).
        bucket_capacity_bytes: Some(4 * C),
        bucket_max_files: Some(2),
        start_upload_per_minute: Some(600),
        ..Default::default()
    };
    let env = DepotEnv::start(EnvOpts { buckets: 0, directory_init: init, ..EnvOpts::default() }).await.unwrap();
    assert_eq!(env.deployment.buckets.len(), 1, "the pool's one bucket, made by the directory");
    let dir = tempfile::tempdir().unwrap();
    let client = env.client(DepotEnv::identity(1)).await.unwrap();
    let mut files = vec![];
    for i in 0..5u8 {
        let data = pattern((C + C / 2) as usize, i);
        let path = dir.path().join(format!("f{i}.bin"));
        std::fs::write(&path, &data).unwrap();
        let out = upload(&client, &dir.path().join("cfg"), plain_upload(path)).await.unwrap();
        files.push((out.meta.file_id.clone(), out.meta.bucket, data));
        pool_settles(&env, 1).await;
    }
    let stats = env.with_devnet(|dev| admin_stats(dev, env.deployment.admin, env.directory())).unwrap();
    // Two files per bucket (the file limit), so files 0–1, 2–3 and 4 each
    // have their bucket, and the pool holds a fourth, empty.
    let used: std::collections::BTreeSet<Principal> = files.iter().map(|f| f.1).collect();
    assert_eq!(used.len(), 3, "{:?}", files.iter().map(|f| f.1).collect::<Vec<_>>());
    assert_eq!(stats.buckets.len(), 4);
    assert_eq!(stats.provisioning.buckets_created, 4);
    assert_eq!(stats.provisioning.pool_ready, 1);
    let full = stats.buckets.iter().find(|b| b.id == files[0].1).unwrap();
    assert_eq!((full.state, full.files_count), (BucketState::Draining, 2), "at its file limit");
    for b in &stats.buckets {
        assert!(b.provisioned && b.soft_limit_bytes == 4 * C * 9 / 10 && b.hard_limit_bytes == 4 * C);
    }

    // Every file downloads whole through the verifying gateway.
    let http = reqwest::Client::new();
    for (id, _, data) in &files {
        let url = client
            .get_download_url(GetDownloadUrlReq { file_id: id.clone(), ttl_secs: None, disposition: None })
            .await
            .unwrap()
            .url;
        let got = http.get(loopback_url(&url)).send().await.unwrap();
        assert_eq!(got.status(), 200);
        assert!(got.bytes().await.unwrap()[..] == data[..], "file {id:?}");
    }

    // The fleet job reads each bucket's status: its balance and the hash
    // of the module the directory installed.
    env.with_devnet(|dev| {
        dev.advance_time(Duration::from_secs(61));
        for _ in 0..10 {
            dev.tick();
        }
    });
    let stats = env.with_devnet(|dev| admin_stats(dev, env.deployment.admin, env.directory())).unwrap();
    let wasm = stats.bucket_wasm.clone().expect("embedded");
    for b in &stats.buckets {
        assert_eq!(b.module_hash.as_ref(), Some(&wasm.sha256), "bucket {}", b.id);
        assert!(b.cycles.is_some());
    }

    // Operators scrape /metrics from the directory and every bucket,
    // through the raw domain (the answers are not certified).
    let scrape = |id: Principal| {
        let host = format!("{id}.raw.localhost");
        let http = reqwest::Client::builder().resolve(&host, env.server.addr).build().unwrap();
        let url = format!("http://{host}:{}/metrics", env.port());
        async move {
            let r = http.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["content-type"], "text/plain; version=0.0.4");
            r.text().await.unwrap()
        }
    };
    let text = scrape(env.directory()).await;
    assert!(text.lines().any(|l| l.starts_with("depot_directory_files 5 ")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("depot_directory_buckets_created_total 4 ")), "{text}");
    assert!(text.contains("depot_directory_job_last_run_seconds{job=\"maintenance\"}"), "{text}");
    // Two files of two chunks each.
    let text = scrape(files[0].1).await;
    assert!(text.lines().any(|l| l.starts_with("depot_bucket_files 2 ")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("depot_bucket_put_chunk_total{outcome=\"ok\"} 4 ")), "{text}");

    // Deleting a file of the draining bucket brings it back under its
    // limits: it takes files again (the pooled bucket stays empty).
    client.delete_file(files[0].0.clone()).await.unwrap();
    let b = env.with_devnet(|dev| admin_stats(dev, env.deployment.admin, env.directory())).unwrap();
    let again = b.buckets.iter().find(|x| x.id == files[0].1).unwrap();
    assert_eq!(again.state, BucketState::Writable);
}

fn library_deploy(init: DirectoryInit) -> (Devnet, Deployment) {
    let mut dev = Devnet::new(depot_devnet::DevnetConfig { debug_print: false, ..Default::default() });
    let ready = init.bucket_pool_target.unwrap_or(1);
    let mut d = deploy(
        &mut dev,
        DeployOpts { buckets: 0, domain_template: "{bucket}.localhost:1".into(), directory_init: init },
    )
    .unwrap();
    wait_for_pool(&mut dev, &mut d, ready).unwrap();
    (dev, d)
}

fn user() -> Principal {
    Principal::self_authenticating(b"provisioning user")
}

fn start(dev: &mut Devnet, d: &Deployment, size: u64) -> Result<StartUploadRes, DirectoryError> {
    let req = StartUploadReq { name: "a.bin".into(), mime: None, size_bytes: size, sha256: None, retention_days: None };
    call(dev, user(), d.directory, dm::START_UPLOAD, (req,)).unwrap()
}

#[test]
fn under_its_reserve_the_directory_refuses_uploads_it_cannot_place_and_changes_nothing() {
    // 100 T in the directory: one creation (2 T) fits above a 97 T reserve,
    // a second does not.
    let init = DirectoryInit {
        bucket_pool_target: Some(1),
        bucket_max_files: Some(1),
        directory_reserve_cycles: Some((97 * T).into()),
        ..Default::default()
    };
    let (mut dev, d) = library_deploy(init);
    // The pooled bucket takes the first file; no replacement can be made.
    let first = start(&mut dev, &d, 10).unwrap();
    assert_eq!(first.bucket, d.buckets[0]);
    for _ in 0..10 {
        dev.tick();
    }
    let before = admin_stats(&mut dev, d.admin, d.directory).unwrap();
    let why = before.provisioning.paused_reason.clone().expect("paused");
    assert!(why.contains("under its reserve"), "{why}");
    assert_eq!(before.buckets.len(), 1);
    let refused = start(&mut dev, &d, 10).unwrap_err();
    let DirectoryError::ServiceTemporarilyUnavailable { reason } = refused else { panic!("{refused:?}") };
    assert!(reason.contains("none can be created now") && reason.contains("under its reserve"), "{reason}");
    for _ in 0..10 {
        dev.tick();
    }
    let after = admin_stats(&mut dev, d.admin, d.directory).unwrap();
    assert_eq!(
        (after.buckets, after.active_uploads, after.reserved_bytes, after.provisioning.buckets_created),
        (before.buckets, before.active_uploads, before.reserved_bytes, before.provisioning.buckets_created)
    );
}

#[test]
fn a_bucket_burning_cycles_is_topped_up_before_it_freezes() {
    let top_up = T / 2;
    let init = DirectoryInit {
        bucket_pool_target: Some(1),
        bucket_creation_cycles: Some((2 * T).into()),
        bucket_top_up_cycles: Some(top_up.into()),
        ..Default::default()
    };
    let (mut dev, d) = library_deploy(init);
    let bucket = d.buckets[0];
    // The threshold just under the bucket's balance now: idle storage
    // alone takes it below within days.
    let start_balance = dev.cycle_balance(bucket);
    let upgrade =
        Some(DirectoryInit { bucket_top_up_threshold_cycles: Some((start_balance - 1).into()), ..Default::default() });
    let wasm = depot_tests::wasm::canister_wasm("directory").unwrap();
    dev.install_code(d.admin, d.directory, &wasm, &Encode!(&upgrade).unwrap(), InstallMode::Upgrade).unwrap();
    let mut lowest = start_balance;
    let mut sent = 0u128;
    for _ in 0..30 {
        dev.advance_time(Duration::from_secs(24 * 3600));
        for _ in 0..5 {
            dev.tick();
        }
        lowest = lowest.min(dev.cycle_balance(bucket));
        sent = u128::try_from(admin_stats(&mut dev, d.admin, d.directory).unwrap().provisioning.top_up_cycles_sent.0)
            .unwrap();
        if sent > 0 {
            break;
        }
    }
    assert_eq!(sent, top_up, "one top-up");
    let info =
        admin_stats(&mut dev, d.admin, d.directory).unwrap().buckets.into_iter().find(|b| b.id == bucket).unwrap();
    let burn = u128::try_from(info.burn_cycles_per_day.expect("measured").0).unwrap();
    assert!(burn > 0, "idle storage burns cycles");
    eprintln!("bucket burns {burn} cycles a day idle; topped up under {:?}", info.top_up_below_cycles);
    assert!(dev.cycle_balance(bucket) > lowest + top_up - T / 100, "the bucket received it");
    // Still running: it answers.
    let stat: depot_api::bucket::BucketStat = query(&mut dev, user(), bucket, bm::STAT, ()).unwrap();
    assert!(!stat.read_only);
}

/// The bucket wasm with a custom section appended: a module of another
/// hash that behaves the same (the "old" version a rollout replaces).
fn other_build(wasm: &[u8]) -> Vec<u8> {
    let mut w = wasm.to_vec();
    // Custom section 0: size, name "depot-test", one byte of payload.
    w.extend_from_slice(&[0x00, 12, 10]);
    w.extend_from_slice(b"depot-test");
    w.push(1);
    w
}

fn put_chunk(dev: &mut Devnet, d: &Deployment, s: &StartUploadRes, index: u32, bytes: &[u8]) {
    use depot_api::bucket::PutChunkArgs;
    use depot_api::directory::GetUploadTokenReq;
    let req = GetUploadTokenReq { upload_id: s.upload_id.clone(), first_chunk: index, last_chunk: index };
    let token: Result<depot_api::token::UploadToken, DirectoryError> =
        call(dev, user(), d.directory, dm::GET_UPLOAD_TOKEN, (req,)).unwrap();
    let args = PutChunkArgs { token: token.unwrap(), chunk_index: index, bytes: bytes.to_vec() };
    let r: depot_api::bucket::PutChunkResult = call(dev, user(), s.bucket, bm::PUT_CHUNK, (args,)).unwrap();
    r.unwrap();
}

#[test]
fn a_fleet_upgrade_interrupted_by_a_directory_upgrade_completes_with_no_byte_lost() {
    use depot_api::directory::{CommitUploadReq, UpgradeBucketsReq};
    use sha2::{Digest, Sha256};
    let chunk = depot_api::limits::MIN_CHUNK_SIZE as usize;
    let init = DirectoryInit {
        bucket_pool_target: Some(3),
        bucket_controllers: Some(vec![depot_tests::deploy::admin_principal()]),
        chunk_size: Some(chunk as u32),
        ..Default::default()
    };
    let (mut dev, d) = library_deploy(init);
    // Every bucket runs an older build, as after a release of the directory.
    let bucket_wasm = depot_tests::wasm::canister_wasm("bucket").unwrap();
    let old = other_build(&bucket_wasm);
    for b in &d.buckets {
        dev.install_code(d.admin, *b, &old, &Encode!().unwrap(), InstallMode::Upgrade).unwrap();
    }
    // A file uploaded whole, and one half-way when the rollout starts.
    let data: Vec<u8> = (0..2 * chunk).map(|i| (i % 251) as u8).collect();
    let sha = |b: &[u8]| serde_bytes::ByteBuf::from(Sha256::digest(b).to_vec());
    let start_req = |name: &str| StartUploadReq {
        name: name.into(),
        mime: None,
        size_bytes: data.len() as u64,
        sha256: Some(sha(&data)),
        retention_days: None,
    };
    let commit = |dev: &mut Devnet, s: &StartUploadRes| {
        let req = CommitUploadReq { upload_id: s.upload_id.clone(), uploaded_chunk_count: None, final_sha256: None };
        let r: depot_api::directory::CommitUploadResult =
            call(dev, user(), d.directory, dm::COMMIT_UPLOAD, (req,)).unwrap();
        r
    };
    let whole: StartUploadRes =
        call(&mut dev, user(), d.directory, dm::START_UPLOAD, (start_req("whole"),)).unwrap().unwrap();
    put_chunk(&mut dev, &d, &whole, 0, &data[..chunk]);
    put_chunk(&mut dev, &d, &whole, 1, &data[chunk..]);
    commit(&mut dev, &whole).unwrap();
    let half: StartUploadRes =
        call(&mut dev, user(), d.directory, dm::START_UPLOAD, (start_req("half"),)).unwrap().unwrap();
    put_chunk(&mut dev, &d, &half, 0, &data[..chunk]);
    let stat_before: depot_api::bucket::BucketStat = query(&mut dev, user(), half.bucket, bm::STAT, ()).unwrap();

    // The fleet job notes the old module, then the rollout starts.
    dev.advance_time(Duration::from_secs(61));
    for _ in 0..5 {
        dev.tick();
    }
    let old_hash: [u8; 32] = Sha256::digest(&old).into();
    let stats = admin_stats(&mut dev, d.admin, d.directory).unwrap();
    // Uploads took a bucket out of the pool: a fourth, new one refilled it.
    assert_eq!(stats.buckets.len(), 4);
    let old_ones = stats.buckets.iter().filter(|b| b.module_hash.as_deref() == Some(&old_hash.to_vec())).count();
    assert_eq!(old_ones, 3, "{:?}", stats.buckets);
    let req = UpgradeBucketsReq { batch_size: Some(1) };
    let r: depot_api::directory::RolloutResult =
        call(&mut dev, d.admin, d.directory, dm::ADMIN_UPGRADE_BUCKETS, (req,)).unwrap();
    let r = r.unwrap();
    assert_eq!((r.total, r.upgraded), (3, 0));
    // The canary, then one more, then the directory itself is upgraded.
    let mut upgraded = 0;
    for _ in 0..20 {
        dev.tick();
        upgraded = admin_stats(&mut dev, d.admin, d.directory).unwrap().rollout.unwrap().upgraded;
        if upgraded >= 1 {
            break;
        }
    }
    assert_eq!(upgraded, 1, "the canary first");
    let dir_wasm = depot_tests::wasm::canister_wasm("directory").unwrap();
    dev.install_code(d.admin, d.directory, &dir_wasm, &Encode!(&None::<DirectoryInit>).unwrap(), InstallMode::Upgrade)
        .unwrap();
    let mut done = None;
    for _ in 0..30 {
        dev.advance_time(Duration::from_secs(61));
        dev.tick();
        let r = admin_stats(&mut dev, d.admin, d.directory).unwrap().rollout.unwrap();
        if r.finished_at_ns.is_some() {
            done = Some(r);
            break;
        }
    }
    let r = done.expect("the rollout finished after the directory's upgrade");
    assert_eq!((r.upgraded, r.failed.len(), r.paused_reason), (3, 0, None));
    let wasm = admin_stats(&mut dev, d.admin, d.directory).unwrap().bucket_wasm.unwrap();
    for b in &d.buckets {
        assert_eq!(dev.module_hash(*b).map(|h| h.to_vec()), Some(wasm.sha256.to_vec()), "bucket {b}");
    }

    // Nothing lost: the half-way upload goes on and commits with its
    // declared hash, the whole file reads back, the bucket's books agree.
    put_chunk(&mut dev, &d, &half, 1, &data[chunk..]);
    commit(&mut dev, &half).unwrap();
    for i in 0..2u32 {
        let args = depot_api::bucket::GetChunkArgs { file_id: whole.file_id.clone(), chunk_index: i };
        let got: depot_api::bucket::GetChunkResult =
            query(&mut dev, user(), whole.bucket, bm::GET_CHUNK, (args,)).unwrap();
        assert!(got.unwrap()[..] == data[i as usize * chunk..(i as usize + 1) * chunk]);
    }
    let stat_after: depot_api::bucket::BucketStat = query(&mut dev, user(), half.bucket, bm::STAT, ()).unwrap();
    assert_eq!(stat_after.used_bytes, stat_before.used_bytes + chunk as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_uploaders_at_a_buckets_limit_never_over_commit_it() {
    use depot_cli::client::CallError;
    use std::sync::Arc;
    // No pool: a bucket is made only when one is needed. One takes ten
    // files of half a chunk under its soft limit (5.4 chunks), not eleven.
    let init = DirectoryInit {
        bucket_pool_target: Some(0),
        bucket_capacity_bytes: Some(6 * C),
        start_upload_per_minute: Some(600),
        ..Default::default()
    };
    let env =
        Arc::new(DepotEnv::start(EnvOpts { buckets: 1, directory_init: init, ..EnvOpts::default() }).await.unwrap());
    // The hand-registered bucket is full to the brim: every upload is near
    // a limit from the start.
    env.with_devnet(|dev| {
        let b = env.deployment.buckets[0];
        let r: Result<(), DirectoryError> =
            call(dev, env.deployment.admin, env.directory(), dm::ADMIN_SET_BUCKET_STATE, (b, BucketState::ReadOnly))
                .unwrap();
        r.unwrap();
    });
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut tasks = vec![];
    let mut users = vec![];
    for n in 1..=20u8 {
        let client = env.client(DepotEnv::identity(n)).await.unwrap();
        users.push(client.me());
        let dir = dir.clone();
        tasks.push(tokio::spawn(async move {
            let data = pattern((C / 2) as usize, n);
            let path = dir.path().join(format!("u{n}.bin"));
            std::fs::write(&path, &data).unwrap();
            let cfg = dir.path().join(format!("cfg{n}"));
            upload(&client, &cfg, plain_upload(path)).await.map(|out| (out.meta.file_id, data))
        }));
    }
    let (mut stored, mut refused) = (vec![], 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(f) => stored.push(f),
            Err(e) => {
                // Only the typed "no room yet" answer, never a failure.
                let typed = e.downcast_ref::<CallError>().is_some_and(|c| {
                    matches!(c, CallError::Directory(DirectoryError::ServiceTemporarilyUnavailable { .. }))
                });
                assert!(typed, "untyped failure: {e:#}");
                refused += 1;
            }
        }
    }
    assert_eq!(stored.len() + refused, 20);
    assert!(stored.len() >= 10, "a bucket's worth at least: {} stored", stored.len());
    let books = env.with_devnet(|d| depot_tests::books::read_books(d, &env.deployment, &users)).unwrap();
    books.assert_balanced("after twenty uploaders");
    for (id, b) in &books.buckets {
        assert!(b.info.used_bytes + b.info.reserved_bytes <= b.info.soft_limit_bytes, "bucket {id}: {:?}", b.info);
        assert!(b.stat.used_bytes <= b.stat.capacity_bytes, "bucket {id}: {:?}", b.stat);
    }
    for (id, data) in &stored {
        let got = env.with_devnet(|d| depot_tests::books::download(d, &env.deployment, id)).unwrap();
        assert!(got == *data, "{id:?}");
    }
    eprintln!("twenty uploaders: {} stored, {refused} told to retry, {} buckets", stored.len(), books.buckets.len());
}

#[test]
fn through_the_cycles_minting_canister_buckets_go_where_the_operator_chose() {
    use depot_api::directory::BucketFactory;
    #[derive(candid::CandidType, serde::Deserialize, Debug, PartialEq, Clone)]
    struct SubnetFilter {
        subnet_type: Option<String>,
    }
    #[derive(candid::CandidType, serde::Deserialize, Debug, PartialEq, Clone)]
    enum SubnetSelection {
        Subnet { subnet: Principal },
        Filter(SubnetFilter),
    }
    let mut dev = Devnet::new(depot_devnet::DevnetConfig { debug_print: false, ..Default::default() });
    let admin = depot_tests::deploy::admin_principal();
    // The stand-in CMC (devnet/test-canisters/cmc) at a devnet id.
    let cmc = dev.create_canister(admin, depot_tests::deploy::CANISTER_CYCLES, None).unwrap();
    let wasm = depot_tests::wasm::test_canister_wasm("cmc").unwrap();
    dev.install_code(admin, cmc, &wasm, &Encode!().unwrap(), InstallMode::Install).unwrap();
    let factory = BucketFactory::CyclesMintingCanister { cmc, subnet: None, subnet_type: Some("european".into()) };
    let init = DirectoryInit { bucket_pool_target: Some(2), bucket_factory: Some(factory), ..Default::default() };
    let mut d = deploy(
        &mut dev,
        DeployOpts { buckets: 0, domain_template: "{bucket}.localhost:1".into(), directory_init: init },
    )
    .unwrap();
    wait_for_pool(&mut dev, &mut d, 2).unwrap();
    // Both buckets were asked of the CMC for a European subnet, and are
    // the directory's: it installed, registered and controls them.
    let out = dev.query(admin, cmc, "subnet_selections", &Encode!().unwrap()).unwrap();
    let asked = Decode!(&out.result.unwrap(), Vec<Option<SubnetSelection>>).unwrap();
    let european = Some(SubnetSelection::Filter(SubnetFilter { subnet_type: Some("european".into()) }));
    assert_eq!(asked, vec![european.clone(), european]);
    assert_eq!(d.buckets.len(), 2);
    for b in &d.buckets {
        assert!(dev.controllers(*b).unwrap().contains(&d.directory), "bucket {b}");
        let stat: depot_api::bucket::BucketStat = query(&mut dev, user(), *b, bm::STAT, ()).unwrap();
        assert!(!stat.read_only);
    }
    // And they take files.
    let s = start(&mut dev, &d, 10).unwrap();
    assert!(d.buckets.contains(&s.bucket));
}
