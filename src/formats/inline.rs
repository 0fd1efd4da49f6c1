//! Inline codes: the formatting and native markup inside a segment (TMX `bpt`, `ept`, `ph`,
//! `it`, `ut`; XLIFF's are converted to these on import).
//!
//! Codes are never part of the text that is scored and indexed. Clients see them as numbered
//! placeholders — `{1}`…`{/1}` for a paired code, `{2/}` for a standalone one — and may send a
//! query in the same notation, so a lookup can say how far the match's codes are from the
//! query's ([`code_penalty`]) without changing the score.

use quick_xml::events::Event;
use quick_xml::Reader;

/// TMX elements whose content is native markup, not translatable text.
pub const TMX_CODE_ELEMENTS: [&str; 5] = ["bpt", "ept", "ph", "it", "ut"];

/// What an inline code does at its place in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// Opens a span (`bpt`, `it pos="begin"`, `{1}`).
    Open,
    /// Closes a span (`ept`, `it pos="end"`, `{/1}`).
    Close,
    /// Stands alone (`ph`, `ut`, `x`, `{2/}`).
    Standalone,
}

/// One inline code: its kind and the number that pairs an opening code with its closing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub kind: CodeKind,
    pub number: String,
}

impl Code {
    fn placeholder(&self) -> String {
        match self.kind {
            CodeKind::Open => format!("{{{}}}", self.number),
            CodeKind::Close => format!("{{/{}}}", self.number),
            CodeKind::Standalone => format!("{{{}/}}", self.number),
        }
    }
}

enum Piece {
    Text(String),
    Code(Code),
}

/// Why a segment's inline markup could not be written back as XML, if it could not: an
/// attribute list a reader passed on unparsed (`<hi x=1>`), a repeated attribute, or a
/// character XML cannot carry (`&#1;`). Readers skip such a unit rather than store markup
/// that would make every later export unreadable.
pub fn markup_problem(markup: &str) -> Option<String> {
    let wrapped = format!("<seg>{markup}</seg>");
    let mut reader = Reader::from_str(&wrapped);
    reader.config_mut().check_end_names = true;
    let illegal = |text: &str| {
        text.chars()
            .find(|&character| !super::is_xml_char(character))
            .map(|character| {
                format!(
                    "an inline code holds U+{:04X}, which XML cannot carry",
                    character as u32
                )
            })
    };
    // Raw characters first: quick-xml checks neither names nor the characters in a tag, so a
    // U+0000 inside an attribute name would pass every check below.
    if let Some(problem) = illegal(markup) {
        return Some(problem);
    }
    let bad_name = |name: &str| {
        (!super::is_xml_name(name)).then(|| {
            format!(
                "inline markup names an element or attribute {name:?}, which is not an XML name"
            )
        })
    };
    loop {
        match reader.read_event() {
            Err(error) => return Some(format!("malformed inline markup: {error}")),
            Ok(Event::Eof) => return None,
            Ok(Event::Start(element) | Event::Empty(element)) => {
                if let Some(problem) = bad_name(element.name().0) {
                    return Some(problem);
                }
                for attribute in element.attributes().with_checks(true) {
                    let attribute = match attribute {
                        Ok(attribute) => attribute,
                        Err(error) => {
                            return Some(format!("malformed attribute in inline markup: {error}"))
                        }
                    };
                    if let Some(problem) = bad_name(attribute.key.0) {
                        return Some(problem);
                    }
                    match attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                        Ok(value) => {
                            if let Some(problem) = illegal(&value) {
                                return Some(problem);
                            }
                        }
                        Err(error) => {
                            return Some(format!("bad attribute value in inline markup: {error}"))
                        }
                    }
                }
            }
            Ok(Event::Text(text)) => {
                if let Some(problem) = illegal(&text.xml10_content()) {
                    return Some(problem);
                }
            }
            Ok(Event::CData(data)) => {
                if let Some(problem) = illegal(&data.xml10_content()) {
                    return Some(problem);
                }
            }
            Ok(Event::GeneralRef(reference)) => match super::xml::resolve_reference(&reference) {
                Ok(resolved) => {
                    if let Some(problem) = illegal(&resolved) {
                        return Some(problem);
                    }
                }
                Err(message) => return Some(message),
            },
            Ok(_) => {}
        }
    }
}

