//! What the compiler's integration tests share: fixtures built with gcc
//! once per test binary, and whole-script compilation without the kernel.

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// Compiles `script` against the binary at `path`.
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
