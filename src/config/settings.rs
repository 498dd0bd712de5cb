//! The configuration file and the command line put together: [`Settings`], what each mode and
//! each interface runs with, and how a file's settings are applied under the command line.

use super::*;

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
    pub(super) fn merged<'a>(&'a self, keys: &Keys<'_>, iface: Option<&str>) -> Vec<&'a Setting> {
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

    pub(super) fn new(
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
