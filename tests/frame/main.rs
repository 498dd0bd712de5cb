//! Ethernet/IPv4/UDP framing and the classic BPF socket filters (`shell::bpf`), checked against
//! the captured dnsmasq frames and against checksums and a BPF interpreter written out here by
//! hand.

mod bpf;
mod building;
mod fuzz;
mod helpers;
mod rejections;
