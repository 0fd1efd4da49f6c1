//! What differs between a query and a match's source, character by character, for showing a
//! translator what to change (the score itself counts tokens; see the module above).

use similar::{ChangeTag, TextDiff};

/// Whether a piece is in both texts, only in the match's source, or only in the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiffOp {
    Equal,
    /// In the match's source, not in the query.
    Delete,
    /// In the query, not in the match's source.
    Insert,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DiffPiece {
    pub op: DiffOp,
    pub text: String,
}

/// Longest a diff may search for the smallest set of changes. Texts may be 10,000 characters
/// and a lookup may return 100 matches: past this, the diff is still right (equal and changed
/// pieces rebuild both texts) but may mark more than the least that changed.
const DIFF_TIME_LIMIT: std::time::Duration = std::time::Duration::from_millis(20);

/// The pieces that turn `match_source` into `query`, in reading order, with runs of the same
/// kind joined.
pub fn char_diff(match_source: &str, query: &str) -> Vec<DiffPiece> {
    let diff = TextDiff::configure()
        .timeout(DIFF_TIME_LIMIT)
        .diff_chars(match_source, query);
    let mut pieces: Vec<DiffPiece> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => DiffOp::Equal,
            ChangeTag::Delete => DiffOp::Delete,
            ChangeTag::Insert => DiffOp::Insert,
        };
        match pieces.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => pieces.push(DiffPiece {
                op,
                text: change.value().to_owned(),
            }),
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_title_shows_as_one_deletion_and_one_insertion() {
        let pieces = char_diff("会议由区委书记主持。", "会议由区委副书记主持。");
        let rendered: Vec<(DiffOp, &str)> = pieces
            .iter()
            .map(|piece| (piece.op, piece.text.as_str()))
            .collect();
        assert_eq!(
            rendered,
            [
                (DiffOp::Equal, "会议由区委"),
                (DiffOp::Insert, "副"),
                (DiffOp::Equal, "书记主持。")
            ]
        );
        // Reassembling the equal and deleted pieces gives the match; equal and inserted, the
        // query.
        let source: String = pieces
            .iter()
            .filter(|piece| piece.op != DiffOp::Insert)
            .map(|piece| piece.text.as_str())
            .collect();
        assert_eq!(source, "会议由区委书记主持。");
    }
}
