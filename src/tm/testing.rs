//! What the store's unit tests share: a TM of real UN sentences spread over several segments.

use crate::tm::{NewUnit, OpenMode, Tm};

/// The first `count` real zh–en pairs of the UN dev set.
pub fn un_pairs(count: usize) -> Vec<(String, String)> {
    let corpora =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/corpora/un-devset");
    let zh = std::fs::read_to_string(corpora.join("UNv1.0.devset.zh")).unwrap();
    let en = std::fs::read_to_string(corpora.join("UNv1.0.devset.en")).unwrap();
    zh.lines()
        .zip(en.lines())
        .map(|(zh, en)| (zh.trim().to_owned(), en.trim().to_owned()))
        .filter(|(zh, en)| !zh.is_empty() && !en.is_empty())
        .take(count)
        .collect()
}

/// A TM in `dir` holding `pairs`, committed in four parts so searches span several segments.
pub fn tm_in_segments(dir: &std::path::Path, pairs: &[(String, String)]) -> Tm {
    let tm = Tm::open(dir, OpenMode::ReadWrite).unwrap();
    for part in pairs.chunks(pairs.len().div_ceil(4)) {
        tm.add_blocking(
            part.iter()
                .map(|(zh, en)| NewUnit::pair("zh", zh, "en", en))
                .collect(),
        )
        .unwrap();
    }
    assert!(tm.reader.searcher().segment_readers().len() > 1);
    tm
}

/// `text` as its tokens joined by spaces, with the token a third of the way in dropped: a
/// stored sentence turned into a near match.
pub fn with_a_token_dropped(text: &str) -> String {
    let tokens: Vec<String> = crate::text::tokens(text)
        .into_iter()
        .map(|token| token.text)
        .collect();
    let mut kept: Vec<&str> = tokens.iter().map(String::as_str).collect();
    if kept.len() > 2 {
        kept.remove(kept.len() / 3);
    }
    kept.join(" ")
}
