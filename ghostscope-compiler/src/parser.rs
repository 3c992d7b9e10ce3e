//! Script text → [`Script`], with error messages that point at the spot.

use crate::ast::*;
use crate::error::ParseError;
use pest::iterators::Pair;
use pest::Parser as _;

mod grammar {
    //! The parser pest generates from `grammar.pest`; its `Rule` enum stays private.
    #![allow(missing_docs)]
    use pest_derive::Parser;

    #[derive(Parser)]
    #[grammar = "grammar.pest"]
    pub(super) struct ScriptParser;
}

use grammar::{Rule, ScriptParser};

const KEYWORDS: [&str; 5] = ["trace", "print", "if", "else", "let"];

/// Parses a whole script.
pub fn parse_script(source: &str) -> Result<Script, ParseError> {
    let mut pairs =
        ScriptParser::parse(Rule::program, source).map_err(|e| syntax_error(source, e))?;
    let program = pairs.next().expect("program rule");
    let mut traces = Vec::new();
    for item in program.into_inner() {
        match item.as_rule() {
            Rule::trace_stmt => traces.push(trace_block(source, item)?),
            Rule::stray_stmt => {
                let inner = item.into_inner().next().expect("statement");
                let kind = match inner.as_rule() {
                    Rule::print_stmt => "print",
                    Rule::backtrace_stmt => "backtrace",
                    Rule::let_stmt => "let",
                    Rule::if_stmt => "if",
                    Rule::block => "block",
                    _ => "expression",
                };
                return Err(ParseError::plain(format!(
                    "top-level {kind} statement is not allowed in a script file; put executable statements inside a trace block, for example: trace <target> {{ ... }}"
                )));
            }
            _ => {}
        }
    }
    if traces.is_empty() {
        return Err(ParseError::plain(
            "script must contain at least one top-level trace statement".to_string(),
        ));
    }
    Ok(Script { traces })
}

/// Parses one trace block given as its pattern and its body (the
/// statements inside the braces, without them). Errors in the body count
/// lines and columns in `body`, so they match what the user typed.
pub fn parse_trace_block(target: &str, body: &str) -> Result<TraceBlock, ParseError> {
    let mut pattern = ScriptParser::parse(Rule::pattern_only, target)
        .map_err(|e| syntax_error(target, e))?
        .next()
        .expect("pattern_only rule")
        .into_inner();
    let pattern_pair = pattern.next().expect("pattern");
    let pattern_text = pattern_pair.as_str().to_string();
    let pattern = trace_pattern(pattern_pair)?;
    let statements = ScriptParser::parse(Rule::body_only, body)
        .map_err(|e| syntax_error(body, e))?
        .next()
        .expect("body_only rule")
        .into_inner()
        .filter(|p| p.as_rule() != Rule::EOI)
        .map(|p| statement(body, p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TraceBlock {
        pattern,
        pattern_text,
        body: statements,
        span: Span { line: 1, column: 1 },
    })
}

fn span_of(pair: &Pair<Rule>) -> Span {
    let (line, column) = pair.line_col();
    Span { line, column }
}

fn trace_block(source: &str, pair: Pair<Rule>) -> Result<TraceBlock, ParseError> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let _kw = inner.next();
    let pattern_pair = inner.next().expect("pattern");
    let pattern_text = pattern_pair.as_str().to_string();
    let pattern = trace_pattern(pattern_pair)?;
    let body = block(source, inner.next().expect("block"))?;
    Ok(TraceBlock {
        pattern,
        pattern_text,
        body,
        span,
    })
}

fn trace_pattern(pair: Pair<Rule>) -> Result<TracePattern, ParseError> {
    let text = pair.as_str();
    Ok(match pair.as_rule() {
        Rule::hex_address => TracePattern::Address(parse_address(text, "address")?),
        Rule::module_address => {
            let (module, addr) = text.rsplit_once(':').expect("module:0x");
            TracePattern::ModuleAddress {
                module: module.to_string(),
                addr: parse_address(addr, "module-qualified address").map_err(|_| {
                    ParseError::plain(format!(
                        "module-qualified address '{text}' is invalid or too large for u64"
                    ))
                })?,
            }
        }
        Rule::wildcard => TracePattern::Wildcard(text.trim_end_matches('*').to_string()),
        Rule::source_line => {
            let (file, line) = text.rsplit_once(':').expect("file:line");
            TracePattern::SourceLine {
                file: file.to_string(),
                line: line
                    .parse()
                    .map_err(|_| ParseError::plain(format!("invalid line number in '{text}'")))?,
            }
        }
        Rule::function_pattern => {
            let at_return = text.ends_with("%return");
            TracePattern::Function {
                name: text.trim_end_matches("%return").to_string(),
                at_return,
            }
        }
        other => unreachable!("pattern rule {other:?}"),
    })
}

