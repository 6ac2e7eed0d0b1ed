//! The engine's own Tera filters and functions, and the money formatting they share with the
//! views (`money_json`). The escapers they use are in [`crate::escape`].

use std::collections::HashMap;

use serde_json::{json, Value};
use tera::Tera;

use crate::config::Settings;
use crate::escape;

/// DM per euro, fixed on 31 December 1998.
const DM_PER_EUR_MILLIONTHS: i128 = 1_955_830;

/// Formats cents in German notation: 111500000 → "1.115.000,00".
pub(crate) fn format_de(cents: i64) -> String {
    let neg = cents < 0;
    let c = cents.unsigned_abs();
    let units = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    format!("{}{grouped},{:02}", if neg { "-" } else { "" }, c % 100)
}

/// DM cents → euro cents at the fixed rate, rounded half away from zero.
pub(crate) fn dm_to_euro_cents(dm_cents: i64) -> i64 {
    let n = i128::from(dm_cents) * 1_000_000;
    let q = (n.abs() + DM_PER_EUR_MILLIONTHS / 2) / DM_PER_EUR_MILLIONTHS;
    let q = i64::try_from(q).unwrap_or(i64::MAX);
    if dm_cents < 0 {
        -q
    } else {
        q
    }
}

/// The engine's own filters and functions.
pub(super) fn register_engine(tera: &mut Tera, settings: &Settings) {
    let base = settings.base_url.clone();
    tera.register_function(
        "url",
        move |args: &HashMap<String, Value>| -> tera::Result<Value> {
            let path = args
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| tera::Error::msg("url() needs path=\"/…\""))?;
            Ok(json!(format!("{base}{}", path.trim_start_matches('/'))))
        },
    );
    tera.register_filter("money_de", |v: &Value, args: &HashMap<String, Value>| {
        let cents = v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f.round() as i64))
            .ok_or_else(|| tera::Error::msg("money_de expects an amount in cents"))?;
        let currency = args.get("currency").and_then(Value::as_str).unwrap_or("");
        let s = format_de(cents);
        Ok(json!(if currency.is_empty() {
            s
        } else {
            format!("{s} {currency}")
        }))
    });
    // Cents as a plain decimal ("1115000.00"), for machine-readable outputs.
    tera.register_filter("decimal", |v: &Value, _: &HashMap<String, Value>| {
        let cents = v
            .as_i64()
            .ok_or_else(|| tera::Error::msg("decimal expects an amount in cents"))?;
        let sign = if cents < 0 { "-" } else { "" };
        let c = cents.unsigned_abs();
        Ok(json!(format!("{sign}{}.{:02}", c / 100, c % 100)))
    });
    // RFC 4180 field: always quoted, inner quotes doubled; for open-data CSV templates.
    tera.register_filter("csv", |v: &Value, _: &HashMap<String, Value>| {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        Ok(json!(escape::csv_field(&s)))
    });
    // A string inside a CSS string literal in a `<style>` element (e.g. the base URL).
    tera.register_filter("css_string", |v: &Value, _: &HashMap<String, Value>| {
        let s = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        Ok(json!(escape::css_string(&s)))
    });
    tera.register_filter("euro_de", |v: &Value, _: &HashMap<String, Value>| {
        let cents = v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f.round() as i64))
            .ok_or_else(|| tera::Error::msg("euro_de expects an amount in DM cents"))?;
        Ok(json!(format!("{} €", format_de(dm_to_euro_cents(cents)))))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_money_format() {
        assert_eq!(format_de(111_500_000), "1.115.000,00");
        assert_eq!(format_de(14_400_000), "144.000,00");
        assert_eq!(format_de(5), "0,05");
        assert_eq!(format_de(-123_456), "-1.234,56");
    }

    #[test]
    fn dm_to_euro_uses_the_fixed_rate() {
        // 1.95583 DM = 1 EUR
        assert_eq!(dm_to_euro_cents(195_583), 100_000);
        // 1.115.000,00 DM = 570.090,45 EUR (1115000 / 1.95583 = 570090.4475…)
        assert_eq!(dm_to_euro_cents(111_500_000), 57_009_045);
        assert_eq!(dm_to_euro_cents(-195_583), -100_000);
    }
}
