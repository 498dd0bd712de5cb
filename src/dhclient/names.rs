//! dhclient's names of the DHCPv4 options (dhcp-options(5)) and their codes: the names
//! `request` takes in dhclient.conf and the names of the `option` lines of a lease file.

/// (name, code), as in dhcp-options(5).
pub const OPTIONS: &[(&str, u8)] = &[
    ("subnet-mask", 1),
    ("time-offset", 2),
    ("routers", 3),
    ("time-servers", 4),
    ("ien116-name-servers", 5),
    ("domain-name-servers", 6),
    ("log-servers", 7),
    ("cookie-servers", 8),
    ("lpr-servers", 9),
    ("impress-servers", 10),
    ("resource-location-servers", 11),
    ("host-name", 12),
    ("boot-size", 13),
    ("merit-dump", 14),
    ("domain-name", 15),
    ("swap-server", 16),
    ("root-path", 17),
    ("extensions-path", 18),
    ("ip-forwarding", 19),
    ("non-local-source-routing", 20),
    ("policy-filter", 21),
    ("max-dgram-reassembly", 22),
    ("default-ip-ttl", 23),
    ("path-mtu-aging-timeout", 24),
    ("path-mtu-plateau-table", 25),
    ("interface-mtu", 26),
    ("all-subnets-local", 27),
    ("broadcast-address", 28),
    ("perform-mask-discovery", 29),
    ("mask-supplier", 30),
    ("router-discovery", 31),
    ("router-solicitation-address", 32),
    ("static-routes", 33),
    ("trailer-encapsulation", 34),
    ("arp-cache-timeout", 35),
    ("ieee802-3-encapsulation", 36),
    ("default-tcp-ttl", 37),
    ("tcp-keepalive-interval", 38),
    ("tcp-keepalive-garbage", 39),
    ("nis-domain", 40),
    ("nis-servers", 41),
    ("ntp-servers", 42),
    ("vendor-encapsulated-options", 43),
    ("netbios-name-servers", 44),
    ("netbios-dd-server", 45),
    ("netbios-node-type", 46),
    ("netbios-scope", 47),
    ("font-servers", 48),
    ("x-display-manager", 49),
    ("dhcp-requested-address", 50),
    ("dhcp-lease-time", 51),
    ("dhcp-option-overload", 52),
    ("dhcp-message-type", 53),
    ("dhcp-server-identifier", 54),
    ("dhcp-parameter-request-list", 55),
    ("dhcp-message", 56),
    ("dhcp-max-message-size", 57),
    ("dhcp-renewal-time", 58),
    ("dhcp-rebinding-time", 59),
    ("vendor-class-identifier", 60),
    ("dhcp-client-identifier", 61),
    ("nwip-domain", 62),
    ("nwip-suboptions", 63),
    ("nisplus-domain", 64),
    ("nisplus-servers", 65),
    ("tftp-server-name", 66),
    ("bootfile-name", 67),
    ("mobile-ip-home-agent", 68),
    ("smtp-server", 69),
    ("pop-server", 70),
    ("nntp-server", 71),
    ("www-server", 72),
    ("finger-server", 73),
    ("irc-server", 74),
    ("streettalk-server", 75),
    ("streettalk-directory-assistance-server", 76),
    ("user-class", 77),
    ("slp-directory-agent", 78),
    ("slp-service-scope", 79),
    ("fqdn", 81),
    ("relay-agent-information", 82),
    ("nds-servers", 85),
    ("nds-tree-name", 86),
    ("nds-context", 87),
    ("bcms-controller-names", 88),
    ("bcms-controller-address", 89),
    ("client-last-transaction-time", 91),
    ("associated-ip", 92),
    ("pxe-system-type", 93),
    ("pxe-interface-id", 94),
    ("pxe-client-id", 97),
    ("uap-servers", 98),
    ("geoconf-civic", 99),
    ("pcode", 100),
    ("tcode", 101),
    ("netinfo-server-address", 112),
    ("netinfo-server-tag", 113),
    ("default-url", 114),
    ("auto-config", 116),
    ("name-service-search", 117),
    ("subnet-selection", 118),
    ("domain-search", 119),
    ("vivco", 124),
    ("vivso", 125),
    ("pana-agent", 136),
    ("v4-lost", 137),
    ("capwap-ac-v4", 138),
    ("sip-ua-cs-domains", 141),
    ("rdnss-selection", 146),
    ("v4-portparams", 159),
    ("v4-captive-portal", 160),
    ("option-6rd", 212),
    ("v4-access-domain", 213),
    ("rfc3442-classless-static-routes", 121),
    ("ms-classless-static-routes", 249),
    ("wpad", 252),
];

/// The code of a dhclient option name (also `unknown-N` and `option-N`, as dhclient writes
/// options it has no name for).
pub fn code(name: &str) -> Option<u8> {
    if let Some(&(_, c)) = OPTIONS.iter().find(|(n, _)| *n == name) {
        return Some(c);
    }
    name.strip_prefix("unknown-")
        .or_else(|| name.strip_prefix("option-"))
        .and_then(|n| n.parse().ok())
}

/// dhclient's name of option `code` (`unknown-N` for one it has no name for).
pub fn name(code: u8) -> String {
    OPTIONS
        .iter()
        .find(|(_, c)| *c == code)
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| format!("unknown-{code}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_and_codes_go_both_ways() {
        for &(n, c) in super::OPTIONS {
            assert_eq!(super::code(n), Some(c), "{n}");
            assert_eq!(super::name(c), n);
        }
        assert_eq!(super::code("unknown-224"), Some(224));
        assert_eq!(super::name(224), "unknown-224");
        assert_eq!(super::code("no-such-option"), None);
    }
}
