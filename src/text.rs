//! Text from outside (a server, a file, a client of the control socket) as log lines and
//! errors show it.

use std::fmt;

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

#[cfg(test)]
mod tests {
    use super::Quoted;

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(Quoted("lab.test").to_string(), "\"lab.test\"");
        assert_eq!(
            Quoted("a\"b\\c\nd\u{1b}").to_string(),
            "\"a\\\"b\\\\c\\u{a}d\\u{1b}\""
        );
    }
}
