use serde_json::json;

use crate::support::Server;

fn pair(source: &str, target: &str) -> serde_json::Value {
    json!({"source_lang":"zh-CN","target_lang":"en","source":source,"target":target})
}

#[tokio::test]
async fn an_exact_duplicate_returns_the_existing_id_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (status, first) = server
        .post_json(
            "/api/v1/segments",
            pair(
                "推动构建人类命运共同体。",
                "Build a community with a shared future for mankind.",
            ),
        )
        .await;
    assert_eq!(status, 201);
    let (status, second) = server
        .post_json(
            "/api/v1/segments",
            pair(
                "推动构建人类命运共同体。",
                "Build a community with a shared future for mankind.",
            ),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(first["id"], second["id"]);
    assert_eq!(server.segment_count().await, 1);

    // Same source, another target: a second unit, and both come back.
    let (status, third) = server
        .post_json(
            "/api/v1/segments",
            pair(
                "推动构建人类命运共同体。",
                "Build a community with a shared future for humanity.",
            ),
        )
        .await;
    assert_eq!(status, 201);
    assert_ne!(third["id"], first["id"]);
    let body = server.lookup("推动构建人类命运共同体。").await;
    let matches = body["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 2);
    assert!(matches.iter().all(|found| found["score"] == 100));
}

#[tokio::test]
async fn a_batch_is_added_at_once_and_duplicates_inside_it_collapse() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (status, body) = server
        .post_json(
            "/api/v1/segments",
            json!({"segments": [
                pair("第一句。", "First."),
                pair("第二句。", "Second."),
                pair("第一句。", "First."),
            ]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ids = body["ids"].as_array().unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], ids[2]);
    assert_eq!(body["created"], 2);
    assert_eq!(body["duplicates"], 1);
    assert_eq!(server.segment_count().await, 2);
}

#[tokio::test]
async fn get_put_and_delete_a_segment() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (_, created) = server
        .post_json(
            "/api/v1/segments",
            json!({"source_lang":"zh-CN","target_lang":"en","source":"中央八项规定精神。","target":"the eight-point rules","collection":"changping","document":"release-2025","author":"li","status":"draft"}),
        )
        .await;
    let id = created["id"].as_u64().unwrap();
    let (status, segment) = server.get(&format!("/api/v1/segments/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(segment["source"], "中央八项规定精神。");
    assert_eq!(segment["collection"], "changping");
    assert_eq!(segment["document"], "release-2025");
    assert_eq!(segment["author"], "li");
    assert_eq!(segment["status"], "draft");
    assert_eq!(segment["origin"], "human");

    let response = server
        .client
        .put(server.url(&format!("/api/v1/segments/{id}")))
        .json(&json!({"target":"the spirit of the Central Committee's eight-point decision on improving conduct","status":"approved","author":"wang"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let updated: serde_json::Value = response.json().await.unwrap();
    assert_eq!(updated["status"], "approved");
    assert_eq!(updated["changed_by"], "wang");
    assert_eq!(updated["author"], "li");
    let body = server.lookup("中央八项规定精神。").await;
    assert_eq!(
        body["matches"][0]["target"],
        "the spirit of the Central Committee's eight-point decision on improving conduct"
    );
    assert_eq!(server.segment_count().await, 1);

    let response = server
        .client
        .delete(server.url(&format!("/api/v1/segments/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (status, error) = server.get(&format!("/api/v1/segments/{id}")).await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["code"], "not_found");
    assert_eq!(
        server.lookup("中央八项规定精神。").await["matches"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let response = server
        .client
        .delete(server.url(&format!("/api/v1/segments/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
}

#[tokio::test]
async fn an_edit_that_would_duplicate_another_segment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (_, first) = server
        .post_json("/api/v1/segments", pair("甲。", "A."))
        .await;
    let (_, second) = server
        .post_json("/api/v1/segments", pair("甲。", "B."))
        .await;
    let response = server
        .client
        .put(server.url(&format!("/api/v1/segments/{}", second["id"])))
        .json(&json!({"target": "A."}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 409);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&first["id"].to_string()));
    let (_, unchanged) = server
        .get(&format!("/api/v1/segments/{}", second["id"]))
        .await;
    assert_eq!(unchanged["target"], "B.");
}

#[tokio::test]
async fn a_new_pair_is_visible_to_the_next_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    for index in 0..20 {
        let source = format!("第{index}次中美战略对话在北京举行。");
        let (status, _) = server
            .post_json("/api/v1/segments", pair(&source, "held"))
            .await;
        assert_eq!(status, 201);
        // No waiting: the acknowledgement comes after the commit and the reader reload.
        let body = server.lookup(&source).await;
        assert_eq!(body["matches"][0]["score"], 100, "pair {index} not visible");
    }
}

#[tokio::test]
async fn the_same_pair_in_another_collection_is_its_own_unit() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let mut in_releases = pair("会见外宾。", "Met foreign guests.");
    in_releases["collection"] = json!("releases");
    let (status, first) = server
        .post_json(
            "/api/v1/segments",
            pair("会见外宾。", "Met foreign guests."),
        )
        .await;
    assert_eq!(status, 201);
    let (status, second) = server
        .post_json("/api/v1/segments", in_releases.clone())
        .await;
    assert_eq!(status, 201, "{second}");
    assert_ne!(first["id"], second["id"]);
    let (status, again) = server.post_json("/api/v1/segments", in_releases).await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], second["id"]);
    let (_, body) = server
        .post_json("/api/v1/lookup", json!({"text":"会见外宾。","source_lang":"zh","target_lang":"en","collections":["releases"]}))
        .await;
    assert_eq!(body["matches"].as_array().unwrap().len(), 1);
    assert_eq!(body["matches"][0]["collection"], "releases");
}
