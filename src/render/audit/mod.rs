//! Renderers of an audit [`Report`](crate::audit::report::Report), one file per output format:
//! a table for a terminal, the JSON envelope, SARIF 2.1.0 for code-scanning dashboards and
//! Markdown for pull requests and tickets.

pub mod human;
pub mod json;
pub mod markdown;
pub mod sarif;
