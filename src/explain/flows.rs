//! Request or response: the evidence that the records of one flow (the same ENI, the 5-tuple
//! and its reverse) give each other within the records in view, and the port heuristics used
//! when they give none.

use super::*;

/// Well-known service ports above 1023, for telling requests from responses by ports alone.
const SERVICE_PORTS: &[u16] = &[
    1433, 1521, 2049, 2379, 3000, 3306, 3389, 5000, 5432, 5601, 5672, 5984, 6379, 6443, 7000, 7001,
    8000, 8080, 8081, 8088, 8443, 8888, 9000, 9042, 9090, 9092, 9200, 9300, 9443, 10250, 11211,
    15672, 27017,
];

fn is_service_port(p: u16) -> bool {
    p < 1024 || SERVICE_PORTS.contains(&p)
}

pub(crate) fn role_from_flags(flags: u16) -> Option<Role> {
    // AWS reports SYN-ACK as 18 (ACK alone is never reported), OR-ed with FIN/RST/SYN.
    if flags & 0x12 == 0x12 {
        Some(Role::Response)
    } else if flags & 0x02 != 0 {
        Some(Role::Request)
    } else {
        None
    }
}

/// How a record names its ENI, resolved against the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Iface {
    /// No `interface-id`: the ENI is found by address.
    Absent,
    /// An `interface-id` the snapshot does not have.
    Unknown,
    /// An ENI of the snapshot (index into [`Network::enis`](crate::NetworkBase::enis)).
    Eni(u32),
}

/// What explaining reads of a record, its ENI resolved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    pub(crate) iface: Iface,
    pub(crate) srcaddr: Option<IpAddr>,
    pub(crate) dstaddr: Option<IpAddr>,
    pub(crate) srcport: Option<u16>,
    pub(crate) dstport: Option<u16>,
    pub(crate) protocol: Option<u8>,
    pub(crate) action: Option<Action>,
    pub(crate) log_status: Option<LogStatus>,
    pub(crate) start: Option<u64>,
    pub(crate) end: Option<u64>,
    pub(crate) tcp_flags: Option<u16>,
    pub(crate) flow_direction: Option<FlowDirection>,
    pub(crate) pkt_srcaddr: Option<IpAddr>,
    pub(crate) pkt_dstaddr: Option<IpAddr>,
    /// `reject-reason` is `BPA`: VPC Block Public Access rejected it.
    pub(crate) reject_bpa: bool,
}

impl Facts {
    fn has_flow_data(&self) -> bool {
        !matches!(
            self.log_status,
            Some(LogStatus::NoData) | Some(LogStatus::SkipData)
        )
    }

    /// Whether the record says something about a flow at a known interface (NODATA and
    /// SKIPDATA records and records of interfaces the snapshot lacks do not).
    fn is_flow(&self) -> bool {
        self.has_flow_data() && self.iface != Iface::Unknown
    }
}

/// A flow at an ENI: records of the same flow in both directions help each other tell request
/// from response. Hashed by a few packed words rather than field by field: every record of a
/// chunk is indexed by its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlowKey {
    iface: Iface,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    sport: Option<u16>,
    dport: Option<u16>,
    proto: Option<u8>,
}

impl std::hash::Hash for FlowKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        fn fold(a: Option<IpAddr>) -> u64 {
            match a {
                None => u64::MAX,
                Some(IpAddr::V4(a)) => u64::from(u32::from(a)),
                Some(IpAddr::V6(a)) => {
                    let x = u128::from(a);
                    (x as u64) ^ ((x >> 64) as u64).rotate_left(17) ^ (1 << 63)
                }
            }
        }
        let iface = match self.iface {
            Iface::Absent => 1 << 32,
            Iface::Unknown => 2 << 32,
            Iface::Eni(i) => u64::from(i),
        };
        let port = |p: Option<u16>| p.map_or(1 << 16, u64::from);
        h.write_u64(fold(self.src) ^ fold(self.dst).rotate_left(32));
        h.write_u64(
            iface
                ^ (port(self.sport) << 17)
                ^ (port(self.dport) << 34)
                ^ (self.proto.map_or(1 << 8, u64::from) << 51),
        );
    }
}

pub(crate) fn key_of(r: &Facts) -> FlowKey {
    FlowKey {
        iface: r.iface,
        src: r.srcaddr,
        dst: r.dstaddr,
        sport: r.srcport,
        dport: r.dstport,
        proto: r.protocol,
    }
}

