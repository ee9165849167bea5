//! Hostile AWS endpoints (issue #13): calls that never end, pagination that never ends, and a
//! `--out` that must not be touched, through the real binary against servers started here.
#![cfg(unix)]

mod aws_support;
mod hostile_support;

use hostile_support::*;
use std::io::Write;
use std::time::Duration;

// 3. AWS calls end: an endpoint that never answers is unreachable, pagination that never
//    ends is stopped with an error.

/// Serves HTTP on 127.0.0.1 on a thread: each request is answered by `answer` (the request's
/// body in, the response body out), or never answered when it returns `None`.
fn serve(answer: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> String {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let answer = std::sync::Arc::clone(&answer);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    match answer(&String::from_utf8_lossy(&body)) {
                        Some(text) => {
                            let reply = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{text}",
                                text.len()
                            );
                            if stream.write_all(reply.as_bytes()).is_err() {
                                return;
                            }
                        }
                        // Keep the connection open and say nothing.
                        None => std::thread::sleep(Duration::from_secs(3600)),
                    }
                }
            });
        }
    });
    url
}

/// An EC2 answer to `body`'s action with an empty list and `token` as its `nextToken`.
fn ec2_page(body: &str, token: &str) -> String {
    let action = body
        .split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .unwrap_or("Unknown");
    format!(
        "<{action}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId><nextToken>{token}</nextToken></{action}Response>"
    )
}

#[test]
fn an_endpoint_that_never_answers_is_unreachable_within_the_timeouts() {
    let url = serve(|_| None);
    let env = aws_support::aws_env(&url, aws_support::TEST_KEYS);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let r = run_env(
        &[
            os("collect"),
            os("--read-timeout"),
            os("1"),
            os("--operation-timeout"),
            os("4"),
            os("--out"),
            out.as_os_str(),
        ],
        &env,
        Duration::from_secs(60),
        None,
    );
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr.contains(&format!(
            "cannot reach the AWS endpoint {url} (DescribeVpcs in us-east-1)"
        )),
        "{}",
        r.stderr
    );
    assert!(r.took < Duration::from_secs(30), "{:?}", r.took);
    assert!(!out.exists());
    // `--live` too.
    let r = run_env(
        &[
            os("query"),
            os("--live"),
            os("--operation-timeout"),
            os("2"),
            os("--from"),
            os("10.0.0.1"),
            os("--to"),
            os("10.0.0.2"),
            os("--port"),
            os("22"),
        ],
        &env,
        Duration::from_secs(60),
        None,
    );
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr.contains("cannot reach the AWS endpoint"),
        "{}",
        r.stderr
    );
    assert!(r.took < Duration::from_secs(30), "{:?}", r.took);
}

#[test]
fn pagination_that_never_ends_is_stopped_with_an_error() {
    // A new token on every page.
    let pages = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&pages);
    let url = serve(move |body| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(ec2_page(body, &format!("t{n}")))
    });
    let env = aws_support::aws_env(&url, aws_support::TEST_KEYS);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let r = run_env(
        &[
            os("collect"),
            os("--max-pages"),
            os("20"),
            os("--out"),
            out.as_os_str(),
        ],
        &env,
        Duration::from_secs(60),
        None,
    );
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr
            .contains("stopped reading DescribeVpcs in us-east-1")
            && r.stderr.contains("more than 20 pages"),
        "{}",
        r.stderr
    );
    assert!(pages.load(std::sync::atomic::Ordering::SeqCst) <= 25);
    assert!(!out.exists());
    // The same token again and again: stopped at once, not read as the end.
    let url = serve(|body| Some(ec2_page(body, "same")));
    let env = aws_support::aws_env(&url, aws_support::TEST_KEYS);
    let r = run_env(
        &[os("collect"), os("--out"), out.as_os_str()],
        &env,
        Duration::from_secs(60),
        None,
    );
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr.contains(
            "the endpoint returned a pagination token it had returned before (after 2 page(s))"
        ),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
}

// 6. `collect` never deletes what it did not write, and checks `--out` before any API call.

#[test]
fn collect_checks_out_before_any_call_and_a_marker_by_its_contents() {
    // Nothing listens: an error about `--out` proves no call was made first.
    let url = format!("http://127.0.0.1:{}", aws_support::free_port());
    let env = aws_support::aws_env(&url, aws_support::TEST_KEYS);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mine");
    write(&out.join("precious.txt"), "keep me");
    write(&out.join(".vpcreach-snapshot"), "");
    let r = run_env(
        &[os("collect"), os("--out"), out.as_os_str()],
        &env,
        Duration::from_secs(30),
        None,
    );
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr
            .contains("exists and is not a snapshot written by `vpcreach collect`"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("cannot reach"), "{}", r.stderr);
    assert!(out.join("precious.txt").exists());
    // Under a file: named before any call.
    let file = write(&dir.path().join("file"), "x");
    let r = run_env(
        &[os("collect"), os("--out"), file.join("snap").as_os_str()],
        &env,
        Duration::from_secs(30),
        None,
    );
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr.contains(&format!(
            "cannot write the snapshot to `{}`: it is not a folder",
            file.display()
        )),
        "{}",
        r.stderr
    );
}
