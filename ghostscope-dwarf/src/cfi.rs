//! Call frame information: the canonical frame address (CFA) at a PC.
//!
//! Frame-based locations (`DW_OP_fbreg` with `DW_OP_call_frame_cfa` as the
//! frame base, which gcc emits) need the CFA, and the CFA rule changes inside
//! the prologue. The rule at the probe PC is compiled into the read plan.

use gimli::{
    BaseAddresses, CfaRule, EhFrame, LittleEndian, RegisterRule, UnwindContext, UnwindSection,
};

use crate::location::ReadOp;
use crate::registers::RSP;

type Slice = gimli::EndianSlice<'static, LittleEndian>;

/// CFI sections of one module.
pub(crate) struct FrameTables {
    eh_frame: Option<(EhFrame<Slice>, BaseAddresses)>,
    debug_frame: Option<gimli::DebugFrame<Slice>>,
}

impl FrameTables {
    /// Builds the tables from raw section bytes; empty sections are skipped.
    pub(crate) fn new(
        eh_frame: &'static [u8],
        eh_frame_address: Option<u64>,
        debug_frame: &'static [u8],
    ) -> FrameTables {
        let eh_frame = (!eh_frame.is_empty()).then(|| {
            let mut section = EhFrame::new(eh_frame, LittleEndian);
            section.set_address_size(8);
            let bases = BaseAddresses::default().set_eh_frame(eh_frame_address.unwrap_or(0));
            (section, bases)
        });
        let debug_frame = (!debug_frame.is_empty()).then(|| {
            let mut section = gimli::DebugFrame::new(debug_frame, LittleEndian);
            section.set_address_size(8);
            section
        });
        FrameTables {
            eh_frame,
            debug_frame,
        }
    }

    /// Ops that push the CFA at `pc`, or `None` if no CFI covers the PC or
    /// the rule is a DWARF expression (not supported yet).
    pub(crate) fn cfa_at(&self, pc: u64) -> Option<Vec<ReadOp>> {
        self.row_at(pc).map(|row| row.cfa)
    }

    /// The unwind row at `pc`: the CFA and where the caller's registers are.
    pub(crate) fn row_at(&self, pc: u64) -> Option<FrameRow> {
        let mut ctx = UnwindContext::new();
        let row = if let Some((section, bases)) = &self.eh_frame {
            section
                .unwind_info_for_address(bases, &mut ctx, pc, EhFrame::cie_from_offset)
                .ok()
                .map(FrameRow::from_gimli)
        } else {
            None
        };
        row.or_else(|| {
            let section = self.debug_frame.as_ref()?;
            let mut ctx = UnwindContext::new();
            section
                .unwind_info_for_address(
                    &BaseAddresses::default(),
                    &mut ctx,
                    pc,
                    gimli::DebugFrame::cie_from_offset,
                )
                .ok()
                .map(FrameRow::from_gimli)
        })
        .flatten()
    }
}

/// Where the caller's value of a register is, per one CFI row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Saved {
    /// In memory at CFA + n.
    AtCfa(i64),
    /// The value CFA + n.
    CfaPlus(i64),
    /// In another register.
    InRegister(u16),
    /// Unchanged in the register.
    Same,
    /// Not recoverable.
    Undefined,
}

/// One row of a CFI table, reduced to what read plans use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FrameRow {
    /// Ops that push the CFA.
    pub(crate) cfa: Vec<ReadOp>,
    /// Rules for the registers the row mentions.
    rules: Vec<(u16, Saved)>,
}

/// Registers a System V x86-64 callee must preserve: rbx, rbp, r12-r15.
const CALLEE_SAVED: [u16; 6] = [3, 6, 12, 13, 14, 15];

impl FrameRow {
    fn from_gimli(row: &gimli::UnwindTableRow<usize>) -> Option<FrameRow> {
        let cfa = match row.cfa() {
            CfaRule::RegisterAndOffset { register, offset } => {
                let mut ops = vec![ReadOp::Register(register.0)];
                if *offset != 0 {
                    ops.push(ReadOp::Const(*offset as u64));
                    ops.push(ReadOp::Add);
                }
                ops
            }
            CfaRule::Expression(_) => return None,
        };
        let rules = row
            .registers()
            .map(|(reg, rule)| {
                let saved = match rule {
                    RegisterRule::Offset(n) => Saved::AtCfa(*n),
                    RegisterRule::ValOffset(n) => Saved::CfaPlus(*n),
                    RegisterRule::Register(r) => Saved::InRegister(r.0),
                    RegisterRule::SameValue => Saved::Same,
                    _ => Saved::Undefined,
                };
                (reg.0, saved)
            })
            .collect();
        Some(FrameRow { cfa, rules })
    }

    /// A row with the given CFA ops and saved-register rules `(reg, cfa offset)`.
    #[cfg(test)]
    pub(crate) fn for_test(cfa: Vec<ReadOp>, saved_at: &[(u16, i64)]) -> FrameRow {
        FrameRow {
            cfa,
            rules: saved_at
                .iter()
                .map(|&(r, n)| (r, Saved::AtCfa(n)))
                .collect(),
        }
    }

    /// Ops that push the value `reg` has in the caller's frame (after the
    /// call returns), or `None` when this frame does not preserve it. The
    /// caller's stack pointer is the CFA; a callee-saved register the row
    /// does not mention still holds the caller's value.
    pub(crate) fn caller_register(&self, reg: u16) -> Option<Vec<ReadOp>> {
        let rule = self.rules.iter().find(|(r, _)| *r == reg).map(|(_, s)| *s);
        let rule = match rule {
            Some(rule) => rule,
            None if reg == RSP => Saved::CfaPlus(0),
            None if CALLEE_SAVED.contains(&reg) => Saved::Same,
            None => Saved::Undefined,
        };
        let cfa_plus = |n: i64| {
            let mut ops = self.cfa.clone();
            if n != 0 {
                ops.push(ReadOp::Const(n as u64));
                ops.push(ReadOp::Add);
            }
            ops
        };
        match rule {
            Saved::AtCfa(n) => {
                let mut ops = cfa_plus(n);
                ops.push(ReadOp::Deref { size: 8 });
                Some(ops)
            }
            Saved::CfaPlus(n) => Some(cfa_plus(n)),
            Saved::InRegister(r) => Some(vec![ReadOp::Register(r)]),
            Saved::Same => Some(vec![ReadOp::Register(reg)]),
            Saved::Undefined => None,
        }
    }
}
