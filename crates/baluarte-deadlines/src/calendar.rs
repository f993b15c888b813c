//! Business days in Mexico.

use std::collections::BTreeSet;

use jiff::civil::{Date, Weekday};

/// Which days count as business days. Saturdays, Sundays and Mexico's statutory rest days (Ley Federal del
/// Trabajo, art. 74) never do; days an authority declares can be added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    extra_holidays: BTreeSet<Date>,
}

impl Calendar {
    /// Weekends and the statutory rest days of art. 74 LFT, with no declared extra days.
    pub fn mexico() -> Self {
        Self::default()
    }

    /// [`Calendar::mexico`] plus days an authority declares non-working (e.g. a decree, an election day).
    pub fn with_extra_holidays(days: Vec<Date>) -> Self {
        Self {
            extra_holidays: days.into_iter().collect(),
        }
    }

    /// The declared extra days, in date order.
    pub fn extra_holidays(&self) -> impl Iterator<Item = Date> + '_ {
        self.extra_holidays.iter().copied()
    }

    /// Whether `date` is a statutory rest day or a declared extra day, whatever its weekday.
    pub fn is_holiday(&self, date: Date) -> bool {
        is_statutory_rest_day(date) || self.extra_holidays.contains(&date)
    }

    /// Whether `date` is a business day: a weekday that is not a holiday.
    pub fn is_business_day(&self, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.is_holiday(date)
    }

    /// The `n`th business day after `date`, not counting `date` itself even when it is a business day, so
    /// Friday + 1 is the next Monday and Saturday + 1 is that same Monday. `n = 0` returns `date`. `None`
    /// only when the result would be after 9999-12-31, the last date jiff represents.
    pub fn add_business_days(&self, date: Date, n: u32) -> Option<Date> {
        let mut current = date;
        let mut left = n;
        while left > 0 {
            current = current.tomorrow().ok()?;
            if self.is_business_day(current) {
                left -= 1;
            }
        }
        Some(current)
    }
}

/// Art. 74 LFT. The Monday rules (since the 2006 reform) and the 1 October transfer of federal executive
/// power (since 2024) are applied to every year; earlier transfers were on 1 December, kept so that dates up
/// to 2018 stay right.
fn is_statutory_rest_day(date: Date) -> bool {
    let (year, day) = (date.year(), date.day());
    let nth_monday = |n: i8| date.weekday() == Weekday::Monday && (day - 1) / 7 + 1 == n;
    match date.month() {
        1 => day == 1,
        2 => nth_monday(1),
        3 => nth_monday(3),
        5 => day == 1,
        9 => day == 16,
        10 => day == 1 && year >= 2024 && (year - 2024) % 6 == 0,
        11 => nth_monday(3),
        12 => day == 25 || (day == 1 && year <= 2018 && (2018 - year) % 6 == 0),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn statutory_days_of_2026() {
        let cal = Calendar::mexico();
        let holidays: Vec<Date> = (0..365)
            .filter_map(|d| date(2026, 1, 1).checked_add(jiff::Span::new().days(d)).ok())
            .filter(|d| cal.is_holiday(*d))
            .collect();
        assert_eq!(
            holidays,
            [
                date(2026, 1, 1),
                date(2026, 2, 2),
                date(2026, 3, 16),
                date(2026, 5, 1),
                date(2026, 9, 16),
                date(2026, 11, 16),
                date(2026, 12, 25),
            ]
        );
    }

    #[test]
    fn transfer_of_power_days() {
        let cal = Calendar::mexico();
        assert!(cal.is_holiday(date(2024, 10, 1)));
        assert!(cal.is_holiday(date(2030, 10, 1)));
        assert!(cal.is_holiday(date(2036, 10, 1)));
        assert!(!cal.is_holiday(date(2026, 10, 1)));
        assert!(cal.is_holiday(date(2018, 12, 1)));
        assert!(!cal.is_holiday(date(2024, 12, 1)));
    }

    #[test]
    fn zero_and_weekend_starts() {
        let cal = Calendar::mexico();
        let saturday = date(2026, 1, 17);
        assert_eq!(cal.add_business_days(saturday, 0), Some(saturday));
        assert_eq!(cal.add_business_days(saturday, 1), Some(date(2026, 1, 19)));
        assert_eq!(cal.add_business_days(date(2026, 1, 16), 1), Some(date(2026, 1, 19)));
    }

    #[test]
    fn end_of_representable_time_is_none_not_a_panic() {
        let cal = Calendar::mexico();
        assert_eq!(cal.add_business_days(date(9999, 12, 30), 5), None);
        assert_eq!(cal.add_business_days(date(9999, 12, 20), u32::MAX), None);
    }
}
