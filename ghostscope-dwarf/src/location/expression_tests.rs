//! Lowering of small hand-written DWARF expressions of the kinds optimized
//! code uses: frame bases through the CFA, `.debug_addr` indices, pieces,
//! implicit values and pointers, entry values and removed parameters.

use std::sync::Arc;

use gimli::{EndianSlice, LittleEndian};

use super::*;

/// `.debug_addr` with one entry, and DIEs of a unit starting at 0x1000.
struct Unit;
impl AddressIndex for Unit {
    fn address(&self, index: u64) -> Option<u64> {
        (index == 2).then_some(0x4040)
    }
    fn die(&self, offset: u64) -> Option<u64> {
        Some(0x1000 + offset)
    }
}

fn run(bytes: &[u8], ctx: &EvalContext) -> Location {
    let encoding = gimli::Encoding {
        format: gimli::Format::Dwarf32,
        version: 5,
        address_size: 8,
    };
    translate(
        gimli::Expression(EndianSlice::new(bytes, LittleEndian)),
        encoding,
        ctx,
        &Unit,
    )
}

fn cfa() -> Vec<ReadOp> {
    vec![ReadOp::Register(7), ReadOp::Const(16), ReadOp::Add]
}

fn unavailable(loc: Location) -> String {
    match loc {
        Location::Unavailable(why) => why,
        other => panic!("expected unavailable, got {other:?}"),
    }
}

/// Callers of a function: one call site passes rdi (as rbx + 8) and rsi,
/// another passes only rdi (a constant), a third a removed parameter.
fn callers() -> EvalContext {
    let return_address = vec![
        ReadOp::Register(7),
        ReadOp::Const(8),
        ReadOp::Add,
        ReadOp::Deref { size: 8 },
    ];
    let rdi_from_rbx = vec![ReadOp::Register(3), ReadOp::Const(8), ReadOp::Add];
    EvalContext {
        callers: Some(Arc::new(CallerValues {
            return_address,
            sites: vec![
                CallSiteArguments {
                    return_pc: 0x1111,
                    arguments: vec![
                        (CallArgument::Register(5), rdi_from_rbx),
                        (CallArgument::Register(4), vec![ReadOp::Const(1)]),
                    ],
                },
                CallSiteArguments {
                    return_pc: 0x2222,
                    arguments: vec![(CallArgument::Register(5), vec![ReadOp::Const(7)])],
                },
                CallSiteArguments {
                    return_pc: 0x3333,
                    arguments: vec![(CallArgument::Parameter(0x1040), vec![ReadOp::Const(66)])],
                },
            ],
            refused: None,
        })),
        ..Default::default()
    }
}

#[test]
fn a_cfa_frame_base_and_fbreg() {
    let ctx = EvalContext {
        cfa: Some(cfa()),
        ..Default::default()
    };
    // A frame base of DW_OP_call_frame_cfa is the CFA itself.
    assert_eq!(run(&[0x9c], &ctx), Location::Memory(cfa()));
    // Without CFI for the PC the reason is given.
    assert!(unavailable(run(&[0x9c], &EvalContext::default())).contains("call frame"));
    // DW_OP_fbreg 0 without a frame base.
    assert!(unavailable(run(&[0x91, 0x00], &EvalContext::default())).contains("frame base"));
}

#[test]
fn addresses_from_debug_addr() {
    let ctx = EvalContext::default();
    // DW_OP_addrx 2
    assert_eq!(
        run(&[0xa1, 2], &ctx),
        Location::Memory(vec![ReadOp::ModuleAddress(0x4040)])
    );
    // DW_OP_addrx 3 is not in the table.
    assert!(unavailable(run(&[0xa1, 3], &ctx)).contains(".debug_addr"));
    // DW_OP_constx 2 DW_OP_stack_value: the address as a plain constant.
    assert_eq!(
        run(&[0xa2, 2, 0x9f], &ctx),
        Location::Value(vec![ReadOp::Const(0x4040)])
    );
}

#[test]
fn pieces_mix_values_registers_and_gaps() {
    let ctx = EvalContext::default();
    // DW_OP_lit1 DW_OP_stack_value DW_OP_piece 4; DW_OP_reg3 DW_OP_piece 4;
    // DW_OP_piece 8 (optimized out)
    assert_eq!(
        run(&[0x31, 0x9f, 0x93, 4, 0x53, 0x93, 4, 0x93, 8], &ctx),
        Location::Pieces(vec![
            Piece {
                size: 4,
                location: Location::Value(vec![ReadOp::Const(1)]),
            },
            Piece {
                size: 4,
                location: Location::Register(3),
            },
            Piece {
                size: 8,
                location: Location::OptimizedOut,
            },
        ])
    );
    // DW_OP_reg3 DW_OP_bit_piece 3 0: not byte-aligned.
    assert!(unavailable(run(&[0x53, 0x9d, 3, 0], &ctx)).contains("DW_OP_bit_piece"));
}

#[test]
fn implicit_values_and_pointers() {
    let ctx = EvalContext::default();
    // DW_OP_implicit_value 4 [0b 00 00 00]
    assert_eq!(
        run(&[0x9e, 4, 0x0b, 0, 0, 0], &ctx),
        Location::Implicit(vec![0x0b, 0, 0, 0])
    );
    // DW_OP_implicit_pointer <DIE 0x3f1> +8
    assert_eq!(
        run(&[0xa0, 0xf1, 0x03, 0, 0, 8], &ctx),
        Location::ImplicitPointer {
            object: 0x3f1,
            offset: 8
        }
    );
}

