//! A hostile user against the real wasm on devnet, over the IC HTTP
//! interface (so `inspect_message` runs, as on the IC): every attempt gets
//! a refusal, and the bucket neither pays for it (cycles unchanged) nor
//! changes what it holds.

use candid::{Encode, Principal};
use depot_api::bucket::{BucketStat, PutChunkArgs};
use depot_api::directory::{CommitUploadReq, DirectoryInit, GetDownloadUrlReq, StartUploadReq};
use depot_api::methods::bucket as bm;
use depot_api::token::UploadToken;
use depot_api::{BucketError, DirectoryError};
use depot_cli::client::{CallError, Depot};
use depot_tests::env::{DepotEnv, EnvOpts};
use ic_http_certification::{HttpRequest, HttpUpdateRequest};

const CHUNK: usize = depot_api::limits::CHUNK_SIZE as usize;

fn req(name: &str, mime: Option<&str>, size: u64) -> StartUploadReq {
    StartUploadReq {
        name: name.into(),
        mime: mime.map(Into::into),
        size_bytes: size,
        sha256: None,
        retention_days: None,
    }
}

fn stat(env: &DepotEnv, bucket: Principal) -> BucketStat {
    env.with_devnet(|d| depot_tests::deploy::query(d, env.deployment.admin, bucket, bm::STAT, ()).unwrap())
}

fn cycles(env: &DepotEnv, c: Principal) -> u128 {
    env.with_devnet(|d| d.cycle_balance(c))
}

/// The bucket's cycles and books did not change, but for storage fees that
/// accrue with time: less than the cheapest ingress message, so no hostile
/// message was inducted (each would cost at least `ingress_base`).
fn assert_paid_nothing(env: &DepotEnv, bucket: Principal, before: &(u128, BucketStat), what: &str) {
    let (c, s) = (cycles(env, bucket), stat(env, bucket));
    assert_eq!(s, before.1, "{what}: the bucket's books changed");
    let spent = before.0 - c;
    let bound = depot_devnet::FeeModel::default().ingress_base;
    assert!(spent < bound, "{what}: the bucket spent {spent} cycles, at least one message's fee ({bound})");
}

/// An ingress update straight through the agent: the reject text, or
/// `None` when the call went through.
async fn raw_update(c: &Depot, canister: Principal, method: &str, arg: Vec<u8>) -> Option<String> {
    c.agent.update(&canister, method).with_arg(arg).call_and_wait().await.err().map(|e| e.to_string())
}

