//! Random Candid values of a Rust type's Candid type, so the argument
//! decoders are fed valid encodings (then mutated), not only noise.

use crate::engine::Rng;
use candid::types::internal::find_type;
use candid::types::value::{IDLField, IDLValue, VariantValue};
use candid::types::{Label, Type, TypeEnv, TypeInner};
use candid::{CandidType, IDLArgs, Int, Nat, Principal};

/// The Candid types of an argument tuple.
pub trait ArgTypes {
    fn types() -> Vec<Type>;
}

impl ArgTypes for () {
    fn types() -> Vec<Type> {
        vec![]
    }
}

impl<A: CandidType> ArgTypes for (A,) {
    fn types() -> Vec<Type> {
        vec![A::ty()]
    }
}

impl<A: CandidType, B: CandidType> ArgTypes for (A, B) {
    fn types() -> Vec<Type> {
        vec![A::ty(), B::ty()]
    }
}

fn label(l: &Label) -> Label {
    match l {
        Label::Id(n) => Label::Id(*n),
        Label::Named(s) => Label::Named(s.clone()),
        Label::Unnamed(n) => Label::Unnamed(*n),
    }
}

/// A principal of a realistic or edge length (0..=29 bytes).
pub fn principal(rng: &mut Rng) -> Principal {
    let len = match rng.below(4) {
        0 => 29,
        1 => 10,
        2 => 0,
        _ => rng.below(30),
    };
    Principal::from_slice(&rng.bytes(len))
}

fn text(rng: &mut Rng) -> String {
    const SAMPLES: [&str; 10] =
        ["", "a.txt", "image/png", "image/png;,text/html", "{bucket}.icp0.io", "é", "\u{0}", "..", "/f/", "https"];
    if rng.one_in(2) {
        rng.pick(&SAMPLES).to_string()
    } else {
        let n = rng.below(40);
        (0..n).map(|_| char::from(b' ' + rng.below(95) as u8)).collect()
    }
}

/// A random value of type `t` (depth-limited: deep options become `null`,
/// deep vectors empty).
pub fn value(rng: &mut Rng, t: &Type, depth: u32) -> IDLValue {
    match t.as_ref() {
        TypeInner::Null => IDLValue::Null,
        TypeInner::Bool => IDLValue::Bool(rng.one_in(2)),
        TypeInner::Nat => IDLValue::Nat(Nat::from(rng.interesting_u64())),
        TypeInner::Int => IDLValue::Int(Int::from(rng.interesting_u64() as i64)),
        TypeInner::Nat8 => IDLValue::Nat8(rng.interesting_u64() as u8),
        TypeInner::Nat16 => IDLValue::Nat16(rng.interesting_u64() as u16),
        TypeInner::Nat32 => IDLValue::Nat32(rng.interesting_u64() as u32),
        TypeInner::Nat64 => IDLValue::Nat64(rng.interesting_u64()),
        TypeInner::Int8 => IDLValue::Int8(rng.interesting_u64() as i8),
        TypeInner::Int16 => IDLValue::Int16(rng.interesting_u64() as i16),
        TypeInner::Int32 => IDLValue::Int32(rng.interesting_u64() as i32),
        TypeInner::Int64 => IDLValue::Int64(rng.interesting_u64() as i64),
        TypeInner::Float32 => IDLValue::Float32(rng.next_u64() as u32 as f32),
        TypeInner::Float64 => IDLValue::Float64(rng.next_u64() as f64),
        TypeInner::Text => IDLValue::Text(text(rng)),
        TypeInner::Reserved => IDLValue::Reserved,
        TypeInner::Principal => IDLValue::Principal(principal(rng)),
        TypeInner::Opt(inner) => {
            if depth > 6 || rng.one_in(3) {
                IDLValue::None
            } else {
                IDLValue::Opt(Box::new(value(rng, inner, depth + 1)))
            }
        }
        TypeInner::Vec(inner) => {
            if matches!(inner.as_ref(), TypeInner::Nat8) {
                let n = match rng.below(4) {
                    0 => 16,
                    1 => 32,
                    2 => 64,
                    _ => rng.below(80),
                };
                return IDLValue::Blob(rng.bytes(n));
            }
            let n = if depth > 4 { 0 } else { rng.below(5) };
            IDLValue::Vec((0..n).map(|_| value(rng, inner, depth + 1)).collect())
        }
        TypeInner::Record(fields) => IDLValue::Record(
            fields.iter().map(|f| IDLField { id: label(&f.id), val: value(rng, &f.ty, depth + 1) }).collect(),
        ),
        TypeInner::Variant(fields) => {
            let i = rng.below(fields.len());
            let f = &fields[i];
            IDLValue::Variant(VariantValue(
                Box::new(IDLField { id: label(&f.id), val: value(rng, &f.ty, depth + 1) }),
                i as u64,
            ))
        }
        TypeInner::Knot(id) => {
            let t = find_type(id).expect("knot type registered by CandidType::ty");
            value(rng, &t, depth)
        }
        other => panic!("no generator for Candid type {other:?}"),
    }
}

/// A valid encoding of random arguments of types `types`.
pub fn encode_random(rng: &mut Rng, types: &[Type]) -> Vec<u8> {
    let values: Vec<IDLValue> = types.iter().map(|t| value(rng, t, 0)).collect();
    IDLArgs::new(&values).to_bytes_with_types(&TypeEnv::new(), types).expect("a generated value matches its type")
}

/// Byte strings that mean something to a Candid decoder.
pub fn dictionary() -> Vec<Vec<u8>> {
    let mut d: Vec<Vec<u8>> = vec![
        b"DIDL".to_vec(),
        b"DIDL\x00\x00".to_vec(),
        b"DIDL\x00\x01".to_vec(),
        vec![0x6c], // record
        vec![0x6b], // variant
        vec![0x6d], // vec
        vec![0x6e], // opt
        vec![0x71], // text
        vec![0x68], // principal
        vec![0x7b], // nat8
        vec![0x7c], // int
        vec![0x7d], // nat
        vec![0x78], // nat64
        vec![0x7f], // null
        vec![0x70], // reserved
        vec![0x6f], // empty
        vec![0x80, 0x80, 0x80, 0x80, 0x10],
        vec![0xff, 0xff, 0xff, 0xff, 0x0f],
        vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        vec![0x00],
        vec![0x01],
        // a type table `vec reserved` / `vec null`, then a huge count: a
        // skipping bomb unless the quotas stop it
        vec![0x01, 0x6d, 0x70, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f],
        vec![0x01, 0x6d, 0x7f, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f],
        vec![0x7f],
    ];
    // 16- and 32-byte blobs, the sizes of keys, ids and hashes
    d.push([&[0x10][..], &[0xab; 16]].concat());
    d.push([&[0x20][..], &[0xcd; 32]].concat());
    d
}
