//! The demo kernel's command text handling (`kernel/src/demo/words.rs`, pure `core` code)
//! compiled and tested on the host: whatever a person types, it answers without panicking.

#[path = "../kernel/src/demo/words.rs"]
mod words;

use proptest::prelude::*;
use words::{hexdump, parse_number, rest_after, split_path};

#[test]
fn the_text_after_the_first_words() {
    assert_eq!(rest_after("write 5 hello world", 2), "hello world");
    assert_eq!(rest_after("  write   5    two  spaces ", 2), "two  spaces ");
    assert_eq!(rest_after("write 5", 2), "");
    assert_eq!(rest_after("write", 2), "");
    assert_eq!(rest_after("", 2), "");
    assert_eq!(
        rest_after("write-file NOTES.TXT héllo wörld", 2),
        "héllo wörld"
    );
}

#[test]
fn numbers() {
    assert_eq!(parse_number("0"), Some(0));
    assert_eq!(parse_number("9999999"), Some(9_999_999));
    assert_eq!(parse_number("0x10"), Some(16));
    assert_eq!(parse_number("18446744073709551615"), Some(u64::MAX));
    for bad in [
        "",
        "-1",
        "x",
        "0x",
        "0xg",
        "18446744073709551616",
        "1 2",
        "+",
    ] {
        assert_eq!(parse_number(bad), None, "{bad:?}");
    }
}

#[test]
fn paths() {
    let split = |path| {
        let (dirs, name) = split_path(path);
        (dirs.collect::<Vec<_>>(), name)
    };
    assert_eq!(split("README.TXT"), (vec![], "README.TXT"));
    assert_eq!(split("DOCS/CRATES.TXT"), (vec!["DOCS"], "CRATES.TXT"));
    assert_eq!(split("/A//B/C.TXT"), (vec!["A", "B"], "C.TXT"));
    assert_eq!(split("DOCS/"), (vec!["DOCS"], ""));
}

fn dump(bytes: &[u8]) -> String {
    let mut text = String::new();
    hexdump(bytes, &mut text).unwrap();
    text
}

#[test]
fn hex_dumps_collapse_repeated_lines() {
    let mut sector = [0u8; 512];
    sector[..5].copy_from_slice(b"hello");
    sector[510..].copy_from_slice(&[0x55, 0xAA]);
    assert_eq!(
        dump(&sector),
        "0000  68 65 6c 6c 6f 00 00 00 00 00 00 00 00 00 00 00  hello...........\n\
         0010  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................\n\
         *\n\
         01f0  00 00 00 00 00 00 00 00 00 00 00 00 00 00 55 aa  ..............U.\n"
    );
    assert_eq!(
        dump(&[0u8; 512]),
        "0000  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................\n*\n0200\n"
    );
    assert_eq!(dump(&[0x41, 0x7F, 0x20]), "0000  41 7f 20  A. \n");
    assert_eq!(dump(&[]), "");
}

proptest! {
    #[test]
    fn any_line_is_handled(line in ".{0,80}", words in 0usize..6) {
        let rest = rest_after(&line, words);
        prop_assert!(line.ends_with(rest));
        let _ = parse_number(&line);
        let (dirs, name) = split_path(&line);
        prop_assert!(dirs.count() <= line.len());
        prop_assert!(line.ends_with(name));
    }

    #[test]
    fn decimal_numbers_round_trip(n: u64) {
        prop_assert_eq!(parse_number(&n.to_string()), Some(n));
        prop_assert_eq!(parse_number(&format!("0x{n:x}")), Some(n));
    }

    #[test]
    fn hex_dumps_show_every_distinct_line(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let text = dump(&bytes);
        for (index, line) in bytes.chunks(16).enumerate() {
            let repeated = index > 0 && bytes.chunks(16).nth(index - 1) == Some(line);
            let shown = text.contains(&format!("{:04x} ", index * 16));
            prop_assert_eq!(shown, !repeated, "line {}", index);
        }
    }
}