pub(crate) fn opposite_key(r: &Facts) -> FlowKey {
    FlowKey {
        iface: r.iface,
        src: r.dstaddr,
        dst: r.srcaddr,
        sport: r.dstport,
        dport: r.srcport,
        proto: r.protocol,
    }
}

/// What the records in view (a chunk and the lines around it) say about each direction of each
/// flow at an ENI: when it was first seen and what its `tcp-flags` say. The role (request or
/// response) belongs to the connection, not to one record: after the first aggregation window
/// either direction may send first, and only the first window carries SYN or SYN-ACK, so a
/// record is judged by its flow's first record and by the flags of any record of its flow.
#[derive(Debug, Default)]
pub(crate) struct Flows {
    seen: FxHashMap<FlowKey, Side>,
    /// Whether any record noted carries flags that say a role.
    any_flags: bool,
}

/// One direction of a flow, as [`Flows`] keeps it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Side {
    /// The earliest `start` of its records, in seconds (Unix time up to 2106; `u32::MAX`:
    /// none). Kept small, as every record of a chunk is noted in a table.
    first: u32,
    /// The role the `tcp-flags` of its records say (the first record that says one).
    flags: Option<Role>,
}

impl Default for Side {
    fn default() -> Self {
        Side {
            first: u32::MAX,
            flags: None,
        }
    }
}

impl Side {
    fn first(&self) -> Option<u32> {
        (self.first != u32::MAX).then_some(self.first)
    }
}

/// The role of a record and the evidence for it, strongest first: its own `tcp-flags`, the
/// flags of the opposite direction's records, the flags of its own direction's other records,
/// which direction was first seen, and last the ports.
pub(crate) fn role_of(r: &Facts, pairing: Option<Pairing>) -> (Role, &'static str) {
    if let Some(role) = r.tcp_flags.and_then(role_from_flags) {
        (role, "tcp-flags")
    } else if let Some(p) = pairing {
        let opposite = p.opposite.unwrap_or_default();
        match (opposite.flags, p.own.flags, p.own.first(), opposite.first()) {
            (Some(Role::Request), _, _, _) => {
                (Role::Response, "tcp-flags of the opposite direction")
            }
            (Some(Role::Response), _, _, _) => {
                (Role::Request, "tcp-flags of the opposite direction")
            }
            (None, Some(role), _, _) => (role, "tcp-flags of this direction's other records"),
            (None, None, Some(a), Some(b)) if a < b => {
                (Role::Request, "first seen before the opposite direction")
            }
            (None, None, Some(a), Some(b)) if a > b => {
                (Role::Response, "first seen after the opposite direction")
            }
            _ => role_by_ports(r),
        }
    } else {
        role_by_ports(r)
    }
}

/// What the records of a record's flow say: its own direction's and, when seen, the opposite
/// direction's [`Side`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pairing {
    pub(crate) own: Side,
    pub(crate) opposite: Option<Side>,
}

impl Flows {
    pub(crate) fn clear(&mut self) {
        self.seen.clear();
        self.any_flags = false;
    }

    /// Notes a record. NODATA and SKIPDATA records and records of interfaces the snapshot
    /// lacks say nothing about any flow.
    #[inline]
    pub(crate) fn add(&mut self, f: &Facts) {
        if !f.is_flow() {
            return;
        }
        let seen = self.seen.entry(key_of(f)).or_default();
        if let Some(start) = f.start {
            // Later than 2106: as late as can be told.
            let start = u32::try_from(start).unwrap_or(u32::MAX - 1);
            seen.first = seen.first.min(start);
        }
        if seen.flags.is_none() {
            seen.flags = f.tcp_flags.and_then(role_from_flags);
            self.any_flags |= seen.flags.is_some();
        }
    }

    /// What the records in view say about `f`'s flow (`f` among them), when they say more
    /// than `f` alone: the opposite direction was seen, or other records of `f`'s direction
    /// carry flags.
    pub(crate) fn pairing(&self, f: &Facts) -> Option<Pairing> {
        if self.seen.is_empty() || !f.is_flow() {
            return None;
        }
        let opposite = self.seen.get(&opposite_key(f)).copied();
        if opposite.is_none() && !self.any_flags {
            return None;
        }
        let own = self.seen.get(&key_of(f)).copied().unwrap_or_default();
        (opposite.is_some() || own.flags.is_some()).then_some(Pairing { own, opposite })
    }
}

