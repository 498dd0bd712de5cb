//! ISC dhcpd as the callers' server, and its lease database (dhcpd.leases(5)) read back: what
//! the client sent (client identifier, host name, vendor class) and whether it released.

use crate::common::{require_program, Lab, SERVER_IF};
use std::fs;
use std::net::Ipv4Addr;

/// The pool dhcpd hands out.
pub const POOL: (&str, &str) = ("198.51.100.50", "198.51.100.150");
/// The lease time dhcpd gives: long enough that no lease ends by itself within a test.
pub const LEASE_SECS: u32 = 600;
/// Option 121 as dhcpd sends it (RFC 3442: 203.0.113.0/24 and the default route via .1), and as
/// dhclient exports it to its script.
pub const CLASSLESS_ROUTES: &str = "24 203 0 113 198 51 100 1 0 198 51 100 1";

/// Starts dhcpd in the lab's server namespace. It records the vendor class a client sends in
/// its lease (`set vendor-string`), logs each request list (option 55), sends a next-server
/// (siaddr), and option 121 when `classless` (else the router option is the default route).
pub fn start(lab: &mut Lab, classless: bool) {
    let dhcpd = require_program(
        "dhcpd",
        "install isc-dhcp-server (sudo scripts/test does, without starting its service)",
    );
    let conf = lab.dir.join("dhcpd.conf");
    let routes = if classless {
        format!(
            "option rfc3442-classless-static-routes {};",
            CLASSLESS_ROUTES.replace(' ', ", ")
        )
    } else {
        String::new()
    };
    fs::write(
        &conf,
        format!(
            "authoritative;\n\
             default-lease-time {LEASE_SECS};\nmax-lease-time {LEASE_SECS};\n\
             option rfc3442-classless-static-routes code 121 = array of integer 8;\n\
             log(info, concat(\"request list \",\n\
               binary-to-ascii(10, 8, \" \", option dhcp-parameter-request-list)));\n\
             if exists vendor-class-identifier {{\n\
               set vendor-string = option vendor-class-identifier;\n\
             }}\n\
             subnet 198.51.100.0 netmask 255.255.255.0 {{\n\
               range {} {};\n\
               option routers 198.51.100.1;\n\
               option domain-name-servers 198.51.100.1;\n\
               option domain-name \"lab.test\";\n\
               {routes}\n\
               next-server 198.51.100.1;\n\
             }}\n",
            POOL.0, POOL.1
        ),
    )
    .expect("writing dhcpd.conf");
    fs::write(leases_path(lab), "").expect("creating dhcpd.leases");
    let path = |p: std::path::PathBuf| p.display().to_string();
    let args = [
        "-4".to_string(),
        "-f".into(),
        "-d".into(),
        "-cf".into(),
        path(conf),
        "-lf".into(),
        path(leases_path(lab)),
        "-pf".into(),
        path(lab.dir.join("dhcpd.pid")),
        SERVER_IF.into(),
    ];
    lab.start_server("dhcpd", &dhcpd, &args, "Server starting service.");
}

/// The request lists (option 55) clients sent, in order, as dhcpd logged them.
pub fn request_lists(lab: &Lab) -> Vec<Vec<u8>> {
    let log = fs::read_to_string(lab.dir.join("dhcpd.log")).unwrap_or_default();
    log.lines()
        .filter_map(|l| l.split_once("request list ").map(|(_, codes)| codes))
        .map(|codes| codes.split(' ').filter_map(|c| c.parse().ok()).collect())
        .collect()
}

fn leases_path(lab: &Lab) -> std::path::PathBuf {
    lab.dir.join("dhcpd.leases")
}

/// One `lease ADDRESS { }` block of dhcpd.leases.
#[derive(Debug, Clone, Default)]
pub struct ServerLease {
    pub address: Option<Ipv4Addr>,
    /// `binding state`: active, free, released, ...
    pub state: String,
    /// The client identifier (option 61) the client sent, as bytes.
    pub uid: Option<Vec<u8>>,
    /// The host name (option 12) the client sent.
    pub hostname: Option<String>,
    /// The vendor class (option 60) the client sent.
    pub vendor: Option<String>,
    /// `hardware ethernet`.
    pub hardware: Option<String>,
}

/// Every lease block of the lab's dhcpd.leases, in file order (dhcpd appends a block each time
/// a lease changes: the last one for an address is its present state).
pub fn leases(lab: &Lab) -> Vec<ServerLease> {
    let text = fs::read_to_string(leases_path(lab)).unwrap_or_default();
    let mut out = Vec::new();
    let mut current: Option<ServerLease> = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("lease ") {
            current = Some(ServerLease {
                address: rest.trim_end_matches('{').trim().parse().ok(),
                ..ServerLease::default()
            });
        } else if line == "}" {
            out.extend(current.take());
        } else if let Some(l) = current.as_mut() {
            let stmt = line.trim_end_matches(';');
            if let Some(v) = stmt.strip_prefix("binding state ") {
                l.state = v.to_string();
            } else if let Some(v) = stmt.strip_prefix("uid ") {
                l.uid = Some(bytes_of(v));
            } else if let Some(v) = stmt.strip_prefix("client-hostname ") {
                l.hostname = Some(String::from_utf8_lossy(&bytes_of(v)).into_owned());
            } else if let Some(v) = stmt.strip_prefix("set vendor-string = ") {
                l.vendor = Some(String::from_utf8_lossy(&bytes_of(v)).into_owned());
            } else if let Some(v) = stmt.strip_prefix("hardware ethernet ") {
                l.hardware = Some(v.to_string());
            }
        }
    }
    out
}

/// The present state of `address`'s lease (its last block).
pub fn lease_of(lab: &Lab, address: Ipv4Addr) -> Option<ServerLease> {
    leases(lab)
        .into_iter()
        .rfind(|l| l.address == Some(address))
}

/// The bytes of a dhcpd.leases value: a quoted string with `\ooo` octal and `\"`, `\\`
/// escapes, or colon-separated hex.
pub fn bytes_of(v: &str) -> Vec<u8> {
    let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return v
            .split(':')
            .filter_map(|h| u8::from_str_radix(h, 16).ok())
            .collect();
    };
    let b = inner.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(u8::is_ascii_digit));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                out.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            (b'\\', None) if i + 1 < b.len() => {
                out.push(b[i + 1]);
                i += 2;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Bytes as colon-separated hex, for messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}
