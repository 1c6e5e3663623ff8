//! The integration tests: one binary, the real app on port 0, each test with its own database.
//! SQLite by default; set BORDERDESK_TEST_DATABASE_URL=postgres://… to run them on PostgreSQL.

// A test's helpers may stop the test where something it set up did not hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod backup;
mod bad_input;
mod bookings;
mod browser;
mod calendar;
mod checkpoint;
mod concurrency;
mod drivers;
mod free;
mod freight;
mod hardening;
mod instances;
mod mail;
mod ops;
mod pages;
mod passport;
mod permits;
mod portraits;
mod print;
mod privilege;
mod progress;
mod races;
mod seals;
mod security;
mod stock;
mod support;
mod tools;
mod trade;
