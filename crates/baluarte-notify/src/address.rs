//! The webhook address policy: which IP addresses a webhook may be sent to.
//!
//! A webhook URL is chosen by an entity's officer, so without a rule the platform could be made to POST to
//! whatever it alone can reach (server-side request forgery): a cloud metadata service at 169.254.169.254, a
//! database on loopback, a host on the private network. Every address in a special-purpose range (loopback,
//! link-local, private and unique-local, shared CGNAT space, documentation and benchmarking, multicast,
//! broadcast, unspecified, reserved; IPv4-mapped IPv6 and the NAT64 and 6to4 forms of those) is refused
//! ([`internal_range`]), unless the operator allows its network ([`AddressPolicy::allowing`], the
//! configuration's `[webhooks] allow_networks`).
//!
//! This module is pure: it judges addresses. The webhook client ([`crate::webhook::client`]) applies it to the
//! address it is about to connect to, after resolving the name, so that no second lookup can swap it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub use ipnet::IpNet;

/// A special-purpose IPv4 range: network, prefix length, name.
type V4Range = (u32, u8, &'static str);
/// A special-purpose IPv6 range: network, prefix length, name.
type V6Range = (u128, u8, &'static str);

/// IPv4 special-purpose ranges (RFC 6890 and the IANA registry). The first match names the address, so
/// broadcast comes before the reserved block that holds it.
const V4_RANGES: &[V4Range] = &[
    (0x0000_0000, 8, "unspecified"),           // 0.0.0.0/8, "this network"
    (0x0a00_0000, 8, "private"),               // 10.0.0.0/8
    (0x6440_0000, 10, "shared"),               // 100.64.0.0/10, carrier-grade NAT
    (0x7f00_0000, 8, "loopback"),              // 127.0.0.0/8
    (0xa9fe_0000, 16, "link_local"),           // 169.254.0.0/16, cloud metadata services
    (0xac10_0000, 12, "private"),              // 172.16.0.0/12
    (0xc000_0000, 24, "protocol_assignments"), // 192.0.0.0/24
    (0xc000_0200, 24, "documentation"),        // 192.0.2.0/24, TEST-NET-1
    (0xc058_6300, 24, "relay_6to4"),           // 192.88.99.0/24, deprecated 6to4 relay anycast
    (0xc0a8_0000, 16, "private"),              // 192.168.0.0/16
    (0xc612_0000, 15, "benchmarking"),         // 198.18.0.0/15
    (0xc633_6400, 24, "documentation"),        // 198.51.100.0/24, TEST-NET-2
    (0xcb00_7100, 24, "documentation"),        // 203.0.113.0/24, TEST-NET-3
    (0xe000_0000, 4, "multicast"),             // 224.0.0.0/4
    (0xffff_ffff, 32, "broadcast"),            // 255.255.255.255
    (0xf000_0000, 4, "reserved"),              // 240.0.0.0/4
];

/// IPv6 special-purpose ranges. IPv4-mapped addresses (`::ffff:0:0/96`) are judged as the IPv4 address
/// they carry, and so are NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses; anything outside global
/// unicast (`2000::/3`) that is not listed is reserved.
const V6_RANGES: &[V6Range] = &[
    (0, 128, "unspecified"),                          // ::
    (1, 128, "loopback"),                             // ::1
    (0, 96, "reserved"),                              // ::/96, deprecated IPv4-compatible
    (0x0064_ff9b_0001_u128 << 80, 48, "private"),     // 64:ff9b:1::/48, local-use NAT64
    (0x0100_u128 << 112, 64, "discard"),              // 100::/64
    (0x2001_0db8_u128 << 96, 32, "documentation"),    // 2001:db8::/32
    (0x2001_0002_u128 << 96, 48, "benchmarking"),     // 2001:2::/48
    (0x2001_u128 << 112, 23, "protocol_assignments"), // 2001::/23, Teredo, ORCHID
    (0x3fff_u128 << 112, 20, "documentation"),        // 3fff::/20
    (0xfc00_u128 << 112, 7, "unique_local"),          // fc00::/7
    (0xfe80_u128 << 112, 10, "link_local"),           // fe80::/10
    (0xfec0_u128 << 112, 10, "site_local"),           // fec0::/10, deprecated
    (0xff00_u128 << 112, 8, "multicast"),             // ff00::/8
];

/// The special-purpose range `ip` belongs to (`"loopback"`, `"private"`, `"link_local"`, …), or `None` for a
/// public address a webhook may be sent to.
pub fn internal_range(ip: IpAddr) -> Option<&'static str> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => v6_range(v6),
    }
}

fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let bits = u32::from(ip);
    V4_RANGES
        .iter()
        .find(|(net, len, _)| prefix_u32(bits, *len) == *net)
        .map(|(_, _, name)| *name)
}

