//! Splitting a paragraph into sentences: the one set of rules, used by `POST /api/v1/split`
//! and so by the web workbench.
//!
//! A sentence ends after `。！？；…`, and after a half-width `!?;` or `.` that is followed
//! by a space or the end of the text, a `.` unless the word before the `.` is a known
//! abbreviation (`Mr.`, `No.`, `U.S.`) or the `.` sits between digits (`3.5`). Closing quotes
//! and brackets right after the end belong to the sentence (`……。”`). A line break always
//! ends a sentence: pasted paragraphs keep their own breaks.

/// Ends a sentence wherever it stands (Chinese punctuation).
const ALWAYS_ENDS: [char; 6] = ['。', '！', '？', '；', '…', '\u{ff0e}'];

/// End a sentence when a space (or the end of the text) follows: "Yahoo!" inside a word, a
/// URL's `?` or `a;b` do not.
const ENDS_BEFORE_SPACE: [char; 3] = ['!', '?', ';'];

/// Stay with the sentence they follow.
const CLOSERS: [char; 12] = [
    '”', '’', '"', '\'', '」', '』', '）', ')', '】', '》', ']', '〕',
];

/// Words that end with a full stop without ending a sentence (compared lowercase, without
/// the stop).
const ABBREVIATIONS: [&str; 24] = [
    "mr", "mrs", "ms", "dr", "prof", "st", "no", "nos", "vol", "art", "para", "paras", "fig",
    "e.g", "i.e", "etc", "vs", "u.s", "u.k", "u.n", "jan", "feb", "gen", "gov",
];

/// One sentence: its text without surrounding white space, and where it is in the paragraph.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Sentence {
    pub text: String,
    /// `[start, end)` in Unicode characters of the paragraph.
    pub start: usize,
    pub end: usize,
}

/// The sentences of `paragraph`, in order; blank stretches give none.
pub fn split(paragraph: &str) -> Vec<Sentence> {
    let chars: Vec<char> = paragraph.chars().collect();
    let mut sentences = Vec::new();
    let mut start = 0;
    let mut index = 0;
    while index < chars.len() {
        let character = chars[index];
        let ends_here = if character == '\n' || character == '\r' {
            Some(index)
        } else if ALWAYS_ENDS.contains(&character) {
            // Runs such as "？！" or "……" end once.
            let mut last = index;
            while last + 1 < chars.len() && ALWAYS_ENDS.contains(&chars[last + 1]) {
                last += 1;
            }
            Some(after_closers(&chars, last + 1))
        } else if ENDS_BEFORE_SPACE.contains(&character) && followed_by_break(&chars, index) {
            let mut last = index;
            while last + 1 < chars.len() && ENDS_BEFORE_SPACE.contains(&chars[last + 1]) {
                last += 1;
            }
            Some(after_closers(&chars, last + 1))
        } else if character == '.' && full_stop_ends_sentence(&chars, start, index) {
            Some(after_closers(&chars, index + 1))
        } else {
            None
        };
        if let Some(end) = ends_here {
            push_trimmed(&mut sentences, &chars, start, end);
            start = end;
            index = end.max(index + 1);
        } else {
            index += 1;
        }
    }
    push_trimmed(&mut sentences, &chars, start, chars.len());
    sentences
}

fn after_closers(chars: &[char], mut position: usize) -> usize {
    while position < chars.len() && CLOSERS.contains(&chars[position]) {
        position += 1;
    }
    position
}

/// Whether the mark at `position` is followed by white space, a closing quote or bracket, or
/// the end of the text.
fn followed_by_break(chars: &[char], position: usize) -> bool {
    match chars.get(position + 1) {
        None => true,
        Some(next) => next.is_whitespace() || CLOSERS.contains(next),
    }
}

fn full_stop_ends_sentence(chars: &[char], sentence_start: usize, dot: usize) -> bool {
    // "3.5", "U.S.A", "example.org": not followed by a space.
    if !followed_by_break(chars, dot) {
        return false;
    }
    // The word before the stop, including inner stops ("U.S", "e.g").
    let mut word_start = dot;
    while word_start > sentence_start
        && (chars[word_start - 1].is_alphanumeric() || chars[word_start - 1] == '.')
    {
        word_start -= 1;
    }
    let word: String = chars[word_start..dot]
        .iter()
        .collect::<String>()
        .to_lowercase();
    if ABBREVIATIONS.contains(&word.as_str()) {
        return false;
    }
    // A single capital ("J. Smith") is an initial.
    !(word.chars().count() == 1 && chars[word_start].is_uppercase())
}

fn push_trimmed(sentences: &mut Vec<Sentence>, chars: &[char], mut start: usize, mut end: usize) {
    while start < end && chars[start].is_whitespace() {
        start += 1;
    }
    while end > start && chars[end - 1].is_whitespace() {
        end -= 1;
    }
    if start < end {
        sentences.push(Sentence {
            text: chars[start..end].iter().collect(),
            start,
            end,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(paragraph: &str) -> Vec<String> {
        split(paragraph)
            .into_iter()
            .map(|sentence| sentence.text)
            .collect()
    }

    #[test]
    fn chinese_sentences_end_at_their_marks_and_keep_closing_quotes() {
        assert_eq!(
            texts("会议由区委书记主持。他指出：“要加强外事工作！”与会人员表示赞同；会议结束了吗？"),
            [
                "会议由区委书记主持。",
                "他指出：“要加强外事工作！”",
                "与会人员表示赞同；",
                "会议结束了吗？"
            ]
        );
        assert_eq!(
            texts("真的吗？！当然……好。"),
            ["真的吗？！", "当然……", "好。"]
        );
    }

    #[test]
    fn english_full_stops_skip_abbreviations_decimals_and_initials() {
        assert_eq!(
            texts("Mr. Wang met the U.S. delegation on 3.5 km of road. GDP grew 5.2 per cent! Did J. Smith attend? Yes."),
            [
                "Mr. Wang met the U.S. delegation on 3.5 km of road.",
                "GDP grew 5.2 per cent!",
                "Did J. Smith attend?",
                "Yes."
            ]
        );
    }

    #[test]
    fn offsets_point_into_the_paragraph_and_line_breaks_split() {
        let paragraph = "  第一句。\n第二句没有句号\n\n Third one. ";
        let sentences = split(paragraph);
        let chars: Vec<char> = paragraph.chars().collect();
        for sentence in &sentences {
            let slice: String = chars[sentence.start..sentence.end].iter().collect();
            assert_eq!(slice, sentence.text);
        }
        assert_eq!(
            texts(paragraph),
            ["第一句。", "第二句没有句号", "Third one."]
        );
        assert!(split("   \n ").is_empty());
    }
}
