//! Keeping an idle daemon small: after each lease event has settled, the heap is trimmed and
//! the pages of dhcpc's own code that start-up or the event touched are handed back.

/// One malloc arena for the whole process, set before any thread starts. glibc gives each
/// thread that allocates an arena of its own: the file writer's kept some 500 KiB resident
/// after a burst of a thousand lease files. The writer allocates little, and seldom, so
/// sharing the main arena costs nothing measurable.
pub fn one_arena() {
    // SAFETY: mallopt only changes the allocator's tuning; called before other threads exist.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Gives memory the daemon does not need while idle back to the system: freed heap
/// (malloc_trim) and the pages of its own code that start-up or a lease event touched.
pub fn shrink() {
    // SAFETY: malloc_trim only releases free memory of the allocator.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::malloc_trim(0);
    }
    release_code_pages();
}

/// Asks the kernel to reclaim the pages of dhcpc's own code and read-only data that start-up
/// touched (argument parsing, the first netlink dumps) and a bound daemon will not need again:
/// they drop out of the resident set and come back from the page cache if ever used.
/// MADV_PAGEOUT is only a reclaim hint: contents never change, whatever the kernel does with it.
fn release_code_pages() {
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return;
    };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let exe = exe.to_string_lossy();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        // Read-only or executable mappings of our own binary; never writable ones.
        if !line.ends_with(exe.as_ref()) || perms.contains('w') {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        // SAFETY: the range is one of this process's own mappings, and MADV_PAGEOUT does not
        // change what the memory reads as.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT);
        }
    }
}