fn v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return v4_range(v4);
    }
    let bits = u128::from(ip);
    V6_RANGES
        .iter()
        .find(|(net, len, _)| prefix_u128(bits, *len) == *net)
        .map(|(_, _, name)| *name)
        .or_else(|| (prefix_u128(bits, 3) != 0x2000_u128 << 112).then_some("reserved"))
}

/// The IPv4 address a NAT64 (`64:ff9b::/96`) or 6to4 (`2002::/16`) address leads to.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    if prefix_u128(bits, 96) == 0x0064_ff9b_u128 << 96 {
        return Some(Ipv4Addr::from((bits & 0xffff_ffff) as u32));
    }
    if prefix_u128(bits, 16) == 0x2002_u128 << 112 {
        return Some(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32));
    }
    None
}

fn prefix_u32(bits: u32, len: u8) -> u32 {
    match len {
        0 => 0,
        len => bits & (u32::MAX << (32 - u32::from(len.min(32)))),
    }
}

fn prefix_u128(bits: u128, len: u8) -> u128 {
    match len {
        0 => 0,
        len => bits & (u128::MAX << (128 - u32::from(len.min(128)))),
    }
}

/// An address the policy refuses, and the range it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{address} is a {range} address; webhooks go only to public addresses unless [webhooks] allow_networks lists its network")]
pub struct Refused {
    pub address: IpAddr,
    /// The name of the range, as [`internal_range`] gives it.
    pub range: &'static str,
}

/// A network in the allowance that is not `address/prefix` or a single address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a network (expected e.g. 10.20.0.0/16, fd00:1::/64 or 10.20.0.5)")]
pub struct BadNetwork(pub String);

/// Which addresses webhooks may be sent to: every public address, and the internal ones inside the networks
/// an administrator allowed. The default allows no internal address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

impl AddressPolicy {
    /// Public addresses only.
    pub fn public_only() -> Self {
        Self::default()
    }

    /// Public addresses and those in `networks`, each `address/prefix` (`10.20.0.0/16`) or one address
    /// (`10.20.0.5`, the same as `/32` or `/128`).
    pub fn allowing<S: AsRef<str>>(networks: impl IntoIterator<Item = S>) -> Result<Self, BadNetwork> {
        let allowed = networks
            .into_iter()
            .map(|n| parse_network(n.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed })
    }

    /// The networks allowed beyond the public addresses.
    pub fn allowed_networks(&self) -> &[IpNet] {
        &self.allowed
    }

    /// Whether a webhook may be sent to `ip`. An IPv4-mapped IPv6 address is the IPv4 address it carries,
    /// for the allowance as for the ranges.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        let canonical = ip.to_canonical();
        let via = match canonical {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        let allowed = |a: IpAddr| self.allowed.iter().any(|net| net.contains(&a));
        if allowed(ip) || allowed(canonical) || via.is_some_and(allowed) {
            return Ok(());
        }
        match internal_range(canonical) {
            Some(range) => Err(Refused { address: ip, range }),
            None => Ok(()),
        }
    }

    /// [`Self::check`] for every address a name resolved to, as registration asks: one refused address
    /// refuses the name, since a name that mixes public and internal addresses is either a mistake to tell
    /// the person registering it or an attempt at DNS rebinding.
    pub fn check_all(&self, addresses: impl IntoIterator<Item = IpAddr>) -> Result<(), Refused> {
        addresses.into_iter().try_for_each(|ip| self.check(ip))
    }

    /// The addresses a name resolved to that may be connected to, as delivery asks: those the policy
    /// allows, in their order; when it allows none of them, the first refusal. (Dropping a refused address
    /// and connecting to the others is safe: only checked addresses are connected to. It also lets an
    /// allowance of 127.0.0.1 reach `localhost` where that name resolves to `::1` as well.)
    pub fn usable(&self, addresses: impl IntoIterator<Item = SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
        let mut refusal = None;
        let usable: Vec<SocketAddr> = addresses
            .into_iter()
            .filter(|a| match self.check(a.ip()) {
                Ok(()) => true,
                Err(refused) => {
                    refusal.get_or_insert(refused);
                    false
                }
            })
            .collect();
        match refusal {
            Some(refused) if usable.is_empty() => Err(refused),
            _ => Ok(usable),
        }
    }
}

