// Targets in `depot-directory`: every stable record and key. Included with
// `#[path]` by the `depot-fuzz-directory` binary and by
// `tests/directory.rs` (a binary may not link the bucket and the directory).

use candid::Principal;
use depot_api::billing::{ChargeKind, DepositRes, Movement, MovementKind, Payment, Pricing, TokenPrice};
use depot_api::directory::{BucketState, FileMeta, FileStatus};
use depot_api::{FileId, FileKey};
use depot_directory::model::billing::{
    CreditAccount, DepositEntry, DepositState, Reservation, StoredMovement, StoredPricing,
};
use depot_directory::model::buckets::BucketRecord;
use depot_directory::model::deletions::{DeleteReason, PendingDelete};
use depot_directory::model::file_codec::StoredFile;
use depot_directory::model::files::FileRecord;
use depot_directory::model::fleet_settings::FleetSettings;
use depot_directory::model::keys::SigningKeyRecord;
use depot_directory::model::provisioning::{ProvisionEntry, ProvisionStep};
use depot_directory::model::rollout::{Rollout, StoredRollout, UpgradeStep};
use depot_directory::model::runtime::Runtime;
use depot_directory::model::settings::Settings;
use depot_directory::model::shares::ShareRecord;
use depot_directory::model::storable::{DepositKey, ListKey, MovementKey, RouteKey, TimedKey};
use depot_directory::model::uploads::{SessionState, UploadSession};
use depot_directory::model::users::UserRecord;
use depot_fuzz::decode_or_trap;
use depot_fuzz::engine::{ByteTarget, PropTarget, Rng, Target, catch};
use ic_stable_structures::Storable;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as PropConfig, FileFailurePersistence, RngAlgorithm, TestRng, TestRunner};
use serde_bytes::ByteBuf;
use std::borrow::Cow;
use std::fmt::Debug;

fn arb_principal() -> impl Strategy<Value = Principal> {
    vec(any::<u8>(), 0..=29).prop_map(|b| Principal::from_slice(&b))
}

fn arb_file_id() -> impl Strategy<Value = FileId> {
    (arb_principal(), vec(any::<u8>(), 0..20)).prop_map(|(owner, id)| FileId { owner, id })
}

fn arb_bucket_state() -> impl Strategy<Value = BucketState> {
    prop_oneof![Just(BucketState::Writable), Just(BucketState::Draining), Just(BucketState::ReadOnly)]
}

fn arb_bucket_record() -> impl Strategy<Value = BucketRecord> {
    (
        arb_bucket_state(),
        any::<[bool; 3]>(),
        any::<[u64; 11]>(),
        any::<Option<u128>>(),
        proptest::option::of(vec(any::<u8>(), 0..40)),
    )
        .prop_map(|(state, flags, n, cycles, module_hash)| BucketRecord {
            state,
            auto_draining: flags[0],
            used_bytes: n[0],
            reserved_bytes: n[1],
            soft_limit_bytes: n[2],
            hard_limit_bytes: n[3],
            files_count: n[4],
            registered_used_bytes: n[5],
            registered_at_ns: n[6],
            keys_pushed_version: n[7],
            keys_push_not_before_ns: n[8],
            reserved_files: n[9],
            max_files: n[10],
            in_pool: flags[1],
            provisioned: flags[2],
            cycles,
            status_at_ns: cycles.map(|c| c as u64),
            module_hash,
            burn_per_day: cycles.map(|c| c / 3),
            top_up_below: cycles.map(|c| c / 2),
        })
}

