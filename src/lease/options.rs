//! The options of a reply as a lease keeps them: every one, raw, in one allocation.

use std::fmt;

/// The options of a reply as received, kept in one allocation: code, length (two bytes, as
/// RFC 3396 may join an option past 255 bytes) and data, one after the other. A lease is held
/// for as long as the interface is served, twice over (the state and the record of what is
/// applied), by each of up to a thousand interfaces: a vector of vectors was one allocation
/// per option, and three times the memory.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Options(Box<[u8]>);

impl Options {
    /// Options from (code, data) pairs, in order. Data past 65535 bytes (which no DHCP
    /// message can hold) is cut there.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (u8, &'a [u8])>) -> Options {
        let mut out = Vec::new();
        for (code, data) in pairs {
            let data = &data[..data.len().min(u16::MAX as usize)];
            out.push(code);
            out.extend_from_slice(&(data.len() as u16).to_le_bytes());
            out.extend_from_slice(data);
        }
        Options(out.into_boxed_slice())
    }

    /// The options, in the order received.
    pub fn iter(&self) -> OptionsIter<'_> {
        OptionsIter(&self.0)
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The data of the first option `code`, if there is one.
    pub fn get(&self, code: u8) -> Option<&[u8]> {
        self.iter().find(|(c, _)| *c == code).map(|(_, d)| d)
    }
}

impl From<Vec<(u8, Vec<u8>)>> for Options {
    fn from(pairs: Vec<(u8, Vec<u8>)>) -> Options {
        Options::from_pairs(pairs.iter().map(|(c, d)| (*c, d.as_slice())))
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Options {
    type Item = (u8, &'a [u8]);
    type IntoIter = OptionsIter<'a>;
    fn into_iter(self) -> OptionsIter<'a> {
        self.iter()
    }
}

/// The options of an [`Options`], as (code, data).
#[derive(Clone)]
pub struct OptionsIter<'a>(&'a [u8]);

impl<'a> Iterator for OptionsIter<'a> {
    type Item = (u8, &'a [u8]);
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let [code, a, b, rest @ ..] = self.0 else {
            return None;
        };
        let len = (u16::from_le_bytes([*a, *b]) as usize).min(rest.len());
        let (data, rest) = rest.split_at(len);
        self.0 = rest;
        Some((*code, data))
    }
}
