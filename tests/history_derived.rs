//! Property (issue 15): `explain --history` makes the model at an earlier time from a model at
//! another time by compiling anew only the security groups whose rules changed in between
//! (`Network::with_groups`), when only such rule changes lie between. That model must be the
//! one a full build of the configuration at that time gives: the same groups, rule for rule,
//! and the same explanation (every field, the deciding rules included) of every record.

mod common;

use proptest::prelude::*;
use serde_json::json;
use std::sync::Arc;
use vpcreach::explain::{Explainer, Timeline};
use vpcreach::history::{self, Change, Event, Op, Peer, SgRule};
use vpcreach::snapshot::NetworkAclEntry;
use vpcreach::{Network, Snapshot};

const T0: i64 = 1_700_000_000;

fn base() -> Snapshot {
    let mut v = common::base();
    v["ManagedPrefixLists"] = json!([{"PrefixListId": "pl-corp", "AddressFamily": "IPv4",
        "Entries": [{"Cidr": "192.0.2.0/29"}, {"Cidr": "10.0.1.0/24"}]}]);
    Snapshot::from_json_str(&v.to_string()).unwrap()
}

fn event(n: usize, change: Change) -> Event {
    common::history_event(n, T0 + n as i64 * 60, change)
}

/// A rule of one of the kinds a group can hold: an IPv4 or IPv6 CIDR, a prefix list (known or
/// not in the snapshot), a group (known or not), on a port or every port, or all protocols.
fn rule(kind: u8, a: u8) -> SgRule {
    let port = i32::from(a % 8) * 100;
    let (protocol, from, to) = match a % 5 {
        0 => ("-1", None, None),
        1 => ("tcp", Some(0), Some(65_535)),
        _ => ("tcp", Some(port), Some(port + 50)),
    };
    let peer = match kind % 6 {
        0 | 1 => Peer::Cidr4(format!("192.0.2.{}/32", a % 6)),
        2 => Peer::Cidr6("2600:1f18:0:1::/64".into()),
        3 => Peer::PrefixList(
            if a.is_multiple_of(3) {
                "pl-gone"
            } else {
                "pl-corp"
            }
            .into(),
        ),
        4 => Peer::Group(
            if a.is_multiple_of(3) {
                "sg-gone"
            } else {
                "sg-app"
            }
            .into(),
        ),
        _ => Peer::Cidr4(format!("10.0.{}.0/24", a % 4)),
    };
    SgRule {
        protocol: protocol.into(),
        from,
        to,
        peer,
    }
}

/// The changes that `ops` describe, each valid where it is: rules authorized on sg-web,
/// sg-app or sg-db (either direction), the same rules revoked again, and now and then a NACL
/// entry created (a change that is not a rule's, which no model can be made across).
fn history(ops: &[(u8, u8, u8, bool)], nacl_changes: bool) -> (Snapshot, Vec<Event>) {
    let mut state = base();
    let mut events = Vec::new();
    let mut added: Vec<(String, bool, SgRule)> = Vec::new();
    for &(kind, a, b, egress) in ops {
        let group = ["sg-web", "sg-app", "sg-db"][usize::from(b % 3)].to_string();
        let change = match kind % 8 {
            0..=3 => {
                let r = rule(kind + b, a);
                if added
                    .iter()
                    .any(|(g, e, x)| *g == group && *e == egress && *x == r)
                {
                    continue;
                }
                added.push((group.clone(), egress, r.clone()));
                Change::Authorize {
                    group_id: group,
                    egress,
                    rules: vec![(r, None)],
                }
            }
            4..=6 if !added.is_empty() => {
                let (group, egress, r) = added.remove(usize::from(a) % added.len());
                Change::Revoke {
                    group_id: group,
                    egress,
                    rules: Some(vec![r.clone()]),
                    requested: vec![r],
                    rule_ids: vec![],
                }
            }
            7 if nacl_changes => Change::NaclEntry {
                op: Op::Create,
                acl_id: "acl-default".into(),
                rule_number: 1_000 + events.len() as i64,
                egress,
                entry: Some(NetworkAclEntry {
                    cidr_block: Some(format!("192.0.2.{}/32", a % 6)),
                    egress,
                    protocol: "6".into(),
                    rule_action: "deny".into(),
                    rule_number: 1_000 + events.len() as i64,
                    ..NetworkAclEntry::default()
                }),
            },
            _ => continue,
        };
        let e = event(events.len(), change);
        // Some authorized rules are already in the snapshot: those are not changes.
        if history::apply(&mut state, &e).is_err() {
            if let Change::Authorize { .. } = e.change {
                added.pop();
            }
            continue;
        }
        events.push(e);
    }
    (state, events)
}

