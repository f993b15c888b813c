//! Backoff schedule for failed deliveries.

use std::time::Duration;

/// Number of retries after the first attempt before a delivery is abandoned.
pub const MAX_RETRIES: u32 = 6;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;

/// How long to wait before retrying a delivery whose `attempt`-th try just failed (1 after the first failure).
///
/// The schedule is 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, then `None`: give up. It spreads retries over about a day so
/// that a receiver that is down overnight still gets the notification, without hammering it meanwhile. `0` is treated
/// like `1` so that a caller counting from zero retries rather than giving up at once.
pub fn retry_delay(attempt: u32) -> Option<Duration> {
    let secs = match attempt {
        0 | 1 => MINUTE,
        2 => 5 * MINUTE,
        3 => 30 * MINUTE,
        4 => 2 * HOUR,
        5 => 6 * HOUR,
        6 => 12 * HOUR,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_then_give_up() {
        let minutes: Vec<Option<u64>> = (1..=7).map(|a| retry_delay(a).map(|d| d.as_secs() / 60)).collect();
        assert_eq!(
            minutes,
            [Some(1), Some(5), Some(30), Some(120), Some(360), Some(720), None]
        );
        assert_eq!(retry_delay(0), retry_delay(1));
        assert_eq!(retry_delay(MAX_RETRIES + 1), None);
        assert_eq!(retry_delay(u32::MAX), None);
    }
}
