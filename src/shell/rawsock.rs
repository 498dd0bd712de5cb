//! The AF_PACKET socket DHCP speaks through before (and while) it has an address.
//!
//! socket2 opens it, attaches the kernel filter ([`crate::shell::bpf`]) and sends; nix receives
//! (recvmsg, whose control messages it walks for us: the kernel's PACKET_AUXDATA says whether
//! a frame's checksum was left to offload). Two things neither crate has are done by hand, in
//! one small `unsafe` block each: the SOL_PACKET socket options (PACKET_AUXDATA,
//! PACKET_IGNORE_OUTGOING), and the `sockaddr_ll`
//! (interface and EtherType) the socket is bound and sends to.

use crate::shell::bpf::{bpf_dhcp_client_and_arp, to_sock_filter, BPF_DHCP_CLIENT};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use socket2::{Domain, Protocol, SockAddr, SockAddrStorage, Socket, Type};
use std::io;
use std::mem::size_of;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

pub const ETH_P_ALL: u16 = 0x0003;
const PACKET_AUXDATA: libc::c_int = 8;
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;

/// A raw Ethernet socket bound to one interface.
pub struct RawSocket {
    fd: AsyncFd<Socket>,
    ifindex: u32,
}

/// The link-layer address of interface `ifindex` for EtherType `proto`.
fn packet_addr(ifindex: u32, proto: u16) -> SockAddr {
    let mut storage = SockAddrStorage::zeroed();
    // SAFETY: sockaddr_ll is one of this platform's sockaddr types and fits in the storage
    // (view_as asserts it); all-zero is a valid sockaddr_ll, and the fields set are plain
    // integers. The SockAddr is then told the length of exactly that initialised struct.
    unsafe {
        let sa = storage.view_as::<libc::sockaddr_ll>();
        sa.sll_family = libc::AF_PACKET as u16;
        sa.sll_protocol = proto.to_be();
        sa.sll_ifindex = ifindex as i32;
        SockAddr::new(storage, size_of::<libc::sockaddr_ll>() as libc::socklen_t)
    }
}

