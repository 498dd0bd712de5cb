//! The configuration file, `/etc/dhcpc.conf` (TOML; `-c PATH` for another): defaults for every
//! option of the command line that is not a mode, at the top level for every interface and in
//! `[interface.NAME]` tables for one. See dhcpc.conf(5).
//!
//! Nothing here knows the options. The keys, their types and their checks come from clap's
//! definition of the command line ([`crate::cli::Cli`]): a key is an option's long name, the
//! file's settings are turned into an argument vector, and that vector is parsed by the same
//! `Command` as the command line. An option added to `Cli` is a key with no code here, and a bad
//! value gets the message the option would get. Only the TOML-to-arguments step ([`args`]) is
//! written by hand, since no crate turns a TOML table into clap arguments.
//!
//! Precedence: the command line wins over the file, and an interface's table wins over the
//! top level. "Wins" is per option: a setting the command line (or the interface's table) gives
//! replaces the file's (or the top level's) value of that option and of every option it
//! conflicts with (`--no-resolv` on the command line drops the file's `resolv-conf`).

use crate::cli::Cli;
use clap::error::ContextKind;
use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Command, CommandFactory, FromArgMatches};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The file read when `-c` is not given; it need not exist.
pub const DEFAULT_PATH: &str = "/etc/dhcpc.conf";

/// The key of the per-interface tables: `[interface.eth0]`.
const INTERFACE_KEY: &str = "interface";

/// Options that are not settings: which file to read, and what goes with a mode.
/// (The modes themselves are the members of clap's "mode" group.)
const NOT_SETTINGS: &[&str] = &["config", "json"];

/// A file larger than this is refused rather than read: a configuration is a few lines.
const MAX_SIZE: u64 = 1 << 20;

/// An interface name standing in for the command line's while a file's settings are checked
/// on their own (the command line requires one).
const PLACEHOLDER_IFACE: &str = "lo";

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based; `None` for a problem with the whole file (it cannot be read).
    pub line: Option<usize>,
    pub message: String,
}

/// Everything wrong with one configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    /// One line per problem: `PATH:LINE: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match p.line {
                Some(line) => write!(f, "{}:{line}: {}", self.path.display(), p.message)?,
                None => write!(f, "{}: {}", self.path.display(), p.message)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// One key of the file, as the arguments it stands for.
#[derive(Debug, Clone)]
struct Setting {
    /// The clap id of the option.
    id: String,
    line: usize,
    args: Vec<OsString>,
}

/// A checked configuration file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    path: PathBuf,
    /// Whether the file exists (the default one need not).
    found: bool,
    globals: Vec<Setting>,
    interfaces: BTreeMap<String, Vec<Setting>>,
}

/// `cmd` ready to be looked into: built (so that its groups are listed). Its messages have no
/// colours: clap is built without its "color" feature (Cargo.toml).
fn prepared(cmd: &Command) -> Command {
    let mut cmd = cmd.clone();
    cmd.build();
    cmd
}

/// The TOML type of a value, for messages.
fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The options that are keys of the file, by clap id, with their long names and shapes.
struct Keys<'c> {
    cmd: &'c Command,
}

impl<'c> Keys<'c> {
    /// Whether `arg` is a mode (`-1`, `-r`, `--status`, ...) or goes with one.
    fn is_mode(&self, arg: &Arg) -> bool {
        let id = arg.get_id().as_str();
        NOT_SETTINGS.contains(&id)
            || self
                .cmd
                .get_groups()
                .any(|g| g.get_id() == "mode" && g.get_args().any(|a| a == id))
    }

