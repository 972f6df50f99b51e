//! Writing rows in PostgreSQL's COPY text format and streaming them to the server.
//!
//! Hand-written because it is a dozen lines: COPY text escapes `\`, tab, newline and carriage
//! return, and writes NULL as `\N`.

use std::fmt::Write as _;

use store::sqlx::postgres::PgConnection;

use crate::SeedError;

/// One table's COPY stream: rows are encoded into a buffer and sent in large chunks.
pub struct CopyWriter {
    table: &'static str,
    columns: &'static str,
    buf: String,
    rows: u64,
    row_open: bool,
}

const FLUSH_AT: usize = 4 * 1024 * 1024;

impl CopyWriter {
    pub fn new(table: &'static str, columns: &'static str) -> Self {
        CopyWriter { table, columns, buf: String::with_capacity(FLUSH_AT + 4096), rows: 0, row_open: false }
    }

    fn sep(&mut self) {
        if self.row_open {
            self.buf.push('\t');
        }
        self.row_open = true;
    }

    pub fn text(&mut self, v: &str) -> &mut Self {
        self.sep();
        for c in v.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\t' => self.buf.push_str("\\t"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                c => self.buf.push(c),
            }
        }
        self
    }

    pub fn opt(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    /// A value whose text form needs no escaping (numbers, ids, dates, booleans).
    pub fn raw(&mut self, v: impl std::fmt::Display) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{v}");
        self
    }

    pub fn opt_raw(&mut self, v: Option<impl std::fmt::Display>) -> &mut Self {
        match v {
            Some(v) => self.raw(v),
            None => self.null(),
        }
    }

    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.push_str("\\N");
        self
    }

    pub fn bytea(&mut self, v: &[u8]) -> &mut Self {
        self.sep();
        self.buf.push_str("\\\\x");
        self.buf.push_str(&hex::encode(v));
        self
    }

    /// A text[] of simple words (no quoting needed: the generator only makes `[a-z0-9-]` tags).
    pub fn words(&mut self, v: &[&str]) -> &mut Self {
        self.sep();
        self.buf.push('{');
        self.buf.push_str(&v.join(","));
        self.buf.push('}');
        self
    }

    pub fn end_row(&mut self) {
        self.buf.push('\n');
        self.row_open = false;
        self.rows += 1;
    }

    pub fn needs_flush(&self) -> bool {
        self.buf.len() >= FLUSH_AT
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Sends what is buffered as one COPY statement.
    pub async fn flush(&mut self, conn: &mut PgConnection) -> Result<(), SeedError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let statement = format!("COPY {} ({}) FROM STDIN", self.table, self.columns);
        let mut copy = conn.copy_in_raw(&statement).await?;
        copy.send(self.buf.as_bytes()).await?;
        copy.finish().await?;
        self.buf.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_copy_text_format() {
        let mut w = CopyWriter::new("t", "a");
        w.text("a\tb\\c\nd").null().raw(42).bytea(&[0xde, 0xad]).words(&["x", "y"]);
        w.end_row();
        assert_eq!(w.buf, "a\\tb\\\\c\\nd\t\\N\t42\t\\\\xdead\t{x,y}\n");
        assert_eq!(w.rows(), 1);
    }
}