/// Walks a segment's TMX inner markup: text outside codes, and each code. A paired code is
/// numbered by its `i`, another by its `x`, else by its position among the codes.
fn pieces(markup: &str) -> Vec<Piece> {
    let mut reader = Reader::from_str(markup);
    let mut pieces = Vec::new();
    let mut depth_in_code = 0usize;
    let mut position = 0usize;
    loop {
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        match event {
            Event::Start(ref element) | Event::Empty(ref element) => {
                let name = element.name().0.to_owned();
                if !TMX_CODE_ELEMENTS.contains(&name.as_str()) {
                    continue;
                }
                let value = |key: &str| {
                    element.attributes().flatten().find_map(|attribute| {
                        (attribute.key.0 == key).then(|| attribute.value.into_owned())
                    })
                };
                position += 1;
                let number = value("i")
                    .or_else(|| value("x"))
                    .unwrap_or_else(|| position.to_string());
                let kind = match name.as_str() {
                    "bpt" => CodeKind::Open,
                    "ept" => CodeKind::Close,
                    "it" if value("pos").as_deref() == Some("end") => CodeKind::Close,
                    "it" => CodeKind::Open,
                    _ => CodeKind::Standalone,
                };
                pieces.push(Piece::Code(Code { kind, number }));
                if matches!(event, Event::Start(_)) {
                    depth_in_code += 1;
                }
            }
            Event::End(ref element) if TMX_CODE_ELEMENTS.contains(&element.name().0) => {
                depth_in_code = depth_in_code.saturating_sub(1);
            }
            Event::Text(ref text) if depth_in_code == 0 => {
                pieces.push(Piece::Text(text.xml10_content().into_owned()))
            }
            Event::GeneralRef(ref reference) if depth_in_code == 0 => {
                if let Ok(resolved) = super::xml::resolve_reference(reference) {
                    pieces.push(Piece::Text(resolved));
                }
            }
            _ => {}
        }
    }
    pieces
}

/// A segment's text with its inline codes as numbered placeholders, for clients. Native code
/// inside them is left out.
pub fn placeholder_text(markup: &str) -> String {
    let mut out = String::new();
    for piece in pieces(markup) {
        match piece {
            Piece::Text(text) => out.push_str(&text),
            Piece::Code(code) => out.push_str(&code.placeholder()),
        }
    }
    out.trim().to_owned()
}

/// The inline codes of a segment's TMX markup, in order.
pub fn codes_in_markup(markup: &str) -> Vec<Code> {
    pieces(markup)
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Code(code) => Some(code),
            Piece::Text(_) => None,
        })
        .collect()
}

/// Splits a client's text into the plain text and the placeholders in it (`{1}`, `{/1}`,
/// `{2/}`: braces around digits, with a slash before or after them). Any other brace is text.
pub fn split_placeholders(text: &str) -> (String, Vec<Code>) {
    let mut plain = String::with_capacity(text.len());
    let mut codes = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        plain.push_str(&rest[..start]);
        let candidate = &rest[start..];
        match parse_placeholder(candidate) {
            Some((code, length)) => {
                codes.push(code);
                rest = &candidate[length..];
            }
            None => {
                plain.push('{');
                rest = &candidate[1..];
            }
        }
    }
    plain.push_str(rest);
    (plain, codes)
}

/// `{1}`, `{/1}` or `{1/}` at the start of `text`, and its length in bytes.
fn parse_placeholder(text: &str) -> Option<(Code, usize)> {
    let end = text.find('}')?;
    let inner = &text[1..end];
    let (kind, number) = if let Some(number) = inner.strip_prefix('/') {
        (CodeKind::Close, number)
    } else if let Some(number) = inner.strip_suffix('/') {
        (CodeKind::Standalone, number)
    } else {
        (CodeKind::Open, inner)
    };
    if number.is_empty() || number.len() > 9 || !number.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some((
        Code {
            kind,
            number: number.to_owned(),
        },
        end + 1,
    ))
}

