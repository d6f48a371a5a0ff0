//! Links the kernel with `linker.ld` at 1 MiB, as a non-PIE ELF that QEMU's `-kernel` PVH
//! loader accepts.

use std::env;
use std::path::PathBuf;

fn main() {
    let dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let script = dir.join("linker.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    if env::var("TARGET").as_deref() == Ok("x86_64-unknown-none") {
        println!("cargo:rustc-link-arg-bins=-T{}", script.display());
        // rust-lld defaults to PIE on this target and then rejects the boot stub's absolute
        // 32-bit relocations (R_X86_64_32).
        println!("cargo:rustc-link-arg-bins=--no-pie");
    }
}
