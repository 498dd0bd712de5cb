//! The configuration file, `/etc/dhcpc.conf` (TOML; `-c PATH` for another): defaults for every
//! option of the command line that is not a mode, at the top level for every interface and in
//! `[interface.NAME]` tables for one. See dhcpc.conf(5).
//!
//! Nothing here knows the options. The keys, their types and their checks come from clap's
//! definition of the command line ([`crate::cli::Cli`]): a key is an option's long name, the
//! file's settings are turned into an argument vector, and that vector is parsed by the same
//! `Command` as the command line. An option added to `Cli` is a key with no code here, and a bad
//! value gets the message the option would get. Only the TOML-to-arguments step is written by
//! hand, since no crate turns a TOML table into clap arguments.
//!
//! Precedence: the command line wins over the file, and an interface's table wins over the
//! top level. "Wins" is per option: a setting the command line (or the interface's table) gives
//! replaces the file's (or the top level's) value of that option and of every option it
//! conflicts with (`--no-resolv` on the command line drops the file's `resolv-conf`).

use crate::cli::{Cli, PROCESS_HEADING};
use clap::builder::ValueParser;
use clap::error::ContextKind;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};
use std::any::TypeId;
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

/// What TOML values an option takes, from its clap definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `--flag` (SetTrue): true or false.
    Flag { when: bool },
    /// `-v`, `-vv` (Count): an integer, or true for once.
    Count,
    /// `--opt VALUE` (Set), with `optional` when the value may be left out (`--ipv4ll[=SECS]`):
    /// then true stands for the bare option.
    Value { ty: Scalar, optional: bool },
    /// `--opt A --opt B` (Append): an array.
    List { ty: Scalar },
}

/// The TOML type of a value, from the type the option's value parser yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    Integer,
    String,
    /// A type of the program's own (a probe mode, a client id): written as a string or, when
    /// it reads as a number, as an integer.
    Either,
}

impl Scalar {
    fn of(parser: &ValueParser) -> Scalar {
        let ty = parser.type_id();
        let integers = [
            TypeId::of::<u8>(),
            TypeId::of::<u16>(),
            TypeId::of::<u32>(),
            TypeId::of::<u64>(),
            TypeId::of::<u128>(),
            TypeId::of::<usize>(),
            TypeId::of::<i8>(),
            TypeId::of::<i16>(),
            TypeId::of::<i32>(),
            TypeId::of::<i64>(),
            TypeId::of::<i128>(),
            TypeId::of::<isize>(),
        ];
        let strings = [
            TypeId::of::<String>(),
            TypeId::of::<PathBuf>(),
            TypeId::of::<OsString>(),
        ];
        if integers.iter().any(|t| ty == *t) {
            Scalar::Integer
        } else if strings.iter().any(|t| ty == *t) {
            Scalar::String
        } else {
            Scalar::Either
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Scalar::Integer => "an integer",
            Scalar::String => "a string",
            Scalar::Either => "a string or an integer",
        }
    }

    fn describe_plural(self) -> &'static str {
        match self {
            Scalar::Integer => "integers",
            Scalar::String => "strings",
            Scalar::Either => "strings or integers",
        }
    }
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

