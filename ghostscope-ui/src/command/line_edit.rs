//! A one-line text buffer with a cursor, edited readline-style. Used by
//! the command input, the file-search popup and each script-editor line.

/// Text and a cursor position counted in characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEdit {
    text: String,
    cursor: usize,
}

impl LineEdit {
    /// A buffer holding `text` with the cursor at its end.
    pub fn with_text(text: impl Into<String>) -> LineEdit {
        let text = text.into();
        let cursor = text.chars().count();
        LineEdit { text, cursor }
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Cursor position in characters.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Whether the cursor is after the last character.
    pub fn at_end(&self) -> bool {
        self.cursor == self.text.chars().count()
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Replaces the text and puts the cursor at the end.
    pub fn set(&mut self, text: impl Into<String>) {
        *self = LineEdit::with_text(text);
    }

    /// Empties the buffer.
    pub fn clear(&mut self) {
        *self = LineEdit::default();
    }

    /// Inserts text at the cursor.
    pub fn insert_str(&mut self, s: &str) {
        let at = self.byte_at(self.cursor);
        self.text.insert_str(at, s);
        self.cursor += s.chars().count();
    }

    /// Inserts one character at the cursor.
    pub fn insert(&mut self, c: char) {
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    /// Deletes the character before the cursor.
    pub fn backspace(&mut self) -> bool {
        if self.cursor == 0 {
            return false;
        }
        let at = self.byte_at(self.cursor - 1);
        self.text.remove(at);
        self.cursor -= 1;
        true
    }

    /// Deletes the word before the cursor (and the blanks after it).
    pub fn delete_word(&mut self) {
        let chars: Vec<char> = self.text.chars().collect();
        let mut start = self.cursor;
        while start > 0 && chars[start - 1].is_whitespace() {
            start -= 1;
        }
        while start > 0 && !chars[start - 1].is_whitespace() {
            start -= 1;
        }
        let from = self.byte_at(start);
        let to = self.byte_at(self.cursor);
        self.text.replace_range(from..to, "");
        self.cursor = start;
    }

    /// Deletes from the line start to the cursor.
    pub fn delete_to_start(&mut self) {
        let to = self.byte_at(self.cursor);
        self.text.replace_range(..to, "");
        self.cursor = 0;
    }

    /// Deletes from the cursor to the line end.
    pub fn delete_to_end(&mut self) {
        let from = self.byte_at(self.cursor);
        self.text.truncate(from);
    }

    /// Moves the cursor one character left.
    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// Moves the cursor one character right.
    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    /// Cursor to the line start.
    pub fn home(&mut self) {
        self.cursor = 0;
    }

    /// Cursor to the line end.
    pub fn end(&mut self) {
        self.cursor = self.text.chars().count();
    }

    /// Puts the cursor at a character position (clamped).
    pub fn set_cursor(&mut self, at: usize) {
        self.cursor = at.min(self.text.chars().count());
    }

    /// Text before the cursor.
    pub fn before_cursor(&self) -> &str {
        &self.text[..self.byte_at(self.cursor)]
    }

    /// Text from the cursor on.
    pub fn after_cursor(&self) -> &str {
        &self.text[self.byte_at(self.cursor)..]
    }

    /// Splits at the cursor: keeps the part before, returns the part after.
    pub fn split_off(&mut self) -> String {
        let at = self.byte_at(self.cursor);
        self.text.split_off(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editing_operations() {
        let mut e = LineEdit::with_text("trace foo bar");
        e.delete_word();
        assert_eq!(e.text(), "trace foo ");
        e.backspace();
        e.home();
        e.right();
        e.insert('X');
        assert_eq!(e.text(), "tXrace foo");
        e.delete_to_end();
        assert_eq!(e.text(), "tX");
        e.end();
        e.insert_str("é!");
        assert_eq!(e.cursor(), 4);
        e.left();
        assert_eq!(e.before_cursor(), "tXé");
        assert_eq!(e.after_cursor(), "!");
        e.delete_to_start();
        assert_eq!(e.text(), "!");
        assert_eq!(e.cursor(), 0);
        assert!(!e.backspace());
    }
}
