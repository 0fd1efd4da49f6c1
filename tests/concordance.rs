use serde_json::json;

use crate::support::{tsv_of, un_pairs, Server};

fn highlighted(text: &str, range: &serde_json::Value) -> String {
    let start = range[0].as_u64().unwrap() as usize;
    let end = range[1].as_u64().unwrap() as usize;
    text.chars().skip(start).take(end - start).collect()
}

/// The first highlighted occurrence of every hit of a concordance answer, sorted.
fn first_highlights(body: &serde_json::Value) -> Vec<String> {
    let mut seen: Vec<String> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| highlighted(hit["source"].as_str().unwrap(), &hit["highlights"][0]))
        .collect();
    seen.sort();
    seen
}

/// Adds zh–en pairs one request each: one commit, so one segment, per pair.
async fn add_one_by_one(server: &Server, pairs: &[(&str, &str)]) {
    for (zh, en) in pairs {
        server
            .post_json(
                "/api/v1/segments",
                json!({"source_lang":"zh","target_lang":"en","source":zh,"target":en}),
            )
            .await;
    }
}

#[tokio::test]
async fn chinese_concordance_finds_the_character_sequence_with_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let pairs = un_pairs(800);
    server
        .import_tsv(&tsv_of(&pairs), "source_lang=zh&target_lang=en")
        .await;
    let needle = "可持续发展";
    let expected = pairs.iter().filter(|(zh, _)| zh.contains(needle)).count();
    assert!(expected > 3, "the sample should use the phrase");
    let (status, body) = server
        .get(&format!(
            "/api/v1/concordance?q={needle}&lang=zh&target_lang=en&limit=100"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"].as_u64().unwrap() as usize, expected);
    for hit in body["hits"].as_array().unwrap() {
        let source = hit["source"].as_str().unwrap();
        let highlights = hit["highlights"].as_array().unwrap();
        assert!(!highlights.is_empty());
        for range in highlights {
            assert_eq!(highlighted(source, range), needle);
        }
        assert!(hit["target"].as_str().is_some());
    }
    // A phrase query, not a bag of characters: 发展可持续 occurs nowhere.
    let (_, body) = server
        .get("/api/v1/concordance?q=发展可持续的的&lang=zh")
        .await;
    assert_eq!(body["total"], 0);
}

#[tokio::test]
async fn english_concordance_matches_inflected_forms_and_full_width_text() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let pairs = [
        (
            "各国领导人正在举行会谈。",
            "The leaders are holding talks on Monday.",
        ),
        ("双方将继续举行会谈。", "Both sides will hold talks again."),
        ("会谈富有成果。", "The talks were fruitful."),
        (
            "ＷＴＯ成员支持这一决定。",
            "WTO members supported the decision.",
        ),
    ];
    add_one_by_one(&server, &pairs).await;
    let (status, body) = server
        .get("/api/v1/concordance?q=hold%20talk&lang=en&target_lang=zh")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 2, "{body}");
    assert_eq!(first_highlights(&body), ["hold talks", "holding talks"]);

    // Width folding: an ASCII query finds full-width text, highlighted in the original.
    let (_, body) = server.get("/api/v1/concordance?q=wto&lang=zh").await;
    assert_eq!(body["total"], 1);
    let hit = &body["hits"][0];
    assert_eq!(
        highlighted(hit["source"].as_str().unwrap(), &hit["highlights"][0]),
        "ＷＴＯ"
    );

    // A single Chinese character works too.
    let (_, body) = server.get("/api/v1/concordance?q=谈&lang=zh").await;
    assert_eq!(body["total"], 3);
}

#[tokio::test]
async fn words_as_written_come_before_other_forms_of_their_stem() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    // The exact word is stored first, so newest-first order alone would bury it.
    let pairs = [
        ("这项倡议很重要。", "The initiative matters."),
        ("我们最初同意了。", "We initially agreed."),
        ("这是最初的想法。", "It was an initial idea."),
    ];
    add_one_by_one(&server, &pairs).await;
    let (status, body) = server.get("/api/v1/concordance?q=initiative&lang=en").await;
    assert_eq!(status, 200);
    let first = &body["hits"][0];
    assert_eq!(
        highlighted(first["source"].as_str().unwrap(), &first["highlights"][0]),
        "initiative",
        "{body}"
    );
}

/// Stemmed concordance reads no field of stems: each word of the phrase stands for the
/// surface forms of its stem found in the `tokens` dictionary of every segment.
#[tokio::test]
async fn a_stemmed_phrase_keeps_its_punctuation_and_finds_forms_stored_in_other_segments() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    // One commit each, so each form lives in a segment of its own.
    let pairs = [
        ("会议在北京举行。", "The meetings, held in Beijing, ended."),
        ("会议在巴黎举行。", "The meeting, held in Paris, ended."),
        ("会议在罗马举行。", "A meeting held in Rome ended."),
    ];
    add_one_by_one(&server, &pairs).await;
    let (status, body) = server
        .get("/api/v1/concordance?q=meeting%2C%20held&lang=en")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 2, "{body}");
    assert_eq!(first_highlights(&body), ["meeting, held", "meetings, held"]);

    // A word whose stem has no form anywhere: nothing matches, exactly or stemmed.
    let (status, body) = server
        .get("/api/v1/concordance?q=meetings%20adjourned&lang=en")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 0, "{body}");
}
