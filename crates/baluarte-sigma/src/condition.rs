//! The condition grammar: `and`, `or`, `not`, parentheses, `1 of` / `any of` / `all of` with identifier patterns
//! and `them`. Precedence, least to most binding: or, and, not, `x of`, parentheses.

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    Ident(String),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    /// `1 of` / `any of` (`all == false`) or `all of` (`all == true`) over a pattern; `None` is `them`.
    Of {
        all: bool,
        pattern: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    Word(String),
}

const MAX_DEPTH: usize = 64;

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' | ')' | ' ' | '\t' | '\n' | '\r' => {
                if !cur.is_empty() {
                    out.push(Tok::Word(std::mem::take(&mut cur)));
                }
                if c == '(' {
                    out.push(Tok::LParen);
                } else if c == ')' {
                    out.push(Tok::RParen);
                }
            }
            '|' => {
                return Err(
                    "aggregation expressions (`| count() …`) are obsolete in Sigma 2: use a correlation rule".into(),
                )
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(Tok::Word(cur));
    }
    Ok(out)
}

struct P {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

fn kw(t: Option<&Tok>, k: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("condition is nested too deeply".into());
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Cond, String> {
        self.enter()?;
        let mut items = vec![self.and()?];
        while kw(self.peek(), "or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::Or(items)
        })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut items = vec![self.not()?];
        while kw(self.peek(), "and") {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::And(items)
        })
    }

    fn not(&mut self) -> Result<Cond, String> {
        if kw(self.peek(), "not") {
            self.pos += 1;
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, String> {
        match self.toks.get(self.pos).cloned() {
            None => Err("condition ends where an expression was expected".into()),
            Some(Tok::LParen) => {
                self.pos += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err("missing `)` in condition".into());
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::RParen) => Err("unexpected `)` in condition".into()),
            Some(Tok::Word(w)) => {
                let lw = w.to_ascii_lowercase();
                if kw(self.toks.get(self.pos + 1), "of") {
                    let all = match lw.as_str() {
                        "all" => true,
                        "1" | "any" => false,
                        _ => {
                            return Err(format!(
                                "`{w} of` is not defined by the specification (only `1 of`, `any of`, `all of`)"
                            ))
                        }
                    };
                    self.pos += 2;
                    let pattern = match self.toks.get(self.pos).cloned() {
                        Some(Tok::Word(p)) => p,
                        _ => return Err(format!("`{w} of` needs a search identifier pattern or `them`")),
                    };
                    self.pos += 1;
                    let pattern = if pattern.eq_ignore_ascii_case("them") {
                        None
                    } else {
                        Some(pattern)
                    };
                    return Ok(Cond::Of { all, pattern });
                }
                if matches!(lw.as_str(), "and" | "or" | "of" | "them") {
                    return Err(format!("unexpected `{w}` in condition"));
                }
                if lw == "near" {
                    return Err("`near` is obsolete in Sigma 2: use a temporal correlation rule".into());
                }
                self.pos += 1;
                Ok(Cond::Ident(w))
            }
        }
    }
}

/// Parses one condition string.
pub fn parse_condition(s: &str) -> Result<Cond, String> {
    let toks = lex(s)?;
    if toks.is_empty() {
        return Err("empty condition".into());
    }
    let mut p = P { toks, pos: 0, depth: 0 };
    let c = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected {:?} after the end of the condition", p.toks[p.pos]));
    }
    Ok(c)
}

/// Wildcard match of search-identifier patterns (`*` any run).
pub fn ident_matches(pattern: &str, name: &str) -> bool {
    let pieces = crate::pattern::parse_wildcards(pattern);
    crate::pattern::glob_match(&pieces, name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Cond {
        Cond::Ident(s.into())
    }

    #[test]
    fn precedence() {
        assert_eq!(
            parse_condition("a or b and not c").ok(),
            Some(Cond::Or(vec![
                id("a"),
                Cond::And(vec![id("b"), Cond::Not(Box::new(id("c")))])
            ]))
        );
        assert_eq!(
            parse_condition("(a or b) and c").ok(),
            Some(Cond::And(vec![Cond::Or(vec![id("a"), id("b")]), id("c")]))
        );
        assert_eq!(
            parse_condition("not not a").ok(),
            Some(Cond::Not(Box::new(Cond::Not(Box::new(id("a"))))))
        );
    }

    #[test]
    fn of_forms() {
        assert_eq!(
            parse_condition("1 of selection_* and not all of filter*").ok(),
            Some(Cond::And(vec![
                Cond::Of {
                    all: false,
                    pattern: Some("selection_*".into())
                },
                Cond::Not(Box::new(Cond::Of {
                    all: true,
                    pattern: Some("filter*".into())
                }))
            ]))
        );
        assert_eq!(
            parse_condition("any of them").ok(),
            Some(Cond::Of {
                all: false,
                pattern: None
            })
        );
        assert_eq!(
            parse_condition("ALL OF them").ok(),
            Some(Cond::Of {
                all: true,
                pattern: None
            })
        );
        assert!(parse_condition("2 of them").is_err());
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "a and",
            "(a",
            "a)",
            "a b",
            "selection | count() > 5",
            "a near b",
            "and a",
            "1 of",
        ] {
            assert!(parse_condition(bad).is_err(), "{bad}");
        }
        let deep = "(".repeat(200) + "a" + &")".repeat(200);
        assert!(parse_condition(&deep).is_err());
    }

    #[test]
    fn ident_patterns() {
        assert!(ident_matches("selection_*", "selection_img"));
        assert!(!ident_matches("selection_*", "filter_img"));
        assert!(ident_matches("*_img", "selection_img"));
    }
}
