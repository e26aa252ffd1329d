//! Encodings of everything kept in stable structures.
//!
//! Values are CBOR through `depot_api::storable`, the record codec both
//! canisters share: self-describing, so a field added later with
//! `#[serde(default)]` still decodes old records. Keys are fixed binary
//! layouts whose byte order is the order we want to iterate in.

use candid::Principal;
use depot_api::FileKey;
use depot_api::ids::ID_BYTES;
use ic_stable_structures::Storable;
use ic_stable_structures::storable::Bound;
use std::borrow::Cow;

pub(crate) use depot_api::cbor_storable;
pub use depot_api::storable::{cbor_decode, cbor_encode};

/// Longest principal (bytes).
pub const MAX_PRINCIPAL_BYTES: usize = 29;

/// Traps like `cbor_decode` on a record that does not decode: corrupted state.
fn corrupted(what: &str, b: &[u8]) -> ! {
    panic!("decoding of a state record failed: {what} of {} bytes (first byte {:?})", b.len(), b.first())
}

/// Key of the files map: `len(owner) u8 | owner padded to 29 | created_at_ns
/// u64 BE | file key (16)`. All files of one owner are contiguous and ordered
/// by creation time, so `list_files` pages in a stable order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListKey {
    owner_len: u8,
    owner: [u8; MAX_PRINCIPAL_BYTES],
    pub created_at_ns: u64,
    pub file: FileKey,
}

pub const LIST_KEY_BYTES: usize = 1 + MAX_PRINCIPAL_BYTES + 8 + ID_BYTES;
/// The opaque `list_files` cursor: the position inside one owner's range.
pub const LIST_CURSOR_BYTES: usize = 8 + ID_BYTES;

impl ListKey {
    pub fn new(owner: Principal, created_at_ns: u64, file: FileKey) -> Self {
        let slice = owner.as_slice();
        let mut padded = [0u8; MAX_PRINCIPAL_BYTES];
        padded[..slice.len()].copy_from_slice(slice);
        Self { owner_len: slice.len() as u8, owner: padded, created_at_ns, file }
    }

    pub fn owner(&self) -> Principal {
        Principal::from_slice(&self.owner[..self.owner_len as usize])
    }

    /// Smallest key of `owner`.
    pub fn first_of(owner: Principal) -> Self {
        Self::new(owner, 0, FileKey([0; ID_BYTES]))
    }

    /// Largest key of `owner`.
    pub fn last_of(owner: Principal) -> Self {
        Self::new(owner, u64::MAX, FileKey([0xff; ID_BYTES]))
    }

    pub fn cursor(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(LIST_CURSOR_BYTES);
        out.extend_from_slice(&self.created_at_ns.to_be_bytes());
        out.extend_from_slice(&self.file.0);
        out
    }

    pub fn from_cursor(owner: Principal, cursor: &[u8]) -> Option<Self> {
        if cursor.len() != LIST_CURSOR_BYTES {
            return None;
        }
        let created = u64::from_be_bytes(cursor[..8].try_into().ok()?);
        let file = FileKey::from_slice(&cursor[8..])?;
        Some(Self::new(owner, created, file))
    }
}

impl Storable for ListKey {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.into_bytes())
    }
    fn into_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(LIST_KEY_BYTES);
        out.push(self.owner_len);
        out.extend_from_slice(&self.owner);
        out.extend_from_slice(&self.created_at_ns.to_be_bytes());
        out.extend_from_slice(&self.file.0);
        out
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let b = bytes.as_ref();
        // A corrupted key traps with the record codec's message, not with an
        // index panic here or later in `owner()`.
        if b.len() != LIST_KEY_BYTES || b[0] as usize > MAX_PRINCIPAL_BYTES {
            corrupted("ListKey", b);
        }
        let mut owner = [0u8; MAX_PRINCIPAL_BYTES];
        owner.copy_from_slice(&b[1..1 + MAX_PRINCIPAL_BYTES]);
        let at = 1 + MAX_PRINCIPAL_BYTES;
        Self {
            owner_len: b[0],
            owner,
            created_at_ns: u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes")),
            file: FileKey::from_slice(&b[at + 8..]).expect("16 bytes"),
        }
    }
    const BOUND: Bound = Bound::Bounded { max_size: LIST_KEY_BYTES as u32, is_fixed_size: true };
}

