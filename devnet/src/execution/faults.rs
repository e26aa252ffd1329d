//! Fault injection helpers.

use candid::IDLArgs;
use candid::types::value::IDLValue;

/// Flips one byte inside the first blob (`vec nat8`) of a candid reply so
/// clients that verify certified data notice; falls back to the last byte.
/// The flip is done on the raw bytes so the encoding stays otherwise intact.
pub fn tamper_reply(bytes: &mut [u8]) {
    if let Some(pos) = first_blob_position(bytes) {
        bytes[pos] ^= 0x01;
    } else if let Some(last) = bytes.last_mut() {
        *last ^= 0x01;
    }
}

fn first_blob_position(bytes: &[u8]) -> Option<usize> {
    let args = IDLArgs::from_bytes(bytes).ok()?;
    let blob = args.args.iter().find_map(find_blob)?;
    if blob.is_empty() {
        return None;
    }
    // Blob contents are stored verbatim after the type table, preceded by
    // their LEB128 length: find that pattern and flip a byte in the middle.
    let mut pattern = Vec::with_capacity(blob.len() + 10);
    let mut n = blob.len() as u64;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            pattern.push(b);
            break;
        }
        pattern.push(b | 0x80);
    }
    let prefix = pattern.len();
    pattern.extend_from_slice(&blob);
    let start = bytes.windows(pattern.len()).position(|w| w == pattern.as_slice())?;
    Some(start + prefix + blob.len() / 2)
}

fn find_blob(v: &IDLValue) -> Option<Vec<u8>> {
    match v {
        IDLValue::Blob(b) if !b.is_empty() => Some(b.clone()),
        IDLValue::Vec(items) if !items.is_empty() && items.iter().all(|i| matches!(i, IDLValue::Nat8(_))) => {
            Some(items.iter().filter_map(|i| if let IDLValue::Nat8(n) = i { Some(*n) } else { None }).collect())
        }
        IDLValue::Vec(items) => items.iter().find_map(find_blob),
        IDLValue::Record(fields) => fields.iter().find_map(|f| find_blob(&f.val)),
        IDLValue::Variant(v) => find_blob(&v.0.val),
        IDLValue::Opt(inner) => find_blob(inner),
        _ => None,
    }
}
