//! Findings held compressed while an audit runs.
//!
//! An organization's audit keeps one finding per cause (hundreds of thousands at 100,000 ENIs)
//! beside the model until the model can be dropped. Held as [`Finding`]s they took more memory
//! than the model (about 1.7 KB each, most of it the words of the message and the rules). Here
//! each is held as its JSON compressed with zstd against a dictionary made of the first
//! findings held (findings are alike: the same words, rules, groups and NACL entries recur), a
//! few hundred bytes, and its ENIs as numbers; the findings are made whole again
//! ([`PackedFindings::unpack`]) once the model is gone.

use super::analysis::{order_of, sort};
use super::finding::{Finding, FindingStatus, Witness};
use crate::policy::Severity;
use crate::snapshot::Short;
use std::collections::HashMap;
use std::sync::Arc;

/// Findings held as they are (uncompressed) before the dictionary is made of them.
const SAMPLES: usize = 64;
/// The largest dictionary, in bytes.
const DICT_MAX: usize = 64 << 10;
/// The zstd level (fast: findings are packed under the lock all workers share).
const LEVEL: i32 = 3;

/// A packed finding's first byte: its JSON as it is.
const RAW: u8 = 0;
/// A packed finding's first byte: its JSON's length (4 bytes, little-endian), then the JSON
/// compressed with the dictionary.
const ZSTD: u8 = 1;

/// Packs findings: the first [`SAMPLES`] as they are, then (their JSON being the dictionary)
/// compressed.
#[derive(Default)]
pub(crate) struct Packer {
    samples: Vec<u8>,
    seen: usize,
    dict: Option<Arc<[u8]>>,
    compressor: Option<zstd::bulk::Compressor<'static>>,
    /// The dictionary could not be loaded: everything stays as it is.
    failed: bool,
}

impl std::fmt::Debug for Packer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Packer")
            .field("seen", &self.seen)
            .field("dict", &self.dict.as_ref().map(|d| d.len()))
            .field("failed", &self.failed)
            .finish()
    }
}

impl Packer {
    /// The finding as bytes [`Unpacker::unpack`] reads back (with this packer's dictionary).
    pub(crate) fn pack(&mut self, f: &Finding) -> Box<[u8]> {
        // A finding is strings, numbers and enums: serializing it cannot fail; if it did, the
        // empty result reads back as a finding that says so (never silently dropped).
        let json = serde_json::to_vec(f).unwrap_or_default();
        if self.compressor.is_none() && !self.failed {
            if self.seen < SAMPLES {
                self.seen += 1;
                let room = DICT_MAX.saturating_sub(self.samples.len());
                self.samples
                    .extend_from_slice(json.get(..room.min(json.len())).unwrap_or_default());
                return raw(&json);
            }
            let dict: Arc<[u8]> = std::mem::take(&mut self.samples).into();
            match zstd::bulk::Compressor::with_dictionary(LEVEL, &dict) {
                Ok(c) => {
                    self.compressor = Some(c);
                    self.dict = Some(dict);
                }
                Err(_) => self.failed = true,
            }
        }
        let (Some(c), Ok(len)) = (self.compressor.as_mut(), u32::try_from(json.len())) else {
            return raw(&json);
        };
        match c.compress(&json) {
            Ok(z) if z.len() + 4 < json.len() => {
                let mut out = Vec::with_capacity(5 + z.len());
                out.push(ZSTD);
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(&z);
                out.into_boxed_slice()
            }
            _ => raw(&json),
        }
    }

    /// The dictionary the packed findings need to be read back.
    pub(crate) fn dictionary(&self) -> Option<Arc<[u8]>> {
        self.dict.clone()
    }
}

fn raw(json: &[u8]) -> Box<[u8]> {
    let mut out = Vec::with_capacity(1 + json.len());
    out.push(RAW);
    out.extend_from_slice(json);
    out.into_boxed_slice()
}

