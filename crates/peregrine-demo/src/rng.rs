//! A small, fast, portable pseudo-random generator (wyrand) and the helpers the generators
//! use. It is defined here, not taken from a crate, so the demo data stays identical for a
//! seed across crate upgrades and platforms.

use std::fmt::Write;

/// FNV-1a of a string: a stable 64-bit key for names.
pub(crate) fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// SplitMix64 finaliser: mixes a key into a well-distributed seed.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A seed derived from several keys (order matters).
pub(crate) fn key(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x5eed_0f0d_e700_0001u64, |acc, p| mix(acc ^ mix(*p)))
}

#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng { state: mix(seed) }
    }

    /// A generator for a sub-stream named by `parts`.
    pub(crate) fn derive(parts: &[u64]) -> Self {
        Rng::new(key(parts))
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.state).wrapping_mul(u128::from(self.state ^ 0xe703_7ed1_a0b4_28db));
        ((t >> 64) as u64) ^ (t as u64)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    #[inline]
    pub(crate) fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    #[inline]
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.index(items.len()))
        }
    }

    /// Picks a `&str` from a non-empty list ("" for an empty one).
    #[inline]
    pub(crate) fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        self.pick(items).copied().unwrap_or("")
    }

    /// A count with mean `mean`: the integer part plus one with the fractional chance.
    pub(crate) fn count(&mut self, mean: f64) -> u64 {
        if mean <= 0.0 {
            return 0;
        }
        let base = mean.floor();
        base as u64 + u64::from(self.chance(mean - base))
    }

    /// Appends `n` lowercase hex digits.
    pub(crate) fn hex_into(&mut self, out: &mut String, n: usize) {
        let mut left = n;
        while left > 0 {
            let v = self.next_u64();
            let take = left.min(16);
            for i in 0..take {
                let d = ((v >> (i * 4)) & 0xf) as u32;
                out.push(char::from_digit(d, 16).unwrap_or('0'));
            }
            left -= take;
        }
    }

    pub(crate) fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        self.hex_into(&mut s, n);
        s
    }

    /// A lowercase GUID text (`8-4-4-4-12`, version 4 layout).
    pub(crate) fn guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        let mut s = String::with_capacity(36);
        let _ = write!(
            s,
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            (a >> 32) as u32,
            (a >> 16) as u16,
            (a & 0xfff) as u16,
            (((b >> 48) as u16) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        );
        s
    }
}

/// Fills a weighted choice table; `pick` returns an index by weight.
#[derive(Debug, Clone, Default)]
pub(crate) struct Weighted {
    cumulative: Vec<u64>,
}

impl Weighted {
    pub(crate) fn new(weights: impl IntoIterator<Item = u64>) -> Self {
        let mut total = 0u64;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Weighted { cumulative }
    }

    #[inline]
    pub(crate) fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0);
        let x = rng.below(total);
        self.cumulative.partition_point(|c| *c <= x)
    }
}

/// Standard base64 (with padding) of bytes.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = u32::from(chunk.first().copied().unwrap_or(0));
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        let sym = |shift: u32| char::from(T[((n >> shift) & 63) as usize]);
        out.push(sym(18));
        out.push(sym(12));
        out.push(if chunk.len() > 1 { sym(6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(0) } else { '=' });
    }
    out
}

/// PowerShell's `-EncodedCommand` form of a script: base64 of its UTF-16LE bytes.
pub(crate) fn powershell_encoded(script: &str) -> String {
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64(&bytes)
}

/// Deterministic file hashes of a file name: (SHA1, SHA256, MD5) hex of the right lengths.
pub(crate) fn file_hashes(name: &str) -> (String, String, String) {
    let mut r = Rng::derive(&[fnv(&name.to_ascii_lowercase()), 0xf11e]);
    (r.hex(40), r.hex(64), r.hex(32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        // powershell -EncodedCommand of "dir"
        assert_eq!(powershell_encoded("dir"), "ZABpAHIA");
    }

    #[test]
    fn weighted_respects_zero_weights() {
        let w = Weighted::new([0, 5, 0, 1]);
        let mut r = Rng::new(3);
        for _ in 0..1000 {
            let i = w.pick(&mut r);
            assert!(i == 1 || i == 3);
        }
    }

    #[test]
    fn guid_and_hex_shapes() {
        let mut r = Rng::new(1);
        let g = r.guid();
        assert_eq!(g.len(), 36);
        assert_eq!(g.matches('-').count(), 4);
        assert_eq!(r.hex(40).len(), 40);
    }
}
