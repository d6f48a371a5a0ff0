//! The shell's line editor: a line of characters with a cursor, and a history of submitted
//! lines. Pure (no hardware, no statics): the shell feeds it [`Edit`]s decoded from keys and
//! redraws the line when told to. The host's tests compile this file on their own.

/// The most characters a line holds (it fits one screen row after the prompt).
pub const CAPACITY: usize = 68;
/// How many submitted lines the history keeps.
pub const HISTORY: usize = 8;

/// One editing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Inserts a character at the cursor.
    Insert(char),
    /// Deletes the character before the cursor.
    Backspace,
    /// Deletes the character at the cursor.
    Delete,
    /// Moves the cursor one character left.
    Left,
    /// Moves the cursor one character right.
    Right,
    /// Moves the cursor to the start.
    Home,
    /// Moves the cursor to the end.
    End,
    /// Shows the previous history line.
    Up,
    /// Shows the next history line (or the line being typed, after the newest).
    Down,
    /// Submits the line.
    Enter,
    /// Abandons the line (Ctrl+C).
    Cancel,
    /// Clears the screen, keeping the line (Ctrl+L).
    ClearScreen,
}

/// What the caller does after an [`Edit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// Nothing changed (e.g. Backspace at the start): nothing to redraw.
    Unchanged,
    /// The line or the cursor changed: redraw the line.
    Redraw,
    /// The line is full: the character was not inserted.
    Full,
    /// Enter: [`LineEditor::line`] holds the submitted line until the next edit.
    Submitted,
    /// Ctrl+C: the line was abandoned and emptied.
    Cancelled,
    /// Ctrl+L: clear the screen, then redraw the line.
    ClearScreen,
}

/// A fixed-capacity line of characters.
#[derive(Debug, Clone, Copy)]
struct Line {
    chars: [char; CAPACITY],
    len: usize,
}

impl Line {
    const EMPTY: Line = Line {
        chars: ['\0'; CAPACITY],
        len: 0,
    };

    fn as_slice(&self) -> &[char] {
        &self.chars[..self.len]
    }
}

/// The line being edited, its cursor, and the history.
///
/// ```ignore
/// let mut editor = LineEditor::new();
/// editor.apply(Edit::Insert('l'));
/// editor.apply(Edit::Insert('s'));
/// assert_eq!(editor.apply(Edit::Enter), Reaction::Submitted);
/// assert_eq!(editor.line(), ['l', 's']);
/// ```
#[derive(Debug, Clone)]
pub struct LineEditor {
    line: Line,
    cursor: usize,
    /// The submitted line, kept until the next edit.
    submitted: Line,
    /// Ring of past lines; `history_len` of them are valid, the newest at `history_next - 1`.
    history: [Line; HISTORY],
    history_len: usize,
    history_next: usize,
    /// While browsing: how many lines back (1 = the newest), and the line being typed before.
    browsing: usize,
    draft: Line,
}

impl Default for LineEditor {
    fn default() -> Self {
        Self::new()
    }
}

impl LineEditor {
    /// An empty line and history.
    pub const fn new() -> Self {
        Self {
            line: Line::EMPTY,
            cursor: 0,
            submitted: Line::EMPTY,
            history: [Line::EMPTY; HISTORY],
            history_len: 0,
            history_next: 0,
            browsing: 0,
            draft: Line::EMPTY,
        }
    }

    /// The line being edited.
    pub fn text(&self) -> &[char] {
        self.line.as_slice()
    }

    /// The cursor, as a character index into [`LineEditor::text`].
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The last submitted line (valid right after [`Reaction::Submitted`]).
    pub fn line(&self) -> &[char] {
        self.submitted.as_slice()
    }

    /// Applies one editing key.
    pub fn apply(&mut self, edit: Edit) -> Reaction {
        match edit {
            Edit::Insert(c) => self.insert(c),
            Edit::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.remove_at_cursor();
                Reaction::Redraw
            }
            Edit::Delete if self.cursor < self.line.len => {
                self.remove_at_cursor();
                Reaction::Redraw
            }
            Edit::Left if self.cursor > 0 => {
                self.cursor -= 1;
                Reaction::Redraw
            }
            Edit::Right if self.cursor < self.line.len => {
                self.cursor += 1;
                Reaction::Redraw
            }
            Edit::Home if self.cursor > 0 => {
                self.cursor = 0;
                Reaction::Redraw
            }
            Edit::End if self.cursor < self.line.len => {
                self.cursor = self.line.len;
                Reaction::Redraw
            }
            Edit::Up => self.browse_back(),
            Edit::Down => self.browse_forward(),
            Edit::Enter => {
                self.submitted = self.line;
                self.remember(self.line);
                self.reset_line();
                Reaction::Submitted
            }
            Edit::Cancel => {
                self.reset_line();
                Reaction::Cancelled
            }
            Edit::ClearScreen => Reaction::ClearScreen,
            Edit::Backspace | Edit::Delete | Edit::Left | Edit::Right | Edit::Home | Edit::End => {
                Reaction::Unchanged
            }
        }
    }

    fn insert(&mut self, c: char) -> Reaction {
        if self.line.len == CAPACITY {
            return Reaction::Full;
        }
        self.line
            .chars
            .copy_within(self.cursor..self.line.len, self.cursor + 1);
        self.line.chars[self.cursor] = c;
        self.line.len += 1;
        self.cursor += 1;
        Reaction::Redraw
    }

    fn remove_at_cursor(&mut self) {
        self.line
            .chars
            .copy_within(self.cursor + 1..self.line.len, self.cursor);
        self.line.len -= 1;
    }

    fn reset_line(&mut self) {
        self.line = Line::EMPTY;
        self.cursor = 0;
        self.browsing = 0;
    }

    /// Adds a non-blank line to the history, unless it repeats the newest one.
    fn remember(&mut self, line: Line) {
        if line.as_slice().iter().all(|c| c.is_whitespace()) {
            return;
        }
        if self.history_len > 0 && self.history_line(1).as_slice() == line.as_slice() {
            return;
        }
        self.history[self.history_next] = line;
        self.history_next = (self.history_next + 1) % HISTORY;
        self.history_len = (self.history_len + 1).min(HISTORY);
    }

    /// The history line `back` submissions ago (1 = the newest).
    fn history_line(&self, back: usize) -> Line {
        self.history[(self.history_next + HISTORY - back) % HISTORY]
    }

    fn browse_back(&mut self) -> Reaction {
        if self.browsing >= self.history_len {
            return Reaction::Unchanged;
        }
        if self.browsing == 0 {
            self.draft = self.line;
        }
        self.browsing += 1;
        self.show(self.history_line(self.browsing));
        Reaction::Redraw
    }

    fn browse_forward(&mut self) -> Reaction {
        match self.browsing {
            0 => Reaction::Unchanged,
            1 => {
                self.browsing = 0;
                self.show(self.draft);
                Reaction::Redraw
            }
            _ => {
                self.browsing -= 1;
                self.show(self.history_line(self.browsing));
                Reaction::Redraw
            }
        }
    }

    fn show(&mut self, line: Line) {
        self.line = line;
        self.cursor = line.len;
    }
}
