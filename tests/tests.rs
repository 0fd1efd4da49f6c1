//! Integration tests: the real `attache` binary on a loopback port, real data from
//! `../shared`, real HTTP.

mod support;

mod access;
mod api_errors;
mod browser;
mod cli;
mod concordance;
mod durability;
mod files;
mod fuzz;
mod lookup;
mod observe;
mod protocols;
mod recall;
mod reliability;
mod segments;
mod termbase;
