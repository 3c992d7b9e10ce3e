//! Program values that live somewhere, and the ways to reach inside them:
//! member access, indexing, dereference.

use ghostscope_dwarf::{short_reason, DebugSession, Location};
use ghostscope_protocol::render::ANONYMOUS_MEMBER_PREFIX;
use ghostscope_protocol::{AggregateKind, Bitfield, Member, TypeDesc};

use crate::plan::{AddrOp, ArithOp, Scalar, Source};

/// Whether and where a place can be read.
#[derive(Debug, Clone)]
pub(crate) enum PlaceSource {
    /// Readable from this source.
    Readable(Source),
    /// The compiler dropped the value here.
    OptimizedOut,
    /// The value exists but uprobes cannot read it (reason in words).
    Unavailable(String),
    /// A pointer the compiler optimized away: it has no value, but the
    /// object it points into (a DIE) is known, from byte `offset`.
    ImplicitPointer {
        /// The object's DIE.
        object: u64,
        /// Byte offset into the object.
        offset: i64,
    },
    /// Consecutive parts (sizes in bytes) of which some cannot be read: a
    /// member that lies in a readable part can still be read.
    Split(Vec<(u64, PlaceSource)>),
}

impl PlaceSource {
    /// How the whole value reads: a split value is as unreadable as its
    /// first part that cannot be read (optimized-out parts are never shown
    /// as zeros).
    pub(crate) fn whole(&self) -> &PlaceSource {
        match self {
            PlaceSource::Split(parts) => parts
                .iter()
                .map(|(_, p)| p.whole())
                .find(|p| matches!(p, PlaceSource::Unavailable(_)))
                .unwrap_or(&PlaceSource::OptimizedOut),
            other => other,
        }
    }

    /// The bytes `offset..offset+size` of the value.
    fn part(&self, offset: u64, size: u64) -> PlaceSource {
        match self {
            PlaceSource::Readable(s) => match offset_source(s, offset, size) {
                Ok(s) => PlaceSource::Readable(s),
                Err(reason) => PlaceSource::Unavailable(reason),
            },
            PlaceSource::Split(parts) => {
                let mut start = 0;
                for (part_size, part) in parts {
                    if offset >= start && offset + size <= start + part_size {
                        return part.part(offset - start, size);
                    }
                    start += part_size;
                }
                self.whole().clone()
            }
            other => other.clone(),
        }
    }
}

/// A typed program value and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub(crate) source: PlaceSource,
    pub(crate) ty: TypeDesc,
    /// Module whose DWARF describes `ty`.
    pub(crate) module: usize,
    /// Set for bitfield members: where the field sits in the bytes at `source`.
    pub(crate) bitfield: Option<Bitfield>,
}

impl Place {
    /// A place for a DWARF variable of module `module`.
    pub(crate) fn from_location(loc: Location, ty: TypeDesc, module: usize) -> Place {
        Place {
            source: source_of(loc, module),
            ty,
            module,
            bitfield: None,
        }
    }

    /// A place in memory at `address`.
    pub(crate) fn at_address(address: Scalar, ty: TypeDesc, module: usize) -> Place {
        Place {
            source: PlaceSource::Readable(Source::Memory(vec![
                AddrOp::Scalar(Box::new(address)),
                AddrOp::NullCheck,
            ])),
            ty,
            module,
            bitfield: None,
        }
    }

    /// Whether the value takes part in integer arithmetic.
    pub(crate) fn is_integer_like(&self) -> bool {
        self.ty.integer_layout().is_some()
    }

    /// The part of this place at byte `offset` with type `ty`.
    pub(crate) fn sub_place(&self, offset: u64, ty: TypeDesc) -> Place {
        let size = ty.size().unwrap_or(0);
        Place {
            source: self.source.part(offset, size),
            ty,
            module: self.module,
            bitfield: None,
        }
    }

    /// What `print` shows instead of a value that cannot be read at all,
    /// or `None` when the place is readable.
    pub(crate) fn marker(&self) -> Option<String> {
        match self.source.whole() {
            PlaceSource::Readable(_) => None,
            PlaceSource::OptimizedOut | PlaceSource::Split(_) => {
                Some("<optimized out>".to_string())
            }
            PlaceSource::Unavailable(reason) => {
                Some(format!("<unavailable: {}>", short_reason(reason)))
            }
            PlaceSource::ImplicitPointer { .. } => Some("<implicit pointer>".to_string()),
        }
    }

    /// Why the value of `text` cannot take part in arithmetic, conditions or
    /// builtins, or `None` when it is readable.
    pub(crate) fn unreadable(&self, text: &str) -> Option<String> {
        match self.source.whole() {
            PlaceSource::Readable(_) => None,
            PlaceSource::OptimizedOut | PlaceSource::Split(_) => {
                Some(format!("'{text}' is optimized out at the selected probe PC"))
            }
            PlaceSource::Unavailable(reason) => Some(reason.clone()),
            PlaceSource::ImplicitPointer { .. } => Some(format!(
                "'{text}' is an implicit pointer at the selected probe PC: the compiler optimized the pointer itself away, so it has no value; only what it points to can be read (*{text}, {text}->field)"
            )),
        }
    }

    /// The address of the place, when it lives in memory.
    pub(crate) fn address(&self) -> Option<Vec<AddrOp>> {
        match &self.source {
            PlaceSource::Readable(Source::Memory(ops)) => Some(ops.clone()),
            _ => None,
        }
    }
}

