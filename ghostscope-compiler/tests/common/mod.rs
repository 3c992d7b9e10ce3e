//! Shared by the compiler's integration tests: C fixtures built with gcc,
//! and whole scripts compiled against them without the kernel.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ghostscope_compiler::{compile_script, BpfCodegen, CompileOptions, CompileOutput, MapFds};
use ghostscope_dwarf::DebugSession;

/// Builds the C file `source` (relative to this crate) with gcc `flags`
/// into the test's temporary directory as `name`.
pub fn build_with_gcc(source: &str, flags: &[&str], name: &str) -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(source);
    let status = Command::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .status()
        .unwrap();
    assert!(status.success(), "gcc {flags:?} {source}");
    out
}

/// Builds `source` with `gcc -g -O0` as `output`, once per `cell`: tests
/// run in parallel and must not race gcc.
pub fn build_once(cell: &'static OnceLock<PathBuf>, source: &str, output: &str) -> &'static Path {
    cell.get_or_init(|| build_with_gcc(source, &["-g", "-O0"], output))
}

/// Compiles `script` against the binary at `path` with default options.
pub fn compile_against(path: &Path, script: &str) -> CompileOutput {
    let session = DebugSession::for_file(path).unwrap();
    let codegen = BpfCodegen::new().unwrap();
    compile_script(
        script,
        &session,
        &codegen,
        MapFds::default(),
        &CompileOptions::default(),
        0,
    )
    .unwrap()
}

/// Compiles `script` against the executable `exe` with default options.
pub fn compile_for(exe: &Path, script: &str) -> CompileOutput {
    compile_against(exe, script)
}

/// The value of every `print expr;` of the first trace: its constant text,
/// or `<runtime>` when it is captured at run time.
pub fn printed_values(out: &CompileOutput) -> Vec<String> {
    use ghostscope_protocol::{SlotKind, StatementOutput};
    out.traces[0]
        .meta
        .statements
        .iter()
        .filter_map(|s| match &s.output {
            StatementOutput::Value { slot, .. } => match &slot.kind {
                SlotKind::Constant(c) => Some(c.clone()),
                SlotKind::Typed(_) => Some("<runtime>".to_string()),
            },
            _ => None,
        })
        .collect()
}