fn parse_address(text: &str, what: &str) -> Result<u64, ParseError> {
    u64::from_str_radix(&text[2..], 16)
        .map_err(|_| ParseError::plain(format!("{what} '{text}' is invalid or too large for u64")))
}

fn block(source: &str, pair: Pair<Rule>) -> Result<Vec<Stmt>, ParseError> {
    pair.into_inner().map(|p| statement(source, p)).collect()
}

fn statement(source: &str, pair: Pair<Rule>) -> Result<Stmt, ParseError> {
    let span = span_of(&pair);
    match pair.as_rule() {
        Rule::print_stmt => {
            let mut inner = pair.into_inner();
            let _kw = inner.next();
            let body = inner.next().expect("print body");
            Ok(Stmt::Print(match body.as_rule() {
                Rule::string => Print::Text(string_body(body)),
                Rule::format_print => {
                    let fspan = span_of(&body);
                    let mut parts = body.into_inner();
                    let format = string_body(parts.next().expect("format"));
                    let args = parts.map(expr).collect::<Result<_, _>>()?;
                    Print::Format {
                        format,
                        args,
                        span: fspan,
                    }
                }
                _ => Print::Value(expr(body)?),
            }))
        }
        Rule::backtrace_stmt => {
            let mut options = Vec::new();
            for p in pair.into_inner().filter(|p| p.as_rule() != Rule::semi) {
                match p.as_rule() {
                    Rule::bt_flag => options.push(p.as_str().to_string()),
                    Rule::bt_depth => {
                        return Err(ParseError::plain(format!(
                            "bt depth is no longer a script option at line {}. Set the global limit with --backtrace-depth <N> or [ebpf] backtrace_depth = N.",
                            span.line
                        )))
                    }
                    _ => {}
                }
            }
            Ok(Stmt::Backtrace { options, span })
        }
        Rule::if_stmt => Ok(Stmt::If(if_stmt(source, pair)?)),
        Rule::let_stmt => {
            let mut inner = pair.into_inner();
            let _kw = inner.next();
            let name = inner.next().expect("name").as_str().to_string();
            let value = expr(inner.next().expect("value"))?;
            Ok(Stmt::Let { name, value, span })
        }
        Rule::assign_stmt => {
            let name = pair.into_inner().next().expect("name").as_str().to_string();
            Err(ParseError::plain(format!(
                "Assignment is not supported: variables are immutable. Use 'let {name} = ...' to bind once."
            )))
        }
        Rule::nested_trace => Err(ParseError::plain(
            "'trace' cannot be nested; it is only allowed at the top level".to_string(),
        )),
        Rule::expr_stmt => Ok(Stmt::Expr(expr(pair.into_inner().next().expect("expr"))?)),
        other => unreachable!("statement rule {other:?}"),
    }
}

fn if_stmt(source: &str, pair: Pair<Rule>) -> Result<IfStmt, ParseError> {
    let mut inner = pair.into_inner();
    let _kw = inner.next();
    let cond = expr(inner.next().expect("condition"))?;
    let then = block(source, inner.next().expect("then"))?;
    let otherwise = match inner.next() {
        None => None,
        Some(else_clause) => {
            let mut parts = else_clause.into_inner();
            let _kw = parts.next();
            let body = parts.next().expect("else body");
            Some(match body.as_rule() {
                Rule::if_stmt => Else::If(Box::new(if_stmt(source, body)?)),
                _ => Else::Block(block(source, body)?),
            })
        }
    };
    Ok(IfStmt {
        cond,
        then,
        otherwise,
    })
}

fn string_body(pair: Pair<Rule>) -> String {
    pair.into_inner()
        .next()
        .map(|b| b.as_str().to_string())
        .unwrap_or_default()
}