fn arb_rollout() -> impl Strategy<Value = StoredRollout> {
    let step = prop_oneof![
        Just(UpgradeStep::Stopping),
        Just(UpgradeStep::Installing),
        Just(UpgradeStep::Starting),
        Just(UpgradeStep::Checking),
        Just(UpgradeStep::Restarting)
    ];
    proptest::option::of((
        any::<[u8; 32]>(),
        any::<[u64; 4]>(),
        vec(arb_principal(), 0..5),
        proptest::option::of((arb_principal(), step, proptest::option::of(".*"))),
        vec((arb_principal(), ".*"), 0..3),
        proptest::option::of(".*"),
        any::<bool>(),
    ))
    .prop_map(|r| {
        StoredRollout(r.map(|(target_sha256, n, waiting, current, failed, paused_reason, canary_done)| Rollout {
            target_sha256,
            started_at_ns: n[0],
            finished_at_ns: (n[1] % 2 == 0).then_some(n[1]),
            batch_size: n[2] as u32,
            canary: waiting.first().copied(),
            canary_done,
            total: n[3],
            upgraded: n[3] / 2,
            waiting,
            current,
            failed,
            paused_reason,
        }))
    })
}

fn arb_provision_entry() -> impl Strategy<Value = ProvisionEntry> {
    (
        prop_oneof![
            Just(ProvisionStep::Creating),
            arb_principal().prop_map(ProvisionStep::Created),
            arb_principal().prop_map(ProvisionStep::Installed)
        ],
        any::<[u64; 2]>(),
        any::<u32>(),
        proptest::option::of(".*"),
    )
        .prop_map(|(step, t, attempts, last_error)| ProvisionEntry {
            step,
            started_at_ns: t[0],
            step_at_ns: t[1],
            attempts,
            last_error,
        })
}

fn arb_share_record() -> impl Strategy<Value = ShareRecord> {
    (arb_principal(), any::<[u8; 16]>(), any::<[u64; 3]>(), any::<(bool, Option<u64>, Option<u32>, u32, u32)>())
        .prop_map(|(owner, file, t, (download_only, expires_at_ns, max_uses, uses, window_calls))| ShareRecord {
            owner,
            file,
            created_at_ns: t[0],
            expires_at_ns,
            download_only,
            max_uses,
            uses,
            window_start_ns: t[1],
            window_calls,
        })
}

fn arb_pending_delete() -> impl Strategy<Value = PendingDelete> {
    (
        arb_file_id(),
        arb_principal(),
        prop_oneof![Just(DeleteReason::FileDeleted), Just(DeleteReason::UploadAborted)],
        any::<u32>(),
        any::<u64>(),
        proptest::option::of(".*"),
        any::<Option<u64>>(),
    )
        .prop_map(|(file_id, bucket, reason, attempts, enqueued_at_ns, last_error, sweep_again_at_ns)| {
            PendingDelete { file_id, bucket, reason, attempts, enqueued_at_ns, last_error, sweep_again_at_ns }
        })
}

/// Stored file records, made from whole ones as the table stores them.
fn arb_file_record() -> impl Strategy<Value = StoredFile> {
    (
        (arb_file_id(), ".*", ".*", any::<u64>(), any::<u32>(), any::<u32>()),
        (
            any::<u64>(),
            any::<u64>(),
            prop_oneof![Just(FileStatus::Pending), Just(FileStatus::Ready), Just(FileStatus::Deleted)],
        ),
        (proptest::option::of(vec(any::<u8>(), 0..40)), arb_principal(), any::<Option<[u8; 16]>>()),
    )
        .prop_map(
            |((file_id, name, mime, size_bytes, chunk_size, chunk_count), (c, u, status), (sha, bucket, upload_id))| {
                StoredFile::from_record(FileRecord {
                    meta: FileMeta {
                        file_id,
                        name,
                        mime,
                        size_bytes,
                        chunk_size,
                        chunk_count,
                        created_at_ns: c,
                        updated_at_ns: u,
                        status,
                        sha256: sha.map(ByteBuf::from),
                        bucket,
                        delete_at_ns: (c % 3 == 0).then_some(u),
                    },
                    upload_id,
                    suspended: c % 2 == 0,
                })
            },
        )
}

