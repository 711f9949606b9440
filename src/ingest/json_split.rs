//! Splits the `"features"` array of a GeoJSON FeatureCollection into one byte slice per feature,
//! reading the file in 1 MB chunks. Each slice is parsed on its own with `serde_json::from_slice`,
//! several times faster than parsing from a byte-at-a-time reader, and memory stays at one
//! feature whatever the file size.
//!
//! A small state machine tracks bracket depth and strings (with escapes). The top-level key
//! `"features"` followed by `[` opens the array; each object at the next depth is one feature.

use std::io::{self, Read};

/// Yields the raw bytes of each feature of a FeatureCollection's `features` array, one at a time.
pub struct FeatureSplitter<R> {
    reader: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    offset: u64,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// The last string closed at depth 1, and whether a ':' made it the current key.
    string_at_top: Vec<u8>,
    capturing_top_string: bool,
    key_at_top: Vec<u8>,
    in_array: bool,
    seen_array: bool,
    feature: Vec<u8>,
    feature_offset: u64,
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

impl<R: Read> FeatureSplitter<R> {
    /// A splitter over `reader` with a 1 MB buffer.
    pub fn new(reader: R) -> Self {
        FeatureSplitter {
            reader,
            buf: vec![0; 1 << 20],
            pos: 0,
            len: 0,
            offset: 0,
            depth: 0,
            in_string: false,
            escaped: false,
            string_at_top: Vec::new(),
            capturing_top_string: false,
            key_at_top: Vec::new(),
            in_array: false,
            seen_array: false,
            feature: Vec::new(),
            feature_offset: 0,
        }
    }

    /// Whether a `"features"` array was found.
    pub fn saw_features(&self) -> bool {
        self.seen_array
    }

    /// Byte offset of the feature last returned, for messages.
    pub fn feature_offset(&self) -> u64 {
        self.feature_offset
    }

    /// Moves `n` bytes from the buffer into the current feature (when capturing) and, inside a
    /// top-level string, into that string.
    fn take(&mut self, n: usize) {
        let span = &self.buf[self.pos..self.pos + n];
        if !self.feature.is_empty() {
            self.feature.extend_from_slice(span);
        }
        if self.capturing_top_string {
            self.string_at_top.extend_from_slice(span);
        }
        self.pos += n;
        self.offset += n as u64;
    }

