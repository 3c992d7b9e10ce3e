//! Script forms checked against the e2e `forms` fixture, without the
//! kernel: which prints show their value alone, what folds, and the errors
//! of forms the checker rejects (script-language §4–§7).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod common;

use ghostscope_compiler::CompileOutput;
use ghostscope_protocol::StatementOutput;

/// The fixture, built once.
fn fixture() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    common::build_once(&BUILT, "../e2e-tests/fixtures/forms.c", "compile_forms_O0")
}

/// Compiles `body` as the body of a trace on `visit`.
fn compile(body: &str) -> CompileOutput {
    common::compile_for(fixture(), &format!("trace visit {{ {body} }}"))
}

fn failure(body: &str) -> String {
    let out = compile(body);
    assert!(out.traces.is_empty(), "{body} compiled");
    out.failures[0].message.clone()
}

/// `(expression text, alone)` of every `print expr;` in the body.
fn value_prints(body: &str) -> Vec<(String, bool)> {
    let out = compile(body);
    assert_eq!(out.failures, vec![], "{body}");
    out.traces[0]
        .meta
        .statements
        .iter()
        .filter_map(|s| match &s.output {
            StatementOutput::Value { expr, alone, .. } => Some((expr.clone(), *alone)),
            _ => None,
        })
        .collect()
}

#[test]
fn pointer_valued_arithmetic_on_void_and_array_casts_print_alone() {
    let prints = value_prints(
        r#"print p + 1; print g_void - 1; print nums + 1; print ((nums + 1) + 1);
           print cast(g_quad, "uint32_t[4]"); print cast(g_quad, "struct quad");
           print &*np; print np; print (row + 1); print &G; print *np;"#,
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
        ("&G", true),
        ("*np", false),
    ];
    let expected: Vec<(String, bool)> = expected.iter().map(|(e, b)| (e.to_string(), *b)).collect();
    assert_eq!(prints, expected);
}

#[test]
fn a_constant_left_side_decides_and_or_at_compile_time() {
    let out = compile("print (1 || *c.friend_ref); print (0 && *c); print (0 || 0);");
    assert_eq!(out.failures, vec![]);
    let values = common::printed_values(&out);
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
