//! A configuration space in memory for the tests of this module: QEMU's `-machine pc`
//! functions by default, with knobs for failures and hard-wired command bits.

use std::vec::Vec;

use super::{ConfigSpace, PciAddress, PciError, COMMAND};

pub(crate) struct FakeSpace {
    functions: Vec<(PciAddress, [u32; 64])>,
    /// Every access to this address fails.
    pub fail_at: Option<PciAddress>,
    /// Command bits that read back 0 whatever is written.
    pub hardwired_zero: u16,
    /// Dword writes so far.
    pub writes: usize,
}

impl FakeSpace {
    /// 00:00.0 host bridge, 00:01.0 ISA bridge (multi-function), 00:01.1 PIIX3 IDE in
    /// compatibility mode with bus mastering (prog-if 0x80), BAR4 = 0xC041, command 0x0103.
    pub fn qemu_pc() -> Self {
        let mut cfg = Self {
            functions: Vec::new(),
            fail_at: None,
            hardwired_zero: 0,
            writes: 0,
        };
        let at = |b, d, f| PciAddress::new(b, d, f).unwrap();
        cfg.add(at(0, 0, 0), 0x1237_8086, 0x0600_0002, 0);
        cfg.add(at(0, 1, 0), 0x7000_8086, 0x0601_0000, 0x0080_0000);
        cfg.add(at(0, 1, 1), 0x7010_8086, 0x0101_8000, 0);
        cfg.set(at(0, 1, 1), COMMAND, 0x0000_0103);
        cfg.set(at(0, 1, 1), 0x20, 0xC041);
        cfg.set(at(0, 1, 1), 0x3C, 0x0000_00FF);
        cfg
    }

    /// Adds a function with its ID dword, class dword and header-type dword (offset 0x0C).
    pub fn add(&mut self, addr: PciAddress, id: u32, class: u32, header: u32) {
        let mut space = [0; 64];
        space[0] = id;
        space[2] = class;
        space[3] = header;
        self.functions.push((addr, space));
    }

    /// Sets a dword directly (no register semantics).
    pub fn set(&mut self, addr: PciAddress, offset: u16, value: u32) {
        self.space(addr).expect("function exists")[usize::from(offset / 4)] = value;
    }

    fn space(&mut self, addr: PciAddress) -> Option<&mut [u32; 64]> {
        self.functions
            .iter_mut()
            .find(|(a, _)| *a == addr)
            .map(|(_, s)| s)
    }

    fn check(&self, addr: PciAddress, offset: u16) -> Result<usize, PciError> {
        if offset % 4 != 0 {
            return Err(PciError::Misaligned { offset, width: 4 });
        }
        if offset >= 256 || self.fail_at == Some(addr) {
            return Err(PciError::OffsetOutOfRange { offset, limit: 256 });
        }
        Ok(usize::from(offset / 4))
    }
}

impl ConfigSpace for FakeSpace {
    fn read32(&mut self, addr: PciAddress, offset: u16) -> Result<u32, PciError> {
        let i = self.check(addr, offset)?;
        Ok(self.space(addr).map_or(u32::MAX, |s| s[i]))
    }

    fn write32(&mut self, addr: PciAddress, offset: u16, value: u32) -> Result<(), PciError> {
        let i = self.check(addr, offset)?;
        self.writes += 1;
        let hardwired_zero = u32::from(self.hardwired_zero);
        if let Some(space) = self.space(addr) {
            space[i] = if offset == COMMAND {
                // Command: writable except the hard-wired bits; status: write 1 to clear.
                let status = (space[i] >> 16) & !(value >> 16);
                status << 16 | (value & 0xFFFF & !hardwired_zero)
            } else {
                value
            };
        }
        Ok(())
    }
}