fn arb_signing_key() -> impl Strategy<Value = SigningKeyRecord> {
    (any::<[u8; 32]>(), any::<u64>(), any::<Option<u64>>(), any::<Option<u64>>(), any::<Option<u64>>()).prop_map(
        |(seed, created_at_ns, retired_at_ns, drop_at_ns, pending_since_version)| SigningKeyRecord {
            seed,
            created_at_ns,
            retired_at_ns,
            drop_at_ns,
            pending_since_version,
        },
    )
}

fn arb_runtime() -> impl Strategy<Value = Runtime> {
    (
        (any::<Option<[u8; 32]>>(), any::<u64>(), any::<u32>(), any::<u64>(), proptest::option::of(arb_principal())),
        (
            any::<[u64; 2]>(),
            any::<u128>(),
            proptest::option::of(arb_principal()),
            any::<[bool; 2]>(),
            proptest::option::of(".*"),
        ),
    )
        .prop_map(
            |(
                (rng_seed, rng_counter, last_kid, keys_version, accrual_cursor),
                (n, top_up_cycles_sent, fleet_status_cursor, flags, provision_paused),
            )| Runtime {
                rng_seed,
                rng_counter,
                last_kid,
                keys_version,
                accrual_cursor,
                next_provision_seq: n[0],
                buckets_created: n[1],
                top_up_cycles_sent,
                fleet_status_cursor,
                reserved_files_counted: flags[0],
                key_rings_sent: flags[1],
                provision_paused,
            },
        )
}

fn arb_settings() -> impl Strategy<Value = Settings> {
    (".*", ".*", any::<[u32; 5]>(), any::<[u64; 5]>()).prop_map(|(domain_template, url_scheme, a, b)| Settings {
        domain_template,
        url_scheme,
        chunk_size: a[0],
        upload_token_ttl_secs: b[0],
        upload_session_ttl_secs: b[1],
        max_download_url_ttl_secs: b[2],
        default_quota_bytes: b[3],
        max_uploads_in_progress: a[1],
        start_upload_per_minute: a[2],
        max_file_size: b[4],
        upload_tokens_per_minute: a[3],
        max_tokens_per_upload: a[4],
        share_url_template: if a[3] % 2 == 0 { None } else { Some(format!("https://g/s/{{share}}{}", a[4])) },
        fleet: FleetSettings {
            bucket_capacity_bytes: b[0],
            pool_target: a[0],
            creation_cycles: b[1] as u128 * 1000,
            directory_reserve_cycles: b[2] as u128,
            bucket_max_files: b[3],
            bucket_controllers: vec![],
            freezing_threshold_secs: b[4],
            top_up_threshold_cycles: a[1] as u128,
            top_up_cycles: a[2] as u128,
            factory: if b[0] % 2 == 0 {
                depot_api::directory::BucketFactory::ManagementCanister
            } else {
                depot_api::directory::BucketFactory::CyclesMintingCanister {
                    cmc: Principal::from_slice(&[1]),
                    subnet: None,
                    subnet_type: Some(format!("t{}", a[3])),
                }
            },
        },
    })
}

fn arb_reservation() -> impl Strategy<Value = Reservation> {
    prop_oneof![
        (arb_principal(), any::<u64>()).prop_map(|(user, bytes)| Reservation::Free { user, bytes }),
        (arb_principal(), any::<[u64; 2]>(), any::<[u128; 2]>()).prop_map(|(user, n, c)| Reservation::Credit {
            user,
            bytes: n[0],
            billable: n[1],
            upload_cycles: c[0],
            hold: c[1],
        }),
    ]
}

fn arb_account() -> impl Strategy<Value = CreditAccount> {
    (any::<[u128; 5]>(), any::<[u64; 4]>(), any::<Option<u64>>(), any::<u32>()).prop_map(|(c, n, owed_since_ns, f)| {
        CreditAccount {
            balance: c[0],
            owed: c[1],
            held: c[2],
            held_bytes: n[0],
            stored_bytes: n[1],
            last_accrual_ns: n[2],
            owed_since_ns,
            next_movement: n[3],
            deposits_in_flight: f,
            deposited: c[3],
            charged: c[4],
            files_suspended: f % 2 == 0,
            recent_deposits_ns: vec![n[0], n[1]],
        }
    })
}

