//! `--dns-mode resolved`: each interface's DNS settings given to systemd-resolved over its D-Bus
//! API (org.freedesktop.resolve1.Manager on the system bus): `SetLinkDNS` with the servers
//! (option 6), `SetLinkDomains` with the domain (option 15) and search list (option 119), and
//! `RevertLink` when the lease goes. resolved then serves them per link, and /etc/resolv.conf
//! is left alone.
//!
//! The bus is reached with zbus (which honours DBUS_SYSTEM_BUS_ADDRESS), only in this mode and
//! only when there is something to say: a daemon that never needs it never connects. The calls
//! run on a task of their own, so that a slow bus never holds up an interface; a failed call
//! drops the connection, and the settings are given again at the next change.

use crate::shell::resolv::Dns;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

const DEST: &str = "org.freedesktop.resolve1";
const PATH: &str = "/org/freedesktop/resolve1";
const MANAGER: &str = "org.freedesktop.resolve1.Manager";
/// How long dhcpc waits for the bus, or for one answer.
const PATIENCE: Duration = Duration::from_secs(5);

/// Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS, else the standard socket).
pub async fn connect() -> zbus::Result<zbus::Connection> {
    let build = zbus::connection::Builder::system()?
        .method_timeout(PATIENCE)
        .build();
    match tokio::time::timeout(PATIENCE, build).await {
        Ok(conn) => conn,
        Err(_) => Err(zbus::Error::InputOutput(std::sync::Arc::new(
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the system bus does not answer",
            ),
        ))),
    }
}

/// Whether a system bus is there to ask: DBUS_SYSTEM_BUS_ADDRESS is set, or the standard
/// socket exists. Saves a connection attempt on systems without one.
pub fn bus_expected() -> bool {
    std::env::var_os("DBUS_SYSTEM_BUS_ADDRESS").is_some_and(|a| !a.is_empty())
        || std::path::Path::new("/run/dbus/system_bus_socket").exists()
}

/// Whether systemd-resolved holds its name on the bus.
pub async fn resolved_on(conn: &zbus::Connection) -> zbus::Result<bool> {
    let reply = conn
        .call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "NameHasOwner",
            &(DEST,),
        )
        .await?;
    reply.body().deserialize::<bool>()
}

enum Op {
    Set {
        iface: String,
        ifindex: u32,
        dns: Option<Dns>,
    },
    Adopt {
        iface: String,
        ifindex: u32,
        dns: Dns,
    },
    Flush(oneshot::Sender<()>),
}

/// A handle on the task that talks to resolved.
#[derive(Clone)]
pub struct Resolved {
    tx: mpsc::UnboundedSender<Op>,
}

impl Resolved {
    /// Starts the task (on the current tokio runtime), with a connection already made (by the
    /// detection of `--dns-mode auto`) or none yet.
    pub fn start(conn: Option<zbus::Connection>) -> Resolved {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(
            Link {
                conn,
                told: BTreeMap::new(),
                want: BTreeMap::new(),
            }
            .run(rx),
        );
        Resolved { tx }
    }

    fn send(&self, op: Op) {
        if self.tx.send(op).is_err() {
            warn!("the systemd-resolved task has stopped: DNS settings are not given to it");
        }
    }

    /// Gives `iface`'s settings to resolved (Some), or takes them back (None).
    pub fn set(&self, iface: &str, ifindex: u32, dns: Option<Dns>) {
        self.send(Op::Set {
            iface: iface.to_string(),
            ifindex,
            dns,
        });
    }

    /// Counts `iface`'s settings as given already (by an earlier process), so that taking
    /// them back reverts the link.
    pub fn adopt(&self, iface: &str, ifindex: u32, dns: Dns) {
        self.send(Op::Adopt {
            iface: iface.to_string(),
            ifindex,
            dns,
        });
    }

    /// Waits until everything sent so far has been said to resolved (or has failed).
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Flush(tx));
        let _ = rx.await;
    }
}

struct Link {
    conn: Option<zbus::Connection>,
    /// What resolved holds from this process, by interface: its index then and its settings.
    told: BTreeMap<String, (u32, Dns)>,
    /// Changes still to be made.
    want: BTreeMap<String, (u32, Option<Dns>)>,
}

