#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Property tests: addresses round-trip, ranges order like numbers, blocks contain exactly their addresses, and
//! no input panics or normalises to something that normalises differently.

use std::net::{Ipv4Addr, Ipv6Addr};

use baluarte_observables::{detect, normalise, Kind, Observable};
use proptest::prelude::*;

/// The 128-bit number of an address as `ip_range` sees it: IPv4 mapped into `::ffff:0:0/96`.
fn v4_number(addr: Ipv4Addr) -> u128 {
    u128::from(addr.to_ipv6_mapped())
}

fn hex(n: u128) -> String {
    format!("{n:032x}")
}

fn point(o: &Observable) -> String {
    let (lo, hi) = o.ip_range().unwrap();
    assert_eq!(lo, hi, "{o:?}");
    lo
}

fn contains(block: &(String, String), addr: &str) -> bool {
    block.0.as_str() <= addr && block.1.as_str() >= addr
}

/// Normalising a canonical value again changes nothing, and so does detecting it; its defanged text comes back.
fn assert_stable(o: &Observable) {
    assert_eq!(
        normalise(o.kind, &o.value).as_ref(),
        Ok(o),
        "normalise is not idempotent"
    );
    assert_eq!(detect(&o.value).as_ref(), Ok(o), "detect of a canonical value differs");
    assert_eq!(
        normalise(o.kind, &o.defanged()).as_ref(),
        Ok(o),
        "defanged does not round-trip"
    );
}

/// Text shaped like observables, so that the idempotence checks reach the accepting paths more often than
/// arbitrary strings would.
fn observable_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.\\-]{1,20}\\.[a-zA-Z]{2,6}\\.?",
        "(http|https|ftp|hxxp|HTTP)://[a-zA-Z0-9.\\-]{1,15}\\.[a-z]{2,4}(:[0-9]{1,5})?(/[ -~]{0,30})?",
        "[a-zA-Z0-9.+_%\\-]{1,10}(@|\\[at\\])[a-zA-Z0-9.\\-]{1,12}\\.[a-z]{2,4}",
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(/[0-9]{1,2})?",
        "[0-9a-fA-F:]{2,40}(/[0-9]{1,3})?",
        "[0-9a-fA-F]{30,130}",
        "(cve|CVE)-[0-9]{2,5}-[0-9]{2,8}",
        "(AS|as|ASN)?[0-9]{1,11}(\\.[0-9]{1,6})?",
        "[\\[\\]().@:/a-zA-Z0-9ü。%]{1,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ipv4_round_trips(addr in any::<Ipv4Addr>()) {
        let o = normalise(Kind::Ipv4, &addr.to_string()).unwrap();
        prop_assert_eq!(&o, &Observable { kind: Kind::Ipv4, value: addr.to_string() });
        prop_assert_eq!(point(&o), hex(v4_number(addr)));
        assert_stable(&o);
    }

    #[test]
    fn ipv6_round_trips(addr in any::<Ipv6Addr>()) {
        let o = normalise(Kind::Ipv6, &addr.to_string()).unwrap();
        let want = match addr.to_ipv4_mapped() {
            Some(v4) => Observable { kind: Kind::Ipv4, value: v4.to_string() },
            None => Observable { kind: Kind::Ipv6, value: addr.to_string() },
        };
        prop_assert_eq!(&o, &want);
        prop_assert_eq!(point(&o), hex(u128::from(addr)));
        assert_stable(&o);
    }

    #[test]
    fn mapped_ipv6_is_the_ipv4(addr in any::<Ipv4Addr>()) {
        let mapped = addr.to_ipv6_mapped().to_string();
        prop_assert_eq!(detect(&mapped).unwrap(), normalise(Kind::Ipv4, &addr.to_string()).unwrap());
    }

    #[test]
    fn range_order_is_numeric_order(a in any::<u128>(), b in any::<u128>(), a4 in any::<Ipv4Addr>()) {
        let (x, y) = (Ipv6Addr::from(a), Ipv6Addr::from(b));
        let px = point(&normalise(Kind::Ipv6, &x.to_string()).unwrap());
        let py = point(&normalise(Kind::Ipv6, &y.to_string()).unwrap());
        prop_assert_eq!(px.cmp(&py), a.cmp(&b));
        // Across families too: an IPv4 address sorts where its mapped IPv6 number does.
        let p4 = point(&normalise(Kind::Ipv4, &a4.to_string()).unwrap());
        prop_assert_eq!(p4.cmp(&px), v4_number(a4).cmp(&a));
    }

    #[test]
    fn v4_block_contains_exactly_its_addresses(addr in any::<u32>(), prefix in 0u32..=32, other in any::<u32>()) {
        let block = normalise(Kind::Cidr, &format!("{}/{prefix}", Ipv4Addr::from(addr))).unwrap();
        let range = block.ip_range().unwrap();
        let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
        let (first, last) = (addr & mask, addr | !mask);
        let at = |n: u32| hex(v4_number(Ipv4Addr::from(n)));
        prop_assert_eq!(&range, &(at(first), at(last)));
        prop_assert!(first.checked_sub(1).is_none_or(|n| !contains(&range, &at(n))));
        prop_assert!(last.checked_add(1).is_none_or(|n| !contains(&range, &at(n))));
        prop_assert_eq!(contains(&range, &at(other)), other & mask == first);
        assert_stable(&block);
    }

    #[test]
    fn v6_block_contains_exactly_its_addresses(addr in any::<u128>(), prefix in 0u32..=128, other in any::<u128>()) {
        let block = normalise(Kind::Cidr, &format!("{}/{prefix}", Ipv6Addr::from(addr))).unwrap();
        let range = block.ip_range().unwrap();
        let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
        let (first, last) = (addr & mask, addr | !mask);
        prop_assert_eq!(&range, &(hex(first), hex(last)));
        prop_assert!(first.checked_sub(1).is_none_or(|n| !contains(&range, &hex(n))));
        prop_assert!(last.checked_add(1).is_none_or(|n| !contains(&range, &hex(n))));
        // Sharing the prefix with the block, by construction, and random: both must agree with the range.
        let inside = first | (other & !mask);
        prop_assert!(contains(&range, &hex(inside)));
        prop_assert_eq!(contains(&range, &hex(other)), other & mask == first);
        assert_stable(&block);
    }

    #[test]
    fn never_panics_and_is_idempotent(text in any::<String>()) {
        for kind in Kind::ALL {
            if let Ok(o) = normalise(kind, &text) {
                assert_stable(&o);
            }
        }
        if let Ok(o) = detect(&text) {
            assert_stable(&o);
        }
    }

    #[test]
    fn observable_like_text_is_stable(text in observable_like()) {
        for kind in Kind::ALL {
            if let Ok(o) = normalise(kind, &text) {
                assert_stable(&o);
            }
        }
        if let Ok(o) = detect(&text) {
            assert_stable(&o);
        }
    }
}
