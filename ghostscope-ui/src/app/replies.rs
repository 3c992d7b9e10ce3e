//! What the UI does with each reply of the engine, and Tab completion
//! (which may need a reply: function names).

use ghostscope_protocol::session::{AddressResult, Reply, Request, RequestId, TraceSelector};
use ratatui::style::Color;

use super::{App, Pending};
use crate::command::completion::{
    complete, path_candidates, source_file_candidates, word_at, Candidates, Completion,
};
use crate::command::parse::DescribeKind;
use crate::format::{info, trace_result};
use crate::source::markers::{same_file, split_file_line, LineAttempt};
use crate::styled::{colored_line, text_line};

/// Function names asked for per Tab.
const FUNCTION_LIMIT: usize = 500;

impl App {
    pub(super) fn on_reply(&mut self, id: RequestId, why: Pending, reply: Reply) {
        if let Reply::Error(message) = &reply {
            self.compiling.retain(|(rid, _)| *rid != id);
            match why {
                Pending::SourceFilesCache
                | Pending::LinesWithCode
                | Pending::Complete { .. }
                | Pending::Shutdown => {}
                // `R` on a line the engine cannot resolve: nothing starts there.
                Pending::ReturnLookup { .. } | Pending::ReturnConfirm { .. } => {
                    self.no_function_here()
                }
                _ => self.error(message.clone()),
            }
            return;
        }
        match (why, reply) {
            (Pending::AddTrace { target }, Reply::TraceAdded(outcome)) => {
                self.compiling.retain(|(rid, _)| *rid != id);
                let attached = outcome
                    .addresses
                    .iter()
                    .any(|a| matches!(a.result, AddressResult::Attached { .. }));
                if let Some((file, line)) = split_file_line(&target) {
                    self.failed_lines
                        .retain(|a| !(a.line == line && same_file(&a.file, file)));
                    if !attached {
                        self.failed_lines.push(LineAttempt {
                            file: file.to_string(),
                            line,
                        });
                    }
                }
                self.respond(trace_result::trace_outcome(&outcome));
            }
            (Pending::TraceChange { verb, selector }, Reply::TracesChanged { ids }) => {
                self.traces_changed(verb, selector, &ids)
            }
            (
                Pending::Describe {
                    kind,
                    target,
                    verbose,
                },
                Reply::Described(addresses),
            ) => self.respond(info::described(kind, &target, verbose, &addresses)),
            (Pending::IndexCheck { target, index }, Reply::Described(addresses)) => {
                let n = addresses.len();
                if n == 0 {
                    let kind = App::target_kind(&target);
                    return self.respond(info::described(kind, &target, false, &[]));
                }
                if index == 0 || index > n {
                    let msg = if App::target_kind(&target) == DescribeKind::Line {
                        format!("Selected index {index} is out of range for {target} (valid 1..={n}). Use 'info' to view indices.")
                    } else {
                        format!("Selected index {index} is out of range for function '{target}' (valid 1..={n}). Use 'info function {target}' to view indices.")
                    };
                    return self.error(msg);
                }
                self.open_script(&target, Some(index));
            }
            (Pending::ReturnLookup { file, line }, Reply::Described(addresses)) => {
                let mut functions: Vec<String> = addresses
                    .iter()
                    .filter(|a| !a.inline)
                    .chain(addresses.iter().filter(|a| a.inline))
                    .filter_map(|a| a.function.clone())
                    .collect();
                functions.dedup();
                match functions.into_iter().next() {
                    Some(function) => {
                        self.send(
                            Request::Describe {
                                target: function.clone(),
                                verbose: false,
                            },
                            Pending::ReturnConfirm {
                                function,
                                file,
                                line,
                            },
                        );
                    }
                    None => self.no_function_here(),
                }
            }
            (
                Pending::ReturnConfirm {
                    function,
                    file,
                    line,
                },
                Reply::Described(addresses),
            ) => {
                let starts_here = addresses.iter().any(|a| {
                    a.source
                        .as_ref()
                        .is_some_and(|s| s.line == line && same_file(&s.file, &file))
                });
                if starts_here {
                    self.open_script(&format!("{function}%return"), None);
                } else {
                    self.no_function_here();
                }
            }
            (Pending::SourceFilesInfo, Reply::SourceFiles(modules)) => {
                self.respond(info::source_files(&modules));
                self.source_files = Some(modules);
                self.rebuild_file_list();
            }
            (Pending::SourceFilesCache, Reply::SourceFiles(modules)) => {
                self.source_files = Some(modules);
                self.rebuild_file_list();
            }
            (
                Pending::Complete {
                    input,
                    cursor,
                    with_files,
                },
                Reply::FunctionNames(mut names),
            ) => {
                if self.command.input.text() != input || self.command.input.cursor() != cursor {
                    return; // The user typed on; this answer is stale.
                }
                if with_files {
                    let at = word_at(self.command.input.before_cursor());
                    names.extend(source_file_candidates(&at.word, &self.dwarf_files()));
                }
                self.apply_completion(&names);
            }
            (Pending::LinesWithCode, Reply::LinesWithCode { file, lines }) => {
                if let crate::source::panel::SourceContent::File(f) = &mut self.source.content {
                    if f.dwarf_path == file {
                        f.code_lines = Some(lines.into_iter().collect());
                    }
                }
            }
            (Pending::FileInfo, Reply::FileInfo(f)) => self.respond(info::file_info(&f)),
            (Pending::SharedLibraries { all }, Reply::SharedLibraries(libs)) => {
                self.respond(info::shared_libraries(&libs, all))
            }
            (Pending::Shutdown, _) => {}
            (_, Reply::Done) => {}
            (why, reply) => self.error(format!(
                "Unexpected reply from the engine: {reply:?} (for {why:?})"
            )),
        }
    }

