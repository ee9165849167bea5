//! Issue 15: a security-group rule added and removed again (or removed and added again) after
//! a record's time leaves the configuration that judges the record as the snapshot's, so the
//! record is judged by the snapshot's model (no earlier model is made for it); an odd number of
//! such changes, or a change that is not a plain toggle of its rule, makes it judged by the
//! model at its time.

mod common;

use vpcreach::explain::{Explainer, Status, Timeline};
use vpcreach::flow_log::{parse_chunk, Action, Chunk, Format};
use vpcreach::history::{self, Change, Event, Peer, SgRule};
use vpcreach::{Network, Snapshot};

const T0: i64 = 1_700_000_000;

/// tcp/22 from 192.0.2.7/32: a rule sg-web does not have in the fixture.
fn ssh() -> SgRule {
    SgRule {
        protocol: "tcp".into(),
        from: Some(22),
        to: Some(22),
        peer: Peer::Cidr4("192.0.2.7/32".into()),
    }
}

fn event(n: usize, at: i64, change: Change) -> Event {
    common::history_event(n, at, change)
}

fn authorize(n: usize, at: i64) -> Event {
    event(
        n,
        at,
        Change::Authorize {
            group_id: "sg-web".into(),
            egress: false,
            rules: vec![(ssh(), None)],
        },
    )
}

fn revoke(n: usize, at: i64) -> Event {
    event(
        n,
        at,
        Change::Revoke {
            group_id: "sg-web".into(),
            egress: false,
            rules: Some(vec![ssh()]),
            requested: vec![ssh()],
            rule_ids: vec![],
        },
    )
}

/// An SSH connection from 192.0.2.7 to eni-web at `at`, accepted.
fn chunk(at: i64) -> Chunk {
    let line = format!(
        "2 111122223333 eni-web 192.0.2.7 10.0.1.10 40000 22 6 1 40 {at} {} ACCEPT OK",
        at + 30
    );
    Chunk::new("t.log", line.into_bytes(), Format::default())
}

/// The record of `chunk` judged by the timeline, and by the model at its time built in full.
fn judged(snap: &Snapshot, events: &[Event], at: i64) -> (bool, (Status, Option<Action>)) {
    let snapshot_time = T0 + 10_000;
    let timeline = Timeline::new(snap.clone(), snapshot_time, events.to_vec());
    let c = chunk(at);
    let needs = timeline.needs_history(&c);
    let mut got = Vec::new();
    timeline.explain_chunk(&c, |_, e| got.push((e.status, e.expected)));
    let then = history::at(snap, events, snapshot_time, at).snapshot;
    let r = &parse_chunk(&c).records[0];
    let file: std::sync::Arc<std::path::Path> = std::path::Path::new("t.log").into();
    let net = Network::build(&then);
    let e = Explainer::new(&net).explain(&file, r, None);
    assert_eq!(got, vec![(e.status, e.expected)], "record at {at}");
    (needs, got[0])
}

fn fixture() -> Snapshot {
    Snapshot::from_json_str(&common::base().to_string()).unwrap()
}

#[test]
fn a_rule_added_and_removed_again_after_a_record_leaves_it_to_the_snapshot() {
    // SSH opened for an hour, then closed: the snapshot does not have the rule.
    let snap = fixture();
    let events = [authorize(0, T0 + 1_000), revoke(1, T0 + 4_600)];
    // Before the hour: judged by the snapshot's model (nothing to build), rejected.
    let (needs, (status, expected)) = judged(&snap, &events, T0);
    assert!(!needs);
    assert_eq!(
        (status, expected),
        (Status::Contradiction, Some(Action::Reject))
    );
    // In the hour: judged by the model then, which accepts it.
    let (needs, (status, expected)) = judged(&snap, &events, T0 + 2_000);
    assert!(needs);
    assert_eq!(
        (status, expected),
        (Status::Consistent, Some(Action::Accept))
    );
    // After it: the snapshot's.
    let (needs, _) = judged(&snap, &events, T0 + 5_000);
    assert!(!needs);
}

#[test]
fn a_rule_removed_and_added_again_after_a_record_leaves_it_to_the_snapshot() {
    // The snapshot has the rule; it was removed for an hour.
    let mut snap = fixture();
    history::apply(&mut snap, &authorize(9, T0 - 10)).unwrap();
    let events = [revoke(0, T0 + 1_000), authorize(1, T0 + 4_600)];
    let (needs, (status, _)) = judged(&snap, &events, T0);
    assert!(!needs);
    assert_eq!(status, Status::Consistent);
    let (needs, (status, expected)) = judged(&snap, &events, T0 + 2_000);
    assert!(needs);
    assert_eq!(
        (status, expected),
        (Status::Contradiction, Some(Action::Reject))
    );
}

#[test]
fn a_revoke_of_a_rule_the_snapshot_still_has_is_not_paired_with_its_authorization() {
    // Authorized, then revoked, yet the snapshot has the rule (a later authorization is not
    // in the history): undoing the revoke leaves the rule there, so before the authorization
    // the rule was not there, unlike in the snapshot. The two changes do not cancel.
    let mut snap = fixture();
    history::apply(&mut snap, &authorize(9, T0 - 10)).unwrap();
    let events = [authorize(0, T0 + 1_000), revoke(1, T0 + 4_600)];
    let (needs, (status, expected)) = judged(&snap, &events, T0);
    assert!(needs);
    assert_eq!(
        (status, expected),
        (Status::Contradiction, Some(Action::Reject))
    );
}

#[test]
fn three_toggles_after_a_record_are_not_a_pair() {
    let snap = fixture();
    let events = [
        authorize(0, T0 + 1_000),
        revoke(1, T0 + 2_000),
        authorize(2, T0 + 3_000),
    ];
    // The snapshot has the rule; before the first change it was not there.
    let mut now = snap.clone();
    for e in &events {
        history::apply(&mut now, e).unwrap();
    }
    let (needs, (status, expected)) = judged(&now, &events, T0);
    assert!(needs);
    assert_eq!(
        (status, expected),
        (Status::Contradiction, Some(Action::Reject))
    );
    // Between the second and third: two toggles since, a pair.
    let (needs, (status, _)) = judged(&now, &events, T0 + 1_500);
    assert!(!needs);
    assert_eq!(status, Status::Consistent);
}