fn expr(pair: Pair<Rule>) -> Result<Expr, ParseError> {
    match pair.as_rule() {
        Rule::expr => expr(pair.into_inner().next().expect("inner")),
        Rule::logical_or
        | Rule::logical_and
        | Rule::bit_or
        | Rule::bit_xor
        | Rule::bit_and
        | Rule::equality
        | Rule::relational
        | Rule::shift
        | Rule::additive
        | Rule::term => {
            let mut inner = pair.into_inner();
            let mut lhs = expr(inner.next().expect("operand"))?;
            while let Some(op) = inner.next() {
                let rhs = expr(inner.next().expect("operand"))?;
                lhs = Expr::Binary(bin_op(op.as_str()), Box::new(lhs), Box::new(rhs));
            }
            Ok(lhs)
        }
        Rule::unary => {
            let mut inner = pair.into_inner();
            let first = inner.next().expect("unary");
            match first.as_rule() {
                Rule::op_prefix => {
                    let operand = expr(inner.next().expect("operand"))?;
                    Ok(match first.as_str() {
                        "-" => Expr::Binary(BinOp::Sub, Box::new(Expr::Int(0)), Box::new(operand)),
                        "!" => Expr::Unary(UnOp::Not, Box::new(operand)),
                        _ => Expr::Unary(UnOp::BitNot, Box::new(operand)),
                    })
                }
                Rule::op_pointer => {
                    let operand = expr(inner.next().expect("operand"))?;
                    Ok(match (first.as_str(), operand) {
                        ("*", operand) => Expr::Deref(Box::new(operand)),
                        // `&*e` is `e`, and its expression text is `e`'s (script-language §4.1).
                        (_, Expr::Deref(inner)) => *inner,
                        (_, operand) => Expr::AddressOf(Box::new(operand)),
                    })
                }
                _ => expr(first),
            }
        }
        Rule::postfix => {
            let mut inner = pair.into_inner();
            let mut e = expr(inner.next().expect("primary"))?;
            for suffix in inner {
                match suffix.as_rule() {
                    Rule::member => {
                        let field = suffix.into_inner().next().expect("field");
                        e = match field.as_rule() {
                            Rule::tuple_index => Expr::TupleField(
                                Box::new(e),
                                field.as_str().parse().map_err(|_| {
                                    ParseError::plain(format!(
                                        "tuple index is out of range: {}",
                                        field.as_str()
                                    ))
                                })?,
                            ),
                            _ => Expr::Member(Box::new(e), field.as_str().to_string()),
                        };
                    }
                    Rule::index => {
                        let i = expr(suffix.into_inner().next().expect("index"))?;
                        e = Expr::Index(Box::new(e), Box::new(i));
                    }
                    other => unreachable!("postfix {other:?}"),
                }
            }
            Ok(e)
        }
        Rule::call => {
            let mut inner = pair.into_inner();
            let name = inner.next().expect("name").as_str().to_string();
            let args = inner.map(expr).collect::<Result<Vec<_>, _>>()?;
            const BUILTINS: [&str; 5] = ["memcmp", "strncmp", "starts_with", "hex", "cast"];
            if !BUILTINS.contains(&name.as_str()) {
                return Err(ParseError::plain(format!(
                    "Unknown builtin function: {name}"
                )));
            }
            Ok(Expr::Call(name, args))
        }
        Rule::bool_lit => Ok(Expr::Bool(pair.as_str() == "true")),
        Rule::string => Ok(Expr::Str(string_body(pair))),
        Rule::float_lit => Err(ParseError::plain(
            "float literals are not supported".to_string(),
        )),
        Rule::int_lit => int_literal(pair.as_str()).map(Expr::Int),
        Rule::special_var => Ok(Expr::Special(pair.as_str()[1..].to_string())),
        Rule::identifier => Ok(Expr::Name(pair.as_str().to_string())),
        other => unreachable!("expression rule {other:?}"),
    }
}

fn bin_op(s: &str) -> BinOp {
    match s {
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "%" => BinOp::Rem,
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "<<" => BinOp::Shl,
        ">>" => BinOp::Shr,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "==" => BinOp::Eq,
        "!=" => BinOp::Ne,
        "&" => BinOp::BitAnd,
        "^" => BinOp::BitXor,
        "|" => BinOp::BitOr,
        "&&" => BinOp::And,
        "||" => BinOp::Or,
        other => unreachable!("operator {other}"),
    }
}