/// Records at each ENI, in and out, from the peers the rules above name.
fn records() -> Vec<vpcreach::flow_log::FlowRecord> {
    let mut lines = Vec::new();
    let enis = [
        ("eni-web", "10.0.1.10"),
        ("eni-app", "10.0.2.20"),
        ("eni-db", "10.0.3.30"),
    ];
    let peers = [
        "192.0.2.1",
        "192.0.2.5",
        "10.0.1.10",
        "10.0.2.20",
        "198.51.100.7",
    ];
    for (id, addr) in enis {
        for (p, peer) in peers.iter().enumerate() {
            for port in [0u16, 100, 320, 443] {
                for out in [false, true] {
                    let (src, dst) = if out { (addr, *peer) } else { (*peer, addr) };
                    let n = lines.len();
                    lines.push(format!(
                        "2 111122223333 {id} {src} {dst} {} {port} 6 1 40 {T0} {} {} OK",
                        40_000 + n,
                        T0 + 30,
                        if p % 2 == 0 { "ACCEPT" } else { "REJECT" }
                    ));
                }
            }
        }
    }
    let chunk = vpcreach::flow_log::Chunk::new(
        "t.log",
        lines.join("\n").into_bytes(),
        vpcreach::flow_log::Format::default(),
    );
    vpcreach::flow_log::parse_chunk(&chunk).records
}

/// The model of each epoch the timeline gives, asked for in the order `order` says, against a
/// full build of the configuration at that time. Returns how many of the timeline's models
/// share their base with the snapshot's (were made by compiling groups anew).
fn models_agree(
    state: &Snapshot,
    events: &[Event],
    order: &[usize],
) -> Result<usize, TestCaseError> {
    let snapshot_time = T0 + events.len() as i64 * 60 + 3_600;
    let timeline = Timeline::new(state.clone(), snapshot_time, events.to_vec());
    let file: Arc<std::path::Path> = std::path::Path::new("t.log").into();
    let records = records();
    let mut shared = 0;
    for &o in order {
        let k = o % (events.len() + 1);
        let t = events.get(k).map_or(snapshot_time - 1, |e| e.time - 1);
        prop_assert_eq!(timeline.epoch_of(t), k);
        let got = if k == events.len() {
            Arc::new(timeline.current().clone())
        } else {
            timeline.network_at_epoch(k)
        };
        shared += usize::from(got.shares_base(timeline.current()));
        let mut full = Network::build(&history::at(state, events, snapshot_time, t).snapshot);
        full.snapshot_time = Some(snapshot_time);
        prop_assert_eq!(got.groups.len(), full.groups.len());
        for (a, b) in got.groups.iter().zip(&full.groups) {
            prop_assert_eq!(format!("{a:?}"), format!("{b:?}"), "epoch {}", k);
        }
        let (x, y) = (Explainer::new(&got), Explainer::new(&full));
        for r in &records {
            let (a, b) = (x.explain(&file, r, None), y.explain(&file, r, None));
            prop_assert_eq!(a.to_json(&got), b.to_json(&full), "epoch {}", k);
        }
    }
    Ok(shared)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Only rule changes: every earlier model is made from the snapshot's (or from one made
    /// so) and is the full build's.
    #[test]
    fn models_made_by_compiling_groups_anew_are_the_full_builds(
        ops in proptest::collection::vec((0u8..8, 0u8..40, 0u8..12, any::<bool>()), 1..30),
        order in proptest::collection::vec(0usize..64, 1..20),
    ) {
        let (state, events) = history(&ops, false);
        prop_assume!(!events.is_empty());
        let shared = models_agree(&state, &events, &order)?;
        // None is built: each shares the snapshot's base.
        prop_assert_eq!(shared, order.len());
    }

    /// Rule changes with NACL entries created among them: a model across a NACL change is
    /// built, one between NACL changes is made from a kept model, and each is the full build's.
    #[test]
    fn models_across_other_changes_are_still_the_full_builds(
        ops in proptest::collection::vec((0u8..8, 0u8..40, 0u8..12, any::<bool>()), 1..30),
        order in proptest::collection::vec(0usize..64, 1..20),
    ) {
        let (state, events) = history(&ops, true);
        prop_assume!(!events.is_empty());
        models_agree(&state, &events, &order)?;
    }
}

/// A history of rule changes only: the earlier models are made from the snapshot's (they share
/// its base), and one that a NACL change lies between is built (it does not).
#[test]
fn a_nacl_change_between_makes_a_model_built_not_made() {
    let ops = [
        (0, 1, 0, false),
        (7, 2, 0, false),
        (1, 3, 1, false),
        (0, 5, 2, true),
    ];
    let (state, events) = history(&ops, true);
    assert_eq!(events.len(), 4, "{events:?}");
    assert!(matches!(events[1].change, Change::NaclEntry { .. }));
    let timeline = Timeline::new(state.clone(), T0 + 3_600 * 2, events.clone());
    assert!(timeline.network_at_epoch(3).shares_base(timeline.current()));
    assert!(timeline.network_at_epoch(2).shares_base(timeline.current()));
    // Across the NACL change (event 1): built.
    let one = timeline.network_at_epoch(1);
    assert!(!one.shares_base(timeline.current()));
    // Made from that one (only event 0, a rule change, lies between).
    assert!(timeline.network_at_epoch(0).shares_base(&one));
}
