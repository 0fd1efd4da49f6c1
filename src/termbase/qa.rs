//! Terminology QA of a translated segment: missing approved renderings, deprecated or
//! superseded renderings, and numbers that did not make it across.

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::model::TermStatus;
use super::recognize::{PreparedText, Recognizer};
use crate::lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    MissingTerm,
    DeprecatedTerm,
    NumberMismatch,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Issue {
    pub kind: IssueKind,
    pub message: String,
    /// `[start, end)` in characters of the source, where the issue comes from.
    pub source_span: Option<[usize; 2]>,
    /// `[start, end)` in characters of the target, where the issue is.
    pub target_span: Option<[usize; 2]>,
    pub suggestion: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<u64>,
}

/// Checks `target` (in `target_lang`) against `source` (in `source_lang`).
pub fn check(
    recognizer: &Recognizer,
    source: &str,
    target: &str,
    source_lang: &str,
    target_lang: &str,
) -> Vec<Issue> {
    let mut issues = Vec::new();
    let prepared_target = PreparedText::new(target, target_lang);

    // Every recognized source term needs one of its allowed renderings in the target.
    for hit in recognizer.recognize(source, source_lang, Some(target_lang)) {
        if !hit.term_status.is_allowed() {
            continue;
        }
        let allowed: Vec<_> = hit
            .targets
            .iter()
            .filter(|target_term| target_term.status.is_allowed())
            .collect();
        if allowed.is_empty() {
            continue;
        }
        let present = allowed.iter().any(|target_term| {
            prepared_target
                .find(&target_term.text, target_term.case_sensitive)
                .is_some()
        });
        if !present {
            let preferred = &allowed[0].text;
            issues.push(Issue {
                kind: IssueKind::MissingTerm,
                message: format!(
                    "“{}” is translated without its approved rendering “{preferred}”",
                    hit.text
                ),
                source_span: Some([hit.start, hit.end]),
                target_span: None,
                suggestion: Some(preferred.clone()),
                entry_id: Some(hit.entry_id),
            });
        }
    }

    // Renderings that must not be used.
    for hit in recognizer.recognize(target, target_lang, Some(target_lang)) {
        if hit.term_status.is_allowed() {
            continue;
        }
        let replacement = hit
            .targets
            .iter()
            .find(|candidate| candidate.status.is_allowed())
            .map(|candidate| candidate.text.clone());
        let status = match hit.term_status {
            TermStatus::Superseded => "a superseded",
            _ => "a deprecated",
        };
        issues.push(Issue {
            kind: IssueKind::DeprecatedTerm,
            message: match &replacement {
                Some(use_instead) => {
                    format!("“{}” is {status} rendering; use “{use_instead}”", hit.text)
                }
                None => format!("“{}” is {status} rendering", hit.text),
            },
            source_span: None,
            target_span: Some([hit.start, hit.end]),
            suggestion: replacement,
            entry_id: Some(hit.entry_id),
        });
    }

    // Numbers.
    let target_numbers: Vec<u64> = numbers(target, target_lang)
        .into_iter()
        .map(|number| number.value)
        .collect();
    for number in numbers(source, source_lang) {
        if !target_numbers.contains(&number.value) {
            issues.push(Issue {
                kind: IssueKind::NumberMismatch,
                message: format!(
                    "the number {} (“{}”) has no counterpart in the target",
                    number.value, number.text
                ),
                source_span: Some([number.start, number.end]),
                target_span: None,
                suggestion: None,
                entry_id: None,
            });
        }
    }
    issues
}

/// A number found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundNumber {
    pub value: u64,
    pub text: String,
    pub start: usize,
    pub end: usize,
}

