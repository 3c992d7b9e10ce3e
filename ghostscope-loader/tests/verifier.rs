//! A program the kernel verifier rejects is reported with the verifier's
//! own reason. Needs root, like everything that loads BPF.

use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::context::Context;
use inkwell::module::Linkage;
use inkwell::targets::{
    CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetMachine, TargetTriple,
};
use inkwell::{AddressSpace, OptimizationLevel};

use ghostscope_loader::{LoaderError, TraceLoader, TransportConfig};

/// A uprobe program that reads 8 bytes at offset 113 of `pt_regs`: a
/// misaligned context access the verifier must refuse (toolchain P5).
fn misaligned_context_read() -> Vec<u8> {
    Target::initialize_bpf(&InitializationConfig::default());
    let triple = TargetTriple::create("bpfel");
    let machine: TargetMachine = Target::from_triple(&triple)
        .unwrap()
        .create_target_machine(
            &triple,
            "v3",
            "",
            OptimizationLevel::None,
            RelocMode::Default,
            CodeModel::Default,
        )
        .unwrap();
    let ctx = Context::create();
    let module = ctx.create_module("bad");
    module.set_triple(&machine.get_triple());
    module.set_data_layout(&machine.get_target_data().get_data_layout());
    let ptr = ctx.ptr_type(AddressSpace::default());
    let f = module.add_function(
        "bad_prog",
        ctx.i32_type().fn_type(&[ptr.into()], false),
        Some(Linkage::External),
    );
    f.set_section(Some("uprobe/bad_prog"));
    f.add_attribute(
        AttributeLoc::Function,
        ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("nounwind"), 0),
    );
    let license = module.add_global(ctx.i8_type().array_type(4), None, "_license");
    license.set_initializer(&ctx.const_string(b"GPL", true));
    license.set_section(Some("license"));
    let b = ctx.create_builder();
    b.position_at_end(ctx.append_basic_block(f, "entry"));
    let regs = f.get_nth_param(0).unwrap().into_pointer_value();
    // SAFETY (LLVM): a byte offset into the context, which is the point of the test.
    let p = unsafe {
        b.build_gep(
            ctx.i8_type(),
            regs,
            &[ctx.i64_type().const_int(113, false)],
            "p",
        )
        .unwrap()
    };
    let v = b
        .build_load(ctx.i64_type(), p, "v")
        .unwrap()
        .into_int_value();
    let r = b.build_int_truncate(v, ctx.i32_type(), "r").unwrap();
    b.build_return(Some(&r)).unwrap();
    machine
        .write_to_memory_buffer(&module, FileType::Object)
        .unwrap()
        .as_slice()
        .to_vec()
}

#[test]
fn a_verifier_rejection_carries_the_verifiers_reason() {
    let mut loader = TraceLoader::new(TransportConfig::RingBuf { size: 4096 * 16 })
        .expect("maps can be created (run as root)");
    let err = loader
        .load(
            7,
            &misaligned_context_read(),
            "bad_prog",
            std::path::Path::new("/proc/self/exe"),
            0,
            None,
        )
        .unwrap_err();
    match &err {
        LoaderError::Verifier {
            trace_id, reason, ..
        } => {
            assert_eq!(*trace_id, 7);
            assert!(reason.contains("invalid bpf_context access"), "{reason}");
        }
        other => panic!("expected a verifier rejection, got {other}"),
    }
    assert!(err.to_string().starts_with(
        "the kernel verifier rejected the program of trace 7: invalid bpf_context access"
    ));
    assert!(loader.loaded().is_empty());
}