/// Value of the file index (`file key → FilePlace`): where the file sits in
/// the files map, less the file key the index is keyed by. The owner is
/// named by its number (`State::owner_numbers`), not by its principal of up
/// to 29 bytes: that makes the entry 17 bytes, and the index's pages, whose
/// size a fresh map derives from `BOUND`, half as large (issue 13's bytes
/// per file).
///
/// Three stored forms, told apart by the first byte:
/// - `0xFF | owner number u64 BE | created_at_ns u64 BE`, written now;
/// - `len u8 | owner (len bytes) | created_at_ns u64 BE` (at most 38 bytes),
///   written before owner numbers;
/// - a whole `ListKey` (54 bytes, its first byte a length too), written
///   before that.
///
/// Entries of the older forms stay where they are and still decode: a map
/// keeps the page size it was created with, and values carry their length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilePlace {
    Numbered {
        owner_number: u64,
        created_at_ns: u64,
    },
    /// Older forms only: never written by this version.
    Owner {
        owner: Principal,
        created_at_ns: u64,
    },
}

/// First byte of a numbered place: no principal length is this large.
const NUMBERED_PLACE_TAG: u8 = 0xff;
pub const FILE_PLACE_BYTES: usize = 1 + 8 + 8;

impl Storable for FilePlace {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.into_bytes())
    }
    fn into_bytes(self) -> Vec<u8> {
        match self {
            Self::Numbered { owner_number, created_at_ns } => {
                let mut out = Vec::with_capacity(FILE_PLACE_BYTES);
                out.push(NUMBERED_PLACE_TAG);
                out.extend_from_slice(&owner_number.to_be_bytes());
                out.extend_from_slice(&created_at_ns.to_be_bytes());
                out
            }
            // The older inline form. This version never writes it
            // (`State::insert_file` writes numbered places); tests build
            // older indexes with it.
            Self::Owner { owner, created_at_ns } => {
                let owner = owner.as_slice();
                let mut out = Vec::with_capacity(1 + owner.len() + 8);
                out.push(owner.len() as u8);
                out.extend_from_slice(owner);
                out.extend_from_slice(&created_at_ns.to_be_bytes());
                out
            }
        }
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let b = bytes.as_ref();
        let first = *b.first().unwrap_or_else(|| corrupted("FilePlace", b));
        if first == NUMBERED_PLACE_TAG {
            if b.len() != FILE_PLACE_BYTES {
                corrupted("FilePlace", b);
            }
            return Self::Numbered {
                owner_number: u64::from_be_bytes(b[1..9].try_into().expect("8 bytes")),
                created_at_ns: u64::from_be_bytes(b[9..].try_into().expect("8 bytes")),
            };
        }
        if b.len() == LIST_KEY_BYTES {
            let key = ListKey::from_bytes(Cow::Borrowed(b));
            return Self::Owner { owner: key.owner(), created_at_ns: key.created_at_ns };
        }
        let len = first as usize;
        if len > MAX_PRINCIPAL_BYTES || b.len() != 1 + len + 8 {
            corrupted("FilePlace", b);
        }
        Self::Owner {
            owner: Principal::from_slice(&b[1..1 + len]),
            created_at_ns: u64::from_be_bytes(b[1 + len..].try_into().expect("8 bytes")),
        }
    }
    const BOUND: Bound = Bound::Bounded { max_size: FILE_PLACE_BYTES as u32, is_fixed_size: false };
}

/// `time u64 BE | id (16)`: a queue ordered by due time (upload expiry,
/// next attempt of a bucket deletion).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimedKey {
    pub at_ns: u64,
    pub id: [u8; ID_BYTES],
}

pub const TIMED_KEY_BYTES: usize = 8 + ID_BYTES;

impl TimedKey {
    pub fn new(at_ns: u64, id: [u8; ID_BYTES]) -> Self {
        Self { at_ns, id }
    }
}

impl Storable for TimedKey {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.into_bytes())
    }
    fn into_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TIMED_KEY_BYTES);
        out.extend_from_slice(&self.at_ns.to_be_bytes());
        out.extend_from_slice(&self.id);
        out
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let b = bytes.as_ref();
        if b.len() != TIMED_KEY_BYTES {
            corrupted("TimedKey", b);
        }
        Self {
            at_ns: u64::from_be_bytes(b[..8].try_into().expect("8 bytes")),
            id: b[8..].try_into().expect("16 bytes"),
        }
    }
    const BOUND: Bound = Bound::Bounded { max_size: TIMED_KEY_BYTES as u32, is_fixed_size: true };
}

/// Longest principal.
const PRINCIPAL_MAX: usize = 29;