fn chinese_digit(character: char) -> Option<u64> {
    Some(match character {
        '〇' | '零' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

fn chinese_unit(character: char) -> Option<u64> {
    Some(match character {
        '十' => 10,
        '百' => 100,
        '千' => 1000,
        '万' => 10_000,
        '亿' => 100_000_000,
        _ => return None,
    })
}

/// The value of a run of Chinese numerals: positional (二〇二五 → 2025) or with units
/// (三十五 → 35, 一百零八 → 108).
fn chinese_value(run: &[char]) -> Option<u64> {
    if run.iter().all(|c| chinese_digit(*c).is_some()) {
        return run
            .iter()
            .try_fold(0u64, |value, c| Some(value * 10 + chinese_digit(*c)?));
    }
    let mut total = 0u64;
    let mut section = 0u64;
    let mut digit: Option<u64> = None;
    for &character in run {
        if let Some(value) = chinese_digit(character) {
            digit = Some(value);
            continue;
        }
        let unit = chinese_unit(character)?;
        if unit >= 10_000 {
            section += digit.take().unwrap_or(0);
            total += section.max(1) * unit;
            section = 0;
        } else {
            section += digit.take().unwrap_or(1) * unit;
        }
    }
    Some(total + section + digit.unwrap_or(0))
}

/// Characters after which a single Chinese numeral is a number, not part of a word.
const CHINESE_COUNTERS: &str = "年月日个项次名届家位条点岁周倍";

/// English number words and ordinals that translations use for small numbers.
const ENGLISH_NUMBERS: [(&str, u64); 40] = [
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("fifth", 5),
    ("sixth", 6),
    ("seventh", 7),
    ("eighth", 8),
    ("ninth", 9),
    ("tenth", 10),
    ("eleventh", 11),
    ("twelfth", 12),
    ("thirteenth", 13),
    ("fourteenth", 14),
    ("fifteenth", 15),
    ("sixteenth", 16),
    ("seventeenth", 17),
    ("eighteenth", 18),
    ("nineteenth", 19),
    ("twentieth", 20),
];

/// Numbers in a text: Arabic digits (full-width too, thousands separators allowed, `14th`),
/// Chinese numerals (二〇二五, 三十五, and the plan names 十四五 → 14 and 十五五 → 15), and in
/// English text the number words one to twenty and their ordinals.
pub fn numbers(original: &str, text_lang: &str) -> Vec<FoundNumber> {
    let characters: Vec<char> = original.chars().collect();
    let normalized: Vec<char> = characters
        .iter()
        .map(|c| {
            let mut buffer = [0u8; 4];
            let mut folded = c.encode_utf8(&mut buffer).nfkc();
            folded.next().unwrap_or(*c)
        })
        .collect();
    let mut found = Vec::new();
    let mut index = 0;
    while index < normalized.len() {
        let character = normalized[index];
        if character.is_ascii_digit() {
            let start = index;
            let mut value_text = String::new();
            while index < normalized.len()
                && (normalized[index].is_ascii_digit()
                    || (normalized[index] == ','
                        && index + 1 < normalized.len()
                        && normalized[index + 1].is_ascii_digit()))
            {
                if normalized[index] != ',' {
                    value_text.push(normalized[index]);
                }
                index += 1;
            }
            if let Ok(value) = value_text.parse() {
                found.push(FoundNumber {
                    value,
                    text: characters[start..index].iter().collect(),
                    start,
                    end: index,
                });
            }
            continue;
        }
        if chinese_digit(character).is_some() || chinese_unit(character).is_some() {
            let start = index;
            while index < normalized.len()
                && (chinese_digit(normalized[index]).is_some()
                    || chinese_unit(normalized[index]).is_some())
            {
                index += 1;
            }
            let run = &normalized[start..index];
            let followed_by_counter = normalized
                .get(index)
                .is_some_and(|next| CHINESE_COUNTERS.contains(*next));
            // 十四五, 十五五: the n-th Five-Year Plan, written as 十n + 五.
            let plan = run.len() == 3 && run[0] == '十' && run[2] == '五';
            let value = if plan {
                chinese_value(&run[..2])
            } else if run.len() >= 2 || followed_by_counter {
                chinese_value(run)
            } else {
                None
            };
            if let Some(value) = value {
                found.push(FoundNumber {
                    value,
                    text: characters[start..index].iter().collect(),
                    start,
                    end: index,
                });
            }
            continue;
        }
        index += 1;
    }
    if lang::primary_subtag(text_lang) == "en" {
        for located in crate::text::located_tokens(original) {
            // "Five-Year Plan", "one-China policy": part of a name, not a count.
            if characters.get(located.chars.end) == Some(&'-') {
                continue;
            }
            if let Some((_, value)) = ENGLISH_NUMBERS
                .iter()
                .find(|(word, _)| *word == located.token.text)
            {
                found.push(FoundNumber {
                    value: *value,
                    text: characters[located.chars.clone()].iter().collect(),
                    start: located.chars.start,
                    end: located.chars.end,
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, lang: &str) -> Vec<u64> {
        numbers(text, lang).into_iter().map(|n| n.value).collect()
    }

    #[test]
    fn chinese_and_arabic_numbers_are_read() {
        assert_eq!(values("“十四五”规划和“十五五”时期", "zh"), [14, 15]);
        assert_eq!(
            values("二〇二五年召开第三十五届会议，共1,200人", "zh"),
            [2025, 35, 1200]
        );
        assert_eq!(values("一带一路", "zh"), Vec::<u64>::new());
        assert_eq!(values("第一次", "zh"), [1]);
        assert_eq!(
            values("the 14th Five-Year Plan, fifteen cities, ２０２５", "en"),
            [14, 2025, 15]
        );
    }
}
