//! The host's DUID as ISC dhclient keeps it: a `default-duid "...";` line at the top of its
//! lease file (dhclient.leases(5)), the bytes quoted with octal escapes (`"\000\001\000\001..."`)
//! or, with `lease-id-format hex`, as `00:01:00:01:...`. dhclient -4 -i takes it from its -lf
//! file, else from the -df file (ifupdown points that at the DHCPv6 lease file, so that both
//! sides share one DUID), else makes one (DUID-LLT from the interface's MAC, or DUID-LL with
//! `-D LL`) and writes it to the -lf file. Pure: text in, text out; never panics.

use super::lex::{self, Kind};

/// What kind of DUID is made when none is kept (RFC 8415 11).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DuidType {
    /// DUID-LL (type 3): hardware type 1 and the MAC (dhclient's `-D LL`).
    Ll,
    /// DUID-LLT (type 1): hardware type 1, the time it was made and the MAC (dhclient's
    /// default for `-i`).
    Llt,
    /// DUID-UUID (type 4, RFC 6355): 16 random bytes, whatever the NIC (dhcpc's default).
    #[default]
    Uuid,
}

/// RFC 8415 11.2: a DUID-LLT's time counts seconds from 2000-01-01 00:00:00 UTC.
const DUID_TIME_EPOCH: u64 = 946_684_800;

/// The DUID sizes dhclient takes: more than 2 bytes (a type and something), and RFC 8415's
/// most, 2 bytes of type and 128 of identifier.
const DUID_LEN: std::ops::RangeInclusive<usize> = 3..=130;

/// A new DUID of `kind` for an interface with hardware address `mac`, at Unix time `unix`;
/// `random` is the DUID-UUID's 16 bytes. The LL and LLT forms are byte for byte what dhclient's
/// `form_duid` makes.
pub fn make(kind: DuidType, mac: [u8; 6], unix: u64, random: [u8; 16]) -> Vec<u8> {
    match kind {
        DuidType::Ll => [&[0u8, 3, 0, 1][..], &mac].concat(),
        DuidType::Llt => {
            let t = u32::try_from(unix.saturating_sub(DUID_TIME_EPOCH)).unwrap_or(u32::MAX);
            [&[0u8, 1, 0, 1][..], &t.to_be_bytes(), &mac].concat()
        }
        DuidType::Uuid => crate::core::request::new_duid(random),
    }
}

/// The DUID of the last `default-duid` statement of a dhclient lease file (the one dhclient
/// keeps), if there is one that reads; statements inside `lease { }` blocks are not it.
pub fn parse(text: &str) -> Option<Vec<u8>> {
    let statements = lex::statements(text).ok()?;
    statements
        .iter()
        .filter(|s| s.block.is_none())
        .filter_map(|s| match s.head.as_slice() {
            [Kind::Word(w), value] if w == "default-duid" => value_bytes(value),
            _ => None,
        })
        .next_back()
}

/// A `default-duid` value: a quoted string (escapes undone) or colon-separated hex octets.
fn value_bytes(k: &Kind) -> Option<Vec<u8>> {
    let bytes = match k {
        Kind::Str(s) => lex::bytes(s),
        Kind::Word(w) => hex_octets(w)?,
        Kind::Punct(_) => return None,
    };
    DUID_LEN.contains(&bytes.len()).then_some(bytes)
}

/// `0:1:a0:ff`: octets of one or two hex digits separated by colons (ISC's hex constants).
pub fn hex_octets(w: &str) -> Option<Vec<u8>> {
    w.split(':')
        .map(|o| match o.len() {
            1 | 2 => u8::from_str_radix(o, 16).ok(),
            _ => None,
        })
        .collect()
}

/// The `default-duid` line for `duid`, as dhclient writes it (its default `lease-id-format
/// octal`).
pub fn render(duid: &[u8]) -> String {
    format!("default-duid {};\n", super::leases::quote(duid))
}

/// The lease file `old` with `duid` as its one `default-duid` line, first, as dhclient's
/// rewrite leaves it; everything else is kept as it is.
pub fn with_default_duid(old: Option<&str>, duid: &[u8]) -> String {
    let mut out = render(duid);
    for line in old.unwrap_or("").lines() {
        if !line.trim_start().starts_with("default-duid") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [2, 0, 0, 0xaa, 0xbb, 0xcc];

    #[test]
    fn what_isc_dhclient_made_and_wrote() {
        // ISC dhclient 4.4.3 -4 -i on a NIC with MAC 02:00:00:aa:bb:cc at Unix time
        // 1796308362: "Created duid ..." and the first line of its -lf file.
        let line =
            "default-duid \"\\000\\001\\000\\0012\\244:\\012\\002\\000\\000\\252\\273\\314\";\n";
        let duid = make(DuidType::Llt, MAC, 1_796_308_362, [0; 16]);
        assert_eq!(
            duid,
            [0, 1, 0, 1, 0x32, 0xa4, 0x3a, 0x0a, 2, 0, 0, 0xaa, 0xbb, 0xcc]
        );
        assert_eq!(render(&duid), line);
        assert_eq!(parse(line), Some(duid));
        let ll = make(DuidType::Ll, MAC, 0, [0; 16]);
        assert_eq!(ll, [0, 3, 0, 1, 2, 0, 0, 0xaa, 0xbb, 0xcc]);
        assert_eq!(make(DuidType::Uuid, MAC, 0, [7; 16])[..3], [0, 4, 7]);
    }

    #[test]
    fn round_trips_in_dhclients_quoting() {
        // Every byte value, in DUIDs of every length dhclient takes.
        let all: Vec<u8> = (0..=255u8).collect();
        for chunk in all
            .chunks(130)
            .chain(all.chunks(3))
            .filter(|c| c.len() >= 3)
        {
            let text = render(chunk);
            assert_eq!(parse(&text).as_deref(), Some(chunk), "{text}");
        }
        // Quote, backslash and space are written as dhclient's quotify_buf writes them.
        assert_eq!(render(b"\"\\ a"), "default-duid \"\\\"\\\\ a\";\n");
    }

    #[test]
    fn the_last_top_level_one_counts_and_hex_reads() {
        let text = "default-duid \"\\000\\003\\000\\001\\002\\000\\000\\000\\000\\001\";\n\
                    lease {\n  interface \"eth0\";\n  default-duid 0:1:2:3;\n}\n\
                    default-duid 00:03:00:01:02:00:00:00:00:02;\n";
        assert_eq!(parse(text), Some(vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 2]));
        for bad in [
            "",
            "default-duid \"\\000\\001\";",
            "default-duid 0:1:zz;",
            "default-duid 000:1:2;",
            "default-duid;",
            "default-duid \"unclosed",
            &format!("default-duid \"{}\";", "a".repeat(131)),
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_line_goes_first_and_alone() {
        let old = "default-duid \"\\000\\001\\000\";\nlease {\n  interface \"eth1\";\n}\n";
        let new = with_default_duid(Some(old), &[0, 3, 0, 1, 2, 0, 0, 0, 0, 1]);
        assert_eq!(
            new,
            "default-duid \"\\000\\003\\000\\001\\002\\000\\000\\000\\000\\001\";\n\
             lease {\n  interface \"eth1\";\n}\n"
        );
        assert_eq!(
            with_default_duid(None, &[0, 3, 9]),
            "default-duid \"\\000\\003\\011\";\n"
        );
    }
}
