//! Text log lines that outside input cannot forge: every control
//! character inside a line (a newline, ESC, a C1 control) is written as an
//! escape, whatever field carried it, so a token name or an owner can
//! neither start a line of its own nor drive the operator's terminal. JSON
//! lines escape on their own.

use std::io::{self, Write};

/// Standard error, one escaped line per write (the formatter writes each
/// event whole, ending with its newline).
pub(crate) struct EscapedStderr;

impl Write for EscapedStderr {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        io::stderr().lock().write_all(&escaped(line))?;
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// The line with every control byte escaped as `\xNN` (C1 controls, two
/// bytes in UTF-8, as `\u{NN}`), but its final newline kept.
fn escaped(line: &[u8]) -> Vec<u8> {
    let (body, end) = match line.split_last() {
        Some((b'\n', body)) => (body, &b"\n"[..]),
        _ => (line, &b""[..]),
    };
    let mut out = Vec::with_capacity(line.len() + 8);
    let mut bytes = body.iter().copied().peekable();
    while let Some(byte) = bytes.next() {
        match byte {
            0x00..=0x1f | 0x7f => out.extend_from_slice(format!("\\x{byte:02x}").as_bytes()),
            // U+0080..U+009F are C2 80..C2 9F in UTF-8.
            0xc2 if bytes.peek().is_some_and(|next| (0x80..=0x9f).contains(next)) => {
                let next = bytes.next().unwrap_or_default();
                out.extend_from_slice(format!("\\u{{{next:02x}}}").as_bytes());
            }
            _ => out.push(byte),
        }
    }
    out.extend_from_slice(end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_final_newline_stays() {
        let line = "name=evil\nINFO forged\x1b[2J\u{9b}é\n".as_bytes();
        let shown = String::from_utf8(escaped(line)).unwrap();
        assert_eq!(shown, "name=evil\\x0aINFO forged\\x1b[2J\\u{9b}é\n");
    }
}
