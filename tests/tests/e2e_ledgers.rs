//! devnet's test-only ledgers, used as clients use the real ones: ic-agent
//! over devnet's HTTP interface, with the types of `icrc-ledger-types` and
//! `ic-cycles-ledger-client` (the crate PAPI calls the cycles ledger with).
//! The cycles ledger sits at its mainnet id; attached cycles come through a
//! cycles wallet, as ingress messages carry none.

use candid::{CandidType, Decode, Encode, Nat, Principal};
use depot_tests::env::{DepotEnv, EnvOpts};
use depot_tests::ledgers::{
    CYCLES_LEDGER_ID, NEWCOMER_CYCLES, NEWCOMER_TOKENS, TOKEN_FEE, TOKEN_SYMBOL, deploy_ledgers, deploy_wallet,
    fund_newcomer,
};
use ic_agent::{Agent, Identity};
use ic_cycles_ledger_client as cl;
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc1::transfer::{TransferArg, TransferError};
use icrc_ledger_types::icrc2::allowance::{Allowance, AllowanceArgs};
use icrc_ledger_types::icrc2::approve::{ApproveArgs, ApproveError};
use icrc_ledger_types::icrc2::transfer_from::{TransferFromArgs, TransferFromError};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use test_ledger_core::interfaces::{CallCanisterArgs128, CallResult, SupportedStandard};

const CYCLES_FEE: u128 = depot_tests::ledgers::CYCLES_LEDGER_FEE;
const T: u128 = 1_000_000_000_000;

async fn agent(env: &DepotEnv, identity: Arc<dyn Identity>) -> Agent {
    let agent = Agent::builder().with_url(env.url()).with_arc_identity(identity).build().unwrap();
    agent.fetch_root_key().await.unwrap();
    agent
}

async fn update<R: CandidType + DeserializeOwned>(a: &Agent, c: Principal, method: &str, arg: Vec<u8>) -> R {
    let bytes = a.update(&c, method).with_arg(arg).call_and_wait().await.unwrap();
    Decode!(&bytes, R).unwrap()
}

async fn query<R: CandidType + DeserializeOwned>(a: &Agent, c: Principal, method: &str, arg: Vec<u8>) -> R {
    let bytes = a.query(&c, method).with_arg(arg).call().await.unwrap();
    Decode!(&bytes, R).unwrap()
}

fn account(p: Principal) -> Account {
    Account { owner: p, subaccount: None }
}

