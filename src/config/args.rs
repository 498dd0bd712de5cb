//! A file's key and its TOML value as the command-line arguments they stand for
//! ([`setting`]), checked by clap on their own: the one step of the configuration file written
//! by hand. What values an option takes ([`Shape`]) comes from its clap definition.

use super::{
    clap_message, type_name, Keys, Lines, Problem, Setting, INTERFACE_KEY, PLACEHOLDER_IFACE,
};
use crate::cli::PROCESS_HEADING;
use clap::builder::ValueParser;
use clap::{Arg, ArgAction};
use std::any::TypeId;
use std::ffi::OsString;
use std::path::PathBuf;
use toml::de::DeValue;
use toml::Spanned;

/// What TOML values an option takes, from its clap definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
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

impl Shape {
    /// What TOML values `arg` takes; None for an option that is not a setting's.
    pub(super) fn of(arg: &Arg) -> Option<Shape> {
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
}

/// The TOML type of a value, from the type the option's value parser yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scalar {
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

/// An integer as clap reads it (decimal), whatever base the file wrote it in.
fn integer_text(i: &toml::de::DeInteger<'_>) -> Option<String> {
    i128::from_str_radix(i.as_str(), i.radix())
        .ok()
        .map(|n| n.to_string())
}

/// One key and its value as the arguments they stand for, checked by clap on their own.
pub(super) fn setting(
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
    let Some(arg) = keys.find(name).filter(|a| Shape::of(a).is_some()) else {
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
    let shape = Shape::of(arg)?;
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