impl Link {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Op>) {
        while let Some(first) = rx.recv().await {
            let mut acks = Vec::new();
            let mut op = Some(first);
            // Everything queued at once: the last word for each interface counts.
            while let Some(o) = op.take().or_else(|| rx.try_recv().ok()) {
                match o {
                    Op::Set {
                        iface,
                        ifindex,
                        dns,
                    } => {
                        self.want.insert(iface, (ifindex, dns));
                    }
                    Op::Adopt {
                        iface,
                        ifindex,
                        dns,
                    } => {
                        self.told.insert(iface, (ifindex, dns));
                    }
                    Op::Flush(ack) => acks.push(ack),
                }
            }
            self.apply().await;
            for ack in acks {
                let _ = ack.send(());
            }
        }
    }

    /// Makes every pending change; what fails stays pending for the next time.
    async fn apply(&mut self) {
        let pending: Vec<(String, u32, Option<Dns>)> = std::mem::take(&mut self.want)
            .into_iter()
            .filter(|(iface, (ifindex, dns))| {
                match (self.told.get(iface), dns) {
                    (Some((i, told)), Some(dns)) => i != ifindex || told != dns,
                    (None, Some(_)) => true,
                    (Some(_), None) => true,
                    // Never given: nothing to take back (and another's settings are kept).
                    (None, None) => false,
                }
            })
            .map(|(iface, (ifindex, dns))| (iface, ifindex, dns))
            .collect();
        for (iface, ifindex, dns) in pending {
            // resolved holds one set of settings per link: an interface's DHCPv4 and DHCPv6
            // settings (two names here) are given together.
            let index = match &dns {
                Some(_) => ifindex,
                None => self.told.get(&iface).map_or(ifindex, |(i, _)| *i),
            };
            let others = self
                .told
                .iter()
                .filter(|(name, (i, _))| **name != iface && *i == index)
                .map(|(_, (_, d))| d.clone())
                .reduce(|a, b| a.joined(&b));
            let result = match (&dns, others) {
                (Some(d), Some(o)) => self.give(index, &d.joined(&o)).await,
                (Some(d), None) => self.give(index, d).await,
                (None, Some(o)) => self.give(index, &o).await,
                (None, None) => self.revert(index).await,
            };
            match result {
                Ok(()) => {
                    match dns {
                        Some(d) => {
                            info!("{iface}: DNS settings given to systemd-resolved");
                            self.told.insert(iface, (ifindex, d))
                        }
                        None => {
                            info!("{iface}: DNS settings taken back from systemd-resolved");
                            self.told.remove(&iface)
                        }
                    };
                }
                Err(e) => {
                    warn!("{iface}: systemd-resolved: {e}; tried again at the next change");
                    // A broken connection is made afresh next time.
                    self.conn = None;
                    self.want.insert(iface, (ifindex, dns));
                }
            }
        }
    }

    /// SetLinkDNS(ifindex, [(AF_INET, address bytes)]) then SetLinkDomains(ifindex,
    /// [(domain, routing_only = false)]): every domain is a search domain.
    async fn give(&mut self, ifindex: u32, dns: &Dns) -> zbus::Result<()> {
        let servers: Vec<(i32, Vec<u8>)> = dns
            .servers
            .iter()
            .map(|a| match a {
                std::net::IpAddr::V4(a) => (libc::AF_INET, a.octets().to_vec()),
                std::net::IpAddr::V6(a) => (libc::AF_INET6, a.octets().to_vec()),
            })
            .collect();
        let domains: Vec<(&str, bool)> = dns.domains.iter().map(|d| (d.as_str(), false)).collect();
        let conn = self.conn().await?;
        let index = ifindex as i32;
        conn.call_method(
            Some(DEST),
            PATH,
            Some(MANAGER),
            "SetLinkDNS",
            &(index, servers),
        )
        .await?;
        conn.call_method(
            Some(DEST),
            PATH,
            Some(MANAGER),
            "SetLinkDomains",
            &(index, domains),
        )
        .await?;
        Ok(())
    }

    /// RevertLink(ifindex): resolved forgets what was set for the link. A link resolved no
    /// longer knows (the interface was removed) has nothing left to forget.
    async fn revert(&mut self, ifindex: u32) -> zbus::Result<()> {
        let conn = self.conn().await?;
        let body = (ifindex as i32,);
        match conn
            .call_method(Some(DEST), PATH, Some(MANAGER), "RevertLink", &body)
            .await
        {
            Err(zbus::Error::MethodError(name, _, _))
                if name.as_str() == "org.freedesktop.resolve1.NoSuchLink" =>
            {
                Ok(())
            }
            Err(e) => Err(e),
            Ok(_) => Ok(()),
        }
    }

    /// The connection to the bus, made now if there is none.
    async fn conn(&mut self) -> zbus::Result<zbus::Connection> {
        if let Some(c) = &self.conn {
            return Ok(c.clone());
        }
        let c = connect().await?;
        debug!("connected to the system bus");
        self.conn = Some(c.clone());
        Ok(c)
    }
}
