//! Parser for the subset of QuickBooks' query language that clients send:
//!
//! `SELECT * | COUNT(*) FROM <Entity> [WHERE <cond> [AND <cond>]...] [ORDERBY <field> [ASC|DESC], ...]
//!  [STARTPOSITION n] [MAXRESULTS n]`, where a condition is `field (= | < | > | <= | >=) literal`,
//! `field IN (literal, ...)` or `field LIKE 'pattern'` (`%` wildcard only). Keywords, entity and
//! field names are case-insensitive; strings are single-quoted with backslash escapes. As on
//! QuickBooks there is no OR, no JOIN and no projection (python-quickbooks' `SELECT *, Sku` is
//! accepted and means `*`). Hand-written: the grammar is tiny and QuickBooks-specific.

use crate::model::EntityType;

pub const DEFAULT_MAX_RESULTS: usize = 100;
pub const MAX_RESULTS_LIMIT: usize = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    All,
    Count,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Literal {
    Text(String),
    Number(String),
    Bool(bool),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Predicate {
    Compare(Comparison, Literal),
    In(Vec<Literal>),
    Like(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub field: String,
    pub predicate: Predicate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ordering {
    pub field: String,
    pub descending: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub selection: Selection,
    pub entity: EntityType,
    pub conditions: Vec<Condition>,
    pub order_by: Vec<Ordering>,
    /// 1-based.
    pub start_position: usize,
    pub max_results: usize,
}

/// Why a query was refused; becomes a `ValidationFault`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Syntax (QuickBooks code 4000, `QueryParserError`).
    #[error("QueryParserError: {0}")]
    Parse(String),
    /// Well-formed but not allowed (QuickBooks code 4001, `QueryValidationError`).
    #[error("QueryValidationError: {0}")]
    Invalid(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(String),
    Star,
    Open,
    Close,
    Comma,
    Operator(Comparison),
}

fn tokenize(text: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '*' | '(' | ')' | ',' | '=' => {
                chars.next();
                tokens.push(match c {
                    '*' => Token::Star,
                    '(' => Token::Open,
                    ')' => Token::Close,
                    ',' => Token::Comma,
                    _ => Token::Operator(Comparison::Eq),
                });
            }
            '<' | '>' => {
                chars.next();
                let or_equal = chars.next_if_eq(&'=').is_some();
                tokens.push(Token::Operator(match (c, or_equal) {
                    ('<', false) => Comparison::Lt,
                    ('<', true) => Comparison::Le,
                    ('>', false) => Comparison::Gt,
                    _ => Comparison::Ge,
                }));
            }
            '\'' => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some('\\') => match chars.next() {
                            Some(escaped) => value.push(escaped),
                            None => return Err(QueryError::Parse("unterminated string".into())),
                        },
                        Some('\'') => break,
                        Some(other) => value.push(other),
                        None => return Err(QueryError::Parse("unterminated string".into())),
                    }
                }
                tokens.push(Token::Text(value));
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let mut number = String::new();
                while let Some(d) = chars.next_if(|d| d.is_ascii_digit() || *d == '.' || *d == '-') {
                    number.push(d);
                }
                tokens.push(Token::Number(number));
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut word = String::new();
                while let Some(d) = chars.next_if(|d| d.is_alphanumeric() || *d == '_' || *d == '.') {
                    word.push(d);
                }
                tokens.push(Token::Word(word));
            }
            other => return Err(QueryError::Parse(format!("Encountered \"{other}\"."))),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.at_keyword(keyword);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<(), QueryError> {
        if self.eat_keyword(keyword) { Ok(()) } else { Err(self.unexpected(&format!("\"{keyword}\""))) }
    }

    fn expect(&mut self, token: Token, what: &str) -> Result<(), QueryError> {
        if self.peek() == Some(&token) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }

    fn unexpected(&self, expected: &str) -> QueryError {
        let found = match self.peek() {
            Some(Token::Word(w)) | Some(Token::Number(w)) => w.clone(),
            Some(Token::Text(t)) => format!("'{t}'"),
            Some(other) => format!("{other:?}"),
            None => "<EOF>".into(),
        };
        QueryError::Parse(format!("Encountered \"{found}\", was expecting {expected}."))
    }

    fn word(&mut self, what: &str) -> Result<String, QueryError> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let w = w.clone();
                self.at += 1;
                Ok(w)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn number(&mut self, what: &str) -> Result<usize, QueryError> {
        match self.next() {
            Some(Token::Number(n)) => {
                n.parse().map_err(|_| QueryError::Parse(format!("{what} must be a number")))
            }
            _ => Err(QueryError::Parse(format!("{what} must be a number"))),
        }
    }

    fn literal(&mut self) -> Result<Literal, QueryError> {
        match self.next() {
            Some(Token::Text(t)) => Ok(Literal::Text(t)),
            Some(Token::Number(n)) => Ok(Literal::Number(n)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            _ => {
                self.at -= 1;
                Err(self.unexpected("a value"))
            }
        }
    }

    fn condition(&mut self) -> Result<Condition, QueryError> {
        let field = self.word("a property name")?;
        let predicate = match self.next() {
            Some(Token::Operator(comparison)) => Predicate::Compare(comparison, self.literal()?),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("in") => {
                self.expect(Token::Open, "\"(\"")?;
                let mut values = vec![self.literal()?];
                while self.peek() == Some(&Token::Comma) {
                    self.at += 1;
                    values.push(self.literal()?);
                }
                self.expect(Token::Close, "\")\"")?;
                Predicate::In(values)
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("like") => match self.literal()? {
                Literal::Text(pattern) => Predicate::Like(pattern),
                _ => return Err(QueryError::Parse("LIKE needs a quoted pattern".into())),
            },
            _ => {
                self.at -= 1;
                return Err(self.unexpected("an operator (=, <, >, <=, >=, IN, LIKE)"));
            }
        };
        Ok(Condition { field, predicate })
    }
}

pub fn parse(text: &str) -> Result<Query, QueryError> {
    let mut p = Parser { tokens: tokenize(text)?, at: 0 };
    p.expect_keyword("select")?;
    let selection = if p.eat_keyword("count") {
        p.expect(Token::Open, "\"(\"")?;
        p.expect(Token::Star, "\"*\"")?;
        p.expect(Token::Close, "\")\"")?;
        Selection::Count
    } else {
        p.expect(Token::Star, "\"*\" or COUNT(*)")?;
        // `SELECT *, Sku`: extra columns are accepted and ignored; entities are always whole.
        while p.peek() == Some(&Token::Comma) {
            p.at += 1;
            p.word("a property name")?;
        }
        Selection::All
    };
    p.expect_keyword("from")?;
    let name = p.word("an entity name")?;
    let entity = EntityType::parse(&name)
        .ok_or_else(|| QueryError::Invalid(format!("{name} is not a supported entity")))?;
    let mut query = Query {
        selection,
        entity,
        conditions: Vec::new(),
        order_by: Vec::new(),
        start_position: 1,
        max_results: DEFAULT_MAX_RESULTS,
    };
    if p.eat_keyword("where") {
        query.conditions.push(p.condition()?);
        loop {
            if p.eat_keyword("and") {
                query.conditions.push(p.condition()?);
            } else if p.at_keyword("or") {
                return Err(QueryError::Parse("OR is not supported".into()));
            } else {
                break;
            }
        }
    }
    loop {
        if p.eat_keyword("orderby")
            || (p.at_keyword("order") && {
                p.at += 1;
                p.expect_keyword("by")?;
                true
            })
        {
            loop {
                let field = p.word("a property name")?;
                let descending = if p.eat_keyword("desc") {
                    true
                } else {
                    p.eat_keyword("asc");
                    false
                };
                query.order_by.push(Ordering { field, descending });
                if p.peek() != Some(&Token::Comma) {
                    break;
                }
                p.at += 1;
            }
        } else if p.eat_keyword("startposition") {
            query.start_position = p.number("STARTPOSITION")?.max(1);
        } else if p.eat_keyword("maxresults") {
            query.max_results = p.number("MAXRESULTS")?;
        } else {
            break;
        }
    }
    if p.peek().is_some() {
        return Err(p.unexpected("<EOF>"));
    }
    if query.max_results > MAX_RESULTS_LIMIT {
        return Err(QueryError::Invalid(format!(
            "MAXRESULTS {} exceeds the maximum of {MAX_RESULTS_LIMIT}",
            query.max_results
        )));
    }
    for condition in &query.conditions {
        let allowed = matches!(condition.predicate, Predicate::Compare(Comparison::Eq, _) | Predicate::In(_));
        if condition.field.eq_ignore_ascii_case("id") && !allowed {
            return Err(QueryError::Invalid("Id supports only the = and IN operators".into()));
        }
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_published_clients_send() {
        let q = parse("SELECT * FROM Customer WHERE Active IN (true,false) ORDERBY Id STARTPOSITION 1001 MAXRESULTS 1000")
            .expect("parses");
        assert_eq!(q.entity, EntityType::Customer);
        assert_eq!(q.conditions[0].predicate, Predicate::In(vec![Literal::Bool(true), Literal::Bool(false)]));
        assert_eq!((q.start_position, q.max_results), (1001, 1000));
        assert_eq!(q.order_by, vec![Ordering { field: "Id".into(), descending: false }]);

        let node = parse("select * from invoice where MetaData.LastUpdatedTime > '2024-06-01T00:00:00-07:00' startposition 1 maxresults 1000")
            .expect("lowercase parses");
        assert_eq!(node.entity, EntityType::Invoice);
        assert_eq!(node.conditions[0].field, "MetaData.LastUpdatedTime");

        let python =
            parse("SELECT *, Sku FROM Item ORDER BY Name DESC MAXRESULTS 100").expect("python's form");
        assert_eq!(python.order_by, vec![Ordering { field: "Name".into(), descending: true }]);

        let count = parse("SELECT COUNT(*) FROM Bill WHERE TotalAmt >= 10.5").expect("count");
        assert_eq!(count.selection, Selection::Count);
        assert_eq!(
            count.conditions[0].predicate,
            Predicate::Compare(Comparison::Ge, Literal::Number("10.5".into()))
        );
        let like = parse(r"SELECT * FROM Customer WHERE DisplayName LIKE '%O\'Brien%'").expect("escape");
        assert_eq!(like.conditions[0].predicate, Predicate::Like("%O'Brien%".into()));
    }

    #[test]
    fn refuses_what_quickbooks_refuses() {
        assert!(matches!(
            parse("SELECT * FROM Customer WHERE A = '1' OR B = '2'"),
            Err(QueryError::Parse(_))
        ));
        assert!(matches!(parse("SELECT Id FROM Customer"), Err(QueryError::Parse(_))));
        assert!(matches!(parse("SELECT * FROM Nope"), Err(QueryError::Invalid(_))));
        assert!(matches!(parse("SELECT * FROM Customer MAXRESULTS 1001"), Err(QueryError::Invalid(_))));
        assert!(matches!(parse("SELECT * FROM Customer WHERE Id > '5'"), Err(QueryError::Invalid(_))));
        assert!(matches!(parse("SELECT * FROM Customer WHERE Name = 'x"), Err(QueryError::Parse(_))));
        assert!(matches!(parse("SELECT * FROM Customer garbage"), Err(QueryError::Parse(_))));
    }
}
