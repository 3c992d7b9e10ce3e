//! Parsing one input line of the command panel into a [`Command`]
//! (tui.md §6.6): words separated by spaces, short forms, usage errors.

use ghostscope_protocol::session::TraceSelector;

/// `Usage:` line of `trace`.
pub const USAGE_TRACE: &str = "Usage: trace <function_name|file:line|0xADDR|module_suffix:0xADDR>";
/// `Usage:` line of `enable`.
pub const USAGE_ENABLE: &str = "Usage: enable <trace_id|all>";
/// `Usage:` line of `disable`.
pub const USAGE_DISABLE: &str = "Usage: disable <trace_id|all>";
/// `Usage:` line of `delete`.
pub const USAGE_DELETE: &str = "Usage: delete <trace_id|all>";
/// `Usage:` line of `source`.
pub const USAGE_SOURCE: &str = "Usage: source <filename>";
/// `Usage:` line of `save`.
pub const USAGE_SAVE: &str = "Usage: save <traces|output|session> [filename]";
/// `Usage:` line of `stop`.
pub const USAGE_STOP: &str = "Usage: stop <output|session>";
/// `Usage:` line of `info trace`.
pub const USAGE_INFO_TRACE: &str = "Usage: info trace [trace_id]";
/// `Usage:` line of `info function`.
pub const USAGE_INFO_FUNCTION: &str = "Usage: info function <function_name> [verbose|v]";
/// `Usage:` line of `info line`.
pub const USAGE_INFO_LINE: &str = "Usage: info line <file:line> [verbose|v]";
/// `Usage:` line of `info address`.
pub const USAGE_INFO_ADDRESS: &str =
    "Usage: info address <0xADDR | module_suffix:0xADDR> [verbose|v]";
/// `Usage:` line of `info share`.
pub const USAGE_INFO_SHARE: &str = "Usage: info share [all]";
/// `Usage:` line of `srcpath`.
pub const USAGE_SRCPATH: &str =
    "Usage: srcpath [add <dir> | map <from> <to> | remove <path> | clear | reset]";
/// `Usage:` line of `ui source`.
pub const USAGE_UI_SOURCE: &str = "Usage: ui source <on|off>";
/// `Usage:` line of `ui mouse`.
pub const USAGE_UI_MOUSE: &str = "Usage: ui mouse <on|off>";
/// `Usage:` line of `ui`.
pub const USAGE_UI: &str = "Usage: ui <source|mouse> <on|off>";

/// Which traces `save traces` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveFilter {
    /// Every trace.
    All,
    /// Only enabled traces.
    Enabled,
    /// Only disabled traces.
    Disabled,
}

/// The `info` sub-commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoCommand {
    /// `info`: the list of sub-commands.
    List,
    /// `info trace [id]`.
    Trace(Option<u32>),
    /// `info source`.
    Source,
    /// `info file`.
    File,
    /// `info share [all]`.
    Share {
        /// List every mapped library, not only those with debug info.
        all: bool,
    },
    /// `info function|line|address <target> [verbose]`.
    Describe {
        /// What kind of target was named.
        kind: DescribeKind,
        /// The target text.
        target: String,
        /// Add DWARF location expressions.
        verbose: bool,
    },
}

/// The kind of target an `info` query names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescribeKind {
    /// A function name.
    Function,
    /// `file:line`.
    Line,
    /// `0xADDR` or `module:0xADDR`.
    Address,
}

/// The `srcpath` sub-commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SrcpathCommand {
    /// Show the rules.
    Show,
    /// Add a search directory.
    Add(String),
    /// Add (or replace) a prefix rewrite.
    Map(String, String),
    /// Remove a runtime mapping or search directory.
    Remove(String),
    /// Remove every runtime rule (`clear` and `reset`).
    Clear,
}

/// One parsed input command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `trace <target> [index]`: open the script editor.
    Trace {
        /// The pattern text.
        target: String,
        /// 1-based address index.
        index: Option<usize>,
    },
    /// `enable <id|all>`.
    Enable(TraceSelector),
    /// `disable <id|all>`.
    Disable(TraceSelector),
    /// `delete <id|all>`.
    Delete(TraceSelector),
    /// `source <file>`.
    Source(String),
    /// `save traces [enabled|disabled] [file]`.
    SaveTraces {
        /// Which traces.
        filter: SaveFilter,
        /// Target file, or the default name.
        file: Option<String>,
    },
    /// `save output [file]`.
    SaveOutput(Option<String>),
    /// `save session [file]`.
    SaveSession(Option<String>),
    /// `stop output`.
    StopOutput,
    /// `stop session`.
    StopSession,
    /// `info …`.
    Info(InfoCommand),
    /// `srcpath …`.
    Srcpath(SrcpathCommand),
    /// `ui source on|off`.
    UiSource(bool),
    /// `ui mouse on|off`.
    UiMouse(bool),
    /// `help [topic]`.
    Help(Option<String>),
    /// `clear`: clear the command history.
    Clear,
    /// `quit` / `exit`.
    Quit,
}