/// Reads packed findings back.
pub(crate) struct Unpacker {
    decompressor: Option<zstd::bulk::Decompressor<'static>>,
    error: Option<String>,
}

impl Unpacker {
    pub(crate) fn new(dict: Option<&[u8]>) -> Unpacker {
        match dict.map(zstd::bulk::Decompressor::with_dictionary) {
            Some(Ok(d)) => Unpacker {
                decompressor: Some(d),
                error: None,
            },
            Some(Err(e)) => Unpacker {
                decompressor: None,
                error: Some(e.to_string()),
            },
            None => Unpacker {
                decompressor: None,
                error: None,
            },
        }
    }

    /// The finding packed in `blob`. A blob that cannot be read (a bug: nothing outside the
    /// process writes them) gives an `unknown` finding saying so, so that nothing is lost
    /// silently.
    pub(crate) fn unpack(&mut self, blob: &[u8]) -> Finding {
        self.try_unpack(blob).unwrap_or_else(|why| Finding {
            message: format!(
                "vpcreach could not read back a finding it held during the audit ({why}): this is a bug, please report it"
            ),
            ..Finding::default()
        })
    }

    fn try_unpack(&mut self, blob: &[u8]) -> Result<Finding, String> {
        match blob.split_first() {
            Some((&RAW, json)) => serde_json::from_slice(json).map_err(|e| e.to_string()),
            Some((&ZSTD, rest)) => {
                let (len, z) = rest
                    .split_first_chunk::<4>()
                    .ok_or("a packed finding is cut short")?;
                let len = usize::try_from(u32::from_le_bytes(*len)).unwrap_or(usize::MAX);
                let d = self.decompressor.as_mut().ok_or_else(|| {
                    self.error
                        .clone()
                        .unwrap_or_else(|| "no dictionary".to_string())
                })?;
                let json = d.decompress(z, len).map_err(|e| e.to_string())?;
                serde_json::from_slice(&json).map_err(|e| e.to_string())
            }
            _ => Err("an empty packed finding".into()),
        }
    }
}

/// A witness in a few bytes: each of its strings after its length (4 bytes, little-endian),
/// then the port (0: none; else 1 and 2 bytes).
pub(crate) fn pack_witness(w: &Witness) -> Box<[u8]> {
    let mut out = Vec::with_capacity(12 + w.src.len() + w.dst.len() + w.protocol.len() + 3);
    for s in [&w.src, &w.dst, &w.protocol] {
        let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(s.as_bytes().get(..len as usize).unwrap_or_default());
    }
    match w.port {
        Some(p) => {
            out.push(1);
            out.extend_from_slice(&p.to_le_bytes());
        }
        None => out.push(0),
    }
    out.into_boxed_slice()
}

/// The witness [`pack_witness`] packed.
pub(crate) fn unpack_witness(mut b: &[u8]) -> Witness {
    let mut text = || {
        let (len, rest) = b.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
        let (s, rest) = rest.split_at_checked(len)?;
        b = rest;
        Some(String::from_utf8_lossy(s).into_owned())
    };
    let src = text().unwrap_or_default();
    let dst = text().unwrap_or_default();
    let protocol = text().unwrap_or_default();
    let port = match b {
        [1, lo, hi, ..] => Some(u16::from_le_bytes([*lo, *hi])),
        _ => None,
    };
    Witness {
        src,
        dst,
        protocol,
        port,
    }
}

/// Names held once, each known by its number (ENI ids, check ids).
#[derive(Debug, Default, Clone)]
pub(crate) struct Names {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Names {
    pub(crate) fn number(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }

    /// The names alone (the index is for numbering, not needed once all are numbered).
    pub(crate) fn into_list(self) -> Arc<[String]> {
        self.names.into()
    }
}

/// One packed finding and what its group adds to it when it is made whole.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The finding (without its ENIs and resources; without its witness when grouped by
    /// cause).
    pub(crate) blob: Box<[u8]>,
    /// Its check, by number.
    pub(crate) check: u32,
    /// Its severity.
    pub(crate) severity: Severity,
    /// Its status.
    pub(crate) status: FindingStatus,
    /// Its resources (kept out of `blob`: they order the findings).
    pub(crate) resources: Box<[Short]>,
    /// A cause's group (its ENIs, witness and witnesses are the group's).
    pub(crate) by_cause: bool,
    /// Its ENIs, by number, in order.
    pub(crate) enis: Box<[u32]>,
    /// Grouped: the witnesses, packed ([`pack_witness`]), one per shape in order.
    pub(crate) witnesses: Box<[Box<[u8]>]>,
    /// Grouped: whether the first of `witnesses` is the finding's witness.
    pub(crate) first_is_witness: bool,
}

/// Findings grouped by cause, held packed until the report needs them ([`PackedFindings::unpack`]).
///
/// The static audit ([`crate::audit::analysis::static_audit_packed`]) leaves its grouped
/// findings here so that a caller can drop the model before they are made whole; every other
/// entry point hands out whole findings.
#[derive(Debug, Clone, Default)]
pub struct PackedFindings {
    pub(crate) entries: Vec<Entry>,
    pub(crate) checks: Arc<[String]>,
    pub(crate) enis: Arc<[String]>,
    pub(crate) dict: Option<Arc<[u8]>>,
}

impl PackedFindings {
    /// How many findings are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none are held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Each finding's check, status and ENIs, without making it whole.
    pub fn summaries(&self) -> impl Iterator<Item = (&str, FindingStatus, Vec<&str>)> + '_ {
        self.entries.iter().map(|e| {
            (
                self.checks.get(e.check as usize).map_or("", String::as_str),
                e.status,
                e.enis
                    .iter()
                    .map(|&i| self.enis.get(i as usize).map_or("", String::as_str))
                    .collect(),
            )
        })
    }

    /// The findings made whole, in the order held; a group's message says how many ENIs share
    /// its cause.
    pub fn unpack(self) -> Vec<Finding> {
        let mut whole = Whole::new(&self);
        let PackedFindings { entries, .. } = self;
        entries.into_iter().map(|e| whole.make(e)).collect()
    }

    /// `findings` and these findings, made whole one by one, in the order of sorting them all
    /// at once (stably, `findings` first): highest severity first, then check, status and
    /// resources. Nothing is held whole beyond what the caller keeps. With nothing packed,
    /// `findings` come as they are, in their order.
    pub fn merge_sorted(self, mut findings: Vec<Finding>) -> MergeSorted {
        if !self.is_empty() {
            sort(&mut findings);
        }
        let whole = Whole::new(&self);
        let PackedFindings {
            mut entries,
            checks,
            ..
        } = self;
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&entries[a], &entries[b]);
            order_of(
                (a.severity, name(&checks, a.check), a.status, &a.resources),
                (b.severity, name(&checks, b.check), b.status, &b.resources),
            )
        });
        super::analysis::permute(&mut entries, &mut order);
        MergeSorted {
            findings: findings.into_iter().peekable(),
            entries: entries.into_iter().peekable(),
            checks,
            whole,
        }
    }
}

fn name(list: &[String], i: u32) -> &str {
    list.get(i as usize).map_or("", String::as_str)
}

/// Makes packed findings whole.
struct Whole {
    unpacker: Unpacker,
    checks: Arc<[String]>,
    enis: Arc<[String]>,
}

impl Whole {
    fn new(p: &PackedFindings) -> Whole {
        Whole {
            unpacker: Unpacker::new(p.dict.as_deref()),
            checks: p.checks.clone(),
            enis: p.enis.clone(),
        }
    }