/// `class u8 | fill u64 BE | len u8 | bucket padded to 29`: the routing
/// index (`State::routing`). Class 0 holds the Writable buckets in use, by
/// committed + reserved bytes, so the emptiest comes first; class 1 the
/// pooled ones. Among equal fills, buckets come in `Principal`'s own order
/// (length, then bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteKey {
    pub class: u8,
    pub fill: u64,
    len: u8,
    bucket: [u8; PRINCIPAL_MAX],
}

pub const ROUTE_KEY_BYTES: usize = 1 + 8 + PRINCIPAL_MAX + 1;

impl RouteKey {
    pub fn new(class: u8, fill: u64, bucket: Principal) -> Self {
        let s = bucket.as_slice();
        let mut padded = [0u8; PRINCIPAL_MAX];
        padded[..s.len()].copy_from_slice(s);
        Self { class, fill, len: s.len() as u8, bucket: padded }
    }

    /// The first key of `class`.
    pub fn first_of(class: u8) -> Self {
        Self { class, fill: 0, len: 0, bucket: [0; PRINCIPAL_MAX] }
    }

    pub fn bucket(&self) -> Principal {
        Principal::from_slice(&self.bucket[..self.len as usize])
    }
}

impl Storable for RouteKey {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.into_bytes())
    }
    fn into_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ROUTE_KEY_BYTES);
        out.push(self.class);
        out.extend_from_slice(&self.fill.to_be_bytes());
        out.push(self.len);
        out.extend_from_slice(&self.bucket);
        out
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let b = bytes.as_ref();
        if b.len() != ROUTE_KEY_BYTES || b[9] as usize > PRINCIPAL_MAX {
            corrupted("RouteKey", b);
        }
        Self {
            class: b[0],
            fill: u64::from_be_bytes(b[1..9].try_into().expect("8 bytes")),
            len: b[9],
            bucket: b[10..].try_into().expect("29 bytes"),
        }
    }
    const BOUND: Bound = Bound::Bounded { max_size: ROUTE_KEY_BYTES as u32, is_fixed_size: true };
}

/// `len(user) u8 | user padded to 29 | suffix (N bytes)`: records of one
/// user, contiguous and ordered by the suffix (a movement's sequence number
/// BE, a deposit's nonce).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UserKey<const N: usize> {
    user_len: u8,
    user: [u8; MAX_PRINCIPAL_BYTES],
    pub suffix: [u8; N],
}

impl<const N: usize> UserKey<N> {
    pub const BYTES: usize = 1 + MAX_PRINCIPAL_BYTES + N;

    pub fn new(user: Principal, suffix: [u8; N]) -> Self {
        let slice = user.as_slice();
        let mut padded = [0u8; MAX_PRINCIPAL_BYTES];
        padded[..slice.len()].copy_from_slice(slice);
        Self { user_len: slice.len() as u8, user: padded, suffix }
    }

    pub fn user(&self) -> Principal {
        Principal::from_slice(&self.user[..self.user_len as usize])
    }

    /// The smallest and largest keys of `user`.
    pub fn range_of(user: Principal) -> std::ops::RangeInclusive<Self> {
        Self::new(user, [0; N])..=Self::new(user, [0xff; N])
    }
}

/// A movement: user ‖ sequence number (u64 BE).
pub type MovementKey = UserKey<8>;
/// A deposit journal entry: user ‖ nonce.
pub type DepositKey = UserKey<{ depot_api::limits::DEPOSIT_NONCE_BYTES }>;

impl MovementKey {
    pub fn movement(user: Principal, seq: u64) -> Self {
        Self::new(user, seq.to_be_bytes())
    }
}

impl<const N: usize> Storable for UserKey<N> {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.into_bytes())
    }
    fn into_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::BYTES);
        out.push(self.user_len);
        out.extend_from_slice(&self.user);
        out.extend_from_slice(&self.suffix);
        out
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let b = bytes.as_ref();
        if b.len() != Self::BYTES || b[0] as usize > MAX_PRINCIPAL_BYTES {
            corrupted("UserKey", b);
        }
        let mut user = [0u8; MAX_PRINCIPAL_BYTES];
        user.copy_from_slice(&b[1..1 + MAX_PRINCIPAL_BYTES]);
        Self { user_len: b[0], user, suffix: b[1 + MAX_PRINCIPAL_BYTES..].try_into().expect("N bytes") }
    }
    const BOUND: Bound = Bound::Bounded { max_size: Self::BYTES as u32, is_fixed_size: true };
}

