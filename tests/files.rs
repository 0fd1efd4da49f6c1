use std::path::Path;

use crate::support::dtd::assert_valid_tmx;
use crate::support::{shared, tsv_of, un_pairs, Server};

async fn import_file(server: &Server, path: &Path, query: &str) -> (u16, serde_json::Value) {
    server
        .post_raw(
            &format!("/api/v1/import?format=tmx&{query}"),
            "application/xml",
            std::fs::read(path).unwrap(),
        )
        .await
}

#[tokio::test]
async fn tsv_import_reports_imported_duplicates_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let pairs = un_pairs(300);
    let mut tsv = tsv_of(&pairs);
    tsv.push_str(&format!("{}\t{}\n", pairs[0].0, pairs[0].1));
    tsv.push_str("只有原文。\t \n");
    let (status, report) = server
        .import_tsv(&tsv, "source_lang=zh&target_lang=en&collection=un")
        .await;
    assert_eq!(status, 200, "{report}");
    let distinct: std::collections::HashSet<_> = pairs.iter().collect();
    assert_eq!(
        report["imported"].as_u64().unwrap() as usize,
        distinct.len()
    );
    assert_eq!(
        report["duplicates"].as_u64().unwrap() as usize,
        pairs.len() + 1 - distinct.len()
    );
    assert_eq!(report["skipped"], 1);
    assert_eq!(report["errors"][0]["at"], "line 302");
    assert!(report["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("target"));
    let body = server.lookup(&pairs[5].0).await;
    assert_eq!(body["matches"][0]["collection"], "un");
}

#[tokio::test]
async fn tmx_import_keeps_metadata_and_export_validates_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let tmx_dir = shared().join("data/formats/tmx");

    // OmegaT's zh-CN/ja-JP project memory, TMX 1.1 `lang` attributes.
    let (status, report) = import_file(
        &server,
        &tmx_dir.join("omegat/project_CN_JP-project_save.tmx"),
        "source_lang=zh&target_lang=ja",
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 1);
    let (status, body) = server
        .post_json(
            "/api/v1/lookup",
            serde_json::json!({"text":"太平寺中的文笔塔","source_lang":"zh","target_lang":"ja"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["matches"][0]["target"], "太平寺の中心的なペン塔");

    // A tu without a usable source is skipped with its reason and line.
    let (status, report) = import_file(
        &server,
        &tmx_dir.join("omegat/test-missingSource.tmx"),
        "source_lang=en&target_lang=be",
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert!(report["skipped"].as_u64().unwrap() >= 1, "{report}");
    let error = &report["errors"][0];
    assert!(error["at"].as_str().unwrap().contains("line"), "{report}");
    assert!(
        error["message"].as_str().unwrap().contains("source"),
        "{report}"
    );

    // UTF-16 files from the LISA compliance kit import like UTF-8 ones.
    let mut utf16_imported = 0;
    for entry in std::fs::read_dir(tmx_dir.join("lisa-compliance-kit")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let is_utf16 = bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF");
        if !is_utf16 {
            continue;
        }
        let (status, report) = import_file(&server, &path, "source_lang=en&target_lang=fr").await;
        assert_eq!(status, 200, "{}: {report}", path.display());
        utf16_imported +=
            report["imported"].as_u64().unwrap() + report["duplicates"].as_u64().unwrap();
    }
    assert!(utf16_imported > 0, "no UTF-16 file was imported");

    // Export everything: valid against the TMX 1.4 DTD.
    let (status, first_export) = server.get_text("/api/v1/export?format=tmx").await;
    assert_eq!(status, 200);
    assert_valid_tmx(&first_export);
    assert!(first_export.contains("creationid=\"Hiroshi Miura\""));
    assert!(first_export.contains("太平寺の中心的なペン塔"));

    // Import the export into a fresh server: the same units come back out.
    let other_dir = tempfile::tempdir().unwrap();
    let other = Server::start(other_dir.path());
    let export_path = other_dir.path().join("export.tmx");
    std::fs::write(&export_path, &first_export).unwrap();
    let mut total = 0;
    for (source, target) in [("zh", "ja"), ("en", "be"), ("en", "fr")] {
        let (status, report) = import_file(
            &other,
            &export_path,
            &format!("source_lang={source}&target_lang={target}"),
        )
        .await;
        assert_eq!(status, 200, "{report}");
        total += report["imported"].as_u64().unwrap();
    }
    assert_eq!(total, server.segment_count().await);
    let (_, second_export) = other.get_text("/api/v1/export?format=tmx").await;
    assert_valid_tmx(&second_export);
    let body_of = |document: &str| -> Vec<String> {
        let mut tus: Vec<String> = document
            .split("<tu ")
            .skip(1)
            .map(|tu| tu.split_once('>').unwrap().1.to_owned())
            .collect();
        tus.sort();
        tus
    };
    assert_eq!(body_of(&first_export), body_of(&second_export));
}

#[tokio::test]
async fn a_malformed_tmx_is_rejected_with_its_position_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let broken = "<?xml version=\"1.0\"?>\n<tmx version=\"1.4\">\n<header/>\n<body>\n<tu><tuv xml:lang=\"zh\"><seg>好</seg></tuv><tuv xml:lang=\"en\"><seg>good</seg></tuv></tu>\n<tu><tuv xml:lang=\"zh\"><seg>坏</seg></tuv>\n</body>\n</tmx>\n";
    let (status, body) = server
        .post_raw(
            "/api/v1/import?format=tmx&source_lang=zh&target_lang=en",
            "application/xml",
            broken.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "malformed_file");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("line 7, column"), "{message}");
    assert_eq!(server.segment_count().await, 0);
}

#[tokio::test]
async fn export_of_one_collection_holds_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let pairs = un_pairs(40);
    server
        .import_tsv(
            &tsv_of(&pairs[..20]),
            "source_lang=zh&target_lang=en&collection=first",
        )
        .await;
    server
        .import_tsv(
            &tsv_of(&pairs[20..]),
            "source_lang=zh&target_lang=en&collection=second",
        )
        .await;
    let (status, document) = server
        .get_text("/api/v1/export?format=tmx&collection=second")
        .await;
    assert_eq!(status, 200);
    assert_valid_tmx(&document);
    assert_eq!(document.matches("<tu ").count(), 20);
    assert!(!document.contains(">first</prop>"));
}

