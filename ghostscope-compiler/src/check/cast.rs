//! `cast(expr, "TYPE")`: reinterpreting a value as a DWARF or builtin type.

use ghostscope_protocol::TypeDesc;

use super::ctypes::{builtin_scalar, int_type_of};
use super::fold::convert;
use super::{Checker, Place, Typed};
use crate::ast::Expr;
use crate::parser::int_literal;
use crate::plan::Scalar;

/// What a `cast` type string names.
enum CastTarget {
    /// `T *` (any depth): the pointee type.
    Pointer(TypeDesc),
    /// A scalar, aggregate or array type.
    Value(TypeDesc),
}

impl CastTarget {
    /// The type itself (a pointer target becomes a pointer type).
    fn into_type(self) -> TypeDesc {
        match self {
            CastTarget::Pointer(pointee) => TypeDesc::address_of(&pointee),
            CastTarget::Value(t) => t,
        }
    }
}

impl Checker<'_> {
    pub(super) fn cast(&mut self, args: &[Expr]) -> Result<Typed, String> {
        if args.len() != 2 {
            return Err("cast expects two arguments: cast(expr, \"TYPE\")".to_string());
        }
        let Expr::Str(type_text) = &args[1] else {
            return Err("cast target type must be a string".to_string());
        };
        let inner = self.expr(&args[0])?;
        let (target, module) = self.cast_target(type_text)?;
        let target = match target {
            CastTarget::Pointer(pointee) => {
                let value = match inner {
                    Typed::Place(ref p)
                        if matches!(
                            p.ty.strip(),
                            TypeDesc::Array { .. } | TypeDesc::Aggregate { .. }
                        ) =>
                    {
                        Scalar::Address(
                            p.address()
                                .ok_or("the value is not in memory at this probe PC")?,
                        )
                    }
                    other => self.scalar(other, &args[0].text())?.0,
                };
                return Ok(Typed::Pointer {
                    value,
                    pointee,
                    module,
                    arithmetic: false,
                });
            }
            CastTarget::Value(t) => t,
        };
        if let Some(it) = int_type_of(&target) {
            let (v, _, _) = self.scalar(inner, &args[0].text())?;
            return Ok(Typed::Int {
                value: convert(v, it),
                int: it,
                desc: target,
            });
        }
        let aggregate = matches!(
            target.strip(),
            TypeDesc::Array { .. } | TypeDesc::Aggregate { .. }
        );
        match inner {
            // A pointer cast to a struct or array is read where it points,
            // as the reference does: `cast(c, "struct Complex")` for a `Complex *c`.
            Typed::Place(p) if aggregate && matches!(p.ty.strip(), TypeDesc::Pointer { .. }) => {
                let address = self.pointer_value(&p)?;
                Ok(Typed::Place(Place::at_address(address, target, module)))
            }
            // Any other program value is reinterpreted where it lives.
            Typed::Place(mut p) => {
                p.ty = target;
                p.bitfield = None;
                Ok(Typed::Place(p))
            }
            // An address (a pointer or an integer) is read as the type.
            Typed::Pointer { value, .. } | Typed::Int { value, .. } if aggregate => {
                Ok(Typed::Place(Place::at_address(value, target, module)))
            }
            _ => Err(format!(
                "Type error: cannot cast a script value to '{type_text}'"
            )),
        }
    }

    /// Resolves a cast type string: `T`, `struct T`, `T *`, `T[N]` (script-language §6.8).
    fn cast_target(&self, text: &str) -> Result<(CastTarget, usize), String> {
        let text = text.trim();
        if let Some((element_text, count_text)) =
            text.strip_suffix(']').and_then(|t| t.rsplit_once('['))
        {
            let count = int_literal(count_text.trim())
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    format!("cast target type '{text}' needs a positive array length")
                })?;
            let (element, module) = self.cast_target(element_text)?;
            let element = element.into_type();
            if element.size().unwrap_or(0) == 0 {
                return Err(format!(
                    "cast target type '{text}' has elements of unknown size"
                ));
            }
            let array = TypeDesc::Array {
                element: Box::new(element),
                count: Some(count as u64),
            };
            return Ok((CastTarget::Value(array), module));
        }
        let mut base = text.to_string();
        let mut depth = 0;
        while let Some(stripped) = base.strip_suffix('*') {
            depth += 1;
            base = stripped.trim_end().to_string();
        }
        for q in ["const ", "volatile "] {
            if let Some(s) = base.strip_prefix(q) {
                base = s.trim().to_string();
            }
        }
        let lookup_name = ["struct ", "union ", "enum ", "class "]
            .iter()
            .find_map(|p| base.strip_prefix(p))
            .unwrap_or(&base)
            .trim()
            .to_string();
        let (target, module) = self.find_cast_type(&base, &lookup_name)?;
        Ok(match depth {
            0 => (CastTarget::Value(target), module),
            _ => (
                CastTarget::Pointer((1..depth).fold(target, |t, _| TypeDesc::pointer_to(&t))),
                module,
            ),
        })
    }

    fn find_cast_type(&self, base: &str, name: &str) -> Result<(TypeDesc, usize), String> {
        if base == "void" {
            return Ok((TypeDesc::Void, self.site.module));
        }
        if let Some((_, desc)) = builtin_scalar(base) {
            if self.session.modules()[self.site.module]
                .module
                .find_type(name)
                .is_none()
            {
                return Ok((desc, self.site.module));
            }
        }
        if let Some(t) = self.session.modules()[self.site.module]
            .module
            .find_type(name)
        {
            return Ok((t, self.site.module));
        }
        let hits: Vec<(TypeDesc, usize)> = self
            .session
            .modules()
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != self.site.module)
            .filter_map(|(i, m)| m.module.find_type(name).map(|t| (t, i)))
            .collect();
        match hits.len() {
            0 => match builtin_scalar(base) {
                Some((_, desc)) => Ok((desc, self.site.module)),
                None => Err(format!("cast target type '{base}' was not found")),
            },
            1 => Ok(hits.into_iter().next().unwrap()),
            _ => Err(format!(
                "cast target type '{base}' is ambiguous: it is defined in several modules"
            )),
        }
    }
}
