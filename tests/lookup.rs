use serde_json::json;

use crate::support::{tsv_of, un_pairs, Server};

#[tokio::test]
async fn fuzzy_lookup_over_real_un_pairs_scores_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let pairs = un_pairs(1500);
    let (status, report) = server
        .import_tsv(&tsv_of(&pairs), "source_lang=zh-CN&target_lang=en")
        .await;
    assert_eq!(status, 200, "{report}");
    assert!(report["imported"].as_u64().unwrap() > 1400, "{report}");

    // A real sentence with one character changed and one dropped.
    let (original_zh, original_en) = pairs
        .iter()
        .find(|(zh, _)| zh.chars().count() > 30)
        .unwrap()
        .clone();
    let mut chars: Vec<char> = original_zh.chars().collect();
    chars[10] = '国';
    chars.remove(20);
    let query: String = chars.into_iter().collect();
    let body = server.lookup(&query).await;
    let best = &body["matches"][0];
    assert_eq!(best["source"], original_zh.as_str(), "{body}");
    assert_eq!(best["target"], original_en.as_str());
    assert_eq!(
        best["score"].as_u64().unwrap(),
        attache::text::score(&query, &original_zh) as u64
    );
    assert_eq!(best["source_lang"], "zh-CN");
    assert_eq!(best["target_lang"], "en");
    for field in [
        "id",
        "collection",
        "status",
        "author",
        "document",
        "updated_at",
    ] {
        assert!(best.get(field).is_some(), "match lacks {field}: {best}");
    }

    // The exact sentence scores 100 and comes first.
    let body = server.lookup(&original_zh).await;
    assert_eq!(body["matches"][0]["score"], 100);
}