#[cfg(test)]
/// `FilePlace` as the previous version declared it: the inline form,
/// bounded at 38 bytes (so an index it created has larger pages).
pub struct InlinePlace(pub FilePlace);

#[cfg(test)]
impl Storable for InlinePlace {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.0.into_bytes())
    }
    fn into_bytes(self) -> Vec<u8> {
        self.0.into_bytes()
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        Self(FilePlace::from_bytes(bytes))
    }
    const BOUND: Bound = Bound::Bounded { max_size: 1 + MAX_PRINCIPAL_BYTES as u32 + 8, is_fixed_size: false };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_key_round_trip_and_order() {
        let a = Principal::from_slice(&[1; 29]);
        let b = Principal::from_slice(&[1; 10]);
        let k = ListKey::new(a, 5, FileKey([9; 16]));
        assert_eq!(ListKey::from_bytes(k.to_bytes()), k);
        assert_eq!(k.owner(), a);
        assert_eq!(k.to_bytes().len(), LIST_KEY_BYTES);
        // Byte order equals derived order, and owners never interleave.
        let keys = [
            ListKey::new(b, 9, FileKey([0; 16])),
            ListKey::new(a, 1, FileKey([0xff; 16])),
            ListKey::new(a, 2, FileKey([0; 16])),
            ListKey::first_of(a),
            ListKey::last_of(b),
        ];
        for x in &keys {
            for y in &keys {
                assert_eq!(x.cmp(y), x.to_bytes().cmp(&y.to_bytes()));
            }
        }
        assert!(ListKey::last_of(b) < ListKey::first_of(a));
        assert_eq!(ListKey::from_cursor(a, &k.cursor()), Some(k));
        assert_eq!(ListKey::from_cursor(a, &[0; 3]), None);
    }

    #[test]
    fn route_keys_order_by_class_fill_then_principal_as_principals_do() {
        let ps = [
            Principal::from_slice(&[1]),
            Principal::from_slice(&[1, 0]),
            Principal::from_slice(&[1, 2]),
            Principal::from_slice(&[0, 9, 9]),
            Principal::from_slice(&[2; 29]),
        ];
        let mut keys = vec![];
        for class in [0u8, 1] {
            for fill in [0u64, 5, u64::MAX] {
                for p in ps {
                    keys.push((class, fill, p));
                }
            }
        }
        for a in &keys {
            let ka = RouteKey::new(a.0, a.1, a.2);
            assert_eq!(RouteKey::from_bytes(ka.to_bytes()), ka);
            assert_eq!(ka.bucket(), a.2);
            assert!(RouteKey::first_of(a.0) <= ka && ka < RouteKey::first_of(a.0 + 1));
            for b in &keys {
                let kb = RouteKey::new(b.0, b.1, b.2);
                assert_eq!(ka.cmp(&kb), a.cmp(b), "{a:?} {b:?}");
                assert_eq!(ka.cmp(&kb), ka.to_bytes().cmp(&kb.to_bytes()));
            }
        }
        let mut bad = RouteKey::new(0, 0, ps[0]).into_bytes();
        bad[9] = 30;
        assert!(std::panic::catch_unwind(|| RouteKey::from_bytes(Cow::Owned(bad))).is_err());
    }

    #[test]
    fn corrupted_keys_trap_with_the_codec_message() {
        let mut long_owner = ListKey::new(Principal::from_slice(&[1; 29]), 5, FileKey([9; 16])).into_bytes();
        long_owner[0] = 30;
        let inputs: [(&str, Vec<u8>); 4] =
            [("ListKey", vec![0; 10]), ("ListKey", long_owner), ("TimedKey", vec![0; 5]), ("TimedKey", vec![0; 25])];
        for (what, bytes) in inputs {
            let r = std::panic::catch_unwind(|| match what {
                "ListKey" => ListKey::from_bytes(Cow::Owned(bytes)).created_at_ns,
                _ => TimedKey::from_bytes(Cow::Owned(bytes)).at_ns,
            });
            let msg = r.expect_err("a corrupted key traps");
            let msg = msg.downcast_ref::<String>().expect("a formatted message");
            assert!(msg.contains("decoding of a state record failed"), "{msg}");
        }
    }

    #[test]
    fn user_key_round_trip_and_order() {
        let a = Principal::from_slice(&[1; 29]);
        let b = Principal::from_slice(&[1; 10]);
        let k = MovementKey::movement(a, 7);
        assert_eq!(MovementKey::from_bytes(k.to_bytes()), k);
        assert_eq!(k.user(), a);
        assert_eq!(k.to_bytes().len(), MovementKey::BYTES);
        let keys = [MovementKey::movement(b, u64::MAX), MovementKey::movement(a, 1), MovementKey::movement(a, 256)];
        for x in &keys {
            for y in &keys {
                assert_eq!(x.cmp(y), x.to_bytes().cmp(&y.to_bytes()));
            }
        }
        assert!(MovementKey::range_of(a).contains(&k) && !MovementKey::range_of(b).contains(&k));
        let r = std::panic::catch_unwind(|| DepositKey::from_bytes(Cow::Owned(vec![0; 5])).suffix);
        assert!(r.is_err(), "a corrupted key traps");
    }

    #[test]
    fn timed_key_round_trip() {
        let k = TimedKey::new(u64::MAX - 1, [7; 16]);
        assert_eq!(TimedKey::from_bytes(k.to_bytes()), k);
        assert!(TimedKey::new(1, [0xff; 16]) < TimedKey::new(2, [0; 16]));
    }

    #[test]
    fn file_places_round_trip_and_read_older_forms() {
        for (owner_number, created_at_ns) in [(0, 0), (7, 77), (u64::MAX, u64::MAX)] {
            let place = FilePlace::Numbered { owner_number, created_at_ns };
            let bytes = place.into_bytes();
            assert_eq!(bytes.len(), FILE_PLACE_BYTES);
            assert_eq!(FilePlace::from_bytes(Cow::Owned(bytes)), place);
        }
        for owner in [Principal::from_slice(&[1; 29]), Principal::from_slice(&[2; 10]), Principal::anonymous()] {
            let key = ListKey::new(owner, 77, FileKey([9; 16]));
            let place = FilePlace::Owner { owner, created_at_ns: 77 };
            assert_eq!(FilePlace::from_bytes(Cow::Owned(place.into_bytes())), place, "the inline form");
            assert_eq!(FilePlace::from_bytes(key.to_bytes()), place, "a value stored as a ListKey");
        }
        // A 7-byte owner's inline form is 16 bytes, one short of a numbered
        // place: the tag, not the length, tells them apart.
        let seven = FilePlace::Owner { owner: Principal::from_slice(&[0xff; 7]), created_at_ns: 1 };
        assert_eq!(FilePlace::from_bytes(Cow::Owned(seven.into_bytes())), seven);
        for bad in [vec![], vec![30], vec![3, 1, 2, 3], vec![0; 39], vec![0xff; 16], vec![0xff; 18], vec![0xff]] {
            let r = std::panic::catch_unwind(|| FilePlace::from_bytes(Cow::Owned(bad.clone())));
            assert!(r.is_err(), "{bad:?} decoded");
        }
    }

    /// An index written with `ListKey` values, then with inline places,
    /// opens with numbered places: old entries read, new ones are written in
    /// the numbered form, and all stay readable through the splits that
    /// move them between nodes.
    #[test]
    fn an_index_of_older_forms_opens_with_numbered_places() {
        use ic_stable_structures::{StableBTreeMap, VectorMemory};
        let memory = VectorMemory::default();
        let owner = Principal::from_slice(&[4; 29]);
        let old = ListKey::new(owner, 5, FileKey([1; 16]));
        let inline = FilePlace::Owner { owner, created_at_ns: 6 };
        {
            let mut m: StableBTreeMap<[u8; 16], ListKey, _> = StableBTreeMap::init(memory.clone());
            m.insert([1; 16], old);
        }
        {
            let mut m: StableBTreeMap<[u8; 16], InlinePlace, _> = StableBTreeMap::init(memory.clone());
            m.insert([2; 16], InlinePlace(inline));
        }
        let mut m: StableBTreeMap<[u8; 16], FilePlace, _> = StableBTreeMap::init(memory);
        for n in 3..250u8 {
            m.insert([n; 16], FilePlace::Numbered { owner_number: n as u64, created_at_ns: n as u64 + 4 });
        }
        assert_eq!(m.get(&[1; 16]), Some(FilePlace::Owner { owner, created_at_ns: 5 }));
        assert_eq!(m.get(&[2; 16]), Some(inline));
        assert_eq!(m.get(&[200; 16]), Some(FilePlace::Numbered { owner_number: 200, created_at_ns: 204 }));
        assert_eq!(m.len(), 249);
    }
}