/// Why an input line is not a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not a known command word (`✗ Unknown command`).
    Unknown,
    /// Known command, wrong arguments: the usage line.
    Usage(&'static str),
}

/// Parses one input line; `Ok(None)` for a blank line.
pub fn parse(input: &str) -> Result<Option<Command>, ParseError> {
    let words: Vec<&str> = input.split_whitespace().collect();
    let Some((&first, args)) = words.split_first() else {
        return Ok(None);
    };
    let command = match first {
        "trace" | "t" => parse_trace(args)?,
        "enable" | "en" => Command::Enable(selector(args, USAGE_ENABLE)?),
        "disable" | "dis" => Command::Disable(selector(args, USAGE_DISABLE)?),
        "delete" | "del" => Command::Delete(selector(args, USAGE_DELETE)?),
        "source" => match args {
            [file] => Command::Source(file.to_string()),
            _ => return Err(ParseError::Usage(USAGE_SOURCE)),
        },
        "s" => match args {
            ["t" | "o" | "s", ..] => parse_save(args)?,
            [file] => Command::Source(file.to_string()),
            _ => return Err(ParseError::Usage(USAGE_SOURCE)),
        },
        "save" => parse_save(args)?,
        "stop" => match args {
            ["output"] => Command::StopOutput,
            ["session"] => Command::StopSession,
            _ => return Err(ParseError::Usage(USAGE_STOP)),
        },
        "info" | "i" => Command::Info(parse_info(args)?),
        "srcpath" => Command::Srcpath(parse_srcpath(args)?),
        "ui" => match args {
            ["source", switch] => Command::UiSource(on_off(switch, USAGE_UI_SOURCE)?),
            ["source", ..] => return Err(ParseError::Usage(USAGE_UI_SOURCE)),
            ["mouse", switch] => Command::UiMouse(on_off(switch, USAGE_UI_MOUSE)?),
            ["mouse", ..] => return Err(ParseError::Usage(USAGE_UI_MOUSE)),
            _ => return Err(ParseError::Usage(USAGE_UI)),
        },
        "help" => Command::Help(args.first().map(|s| s.to_string())),
        "clear" => Command::Clear,
        "quit" | "exit" => Command::Quit,
        _ => return Err(ParseError::Unknown),
    };
    Ok(Some(command))
}

fn parse_trace(args: &[&str]) -> Result<Command, ParseError> {
    let (target, index) = match args {
        [target] => (target, None),
        [target, index] => match index.parse::<usize>() {
            Ok(i) => (target, Some(i)),
            Err(_) => return Err(ParseError::Usage(USAGE_TRACE)),
        },
        _ => return Err(ParseError::Usage(USAGE_TRACE)),
    };
    Ok(Command::Trace {
        target: target.to_string(),
        index,
    })
}

fn selector(args: &[&str], usage: &'static str) -> Result<TraceSelector, ParseError> {
    match args {
        ["all"] => Ok(TraceSelector::All),
        [id] => id
            .parse::<u32>()
            .map(TraceSelector::Id)
            .map_err(|_| ParseError::Usage(usage)),
        _ => Err(ParseError::Usage(usage)),
    }
}

fn one_optional_file(rest: &[&str]) -> Result<Option<String>, ParseError> {
    match rest {
        [] => Ok(None),
        [file] => Ok(Some(file.to_string())),
        _ => Err(ParseError::Usage(USAGE_SAVE)),
    }
}

fn parse_save(args: &[&str]) -> Result<Command, ParseError> {
    match args {
        ["traces" | "t", "enabled", rest @ ..] => Ok(Command::SaveTraces {
            filter: SaveFilter::Enabled,
            file: one_optional_file(rest)?,
        }),
        ["traces" | "t", "disabled", rest @ ..] => Ok(Command::SaveTraces {
            filter: SaveFilter::Disabled,
            file: one_optional_file(rest)?,
        }),
        ["traces" | "t", rest @ ..] => Ok(Command::SaveTraces {
            filter: SaveFilter::All,
            file: one_optional_file(rest)?,
        }),
        ["output" | "o", rest @ ..] => Ok(Command::SaveOutput(one_optional_file(rest)?)),
        ["session" | "s", rest @ ..] => Ok(Command::SaveSession(one_optional_file(rest)?)),
        _ => Err(ParseError::Usage(USAGE_SAVE)),
    }
}

