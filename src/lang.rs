//! The language of what the command line prints: Chinese, English, or both.
//!
//! Chosen by `--lang zh|en|both`, else by the environment: `LIANCUN_LANG`, then the POSIX locale
//! (`LC_ALL`, `LC_MESSAGES`, `LANG`): `zh…` prints Chinese, `en…` English; a locale that names
//! neither (`C`, `POSIX`, unset) prints both, as before, since nothing says which one the
//! reader wants. The HTTP API is not affected: it sends message codes with both wordings and
//! the client picks.
//!
//! Messages in this code base follow one convention, which [`pick`] relies on: a sentence is
//! written "中文 / English", the Chinese half first. Short labels are written with [`say`].

use std::sync::OnceLock;

/// Which language to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Chinese only.
    Zh,
    /// English only.
    En,
    /// Both, as the messages are written (`中文 / English`).
    Both,
}

impl Lang {
    /// The accepted names, for error messages.
    pub const NAMES: &'static str = "zh, en or both";

    /// A language by name (`zh`, `en`, `both`, and locale names such as `zh_CN.UTF-8`).
    pub fn parse(text: &str) -> Option<Lang> {
        let t = text.trim().to_ascii_lowercase();
        if t.starts_with("zh") {
            Some(Lang::Zh)
        } else if t.starts_with("en") {
            Some(Lang::En)
        } else if t == "both" {
            Some(Lang::Both)
        } else {
            None
        }
    }

    /// From `LIANCUN_LANG` or the POSIX locale variables (the first one set and not empty).
    pub fn from_env() -> Lang {
        Lang::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Lang {
        if let Some(l) = var("LIANCUN_LANG").and_then(|v| Lang::parse(&v)) {
            return l;
        }
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|name| var(name).filter(|v| !v.is_empty()))
            .and_then(|v| match v.to_ascii_lowercase() {
                v if v.starts_with("zh") => Some(Lang::Zh),
                v if v.starts_with("en") => Some(Lang::En),
                _ => None,
            })
            .unwrap_or(Lang::Both)
    }
}

static CURRENT: OnceLock<Lang> = OnceLock::new();

/// Sets the language for this process (the first call wins).
pub fn set(lang: Lang) {
    let _ = CURRENT.set(lang);
}

/// The language chosen, or the environment's when none was set.
pub fn current() -> Lang {
    *CURRENT.get_or_init(Lang::from_env)
}

fn has_cjk(text: &str) -> bool {
    text.chars()
        .any(|c| ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c))
}

/// One half of a message written "中文 / English": the split is at the first "/ " that follows a
/// space or a Chinese character (as in "…」/ no township") with Chinese before it. Text without
/// such a split is returned whole.
pub fn pick_in(lang: Lang, text: &str) -> String {
    if lang == Lang::Both {
        return text.to_string();
    }
    for (at, _) in text.match_indices("/ ") {
        let before = text[..at].chars().next_back();
        let separates = before.is_some_and(|c| c == ' ' || has_cjk(&c.to_string()));
        if separates && has_cjk(&text[..at]) {
            return match lang {
                Lang::Zh => text[..at].trim_end().to_string(),
                _ => text[at + 2..].trim_start().to_string(),
            };
        }
    }
    text.to_string()
}

/// [`pick_in`] in the current language.
pub fn pick(text: &str) -> String {
    pick_in(current(), text)
}

/// The Chinese or the English wording, or both ("中文 English") as before.
pub fn say(zh: &str, en: &str) -> String {
    match current() {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
        Lang::Both => format!("{zh} {en}"),
    }
}

/// An error line for the terminal: "错误 (field): …" or "error (field): …" (both: "错误 error").
pub fn error_line(field: Option<&str>, reason: &str) -> String {
    let head = say("错误", "error");
    match field {
        Some(f) => format!("{head} ({f}): {}", pick(reason)),
        None => format!("{head}: {}", pick(reason)),
    }
}

/// A line for the terminal in the current language: an error line ("错误 error (field): …")
/// gets its prefix in that language and one half of its reason; any other line one half of
/// its "中文 / English" text (lines without that form are printed as they are).
pub fn line(text: &str) -> String {
    line_in(current(), text)
}

fn line_in(lang: Lang, text: &str) -> String {
    if lang == Lang::Both {
        return text.to_string();
    }
    if let Some(rest) = text.strip_prefix("错误 error") {
        let head = if lang == Lang::Zh { "错误" } else { "error" };
        // "(field): reason" or ": reason".
        let (field, reason) = match rest.find("): ") {
            Some(at) if rest.starts_with(" (") => (&rest[..at + 1], &rest[at + 3..]),
            _ => ("", rest.trim_start_matches(':').trim_start()),
        };
        return format!("{head}{field}: {}", pick_in(lang, reason));
    }
    pick_in(lang, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_half_of_a_bilingual_message() {
        let m = "成员 12 个，多于上限 10 / 12 members, more than 10";
        assert_eq!(pick_in(Lang::Zh, m), "成员 12 个，多于上限 10");
        assert_eq!(pick_in(Lang::En, m), "12 members, more than 10");
        assert_eq!(pick_in(Lang::Both, m), m);
        // A path's slash is not the split; a Chinese name in the English half stays.
        let m = "读取 demo/villages.geojson 失败 / cannot read demo/villages.geojson";
        assert_eq!(pick_in(Lang::Zh, m), "读取 demo/villages.geojson 失败");
        let m = "towns: 没有乡镇「火星镇」/ no township '火星镇'";
        assert_eq!(pick_in(Lang::Zh, m), "towns: 没有乡镇「火星镇」");
        assert_eq!(pick_in(Lang::En, m), "no township '火星镇'");
        // No split: the whole text.
        assert_eq!(pick_in(Lang::En, "'a0': a3 or a4"), "'a0': a3 or a4");
    }

    #[test]
    fn error_lines_keep_their_field() {
        let m = "错误 error (zone): 方案中没有片区 Z9 / no zone Z9";
        assert_eq!(line_in(Lang::Zh, m), "错误 (zone): 方案中没有片区 Z9");
        assert_eq!(line_in(Lang::En, m), "error (zone): no zone Z9");
        assert_eq!(
            line_in(Lang::En, "错误 error: 文件不存在 / no file"),
            "error: no file"
        );
        assert_eq!(line_in(Lang::Both, m), m);
    }

    #[test]
    fn the_environment_chooses_unless_told() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Lang::from_vars(env(&[("LANG", "zh_CN.UTF-8")])), Lang::Zh);
        assert_eq!(Lang::from_vars(env(&[("LANG", "en_US.UTF-8")])), Lang::En);
        assert_eq!(Lang::from_vars(env(&[("LANG", "C.UTF-8")])), Lang::Both);
        assert_eq!(Lang::from_vars(env(&[])), Lang::Both);
        assert_eq!(
            Lang::from_vars(env(&[("LC_ALL", "en_GB"), ("LANG", "zh_CN")])),
            Lang::En,
            "LC_ALL before LANG"
        );
        assert_eq!(
            Lang::from_vars(env(&[("LIANCUN_LANG", "zh"), ("LC_ALL", "en_GB")])),
            Lang::Zh
        );
    }
}
