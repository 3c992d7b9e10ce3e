//! The parsed script, before any name is resolved.

/// Line and column of a construct (1-based), for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A whole script: its trace blocks in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// Trace blocks in script order.
    pub traces: Vec<TraceBlock>,
}

/// `trace <pattern> { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceBlock {
    /// Where the probes go.
    pub pattern: TracePattern,
    /// The pattern exactly as written (used as the trace's target label).
    pub pattern_text: String,
    /// Statements of the block.
    pub body: Vec<Stmt>,
    /// Position of the `trace` keyword.
    pub span: Span,
}

/// Where a trace block attaches (script-language §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TracePattern {
    /// A function name, or a `::`-qualified name (beyond).
    Function {
        /// The name as written.
        name: String,
        /// `%return` (beyond).
        at_return: bool,
    },
    /// `prefix*` (beyond).
    Wildcard(String),
    /// `file:line`.
    SourceLine {
        /// The file as written.
        file: String,
        /// The line.
        line: u32,
    },
    /// `0xADDR` in the default module.
    Address(u64),
    /// `module:0xADDR`.
    ModuleAddress {
        /// Module path or suffix.
        module: String,
        /// Module-relative address.
        addr: u64,
    },
}

/// A statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `print …;`
    Print(Print),
    /// `let name = expr;`
    Let {
        /// Bound name.
        name: String,
        /// Right-hand side.
        value: Expr,
        /// Position of `let`.
        span: Span,
    },
    /// `if … { } else …`
    If(IfStmt),
    /// `bt;` / `backtrace;` with options.
    Backtrace {
        /// `raw`, `full`, `inline`, `noinline` in order.
        options: Vec<String>,
        /// Position.
        span: Span,
    },
    /// `expr;` — checked, then ignored.
    Expr(Expr),
}

/// The three forms of `print`.
#[derive(Debug, Clone, PartialEq)]
pub enum Print {
    /// `print "text";`
    Text(String),
    /// `print expr;`
    Value(Expr),
    /// `print "format", args…;`
    Format {
        /// The format string.
        format: String,
        /// Arguments in order.
        args: Vec<Expr>,
        /// Position of the format string.
        span: Span,
    },
}

/// `if cond { then } [else …]`.
#[derive(Debug, Clone, PartialEq)]
pub struct IfStmt {
    /// The condition.
    pub cond: Expr,
    /// The then-branch.
    pub then: Vec<Stmt>,
    /// The else-branch, if any.
    pub otherwise: Option<Else>,
}

/// What follows `else`.
#[derive(Debug, Clone, PartialEq)]
pub enum Else {
    /// `else if …`
    If(Box<IfStmt>),
    /// `else { … }`
    Block(Vec<Stmt>),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `&`
    BitAnd,
    /// `^`
    BitXor,
    /// `|`
    BitOr,
    /// `&&`
    And,
    /// `||`
    Or,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::BitAnd => "&",
            BinOp::BitXor => "^",
            BinOp::BitOr => "|",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }

    /// Whether the result is a boolean comparison.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne
        )
    }
}

/// Unary operators other than `*` and `&`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `!`
    Not,
    /// `~`
    BitNot,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Integer literal (script type i64).
    Int(i64),
    /// `true` / `false`.
    Bool(bool),
    /// String literal.
    Str(String),
    /// `$name`.
    Special(String),
    /// A name: script variable, DWARF local, parameter or global.
    Name(String),
    /// `a.b`.
    Member(Box<Expr>, String),
    /// `a.0`.
    TupleField(Box<Expr>, u32),
    /// `a[i]`.
    Index(Box<Expr>, Box<Expr>),
    /// `*e`.
    Deref(Box<Expr>),
    /// `&e`.
    AddressOf(Box<Expr>),
    /// `!e`, `~e`.
    Unary(UnOp, Box<Expr>),
    /// `l op r`; unary minus is `0 - e`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `name(args…)`: builtins and `cast`.
    Call(String, Vec<Expr>),
}

/// Longest expression text shown before it is cut (script-language §4.6).
const MAX_EXPR_TEXT: usize = 96;

impl Expr {
    /// The normalised text of the expression, as `print expr;` shows it.
    pub fn text(&self) -> String {
        let full = self.full_text();
        if full.chars().count() > MAX_EXPR_TEXT {
            let cut: String = full.chars().take(MAX_EXPR_TEXT - 3).collect();
            format!("{cut}...")
        } else {
            full
        }
    }

