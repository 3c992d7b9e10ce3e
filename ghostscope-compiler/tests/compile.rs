//! Whole scripts compiled against a gcc-built fixture, without the kernel:
//! resolution, checking, error messages, trace ids, metadata and BPF objects.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ghostscope_compiler::CompileOutput;
use ghostscope_protocol::{SlotKind, StatementOutput};

/// The fixture, built once.
fn fixture() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    common::build_once(
        &BUILT,
        "../ghostscope-dwarf/tests/fixtures/orders.c",
        "compile_orders_O0",
    )
}

fn compile(script: &str) -> CompileOutput {
    common::compile_for(fixture(), script)
}

fn only_failure(out: &CompileOutput) -> String {
    assert!(
        out.traces.is_empty(),
        "{} traces compiled",
        out.traces.len()
    );
    assert_eq!(out.failures.len(), 1);
    out.failures[0].message.clone()
}

#[test]
fn every_resolved_address_gets_a_trace_id_and_an_elf_object() {
    let out = compile(
        "trace update_order { print qty; } trace sum_pair { print p.a; print \"{:x}\", scale; }",
    );
    assert_eq!(out.failures, vec![]);
    let ids: Vec<u32> = out.traces.iter().map(|t| t.trace_id).collect();
    assert_eq!(ids, [0, 1]);
    assert_eq!(out.next_trace_id, 2);
    for t in &out.traces {
        assert_eq!(&t.object[..4], b"\x7fELF", "a BPF ELF object");
        assert_eq!(t.meta.trace_id, t.trace_id);
        assert!(t.meta.event_size > 24);
    }
    let StatementOutput::Value { expr, slot, .. } = &out.traces[0].meta.statements[0].output else {
        panic!("print qty is a value statement")
    };
    assert_eq!(expr, "qty");
    assert!(matches!(&slot.kind, SlotKind::Typed(t) if t.name() == "int"));
}

#[test]
fn constants_fold_at_compile_time() {
    let out = compile("trace update_order { print 7 / 2; print -7 % 3; print \"lit\"; }");
    let texts: Vec<String> = out.traces[0]
        .meta
        .statements
        .iter()
        .map(|s| match &s.output {
            StatementOutput::Value { expr, slot, .. } => match &slot.kind {
                SlotKind::Constant(c) => format!("{expr} = {c}"),
                SlotKind::Typed(_) => format!("{expr} = <runtime>"),
            },
            StatementOutput::Text(t) => t.clone(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(texts, ["(7/2) = 3", "((0-7)%3) = -1", "lit"]);
}

#[test]
fn check_errors_name_the_problem() {
    let m = only_failure(&compile("trace update_order { print qtyy; }"));
    assert!(
        m.starts_with(
            "Variable not found: 'qtyy' is not visible at this probe in 'update_order'. Did you mean: qty"
        ),
        "{m}"
    );
    let m = only_failure(&compile("trace update_order { print o.nosuch; }"));
    assert_eq!(
        m,
        "Unknown member 'nosuch' in struct 'order' (known members: id, qty, state, customer, flags, urgent)"
    );
    let m = only_failure(&compile("trace update_order { print *o + 1; }"));
    assert_eq!(
        m,
        "Pointer arithmetic requires a pointer or array expression"
    );
    let m = only_failure(&compile("trace update_order { print o < o; }"));
    assert!(m.starts_with("Pointer ordered comparison"), "{m}");
    let m = only_failure(&compile("trace update_order { print \"{} {}\", qty; }"));
    assert_eq!(
        m,
        "Format string '{} {}' expects 2 argument(s) but received 1 argument(s)"
    );
    let m = only_failure(&compile("trace update_order { print $nope; }"));
    assert_eq!(
        m,
        "Unknown special variable '$nope'. Supported: $pid, $tid, $host_pid, $input_pid, $timestamp, $pc, $sp"
    );
    let m = only_failure(&compile("trace update_order { let a = 1; let a = 2; }"));
    assert_eq!(m, "Redeclaration in the same scope is not allowed: 'a'");
    let m = only_failure(&compile(
        "trace update_order { let a = 1; if qty > 0 { let a = 2; } }",
    ));
    assert_eq!(m, "Shadowing is not allowed for immutable variables: 'a'");
    let m = only_failure(&compile(
        "trace update_order { if qty > 0 { let b = 2; } print b; }",
    ));
    assert_eq!(m, "Use of variable 'b' outside of its scope");
    let m = only_failure(&compile(
        "trace update_order { print cast(o, \"struct nosuch *\"); }",
    ));
    assert_eq!(m, "cast target type 'struct nosuch' was not found");
}

#[test]
fn failures_of_one_block_leave_the_others() {
    let out = compile("trace nosuch { print 1; } trace update_order { print qty; }");
    assert_eq!(out.traces.len(), 1);
    assert_eq!(out.unresolved, 1);
    assert_eq!(out.failures[0].target, "nosuch");
    assert_eq!(out.failures[0].pc, 0);
}

#[test]
fn builtin_argument_errors_use_the_spec_wording() {
    let cases = [
        (
            "print strncmp(note, \"a\", -1);",
            "strncmp third argument must be non-negative",
        ),
        (
            "print memcmp(o, \"ab\", 2);",
            "memcmp does not accept string literals; use strncmp for strings",
        ),
        (
            "print memcmp(o, 5, 2);",
            "expression is not a pointer/address",
        ),
        (
            "print memcmp(o, true, 2);",
            "memcmp pointer arguments cannot be boolean; use an address or hex(...)",
        ),
        (
            "print memcmp(o, hex(\"41\"), -2);",
            "memcmp length must be non-negative",
        ),
        (
            "print memcmp(o, hex(\"41\"), true);",
            "memcmp length must be an integer or expression, not boolean",
        ),
        (
            "print memcmp(o, o);",
            "memcmp without len requires at least one hex(...) operand",
        ),
        (
            "print memcmp(hex(\"41\"), hex(\"4142\"));",
            "memcmp hex operands have different sizes; provide explicit len",
        ),
        (
            "print memcmp(o, hex(\"41\"), 3);",
            "memcmp length (3) exceeds hex pattern size on right side (1 bytes)",
        ),
        (
            "print memcmp(o, hex(\"4z\"), 1);",
            "hex literal contains non-hex character: 'z'",
        ),
        (
            "print memcmp(o, hex(\"414\"), 1);",
            "hex literal must contain an even number of hex digits",
        ),
    ];
    for (stmt, wanted) in cases {
        let m = only_failure(&compile(&format!("trace update_order {{ {stmt} }}")));
        assert_eq!(m, wanted, "{stmt}");
    }
    // Two literal sides fold at compile time.
    let out = compile("trace update_order { print strncmp(\"abc\", \"abd\", 2); print memcmp(hex(\"0102\"), hex(\"0103\")); }");
    let texts = common::printed_values(&out);
    assert_eq!(texts, ["true", "false"]);
}
