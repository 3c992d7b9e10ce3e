//! Call frame information: the canonical frame address (CFA) at a PC.
//!
//! Frame-based locations (`DW_OP_fbreg` with `DW_OP_call_frame_cfa` as the
//! frame base, which gcc emits) need the CFA, and the CFA rule changes inside
//! the prologue. The rule at the probe PC is compiled into the read plan.

use gimli::{BaseAddresses, CfaRule, EhFrame, LittleEndian, UnwindContext, UnwindSection};

use crate::location::ReadOp;

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
        let mut ctx = UnwindContext::new();
        let rule = if let Some((section, bases)) = &self.eh_frame {
            section
                .unwind_info_for_address(bases, &mut ctx, pc, EhFrame::cie_from_offset)
                .ok()
                .map(|row| row.cfa().clone())
        } else {
            None
        };
        let rule = rule.or_else(|| {
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
                .map(|row| row.cfa().clone())
        })?;
        match rule {
            CfaRule::RegisterAndOffset { register, offset } => {
                let mut ops = vec![ReadOp::Register(register.0)];
                if offset != 0 {
                    ops.push(ReadOp::Const(offset as u64));
                    ops.push(ReadOp::Add);
                }
                Some(ops)
            }
            CfaRule::Expression(_) => None,
        }
    }
}