fn source_of(loc: Location, module: usize) -> PlaceSource {
    match loc {
        Location::Memory(ops) => {
            PlaceSource::Readable(Source::Memory(AddrOp::from_dwarf(&ops, module)))
        }
        Location::Register(r) => PlaceSource::Readable(Source::Register(r)),
        Location::Value(ops) => {
            PlaceSource::Readable(Source::Value(AddrOp::from_dwarf(&ops, module)))
        }
        Location::Implicit(bytes) => PlaceSource::Readable(Source::Constant(bytes)),
        Location::Pieces(pieces) => {
            let parts: Vec<(u64, PlaceSource)> = pieces
                .into_iter()
                .map(|p| (p.size, source_of(p.location, module)))
                .collect();
            let mut readable = Vec::with_capacity(parts.len());
            for (size, part) in &parts {
                match part {
                    PlaceSource::Readable(s) => readable.push((*size, s.clone())),
                    // Parts that cannot be read (optimized out, in an XMM
                    // register) hide only themselves.
                    _ => return PlaceSource::Split(parts),
                }
            }
            PlaceSource::Readable(Source::Pieces(readable))
        }
        Location::ImplicitPointer { object, offset } => {
            PlaceSource::ImplicitPointer { object, offset }
        }
        Location::OptimizedOut => PlaceSource::OptimizedOut,
        Location::Unavailable(reason) => PlaceSource::Unavailable(reason),
    }
}

/// The bytes `offset..offset+size` of a source.
fn offset_source(s: &Source, offset: u64, size: u64) -> Result<Source, String> {
    if offset == 0 {
        return Ok(s.clone());
    }
    Ok(match s {
        Source::Memory(ops) => {
            let mut ops = ops.clone();
            ops.push(AddrOp::Const(offset));
            ops.push(AddrOp::Arith(ArithOp::Add));
            Source::Memory(ops)
        }
        Source::Register(r) => Source::Value(vec![
            AddrOp::Register(*r),
            AddrOp::Const(offset * 8),
            AddrOp::Arith(ArithOp::Shr),
        ]),
        Source::Value(ops) => {
            let mut ops = ops.clone();
            ops.push(AddrOp::Const(offset * 8));
            ops.push(AddrOp::Arith(ArithOp::Shr));
            Source::Value(ops)
        }
        Source::Constant(bytes) => {
            let start = (offset as usize).min(bytes.len());
            let end = (start + size as usize).min(bytes.len());
            Source::Constant(bytes[start..end].to_vec())
        }
        Source::Pieces(parts) => {
            let mut start = 0;
            for (piece_size, piece) in parts {
                if offset >= start && offset + size <= start + piece_size {
                    return offset_source(piece, offset - start, size);
                }
                start += piece_size;
            }
            return Err("this part of the value is split across registers in a way ghostscope cannot read yet".to_string());
        }
    })
}

/// Finds `field` in an aggregate, looking into anonymous members. An
/// anonymous member is also reachable by its rendered label `member_<index>`
/// (output.md §3.6). Returns the member and its offset from the aggregate's start.
pub(crate) fn find_member<'t>(members: &'t [Member], field: &str) -> Option<(&'t Member, u64)> {
    let labelled = field
        .strip_prefix(ANONYMOUS_MEMBER_PREFIX)
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| members.get(i))
        .filter(|m| m.name.is_empty());
    if let Some(m) = labelled {
        return Some((m, m.offset));
    }
    for m in members {
        if m.name == field {
            return Some((m, m.offset));
        }
        // C++ base classes, like anonymous members, lend their members to the object.
        if m.name.is_empty() || m.base_class {
            if let TypeDesc::Aggregate { members: inner, .. } = m.ty.strip() {
                if let Some((found, off)) = find_member(inner, field) {
                    return Some((found, m.offset + off));
                }
            }
        }
    }
    None
}

/// The error for an unknown member.
pub(crate) fn unknown_member(field: &str, ty: &TypeDesc) -> String {
    let (kind, name, members) = match ty.strip() {
        TypeDesc::Aggregate {
            kind,
            name,
            members,
            ..
        } => (
            match kind {
                AggregateKind::Struct => "struct",
                AggregateKind::Class => "class",
                AggregateKind::Union => "union",
            },
            name.clone().unwrap_or_default(),
            members.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        ),
        other => ("type", other.name(), Vec::new()),
    };
    format!(
        "Unknown member '{field}' in {kind} '{name}' (known members: {})",
        members.join(", ")
    )
}

/// Resolves the pointee of a pointer type.
pub(crate) fn pointee_type(
    session: &DebugSession,
    module: usize,
    ptr: &TypeDesc,
) -> Result<TypeDesc, String> {
    match ptr.strip() {
        TypeDesc::Pointer {
            pointee: Some(r),
            ..
        } => {
            let t = session.modules()[module].module.resolve_type(*r);
            if let TypeDesc::Unknown { name, size: 0 } = &t {
                return Err(format!(
                    "Type error: '{name}' is only declared in the debug info; its layout is unknown"
                ));
            }
            Ok(t)
        }
        TypeDesc::Pointer { pointee: None, .. } => Err(
            "Type error: cannot dereference a 'void*'; cast it to a typed pointer first, for example cast(p, \"struct foo *\")".to_string(),
        ),
        other => Err(format!(
            "Type error: cannot dereference a value of type '{}'",
            other.name()
        )),
    }
}
