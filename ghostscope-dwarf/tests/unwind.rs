//! Unwind rows extracted from real CFI: the backtrace fixture's library,
//! compiled by gcc at test time with and without frame pointers.

use std::path::{Path, PathBuf};
use std::process::Command;

use ghostscope_dwarf::unwind::{RowKind, UnwindRow};
use ghostscope_dwarf::Module;

fn build(name: &str, flags: &[&str]) -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../e2e-tests/fixtures/libbtchain.c");
    let status = Command::new("gcc")
        .args(flags)
        .args(["-shared", "-fPIC", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("gcc runs");
    assert!(status.success(), "gcc {flags:?} failed");
    out
}

/// The row that covers `pc`: the last one starting at or below it.
fn row_at(rows: &[UnwindRow], pc: u64) -> UnwindRow {
    rows[rows.partition_point(|r| r.pc <= pc) - 1]
}

fn symbol(module: &Module, name: &str) -> u64 {
    module
        .elf()
        .symbols()
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} in the symbol table"))
        .address
}

#[test]
fn frame_pointer_prologue_moves_the_cfa_from_rsp_to_rbp() {
    let module = Module::open(&build("libbtchain_o0.so", &["-g", "-O0"])).unwrap();
    let rows = module.unwind_rows();
    assert!(
        rows.windows(2).all(|w| w[0].pc < w[1].pc),
        "sorted, no duplicates"
    );
    let entry = symbol(&module, "lib_mid");
    // push %rbp; mov %rsp,%rbp
    let at_entry = row_at(&rows, entry);
    assert_eq!(
        (
            at_entry.kind,
            at_entry.cfa_offset,
            at_entry.ra_offset,
            at_entry.rbp_offset
        ),
        (RowKind::CfaRsp, 8, -8, 0)
    );
    let after_push = row_at(&rows, entry + 1);
    assert_eq!(
        (
            after_push.kind,
            after_push.cfa_offset,
            after_push.rbp_offset
        ),
        (RowKind::CfaRsp, 16, -16)
    );
    let body = row_at(&rows, entry + 4);
    assert_eq!(
        (body.kind, body.cfa_offset, body.rbp_offset, body.ra_offset),
        (RowKind::CfaRbp, 16, -16, -8)
    );
}

#[test]
fn omitted_frame_pointers_keep_the_cfa_on_rsp_and_gaps_have_no_cfi() {
    let module = Module::open(&build(
        "libbtchain_o2_nofp.so",
        &["-g", "-O2", "-fomit-frame-pointer"],
    ))
    .unwrap();
    let rows = module.unwind_rows();
    for name in ["lib_mid", "lib_entry"] {
        let entry = symbol(&module, name);
        let r = row_at(&rows, entry);
        assert_eq!(
            (r.kind, r.cfa_offset, r.ra_offset),
            (RowKind::CfaRsp, 8, -8)
        );
        // Inside the body the CFA stays on RSP (adjusted by pushes and sub).
        let body = row_at(&rows, entry + 5);
        assert_eq!(body.kind, RowKind::CfaRsp, "{name}: {body:?}");
        assert!(body.cfa_offset >= 8);
    }
    assert_eq!(
        rows.last().unwrap().kind,
        RowKind::NoCfi,
        "the end of the covered code"
    );
    // PLT stubs use a DWARF expression for the CFA: explicit unsupported rows.
    assert!(rows.iter().any(|r| r.kind == RowKind::Unsupported));
}
