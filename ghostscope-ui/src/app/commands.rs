//! Running input commands (tui.md §6.6) and submitting scripts (§6.3).

use std::time::Instant;

use ghostscope_protocol::session::{Request, TraceSelector};
use ratatui::style::Color;
use ratatui::text::{Line, Span};

use super::logs::{file_stamp, LogFile};
use super::{App, Pending};

/// The two real-time logs.
#[derive(Clone, Copy)]
enum LogKind {
    Output,
    Session,
}
use crate::command::panel::PROMPT;
use crate::command::parse::{
    parse, Command, DescribeKind, InfoCommand, ParseError, SaveFilter, SrcpathCommand,
};
use crate::format::{help, info, trace_result};
use crate::save_file::{self, SaveHeader};
use crate::srcpath::RuleChange;
use crate::styled::{colored, colored_line};
use crate::Panel;

impl App {
    /// Runs one command line typed in the input (Enter).
    pub fn run_command(&mut self, line: &str, now: Instant) {
        self.command.push([Line::from(vec![
            colored(PROMPT, Color::Cyan),
            Span::raw(line.to_string()),
        ])]);
        if line.trim().is_empty() {
            return;
        }
        if let Some(log) = &mut self.session_log {
            log.write_lines(std::iter::once(format!(">>> {}", line.trim())));
        }
        self.command.history.push(line);
        match parse(line) {
            Ok(Some(command)) => self.execute(command, now),
            Ok(None) => {}
            Err(ParseError::Unknown) => self.error("Unknown command"),
            Err(ParseError::Usage(usage)) => self.respond(vec![colored_line(usage, Color::Red)]),
        }
    }

    fn execute(&mut self, command: Command, now: Instant) {
        match command {
            Command::Trace { target, index } => match index {
                Some(index) => {
                    self.send(
                        Request::Describe {
                            target: target.clone(),
                            verbose: false,
                        },
                        Pending::IndexCheck { target, index },
                    );
                }
                None => self.open_script(&target, None),
            },
            Command::Enable(s) => self.change_traces("enable", s),
            Command::Disable(s) => self.change_traces("disable", s),
            Command::Delete(s) => self.change_traces("delete", s),
            Command::Source(file) => self.source_script(&file),
            Command::SaveTraces { filter, file } => self.save_traces(filter, file),
            Command::SaveOutput(file) => self.start_log(LogKind::Output, file),
            Command::SaveSession(file) => self.start_log(LogKind::Session, file),
            Command::StopOutput => match self.output_log.take() {
                Some(log) => self.success(format!(
                    "Output logging stopped: {} ({} lines written)",
                    log.path, log.lines
                )),
                None => self.error("Output logging is not active"),
            },
            Command::StopSession => match self.session_log.take() {
                Some(log) => self.success(format!("Session logging stopped: {}", log.path)),
                None => self.error("Session logging is not active"),
            },
            Command::Info(i) => self.info(i),
            Command::Srcpath(s) => self.srcpath_command(s),
            Command::UiSource(on) => {
                self.show_source = on;
                if !on && self.focus == Panel::Source {
                    self.focus = Panel::InteractiveCommand;
                }
                self.resize(self.size);
                self.success(if on {
                    "Source panel shown"
                } else {
                    "Source panel hidden"
                });
            }
            Command::UiMouse(on) => {
                self.mouse = on;
                self.mouse_changed = true;
                self.success(if on {
                    "Mouse capture on"
                } else {
                    "Mouse capture off"
                });
            }
            Command::Help(None) => self.respond(help::help()),
            Command::Help(Some(topic)) if topic == "srcpath" => self.respond(help::help_srcpath()),
            Command::Help(Some(topic)) => self.error(format!("No help for '{topic}'")),
            Command::Clear => {
                self.command.history.clear();
                self.success("Command history cleared.");
            }
            Command::Quit => self.begin_quit(now),
        }
    }

    fn change_traces(&mut self, verb: &'static str, selector: TraceSelector) {
        let request = match verb {
            "enable" => Request::Enable(selector),
            "disable" => Request::Disable(selector),
            _ => Request::Delete(selector),
        };
        self.send(request, Pending::TraceChange { verb, selector });
    }

    /// Ctrl+S in the script editor.
    pub fn submit_script(&mut self) {
        let Some(editor) = self.command.close_script() else {
            return;
        };
        let body = editor.body();
        self.command
            .script_cache
            .insert(editor.target.clone(), body.clone());
        self.respond(trace_result::script_echo(&editor.target, &body));
        self.add_trace(editor.target, body, editor.index, true);
    }

    /// Esc / Ctrl+C in the script editor.
    pub fn cancel_script(&mut self) {
        if let Some(editor) = self.command.close_script() {
            self.command
                .script_cache
                .insert(editor.target.clone(), editor.body());
        }
        self.respond(vec![colored_line(
            "Script editing cancelled",
            Color::Yellow,
        )]);
    }

    fn add_trace(&mut self, target: String, body: String, index: Option<usize>, enabled: bool) {
        let id = self.send(
            Request::AddTrace {
                target: target.clone(),
                body,
                index,
                enabled,
            },
            Pending::AddTrace {
                target: target.clone(),
            },
        );
        self.track_compiling(id, &target);
    }

