//! A small builder for the WHERE clauses of list queries, numbering `$n` placeholders as it goes.

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
}

impl Filter {
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
        let pattern = format!("%{}%", escape_like(&needle.to_lowercase()));
        let parts: Vec<String> = columns.iter().map(|c| format!("LOWER(COALESCE({c}, '')) LIKE ? ESCAPE '\\'")).collect();
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
}
