//! The AF_PACKET socket DHCP speaks through before (and while) it has an address.
//!
//! Written against libc directly: neither pnet's datalink layer (blocking, no socket filter, no
//! PACKET_AUXDATA) nor socket2 covers attaching a classic BPF program and reading the kernel's
//! checksum status, and both are needed here.

use crate::frame::{bpf_dhcp_client_and_arp_for, BpfInsn, BPF_DHCP_CLIENT};
use std::io;
use std::mem::{size_of, zeroed};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

pub const ETH_P_ALL: u16 = 0x0003;
const PACKET_AUXDATA: libc::c_int = 8;
const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;

/// struct tpacket_auxdata (linux/if_packet.h).
#[repr(C)]
#[derive(Clone, Copy)]
struct TpacketAuxdata {
    tp_status: u32,
    tp_len: u32,
    tp_snaplen: u32,
    tp_mac: u16,
    tp_net: u16,
    tp_vlan_tci: u16,
    tp_vlan_tpid: u16,
}

/// A raw Ethernet socket bound to one interface and one EtherType.
pub struct RawSocket {
    fd: AsyncFd<OwnedFd>,
    ifindex: u32,
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn setsockopt<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live T of the given size for the duration of the call.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })
    .map(|_| ())
}

fn attach_filter(fd: &OwnedFd, program: &[BpfInsn]) -> io::Result<()> {
    let filter: Vec<libc::sock_filter> = program
        .iter()
        .map(|&BpfInsn { code, jt, jf, k }| libc::sock_filter { code, jt, jf, k })
        .collect();
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)
}

fn sockaddr_ll(ifindex: u32, proto: u16, dst: Option<[u8; 6]>) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
    let mut sa: libc::sockaddr_ll = unsafe { zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = proto.to_be();
    sa.sll_ifindex = ifindex as i32;
    if let Some(mac) = dst {
        sa.sll_halen = 6;
        sa.sll_addr[..6].copy_from_slice(&mac);
    }
    sa
}

impl RawSocket {
    /// The client's one packet socket on interface `ifindex`, filtered in the kernel down to
    /// UDP to port 68 (and ARP while probing, see [`RawSocket::set_arp`]). Needs CAP_NET_RAW.
    ///
    /// One socket serves DHCP and ARP because closing a packet socket waits for an RCU grace
    /// period (synchronize_net): an ARP socket per probe, closed after it, cost ~12 ms of a
    /// single-threaded daemon's time per interface, 1.2 s for 100 interfaces.
    pub fn dhcp(ifindex: u32) -> io::Result<RawSocket> {
        Self::open(ifindex, ETH_P_ALL, &BPF_DHCP_CLIENT)
    }

    /// Lets the ARP frames about `addr` through the filter too (while probing it), or (None)
    /// stops them again.
    pub fn set_arp(&self, addr: Option<Ipv4Addr>) -> io::Result<()> {
        match addr {
            Some(addr) => attach_filter(self.fd.get_ref(), &bpf_dhcp_client_and_arp_for(addr)),
            None => attach_filter(self.fd.get_ref(), &BPF_DHCP_CLIENT),
        }
    }

    fn open(ifindex: u32, proto: u16, program: &[BpfInsn]) -> io::Result<RawSocket> {
        // SAFETY: plain socket(2) call; the result is checked before it is wrapped.
        let raw = check(unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                // Protocol 0: receive nothing until the filter is attached and we bind.
                0,
            )
        })?;
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        attach_filter(&fd, program)?;
        setsockopt(&fd, libc::SOL_PACKET, PACKET_AUXDATA, &1 as &libc::c_int)?;

        let sa = sockaddr_ll(ifindex, proto, None);
        // SAFETY: `sa` is a valid sockaddr_ll and the length matches it.
        check(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        })?;
        // SAFETY: the OwnedFd moves into the AsyncFd and stays open for as long as it is
        // registered. Must run inside the tokio runtime, as every caller does.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
            .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(RawSocket { fd, ifindex })
    }

    /// Sends one complete Ethernet frame to `dst_mac` (its EtherType is read from the frame).
    pub fn send(&self, frame: &[u8], dst_mac: [u8; 6]) -> io::Result<()> {
        let proto = match frame.get(12..14) {
            Some(t) => u16::from_be_bytes([t[0], t[1]]),
            None => return Err(io::Error::new(io::ErrorKind::InvalidInput, "short frame")),
        };
        let sa = sockaddr_ll(self.ifindex, proto, Some(dst_mac));
        // SAFETY: frame and sa are valid for the lengths given.
        let n = unsafe {
            libc::sendto(
                self.fd.get_ref().as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&sa as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Receives one frame into `buf`. Returns its length and whether the kernel marked its
    /// checksum as not computed yet (TP_STATUS_CSUMNOTREADY, as on veth and with offload).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, bool)> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| recv_aux(fd.get_ref().as_raw_fd(), buf)) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }
}

fn recv_aux(fd: libc::c_int, buf: &mut [u8]) -> io::Result<(usize, bool)> {
    // Room for one cmsg carrying a tpacket_auxdata, u64-aligned.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data; all-zero is valid and the pointers set below outlive the call.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 8]>();
    // SAFETY: msg describes valid buffers.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_TRUNC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut csum_not_ready = false;
    // SAFETY: the CMSG_* macros walk the control buffer the kernel just filled in.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_PACKET && (*cmsg).cmsg_type == PACKET_AUXDATA {
                let aux: TpacketAuxdata =
                    std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<TpacketAuxdata>());
                csum_not_ready = aux.tp_status & TP_STATUS_CSUMNOTREADY != 0;
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    // MSG_TRUNC returns the real length; a frame bigger than the buffer is cut, not trusted.
    Ok(((n as usize).min(buf.len()), csum_not_ready))
}
