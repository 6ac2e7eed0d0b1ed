//! The TOML equivalent of simple YAML front matter, for the hint of the error about it.
//! Only `key: value` lines and lists (flow `[a, b]` or `- item` lines) are converted; no YAML
//! parser is needed for that, and anything else is left to the editor.

/// Most lines of the converted front matter shown in a hint.
const MAX_LINES: usize = 20;

/// `+++`, the converted lines, `+++`; `None` when nothing could be converted.
pub(crate) fn to_toml(yaml: &str) -> Option<String> {
    let mut out: Vec<String> = Vec::new();
    let mut list: Option<(String, Vec<String>)> = None;
    let mut rest_by_hand = false;
    for line in yaml.lines() {
        let trimmed = line.trim();
        if let Some(item) = trimmed
            .strip_prefix("- ")
            .or((trimmed == "-").then_some(""))
        {
            match list.as_mut() {
                Some((_, items)) => items.push(string(item.trim())),
                None => rest_by_hand = true,
            }
            continue;
        }
        if let Some((key, items)) = list.take() {
            if items.is_empty() && line.starts_with([' ', '\t']) {
                // A nested mapping: beyond simple lines.
                rest_by_hand = true;
                continue;
            }
            out.push(flush(&key, &items));
        }
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            out.push(format!("#{comment}"));
            continue;
        }
        let converted = (!line.starts_with([' ', '\t']))
            .then(|| key_value(trimmed))
            .flatten();
        match converted {
            Some((key, None)) => list = Some((key, Vec::new())),
            Some((key, Some(value))) => out.push(format!("{key} = {value}")),
            None => rest_by_hand = true,
        }
    }
    if let Some((key, items)) = list {
        out.push(flush(&key, &items));
    }
    if out.is_empty() {
        return None;
    }
    out.truncate(MAX_LINES);
    if rest_by_hand || out.len() == MAX_LINES {
        out.push("# … (convert the rest by hand)".into());
    }
    Some(format!("+++\n{}\n+++", out.join("\n")))
}

/// A key whose value was on the following lines: a list, or nothing (an empty text).
fn flush(key: &str, items: &[String]) -> String {
    if items.is_empty() {
        format!("{key} = \"\"")
    } else {
        format!("{key} = [{}]", items.join(", "))
    }
}

/// `key: value` as (TOML key, TOML value); `None` as the value: a list follows on the next lines.
fn key_value(line: &str) -> Option<(String, Option<String>)> {
    let (key, value) = line.split_once(':')?;
    let key = key.trim();
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !bare {
        return None;
    }
    let value = value.trim();
    if value.is_empty() {
        return Some((key.to_string(), None));
    }
    Some((key.to_string(), Some(scalar_or_list(value))))
}

fn scalar_or_list(value: &str) -> String {
    if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        let items: Vec<String> = inner
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(string)
            .collect();
        return format!("[{}]", items.join(", "));
    }
    let is_date = value.len() == 10
        && value.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    let is_number = value.parse::<i64>().is_ok();
    if matches!(value, "true" | "false") || is_date || is_number {
        return value.to_string();
    }
    string(value)
}

/// A TOML basic string of a YAML scalar (quotes of either kind removed).
fn string(value: &str) -> String {
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|&q| value.strip_prefix(q).and_then(|v| v.strip_suffix(q)))
        .unwrap_or(value);
    let mut out = String::with_capacity(unquoted.len() + 2);
    out.push('"');
    for c in unquoted.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::to_toml;

    #[test]
    fn simple_lines_and_lists_are_converted() {
        let yaml = "title: Über uns\ndate: 2001-01-06\nweight: 3\ndraft: false\n\
                    suchworte: [EQUAL, \"ESF\"]\ntags:\n  - a\n  - 'b \"c\"'\n# Kommentar\n";
        assert_eq!(
            to_toml(yaml).as_deref(),
            Some(
                "+++\ntitle = \"Über uns\"\ndate = 2001-01-06\nweight = 3\ndraft = false\n\
                 suchworte = [\"EQUAL\", \"ESF\"]\ntags = [\"a\", \"b \\\"c\\\"\"]\n# Kommentar\n+++"
            )
        );
    }

    #[test]
    fn what_is_not_simple_is_left_to_the_editor() {
        assert_eq!(
            to_toml("title: A\nextra:\n  farbe: rot\n").as_deref(),
            Some("+++\ntitle = \"A\"\n# … (convert the rest by hand)\n+++")
        );
        assert_eq!(to_toml("- nur\n- eine Liste\n"), None);
    }
}
