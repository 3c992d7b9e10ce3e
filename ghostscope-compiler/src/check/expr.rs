//! Expressions: name lookup, member and index access, C arithmetic,
//! comparisons and casts.

use ghostscope_protocol::TypeDesc;

use super::ctypes::{common_type, describe, int_type_of, promote};
use super::fold::{convert, fold_arith, fold_compare, normalize};
use super::places::{find_member, pointee_type, unknown_member};
use super::{Binding, Checker, Place, PlaceSource, Typed};
use crate::ast::{BinOp, Expr, UnOp};
use crate::plan::{
    AddrOp, ArithOp, CmpOp, IntType, Scalar, Source, Special, StrSource, MAX_COMPARED_STRING,
};

const AGGREGATE_ARITHMETIC: &str = "Unsupported arithmetic/ordered comparison involving struct/union/array, or unsupported bitwise operation involving struct/union/array. Select a scalar field (e.g., 'obj.field'), or use '&expr +/- <integer literal>' in an alias/address context if you need a raw address.";
const POINTER_ORDERING: &str = "Pointer ordered comparison ('<', '<=', '>', '>=') is not supported. Use '==' or '!=' to compare addresses. If you need to adjust an address, use '&expr +/- <integer literal>' in an alias/address context; to compare values, select a scalar field (e.g., 'obj.field').";
/// `ptr ± index`, the index scaled by the pointee size (script-language §6.4):
/// `void`, function and layout-less pointees scale by 1.
fn pointer_offset(ptr: Scalar, pointee: &TypeDesc, index: Scalar, negate: bool) -> Scalar {
    let scale = match pointee.strip() {
        TypeDesc::Void | TypeDesc::Function { .. } => 1,
        t => t.size().unwrap_or(1).max(1) as i64,
    };
    let delta = match convert(index, IntType::LONG) {
        Scalar::Const(c) => Scalar::Const(c.wrapping_mul(scale)),
        other => Scalar::Arith(
            ArithOp::Mul,
            Box::new(other),
            Box::new(Scalar::Const(scale)),
            IntType::LONG,
        ),
    };
    let op = if negate { ArithOp::Sub } else { ArithOp::Add };
    Scalar::Arith(op, Box::new(ptr), Box::new(delta), IntType::ADDRESS)
}

const SPECIALS: &str = "$pid, $tid, $host_pid, $input_pid, $timestamp, $pc, $sp";

fn int(value: Scalar, int: IntType) -> Typed {
    Typed::Int {
        value,
        int,
        desc: describe(int),
    }
}

fn boolean(value: Scalar) -> Typed {
    Typed::Int {
        value,
        int: IntType {
            size: 1,
            signed: false,
        },
        desc: TypeDesc::bool(),
    }
}

/// What kind of operand a typed value is for operators.
enum Operand {
    Integer,
    Pointer,
    Aggregate,
    Float,
    Str,
}