#[tokio::test]
async fn csv_and_tsv_tables_import_with_a_column_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let pairs = un_pairs(30);
    // CSV per RFC 4180: quoted fields with commas, doubled quotes and line breaks.
    let mut csv = String::from("source,target,author,document\n");
    for (zh, en) in &pairs[..20] {
        csv.push_str(&format!(
            "\"{}\",\"{}\",li.wei,A/70/1\n",
            zh.replace('"', "\"\""),
            en.replace('"', "\"\"")
        ));
    }
    csv.push_str("\"双方发表联合声明。\",\"The two sides issued a \"\"joint statement\"\",\nin Beijing.\",li.wei,\n");
    let (status, report) = server
        .post_raw(
            "/api/v1/import?format=csv&source_lang=zh&target_lang=en",
            "text/csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 21);
    let body = server.lookup("双方发表联合声明。").await;
    assert_eq!(
        body["matches"][0]["target"],
        "The two sides issued a \"joint statement\",\nin Beijing."
    );
    assert_eq!(body["matches"][0]["author"], "li.wei");
    let body = server.lookup(&pairs[3].0).await;
    assert_eq!(body["matches"][0]["document"], "A/70/1");

    // TSV with its own header names, mapped by `columns` (in file order, `-` skips).
    let mut tsv = String::from("英文\t备注\t中文\n");
    for (zh, en) in &pairs[20..] {
        tsv.push_str(&format!("{en}\tchecked\t{zh}\n"));
    }
    let (status, report) = server
        .post_raw(
            "/api/v1/import?format=tsv&source_lang=zh&target_lang=en&columns=target,-,source",
            "text/tab-separated-values",
            tsv.into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 10);
    assert_eq!(
        server.lookup(&pairs[25].0).await["matches"][0]["target"],
        pairs[25].1.as_str()
    );

    // Mistakes are named and store nothing.
    let before = server.segment_count().await;
    let (status, error) = server
        .post_raw(
            "/api/v1/import?format=csv&source_lang=zh&target_lang=en&columns=source,colour",
            "text/csv",
            b"a,b\n".to_vec(),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{error}"
    );
    let (status, error) = server
        .post_raw(
            "/api/v1/import?format=csv&source_lang=zh&target_lang=en",
            "text/csv",
            "source,target\n甲,A\n乙\n丙,C\n".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 3"),
        "{error}"
    );
    assert_eq!(server.segment_count().await, before);
}

