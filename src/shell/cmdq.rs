//! The command queue of one interface's driver (from the control socket, the signal handler
//! and the start-up): a small bounded multi-producer, single-consumer channel.
//!
//! Written here rather than taken from tokio: `tokio::sync::mpsc` keeps a block of 32 slots
//! and a cache-padded channel of about 1 KiB for every interface, for a queue that holds a
//! command a day. This one is a mutex-guarded deque, the receiver's waker and a `Notify` for
//! the senders (about 140 bytes); it is polled ([`Receiver::poll_recv`]), so that a driver
//! waiting on it keeps no future for it; and it can run a closure once the driver has gone,
//! which saves a task per interface that would otherwise wait for that. The semantics the
//! callers rely on are tokio's: `send` waits while the queue is full and fails once the
//! receiver is gone, `recv` returns None once every sender is gone, `closed` waits for the
//! receiver to be gone.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use tokio::sync::Notify;

/// Commands queued at most, before a sender waits.
const CAPACITY: usize = 8;

type OnClose = Box<dyn FnOnce() + Send>;

struct State<T> {
    queue: VecDeque<T>,
    senders: usize,
    receiver: bool,
    on_close: Vec<OnClose>,
    /// The receiver waiting for a command, or for the last sender to go.
    to_receiver: Option<Waker>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Room was made, or the receiver went.
    to_senders: Notify,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while holding it; a poisoned lock still holds a consistent queue.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A queue of at most [`CAPACITY`] commands.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            senders: 1,
            receiver: true,
            on_close: Vec::new(),
            to_receiver: None,
        }),
        to_senders: Notify::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waiting = {
            let mut st = self.shared.lock();
            st.senders -= 1;
            if st.senders == 0 {
                st.to_receiver.take()
            } else {
                None
            }
        };
        if let Some(w) = waiting {
            w.wake();
        }
    }
}

impl<T> Sender<T> {
    /// Queues `item`, waiting while the queue is full; gives it back if the receiver is gone.
    pub async fn send(&self, item: T) -> Result<(), T> {
        loop {
            let room = self.shared.to_senders.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut st = self.shared.lock();
                if !st.receiver {
                    return Err(item);
                }
                if st.queue.len() < CAPACITY {
                    st.queue.push_back(item);
                    let waiting = st.to_receiver.take();
                    drop(st);
                    if let Some(w) = waiting {
                        w.wake();
                    }
                    return Ok(());
                }
            }
            room.await;
        }
    }

    /// Waits until the receiver is gone.
    pub async fn closed(&self) {
        loop {
            let change = self.shared.to_senders.notified();
            tokio::pin!(change);
            change.as_mut().enable();
            if !self.shared.lock().receiver {
                return;
            }
            change.await;
        }
    }

    /// Runs `f` once the receiver is gone (at once if it already is).
    pub fn on_close(&self, f: impl FnOnce() + Send + 'static) {
        let mut st = self.shared.lock();
        if st.receiver {
            st.on_close.push(Box::new(f));
        } else {
            drop(st);
            f();
        }
    }
}

pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Receiver<T> {
    /// The next command; None once the queue is empty and every sender is gone. Cancel-safe:
    /// a command is taken only when it is returned.
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`Receiver::recv`] as a poll: the waker is kept in the queue until a command comes or
    /// the last sender goes.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut st = self.shared.lock();
        if let Some(item) = st.queue.pop_front() {
            drop(st);
            self.shared.to_senders.notify_waiters();
            return Poll::Ready(Some(item));
        }
        if st.senders == 0 {
            return Poll::Ready(None);
        }
        match &mut st.to_receiver {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (queued, on_close) = {
            let mut st = self.shared.lock();
            st.receiver = false;
            (
                std::mem::take(&mut st.queue),
                std::mem::take(&mut st.on_close),
            )
        };
        // Dropped outside the lock: a queued status request's reply channel closes here.
        drop(queued);
        self.shared.to_senders.notify_waiters();
        for f in on_close {
            f();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn commands_arrive_in_order_and_the_end_is_seen() {
        let (tx, mut rx) = channel();
        let tx2 = tx.clone();
        tx.send(1).await.unwrap();
        tx2.send(2).await.unwrap();
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        drop(tx);
        drop(tx2);
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn a_full_queue_makes_the_sender_wait_until_there_is_room() {
        let (tx, mut rx) = channel();
        for i in 0..CAPACITY {
            tx.send(i).await.unwrap();
        }
        let waiting = tokio::time::timeout(Duration::from_millis(50), tx.send(99)).await;
        assert!(waiting.is_err(), "the ninth command should wait");
        let later = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(100).await }
        });
        tokio::task::yield_now().await;
        assert_eq!(rx.recv().await, Some(0));
        assert!(later.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_gone_receiver_fails_sends_ends_closed_and_runs_on_close() {
        let (tx, rx) = channel::<u32>();
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        tx.on_close(move || r.store(true, Ordering::SeqCst));
        let waiter = tokio::spawn({
            let tx = tx.clone();
            async move { tx.closed().await }
        });
        tokio::task::yield_now().await;
        assert!(!ran.load(Ordering::SeqCst));
        drop(rx);
        waiter.await.unwrap();
        assert!(ran.load(Ordering::SeqCst));
        assert_eq!(tx.send(5).await, Err(5));
        let again = Arc::new(AtomicBool::new(false));
        let a = again.clone();
        tx.on_close(move || a.store(true, Ordering::SeqCst));
        assert!(again.load(Ordering::SeqCst), "after the end, at once");
    }

    #[tokio::test]
    async fn a_pending_recv_wakes_for_a_command_and_for_the_last_sender() {
        let (tx, mut rx) = channel();
        let got = tokio::spawn(async move {
            let first = rx.recv().await;
            let second = rx.recv().await;
            (first, second)
        });
        tokio::task::yield_now().await;
        tx.send(7).await.unwrap();
        tokio::task::yield_now().await;
        drop(tx);
        assert_eq!(got.await.unwrap(), (Some(7), None));
    }
}
