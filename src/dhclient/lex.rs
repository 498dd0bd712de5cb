//! The tokens of ISC dhclient's files (dhclient.conf(5) and dhclient.leases(5)): words,
//! quoted strings, and the punctuation `{ } ; , =` and `( )`, with `#` comments to the end of
//! the line. Written by hand: the syntax is ISC's own (no crate reads it), and small.
//! Never panics, whatever the bytes (the tests feed it random ones).

/// One token and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub line: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A bare word: a keyword, an option name, a number, an address, `a,b`-free text.
    Word(String),
    /// A double-quoted string, escapes undone as ISC's lexer undoes them (`\"`, `\\`, `\n`,
    /// `\t`, `\r`, `\b`, octal `\NNN`, hex `\xHH`): an escaped byte is the ASCII char of the
    /// same value, or for 0x80 to 0xFF a char of [`HIGH_BYTES`]; [`bytes`] gives the bytes back.
    Str(String),
    /// One of `{ } ; , = ( )`.
    Punct(char),
}

/// Where an escaped byte from 0x80 to 0xFF goes in a [`Kind::Str`] (a block of Unicode's
/// private use area, U+F780 to U+F7FF): apart from the same text written raw in UTF-8, which
/// ISC's lexer reads as its UTF-8 bytes.
pub const HIGH_BYTES: u32 = 0xF700;

/// The char standing for escaped byte `b` in a [`Kind::Str`].
fn escaped(b: u32) -> char {
    let b = b & 0xff;
    char::from_u32(if b < 0x80 { b } else { HIGH_BYTES + b }).unwrap_or('?')
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Splits `text` into tokens, or says on which line a string is not closed.
pub fn tokens(text: &str) -> Result<Vec<Token>, (usize, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '{' | '}' | ';' | ',' | '=' | '(' | ')' => out.push(Token {
                line,
                kind: Kind::Punct(c),
            }),
            '"' => {
                let start = line;
                let s = string(&mut chars, &mut line)
                    .ok_or((start, "a string is not closed (missing '\"')".into()))?;
                out.push(Token {
                    line: start,
                    kind: Kind::Str(s),
                });
            }
            c => out.push(Token {
                line,
                kind: Kind::Word(word(c, &mut chars)),
            }),
        }
    }
    Ok(out)
}

/// The rest of a quoted string after its opening `"`, escapes undone, counting the lines it
/// spans in `line`; `None` when it is not closed.
fn string(chars: &mut Chars, line: &mut usize) -> Option<String> {
    let mut s = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(s),
            '\\' => match chars.next() {
                Some('n') => s.push('\n'),
                Some('t') => s.push('\t'),
                Some('r') => s.push('\r'),
                Some('b') => s.push('\u{8}'),
                // ISC's octal escapes start with 0 to 3 (a byte's first of three digits).
                Some(d @ '0'..='3') => s.push(octal(d, chars)),
                Some('x') => s.push(hex(chars)),
                Some(other) => {
                    if other == '\n' {
                        *line += 1;
                    }
                    s.push(other)
                }
                None => break,
            },
            '\n' => {
                *line += 1;
                s.push('\n');
            }
            c => s.push(c),
        }
    }
    None
}

/// An octal escape `\NNN` whose first digit is `d`: up to two more digits, the value's low
/// byte.
fn octal(d: char, chars: &mut Chars) -> char {
    let mut v = d as u32 - '0' as u32;
    for _ in 0..2 {
        match chars.peek() {
            Some(&d @ '0'..='7') => {
                v = v * 8 + (d as u32 - '0' as u32);
                chars.next();
            }
            _ => break,
        }
    }
    escaped(v)
}

/// A hex escape `\xHH` after its `x`: up to two hex digits; a character that is not one ends
/// the escape (`\x` alone is a NUL).
fn hex(chars: &mut Chars) -> char {
    let mut v = 0u32;
    for _ in 0..2 {
        match chars.peek().and_then(|c| c.to_digit(16)) {
            Some(d) => {
                v = v * 16 + d;
                chars.next();
            }
            None => break,
        }
    }
    escaped(v)
}

/// The bytes a [`Kind::Str`] stands for: an escaped byte is that byte, any other char its
/// UTF-8, as ISC's lexer reads a file's bytes.
pub fn bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match u32::from(c) {
            b @ 0..=0x7f => out.push(b as u8),
            h @ 0xF780..=0xF7FF => out.push((h - HIGH_BYTES) as u8),
            _ => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out
}

/// A bare word starting with `c`, up to whitespace, punctuation, a quote or a comment.
fn word(c: char, chars: &mut Chars) -> String {
    let mut w = String::from(c);
    while let Some(&n) = chars.peek() {
        if n.is_whitespace() || "{};,=()\"#".contains(n) {
            break;
        }
        w.push(n);
        chars.next();
    }
    w
}

/// Splits tokens into statements: each ends at `;` (outside braces) or is a block
/// `words { statements }` (with an optional `;` after the `}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub line: usize,
    /// The tokens before the `;` or the `{`.
    pub head: Vec<Kind>,
    /// The statements inside the braces, for a block.
    pub block: Option<Vec<Statement>>,
}

/// Most nesting taken: real files nest two deep.
const MAX_DEPTH: usize = 8;

/// Parses a whole file into statements.
pub fn statements(text: &str) -> Result<Vec<Statement>, (usize, String)> {
    let toks = tokens(text)?;
    let mut pos = 0;
    let list = parse_list(&toks, &mut pos, 0)?;
    if let Some(t) = toks.get(pos) {
        return Err((t.line, "a '}' closes no block".into()));
    }
    Ok(list)
}