    fn full_text(&self) -> String {
        match self {
            Expr::Int(v) => v.to_string(),
            Expr::Bool(b) => b.to_string(),
            Expr::Str(s) => format!("\"{s}\""),
            Expr::Special(n) => format!("${n}"),
            Expr::Name(n) => n.clone(),
            Expr::Member(e, f) => format!("{}.{f}", e.full_text()),
            Expr::TupleField(e, i) => format!("{}.{i}", e.full_text()),
            Expr::Index(e, i) => format!("{}[{}]", e.full_text(), i.full_text()),
            Expr::Deref(e) => format!("*{}", e.full_text()),
            Expr::AddressOf(e) => format!("&{}", e.full_text()),
            Expr::Unary(UnOp::Not, e) => format!("!{}", e.full_text()),
            Expr::Unary(UnOp::BitNot, e) => format!("~{}", e.full_text()),
            Expr::Binary(op, l, r) => {
                format!("({}{}{})", l.full_text(), op.symbol(), r.full_text())
            }
            Expr::Call(name, args) if name == "cast" && args.len() == 2 => {
                format!("cast({}, {})", args[0].full_text(), args[1].full_text())
            }
            Expr::Call(name, args) => {
                let args: Vec<String> = args.iter().map(Expr::full_text).collect();
                format!("{name}({})", args.join(", "))
            }
        }
    }
}

/// Program names a trace body refers to, in order of first use, without
/// the names the body binds with `let` (for `--dry-run-details`).
pub fn referenced_names(body: &[Stmt]) -> Vec<String> {
    fn expr(e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::Name(n) => {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
            Expr::Member(b, _)
            | Expr::TupleField(b, _)
            | Expr::Deref(b)
            | Expr::AddressOf(b)
            | Expr::Unary(_, b) => expr(b, out),
            Expr::Index(a, b) | Expr::Binary(_, a, b) => {
                expr(a, out);
                expr(b, out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| expr(a, out)),
            Expr::Int(_) | Expr::Bool(_) | Expr::Str(_) | Expr::Special(_) => {}
        }
    }
    fn stmts(body: &[Stmt], out: &mut Vec<String>, bound: &mut Vec<String>) {
        for s in body {
            match s {
                Stmt::Print(Print::Value(e)) | Stmt::Expr(e) => expr(e, out),
                Stmt::Print(Print::Format { args, .. }) => args.iter().for_each(|a| expr(a, out)),
                Stmt::Print(Print::Text(_)) | Stmt::Backtrace { .. } => {}
                Stmt::Let { name, value, .. } => {
                    expr(value, out);
                    bound.push(name.clone());
                }
                Stmt::If(i) => if_stmt(i, out, bound),
            }
        }
    }
    fn if_stmt(i: &IfStmt, out: &mut Vec<String>, bound: &mut Vec<String>) {
        expr(&i.cond, out);
        stmts(&i.then, out, bound);
        match &i.otherwise {
            Some(Else::If(inner)) => if_stmt(inner, out, bound),
            Some(Else::Block(b)) => stmts(b, out, bound),
            None => {}
        }
    }
    let mut out = Vec::new();
    let mut bound = Vec::new();
    stmts(body, &mut out, &mut bound);
    out.retain(|n| !bound.contains(n));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expression_text_is_normalised() {
        let e = Expr::Binary(
            BinOp::Eq,
            Box::new(Expr::Member(
                Box::new(Expr::Name("a".into())),
                "status".into(),
            )),
            Box::new(Expr::Int(0)),
        );
        assert_eq!(e.text(), "(a.status==0)");
        let neg = Expr::Binary(
            BinOp::Sub,
            Box::new(Expr::Int(0)),
            Box::new(Expr::Name("x".into())),
        );
        assert_eq!(neg.text(), "(0-x)");
        let call = Expr::Call(
            "memcmp".into(),
            vec![
                Expr::Name("hdr".into()),
                Expr::Call("hex".into(), vec![Expr::Str("4745".into())]),
                Expr::Int(2),
            ],
        );
        assert_eq!(call.text(), "memcmp(hdr, hex(\"4745\"), 2)");
        let long = Expr::Name("x".repeat(120));
        assert_eq!(long.text().len(), 96);
        assert!(long.text().ends_with("..."));
    }
}