fn arb_icrc_account() -> impl Strategy<Value = depot_api::billing::Account> {
    (arb_principal(), proptest::option::of(vec(any::<u8>(), 0..40)))
        .prop_map(|(owner, s)| depot_api::billing::Account { owner, subaccount: s.map(ByteBuf::from) })
}

fn arb_payment() -> impl Strategy<Value = Payment> {
    let account = arb_icrc_account();
    prop_oneof![
        Just(Payment::AttachedCycles),
        Just(Payment::CallerPaysIcrc2Cycles),
        arb_icrc_account().prop_map(Payment::PatronPaysIcrc2Cycles),
        arb_principal()
            .prop_map(|ledger| Payment::CallerPaysIcrc2Tokens(depot_api::billing::CallerPaysIcrc2Tokens { ledger })),
        (arb_principal(), account).prop_map(|(ledger, patron)| {
            Payment::PatronPaysIcrc2Tokens(depot_api::billing::PatronPaysIcrc2Tokens { ledger, patron })
        }),
    ]
}

fn arb_movement() -> impl Strategy<Value = StoredMovement> {
    let kind = prop_oneof![
        (".{0,20}", proptest::option::of(arb_principal()), any::<u64>(), any::<u64>())
            .prop_map(|(payment, ledger, amount, rate)| MovementKind::Deposit { payment, ledger, amount, rate }),
        (0u8..2, any::<u64>(), any::<u64>()).prop_map(|(k, from_ns, to_ns)| MovementKind::Charge {
            kind: [ChargeKind::Ingress, ChargeKind::Storage][k as usize],
            from_ns,
            to_ns
        }),
        ".{0,20}".prop_map(|reason| MovementKind::Refund { reason }),
    ];
    (any::<u64>(), any::<u64>(), kind, any::<u128>())
        .prop_map(|(seq, at_ns, kind, cycles)| StoredMovement(Movement { seq, at_ns, kind, cycles }))
}

fn arb_deposit_entry() -> impl Strategy<Value = DepositEntry> {
    let state = prop_oneof![
        any::<u64>().prop_map(|since_ns| DepositState::InFlight { since_ns }),
        (any::<[u128; 2]>(), any::<[u64; 2]>()).prop_map(|(c, n)| DepositState::Credited(DepositRes {
            credited_cycles: c[0],
            rate: n[0],
            balance_cycles: c[1],
            movement: n[1]
        })),
        ".{0,20}".prop_map(|reason| DepositState::Failed(depot_api::billing::BillingError::InvalidRequest { reason })),
    ];
    (arb_payment(), any::<u64>(), any::<u64>(), state)
        .prop_map(|(payment, amount, created_at_ns, state)| DepositEntry { payment, amount, created_at_ns, state })
}

fn arb_pricing() -> impl Strategy<Value = StoredPricing> {
    let token =
        (arb_principal(), ".{0,16}", any::<u8>(), any::<[u64; 2]>()).prop_map(|(ledger, symbol, decimals, n)| {
            TokenPrice { ledger, symbol, decimals, ledger_fee: n[0], cycles_per_unit: n[1] }
        });
    (any::<[u128; 4]>(), any::<[u32; 3]>(), any::<u64>(), vec(token, 0..3)).prop_map(|(c, d, free_bytes, tokens)| {
        StoredPricing(Pricing {
            storage_cycles_per_gib_month: c[0],
            ingress_cycles_per_gib: c[1],
            call_fee_cycles: c[2],
            min_deposit_cycles: c[3],
            first_period_days: d[0],
            free_bytes,
            grace_days: d[1],
            deletion_days: d[2],
            tokens,
        })
    })
}