pub(crate) fn role_by_ports(r: &Facts) -> (Role, &'static str) {
    match (r.srcport, r.dstport) {
        (Some(s), Some(d)) if is_service_port(d) && !is_service_port(s) => {
            (Role::Request, "destination port is a service port")
        }
        (Some(s), Some(d)) if is_service_port(s) && !is_service_port(d) => {
            (Role::Response, "source port is a service port")
        }
        (Some(s), Some(d)) if d < s => (Role::Request, "lower destination port (weak)"),
        (Some(s), Some(d)) if s < d => (Role::Response, "lower source port (weak)"),
        _ => (Role::Request, "assumed (no evidence)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(iface: u32, a: u8, b: u8, start: Option<u64>, flags: Option<u16>, ok: bool) -> Facts {
        let addr = |x: u8| Some(IpAddr::from([10, 0, 0, x]));
        Facts {
            iface: match iface {
                0 => Iface::Unknown,
                1 => Iface::Absent,
                i => Iface::Eni(i),
            },
            srcaddr: addr(a),
            dstaddr: addr(b),
            srcport: Some(u16::from(a) + 1000),
            dstport: Some(u16::from(b) + 1000),
            protocol: Some(6),
            action: Some(Action::Accept),
            log_status: Some(if ok { LogStatus::Ok } else { LogStatus::NoData }),
            start,
            end: start.map(|s| s + 60),
            tcp_flags: flags,
            flow_direction: None,
            pkt_srcaddr: None,
            pkt_dstaddr: None,
            reject_bpa: false,
        }
    }

    /// What a plain search of every record says about one direction of a flow.
    fn seen_plainly(all: &[Facts], key: FlowKey) -> Option<Side> {
        let of: Vec<&Facts> = all
            .iter()
            .filter(|o| o.is_flow() && key_of(o) == key)
            .collect();
        (!of.is_empty()).then(|| Side {
            first: of
                .iter()
                .filter_map(|o| o.start)
                .min()
                .map_or(u32::MAX, |s| u32::try_from(s).unwrap_or(u32::MAX - 1)),
            flags: of
                .iter()
                .find_map(|o| o.tcp_flags.and_then(role_from_flags)),
        })
    }

    proptest! {
        /// [`Flows::pairing`] says what a plain search of every record says: per direction of
        /// the flow, the earliest start and the first role its flags give; nothing for a
        /// record that is no flow, or when nothing but the record itself speaks.
        #[test]
        fn pairings_say_what_every_record_of_the_flow_says(
            rows in proptest::collection::vec(
                (0u32..4, 1u8..4, 1u8..4, proptest::option::weighted(0.9, 0u64..30),
                 proptest::option::of(prop_oneof![Just(0u16), Just(2), Just(18), Just(1), Just(19)]),
                 proptest::bool::weighted(0.9)),
                0..40,
            )
        ) {
            let all: Vec<Facts> = rows
                .iter()
                .map(|&(i, a, b, start, flags, ok)| facts(i, a, b, start, flags, ok))
                .collect();
            let mut flows = Flows::default();
            for f in &all {
                flows.add(f);
            }
            for f in &all {
                let got = flows.pairing(f).map(|p| {
                    (p.own.first, p.own.flags, p.opposite.map(|o| (o.first, o.flags)))
                });
                let want = if f.is_flow() {
                    let own = seen_plainly(&all, key_of(f)).unwrap_or_default();
                    let opposite = seen_plainly(&all, opposite_key(f));
                    (opposite.is_some() || own.flags.is_some()).then(|| {
                        (own.first, own.flags, opposite.map(|o| (o.first, o.flags)))
                    })
                } else {
                    None
                };
                prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn roles_from_tcp_flags() {
        assert_eq!(role_from_flags(2), Some(Role::Request));
        assert_eq!(role_from_flags(3), Some(Role::Request));
        assert_eq!(role_from_flags(18), Some(Role::Response));
        assert_eq!(role_from_flags(19), Some(Role::Response));
        assert_eq!(role_from_flags(1), None);
        assert_eq!(role_from_flags(4), None);
    }
}