/// How far a match's inline codes are from the query's: the number of codes to insert,
/// delete or replace to turn one sequence into the other. Numbers are compared by their
/// order of first appearance, so `{5}a{/5}` equals `{1}a{/1}`, while a reordering counts.
/// 0 when both have the same codes in the same order (or neither has any).
pub fn code_penalty(query: &[Code], found: &[Code]) -> u32 {
    let left = canonical(query);
    let right = canonical(found);
    // Levenshtein over the two (short) sequences, one row at a time.
    let mut previous: Vec<u32> = (0..=right.len() as u32).collect();
    for (i, left_code) in left.iter().enumerate() {
        let mut current = vec![i as u32 + 1; right.len() + 1];
        for (j, right_code) in right.iter().enumerate() {
            let substitution = previous[j] + u32::from(left_code != right_code);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[right.len()]
}

/// Codes as (kind, rank of the number's first appearance). Paired and standalone codes are
/// ranked separately, so moving a standalone code does not renumber the pairs.
fn canonical(codes: &[Code]) -> Vec<(CodeKind, usize)> {
    let mut paired: Vec<&str> = Vec::new();
    let mut standalone: Vec<&str> = Vec::new();
    codes
        .iter()
        .map(|code| {
            let seen = match code.kind {
                CodeKind::Open | CodeKind::Close => &mut paired,
                CodeKind::Standalone => &mut standalone,
            };
            let rank = match seen.iter().position(|number| *number == code.number) {
                Some(rank) => rank,
                None => {
                    seen.push(&code.number);
                    seen.len() - 1
                }
            };
            (code.kind, rank)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_xml_cannot_carry_is_found() {
        assert_eq!(
            markup_problem("a<bpt i=\"1\">&lt;b&gt;</bpt>b<ept i=\"1\">&lt;/b&gt;</ept>"),
            None
        );
        assert!(
            markup_problem("<bpt i=\"1\">&#1;</bpt>x<ept i=\"1\">y</ept>")
                .unwrap()
                .contains("U+0001")
        );
        assert!(markup_problem("<ph x=\"1\">\u{1}</ph>")
            .unwrap()
            .contains("U+0001"));
        assert!(markup_problem("Hello<hi x=1>!</hi>").is_some());
        assert!(markup_problem("<bpt i=\"1\" x=\"1\" x=\"2\">a</bpt>").is_some());
    }

    #[test]
    fn inline_codes_become_numbered_placeholders() {
        let markup = r#"<bpt i="1">&lt;b&gt;</bpt>Recent<ept i="1">&lt;/b&gt;</ept> changes<ph x="2">&lt;br/&gt;</ph> &amp; more"#;
        assert_eq!(placeholder_text(markup), "{1}Recent{/1} changes{2/} & more");
    }

    #[test]
    fn placeholders_split_from_text_and_other_braces_stay_text() {
        let (plain, codes) = split_placeholders("{1}会见{/1}外宾{2/}，{注}{12a}");
        assert_eq!(plain, "会见外宾，{注}{12a}");
        let kinds: Vec<CodeKind> = codes.iter().map(|code| code.kind).collect();
        assert_eq!(
            kinds,
            [CodeKind::Open, CodeKind::Close, CodeKind::Standalone]
        );
    }

    #[test]
    fn code_penalty_counts_missing_extra_and_reordered_codes_not_numbering() {
        let codes = |text: &str| split_placeholders(text).1;
        assert_eq!(code_penalty(&codes("{1}a{/1}b"), &codes("{7}a{/7}b")), 0);
        assert_eq!(code_penalty(&[], &[]), 0);
        assert_eq!(code_penalty(&codes("a b"), &codes("{1}a{/1} b")), 2);
        assert_eq!(code_penalty(&codes("{1}a{/1}{2/}"), &codes("{1}a{/1}")), 1);
        // The same codes in another order.
        assert_eq!(
            code_penalty(&codes("{1}a{/1}{2/}"), &codes("{2/}{1}a{/1}")),
            2
        );
    }

    #[test]
    fn codes_in_markup_follow_the_document_order() {
        let markup = r#"<it pos="begin" x="1">&lt;i&gt;</it>text<ph>&lt;br/&gt;</ph><it pos="end" x="1">&lt;/i&gt;</it>"#;
        let codes = codes_in_markup(markup);
        let kinds: Vec<CodeKind> = codes.iter().map(|code| code.kind).collect();
        assert_eq!(
            kinds,
            [CodeKind::Open, CodeKind::Standalone, CodeKind::Close]
        );
    }
}
