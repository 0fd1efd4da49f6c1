//! Shared plumbing for the XML formats (TMX, TBX): reading any encoding as UTF-8, and turning
//! byte offsets of the decoded text back into lines and columns for error messages.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::CountingReader;

/// Opens an XML file (TMX, TBX) as UTF-8 text, whatever its encoding.
pub fn open_decoded(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    open_decoded_counting(path, None)
}

/// [`open_decoded`], counting the file's bytes as they are read.
pub fn open_decoded_counting(
    path: &Path,
    counter: Option<Arc<AtomicU64>>,
) -> std::io::Result<Box<dyn BufRead>> {
    let mut file = File::open(path)?;
    let mut head = [0u8; 512];
    let mut head_len = 0;
    while head_len < head.len() {
        let read = file.read(&mut head[head_len..])?;
        if read == 0 {
            break;
        }
        head_len += read;
    }
    let encoding = sniff_encoding(&head[..head_len]);
    let file: Box<dyn Read + Send> = match counter {
        Some(counter) => Box::new(CountingReader::new(File::open(path)?, counter)),
        None => Box::new(File::open(path)?),
    };
    let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(encoding)
        .bom_override(true)
        .strip_bom(true)
        .build(file);
    Ok(Box::new(BufReader::with_capacity(64 * 1024, decoder)))
}

/// The encoding of an XML file from its first bytes: a BOM wins (handled by the decoder
/// itself, so `None`), then UTF-16 without a BOM, then the declaration's `encoding`.
fn sniff_encoding(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    if head.starts_with(b"\xEF\xBB\xBF")
        || head.starts_with(b"\xFF\xFE")
        || head.starts_with(b"\xFE\xFF")
    {
        return None;
    }
    if head.starts_with(b"<\0?\0") {
        return Some(encoding_rs::UTF_16LE);
    }
    if head.starts_with(b"\0<\0?") {
        return Some(encoding_rs::UTF_16BE);
    }
    let declaration_end = head.iter().position(|&byte| byte == b'>')?;
    let declaration = std::str::from_utf8(&head[..declaration_end]).ok()?;
    let after = declaration.split("encoding").nth(1)?;
    let quote_start = after.find(['"', '\''])?;
    let rest = &after[quote_start + 1..];
    let label = &rest[..rest.find(['"', '\''])?];
    match encoding_rs::Encoding::for_label(label.trim().as_bytes()) {
        Some(encoding) if encoding != encoding_rs::UTF_8 => Some(encoding),
        _ => None,
    }
}

/// Line and column (1-based, columns in characters) of each byte offset of the decoded
/// text. `offsets` must be sorted.
pub fn locate_offsets(path: &Path, offsets: &[u64]) -> std::io::Result<Vec<(u64, u64)>> {
    let mut text = open_decoded(path)?;
    let mut located = Vec::with_capacity(offsets.len());
    let (mut line, mut column, mut position) = (1u64, 1u64, 0u64);
    let mut next = 0;
    let mut buffer = Vec::new();
    while next < offsets.len() {
        buffer.clear();
        if text.read_until(b'\n', &mut buffer)? == 0 {
            break;
        }
        for (index, &byte) in buffer.iter().enumerate() {
            while next < offsets.len() && offsets[next] <= position + index as u64 {
                located.push((line, column));
                next += 1;
            }
            if byte == b'\n' {
                line += 1;
                column = 1;
            } else if byte & 0xC0 != 0x80 {
                column += 1;
            }
        }
        position += buffer.len() as u64;
    }
    while located.len() < offsets.len() {
        located.push((line, column));
    }
    Ok(located)
}

/// Why reading an XML file stopped.
pub(crate) enum XmlError {
    /// A fault at a byte offset of the decoded text.
    Syntax { offset: u64, message: String },
    /// Anything else: I/O, or the import the units were streamed into stopped.
    Format(super::FormatError),
}

impl XmlError {
    /// The error with its offset turned into a line and column of `path`.
    pub(crate) fn located(self, path: &Path) -> super::FormatError {
        match self {
            XmlError::Syntax { offset, message } => match locate_offsets(path, &[offset]) {
                Ok(positions) => super::FormatError::Syntax {
                    line: positions[0].0,
                    column: positions[0].1,
                    message,
                },
                Err(error) => super::FormatError::Io(error),
            },
            XmlError::Format(error) => error,
        }
    }
}

/// How deep elements may nest. TMX, TBX and XLIFF need about ten levels; a document nested
/// far deeper is an attack on the parser's memory, not a translation memory.
pub const MAX_XML_DEPTH: usize = 100;

/// The next event, with a malformed document reported at its position. `depth` counts the
/// open elements (start it at 0) and stops a document nested deeper than [`MAX_XML_DEPTH`].
pub(crate) fn next_event<'buffer, R: BufRead>(
    reader: &mut quick_xml::Reader<R>,
    buffer: &'buffer mut Vec<u8>,
    depth: &mut usize,
) -> Result<quick_xml::events::Event<'buffer>, XmlError> {
    let event = reader
        .read_event_into(buffer)
        .map_err(|error| match error {
            quick_xml::Error::Io(io) => XmlError::Format(super::FormatError::Io(
                std::io::Error::other(io.to_string()),
            )),
            other => XmlError::Syntax {
                offset: reader.error_position(),
                message: format!("malformed XML: {other}"),
            },
        })?;
    match &event {
        quick_xml::events::Event::Start(_) => {
            *depth += 1;
            if *depth > MAX_XML_DEPTH {
                return Err(XmlError::Syntax {
                    offset: reader.buffer_position(),
                    message: format!("elements nest deeper than {MAX_XML_DEPTH} levels"),
                });
            }
        }
        quick_xml::events::Event::End(_) => *depth = depth.saturating_sub(1),
        _ => {}
    }
    Ok(event)
}

/// The text of an entity or character reference: XML's five predefined entities and
/// character references only. Anything else is an error (no DTD is ever read or expanded).
pub fn resolve_reference(reference: &quick_xml::events::BytesRef) -> Result<String, String> {
    match reference.resolve_char_ref() {
        Ok(Some(character)) => Ok(character.to_string()),
        Ok(None) => {
            let name: &str = reference;
            quick_xml::escape::resolve_predefined_entity(name)
                .map(str::to_owned)
                .ok_or_else(|| format!("undefined entity &{name}; (entities are not expanded)"))
        }
        Err(error) => Err(format!("bad character reference: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_without_bom_is_detected() {
        assert_eq!(sniff_encoding(b"<\0?\0x\0"), Some(encoding_rs::UTF_16LE));
        assert_eq!(
            sniff_encoding(b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>"),
            Some(encoding_rs::WINDOWS_1252)
        );
        assert_eq!(
            sniff_encoding(b"<?xml version='1.0' encoding='UTF-8'?>"),
            None
        );
    }
}
