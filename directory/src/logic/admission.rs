//! Admission of ingress messages, before the directory pays for them
//! (`inspect_message`). It refuses only what no honest client sends: an
//! unknown method, an argument too large or not of the method's Candid
//! type (a share id not in the share form), a query sent as an update, an
//! anonymous caller (anonymous callers only read public keys, by query,
//! and resolve shares), and `admin_*` or controller-only
//! methods from anyone but a controller. Mistakes an honest
//! client can make (an unknown upload id, a rate limit) pass here and get
//! their typed error from the method itself.

use candid::Principal;
use candid::de::DecoderConfig;
use depot_api::DirectoryError;
use depot_api::methods::{Mode, directory as m, is_one_of};
use depot_api::reject::directory_reject;

/// Largest ingress argument admitted. The biggest legitimate one
/// (`route_chunks` with MAX_CHUNK_INDICES_PER_CALL indices) is about 5 KB.
pub const MAX_INGRESS_ARG_BYTES: usize = 16 * 1024;

/// Candid skipping quota for arguments: none of ours has fields to skip.
pub const INGRESS_SKIPPING_QUOTA: usize = 10_000;

/// Methods only controllers may call, by name.
pub const ADMIN_PREFIX: &str = "admin_";

/// `Ok` admits the message; `Err` says why not.
pub fn admit_ingress(method: &str, caller: Principal, is_controller: bool, arg: &[u8]) -> Result<(), String> {
    if arg.len() > MAX_INGRESS_ARG_BYTES {
        return Err(format!("argument larger than {MAX_INGRESS_ARG_BYTES} bytes"));
    }
    if (method.starts_with(ADMIN_PREFIX) || is_one_of(method, &m::CONTROLLER_ONLY)) && !is_controller {
        return Err(format!("only controllers may call this: {}", directory_reject(&DirectoryError::Unauthorised)));
    }
    if method == m::RESOLVE_SHARE.name {
        // Anyone's, anonymous included (a junk id could only be `NotFound`).
        return share_id_arg(arg);
    }
    if caller == Principal::anonymous() {
        let typed = directory_reject(&DirectoryError::Unauthorised);
        return Err(format!("anonymous callers may only read public keys and resolve shares: {typed}"));
    }
    // A query sent as an update would make the directory pay for a read.
    if m::ALL.iter().any(|d| d.name == method && d.mode == Mode::Query) {
        return Err("a query: call it as a query".into());
    }
    well_formed(method, arg, &decoder_config())
}

/// One share id in the share form: anything else is refused unpaid.
fn share_id_arg(arg: &[u8]) -> Result<(), String> {
    let (id,) = candid::utils::decode_args_with_config::<(String,)>(arg, &decoder_config())
        .map_err(|e| format!("malformed argument: {e}"))?;
    match depot_api::share::parse_share_id(&id) {
        Some(_) => Ok(()),
        None => Err("malformed argument: a share id is 32 hex digits".into()),
    }
}

fn decoder_config() -> DecoderConfig {
    let mut config = DecoderConfig::new();
    config.set_skipping_quota(INGRESS_SKIPPING_QUOTA);
    config
}

