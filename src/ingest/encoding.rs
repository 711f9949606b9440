//! Text encodings of attribute files: which encodings decode a file's text cleanly.
//!
//! Chinese planning data comes as UTF-8 or GBK (code page 936), often without saying which. A
//! wrong choice does not fail by itself: decoding GBK bytes as UTF-8 yields U+FFFD replacement
//! characters (and field names nobody recognises, so population and town silently turn null).
//! The import therefore refuses text holding replacement characters, and names the encoding that
//! does decode the file, found here.
//!
//! GBK is tried as GB18030, its superset. Almost any byte sequence decodes as GB18030, while GBK
//! text is almost never valid UTF-8: so UTF-8 is suggested first when it decodes, GBK otherwise.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use encoding_rs::{Encoding, GB18030, UTF_8};

/// The character a decoder puts where bytes do not decode.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Whether a file's bytes are valid UTF-8, read in chunks.
pub fn is_utf8_file(path: &Path) -> std::io::Result<bool> {
    let mut file = BufReader::new(File::open(path)?);
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(carry.is_empty());
        }
        carry.extend_from_slice(&buf[..n]);
        match std::str::from_utf8(&carry) {
            Ok(_) => carry.clear(),
            Err(e) if e.error_len().is_none() => {
                // A character split by the chunk boundary: keep its bytes for the next round.
                carry.drain(..e.valid_up_to());
            }
            Err(_) => return Ok(false),
        }
    }
}

/// Whether every piece decodes in `encoding` without a replacement.
fn all_decode(pieces: &[Vec<u8>], encoding: &'static Encoding) -> bool {
    pieces.iter().all(|p| {
        encoding
            .decode_without_bom_handling_and_without_replacement(p)
            .is_some()
    })
}

/// The text pieces of an attribute file: a CSV's lines; a DBF's field names and character
/// fields (its numbers and flags are ASCII or binary, not text). Empty for other files.
fn text_pieces(path: &Path) -> std::io::Result<Vec<Vec<u8>>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "txt" => {
            let bytes = std::fs::read(path)?;
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            Ok(bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect())
        }
        "shp" | "dbf" => dbf_text(&std::fs::read(path.with_extension("dbf"))?),
        _ => Ok(vec![]),
    }
}

/// Field names and character-field values of a dBASE file.
fn dbf_text(bytes: &[u8]) -> std::io::Result<Vec<Vec<u8>>> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not a dBASE file");
    if bytes.len() < 32 {
        return Err(bad());
    }
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let record_len = u16::from_le_bytes([bytes[10], bytes[11]]) as usize;
    let mut pieces = Vec::new();
    // (offset in the record, length) of each character field; the record starts with its flag.
    let mut text_fields = Vec::new();
    let mut offset = 1usize;
    let mut at = 32;
    while at + 32 <= bytes.len().min(header_len) && bytes[at] != 0x0D {
        let d = &bytes[at..at + 32];
        let name_end = d[..11].iter().position(|&b| b == 0).unwrap_or(11);
        pieces.push(d[..name_end].to_vec());
        let len = d[16] as usize;
        if d[11] == b'C' {
            text_fields.push((offset, len));
        }
        offset += len;
        at += 32;
    }
    if record_len == 0 {
        return Ok(pieces);
    }
    for record in bytes
        .get(header_len..)
        .unwrap_or(&[])
        .chunks_exact(record_len)
    {
        for &(start, len) in &text_fields {
            if let Some(v) = record.get(start..start + len) {
                pieces.push(v.to_vec());
            }
        }
    }
    Ok(pieces)
}

/// The encoding (a `--encoding` name) that decodes the attribute text of `path` without a
/// replacement character: "utf-8" first, then "gbk"; `None` when neither does or the file
/// cannot be read.
pub fn clean_encoding(path: &Path) -> Option<&'static str> {
    let pieces = text_pieces(path).ok()?;
    if all_decode(&pieces, UTF_8) {
        Some("utf-8")
    } else if all_decode(&pieces, GB18030) {
        Some("gbk")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_suggested_before_gbk_and_broken_text_gets_none() {
        let dir = std::env::temp_dir().join(format!("liancun-enc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (gbk, _, _) = GB18030.encode("名称,人口\n悦庄村,1200\n");
        let files = [
            (
                "utf8.csv",
                "名称,人口\n悦庄村,1200\n".as_bytes().to_vec(),
                Some("utf-8"),
            ),
            ("gbk.csv", gbk.into_owned(), Some("gbk")),
            // 0x80 alone is neither UTF-8 nor a GB18030 lead byte with a valid trail.
            ("broken.csv", b"a,b\n\x80\xff,1\n".to_vec(), None),
        ];
        for (name, bytes, want) in files {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(clean_encoding(&path), want, "{name}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
