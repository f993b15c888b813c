//! A small builder for the WHERE clauses of list queries, numbering `$n` placeholders as it goes.

use crate::db::Backend;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
}

#[derive(Debug, Default)]
pub struct Filter {
    clauses: Vec<String>,
    args: Vec<Arg>,
    /// SQLite's LOWER and LIKE fold ASCII letters only ("Ó" stays "Ó"), so there `search` matches with
    /// GLOB and a character class per letter instead.
    sqlite: bool,
}

impl Filter {
    /// A filter whose `search` folds letter case the same way on either backend.
    pub fn new(backend: Backend) -> Self {
        Filter {
            sqlite: backend == Backend::Sqlite,
            ..Default::default()
        }
    }

    /// Add a clause; each `?` in it becomes the next `$n`, bound to the matching argument.
    pub fn and(&mut self, clause: &str, args: Vec<Arg>) -> &mut Self {
        let mut out = String::with_capacity(clause.len() + 4);
        let mut it = args.into_iter();
        for ch in clause.chars() {
            if ch == '?' {
                if let Some(a) = it.next() {
                    self.args.push(a);
                    out.push_str(&format!("${}", self.args.len()));
                }
            } else {
                out.push(ch);
            }
        }
        self.clauses.push(out);
        self
    }

    pub fn eq(&mut self, column: &str, value: impl Into<String>) -> &mut Self {
        self.and(&format!("{column} = ?"), vec![Arg::Text(value.into())])
    }

    /// Case-insensitive substring match over one or more columns.
    pub fn search(&mut self, columns: &[&str], needle: &str) -> &mut Self {
        let (pattern, parts): (String, Vec<String>) = if self.sqlite {
            (
                any_case_glob(needle),
                columns.iter().map(|c| format!("COALESCE({c}, '') GLOB ?")).collect(),
            )
        } else {
            let pattern = format!("%{}%", escape_like(&needle.to_lowercase()));
            (
                pattern,
                columns
                    .iter()
                    .map(|c| format!("LOWER(COALESCE({c}, '')) LIKE ? ESCAPE '\\'"))
                    .collect(),
            )
        };
        let args = columns.iter().map(|_| Arg::Text(pattern.clone())).collect();
        self.and(&format!("({})", parts.join(" OR ")), args)
    }

    pub fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The next placeholder number, for LIMIT/OFFSET after the filter.
    pub fn next(&self) -> usize {
        self.args.len() + 1
    }

    pub fn bind<'q>(&self, mut q: Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>> {
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
            };
        }
        q
    }
}

/// A GLOB pattern matching `needle` anywhere in any letter case: `ñu*` becomes `*[ñÑ][uU][*]*`.
fn any_case_glob(needle: &str) -> String {
    let mut out = String::from("*");
    for c in needle.chars() {
        let (mut lower, mut upper) = (c.to_lowercase(), c.to_uppercase());
        match (lower.next(), lower.next(), upper.next(), upper.next()) {
            (Some(l), None, Some(u), None) if l != u => {
                out.push('[');
                out.push(l);
                out.push(u);
                if c != l && c != u {
                    out.push(c);
                }
                out.push(']');
            }
            _ if matches!(c, '*' | '?' | '[') => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out.push('*');
    out
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_in_order() {
        let mut f = Filter::default();
        f.eq("entity_id", "e1").search(&["name", "email"], "50%_x");
        assert_eq!(
            f.where_sql(),
            " WHERE entity_id = $1 AND (LOWER(COALESCE(name, '')) LIKE $2 ESCAPE '\\' OR LOWER(COALESCE(email, '')) LIKE $3 ESCAPE '\\')"
        );
        assert_eq!(f.next(), 4);
        assert!(matches!(&f.args[1], Arg::Text(p) if p == "%50\\%\\_x%"));
    }

    #[test]
    fn sqlite_search_folds_case_beyond_ascii() {
        let mut f = Filter::new(Backend::Sqlite);
        f.search(&["name"], "Ñu*?[]");
        assert_eq!(f.where_sql(), " WHERE (COALESCE(name, '') GLOB $1)");
        assert!(matches!(&f.args[0], Arg::Text(p) if p == "*[ñÑ][uU][*][?][[]]*"));
    }
}
