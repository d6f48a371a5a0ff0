//! The generated key tables are up to date with their generator and the csv.

use std::process::Command;

#[test]
fn generated_tables_are_fresh() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/gen_tables.py");
    let output = Command::new("python3")
        .arg(script)
        .arg("--check")
        .output()
        .expect("python3 must be installed to check src/keycode/generated.rs");
    assert!(
        output.status.success(),
        "src/keycode/generated.rs is stale: run `python3 crates/ps2/tools/gen_tables.py`\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
