//! Cooperative cancellation of long engine runs (a proposal, a site search).
//!
//! The HTTP layer runs each analysis on a blocking thread under [`scope`] with a [`CancelFlag`]
//! that it raises when the client goes away or the server shuts down. Every engine loop that
//! already stops at its deadline also stops when [`requested`] says so, and answers with what
//! it has (as at a deadline). The flag is carried by the thread rather than through each
//! signature because the deadline checks sit in some forty functions several calls deep; a
//! thread the engine spawns itself takes the flag along with [`current`] + [`scope`].
//! HiGHS solves are not interrupted: they stop at their own time limit, which the server caps.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A shared "stop now" signal.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag that is not raised.
    pub fn new() -> CancelFlag {
        CancelFlag::default()
    }
    /// Asks every run under this flag to stop at its next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Whether the flag has been raised.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<CancelFlag>> = const { RefCell::new(None) };
}

/// Restores the thread's previous flag when the scope ends (also on a panic).
struct Restore(Option<CancelFlag>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Runs `work` on this thread with `flag` as the cancellation signal.
pub fn scope<T>(flag: Option<CancelFlag>, work: impl FnOnce() -> T) -> T {
    let previous = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), flag));
    let _restore = Restore(previous);
    work()
}

/// The flag of the run on this thread, to hand to a thread it spawns.
pub fn current() -> Option<CancelFlag> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Whether the run on this thread has been asked to stop.
pub fn requested() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(CancelFlag::is_cancelled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_reaches_only_its_scope_and_is_restored() {
        assert!(!requested());
        let flag = CancelFlag::new();
        scope(Some(flag.clone()), || {
            assert!(!requested());
            flag.cancel();
            assert!(requested());
            // A nested run without a flag is not cancelled by the outer one.
            scope(None, || assert!(!requested()));
            assert!(requested());
            let inherited = current();
            std::thread::spawn(move || scope(inherited, requested))
                .join()
                .map(|seen| assert!(seen, "a spawned thread takes the flag along"))
                .unwrap();
        });
        assert!(!requested(), "the flag ends with its scope");
        let caught = std::panic::catch_unwind(|| scope(Some(flag.clone()), || panic!("boom")));
        assert!(caught.is_err());
        assert!(!requested(), "restored after a panic too");
    }
}
