//! Shared by the compiler's integration tests: C fixtures built once with
//! gcc, and whole scripts compiled against them without the kernel.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ghostscope_compiler::{compile_script, BpfCodegen, CompileOptions, CompileOutput, MapFds};
use ghostscope_dwarf::DebugSession;

/// Builds `source` (relative to this crate) with `gcc -g -O0` into the test
/// target dir as `output`, once per `cell`: tests run in parallel and must
/// not race gcc.
pub fn build_once(cell: &'static OnceLock<PathBuf>, source: &str, output: &str) -> &'static Path {
    cell.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(output);
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(source);
        let status = Command::new("gcc")
            .args(["-g", "-O0", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .unwrap();
        assert!(status.success());
        out
    })
}

/// Compiles `script` against the executable `exe` with default options.
pub fn compile_for(exe: &Path, script: &str) -> CompileOutput {
    let session = DebugSession::for_file(exe).unwrap();
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