/// The argument decodes as the method's argument types.
fn well_formed(method: &str, arg: &[u8], config: &DecoderConfig) -> Result<(), String> {
    if method == m::REVOKE_SHARE.name {
        return share_id_arg(arg);
    }
    macro_rules! check {
        ($($d:expr),* $(,)?) => {
            $(if method == $d.name {
                return $d.check_args(arg, config).map_err(|e| format!("malformed argument: {e}"));
            })*
        };
    }
    check!(
        m::START_UPLOAD,
        m::ROUTE_CHUNKS,
        m::GET_UPLOAD_TOKEN,
        m::MARK_CHUNK_UPLOADED,
        m::GET_UPLOAD,
        m::COMMIT_UPLOAD,
        m::ABORT_UPLOAD,
        m::DELETE_FILE,
        m::LIST_FILES,
        m::GET_FILE_META,
        m::GET_DOWNLOAD_PLAN,
        m::GET_DOWNLOAD_URL,
        m::GET_USAGE,
        m::GET_PUBLIC_KEYS,
        m::ADMIN_GET_STATS,
        m::ADMIN_GET_MEMORY_STATS,
        m::ADMIN_SET_QUOTA,
        m::LIST_BUCKETS,
        m::ADMIN_REGISTER_BUCKET,
        m::ADMIN_SET_BUCKET_STATE,
        m::ADMIN_REAP_EXPIRED_UPLOADS,
        m::ADMIN_ROTATE_SIGNING_KEY,
        m::ADMIN_ACTIVATE_SIGNING_KEY,
        m::ADMIN_REVOKE_SIGNING_KEY,
        m::GET_PRICING,
        m::ESTIMATE_UPLOAD_COST,
        m::DEPOSIT,
        m::GET_BALANCE,
        m::ADMIN_SET_PRICING,
        m::ADMIN_CHARGE_STORAGE,
        m::SET_RETENTION,
        m::ADMIN_RESOLVE_DEPOSIT,
        m::ADMIN_REFUND,
        m::ADMIN_UPGRADE_BUCKETS,
        m::CREATE_SHARE,
        m::LIST_SHARES,
    );
    Err("no such method".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candid::Encode;
    use depot_api::directory::StartUploadReq;

    fn user() -> Principal {
        Principal::self_authenticating([1; 32])
    }

    #[test]
    fn every_method_is_checked() {
        for d in m::ALL.iter().filter(|d| d.mode == Mode::Update) {
            let r = admit_ingress(d.name, user(), true, b"DIDL\x00\x01\x7fgarbage");
            assert!(matches!(r, Err(ref e) if e.starts_with("malformed argument")), "{}: {r:?}", d.name);
        }
        assert_eq!(admit_ingress("no_such", user(), true, &Encode!().unwrap()), Err("no such method".into()));
    }

    #[test]
    fn honest_messages_pass_and_hostile_ones_do_not() {
        let start = Encode!(&StartUploadReq {
            name: "a".into(),
            mime: None,
            size_bytes: 1,
            sha256: None,
            retention_days: None
        })
        .unwrap();
        assert_eq!(admit_ingress(m::START_UPLOAD.name, user(), false, &start), Ok(()));
        assert!(admit_ingress(m::START_UPLOAD.name, Principal::anonymous(), false, &start).is_err());
        assert!(admit_ingress(m::START_UPLOAD.name, user(), false, &Encode!(&1u64).unwrap()).is_err());
        assert!(admit_ingress(m::START_UPLOAD.name, user(), false, b"").is_err());
        assert!(admit_ingress(m::GET_PUBLIC_KEYS.name, Principal::anonymous(), false, &Encode!().unwrap()).is_err());
        // resolve_share: anyone's, with one id in the share form
        let id = "00112233445566778899aabbccddeeff".to_string();
        assert_eq!(admit_ingress(m::RESOLVE_SHARE.name, Principal::anonymous(), false, &Encode!(&id).unwrap()), Ok(()));
        for junk in ["", "../x", &format!("{id}0")] {
            let arg = Encode!(&junk.to_string()).unwrap();
            assert!(admit_ingress(m::RESOLVE_SHARE.name, Principal::anonymous(), false, &arg).is_err(), "{junk:?}");
        }
        assert!(admit_ingress(m::RESOLVE_SHARE.name, user(), false, &Encode!(&1u64).unwrap()).is_err());
        assert_eq!(admit_ingress(m::REVOKE_SHARE.name, user(), false, &Encode!(&id).unwrap()), Ok(()));
        assert!(admit_ingress(m::REVOKE_SHARE.name, user(), false, &Encode!(&"text", &42u64).unwrap()).is_err());
        assert!(admit_ingress(m::REVOKE_SHARE.name, Principal::anonymous(), false, &Encode!(&id).unwrap()).is_err());
        assert!(admit_ingress(m::ADMIN_GET_STATS.name, user(), false, &Encode!().unwrap()).is_err());
        assert!(admit_ingress(m::LIST_BUCKETS.name, user(), false, &Encode!().unwrap()).is_err());
        assert_eq!(admit_ingress(m::ADMIN_REAP_EXPIRED_UPLOADS.name, user(), true, &Encode!().unwrap()), Ok(()));
        // queries as updates: refused, but for the public keys
        assert!(admit_ingress(m::ADMIN_GET_STATS.name, user(), true, &Encode!().unwrap()).is_err());
        assert!(admit_ingress(m::GET_USAGE.name, user(), false, &Encode!(&None::<Principal>).unwrap()).is_err());
        // at the size limit and one past it
        let mut big = Encode!(&serde_bytes::ByteBuf::from(vec![0u8; MAX_INGRESS_ARG_BYTES - 16])).unwrap();
        big.truncate(MAX_INGRESS_ARG_BYTES);
        assert!(
            !matches!(admit_ingress(m::ABORT_UPLOAD.name, user(), false, &big), Err(ref e) if e.contains("larger"))
        );
        big.resize(MAX_INGRESS_ARG_BYTES + 1, 0);
        assert!(matches!(admit_ingress(m::ABORT_UPLOAD.name, user(), false, &big), Err(ref e) if e.contains("larger")));
    }
}
