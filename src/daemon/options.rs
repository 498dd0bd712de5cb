//! The command line and dhcpc.conf made into each interface's [`IfaceOptions`].

use crate::cli::Cli;
use crate::config::Settings;
use crate::shell::options::{v6_name, CommonOptions, IfaceOptions, InformOptions, V6Options};
use crate::shell::resolv::DnsRules;
use std::sync::Arc;
use std::time::Duration;

/// The options of interface `name` as `cli` gives them.
pub fn iface_options(cli: &Cli, name: &str) -> IfaceOptions {
    IfaceOptions {
        name: name.to_string(),
        common: Arc::new(common_options(cli)),
    }
}

/// The options of each interface, those configured alike sharing one copy of their settings
/// (a thousand interfaces with one configuration would otherwise keep a thousand copies).
pub fn all_iface_options(settings: &Settings, names: &[String]) -> Vec<IfaceOptions> {
    let mut made: Vec<Arc<CommonOptions>> = Vec::new();
    names
        .iter()
        .map(|name| {
            let common = common_options(settings.interface(name));
            let common = match made.iter().find(|c| ***c == common) {
                Some(c) => c.clone(),
                None => {
                    let c = Arc::new(common);
                    made.push(c.clone());
                    c
                }
            };
            IfaceOptions {
                name: name.clone(),
                common,
            }
        })
        .collect()
}

/// The names of the clients `settings` runs on the interfaces `names`: `eth0` for DHCPv4,
/// `eth0:6` for DHCPv6 ([`v6_name`]), in command-line order. Each has its name on the control
/// socket, its pid file, its DNS settings and its line in the service manager's status.
pub fn client_names(settings: &Settings, names: &[String]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| clients_of(settings.interface(n), n))
        .collect()
}

/// The names of the clients of interface `name` that `cli` (its settings) runs or asks:
/// DHCPv4 unless `-6` alone, DHCPv6 with `-6`.
pub fn clients_of(cli: &Cli, name: &str) -> Vec<String> {
    let mut keys = Vec::new();
    if cli.ipv4 || !cli.ipv6 {
        keys.push(name.to_string());
    }
    if cli.ipv6 {
        keys.push(v6_name(name));
    }
    keys
}

