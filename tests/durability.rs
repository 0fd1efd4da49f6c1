use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::support::{tsv_of, un_pairs, Server};

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_and_nothing_is_half_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let pairs = un_pairs(3000);
    let acknowledged: Arc<Mutex<Vec<(u64, String, String)>>> = Arc::default();

    // Four clients write single pairs as fast as they can; a large import runs beside them.
    let mut writers = Vec::new();
    for client_number in 0..4 {
        let client = server.client.clone();
        let url = server.url("/api/v1/segments");
        let acknowledged = acknowledged.clone();
        let mine: Vec<(String, String)> = pairs[..1000]
            .iter()
            .skip(client_number)
            .step_by(4)
            .cloned()
            .collect();
        writers.push(tokio::spawn(async move {
            for (zh, en) in mine {
                let sent = client
                    .post(&url)
                    .json(&json!({"source_lang":"zh","target_lang":"en","source":zh,"target":en}))
                    .send()
                    .await;
                let Ok(response) = sent else { break };
                if response.status().as_u16() != 201 && response.status().as_u16() != 200 {
                    break;
                }
                let Ok(body) = response.json::<serde_json::Value>().await else {
                    break;
                };
                acknowledged
                    .lock()
                    .unwrap()
                    .push((body["id"].as_u64().unwrap(), zh, en));
            }
        }));
    }
    let import_tsv = tsv_of(&pairs[1000..]);
    let import_client = server.client.clone();
    let import_url =
        server.url("/api/v1/import?format=tsv&source_lang=zh&target_lang=en&collection=bulk");
    let import = tokio::spawn(async move {
        import_client
            .post(import_url)
            .body(import_tsv)
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    });

    // Let some writes through, then pull the plug.
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if acknowledged.lock().unwrap().len() >= 150 {
            break;
        }
    }
    server.kill9();
    for writer in writers {
        let _ = writer.await;
    }
    let import_status = import.await.unwrap();

    let server = Server::start(dir.path());
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 150);
    for (id, zh, en) in &acknowledged {
        let (status, segment) = server.get(&format!("/api/v1/segments/{id}")).await;
        assert_eq!(status, 200, "acknowledged segment {id} was lost");
        assert_eq!(segment["source"], zh.as_str());
        assert_eq!(segment["target"], en.as_str());
    }
    // Every stored unit is whole: its texts are one of the pairs that were sent.
    let (_, export) = server.get_text("/api/v1/export?format=tmx").await;
    let sent: std::collections::HashSet<&str> = pairs.iter().map(|(zh, _)| zh.as_str()).collect();
    let stored_sources: Vec<&str> = export
        .split("<tuv xml:lang=\"zh\"><seg>")
        .skip(1)
        .map(|rest| rest.split("</seg>").next().unwrap())
        .collect();
    for source in &stored_sources {
        let unescaped = source
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'");
        assert!(
            sent.contains(unescaped.as_str()),
            "a stored unit is not one that was sent: {source}"
        );
    }
    // The import is all or nothing: either none of its units or every one of them.
    let bulk = server
        .get_text("/api/v1/export?format=tmx&collection=bulk")
        .await
        .1
        .matches("<tu ")
        .count();
    let expected_bulk: std::collections::HashSet<_> = pairs[1000..].iter().collect();
    if import_status == Some(200) {
        assert_eq!(bulk, expected_bulk.len());
    } else {
        assert!(
            bulk == 0 || bulk == expected_bulk.len(),
            "import half there: {bulk}"
        );
    }
    // And the index answers lookups.
    let (id, zh, _) = &acknowledged[0];
    let body = server.lookup(zh).await;
    assert_eq!(body["matches"][0]["id"].as_u64().unwrap(), *id);
}

#[tokio::test]
async fn restart_keeps_the_memory_and_ids_are_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let pairs = un_pairs(200);
    server
        .import_tsv(&tsv_of(&pairs), "source_lang=zh&target_lang=en")
        .await;
    let count = server.segment_count().await;
    let (_, last) = server
        .post_json("/api/v1/segments", json!({"source_lang":"zh","target_lang":"en","source":"最后一句。","target":"The last one."}))
        .await;
    let last_id = last["id"].as_u64().unwrap();
    server
        .client
        .delete(server.url(&format!("/api/v1/segments/{last_id}")))
        .send()
        .await
        .unwrap();
    assert!(server.stop(), "graceful shutdown failed");

    let server = Server::start(dir.path());
    assert_eq!(server.segment_count().await, count);
    let body = server.lookup(&pairs[17].0).await;
    assert_eq!(body["matches"][0]["score"], 100);
    let (_, next) = server
        .post_json("/api/v1/segments", json!({"source_lang":"zh","target_lang":"en","source":"新的一句。","target":"A new one."}))
        .await;
    assert!(next["id"].as_u64().unwrap() > last_id, "an id was reused");
}

/// After a large import the segments are merged in the background; the merge must keep the
/// commit payload (next unit id, TMX headers) and every unit, and survive a kill -9.
#[tokio::test]
async fn the_merge_after_a_large_import_keeps_every_unit_and_the_next_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    // 60,000 distinct pairs (over the 50,000 that trigger the merge): UN pairs, numbered.
    let pairs: Vec<(String, String)> = un_pairs(3000)
        .into_iter()
        .flat_map(|(zh, en)| {
            (0..20).map(move |copy| (format!("{zh}（第{copy}号）"), format!("{en} (No. {copy})")))
        })
        .collect();
    let (status, report) = server
        .import_tsv(&tsv_of(&pairs), "source_lang=zh&target_lang=en")
        .await;
    assert_eq!(status, 200, "{report}");
    let imported = report["imported"].as_u64().unwrap();
    assert!(imported > 50_000, "{report}");

    let mut merged = false;
    for _ in 0..240 {
        let (_, health) = server.get("/health").await;
        if health["index_segments"] == 1 {
            merged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        merged,
        "the segments were not merged into one within a minute"
    );
    assert_eq!(server.segment_count().await, imported);
    let found = server.lookup(&pairs[12_345].0).await;
    assert_eq!(found["matches"][0]["score"], 100, "{found}");

    server.kill9();
    let server = Server::start(dir.path());
    assert_eq!(server.segment_count().await, imported);
    let (status, body) = server
        .post_json(
            "/api/v1/segments",
            json!({"source_lang":"zh","target_lang":"en","source":"合并之后的新句子。","target":"A new sentence after the merge."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["id"].as_u64().unwrap(),
        imported + 1,
        "ids must continue after the merge"
    );
}
