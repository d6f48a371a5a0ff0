//! Ring index arithmetic (pure, no atomics).
//!
//! Head and tail run over `0 .. 2 * N` rather than `0 .. N`: with the extra lap bit a full queue
//! (`tail - head == N`) differs from an empty one (`tail == head`), so all `N` slots are usable,
//! unlike the classic ring that wastes one. Any `N` works; when `N` is a power of two the
//! reductions are masks (the branches below are on constants and fold away).

/// Index arithmetic for a ring of `N` slots.
pub(crate) struct Ring<const N: usize>;

impl<const N: usize> Ring<N> {
    /// Rejects, at compile time, the capacities the arithmetic cannot handle: `N == 0`, and `N`
    /// so large that `3 * N` (the largest intermediate value) would overflow.
    pub(crate) const VALID: () = {
        assert!(N > 0, "an irqkit-intq queue needs a capacity N > 0");
        assert!(N <= usize::MAX / 4, "queue capacity N too large");
    };

    const POW2: bool = N.is_power_of_two();

    /// `index + n` in `0 .. 2N`, for `index < 2N` and `n <= N`.
    #[inline(always)]
    pub(crate) const fn advance(index: usize, n: usize) -> usize {
        if Self::POW2 {
            (index + n) & (2 * N - 1)
        } else {
            let next = index + n;
            if next >= 2 * N {
                next - 2 * N
            } else {
                next
            }
        }
    }

    /// Number of items from `from` up to `to` (`to - from` modulo `2N`).
    #[inline(always)]
    pub(crate) const fn distance(from: usize, to: usize) -> usize {
        if Self::POW2 {
            to.wrapping_sub(from) & (2 * N - 1)
        } else if to >= from {
            to - from
        } else {
            to + 2 * N - from
        }
    }

    /// The slot an index refers to (`index` modulo `N`).
    #[inline(always)]
    pub(crate) const fn slot(index: usize) -> usize {
        if Self::POW2 {
            index & (N - 1)
        } else if index >= N {
            index - N
        } else {
            index
        }
    }

    /// How many of `len` items starting at `index` fit before the end of the slot array; the
    /// rest wraps to slot 0. Returns `(slot, first_len, second_len)`.
    #[inline(always)]
    pub(crate) const fn split_range(index: usize, len: usize) -> (usize, usize, usize) {
        let slot = Self::slot(index);
        let until_end = N - slot;
        if len <= until_end {
            (slot, len, 0)
        } else {
            (slot, until_end, len - until_end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    /// Checks the arithmetic against plain modular arithmetic for every index pair.
    fn exhaustive<const N: usize>() {
        for from in 0..2 * N {
            for n in 0..=N {
                let to = Ring::<N>::advance(from, n);
                assert_eq!(to, (from + n) % (2 * N));
                assert_eq!(Ring::<N>::distance(from, to), n);
            }
            assert_eq!(Ring::<N>::slot(from), from % N);
        }
    }

    #[test]
    fn matches_modular_arithmetic() {
        exhaustive::<1>();
        exhaustive::<2>();
        exhaustive::<3>();
        exhaustive::<4>();
        exhaustive::<7>();
        exhaustive::<8>();
        exhaustive::<63>();
        exhaustive::<64>();
    }

    #[test]
    fn split_range_wraps_at_end_of_array() {
        assert_eq!(Ring::<4>::split_range(0, 4), (0, 4, 0));
        assert_eq!(Ring::<4>::split_range(3, 2), (3, 1, 1));
        assert_eq!(Ring::<4>::split_range(6, 3), (2, 2, 1));
        assert_eq!(Ring::<3>::split_range(5, 3), (2, 1, 2));
        assert_eq!(Ring::<3>::split_range(4, 0), (1, 0, 0));
    }
}