fn arb_user_key() -> impl Strategy<Value = (Principal, [u8; 8], [u8; 16])> {
    (arb_principal(), any::<[u8; 8]>(), any::<[u8; 16]>())
}

fn arb_upload_session() -> impl Strategy<Value = UploadSession> {
    (
        (
            any::<[u8; 16]>(),
            arb_principal(),
            any::<[u8; 16]>(),
            arb_principal(),
            any::<u32>(),
            any::<u64>(),
            any::<u32>(),
        ),
        (any::<Option<[u8; 32]>>(), any::<u64>(), any::<u64>(), proptest::option::of(any::<u64>())),
        (vec(any::<u8>(), 0..40), arb_reservation(), any::<u32>()),
    )
        .prop_map(
            |(
                (upload_id, owner, file_key, bucket, chunk_size, size_bytes, chunk_count),
                (sha256, created_at_ns, expires_at_ns, committing),
                (uploaded, reservation, tokens_issued),
            )| UploadSession {
                upload_id,
                owner,
                file_key,
                bucket,
                chunk_size,
                size_bytes,
                chunk_count,
                sha256,
                created_at_ns,
                expires_at_ns,
                state: match committing {
                    Some(since_ns) => SessionState::Committing { since_ns },
                    None => SessionState::Pending,
                },
                uploaded,
                reservation,
                tokens_issued,
            },
        )
}

fn arb_user() -> impl Strategy<Value = UserRecord> {
    (any::<Option<u64>>(), any::<[u64; 3]>(), any::<u32>(), vec(any::<u64>(), 0..8), vec(any::<u64>(), 0..8)).prop_map(
        |(quota_bytes, n, uploads_in_progress, recent_starts_ns, recent_tokens_ns)| UserRecord {
            quota_bytes,
            used_bytes: n[0],
            reserved_bytes: n[1],
            files_count: n[2],
            uploads_in_progress,
            recent_starts_ns,
            recent_tokens_ns,
        },
    )
}

fn arb_list_key() -> impl Strategy<Value = (Principal, u64, [u8; 16])> {
    (arb_principal(), any::<u64>(), any::<[u8; 16]>())
}

fn arb_timed_key() -> impl Strategy<Value = TimedKey> {
    (any::<u64>(), any::<[u8; 16]>()).prop_map(|(at, id)| TimedKey::new(at, id))
}

/// Decodes `input` as `T`; a decoded record must re-encode and decode to itself.
fn check_from_bytes<T: Storable + PartialEq + Debug>(what: &str, input: &[u8]) -> Result<(), String> {
    catch(|| {
        if let Some(r) = decode_or_trap(what, || T::from_bytes(Cow::Borrowed(input))) {
            let again = T::from_bytes(r.to_bytes());
            assert!(again == r, "{what} re-encoding is not stable");
        }
    })
}

