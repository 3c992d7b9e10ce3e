//! x86_64 DWARF register numbers and where a uprobe finds them.

/// A general-purpose register as the kernel's `struct pt_regs` exposes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpRegister {
    /// DWARF register number (System V psABI, figure 3.36).
    pub dwarf: u16,
    /// Register name, for messages.
    pub name: &'static str,
    /// Byte offset of the register in `struct pt_regs` (arch/x86/include/asm/ptrace.h).
    pub pt_regs_offset: u32,
}

const GP_REGISTERS: [GpRegister; 17] = [
    GpRegister {
        dwarf: 0,
        name: "rax",
        pt_regs_offset: 80,
    },
    GpRegister {
        dwarf: 1,
        name: "rdx",
        pt_regs_offset: 96,
    },
    GpRegister {
        dwarf: 2,
        name: "rcx",
        pt_regs_offset: 88,
    },
    GpRegister {
        dwarf: 3,
        name: "rbx",
        pt_regs_offset: 40,
    },
    GpRegister {
        dwarf: 4,
        name: "rsi",
        pt_regs_offset: 104,
    },
    GpRegister {
        dwarf: 5,
        name: "rdi",
        pt_regs_offset: 112,
    },
    GpRegister {
        dwarf: 6,
        name: "rbp",
        pt_regs_offset: 32,
    },
    GpRegister {
        dwarf: 7,
        name: "rsp",
        pt_regs_offset: 152,
    },
    GpRegister {
        dwarf: 8,
        name: "r8",
        pt_regs_offset: 72,
    },
    GpRegister {
        dwarf: 9,
        name: "r9",
        pt_regs_offset: 64,
    },
    GpRegister {
        dwarf: 10,
        name: "r10",
        pt_regs_offset: 56,
    },
    GpRegister {
        dwarf: 11,
        name: "r11",
        pt_regs_offset: 48,
    },
    GpRegister {
        dwarf: 12,
        name: "r12",
        pt_regs_offset: 24,
    },
    GpRegister {
        dwarf: 13,
        name: "r13",
        pt_regs_offset: 16,
    },
    GpRegister {
        dwarf: 14,
        name: "r14",
        pt_regs_offset: 8,
    },
    GpRegister {
        dwarf: 15,
        name: "r15",
        pt_regs_offset: 0,
    },
    GpRegister {
        dwarf: 16,
        name: "rip",
        pt_regs_offset: 128,
    },
];

/// DWARF numbers of the System V integer argument registers, in order.
pub const ARGUMENT_REGISTERS: [u16; 6] = [5, 4, 1, 2, 8, 9];
/// DWARF number of `rax`.
pub const RAX: u16 = 0;
/// DWARF number of `rsp`.
pub const RSP: u16 = 7;
/// DWARF number of `rbp`, the frame pointer of unoptimised code.
pub const RBP: u16 = 6;
/// DWARF number of `rip` (the return-address column).
pub const RIP: u16 = 16;

/// The general-purpose register with this DWARF number, if uprobes can read it.
pub fn gp_register(dwarf: u16) -> Option<GpRegister> {
    GP_REGISTERS.get(dwarf as usize).copied()
}

/// Why a DWARF register cannot be read at a uprobe, in the spec's words.
pub fn unreadable_register_reason(dwarf: u16) -> String {
    match dwarf {
        17..=32 => format!(
            "Unsupported DWARF register: {dwarf} (XMM{}) is a SIMD/FP register; uprobe pt_regs does not expose XMM register values, so optimized float by-value parameters are unavailable unless the compiler spills them to memory",
            dwarf - 17
        ),
        33..=40 => format!("Unsupported DWARF register: {dwarf} (ST{})", dwarf - 33),
        41..=48 => format!("Unsupported DWARF register: {dwarf} (MM{})", dwarf - 41),
        _ => format!("Unsupported DWARF register: {dwarf} (unknown)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_registers_map_to_the_verified_pt_regs_offsets() {
        let offsets: Vec<u32> = ARGUMENT_REGISTERS
            .iter()
            .map(|r| gp_register(*r).unwrap().pt_regs_offset)
            .collect();
        // rdi, rsi, rdx, rcx, r8, r9 (toolchain.md §5)
        assert_eq!(offsets, vec![112, 104, 96, 88, 72, 64]);
        assert_eq!(gp_register(RSP).unwrap().pt_regs_offset, 152);
        assert!(gp_register(17).is_none());
        assert!(unreadable_register_reason(17).contains("(XMM0) is a SIMD/FP register"));
    }
}
