//! XLIFF 1.2 and 2.0 bilingual files, as Trados, memoQ, OmegaT and Okapi write them: the
//! translated segments become units.
//!
//! Only segments in an accepted state are imported: by default `final`, `signed-off` and
//! `translated` (and `approved="yes"`) in XLIFF 1.2, `final` in 2.0; a caller can pass its own
//! list, where `none` stands for a target without a state. Inline codes (`ph`, `bpt`, `ept`,
//! `it`, `x`, `bx`, `ex`, `sc`, `ec`) are left out of the text; the text inside `g`, `pc` and
//! `mrk` is kept.

use std::io::BufRead;
use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::xml::{locate_offsets, next_event, open_decoded, resolve_reference, XmlError};
use super::{pair_problem, FormatError, ImportOptions, Parsed, Skipped};
use crate::tm::NewUnit;

/// States imported when the caller does not say.
pub const DEFAULT_STATES_1_2: [&str; 3] = ["final", "signed-off", "translated"];
pub const DEFAULT_STATES_2_0: [&str; 1] = ["final"];

/// Elements whose content is native markup, not text.
const CODE_ELEMENTS: [&str; 4] = ["ph", "bpt", "ept", "it"];

/// Reads an XLIFF file. `states`: the accepted target states (`None`: the version's default).
pub fn read_file(
    path: &Path,
    options: &ImportOptions,
    states: Option<&[String]>,
    parsed: Parsed,
) -> Result<Parsed, FormatError> {
    let input = open_decoded(path)?;
    match read(input, options, states, parsed) {
        Ok((mut parsed, offsets)) => {
            let lines = locate_offsets(path, &offsets)?;
            for (skipped, (line, _)) in parsed.skipped.iter_mut().zip(lines) {
                skipped.at = format!("{} (line {line})", skipped.at);
            }
            Ok(parsed)
        }
        Err(error) => Err(error.located(path)),
    }
}

fn attribute(element: &BytesStart, name: &str) -> Option<String> {
    element.attributes().flatten().find_map(|attribute| {
        (attribute.key.0 == name).then(|| {
            attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|value| value.into_owned())
                .unwrap_or_default()
        })
    })
}

/// The segment being read.
#[derive(Default)]
struct Segment {
    id: String,
    offset: u64,
    source: Option<String>,
    target: Option<String>,
    state: Option<String>,
    approved: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Source,
    Target,
}

