//! The demo kernel's line editor (`kernel/src/demo/editor.rs`, pure `core` code) compiled and
//! tested on the host: each key's effect, the history, and random key sequences against a
//! simple model (a `Vec<char>` and a cursor).

#[path = "../kernel/src/demo/editor.rs"]
#[allow(dead_code)]
mod editor;

use editor::{Edit, LineEditor, Reaction, CAPACITY, HISTORY};
use proptest::prelude::*;

fn typed(editor: &mut LineEditor, text: &str) {
    for c in text.chars() {
        assert_eq!(editor.apply(Edit::Insert(c)), Reaction::Redraw);
    }
}

fn text(editor: &LineEditor) -> String {
    editor.text().iter().collect()
}

fn submit(editor: &mut LineEditor, line: &str) -> String {
    typed(editor, line);
    assert_eq!(editor.apply(Edit::Enter), Reaction::Submitted);
    editor.line().iter().collect()
}

#[test]
fn editing_keys() {
    let mut e = LineEditor::new();
    typed(&mut e, "statx");
    assert_eq!(e.apply(Edit::Backspace), Reaction::Redraw);
    typed(&mut e, "s");
    assert_eq!(text(&e), "stats");
    assert_eq!(e.apply(Edit::Home), Reaction::Redraw);
    assert_eq!(e.cursor(), 0);
    assert_eq!(e.apply(Edit::Backspace), Reaction::Unchanged);
    assert_eq!(e.apply(Edit::Left), Reaction::Unchanged);
    assert_eq!(e.apply(Edit::Delete), Reaction::Redraw);
    assert_eq!(text(&e), "tats");
    typed(&mut e, "s");
    assert_eq!((text(&e), e.cursor()), ("stats".into(), 1));
    assert_eq!(e.apply(Edit::Right), Reaction::Redraw);
    assert_eq!(e.apply(Edit::End), Reaction::Redraw);
    assert_eq!(e.cursor(), 5);
    assert_eq!(e.apply(Edit::End), Reaction::Unchanged);
    assert_eq!(e.apply(Edit::Right), Reaction::Unchanged);
    assert_eq!(e.apply(Edit::Delete), Reaction::Unchanged);
    assert_eq!(e.apply(Edit::ClearScreen), Reaction::ClearScreen);
    assert_eq!(text(&e), "stats", "Ctrl+L keeps the line");
    assert_eq!(e.apply(Edit::Enter), Reaction::Submitted);
    assert_eq!(e.line().iter().collect::<String>(), "stats");
    assert_eq!((text(&e), e.cursor()), (String::new(), 0));
    typed(&mut e, "oops");
    assert_eq!(e.apply(Edit::Cancel), Reaction::Cancelled);
    assert_eq!(text(&e), "");
}

#[test]
fn a_full_line_refuses_more() {
    let mut e = LineEditor::new();
    typed(&mut e, &"x".repeat(CAPACITY));
    assert_eq!(e.apply(Edit::Insert('y')), Reaction::Full);
    assert_eq!(text(&e), "x".repeat(CAPACITY));
    e.apply(Edit::Home);
    assert_eq!(e.apply(Edit::Insert('y')), Reaction::Full);
}

#[test]
fn history_goes_back_and_forth_and_keeps_the_draft() {
    let mut e = LineEditor::new();
    submit(&mut e, "one");
    submit(&mut e, "two");
    submit(&mut e, "two"); // a repeat is kept once
    submit(&mut e, "   "); // blank lines are not kept
    typed(&mut e, "dra");
    assert_eq!(e.apply(Edit::Up), Reaction::Redraw);
    assert_eq!(text(&e), "two");
    assert_eq!(e.cursor(), 3);
    assert_eq!(e.apply(Edit::Up), Reaction::Redraw);
    assert_eq!(text(&e), "one");
    assert_eq!(e.apply(Edit::Up), Reaction::Unchanged);
    assert_eq!(e.apply(Edit::Down), Reaction::Redraw);
    assert_eq!(text(&e), "two");
    assert_eq!(e.apply(Edit::Down), Reaction::Redraw);
    assert_eq!(text(&e), "dra");
    assert_eq!(e.apply(Edit::Down), Reaction::Unchanged);
    // A recalled line is submitted like a typed one.
    e.apply(Edit::Up);
    e.apply(Edit::Up);
    assert_eq!(e.apply(Edit::Enter), Reaction::Submitted);
    assert_eq!(e.line().iter().collect::<String>(), "one");
}

#[test]
fn history_keeps_the_newest_lines() {
    let mut e = LineEditor::new();
    for n in 0..HISTORY + 3 {
        submit(&mut e, &format!("cmd{n}"));
    }
    let mut seen = Vec::new();
    while e.apply(Edit::Up) == Reaction::Redraw {
        seen.push(text(&e));
    }
    let expected: Vec<String> = (3..HISTORY + 3).rev().map(|n| format!("cmd{n}")).collect();
    assert_eq!(seen, expected);
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => prop::char::range('a', 'e').prop_map(Edit::Insert),
        1 => Just(Edit::Backspace),
        1 => Just(Edit::Delete),
        1 => Just(Edit::Left),
        1 => Just(Edit::Right),
        1 => Just(Edit::Home),
        1 => Just(Edit::End),
        1 => Just(Edit::Enter),
        1 => Just(Edit::Cancel),
    ]
}

proptest! {
    /// Without history keys, the editor is a vector of characters with a cursor.
    #[test]
    fn editing_matches_a_vector_model(edits in prop::collection::vec(edit(), 0..300)) {
        let mut e = LineEditor::new();
        let mut line: Vec<char> = Vec::new();
        let mut cursor = 0usize;
        for edit in edits {
            let reaction = e.apply(edit);
            match edit {
                Edit::Insert(c) if line.len() < CAPACITY => {
                    line.insert(cursor, c);
                    cursor += 1;
                }
                Edit::Insert(_) => prop_assert_eq!(reaction, Reaction::Full),
                Edit::Backspace if cursor > 0 => {
                    cursor -= 1;
                    line.remove(cursor);
                }
                Edit::Delete if cursor < line.len() => {
                    line.remove(cursor);
                }
                Edit::Left => cursor = cursor.saturating_sub(1),
                Edit::Right => cursor = (cursor + 1).min(line.len()),
                Edit::Home => cursor = 0,
                Edit::End => cursor = line.len(),
                Edit::Enter => {
                    prop_assert_eq!(e.line(), &line[..]);
                    line.clear();
                    cursor = 0;
                }
                Edit::Cancel => {
                    line.clear();
                    cursor = 0;
                }
                _ => prop_assert_eq!(reaction, Reaction::Unchanged),
            }
            prop_assert_eq!(e.text(), &line[..]);
            prop_assert_eq!(e.cursor(), cursor);
        }
    }
}
