//! Checks one trace block at one probe site against the program's DWARF and
//! produces the [`Program`] to generate and the [`TraceMeta`] to decode it.

mod builtins;
mod cast;
mod ctypes;
mod expr;
mod fold;
mod layout;
mod places;

use std::collections::{HashMap, HashSet};

use ghostscope_dwarf::{DebugSession, ProbeSite, Variable};
use ghostscope_protocol::backtrace::record_payload_size;
use ghostscope_protocol::meta::{
    ExprErrorSlot, FormatPiece, FormatSpec, SlotKind, StatementMeta, StatementOutput,
};
use ghostscope_protocol::render::render_value;
use ghostscope_protocol::{BaseEncoding, DumpStyle, TraceMeta, TypeDesc, ValueOrigin, ValueSlot};

use crate::ast::{Else, Expr, IfStmt, Print, Stmt};
use crate::format::{parse_format, Conversion, DumpLength, Piece};
use crate::plan::{
    Capture, CaptureKind, DumpLen, IntType, PlanBacktrace, PlanElse, PlanIf, PlanStmt, Program,
    Scalar,
};
use crate::CompileOptions;

use layout::EventLayout;
pub(crate) use places::{Place, PlaceSource};

/// Largest value captured whole; bigger aggregates show their first bytes.
const MAX_VALUE_BYTES: u32 = 4096;

/// A checked expression.
#[derive(Debug, Clone)]
pub(crate) enum Typed {
    /// An integer or bool computed at run time (or folded).
    Int {
        /// The computation.
        value: Scalar,
        /// Its C type.
        int: IntType,
        /// How to render it.
        desc: TypeDesc,
    },
    /// A program value that lives somewhere.
    Place(Place),
    /// A pointer value (from `&x`, `cast` or pointer arithmetic), pointing at `pointee`.
    Pointer {
        /// The address.
        value: Scalar,
        /// The pointee type.
        pointee: TypeDesc,
        /// Module the pointee type belongs to.
        module: usize,
        /// The result of pointer arithmetic (`p + n`): `print` shows the
        /// pointee there (script-language §6.4), or the address alone when
        /// the pointee has no layout to show (`void *`).
        arithmetic: bool,
    },
    /// A script string.
    Str(String),
}

/// What a script name is bound to.
#[derive(Debug, Clone)]
enum Binding {
    Int {
        id: usize,
        int: IntType,
        desc: TypeDesc,
    },
    Str(String),
    Alias(Typed),
}

/// The result of checking one trace block at one site.
pub(crate) struct CheckedTrace {
    pub(crate) program: Program,
    pub(crate) meta: TraceMeta,
}

/// Checks a trace body at a site.
pub(crate) fn check_trace(
    session: &DebugSession,
    site: &ProbeSite,
    locals: Vec<Variable>,
    trace_id: u32,
    target: &str,
    body: &[Stmt],
    options: &CompileOptions,
) -> Result<CheckedTrace, String> {
    let mut checker = Checker {
        session,
        site,
        options,
        locals,
        scopes: vec![HashMap::new()],
        closed: HashSet::new(),
        next_let: 0,
        layout: EventLayout::new(),
        meta: Vec::new(),
        print_errors: None,
    };
    let statements = checker.block(body, false)?;
    let event_size = checker.layout.size();
    if event_size > options.max_trace_event_size {
        return Err(format!(
            "the values this trace prints need {event_size} bytes per event, more than the limit of {} (ebpf.max_trace_event_size); print fewer or smaller values",
            options.max_trace_event_size
        ));
    }
    let biases = session.modules().iter().map(|m| m.load_bias).collect();
    Ok(CheckedTrace {
        program: Program {
            trace_id,
            pid_filter: options.pid_filter,
            biases,
            probe: (site.module, site.pc),
            event_size,
            markers: checker.layout.markers().to_vec(),
            statements,
        },
        meta: TraceMeta {
            trace_id,
            target: target.to_string(),
            event_size,
            statements: checker.meta,
        },
    })
}