/// Turns a SOL_PACKET option on: PACKET_AUXDATA (a control message with every frame), or
/// PACKET_IGNORE_OUTGOING.
fn packet_option(sock: &Socket, option: libc::c_int) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `on` is a live c_int for the duration of the call and its size is passed.
    let ret = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_PACKET,
            option,
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl RawSocket {
    /// The client's one packet socket on interface `ifindex`, filtered in the kernel down to
    /// UDP to port 68 (and ARP while probing, see [`RawSocket::set_arp`]). Needs CAP_NET_RAW.
    ///
    /// One socket serves DHCP and ARP because closing a packet socket waits for an RCU grace
    /// period (synchronize_net): an ARP socket per probe, closed after it, cost ~12 ms of a
    /// single-threaded daemon's time per interface, 1.2 s for 100 interfaces.
    pub fn dhcp(ifindex: u32) -> io::Result<RawSocket> {
        // Protocol 0: nothing is received until the filter is attached and the socket bound.
        let sock = Socket::new(
            Domain::PACKET,
            Type::RAW.nonblocking().cloexec(),
            Some(Protocol::from(0)),
        )?;
        sock.attach_filter(&to_sock_filter(&BPF_DHCP_CLIENT))?;
        packet_option(&sock, PACKET_AUXDATA)?;
        // What this host sends is not read back: the kernel's own ARP replies for the address
        // in use would otherwise wake the daemon each time a neighbour looks it up. (Linux
        // 4.20 and later; on older kernels such frames reach the core, which ignores them.)
        let _ = packet_option(&sock, PACKET_IGNORE_OUTGOING);
        sock.bind(&packet_addr(ifindex, ETH_P_ALL))?;
        // SAFETY: the socket moves into the AsyncFd, which owns it from here on: its
        // descriptor stays open and the same until the AsyncFd is dropped. Must run inside
        // the tokio runtime, as every caller does.
        let fd = unsafe { AsyncFd::register_with_interest(sock, Interest::READABLE) }?;
        Ok(RawSocket { fd, ifindex })
    }

    /// Lets the ARP frames about `addrs` through the filter too (while they are probed or
    /// defended), and those whose sender claims one of `senders` (an address in use), or
    /// (none) stops them again.
    pub fn set_arp(&self, addrs: &[Ipv4Addr], senders: &[Ipv4Addr]) -> io::Result<()> {
        let program = to_sock_filter(&bpf_dhcp_client_and_arp(addrs, senders));
        self.fd.get_ref().attach_filter(&program)
    }

    /// Sends one complete Ethernet frame (its EtherType is read from the frame).
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        let proto = match frame.get(12..14) {
            Some(t) => u16::from_be_bytes([t[0], t[1]]),
            None => return Err(io::Error::new(io::ErrorKind::InvalidInput, "short frame")),
        };
        let to = packet_addr(self.ifindex, proto);
        match self.fd.get_ref().send_to(frame, &to) {
            // When the interface goes down, the kernel leaves ENETDOWN pending on every packet
            // socket bound to it (packet_notifier sets sk_err), and the first send after the
            // link is back returns that stale error and sends nothing: the RFC 4436 ARP that
            // carrier's return sends first would be lost. Once more; a link that is really
            // down fails again.
            Err(e) if e.raw_os_error() == Some(libc::ENETDOWN) => {
                self.fd.get_ref().send_to(frame, &to).map(|_| ())
            }
            r => r.map(|_| ()),
        }
    }

    /// Receives one frame of at most `max` bytes (longer ones are cut). Returns it and whether
    /// the kernel marked its checksum as not computed yet (TP_STATUS_CSUMNOTREADY, as on veth
    /// and with offload). An interface waiting for a frame holds no buffer. A poll, not a
    /// future: a driver waiting on it keeps no future of its own (the waker is kept by tokio's
    /// registration of the socket).
    pub fn poll_recv(
        &self,
        cx: &mut std::task::Context<'_>,
        max: usize,
    ) -> std::task::Poll<io::Result<(Vec<u8>, bool)>> {
        loop {
            let mut guard = std::task::ready!(self.fd.poll_read_ready(cx))?;
            let got = FRAME.with_borrow_mut(|buf| {
                buf.resize(max, 0);
                guard
                    .try_io(|fd| recv_aux(fd.get_ref(), buf))
                    .map(|r| r.map(|(len, csum)| (buf[..len.min(buf.len())].to_vec(), csum)))
            });
            match got {
                Ok(r) => return std::task::Poll::Ready(r),
                // Not readable after all: the readiness is cleared, and polled again.
                Err(_would_block) => continue,
            }
        }
    }
}

thread_local! {
    /// Frames are read into one buffer for the whole thread and handed on as a copy of their
    /// own size: a thousand interfaces binding at once would otherwise each make and free a
    /// buffer of the MTU per frame, and leave the heap in holes the lasting allocations then
    /// fill.
    static FRAME: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn recv_aux(sock: &Socket, buf: &mut [u8]) -> io::Result<(usize, bool)> {
    let mut control = nix::cmsg_space!(libc::tpacket_auxdata);
    let mut iov = [io::IoSliceMut::new(buf)];
    // MSG_TRUNC: the length returned is the frame's, even if the buffer was shorter.
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut control),
        MsgFlags::MSG_TRUNC,
    )?;
    let mut csum_not_ready = false;
    // A truncated control buffer (MSG_CTRUNC) cannot be walked; the checksum is then checked.
    if let Ok(cmsgs) = msg.cmsgs() {
        for cmsg in cmsgs {
            let ControlMessageOwned::Unknown(aux) = cmsg else {
                continue;
            };
            let h = &aux.cmsg_header;
            // tp_status is the first u32 of struct tpacket_auxdata; a shorter payload
            // (cmsg_len too small) is not read.
            if h.cmsg_level == libc::SOL_PACKET && h.cmsg_type == PACKET_AUXDATA {
                if let Some(status) = aux.data_bytes.get(..4) {
                    let status = u32::from_ne_bytes([status[0], status[1], status[2], status[3]]);
                    csum_not_ready = status & TP_STATUS_CSUMNOTREADY != 0;
                }
            }
        }
    }
    let len = msg.bytes;
    // A frame bigger than the buffer is cut, not trusted.
    Ok((len.min(buf.len()), csum_not_ready))
}
