//! Unit tests of [`super`] (and of [`crate::dhclient::send`]): the files their writers write
//! (Debian's stock file, NetworkManager's), every statement form taken, and warnings.

use super::*;

fn one(text: &str) -> Conf {
    parse(text, &["eth0".to_string()]).unwrap()
}

/// The requests of Debian 12's stock file, in its order (dhcp6.* passed over).
const DEBIAN_REQUESTS: [u8; 13] = [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42];

#[test]
fn debians_stock_file_reads_without_a_warning() {
    let c = one(include_str!("testdata/debian12-dhclient.conf"));
    assert_eq!(c.hostname, Some(HostName::System));
    assert_eq!(c.requests, DEBIAN_REQUESTS);
    assert_eq!(
        c.declared,
        [("rfc3442-classless-static-routes".to_string(), 121)]
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn network_managers_file_over_debians() {
    let c = one(include_str!("testdata/nm-dhclient-eth0-stock.conf"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(
        c.client_id,
        Some(ClientIdConf::Bytes(vec![
            1, 0x52, 0x54, 0, 0x12, 0x34, 0x56
        ]))
    );
    assert_eq!(c.hostname, Some(HostName::Name("myhost".into())));
    assert_eq!(c.fqdn, None);
    assert_eq!(c.timeout, None);
    // `request;` then one `also request` per name: Debian's, then NM's own.
    let mut want = DEBIAN_REQUESTS.to_vec();
    want.extend([249, 33, 252, 17]);
    assert_eq!(c.requests, want);
}

#[test]
fn network_managers_file_with_an_fqdn_and_no_stock_file() {
    let c = one(include_str!("testdata/nm-dhclient-eth0-fqdn.conf"));
    assert_eq!(c.client_id, Some(ClientIdConf::Bytes(b"\0myid".to_vec())));
    assert_eq!(c.fqdn.as_deref(), Some("myhost.lab.test"));
    assert_eq!(c.hostname, None);
    assert_eq!(c.timeout, Some(91));
    assert_eq!(c.requests, [121, 249, 33, 252, 42, 17]);
    assert!(c.declared.contains(&("mudurl".to_string(), 161)));
    // What dhcpc does not send: the MUD URL, and `reject`.
    let lines: Vec<&str> = c.warnings.iter().map(|w| &w[..7]).collect();
    assert_eq!(lines, ["line 5:", "line 6:"], "{:?}", c.warnings);
    assert!(c.warnings[0].contains("'send mudurl"), "{:?}", c.warnings);
    assert!(
        c.warnings[1].contains("'reject 198.51.100.7"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn the_subset() {
    let c = one(
        "send host-name \"box\";\ntimeout 7;\nretry 20;\nalso request ntp-servers, unknown-252;\n\
         supersede domain-name-servers 198.51.100.53, 203.0.113.53;\n\
         supersede domain-name \"lab.test\";\nscript \"/etc/dhcp/my-script\";\n",
    );
    assert_eq!(c.hostname, Some(HostName::Name("box".into())));
    assert_eq!(c.timeout, Some(7));
    assert_eq!(c.retry, Some(20));
    assert_eq!(c.requests, vec![42, 252]);
    assert_eq!(
        c.dns_supersede,
        Some(vec![
            "198.51.100.53".parse().unwrap(),
            "203.0.113.53".parse().unwrap()
        ])
    );
    assert_eq!(c.domain_supersede.as_deref(), Some("lab.test"));
    assert_eq!(c.script.as_deref(), Some("/etc/dhcp/my-script"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let p =
        one("supersede domain-name-servers 1.1.1.1;\nprepend domain-name-servers 198.51.100.1;");
    assert_eq!(p.dns_supersede, None);
    assert_eq!(
        p.dns_prepend,
        vec!["198.51.100.1".parse::<Ipv4Addr>().unwrap()]
    );
    // NetworkManager's "no timeout" (2^31 - 1) is dhcpc's longest.
    assert_eq!(one("timeout 2147483647;").timeout, Some(86400));
}

#[test]
fn every_send_form() {
    let id = |text: &str| one(text).client_id;
    let bytes = |b: &[u8]| Some(ClientIdConf::Bytes(b.to_vec()));
    // dhclient.conf(5)'s own example: octets of one or two hex digits.
    assert_eq!(
        id("send dhcp-client-identifier 1:0:a0:24:ab:fb:9c;"),
        bytes(&[1, 0, 0xa0, 0x24, 0xab, 0xfb, 0x9c])
    );
    assert_eq!(id("send dhcp-client-identifier \"ab\";"), bytes(b"ab"));
    assert_eq!(
        id("send dhcp-client-identifier \"\\000\\377x\";"),
        bytes(&[0, 0xff, b'x'])
    );
    assert_eq!(
        id("send dhcp-client-identifier = hardware;"),
        Some(ClientIdConf::Hardware)
    );
    let c = one(
        "send dhcp-lease-time 3600;\nsend vendor-class-identifier \"acme 1.0\";\n\
         send host-name = gethostname();\nsend fqdn.fqdn \"box.lab.test.\";\n\
         send fqdn.server-update true;\nsend fqdn.encoded on;\nsend fqdn.no-client-update off;\n",
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.lease_time, Some(3600));
    assert_eq!(c.vendor_class.as_deref(), Some("acme 1.0"));
    assert_eq!(c.hostname, Some(HostName::System));
    assert_eq!(c.fqdn.as_deref(), Some("box.lab.test."));
    // Forms dhcpc does not send, each a warning on its line; what was taken before stays.
    let c = one(
        "send dhcp-client-identifier 1;\nsend dhcp-client-identifier 1:zz;\n\
         send dhcp-client-identifier = concat(1, 2);\nsend host-name \"a b\";\n\
         send host-name \"box.\";\nsend fqdn.server-update off;\nsend fqdn.rcode1 on;\n\
         send dhcp-lease-time -1;\nsend user-class \"x\";\nsend vendor-class-identifier \"\";\n\
         send fqdn.fqdn \"a;b\";\n",
    );
    assert_eq!(c.warnings.len(), 11, "{:?}", c.warnings);
    for (i, w) in c.warnings.iter().enumerate() {
        assert!(w.starts_with(&format!("line {}: '", i + 1)), "{w}");
        assert!(w.ends_with("ignored"), "{w}");
    }
    assert!(c.warnings[5].contains("flags S and E"), "{}", c.warnings[5]);
    assert_eq!(
        (c.client_id, c.hostname, c.fqdn, c.lease_time),
        (None, None, None, None)
    );
}

#[test]
fn option_declarations_name_options_for_request() {
    let c = one(
        "option ms-classless-static-routes code 249 = array of unsigned integer 8;\n\
         option my-site code 224 = text;\noption dhcp6.mudurl code 112 = text;\n\
         option wpad code 252 = string;\nrequest my-site, wpad;\n\
         option my-other code 225 = { ip-address, text };\nalso request my-other;\n",
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.requests, [224, 252, 225]);
    // A name used before it is declared is unknown there, as in dhclient.
    let c = one("request late-one;\noption late-one code 230 = text;\n");
    assert_eq!(c.requests, Vec::<u8>::new());
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    let c = one(
        "option space cisco;\noption cisco.x code 1 = text;\noption x code 0 = text;\n\
         option y code 255 = text;\noption z code 12;\n",
    );
    let lines: Vec<&str> = c.warnings.iter().map(|w| &w[..7]).collect();
    assert_eq!(
        lines,
        ["line 1:", "line 2:", "line 3:", "line 4:", "line 5:"],
        "{:?}",
        c.warnings
    );
}

#[test]
fn interface_blocks_count_for_their_interface_only() {
    let text = "interface \"eth0\" { timeout 5; }\ninterface \"eth1\" { timeout 9; }\n";
    assert_eq!(one(text).timeout, Some(5));
    let two = parse(text, &["eth0".into(), "eth1".into()]).unwrap();
    assert_eq!(two.timeout, None);
    assert_eq!(two.warnings.len(), 2, "{:?}", two.warnings);
}

#[test]
fn everything_else_is_a_warning_with_its_line() {
    let c = one("timeout 5;\n\nreject 198.51.100.9;\nsupersede routers 1.2.3.4;\nrequest foo;\ntimeout x;\nlease { }\nsend dhcp-client-identifier 1:2:3:;\nsupersede domain-name \"a;rm -rf\";\nscript \"relative\";\n");
    let lines: Vec<&str> = c
        .warnings
        .iter()
        .map(|w| w.split(':').next().unwrap())
        .collect();
    assert_eq!(
        lines,
        ["line 3", "line 4", "line 5", "line 6", "line 7", "line 8", "line 9", "line 10"],
        "{:?}",
        c.warnings
    );
    assert_eq!(c.domain_supersede, None);
    assert_eq!(c.script, None);
    assert!(parse("timeout 5", &[]).unwrap_err().starts_with("line 1:"));
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = fastrand::Rng::with_seed(11);
    let alphabet = b"{};,=()\"#\\ \n\tabc-.:0123456789xinterfacesupersederequestsendoptioncode";
    for _ in 0..20_000 {
        let n = rng.usize(0..120);
        let bytes: Vec<u8> = (0..n)
            .map(|_| {
                if rng.bool() {
                    alphabet[rng.usize(..alphabet.len())]
                } else {
                    rng.u8(..)
                }
            })
            .collect();
        let _ = parse(&String::from_utf8_lossy(&bytes), &["eth0".into()]);
    }
}
