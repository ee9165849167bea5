//! The traffic a statement is about, as written in policy files: `tcp/22`, `udp/53`,
//! `tcp/1024-65535`, `tcp` (every TCP port), `icmp`, `icmpv6`, `all`, or a protocol number.

use super::Traffic;
use crate::protocol::{PortRange, Protocol};
use std::fmt;

/// Why a traffic string could not be read: the message and, where a fix is obvious, a help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficError {
    /// What was wrong and what was expected.
    pub message: String,
    /// A "did you mean".
    pub help: Option<String>,
}

const PROTOCOLS: &[&str] = &["tcp", "udp", "icmp", "icmpv6", "all"];

impl std::str::FromStr for Traffic {
    type Err = TrafficError;

    /// ```
    /// use vpcreach::policy::Traffic;
    /// let t: Traffic = "tcp/1024-65535".parse().unwrap();
    /// assert_eq!((t.ports.from, t.ports.to), (1024, 65535));
    /// assert_eq!(t.to_string(), "tcp/1024-65535");
    /// assert!("tcp/70000".parse::<Traffic>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Traffic, TrafficError> {
        let shown = crate::render::sanitize(text);
        let fail = |message: String, help: Option<String>| TrafficError { message, help };
        let (proto_text, ports_text) = match text.split_once('/') {
            Some((p, ports)) => (p, Some(ports)),
            None => (text, None),
        };
        let protocol: Protocol = match proto_text.trim().parse() {
            Ok(p) => p,
            Err(_) => {
                let known =
                    super::text::closest(&proto_text.trim().to_ascii_lowercase(), PROTOCOLS);
                let help = known.map(|k| match ports_text {
                    Some(ports) => {
                        format!("did you mean `{k}/{}`?", crate::render::sanitize(ports))
                    }
                    None => format!("did you mean `{k}`?"),
                });
                return Err(fail(
                    format!(
                        "`{shown}` is not a protocol: expected `tcp/PORT`, `udp/PORT`, `tcp/FROM-TO`, `icmp`, `icmpv6`, `all` or a protocol number"
                    ),
                    help,
                ));
            }
        };
        let Some(ports_text) = ports_text else {
            return Ok(Traffic {
                protocol,
                ports: PortRange::ALL,
            });
        };
        if !protocol.has_ports() {
            return Err(fail(
                format!("`{shown}`: `{protocol}` has no ports"),
                Some(format!("did you mean `{protocol}`?")),
            ));
        }
        let port = |p: &str| -> Result<u16, TrafficError> {
            p.trim().parse::<u16>().map_err(|_| {
                fail(
                    format!(
                        "`{shown}`: `{}` is not a port: expected a number from 0 to 65535",
                        crate::render::sanitize(p)
                    ),
                    None,
                )
            })
        };
        // `tcp/-1` is one port that is not a number, not a range from nothing.
        let range = ports_text
            .split_once('-')
            .filter(|(a, _)| !a.trim().is_empty());
        let ports = match range {
            Some((a, b)) => {
                let (from, to) = (port(a)?, port(b)?);
                if from > to {
                    return Err(fail(
                        format!("`{shown}`: the port range is reversed"),
                        Some(format!("did you mean `{protocol}/{to}-{from}`?")),
                    ));
                }
                PortRange { from, to }
            }
            None => PortRange::single(port(ports_text)?),
        };
        Ok(Traffic { protocol, ports })
    }
}

impl fmt::Display for Traffic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.protocol.has_ports() || self.ports == PortRange::ALL {
            return write!(f, "{}", self.protocol);
        }
        if self.ports.from == self.ports.to {
            write!(f, "{}/{}", self.protocol, self.ports.from)
        } else {
            write!(f, "{}/{}-{}", self.protocol, self.ports.from, self.ports.to)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ICMP, TCP, UDP};

    fn t(s: &str) -> Traffic {
        match s.parse() {
            Ok(t) => t,
            Err(e) => panic!("{s}: {e:?}"),
        }
    }

    #[test]
    fn ports_and_ranges() {
        assert_eq!(t("tcp/22").protocol, Protocol::Number(TCP));
        assert_eq!(t("tcp/22").ports, PortRange::single(22));
        assert_eq!(t("udp/53").protocol, Protocol::Number(UDP));
        assert_eq!(
            t("tcp/1024-65535").ports,
            PortRange {
                from: 1024,
                to: 65535
            }
        );
        assert_eq!(t("tcp").ports, PortRange::ALL);
    }

    #[test]
    fn protocols_without_ports() {
        assert_eq!(t("icmp").protocol, Protocol::Number(ICMP));
        assert_eq!(t("all").protocol, Protocol::All);
        assert_eq!(t("47").protocol, Protocol::Number(47));
        assert_eq!(t("icmpv6").to_string(), "icmpv6");
    }

    #[test]
    fn round_trips() {
        for s in [
            "tcp/22",
            "udp/53",
            "tcp/1024-65535",
            "icmp",
            "all",
            "tcp",
            "udp/0-10",
        ] {
            assert_eq!(t(s).to_string(), s);
        }
    }

    #[test]
    fn mistakes_say_what_was_expected() {
        let e = "tpc/22".parse::<Traffic>().err();
        assert_eq!(
            e.as_ref().and_then(|e| e.help.clone()).as_deref(),
            Some("did you mean `tcp/22`?")
        );
        let e = "tcp/80-22".parse::<Traffic>().err();
        assert_eq!(
            e.and_then(|e| e.help).as_deref(),
            Some("did you mean `tcp/22-80`?")
        );
        let e = "tcp/70000".parse::<Traffic>().err();
        assert_eq!(
            e.map(|e| e.message).as_deref(),
            Some("`tcp/70000`: `70000` is not a port: expected a number from 0 to 65535")
        );
        let e = "icmp/8".parse::<Traffic>().err();
        assert_eq!(
            e.map(|e| e.message).as_deref(),
            Some("`icmp/8`: `icmp` has no ports")
        );
    }
}
