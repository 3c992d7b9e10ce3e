//! Fixtures whose DWARF lives in a separate file, made the way
//! distributions make them: `objcopy --only-keep-debug`, `strip
//! --strip-debug`, `objcopy --add-gnu-debuglink`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::target_dir;

/// A fresh, empty directory for one test case's files.
pub fn case_dir(case: &str) -> PathBuf {
    let dir = target_dir().join("e2e-fixtures/debuginfo").join(case);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles `fixtures/<name>.c` with gcc into `out`; `link` comes after the source.
pub fn compile(name: &str, out: &Path, flags: &[&str], link: &[&str]) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("{name}.c"));
    run(Command::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(out)
        .arg(&src)
        .args(link));
}

/// Builds `libgvars.so` (with `lib_flags`) and `gvars_app` (with `-g
/// -O0`, linked to it with an rpath) into `dir`; returns (app, library).
pub fn build_gvars(dir: &Path, lib_flags: &[&str]) -> (PathBuf, PathBuf) {
    let lib = dir.join("libgvars.so");
    let mut flags = vec!["-shared", "-fPIC"];
    flags.extend_from_slice(lib_flags);
    compile("libgvars", &lib, &flags, &[]);
    let app = dir.join("gvars_app");
    let rpath = format!("-Wl,-rpath,{}", dir.display());
    let link_dir = format!("-L{}", dir.display());
    compile(
        "gvars_app",
        &app,
        &["-g", "-O0"],
        &[&link_dir, &rpath, "-l:libgvars.so"],
    );
    (app, lib)
}

/// `objcopy --only-keep-debug module debug`.
pub fn keep_debug(module: &Path, debug: &Path) {
    run(Command::new("objcopy")
        .arg("--only-keep-debug")
        .arg(module)
        .arg(debug));
}

/// `strip --strip-debug -o out module`.
pub fn strip_debug(module: &Path, out: &Path) {
    run(Command::new("strip")
        .arg("--strip-debug")
        .arg("-o")
        .arg(out)
        .arg(module));
}

/// `objcopy --add-gnu-debuglink=debug module`: records the file name of
/// `debug` and its CRC in `module`.
pub fn add_debuglink(module: &Path, debug: &Path) {
    run(Command::new("objcopy")
        .arg(format!("--add-gnu-debuglink={}", debug.display()))
        .arg(module));
}

/// The module with its DWARF split off: `<dir>/<exe>` stripped, its debug
/// file at `<dir>/<debug_name>`, linked by `.gnu_debuglink` when `link`.
pub struct SplitBuild {
    /// The stripped module.
    pub module: PathBuf,
    /// Its debug file.
    pub debug: PathBuf,
}

/// Builds `fixtures/<name>.c` with `flags` (which must include `-g`) and
/// splits its DWARF off.
pub fn split_build(
    name: &str,
    dir: &Path,
    exe: &str,
    debug_name: &str,
    flags: &[&str],
    link: bool,
) -> SplitBuild {
    let full = dir.join(format!("{exe}.full"));
    compile(name, &full, flags, &[]);
    let debug = dir.join(debug_name);
    keep_debug(&full, &debug);
    let module = dir.join(exe);
    strip_debug(&full, &module);
    if link {
        add_debuglink(&module, &debug);
    }
    std::fs::remove_file(&full).unwrap();
    SplitBuild { module, debug }
}

/// A build id for `-Wl,--build-id=0x…` that no other worktree's run of the
/// same test uses: system debug directories are shared by all of them.
pub fn unique_build_id(case: &str) -> String {
    // FNV-1a over the target directory and the case, stretched to 20 bytes.
    let key = format!("{}:{case}", target_dir().display());
    let mut out = String::new();
    let mut h: u64 = 0xcbf29ce484222325;
    for round in 0u8..3 {
        for b in key.bytes().chain([round]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out.truncate(40);
    out
}

/// Moves `from` to `to` (creating `to`'s directory); removes `to`, and the
/// directory if it created it, when dropped.
pub struct Installed {
    path: PathBuf,
    created_dir: Option<PathBuf>,
}

impl Installed {
    /// Moves the file into place.
    pub fn new(from: &Path, to: &Path) -> Installed {
        let dir = to.parent().unwrap();
        let created_dir = (!dir.exists()).then(|| dir.to_path_buf());
        std::fs::create_dir_all(dir).unwrap();
        std::fs::copy(from, to).unwrap();
        std::fs::remove_file(from).unwrap();
        Installed {
            path: to.to_path_buf(),
            created_dir,
        }
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        if let Some(dir) = &self.created_dir {
            // Fails, as it should, if something else was put there meanwhile.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn run(command: &mut Command) {
    let out = command.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