/// Parses an integer literal; it must fit in i64.
pub fn int_literal(text: &str) -> Result<i64, ParseError> {
    let (digits, radix, kind) = if let Some(d) = text.strip_prefix("0x") {
        (d, 16, "hex")
    } else if let Some(d) = text.strip_prefix("0o") {
        (d, 8, "octal")
    } else if let Some(d) = text.strip_prefix("0b") {
        (d, 2, "binary")
    } else {
        (text, 10, "decimal")
    };
    i64::from_str_radix(digits, radix)
        .map_err(|_| ParseError::plain(format!("invalid {kind} integer literal")))
}

/// Turns a pest failure into our message: a hint when one applies, else the
/// position, what was expected, and the line with a caret under the spot.
fn syntax_error(source: &str, e: pest::error::Error<Rule>) -> ParseError {
    let (line, column) = match e.line_col {
        pest::error::LineColLocation::Pos(p) | pest::error::LineColLocation::Span(p, _) => p,
    };
    let offset = match e.location {
        pest::error::InputLocation::Pos(p) | pest::error::InputLocation::Span((p, _)) => p,
    };
    if let Some(hint) = unclosed_string_hint(source) {
        return ParseError::plain(format!("Parse error: Syntax error: {hint}"));
    }
    if let Some(hint) = unknown_keyword_hint(source, offset) {
        return ParseError::plain(format!("Parse error: Syntax error: {hint}"));
    }
    let expected = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => describe_expected(positives),
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    let source_line = source.lines().nth(line - 1).unwrap_or("");
    ParseError {
        message: format!(
            "Parse error: Pest parser error: line {line}, column {column}: expected {expected}"
        ),
        snippet: Some(format!(
            "  {line} | {source_line}\n  {pad} | {caret:>column$}",
            pad = " ".repeat(line.to_string().len()),
            caret = "^",
        )),
    }
}

fn describe_expected(rules: &[Rule]) -> String {
    let mut names: Vec<&str> = rules
        .iter()
        .map(|r| match r {
            Rule::trace_stmt | Rule::kw_trace => "'trace'",
            Rule::semi => "';'",
            Rule::EOI => "end of script",
            Rule::block => "'{'",
            Rule::expr
            | Rule::logical_or
            | Rule::unary
            | Rule::postfix
            | Rule::identifier
            | Rule::int_lit
            | Rule::string
            | Rule::call => "an expression",
            Rule::op_or
            | Rule::op_and
            | Rule::op_bit_or
            | Rule::op_bit_xor
            | Rule::op_bit_and
            | Rule::op_equality
            | Rule::op_relational
            | Rule::op_shift
            | Rule::op_additive
            | Rule::op_term
            | Rule::member
            | Rule::index => "an operator",
            Rule::print_stmt
            | Rule::if_stmt
            | Rule::let_stmt
            | Rule::backtrace_stmt
            | Rule::expr_stmt
            | Rule::assign_stmt => "a statement",
            Rule::module_address
            | Rule::hex_address
            | Rule::wildcard
            | Rule::source_line
            | Rule::function_pattern => "a trace target (function, file:line or 0xADDR)",
            _ => "a valid token",
        })
        .collect();
    names.dedup();
    let mut unique: Vec<&str> = Vec::new();
    for n in names {
        if !unique.contains(&n) {
            unique.push(n);
        }
    }
    if unique.len() > 1 {
        unique.retain(|n| *n != "a valid token");
    }
    match unique.len() {
        0 => "a valid token".to_string(),
        1 => unique[0].to_string(),
        _ => {
            let last = unique.pop().unwrap();
            format!("{} or {last}", unique.join(", "))
        }
    }
}

/// `print "…` with no closing quote.
fn unclosed_string_hint(source: &str) -> Option<String> {
    let mut open: Option<usize> = None;
    let mut line_no = 1;
    let mut open_line = 0;
    for ch in source.chars() {
        if ch == '"' {
            if open.is_some() {
                open = None;
            } else {
                open = Some(line_no);
                open_line = line_no;
            }
        }
        if ch == '\n' {
            line_no += 1;
        }
    }
    open?;
    let text = source.lines().nth(open_line - 1).unwrap_or("");
    if !text.contains("print") {
        return None;
    }
    let after = &text[text.find('"').map_or(0, |i| i + 1)..];
    if after.contains(',') {
        Some(format!(
            "Unclosed string literal in print at line {open_line}. Did you forget a closing \"\" before ',' and arguments?"
        ))
    } else {
        Some(format!(
            "Unclosed string literal in print at line {open_line}."
        ))
    }
}

