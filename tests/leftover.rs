//! What the interface holds from an earlier run is ours to confirm or remove (issue 18, item
//! 12): a daemon stopped with `-x` leaves its lease on the interface; started again after the
//! interface's MAC changed, dhcpc must not ask for that lease again (it was leased to another
//! hardware address), and must take its address and routes off before the new lease's go on.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn a_saved_lease_refused_for_another_mac_is_taken_off_the_interface() {
    let mut lab = Lab::new();
    // Two addresses only, by MAC: the new MAC cannot be given the old one.
    lab.start_dnsmasq(&[
        "--dhcp-range=198.51.100.50,198.51.100.59,255.255.255.0,1h",
        "--dhcp-option=option:router,198.51.100.1",
    ]);
    let run = |extra: &[&str]| {
        let mut args = lab.dhcpc_dir_args();
        args.extend(extra.iter().map(|a| a.to_string()));
        lab.run_dhcpc(&args)
    };
    // A daemon binds, and is stopped with its lease left on the interface.
    let mut first = lab.client_command(dhcpc_bin());
    first
        .args(lab.dhcpc_dir_args())
        .args(["-d", "--arp-probe", "0", CLIENT_IF]);
    first
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut first = first.spawn().expect("starting dhcpc -d");
    let bound = wait_for(Duration::from_secs(20), || lab.client_addrs().len() == 1);
    assert_exit(&run(&["-x", CLIENT_IF]), 0);
    let _ = first.wait();
    assert!(bound, "the first daemon did not bind");
    let old = lab.client_addrs();
    assert_eq!(old.len(), 1, "-x must keep the address: {old:?}");
    let old = old[0].local;

    // Another MAC: dnsmasq, which keeps the old address for the old MAC, gives it another.
    lab.set_client_mac("02:00:5e:10:00:99");
    let out = run(&["-1", "--arp-probe", "0", "-t", "20", CLIENT_IF]);
    assert_exit(&out, 0);
    assert_stderr_contains(&out, "it was leased to another hardware address");
    let now: Vec<_> = lab.client_addrs().into_iter().map(|a| a.local).collect();
    assert_eq!(
        now.len(),
        1,
        "the old lease's address stayed beside the new: {now:?}"
    );
    assert_ne!(now[0], old, "dnsmasq gave the new MAC the old address");
    let defaults: Vec<_> = lab
        .client_routes()
        .into_iter()
        .filter(|r| r.is_default())
        .collect();
    assert_eq!(defaults.len(), 1, "two default routes: {defaults:?}");
}