fn from_bytes_run(input: &[u8]) {
    let mut errors = vec![];
    errors.push(check_from_bytes::<BucketRecord>("BucketRecord", input));
    errors.push(check_from_bytes::<PendingDelete>("PendingDelete", input));
    errors.push(check_from_bytes::<StoredFile>("StoredFile", input));
    errors.push(check_from_bytes::<SigningKeyRecord>("SigningKeyRecord", input));
    errors.push(check_from_bytes::<Runtime>("Runtime", input));
    errors.push(check_from_bytes::<Settings>("Settings", input));
    errors.push(check_from_bytes::<UploadSession>("UploadSession", input));
    errors.push(check_from_bytes::<UserRecord>("UserRecord", input));
    errors.push(check_from_bytes::<Reservation>("Reservation", input));
    errors.push(check_from_bytes::<TimedKey>("TimedKey", input));
    errors.push(check_from_bytes::<ListKey>("ListKey", input));
    errors.push(check_from_bytes::<CreditAccount>("CreditAccount", input));
    errors.push(check_from_bytes::<StoredMovement>("StoredMovement", input));
    errors.push(check_from_bytes::<DepositEntry>("DepositEntry", input));
    errors.push(check_from_bytes::<StoredPricing>("StoredPricing", input));
    errors.push(check_from_bytes::<MovementKey>("MovementKey", input));
    errors.push(check_from_bytes::<DepositKey>("DepositKey", input));
    errors.push(check_from_bytes::<ProvisionEntry>("ProvisionEntry", input));
    errors.push(check_from_bytes::<ShareRecord>("ShareRecord", input));
    errors.push(check_from_bytes::<StoredRollout>("StoredRollout", input));
    errors.push(check_from_bytes::<RouteKey>("RouteKey", input));
    errors.push(catch(|| {
        if let Some(k) = decode_or_trap("UserKey", || MovementKey::from_bytes(Cow::Borrowed(input))) {
            let _ = k.user();
        }
    }));
    // A decoded list key is read through `owner()`: it must not panic.
    errors.push(catch(|| {
        if let Some(k) = decode_or_trap("ListKey", || ListKey::from_bytes(Cow::Borrowed(input))) {
            let _ = k.owner();
        }
    }));
    let errors: Vec<String> = errors.into_iter().filter_map(Result::err).collect();
    assert!(errors.is_empty(), "{}", errors.join("; "));
}

/// A value of `s`, drawn with our RNG (for the byte generator).
fn draw<S: Strategy>(rng: &mut Rng, s: S) -> S::Value {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    let mut runner = TestRunner::new_with_rng(PropConfig::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    s.new_tree(&mut runner).expect("strategy").current()
}

fn gen_record_bytes(rng: &mut Rng) -> Vec<u8> {
    match rng.below(21) {
        0 => draw(rng, arb_bucket_record()).into_bytes(),
        1 => draw(rng, arb_pending_delete()).into_bytes(),
        2 => draw(rng, arb_file_record()).into_bytes(),
        3 => draw(rng, arb_signing_key()).into_bytes(),
        4 => draw(rng, arb_runtime()).into_bytes(),
        5 => draw(rng, arb_settings()).into_bytes(),
        6 => draw(rng, arb_upload_session()).into_bytes(),
        7 => draw(rng, arb_user()).into_bytes(),
        8 => draw(rng, arb_reservation()).into_bytes(),
        9 => draw(rng, arb_timed_key()).into_bytes(),
        10 => {
            let (p, t, k) = draw(rng, arb_list_key());
            ListKey::new(p, t, FileKey(k)).into_bytes()
        }
        11 => draw(rng, arb_account()).into_bytes(),
        12 => draw(rng, arb_movement()).into_bytes(),
        13 => draw(rng, arb_deposit_entry()).into_bytes(),
        14 => draw(rng, arb_pricing()).into_bytes(),
        15 => {
            let (p, seq, _) = draw(rng, arb_user_key());
            MovementKey::new(p, seq).into_bytes()
        }
        16 => {
            let (p, _, nonce) = draw(rng, arb_user_key());
            DepositKey::new(p, nonce).into_bytes()
        }
        17 => draw(rng, arb_provision_entry()).into_bytes(),
        18 => draw(rng, arb_rollout()).into_bytes(),
        19 => {
            let (p, t, _) = draw(rng, arb_list_key());
            RouteKey::new((t % 2) as u8, t, p).into_bytes()
        }
        _ => rng.bytes_below(80),
    }
}

pub fn records_from_bytes_target() -> ByteTarget {
    ByteTarget {
        name: "directory_records_from_bytes".into(),
        about: "every directory record and key from_bytes on any bytes: decodes (and re-encodes stably) or traps with the codec message, no other panic",
        run: Box::new(from_bytes_run),
        generate: Box::new(gen_record_bytes),
        dictionary: vec![
            vec![0xa0],
            vec![0xa4],
            vec![0x1b],
            vec![0xff],
            vec![0xf6],
            vec![0x58, 0x20],
            vec![0x60],
            vec![0x1d],
        ],
        max_len: 1024,
        seeds: vec![],
    }
}

pub const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/directory_records.txt");

fn round_trip<T, S>(cases: u32, s: S) -> Result<(), String>
where
    T: Storable + PartialEq + Debug + Clone,
    S: Strategy<Value = T>,
{
    let mut runner = TestRunner::new(PropConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..PropConfig::default()
    });
    runner
        .run(&s, |r| {
            prop_assert_eq!(T::from_bytes(r.to_bytes()), r.clone());
            prop_assert_eq!(T::from_bytes(Cow::Owned(r.clone().into_bytes())), r);
            Ok(())
        })
        .map_err(|e| format!("{}: {e}", std::any::type_name::<T>()))
}

