//! Giving freed memory back to the system while the server is idle.
//!
//! The allocator (mimalloc, `main.rs`) returns the pages a thread frees only after a
//! delay, and only when some thread later frees pages again: a server that goes quiet
//! after a burst, or a hashing thread that frees its 12 MiB of argon2 memory and then
//! waits for the next sign-in, would keep that memory resident however long it idles.
//! [`release_now`] hands every page already free back at once; [`release_periodically`]
//! does the cheap, non-forcing version of it on a timer, so that memory freed anywhere
//! leaves the process within a few seconds of the load ending.

use std::time::Duration;

/// Sets the process up to stay small when idle; called first in `main`. Transparent huge
/// pages are turned off for the process: with them, touching one byte of a 2 MiB region
/// made the whole 2 MiB resident, and a 64 KiB page mimalloc freed inside it could not
/// leave (an idle server held ~20 MiB of freed memory so). mimalloc itself is built not to
/// ask for huge pages (`no_thp`, `Cargo.toml`); this covers hosts whose kernel gives them
/// unasked (`/sys/kernel/mm/transparent_hugepage/enabled` = `always`).
pub fn configure() {
    #[cfg(target_os = "linux")]
    disable_transparent_huge_pages();
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn disable_transparent_huge_pages() {
    // SAFETY: `prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)` takes no pointers; it sets a flag
    // of this process that the kernel reads when it next faults memory in. Failure (an
    // old kernel) leaves huge pages as the system has them, which is only bigger.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

/// Returns to the system every page the allocator holds free, now (a few `madvise`
/// calls; meant for after a large free, not for every request).
pub fn release_now() {
    collect(true);
}

/// Every `every`, returns the pages whose return delay has passed (cheap when there are
/// none). Runs as a background job (`startup.rs`) until the process ends.
pub async fn release_periodically(every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        collect(false);
    }
}

/// `mi_collect`: frees the calling thread's retired pages and purges what the arenas
/// hold free — all of it when `force`, else what has waited out its delay.
#[allow(unsafe_code)]
fn collect(force: bool) {
    // SAFETY: `mi_collect` takes no pointers and may be called from any thread at any
    // time; when mimalloc is not the global allocator (tests), it only tidies mimalloc's
    // own empty heap.
    unsafe { libmimalloc_sys::mi_collect(force) }
}
