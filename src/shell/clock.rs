//! The shell's clock: CLOCK_BOOTTIME, so that time spent suspended counts toward lease timers,
//! and the one timer of the whole process that every interface's deadlines wait on.

use crate::time::Instant;
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId as TfdClock, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use nix::time::{clock_gettime, ClockId};
use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::unix::AsyncFd;

/// Now, on CLOCK_BOOTTIME.
pub fn now() -> Instant {
    match clock_gettime(ClockId::CLOCK_BOOTTIME) {
        Ok(ts) => Instant::from_duration(Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32)),
        // CLOCK_BOOTTIME exists on every kernel since 2.6.39; fall back rather than panic.
        Err(_) => match clock_gettime(ClockId::CLOCK_MONOTONIC) {
            Ok(ts) => {
                Instant::from_duration(Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32))
            }
            Err(_) => Instant::ZERO,
        },
    }
}

/// Waits until CLOCK_BOOTTIME reaches `deadline`: a lease deadline fires at the right moment
/// even across a suspend (tokio's timers run on the monotonic clock, which stops then), with
/// one wake-up at the deadline and none before. Must be polled inside the tokio runtime.
///
/// Every deadline of the process waits on one timerfd (a [`Deadlines`] service, made by the
/// first sleep): a thousand interfaces cost one descriptor, not a thousand. Written by hand
/// because no crate offers timers on CLOCK_BOOTTIME behind one descriptor: tokio's wheel is
/// monotonic, and the timerfd crates give one descriptor per timer.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        entry: None,
        fallback: None,
    }
}

/// Makes the process's timer now (it is made by the first sleep otherwise), so that it has
/// its descriptor before the interfaces take theirs. Inside the tokio runtime.
pub fn start() -> io::Result<()> {
    Deadlines::get().map(|_| ())
}

/// The future of [`sleep_until`]. Dropping it takes its deadline off the timer.
pub struct Sleep {
    deadline: Instant,
    /// The service it waits in and its key there, once polled.
    entry: Option<(Arc<Deadlines>, u64)>,
    /// Without a timerfd (none could be made: out of descriptors), tokio's monotonic timer,
    /// which is late by the time spent suspended, but never spins.
    fallback: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Future for Sleep {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let deadline = self.deadline;
        if now() >= deadline {
            self.forget();
            return Poll::Ready(Ok(()));
        }
        // A service whose runtime has ended (tests run one runtime each) is left for the
        // current one.
        if self.entry.as_ref().is_some_and(|(d, _)| !d.alive()) {
            self.entry = None;
        }
        if let Some(sleep) = self.fallback.as_mut() {
            return sleep.as_mut().poll(cx).map(Ok);
        }
        if self.entry.is_none() {
            match Deadlines::get() {
                Ok(d) => {
                    let id = d.next_id();
                    self.entry = Some((d, id));
                }
                Err(e) => {
                    tracing::warn!("cannot make the timer ({e}): waiting on the monotonic clock");
                    let left = deadline.saturating_since(now());
                    let mut sleep = Box::pin(tokio::time::sleep(left));
                    let polled = sleep.as_mut().poll(cx).map(Ok);
                    self.fallback = Some(sleep);
                    return polled;
                }
            }
        }
        if let Some((d, id)) = &self.entry {
            let mut inner = d.lock();
            inner.waiting.insert((deadline, *id), cx.waker().clone());
            d.rearm(&mut inner);
        }
        Poll::Pending
    }
}