fn parse_list(
    toks: &[Token],
    pos: &mut usize,
    depth: usize,
) -> Result<Vec<Statement>, (usize, String)> {
    let mut out = Vec::new();
    loop {
        let Some(first) = toks.get(*pos) else {
            return Ok(out);
        };
        if first.kind == Kind::Punct('}') {
            return Ok(out);
        }
        let line = first.line;
        let mut head = Vec::new();
        loop {
            let Some(t) = toks.get(*pos) else {
                return Err((line, "a statement is not ended with ';'".into()));
            };
            *pos += 1;
            match &t.kind {
                Kind::Punct(';') => {
                    if !head.is_empty() {
                        out.push(Statement {
                            line,
                            head,
                            block: None,
                        });
                    }
                    break;
                }
                // A record type in an option declaration (`= { ip-address, text }`, `array of
                // { ... }`): part of the statement, not a block.
                Kind::Punct('{') if record_follows(&head) => {
                    head.push(Kind::Punct('{'));
                    record(toks, pos, &mut head).ok_or((line, "a '{' is not closed".into()))?;
                }
                Kind::Punct('{') => {
                    if depth + 1 > MAX_DEPTH {
                        return Err((t.line, "blocks nest too deep".into()));
                    }
                    let inner = parse_list(toks, pos, depth + 1)?;
                    match toks.get(*pos) {
                        Some(Token {
                            kind: Kind::Punct('}'),
                            ..
                        }) => *pos += 1,
                        _ => return Err((line, "a '{' is not closed".into())),
                    }
                    if let Some(Token {
                        kind: Kind::Punct(';'),
                        ..
                    }) = toks.get(*pos)
                    {
                        *pos += 1;
                    }
                    out.push(Statement {
                        line,
                        head,
                        block: Some(inner),
                    });
                    break;
                }
                Kind::Punct('}') => {
                    return Err((line, "a statement is not ended with ';'".into()));
                }
                k => head.push(k.clone()),
            }
        }
    }
}

/// Whether a `{` after `head` opens a record type: after `=` or `of` in an `option`
/// declaration.
fn record_follows(head: &[Kind]) -> bool {
    let declaration = matches!(head.first(), Some(Kind::Word(w)) if w == "option");
    let after = matches!(head.last(), Some(Kind::Punct('=')))
        || matches!(head.last(), Some(Kind::Word(w)) if w == "of");
    declaration && after
}

/// The tokens of a record type after its `{`, up to and with its `}`, pushed onto `head`; None
/// when it is not closed (records do not nest).
fn record(toks: &[Token], pos: &mut usize, head: &mut Vec<Kind>) -> Option<()> {
    loop {
        let t = toks.get(*pos)?;
        *pos += 1;
        match t.kind {
            Kind::Punct('}') => {
                head.push(Kind::Punct('}'));
                return Some(());
            }
            Kind::Punct('{') | Kind::Punct(';') => return None,
            _ => head.push(t.kind.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Kind {
        Kind::Word(s.into())
    }

    #[test]
    fn words_strings_comments_and_blocks() {
        let text = "# c\nsend host-name \"a\\\"b\";\ninterface \"eth0\" {\n  timeout 5; # x\n}\n";
        let st = statements(text).unwrap();
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].line, 2);
        assert_eq!(
            st[0].head,
            vec![w("send"), w("host-name"), Kind::Str("a\"b".into())]
        );
        assert_eq!(st[1].line, 3);
        let inner = st[1].block.as_ref().unwrap();
        assert_eq!(inner[0].head, vec![w("timeout"), w("5")]);
        assert_eq!(inner[0].line, 4);
    }

    #[test]
    fn octal_escapes_and_punctuation() {
        let t = tokens("x \"\\001\\101\" a,b=c();").unwrap();
        let kinds: Vec<Kind> = t.into_iter().map(|t| t.kind).collect();
        assert_eq!(kinds[1], Kind::Str("\u{1}A".into()));
        // dhclient's own default-duid line, and NetworkManager's "\x00" client id.
        let t = tokens(r#""\000\001\0012\244:\012" "\x00ab\x4" "\7""#).unwrap();
        let strs: Vec<Vec<u8>> = t
            .iter()
            .map(|t| match &t.kind {
                Kind::Str(s) => bytes(s),
                k => panic!("{k:?}"),
            })
            .collect();
        assert_eq!(strs[0], [0, 1, 1, b'2', 0o244, b':', 0o12]);
        assert_eq!(strs[1], [0, b'a', b'b', 4]);
        assert_eq!(strs[2], b"7");
        assert_eq!(bytes("é"), "é".as_bytes());
        let t = tokens("\"é\\351\\xe9\"").unwrap();
        match &t[0].kind {
            Kind::Str(s) => assert_eq!(bytes(s), [0xc3, 0xa9, 0xe9, 0xe9]),
            k => panic!("{k:?}"),
        }
        assert_eq!(kinds[2], w("a"));
        assert_eq!(kinds[3], Kind::Punct(','));
    }

    #[test]
    fn a_record_type_is_part_of_its_declaration() {
        let st = statements(
            "option a code 1 = { ip-address, text };\noption b code 2 = array of { text };\nx;",
        )
        .unwrap();
        assert_eq!(st.len(), 3);
        assert!(st[0].block.is_none() && st[1].block.is_none());
        assert_eq!(st[0].head.len(), 10);
        assert_eq!(st[2].line, 3);
        assert!(statements("option a code 1 = { text;\n").is_err());
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(statements("a;\nb \"x;\n").unwrap_err().0, 2);
        assert_eq!(statements("a {\n b;\n").unwrap_err().0, 1);
        assert_eq!(statements("a;\n}\n").unwrap_err().0, 2);
        assert_eq!(statements("a b\n").unwrap_err().0, 1);
        let deep = "a {".repeat(20);
        assert!(statements(&deep).is_err());
    }
}
