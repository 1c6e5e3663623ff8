//! borderdesk: permit processing for the Pingxiang service hall and the Youyiguan one-window
//! office. The binary in `main.rs` is a thin CLI over this library.

pub mod app;
pub mod backup;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod keys;
pub mod mail;
pub mod print;
pub mod service;
pub mod views;
