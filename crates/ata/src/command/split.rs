//! Splitting a request at the command maximum.

/// Cuts `count` sectors from `lba` into pieces of at most `max` sectors, in order.
///
/// ```
/// use irqkit_ata::command::Chunks;
/// let pieces: Vec<(u64, u32)> = Chunks::new(10, 600, 256).collect();
/// assert_eq!(pieces, [(10, 256), (266, 256), (522, 88)]);
/// ```
#[derive(Debug, Clone)]
pub struct Chunks {
    lba: u64,
    remaining: u64,
    max: u32,
}

impl Chunks {
    /// Pieces of `count` sectors from `lba`; a `max` of 0 is treated as 1.
    pub const fn new(lba: u64, count: u64, max: u32) -> Chunks {
        Chunks {
            lba,
            remaining: count,
            max: if max == 0 { 1 } else { max },
        }
    }
}

impl Iterator for Chunks {
    type Item = (u64, u32);

    fn next(&mut self) -> Option<(u64, u32)> {
        if self.remaining == 0 {
            return None;
        }
        let n = self.remaining.min(u64::from(self.max)) as u32;
        let piece = (self.lba, n);
        self.lba = self.lba.wrapping_add(u64::from(n));
        self.remaining -= u64::from(n);
        Some(piece)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining.div_ceil(u64::from(self.max));
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn pieces_tile_the_request(lba in 0u64..1 << 40, count in 0u64..200_000, max in 0u32..70_000) {
            let mut next = lba;
            let mut total = 0;
            let chunks = Chunks::new(lba, count, max);
            let hint = chunks.size_hint().0;
            let mut n = 0;
            for (l, c) in chunks {
                prop_assert_eq!(l, next);
                prop_assert!(c >= 1 && c <= max.max(1));
                next += u64::from(c);
                total += u64::from(c);
                n += 1;
            }
            prop_assert_eq!(total, count);
            prop_assert_eq!(n, hint);
        }
    }
}
