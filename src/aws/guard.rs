//! A guard on every paginated call: pagination ends with an error, never silently and never
//! not at all, when an endpoint hands out a token it handed out before (a loop) or more pages
//! than `--max-pages`.
//!
//! The SDK's paginators stop without a word when a page repeats the token it was asked with,
//! and go on for ever when each page holds a new one. This interceptor sees every call of every
//! client: a call without a token starts a sequence (keyed by the operation, the host and the
//! request without its token); each response's token is remembered for the sequence.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The default of `--max-pages`: pages of one paginated call before it is stopped as a loop.
pub const DEFAULT_MAX_PAGES: usize = 10_000;

/// Why pagination was stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// A response held a token that an earlier page of the same call held.
    #[error("the endpoint returned a pagination token it had returned before (after {pages} page(s)): stopped, as it would never end")]
    Repeated {
        /// Pages read until then.
        pages: usize,
    },
    /// More pages than allowed.
    #[error("more than {max} pages: stopped (raise `--max-pages` if the account really holds that many)")]
    TooMany {
        /// The limit.
        max: usize,
    },
}

/// One sequence of pages: how many, and the tokens handed out.
#[derive(Debug, Default)]
struct Sequence {
    pages: usize,
    tokens: HashSet<Vec<u8>>,
}

/// The interceptor; one per session, shared by its clients.
#[derive(Debug, Clone)]
pub(crate) struct PageGuard {
    max_pages: usize,
    sequences: Arc<Mutex<HashMap<String, Sequence>>>,
}

impl PageGuard {
    pub(crate) fn new(max_pages: usize) -> PageGuard {
        PageGuard {
            max_pages: max_pages.max(1),
            sequences: Arc::default(),
        }
    }
}

/// What a request was, for its response.
#[derive(Debug, Clone)]
struct Call {
    key: String,
}

impl Storable for Call {
    type Storer = StoreReplace<Self>;
}

/// Request parameters that carry a page token: EC2 (`NextToken` in the form body), S3
/// (`continuation-token` in the query), CloudWatch Logs (`nextToken` in the JSON body).
fn is_token_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("nexttoken") || name.eq_ignore_ascii_case("continuation-token")
}

/// The request without its token, and whether it had one.
fn without_token(query: &str, body: &[u8]) -> (String, bool) {
    let mut had = false;
    let mut form = |text: &str| -> String {
        text.split('&')
            .filter(|p| {
                let name = p.split('=').next().unwrap_or_default();
                let token = is_token_name(name);
                had |= token;
                !token
            })
            .collect::<Vec<_>>()
            .join("&")
    };
    let query = form(query);
    let body = if body.first() == Some(&b'{') {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(mut map)) => {
                let before = map.len();
                map.retain(|k, _| !is_token_name(k));
                had |= map.len() != before;
                serde_json::Value::Object(map).to_string()
            }
            _ => String::from_utf8_lossy(body).into_owned(),
        }
    } else {
        form(&String::from_utf8_lossy(body))
    };
    (format!("{query} {body}"), had)
}

/// The page token a response hands out, if any: `<nextToken>` (EC2),
/// `<NextContinuationToken>` (S3), `"nextToken"` (CloudWatch Logs).
fn response_token(body: &[u8]) -> Option<Vec<u8>> {
    if body.first() == Some(&b'{') {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let token = value.get("nextToken").or_else(|| value.get("NextToken"))?;
        return token.as_str().map(|t| t.as_bytes().to_vec());
    }
    for tag in ["nextToken", "NextContinuationToken", "NextToken"] {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        if let Some(start) = memchr::memmem::find(body, open.as_bytes()) {
            let from = start + open.len();
            let len = memchr::memmem::find(&body[from..], close.as_bytes())?;
            let token = &body[from..from + len];
            return (!token.is_empty()).then(|| token.to_vec());
        }
    }
    None
}

impl Intercept for PageGuard {
    fn name(&self) -> &'static str {
        "vpcreach page guard"
    }

    fn read_after_serialization(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_default();
        let uri = request.uri();
        let (host_path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let body = request.body().bytes().unwrap_or_default();
        let (rest, had_token) = without_token(query, body);
        let key = format!("{operation} {host_path} {rest}");
        if !had_token {
            // A first page: a new sequence.
            if let Ok(mut sequences) = self.sequences.lock() {
                sequences.insert(key.clone(), Sequence::default());
            }
        }
        cfg.interceptor_state().store_put(Call { key });
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.output_or_error().is_err() {
            return Ok(());
        }
        let Some(call) = cfg.load::<Call>() else {
            return Ok(());
        };
        let Some(body) = context.response().body().bytes() else {
            return Ok(());
        };
        let token = response_token(body);
        let Ok(mut sequences) = self.sequences.lock() else {
            return Ok(());
        };
        let sequence = sequences.entry(call.key.clone()).or_default();
        sequence.pages += 1;
        let pages = sequence.pages;
        let Some(token) = token else {
            // The last page.
            sequences.remove(&call.key);
            return Ok(());
        };
        if !sequence.tokens.insert(token) {
            sequences.remove(&call.key);
            return Err(Box::new(PageError::Repeated { pages }));
        }
        if pages >= self.max_pages {
            sequences.remove(&call.key);
            return Err(Box::new(PageError::TooMany {
                max: self.max_pages,
            }));
        }
        Ok(())
    }
}

/// The [`PageError`] somewhere in an error's chain of causes.
pub(crate) fn page_error(err: &(dyn std::error::Error + 'static)) -> Option<PageError> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(p) = e.downcast_ref::<PageError>() {
            return Some(p.clone());
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_and_taken_out_of_requests() {
        assert_eq!(
            without_token("", b"Action=DescribeVpcs&NextToken=abc%3D&MaxResults=5"),
            (" Action=DescribeVpcs&MaxResults=5".to_string(), true)
        );
        assert_eq!(
            without_token("list-type=2&continuation-token=x", b""),
            ("list-type=2 ".to_string(), true)
        );
        assert!(without_token("", br#"{"logGroupName":"g","nextToken":"t"}"#).1);
        assert_eq!(
            response_token(b"<x><nextToken>a&amp;b</nextToken></x>"),
            Some(b"a&amp;b".to_vec())
        );
        assert_eq!(response_token(b"<x><nextToken/></x>"), None);
        assert_eq!(
            response_token(br#"{"events":[],"nextToken":"q"}"#),
            Some(b"q".to_vec())
        );
        assert_eq!(response_token(br#"{"events":[]}"#), None);
    }
}