impl Checker<'_> {
    /// Checks an expression.
    pub(super) fn expr(&mut self, e: &Expr) -> Result<Typed, String> {
        match e {
            Expr::Int(v) => Ok(int(Scalar::Const(*v), IntType::LONG)),
            Expr::Bool(b) => Ok(boolean(Scalar::Const(*b as i64))),
            Expr::Str(s) => Ok(Typed::Str(s.clone())),
            Expr::Special(name) => self.special(name),
            Expr::Name(name) => self.name(name),
            Expr::Member(base, field) => {
                let base = self.expr(base)?;
                self.member(base, field)
            }
            Expr::TupleField(base, i) => {
                let base = self.expr(base)?;
                self.member(base, &format!("__{i}"))
                    .map_err(|_| format!("tuple index is out of range: {i}"))
            }
            Expr::Index(base, index) => {
                let base = self.expr(base)?;
                let index_typed = self.expr(index)?;
                let (i, _, _) = self.scalar(index_typed, &index.text())?;
                self.index(base, i, &e.text())
            }
            Expr::Deref(inner) => {
                let t = self.expr(inner)?;
                self.deref(t, &inner.text())
            }
            Expr::AddressOf(inner) => {
                let t = self.expr(inner)?;
                match t {
                    Typed::Place(p) => match p.address() {
                        Some(ops) if p.bitfield.is_none() => Ok(Typed::Pointer {
                            value: Scalar::Address(ops),
                            pointee: p.ty,
                            module: p.module,
                            arithmetic: false,
                        }),
                        _ => Err(format!(
                            "Cannot take the address of '{}': the value is not in memory at this probe PC",
                            inner.text()
                        )),
                    },
                    _ => Err(format!(
                        "Cannot take the address of '{}': it is not a program variable",
                        inner.text()
                    )),
                }
            }
            Expr::Unary(op, inner) => {
                let t = self.expr(inner)?;
                let (v, it, _) = self.scalar(t, &inner.text())?;
                Ok(match op {
                    UnOp::Not => boolean(match v {
                        Scalar::Const(c) => Scalar::Const((c == 0) as i64),
                        v => Scalar::Not(Box::new(v)),
                    }),
                    UnOp::BitNot => {
                        let t = promote(it);
                        let v = convert(v, t);
                        int(
                            match v {
                                Scalar::Const(c) => Scalar::Const(normalize(!c, t)),
                                v => Scalar::BitNot(Box::new(v), t),
                            },
                            t,
                        )
                    }
                })
            }
            Expr::Binary(op, l, r) => self.binary(*op, l, r),
            Expr::Call(name, args) if name == "cast" => self.cast(args),
            Expr::Call(name, args) => self.builtin(name, args, &e.text()),
        }
    }

    fn special(&mut self, name: &str) -> Result<Typed, String> {
        let special =
            match name {
                "pid" | "host_pid" => Special::Pid,
                "tid" => Special::Tid,
                "timestamp" => Special::Timestamp,
                "pc" => Special::Pc,
                "sp" => Special::Sp,
                "input_pid" => {
                    return match self.options.input_pid {
                        Some(pid) => Ok(int(Scalar::Const(pid as i64), IntType::LONG)),
                        None => Err("Special variable '$input_pid' is only available in -p mode"
                            .to_string()),
                    }
                }
                other => {
                    return Err(format!(
                        "Unknown special variable '${other}'. Supported: {SPECIALS}"
                    ))
                }
            };
        Ok(int(Scalar::Special(special), IntType::LONG))
    }

    fn name(&mut self, name: &str) -> Result<Typed, String> {
        if let Some(binding) = self.lookup_script(name) {
            return Ok(match binding {
                Binding::Int { id, int, desc } => Typed::Int {
                    value: Scalar::LetRef(id),
                    int,
                    desc,
                },
                Binding::Str(s) => Typed::Str(s),
                Binding::Alias(t) => t,
            });
        }
        let module = self.site.module;
        if let Some(v) = self.locals().iter().find(|v| v.name == name).cloned() {
            let place = Place::from_location(v.location, v.ty, module);
            return Ok(Typed::Place(self.through_reference(place)?));
        }
        match self.session.find_global(name, module) {
            Ok(Some((m, v))) => {
                let place = Place::from_location(v.location, v.ty, m);
                return Ok(Typed::Place(self.through_reference(place)?));
            }
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        if self.closed.contains(name) {
            return Err(format!("Use of variable '{name}' outside of its scope"));
        }
        Err(self.not_found(name))
    }

    fn not_found(&mut self, name: &str) -> String {
        let mut candidates: Vec<String> = self.locals().iter().map(|v| v.name.clone()).collect();
        for s in &self.scopes {
            candidates.extend(s.keys().cloned());
        }
        for m in self.session.modules() {
            candidates.extend(m.module.global_names());
        }
        let mut close: Vec<(f64, String)> = candidates
            .into_iter()
            .map(|c| (strsim::jaro_winkler(name, &c), c))
            .filter(|(score, _)| *score >= 0.8)
            .collect();
        close.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        close.dedup_by(|a, b| a.1 == b.1);
        let names: Vec<String> = close.into_iter().take(5).map(|(_, n)| n).collect();
        let place = match self.site.function_name.as_deref() {
            Some(f) => format!(" at this probe in '{f}'"),
            None => String::new(),
        };
        if names.is_empty() {
            format!("Variable not found: '{name}' is not a script variable, a local or parameter{place}, or a global")
        } else {
            format!(
                "Variable not found: '{name}' is not visible{place}. Did you mean: {}?",
                names.join(", ")
            )
        }
    }

    fn member(&mut self, base: Typed, field: &str) -> Result<Typed, String> {
        let place = match base {
            Typed::Place(p) => p,
            Typed::Pointer {
                value,
                pointee,
                module,
                ..
            } => Place::at_address(value, pointee, module),
            _ => {
                return Err(format!(
                    "Type error: '.{field}' needs a struct, union or pointer to one"
                ))
            }
        };
        // `.` on a pointer dereferences it first.
        let place = if matches!(place.ty.strip(), TypeDesc::Pointer { .. }) {
            self.pointee_place(&place)?
        } else {
            place
        };
        let TypeDesc::Aggregate { members, .. } = place.ty.strip() else {
            return Err(unknown_member(field, &place.ty));
        };
        let Some((m, offset)) = find_member(members, field) else {
            return Err(unknown_member(field, &place.ty));
        };
        let mut sub = place.sub_place(offset, m.ty.clone());
        sub.bitfield = m.bitfield;
        Ok(Typed::Place(self.through_reference(sub)?))
    }

    /// A C++ reference names its referent: `int& seen` reads as the `int`.
    fn through_reference(&mut self, place: Place) -> Result<Place, String> {
        if place.ty.is_reference() {
            self.pointee_place(&place)
        } else {
            Ok(place)
        }
    }

    fn index(&mut self, base: Typed, index: Scalar, text: &str) -> Result<Typed, String> {
        let place = match base {
            Typed::Place(p) => p,
            Typed::Pointer {
                value,
                pointee,
                module,
                ..
            } => {
                let address = pointer_offset(value, &pointee, index, false);
                return Ok(Typed::Place(Place::at_address(address, pointee, module)));
            }
            _ => {
                return Err(format!(
                    "Type error: '{text}' indexes a value that is not an array or pointer"
                ))
            }
        };
        match place.ty.strip().clone() {
            TypeDesc::Array { element, .. } => {
                if matches!(element.strip(), TypeDesc::Array { .. }) {
                    return Err("Multi-dimensional array access is not supported".to_string());
                }
                let elem_size = element.size().unwrap_or(0);
                match index {
                    Scalar::Const(i) => Ok(Typed::Place(place.sub_place((i as u64).wrapping_mul(elem_size), *element))),
                    dynamic => match place.address() {
                        Some(mut ops) => {
                            ops.push(AddrOp::Scalar(Box::new(Scalar::Arith(
                                ArithOp::Mul,
                                Box::new(convert(dynamic, IntType::LONG)),
                                Box::new(Scalar::Const(elem_size as i64)),
                                IntType::LONG,
                            ))));
                            ops.push(AddrOp::Arith(ArithOp::Add));
                            Ok(Typed::Place(Place {
                                source: PlaceSource::Readable(Source::Memory(ops)),
                                ty: *element,
                                module: place.module,
                                bitfield: None,
                            }))
                        }
                        None => Err(format!(
                            "'{text}' needs a constant index: the array is not in memory at this probe PC"
                        )),
                    },
                }
            }
            TypeDesc::Pointer { .. } => {
                let pointee = pointee_type(self.session, place.module, &place.ty)?;
                let value = self.pointer_value(&place)?;
                let address = pointer_offset(value, &pointee, index, false);
                Ok(Typed::Place(Place::at_address(address, pointee, place.module)))
            }
            other => Err(format!(
                "Type error: '{text}' indexes a value of type '{}', which is not an array or pointer",
                other.name()
            )),
        }
    }

    fn deref(&mut self, t: Typed, text: &str) -> Result<Typed, String> {
        match t {
            Typed::Pointer {
                value,
                pointee,
                module,
                ..
            } => Ok(Typed::Place(Place::at_address(value, pointee, module))),
            Typed::Place(p) => match p.ty.strip() {
                TypeDesc::Pointer { .. } => Ok(Typed::Place(self.pointee_place(&p)?)),
                TypeDesc::Array { element, .. } => {
                    let element = (**element).clone();
                    Ok(Typed::Place(p.sub_place(0, element)))
                }
                other => Err(format!(
                    "Type error: cannot dereference '{text}' of type '{}'",
                    other.name()
                )),
            },
            _ => Err(format!(
                "Type error: cannot dereference '{text}': it is not a pointer"
            )),
        }
    }

    /// The place a pointer-typed place points to. Through a pointer that
    /// cannot be read, the pointee cannot either, and prints the same marker.
    fn pointee_place(&mut self, p: &Place) -> Result<Place, String> {
        let pointee = pointee_type(self.session, p.module, &p.ty)?;
        match &p.source {
            PlaceSource::Readable(_) => {}
            PlaceSource::ImplicitPointer { object, offset } => {
                let target = self.session.object_location(self.site, *object);
                let whole = Place::from_location(target, pointee.clone(), p.module);
                return Ok(whole.sub_place(*offset as u64, pointee));
            }
            unreadable => {
                return Ok(Place {
                    source: unreadable.clone(),
                    ty: pointee,
                    module: p.module,
                    bitfield: None,
                })
            }
        }
        let value = self.pointer_value(p)?;
        Ok(Place::at_address(value, pointee, p.module))
    }

    /// The address held by a pointer-typed place.
    pub(super) fn pointer_value(&mut self, p: &Place) -> Result<Scalar, String> {
        match p.source.whole() {
            PlaceSource::Readable(s) => Ok(Scalar::Load {
                source: s.clone(),
                size: 8,
                signed: false,
            }),
            PlaceSource::OptimizedOut | PlaceSource::Split(_) => {
                Err("the pointer is optimized out at the selected probe PC".to_string())
            }
            PlaceSource::Unavailable(r) => Err(r.clone()),
            PlaceSource::ImplicitPointer { .. } => Err(
                "the pointer is an implicit pointer at the selected probe PC: it was optimized away, and only what it points to can be read".to_string(),
            ),
        }
    }

    fn operand(&self, t: &Typed) -> Operand {
        match t {
            Typed::Int { .. } => Operand::Integer,
            Typed::Pointer { .. } => Operand::Pointer,
            Typed::Str(_) => Operand::Str,
            Typed::Place(p) => match p.ty.strip() {
                TypeDesc::Pointer { .. } => Operand::Pointer,
                TypeDesc::Aggregate { .. } | TypeDesc::Array { .. } => Operand::Aggregate,
                TypeDesc::Base {
                    encoding: ghostscope_protocol::BaseEncoding::Float,
                    ..
                } => Operand::Float,
                _ => Operand::Integer,
            },
        }
    }

    fn binary(&mut self, op: BinOp, l: &Expr, r: &Expr) -> Result<Typed, String> {
        let lt = self.expr(l)?;
        if matches!(op, BinOp::And | BinOp::Or) {
            let (lv, _, _) = self.scalar(lt, &l.text())?;
            if let Scalar::Const(a) = lv {
                if (a != 0) == (op == BinOp::Or) {
                    // A constant left side decides: the right side is never
                    // read, so it need not be a scalar (script-language §11.3).
                    // Its names and types are still checked.
                    self.expr(r)?;
                    return Ok(boolean(Scalar::Const((op == BinOp::Or) as i64)));
                }
            }
            let rt = self.expr(r)?;
            let (rv, _, _) = self.scalar(rt, &r.text())?;
            return Ok(boolean(match (op, lv, rv) {
                (BinOp::And, Scalar::Const(a), Scalar::Const(b)) => {
                    Scalar::Const((a != 0 && b != 0) as i64)
                }
                (BinOp::Or, Scalar::Const(a), Scalar::Const(b)) => {
                    Scalar::Const((a != 0 || b != 0) as i64)
                }
                (BinOp::And, a, b) => Scalar::And(Box::new(a), Box::new(b)),
                (_, a, b) => Scalar::Or(Box::new(a), Box::new(b)),
            }));
        }
        let rt = self.expr(r)?;
        let (lk, rk) = (self.operand(&lt), self.operand(&rt));
        match (&lk, &rk) {
            (Operand::Str, Operand::Str) if matches!(op, BinOp::Eq | BinOp::Ne) => {
                let (Typed::Str(a), Typed::Str(b)) = (&lt, &rt) else {
                    unreachable!()
                };
                return Ok(boolean(Scalar::Const(
                    ((a == b) == (op == BinOp::Eq)) as i64,
                )));
            }
            (Operand::Str, _) | (_, Operand::Str) if matches!(op, BinOp::Eq | BinOp::Ne) => {
                let (literal, other, other_text) = match (lt, rt) {
                    (Typed::Str(s), other) => (s, other, r.text()),
                    (other, Typed::Str(s)) => (s, other, l.text()),
                    _ => unreachable!("one side is a string"),
                };
                let eq = self.c_string_equals(other, &other_text, literal)?;
                return Ok(boolean(if op == BinOp::Eq {
                    eq
                } else {
                    Scalar::Not(Box::new(eq))
                }));
            }
            (Operand::Str, _) | (_, Operand::Str) => {
                return Err(
                    "Type error: strings can only be compared with '==' or '!='".to_string()
                );
            }
            (Operand::Float, _) | (_, Operand::Float) => {
                return Err(format!(
                    "Type error: '{}' uses a floating-point value; floats can be printed but not used in expressions",
                    Expr::Binary(op, Box::new(l.clone()), Box::new(r.clone())).text()
                ));
            }
            _ => {}
        }
        // Pointer arithmetic: p + n, n + p, p - n.
        if matches!(op, BinOp::Add | BinOp::Sub) {
            let pointer_side = |k: &Operand, t: &Typed| {
                matches!(k, Operand::Pointer)
                    || matches!(t, Typed::Place(p) if matches!(p.ty.strip(), TypeDesc::Array { .. }))
            };
            let (lp, rp) = (pointer_side(&lk, &lt), pointer_side(&rk, &rt));
            if lp && rp {
                return Err(
                    "Type error: pointer - pointer and pointer + pointer are not supported"
                        .to_string(),
                );
            }
            if lp || (rp && op == BinOp::Add) {
                let (ptr, n, n_text) = if lp {
                    (lt, rt, r.text())
                } else {
                    (rt, lt, l.text())
                };
                let (index, _, _) = self.scalar(n, &n_text)?;
                let (address, pointee, module) = self.decay(ptr)?;
                if matches!(pointee.strip(), TypeDesc::Function { .. }) {
                    return Err(format!(
                        "Type error: '{}' is arithmetic on a function pointer, which is not supported",
                        Expr::Binary(op, Box::new(l.clone()), Box::new(r.clone())).text()
                    ));
                }
                // The result is a pointer again, so `(p + 1) + 1` scales twice.
                return Ok(Typed::Pointer {
                    value: pointer_offset(address, &pointee, index, op == BinOp::Sub),
                    pointee,
                    module,
                    arithmetic: true,
                });
            }
            if matches!(lk, Operand::Aggregate) || matches!(rk, Operand::Aggregate) {
                return Err("Pointer arithmetic requires a pointer or array expression".to_string());
            }
        }
        if matches!(lk, Operand::Aggregate) || matches!(rk, Operand::Aggregate) {
            return Err(AGGREGATE_ARITHMETIC.to_string());
        }
        let pointers = matches!(lk, Operand::Pointer) || matches!(rk, Operand::Pointer);
        if pointers && op.is_comparison() && !matches!(op, BinOp::Eq | BinOp::Ne) {
            return Err(POINTER_ORDERING.to_string());
        }
        if pointers && !op.is_comparison() {
            return Err(format!(
                "Type error: operator '{}' is not defined for pointers",
                op.symbol()
            ));
        }
        let (lv, li, _) = self.scalar(lt, &l.text())?;
        let (rv, ri, _) = self.scalar(rt, &r.text())?;
        if op.is_comparison() {
            let t = if pointers {
                IntType::ADDRESS
            } else {
                common_type(li, ri)
            };
            let cmp = match op {
                BinOp::Eq => CmpOp::Eq,
                BinOp::Ne => CmpOp::Ne,
                BinOp::Lt => CmpOp::Lt,
                BinOp::Le => CmpOp::Le,
                BinOp::Gt => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            let (a, b) = (convert(lv, t), convert(rv, t));
            return Ok(boolean(match (a, b) {
                (Scalar::Const(a), Scalar::Const(b)) => {
                    Scalar::Const(fold_compare(cmp, a, b, t.signed) as i64)
                }
                (a, b) => Scalar::Compare(cmp, Box::new(a), Box::new(b), t.signed),
            }));
        }
        let (arith, t) = match op {
            BinOp::Shl => (ArithOp::Shl, promote(li)),
            BinOp::Shr => (ArithOp::Shr, promote(li)),
            BinOp::Mul => (ArithOp::Mul, common_type(li, ri)),
            BinOp::Div => (ArithOp::Div, common_type(li, ri)),
            BinOp::Rem => (ArithOp::Rem, common_type(li, ri)),
            BinOp::Add => (ArithOp::Add, common_type(li, ri)),
            BinOp::Sub => (ArithOp::Sub, common_type(li, ri)),
            BinOp::BitAnd => (ArithOp::And, common_type(li, ri)),
            BinOp::BitXor => (ArithOp::Xor, common_type(li, ri)),
            _ => (ArithOp::Or, common_type(li, ri)),
        };
        let a = convert(lv, t);
        // The shift count keeps its own value; only the left operand is converted.
        let b = if matches!(arith, ArithOp::Shl | ArithOp::Shr) {
            convert(rv, IntType::LONG)
        } else {
            convert(rv, t)
        };
        Ok(int(
            match (a, b) {
                (Scalar::Const(a), Scalar::Const(b)) => Scalar::Const(fold_arith(arith, a, b, t)),
                (a, b) => Scalar::Arith(arith, Box::new(a), Box::new(b), t),
            },
            t,
        ))
    }

    /// `<cstr> == "<lit>"` for a `char *` or `char[N]` (or an alias of one).
    fn c_string_equals(&mut self, t: Typed, text: &str, literal: String) -> Result<Scalar, String> {
        if literal.len() > MAX_COMPARED_STRING {
            return Err(format!(
                "the string literal compared with '{text}' is longer than {MAX_COMPARED_STRING} bytes"
            ));
        }
        let not_a_string = || {
            format!("Type error: '{text}' is not a C string (a char pointer or char array), so it cannot be compared with a string")
        };
        let source = match t {
            Typed::Pointer { value, pointee, .. } if pointee.is_byte_like() => {
                StrSource::Pointer(Box::new(value))
            }
            Typed::Place(p) => match p.ty.strip().clone() {
                TypeDesc::Pointer { .. } => {
                    let pointee =
                        pointee_type(self.session, p.module, &p.ty).map_err(|_| not_a_string())?;
                    if !pointee.is_byte_like() {
                        return Err(not_a_string());
                    }
                    StrSource::Pointer(Box::new(self.pointer_value(&p)?))
                }
                TypeDesc::Array { element, count } if element.is_byte_like() => StrSource::Array {
                    address: Box::new(Scalar::Address(p.address().ok_or_else(|| {
                        format!(
                            "'{text}' is not in memory at this probe PC, so it cannot be compared"
                        )
                    })?)),
                    len: count.unwrap_or(0),
                },
                _ => return Err(not_a_string()),
            },
            _ => return Err(not_a_string()),
        };
        Ok(Scalar::StrEq {
            source,
            literal: literal.into_bytes(),
        })
    }

    /// A pointer or array as (address, element type, module).
    fn decay(&mut self, t: Typed) -> Result<(Scalar, TypeDesc, usize), String> {
        match t {
            Typed::Pointer {
                value,
                pointee,
                module,
                ..
            } => Ok((value, pointee, module)),
            Typed::Place(p) => match p.ty.strip().clone() {
                TypeDesc::Array { element, .. } => match p.address() {
                    Some(ops) => Ok((Scalar::Address(ops), *element, p.module)),
                    None => Err("the array is not in memory at this probe PC".to_string()),
                },
                TypeDesc::Pointer { pointee, .. } => {
                    // `void *` and pointers to declared-only types scale by 1.
                    let pointee = match pointee {
                        None => TypeDesc::Void,
                        Some(r) => self.session.modules()[p.module].module.resolve_type(r),
                    };
                    Ok((self.pointer_value(&p)?, pointee, p.module))
                }
                _ => Err("Pointer arithmetic requires a pointer or array expression".to_string()),
            },
            _ => Err("Pointer arithmetic requires a pointer or array expression".to_string()),
        }
    }

    /// An integer view of a checked expression, for arithmetic and conditions.
    pub(super) fn scalar(
        &mut self,
        t: Typed,
        text: &str,
    ) -> Result<(Scalar, IntType, TypeDesc), String> {
        match t {
            Typed::Int { value, int, desc } => Ok((value, int, desc)),
            Typed::Pointer { value, pointee, .. } => {
                Ok((value, IntType::ADDRESS, TypeDesc::address_of(&pointee)))
            }
            Typed::Str(_) => Err(format!(
                "Type error: the string {text} can only be compared with '==' or '!='"
            )),
            Typed::Place(p) => {
                if let Some(why) = p.unreadable(text) {
                    return Err(why);
                }
                let PlaceSource::Readable(source) = p.source.clone() else {
                    unreachable!("a place that is not unreadable is readable");
                };
                if let Some(bf) = p.bitfield {
                    let declared = int_type_of(&p.ty).unwrap_or(IntType::INT);
                    let storage = (bf.bit_offset + bf.bit_size).div_ceil(8).min(8) as u8;
                    let width_type = if bf.bit_size < 32 {
                        IntType::INT
                    } else if bf.bit_size == 32 && !declared.signed {
                        IntType {
                            size: 4,
                            signed: false,
                        }
                    } else {
                        declared
                    };
                    return Ok((
                        Scalar::Bitfield {
                            source,
                            storage,
                            bit_offset: bf.bit_offset as u8,
                            bit_size: bf.bit_size as u8,
                            signed: declared.signed,
                        },
                        width_type,
                        p.ty.clone(),
                    ));
                }
                match p.ty.strip() {
                    TypeDesc::Pointer { .. } => Ok((
                        Scalar::Load {
                            source,
                            size: 8,
                            signed: false,
                        },
                        IntType::ADDRESS,
                        p.ty.clone(),
                    )),
                    TypeDesc::Aggregate { .. } | TypeDesc::Array { .. } => Err(AGGREGATE_ARITHMETIC.to_string()),
                    _ => match int_type_of(&p.ty) {
                        Some(it) => Ok((
                            match source {
                                Source::Constant(bytes) => {
                                    let mut b = [0u8; 8];
                                    let n = bytes.len().min(8);
                                    b[..n].copy_from_slice(&bytes[..n]);
                                    Scalar::Const(normalize(i64::from_le_bytes(b), it))
                                }
                                source => Scalar::Load {
                                    source,
                                    size: it.size,
                                    signed: it.signed,
                                },
                            },
                            it,
                            p.ty.clone(),
                        )),
                        None => Err(format!(
                            "Type error: '{text}' of type '{}' cannot be used in an expression; it can only be printed",
                            p.ty.name()
                        )),
                    },
                }
            }
        }
    }

    /// The address to dump memory from, and the element type for markers.
    pub(super) fn memory_source(
        &mut self,
        t: Typed,
        text: &str,
    ) -> Result<(Scalar, TypeDesc), String> {
        match t {
            Typed::Pointer { value, pointee, .. } => Ok((value, pointee)),
            Typed::Place(p) => match p.ty.strip().clone() {
                TypeDesc::Pointer { pointee: None, .. } => Ok((self.pointer_value(&p)?, TypeDesc::Void)),
                TypeDesc::Pointer { .. } => {
                    let pointee = pointee_type(self.session, p.module, &p.ty).unwrap_or(TypeDesc::Void);
                    Ok((self.pointer_value(&p)?, pointee))
                }
                other => match p.address() {
                    Some(ops) => {
                        let elem = match other {
                            TypeDesc::Array { element, .. } => *element,
                            _ => p.ty.clone(),
                        };
                        Ok((Scalar::Address(ops), elem))
                    }
                    None => Err(format!(
                        "'{text}' is not in memory at this probe PC, so it cannot be dumped"
                    )),
                },
            },
            Typed::Int { .. } => Err(format!(
                "'{text}' is a script value, not an address; cast it to a pointer type to dump memory, for example cast({text}, \"u8 *\")"
            )),
            Typed::Str(_) => Err(format!("'{text}' is a string literal, not an address")),
        }
    }
}
