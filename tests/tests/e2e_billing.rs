//! Billing through PAPI end to end: every payment path against devnet's
//! test ledgers (cycles ledger at its mainnet id, an ICRC-2 token ledger,
//! a cycles wallet for attached cycles), driven by ic-agent and the CLI's
//! client; refusals leave every balance alone; uploads hold, charge and
//! release credit.

use candid::{Decode, Encode, Nat, Principal};
use depot_api::DirectoryError;
use depot_api::billing::*;
use depot_cli::billing::{Pay, deposit as cli_deposit};
use depot_cli::client::{CallError, Depot};
use depot_tests::env::{DepotEnv, EnvOpts};
use depot_tests::ledgers::{
    CYCLES_LEDGER_FEE, Ledgers, TOKEN_CYCLES_PER_UNIT, TOKEN_FEE, accept_test_token, accept_token, deploy_ledgers,
    deploy_wallet, fund_newcomer,
};
use ic_agent::Identity;
use icrc_ledger_types::icrc1::account::Account as IcrcAccount;
use icrc_ledger_types::icrc2::approve::{ApproveArgs, ApproveError};
use std::sync::Arc;
use test_ledger_core::interfaces::{CallCanisterArgs128, CallResult};

const T: u128 = 1_000_000_000_000;

struct Fixture {
    env: DepotEnv,
    l: Ledgers,
    alice: Depot,
    bob: Depot,
    alice_id: Arc<dyn Identity>,
}

async fn fixture() -> Fixture {
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let (alice_id, bob_id) = (DepotEnv::identity(1), DepotEnv::identity(2));
    let (alice_p, bob_p) = (alice_id.sender().unwrap(), bob_id.sender().unwrap());
    let admin = env.deployment.admin;
    let d = env.deployment.clone();
    let l = env
        .with_devnet(|dev| -> anyhow::Result<Ledgers> {
            let l = deploy_ledgers(dev, admin, admin, &[])?;
            fund_newcomer(dev, admin, &l, alice_p)?;
            fund_newcomer(dev, admin, &l, bob_p)?;
            accept_test_token(dev, &d, &l)?;
            Ok(l)
        })
        .unwrap();
    let alice = env.client(alice_id.clone()).await.unwrap();
    let bob = env.client(bob_id).await.unwrap();
    Fixture { env, l, alice, bob, alice_id }
}

/// The CLI's upload of `path`, kept `retention_days` (or until deleted).
fn upload_opts(path: std::path::PathBuf, retention_days: Option<u32>) -> depot_cli::upload::UploadOpts {
    depot_cli::upload::UploadOpts { parallel: 2, retention_days, ..depot_tests::clients::plain_upload(path) }
}

fn account(owner: Principal) -> IcrcAccount {
    IcrcAccount { owner, subaccount: None }
}

async fn ledger_balance(c: &Depot, ledger: Principal, owner: Principal) -> u128 {
    let reply = c.raw_query(ledger, "icrc1_balance_of", Encode!(&account(owner)).unwrap()).await.unwrap();
    let n = Decode!(&reply, Nat).unwrap();
    n.0.try_into().unwrap()
}

/// `payer` lets the directory take `amount` (plus the fee) on `ledger`,
/// for `on_behalf_of`'s deposits when given (PAPI's patron subaccount).
async fn approve(c: &Depot, ledger: Principal, amount: u128, on_behalf_of: Option<Principal>) {
    let args = ApproveArgs {
        from_subaccount: None,
        spender: IcrcAccount {
            owner: c.directory,
            subaccount: on_behalf_of.map(|p| ic_papi_api::principal2account(&p).to_vec().try_into().unwrap()),
        },
        amount: Nat::from(amount),
        expected_allowance: None,
        expires_at: None,
        fee: None,
        memo: None,
        created_at_time: None,
    };
    let reply = c.raw_update(ledger, "icrc2_approve", Encode!(&args).unwrap()).await.unwrap();
    Decode!(&reply, Result<Nat, ApproveError>).unwrap().unwrap();
}

