//! DWARF planning on real binaries: the fixture is compiled with gcc at
//! test time in several configurations and the planner's answers checked.

use std::path::{Path, PathBuf};
use std::process::Command;

use ghostscope_dwarf::{DebugSession, Location, ReadOp, SiteKind};
use ghostscope_protocol::TypeDesc;

fn build(name: &str, flags: &[&str]) -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/orders.c");
    let status = Command::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .status()
        .expect("gcc runs");
    assert!(status.success(), "gcc {flags:?} failed");
    out
}

fn var_location(session: &DebugSession, func: &str, var: &str) -> (TypeDesc, Location) {
    let sites = session.resolve_function(func).unwrap();
    let site = sites
        .iter()
        .find(|s| s.kind == SiteKind::FunctionEntry)
        .expect("an out-of-line copy");
    let v = session
        .variables_at(site)
        .into_iter()
        .find(|v| v.name == var)
        .unwrap_or_else(|| panic!("{var} visible in {func}"));
    (v.ty, v.location)
}

#[test]
fn o0_parameters_come_from_argument_registers_at_entry() {
    let bin = build("orders_o0", &["-g", "-O0"]);
    let session = DebugSession::for_file(&bin).unwrap();
    let regs = [
        ("o", 5),
        ("qty", 4),
        ("id", 1),
        ("tag", 2),
        ("rush", 8),
        ("small", 9),
    ];
    for (name, reg) in regs {
        let (_, loc) = var_location(&session, "update_order", name);
        assert_eq!(loc, Location::Register(reg), "{name}");
    }
    // The seventh argument is on the stack just above the return address.
    let (ty, loc) = var_location(&session, "update_order", "note");
    assert_eq!(ty.name(), "const char*");
    assert_eq!(
        loc,
        Location::Memory(vec![ReadOp::Register(7), ReadOp::Const(8), ReadOp::Add])
    );
    // A 16-byte struct by value travels in two registers.
    let (_, loc) = var_location(&session, "sum_pair", "p");
    assert!(
        matches!(loc, Location::Pieces(ref p) if p.len() == 2),
        "{loc:?}"
    );
}

#[test]
fn o2_parameters_follow_the_location_lists() {
    let bin = build("orders_o2", &["-g", "-O2"]);
    let session = DebugSession::for_file(&bin).unwrap();
    let (_, loc) = var_location(&session, "update_order", "o");
    assert_eq!(loc, Location::Register(5));
    let (_, loc) = var_location(&session, "update_order", "qty");
    assert!(
        matches!(loc, Location::Register(4) | Location::Value(_)),
        "{loc:?}"
    );
}

#[test]
fn struct_types_resolve_through_pointers() {
    let bin = build("orders_types", &["-g", "-O0"]);
    let session = DebugSession::for_file(&bin).unwrap();
    let (ty, _) = var_location(&session, "update_order", "o");
    let TypeDesc::Pointer {
        pointee: Some(r),
        pointee_name,
        pointee_display,
    } = ty
    else {
        panic!("o is a pointer")
    };
    assert_eq!(pointee_name, "struct order");
    assert_eq!(pointee_display, "order");
    let order = session.modules()[0].module.resolve_type(r);
    let TypeDesc::Aggregate { members, size, .. } = order else {
        panic!("struct order")
    };
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["id", "qty", "state", "customer", "flags", "urgent"]);
    assert_eq!(members[1].offset, 8);
    assert!(members[4].bitfield.is_some());
    assert_eq!(size, 32);
}

#[test]
fn globals_have_module_addresses_and_pie_needs_a_bias() {
    let pie = build("orders_pie", &["-g", "-O0", "-fPIE", "-pie"]);
    let fixed = build("orders_nopie", &["-g", "-O0", "-fno-pie", "-no-pie"]);
    for (bin, bias) in [(pie, None), (fixed, Some(0))] {
        let session = DebugSession::for_file(&bin).unwrap();
        assert_eq!(session.modules()[0].load_bias, bias);
        let (m, g) = session.find_global("g_total", 0).unwrap().unwrap();
        assert_eq!(m, 0);
        assert!(
            matches!(g.location, Location::Memory(ref ops) if matches!(ops[..], [ReadOp::ModuleAddress(_)]))
        );
        let (_, s) = session.find_global("s_calls", 0).unwrap().unwrap();
        assert_eq!(s.ty.name(), "int");
    }
}

#[test]
fn inlined_copies_are_probe_sites() {
    let bin = build("orders_inline", &["-g", "-O2"]);
    let session = DebugSession::for_file(&bin).unwrap();
    let sites = session.resolve_function("helper_inline").unwrap();
    assert!(
        sites.iter().any(|s| s.kind == SiteKind::InlinedEntry),
        "{sites:?}"
    );
    let err = session.resolve_function("no_such_function").unwrap_err();
    assert_eq!(
        err.to_string(),
        "No addresses resolved for function 'no_such_function' - function not found in debug symbols"
    );
}

#[test]
fn source_lines_resolve_to_statement_addresses() {
    let bin = build("orders_lines", &["-g", "-O0"]);
    let session = DebugSession::for_file(&bin).unwrap();
    // `s_calls++;` in update_order
    let line = include_str!("fixtures/orders.c")
        .lines()
        .position(|l| l.contains("s_calls++"))
        .unwrap() as u32
        + 1;
    let sites = session.resolve_line("orders.c", line).unwrap();
    assert_eq!(sites.len(), 1);
    let loc = session.source_location(&sites[0]).unwrap();
    assert_eq!(loc.line, line);
    assert!(loc.file.ends_with("orders.c"));
    // At a line inside the function, -O0 parameters live in the frame.
    let v = session.variables_at(&sites[0]);
    let qty = v.iter().find(|v| v.name == "qty").unwrap();
    assert!(
        matches!(qty.location, Location::Memory(_)),
        "{:?}",
        qty.location
    );
}
