//! Reads the machine code of device start / finish sequences and checks that memory accesses
//! stay on the right side of the port accesses and DMA barriers.
//!
//! The test writes a small `no_std` crate that uses this crate, compiles it with
//! `cargo rustc --release --lib -- --emit asm -C llvm-args=-x86-asm-syntax=intel` and checks
//! the order of instructions in each probe function:
//!
//! - `store_out_store`: a store to escaped memory before `out` stays before it, the one after
//!   stays after (neither is merged into the other);
//! - `load_in_load`: a load after a status-polling `in` loop is done after the loop, not
//!   replaced by the value loaded before it;
//! - `dma_start_finish`: with a private `&mut` buffer, the store before [`DmaMap::map`] is done
//!   before the `out` that starts the device, and the load after [`DmaMap::sync_for_cpu`] is
//!   done after the barrier, which is after the last `in`.
//!
//! The same probes with `nomem` port accesses (what `X86PortIo` used to do) must FAIL the
//! checks: that proves the checks can see the reordering they guard against.
//!
//! Run it alone with `cargo test -p irqkit-hal --test port_io_order -- --nocapture` to see the
//! code it checks.
#![cfg(all(target_arch = "x86_64", not(miri)))]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

const PROBES: &str = r#"
#![no_std]
use core::arch::asm;
use irqkit_hal::dma::{Direction, DmaMap, IdentityMap, Reach};
use irqkit_hal::{x86::X86PortIo, PortIo};

/// Port access as `X86PortIo` did it before: `nomem`, so not a compiler barrier.
pub struct NomemPorts;
impl NomemPorts {
    #[inline]
    fn write8(&mut self, port: u16, value: u8) {
        unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags)) }
    }
    #[inline]
    fn read8(&mut self, port: u16) -> u8 {
        let v: u8;
        unsafe { asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack, preserves_flags)) };
        v
    }
}

macro_rules! probes {
    ($ports:ty, $store:ident, $load:ident) => {
        #[no_mangle]
        pub unsafe fn $store(ports: &mut $ports, table: *mut u32) {
            table.write(0x1111);
            ports.write8(0xC040, 0x09);
            table.write(0x2222);
        }
        #[no_mangle]
        pub unsafe fn $load(ports: &mut $ports, buf: *const u32) -> u32 {
            let before = buf.read();
            while ports.read8(0xC042) & 1 != 0 {}
            before.wrapping_add(buf.read())
        }
    };
}
probes!(X86PortIo, store_out_store, load_in_load);
probes!(NomemPorts, nomem_store_out_store, nomem_load_in_load);

#[no_mangle]
pub fn dma_start_finish(ports: &mut X86PortIo, map: &mut IdentityMap, buf: &mut [u8; 512]) -> u8 {
    buf[0] = 0x11;
    if map.map(buf, Direction::ToDevice, Reach::ADDR64, &mut |_| Ok(())).is_err() {
        return 0;
    }
    ports.write8(0xC040, 0x09);
    let before = buf[1];
    while ports.read8(0xC042) & 1 != 0 {}
    map.sync_for_cpu(buf);
    map.unmap(buf, Direction::ToDevice);
    before.wrapping_add(buf[1])
}
"#;

/// The probe crate's assembly, built once for all tests of this file.
fn assembly() -> &'static str {
    static ASM: OnceLock<String> = OnceLock::new();
    ASM.get_or_init(build_probes)
}

