use crate::support::{tsv_of, un_pairs, Server};

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_client_id_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let response = server
        .client
        .get(server.url("/health"))
        .header("x-request-id", "cat-tool-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "cat-tool-42");

    let first = server
        .client
        .get(server.url("/health"))
        .send()
        .await
        .unwrap();
    let second = server
        .client
        .get(server.url("/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status().as_u16(), 404);
    let (first, second) = (
        first.headers()["x-request-id"].to_str().unwrap().to_owned(),
        second.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned(),
    );
    assert!(!first.is_empty());
    assert_ne!(first, second, "ids are per request");
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_report_the_store_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (status, _) = server
        .import_tsv(&tsv_of(&un_pairs(40)), "source_lang=zh&target_lang=en")
        .await;
    assert_eq!(status, 200);
    for _ in 0..3 {
        server.lookup(&un_pairs(1)[0].0).await;
    }
    let (status, _) = server.get("/api/v1/segments/999999").await;
    assert_eq!(status, 404);

    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    for expected in [
        "attache_http_requests_total{method=\"POST\",route=\"/api/v1/lookup\",status=\"200\"} 3",
        // The route, not the id, so ids do not multiply the series.
        "attache_http_requests_total{method=\"GET\",route=\"/api/v1/segments/{id}\",status=\"404\"} 1",
        "attache_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/lookup\"} 3",
        "attache_tm_units 40",
        "attache_termbase_entries 58",
        "attache_index_segments ",
    ] {
        assert!(text.contains(expected), "{expected} is missing from\n{text}");
    }
    // The import's commit is counted.
    let commits: u64 = text
        .lines()
        .find_map(|line| line.strip_prefix("attache_index_commits "))
        .and_then(|value| value.trim().parse().ok())
        .expect("the commit count");
    assert!(commits >= 1, "{text}");
}

#[tokio::test]
async fn ready_says_whether_writes_are_taken() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (status, body) = server.get("/ready").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
}
