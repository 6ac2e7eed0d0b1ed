//! Integration tests: small sites in `sites/`, built by the real `wegweiser` binary with the
//! plain-text test theme in `theme/`, and the output read back.

mod content;
mod harness;

mod arch_config_positions;
mod architecture;
mod bad_input;
mod basic;
mod cli;
mod errors;
mod incremental;
mod keywords;
mod links;
mod portal;
mod portal_leak;
mod publish;
mod scan;
mod serve;
mod serve_nginx;
mod snapshots;
mod trust_config;
mod trust_content;
mod trust_files;
mod trust_redteam;
mod trust_serve;
mod trust_templates;