    fn make(&mut self, e: Entry) -> Finding {
        let mut f = self.unpacker.unpack(&e.blob);
        drop(e.blob);
        if f.check.is_empty() {
            // Only a blob that could not be read back has no check: name the check it was of.
            f.check = name(&self.checks, e.check).to_string();
        }
        f.severity = e.severity;
        f.status = e.status;
        f.resources = e.resources.iter().map(|r| r.to_string()).collect();
        f.enis = e
            .enis
            .iter()
            .map(|&i| self.enis.get(i as usize).cloned().unwrap_or_default())
            .collect();
        f.eni_count = f.enis.len();
        if e.by_cause {
            f.grouped = true;
            let mut shapes: Vec<Witness> = e.witnesses.iter().map(|w| unpack_witness(w)).collect();
            if shapes.len() <= 1 {
                f.witness = shapes.pop().filter(|_| e.first_is_witness);
                f.witnesses = Vec::new();
            } else {
                f.witness = shapes.first().filter(|_| e.first_is_witness).cloned();
                f.witnesses = shapes;
            }
            if f.enis.len() > 1 {
                f.message.push_str(&format!(
                    " ({} ENIs share this cause: {}{})",
                    f.enis.len(),
                    f.enis
                        .iter()
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    if f.enis.len() > 3 { ", …" } else { "" }
                ));
            }
        }
        f
    }
}

/// The findings of [`PackedFindings::merge_sorted`], in order.
pub struct MergeSorted {
    findings: std::iter::Peekable<std::vec::IntoIter<Finding>>,
    entries: std::iter::Peekable<std::vec::IntoIter<Entry>>,
    checks: Arc<[String]>,
    whole: Whole,
}

