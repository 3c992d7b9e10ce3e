//! Never a wrong number: parameters of C, C++ and Rust functions of every
//! argument-passing shape, at -O0 and -O2, compared value by value with
//! what each function printed about itself for the same call.

use std::path::Path;

use e2e_tests::{build_cxx_fixture, build_fixture, build_rust_fixture, trace_calls_against_truth};

/// Function → expressions traced at its entry; `abi_c.c` prints the same.
const C_CALLS: &[(&str, &[&str])] = &[
    ("scalars", &["a", "b", "c", "d", "e", "f"]),
    ("by_pointer", &["p.x", "p.y"]),
    ("pair_value", &["p.a", "p.b"]),
    ("big_value", &["b.x", "b.y", "b.z", "after"]),
    ("mixed_value", &["m.i", "m.f", "after"]),
    ("float_struct", &["after"]),
    ("ints3_value", &["s.v[0]", "s.v[1]", "s.v[2]", "after"]),
    ("dbl_long", &["s.l", "after"]),
    ("union_value", &["u.l", "after"]),
    ("packed_value", &["p.c", "p.x", "after"]),
    ("nested_value", &["n.p.x", "n.p.y", "n.s", "after"]),
    ("enum_value", &["c", "after"]),
    ("many_args", &["a1", "a6", "a7", "a9"]),
    ("pair_spills", &["d", "p.a", "p.b", "e"]),
    ("returns_big", &["v"]),
    ("after_double", &["after"]),
    ("long_double_arg", &["after"]),
    ("int128_arg", &["v", "after"]),
];

/// The same for `abi_cpp.cpp`.
const CPP_CALLS: &[(&str, &[&str])] = &[
    ("bump", &["this.base", "by"]),
    ("reset", &["to"]),
    ("in_namespace", &["p.a", "p.b", "after"]),
    ("by_ref", &["p.a", "p.b", "after"]),
    ("nontrivial", &["t.id", "t.extra", "after"]),
    ("holder", &["h.t.id", "h.tag", "after"]),
    ("defaulted", &["d.a", "d.b", "after"]),
    ("make_tracked", &["id"]),
    ("unnamed", &["after"]),
];

/// The same for `abi_rust.rs`.
const RUST_CALLS: &[(&str, &[&str])] = &[
    ("bump", &["self.count", "by"]),
    ("take_string", &["s.vec.len"]),
    ("take_big", &["b.a", "b.b", "b.c", "after"]),
    ("take_pair", &["p.a", "p.b", "after"]),
    ("take_str", &["s.length", "after"]),
    ("take_slice", &["v.length", "after"]),
    ("take_small", &["a", "b", "c", "d"]),
    ("take_many", &["a1", "a6", "a7", "a9"]),
    ("take_tuple", &["t.__0", "t.__1", "after"]),
    ("take_f64", &["after"]),
    ("ret_big", &["v"]),
    ("c_abi", &["p.a", "p.b", "after"]),
];

/// Traces three calls of every function and checks every value printed
/// against the fixture. Optimised builds may say `<optimized out>` where
/// their DWARF has no location; unoptimised ones must not.
fn check_against_fixture(exe: &Path, calls: &[(&str, &[&str])], optimized: bool) {
    let traced = trace_calls_against_truth(exe, calls, 3);
    let report = &traced.report;
    if !optimized {
        assert_eq!(
            report.optimized_out,
            0,
            "{exe:?}: unoptimised code has every parameter:\n{}",
            traced.printed.join("\n")
        );
    }
    assert!(report.matched > report.optimized_out, "{exe:?}: {report:?}");
}

#[test]
fn c_parameters_match_the_program_at_o0_and_o2() {
    for opt in ["-O0", "-O2"] {
        let exe = build_fixture("abi_c", "gcc", &["-g", opt]);
        check_against_fixture(&exe, C_CALLS, opt != "-O0");
    }
}

#[test]
fn cpp_parameters_match_the_program_at_o0_and_o2() {
    for opt in ["-O0", "-O2"] {
        let exe = build_cxx_fixture("abi_cpp", &["-g", opt]);
        check_against_fixture(&exe, CPP_CALLS, opt != "-O0");
    }
}

#[test]
fn rust_parameters_match_the_program_at_o0_and_o2() {
    for opt in ["opt-level=0", "opt-level=2"] {
        let exe = build_rust_fixture("abi_rust", &["-g", "-C", opt]);
        check_against_fixture(&exe, RUST_CALLS, opt != "opt-level=0");
    }
}