fn verbose_flag(rest: &[&str], usage: &'static str) -> Result<bool, ParseError> {
    match rest {
        [] => Ok(false),
        ["verbose" | "v"] => Ok(true),
        _ => Err(ParseError::Usage(usage)),
    }
}

fn parse_info(args: &[&str]) -> Result<InfoCommand, ParseError> {
    let describe = |kind, target: &str, verbose| InfoCommand::Describe {
        kind,
        target: target.to_string(),
        verbose,
    };
    match args {
        [] => Ok(InfoCommand::List),
        ["trace" | "t"] => Ok(InfoCommand::Trace(None)),
        ["trace" | "t", id] => id
            .parse::<u32>()
            .map(|id| InfoCommand::Trace(Some(id)))
            .map_err(|_| ParseError::Usage(USAGE_INFO_TRACE)),
        ["trace" | "t", ..] => Err(ParseError::Usage(USAGE_INFO_TRACE)),
        ["source" | "s"] => Ok(InfoCommand::Source),
        ["file"] | ["f"] => Ok(InfoCommand::File),
        ["share" | "sh"] => Ok(InfoCommand::Share { all: false }),
        ["share" | "sh", "all"] => Ok(InfoCommand::Share { all: true }),
        ["share" | "sh", ..] => Err(ParseError::Usage(USAGE_INFO_SHARE)),
        ["function" | "f", name, rest @ ..] => Ok(describe(
            DescribeKind::Function,
            name,
            verbose_flag(rest, USAGE_INFO_FUNCTION)?,
        )),
        ["function"] => Err(ParseError::Usage(USAGE_INFO_FUNCTION)),
        ["line" | "l", target, rest @ ..] if is_file_line(target) => Ok(describe(
            DescribeKind::Line,
            target,
            verbose_flag(rest, USAGE_INFO_LINE)?,
        )),
        ["line" | "l", ..] => Err(ParseError::Usage(USAGE_INFO_LINE)),
        ["address" | "a", target, rest @ ..] if is_address(target) => Ok(describe(
            DescribeKind::Address,
            target,
            verbose_flag(rest, USAGE_INFO_ADDRESS)?,
        )),
        ["address" | "a", ..] => Err(ParseError::Usage(USAGE_INFO_ADDRESS)),
        _ => Err(ParseError::Unknown),
    }
}

fn parse_srcpath(args: &[&str]) -> Result<SrcpathCommand, ParseError> {
    match args {
        [] => Ok(SrcpathCommand::Show),
        ["add", dir] => Ok(SrcpathCommand::Add(dir.to_string())),
        ["map", from, to] => Ok(SrcpathCommand::Map(from.to_string(), to.to_string())),
        ["remove", path] => Ok(SrcpathCommand::Remove(path.to_string())),
        ["clear"] | ["reset"] => Ok(SrcpathCommand::Clear),
        _ => Err(ParseError::Usage(USAGE_SRCPATH)),
    }
}

fn on_off(word: &str, usage: &'static str) -> Result<bool, ParseError> {
    match word {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(ParseError::Usage(usage)),
    }
}