/// A started upload with a token for all of it.
async fn started(c: &Depot, name: &str, size: u64) -> (depot_api::directory::StartUploadRes, UploadToken) {
    let s = c.start_upload(req(name, None, size)).await.unwrap();
    let last = s.expected_chunk_count - 1;
    let t = c.get_upload_token(&s.upload_id, 0, last).await.unwrap();
    (s, t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_cannot_make_a_bucket_pay_or_store() {
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let bucket = env.deployment.buckets[0];
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let mallory = env.client(DepotEnv::identity(66)).await.unwrap();
    let (s, token) = started(&alice, "a.bin", 2 * CHUNK as u64).await;

    let before = (cycles(&env, bucket), stat(&env, bucket));
    let chunk = vec![7u8; CHUNK];
    let put = |token: UploadToken, index: u32| {
        Encode!(&PutChunkArgs { token, chunk_index: index, bytes: chunk.clone() }).unwrap()
    };

    // A garbage signature, a token for another bucket, someone else's token.
    let mut forged = token.clone();
    forged.sig = vec![0; 64];
    let mut elsewhere = token.clone();
    elsewhere.bucket = Principal::management_canister();
    for (who, arg, what) in [
        (&mallory, put(forged.clone(), 0), "forged token"),
        (&alice, put(forged, 0), "forged token from the owner"),
        (&alice, put(elsewhere, 0), "token for another bucket"),
        (&mallory, put(token.clone(), 0), "stolen token"),
        (&alice, put(token.clone(), 9), "index outside the token"),
        (&alice, vec![0x44, 0x49, 0x44, 0x4c, 0xff], "malformed Candid"),
        (&alice, vec![0u8; 1_200_000], "a megabyte of junk"),
    ] {
        let r = raw_update(who, bucket, bm::PUT_CHUNK.name, arg).await;
        assert!(r.is_some(), "{what} was accepted");
    }
    // Methods that are never ingress: the directory's, and queries as updates.
    let commit = Encode!(&depot_api::bucket::CommitFileArgs {
        file_id: s.file_id.clone(),
        upload_id: s.upload_id.to_vec(),
        name: "x".into(),
        mime: "text/html".into(),
        empty_file: None,
    })
    .unwrap();
    assert!(raw_update(&mallory, bucket, bm::COMMIT_FILE.name, commit).await.unwrap().contains("directory"));
    assert!(raw_update(&mallory, bucket, bm::STAT.name, Encode!().unwrap()).await.is_some());
    let http = HttpRequest::get("/f/00?exp=1&kid=1&sig=AA").build();
    assert!(raw_update(&mallory, bucket, "http_request", Encode!(&http).unwrap()).await.is_some());
    // An upgraded update for a request the query answers itself.
    let plain = HttpUpdateRequest::from(HttpRequest::get("/").build());
    assert!(raw_update(&mallory, bucket, "http_request_update", Encode!(&plain).unwrap()).await.is_some());

    assert_paid_nothing(&env, bucket, &before, "hostile messages");

    // The owner's real chunk goes in once; sending it again is refused
    // before it is paid for.
    let before_real = cycles(&env, bucket);
    alice.put_chunk(bucket, PutChunkArgs { token: token.clone(), chunk_index: 0, bytes: chunk.clone() }).await.unwrap();
    let after_one = (cycles(&env, bucket), stat(&env, bucket));
    let fees = depot_devnet::FeeModel::default();
    assert!(
        before_real - after_one.0 >= fees.ingress_base + fees.ingress_per_byte * CHUNK as u128,
        "an accepted chunk is paid for: the measure above can see a message"
    );
    let again = raw_update(&alice, bucket, bm::PUT_CHUNK.name, put(token, 0)).await;
    assert!(again.unwrap().contains("already stored"));
    assert_paid_nothing(&env, bucket, &after_one, "a stored chunk sent again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_file_cannot_be_refilled_and_hostile_names_are_refused() {
    let init = DirectoryInit { start_upload_per_minute: Some(20), ..Default::default() };
    let env = DepotEnv::start(EnvOpts { buckets: 1, directory_init: init, ..EnvOpts::default() }).await.unwrap();
    let bucket = env.deployment.buckets[0];
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();

    // Commit a file, keep its still-valid token, delete the file.
    let (s, token) = started(&alice, "a.bin", 100).await;
    let bytes = vec![3u8; 100];
    alice.put_chunk(bucket, PutChunkArgs { token: token.clone(), chunk_index: 0, bytes: bytes.clone() }).await.unwrap();
    let commit = CommitUploadReq { upload_id: s.upload_id.clone(), uploaded_chunk_count: None, final_sha256: None };
    alice.commit_upload(commit).await.unwrap();
    alice.delete_file(s.file_id.clone()).await.unwrap();
    // the directory's deletion reached the bucket
    let emptied = stat(&env, bucket);
    assert_eq!((emptied.used_bytes, emptied.files_count), (0, 0));
    let usage = alice.get_usage().await.unwrap();
    let r = alice.put_chunk(bucket, PutChunkArgs { token, chunk_index: 0, bytes }).await;
    assert!(
        matches!(r, Err(CallError::Bucket(BucketError::Unauthorised { ref reason })) if reason.contains("deleted")),
        "{r:?}"
    );
    assert_eq!(stat(&env, bucket), emptied, "nothing stored outside the books");
    assert_eq!(alice.get_usage().await.unwrap(), usage);

    // Names and types that would escape a folder or smuggle a type.
    for (name, mime) in [
        ("../../evil.sh", None),
        ("photos/../../evil.sh", None),
        ("/etc/passwd", None),
        ("photos/", None),
        ("a//b.txt", None),
        ("a\\b.txt", None),
        ("..", None),
        ("x.png", Some("image/png;,text/html")),
        ("x.png", Some("image/png, text/html")),
        ("x.png", Some("text/html\r\nSet-Cookie: a=b")),
    ] {
        let r = alice.start_upload(req(name, mime, 10)).await;
        assert!(
            matches!(r, Err(CallError::Directory(DirectoryError::InvalidRequest { .. }))),
            "{name:?} {mime:?}: {r:?}"
        );
    }
    assert_eq!(alice.get_usage().await.unwrap(), usage, "refusals reserve nothing");

    // A well-formed type is stored in canonical form and served with a
    // sandbox; a name with folders is saved by browsers under its last part.
    let s = alice.start_upload(req("notes/today/t.txt", Some("Text/Plain; Charset=UTF-8"), 5)).await.unwrap();
    let t = alice.get_upload_token(&s.upload_id, 0, 0).await.unwrap();
    alice.put_chunk(bucket, PutChunkArgs { token: t, chunk_index: 0, bytes: b"hello".to_vec() }).await.unwrap();
    let meta = alice
        .commit_upload(CommitUploadReq { upload_id: s.upload_id, uploaded_chunk_count: None, final_sha256: None })
        .await
        .unwrap();
    assert_eq!(meta.mime, "text/plain; charset=utf-8");
    let url =
        alice.get_download_url(GetDownloadUrlReq { file_id: meta.file_id, ttl_secs: None, disposition: None }).await;
    let url = url.unwrap().url;
    let resp = env.http().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert_eq!(h["content-security-policy"], "sandbox");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-disposition"], "inline; filename=\"t.txt\"; filename*=UTF-8''t.txt");
}

/// Malformed and oversized Candid to every method of both canisters, as
/// ingress: each is refused before either canister pays for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_arguments_to_every_endpoint_are_refused_unpaid() {
    use depot_api::directory::AdminStats;
    use depot_api::methods::{MethodName, directory as dm};
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let (directory, bucket) = (env.directory(), env.deployment.buckets[0]);
    let mallory = env.client(DepotEnv::identity(66)).await.unwrap();
    let admin_stats = || -> AdminStats {
        let r: Result<AdminStats, DirectoryError> = env
            .with_devnet(|d| depot_tests::deploy::query(d, env.deployment.admin, directory, dm::ADMIN_GET_STATS, ()))
            .unwrap();
        // The directory's balance is compared on its own, below.
        let mut s = r.unwrap();
        s.provisioning.directory_cycles = 0u8.into();
        s
    };
    let admitted = || env.with_devnet(|d| (d.ingress_admitted(directory), d.ingress_admitted(bucket)));
    let before = (admitted(), admin_stats(), cycles(&env, bucket), stat(&env, bucket));
    let junk: &[(&str, Vec<u8>)] = &[
        ("not Candid", b"hello".to_vec()),
        ("a Candid value of the wrong type", Encode!(&"text", &42u64).unwrap()),
        ("truncated Candid", b"DIDL\x01\x6c".to_vec()),
        ("20 KiB of Candid", Encode!(&serde_bytes::ByteBuf::from(vec![1u8; 20 * 1024])).unwrap()),
    ];
    let targets: Vec<(Principal, MethodName)> =
        dm::ALL.iter().map(|m| (directory, *m)).chain(bm::ALL.iter().map(|m| (bucket, *m))).collect();
    for (canister, m) in &targets {
        for (what, arg) in junk {
            let r = raw_update(&mallory, *canister, m.name, arg.clone()).await;
            assert!(r.is_some(), "{} took {what}", m.name);
        }
    }
    let big = vec![0u8; 1_100_000];
    assert!(raw_update(&mallory, bucket, bm::PUT_CHUNK.name, big.clone()).await.is_some());
    assert!(raw_update(&mallory, directory, dm::START_UPLOAD.name, big).await.is_some());

    let bound = depot_devnet::FeeModel::default().ingress_base;
    let after = (admitted(), admin_stats(), cycles(&env, bucket), stat(&env, bucket));
    assert_eq!((&after.1, &after.3), (&before.1, &before.3), "books unchanged");
    // Neither canister took (and paid the ingress fee for) any of them. The
    // directory's own 60 s maintenance timer may run meanwhile, so its
    // balance is not compared; the bucket has no periodic work.
    assert_eq!(after.0, before.0, "(directory, bucket) messages admitted");
    assert!(before.2 - after.2 < bound, "the bucket paid for a message: {}", before.2 - after.2);
    // The count moves for a well-formed message (whatever its answer).
    let _ = mallory.start_upload(req("well-formed.txt", None, 10)).await;
    assert_eq!(admitted().0, after.0.0 + 1, "a well-formed message is admitted");
}

/// Signed URLs that were forged, expired, moved to another bucket or file,
/// or re-signed with a key of the attacker's, open nothing through the
/// verifying gateway; tokens replayed across buckets, files and users store
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_urls_and_replayed_tokens_open_and_store_nothing() {
    use depot_api::url::{Disposition, UrlGrant};
    let init = DirectoryInit { start_upload_per_minute: Some(20), ..Default::default() };
    let env = DepotEnv::start(EnvOpts { buckets: 2, directory_init: init, ..EnvOpts::default() }).await.unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let bob = env.client(DepotEnv::identity(2)).await.unwrap();

    // Two files of alice's, on the two buckets (routing spreads new files).
    let mut files = vec![];
    for (i, name) in ["one.bin", "two.bin"].iter().enumerate() {
        let (s, t) = started(&alice, name, 10).await;
        alice.put_chunk(s.bucket, PutChunkArgs { token: t, chunk_index: 0, bytes: vec![i as u8; 10] }).await.unwrap();
        let req = CommitUploadReq { upload_id: s.upload_id, uploaded_chunk_count: None, final_sha256: None };
        let meta = alice.commit_upload(req).await.unwrap();
        let url = alice
            .get_download_url(GetDownloadUrlReq { file_id: meta.file_id.clone(), ttl_secs: None, disposition: None })
            .await
            .unwrap()
            .url;
        files.push((meta, url));
    }
    let (a, a_url) = &files[0];
    let (b, b_url) = &files[1];
    assert_ne!(a.bucket, b.bucket, "the files are on two buckets");
    let http = env.http();
    let status = |url: String| {
        let http = http.clone();
        async move { http.get(&url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(a_url.clone()).await, 200);

    let host = |bucket: Principal| format!("http://{bucket}.localhost:{}", env.port());
    let path_of = |url: &str| url.split_once(".localhost:").unwrap().1.split_once('/').unwrap().1.to_string();
    let (a_path, b_path) = (path_of(a_url), path_of(b_url));
    let a_key = a.file_id.key().unwrap();
    let b_key = b.file_id.key().unwrap();
    let forged = a_path.replace("sig=", "sig=AAAA");
    let expired = UrlGrant { bucket: a.bucket, file: a_key, expires_at_secs: 1, disposition: Disposition::Inline };
    let mallory_seed = [0x66u8; 32];
    let resigned =
        UrlGrant { bucket: a.bucket, file: a_key, expires_at_secs: u64::MAX / 2, disposition: Disposition::Inline };
    let swapped_file = a_path.replace(&a_key.to_hex(), &b_key.to_hex());
    for (what, url) in [
        ("forged signature", format!("{}/{forged}", host(a.bucket))),
        ("expired (signed by the attacker)", format!("{}{}", host(a.bucket), expired.sign_path(1, &mallory_seed))),
        ("re-signed with the attacker's key", format!("{}{}", host(a.bucket), resigned.sign_path(1, &mallory_seed))),
        ("on another bucket", format!("{}/{a_path}", host(b.bucket))),
        ("another file's path", format!("{}/{swapped_file}", host(a.bucket))),
        (
            "another file's path on its bucket",
            format!("{}/{}", host(b.bucket), b_path.replace(&b_key.to_hex(), &a_key.to_hex())),
        ),
        ("no signature", format!("{}/f/{}", host(a.bucket), a_key.to_hex())),
    ] {
        assert_eq!(status(url).await, 403, "{what}");
    }

    // Tokens: a genuine token replayed at the other bucket, by another user,
    // and one moved to another file without a new signature.
    let (s, t) = started(&alice, "three.bin", 10).await;
    let other_bucket = if s.bucket == a.bucket { b.bucket } else { a.bucket };
    let chunk = || vec![9u8; 10];
    let r = alice.put_chunk(other_bucket, PutChunkArgs { token: t.clone(), chunk_index: 0, bytes: chunk() }).await;
    assert!(matches!(r, Err(CallError::Bucket(BucketError::Unauthorised { .. }))), "other bucket: {r:?}");
    let r = bob.put_chunk(s.bucket, PutChunkArgs { token: t.clone(), chunk_index: 0, bytes: chunk() }).await;
    assert!(matches!(r, Err(CallError::Bucket(BucketError::Unauthorised { .. }))), "other user: {r:?}");
    let mut moved = t.clone();
    moved.file_id = a.file_id.clone();
    let r = alice.put_chunk(s.bucket, PutChunkArgs { token: moved, chunk_index: 0, bytes: chunk() }).await;
    assert!(matches!(r, Err(CallError::Bucket(BucketError::Unauthorised { .. }))), "other file: {r:?}");
    for bucket in [a.bucket, b.bucket] {
        let listed = alice.list_chunks(bucket, s.file_id.clone()).await;
        assert!(matches!(listed, Err(CallError::Bucket(BucketError::NotFound))), "nothing stored: {listed:?}");
    }
    // The genuine use still works: the refusals changed nothing.
    alice.put_chunk(s.bucket, PutChunkArgs { token: t, chunk_index: 0, bytes: chunk() }).await.unwrap();
}
