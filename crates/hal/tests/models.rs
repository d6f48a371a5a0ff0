//! Property tests of the pure parts against simple models: `Reach::check` against 128-bit
//! arithmetic, `MmioPorts` against a byte array with guard bytes around the window.

use irqkit_hal::dma::{BusAddr, DmaError, Reach, Segment};
use irqkit_hal::mmio::MmioPorts;
use irqkit_hal::PortIo;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 1024 });
    // No file system under Miri's isolation, and no stray regression files elsewhere.
    config.failure_persistence = None;
    config
}

/// Addresses and lengths that cluster around the interesting edges (0, 4 GiB, 2^64).
fn edgy_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (0u64..64).prop_map(|d| 0xFFFF_FFFFu64.wrapping_sub(32).wrapping_add(d)),
        (0u64..64).prop_map(|d| u64::MAX - d),
        0u64..64,
    ]
}

/// The model: every byte of `[addr, addr + len)` and `addr` itself at most `max`, computed
/// without overflow; then alignment.
fn model(reach: Reach, addr: u64, len: usize) -> Result<(), DmaError> {
    let last = u128::from(addr) + (len as u128).saturating_sub(1);
    if last > u128::from(reach.max_addr) {
        return Err(DmaError::Unreachable {
            addr: BusAddr::new(addr),
            len,
            max_addr: reach.max_addr,
        });
    }
    if reach.align > 1 && addr % reach.align != 0 {
        return Err(DmaError::Misaligned {
            addr: BusAddr::new(addr),
            align: reach.align,
        });
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn reach_check_matches_the_model(
        addr in edgy_u64(),
        len in prop_oneof![any::<usize>(), 0usize..0x2_0000],
        max_addr in edgy_u64(),
        align in prop_oneof![Just(0u64), Just(1), Just(2), Just(4), Just(512), 0u64..100],
    ) {
        let reach = Reach { max_addr, align };
        let seg = Segment { addr: BusAddr::new(addr), len };
        prop_assert_eq!(reach.check(seg), model(reach, addr, len));
    }

    #[test]
    fn mmio_touches_only_the_window(
        window_len in 0usize..24,
        shift in 0u8..4,
        ops in prop::collection::vec((0u16..40, 0u8..3, any::<bool>(), any::<u32>()), 0..32),
    ) {
        const GUARD: usize = 8;
        const GUARD_BYTE: u8 = 0xA5;
        #[repr(C, align(8))]
        struct Mem([u8; 48]);
        let mut mem = Mem([GUARD_BYTE; 48]);
        let mut model = [GUARD_BYTE; 48];
        let base = mem.0.as_mut_ptr().wrapping_add(GUARD);
        // SAFETY: `base..base + window_len` lies inside `mem` (8 + 24 <= 48), which outlives
        // `ports` and is not otherwise accessed until the end.
        let mut ports = unsafe { MmioPorts::new(base, window_len, shift) };
        for (port, width, write, value) in ops {
            let size = 1usize << width;
            let offset = usize::from(port) << shift;
            let fits = offset + size <= window_len && (GUARD + offset) % size == 0;
            let at = GUARD + offset;
            if write {
                match width {
                    0 => ports.write8(port, value as u8),
                    1 => ports.write16(port, value as u16),
                    _ => ports.write32(port, value),
                }
                if fits {
                    model[at..at + size].copy_from_slice(&value.to_ne_bytes()[..size]);
                }
            } else {
                let got = match width {
                    0 => u32::from(ports.read8(port)),
                    1 => u32::from(ports.read16(port)),
                    _ => ports.read32(port),
                };
                let want = if fits {
                    let mut bytes = [0u8; 4];
                    bytes[..size].copy_from_slice(&model[at..at + size]);
                    u32::from_ne_bytes(bytes)
                } else {
                    u32::MAX >> (32 - 8 * size)
                };
                prop_assert_eq!(got, want, "port {} width {}", port, size);
            }
        }
        prop_assert_eq!(mem.0, model);
    }
}
