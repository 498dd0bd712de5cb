//! Text from outside (a server, a file, a client of the control socket, the system's errors)
//! as log lines and errors show it.

use std::fmt;
use std::io;

/// `text` in double quotes, with quotes, backslashes and control characters escaped, so that
/// whatever it holds reads as one visible piece of one line.
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if c.is_control() => write!(f, "{}", c.escape_unicode())?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

/// An I/O error in words, as people read it: `Permission denied`, not `Permission denied (os
/// error 13)` (the number in io::Error's own form is for programmers). An error made of other
/// text keeps that text, less any such number inside it.
pub struct InWords<'a>(pub &'a io::Error);

impl fmt::Display for InWords<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.raw_os_error() {
            Some(code) => f.write_str(nix::errno::Errno::from_raw(code).desc()),
            None => f.write_str(&without_os_error(&self.0.to_string())),
        }
    }
}

/// `text` without the ` (os error N)` that io::Error's form puts after the system's words,
/// wherever it appears (an error's text may hold another's).
pub fn without_os_error(text: &str) -> std::borrow::Cow<'_, str> {
    const MARK: &str = " (os error ";
    if !text.contains(MARK) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        let after = &rest[at + MARK.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(')') {
            out.push_str(&rest[..at]);
            rest = &after[digits + 1..];
        } else {
            out.push_str(&rest[..at + MARK.len()]);
            rest = after;
        }
    }
    out.push_str(rest);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::{without_os_error, InWords, Quoted};
    use std::io;

    #[test]
    fn io_errors_in_words() {
        let e = io::Error::from_raw_os_error(libc::ENOTDIR);
        assert_eq!(e.to_string(), "Not a directory (os error 20)");
        assert_eq!(InWords(&e).to_string(), "Not a directory");
        let e = io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(InWords(&e).to_string(), "Permission denied");
        // Errors of dhcpc's own making, and those that hold another's text.
        let e = io::Error::other("the daemon closed the connection without answering");
        assert_eq!(
            InWords(&e).to_string(),
            "the daemon closed the connection without answering"
        );
        let inner = io::Error::from_raw_os_error(libc::ENOSPC);
        let e = io::Error::other(format!("saving /x: {inner}"));
        assert_eq!(
            InWords(&e).to_string(),
            "saving /x: No space left on device"
        );
        let e = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(InWords(&e).to_string(), "timed out");
    }

    #[test]
    fn os_error_numbers_are_left_out_and_nothing_else() {
        assert_eq!(without_os_error("a (os error 1): b (os error 28)"), "a: b");
        assert_eq!(without_os_error("plain"), "plain");
        // Not the form io::Error writes: kept as it is.
        assert_eq!(without_os_error("x (os error )"), "x (os error )");
        assert_eq!(without_os_error("x (os error 5"), "x (os error 5");
        assert_eq!(
            without_os_error("x (os error z) (os error 2)"),
            "x (os error z)"
        );
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(Quoted("lab.test").to_string(), "\"lab.test\"");
        assert_eq!(
            Quoted("a\"b\\c\nd\u{1b}").to_string(),
            "\"a\\\"b\\\\c\\u{a}d\\u{1b}\""
        );
    }
}
