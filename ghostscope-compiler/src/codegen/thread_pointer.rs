//! The traced thread's thread pointer, where its static TLS block ends.
//!
//! On x86-64 the thread pointer is the FS base, which `pt_regs` does not
//! hold. The kernel keeps it in `task_struct.thread.fsbase` (set by
//! `arch_prctl(ARCH_SET_FS)` and by `clone(CLONE_SETTLS)`, saved at every
//! context switch), so the program reads it there: `bpf_get_current_task`
//! and `bpf_probe_read_kernel` at the field's offset. The offset differs
//! between kernel builds; it is looked up once per process in the running
//! kernel's BTF, and only when a script reads a thread-local.

use std::path::Path;
use std::sync::OnceLock;

use ghostscope_protocol::ReadStatus;

use super::eval::{Eval, Fail};
use super::helpers::id;
use super::kernel_btf::KernelBtf;
use super::FunctionGen;

/// The running kernel's BTF.
const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

/// Byte offset of `thread.fsbase` in `struct task_struct`, or why it is not known.
fn task_fsbase_offset() -> Result<u64, String> {
    static OFFSET: OnceLock<Result<u64, String>> = OnceLock::new();
    OFFSET
        .get_or_init(|| {
            KernelBtf::open(Path::new(VMLINUX_BTF))
                .and_then(|btf| btf.member_offset("task_struct", &["thread", "fsbase"]))
                .map_err(|why| {
                    format!("thread-local storage cannot be read: the offset of task_struct.thread.fsbase is not known ({why})")
                })
        })
        .clone()
}

impl<'a, 'ctx> FunctionGen<'a, 'ctx> {
    /// The thread pointer of the thread that hit the probe.
    pub(super) fn thread_pointer(&mut self) -> Eval<'ctx> {
        let zero = self.c64(0);
        let offset = match task_fsbase_offset() {
            Ok(offset) => offset,
            Err(reason) => {
                self.unsupported.get_or_insert(reason);
                return Eval {
                    value: zero,
                    fail: Fail {
                        status: self.c64(ReadStatus::AccessError as u64),
                        addr: zero,
                        errno: zero,
                        flags: zero,
                    },
                };
            }
        };
        let task = self.call_i64(id::GET_CURRENT_TASK, &[]);
        let field = self
            .b
            .build_int_add(task, self.c64(offset), "fsbase_field")
            .expect("add");
        self.b.build_store(self.scratch, zero).expect("store");
        let ret = self.probe_read_kernel(self.scratch, self.c64(8), field);
        let value = self
            .b
            .build_load(self.i64_t, self.scratch, "fsbase")
            .expect("load")
            .into_int_value();
        let failed = self
            .b
            .build_int_compare(inkwell::IntPredicate::SLT, ret, zero, "fsbase_failed")
            .expect("icmp");
        Eval {
            value,
            fail: Fail {
                status: self.select(failed, self.c64(ReadStatus::AccessError as u64), zero),
                addr: zero,
                errno: ret,
                flags: zero,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_kernel_has_a_thread_fsbase() {
        // Every x86-64 kernel with BTF has the field; it sits well inside
        // the task (thread_struct is near the end of task_struct).
        let offset = task_fsbase_offset().unwrap();
        assert!(offset > 1000 && offset.is_multiple_of(8), "{offset}");
    }
}