    /// The option a key names: its long name, hyphens or underscores alike.
    fn find(&self, key: &str) -> Option<&'c Arg> {
        let key = key.replace('_', "-");
        self.cmd
            .get_arguments()
            .find(|a| !a.is_positional() && a.get_long() == Some(key.as_str()))
    }

    /// The closest key to a mistyped one, for "did you mean".
    fn suggest(&self, key: &str) -> Option<&'c str> {
        self.cmd
            .get_arguments()
            .filter(|a| !self.is_mode(a) && Shape::of(a).is_some())
            .filter_map(|a| a.get_long())
            .map(|long| (strsim::jaro_winkler(key, long), long))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, long)| long)
    }

    /// Whether options `a` and `b` exclude each other (either way round). `ipv4` and `ipv6`
    /// count as one setting, which protocols run: a command line (or an interface's table)
    /// that names either chooses them both, so that the file's (or the top level's) choice
    /// does not add the other protocol to it.
    fn conflict(&self, a: &str, b: &str) -> bool {
        const PROTOCOLS: [&str; 2] = ["ipv4", "ipv6"];
        if a != b && PROTOCOLS.contains(&a) && PROTOCOLS.contains(&b) {
            return true;
        }
        let (Some(x), Some(y)) = (self.by_id(a), self.by_id(b)) else {
            return false;
        };
        self.cmd
            .get_arg_conflicts_with(x)
            .iter()
            .any(|c| c.get_id() == b)
            || self
                .cmd
                .get_arg_conflicts_with(y)
                .iter()
                .any(|c| c.get_id() == a)
    }

    fn by_id(&self, id: &str) -> Option<&'c Arg> {
        self.cmd.get_arguments().find(|a| a.get_id() == id)
    }
}

/// Text positions to line numbers.
struct Lines<'t> {
    text: &'t str,
}

impl Lines<'_> {
    fn at(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn of(&self, span: &Range<usize>) -> usize {
        self.at(span.start)
    }
}

/// Reads and checks a configuration file. With `required` false (the default path), a file
/// that does not exist is an empty configuration.
pub fn load(cmd: &Command, path: &Path, required: bool) -> Result<Config, ConfigError> {
    let whole = |message: String| ConfigError {
        path: path.to_path_buf(),
        problems: vec![Problem {
            line: None,
            message,
        }],
    };
    let bytes = match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(Config {
                path: path.to_path_buf(),
                ..Config::default()
            })
        }
        Err(e) => return Err(whole(format!("cannot read the file: {e}"))),
        Ok(m) if m.is_dir() => return Err(whole("is a directory, not a file".into())),
        Ok(m) if m.len() > MAX_SIZE => {
            return Err(whole(format!(
                "is {} bytes long; a configuration file is at most {MAX_SIZE}",
                m.len()
            )))
        }
        Ok(_) => std::fs::read(path).map_err(|e| whole(format!("cannot read the file: {e}")))?,
    };
    parse_bytes(cmd, path, &bytes)
}

/// Checks a configuration file's contents (`path` only names it in messages).
pub fn parse_bytes(cmd: &Command, path: &Path, bytes: &[u8]) -> Result<Config, ConfigError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(cmd, path, text),
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            Err(ConfigError {
                path: path.to_path_buf(),
                problems: vec![Problem {
                    line: Some(line),
                    message: "not UTF-8 text (TOML files are UTF-8)".into(),
                }],
            })
        }
    }
}

/// Checks a configuration file's text (`path` only names it in messages).
pub fn parse(cmd: &Command, path: &Path, text: &str) -> Result<Config, ConfigError> {
    let cmd = prepared(cmd);
    let lines = Lines { text };
    let mut problems = Vec::new();
    let (doc, syntax) = DeTable::parse_recoverable(text);
    for e in &syntax {
        problems.push(Problem {
            line: e.span().map(|s| lines.of(&s)),
            message: format!("TOML syntax: {}", e.message().trim_end()),
        });
    }
    let mut config = Config {
        path: path.to_path_buf(),
        found: true,
        ..Config::default()
    };
    // A file that is not TOML is reported as such, and not key by key as well.
    if syntax.is_empty() {
        let keys = Keys { cmd: &cmd };
        let doc = doc.into_inner();
        for (key, value) in doc.iter() {
            if key.get_ref() == INTERFACE_KEY {
                read_interfaces(&keys, &lines, value, &mut config, &mut problems);
            } else if let Some(s) = setting(&keys, &lines, key, value, None, &mut problems) {
                config.globals.push(s);
            }
        }
        check_together(&cmd, &config, &mut problems);
    }
    for p in &mut problems {
        p.message = one_line(&p.message);
    }
    problems.sort_by_key(|p| p.line);
    problems.dedup();
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError {
            path: path.to_path_buf(),
            problems,
        })
    }
}