fn parse_network(text: &str) -> Result<IpNet, BadNetwork> {
    let text = text.trim();
    text.parse::<IpNet>()
        .map(|net| net.trunc())
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| BadNetwork(text.to_owned()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn range(text: &str) -> Option<&'static str> {
        internal_range(text.parse().unwrap())
    }

    #[test]
    fn internal_ipv4_ranges() {
        for (address, expected) in [
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "unspecified"),
            ("10.0.0.1", "private"),
            ("10.255.255.255", "private"),
            ("100.64.0.1", "shared"),
            ("100.127.255.254", "shared"),
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("169.254.169.254", "link_local"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.0.0.8", "protocol_assignments"),
            ("192.0.2.10", "documentation"),
            ("192.88.99.1", "relay_6to4"),
            ("192.168.1.1", "private"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.254", "reserved"),
            ("255.255.255.255", "broadcast"),
        ] {
            assert_eq!(range(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn internal_ipv6_ranges() {
        for (address, expected) in [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link_local"),
            ("::ffff:10.1.2.3", "private"),
            ("::127.0.0.1", "reserved"),
            ("64:ff9b::a9fe:a9fe", "link_local"),
            ("64:ff9b:1::1", "private"),
            ("2002:7f00:1::", "loopback"),
            ("2002:c0a8:101::1", "private"),
            ("100::1", "discard"),
            ("2001:db8::1", "documentation"),
            ("2001:2::1", "benchmarking"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "protocol_assignments"),
            ("3fff::1", "documentation"),
            ("fc00::1", "unique_local"),
            ("fd12:3456:789a::1", "unique_local"),
            ("fe80::1", "link_local"),
            ("febf::1", "link_local"),
            ("fec0::1", "site_local"),
            ("ff02::1", "multicast"),
            ("4000::1", "reserved"),
            ("e000::1", "reserved"),
        ] {
            assert_eq!(range(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.0",
            "201.144.0.1",
            "223.255.255.255",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "2800:3f0:4002:800::200e",
        ] {
            assert_eq!(range(address), None, "{address}");
            assert_eq!(AddressPolicy::public_only().check(address.parse().unwrap()), Ok(()));
        }
    }

    #[test]
    fn the_default_refuses_what_is_internal_and_names_the_range() {
        let policy = AddressPolicy::default();
        let ip: IpAddr = "169.254.169.254".parse().unwrap();
        let refused = policy.check(ip).unwrap_err();
        assert_eq!(
            refused,
            Refused {
                address: ip,
                range: "link_local"
            }
        );
        assert!(refused.to_string().contains("169.254.169.254"), "{refused}");
        assert!(refused.to_string().contains("allow_networks"), "{refused}");
    }

    #[test]
    fn an_allowed_network_lets_its_addresses_through_and_no_others() {
        let policy = AddressPolicy::allowing(["10.20.0.0/16", " 127.0.0.1 ", "fd00:1::/64"]).unwrap();
        for ok in [
            "10.20.0.1",
            "10.20.255.255",
            "127.0.0.1",
            "::ffff:127.0.0.1",
            "fd00:1::5",
            "8.8.8.8",
        ] {
            assert_eq!(policy.check(ok.parse().unwrap()), Ok(()), "{ok}");
        }
        for refused in [
            "10.21.0.1",
            "10.0.0.1",
            "127.0.0.2",
            "::1",
            "fd00:2::5",
            "169.254.169.254",
        ] {
            assert!(policy.check(refused.parse().unwrap()).is_err(), "{refused}");
        }
        // A network given with host bits is the network they belong to.
        let policy = AddressPolicy::allowing(["192.168.7.9/24"]).unwrap();
        assert_eq!(policy.allowed_networks()[0].to_string(), "192.168.7.0/24");
        assert_eq!(policy.check("192.168.7.200".parse().unwrap()), Ok(()));
    }

    #[test]
    fn malformed_networks_are_named() {
        for bad in ["", "10.0.0.0/33", "intranet", "10.0.0/8", "fd00::/129"] {
            assert_eq!(
                AddressPolicy::allowing([bad]),
                Err(BadNetwork(bad.to_string())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn one_refused_address_refuses_the_name() {
        let policy = AddressPolicy::default();
        let public: IpAddr = "8.8.8.8".parse().unwrap();
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(policy.check_all([public]), Ok(()));
        assert_eq!(
            policy.check_all([public, loopback]),
            Err(Refused {
                address: loopback,
                range: "loopback"
            })
        );
    }

    #[test]
    fn delivery_uses_the_allowed_addresses_of_a_name() {
        let at = |text: &str| SocketAddr::new(text.parse().unwrap(), 0);
        let policy = AddressPolicy::allowing(["127.0.0.1"]).unwrap();
        assert_eq!(policy.usable([at("::1"), at("127.0.0.1")]), Ok(vec![at("127.0.0.1")]));
        assert_eq!(policy.usable([at("8.8.8.8"), at("10.0.0.1")]), Ok(vec![at("8.8.8.8")]));
        assert_eq!(
            AddressPolicy::default().usable([at("::1"), at("127.0.0.1")]),
            Err(Refused {
                address: "::1".parse().unwrap(),
                range: "loopback"
            })
        );
        assert_eq!(policy.usable([]), Ok(vec![]));
    }
}