    fn no_function_here(&mut self) {
        self.respond(vec![colored_line(
            "No function starts at this line",
            Color::Yellow,
        )]);
    }

    fn traces_changed(&mut self, verb: &str, selector: TraceSelector, ids: &[u32]) {
        let past = match verb {
            "enable" => "Enabled",
            "disable" => "Disabled",
            _ => "Deleted",
        };
        if ids.is_empty() {
            return self.respond(vec![text_line(format!("No traces to {verb}"))]);
        }
        if verb == "delete" {
            for id in ids {
                self.traces.remove(id);
            }
        }
        match (selector, ids) {
            (TraceSelector::Id(_), [id]) => self.success(format!("{past} trace {id}")),
            _ => {
                let list: Vec<String> = ids.iter().map(u32::to_string).collect();
                self.success(format!("{past} {} traces: {}", ids.len(), list.join(", ")))
            }
        }
    }

    /// Tab in the input line.
    pub fn complete_input(&mut self) {
        let before = self.command.input.before_cursor().to_string();
        let at = word_at(&before);
        let candidates: Vec<String> = match &at.candidates {
            Candidates::Words(w) => w.iter().map(|s| s.to_string()).collect(),
            Candidates::Paths { scripts_only } => path_candidates(&at.word, *scripts_only),
            Candidates::SourceFiles => source_file_candidates(&at.word, &self.dwarf_files()),
            Candidates::Functions | Candidates::FunctionsAndFiles => {
                let with_files = at.candidates == Candidates::FunctionsAndFiles;
                if self.ready.is_none() {
                    return;
                }
                self.send(
                    Request::FunctionNames {
                        prefix: at.word.clone(),
                        limit: FUNCTION_LIMIT,
                    },
                    Pending::Complete {
                        input: self.command.input.text().to_string(),
                        cursor: self.command.input.cursor(),
                        with_files,
                    },
                );
                return;
            }
            Candidates::None => Vec::new(),
        };
        self.apply_completion(&candidates);
    }

    fn apply_completion(&mut self, candidates: &[String]) {
        let input = self.command.input.text().to_string();
        let before = self.command.input.before_cursor().to_string();
        let at = word_at(&before);
        let second_tab = self.command.last_tab.as_deref() == Some(input.as_str());
        match complete(&input, before.len(), &at, candidates) {
            Completion::Replace(text, cursor) => {
                self.command.input.set(text);
                self.command.input.set_cursor(cursor);
                self.command.last_tab = Some(self.command.input.text().to_string());
            }
            Completion::List(items) => {
                if second_tab {
                    self.command.push([text_line(items.join("  "))]);
                }
                self.command.last_tab = Some(input);
            }
            Completion::Nothing => self.command.last_tab = Some(input),
        }
    }
}