fn transfer(to: Principal, amount: u64, created_at_time: Option<u64>) -> TransferArg {
    TransferArg {
        from_subaccount: None,
        to: account(to),
        fee: None,
        created_at_time,
        memo: None,
        amount: Nat::from(amount),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_ledger_transfers_approves_and_mints_for_an_unmodified_client() {
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let (alice_id, bob_id) = (DepotEnv::identity(1), DepotEnv::identity(2));
    let (alice_p, bob_p, carol) =
        (alice_id.sender().unwrap(), bob_id.sender().unwrap(), DepotEnv::identity(3).sender().unwrap());
    let admin = env.deployment.admin;
    let minter_id = DepotEnv::identity(9);
    let minter_p = minter_id.sender().unwrap();
    let l = env.with_devnet(|d| deploy_ledgers(d, admin, minter_p, &[(alice_p, 1_000_000)])).unwrap();
    let (alice, bob) = (agent(&env, alice_id).await, agent(&env, bob_id).await);
    let balance = |p: Principal| {
        let a = alice.clone();
        async move { query::<Nat>(&a, l.token, "icrc1_balance_of", Encode!(&account(p)).unwrap()).await }
    };

    assert_eq!(query::<String>(&alice, l.token, "icrc1_symbol", Encode!().unwrap()).await, TOKEN_SYMBOL);
    assert_eq!(query::<Nat>(&alice, l.token, "icrc1_fee", Encode!().unwrap()).await, Nat::from(TOKEN_FEE));
    let standards: Vec<SupportedStandard> =
        query(&alice, l.token, "icrc1_supported_standards", Encode!().unwrap()).await;
    assert!(standards.iter().any(|s| s.name == "ICRC-2"), "{standards:?}");

    // A transfer pays the fee; the same transfer with a time is deduplicated.
    let now = env.with_devnet(|d| d.time_ns());
    let first: Result<Nat, TransferError> =
        update(&alice, l.token, "icrc1_transfer", Encode!(&transfer(bob_p, 100_000, Some(now))).unwrap()).await;
    let block = first.unwrap();
    let again: Result<Nat, TransferError> =
        update(&alice, l.token, "icrc1_transfer", Encode!(&transfer(bob_p, 100_000, Some(now))).unwrap()).await;
    assert_eq!(again, Err(TransferError::Duplicate { duplicate_of: block }));
    assert_eq!(balance(alice_p).await, Nat::from(1_000_000 - 100_000 - TOKEN_FEE));
    assert_eq!(balance(bob_p).await, Nat::from(100_000u64));
    let bad_fee = TransferArg { fee: Some(Nat::from(1u8)), ..transfer(bob_p, 1, None) };
    let r: Result<Nat, TransferError> = update(&alice, l.token, "icrc1_transfer", Encode!(&bad_fee).unwrap()).await;
    assert_eq!(r, Err(TransferError::BadFee { expected_fee: Nat::from(TOKEN_FEE) }));

    // ICRC-2: bob may move 50,000 of alice's tokens (plus the fee), once.
    let approve = ApproveArgs {
        from_subaccount: None,
        spender: account(bob_p),
        amount: Nat::from(50_000 + TOKEN_FEE),
        expected_allowance: Some(Nat::from(0u8)),
        expires_at: None,
        fee: None,
        memo: None,
        created_at_time: None,
    };
    let r: Result<Nat, ApproveError> = update(&alice, l.token, "icrc2_approve", Encode!(&approve).unwrap()).await;
    r.unwrap();
    let allowance: Allowance = query(
        &alice,
        l.token,
        "icrc2_allowance",
        Encode!(&AllowanceArgs { account: account(alice_p), spender: account(bob_p) }).unwrap(),
    )
    .await;
    assert_eq!(allowance.allowance, Nat::from(50_000 + TOKEN_FEE));
    let pull = |amount: u64| TransferFromArgs {
        spender_subaccount: None,
        from: account(alice_p),
        to: account(carol),
        amount: Nat::from(amount),
        fee: None,
        memo: None,
        created_at_time: None,
    };
    let r: Result<Nat, TransferFromError> =
        update(&bob, l.token, "icrc2_transfer_from", Encode!(&pull(50_000)).unwrap()).await;
    r.unwrap();
    let r: Result<Nat, TransferFromError> =
        update(&bob, l.token, "icrc2_transfer_from", Encode!(&pull(1)).unwrap()).await;
    assert_eq!(r, Err(TransferFromError::InsufficientAllowance { allowance: Nat::from(0u8) }));
    assert_eq!(balance(carol).await, Nat::from(50_000u64));

    // The minting account mints by transferring; the supply is every balance.
    let minter = agent(&env, minter_id).await;
    assert_eq!(minter.get_principal().unwrap(), l.minter);
    let r: Result<Nat, TransferError> =
        update(&minter, l.token, "icrc1_transfer", Encode!(&transfer(carol, 7, None)).unwrap()).await;
    r.unwrap();
    let supply: Nat = query(&alice, l.token, "icrc1_total_supply", Encode!().unwrap()).await;
    assert_eq!(supply, balance(alice_p).await + balance(bob_p).await + balance(carol).await);

    // What the main job gives the CLI's identity: tokens and cycles credit.
    let dave = DepotEnv::identity(4).sender().unwrap();
    env.with_devnet(|d| fund_newcomer(d, admin, &l, dave)).unwrap();
    assert_eq!(balance(dave).await, Nat::from(NEWCOMER_TOKENS));
    let cycles: Nat =
        query(&alice, l.cycles, "icrc1_balance_of", Encode!(&cl::Account { owner: dave, subaccount: None }).unwrap())
            .await;
    assert_eq!(cycles, Nat::from(NEWCOMER_CYCLES - CYCLES_FEE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cycles_ledger_takes_deposits_and_withdraws_to_canisters_as_papi_calls_it() {
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let (alice_id, vendor_id) = (DepotEnv::identity(1), DepotEnv::identity(2));
    let (alice_p, vendor_p) = (alice_id.sender().unwrap(), vendor_id.sender().unwrap());
    let admin = env.deployment.admin;
    let l = env.with_devnet(|d| deploy_ledgers(d, admin, admin, &[])).unwrap();
    assert_eq!(l.cycles.to_text(), CYCLES_LEDGER_ID);
    let wallet = env.with_devnet(|d| deploy_wallet(d, alice_p, 10 * T)).unwrap();
    let (alice, vendor) = (agent(&env, alice_id).await, agent(&env, vendor_id).await);
    let balance = |p: Principal| {
        let a = alice.clone();
        let cycles = l.cycles;
        async move {
            query::<Nat>(&a, cycles, "icrc1_balance_of", Encode!(&cl::Account { owner: p, subaccount: None }).unwrap())
                .await
        }
    };

    // deposit: through the wallet, with 2 T cycles attached; the fee is kept.
    let deposit = |cycles: u128| {
        let args = cl::DepositArgs { to: cl::Account { owner: alice_p, subaccount: None }, memo: None };
        let call = CallCanisterArgs128 {
            canister: l.cycles,
            method_name: "deposit".into(),
            args: Encode!(&args).unwrap(),
            cycles: Nat::from(cycles),
        };
        let a = alice.clone();
        async move { update::<Result<CallResult, String>>(&a, wallet, "wallet_call128", Encode!(&call).unwrap()).await }
    };
    let wallet_before = env.with_devnet(|d| d.cycle_balance(wallet));
    let reply = deposit(2 * T).await.unwrap();
    let result = Decode!(&reply.return_, cl::DepositResult).unwrap();
    assert_eq!(result.balance, Nat::from(2 * T - CYCLES_FEE));
    assert!(wallet_before - env.with_devnet(|d| d.cycle_balance(wallet)) >= 2 * T, "the wallet paid");
    // No more than the fee: refused, and the cycles go back.
    let wallet_before = env.with_devnet(|d| d.cycle_balance(wallet));
    assert!(deposit(CYCLES_FEE).await.is_err());
    assert!(wallet_before - env.with_devnet(|d| d.cycle_balance(wallet)) < CYCLES_FEE, "refunded");
    assert_eq!(balance(alice_p).await, Nat::from(2 * T - CYCLES_FEE));
    // The wallet spends only for its controllers.
    let args = cl::DepositArgs { to: cl::Account { owner: vendor_p, subaccount: None }, memo: None };
    let call = CallCanisterArgs128 {
        canister: l.cycles,
        method_name: "deposit".into(),
        args: Encode!(&args).unwrap(),
        cycles: Nat::from(T),
    };
    let r: Result<CallResult, String> = update(&vendor, wallet, "wallet_call128", Encode!(&call).unwrap()).await;
    assert!(r.is_err_and(|e| e.contains("controller")));
    // A subaccount must be 32 bytes.
    let odd = cl::TransferArgs {
        from_subaccount: Some(serde_bytes::ByteBuf::from(vec![1; 31])),
        to: cl::Account { owner: vendor_p, subaccount: None },
        fee: None,
        memo: None,
        created_at_time: None,
        amount: Nat::from(1u8),
    };
    let r: Result<Nat, cl::TransferError> = update(&alice, l.cycles, "icrc1_transfer", Encode!(&odd).unwrap()).await;
    assert!(matches!(r, Err(cl::TransferError::GenericError { .. })), "{r:?}");

    // PAPI's CallerPaysIcrc2Cycles: the payer approves the vendor, which
    // withdraws to its own canister; here the vendor is a user and the
    // receiving canister the token ledger.
    let approve = cl::ApproveArgs {
        from_subaccount: None,
        spender: cl::Account { owner: vendor_p, subaccount: None },
        amount: Nat::from(T),
        expected_allowance: None,
        expires_at: None,
        fee: None,
        memo: None,
        created_at_time: None,
    };
    let r: Result<Nat, cl::ApproveError> = update(&alice, l.cycles, "icrc2_approve", Encode!(&approve).unwrap()).await;
    r.unwrap();
    let withdraw = |to: Principal, amount: u128| cl::WithdrawFromArgs {
        spender_subaccount: None,
        from: cl::Account { owner: alice_p, subaccount: None },
        to,
        amount: Nat::from(amount),
        created_at_time: None,
    };
    let receiver_before = env.with_devnet(|d| d.cycle_balance(l.token));
    let amount = T / 2;
    let r: Result<Nat, cl::WithdrawFromError> =
        update(&vendor, l.cycles, "withdraw_from", Encode!(&withdraw(l.token, amount)).unwrap()).await;
    r.unwrap();
    // All of them, less what devnet charges the receiver for its memory
    // meanwhile (as the IC does: a few cycles).
    let arrived = env.with_devnet(|d| d.cycle_balance(l.token)) - receiver_before;
    assert!((amount - 1_000..=amount).contains(&arrived), "{arrived} of {amount} cycles arrived");
    let after_withdrawal = 2 * T - CYCLES_FEE - CYCLES_FEE - amount - CYCLES_FEE;
    assert_eq!(balance(alice_p).await, Nat::from(after_withdrawal));

    // Typed refusals, each leaving the balance as it was.
    let r: Result<Nat, cl::WithdrawFromError> =
        update(&vendor, l.cycles, "withdraw_from", Encode!(&withdraw(l.token, T)).unwrap()).await;
    assert_eq!(r, Err(cl::WithdrawFromError::InsufficientAllowance { allowance: Nat::from(T - amount - CYCLES_FEE) }));
    let r: Result<Nat, cl::WithdrawFromError> =
        update(&vendor, l.cycles, "withdraw_from", Encode!(&withdraw(vendor_p, 1_000)).unwrap()).await;
    assert_eq!(r, Err(cl::WithdrawFromError::InvalidReceiver { receiver: vendor_p }));
    assert_eq!(balance(alice_p).await, Nat::from(after_withdrawal));

    // A receiver that does not exist: the cycles come back, less a fee for
    // the withdrawal block and one for the refund.
    let nowhere = Principal::from_slice(&[0, 0, 0, 0, 0, 0x10, 0, 1, 1, 1]);
    let r: Result<Nat, cl::WithdrawFromError> =
        update(&vendor, l.cycles, "withdraw_from", Encode!(&withdraw(nowhere, 1_000_000_000)).unwrap()).await;
    assert!(matches!(r, Err(cl::WithdrawFromError::FailedToWithdrawFrom { refund_block: Some(_), .. })), "{r:?}");
    assert_eq!(balance(alice_p).await, Nat::from(after_withdrawal - 2 * CYCLES_FEE));
    let supply: Nat = query(&alice, l.cycles, "icrc1_total_supply", Encode!().unwrap()).await;
    assert_eq!(supply, balance(alice_p).await);
}

/// DFINITY's own JS clients (`@icp-sdk/canisters`' `IcrcLedgerCanister` and
/// `CyclesLedgerCanister`, carrying the real ledgers' Candid IDL), unmodified,
/// through the JS agent: the test ledgers' interfaces are the real ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dfinitys_js_ledger_clients_work_unmodified() {
    depot_tests::browser::ensure_node_packages();
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let seed = [0x42u8; 32];
    let js_p = ic_agent::identity::BasicIdentity::from_raw_key(&seed).sender().unwrap();
    let bob = DepotEnv::identity(2).sender().unwrap();
    let admin = env.deployment.admin;
    let l = env
        .with_devnet(|d| -> anyhow::Result<_> {
            let l = deploy_ledgers(d, admin, admin, &[])?;
            fund_newcomer(d, admin, &l, js_p)?;
            Ok(l)
        })
        .unwrap();
    let input = serde_json::json!({
        "url": env.url(),
        "token": l.token.to_text(),
        "cycles": l.cycles.to_text(),
        "seed_hex": hex::encode(seed),
        "to": bob.to_text(),
        "receiver": l.token.to_text(),
    });
    let seen = tokio::task::spawn_blocking(move || {
        depot_tests::browser::run_script("ledgers.mjs", "DEPOT_LEDGERS_CASE", &input)
    })
    .await
    .unwrap();
    eprintln!("the JS clients saw: {seen:#}");
    let n = |v: &serde_json::Value| v.as_str().unwrap().parse::<u128>().unwrap();
    assert_eq!(seen["me"], js_p.to_text(), "the same key gives the same principal in both agents");
    assert_eq!(n(&seen["fee"]), TOKEN_FEE as u128);
    assert!(seen["metadata"].to_string().contains(TOKEN_SYMBOL), "{}", seen["metadata"]);
    assert_eq!(n(&seen["balance_before"]), NEWCOMER_TOKENS);
    assert_eq!(n(&seen["balance_after"]), NEWCOMER_TOKENS - 5 - 2 * TOKEN_FEE as u128);
    assert_eq!(n(&seen["allowance"]["allowance"]), 100);
    assert_eq!(n(&seen["bad_fee"]["BadFee"]["expected_fee"]), TOKEN_FEE as u128, "{}", seen["bad_fee"]);
    assert_eq!(n(&seen["cycles_fee"]), CYCLES_FEE);
    assert_eq!(n(&seen["cycles_before"]), NEWCOMER_CYCLES - CYCLES_FEE);
    assert!(seen["withdraw"].get("Ok").is_some(), "{}", seen["withdraw"]);
    assert_eq!(n(&seen["cycles_after"]), NEWCOMER_CYCLES - CYCLES_FEE - T - CYCLES_FEE);
}