#[tokio::test]
async fn results_are_sorted_and_respect_min_score_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let base = "会议由昌平区委书记主持。";
    let variants = [
        "会议由昌平区委书记主持。",
        "会议由昌平区委副书记主持。",
        "会议由昌平区区长主持。",
        "今天天气很好。",
    ];
    for (index, source) in variants.iter().enumerate() {
        let (status, _) = server
            .post_json(
                "/api/v1/segments",
                json!({"source_lang":"zh-CN","target_lang":"en-GB","source":source,"target":format!("Target {index}")}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (status, body) = server
        .post_json(
            "/api/v1/lookup",
            json!({"text": base, "source_lang": "zh", "target_lang": "en", "min_score": 60, "limit": 10}),
        )
        .await;
    assert_eq!(status, 200);
    let scores: Vec<u64> = body["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|found| found["score"].as_u64().unwrap())
        .collect();
    assert_eq!(scores, [100, 92, 75]);

    let (_, body) = server
        .post_json(
            "/api/v1/lookup",
            json!({"text": base, "source_lang": "zh-CN", "target_lang": "en-GB", "limit": 1}),
        )
        .await;
    assert_eq!(body["matches"].as_array().unwrap().len(), 1);

    // A more specific tag that no unit has finds nothing.
    let (_, body) = server
        .post_json(
            "/api/v1/lookup",
            json!({"text": base, "source_lang": "zh-TW", "target_lang": "en"}),
        )
        .await;
    assert_eq!(body["matches"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn equal_scores_put_approved_before_draft_and_newer_before_older() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let source = "双方就共建一带一路交换了意见。";
    let mut ids = Vec::new();
    for (target, status) in [
        ("old approved", "approved"),
        ("draft", "draft"),
        ("new approved", "approved"),
    ] {
        let (code, body) = server
            .post_json(
                "/api/v1/segments",
                json!({"source_lang":"zh","target_lang":"en","source":source,"target":target,"status":status}),
            )
            .await;
        assert_eq!(code, 201);
        ids.push(body["id"].as_u64().unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let body = server.lookup(source).await;
    let targets: Vec<&str> = body["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|found| found["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["new approved", "old approved", "draft"]);
}

#[tokio::test]
async fn english_to_chinese_lookup_works_word_by_word() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    server
        .post_json(
            "/api/v1/segments",
            json!({"source_lang":"en","target_lang":"zh","source":"The meeting was held recently.","target":"会议于近日召开。"}),
        )
        .await;
    let (status, body) = server
        .post_json(
            "/api/v1/lookup",
            json!({"text":"The meeting was held.","source_lang":"en","target_lang":"zh"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["matches"][0]["score"], 83, "{body}");
    assert_eq!(body["matches"][0]["target"], "会议于近日召开。");
}

#[tokio::test]
async fn msgpack_requests_and_responses() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    #[derive(serde::Serialize)]
    struct NewPair<'a> {
        source_lang: &'a str,
        target_lang: &'a str,
        source: &'a str,
        target: &'a str,
    }
    let body = rmp_serde::to_vec_named(&NewPair {
        source_lang: "zh",
        target_lang: "en",
        source: "坚持独立自主的和平外交政策。",
        target: "We pursue an independent foreign policy of peace.",
    })
    .unwrap();
    let response = server
        .client
        .post(server.url("/api/v1/segments"))
        .header("content-type", "application/msgpack")
        .header("accept", "application/msgpack")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/msgpack"
    );
    let decoded: serde_json::Value =
        rmp_serde::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert!(decoded["id"].as_u64().unwrap() >= 1);

    let lookup = rmp_serde::to_vec_named(
        &json!({"text":"坚持独立自主的和平外交政策","source_lang":"zh","target_lang":"en"}),
    )
    .unwrap();
    let response = server
        .client
        .post(server.url("/api/v1/lookup"))
        .header("content-type", "application/msgpack")
        .header("accept", "application/msgpack")
        .body(lookup)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let decoded: serde_json::Value =
        rmp_serde::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(decoded["matches"][0]["score"], 92);
}

#[tokio::test]
async fn a_paragraph_splits_into_sentences_and_each_match_diffs_against_its_query() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (status, _) = server
        .post_json(
            "/api/v1/segments",
            json!({"source_lang":"zh","target_lang":"en","source":"会议由区委书记主持。",
                   "target":"The meeting was chaired by the Secretary of the District Committee."}),
        )
        .await;
    assert_eq!(status, 201);

    let paragraph = "会议由区委副书记主持。他指出：“要加强外事工作！”\nMr. Wang met the U.S. delegation. It went well.";
    let (status, body) = server
        .post_json("/api/v1/split", json!({"text": paragraph}))
        .await;
    assert_eq!(status, 200, "{body}");
    let sentences: Vec<&str> = body["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sentence| sentence["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        sentences,
        [
            "会议由区委副书记主持。",
            "他指出：“要加强外事工作！”",
            "Mr. Wang met the U.S. delegation.",
            "It went well."
        ]
    );
    let chars: Vec<char> = paragraph.chars().collect();
    let second = &body["sentences"][1];
    let (start, end) = (
        second["start"].as_u64().unwrap() as usize,
        second["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(chars[start..end].iter().collect::<String>(), sentences[1]);
    let (status, body) = server.post_json("/api/v1/split", json!({})).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("`text`"));

    let (status, body) = server
        .post_json(
            "/api/v1/lookup",
            json!({"text": sentences[0], "source_lang": "zh", "target_lang": "en", "diff": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let diff = &body["matches"][0]["diff"];
    assert_eq!(
        diff,
        &json!([{"op":"equal","text":"会议由区委"},{"op":"insert","text":"副"},{"op":"equal","text":"书记主持。"}])
    );
    // Without the flag there is no diff.
    let plain = server.lookup(sentences[0]).await;
    assert!(plain["matches"][0].get("diff").is_none(), "{plain}");
}

/// A short English sentence whose best match shares only common words with it ("the", "of",
/// "and") used to be lost behind units sharing its rare words, which BM25 ranks first: with
/// more such units than lookup takes candidates, the best match was never looked at. The
/// shared-token count finds it.
#[tokio::test]
async fn best_match_sharing_only_common_words_is_found_behind_units_sharing_rare_ones() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    // Real UN sentences, so "the", "of" and "and" are as common as they are in a real TM…
    let mut pairs = un_pairs(3000);
    // …and 200 units sharing the query's four rarest words, and nothing in order with it.
    let filler = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliet", "kilo", "lima", "mike", "oscar", "papa", "quebec", "romeo", "sierra",
    ];
    for index in 0..200usize {
        let words: Vec<&str> = (0..6)
            .map(|k| filler[(index * 7 + k * 5) % filler.len()])
            .collect();
        pairs.push((
            format!("枪手案{index}"),
            format!("Gunman motive incident nature {} {index}", words.join(" ")),
        ));
    }
    let best = "With the trust of the country and the goodwill of the people,";
    pairs.push(("在国家的信任和人民的善意下，".to_owned(), best.to_owned()));
    let (status, report) = server
        .import_tsv(&tsv_of(&pairs), "source_lang=zh&target_lang=en")
        .await;
    assert_eq!(status, 200, "{report}");

    let query = "The nature of the incident and the motive of the gunman";
    let truth = pairs
        .iter()
        .map(|(_, english)| attache::text::score(query, english))
        .max()
        .unwrap();
    assert_eq!(
        truth, 53,
        "no stored sentence should beat the one added for it"
    );
    assert!(attache::text::score(query, &pairs[3000].1) < 50);
    let (status, body) = server
        .post_json(
            "/api/v1/lookup",
            json!({"text": query, "source_lang": "en", "target_lang": "zh",
                   "min_score": 50, "limit": 5}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["matches"][0]["score"], 53, "{body}");
    assert_eq!(body["matches"][0]["source"], best, "{body}");
}
