//! The vector operations the paired SHA-256 rounds need, on two 64-bit
//! lanes of 32-bit words: the first state's word in lane 0, the second's in
//! lane 1, each kept as `(x:x)` where a rotation follows.

pub trait Lanes: Copy {
    /// `a` (first state) and `b` (second), each in both halves of its lane.
    fn pair(a: u32, b: u32) -> Self;
    /// `x` in every half of both lanes.
    fn splat(x: u32) -> Self;
    /// The low halves of both lanes: (first, second).
    fn unpair(self) -> (u32, u32);
    /// Wrapping addition of 32-bit halves.
    fn add(self, other: Self) -> Self;
    fn xor(self, other: Self) -> Self;
    /// Bits of `t` where `mask` is 1, of `f` where it is 0.
    fn select(t: Self, f: Self, mask: Self) -> Self;
    /// Each 64-bit lane shifted right by `n`: for a lane `(x:x)`, its low
    /// half is then `x.rotate_right(n)`.
    fn shr64(self, n: u32) -> Self;
    /// Each lane's low half copied into its high half.
    fn dup_low(self) -> Self;
}

/// Plain integers with the same layout, for native builds and tests.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Portable([u64; 2]);

#[cfg(not(target_arch = "wasm32"))]
impl Lanes for Portable {
    fn pair(a: u32, b: u32) -> Self {
        Portable([dup(a), dup(b)])
    }
    fn splat(x: u32) -> Self {
        Portable([dup(x); 2])
    }
    fn unpair(self) -> (u32, u32) {
        (self.0[0] as u32, self.0[1] as u32)
    }
    fn add(self, o: Self) -> Self {
        let halves = |x: u64, y: u64| {
            let lo = (x as u32).wrapping_add(y as u32);
            let hi = ((x >> 32) as u32).wrapping_add((y >> 32) as u32);
            (hi as u64) << 32 | lo as u64
        };
        Portable([halves(self.0[0], o.0[0]), halves(self.0[1], o.0[1])])
    }
    fn xor(self, o: Self) -> Self {
        Portable([self.0[0] ^ o.0[0], self.0[1] ^ o.0[1]])
    }
    fn select(t: Self, f: Self, m: Self) -> Self {
        Portable([(t.0[0] & m.0[0]) | (f.0[0] & !m.0[0]), (t.0[1] & m.0[1]) | (f.0[1] & !m.0[1])])
    }
    fn shr64(self, n: u32) -> Self {
        Portable([self.0[0] >> n, self.0[1] >> n])
    }
    fn dup_low(self) -> Self {
        Portable([dup(self.0[0] as u32), dup(self.0[1] as u32)])
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn dup(x: u32) -> u64 {
    (x as u64) << 32 | x as u64
}

/// wasm `simd128`: one `v128` as four 32-bit lanes `[a, a, b, b]`.
#[cfg(target_arch = "wasm32")]
#[derive(Clone, Copy)]
pub struct Wasm(core::arch::wasm32::v128);

#[cfg(target_arch = "wasm32")]
impl Lanes for Wasm {
    #[inline(always)]
    fn pair(a: u32, b: u32) -> Self {
        Wasm(core::arch::wasm32::u32x4(a, a, b, b))
    }
    #[inline(always)]
    fn splat(x: u32) -> Self {
        Wasm(core::arch::wasm32::u32x4_splat(x))
    }
    #[inline(always)]
    fn unpair(self) -> (u32, u32) {
        use core::arch::wasm32::u32x4_extract_lane;
        (u32x4_extract_lane::<0>(self.0), u32x4_extract_lane::<2>(self.0))
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Wasm(core::arch::wasm32::u32x4_add(self.0, o.0))
    }
    #[inline(always)]
    fn xor(self, o: Self) -> Self {
        Wasm(core::arch::wasm32::v128_xor(self.0, o.0))
    }
    #[inline(always)]
    fn select(t: Self, f: Self, m: Self) -> Self {
        Wasm(core::arch::wasm32::v128_bitselect(t.0, f.0, m.0))
    }
    #[inline(always)]
    fn shr64(self, n: u32) -> Self {
        Wasm(core::arch::wasm32::u64x2_shr(self.0, n))
    }
    #[inline(always)]
    fn dup_low(self) -> Self {
        Wasm(core::arch::wasm32::i32x4_shuffle::<0, 0, 2, 2>(self.0, self.0))
    }
}
