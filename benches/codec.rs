//! Decode and encode of a typical ACK (the dnsmasq ACK captured in tests/data), and the whole
//! receive path from Ethernet frame to checked lease.

use criterion::{criterion_group, criterion_main, Criterion};
use dhcpc::lease::Lease;
use dhcpc::reply::Reply;
use dhcpc::time::Instant;
use dhcpc::{frame, wire};
use std::hint::black_box;
use std::net::Ipv4Addr;

const ACK_FRAME: &[u8] = include_bytes!("../tests/data/dnsmasq-4-ack.eth");
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

fn codec(c: &mut Criterion) {
    let payload = frame::parse(ACK_FRAME, false)
        .expect("captured frame")
        .payload
        .to_vec();
    let msg = wire::decode(&payload).expect("captured ACK");

    c.bench_function("decode ACK", |b| {
        b.iter(|| Reply::parse(black_box(&payload), SERVER).unwrap())
    });
    c.bench_function("encode ACK", |b| {
        b.iter(|| wire::encode(black_box(&msg)).unwrap())
    });
    c.bench_function("frame to lease", |b| {
        b.iter(|| {
            let dgram = frame::parse(black_box(ACK_FRAME), false).unwrap();
            let reply = Reply::parse(dgram.payload, dgram.src_ip).unwrap();
            Lease::from_reply(&reply, Instant::ZERO).unwrap()
        })
    });
}

criterion_group!(benches, codec);
criterion_main!(benches);