/// A statement that starts with a word that looks like a misspelt keyword.
fn unknown_keyword_hint(source: &str, offset: usize) -> Option<String> {
    let before = &source[..offset.min(source.len())];
    let stmt_start = before.rfind([';', '{', '}']).map_or(0, |i| i + 1);
    let stmt = source[stmt_start..].trim_start();
    let word: String = stmt
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if word.is_empty() || KEYWORDS.contains(&word.as_str()) || word == "bt" || word == "backtrace" {
        return None;
    }
    // A keyword-like word is followed by whitespace and more text, not an operator.
    let rest = stmt[word.len()..].trim_start();
    let next = rest.chars().next()?;
    let looks_like_statement = stmt[word.len()..].starts_with(char::is_whitespace)
        && (next.is_ascii_alphanumeric() || next == '"' || next == '_' || next == '$');
    if !looks_like_statement {
        return None;
    }
    let line = source[..stmt_start + (source[stmt_start..].len() - stmt.len())]
        .matches('\n')
        .count()
        + 1;
    let best = KEYWORDS
        .iter()
        .map(|k| (strsim::levenshtein(k, &word), *k))
        .min()
        .filter(|(d, _)| *d <= 2);
    Some(match best {
        Some((_, kw)) => format!("Unknown keyword '{word}' at line {line}. Did you mean '{kw}'?"),
        None => format!(
            "Unknown keyword '{word}' at line {line}. Expected one of: trace, print, if, else, let"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(s: &str) -> Script {
        parse_script(s).unwrap_or_else(|e| panic!("{s}: {}", e.message))
    }

    fn parse_err(s: &str) -> String {
        parse_script(s).unwrap_err().message
    }

    #[test]
    fn parses_patterns() {
        let s = parse_ok(
            "trace f {} trace net.c:42 {} trace 0x1f {} trace lib.so:0x10 {} trace g%return {} trace http_* {} trace a::b {}",
        );
        let pats: Vec<TracePattern> = s.traces.into_iter().map(|t| t.pattern).collect();
        assert_eq!(
            pats,
            vec![
                TracePattern::Function {
                    name: "f".into(),
                    at_return: false
                },
                TracePattern::SourceLine {
                    file: "net.c".into(),
                    line: 42
                },
                TracePattern::Address(0x1f),
                TracePattern::ModuleAddress {
                    module: "lib.so".into(),
                    addr: 0x10
                },
                TracePattern::Function {
                    name: "g".into(),
                    at_return: true
                },
                TracePattern::Wildcard("http_".into()),
                TracePattern::Function {
                    name: "a::b".into(),
                    at_return: false
                },
            ]
        );
    }

    #[test]
    fn parses_statements_and_precedence() {
        let s = parse_ok(
            r#"trace f {
                // comment
                print "id={} qty={}", id, qty; /* block */
                print o.customer.name;
                print "literal {}";
                let x = a + b * 2;
                if x > 3 && !flag { print "big"; } else if x == 0 { print "zero"; } else { print "small"; }
                bt raw;
                *p;
                print -x;
                print arr[i + 1].f;
                print &a.b;
                print cast(p, "struct order *");
            }"#,
        );
        let body = &s.traces[0].body;
        assert!(matches!(&body[0], Stmt::Print(Print::Format { args, .. }) if args.len() == 2));
        assert!(matches!(&body[2], Stmt::Print(Print::Text(t)) if t == "literal {}"));
        let Stmt::Let { value, .. } = &body[3] else {
            panic!()
        };
        assert_eq!(value.text(), "(a+(b*2))");
        let Stmt::If(i) = &body[4] else { panic!() };
        assert_eq!(i.cond.text(), "((x>3)&&!flag)");
        assert!(matches!(i.otherwise, Some(Else::If(_))));
        let texts: Vec<String> = body[7..]
            .iter()
            .map(|s| match s {
                Stmt::Print(Print::Value(e)) => e.text(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(
            texts,
            vec![
                "(0-x)",
                "arr[(i+1)].f",
                "&a.b",
                "cast(p, \"struct order *\")"
            ]
        );
    }

    #[test]
    fn address_of_a_dereference_folds_away() {
        let s = parse_ok(
            "trace f { print &*&*c; print &*(q + 0b1); print &*np; print *&x; print *p.next; print &*p.next; }",
        );
        let texts: Vec<String> = s.traces[0]
            .body
            .iter()
            .map(|s| match s {
                Stmt::Print(Print::Value(e)) => e.text(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(texts, ["c", "(q+1)", "np", "*&x", "*p.next", "p.next"]);
    }

    #[test]
    fn integer_literals() {
        assert_eq!(int_literal("0x1F").unwrap(), 31);
        assert_eq!(int_literal("0o755").unwrap(), 493);
        assert_eq!(int_literal("0b1010").unwrap(), 10);
        assert_eq!(
            parse_script("trace f { print 18446744073709551615; }")
                .unwrap_err()
                .message,
            "invalid decimal integer literal"
        );
        assert_eq!(
            parse_script("trace f { print 0xZZ; }").unwrap_err().message,
            "invalid hex integer literal"
        );
        assert_eq!(
            parse_err("trace f { print 1.5; }"),
            "float literals are not supported"
        );
    }

    #[test]
    fn structural_errors_use_the_spec_wording() {
        assert_eq!(
            parse_err("print x;"),
            "top-level print statement is not allowed in a script file; put executable statements inside a trace block, for example: trace <target> { ... }"
        );
        assert_eq!(
            parse_err("   // nothing\n"),
            "script must contain at least one top-level trace statement"
        );
        assert_eq!(
            parse_err("trace f { trace g { } }"),
            "'trace' cannot be nested; it is only allowed at the top level"
        );
        assert_eq!(
            parse_err("trace f { x = 1; }"),
            "Assignment is not supported: variables are immutable. Use 'let x = ...' to bind once."
        );
        assert!(parse_err("trace f { bt 5; }")
            .starts_with("bt depth is no longer a script option at line 1."));
        assert_eq!(
            parse_err("trace f { print foo(1); }"),
            "Unknown builtin function: foo"
        );
    }

    #[test]
    fn syntax_errors_point_at_line_and_column() {
        let e = parse_script("trace f {\n  print x\n}").unwrap_err();
        assert!(e.message.starts_with("Parse error:"), "{}", e.message);
        assert!(e.message.contains("line 3, column 1"), "{}", e.message);
        let snippet = e.snippet.unwrap();
        assert!(snippet.contains("3 | }"), "{snippet}");
        assert!(snippet.ends_with("| ^"), "{snippet}");
    }

    #[test]
    fn a_block_given_in_parts_counts_errors_in_its_body() {
        let b = parse_trace_block("update_order", "print qty;\nprint \"x\";").unwrap();
        assert_eq!(b.pattern_text, "update_order");
        assert_eq!(b.body.len(), 2);
        let e = parse_trace_block("f", "print qty;\n  print x").unwrap_err();
        assert!(e.message.contains("line 2, column 10"), "{}", e.message);
        assert!(e.snippet.unwrap().starts_with("  2 |   print x"));
        let e = parse_trace_block("f", "prnt x;").unwrap_err();
        assert!(
            e.message.contains("Unknown keyword 'prnt' at line 1."),
            "{}",
            e.message
        );
        assert!(parse_trace_block("f", "}").is_err());
        assert!(parse_trace_block("0xZZ", "print 1;").is_err());
        assert!(parse_trace_block("f", "").unwrap().body.is_empty());
    }

    #[test]
    fn hints_for_common_mistakes() {
        assert!(parse_err("trace f { print \"x={}, x; }")
            .contains("Unclosed string literal in print at line 1. Did you forget a closing \"\" before ',' and arguments?"));
        assert!(parse_err("trace f { prnt x; }")
            .contains("Unknown keyword 'prnt' at line 1. Did you mean 'print'?"));
        assert!(parse_err("trace f {\n zzzzz x; }").contains(
            "Unknown keyword 'zzzzz' at line 2. Expected one of: trace, print, if, else, let"
        ));
    }
}
