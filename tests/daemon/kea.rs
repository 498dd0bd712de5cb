//! Kea in the lab's server namespace, configured per test.

use super::common::*;
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

pub const POOL_A: (&str, &str) = ("198.51.100.50", "198.51.100.59");
pub const POOL_B: (&str, &str) = ("198.51.100.70", "198.51.100.79");

pub fn kea_bin() -> PathBuf {
    require_program(
        "kea-dhcp4",
        "install kea-dhcp4-server (sudo scripts/test does, without starting its service)",
    )
}

/// One subnet Kea serves on one of the server namespace's interfaces.
pub struct Subnet {
    pub iface: &'static str,
    pub subnet: &'static str,
    pub pool: (&'static str, &'static str),
    pub router: &'static str,
}

pub fn subnet_a(iface: &'static str) -> Subnet {
    Subnet {
        iface,
        subnet: "198.51.100.0/24",
        pool: POOL_A,
        router: "198.51.100.1",
    }
}

/// A Kea process in the lab's server namespace; killed on drop.
pub struct Kea {
    child: Child,
    log: PathBuf,
}

impl Kea {
    /// Starts Kea with these subnets and lifetimes (seconds) and waits until it serves.
    pub fn start(lab: &Lab, name: &str, subnets: &[Subnet], valid: u32, t1: u32, t2: u32) -> Kea {
        let ifaces: Vec<&str> = subnets.iter().map(|s| s.iface).collect();
        let subnet4: Vec<serde_json::Value> = subnets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                serde_json::json!({
                    "id": i + 1,
                    "subnet": s.subnet,
                    "interface": s.iface,
                    "pools": [ { "pool": format!("{} - {}", s.pool.0, s.pool.1) } ],
                    "option-data": [
                        { "name": "routers", "data": s.router },
                        { "name": "domain-name-servers", "data": s.router },
                        { "name": "domain-name", "data": "kea.test" }
                    ]
                })
            })
            .collect();
        let config = serde_json::json!({
            "Dhcp4": {
                "interfaces-config": { "interfaces": ifaces, "dhcp-socket-type": "raw" },
                "lease-database": { "type": "memfile", "persist": false, "lfc-interval": 0 },
                "valid-lifetime": valid,
                "renew-timer": t1,
                "rebind-timer": t2,
                // A server that owns the subnet NAKs requests for addresses it cannot give.
                "authoritative": true,
                "subnet4": subnet4,
                "loggers": [ {
                    "name": "kea-dhcp4",
                    "output_options": [ { "output": "stdout" } ],
                    "severity": "DEBUG",
                    "debuglevel": 55
                } ]
            }
        });
        let cfg = lab.dir.join(format!("{name}.json"));
        let log = lab.dir.join(format!("{name}.log"));
        let mut config = config;
        // Straight to a file, flushed at every line (Kea buffers stdout when it is a file).
        config["Dhcp4"]["loggers"][0]["output_options"] =
            serde_json::json!([ { "output": log.display().to_string(), "flush": true } ]);
        fs::write(&cfg, config.to_string()).expect("writing the Kea config");
        let out = fs::File::create(lab.dir.join(format!("{name}.out"))).expect("Kea output");
        let err = out.try_clone().expect("Kea output");
        let child = lab
            .server_command(kea_bin())
            .arg("-c")
            .arg(&cfg)
            // Pid and lock files in the lab, so parallel labs do not see each other's Kea.
            .env("KEA_PIDFILE_DIR", &lab.dir)
            .env("KEA_LOCKFILE_DIR", &lab.dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("starting kea-dhcp4");
        let mut kea = Kea { child, log };
        let ready = wait_for(Duration::from_secs(10), || {
            kea.log_text().contains("DHCP4_STARTED") || matches!(kea.child.try_wait(), Ok(Some(_)))
        });
        assert!(
            ready && kea.log_text().contains("DHCP4_STARTED"),
            "Kea did not start\n{}",
            kea.log_text()
        );
        kea
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Lines of Kea's log that contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.log_text()
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Kea {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- Kea log ({}) ---\n{}",
                self.log.display(),
                self.log_text()
            );
        }
        self.stop();
    }
}
