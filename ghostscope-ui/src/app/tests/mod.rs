//! The update loop driven with scripted session events and keys.

mod commands;
mod keys;
mod session;

use ghostscope_protocol::session::{
    AddressDescription, AddressOutcome, AddressResult, SourcePosition, TraceOutcome,
};

use crate::test_support::*;

pub(super) fn attached(target: &str, trace_id: u32) -> TraceOutcome {
    TraceOutcome {
        target: target.into(),
        addresses: vec![AddressOutcome {
            pc: 0x1149,
            result: AddressResult::Attached {
                trace_id,
                inline: false,
                source: Some(SourcePosition {
                    file: "orders.c".into(),
                    line: 12,
                    column: 0,
                }),
            },
        }],
        error: None,
    }
}

pub(super) fn describe(index: usize, function: &str, line: u32) -> AddressDescription {
    AddressDescription {
        index,
        pc: 0x1149,
        module: "/opt/orderd/bin/orderd".into(),
        function: Some(function.into()),
        inline: false,
        source: Some(SourcePosition {
            file: ORDERS_C.into(),
            line,
            column: 0,
        }),
        variables: vec![],
    }
}