fn read<R: BufRead>(
    input: R,
    options: &ImportOptions,
    states: Option<&[String]>,
    mut parsed: Parsed,
) -> Result<(Parsed, Vec<u64>), XmlError> {
    let mut reader = Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    let mut buffer = Vec::new();
    let mut version_2 = false;
    let mut saw_root = false;
    let mut source_lang: Option<String> = None;
    let mut target_lang: Option<String> = None;
    let mut segment: Option<Segment> = None;
    let mut unit_id = String::new();
    let mut reading: Option<(Side, String)> = None;
    let mut code_depth = 0usize;
    let mut skipped_offsets = Vec::new();

    loop {
        let offset = reader.buffer_position();
        let event = next_event(&mut reader, &mut buffer)?;
        match event {
            Event::Eof => break,
            Event::Start(ref element) | Event::Empty(ref element) => {
                let is_empty = matches!(event, Event::Empty(_));
                let local = element.local_name();
                let name: &str = local.as_ref();
                if !saw_root {
                    if name != "xliff" {
                        return Err(XmlError::Syntax {
                            offset,
                            message: format!("the root element is <{name}>, not <xliff>"),
                        });
                    }
                    saw_root = true;
                    version_2 = attribute(element, "version")
                        .is_some_and(|version| version.starts_with('2'));
                    if version_2 {
                        source_lang = attribute(element, "srcLang");
                        target_lang = attribute(element, "trgLang");
                    }
                    continue;
                }
                match name {
                    "file" if !version_2 => {
                        source_lang = attribute(element, "source-language");
                        target_lang = attribute(element, "target-language").or(target_lang);
                    }
                    "trans-unit" if !version_2 => {
                        segment = Some(Segment {
                            id: attribute(element, "id").unwrap_or_default(),
                            offset,
                            approved: attribute(element, "approved").as_deref() == Some("yes"),
                            ..Segment::default()
                        });
                    }
                    "unit" if version_2 => unit_id = attribute(element, "id").unwrap_or_default(),
                    "segment" if version_2 => {
                        let id = attribute(element, "id")
                            .map(|id| format!("{unit_id}/{id}"))
                            .unwrap_or_else(|| unit_id.clone());
                        segment = Some(Segment {
                            id,
                            offset,
                            state: attribute(element, "state"),
                            ..Segment::default()
                        });
                    }
                    "source" if segment.is_some() && !is_empty => {
                        reading = Some((Side::Source, String::new()))
                    }
                    "target" if segment.is_some() && !is_empty => {
                        if !version_2 {
                            if let Some(current) = segment.as_mut() {
                                current.state = attribute(element, "state");
                            }
                        }
                        reading = Some((Side::Target, String::new()))
                    }
                    code if reading.is_some() && CODE_ELEMENTS.contains(&code) && !is_empty => {
                        code_depth += 1
                    }
                    "cp" if reading.is_some() => {
                        // XLIFF 2.0's escape for characters XML cannot carry.
                        let character = attribute(element, "hex")
                            .and_then(|hex| u32::from_str_radix(&hex, 16).ok())
                            .and_then(char::from_u32);
                        if let (Some(character), Some((_, text))) = (character, reading.as_mut()) {
                            text.push(character);
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(ref text) => {
                if let (Some((_, content)), 0) = (reading.as_mut(), code_depth) {
                    content.push_str(&text.xml10_content());
                }
            }
            Event::CData(ref data) => {
                if let (Some((_, content)), 0) = (reading.as_mut(), code_depth) {
                    content.push_str(&data.xml10_content());
                }
            }
            Event::GeneralRef(ref reference) => {
                let resolved = resolve_reference(reference)
                    .map_err(|message| XmlError::Syntax { offset, message })?;
                if let (Some((_, content)), 0) = (reading.as_mut(), code_depth) {
                    content.push_str(&resolved);
                }
            }
            Event::End(ref element) => {
                let local = element.local_name();
                let name: &str = local.as_ref();
                match name {
                    "source" | "target" => {
                        if let (Some((side, text)), Some(current)) =
                            (reading.take(), segment.as_mut())
                        {
                            match side {
                                Side::Source => current.source = Some(text),
                                Side::Target => current.target = Some(text),
                            }
                        }
                        code_depth = 0;
                    }
                    code if CODE_ELEMENTS.contains(&code) && reading.is_some() => {
                        code_depth = code_depth.saturating_sub(1)
                    }
                    "trans-unit" | "segment" => {
                        if let Some(finished) = segment.take() {
                            let context = Languages {
                                source: source_lang.as_deref(),
                                target: target_lang.as_deref(),
                                version_2,
                            };
                            match finish(finished, &context, options, states) {
                                Ok(unit) => parsed.push(unit).map_err(XmlError::Format)?,
                                Err((offset, skipped)) => {
                                    parsed.skipped.push(skipped);
                                    skipped_offsets.push(offset);
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        buffer.clear();
    }
    if !saw_root {
        return Err(XmlError::Syntax {
            offset: 0,
            message: "the file holds no <xliff> element".to_owned(),
        });
    }
    Ok((parsed, skipped_offsets))
}

struct Languages<'a> {
    source: Option<&'a str>,
    target: Option<&'a str>,
    version_2: bool,
}

/// The unit for a finished segment, or why it was skipped.
fn finish(
    segment: Segment,
    languages: &Languages,
    options: &ImportOptions,
    states: Option<&[String]>,
) -> Result<NewUnit, (u64, Skipped)> {
    let skip = |message: String| {
        (
            segment.offset,
            Skipped {
                at: format!("segment {}", segment.id),
                message,
            },
        )
    };
    let state = segment.state.clone().unwrap_or_else(|| "none".to_owned());
    let accepted = match states {
        Some(states) => states.contains(&state),
        None if languages.version_2 => DEFAULT_STATES_2_0.contains(&state.as_str()),
        None => segment.approved || DEFAULT_STATES_1_2.contains(&state.as_str()),
    };
    if !accepted {
        return Err(skip(format!(
            "its state `{state}` is not one of the imported states"
        )));
    }
    let source = segment.source.as_deref().map(str::trim).unwrap_or_default();
    let target = segment.target.as_deref().map(str::trim).unwrap_or_default();
    if let Some(message) = pair_problem(source, target, options.max_text_chars) {
        return Err(skip(message));
    }
    for (role, file_lang, requested) in [
        ("source", languages.source, &options.source_lang),
        ("target", languages.target, &options.target_lang),
    ] {
        if let Some(file_lang) = file_lang {
            if !crate::lang::compatible(requested, file_lang) {
                return Err(skip(format!(
                    "the file's {role} language is {file_lang}, the import asked for {requested}"
                )));
            }
        }
    }
    let mut unit = options.pair(source, target);
    if let Some(file_lang) = languages.source {
        unit.variants[0].lang = file_lang.to_owned();
    }
    if let Some(file_lang) = languages.target {
        unit.variants[1].lang = file_lang.to_owned();
    }
    Ok(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ImportOptions {
        ImportOptions::for_tests(1000)
    }

    fn units(document: &str, states: Option<&[String]>) -> (Vec<NewUnit>, Vec<Skipped>) {
        let (parsed, _) = read(document.as_bytes(), &options(), states, Parsed::default())
            .unwrap_or_else(|_| panic!("reads"));
        (parsed.units, parsed.skipped)
    }

    #[test]
    fn xliff_1_2_imports_final_targets_without_inline_codes() {
        let document = r#"<?xml version="1.0"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
 <file source-language="zh-CN" target-language="en-US" datatype="plaintext" original="a.txt">
  <body>
   <trans-unit id="1"><source>会议<g id="1">由</g>区委书记<x id="2"/>主持。</source>
     <target state="final">The meeting was <g id="1">chaired</g> by the Secretary.<ph id="3">&lt;br/&gt;</ph></target></trans-unit>
   <trans-unit id="2"><source>草稿。</source><target state="needs-review-translation">Draft.</target></trans-unit>
   <trans-unit id="3" approved="yes"><source>批准。</source><target>Approved.</target></trans-unit>
  </body>
 </file>
</xliff>"#;
        let (units, skipped) = units(document, None);
        assert_eq!(units.len(), 2);
        assert_eq!(units[0].variants[0].text, "会议由区委书记主持。");
        assert_eq!(
            units[0].variants[1].text,
            "The meeting was chaired by the Secretary."
        );
        assert_eq!(units[0].variants[1].lang, "en-US");
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].message.contains("needs-review-translation"));
        let all = ["needs-review-translation".to_owned(), "final".to_owned()];
        assert_eq!(self::units(document, Some(&all)).0.len(), 2);
    }

    #[test]
    fn xliff_2_0_imports_final_segments() {
        let document = r#"<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="zh" trgLang="en">
 <file id="f1"><unit id="u1">
  <segment id="s1" state="final"><source>推进<pc id="1">一带一路</pc>建设<ph id="2"/>。</source><target>Advance the <pc id="1">Belt and Road</pc>.</target></segment>
  <segment id="s2" state="translated"><source>其他。</source><target>Other.</target></segment>
 </unit></file>
</xliff>"#;
        let (units, skipped) = units(document, None);
        assert_eq!(units.len(), 1);
        assert_eq!(units[0].variants[0].text, "推进一带一路建设。");
        assert_eq!(units[0].variants[1].text, "Advance the Belt and Road.");
        assert_eq!(skipped[0].at, "segment u1/s2");
    }
}