    fn source_script(&mut self, file: &str) {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return self.error("File not found")
            }
            Err(e) => return self.error(format!("Cannot read {file}: {e}")),
        };
        match save_file::parse_script(&text) {
            Ok(blocks) => {
                self.success(format!(
                    "Loading {} trace block{} from {file}",
                    blocks.len(),
                    if blocks.len() == 1 { "" } else { "s" }
                ));
                for b in blocks {
                    self.command
                        .script_cache
                        .insert(b.target.clone(), b.body.clone());
                    self.add_trace(b.target, b.body, b.index, !b.disabled);
                }
            }
            Err(e) => self.error(format!("{file}:{}: {}", e.line, e.message)),
        }
    }

    fn save_traces(&mut self, filter: SaveFilter, file: Option<String>) {
        let (binary, pid) = match &self.ready {
            Some(r) => (r.main_module.clone(), r.pid),
            None => (String::new(), None),
        };
        let header = SaveHeader {
            generated: chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
            binary: binary.clone(),
            pid,
        };
        let traces = self.trace_list();
        let Some(text) = save_file::render(&header, &traces, filter) else {
            return self.error("No traces to save");
        };
        let blocks = text.matches("\ntrace ").count();
        let file = file.unwrap_or_else(|| {
            let name = binary.rsplit('/').next().unwrap_or("target");
            format!("traces_{name}_{}.gs", file_stamp())
        });
        match std::fs::write(&file, text) {
            Ok(()) => self.success(format!(
                "Saved {blocks} trace{} to {file}",
                if blocks == 1 { "" } else { "s" }
            )),
            Err(e) => self.error(format!("Cannot write {file}: {e}")),
        }
    }

    /// `save output` / `save session`: starts a real-time log.
    fn start_log(&mut self, kind: LogKind, file: Option<String>) {
        let (what, prefix, started) = match kind {
            LogKind::Output => ("Output", "ebpf_output", "Real-time output logging started"),
            LogKind::Session => ("Session", "command_session", "Session logging started"),
        };
        let slot = match kind {
            LogKind::Output => &self.output_log,
            LogKind::Session => &self.session_log,
        };
        if let Some(log) = slot {
            let path = log.path.clone();
            return self.error(format!("{what} logging is already active: {path}"));
        }
        let file = file.unwrap_or_else(|| format!("{prefix}_{}.log", file_stamp()));
        match LogFile::create(&file) {
            Ok(log) => {
                // The session log starts with the next command.
                self.success(format!("{started}: {file}"));
                match kind {
                    LogKind::Output => self.output_log = Some(log),
                    LogKind::Session => self.session_log = Some(log),
                }
            }
            Err(e) => self.error(format!("Cannot write {file}: {e}")),
        }
    }

    fn info(&mut self, command: InfoCommand) {
        match command {
            InfoCommand::List => self.respond(info::info_list()),
            InfoCommand::Trace(None) => {
                let lines = info::trace_list(&self.trace_list());
                self.respond(lines);
            }
            InfoCommand::Trace(Some(id)) => match self.traces.get(&id) {
                Some(t) => {
                    let lines = info::trace_detail(t);
                    self.respond(lines);
                }
                None => self.error("Trace not found"),
            },
            InfoCommand::Source => {
                self.send(Request::SourceFiles, Pending::SourceFilesInfo);
            }
            InfoCommand::File => {
                self.send(Request::FileInfo, Pending::FileInfo);
            }
            InfoCommand::Share { all } => {
                self.send(Request::SharedLibraries, Pending::SharedLibraries { all });
            }
            InfoCommand::Describe {
                kind,
                target,
                verbose,
            } => {
                self.send(
                    Request::Describe {
                        target: target.clone(),
                        verbose,
                    },
                    Pending::Describe {
                        kind,
                        target,
                        verbose,
                    },
                );
            }
        }
    }

    fn srcpath_command(&mut self, command: SrcpathCommand) {
        match command {
            SrcpathCommand::Show => {
                let lines = self
                    .srcpath
                    .describe()
                    .into_iter()
                    .map(Line::from)
                    .collect();
                return self.respond(lines);
            }
            SrcpathCommand::Add(dir) => {
                if !std::path::Path::new(&dir).is_dir() {
                    return self.error(format!("Not a directory: {dir}"));
                }
                self.srcpath.add_dir(&dir);
                self.success(format!("Added search directory: {dir}"));
            }
            SrcpathCommand::Map(from, to) => match self.srcpath.map(&from, &to) {
                RuleChange::Added => self.success(format!("Added mapping: {from} → {to}")),
                RuleChange::Replaced => self.success(format!("Updated mapping: {from} → {to}")),
            },
            SrcpathCommand::Remove(path) => {
                if self.srcpath.remove(&path) {
                    self.success(format!("Removed: {path}"));
                } else if self.srcpath.is_config_rule(&path) {
                    return self.error(format!("'{path}' is a config rule and cannot be removed"));
                } else {
                    return self.error(format!("No runtime rule for '{path}'"));
                }
            }
            SrcpathCommand::Clear => {
                self.srcpath.clear();
                self.success("Cleared all runtime source path rules");
            }
        }
        self.reload_sources();
    }

    /// The `Describe` kind for an `info`-style message about a target.
    pub(super) fn target_kind(target: &str) -> DescribeKind {
        if crate::command::parse::is_address(target) {
            DescribeKind::Address
        } else if crate::command::parse::is_file_line(target) {
            DescribeKind::Line
        } else {
            DescribeKind::Function
        }
    }
}
