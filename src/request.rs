//! Checks that both front doors (the CLI and the HTTP API) apply to a request in the same way,
//! so the same bad input is refused with the same field name and message whichever door it
//! came through. Each check names the field as the HTTP request spells it (`time_limit_s`,
//! `name`); the CLI prints that name beside its message.

use std::time::Duration;

/// A request field that failed a check, and why (both languages).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    /// The field as the HTTP request spells it.
    pub field: &'static str,
    /// What is wrong, in both languages.
    pub message: String,
}

/// The time an analysis may search: `requested` seconds, else `default`. Refused: zero,
/// negative, not a number, too large for a duration, and (on a server) above `cap`, the
/// server's `--analysis-seconds`. The CLI, on the analyst's own machine, passes no cap.
pub fn time_limit(
    requested: Option<f64>,
    default: f64,
    cap: Option<f64>,
) -> Result<Duration, FieldError> {
    let bad = |message: String| FieldError {
        field: "time_limit_s",
        message,
    };
    let seconds = match requested {
        Some(t) if !(t.is_finite() && t > 0.0) => {
            return Err(bad(format!(
                "time_limit_s = {t}: 应为正数（秒） / must be a positive number of seconds"
            )));
        }
        Some(t) => {
            if let Some(max) = cap
                && t > max
            {
                return Err(bad(format!(
                    "time_limit_s = {t}: 本服务每次分析最多 {max} 秒 / this server allows at most {max} s per analysis (liancun serve --analysis-seconds)"
                )));
            }
            t
        }
        None => cap.map_or(default, |max| default.min(max)),
    };
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| bad(format!("time_limit_s = {seconds}: 太大 / too large")))
}

/// The longest plan name, in characters.
pub const PLAN_NAME_MAX_CHARS: usize = 60;

/// A plan's name, trimmed: 1–60 characters without control characters.
pub fn plan_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > PLAN_NAME_MAX_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(FieldError {
            field: "name",
            message: format!(
                "方案名称应为 1–{PLAN_NAME_MAX_CHARS} 个字，不含控制字符 / the plan name must be 1–{PLAN_NAME_MAX_CHARS} characters without control characters"
            ),
        });
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limits_are_positive_and_within_the_servers_cap() {
        assert_eq!(time_limit(None, 60.0, None), Ok(Duration::from_secs(60)));
        assert_eq!(
            time_limit(None, 60.0, Some(30.0)),
            Ok(Duration::from_secs(30))
        );
        assert_eq!(
            time_limit(Some(5.0), 60.0, Some(30.0)),
            Ok(Duration::from_secs(5))
        );
        assert_eq!(
            time_limit(Some(7200.0), 60.0, None),
            Ok(Duration::from_secs(7200))
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e20] {
            let e = time_limit(Some(bad), 60.0, None).unwrap_err();
            assert_eq!(e.field, "time_limit_s", "{bad}");
        }
        let e = time_limit(Some(31.0), 60.0, Some(30.0)).unwrap_err();
        assert!(e.message.contains("30"), "{e}");
    }

    #[test]
    fn plan_names_are_trimmed_short_and_printable() {
        assert_eq!(plan_name("  东片区 ").unwrap(), "东片区");
        for bad in ["", "   ", "a\u{7}b", "x\ny", &"长".repeat(61)] {
            assert_eq!(plan_name(bad).unwrap_err().field, "name", "{bad:?}");
        }
        assert!(plan_name(&"长".repeat(60)).is_ok());
    }
}
