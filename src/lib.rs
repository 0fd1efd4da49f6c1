//! Attaché: a translation-memory and terminology server for Chinese–English foreign-affairs
//! texts.
//!
//! The crate is organised as the architecture is (see `ARCHITECTURE.md`):
//! [`text`] (normalization, tokens, the match score), [`lang`] (language tags), [`tm`] (the
//! Tantivy-backed store and its searches), [`formats`] (TSV, TMX), [`auth`] (API keys and roles), [`api`] (HTTP),
//! [`config`] and [`server`] (start-up and shutdown).

pub mod api;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod formats;
pub mod lang;
pub mod server;
pub mod termbase;
pub mod text;
pub mod tm;
