//! `cast(expr, "TYPE")`: reinterpreting a value as a DWARF or builtin type.

use ghostscope_protocol::TypeDesc;

use super::ctypes::{builtin_scalar, int_type_of};
use super::fold::convert;
use super::{Checker, Typed};
use crate::ast::Expr;
use crate::plan::Scalar;

impl Checker<'_> {
    pub(super) fn cast(&mut self, args: &[Expr]) -> Result<Typed, String> {
        if args.len() != 2 {
            return Err("cast expects two arguments: cast(expr, \"TYPE\")".to_string());
        }
        let Expr::Str(type_text) = &args[1] else {
            return Err("cast target type must be a string".to_string());
        };
        let mut base = type_text.trim().to_string();
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
        let inner = self.expr(&args[0])?;
        let (target, module) = self.find_cast_type(&base, &lookup_name)?;
        if depth > 0 {
            let pointee = (1..depth).fold(target, |t, _| TypeDesc::pointer_to(&t));
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
            });
        }
        match int_type_of(&target) {
            Some(it) => {
                let (v, _, _) = self.scalar(inner, &args[0].text())?;
                Ok(Typed::Int {
                    value: convert(v, it),
                    int: it,
                    desc: target,
                })
            }
            None => match inner {
                Typed::Place(mut p) => {
                    p.ty = target;
                    Ok(Typed::Place(p))
                }
                _ => Err(format!(
                    "Type error: cannot cast a script value to '{type_text}'"
                )),
            },
        }
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