#[test]
fn stack_operations_and_division() {
    let ctx = EvalContext::default();
    // DW_OP_breg3 0, DW_OP_lit12, DW_OP_div, DW_OP_lit5, DW_OP_mod,
    // DW_OP_lit1, DW_OP_over, DW_OP_swap, DW_OP_drop, DW_OP_stack_value
    assert_eq!(
        run(
            &[0x73, 0, 0x3c, 0x1b, 0x35, 0x1d, 0x31, 0x14, 0x16, 0x13, 0x9f],
            &ctx
        ),
        Location::Value(vec![
            ReadOp::Register(3),
            ReadOp::Const(12),
            ReadOp::Div,
            ReadOp::Const(5),
            ReadOp::Mod,
            ReadOp::Const(1),
            ReadOp::Pick(1),
            ReadOp::Swap,
            ReadOp::Drop,
        ])
    );
}

#[test]
fn unsupported_operations_are_named() {
    let ctx = EvalContext::default();
    // DW_OP_call4 <DIE>
    assert_eq!(
        unavailable(run(&[0x99, 0x10, 0, 0, 0], &ctx)),
        "DW_OP_call4 is not supported"
    );
    // DW_OP_lit0 DW_OP_bra +0
    assert_eq!(
        unavailable(run(&[0x30, 0x28, 0, 0], &ctx)),
        "DW_OP_bra is not supported"
    );
    // A truncated DW_OP_const4u.
    assert!(unavailable(run(&[0x0c, 1], &ctx)).starts_with("malformed DWARF expression"));
}

#[test]
fn entry_values_come_from_the_call_sites_that_record_them() {
    let ctx = callers();
    // DW_OP_breg8 0, DW_OP_entry_value(DW_OP_reg5), DW_OP_minus, DW_OP_lit5,
    // DW_OP_shr, DW_OP_stack_value: the loop index of issue 5.
    let loc = run(&[0x78, 0, 0xa3, 1, 0x55, 0x1c, 0x35, 0x25, 0x9f], &ctx);
    let Location::Value(ops) = loc else {
        panic!("{loc:?}")
    };
    let ReadOp::EntryValue(ev) = &ops[1] else {
        panic!("{ops:?}")
    };
    assert_eq!(ops[0], ReadOp::Register(8));
    assert_eq!(&ops[2..], &[ReadOp::Sub, ReadOp::Const(5), ReadOp::Shr]);
    assert_eq!(ev.argument, CallArgument::Register(5));
    assert_eq!(
        ev.callers,
        vec![
            (
                0x1111,
                vec![ReadOp::Register(3), ReadOp::Const(8), ReadOp::Add]
            ),
            (0x2222, vec![ReadOp::Const(7)]),
        ]
    );
    assert!(Location::Value(ops.clone()).needs_caller_values());
    // rsi is recorded by one call site only.
    let Location::Value(ops) = run(&[0xa3, 1, 0x54, 0x9f], &ctx) else {
        panic!()
    };
    assert!(matches!(&ops[0], ReadOp::EntryValue(ev) if ev.callers.len() == 1));
    // No call site records rdx.
    assert_eq!(
        unavailable(run(&[0xa3, 1, 0x51, 0x9f], &ctx)),
        "no caller records the value of rdx at entry"
    );
    // At the function's first instruction the register still holds it.
    let at_entry = EvalContext {
        at_function_entry: true,
        ..callers()
    };
    assert_eq!(
        run(&[0xa3, 1, 0x55, 0x9f], &at_entry),
        Location::Value(vec![ReadOp::Register(5)])
    );
    // A function whose entry values are ambiguous says why.
    let refused = EvalContext {
        callers: Some(Arc::new(CallerValues {
            refused: Some("'f' is also entered by tail calls".into()),
            ..CallerValues::default()
        })),
        ..Default::default()
    };
    assert_eq!(
        unavailable(run(&[0xa3, 1, 0x55, 0x9f], &refused)),
        "'f' is also entered by tail calls"
    );
    // DW_OP_entry_value of a memory read is not supported.
    assert!(unavailable(run(&[0xa3, 3, 0x75, 0, 0x06, 0x9f], &ctx)).contains("not supported"));
}

#[test]
fn removed_parameters_come_from_the_call_sites_too() {
    // DW_OP_GNU_parameter_ref <unit offset 0x40>, DW_OP_stack_value
    let loc = run(&[0xfa, 0x40, 0, 0, 0, 0x9f], &callers());
    let Location::Value(ops) = loc else {
        panic!("{loc:?}")
    };
    assert_eq!(
        ops,
        vec![ReadOp::EntryValue(Box::new(EntryValue {
            argument: CallArgument::Parameter(0x1040),
            return_address: callers().callers.unwrap().return_address.clone(),
            callers: vec![(0x3333, vec![ReadOp::Const(66)])],
        }))]
    );
}

#[test]
fn short_reasons_for_markers() {
    assert_eq!(
        short_reason(&crate::registers::unreadable_register_reason(17)),
        "in register XMM0"
    );
    assert_eq!(
        short_reason("DW_OP_call4 is not supported"),
        "DW_OP_call4 is not supported"
    );
    assert_eq!(short_reason("first clause; details"), "first clause");
}
