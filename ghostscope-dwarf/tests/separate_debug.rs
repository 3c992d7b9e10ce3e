//! Separate debug files found through a search path of our own (a
//! temporary directory standing in for `dwarf.search_paths`): by
//! `.gnu_debuglink` name and by build id, with CRC and build-id checks.

use std::path::{Path, PathBuf};
use std::process::Command;

use ghostscope_dwarf::{DebugLookup, DebugSource, DwarfError, IndexKind, Module, SiteKind};

/// A fresh directory for one test.
fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("separate_debug")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// orders.c built with `extra` flags, its DWARF moved to `debug`, the
/// stripped module at `<dir>/app`, linked to `debug` when `link`.
fn split(dir: &Path, debug: &Path, extra: &[&str], link: bool) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/orders.c");
    let full = dir.join("app.full");
    run(Command::new("gcc")
        .args(["-g", "-O0"])
        .args(extra)
        .arg("-o")
        .arg(&full)
        .arg(&src));
    std::fs::create_dir_all(debug.parent().unwrap()).unwrap();
    run(Command::new("objcopy")
        .arg("--only-keep-debug")
        .arg(&full)
        .arg(debug));
    let module = dir.join("app");
    run(Command::new("strip")
        .args(["--strip-debug", "-o"])
        .arg(&module)
        .arg(&full));
    if link {
        run(Command::new("objcopy")
            .arg(format!("--add-gnu-debuglink={}", debug.display()))
            .arg(&module));
    }
    module
}

fn lookup(search: &Path, loose: bool) -> DebugLookup {
    DebugLookup {
        search_paths: vec![search.to_path_buf()],
        allow_loose_match: loose,
    }
}

/// The module resolves `update_order` through its separate DWARF, whose
/// index holds what the unstripped build's holds.
fn assert_usable(module: &Module) {
    assert!(module.has_debug_info());
    assert_eq!(module.function_code("update_order").len(), 1);
    let stats = module.stats();
    assert_eq!(stats.index, IndexKind::FullScan);
    let full = Module::open(&module.path().with_file_name("app.full")).unwrap();
    assert_eq!(full.debug_source(), &DebugSource::Embedded);
    assert_eq!(stats, full.stats());
    // Segments and file offsets still come from the module itself.
    let pc = module.function_code("update_order")[0].entry_pc;
    assert!(module.elf().file_offset_of(pc).is_some());
    assert!(
        module.cfa_at(pc).is_some(),
        "CFI from the module's .eh_frame"
    );
}

#[test]
fn debuglink_name_in_a_search_path_and_its_debug_directory() {
    let d = dir("search");
    let search = d.join("search");
    for place in [search.join("app.debug"), search.join(".debug/app.debug")] {
        let _ = std::fs::remove_dir_all(&search);
        let module = split(&d, &place, &[], true);
        let m = Module::open_with(&module, &lookup(&search, false), None).unwrap();
        assert_eq!(m.debug_source(), &DebugSource::Debuglink(place.clone()));
        assert_usable(&m);
        // Not in the search path: nothing else has the file.
        let m = Module::open_with(&module, &lookup(&d.join("elsewhere"), false), None).unwrap();
        assert_eq!(m.debug_source(), &DebugSource::Missing);
        assert!(!m.has_debug_info());
        assert_eq!(m.stats().functions, 0);
    }
}

#[test]
fn build_id_tree_under_a_search_path() {
    let d = dir("build-id");
    let search = d.join("search");
    let id = "5eb1d0000000000000000000000000000000c0de";
    let debug = search.join(".build-id/5e/b1d0000000000000000000000000000000c0de.debug");
    let module = split(&d, &debug, &[&format!("-Wl,--build-id=0x{id}")], false);
    let m = Module::open_with(&module, &lookup(&search, false), None).unwrap();
    assert_eq!(m.debug_source(), &DebugSource::Debuglink(debug));
    assert_usable(&m);
}

#[test]
fn a_strict_match_wins_over_an_earlier_loose_one() {
    let d = dir("loose");
    let search = d.join("search");
    // The right file beside the module; a damaged copy earlier in the search order.
    let module = split(&d, &d.join("app.debug"), &[], true);
    std::fs::create_dir_all(&search).unwrap();
    let mut damaged = std::fs::read(d.join("app.debug")).unwrap();
    damaged.extend_from_slice(b"damaged");
    std::fs::write(search.join("app.debug"), damaged).unwrap();
    for loose in [false, true] {
        let m = Module::open_with(&module, &lookup(&search, loose), None).unwrap();
        assert_eq!(
            m.debug_source(),
            &DebugSource::Debuglink(d.join("app.debug"))
        );
    }
    // Only the damaged copy left: missing, unless loose.
    std::fs::remove_file(d.join("app.debug")).unwrap();
    let m = Module::open_with(&module, &lookup(&search, false), None).unwrap();
    assert_eq!(m.debug_source(), &DebugSource::Missing);
    let m = Module::open_with(&module, &lookup(&search, true), None).unwrap();
    assert_eq!(
        m.debug_source(),
        &DebugSource::Debuglink(search.join("app.debug"))
    );
    assert_usable(&m);
}

#[test]
fn explicit_file_checks() {
    let d = dir("explicit");
    let debug = d.join("app.debug");
    let module = split(
        &d,
        &debug,
        &["-Wl,--build-id=0x1111111111111111111111111111111111111111"],
        false,
    );
    let none = DebugLookup::default();
    let m = Module::open_with(&module, &none, Some(&debug)).unwrap();
    assert_eq!(m.debug_source(), &DebugSource::Explicit(debug.clone()));
    assert_usable(&m);

    let other_dir = dir("explicit-other");
    let other = other_dir.join("other.debug");
    split(
        &other_dir,
        &other,
        &["-Wl,--build-id=0x2222222222222222222222222222222222222222"],
        false,
    );
    let err = Module::open_with(&module, &none, Some(&other)).unwrap_err();
    assert!(
        matches!(err, DwarfError::ExplicitBuildIdMismatch { .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "Explicit debug file {} Build ID mismatch for {}: binary={}, debug={}",
            other.display(),
            module.display(),
            "11".repeat(20),
            "22".repeat(20)
        )
    );
    let loose = DebugLookup {
        allow_loose_match: true,
        ..DebugLookup::default()
    };
    let m = Module::open_with(&module, &loose, Some(&other)).unwrap();
    assert_eq!(m.debug_source(), &DebugSource::Explicit(other));
}

#[test]
fn a_session_reports_the_source_of_each_module() {
    let d = dir("session");
    let module = split(&d, &d.join("app.debug"), &[], true);
    let session = ghostscope_dwarf::DebugSession::for_file(&module).unwrap();
    let loaded = &session.modules()[0];
    assert_eq!(loaded.module.debug_source().label(), "debuglink");
    // Counts are only gathered at load time when asked for (count_names).
    assert_eq!(loaded.stats.functions, 0);
    assert!(loaded.module.stats().functions > 0);
    let sites = session.resolve_function("update_order").unwrap();
    assert_eq!(sites[0].kind, SiteKind::FunctionEntry);
    assert!(session
        .variables_at(&sites[0])
        .iter()
        .any(|v| v.name == "qty"));
}
