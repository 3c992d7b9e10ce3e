//! Statements: print markers, `let`, and `if` with soft-abort.

use super::FunctionGen;
use crate::plan::{PlanElse, PlanIf, PlanStmt};

impl<'a, 'ctx> FunctionGen<'a, 'ctx> {
    pub(super) fn statements(&mut self, stmts: &[PlanStmt]) -> Result<(), String> {
        for s in stmts {
            self.statement(s)?;
        }
        Ok(())
    }

    fn statement(&mut self, s: &PlanStmt) -> Result<(), String> {
        match s {
            PlanStmt::Mark { marker } => {
                self.write_record(*marker, self.no_fail(), self.c64(0));
            }
            PlanStmt::Print { marker, captures } => {
                self.write_record(*marker, self.no_fail(), self.c64(0));
                for c in captures {
                    self.capture(c);
                }
            }
            PlanStmt::Let { id, value } => {
                let e = self.eval(value);
                self.lets.insert(*id, e);
            }
            PlanStmt::If(i) => self.if_stmt(i)?,
            PlanStmt::Backtrace(bt) => {
                self.write_record(bt.marker, self.no_fail(), self.c64(0));
                self.backtrace(bt)?;
            }
        }
        Ok(())
    }

    /// A condition that fails to read runs neither branch, except that an
    /// `else if` still gets its own chance (script-language §11.3).
    fn if_stmt(&mut self, i: &PlanIf) -> Result<(), String> {
        let cond = self.eval(&i.cond);
        self.write_record(i.marker, cond.fail, self.c64(0));
        let then_bb = self.ctx.append_basic_block(self.function, "then");
        let else_bb = self.ctx.append_basic_block(self.function, "else");
        let merge = self.ctx.append_basic_block(self.function, "endif");
        let check = self.ctx.append_basic_block(self.function, "cond_ok");
        let failed = self.ne(cond.fail.status, self.c64(0));
        let on_failure = match i.otherwise {
            Some(PlanElse::If(_)) => else_bb,
            _ => merge,
        };
        self.b
            .build_conditional_branch(failed, on_failure, check)
            .map_err(|e| e.to_string())?;

        self.b.position_at_end(check);
        let truthy = self.ne(cond.value, self.c64(0));
        self.b
            .build_conditional_branch(truthy, then_bb, else_bb)
            .map_err(|e| e.to_string())?;

        self.b.position_at_end(then_bb);
        self.statements(&i.then)?;
        self.b
            .build_unconditional_branch(merge)
            .map_err(|e| e.to_string())?;

        self.b.position_at_end(else_bb);
        match &i.otherwise {
            None => {}
            Some(PlanElse::Block(b)) => self.statements(b)?,
            Some(PlanElse::If(inner)) => self.if_stmt(inner)?,
        }
        self.b
            .build_unconditional_branch(merge)
            .map_err(|e| e.to_string())?;
        self.b.position_at_end(merge);
        Ok(())
    }
}