/// The settings of an interface other than its name, from its command line.
pub fn common_options(cli: &Cli) -> CommonOptions {
    CommonOptions {
        metric: cli.metric,
        broadcast_flag: cli.broadcast,
        hostname: cli.hostname.clone(),
        vendor_class: cli.vendor_class.clone(),
        client_id: cli.client_id.clone(),
        duid_type: cli.duid_type,
        duid_file: cli.duid_file.clone(),
        lease_time: cli.lease_time,
        fqdn: cli.fqdn.clone(),
        extra_requests: cli.request.clone(),
        rapid_commit: !cli.no_rapid_commit,
        ipv4ll: cli.ipv4ll.map(Duration::from_secs),
        oneshot: cli.oneshot,
        timeout: Duration::from_secs(cli.timeout),
        last_lease: cli.last_lease,
        probe: cli.arp_probe,
        lease_dir: Some(cli.lease_dir.clone()),
        run_dir: cli.run_dir.clone(),
        allow_missing: cli.allow_missing,
        script: cli.script.clone(),
        script_configures: cli.script_configures,
        script_env: cli.script_env.clone(),
        script_timeout: Duration::from_secs(cli.script_timeout),
        dhclient_lease_file: cli.dhclient_lease_file.clone(),
        dns_rules: DnsRules {
            supersede_servers: cli.supersede_dns.clone(),
            prepend_servers: cli.prepend_dns.clone(),
            supersede_domain: cli.supersede_domain.clone(),
        },
        inform: cli.inform.map(|address| InformOptions {
            address,
            refresh: (cli.inform_refresh > 0).then(|| Duration::from_secs(cli.inform_refresh)),
        }),
        v6: V6Options {
            // DHCPv4 unless -6 alone.
            ipv4: cli.ipv4 || !cli.ipv6,
            ipv6: cli.ipv6,
            // An address unless asked for none, or for configuration only.
            na: !cli.no_ia_na && !cli.stateless,
            pd: (cli.ia_pd || cli.prefix_len_hint.is_some() || !cli.delegate.is_empty())
                .then_some(cli.prefix_len_hint),
            stateless: cli.stateless,
            extra_requests: cli.request6.clone(),
            delegate: cli.delegate.clone(),
            initial_delay: Duration::from_millis(cli.initial_delay),
            follow_ra: cli.follow_ra,
            dad_wait_time: cli.dad_wait_time,
            address_prefix_len: cli.address_prefix_len,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &str) -> Settings {
        use clap::CommandFactory;
        let argv: Vec<std::ffi::OsString> = args.split_whitespace().map(Into::into).collect();
        let config = crate::config::parse(&Cli::command(), "/x".as_ref(), "").unwrap();
        Settings::with_config(config, &argv).ok().unwrap()
    }

    #[test]
    fn interfaces_configured_alike_share_one_copy() {
        let s = settings("dhcpc --metric 7 -t 9 eth0 eth1");
        let all = all_iface_options(&s, &s.cli.interfaces);
        assert_eq!(all.len(), 2);
        assert!(Arc::ptr_eq(&all[0].common, &all[1].common));
        assert_eq!(
            (all[0].name.as_str(), all[1].name.as_str()),
            ("eth0", "eth1")
        );
        assert_eq!(all[0].metric, 7);
        assert_eq!(all[1].timeout, Duration::from_secs(9));
        assert!(all[0].rapid_commit);
    }

    /// What DHCPv6 asks for, as the command line says: an IA_NA by default, an IA_PD with
    /// its hint (and one IAID, the MAC's last bytes, for both, as dhclient's), no address with
    /// --no-ia-na, configuration only with --stateless, --request6's codes after the default
    /// ones, --initial-delay as the core's first wait; the client names of each protocol.
    #[test]
    fn dhcpv6_options_become_the_cores_configuration() {
        use crate::v6::core::{Mode6, PdAsk};
        let mac = [2, 0, 0, 0xaa, 0xbb, 0xcc];
        let iaid = 0x00aa_bbcc;
        let config = |args: &str| {
            let s = settings(args);
            let o = &all_iface_options(&s, &s.cli.interfaces)[0];
            (o.core_config6(mac, vec![0, 3, 0, 1]), o.v6.ipv4, o.v6.ipv6)
        };
        let (c, v4, v6) = config("dhcpc -6 eth0");
        assert!(!v4 && v6);
        assert_eq!(
            c.mode,
            Mode6::Stateful {
                na: vec![iaid],
                pd: vec![]
            }
        );
        assert_eq!(c.max_delay, Duration::ZERO);
        let (c, v4, v6) = config(
            "dhcpc -4 -6 --prefix-len-hint 56 --no-ia-na --request6 64,23 --initial-delay 700 eth0",
        );
        assert!(v4 && v6);
        let pd = vec![PdAsk {
            iaid,
            hint: Some(56),
        }];
        assert_eq!(c.mode, Mode6::Stateful { na: vec![], pd });
        assert_eq!(c.oro, [23, 24, 31, 56, 64]);
        assert_eq!(c.max_delay, Duration::from_millis(700));
        assert_eq!(config("dhcpc -6 --stateless eth0").0.mode, Mode6::Stateless);
        let s = settings("dhcpc -4 -6 eth0 eth1");
        assert_eq!(
            client_names(&s, &s.cli.interfaces),
            ["eth0", "eth0:6", "eth1", "eth1:6"]
        );
        let s = settings("dhcpc eth0");
        assert_eq!(client_names(&s, &s.cli.interfaces), ["eth0"]);
    }
}