/// `file:line` with a decimal line number.
pub fn is_file_line(text: &str) -> bool {
    match text.rsplit_once(':') {
        Some((file, line)) => {
            !file.is_empty() && !line.is_empty() && line.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// `0xADDR` or `module:0xADDR`.
pub fn is_address(text: &str) -> bool {
    let addr = text.rsplit_once(':').map_or(text, |(_, a)| a);
    addr.strip_prefix("0x")
        .is_some_and(|hex| !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Command {
        parse(input).unwrap().unwrap()
    }

    fn usage(input: &str) -> &'static str {
        match parse(input) {
            Err(ParseError::Usage(u)) => u,
            other => panic!("{input}: {other:?}"),
        }
    }

    #[test]
    fn trace_forms() {
        assert_eq!(
            ok("trace update_order"),
            Command::Trace {
                target: "update_order".into(),
                index: None
            }
        );
        assert_eq!(
            ok("t  main.c:12   2"),
            Command::Trace {
                target: "main.c:12".into(),
                index: Some(2)
            }
        );
        assert_eq!(usage("trace"), USAGE_TRACE);
        assert_eq!(usage("trace f x"), USAGE_TRACE);
        assert_eq!(usage("trace f 1 2"), USAGE_TRACE);
    }

    #[test]
    fn enable_disable_delete() {
        assert_eq!(ok("enable 3"), Command::Enable(TraceSelector::Id(3)));
        assert_eq!(ok("en all"), Command::Enable(TraceSelector::All));
        assert_eq!(ok("dis 1"), Command::Disable(TraceSelector::Id(1)));
        assert_eq!(ok("del all"), Command::Delete(TraceSelector::All));
        assert_eq!(usage("enable"), USAGE_ENABLE);
        assert_eq!(usage("disable x"), USAGE_DISABLE);
        assert_eq!(usage("delete 1 2"), USAGE_DELETE);
    }

    #[test]
    fn source_and_save_short_forms() {
        assert_eq!(ok("source a.gs"), Command::Source("a.gs".into()));
        assert_eq!(ok("s a.gs"), Command::Source("a.gs".into()));
        assert_eq!(usage("source"), USAGE_SOURCE);
        assert_eq!(
            ok("s t"),
            Command::SaveTraces {
                filter: SaveFilter::All,
                file: None
            }
        );
        assert_eq!(
            ok("save traces enabled x.gs"),
            Command::SaveTraces {
                filter: SaveFilter::Enabled,
                file: Some("x.gs".into())
            }
        );
        assert_eq!(
            ok("save traces disabled"),
            Command::SaveTraces {
                filter: SaveFilter::Disabled,
                file: None
            }
        );
        assert_eq!(
            ok("s o out.log"),
            Command::SaveOutput(Some("out.log".into()))
        );
        assert_eq!(ok("save session"), Command::SaveSession(None));
        assert_eq!(ok("s s"), Command::SaveSession(None));
        assert_eq!(usage("save"), USAGE_SAVE);
        assert_eq!(usage("save x"), USAGE_SAVE);
        assert_eq!(usage("save output a b"), USAGE_SAVE);
        assert_eq!(ok("stop output"), Command::StopOutput);
        assert_eq!(ok("stop session"), Command::StopSession);
        assert_eq!(usage("stop"), USAGE_STOP);
    }

    #[test]
    fn info_forms() {
        assert_eq!(ok("info"), Command::Info(InfoCommand::List));
        assert_eq!(ok("i t"), Command::Info(InfoCommand::Trace(None)));
        assert_eq!(
            ok("info trace 4"),
            Command::Info(InfoCommand::Trace(Some(4)))
        );
        assert_eq!(usage("info trace x"), USAGE_INFO_TRACE);
        assert_eq!(ok("i s"), Command::Info(InfoCommand::Source));
        assert_eq!(ok("i f"), Command::Info(InfoCommand::File));
        assert_eq!(ok("i file"), Command::Info(InfoCommand::File));
        assert_eq!(
            ok("i sh all"),
            Command::Info(InfoCommand::Share { all: true })
        );
        assert_eq!(
            ok("i f main v"),
            Command::Info(InfoCommand::Describe {
                kind: DescribeKind::Function,
                target: "main".into(),
                verbose: true
            })
        );
        assert_eq!(usage("info function"), USAGE_INFO_FUNCTION);
        assert_eq!(usage("info function f x"), USAGE_INFO_FUNCTION);
        assert_eq!(
            ok("i l a.c:3"),
            Command::Info(InfoCommand::Describe {
                kind: DescribeKind::Line,
                target: "a.c:3".into(),
                verbose: false
            })
        );
        assert_eq!(usage("info line a.c"), USAGE_INFO_LINE);
        assert_eq!(
            ok("i a libc.so.6:0x1f verbose"),
            Command::Info(InfoCommand::Describe {
                kind: DescribeKind::Address,
                target: "libc.so.6:0x1f".into(),
                verbose: true
            })
        );
        assert_eq!(usage("info address main"), USAGE_INFO_ADDRESS);
        assert_eq!(parse("info bogus"), Err(ParseError::Unknown));
    }

    #[test]
    fn srcpath_ui_help_and_control() {
        assert_eq!(ok("srcpath"), Command::Srcpath(SrcpathCommand::Show));
        assert_eq!(
            ok("srcpath map /a /b"),
            Command::Srcpath(SrcpathCommand::Map("/a".into(), "/b".into()))
        );
        assert_eq!(ok("srcpath reset"), Command::Srcpath(SrcpathCommand::Clear));
        assert_eq!(usage("srcpath map /a"), USAGE_SRCPATH);
        assert_eq!(ok("ui source off"), Command::UiSource(false));
        assert_eq!(ok("ui mouse on"), Command::UiMouse(true));
        assert_eq!(usage("ui source"), USAGE_UI_SOURCE);
        assert_eq!(usage("ui mouse maybe"), USAGE_UI_MOUSE);
        assert_eq!(usage("ui"), USAGE_UI);
        assert_eq!(ok("help"), Command::Help(None));
        assert_eq!(ok("help srcpath"), Command::Help(Some("srcpath".into())));
        assert_eq!(ok("clear"), Command::Clear);
        assert_eq!(ok("exit"), Command::Quit);
        assert_eq!(ok("quit"), Command::Quit);
        assert_eq!(parse("   "), Ok(None));
        assert_eq!(parse("frobnicate"), Err(ParseError::Unknown));
    }
}
