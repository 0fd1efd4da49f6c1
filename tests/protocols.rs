//! The lookup protocols CAT tools already speak, and batch lookup.

use serde_json::json;

use crate::support::{tsv_of, un_pairs, Server};

async fn server_with_un_pairs() -> (tempfile::TempDir, Server, Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let pairs = un_pairs(400);
    let (status, _) = server
        .import_tsv(&tsv_of(&pairs), "source_lang=zh-CN&target_lang=en")
        .await;
    assert_eq!(status, 200);
    (dir, server, pairs)
}

fn edited(text: &str) -> String {
    let mut characters: Vec<char> = text.chars().collect();
    let middle = characters.len() / 2;
    characters[middle] = '国';
    characters.into_iter().collect()
}

#[tokio::test]
async fn amagama_tmserver_answers_its_shape() {
    let (_dir, server, pairs) = server_with_un_pairs().await;
    let (source, target) = pairs
        .iter()
        .find(|(zh, _)| zh.chars().count() > 20)
        .unwrap();
    let query = edited(source);
    let url = reqwest::Url::parse(&server.url("/tmserver/zh/en/unit/"))
        .unwrap()
        .join(&urlencode(&query))
        .unwrap();
    let response = server
        .client
        .get(url)
        .query(&[("min_similarity", "60"), ("max_candidates", "3")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let candidates = body.as_array().unwrap();
    assert!(!candidates.is_empty() && candidates.len() <= 3);
    assert_eq!(candidates[0]["source"], source.as_str());
    assert_eq!(candidates[0]["target"], target.as_str());
    let expected = attache::text::score(&query, source) as f64;
    assert_eq!(candidates[0]["quality"].as_f64().unwrap(), expected);
    assert_eq!(candidates[0]["rank"].as_f64().unwrap(), expected);

    let (status, error) = server
        .get("/tmserver/zh/en/unit/abc?min_similarity=150")
        .await;
    assert_eq!(status, 400);
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("min_similarity"));
}

fn urlencode(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}

#[tokio::test]
async fn mymemory_get_answers_its_shape() {
    let (_dir, server, pairs) = server_with_un_pairs().await;
    let (source, target) = pairs
        .iter()
        .find(|(zh, _)| zh.chars().count() > 20)
        .unwrap();
    let query = edited(source);
    let response = server
        .client
        .get(server.url("/get"))
        .query(&[
            ("q", query.as_str()),
            ("langpair", "zh|en"),
            ("de", "translator@example.org"),
            ("numres", "2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["responseStatus"], 200);
    assert_eq!(body["responseData"]["translatedText"], target.as_str());
    let score = attache::text::score(&query, source) as f64 / 100.0;
    assert_eq!(body["responseData"]["match"].as_f64().unwrap(), score);
    let first = &body["matches"][0];
    assert_eq!(first["segment"], source.as_str());
    assert_eq!(first["translation"], target.as_str());
    assert_eq!(first["match"].as_f64().unwrap(), score);
    for field in [
        "created-by",
        "last-update-date",
        "create-date",
        "quality",
        "id",
    ] {
        assert!(first.get(field).is_some(), "match lacks {field}");
    }
    assert!(body["matches"].as_array().unwrap().len() <= 2);

    let response = server
        .client
        .get(server.url("/get"))
        .query(&[("q", "你好"), ("langpair", "zh-en")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["responseStatus"], 400);
    assert!(body["responseDetails"]
        .as_str()
        .unwrap()
        .contains("langpair"));
}

#[tokio::test]
async fn batch_lookup_answers_every_text_in_order() {
    let (_dir, server, pairs) = server_with_un_pairs().await;
    let texts: Vec<String> = pairs.iter().take(40).map(|(zh, _)| edited(zh)).collect();
    let (status, body) = server
        .post_json(
            "/api/v1/lookup/batch",
            json!({"source_lang": "zh", "target_lang": "en", "texts": texts, "limit": 1}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), texts.len());
    for (result, text) in results.iter().zip(&texts) {
        assert_eq!(result["text"], text.as_str());
        let single = server.lookup(text).await;
        assert_eq!(
            result["matches"][0]["id"], single["matches"][0]["id"],
            "{text}"
        );
        assert_eq!(result["matches"][0]["score"], single["matches"][0]["score"]);
    }
    let (status, error) = server
        .post_json(
            "/api/v1/lookup/batch",
            json!({"source_lang": "zh", "target_lang": "en", "texts": ["好", ""]}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("texts[1]"));
}

#[tokio::test]
async fn the_openapi_description_covers_the_native_api() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (status, document) = server.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/health",
        "/api/v1/lookup",
        "/api/v1/lookup/batch",
        "/api/v1/segments",
        "/api/v1/segments/{id}",
        "/api/v1/concordance",
        "/api/v1/import",
        "/api/v1/export",
        "/api/v1/terms",
        "/api/v1/terms/{id}",
        "/api/v1/terms/{id}/approve",
        "/api/v1/terms/{id}/reject",
        "/api/v1/terms/{id}/history",
        "/api/v1/terms/recognize",
        "/api/v1/qa",
        "/api/v1/termbase/export",
        "/api/v1/termbase/import",
    ] {
        assert!(paths.contains_key(path), "{path} is not described");
    }
    // Every described operation answers on the server (so the description cannot name
    // endpoints that do not exist): anything but 404 and 405.
    for (path, operations) in paths {
        let concrete = path.replace("{id}", "1");
        for method in operations.as_object().unwrap().keys() {
            let request = server.client.request(
                method.to_uppercase().parse().unwrap(),
                server.url(&concrete),
            );
            let status = request.send().await.unwrap().status().as_u16();
            assert!(
                status != 405 && (status != 404 || concrete.contains("/1")),
                "{method} {path}: {status}"
            );
        }
    }
    // Request and response types come from the code.
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for schema in [
        "LookupRequest",
        "LookupResponse",
        "Entry",
        "Term",
        "Hit",
        "Issue",
    ] {
        assert!(schemas.contains_key(schema), "schema {schema} missing");
    }
    let lookup = &schemas["LookupRequest"]["properties"];
    assert!(lookup.get("min_score").is_some() && lookup.get("terms").is_some());
}
