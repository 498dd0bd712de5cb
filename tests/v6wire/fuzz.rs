//! A fuzz loop on stable: mutations of good messages (and of the captured server replies)
//! through the `reply6` fuzz target's own check, so that a plain `cargo test` holds the same
//! rules as `fuzz/run`.

use crate::build::*;

#[allow(dead_code)]
#[path = "../../fuzz/src/reply6.rs"]
mod reply6;

const ITERS: usize = 40_000;

fn mutate(rng: &mut fastrand::Rng, base: &[u8]) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..rng.usize(1..=6) {
        let n = b.len();
        match rng.u8(0..5) {
            0 if n > 0 => b[rng.usize(..n)] = rng.u8(..),
            1 if n > 0 => b[rng.usize(..n)] ^= 1 << rng.u8(0..8),
            2 => b.truncate(rng.usize(0..=n)),
            3 => b.insert(rng.usize(0..=n), rng.u8(..)),
            // An option length (or IA inner length) made wrong on purpose.
            _ if n > 6 => {
                let i = rng.usize(4..n - 1);
                b[i] = 0;
                b[i + 1] = rng.u8(..);
            }
            _ => {}
        }
    }
    b
}

fn seeds() -> Vec<Vec<u8>> {
    let ntp = [
        opt(1, &a("2001:db8::7b").octets()),
        opt(3, &names(&["ntp.example"])),
    ]
    .concat();
    vec![
        reply(&[
            ia_na(
                1,
                100,
                200,
                &[iaaddr("2001:db8::1", 10, 20), status(0, b"ok")],
            ),
            ia_pd(2, 100, 200, &[iaprefix(10, 20, 56, "2001:db8:100::")]),
            addresses(23, &["2001:db8::53"]),
            opt(24, &names(&["example.com", "lab.example"])),
            opt(56, &ntp),
            opt(32, &[0, 0, 2, 0]),
            opt(7, &[3]),
        ]),
        msg(
            2,
            &[server_id(), client_id(), opt(14, &[]), status(2, b"none")],
        ),
        include_bytes!("../data/dnsmasq6-advertise.dhcp6").to_vec(),
        include_bytes!("../data/dnsmasq6-reply.dhcp6").to_vec(),
    ]
}

#[test]
fn mutated_replies_keep_every_rule() {
    let mut rng = fastrand::Rng::with_seed(0x6_2026);
    let seeds = seeds();
    for s in &seeds {
        reply6::reply6(s);
    }
    for _ in 0..ITERS {
        let base = &seeds[rng.usize(..seeds.len())];
        reply6::reply6(&mutate(&mut rng, base));
    }
}

#[test]
fn random_bytes_keep_every_rule() {
    let mut rng = fastrand::Rng::with_seed(20);
    for _ in 0..ITERS {
        let n = rng.usize(0..200);
        let mut b: Vec<u8> = (0..n).map(|_| rng.u8(..)).collect();
        if let Some(t) = b.first_mut() {
            *t = [2, 7, 10][rng.usize(..3)];
        }
        reply6::reply6(&b);
    }
}
