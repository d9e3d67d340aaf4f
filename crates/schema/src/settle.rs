//! When a batch load may be taken: once the request that asked for it has
//! stalled, so that every key its resolvers can add has been added.
//!
//! async-graphql resolves a query's fields as futures joined inside the one
//! future that executes the request. When that future returns `Pending`
//! without having woken itself, every field that could make progress has
//! run until it waits on something: a batch, a statement or a timer. A
//! batch taken after that moment holds every key that level of the query
//! asks for, whatever runtime polls the request, on however many threads,
//! and however loaded the machine is. A future that yields (as
//! `FuturesUnordered` does after 32 items of a list) wakes itself before
//! returning `Pending`, so a yield is not a stall. (A wake-up the runtime
//! defers until after the poll, as tokio's `yield_now` does, looks like a
//! stall: a batch may then go early and a level take two statements, but
//! no key is ever left waiting.)

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::Stream;
use tokio::sync::Notify;

/// The stalls of one request's execution, counted.
#[derive(Clone, Default)]
pub(crate) struct Stalls(Arc<Counted>);

#[derive(Default)]
struct Counted {
    stalls: AtomicU64,
    /// Set once the execution is polled through [`Settled`]; without it
    /// nobody would count the stalls, and a batch goes at once.
    watched: AtomicBool,
    notify: Notify,
}

impl Stalls {
    /// Waits for the first stall after this call. Called while the request
    /// is being polled (a resolver asked for a key), it returns once that
    /// poll, or a later one, ends in a stall.
    pub(crate) fn next(&self) -> impl Future<Output = ()> + Send + 'static {
        let counted = self.0.clone();
        let seen = counted.stalls.load(Ordering::Acquire);
        async move {
            if !counted.watched.load(Ordering::Acquire) {
                return;
            }
            loop {
                let notified = counted.notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if counted.stalls.load(Ordering::Acquire) > seen {
                    return;
                }
                notified.await;
            }
        }
    }

    fn stalled(&self) {
        self.0.stalls.fetch_add(1, Ordering::AcqRel);
        self.0.notify.notify_waiters();
    }

    /// Polls `inner` with a waker that notes whether `inner` woke itself.
    fn poll_watched<T>(
        &self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        self.0.watched.store(true, Ordering::Release);
        let noting = Arc::new(Noting {
            woken: AtomicBool::new(false),
            outer: cx.waker().clone(),
        });
        let waker = Waker::from(noting.clone());
        let answer = poll(&mut Context::from_waker(&waker));
        if answer.is_ready() || !noting.woken.load(Ordering::Acquire) {
            self.stalled();
        }
        answer
    }
}

/// Passes wake-ups on, noting that one came.
struct Noting {
    woken: AtomicBool,
    outer: Waker,
}

impl Wake for Noting {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.outer.wake_by_ref();
    }
}

/// A request's execution (a future or a stream of answers) that counts its
/// stalls. Dropping it counts one more, so that no batch waits on a request
/// that was cut off.
pub(crate) struct Settled<F> {
    inner: Pin<Box<F>>,
    stalls: Stalls,
}

impl<F> Settled<F> {
    pub(crate) fn new(inner: F, stalls: Stalls) -> Self {
        Self {
            inner: Box::pin(inner),
            stalls,
        }
    }
}

impl<F> Drop for Settled<F> {
    fn drop(&mut self) {
        self.stalls.stalled();
    }
}

impl<F: Future> Future for Settled<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        this.stalls
            .poll_watched(cx, |cx| this.inner.as_mut().poll(cx))
    }
}

impl<S: Stream> Stream for Settled<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = &mut *self;
        this.stalls
            .poll_watched(cx, |cx| this.inner.as_mut().poll_next(cx))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Wakes its task and returns `Pending` once.
    async fn yield_once() {
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if std::mem::replace(&mut yielded, true) {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await;
    }

    #[tokio::test]
    async fn a_yield_is_not_a_stall_and_waiting_is() {
        let stalls = Stalls::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let released = Arc::new(AtomicBool::new(false));
        let (waiter, flag) = (stalls.clone(), released.clone());
        let execution = Settled::new(
            async move {
                // Yields as `FuturesUnordered` does between chunks of a list.
                for _ in 0..10 {
                    yield_once().await;
                }
                let batch = waiter.next();
                tokio::spawn(async move {
                    batch.await;
                    flag.store(true, Ordering::Release);
                });
                // A real wait: the batch may go now.
                rx.await.ok();
            },
            stalls.clone(),
        );
        let handle = tokio::spawn(execution);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            stalls.0.stalls.load(Ordering::Acquire),
            1,
            "ten yields and then one wait: one stall"
        );
        assert!(
            released.load(Ordering::Acquire),
            "the stall released the batch"
        );
        tx.send(()).ok();
        handle.await.ok();
        assert_eq!(
            stalls.0.stalls.load(Ordering::Acquire),
            3,
            "the end and the drop count too"
        );
    }

    #[tokio::test]
    async fn a_batch_outside_a_settled_execution_goes_at_once() {
        let stalls = Stalls::default();
        tokio::time::timeout(Duration::from_secs(1), stalls.next())
            .await
            .expect("no one counts stalls, so nobody waits for one");
    }

    #[tokio::test]
    async fn a_batch_waits_for_the_stall_after_it_was_asked_for() {
        let stalls = Stalls::default();
        stalls.0.watched.store(true, Ordering::Release);
        stalls.stalled();
        let next = tokio::spawn(stalls.next());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!next.is_finished(), "an earlier stall does not count");
        stalls.stalled();
        tokio::time::timeout(Duration::from_secs(1), next)
            .await
            .expect("the next stall releases it")
            .ok();
    }
}