fn round_trip_all(cases: u32) -> Result<(), String> {
    round_trip(cases, arb_bucket_record())?;
    round_trip(cases, arb_pending_delete())?;
    round_trip(cases, arb_file_record())?;
    round_trip(cases, arb_signing_key())?;
    round_trip(cases, arb_runtime())?;
    round_trip(cases, arb_settings())?;
    round_trip(cases, arb_upload_session())?;
    round_trip(cases, arb_user())?;
    round_trip(cases, arb_reservation())?;
    round_trip(cases, arb_timed_key())?;
    round_trip(cases, arb_account())?;
    round_trip(cases, arb_movement())?;
    round_trip(cases, arb_deposit_entry())?;
    round_trip(cases, arb_pricing())?;
    round_trip(cases, arb_provision_entry())?;
    round_trip(cases, arb_rollout())?;
    round_trip(cases, arb_share_record())?;
    // Keys: the byte order is the iteration order, and the owner comes back.
    let mut runner = TestRunner::new(PropConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..PropConfig::default()
    });
    runner
        .run(&(arb_list_key(), arb_list_key()), |((p, t, k), (q, u, j))| {
            let a = ListKey::new(p, t, FileKey(k));
            let b = ListKey::new(q, u, FileKey(j));
            prop_assert_eq!(ListKey::from_bytes(a.to_bytes()), a);
            prop_assert_eq!(a.owner(), p);
            prop_assert_eq!(a.cmp(&b), a.to_bytes().cmp(&b.to_bytes()));
            prop_assert_eq!(ListKey::from_cursor(p, &a.cursor()), Some(a));
            Ok(())
        })
        .map_err(|e| format!("ListKey: {e}"))?;
    runner
        .run(&(arb_user_key(), arb_user_key()), |((p, s, n), (q, t, m))| {
            let (a, b) = (MovementKey::new(p, s), MovementKey::new(q, t));
            prop_assert_eq!(MovementKey::from_bytes(a.to_bytes()), a);
            prop_assert_eq!(a.user(), p);
            prop_assert_eq!(a.cmp(&b), a.to_bytes().cmp(&b.to_bytes()));
            let (c, d) = (DepositKey::new(p, n), DepositKey::new(q, m));
            prop_assert_eq!(DepositKey::from_bytes(c.to_bytes()), c);
            prop_assert_eq!(c.cmp(&d), c.to_bytes().cmp(&d.to_bytes()));
            Ok(())
        })
        .map_err(|e| format!("UserKey: {e}"))?;
    Ok(())
}

pub fn round_trip_target() -> PropTarget {
    PropTarget {
        name: "directory_records_round_trip".into(),
        about: "arbitrary directory records and keys round-trip through to_bytes/from_bytes; ListKey byte order = key order (proptest, cases per type)",
        run: Box::new(round_trip_all),
    }
}

pub fn targets() -> Vec<Target> {
    vec![Target::Bytes(records_from_bytes_target()), Target::Prop(round_trip_target())]
}
