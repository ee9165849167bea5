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

// 7. What the AWS API returns is checked as a saved snapshot is: a rule that cannot be read
//    leaves its resource out (`unknown`, with the reason), never silently widened.

/// Passes each request on to `upstream` as is, and each answer's body through `rewrite`
/// (the request's body and the answer's body in): an AWS endpoint that answers what
/// `upstream` does, changed where `rewrite` changes it.
fn rewriting_proxy(
    upstream: &str,
    rewrite: impl Fn(&str, &str) -> String + Send + Sync + 'static,
) -> String {
    use std::io::{BufRead, BufReader, Read};
    let upstream = upstream.trim_start_matches("http://").to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let rewrite = std::sync::Arc::new(rewrite);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (rewrite, upstream) = (std::sync::Arc::clone(&rewrite), upstream.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    // The request: its head (without `connection`), then its body.
                    let mut head = String::new();
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
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
                        if !lower.starts_with("connection:") {
                            head.push_str(&line);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    // One connection upstream per request, read to its end.
                    let mut up = std::net::TcpStream::connect(&upstream).unwrap();
                    up.write_all(head.as_bytes()).unwrap();
                    up.write_all(b"connection: close\r\n\r\n").unwrap();
                    up.write_all(&body).unwrap();
                    let mut answer = Vec::new();
                    up.read_to_end(&mut answer).unwrap();
                    let answer = String::from_utf8_lossy(&answer).into_owned();
                    let (status_and_headers, text) = answer.split_once("\r\n\r\n").unwrap();
                    assert!(
                        !status_and_headers
                            .to_ascii_lowercase()
                            .contains("transfer-encoding: chunked"),
                        "{status_and_headers}"
                    );
                    let text = rewrite(&String::from_utf8_lossy(&body), text);
                    let mut lines = status_and_headers.split("\r\n");
                    let mut reply = format!("{}\r\n", lines.next().unwrap());
                    for h in lines {
                        let lower = h.to_ascii_lowercase();
                        if !lower.starts_with("content-length:")
                            && !lower.starts_with("connection:")
                        {
                            reply.push_str(h);
                            reply.push_str("\r\n");
                        }
                    }
                    reply.push_str(&format!("content-length: {}\r\n\r\n{text}", text.len()));
                    if stream.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[test]
fn a_rule_the_api_returns_unreadable_leaves_its_group_out_of_live_answers() {
    let moto = aws_support::Moto::start();
    let rt = aws_support::runtime();
    let config = rt.block_on(aws_support::sdk_config(&moto.url, ("testing", "testing")));
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let net = rt.block_on(aws_support::seed_network(&ec2));
    // Group `db` allows tcp/5432 from `app`: the API says its rule ends at port 70000.
    let url = rewriting_proxy(&moto.url, |request, answer| {
        if request.contains("Action=DescribeSecurityGroups") {
            answer.replace("<toPort>5432</toPort>", "<toPort>70000</toPort>")
        } else {
            answer.to_string()
        }
    });
    let env = aws_support::aws_env(&url, aws_support::TEST_KEYS);
    let rule = format!(
        "security group `{}` has an inbound rule that cannot be read (ports `5432`-`70000` are not within 0 to 65535)",
        net.sg_db
    );
    let r = run_env(
        &[
            os("query"),
            os("--live"),
            os("--from"),
            os(&net.eni_app),
            os("--to"),
            os(&net.eni_db),
            os("--port"),
            os("5432"),
        ],
        &env,
        Duration::from_secs(120),
        None,
    );
    // Not an answer read from the widened rule (reachable on 5432): the ENI behind the group
    // is left out of the model, and the query says why.
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr
            .contains(&format!("`{}` is left out of the model", net.eni_db))
            && r.stderr
                .contains(&format!("security group `{}`", net.sg_db)),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&rule), "{}", r.stderr);
    assert!(r.stderr.contains("the AWS API"), "{}", r.stderr);

    // `explain --live`: a record to the DB on 5432 is `unknown`, with the reason.
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("a.log");
    std::fs::write(
        &flows,
        format!(
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
             2 {} {} 10.0.1.10 10.0.2.20 40000 5432 6 5 500 1700000000 1700000060 ACCEPT OK\n",
            aws_support::ACCOUNT,
            net.eni_db
        ),
    )
    .unwrap();
    let r = run_env(
        &[
            os("explain"),
            os("--live"),
            os("--output"),
            os("jsonl"),
            flows.as_os_str(),
        ],
        &env,
        Duration::from_secs(120),
        None,
    );
    assert!(r.code == Some(0) || r.code == Some(1), "{r:?}");
    let v: serde_json::Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(v["status"], "unknown", "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "interface {} is left out of the model",
            net.eni_db
        )) && message.contains(&format!("its security group `{}` is left out", net.sg_db)),
        "{message}"
    );
    assert!(r.stderr.contains(&rule), "{}", r.stderr);
}