impl Sleep {
    fn forget(&mut self) {
        if let Some((d, id)) = self.entry.take() {
            let mut inner = d.lock();
            if inner.waiting.remove(&(self.deadline, id)).is_some() {
                d.rearm(&mut inner);
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.forget();
    }
}

/// The process's deadline service: one CLOCK_BOOTTIME timerfd, armed for the earliest of the
/// deadlines waited for, and a task that wakes those that are due when it fires.
pub struct Deadlines {
    fd: AsyncFd<TimerFdHolder>,
    inner: Mutex<Inner>,
    /// The task that reads the timerfd runs (false once its runtime has ended).
    running: AtomicBool,
}

#[derive(Default)]
struct Inner {
    /// Who waits for what, earliest first; the id tells apart equal deadlines.
    waiting: BTreeMap<(Instant, u64), Waker>,
    ids: u64,
    /// What the timerfd is set to.
    armed: Option<Instant>,
}

struct TimerFdHolder(TimerFd);

impl std::os::fd::AsRawFd for TimerFdHolder {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsFd;
        self.0.as_fd().as_raw_fd()
    }
}

static SERVICE: Mutex<Option<Arc<Deadlines>>> = Mutex::new(None);

/// Tells the service its task is gone when the task is dropped (its runtime shut down).
struct Running(Arc<Deadlines>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::SeqCst);
        // Whoever still waits (a future of another runtime, as tests have one each) is woken
        // to find the service gone and wait in a new one of its own runtime.
        let waiting = std::mem::take(&mut self.0.lock().waiting);
        for (_, waker) in waiting {
            waker.wake();
        }
    }
}

impl Deadlines {
    /// The process's service, started on first use (inside the tokio runtime).
    fn get() -> io::Result<Arc<Deadlines>> {
        let mut service = SERVICE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = service.as_ref().filter(|d| d.alive()) {
            return Ok(d.clone());
        }
        let tfd = TimerFd::new(
            TfdClock::CLOCK_BOOTTIME,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        // SAFETY: the timerfd moves into the AsyncFd and stays open while registered.
        let fd = unsafe {
            AsyncFd::register_with_interest(TimerFdHolder(tfd), tokio::io::Interest::READABLE)
        }?;
        let d = Arc::new(Deadlines {
            fd,
            inner: Mutex::new(Inner::default()),
            running: AtomicBool::new(true),
        });
        let guard = Running(d.clone());
        tokio::spawn(async move {
            let d = &guard.0;
            loop {
                let mut ready = match d.fd.readable().await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!("the timer: {e}");
                        return;
                    }
                };
                // The expiry count is not needed; a read that would block clears readiness.
                let _ = ready.try_io(|fd| {
                    let mut count = [0u8; 8];
                    nix::unistd::read(&fd.get_ref().0, &mut count)
                        .map(|_| ())
                        .map_err(io::Error::from)
                });
                d.fire();
            }
        });
        *service = Some(d.clone());
        Ok(d)
    }

    fn alive(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next_id(&self) -> u64 {
        let mut inner = self.lock();
        inner.ids += 1;
        inner.ids
    }

    /// Wakes every waiter whose deadline has come, and sets the timer for the next.
    fn fire(&self) {
        let mut inner = self.lock();
        let now = now();
        while let Some(entry) = inner.waiting.first_entry() {
            if entry.key().0 > now {
                break;
            }
            entry.remove().wake();
        }
        inner.armed = None;
        self.rearm(&mut inner);
    }

    /// Sets the timerfd to the earliest deadline waited for (or stops it when none is), so
    /// that the process wakes only when something is due.
    fn rearm(&self, inner: &mut Inner) {
        let earliest = inner.waiting.keys().next().map(|k| k.0);
        if earliest == inner.armed {
            return;
        }
        let timer = &self.fd.get_ref().0;
        let set = match earliest {
            // A deadline of zero would disarm the timer: the epoch itself is a nanosecond on.
            Some(at) => timer.set(
                Expiration::OneShot(TimeSpec::from_duration(
                    at.as_duration().max(Duration::from_nanos(1)),
                )),
                TimerSetTimeFlags::TFD_TIMER_ABSTIME,
            ),
            None => timer.unset(),
        };
        match set {
            Ok(()) => inner.armed = earliest,
            Err(e) => {
                // Waiters would sleep forever: wake them all, so that they poll again.
                tracing::warn!("setting the timer: {e}");
                inner.armed = None;
                for (_, w) in std::mem::take(&mut inner.waiting) {
                    w.wake();
                }
            }
        }
    }
}
