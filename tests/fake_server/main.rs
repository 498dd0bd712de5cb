//! A scripted DHCP server, in Rust, for the faults real servers will not make: malformed
//! replies, wrong xids and chaddrs, non-unicast offers, answers from the wrong server, NAK
//! storms. It adds to the real servers of the other tests; it runs in the lab's server
//! namespace (a thread that enters it) and answers by UDP broadcast to port 68.

#[path = "../common/mod.rs"]
mod common;

mod floods;
mod hostile;
mod options;
mod ordeal;
mod replies;
mod server;
