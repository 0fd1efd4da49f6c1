//! The termbase over HTTP: the shipped glossary, recognition, curation with history, QA and
//! TBX exchange, against the real server.

use serde_json::{json, Value};

use crate::support::{shared, Server};

fn hit_texts(body: &Value) -> Vec<String> {
    body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn recognize(server: &Server, text: &str, lang: &str, target: &str, query: &str) -> Value {
    let (status, body) = server
        .post_json(
            &format!("/api/v1/terms/recognize{query}"),
            json!({"text": text, "lang": lang, "target_lang": target}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn the_shipped_glossary_loads_and_recognizes_chinese_titles_and_phrases() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (_, health) = server.get("/health").await;
    assert!(health["terms"].as_u64().unwrap() >= 40, "{health}");

    let text = "会议由中共昌平区委书记主持，强调高质量共建“一帶一路”，为“十五五”开好局。";
    let body = recognize(&server, text, "zh-CN", "en", "").await;
    let texts = hit_texts(&body);
    assert_eq!(texts, ["中共昌平区委书记", "一帶一路", "十五五"], "{body}");
    let secretary = &body["hits"][0];
    assert_eq!(secretary["start"], 3);
    assert_eq!(secretary["end"], 11);
    assert_eq!(
        secretary["targets"][0]["text"],
        "Secretary of the CPC Changping District Committee"
    );
    assert_eq!(secretary["targets"][0]["status"], "preferred");
    let bri = &body["hits"][1];
    let targets: Vec<&str> = bri["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert_eq!(targets[0], "the Belt and Road Initiative");
    assert!(
        targets.contains(&"One Belt, One Road"),
        "deprecated renderings are listed too"
    );
    let deprecated = bri["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["text"] == "One Belt, One Road")
        .unwrap();
    assert_eq!(deprecated["status"], "deprecated");
}

#[tokio::test]
async fn english_recognition_over_the_sample_release_stems_and_keeps_acronyms_case_sensitive() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let release = std::fs::read_to_string(shared().join("data/sample-release-en.txt")).unwrap();
    let mut found = Vec::new();
    for paragraph in release.lines().filter(|line| !line.trim().is_empty()) {
        found.extend(hit_texts(
            &recognize(&server, paragraph, "en", "zh", "").await,
        ));
    }
    for expected in [
        "Secretary of the CPC Changping District Committee",
        "Foreign Affairs Committee of the CPC Changping District Committee",
        "14th Five-Year Plan",
        "Xi Jinping Thought on Diplomacy",
        "Belt and Road Initiative (BRI) partner countries",
        "foreign affairs discipline",
        "management of official overseas visits",
        "new towns in the flatlands",
    ] {
        assert!(
            found.iter().any(|text| text.contains(expected)),
            "{expected:?} not recognized in the release; found {found:?}"
        );
    }
    // Inflected forms, and acronyms only as written.
    let body = recognize(
        &server,
        "Both Five-Year Plans name the Belt and Road initiatives; bri is not BRI.",
        "en",
        "zh",
        "",
    )
    .await;
    let texts = hit_texts(&body);
    assert!(
        texts.contains(&"Belt and Road initiatives".to_owned()),
        "{texts:?}"
    );
    assert_eq!(
        texts
            .iter()
            .filter(|text| text.eq_ignore_ascii_case("bri"))
            .count(),
        1,
        "{texts:?}"
    );
    assert!(texts.contains(&"BRI".to_owned()));
    let body = recognize(
        &server,
        "Under the Five-Year Plans, the 14th Five-Year Plan ends in 2025.",
        "en",
        "zh",
        "",
    )
    .await;
    assert_eq!(
        hit_texts(&body),
        ["Five-Year Plans", "14th Five-Year Plan"],
        "{body}"
    );
}

#[tokio::test]
async fn curation_workflow_history_and_recognition_stay_in_step() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let entry = json!({
        "subject_field": "policy phrase",
        "source": "Government work report 2025",
        "terms": [
            {"lang": "zh-CN", "text": "新质生产力", "status": "preferred", "type": "fullForm"},
            {"lang": "en", "text": "new quality productive forces", "status": "preferred"}
        ]
    });
    let response = server
        .client
        .post(server.url("/api/v1/terms"))
        .header("x-attache-user", "terminologist.li")
        .json(&entry)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_u64().unwrap();
    assert_eq!(created["workflow"], "proposed");
    assert_eq!(created["terms"][1]["status"], "preferred");

    let text = "发展新质生产力。";
    assert!(
        hit_texts(&recognize(&server, text, "zh", "en", "").await).is_empty(),
        "proposed entries are not used by default"
    );
    assert_eq!(
        hit_texts(&recognize(&server, text, "zh", "en", "?include=proposed").await),
        ["新质生产力"]
    );

    let response = server
        .client
        .post(server.url(&format!("/api/v1/terms/{id}/approve")))
        .header("x-attache-user", "chief.wang")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // Visible to recognition at once.
    assert_eq!(
        hit_texts(&recognize(&server, text, "zh", "en", "").await),
        ["新质生产力"]
    );

    // The same term again in a new entry: 409 naming the approved entry, unless allowed.
    let (status, conflict) = server.post_json("/api/v1/terms", entry.clone()).await;
    assert_eq!(status, 409);
    assert!(conflict["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&id.to_string()));
    let mut allowed = entry.clone();
    allowed["allow_duplicate"] = json!(true);
    let (status, _) = server.post_json("/api/v1/terms", allowed).await;
    assert_eq!(status, 201);

    let response = server
        .client
        .patch(server.url(&format!("/api/v1/terms/{id}")))
        .header("x-attache-user", "terminologist.li")
        .json(
            &json!({"note": "Since the 2024 government work report.", "valid_from": "2024-03-05"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let patched: Value = response.json().await.unwrap();
    assert_eq!(patched["valid_from"], "2024-03-05");
    assert_eq!(patched["workflow"], "approved");

    let (status, _) = server.get(&format!("/api/v1/terms/{id}")).await;
    assert_eq!(status, 200);
    let response = server
        .client
        .delete(server.url(&format!("/api/v1/terms/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (status, _) = server.get(&format!("/api/v1/terms/{id}")).await;
    assert_eq!(status, 404);

    let (status, history) = server.get(&format!("/api/v1/terms/{id}/history")).await;
    assert_eq!(status, 200);
    let changes = history["changes"].as_array().unwrap();
    let actions: Vec<&str> = changes
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "approve", "update", "delete"]);
    assert_eq!(changes[0]["by"], "terminologist.li");
    assert_eq!(changes[1]["by"], "chief.wang");
    assert!(changes[1]["changes"][0]
        .as_str()
        .unwrap()
        .contains("proposed → approved"));
    assert!(changes
        .iter()
        .all(|c| c["at"].as_str().unwrap().len() >= 20));
}

#[tokio::test]
async fn searching_the_glossary_finds_exact_prefix_and_fuzzy_matches() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (status, body) = server.get("/api/v1/terms?q=外事纪律&lang=zh").await;
    assert_eq!(status, 200);
    assert_eq!(body["results"][0]["match"], "exact");
    let (_, body) = server.get("/api/v1/terms?q=区委外事&lang=zh").await;
    assert!(body["total"].as_u64().unwrap() >= 3, "{body}");
    assert!(body["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["match"] == "prefix"));
    // One wrong character in Chinese, a typo in English.
    let (_, body) = server.get("/api/v1/terms?q=外事记律&lang=zh").await;
    assert_eq!(body["results"][0]["match"], "fuzzy", "{body}");
    assert_eq!(body["results"][0]["entry"]["terms"][0]["text"], "外事纪律");
    let (_, body) = server.get("/api/v1/terms?q=diplomcy&lang=en").await;
    let found: Vec<String> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["entry"]["terms"][0]["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(found.contains(&"习近平外交思想".to_owned()), "{found:?}");
    // Paging and filters.
    let (_, page) = server
        .get("/api/v1/terms?workflow=approved&per_page=10&page=2")
        .await;
    assert_eq!(page["results"].as_array().unwrap().len(), 10);
    assert_eq!(page["page"], 2);
    let (_, deprecated) = server.get("/api/v1/terms?status=deprecated&lang=en").await;
    assert!(deprecated["total"].as_u64().unwrap() >= 3);
}

#[tokio::test]
async fn qa_flags_missing_and_deprecated_terms_and_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let source = "坚持以习近平外交思想为指导，推进中国特色大国外交，完成“十四五”规划目标。";
    let good = "Guided by Xi Jinping Thought on Diplomacy, we will advance major-country diplomacy with Chinese characteristics and meet the goals of the 14th Five-Year Plan.";
    let (status, body) = server
        .post_json(
            "/api/v1/qa",
            json!({"source": source, "target": good, "source_lang": "zh-CN", "target_lang": "en"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["issues"].as_array().unwrap().len(), 0, "{body}");

    let bad = "Guided by Xi Jinping's diplomatic thought, we will advance great power diplomacy with Chinese characteristics and meet the goals of the Five-Year Plan.";
    let (_, body) = server
        .post_json(
            "/api/v1/qa",
            json!({"source": source, "target": bad, "source_lang": "zh-CN", "target_lang": "en"}),
        )
        .await;
    let issues = body["issues"].as_array().unwrap();
    let kinds: Vec<&str> = issues
        .iter()
        .map(|issue| issue["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"missing_term"), "{body}");
    assert!(kinds.contains(&"deprecated_term"), "{body}");
    assert!(kinds.contains(&"number_mismatch"), "{body}");
    let deprecated = issues
        .iter()
        .find(|issue| {
            issue["kind"] == "deprecated_term" && issue["suggestion"] == "major-country diplomacy"
        })
        .expect("great power diplomacy flagged");
    let span = deprecated["target_span"].as_array().unwrap();
    let flagged: String = bad
        .chars()
        .skip(span[0].as_u64().unwrap() as usize)
        .take((span[1].as_u64().unwrap() - span[0].as_u64().unwrap()) as usize)
        .collect();
    assert_eq!(flagged, "great power diplomacy");
    let superseded = issues.iter().any(|issue| {
        issue["kind"] == "deprecated_term"
            && issue["suggestion"] == "Xi Jinping Thought on Diplomacy"
    });
    assert!(superseded, "the superseded rendering is flagged: {body}");
    let number = issues
        .iter()
        .find(|issue| issue["kind"] == "number_mismatch")
        .unwrap();
    assert!(
        number["message"].as_str().unwrap().contains("14"),
        "{number}"
    );
}

#[tokio::test]
async fn lookup_with_terms_returns_matches_and_glossary_hits_in_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    server
        .post_json("/api/v1/segments", json!({"source_lang":"zh-CN","target_lang":"en","source":"区委外事办要加强统筹协调。","target":"The Foreign Affairs Office of the CPC Changping District Committee should strengthen overall planning and coordination."}))
        .await;
    let (status, body) = server
        .post_json("/api/v1/lookup", json!({"text":"区委外事办要继续加强统筹协调。","source_lang":"zh","target_lang":"en","terms":true}))
        .await;
    assert_eq!(status, 200);
    assert!(body["matches"][0]["score"].as_u64().unwrap() >= 80);
    let texts = hit_texts(&json!({"hits": body["terms"]}));
    assert_eq!(texts, ["区委外事办", "统筹协调"]);
    let (_, plain) = server
        .post_json(
            "/api/v1/lookup",
            json!({"text":"区委外事办要继续加强统筹协调。","source_lang":"zh","target_lang":"en"}),
        )
        .await;
    assert!(plain.get("terms").is_none());
}

#[tokio::test]
async fn bad_entries_are_refused_with_the_field_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (_, health) = server.get("/health").await;
    let before = health["terms"].as_u64().unwrap();
    let cases = [
        (
            json!({"terms": [{"lang": "zh", "text": "甲", "status": "forbidden"}]}),
            "status",
        ),
        (
            json!({"terms": [{"lang": "zh", "text": "甲", "type": "nickname"}]}),
            "type",
        ),
        (
            json!({"workflow": "maybe", "terms": [{"lang": "zh", "text": "甲"}]}),
            "workflow",
        ),
        (
            json!({"terms": [{"lang": "klingon", "text": "甲"}]}),
            "terms[0].lang",
        ),
        (json!({"terms": []}), "terms"),
        (json!({"subject_field": "x"}), "terms"),
        (
            json!({"terms": [{"lang": "zh", "text": "  "}]}),
            "terms[0].text",
        ),
        (
            json!({"valid_from": "2025-13-01", "terms": [{"lang": "zh", "text": "甲"}]}),
            "valid_from",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = server.post_json("/api/v1/terms", body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{message:?} should name {field}");
    }
    // A malformed TBX names its line; nothing of it is stored.
    let broken = "<?xml version=\"1.0\"?>\n<tbx>\n<text><body>\n<conceptEntry id=\"a\"><langSec xml:lang=\"zh\"><termSec><term>甲</term></termSec></langSec></conceptEntry>\n<conceptEntry id=\"b\"><langSec xml:lang=\"zh\"><termSec><term>乙</term></langSec></conceptEntry>\n</body></text></tbx>\n";
    let (status, answer) = server
        .post_raw(
            "/api/v1/termbase/import?format=tbx",
            "application/xml",
            broken.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 5"),
        "{answer}"
    );
    let (_, health) = server.get("/health").await;
    assert_eq!(health["terms"].as_u64().unwrap(), before);
}

#[tokio::test]
async fn tbx_export_validates_and_round_trips_and_foreign_tbx_files_import() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (status, document) = server.get_text("/api/v1/termbase/export?format=tbx").await;
    assert_eq!(status, 200);
    assert!(document.contains("x-attache-workflow"));
    let export_path = dir.path().join("export.tbx");
    std::fs::write(&export_path, &document).unwrap();
    crate::support::assert_valid_tbx(&export_path);

    // Into a fresh server whose shipped glossary is empty: the same entries come back.
    let other_dir = tempfile::tempdir().unwrap();
    let empty_glossary = other_dir.path().join("no-glossary");
    std::fs::create_dir_all(&empty_glossary).unwrap();
    let config = crate::support::config_with(
        &[(
            "dir = \"termbase\"",
            &format!("dir = \"{}\"", empty_glossary.display()),
        )],
        other_dir.path(),
    );
    let other = Server::start_with(
        &other_dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let (status, report) = other
        .post_raw(
            "/api/v1/termbase/import?format=tbx",
            "application/xml",
            document.clone().into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let (_, again) = other.get_text("/api/v1/termbase/export?format=tbx").await;
    assert_eq!(
        again, document,
        "export → import → export changed the glossary"
    );

    // Every TBX file other tools wrote: imported, or refused with a clear message.
    let mut imported_files = 0;
    let mut seen_turkish = false;
    let mut files: Vec<_> = std::fs::read_dir(shared().join("data/formats/tbx/okapi"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.extend(
        std::fs::read_dir(shared().join("data/formats/tbx/ltac"))
            .unwrap()
            .flatten()
            .map(|e| e.path()),
    );
    files.push(shared().join("data/formats/tbx/omegat-sampleTBXfile.tbx"));
    for path in files
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "tbx"))
    {
        let (status, report) = other
            .post_raw(
                "/api/v1/termbase/import?format=tbx",
                "application/xml",
                std::fs::read(&path).unwrap(),
            )
            .await;
        assert!(
            status == 200
                || (status == 400
                    && report["error"]["message"]
                        .as_str()
                        .unwrap()
                        .contains("line")),
            "{}: {status} {report}",
            path.display()
        );
        if status == 200 {
            imported_files += 1;
            // The DCT example holds the same concepts as the DCA one: duplicates, not new.
            let taken =
                report["imported"].as_u64().unwrap() + report["duplicates"].as_u64().unwrap();
            assert!(taken > 0, "{}: {report}", path.display());
        }
        if path.ends_with("sdl_tbx.tbx") {
            // MultiTerm's empty <term/> placeholders are left out and reported with their line.
            assert!(report["skipped"].as_u64().unwrap() > 0, "{report}");
            assert!(
                report["errors"][0]["at"]
                    .as_str()
                    .unwrap()
                    .starts_with("line "),
                "{report}"
            );
        }
        if path.ends_with("test02_win1254.tbx") {
            assert_eq!(status, 200);
            let id = report["ids"][0].as_u64().unwrap();
            let (_, entry) = other.get(&format!("/api/v1/terms/{id}")).await;
            seen_turkish = entry["terms"][0]["text"] == "term with: éá and İı";
        }
    }
    assert!(
        imported_files >= 8,
        "only {imported_files} TBX files imported"
    );
    assert!(seen_turkish, "the windows-1254 file was not decoded");
}

#[tokio::test]
async fn an_acknowledged_term_change_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let (status, created) = server
        .post_json("/api/v1/terms", json!({"workflow": "approved", "terms": [{"lang": "zh", "text": "全过程人民民主"}, {"lang": "en", "text": "whole-process people's democracy", "status": "preferred"}]}))
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_u64().unwrap();
    server.kill9();
    let server = Server::start(dir.path());
    let (status, entry) = server.get(&format!("/api/v1/terms/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        entry["terms"][1]["text"],
        "whole-process people's democracy"
    );
    let body = recognize(&server, "发展全过程人民民主", "zh", "en", "").await;
    assert_eq!(hit_texts(&body), ["全过程人民民主"]);
}

#[tokio::test]
async fn every_news_sentence_naming_the_belt_and_road_gets_its_rendering() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let mut checked = 0;
    for file in [
        "newstest2018.zh-en.zh",
        "newstest2019.zh-en.zh",
        "newstest2020.zh-en.zh",
    ] {
        let text =
            std::fs::read_to_string(shared().join("data/corpora/wmt-newstest").join(file)).unwrap();
        for line in text.lines().filter(|line| line.contains("一带一路")) {
            let body = recognize(&server, line, "zh", "en", "").await;
            let hit = body["hits"]
                .as_array()
                .unwrap()
                .iter()
                .find(|hit| hit["term"].as_str().unwrap().contains("一带一路"))
                .unwrap_or_else(|| panic!("no Belt and Road hit in {line}: {body}"));
            assert_eq!(hit["targets"][0]["text"], "the Belt and Road Initiative");
            let start = hit["start"].as_u64().unwrap() as usize;
            let end = hit["end"].as_u64().unwrap() as usize;
            let span: String = line.chars().skip(start).take(end - start).collect();
            assert!(span.contains("一带一路"), "{span} in {line}");
            checked += 1;
        }
    }
    assert!(
        checked >= 5,
        "only {checked} corpus sentences mention the Belt and Road"
    );
}

#[tokio::test]
async fn titles_are_found_in_their_short_forms_and_targets_serve_regional_tags() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let body = recognize(
        &server,
        "会议由昌平区委副书记主持，昌平区委书记出席。",
        "zh",
        "en-GB",
        "",
    )
    .await;
    assert_eq!(
        hit_texts(&body),
        ["昌平区委副书记", "昌平区委书记"],
        "{body}"
    );
    // A glossary term tagged `en` serves a request for en-GB.
    assert_eq!(
        body["hits"][0]["targets"][0]["text"],
        "Deputy Secretary of the CPC Changping District Committee"
    );
    let (_, qa) = server
        .post_json("/api/v1/qa", json!({"source": "推进大国外交。", "target": "Advance great power diplomacy.", "source_lang": "zh", "target_lang": "en-GB"}))
        .await;
    let kinds: Vec<&str> = qa["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["missing_term", "deprecated_term"], "{qa}");
    // An English term's leading article is optional in the text.
    let (_, qa) = server
        .post_json("/api/v1/qa", json!({"source": "深化一带一路合作。", "target": "Deepen Belt and Road Initiative cooperation.", "source_lang": "zh", "target_lang": "en"}))
        .await;
    assert_eq!(qa["issues"].as_array().unwrap().len(), 0, "{qa}");
}

#[tokio::test]
async fn reimporting_a_glossary_adds_nothing_and_workflow_can_be_forced() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let shipped = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/termbase/foreign-affairs.tbx"
    ))
    .unwrap();
    let (_, health) = server.get("/health").await;
    let before = health["terms"].as_u64().unwrap();
    let (status, report) = server
        .post_raw(
            "/api/v1/termbase/import?format=tbx",
            "application/xml",
            shipped,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 0);
    assert_eq!(report["duplicates"].as_u64().unwrap(), before);
    let body = recognize(&server, "外事纪律", "zh", "en", "").await;
    assert_eq!(
        body["hits"].as_array().unwrap().len(),
        1,
        "no doubled hits: {body}"
    );

    // A file that says its entries are approved goes in as proposed when the import says so.
    let file = "<?xml version=\"1.0\"?>\n<tbx type=\"TBX-Basic\" style=\"dca\" xml:lang=\"en\" xmlns=\"urn:iso:std:iso:30042:ed-2\"><text><body><conceptEntry id=\"n1\"><admin type=\"x-attache-workflow\">approved</admin><langSec xml:lang=\"zh\"><termSec><term>数字丝绸之路</term></termSec></langSec><langSec xml:lang=\"en\"><termSec><term>Digital Silk Road</term></termSec></langSec></conceptEntry></body></text></tbx>";
    let (status, report) = server
        .post_raw(
            "/api/v1/termbase/import?format=tbx&workflow=proposed",
            "application/xml",
            file.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let id = report["ids"][0].as_u64().unwrap();
    let (_, entry) = server.get(&format!("/api/v1/terms/{id}")).await;
    assert_eq!(entry["workflow"], "proposed");
    assert!(hit_texts(&recognize(&server, "建设数字丝绸之路", "zh", "en", "").await).is_empty());
}
