//! Canister environment variables (a canister setting, read with
//! `ic0.env_var_*`). icp-cli sets `PUBLIC_CANISTER_ID:<name>` on every
//! canister of a project before it installs any code, so a canister can
//! learn its siblings' ids in `init` without an install argument naming
//! them. ic-cdk 0.17 wraps none of these calls (0.19 does), hence the
//! `ic0` crate's bindings.

use candid::Principal;

/// The prefix of the variables icp-cli sets, followed by a canister's name
/// in `icp.yaml`.
pub const PUBLIC_CANISTER_ID_PREFIX: &str = "PUBLIC_CANISTER_ID:";

/// The value of the environment variable `name`, if the canister has it.
/// Names longer than the IC allows trap (ours are short constants).
pub fn var(name: &str) -> Option<Vec<u8>> {
    if ic0::env_var_name_exists(name) == 0 {
        return None;
    }
    let mut value = vec![0; ic0::env_var_value_size(name)];
    ic0::env_var_value_copy(name, &mut value, 0);
    Some(value)
}

/// The id icp-cli gave the project's canister `canister` (from
/// `PUBLIC_CANISTER_ID:<canister>`); `None` when the variable is not set.
pub fn public_canister_id(canister: &str) -> Option<Result<Principal, String>> {
    let name = format!("{PUBLIC_CANISTER_ID_PREFIX}{canister}");
    var(&name).map(|value| parse_canister_id(&name, &value))
}

/// A variable's value as a principal, or why it is not one.
pub fn parse_canister_id(name: &str, value: &[u8]) -> Result<Principal, String> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| Principal::from_text(text).ok())
        .ok_or_else(|| format!("environment variable {name} is not a principal: {:?}", String::from_utf8_lossy(value)))
}

#[cfg(test)]
mod tests {
    use super::parse_canister_id;

    #[test]
    fn values_parse_as_principals_or_say_why_not() {
        let id = "uxrrr-q7777-77774-qaaaq-cai";
        assert_eq!(parse_canister_id("V", id.as_bytes()).unwrap().to_text(), id);
        for bad in [&b""[..], b"not a principal", b"\xff\xfe", b"uxrrr-q7777-77774-qaaaq-cax"] {
            let e = parse_canister_id("PUBLIC_CANISTER_ID:directory", bad).unwrap_err();
            assert!(e.contains("PUBLIC_CANISTER_ID:directory is not a principal"), "{e}");
        }
    }
}