#[tokio::test]
async fn xliff_imports_final_segments_and_states_can_be_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let pairs = un_pairs(6);
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut document = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xliff version=\"1.2\" xmlns=\"urn:oasis:names:tc:xliff:document:1.2\">\n<file source-language=\"zh-CN\" target-language=\"en-GB\" datatype=\"plaintext\" original=\"un.txt\"><body>\n");
    for (index, (zh, en)) in pairs.iter().enumerate() {
        let state = if index % 2 == 0 {
            "final"
        } else {
            "needs-review-translation"
        };
        document.push_str(&format!(
            "<trans-unit id=\"{index}\"><source>{}</source><target state=\"{state}\">{}<x id=\"1\"/></target></trans-unit>\n",
            escape(zh),
            escape(en)
        ));
    }
    document.push_str("</body></file></xliff>\n");
    let (status, report) = server
        .post_raw(
            "/api/v1/import?format=xliff&source_lang=zh&target_lang=en",
            "application/xliff+xml",
            document.clone().into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 3);
    assert_eq!(report["skipped"], 3);
    assert!(
        report["errors"][0]["at"].as_str().unwrap().contains("line"),
        "{report}"
    );
    let body = server.lookup(&pairs[0].0).await;
    assert_eq!(body["matches"][0]["target"], pairs[0].1.as_str());
    assert_eq!(body["matches"][0]["target_lang"], "en-GB");

    let (status, report) = server
        .post_raw(
            "/api/v1/import?format=xliff&source_lang=zh&target_lang=en&states=final,needs-review-translation",
            "application/xliff+xml",
            document.into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 3);
    assert_eq!(report["duplicates"], 3);
}

/// The languages of a TMX file: its header's srclang (or its first tuv's) and another one.
fn languages_of(document: &str) -> Option<(String, String)> {
    let pattern = regex::Regex::new(r#"(?:xml:lang|lang)="([^"]+)""#).unwrap();
    let mut tags: Vec<String> = Vec::new();
    for capture in pattern.captures_iter(document) {
        let tag = capture[1].to_owned();
        if !tags.iter().any(|known| known.eq_ignore_ascii_case(&tag)) {
            tags.push(tag);
        }
    }
    let header_source = regex::Regex::new(r#"srclang="([^"*]+)""#)
        .unwrap()
        .captures(document)
        .map(|capture| capture[1].to_owned());
    let source = header_source.unwrap_or_else(|| tags.first().cloned().unwrap_or_default());
    let target = tags
        .into_iter()
        .find(|tag| !tag.eq_ignore_ascii_case(&source))?;
    Some((source, target))
}

#[tokio::test]
async fn every_shared_tmx_file_imports_and_the_broken_one_is_refused_where_it_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let root = shared().join("data/formats/tmx");
    let mut imported_files = 0;
    for folder in ["omegat", "okapi", "lisa-compliance-kit"] {
        for entry in std::fs::read_dir(root.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|extension| extension != "tmx") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let Ok(document) = String::from_utf8(bytes.clone()) else {
                continue; // UTF-16: covered by the metadata test above
            };
            let Some((source, target)) = languages_of(&document) else {
                continue; // a file with one language (or none) has no pairs to offer
            };
            let before = server.segment_count().await;
            let (status, report) = import_file(
                &server,
                &path,
                &format!("source_lang={source}&target_lang={target}"),
            )
            .await;
            if path.ends_with("invalid.tmx") {
                assert_eq!(status, 400, "{report}");
                let message = report["error"]["message"].as_str().unwrap();
                assert!(message.starts_with("line 12, column"), "{message}");
                assert!(message.contains("ept"), "{message}");
                assert_eq!(
                    server.segment_count().await,
                    before,
                    "nothing of it is stored"
                );
            } else {
                assert_eq!(status, 200, "{}: {report}", path.display());
                imported_files += 1;
            }
        }
    }
    assert!(
        imported_files >= 25,
        "only {imported_files} TMX files imported"
    );
}

