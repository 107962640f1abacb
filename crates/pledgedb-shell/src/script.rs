//! Cuts input into SQL statements and dot-commands, as sqlite3 does: a line
//! starting with `.` while no statement is open is a dot-command; anything
//! else is SQL that ends at a `;` outside quotes and comments, possibly many
//! lines later.

/// One thing to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A SQL statement, without its closing `;`.
    Sql(String),
    /// A dot-command line, trimmed.
    Dot(String),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Lex {
    #[default]
    Code,
    Single,
    Double,
    Block,
}

/// Collects lines until statements are complete.
#[derive(Debug, Default)]
pub struct Splitter {
    buf: String,
    lex: Lex,
    has_code: bool,
}

impl Splitter {
    /// A splitter with nothing pending.
    pub fn new() -> Splitter {
        Splitter::default()
    }

    /// Whether no statement is open.
    pub fn is_empty(&self) -> bool {
        !self.has_code && self.lex == Lex::Code
    }

    /// Drops the open statement (Ctrl-C).
    pub fn clear(&mut self) {
        *self = Splitter::default();
    }

    /// Feeds one line (without its line break) and returns what it
    /// completed.
    pub fn feed(&mut self, line: &str) -> Vec<Item> {
        let mut items = Vec::new();
        if self.is_empty() && line.trim_start().starts_with('.') {
            self.clear();
            items.push(Item::Dot(line.trim().to_string()));
            return items;
        }
        if !self.buf.is_empty() {
            self.buf.push('\n');
        }
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match self.lex {
                Lex::Code => match c {
                    ';' => {
                        let stmt = std::mem::take(&mut self.buf);
                        if self.has_code {
                            items.push(Item::Sql(stmt.trim().to_string()));
                        }
                        self.has_code = false;
                        continue;
                    }
                    '-' if chars.peek() == Some(&'-') => {
                        // A comment to the end of the line: dropped.
                        break;
                    }
                    '/' if chars.peek() == Some(&'*') => {
                        chars.next();
                        self.lex = Lex::Block;
                        self.buf.push_str("/*");
                        continue;
                    }
                    '\'' => {
                        self.lex = Lex::Single;
                        self.has_code = true;
                    }
                    '"' => {
                        self.lex = Lex::Double;
                        self.has_code = true;
                    }
                    c if !c.is_whitespace() => self.has_code = true,
                    _ => {}
                },
                Lex::Single => {
                    if c == '\'' {
                        self.lex = Lex::Code;
                    }
                }
                Lex::Double => {
                    if c == '"' {
                        self.lex = Lex::Code;
                    }
                }
                Lex::Block => {
                    if c == '*' && chars.peek() == Some(&'/') {
                        chars.next();
                        self.lex = Lex::Code;
                        self.buf.push_str("*/");
                        continue;
                    }
                }
            }
            self.buf.push(c);
        }
        if self.is_empty() {
            self.buf.clear();
        }
        items
    }

    /// The statement left open at the end of the input, if any: it runs as
    /// if it had been closed with `;`.
    pub fn finish(&mut self) -> Option<Item> {
        let open = !self.is_empty();
        let stmt = std::mem::take(&mut self.buf);
        self.clear();
        open.then(|| Item::Sql(stmt.trim().to_string()))
    }
}

/// Splits a dot-command line into words: blanks separate them, and single
/// or double quotes keep blanks inside one (a doubled quote inside quotes
/// is one quote).
pub fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => {
                if chars.peek() == Some(&q) {
                    chars.next();
                    cur.push(q);
                } else {
                    quote = None;
                }
            }
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".to_string());
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// Every item of a complete input (a `-c` argument or a script).
pub fn split_all(input: &str) -> Vec<Item> {
    let mut s = Splitter::new();
    let mut items: Vec<Item> = input.lines().flat_map(|l| s.feed(l)).collect();
    items.extend(s.finish());
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(s: &str) -> Item {
        Item::Sql(s.to_string())
    }

    #[test]
    fn statements_end_at_semicolons_outside_quotes() {
        let mut s = Splitter::new();
        assert!(s.feed("SELECT 'a;b',").is_empty());
        assert!(!s.is_empty());
        assert_eq!(
            s.feed("  2; SELECT 3;"),
            vec![sql("SELECT 'a;b',\n  2"), sql("SELECT 3")]
        );
        assert!(s.is_empty());
        assert_eq!(s.feed("SELECT \"x;\" -- c;"), vec![]);
        assert_eq!(s.feed(";"), vec![sql("SELECT \"x;\"")]);
    }

    #[test]
    fn comments_and_blank_lines_open_nothing() {
        let mut s = Splitter::new();
        assert!(s.feed("-- just a comment").is_empty());
        assert!(s.is_empty());
        assert!(s.feed("/* multi").is_empty());
        assert!(!s.is_empty());
        assert!(s.feed("line */").is_empty());
        assert!(s.is_empty());
        assert!(s.feed(";;").is_empty());
    }

    #[test]
    fn dot_commands_only_between_statements() {
        let mut s = Splitter::new();
        assert_eq!(s.feed("  .mode csv  "), vec![Item::Dot(".mode csv".into())]);
        assert!(s.feed("SELECT").is_empty());
        assert!(s.feed(".5;").len() == 1);
        assert_eq!(
            split_all(".tables\nSELECT 1;\nSELECT 2"),
            vec![
                Item::Dot(".tables".into()),
                sql("SELECT 1"),
                sql("SELECT 2")
            ]
        );
    }

    #[test]
    fn words_honour_quotes() {
        assert_eq!(
            words(r#".import "my file.log" --domain 'a.example'"#).unwrap(),
            vec![".import", "my file.log", "--domain", "a.example"]
        );
        assert_eq!(words(r#"a "it""s" ''"#).unwrap(), vec!["a", "it\"s", ""]);
        assert!(words("a 'b").is_err());
    }
}
