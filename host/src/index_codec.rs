//! The bytes of migrate's two binary indexes (`revisions.index`, `build/manifest.index`):
//! numbers, strings and revision metadata, written so that a file is UTF-8 as a whole whenever
//! its strings are. A reader checks the file once and slices its strings out of it; postcard,
//! used before, checked each string on its own and went through serde for each field: at a
//! thousand revisions that was 1.7 M of the 5.4 M instructions of `heads` (BENCHMARKS.md,
//! session 17).
//!
//! A number is written six bits a byte, lowest first, with 0x40 set on every byte but the last:
//! each byte is ASCII. A string is its length in bytes, then its bytes; a list, its length,
//! then its items. Nothing here is trusted: a reader gives `None` for anything cut short,
//! out of range or not UTF-8, and the index is then no index.

use migrate_core::revision::RevisionMeta;

const MORE: u8 = 0x40;
const BITS: u32 = 6;

pub fn put_number(out: &mut Vec<u8>, mut n: u128) {
    loop {
        let low = (n & 0x3f) as u8;
        n >>= BITS;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | MORE);
    }
}

pub fn put_text(out: &mut Vec<u8>, text: &str) {
    put_number(out, text.len() as u128);
    out.extend_from_slice(text.as_bytes());
}

pub fn put_texts<S: AsRef<str>>(out: &mut Vec<u8>, texts: &[S]) {
    put_number(out, texts.len() as u128);
    for text in texts {
        put_text(out, text.as_ref());
    }
}

pub fn put_meta(out: &mut Vec<u8>, meta: &RevisionMeta) {
    put_text(out, &meta.id);
    put_texts(out, &meta.down_revisions);
    put_text(out, &meta.message);
    put_text(out, &meta.created);
    put_texts(out, &meta.branch_labels);
    put_texts(out, &meta.depends_on);
}

/// Reads what the `put_` functions wrote, in the same order. A copy reads on from the same
/// place, independently.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    rest: &'a str,
}

impl<'a> Reader<'a> {
    /// A reader of `bytes`, if they are UTF-8 (as every file written here is).
    pub fn new(bytes: &'a [u8]) -> Option<Reader<'a>> {
        Some(Reader {
            rest: std::str::from_utf8(bytes).ok()?,
        })
    }

    /// A reader of text already known to be UTF-8.
    pub fn of_text(text: &'a str) -> Reader<'a> {
        Reader { rest: text }
    }

    /// What is left to read.
    pub fn rest(&self) -> &'a str {
        self.rest
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn number(&mut self) -> Option<u128> {
        let bytes = self.rest.as_bytes();
        // Most numbers are lengths and counts of one byte.
        if let Some(&byte) = bytes.first().filter(|&&byte| byte < MORE) {
            self.rest = &self.rest[1..];
            return Some(u128::from(byte));
        }
        let mut n: u128 = 0;
        for (i, &byte) in bytes.iter().enumerate() {
            let shift = BITS * i as u32;
            // 22 bytes carry 132 bits: more than that is no number written here.
            if shift >= u128::BITS || byte >= 0x80 {
                return None;
            }
            n |= u128::from(byte & 0x3f).checked_shl(shift)?;
            if byte & MORE == 0 {
                // Every byte read is ASCII, so the rest starts on a character.
                self.rest = &self.rest[i + 1..];
                return Some(n);
            }
        }
        None
    }

    pub fn count(&mut self) -> Option<usize> {
        usize::try_from(self.number()?).ok()
    }

    pub fn text(&mut self) -> Option<&'a str> {
        let len = self.count()?;
        let text = self.rest.get(..len)?;
        self.rest = self.rest.get(len..)?;
        Some(text)
    }

    /// A list, each item read by `item`.
    pub fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let count = self.count()?;
        // Each item takes a byte at least: a damaged count must not reserve gigabytes.
        if count > self.rest.len() {
            return None;
        }
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(item(self)?);
        }
        Some(items)
    }

    pub fn texts(&mut self) -> Option<Vec<String>> {
        self.list(|reader| reader.text().map(str::to_owned))
    }

    /// Past a list of texts, allocating nothing.
    pub fn skip_texts(&mut self) -> Option<()> {
        for _ in 0..self.count()? {
            self.text()?;
        }
        Some(())
    }

    /// Past a revision's metadata, allocating nothing.
    pub fn skip_meta(&mut self) -> Option<()> {
        self.text()?;
        self.skip_texts()?;
        self.text()?;
        self.text()?;
        self.skip_texts()?;
        self.skip_texts()
    }

    pub fn meta(&mut self) -> Option<RevisionMeta> {
        Some(RevisionMeta {
            id: self.text()?.to_owned(),
            down_revisions: self.texts()?,
            message: self.text()?.to_owned(),
            created: self.text()?.to_owned(),
            branch_labels: self.texts()?,
            depends_on: self.texts()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back_and_damage_reads_as_nothing() {
        let meta = RevisionMeta {
            id: "ab12".into(),
            down_revisions: vec!["a1".into(), "a2".into()],
            message: "ünïcode, a tab\t and a long one ".repeat(9),
            created: "2026-12-02T10:00:00Z".into(),
            branch_labels: vec!["trunk".into()],
            depends_on: vec![],
        };
        let numbers = [0, 1, 63, 64, 4095, 4096, u64::MAX as u128, u128::MAX];
        let mut out = Vec::new();
        for n in numbers {
            put_number(&mut out, n);
        }
        put_meta(&mut out, &meta);
        put_text(&mut out, "");
        assert!(std::str::from_utf8(&out).is_ok(), "UTF-8 as a whole");

        let mut reader = Reader::new(&out).unwrap();
        for n in numbers {
            assert_eq!(reader.number(), Some(n));
        }
        let at_meta = reader;
        assert_eq!(reader.meta(), Some(meta));
        assert_eq!(reader.text(), Some(""));
        assert!(reader.is_empty());
        // Skipped, it leaves the reader where reading it did.
        let mut skipping = at_meta;
        assert_eq!(skipping.skip_meta(), Some(()));
        assert_eq!(skipping.text(), Some(""));
        assert!(skipping.is_empty());

        // Cut anywhere, the metadata does not read (a cut inside a character is not UTF-8).
        let whole = out.len();
        for cut in 0..whole {
            if let Some(mut reader) = Reader::new(&out[..cut]) {
                let read_all = numbers.iter().all(|_| reader.number().is_some())
                    && reader.meta().is_some()
                    && reader.text().is_some();
                assert!(!read_all, "cut at {cut} of {whole}");
            }
        }
        // A number longer than any written, a length past the end, a huge list count.
        assert_eq!(Reader::new(&[MORE; 30]).unwrap().number(), None);
        assert_eq!(Reader::new(b"\x05ab").unwrap().text(), None);
        let mut huge = Vec::new();
        put_number(&mut huge, u64::MAX as u128);
        assert_eq!(Reader::new(&huge).unwrap().texts(), None);
        assert!(Reader::new(&[0xff, 0x01]).is_none(), "not UTF-8");
    }
}