fn req(payment: Payment, amount: u64, n: u8, now_ns: u64) -> DepositReq {
    DepositReq { payment, amount, nonce: serde_bytes::ByteBuf::from(vec![n; 16]), created_at_ns: now_ns }
}

fn billing_err<T: std::fmt::Debug>(r: Result<T, CallError>) -> BillingError {
    match r {
        Err(CallError::Billing(e)) => e,
        other => panic!("expected a billing error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_papi_payment_path_credits_exactly_what_was_paid() {
    let f = fixture().await;
    let (alice_p, bob_p) = (f.alice.me(), f.bob.me());
    let (cycles, token) = (f.l.cycles, f.l.token);
    let directory = f.env.directory();
    let now = f.env.with_devnet(|d| d.time_ns());
    let dir_cycles_0 = f.env.with_devnet(|d| d.cycle_balance(directory));
    let alice_cycles_0 = ledger_balance(&f.alice, cycles, alice_p).await;
    let alice_tokens_0 = ledger_balance(&f.alice, token, alice_p).await;

    // Caller pays cycles (the CLI's path: approve, then deposit).
    let r = cli_deposit(&f.alice, Pay::Cycles(2 * T)).await.unwrap();
    assert_eq!((r.credited_cycles, r.rate, r.balance_cycles), (2 * T, 1, 2 * T));
    // the approval's fee, the amount and the withdrawal's fee
    assert_eq!(ledger_balance(&f.alice, cycles, alice_p).await, alice_cycles_0 - 2 * T - 2 * CYCLES_LEDGER_FEE);
    let gained = f.env.with_devnet(|d| d.cycle_balance(directory)) - dir_cycles_0;
    assert!(gained > 2 * T - T / 100, "the directory received the cycles: {gained}");

    // Caller pays tokens: 5 TUSD at 740,000 cycles per unit.
    let pricing = f.alice.get_pricing().await.unwrap();
    let price = pricing.tokens[0].clone();
    let r = cli_deposit(&f.alice, Pay::Token { price: price.clone(), units: 5_000_000 }).await.unwrap();
    assert_eq!((r.credited_cycles, r.rate), (5_000_000 * u128::from(TOKEN_CYCLES_PER_UNIT), TOKEN_CYCLES_PER_UNIT));
    assert_eq!(ledger_balance(&f.alice, token, alice_p).await, alice_tokens_0 - 5_000_000 - 2 * u128::from(TOKEN_FEE));
    assert_eq!(ledger_balance(&f.alice, token, directory).await, 5_000_000);

    // A patron (bob) pays cycles for alice; alice is credited.
    approve(&f.bob, cycles, T + CYCLES_LEDGER_FEE, Some(alice_p)).await;
    let patron = Account { owner: bob_p, subaccount: None };
    let r = f.alice.deposit(req(Payment::PatronPaysIcrc2Cycles(patron.clone()), T as u64, 1, now)).await.unwrap();
    assert_eq!(r.credited_cycles, T);
    // ... and tokens.
    approve(&f.bob, token, 1_000_000 + u128::from(TOKEN_FEE), Some(alice_p)).await;
    let pay = Payment::PatronPaysIcrc2Tokens(PatronPaysIcrc2Tokens { ledger: token, patron });
    let r = f.alice.deposit(req(pay, 1_000_000, 2, now)).await.unwrap();
    assert_eq!(r.credited_cycles, 1_000_000 * u128::from(TOKEN_CYCLES_PER_UNIT));
    assert_eq!(f.bob.get_balance().await.unwrap().balance_cycles, 0, "the patron is not credited");

    // Attached cycles, from a canister: alice's wallet attaches 1.5 T to a
    // deposit of 1 T; the directory keeps 1 T, the wallet gets 0.5 T back.
    let wallet = f.env.with_devnet(|d| deploy_wallet(d, alice_p, 5 * T)).unwrap();
    let before = f.env.with_devnet(|d| d.cycle_balance(wallet));
    let dep = req(Payment::AttachedCycles, T as u64, 3, now);
    let call = CallCanisterArgs128 {
        canister: directory,
        method_name: "deposit".into(),
        args: Encode!(&dep).unwrap(),
        cycles: Nat::from(3 * T / 2),
    };
    let reply = f.alice.raw_update(wallet, "wallet_call128", Encode!(&call).unwrap()).await.unwrap();
    let out = Decode!(&reply, Result<CallResult, String>).unwrap().unwrap();
    let r = Decode!(&out.return_, DepositResult).unwrap().unwrap();
    assert_eq!((r.credited_cycles, r.balance_cycles), (T, T), "the wallet's own account");
    let spent = before - f.env.with_devnet(|d| d.cycle_balance(wallet));
    assert!((T..T + T / 100).contains(&spent), "only the amount left the wallet: {spent}");

    // Alice's account: every deposit, newest first.
    let b = f.alice.get_balance().await.unwrap();
    let expected =
        2 * T + 5_000_000 * u128::from(TOKEN_CYCLES_PER_UNIT) + T + 1_000_000 * u128::from(TOKEN_CYCLES_PER_UNIT);
    assert_eq!((b.balance_cycles, b.movements.len()), (expected, 4));
    let kinds: Vec<String> = b
        .movements
        .iter()
        .map(|m| match &m.kind {
            MovementKind::Deposit { payment, .. } => payment.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["PatronPaysIcrc2Tokens", "PatronPaysIcrc2Cycles", "CallerPaysIcrc2Tokens", "CallerPaysIcrc2Cycles"]
    );
    drop(f.alice_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_payments_are_typed_and_move_no_balance() {
    let f = fixture().await;
    let alice_p = f.alice.me();
    let (cycles, token) = (f.l.cycles, f.l.token);
    let directory = f.env.directory();
    let now = f.env.with_devnet(|d| d.time_ns());
    let alice_cycles = ledger_balance(&f.alice, cycles, alice_p).await;
    let alice_tokens = ledger_balance(&f.alice, token, alice_p).await;

    // No approval: the cycles ledger refuses; nothing moves.
    let e = billing_err(f.alice.deposit(req(Payment::CallerPaysIcrc2Cycles, T as u64, 1, now)).await);
    assert!(
        matches!(&e, BillingError::PaymentFailed { ledger, reason } if *ledger == cycles && reason.contains("InsufficientAllowance")),
        "{e:?}"
    );
    // A retry of the same nonce gets the same answer (even after approving).
    approve(&f.alice, cycles, 2 * T, None).await;
    let again = billing_err(f.alice.deposit(req(Payment::CallerPaysIcrc2Cycles, T as u64, 1, now)).await);
    assert_eq!(again, e);
    // Too little allowance for the token.
    approve(&f.alice, token, 100, None).await;
    let pay = Payment::CallerPaysIcrc2Tokens(CallerPaysIcrc2Tokens { ledger: token });
    let e = billing_err(f.alice.deposit(req(pay, 1_000_000, 2, now)).await);
    assert!(matches!(&e, BillingError::PaymentFailed { ledger, .. } if *ledger == token), "{e:?}");
    // An unknown token: refused before any ledger call.
    let stranger = f.env.deployment.buckets[0];
    let pay = Payment::CallerPaysIcrc2Tokens(CallerPaysIcrc2Tokens { ledger: stranger });
    assert_eq!(
        billing_err(f.alice.deposit(req(pay, 1_000_000, 3, now)).await),
        BillingError::UnsupportedToken { ledger: stranger }
    );
    // Attached cycles by ingress: none attached.
    let e = billing_err(f.alice.deposit(req(Payment::AttachedCycles, T as u64, 4, now)).await);
    assert_eq!(e, BillingError::InsufficientFunds { needed: T as u64, available: 0 });
    // Below the minimum deposit.
    let e = billing_err(f.alice.deposit(req(Payment::CallerPaysIcrc2Cycles, 1_000, 5, now)).await);
    assert!(matches!(e, BillingError::BelowMinimum { .. }), "{e:?}");
    // A "ledger" that is not one rejects the call: LedgerUnreachable, nothing paid.
    let d = f.env.deployment.clone();
    let fake =
        TokenPrice { ledger: stranger, symbol: "FAKE".into(), decimals: 6, ledger_fee: 0, cycles_per_unit: 1_000_000 };
    f.env.with_devnet(|dev| accept_token(dev, &d, fake)).unwrap();
    let pay = Payment::CallerPaysIcrc2Tokens(CallerPaysIcrc2Tokens { ledger: stranger });
    let e = billing_err(f.alice.deposit(req(pay, 1_000_000, 6, now)).await);
    assert_eq!(e, BillingError::LedgerUnreachable { ledger: stranger });
    // A ledger that traps in icrc2_transfer_from: the same, nothing paid.
    let admin = f.env.deployment.admin;
    let fault =
        |on: bool| f.env.with_devnet(|d| d.update(admin, token, "test_set_trap_transfer_from", &Encode!(&on).unwrap()));
    fault(true).unwrap().result.unwrap();
    approve(&f.alice, token, 1_000_000 + u128::from(TOKEN_FEE), None).await;
    let pay = Payment::CallerPaysIcrc2Tokens(CallerPaysIcrc2Tokens { ledger: token });
    let e = billing_err(f.alice.deposit(req(pay, 1_000_000, 8, now)).await);
    assert_eq!(e, BillingError::LedgerUnreachable { ledger: token });
    fault(false).unwrap().result.unwrap();

    // Nothing was credited, nothing left alice's ledger accounts but the
    // approvals' fees, and the directory holds no tokens.
    let b = f.alice.get_balance().await.unwrap();
    assert_eq!((b.balance_cycles, b.movements.len()), (0, 0));
    assert_eq!(ledger_balance(&f.alice, cycles, alice_p).await, alice_cycles - CYCLES_LEDGER_FEE);
    assert_eq!(ledger_balance(&f.alice, token, alice_p).await, alice_tokens - 2 * u128::from(TOKEN_FEE));
    assert_eq!(ledger_balance(&f.alice, token, directory).await, 0);

    // The same deposit sent twice is credited once.
    let first = f.alice.deposit(req(Payment::CallerPaysIcrc2Cycles, T as u64, 7, now)).await.unwrap();
    let second = f.alice.deposit(req(Payment::CallerPaysIcrc2Cycles, T as u64, 7, now)).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(f.alice.get_balance().await.unwrap().balance_cycles, T);
    assert_eq!(
        ledger_balance(&f.alice, cycles, alice_p).await,
        alice_cycles - CYCLES_LEDGER_FEE - T - CYCLES_LEDGER_FEE,
        "the approval's fee, then the amount and the withdrawal's fee, once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_hold_credit_charge_it_at_commit_and_storage_by_the_day() {
    let f = fixture().await;
    let d = f.env.deployment.clone();
    // No free tier, so a small file costs something.
    let mut pricing = f.alice.get_pricing().await.unwrap();
    pricing.free_bytes = 0;
    f.env
        .with_devnet(|dev| {
            depot_tests::deploy::call(
                dev,
                d.admin,
                d.directory,
                depot_api::methods::directory::ADMIN_SET_PRICING,
                (pricing.clone(),),
            )
        })
        .unwrap()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, depot_tests::drive::content(7, 3_000_000)).unwrap();
    let opts = || upload_opts(path.clone(), None);

    // Without credit: refused with the amounts, and nothing held.
    let cost = f.alice.estimate_upload_cost(3_000_000).await.unwrap();
    assert!(cost.cycles > 0 && cost.required_cycles == cost.cycles);
    let e = depot_cli::upload::upload(&f.alice, dir.path(), opts()).await.unwrap_err();
    let Some(CallError::Directory(DirectoryError::InsufficientCredit { required, available })) =
        e.downcast_ref::<CallError>()
    else {
        panic!("{e:#}")
    };
    assert_eq!((u128::from(*required), *available), (cost.required_cycles, 0));

    // With credit: the upload holds, then the commit charges its ingress.
    cli_deposit(&f.alice, Pay::Cycles(T / 2)).await.unwrap();
    let out = depot_cli::upload::upload(&f.alice, dir.path(), opts()).await.unwrap();
    let b = f.alice.get_balance().await.unwrap();
    assert_eq!(b.held_cycles, 0);
    assert_eq!(b.billable_bytes, cost.billable_bytes);
    let ingress: Vec<u128> = b
        .movements
        .iter()
        .filter(|m| matches!(m.kind, MovementKind::Charge { kind: ChargeKind::Ingress, .. }))
        .map(|m| m.cycles)
        .collect();
    assert_eq!(ingress, [cost.upload_cycles]);
    // and the seconds of storage since the commit
    let storage = T / 2 - cost.upload_cycles - b.balance_cycles;
    assert!(storage < b.burn_cycles_per_day / 1000, "{storage}");
    assert!(b.burn_cycles_per_day > 0 && b.runway_days.is_some());

    // A day later the job has charged a day of storage.
    f.env.with_devnet(|dev| depot_tests::drive::jump(dev, std::time::Duration::from_secs(86_400), 2));
    let after = f.alice.get_balance().await.unwrap();
    let day = b.balance_cycles - after.balance_cycles;
    assert!(
        day.abs_diff(b.burn_cycles_per_day) <= b.burn_cycles_per_day / 50,
        "a day costs {day}, burn {}",
        b.burn_cycles_per_day
    );
    assert!(matches!(after.movements[0].kind, MovementKind::Charge { kind: ChargeKind::Storage, .. }));

    // Deleted: storage stops.
    f.alice.delete_file(out.meta.file_id.clone()).await.unwrap();
    let b = f.alice.get_balance().await.unwrap();
    assert_eq!((b.billable_bytes, b.burn_cycles_per_day), (0, 0));
}

/// A plain `curl` of a fresh signed URL of `file_id`, through devnet's
/// verifying gateway: (status, body).
async fn curl_file(c: &Depot, file_id: &depot_api::FileId) -> (u16, Vec<u8>) {
    let req = depot_api::directory::GetDownloadUrlReq { file_id: file_id.clone(), ttl_secs: None, disposition: None };
    let url = depot_tests::clients::loopback_url(&c.get_download_url(req).await.unwrap().url);
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("body");
        let o = depot_tests::clients::run("curl", &["-s", "-o", out.to_str().unwrap(), "-w", "%{http_code}", &url]);
        let status = String::from_utf8_lossy(&o.stdout).parse().unwrap();
        (status, std::fs::read(&out).unwrap_or_default())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_account_gets_a_certified_402_is_served_again_when_paid_and_deleted_later() {
    let f = fixture().await;
    let d = f.env.deployment.clone();
    // Storage at the highest price allowed and no grace, so that credit
    // runs out within devnet minutes: the gateway verifies certificates
    // against the wall clock, so devnet time may run only minutes ahead
    // while files are fetched (grace is tested natively, in days).
    let mut pricing = f.alice.get_pricing().await.unwrap();
    pricing.free_bytes = 0;
    pricing.storage_cycles_per_gib_month = 1_000_000 * T;
    pricing.first_period_days = 0;
    pricing.grace_days = 0;
    pricing.deletion_days = 1;
    f.env.with_devnet(|dev| depot_tests::deploy::set_pricing(dev, &d, pricing)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    let content = depot_tests::drive::content(9, 3_000_000);
    std::fs::write(&path, &content).unwrap();
    let opts = upload_opts(path, None);

    // 0.1 T buys about 90 s of storage of these 3 MB at this price.
    cli_deposit(&f.alice, Pay::Cycles(T / 10)).await.unwrap();
    let file = depot_cli::upload::upload(&f.alice, dir.path(), opts).await.unwrap().meta.file_id;
    let (status, body) = curl_file(&f.alice, &file).await;
    assert!(status == 200 && body == content, "served whole: {status}");

    // Two ticks later the credit is gone: suspended, the job holds the file
    // back, and a valid URL gets the bucket's certified 402.
    f.env.with_devnet(|dev| depot_tests::drive::maintain(dev, 2));
    let b = f.alice.get_balance().await.unwrap();
    assert!(matches!(b.state, AccountState::Suspended { .. }), "{:?}", b.state);
    let (status, body) = curl_file(&f.alice, &file).await;
    let body = String::from_utf8_lossy(&body).to_string();
    assert_eq!(status, 402, "{body}");
    assert!(body.contains("unpaid") && body.contains("depot deposit"), "{body}");
    // the owner cannot read it by Candid either, nor upload more
    let err = f.alice.get_chunk(f.env.deployment.buckets[0], file.clone(), 0).await.unwrap_err();
    assert!(matches!(err, CallError::Bucket(depot_api::BucketError::Unauthorised { .. })), "{err:?}");
    let start = depot_api::directory::StartUploadReq {
        name: "more.bin".into(),
        mime: None,
        size_bytes: 10,
        sha256: None,
        retention_days: None,
    };
    let refused = f.alice.start_upload(start).await;
    assert!(matches!(refused, Err(CallError::Directory(DirectoryError::InsufficientCredit { .. }))), "{refused:?}");

    // Paid: served again at once (the deposit brings the buckets along).
    cli_deposit(&f.alice, Pay::Cycles(T)).await.unwrap();
    assert_eq!(f.alice.get_balance().await.unwrap().state, AccountState::Active);
    let (status, body) = curl_file(&f.alice, &file).await;
    assert!(status == 200 && body == content, "served again: {status}");

    // Unpaid again, past the deletion day: the file is deleted and no
    // longer charged.
    f.env.with_devnet(|dev| depot_tests::drive::jump(dev, std::time::Duration::from_secs(3 * 86_400), 3));
    let b = f.alice.get_balance().await.unwrap();
    assert_eq!((b.billable_bytes, b.burn_cycles_per_day), (0, 0), "{b:?}");
    let gone = f.alice.get_file_meta(file.clone()).await;
    assert!(matches!(gone, Err(CallError::Directory(DirectoryError::NotFound))), "{gone:?}");
    drop(f.alice_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canister_caller_pays_its_bucket_with_cycles_attached_to_put_chunk() {
    use depot_api::bucket::{PutChunkArgs, PutChunkResult};
    use depot_api::directory::{GetUploadTokenReq, StartUploadReq, StartUploadResult, UploadTokenResult};
    let f = fixture().await;
    let directory = f.env.directory();
    let wallet = f.env.with_devnet(|d| deploy_wallet(d, f.alice.me(), 5 * T)).unwrap();
    // Every call below is the wallet's: it owns the upload.
    let via_wallet = |canister: Principal, method: &str, args: Vec<u8>, cycles: u128| {
        let call = CallCanisterArgs128 { canister, method_name: method.into(), args, cycles: Nat::from(cycles) };
        let c = &f.alice;
        async move {
            let reply = c.raw_update(wallet, "wallet_call128", Encode!(&call).unwrap()).await.unwrap();
            Decode!(&reply, Result<CallResult, String>).unwrap().unwrap().return_
        }
    };
    let start = StartUploadReq {
        name: "from-a-canister.txt".into(),
        mime: None,
        size_bytes: 11,
        sha256: None,
        retention_days: None,
    };
    let reply = via_wallet(directory, "start_upload", Encode!(&start).unwrap(), 0).await;
    let s = Decode!(&reply, StartUploadResult).unwrap().unwrap();
    let req = GetUploadTokenReq { upload_id: s.upload_id.clone(), first_chunk: 0, last_chunk: 0 };
    let reply = via_wallet(directory, "get_upload_token", Encode!(&req).unwrap(), 0).await;
    let token = Decode!(&reply, UploadTokenResult).unwrap().unwrap();
    let balances = || f.env.with_devnet(|d| (d.cycle_balance(wallet), d.cycle_balance(s.bucket)));

    // A refused chunk keeps none of the cycles: they go back.
    let (w0, b0) = balances();
    let bad = PutChunkArgs { token: token.clone(), chunk_index: 0, bytes: b"too short".to_vec() };
    let reply = via_wallet(s.bucket, "put_chunk", Encode!(&bad).unwrap(), T).await;
    assert!(Decode!(&reply, PutChunkResult).unwrap().is_err());
    let (w1, b1) = balances();
    assert!(w0 - w1 < T / 100 && b1 <= b0, "refunded: wallet spent {}", w0 - w1);

    // A stored chunk keeps them all.
    let good = PutChunkArgs { token, chunk_index: 0, bytes: b"hello world".to_vec() };
    let reply = via_wallet(s.bucket, "put_chunk", Encode!(&good).unwrap(), T).await;
    Decode!(&reply, PutChunkResult).unwrap().unwrap();
    let (w2, b2) = balances();
    assert!((T..T + T / 100).contains(&(w1 - w2)), "the wallet paid {}", w1 - w2);
    assert!(b2 > b1 + T - T / 100, "the bucket received them: {}", b2 - b1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_kept_for_a_day_is_deleted_when_its_retention_ends_unless_extended() {
    let f = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let upload = |name: &str, days: Option<u32>| {
        let path = dir.path().join(name);
        std::fs::write(&path, depot_tests::drive::content(3, 1000)).unwrap();
        upload_opts(path, days)
    };
    let now = f.env.with_devnet(|d| d.time_ns());
    let short = depot_cli::upload::upload(&f.alice, dir.path(), upload("short.txt", Some(1))).await.unwrap().meta;
    let longer = depot_cli::upload::upload(&f.alice, dir.path(), upload("longer.txt", Some(1))).await.unwrap().meta;
    let day = 86_400_000_000_000u64;
    assert!(short.delete_at_ns.is_some_and(|t| t.abs_diff(now + day) < day / 24), "{:?}", short.delete_at_ns);
    // the owner extends one of them to 5 days
    let req = depot_api::directory::SetRetentionReq { file_id: longer.file_id.clone(), days: Some(5) };
    let extended = f.alice.set_retention(req).await.unwrap();
    assert!(extended.delete_at_ns.unwrap() > longer.delete_at_ns.unwrap() + 3 * day);

    f.env.with_devnet(|dev| depot_tests::drive::jump(dev, std::time::Duration::from_secs(2 * 86_400), 2));
    let gone = f.alice.get_file_meta(short.file_id.clone()).await;
    assert!(matches!(gone, Err(CallError::Directory(DirectoryError::NotFound))), "{gone:?}");
    let kept = f.alice.get_file_meta(longer.file_id.clone()).await.unwrap();
    assert_eq!(kept.delete_at_ns, extended.delete_at_ns);
}

/// A seeded random mix of deposits (cycles and tokens), uploads, deletes
/// and days; then the books: each account's deposits equal its balance plus
/// its charges less what it owes, and the ledgers moved exactly what was
/// deposited plus their fees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_random_mix_the_books_balance_on_the_directory_and_the_ledgers() {
    use rand::{Rng, SeedableRng};
    let seed: u64 = std::env::var("DEPOT_BOOKS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0xB00C5);
    println!("seed {seed} (DEPOT_BOOKS_SEED replays it)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let f = fixture().await;
    let d = f.env.deployment.clone();
    let mut pricing = f.alice.get_pricing().await.unwrap();
    pricing.free_bytes = 0;
    f.env.with_devnet(|dev| depot_tests::deploy::set_pricing(dev, &d, pricing.clone())).unwrap();
    let price = pricing.tokens[0].clone();
    let clients = [&f.alice, &f.bob];
    let (cycles, token) = (f.l.cycles, f.l.token);
    let mut start_cycles = vec![];
    let mut start_tokens = vec![];
    for c in clients {
        start_cycles.push(ledger_balance(c, cycles, c.me()).await);
        start_tokens.push(ledger_balance(c, token, c.me()).await);
    }
    let mut credited = [0u128; 2];
    let mut paid_cycles = [0u128; 2];
    let mut paid_tokens = [0u128; 2];
    let mut token_units = [0u128; 2];
    let mut files: Vec<Vec<depot_api::FileId>> = vec![vec![], vec![]];
    let dir = tempfile::tempdir().unwrap();
    for step in 0..24 {
        let u = rng.gen_range(0..2);
        let c = clients[u];
        match rng.gen_range(0..10) {
            0..=1 => {
                let amount = rng.gen_range(T / 10..T);
                let r = cli_deposit(c, Pay::Cycles(amount)).await.unwrap();
                credited[u] += r.credited_cycles;
                paid_cycles[u] += amount + 2 * CYCLES_LEDGER_FEE;
            }
            2 => {
                let units = rng.gen_range(200_000u128..2_000_000);
                let r = cli_deposit(c, Pay::Token { price: price.clone(), units }).await.unwrap();
                credited[u] += r.credited_cycles;
                paid_tokens[u] += units + 2 * u128::from(TOKEN_FEE);
                token_units[u] += units;
            }
            3..=6 => {
                let path = dir.path().join(format!("f{step}.bin"));
                std::fs::write(&path, depot_tests::drive::content(step as u8, rng.gen_range(1..3_000_000))).unwrap();
                let opts = upload_opts(path, None);
                match depot_cli::upload::upload(c, dir.path(), opts).await {
                    Ok(out) => files[u].push(out.meta.file_id),
                    Err(e) => assert!(
                        matches!(
                            e.downcast_ref::<CallError>(),
                            Some(CallError::Directory(DirectoryError::InsufficientCredit { .. }))
                        ),
                        "{e:#}"
                    ),
                }
            }
            7 if !files[u].is_empty() => {
                let i = rng.gen_range(0..files[u].len());
                c.delete_file(files[u].swap_remove(i)).await.unwrap();
            }
            _ => {
                let hours = rng.gen_range(1..72);
                f.env.with_devnet(|dev| depot_tests::drive::jump(dev, std::time::Duration::from_secs(hours * 3600), 1));
            }
        }
    }
    for (u, c) in clients.iter().enumerate() {
        let b = c.get_balance().await.unwrap();
        assert_eq!(b.deposited_cycles, credited[u], "user {u}: what was credited");
        assert_eq!(b.deposited_cycles + b.owed_cycles, b.balance_cycles + b.charged_cycles, "user {u}: {b:?}");
        assert_eq!(
            ledger_balance(c, cycles, c.me()).await,
            start_cycles[u] - paid_cycles[u],
            "user {u}: cycles ledger"
        );
        assert_eq!(ledger_balance(c, token, c.me()).await, start_tokens[u] - paid_tokens[u], "user {u}: token ledger");
    }
    // The directory's token account holds every deposited unit (the fees
    // went to the ledger).
    assert_eq!(ledger_balance(&f.alice, token, f.env.directory()).await, token_units.iter().sum::<u128>());
}