/// Whether `print e;` shows its value alone, without `<expr> = `, as the
/// reference does (script-language §4.1): the address of an object (`&x`;
/// `&*x` is folded to `x` by the parser), a pointer-valued arithmetic result
/// with no readable pointee, and a cast to an array type.
fn prints_alone(e: &Expr, typed: &Typed) -> bool {
    if matches!(e, Expr::AddressOf(_)) {
        return true;
    }
    match typed {
        Typed::Pointer {
            arithmetic: true,
            pointee,
            ..
        } => !shows_pointee(pointee),
        Typed::Place(p) => {
            matches!(e, Expr::Call(name, _) if name == "cast")
                && matches!(p.ty.strip(), TypeDesc::Array { .. })
        }
        _ => false,
    }
}

/// Whether printing `p + n` reads the pointee: not for `void`, functions
/// and types whose layout is unknown, which print the address.
fn shows_pointee(pointee: &TypeDesc) -> bool {
    !matches!(pointee.strip(), TypeDesc::Void | TypeDesc::Function { .. })
        && pointee.size().is_some_and(|s| s > 0)
}

struct Checker<'a> {
    session: &'a DebugSession,
    site: &'a ProbeSite,
    options: &'a CompileOptions,
    /// Variables visible at the site, innermost scope first.
    locals: Vec<Variable>,
    scopes: Vec<HashMap<String, Binding>>,
    /// Script variables whose scope has ended, for a precise error.
    closed: HashSet<String>,
    next_let: usize,
    layout: EventLayout,
    meta: Vec<StatementMeta>,
    /// While a `print` is checked: where its builtins report read failures.
    print_errors: Option<Vec<ExprErrorSlot>>,
}

