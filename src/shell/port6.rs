//! The DHCPv6 client's socket (RFC 8415 7.1, 14): UDP from the interface's link-local address,
//! port 546, to All_DHCP_Relay_Agents_and_Servers (ff02::1:2) port 547, and the servers'
//! replies back to port 546. Unlike DHCPv4 it needs no packet socket: the client has a
//! link-local address before it asks for anything, so the kernel's UDP serves.
//!
//! One socket per interface, bound to `[::]:546` and to the interface (SO_BINDTODEVICE), so that
//! any number of interfaces can each have theirs in one process (SO_REUSEADDR lets several
//! sockets share the port, each seeing only its own interface's datagrams). Multicast goes out
//! of the interface (IPV6_MULTICAST_IF) with a hop limit of 1 (link scope).

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{Ipv6Addr, SocketAddrV6};
use tokio::net::UdpSocket;

/// The client's port (RFC 8415 7.2).
pub const CLIENT_PORT: u16 = 546;
/// The servers' and relay agents' port.
pub const SERVER_PORT: u16 = 547;
/// All_DHCP_Relay_Agents_and_Servers (RFC 8415 7.1).
pub const ALL_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);
/// The largest datagram taken: a reply is far smaller; more is cut and then refused by the
/// parser as truncated.
const MAX_DATAGRAM: usize = 65_535;

/// The DHCPv6 socket of one interface.
pub struct Port6 {
    socket: UdpSocket,
    index: u32,
}

impl Port6 {
    /// Opens the socket of interface `name` (index `index`). Needs CAP_NET_BIND_SERVICE for
    /// port 546 and CAP_NET_RAW for SO_BINDTODEVICE (root has both).
    pub fn open(name: &str, index: u32) -> io::Result<Port6> {
        let s = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
        s.set_only_v6(true)?;
        s.set_reuse_address(true)?;
        s.bind_device(Some(name.as_bytes()))?;
        s.set_multicast_if_v6(index)?;
        s.set_multicast_hops_v6(1)?;
        s.set_multicast_loop_v6(false)?;
        s.set_nonblocking(true)?;
        s.bind(&SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, CLIENT_PORT, 0, 0).into())?;
        let socket = UdpSocket::from_std(s.into())?;
        Ok(Port6 { socket, index })
    }

    /// Sends `bytes` to every server and relay on the link.
    pub async fn send_all(&self, bytes: &[u8]) -> io::Result<()> {
        let to = SocketAddrV6::new(ALL_SERVERS, SERVER_PORT, 0, self.index);
        self.socket.send_to(bytes, to).await.map(|_| ())
    }

    /// Sends `bytes` to one server's unicast address (RFC 8415 18.2.10: only when it sent
    /// the Server Unicast option); a link-local one is scoped to this interface.
    pub async fn send_to(&self, bytes: &[u8], server: Ipv6Addr) -> io::Result<()> {
        let scope = if server.segments()[0] & 0xffc0 == 0xfe80 {
            self.index
        } else {
            0
        };
        let to = SocketAddrV6::new(server, SERVER_PORT, 0, scope);
        self.socket.send_to(bytes, to).await.map(|_| ())
    }

    /// [`Port6::recv`] as a poll: the buffer is made only once a datagram is there to read,
    /// so that an interface at rest keeps none.
    pub fn poll_recv(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<(Vec<u8>, SocketAddrV6)>> {
        use std::task::Poll;
        loop {
            match self.socket.poll_recv_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
            let mut buf = vec![0u8; MAX_DATAGRAM];
            match self.socket.try_recv_from(&mut buf) {
                Ok((n, std::net::SocketAddr::V6(from))) if from.port() == SERVER_PORT => {
                    buf.truncate(n);
                    buf.shrink_to_fit();
                    return Poll::Ready(Ok((buf, from)));
                }
                // Another port: dropped. Nothing more to read: readiness is cleared, and the
                // next poll registers for the next datagram.
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// The next datagram from a server's port: its bytes and source. Datagrams from any other
    /// port are dropped here (a server or relay always sends from 547, RFC 8415 7.2).
    pub async fn recv(&self) -> io::Result<(Vec<u8>, SocketAddrV6)> {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let (n, from) = self.socket.recv_from(&mut buf).await?;
            let std::net::SocketAddr::V6(from) = from else {
                continue;
            };
            if from.port() == SERVER_PORT {
                buf.truncate(n);
                return Ok((buf, from));
            }
        }
    }
}
