//! Script forms checked against the e2e `forms` fixture, without the
//! kernel: which prints show their value alone, what folds, and the errors
//! of forms the checker rejects (script-language §4–§7).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ghostscope_compiler::{compile_script, BpfCodegen, CompileOptions, CompileOutput, MapFds};
use ghostscope_dwarf::DebugSession;
use ghostscope_protocol::{SlotKind, StatementOutput};

/// The fixture, built once: tests run in parallel and must not race gcc.
fn fixture() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compile_forms_O0");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../e2e-tests/fixtures/forms.c");
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

fn compile(body: &str) -> CompileOutput {
    let session = DebugSession::for_file(fixture()).unwrap();
    let codegen = BpfCodegen::new().unwrap();
    compile_script(
        &format!("trace visit {{ {body} }}"),
        &session,
        &codegen,
        MapFds::default(),
        &CompileOptions::default(),
        0,
    )
    .unwrap()
}

fn failure(body: &str) -> String {
    let out = compile(body);
    assert!(out.traces.is_empty(), "{body} compiled");
    out.failures[0].message.clone()
}

/// `(expression text, bare)` of every `print expr;` in the body.
fn value_prints(body: &str) -> Vec<(String, bool)> {
    let out = compile(body);
    assert_eq!(out.failures, vec![], "{body}");
    out.traces[0]
        .meta
        .statements
        .iter()
        .filter_map(|s| match &s.output {
            StatementOutput::Value { expr, bare, .. } => Some((expr.clone(), *bare)),
            _ => None,
        })
        .collect()
}

#[test]
fn pointer_valued_arithmetic_on_void_and_array_casts_print_alone() {
    let prints = value_prints(
        r#"print p + 1; print g_void - 1; print nums + 1; print ((nums + 1) + 1);
           print cast(g_quad, "uint32_t[4]"); print cast(g_quad, "struct quad");
           print &*np; print np; print (row + 1);"#,
    );
    let expected = [
        ("(p+1)", true),
        ("(g_void-1)", true),
        ("(nums+1)", false),
        ("((nums+1)+1)", false),
        ("cast(g_quad, \"uint32_t[4]\")", true),
        ("cast(g_quad, \"struct quad\")", false),
        ("np", false),
        ("np", false),
        ("(row+1)", false),
    ];
    let expected: Vec<(String, bool)> = expected.iter().map(|(e, b)| (e.to_string(), *b)).collect();
    assert_eq!(prints, expected);
}

#[test]
fn a_constant_left_side_decides_and_or_at_compile_time() {
    let out = compile("print (1 || *c.friend_ref); print (0 && *c); print (0 || 0);");
    assert_eq!(out.failures, vec![]);
    let values: Vec<String> = out.traces[0]
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
        .collect();
    assert_eq!(values, ["true", "false", "false"]);
}

#[test]
fn forms_that_stay_errors_say_why() {
    let aggregate = "Unsupported arithmetic/ordered comparison involving struct/union/array, or unsupported bitwise operation involving struct/union/array. Select a scalar field (e.g., 'obj.field'), or use '&expr +/- <integer literal>' in an alias/address context if you need a raw address.";
    let cases = [
        // An operand that is evaluated must still be a scalar.
        ("print (c.id == 42 || *c.friend_ref);", aggregate),
        ("print (1 && *c.friend_ref);", aggregate),
        // The skipped side is still resolved.
        (
            "print (1 || nosuch_name);",
            "Variable not found: 'nosuch_name' is not a script variable, a local or parameter at this probe in 'visit', or a global",
        ),
        (
            "let s = \"Glo\"; print memcmp(s, hex(\"476c6f\"), 3);",
            "expression is not a pointer/address",
        ),
        (
            "print memcmp(\"Glo\", gm, 3);",
            "memcmp does not accept string literals; use strncmp for strings",
        ),
        (
            "let off = G.counter; print strncmp(gm + off, \"G\", -1);",
            "strncmp third argument must be non-negative",
        ),
        (
            "print strncmp(gm, \"G\", G.counter > 0);",
            "strncmp length must be an integer or expression, not boolean",
        ),
        (
            "print nums + nums;",
            "Type error: pointer - pointer and pointer + pointer are not supported",
        ),
        (
            "print G + 1;",
            "Pointer arithmetic requires a pointer or array expression",
        ),
        (
            "print cast(g_quad, \"uint32_t[0]\");",
            "cast target type 'uint32_t[0]' needs a positive array length",
        ),
        (
            "print cast(g_quad, \"nosuch_t[2]\");",
            "cast target type 'nosuch_t' was not found",
        ),
    ];
    for (body, wanted) in cases {
        assert_eq!(failure(body), wanted, "{body}");
    }
}