#[tokio::test]
async fn inline_codes_stay_out_of_the_text_and_go_back_unchanged_on_export() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let path = shared().join("data/formats/tmx/okapi/sample14b.tmx");
    let (status, report) = import_file(&server, &path, "source_lang=en-US&target_lang=de-DE").await;
    assert_eq!(status, 200, "{report}");
    // The text that is scored has no code in it…
    let (status, body) = server
        .post_json(
            "/api/v1/lookup",
            serde_json::json!({"text": "Recent changes to configuration options may have been lost.", "source_lang": "en", "target_lang": "de"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["matches"][0]["score"], 100, "{body}");
    assert_eq!(
        body["matches"][0]["target"],
        "Aktuelle Änderungen an den Konfigurationsoptionen sind möglicherweise verloren gegangen."
    );
    // Clients see where the codes are, as placeholders.
    assert_eq!(
        body["matches"][0]["source_tagged"],
        "{1/}Recent changes to configuration options may have been lost."
    );
    assert_eq!(
        body["matches"][0]["target_tagged"],
        "{1/}Aktuelle Änderungen an den Konfigurationsoptionen sind möglicherweise verloren gegangen."
    );
    // …and the export writes the codes back as they were.
    let (_, document) = server.get_text("/api/v1/export?format=tmx").await;
    assert_valid_tmx(&document);
    assert!(
        document.contains("<seg><ph x=\"1\">\\n</ph>Recent changes to configuration options may have been lost.</seg>"),
        "inline code lost"
    );
    let original = std::fs::read_to_string(&path).unwrap();
    let codes_in = original.matches("<ph ").count() + original.matches("<bpt ").count();
    let codes_out = document.matches("<ph ").count() + document.matches("<bpt ").count();
    assert_eq!(codes_in, codes_out);
}

#[tokio::test]
async fn props_and_notes_stay_at_the_level_they_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let document = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tmx version=\"1.4\"><header creationtool=\"t\" creationtoolversion=\"1\" segtype=\"sentence\" o-tmf=\"t\" adminlang=\"en\" srclang=\"zh-CN\" datatype=\"plaintext\"/><body>\n<tu tuid=\"r-7\"><note>unit note</note><prop type=\"x-client\">MFA</prop>\n<tuv xml:lang=\"zh-CN\"><prop type=\"x-origin\">release</prop><seg>中方愿同各方一道努力。</seg></tuv>\n<tuv xml:lang=\"en\"><note>checked by the desk</note><seg>China is ready to work with all parties.</seg></tuv></tu>\n</body></tmx>\n";
    let (status, report) = server
        .post_raw(
            "/api/v1/import?format=tmx&source_lang=zh&target_lang=en",
            "application/xml",
            document.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let (_, export) = server.get_text("/api/v1/export?format=tmx").await;
    assert_valid_tmx(&export);
    assert!(export.contains("tuid=\"r-7\""));
    assert!(export.contains("<note>unit note</note>"));
    assert!(export.contains("<prop type=\"x-client\">MFA</prop>"));
    assert!(
        export.contains("<tuv xml:lang=\"zh-CN\"><prop type=\"x-origin\">release</prop><seg>"),
        "{export}"
    );
    assert!(
        export.contains("<tuv xml:lang=\"en\"><note>checked by the desk</note><seg>"),
        "{export}"
    );
}

/// The header creation date is the time of each export; everything else must be equal.
fn without_export_date(document: &str) -> String {
    let start = document.find("<header").expect("a header");
    let date_at = start + document[start..].find(" creationdate=\"").expect("a date");
    let date_end = date_at + document[date_at + 15..].find('"').unwrap() + 16;
    format!("{}{}", &document[..date_at], &document[date_end..])
}

#[tokio::test]
async fn tmx_export_import_export_gives_the_same_document() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let original = shared().join("data/formats/tmx/lisa-compliance-kit/ImportTest1L.tmx");
    let (status, report) = import_file(
        &server,
        &original,
        "source_lang=en-US&target_lang=fr&collection=lisa",
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 1, "{report}");

    let (status, first) = server
        .get_text("/api/v1/export?format=tmx&collection=lisa")
        .await;
    assert_eq!(status, 200);
    assert_valid_tmx(&first);
    // The file's header comes back with its notes and props, under our tool's name…
    assert!(first.contains("creationtool=\"Attache\""), "{first}");
    for kept in [
        "segtype=\"block\"",
        "o-tmf=\"Text\"",
        "srclang=\"en-us\"",
        "datatype=\"html\"",
        "<note>Text of header note 2</note>",
        "<prop type=\"myPropeType\">Data</prop>",
        // …and so do usage counts, ids, dates and the tuv's own attributes.
        "tuid=\"tu001\"",
        "usagecount=\"100\"",
        "lastusagedate=\"20020523T091200Z\"",
        "o-tmf=\"myTM\"",
        "<tuv xml:lang=\"fr\" o-encoding=\"iso-8859-1\" datatype=\"plaintext\" usagecount=\"100\"",
        "<note>Text of tuv en note 1</note>",
    ] {
        assert!(first.contains(kept), "{kept} is missing from\n{first}");
    }

    let other_dir = tempfile::tempdir().unwrap();
    let other = Server::start(other_dir.path());
    let (status, report) = other
        .post_raw(
            "/api/v1/import?format=tmx&source_lang=en-US&target_lang=fr&collection=lisa",
            "application/xml",
            first.clone().into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let (_, second) = other
        .get_text("/api/v1/export?format=tmx&collection=lisa")
        .await;
    assert_eq!(without_export_date(&first), without_export_date(&second));
}

#[tokio::test]
async fn code_penalty_reports_inline_code_differences_without_changing_the_score() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let document = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tmx version=\"1.4\"><header creationtool=\"t\" creationtoolversion=\"1\" segtype=\"sentence\" o-tmf=\"t\" adminlang=\"en\" srclang=\"zh-CN\" datatype=\"html\"/><body>\n<tu><tuv xml:lang=\"zh-CN\"><seg><bpt i=\"1\">&lt;b&gt;</bpt>中方<ept i=\"1\">&lt;/b&gt;</ept>愿同各方一道努力。<ph x=\"2\">&lt;br/&gt;</ph></seg></tuv>\n<tuv xml:lang=\"en\"><seg><bpt i=\"1\">&lt;b&gt;</bpt>China<ept i=\"1\">&lt;/b&gt;</ept> is ready to work with all parties.<ph x=\"2\">&lt;br/&gt;</ph></seg></tuv></tu>\n</body></tmx>\n";
    let (status, report) = server
        .post_raw(
            "/api/v1/import?format=tmx&source_lang=zh&target_lang=en",
            "application/xml",
            document.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let lookup = |text: &'static str| {
        let server = &server;
        async move {
            let (status, body) = server
                .post_json(
                    "/api/v1/lookup",
                    serde_json::json!({"text": text, "source_lang": "zh", "target_lang": "en", "placeholders": true}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            body["matches"][0].clone()
        }
    };
    // The same codes, numbered differently: no penalty.
    let same = lookup("{3}中方{/3}愿同各方一道努力。{4/}").await;
    assert_eq!(
        (same["score"].as_u64(), same["code_penalty"].as_u64()),
        (Some(100), Some(0))
    );
    // No codes at all: the three codes of the match are missing; the score stays 100.
    let plain = lookup("中方愿同各方一道努力。").await;
    assert_eq!(
        (plain["score"].as_u64(), plain["code_penalty"].as_u64()),
        (Some(100), Some(3))
    );
    // The line break moved in front: two edits (remove it at the end, add it at the start).
    let moved = lookup("{2/}{1}中方{/1}愿同各方一道努力。").await;
    assert_eq!(
        (moved["score"].as_u64(), moved["code_penalty"].as_u64()),
        (Some(100), Some(2))
    );
    assert_eq!(moved["source_tagged"], "{1}中方{/1}愿同各方一道努力。{2/}");

    // Without `placeholders`, braces are text: a software string `{0}` matches itself.
    let (status, body) = server
        .post_json(
            "/api/v1/segments",
            serde_json::json!({"source_lang":"zh","target_lang":"en","source":"删除{0}？","target":"Delete {0}?"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, body) = server
        .post_json(
            "/api/v1/lookup",
            serde_json::json!({"text": "删除{0}？", "source_lang": "zh", "target_lang": "en"}),
        )
        .await;
    assert_eq!(body["matches"][0]["score"], 100, "{body}");
    assert_eq!(body["matches"][0]["target"], "Delete {0}?");

    // A text of placeholders only is refused, naming the field.
    let (status, body) = server
        .post_json(
            "/api/v1/lookup",
            serde_json::json!({"text": "{1}{/1}", "source_lang": "zh", "target_lang": "en", "placeholders": true}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`text`"),
        "{body}"
    );
}

#[tokio::test]
async fn xliff_inline_codes_are_kept_and_exported_as_tmx_codes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let document = r#"<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
 <file source-language="zh-CN" target-language="en" datatype="html" original="release.html">
  <body>
   <trans-unit id="1"><source><g id="1">会议</g>由区委书记主持。<x id="2"/></source>
     <target state="final"><g id="1">The meeting</g> was chaired by the District Party Secretary.<x id="2"/></target></trans-unit>
  </body>
 </file>
</xliff>"#;
    let (status, report) = server
        .post_raw(
            "/api/v1/import?format=xliff&source_lang=zh&target_lang=en",
            "application/xml",
            document.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 1, "{report}");
    let (status, body) = server
        .post_json(
            "/api/v1/lookup",
            serde_json::json!({"text": "{1}会议{/1}由区委书记主持。{2/}", "source_lang": "zh", "target_lang": "en", "placeholders": true}),
        )
        .await;
    assert_eq!(status, 200);
    let found = &body["matches"][0];
    assert_eq!(found["score"], 100, "{body}");
    assert_eq!(found["code_penalty"], 0, "{body}");
    assert_eq!(found["source"], "会议由区委书记主持。");
    assert_eq!(
        found["target_tagged"],
        "{1}The meeting{/1} was chaired by the District Party Secretary.{2/}"
    );
    let (_, export) = server.get_text("/api/v1/export?format=tmx").await;
    assert_valid_tmx(&export);
    assert!(
        export.contains(r#"<seg><bpt i="1">&lt;g id="1"&gt;</bpt>The meeting<ept i="1">&lt;/g&gt;</ept> was chaired by the District Party Secretary.<ph x="2">&lt;x id="2"/&gt;</ph></seg>"#),
        "{export}"
    );
}