/// Builds the probe crate and returns its assembly.
fn build_probes() -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("port_io_order");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"probes\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
         [dependencies]\nirqkit-hal = {{ path = {:?}, features = [\"x86\"] }}\n[workspace]\n",
        env!("CARGO_MANIFEST_DIR")
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest);
    write_if_changed(&dir.join("src/lib.rs"), PROBES);
    let target = dir.join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args(["rustc", "--release", "--lib", "--quiet", "--offline", "--"])
        .args(["--emit", "asm", "-C", "llvm-args=-x86-asm-syntax=intel"])
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building the probes failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deps = target.join("release/deps");
    // Each version of this crate gives the probes a new hash: the newest file is this build's.
    let newest: Option<(SystemTime, PathBuf)> = std::fs::read_dir(&deps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .map(|p| (p.metadata().unwrap().modified().unwrap(), p))
        .max();
    let (_, path) = newest.unwrap_or_else(|| panic!("no .s file in {deps:?}"));
    std::fs::read_to_string(path).unwrap()
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap();
    }
}

/// The instructions of function `name`, without directives and blank lines.
fn body<'a>(asm: &'a str, name: &str) -> Vec<&'a str> {
    let label = format!("{name}:");
    let mut lines = asm.lines().skip_while(|l| l.trim() != label).skip(1);
    let body: Vec<&str> = lines
        .by_ref()
        .take_while(|l| !l.starts_with(".Lfunc_end"))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('.') && !l.starts_with("#NO_APP"))
        .filter(|l| *l != "#APP")
        .collect();
    assert!(!body.is_empty(), "no function {name} in the assembly");
    println!("{name}:\n    {}", body.join("\n    "));
    body
}

fn find(body: &[&str], what: impl Fn(&str) -> bool) -> Option<usize> {
    body.iter().position(|l| what(l))
}

fn rfind(body: &[&str], what: impl Fn(&str) -> bool) -> Option<usize> {
    body.iter().rposition(|l| what(l))
}

fn is_out(l: &str) -> bool {
    l.starts_with("out\t") || l.starts_with("out ")
}

fn is_in(l: &str) -> bool {
    l.starts_with("in\t") || l.starts_with("in ")
}

/// A store of `value` to memory, e.g. `mov dword ptr [rsi], 4369`.
fn stores(value: u32) -> impl Fn(&str) -> bool {
    move |l: &str| l.starts_with("mov") && l.contains("ptr [") && l.ends_with(&format!(", {value}"))
}

/// An instruction whose source operand is memory (a load), e.g. `add ecx, dword ptr [rsi]`.
fn loads(l: &str) -> bool {
    l.split_once(", ")
        .is_some_and(|(_, src)| src.contains("ptr ["))
}

fn store_order_holds(body: &[&str]) -> bool {
    match (
        find(body, stores(0x1111)),
        find(body, is_out),
        find(body, stores(0x2222)),
    ) {
        (Some(first), Some(out), Some(second)) => first < out && out < second,
        _ => false,
    }
}

fn load_order_holds(body: &[&str]) -> bool {
    match (rfind(body, is_in), rfind(body, loads)) {
        (Some(last_in), Some(last_load)) => last_load > last_in,
        _ => false,
    }
}

#[test]
fn port_accesses_are_compiler_barriers() {
    let asm = assembly();

    let store = body(asm, "store_out_store");
    assert!(store_order_holds(&store), "a store moved across `out`");
    let load = body(asm, "load_in_load");
    assert!(load_order_holds(&load), "no load after the status `in`");

    // The checks see the bug: with `nomem` the first store is dropped (or moved) and the
    // second load is replaced by the value loaded before the loop.
    let store = body(asm, "nomem_store_out_store");
    assert!(
        !store_order_holds(&store),
        "the store check cannot see a nomem reordering"
    );
    let load = body(asm, "nomem_load_in_load");
    assert!(
        !load_order_holds(&load),
        "the load check cannot see a nomem reordering"
    );
}

#[test]
fn dma_barriers_order_a_private_buffer() {
    let asm = assembly();
    let dma = body(asm, "dma_start_finish");
    let store = find(&dma, stores(0x11)).expect("the store to buf[0]");
    let out = find(&dma, is_out).expect("the start `out`");
    let last_in = rfind(&dma, is_in).expect("the status `in`");
    let barrier = rfind(&dma, |l| l.contains("dma barrier")).expect("sync_for_cpu's barrier");
    let last_load = rfind(&dma, loads).expect("the load of buf[1]");
    // `map` runs between the store and the start (a call, or its inlined barrier).
    let map = find(&dma, |l| l.starts_with("call") || l.contains("dma barrier")).unwrap();
    assert!(
        store < map && map < out,
        "store {store}, map {map}, out {out}"
    );
    assert!(
        last_in < barrier && barrier < last_load,
        "in {last_in}, barrier {barrier}, load {last_load}"
    );
}
