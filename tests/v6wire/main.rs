//! The DHCPv6 wire boundary: the typed reply (`reply`, `options`), the encoder (`encode`), and both under
//! hostile and random bytes (`fuzz`).

mod build;
mod encode;
mod fuzz;
mod options;
mod reply;
