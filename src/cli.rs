//! The command line: `attache serve | import | export | lookup`.
//!
//! Every subcommand reads the same configuration (`--config FILE`, else the embedded
//! defaults) and takes `--data-dir DIR` to point at another index.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

use crate::auth::Role;
use crate::config::Config;
use crate::formats::{self, Format, ImportOptions};
use crate::termbase::{Termbase, TermbaseError, Workflow};
use crate::tm::{LookupQuery, OpenMode, Status, Tm, TmError, DEFAULT_COLLECTION};

#[derive(Debug, Parser)]
#[command(
    name = "attache",
    version,
    about = "Translation-memory and terminology server"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct Common {
    /// Configuration file (default: the embedded config.toml).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory holding the index (overrides storage.dir).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (the default when no subcommand is given).
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on (overrides server.listen).
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Import a TSV or TMX file into the index (the server must not be running on it).
    Import {
        #[command(flatten)]
        common: Common,
        file: PathBuf,
        #[arg(long, value_name = "tsv|csv|tmx|xliff")]
        format: String,
        #[arg(long)]
        source_lang: String,
        #[arg(long)]
        target_lang: String,
        #[arg(long, default_value = DEFAULT_COLLECTION)]
        collection: String,
        /// Column roles of a CSV/TSV table with a header row, e.g. source,target,author.
        #[arg(long)]
        columns: Option<String>,
    },
    /// Write the translation memory (or one collection) as TMX 1.4.
    Export {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        collection: Option<String>,
        /// Output file (default: standard output).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Import or export the glossary (the server must not be running on the data directory).
    Termbase {
        #[command(subcommand)]
        command: TermbaseCommand,
    },
    /// Copy a consistent snapshot of the data directory into DIR (new or empty). Safe while the
    /// server runs: the copy holds every write acknowledged before it started.
    Backup {
        #[command(flatten)]
        common: Common,
        dir: PathBuf,
    },
    /// Copy a backup made by `attache backup` into the data directory, which must be new or
    /// empty (stop the server and move the old one aside first). The backup is checked first.
    Restore {
        #[command(flatten)]
        common: Common,
        dir: PathBuf,
    },
    /// Create, list and remove API keys (kept as hashes in the config file).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Look a segment up and print the matches (works while the server runs).
    Lookup {
        #[command(flatten)]
        common: Common,
        text: String,
        #[arg(long)]
        source_lang: String,
        #[arg(long)]
        target_lang: String,
        #[arg(long)]
        min_score: Option<u8>,
        #[arg(long)]
        limit: Option<usize>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Make a new key and print it (once: only its hash is kept). With --config the key is
    /// added to that file; restart the server to use it.
    Add {
        #[command(flatten)]
        common: Common,
        /// Who holds the key; recorded as the author of their changes.
        name: String,
        #[arg(long, value_name = "reader|translator|terminologist|admin")]
        role: String,
    },
    /// List the keys of the config file (names and roles).
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Remove a key from the config file; restart the server to apply.
    Remove {
        #[command(flatten)]
        common: Common,
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum TermbaseCommand {
    /// Load a TBX file (TBX-Basic or TBX v2 martif) into the termbase.
    Import {
        #[command(flatten)]
        common: Common,
        file: PathBuf,
        /// Workflow state for every imported entry (proposed, approved, rejected); without it
        /// the file's own x-attache-workflow is kept, else proposed.
        #[arg(long)]
        workflow: Option<String>,
    },
    /// Write the termbase as TBX-Basic.
    Export {
        #[command(flatten)]
        common: Common,
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

fn load_config(common: &Common) -> anyhow::Result<Config> {
    let mut config = match &common.config {
        Some(path) => Config::load(path)?,
        None => Config::embedded(),
    };
    if let Some(dir) = &common.data_dir {
        config.storage.dir = dir.clone();
    }
    Ok(config)
}

pub fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tantivy=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve {
        common: Common::default(),
        listen: None,
    }) {
        Command::Serve { common, listen } => {
            let mut config = load_config(&common)?;
            if let Some(listen) = listen {
                config.server.listen = listen;
            }
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(crate::server::serve(config))
        }
        Command::Import {
            common,
            file,
            format,
            source_lang,
            target_lang,
            collection,
            columns,
        } => {
            let config = load_config(&common)?;
            let columns = columns
                .map(|list| formats::table::parse_columns(&list))
                .transpose()
                .map_err(|problem| anyhow::anyhow!("--columns: {problem}"))?;
            import(
                &config,
                &file,
                &format,
                source_lang,
                target_lang,
                collection,
                columns,
            )
        }
        Command::Export {
            common,
            collection,
            output,
        } => {
            let config = load_config(&common)?;
            export(&config, collection.as_deref(), output.as_deref())
        }
        Command::Termbase { command } => termbase(command),
        Command::Keys { command } => keys(command),
        Command::Backup { common, dir } => {
            let config = load_config(&common)?;
            let contents = crate::backup::backup(&config.storage.dir, &dir)?;
            eprintln!(
                "backed up {} segments and {} glossary entries ({:.1} MiB) to {}",
                contents.segments,
                contents.glossary_entries,
                contents.bytes as f64 / (1 << 20) as f64,
                dir.display()
            );
            Ok(())
        }
        Command::Restore { common, dir } => {
            let config = load_config(&common)?;
            let contents = crate::backup::restore(&dir, &config.storage.dir)?;
            eprintln!(
                "restored {} segments and {} glossary entries into {}",
                contents.segments,
                contents.glossary_entries,
                config.storage.dir.display()
            );
            Ok(())
        }
        Command::Lookup {
            common,
            text,
            source_lang,
            target_lang,
            min_score,
            limit,
        } => {
            let config = load_config(&common)?;
            lookup(&config, text, source_lang, target_lang, min_score, limit)
        }
    }
}

fn keys(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Add { common, name, role } => {
            let role = Role::parse(&role).with_context(|| {
                format!("--role `{role}` is not one of reader, translator, terminologist, admin")
            })?;
            let key = crate::auth::generate_key().context("cannot draw random bytes")?;
            let hash = crate::auth::key_hash_hex(&key);
            match &common.config {
                Some(path) => {
                    crate::config::add_key_to_file(path, &name, role, &hash)?;
                    eprintln!(
                        "added the {role} key `{name}` to {}; restart the server to use it. \
                         The key is shown once, here:",
                        path.display()
                    );
                }
                None => eprintln!(
                    "no --config given: add this to the [auth] section of your config file\n\n\
                     [[auth.keys]]\nname = {name:?}\nrole = \"{role}\"\nsha256 = \"{hash}\"\n\n\
                     The key is shown once, here:"
                ),
            }
            println!("{key}");
            Ok(())
        }
        KeysCommand::List { common } => {
            let config = load_config(&common)?;
            let keyring = crate::auth::Keyring::from_config(&config.auth)?;
            if keyring.is_open() {
                println!("no keys: the server runs open, on loopback addresses only");
            }
            for (name, role) in keyring.list() {
                println!("{name}\t{role}");
            }
            for (collection, names) in keyring.restricted() {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                println!("restricted collection {collection}: {}", names.join(", "));
            }
            Ok(())
        }
        KeysCommand::Remove { common, name } => {
            let path = common
                .config
                .context("--config FILE is required: keys are removed from that file")?;
            crate::config::remove_key_from_file(&path, &name)?;
            eprintln!("removed the key `{name}`; restart the server to apply");
            Ok(())
        }
    }
}

fn open_for_writing(config: &Config, http_import_query: &str) -> anyhow::Result<Tm> {
    match Tm::open(&config.storage.dir, OpenMode::ReadWrite) {
        Ok(tm) => Ok(tm),
        Err(TmError::Locked(dir)) => bail!(
            "a running attache server holds the index in {}; import through it instead:\n  \
             curl -X POST --data-binary @FILE 'http://{}/api/v1/import?{http_import_query}'",
            dir.display(),
            config.server.listen
        ),
        Err(other) => Err(other.into()),
    }
}

fn import(
    config: &Config,
    file: &Path,
    format: &str,
    source_lang: String,
    target_lang: String,
    collection: String,
    columns: Option<Vec<formats::table::ColumnRole>>,
) -> anyhow::Result<()> {
    let file_format = Format::parse(format)
        .with_context(|| format!("--format `{format}` is not tsv, csv, tmx or xliff"))?;
    crate::lang::validate(&source_lang).context("--source-lang")?;
    crate::lang::validate(&target_lang).context("--target-lang")?;
    let total_bytes = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let tm = open_for_writing(
        config,
        &format!("format={file_format}&source_lang={source_lang}&target_lang={target_lang}"),
    )?;
    let options = ImportOptions {
        source_lang,
        target_lang,
        collection,
        status: Status::Approved,
        author: None,
        max_text_chars: config.limits.max_text_chars,
    };

    let progress = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(total_bytes);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_message("reading");
        Some(bar)
    } else {
        None
    };
    let bytes_read = Arc::new(AtomicU64::new(0));
    // Units stream into the writer while the file is read; it commits once at the end.
    let (feed, committed) = tm.begin_import()?;
    let skipped = std::thread::scope(|scope| {
        let reading = scope.spawn(|| -> Result<Vec<formats::Skipped>, anyhow::Error> {
            let mut parsed = formats::read_pairs_file(
                file,
                file_format,
                columns,
                None,
                &options,
                Some(bytes_read.clone()),
                formats::Parsed::streaming(feed),
            )?;
            if let Some(feed) = parsed.feed.take() {
                feed.finish()?;
            }
            Ok(parsed.skipped)
        });
        while !reading.is_finished() {
            if let Some(bar) = &progress {
                bar.set_position(bytes_read.load(Ordering::Relaxed));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        reading.join().expect("the reader thread does not panic")
    })
    .with_context(|| format!("{} was not imported", file.display()))?;
    if let Some(bar) = &progress {
        bar.set_position(total_bytes);
        bar.set_message("committing");
    }
    let counts = committed
        .blocking_recv()
        .map_err(|_| TmError::WriterStopped)??;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    for skipped in &skipped {
        eprintln!("skipped {}: {}", skipped.at, skipped.message);
    }
    println!(
        "imported {}, duplicates {}, skipped {}",
        counts.imported,
        counts.duplicates,
        skipped.len()
    );
    tm.close();
    Ok(())
}

fn export(config: &Config, collection: Option<&str>, output: Option<&Path>) -> anyhow::Result<()> {
    let tm = Tm::open(&config.storage.dir, OpenMode::ReadOnly)?;
    let sink: Box<dyn Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let header = match collection {
        Some(name) => tm.file_header(name)?,
        None => None,
    };
    let mut tmx = formats::tmx::TmxWriter::begin(sink, "*all*", header.as_ref())?;
    // Progress goes to stderr, so it never mixes with a TMX written to stdout.
    let progress = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(tm.count_in(collection).unwrap_or(0));
        bar.set_style(
            indicatif::ProgressStyle::with_template("exporting [{bar:40}] {pos}/{len} ({eta})")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar
    });
    let mut count = 0u64;
    tm.for_each_unit(collection, |unit| {
        count += 1;
        if let Some(bar) = &progress {
            if count.is_multiple_of(1000) {
                bar.set_position(count);
            }
        }
        tmx.write_unit(&unit)
            .map_err(|error| TmError::CommitFailed(error.to_string()))
    })?;
    tmx.finish()?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    eprintln!("exported {count} units");
    Ok(())
}

fn lookup(
    config: &Config,
    text: String,
    source_lang: String,
    target_lang: String,
    min_score: Option<u8>,
    limit: Option<usize>,
) -> anyhow::Result<()> {
    crate::lang::validate(&source_lang).context("--source-lang")?;
    crate::lang::validate(&target_lang).context("--target-lang")?;
    let tm = Tm::open(&config.storage.dir, OpenMode::ReadOnly)?;
    let query = LookupQuery {
        text,
        source_lang,
        target_lang,
        min_score: min_score.unwrap_or(config.lookup.min_score).min(100),
        limit: limit
            .unwrap_or(config.lookup.limit)
            .clamp(1, config.limits.max_results),
        collections: Vec::new(),
        hidden_collections: Vec::new(),
    };
    let matches = tm.lookup(&query)?;
    if matches.is_empty() {
        eprintln!("no match at or above {}%", query.min_score);
    }
    let mut out = std::io::stdout().lock();
    for found in matches {
        writeln!(
            out,
            "{}%\t{}\t{}\t(id {})",
            found.score, found.source.text, found.target.text, found.unit.id
        )?;
    }
    Ok(())
}

fn termbase(command: TermbaseCommand) -> anyhow::Result<()> {
    match command {
        TermbaseCommand::Import {
            common,
            file,
            workflow,
        } => {
            let config = load_config(&common)?;
            let workflow = workflow
                .map(|name| {
                    Workflow::parse(&name).with_context(|| {
                        format!("--workflow `{name}` is not proposed, approved or rejected")
                    })
                })
                .transpose()?;
            let termbase = open_termbase_for_writing(&config)?;
            let parsed = formats::tbx::read_file(&file, Workflow::Proposed)
                .with_context(|| format!("{} was not imported", file.display()))?;
            let inputs = formats::tbx::with_workflow(parsed.entries, workflow);
            let outcome = termbase.import(inputs, Some("attache termbase import".to_owned()))?;
            for skipped in &parsed.skipped {
                eprintln!("skipped {}: {}", skipped.at, skipped.message);
            }
            println!(
                "imported {} entries, duplicates {}, skipped {}",
                outcome.entries.len(),
                outcome.duplicates,
                parsed.skipped.len()
            );
            Ok(())
        }
        TermbaseCommand::Export { common, output } => {
            let config = load_config(&common)?;
            // A running server owns the journal; its last whole record is read instead.
            let entries =
                match crate::server::open_termbase(&config.storage.dir, &config.termbase.dir) {
                    Ok(termbase) => termbase.entries(),
                    Err(error)
                        if matches!(
                            error.downcast_ref::<TermbaseError>(),
                            Some(TermbaseError::Locked(_))
                        ) =>
                    {
                        Termbase::read_entries(&config.storage.dir)?
                    }
                    Err(other) => return Err(other),
                };
            let sink: Box<dyn Write> = match &output {
                Some(path) => Box::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            formats::tbx::write_tbx(
                sink,
                &entries,
                "Attaché termbase export",
                formats::tbx::Dialect::Basic2019,
            )?;
            eprintln!("exported {} entries", entries.len());
            Ok(())
        }
    }
}

fn open_termbase_for_writing(config: &Config) -> anyhow::Result<Termbase> {
    match crate::server::open_termbase(&config.storage.dir, &config.termbase.dir) {
        Ok(termbase) => Ok(termbase),
        Err(error)
            if matches!(
                error.downcast_ref::<TermbaseError>(),
                Some(TermbaseError::Locked(_))
            ) =>
        {
            bail!(
                "a running attache server holds the termbase in {}; import through it instead:\n  \
             curl -X POST --data-binary @FILE 'http://{}/api/v1/termbase/import?format=tbx'",
                config.storage.dir.display(),
                config.server.listen
            )
        }
        Err(other) => Err(other),
    }
}
