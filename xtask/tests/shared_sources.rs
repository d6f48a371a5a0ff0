//! Files that several crates carry as identical copies (each crate is packaged on its own, so
//! it cannot reach into another's folder): the copies must not drift apart.

use std::path::Path;

const SHARED: &[&[&str]] = &[&[
    "crates/intq/src/loom_const.rs",
    "crates/defer/src/loom_const.rs",
]];

#[test]
fn shared_sources_are_identical() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for copies in SHARED {
        let read = |rel: &str| {
            std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
        };
        let first = read(copies[0]);
        for other in &copies[1..] {
            assert!(
                read(other) == first,
                "{other} differs from {}: edit both copies alike",
                copies[0]
            );
        }
    }
}