    /// The next feature's bytes; `None` once the file is done.
    pub fn next_feature(&mut self) -> io::Result<Option<&[u8]>> {
        self.feature.clear();
        loop {
            if self.pos == self.len {
                self.len = self.reader.read(&mut self.buf)?;
                self.pos = 0;
                if self.len == 0 {
                    return if !self.feature.is_empty() {
                        Err(invalid("the file ends in the middle of a feature"))
                    } else if self.in_array {
                        Err(invalid("the file ends before the features array is closed"))
                    } else if self.depth > 0 || self.in_string {
                        Err(invalid(
                            "the file ends before the FeatureCollection is closed",
                        ))
                    } else {
                        Ok(None)
                    };
                }
            }
            if self.in_string {
                if self.escaped {
                    // The escaped byte: never structural, not the end of the string.
                    self.escaped = false;
                    let keep_key = self.capturing_top_string;
                    self.capturing_top_string = false;
                    self.take(1);
                    self.capturing_top_string = keep_key;
                    continue;
                }
                let rest = &self.buf[self.pos..self.len];
                match memchr::memchr2(b'"', b'\\', rest) {
                    None => self.take(rest.len()),
                    Some(i) => {
                        let b = rest[i];
                        self.take(i);
                        let capturing = !self.feature.is_empty();
                        if capturing {
                            self.feature.push(b);
                        }
                        self.pos += 1;
                        self.offset += 1;
                        if b == b'\\' {
                            self.escaped = true;
                        } else {
                            self.in_string = false;
                            self.capturing_top_string = false;
                        }
                    }
                }
                continue;
            }
            // Outside strings: skip to the next byte that matters in one step. Inside a feature
            // only braces and quotes matter (its brackets balance out), so a SIMD search for
            // three bytes skips the coordinates.
            let rest = &self.buf[self.pos..self.len];
            let i = if self.feature.is_empty() {
                rest.iter()
                    .position(|&b| STRUCTURAL[b as usize])
                    .unwrap_or(rest.len())
            } else {
                memchr::memchr3(b'"', b'{', b'}', rest).unwrap_or(rest.len())
            };
            if self.in_array && self.depth == 2 && !rest[..i].iter().all(u8::is_ascii_whitespace) {
                return Err(invalid("an element of the features array is not an object"));
            }
            self.take(i);
            if self.pos == self.len {
                continue;
            }
            let b = self.buf[self.pos];
            self.pos += 1;
            self.offset += 1;
            let capturing = !self.feature.is_empty();
            if capturing {
                self.feature.push(b);
            }
            if self.in_array && self.depth == 2 && !matches!(b, b'{' | b']' | b',') {
                return Err(invalid("an element of the features array is not an object"));
            }
            match b {
                b'"' => {
                    self.in_string = true;
                    if self.depth == 1 {
                        self.capturing_top_string = true;
                        self.string_at_top.clear();
                    }
                }
                b':' if self.depth == 1 => {
                    self.key_at_top = std::mem::take(&mut self.string_at_top)
                }
                b'{' | b'[' => {
                    if self.depth == 1 && b == b'[' && self.key_at_top == b"features" {
                        self.in_array = true;
                        self.seen_array = true;
                    } else if self.in_array && self.depth == 2 {
                        if b != b'{' {
                            return Err(invalid(
                                "an element of the features array is not an object",
                            ));
                        }
                        self.feature.push(b);
                        self.feature_offset = self.offset - 1;
                    }
                    self.depth += 1;
                }
                b'}' | b']' => {
                    self.depth = self
                        .depth
                        .checked_sub(1)
                        .ok_or_else(|| invalid("unbalanced brackets"))?;
                    if self.in_array && self.depth == 1 {
                        self.in_array = false;
                        self.key_at_top.clear();
                    } else if capturing && self.depth == 2 {
                        return Ok(Some(&self.feature));
                    }
                }
                b',' if self.depth == 1 => self.key_at_top.clear(),
                _ => {}
            }
        }
    }
}

/// Bytes that change the splitter's state outside strings.
const STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    let special = b"\"{}[]:,";
    while i < special.len() {
        table[special[i] as usize] = true;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> io::Result<Vec<String>> {
        let mut s = FeatureSplitter::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(f) = s.next_feature()? {
            out.push(String::from_utf8(f.to_vec()).unwrap());
        }
        Ok(out)
    }

    #[test]
    fn features_are_split_whatever_surrounds_them() {
        let text = r#"{"type":"FeatureCollection","name":"features","crs":{"type":"name","properties":{"name":"x"}},
          "features":[{"type":"Feature","properties":{"s":"a \"}] tricky\\","features":[1]},"geometry":null},
          {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}],"bbox":[0,0,1,1]}"#;
        let got = split(text).unwrap();
        assert_eq!(got.len(), 2);
        assert!(
            got[0].starts_with('{') && got[0].ends_with('}') && got[0].contains(r#"tricky\\""#)
        );
        let v: serde_json::Value = serde_json::from_str(&got[1]).unwrap();
        assert_eq!(v["geometry"]["coordinates"][1], 2);
    }

    #[test]
    fn truncated_files_are_errors() {
        assert!(
            split(r#"{"type":"FeatureCollection","features":[{"type":"Feature","pro"#).is_err()
        );
        assert!(split(r#"{"type":"FeatureCollection","features":[{"type":"Feature"}"#).is_err());
        assert!(split(r#"{"type":"FeatureCollection","features":[1]}"#).is_err());
        assert_eq!(
            split(r#"{"type":"FeatureCollection","features":[]}"#)
                .unwrap()
                .len(),
            0
        );
    }
}