/// A shared library that, preloaded, makes every `rename` to the path in
/// `TEST_FAIL_RENAME_TO` fail with EIO, as a failing disk would, and passes every other one to
/// the C library: a fault injected into the unchanged binary from outside. Built with `cc`
/// (the linker Rust builds use).
fn rename_failing_shim(dir: &std::path::Path) -> std::path::PathBuf {
    let src = dir.join("shim.c");
    std::fs::write(
        &src,
        r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
static int refused(const char *to) {
    const char *target = getenv("TEST_FAIL_RENAME_TO");
    return target && to && strcmp(to, target) == 0;
}
int rename(const char *from, const char *to) {
    if (refused(to)) { errno = EIO; return -1; }
    int (*real)(const char *, const char *) = dlsym(RTLD_NEXT, "rename");
    return real(from, to);
}
int renameat(int fd1, const char *from, int fd2, const char *to) {
    if (refused(to)) { errno = EIO; return -1; }
    int (*real)(int, const char *, int, const char *) = dlsym(RTLD_NEXT, "renameat");
    return real(fd1, from, fd2, to);
}
int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned int flags) {
    if (refused(to)) { errno = EIO; return -1; }
    int (*real)(int, const char *, int, const char *, unsigned int) = dlsym(RTLD_NEXT, "renameat2");
    return real(fd1, from, fd2, to, flags);
}
"#,
    )
    .unwrap();
    let lib = dir.join("shim.so");
    let status = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .arg("-ldl")
        .status()
        .expect("cc, to build the fault-injecting library");
    assert!(status.success());
    lib
}

#[test]
fn a_failed_restore_keeps_the_earlier_snapshot_and_names_it() {
    let moto = aws_support::Moto::start();
    let env = aws_support::aws_env(&moto.url, aws_support::TEST_KEYS);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let collect = |extra: &[(String, Option<String>)]| {
        let mut env = env.clone();
        env.extend_from_slice(extra);
        run_env(
            &[os("collect"), os("--quiet"), os("--out"), out.as_os_str()],
            &env,
            Duration::from_secs(120),
            None,
        )
    };
    let r = collect(&[]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let marker = std::fs::read_to_string(out.join(".vpcreach-snapshot")).unwrap();
    let files = |d: &std::path::Path| -> Vec<String> {
        let mut names: Vec<String> = walk_names(d);
        names.sort();
        names
    };
    let before = files(&out);
    assert!(before.len() > 2, "{before:?}");

    // Again, with every rename to `snap` failing: the earlier snapshot is set aside, the new
    // one cannot be moved in, and the earlier one cannot be moved back.
    let shim_dir = tempfile::tempdir().unwrap();
    let shim = rename_failing_shim(shim_dir.path());
    let r = collect(&[
        ("LD_PRELOAD".into(), Some(shim.display().to_string())),
        (
            "TEST_FAIL_RENAME_TO".into(),
            Some(out.display().to_string()),
        ),
    ]);
    assert_eq!(r.code, Some(2), "{r:?}");
    let said = format!(
        "cannot put the new snapshot in place at `{}` (Input/output error (os error 5)), nor the earlier snapshot back (Input/output error (os error 5)): the earlier snapshot is kept at `",
        out.display()
    );
    let at = r
        .stderr
        .find(&said)
        .unwrap_or_else(|| panic!("{}", r.stderr));
    let rest = &r.stderr[at + said.len()..];
    let aside = std::path::PathBuf::from(&rest[..rest.find('`').unwrap()]);
    // The folder named holds the earlier snapshot, whole; nothing is left at `snap`, and the
    // new snapshot's temporary folder is gone.
    assert!(!out.exists());
    assert_eq!(aside.parent().unwrap().parent(), Some(dir.path()));
    assert_eq!(files(&aside), before);
    assert_eq!(
        std::fs::read_to_string(aside.join(".vpcreach-snapshot")).unwrap(),
        marker
    );
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with(".vpcreach-old-"), "{left:?}");
    // Moved back by hand, as the message says, it is a snapshot again.
    std::fs::rename(&aside, &out).unwrap();
    assert!(vpcreach::Snapshot::load(&out).is_ok());
}

/// The paths of the files below `dir`, relative to it.
fn walk_names(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out
}