/// A message as one line of `--check-config`'s output ("one line per problem"): the control
/// characters of what it quotes from the file (a quoted key `"a\nb"`, say) escaped as
/// [`crate::text::Quoted`] escapes them (`\u{a}`). The fuzz target `config` checks it.
fn one_line(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

fn read_interfaces(
    keys: &Keys<'_>,
    lines: &Lines<'_>,
    value: &Spanned<DeValue<'_>>,
    config: &mut Config,
    problems: &mut Vec<Problem>,
) {
    let DeValue::Table(ifaces) = value.get_ref() else {
        problems.push(Problem {
            line: Some(lines.of(&value.span())),
            message: format!(
                "'{INTERFACE_KEY}' holds one table per interface, such as [interface.eth0], \
                 not {}",
                type_name(value.get_ref())
            ),
        });
        return;
    };
    for (name, table) in ifaces.iter() {
        let line = lines.of(&name.span());
        if let Err(e) = crate::cli::parse_ifname(name.get_ref()) {
            problems.push(Problem {
                line: Some(line),
                message: format!("[{INTERFACE_KEY}.{}]: {e}", name.get_ref()),
            });
            continue;
        }
        let DeValue::Table(t) = table.get_ref() else {
            problems.push(Problem {
                line: Some(line),
                message: format!(
                    "'{INTERFACE_KEY}.{}' must be a table of settings ([{INTERFACE_KEY}.{}]), \
                     not {}",
                    name.get_ref(),
                    name.get_ref(),
                    type_name(table.get_ref())
                ),
            });
            continue;
        };
        let settings = t
            .iter()
            .filter_map(|(k, v)| setting(keys, lines, k, v, Some(name.get_ref()), problems))
            .collect();
        config
            .interfaces
            .insert(name.get_ref().to_string(), settings);
    }
}

/// The first line of a clap error, without its "error: " prefix.
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or("").trim();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// Checks the settings that apply together: the top level, and each interface's table over it
/// (two options that exclude each other, for example).
fn check_together(cmd: &Command, config: &Config, problems: &mut Vec<Problem>) {
    let keys = Keys { cmd };
    let mut sets: Vec<Vec<&Setting>> = vec![config.globals.iter().collect()];
    sets.extend(
        config
            .interfaces
            .keys()
            .map(|name| config.merged(&keys, Some(name))),
    );
    for set in sets {
        let mut argv: Vec<OsString> = vec!["dhcpc".into()];
        argv.extend(set.iter().flat_map(|s| s.args.iter().cloned()));
        argv.push(PLACEHOLDER_IFACE.into());
        if let Err(e) = cmd.clone().try_get_matches_from(argv) {
            // The line of the option clap names, else of the first setting.
            let named = e.get(ContextKind::InvalidArg).map(|a| a.to_string());
            let line = set
                .iter()
                .find(|s| {
                    named.as_deref().is_some_and(|n| {
                        keys.by_id(&s.id)
                            .and_then(|a| a.get_long())
                            .is_some_and(|l| n.split_whitespace().next() == Some(&format!("--{l}")))
                    })
                })
                .or(set.first())
                .map(|s| s.line);
            problems.push(Problem {
                line,
                message: clap_message(&e),
            });
        }
    }
}

mod args;
mod settings;
use args::{setting, Shape};
pub use settings::{Settings, SettingsError};

#[cfg(test)]
mod tests;