impl Checker<'_> {
    fn block(&mut self, stmts: &[Stmt], new_scope: bool) -> Result<Vec<PlanStmt>, String> {
        if new_scope {
            self.scopes.push(HashMap::new());
        }
        let mut out = Vec::new();
        let mut result = Ok(());
        for s in stmts {
            match self.statement(s) {
                Ok(Some(p)) => out.push(p),
                Ok(None) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if new_scope {
            let scope = self.scopes.pop().expect("scope");
            self.closed.extend(scope.into_keys());
        }
        result.map(|_| out)
    }

    fn statement(&mut self, stmt: &Stmt) -> Result<Option<PlanStmt>, String> {
        match stmt {
            Stmt::Print(p) => self.print(p).map(Some),
            Stmt::Let { name, value, .. } => self.let_binding(name, value),
            Stmt::If(i) => self.if_stmt(i).map(|i| Some(PlanStmt::If(i))),
            Stmt::Backtrace { options, .. } => Ok(Some(self.backtrace(options))),
            Stmt::Expr(e) => {
                self.expr(e)?;
                Ok(None)
            }
        }
    }

    /// `bt [raw|full|inline|noinline]…`: the last of `raw`/`full` and of
    /// `inline`/`noinline` wins (script-language §4.4).
    fn backtrace(&mut self, options: &[String]) -> PlanStmt {
        let (mut raw, mut inline) = (false, true);
        for o in options {
            match o.as_str() {
                "raw" => raw = true,
                "full" => raw = false,
                "inline" => inline = true,
                "noinline" => inline = false,
                _ => {}
            }
        }
        let depth = self.options.backtrace_depth.clamp(1, 128);
        let marker = self.layout.marker();
        let (record, _) = self.layout.value(record_payload_size(depth));
        let modules = (0..self.session.modules().len())
            .map(|m| {
                let path = self.session.module_path(m);
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string())
            })
            .collect();
        self.meta.push(StatementMeta {
            marker,
            output: StatementOutput::Backtrace {
                record,
                depth,
                raw,
                inline,
                modules,
                table_biases: ghostscope_dwarf::unwind::table_biases(self.session),
            },
            expr_errors: Vec::new(),
        });
        PlanStmt::Backtrace(PlanBacktrace {
            marker,
            record,
            depth,
        })
    }

    fn let_binding(&mut self, name: &str, value: &Expr) -> Result<Option<PlanStmt>, String> {
        if self.scopes.last().expect("scope").contains_key(name) {
            return Err(format!(
                "Redeclaration in the same scope is not allowed: '{name}'"
            ));
        }
        if self.scopes.iter().any(|s| s.contains_key(name)) {
            return Err(format!(
                "Shadowing is not allowed for immutable variables: '{name}'"
            ));
        }
        let typed = self.expr(value)?;
        let (binding, stmt) = match typed {
            Typed::Str(s) => (Binding::Str(s), None),
            Typed::Int { value, int, desc } => {
                let id = self.bind_scalar();
                (
                    Binding::Int { id, int, desc },
                    Some(PlanStmt::Let { id, value }),
                )
            }
            // An unreadable value stays a place, so printing the name shows
            // its marker and computing with it reports why.
            Typed::Place(ref p) if p.is_integer_like() && p.marker().is_none() => {
                let (value, int, desc) = self.scalar(typed.clone(), &value.text())?;
                let id = self.bind_scalar();
                (
                    Binding::Int { id, int, desc },
                    Some(PlanStmt::Let { id, value }),
                )
            }
            other => (Binding::Alias(other), None),
        };
        self.closed.remove(name);
        self.scopes
            .last_mut()
            .expect("scope")
            .insert(name.to_string(), binding);
        Ok(stmt)
    }

    fn bind_scalar(&mut self) -> usize {
        self.next_let += 1;
        self.next_let - 1
    }

    fn if_stmt(&mut self, i: &IfStmt) -> Result<PlanIf, String> {
        let marker = self.layout.marker();
        self.meta.push(StatementMeta {
            marker,
            output: StatementOutput::Condition {
                expr: i.cond.text(),
            },
            expr_errors: Vec::new(),
        });
        let typed = self.expr(&i.cond)?;
        let (cond, _, _) = self.scalar(typed, &i.cond.text())?;
        let then = self.block(&i.then, true)?;
        let otherwise = match &i.otherwise {
            None => None,
            Some(Else::If(inner)) => Some(PlanElse::If(Box::new(self.if_stmt(inner)?))),
            Some(Else::Block(b)) => Some(PlanElse::Block(self.block(b, true)?)),
        };
        Ok(PlanIf {
            marker,
            cond,
            then,
            otherwise,
        })
    }

    fn print(&mut self, p: &Print) -> Result<PlanStmt, String> {
        let marker = self.layout.marker();
        self.print_errors = Some(Vec::new());
        let result = self.print_body(marker, p);
        let expr_errors = self.print_errors.take().unwrap_or_default();
        let (plan, output) = result?;
        self.meta.push(StatementMeta {
            marker,
            output,
            expr_errors,
        });
        Ok(plan)
    }

    fn print_body(
        &mut self,
        marker: u32,
        p: &Print,
    ) -> Result<(PlanStmt, StatementOutput), String> {
        match p {
            Print::Text(text) => Ok((
                PlanStmt::Mark { marker },
                StatementOutput::Text(text.clone()),
            )),
            Print::Value(e) => {
                let typed = self.expr(e)?;
                let alone = prints_alone(e, &typed);
                let mut captures = Vec::new();
                let slot = self.capture_printed(e, typed, &mut captures)?;
                Ok((
                    PlanStmt::Print { marker, captures },
                    StatementOutput::Value {
                        expr: e.text(),
                        slot,
                        alone,
                    },
                ))
            }
            Print::Format { format, args, .. } => self.format_print(marker, format, args),
        }
    }

    fn format_print(
        &mut self,
        marker: u32,
        format: &str,
        args: &[Expr],
    ) -> Result<(PlanStmt, StatementOutput), String> {
        let parsed = parse_format(format)?;
        let needed = parsed.argument_count();
        if needed != args.len() {
            return Err(format!(
                "Format string '{format}' expects {needed} argument(s) but received {} argument(s)",
                args.len()
            ));
        }
        let mut captures = Vec::new();
        let mut slots = Vec::new();
        let mut pieces = Vec::new();
        let mut next_arg = 0;
        for piece in parsed.pieces {
            let (conversion, length) = match piece {
                Piece::Literal(t) => {
                    pieces.push(FormatPiece::Literal(t));
                    continue;
                }
                Piece::Placeholder { conversion, length } => (conversion, length),
            };
            let dump_len = match (&length, conversion) {
                (_, Conversion::Pointer) | (None, _) => None,
                (Some(DumpLength::Fixed(n)), _) => Some(DumpLen::Fixed(*n as u32)),
                (Some(DumpLength::Star), _) => {
                    let len_expr = &args[next_arg];
                    next_arg += 1;
                    let t = self.expr(len_expr)?;
                    Some(DumpLen::Dynamic(self.scalar(t, &len_expr.text())?.0))
                }
                (Some(DumpLength::Variable(name)), _) => match self.lookup_script(name) {
                    Some(Binding::Int { id, .. }) => Some(DumpLen::Dynamic(Scalar::LetRef(id))),
                    _ => {
                        return Err(format!(
                            "'{name}' in a format length must be a script integer variable"
                        ))
                    }
                },
            };
            // `{:p.*}` still consumes its length argument.
            if conversion == Conversion::Pointer && matches!(length, Some(DumpLength::Star)) {
                next_arg += 1;
            }
            let arg = &args[next_arg];
            next_arg += 1;
            let mut typed = self.expr(arg)?;
            if conversion == Conversion::Pointer {
                // `{:p}` of `p + n` shows the address, not the pointee.
                if let Typed::Pointer { arithmetic, .. } = &mut typed {
                    *arithmetic = false;
                }
            }
            let index = slots.len();
            let (slot, spec) = match dump_len {
                Some(len) => {
                    let as_text = conversion == Conversion::Ascii;
                    let style = match conversion {
                        Conversion::HexUpper => DumpStyle::HexUpper,
                        Conversion::Ascii => DumpStyle::Ascii,
                        _ => DumpStyle::HexLower,
                    };
                    (
                        self.capture_dump(typed, &arg.text(), len, as_text, &mut captures)?,
                        FormatSpec::Dump { style },
                    )
                }
                None => {
                    let spec = match conversion {
                        Conversion::Default => FormatSpec::Default,
                        Conversion::HexLower => FormatSpec::Hex { upper: false },
                        Conversion::HexUpper => FormatSpec::Hex { upper: true },
                        Conversion::Pointer => FormatSpec::Pointer,
                        Conversion::Ascii => FormatSpec::Ascii,
                    };
                    (self.capture_printed(arg, typed, &mut captures)?, spec)
                }
            };
            slots.push(slot);
            pieces.push(FormatPiece::Placeholder { arg: index, spec });
        }
        Ok((
            PlanStmt::Print { marker, captures },
            StatementOutput::Format {
                format: format.to_string(),
                pieces,
                args: slots,
            },
        ))
    }

    /// Captures the value of a printed expression `e` (checked as `typed`),
    /// noting how it was reached for the rendering of enums.
    fn capture_printed(
        &mut self,
        e: &Expr,
        typed: Typed,
        captures: &mut Vec<Capture>,
    ) -> Result<ValueSlot, String> {
        let mut slot = self.capture_value(typed, &e.text(), captures)?;
        if slot.origin == ValueOrigin::Direct && matches!(e, Expr::Deref(_)) {
            slot.origin = ValueOrigin::PointerDeref;
        }
        Ok(slot)
    }

    /// Captures a value for `{}` / `print expr;`.
    fn capture_value(
        &mut self,
        typed: Typed,
        text: &str,
        captures: &mut Vec<Capture>,
    ) -> Result<ValueSlot, String> {
        let constant = |text: String| ValueSlot {
            offset: 0,
            capacity: 0,
            kind: SlotKind::Constant(text),
            origin: ValueOrigin::Direct,
        };
        match typed {
            Typed::Str(s) => Ok(constant(format!("\"{s}\""))),
            Typed::Int {
                value: Scalar::Const(v),
                desc,
                ..
            } => Ok(constant(render_value(&desc, &v.to_le_bytes()))),
            Typed::Int { value, int, desc } => {
                let (offset, capacity) = self.layout.value(int.size as u32);
                captures.push(Capture {
                    offset,
                    capacity,
                    kind: CaptureKind::Scalar {
                        value,
                        size: int.size,
                    },
                });
                Ok(ValueSlot {
                    offset,
                    capacity,
                    kind: SlotKind::Typed(desc),
                    origin: ValueOrigin::Direct,
                })
            }
            Typed::Pointer {
                value,
                pointee,
                module,
                arithmetic: true,
            } if shows_pointee(&pointee) => self.capture_value(
                Typed::Place(Place::at_address(value, pointee, module)),
                text,
                captures,
            ),
            Typed::Pointer { value, pointee, .. } => {
                let desc = TypeDesc::address_of(&pointee);
                self.capture_value(
                    Typed::Int {
                        value,
                        int: IntType::ADDRESS,
                        desc,
                    },
                    text,
                    captures,
                )
            }
            Typed::Place(place) => {
                // A value the engine cannot read prints a marker in its place,
                // so it does not cost the values around it.
                if let Some(marker) = place.marker() {
                    return Ok(constant(marker));
                }
                if place.bitfield.is_some() {
                    let (value, int, desc) = self.scalar(Typed::Place(place), text)?;
                    let slot =
                        self.capture_value(Typed::Int { value, int, desc }, text, captures)?;
                    return Ok(ValueSlot {
                        origin: ValueOrigin::Bitfield,
                        ..slot
                    });
                }
                let PlaceSource::Readable(source) = place.source else {
                    unreachable!("a place without a marker is readable");
                };
                let size = place.ty.size().ok_or_else(|| {
                    format!("Variable '{text}' has no concrete DWARF size at this probe PC")
                })?;
                if let crate::plan::Source::Constant(bytes) = &source {
                    return Ok(constant(render_value(&place.ty, bytes)));
                }
                let size = (size as u32).min(MAX_VALUE_BYTES);
                let (offset, capacity) = self.layout.value(size);
                captures.push(Capture {
                    offset,
                    capacity,
                    kind: CaptureKind::Bytes { source, size },
                });
                Ok(ValueSlot {
                    offset,
                    capacity,
                    kind: SlotKind::Typed(place.ty),
                    origin: ValueOrigin::Direct,
                })
            }
        }
    }

    /// Captures a memory dump for `{:x.N}` / `{:s.N}` and friends.
    fn capture_dump(
        &mut self,
        typed: Typed,
        text: &str,
        len: DumpLen,
        as_text: bool,
        captures: &mut Vec<Capture>,
    ) -> Result<ValueSlot, String> {
        let cap = self.options.mem_dump_cap;
        if let Typed::Str(s) = &typed {
            // A script string is its own bytes: no memory to read.
            let n = match &len {
                DumpLen::Fixed(n) => (*n).min(cap) as usize,
                DumpLen::Dynamic(_) => cap as usize,
            };
            let bytes: String = s.chars().take(n).collect();
            return Ok(ValueSlot {
                offset: 0,
                capacity: 0,
                kind: SlotKind::Constant(format!("\"{bytes}\"")),
                origin: ValueOrigin::Direct,
            });
        }
        if let Typed::Place(p) = &typed {
            if let Some(marker) = p.marker() {
                return Ok(ValueSlot {
                    offset: 0,
                    capacity: 0,
                    kind: SlotKind::Constant(marker),
                    origin: ValueOrigin::Direct,
                });
            }
        }
        let (address, _) = self.memory_source(typed, text)?;
        let bytes = match &len {
            DumpLen::Fixed(n) => (*n).min(cap),
            DumpLen::Dynamic(_) => cap,
        };
        // Text reads also store the terminating NUL, so N characters fit.
        let (offset, capacity) = self.layout.value(bytes + as_text as u32);
        captures.push(Capture {
            offset,
            capacity,
            kind: CaptureKind::Dump {
                address,
                len: match len {
                    DumpLen::Fixed(_) => DumpLen::Fixed(bytes),
                    dynamic => dynamic,
                },
                as_text,
            },
        });
        Ok(ValueSlot {
            offset,
            capacity,
            // The reference names dumped memory `u8` in failure markers:
            // `<error: null pointer dereference> (u8*)` (script-language §9.2).
            kind: SlotKind::Typed(TypeDesc::base("u8", 1, BaseEncoding::UnsignedChar)),
            origin: ValueOrigin::Direct,
        })
    }

    fn lookup_script(&self, name: &str) -> Option<Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name)).cloned()
    }

    fn locals(&self) -> &[Variable] {
        &self.locals
    }
}