impl std::fmt::Debug for MergeSorted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MergeSorted")
            .field("findings", &self.findings.len())
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl Iterator for MergeSorted {
    type Item = Finding;

    fn next(&mut self) -> Option<Finding> {
        let packed_first = match (self.findings.peek(), self.entries.peek()) {
            (Some(f), Some(e)) => {
                order_of(
                    (
                        e.severity,
                        name(&self.checks, e.check),
                        e.status,
                        &e.resources,
                    ),
                    (
                        f.severity,
                        f.check.as_str(),
                        f.status,
                        f.resources.as_slice(),
                    ),
                ) == std::cmp::Ordering::Less
            }
            (None, Some(_)) => true,
            _ => false,
        };
        if packed_first {
            let e = self.entries.next()?;
            Some(self.whole.make(e))
        } else {
            self.findings.next()
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.findings.len() + self.entries.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for MergeSorted {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Severity;

    fn sample(i: usize) -> Finding {
        Finding {
            because: vec![
                format!("sg-{i:017x} inbound rule all from 0.0.0.0/0 allows it"),
                "subnet-1: inbound: acl-1 rule 100 (allow all from 0.0.0.0/0) allows tcp/22".into(),
            ],
            witness: (i.is_multiple_of(3)).then(|| Witness {
                src: "1.0.0.1".into(),
                dst: format!("10.0.{}.{}", i / 250, i % 250),
                protocol: "tcp".into(),
                port: Some(22),
            }),
            introduced_by: (i.is_multiple_of(7)).then(|| {
                Box::new(super::super::finding::IntroducedBy {
                    event_id: format!("ev-{i}"),
                    time: "2026-01-01T00:00:00Z".into(),
                    api: "AuthorizeSecurityGroupIngress".into(),
                    principal: Some("arn:aws:iam::1:user/\u{1b}[31mx".into()),
                    source_ip: None,
                })
            }),
            ..Finding::new(
                "internet-ssh",
                Severity::High,
                if i.is_multiple_of(2) {
                    FindingStatus::Exposed
                } else {
                    FindingStatus::Latent
                },
                vec![
                    format!("sg-{i:017x}"),
                    "inbound rule all from 0.0.0.0/0".into(),
                ],
                None,
                vec![],
                format!("internet-ssh tcp/22 is possible from 1.0.0.1 to eni-{i:017x} ü €"),
            )
        }
    }

    /// Before and after the dictionary is made: every finding reads back as it was packed, and
    /// those packed with the dictionary take fewer bytes than their JSON.
    #[test]
    fn packed_findings_read_back_as_they_were() {
        let mut p = Packer::default();
        let all: Vec<Finding> = (0..300).map(sample).collect();
        let blobs: Vec<Box<[u8]>> = all.iter().map(|f| p.pack(f)).collect();
        let dict = p.dictionary();
        assert!(dict.is_some());
        let mut un = Unpacker::new(dict.as_deref());
        for (f, b) in all.iter().zip(&blobs) {
            assert_eq!(&un.unpack(b), f);
        }
        assert_eq!(blobs[0][0], RAW);
        let late = &blobs[200];
        assert_eq!(late[0], ZSTD);
        let json = serde_json::to_vec(&all[200]).unwrap_or_default();
        assert!(
            late.len() * 2 < json.len(),
            "{} vs {}",
            late.len(),
            json.len()
        );
    }

    #[test]
    fn a_blob_that_cannot_be_read_gives_a_finding_that_says_so() {
        let mut un = Unpacker::new(None);
        let f = un.unpack(&[ZSTD, 1, 0, 0, 0, 9]);
        assert_eq!(f.status, FindingStatus::Unknown);
        assert!(f.message.contains("could not read back"), "{}", f.message);
        assert!(un.unpack(&[]).message.contains("empty"));
    }

    #[test]
    fn witnesses_read_back_as_they_were() {
        for w in [
            Witness {
                src: "2001:db8::1".into(),
                dst: "eni-1 (web \u{1b}[0m)".into(),
                protocol: "icmpv6".into(),
                port: None,
            },
            Witness {
                src: String::new(),
                dst: "10.0.0.1".into(),
                protocol: "tcp".into(),
                port: Some(65535),
            },
        ] {
            assert_eq!(unpack_witness(&pack_witness(&w)), w);
        }
    }

    fn arbitrary(sev: u8, check: u8, status: bool, res: u8, eni: u8, cause: bool) -> Finding {
        let severity = [Severity::Low, Severity::Medium, Severity::High][usize::from(sev % 3)];
        let status = if status {
            FindingStatus::Exposed
        } else {
            FindingStatus::Latent
        };
        let resources = vec![format!("sg-{}", res % 4), format!("rule {}", res / 4 % 3)];
        Finding {
            enis: vec![format!("eni-{eni}")],
            cause: if cause { resources.clone() } else { vec![] },
            ..Finding::new(
                &format!("check-{}", check % 3),
                severity,
                status,
                resources,
                None,
                vec![],
                format!("on eni-{eni}"),
            )
        }
    }

    proptest::proptest! {
        /// Findings held packed and merged with others come in the order of sorting them all
        /// at once, stably, the others first: what the audit gave before it held any packed.
        #[test]
        fn merged_findings_come_in_the_order_of_one_sort(
            plain in proptest::collection::vec((0u8..3, 0u8..3, proptest::bool::ANY, 0u8..12), 0..30),
            grouped in proptest::collection::vec((0u8..3, 0u8..3, proptest::bool::ANY, 0u8..12, 0u8..20, proptest::bool::ANY), 0..150),
        ) {
            // As the audit hands them over: sorted.
            let mut plain: Vec<Finding> = plain
                .into_iter()
                .map(|(s, c, st, r)| arbitrary(s, c, st, r, 0, false))
                .collect();
            sort(&mut plain);
            let mut g = super::super::finding::Grouper::default();
            let mut again = super::super::finding::Grouper::default();
            for &(s, c, st, r, e, cause) in &grouped {
                g.add(arbitrary(s, c, st, r, e, cause));
                again.add(arbitrary(s, c, st, r, e, cause));
            }
            let mut want = plain.clone();
            want.extend(again.finish());
            sort(&mut want);
            let got: Vec<Finding> = g.finish_packed().merge_sorted(plain).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