/// An integer as clap reads it (decimal), whatever base the file wrote it in.
fn integer_text(i: &toml::de::DeInteger<'_>) -> Option<String> {
    i128::from_str_radix(i.as_str(), i.radix())
        .ok()
        .map(|n| n.to_string())
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

    fn shape(arg: &Arg) -> Option<Shape> {
        let ty = Scalar::of(arg.get_value_parser());
        match arg.get_action() {
            ArgAction::SetTrue => Some(Shape::Flag { when: true }),
            ArgAction::SetFalse => Some(Shape::Flag { when: false }),
            ArgAction::Count => Some(Shape::Count),
            ArgAction::Set => Some(Shape::Value {
                ty,
                optional: arg.get_num_args().is_some_and(|n| n.min_values() == 0),
            }),
            ArgAction::Append => Some(Shape::List { ty }),
            _ => None,
        }
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
            .filter(|a| !self.is_mode(a) && Self::shape(a).is_some())
            .filter_map(|a| a.get_long())
            .map(|long| (strsim::jaro_winkler(key, long), long))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, long)| long)
    }

    /// Whether options `a` and `b` exclude each other (either way round).
    fn conflict(&self, a: &str, b: &str) -> bool {
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

/// One key and its value as the arguments they stand for, checked by clap on their own.
fn setting(
    keys: &Keys<'_>,
    lines: &Lines<'_>,
    key: &Spanned<std::borrow::Cow<'_, str>>,
    value: &Spanned<DeValue<'_>>,
    iface: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Option<Setting> {
    let name = key.get_ref().as_ref();
    let line = lines.of(&key.span());
    let mut problem = |message: String| {
        problems.push(Problem {
            line: Some(line),
            message,
        });
        None
    };
    let Some(arg) = keys.find(name).filter(|a| Keys::shape(a).is_some()) else {
        if iface.is_none() && name == "interfaces" {
            return problem(
                "unknown key 'interfaces': interfaces are named on the command line; their \
                 settings go in [interface.NAME] tables"
                    .into(),
            );
        }
        let hint = keys
            .suggest(name)
            .map(|s| format!(" (did you mean '{s}'?)"))
            .unwrap_or_default();
        return problem(format!("unknown key '{name}'{hint}"));
    };
    let long = arg.get_long().unwrap_or(name);
    if keys.is_mode(arg) {
        return problem(format!(
            "'{long}' is not a setting: it says what one run of dhcpc does, so it goes on the \
             command line only"
        ));
    }
    if let (Some(iface), Some(PROCESS_HEADING)) = (iface, arg.get_help_heading()) {
        return problem(format!(
            "'{long}' applies to all the interfaces of a process: set it at the top level, not \
             in [{INTERFACE_KEY}.{iface}]"
        ));
    }
    let shape = Keys::shape(arg)?;
    let flag = format!("--{long}");
    let args = match to_args(&flag, shape, value.get_ref()) {
        Ok(args) => args,
        Err(wanted) => return problem(format!("'{long}' takes {wanted}")),
    };
    // The value's own check: the option parsed alone, as the command line would parse it.
    let mut argv: Vec<OsString> = vec!["dhcpc".into()];
    argv.extend(args.iter().cloned());
    argv.push(PLACEHOLDER_IFACE.into());
    if let Err(e) = keys.cmd.clone().try_get_matches_from(argv) {
        return problem(clap_message(&e));
    }
    Some(Setting {
        id: arg.get_id().to_string(),
        line,
        args,
    })
}

/// A TOML value as the arguments of option `flag`; or what the option takes instead, and what
/// it was given ("an integer, not a string").
fn to_args(flag: &str, shape: Shape, value: &DeValue<'_>) -> Result<Vec<OsString>, String> {
    let scalar = |ty: Scalar, v: &DeValue<'_>| -> Option<String> {
        match (ty, v) {
            (Scalar::String | Scalar::Either, DeValue::String(s)) => Some(s.to_string()),
            (Scalar::Integer | Scalar::Either, DeValue::Integer(i)) => integer_text(i),
            _ => None,
        }
    };
    let with = |v: String| OsString::from(format!("{flag}={v}"));
    let wanted = match (shape, value) {
        (Shape::Flag { when }, DeValue::Boolean(b)) => {
            return Ok(if *b == when {
                vec![flag.into()]
            } else {
                vec![]
            })
        }
        (Shape::Flag { .. }, _) => "true or false".to_string(),
        (Shape::Count, DeValue::Boolean(b)) => {
            return Ok(if *b { vec![flag.into()] } else { vec![] })
        }
        (Shape::Count, DeValue::Integer(i)) => {
            match integer_text(i).and_then(|t| t.parse::<u8>().ok()) {
                Some(n) => return Ok(vec![flag.into(); usize::from(n)]),
                None => "an integer from 0 to 255 (or true or false)".to_string(),
            }
        }
        (Shape::Count, _) => "an integer (or true or false)".to_string(),
        (Shape::Value { optional: true, .. }, DeValue::Boolean(b)) => {
            return Ok(if *b { vec![flag.into()] } else { vec![] })
        }
        (Shape::Value { ty, optional }, v) => match scalar(ty, v) {
            Some(s) => return Ok(vec![with(s)]),
            None if optional => format!("{} (or true or false)", ty.describe()),
            None => ty.describe().to_string(),
        },
        (Shape::List { ty }, DeValue::Array(items)) => {
            let mut args = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match scalar(ty, item.get_ref()) {
                    Some(s) => args.push(with(s)),
                    None => {
                        return Err(format!(
                            "an array of {}, and its item {} is {}",
                            ty.describe_plural(),
                            i + 1,
                            type_name(item.get_ref())
                        ))
                    }
                }
            }
            return Ok(args);
        }
        (Shape::List { ty }, _) => format!("an array of {}", ty.describe_plural()),
    };
    Err(format!("{wanted}, not {}", type_name(value)))
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

impl Config {
    /// The file this configuration was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file exists: a missing default file is an empty configuration.
    pub fn found(&self) -> bool {
        self.found
    }

    /// The interfaces the file has a table for.
    pub fn interfaces(&self) -> impl Iterator<Item = &str> {
        self.interfaces.keys().map(String::as_str)
    }

    /// The top level's settings with `iface`'s table over them.
    fn merged<'a>(&'a self, keys: &Keys<'_>, iface: Option<&str>) -> Vec<&'a Setting> {
        let own: Vec<&Setting> = iface
            .and_then(|i| self.interfaces.get(i))
            .map(|t| t.iter().collect())
            .unwrap_or_default();
        let mut out: Vec<&Setting> = self
            .globals
            .iter()
            .filter(|g| {
                !own.iter()
                    .any(|o| o.id == g.id || keys.conflict(&o.id, &g.id))
            })
            .collect();
        out.extend(own);
        out
    }

    /// Parses the command line `cmdline` (program name first; already parsed without the file
    /// as `given`) over this file's settings for `iface` (or the top level's alone): the
    /// command line wins.
    pub fn apply(
        &self,
        cmd: &Command,
        cmdline: &[OsString],
        given: &ArgMatches,
        iface: Option<&str>,
    ) -> Result<ArgMatches, clap::Error> {
        let cmd = &prepared(cmd);
        let keys = Keys { cmd };
        let on_cmdline = |id: &str| {
            cmd.get_arguments().map(|a| a.get_id().as_str()).any(|g| {
                given.value_source(g) == Some(ValueSource::CommandLine)
                    && (g == id || keys.conflict(g, id))
            })
        };
        let mut argv: Vec<OsString> = cmdline.iter().take(1).cloned().collect();
        if argv.is_empty() {
            argv.push("dhcpc".into());
        }
        for s in self.merged(&keys, iface) {
            if !on_cmdline(&s.id) {
                argv.extend(s.args.iter().cloned());
            }
        }
        argv.extend(cmdline.iter().skip(1).cloned());
        cmd.clone().try_get_matches_from(argv)
    }
}

/// Why the settings could not be had.
#[derive(Debug)]
pub enum SettingsError {
    /// The command line is wrong (or asks for --help): clap says so and exits.
    Cli(clap::Error),
    /// The configuration file is wrong.
    Config(ConfigError),
}

/// The command line over the configuration file: for the process, and for each interface the
/// command line names.
#[derive(Debug)]
pub struct Settings {
    /// The top level of the file under the command line: what the whole process uses.
    pub cli: Cli,
    /// The file they came from.
    pub config: Config,
    interfaces: BTreeMap<String, Cli>,
}

impl Settings {
    /// Parses the command line (program name first), reads the file it names (or the default
    /// one) and puts the two together.
    pub fn from_args(cmdline: Vec<OsString>) -> Result<Settings, SettingsError> {
        let cmd = Cli::command();
        let given = cmd
            .clone()
            .try_get_matches_from(&cmdline)
            .map_err(SettingsError::Cli)?;
        let first = Cli::from_arg_matches(&given).map_err(SettingsError::Cli)?;
        let (path, required) = match &first.config {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from(DEFAULT_PATH), false),
        };
        let config = load(&cmd, &path, required).map_err(SettingsError::Config)?;
        Settings::new(&cmd, config, &cmdline, &given)
    }

    /// [`Settings::from_args`] with the file already read (by [`parse`] or [`load`]): the
    /// command line (program name first) over `config`, without touching the file system. The
    /// command line's `-c`, if any, is not read again. For the fuzz target `config`.
    pub fn with_config(config: Config, cmdline: &[OsString]) -> Result<Settings, SettingsError> {
        let cmd = Cli::command();
        let given = cmd
            .clone()
            .try_get_matches_from(cmdline)
            .map_err(SettingsError::Cli)?;
        Settings::new(&cmd, config, cmdline, &given)
    }

    fn new(
        cmd: &Command,
        config: Config,
        cmdline: &[OsString],
        given: &ArgMatches,
    ) -> Result<Settings, SettingsError> {
        // The file was checked on its own, and what conflicts with the command line was left
        // out: an error here is one between the two, named as such.
        let both = |e: clap::Error| {
            SettingsError::Config(ConfigError {
                path: config.path.clone(),
                problems: vec![Problem {
                    line: None,
                    message: format!("with the command line: {}", clap_message(&e.with_cmd(cmd))),
                }],
            })
        };
        let parse = |iface: Option<&str>| {
            config
                .apply(cmd, cmdline, given, iface)
                .and_then(|m| Cli::from_arg_matches(&m))
                .map_err(both)
        };
        let cli = parse(None)?;
        // Only an interface with a table of its own differs from the top level; the others
        // share it. (Parsed for each of 1000 interfaces, and each keeping the list of all,
        // the settings alone were 1000 parses and 24 MB.) A copy does not keep the list.
        let mut interfaces = BTreeMap::new();
        for name in &cli.interfaces {
            if config.interfaces.contains_key(name) {
                let mut own = parse(Some(name))?;
                own.interfaces = Vec::new();
                interfaces.insert(name.clone(), own);
            }
        }
        Ok(Settings {
            cli,
            config,
            interfaces,
        })
    }

    /// The settings of one interface: the command line over its table over the top level.
    pub fn interface(&self, name: &str) -> &Cli {
        self.interfaces.get(name).unwrap_or(&self.cli)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Config, ConfigError> {
        parse(&Cli::command(), Path::new("test.conf"), text)
    }

    fn problems(text: &str) -> Vec<(Option<usize>, String)> {
        check(text)
            .expect_err("the file should be refused")
            .problems
            .into_iter()
            .map(|p| (p.line, p.message))
            .collect()
    }

    fn settings(text: &str, cmdline: &[&str]) -> Settings {
        let cmd = Cli::command();
        let config = parse(&cmd, Path::new("test.conf"), text).expect("a good file");
        let cmdline: Vec<OsString> = cmdline.iter().map(OsString::from).collect();
        let given = cmd
            .clone()
            .try_get_matches_from(&cmdline)
            .expect("a good command line");
        Settings::new(&cmd, config, &cmdline, &given).expect("settings")
    }

    #[test]
    fn every_option_but_the_modes_is_a_key() {
        let cmd = prepared(&Cli::command());
        let keys = Keys { cmd: &cmd };
        let mut names: Vec<&str> = cmd
            .get_arguments()
            .filter(|a| !a.is_positional() && !keys.is_mode(a) && Keys::shape(a).is_some())
            .filter_map(|a| a.get_long())
            .collect();
        names.sort();
        for want in [
            "arp-probe",
            "broadcast",
            "clientid",
            "fqdn",
            "hostname",
            "ipv4ll",
            "lease-dir",
            "metric",
            "no-rapid-commit",
            "no-resolv",
            "dns-mode",
            "quiet",
            "release-on-exit",
            "request",
            "resolv-conf",
            "run-dir",
            "timeout",
            "vendor-class",
            "verbose",
            "allow-missing",
        ] {
            assert!(names.contains(&want), "{want} is not a key: {names:?}");
        }
        for mode in [
            "oneshot",
            "foreground",
            "release",
            "exit",
            "renew",
            "status",
            "json",
        ] {
            assert!(!names.contains(&mode), "{mode} is a key");
        }
        assert!(!names.contains(&"config") && !names.contains(&"check-config"));
    }

    #[test]
    fn file_values_fill_in_what_the_command_line_leaves() {
        let s = settings(
            "metric = 100\nbroadcast = true\nrequest = [42, 119]\nipv4ll = true\n\
             arp-probe = \"rfc5227\"\nclientid = \"duid\"\nverbose = 2\n",
            &["dhcpc", "eth0"],
        );
        let c = s.interface("eth0");
        assert_eq!(c.metric, 100);
        assert!(c.broadcast);
        assert_eq!(c.request, vec![42, 119]);
        assert_eq!(c.ipv4ll, Some(10));
        assert_eq!(c.arp_probe, crate::core::ProbeMode::Rfc5227);
        assert_eq!(c.client_id, crate::core::ClientId::Duid);
        assert_eq!(s.cli.verbose, 2);
    }

    #[test]
    fn the_command_line_wins_option_by_option() {
        let file = "metric = 100\nrequest = [42]\nverbose = 2\nno-resolv = true\nipv4ll = 30\n\
                    timeout = 20\n";
        let s = settings(
            file,
            &[
                "dhcpc",
                "--metric",
                "7",
                "--request",
                "119",
                "-v",
                "--resolv-conf",
                "/tmp/x",
                "-1",
                "eth0",
            ],
        );
        let c = s.interface("eth0");
        assert_eq!(c.metric, 7);
        assert_eq!(
            c.request,
            vec![119],
            "a list on the command line replaces the file's"
        );
        assert_eq!(s.cli.verbose, 1);
        assert!(!s.cli.no_resolv, "--resolv-conf drops the file's no-resolv");
        assert_eq!(s.cli.resolv_conf, Path::new("/tmp/x"));
        assert_eq!(
            c.ipv4ll, None,
            "-1 drops the file's ipv4ll, which it excludes"
        );
        assert_eq!(
            c.timeout, 20,
            "what the command line does not give comes from the file"
        );
    }

    #[test]
    fn an_interface_table_wins_over_the_top_level() {
        let file = "metric = 100\nhostname = \"top\"\nbroadcast = true\n\
                    [interface.eth1]\nmetric = 200\nbroadcast = false\nrequest = [42]\n\
                    [interface.eth2]\n";
        let s = settings(file, &["dhcpc", "eth0", "eth1", "eth2"]);
        assert_eq!(s.interface("eth0").metric, 100);
        assert_eq!(s.interface("eth1").metric, 200);
        assert!(
            !s.interface("eth1").broadcast,
            "false in a table undoes the top's true"
        );
        assert_eq!(s.interface("eth1").hostname.as_deref(), Some("top"));
        assert_eq!(s.interface("eth1").request, vec![42]);
        assert!(s.interface("eth0").request.is_empty());
        assert_eq!(s.interface("eth2").metric, 100);
        let s = settings(file, &["dhcpc", "--metric", "5", "eth1"]);
        assert_eq!(
            s.interface("eth1").metric,
            5,
            "the command line beats the table"
        );
    }

    #[test]
    fn underscores_name_the_same_keys() {
        let s = settings("vendor_class = \"acme\"\n", &["dhcpc", "eth0"]);
        assert_eq!(s.interface("eth0").vendor_class.as_deref(), Some("acme"));
    }

    #[test]
    fn problems_name_their_lines() {
        let p = problems(
            "# a comment\nmetrc = 1\nmetric = \"ten\"\nbroadcast = 1\narp-probe = \"slow\"\n\
             oneshot = true\nrequest = 42\ntimeout = 0\n",
        );
        assert_eq!(p.len(), 7, "{p:?}");
        assert_eq!(p[0].0, Some(2));
        assert!(
            p[0].1
                .contains("unknown key 'metrc' (did you mean 'metric'?)"),
            "{p:?}"
        );
        assert_eq!(
            p[1],
            (Some(3), "'metric' takes an integer, not a string".into())
        );
        assert_eq!(
            p[2],
            (
                Some(4),
                "'broadcast' takes true or false, not an integer".into()
            )
        );
        assert_eq!(p[3].0, Some(5));
        assert!(
            p[3].1.contains("invalid value 'slow' for '--arp-probe"),
            "{p:?}"
        );
        assert!(p[3].1.contains("not a probe window"), "{p:?}");
        assert_eq!(p[4].0, Some(6));
        assert!(p[4].1.contains("command line only"), "{p:?}");
        assert_eq!(p[5].0, Some(7));
        assert!(p[5].1.contains("array of integers"), "{p:?}");
        assert_eq!(p[6].0, Some(8));
        assert!(p[6].1.contains("invalid value '0' for '--timeout"), "{p:?}");
    }

    #[test]
    fn the_same_message_as_the_flag() {
        let cmd = Cli::command();
        let flag = cmd
            .try_get_matches_from(["dhcpc", "--hostname=bad_name", "eth0"])
            .expect_err("a bad host name");
        let p = problems("hostname = \"bad_name\"\n");
        assert_eq!(p, vec![(Some(1), clap_message(&flag))]);
    }

    #[test]
    fn syntax_errors_name_their_lines() {
        let p = problems("metric = 1\n\nbroadcast = tru\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, Some(3));
        assert!(p[0].1.starts_with("TOML syntax"), "{p:?}");
        let p = problems("metric = 1\nmetric = 2\n");
        assert_eq!(p[0].0, Some(2), "{p:?}");
    }

    /// fuzz/regressions/config/newline-in-a-key: a key, or an interface's name, with a
    /// newline was a problem of two lines.
    #[test]
    fn a_name_with_a_newline_is_named_on_one_line() {
        let p = problems("\"a\\nb\" = 1\n[interface.\"c\\td\"]\nmetric = 1\n");
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0], (Some(1), "unknown key 'a\\u{a}b'".to_string()));
        assert_eq!(p[1].0, Some(2));
        assert!(
            p[1].1
                .starts_with("[interface.c\\u{9}d]: 'c\\u{9}d' is not"),
            "{p:?}"
        );
        let e = check("\"a\\nb\" = 1\n").unwrap_err();
        assert_eq!(e.to_string().lines().count(), 1, "{e}");
    }

    #[test]
    fn interface_tables_are_checked() {
        let p = problems("interface = 3\n");
        assert_eq!(p[0].0, Some(1));
        let p = problems(
            "[interface.eth0]\nresolv-conf = \"/x\"\n[interface.\"a/b\"]\n[interface]\nwlan0 = 1\n",
        );
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(p[0].0, Some(2));
        assert!(p[0].1.contains("top level"), "{p:?}");
        assert_eq!(p[1].0, Some(3));
        assert!(p[1].1.contains("not a valid interface name"), "{p:?}");
        assert_eq!(p[2].0, Some(5));
    }

    #[test]
    fn exclusive_keys_together_are_refused() {
        let p = problems("verbose = 1\nquiet = true\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].1.contains("cannot be used with"), "{p:?}");
        assert!(p[0].0.is_some());
    }

    #[test]
    fn a_new_option_is_a_key_with_no_code_here() {
        // An option another part of the program adds later (as --dns-mode was).
        let cmd = Cli::command().arg(
            Arg::new("example_mode")
                .long("example-mode")
                .value_parser(["auto", "resolved", "file", "none"]),
        );
        let config = parse(
            &cmd,
            Path::new("t"),
            "[interface.eth0]\nexample-mode = \"file\"\n",
        )
        .expect("example-mode is a key");
        let cmdline: Vec<OsString> = ["dhcpc", "eth0"].iter().map(OsString::from).collect();
        let given = cmd.clone().try_get_matches_from(&cmdline).unwrap();
        let m = config.apply(&cmd, &cmdline, &given, Some("eth0")).unwrap();
        assert_eq!(
            m.get_one::<String>("example_mode").map(String::as_str),
            Some("file")
        );
        let e = parse(&cmd, Path::new("t"), "example-mode = \"dhcp\"\n").expect_err("a bad value");
        assert!(
            e.problems[0].message.contains("invalid value 'dhcp'"),
            "{e}"
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        let cmd = Cli::command();
        let mut rng = fastrand::Rng::with_seed(10);
        let pieces: &[&[u8]] = &[
            b"metric",
            b" = ",
            b"\"",
            b"[interface.",
            b"]",
            b"\n",
            b"[",
            b"true",
            b"-1",
            b"0x1f",
            b"request",
            b"ipv4ll",
            b"verbose",
            b"=",
            b"{",
            b"}",
            b",",
            b"'",
            b"#",
            b"\xff",
            b"9999999999999999999999",
            b"interface",
            b".",
            b"e\xcc\x81",
        ];
        for _ in 0..3000 {
            let mut bytes = Vec::new();
            for _ in 0..rng.usize(0..24) {
                if rng.bool() {
                    bytes.extend_from_slice(pieces[rng.usize(..pieces.len())]);
                } else {
                    bytes.push(rng.u8(..));
                }
            }
            if let Err(e) = parse_bytes(&cmd, Path::new("fuzz"), &bytes) {
                assert!(!e.problems.is_empty());
                let _ = e.to_string();
            }
        }
    }

    #[test]
    fn a_missing_default_file_is_empty_but_a_named_one_is_an_error() {
        let cmd = Cli::command();
        let missing = Path::new("/nonexistent/dhcpc-test.conf");
        assert!(load(&cmd, missing, false).is_ok());
        let e = load(&cmd, missing, true).expect_err("a named file must exist");
        assert_eq!(e.problems[0].line, None);
        assert!(e
            .to_string()
            .starts_with("/nonexistent/dhcpc-test.conf: cannot read"));
    }
}
