//! Ring index arithmetic (pure, no atomics).
//!
//! Head and tail count items modulo `2 * N` rather than modulo `N`: with the extra lap a full
//! queue (`tail - head == N`) differs from an empty one (`tail == head`), so all `N` slots are
//! usable, unlike the classic ring that wastes one. When `N` is a power of two, "modulo `2N`"
//! becomes "modulo `2^usize::BITS`": the indices run freely and wrap with the machine word (as
//! Linux' `kfifo` does), so advancing is one add and a distance one subtraction, and only the
//! slot number is masked. Any other `N` keeps its indices in `0 .. 2N` with compares. Either
//! way the distance from `head` to `tail` is at most `N`, far below the modulus, so it is
//! exact. The branches below are on constants and fold away.

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

    /// `index + n` (modulo the index range), for a valid `index` and `n <= N`.
    #[inline(always)]
    pub(crate) const fn advance(index: usize, n: usize) -> usize {
        if Self::POW2 {
            index.wrapping_add(n)
        } else {
            let next = index + n;
            if next >= 2 * N {
                next - 2 * N
            } else {
                next
            }
        }
    }

    /// Number of items from `from` up to `to` (`to - from` modulo the index range), for two
    /// indices at most `N` apart in that direction.
    #[inline(always)]
    pub(crate) const fn distance(from: usize, to: usize) -> usize {
        if Self::POW2 {
            to.wrapping_sub(from)
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

    /// Checks `advance`, `distance` and `slot` from `from` for every step `n <= N`: against
    /// plain modular arithmetic in `0 .. 2N` for the compare-based `N`, and by their relations
    /// (the distance walked, the slot moved, the room left) for all `N`.
    fn check_from<const N: usize>(from: usize) {
        for n in 0..=N {
            let to = Ring::<N>::advance(from, n);
            if !N.is_power_of_two() {
                assert_eq!(to, (from + n) % (2 * N));
            }
            assert_eq!(Ring::<N>::distance(from, to), n);
            assert_eq!(Ring::<N>::slot(to), (Ring::<N>::slot(from) + n) % N);
            // The producer's free space: from its tail up to the index at which it is full.
            assert_eq!(Ring::<N>::distance(to, Ring::<N>::advance(from, N)), N - n);
        }
    }

    /// Every index of two laps; for a power of two also the two laps before the machine word
    /// wraps, where the free-running indices pass from `usize::MAX` to 0.
    fn exhaustive<const N: usize>() {
        for from in 0..2 * N {
            check_from::<N>(from);
            assert_eq!(Ring::<N>::slot(from), from % N);
        }
        if N.is_power_of_two() {
            for back in 1..=2 * N {
                check_from::<N>(0usize.wrapping_sub(back));
            }
            assert_eq!(Ring::<N>::slot(usize::MAX), N - 1);
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
        assert_eq!(Ring::<4>::split_range(usize::MAX, 2), (3, 1, 1));
        assert_eq!(Ring::<3>::split_range(5, 3), (2, 1, 2));
        assert_eq!(Ring::<3>::split_range(4, 0), (1, 0, 0));
    }
}
