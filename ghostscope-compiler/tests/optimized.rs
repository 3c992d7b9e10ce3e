//! Scripts against gcc -O2 code, without the kernel: a value the engine
//! cannot read prints a marker and costs nothing else; computing with it
//! is an error that says why.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ghostscope_compiler::CompileOutput;
use ghostscope_protocol::{SlotKind, StatementOutput};

/// The e2e fixture for optimized code, built once.
fn fixture() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        common::build_with_gcc(
            "../e2e-tests/fixtures/optimized.c",
            &["-g", "-O2"],
            "compile_optimized_O2",
        )
    })
}

fn compile(script: &str) -> CompileOutput {
    common::compile_against(fixture(), script)
}

/// Per statement of the first trace: a constant's text, or `<runtime>`.
fn outputs(out: &CompileOutput) -> Vec<String> {
    assert_eq!(out.failures, vec![]);
    let slot = |kind: &SlotKind| match kind {
        SlotKind::Constant(c) => c.clone(),
        SlotKind::Typed(_) => "<runtime>".to_string(),
    };
    out.traces[0]
        .meta
        .statements
        .iter()
        .map(|s| match &s.output {
            StatementOutput::Value { slot: v, .. } => slot(&v.kind),
            StatementOutput::Format { args, .. } => args
                .iter()
                .map(|a| slot(&a.kind))
                .collect::<Vec<_>>()
                .join(" "),
            other => format!("{other:?}"),
        })
        .collect()
}

fn failure(out: &CompileOutput) -> String {
    assert!(
        out.traces.is_empty(),
        "{} traces compiled",
        out.traces.len()
    );
    out.failures[0].message.clone()
}

#[test]
fn unreadable_values_print_markers_beside_readable_ones() {
    let out = compile(
        r#"trace scaled {
            print factor;
            print "{} {}", factor, count;
            let f = factor;
            print f;
            print "{:x.8}", factor;
        }"#,
    );
    let xmm = "<unavailable: in register XMM0>";
    assert_eq!(
        outputs(&out),
        [
            xmm.to_string(),
            format!("{xmm} <runtime>"),
            xmm.to_string(),
            xmm.to_string(),
        ]
    );
}

#[test]
fn computing_with_an_unreadable_value_says_why() {
    let m = failure(&compile("trace scaled { if factor { print 1; } }"));
    assert!(
        m.starts_with("Unsupported DWARF register: 17 (XMM0) is a SIMD/FP register;"),
        "{m}"
    );
    let m = failure(&compile("trace add_pair { print p == 0; }"));
    assert!(m.starts_with("'p' is an implicit pointer"), "{m}");
}

#[test]
fn implicit_pointers_and_entry_values_read_at_run_time() {
    let out = compile("trace add_pair { print p; print *p; print p.left; }");
    assert_eq!(
        outputs(&out),
        ["<implicit pointer>", "<runtime>", "<runtime>"]
    );
    let line = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../e2e-tests/fixtures/optimized.c"),
    )
    .unwrap()
    .lines()
    .position(|l| l.contains("/* LOOP_LINE */"))
    .unwrap()
        + 1;
    // Both copies of the line compile; `s` has no location before the call.
    let out = compile(&format!(
        "trace optimized.c:{line} {{ print i; print s; print it[i].id; }}"
    ));
    assert_eq!(out.traces.len(), 2, "{:?}", out.failures);
    assert_eq!(outputs(&out), ["<runtime>", "<optimized out>", "<runtime>"]);
}
