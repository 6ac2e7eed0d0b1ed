//! German collation (DIN 5007-1: Ä sorts with A, ß with ss) and index letters for A–Z jump bars.
//!
//! [`GermanCollator`] wraps an ICU4X collator for locale `de` built from the
//! compiled (baked) data, so construction needs no I/O. The default German
//! tailoring *is* DIN 5007-1 ("dictionary" order: umlauts are secondary
//! variants of their base letters, ß is a secondary variant of "ss");
//! DIN 5007-2 ("phone book", Ä = AE) would be `de-u-co-phonebk` and is not used.
//!
//! Strength is set to `Identical`: strings that are not canonically
//! equivalent never compare `Equal` (e.g. `"a\u{200B}b"` vs `"ab"`), which
//! makes sorting deterministic regardless of input order. Canonically
//! equivalent strings (NFC vs NFD) still compare `Equal`.

use std::cmp::Ordering;

use icu_collator::options::{CollatorOptions, Strength};
use icu_collator::{Collator, CollatorBorrowed, CollatorPreferences};
use icu_locale_core::locale;

/// German (DIN 5007-1) string comparison. `Send + Sync`, cheap to share
/// between rayon threads by reference.
#[derive(Debug)]
pub(crate) struct GermanCollator {
    inner: Inner,
    /// Sort keys computed so far: the dev server sorts the same titles on every run.
    keys: std::sync::Mutex<crate::hash::HashMap<String, Vec<u8>>>,
}

/// Beyond this many cached keys the cache starts afresh (a long preview session).
const MAX_CACHED_KEYS: usize = 200_000;

#[derive(Debug)]
enum Inner {
    /// ICU4X collator from compiled data (`de`, or root as a fallback).
    Icu(CollatorBorrowed<'static>),
    /// Last-resort fallback if ICU data could not be loaded at all.
    Simple,
}

impl GermanCollator {
    /// German collator from compiled data. Never panics: falls back to the
    /// root collation, and if even that fails, to a simple folded comparison.
    pub(crate) fn new() -> Self {
        let mut options = CollatorOptions::default();
        options.strength = Some(Strength::Identical);

        let inner = match Collator::try_new(locale!("de").into(), options) {
            Ok(c) => Inner::Icu(c),
            Err(_) => match Collator::try_new(CollatorPreferences::default(), options) {
                Ok(c) => Inner::Icu(c),
                Err(_) => Inner::Simple,
            },
        };
        Self {
            inner,
            keys: Default::default(),
        }
    }

    /// A byte string whose order is the collation order of `s`: compute it once per string and
    /// sort many times by plain byte comparison (far cheaper than [`Self::compare`]).
    pub(crate) fn sort_key(&self, s: &str) -> Vec<u8> {
        let lock = || {
            self.keys
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(k) = lock().get(s) {
            return k.clone();
        }
        let key = self.compute_key(s);
        let mut keys = lock();
        if keys.len() >= MAX_CACHED_KEYS {
            keys.clear();
        }
        keys.insert(s.to_string(), key.clone());
        key
    }

    fn compute_key(&self, s: &str) -> Vec<u8> {
        match &self.inner {
            Inner::Icu(c) => {
                let mut key = Vec::with_capacity(s.len() * 3);
                match c.write_sort_key_to(s, &mut key) {
                    Ok(()) => key,
                    Err(_) => simple_key(s),
                }
            }
            Inner::Simple => simple_key(s),
        }
    }

    /// Compares `a` and `b` in German dictionary order. A total order;
    /// `Equal` only for canonically equivalent strings.
    pub(crate) fn compare(&self, a: &str, b: &str) -> Ordering {
        match &self.inner {
            Inner::Icu(c) => c.compare(a, b),
            Inner::Simple => simple_compare(a, b),
        }
    }
}

impl Default for GermanCollator {
    fn default() -> Self {
        Self::new()
    }
}

/// Fallback comparison: DIN-5007-1-like folded key (umlauts → base letter,
/// ß → ss, case-insensitive), then the NFC string as a tiebreak so the result
/// is still a total order consistent with canonical equivalence.
fn simple_compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (crate::slug::nfc(a), crate::slug::nfc(b));
    fold_key(&a).cmp(&fold_key(&b)).then_with(|| a.cmp(&b))
}

/// Sort key of the fallback comparison: folded key, a separator, then the NFC string.
fn simple_key(s: &str) -> Vec<u8> {
    let nfc = crate::slug::nfc(s);
    let mut key = fold_key(&nfc).into_bytes();
    key.push(0);
    key.extend_from_slice(nfc.as_bytes());
    key
}

fn fold_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch.is_ascii() {
            out.push(ch.to_ascii_lowercase());
        } else if ch.is_alphanumeric() {
            match deunicode::deunicode_char(ch) {
                Some(t) => out.extend(t.chars().map(|c| c.to_ascii_lowercase())),
                None => out.extend(ch.to_lowercase()),
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// Index letter of a term for grouping: the first alphanumeric character's base letter, uppercased,
/// umlauts folded (Ä/ä→"A", Ö→"O", Ü→"U", ß→"S", É→"E", via deunicode of that char); digits and anything else → "#".
pub(crate) fn index_letter(s: &str) -> String {
    let normalized = crate::slug::nfc(s);
    let first = normalized.chars().find(|c| c.is_alphanumeric());
    let letter = first.and_then(|c| {
        if c.is_ascii() {
            Some(c)
        } else {
            deunicode::deunicode_char(c).and_then(|t| t.trim_start().chars().next())
        }
    });
    match letter {
        Some(c) if c.is_ascii_alphabetic() => c.to_ascii_uppercase().to_string(),
        _ => "#".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use icu_normalizer::DecomposingNormalizerBorrowed;
    use proptest::prelude::*;

    fn assert_sync<T: Send + Sync>() {}

    #[test]
    fn german_collator_is_send_sync() {
        assert_sync::<GermanCollator>();
    }

    #[test]
    fn uses_icu_not_fallback() {
        assert!(matches!(GermanCollator::new().inner, Inner::Icu(_)));
    }

    fn nfd(s: &str) -> String {
        DecomposingNormalizerBorrowed::new_nfd()
            .normalize(s)
            .into_owned()
    }

    fn collators() -> [GermanCollator; 2] {
        [
            GermanCollator::new(),
            GermanCollator {
                inner: Inner::Simple,
                keys: Default::default(),
            },
        ]
    }

    fn sorted(c: &GermanCollator, words: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| c.compare(a, b));
        v
    }

    fn pos(v: &[String], w: &str) -> usize {
        v.iter().position(|x| x == w).unwrap()
    }

    const WORDS: [&str; 12] = [
        "Zukunft",
        "Äpfel",
        "Apfel",
        "Arbeitsamt",
        "Ärger",
        "Öl",
        "Ofen",
        "Übung",
        "Ufer",
        "Straße",
        "Strasse",
        "Strauß",
    ];

    #[test]
    fn din_5007_1_order() {
        for c in collators() {
            let v = sorted(&c, &WORDS);
            let (apfel, aepfel, arbeitsamt) =
                (pos(&v, "Apfel"), pos(&v, "Äpfel"), pos(&v, "Arbeitsamt"));
            assert_eq!(aepfel, apfel + 1, "{v:?}");
            assert!(aepfel < arbeitsamt, "{v:?}");
            assert!(pos(&v, "Ofen") < pos(&v, "Öl"), "{v:?}");
            // NB: DIN 5007-1 folds Ü to U, so "Übung" ~ "Ubung" < "Ufer"
            // (b < f). "Ufer < Übung" would contradict both DIN 5007-1 and -2.
            assert!(pos(&v, "Übung") < pos(&v, "Ufer"), "{v:?}");
            assert!(pos(&v, "Arbeitsamt") < pos(&v, "Ärger"), "{v:?}");
            assert_eq!(v.last().map(String::as_str), Some("Zukunft"), "{v:?}");
        }
    }

    #[test]
    fn exact_icu_order() {
        let v = sorted(&GermanCollator::new(), &WORDS);
        assert_eq!(
            v,
            [
                "Apfel",
                "Äpfel",
                "Arbeitsamt",
                "Ärger",
                "Ofen",
                "Öl",
                "Strasse",
                "Straße",
                "Strauß",
                "Übung",
                "Ufer",
                "Zukunft",
            ]
        );
    }

    #[test]
    fn umlaut_sorts_right_after_base_letter_on_tie() {
        for c in collators() {
            assert_eq!(c.compare("Ubung", "Übung"), Ordering::Less);
            assert_eq!(c.compare("Übung", "Ubungen"), Ordering::Less);
            assert_eq!(c.compare("Mull", "Müll"), Ordering::Less);
            assert_eq!(c.compare("Müll", "Mulm"), Ordering::Less);
            assert_eq!(c.compare("Ofen", "Öfen"), Ordering::Less);
        }
    }

    #[test]
    fn sharp_s_sorts_as_ss() {
        let c = GermanCollator::new();
        // ß is a (tertiary) variant of "ss": adjacent to Strasse, before Strauß.
        assert_eq!(c.compare("Strasse", "Straße"), Ordering::Less);
        assert_eq!(c.compare("Straße", "Strassf"), Ordering::Less);
        assert_eq!(c.compare("Straße", "Strauß"), Ordering::Less);
        assert_eq!(c.compare("Maß", "Masse"), Ordering::Less);
    }

    #[test]
    fn nfc_nfd_equal() {
        for c in collators() {
            for w in WORDS {
                assert_eq!(c.compare(w, &nfd(w)), Ordering::Equal, "{w}");
            }
            assert_eq!(c.compare("a\u{308}", "ä"), Ordering::Equal);
        }
    }

    #[test]
    fn distinct_strings_not_equal() {
        let c = GermanCollator::new();
        assert_ne!(c.compare("ab", "a\u{200B}b"), Ordering::Equal);
        assert_ne!(c.compare("apfel", "Apfel"), Ordering::Equal);
    }

    #[test]
    fn index_letters() {
        assert_eq!(index_letter("Ärger"), "A");
        assert_eq!(index_letter("äpfel"), "A");
        assert_eq!(index_letter("Öl"), "O");
        assert_eq!(index_letter("Übung"), "U");
        assert_eq!(index_letter("ßdeutsch"), "S");
        assert_eq!(index_letter("ẞ"), "S");
        assert_eq!(index_letter("2000 Stellen"), "#");
        assert_eq!(index_letter("  éclair"), "E");
        assert_eq!(index_letter("É"), "E");
        assert_eq!(index_letter("„Zitat“"), "Z");
        assert_eq!(index_letter("§ 18a BSHG"), "#");
        assert_eq!(index_letter("(Jugend)hilfe"), "J");
        assert_eq!(index_letter(""), "#");
        assert_eq!(index_letter("!!!"), "#");
        assert_eq!(index_letter("a\u{308}rger"), "A");
        assert_eq!(index_letter("zukunft"), "Z");
    }

    fn german_word() -> impl Strategy<Value = String> {
        let chars: Vec<char> = "aabcdeefghiklmnnoprssttuuzAÄBOÖSUÜZäöüßẞé -"
            .chars()
            .collect();
        prop::collection::vec(prop::sample::select(chars), 0..8)
            .prop_map(|v| v.into_iter().collect())
    }

    fn any_form() -> impl Strategy<Value = String> {
        (german_word(), any::<bool>()).prop_map(|(s, d)| if d { nfd(&s) } else { s })
    }

    proptest! {
        #[test]
        fn prop_sort_keys_order_like_compare(a in any_form(), b in any_form()) {
            for c in collators() {
                prop_assert_eq!(c.sort_key(&a).cmp(&c.sort_key(&b)), c.compare(&a, &b));
            }
        }

        #[test]
        fn prop_reflexive(a in any_form()) {
            for c in collators() {
                prop_assert_eq!(c.compare(&a, &a), Ordering::Equal);
            }
        }

        #[test]
        fn prop_antisymmetric(a in any_form(), b in any_form()) {
            for c in collators() {
                prop_assert_eq!(c.compare(&a, &b), c.compare(&b, &a).reverse());
            }
        }

        #[test]
        fn prop_transitive(a in any_form(), b in any_form(), d in any_form()) {
            for c in collators() {
                let mut v = [a.clone(), b.clone(), d.clone()];
                v.sort_by(|x, y| c.compare(x, y));
                prop_assert!(c.compare(&v[0], &v[1]) != Ordering::Greater);
                prop_assert!(c.compare(&v[1], &v[2]) != Ordering::Greater);
                prop_assert!(c.compare(&v[0], &v[2]) != Ordering::Greater);
                // Equal is an equivalence relation.
                if c.compare(&v[0], &v[1]) == Ordering::Equal
                    && c.compare(&v[1], &v[2]) == Ordering::Equal
                {
                    prop_assert_eq!(c.compare(&v[0], &v[2]), Ordering::Equal);
                }
            }
        }

        #[test]
        fn prop_nfc_nfd_equal(s in german_word()) {
            for c in collators() {
                prop_assert_eq!(c.compare(&s, &nfd(&s)), Ordering::Equal);
            }
        }

        #[test]
        fn prop_equal_iff_canonically_equivalent(a in any_form(), b in any_form()) {
            let c = GermanCollator::new();
            let equal = c.compare(&a, &b) == Ordering::Equal;
            prop_assert_eq!(equal, crate::slug::nfc(&a) == crate::slug::nfc(&b));
        }

        #[test]
        fn prop_sort_independent_of_input_order(
            words in prop::collection::vec(german_word(), 0..30),
            seed in any::<u64>(),
        ) {
            for c in collators() {
                let mut a = words.clone();
                // Deterministic shuffle of a copy.
                let mut b = words.clone();
                let mut x = seed | 1;
                for i in (1..b.len()).rev() {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b.swap(i, (x % (i as u64 + 1)) as usize);
                }
                b.reverse();
                a.sort_by(|x, y| c.compare(x, y));
                b.sort_by(|x, y| c.compare(x, y));
                prop_assert_eq!(a, b);
            }
        }

        #[test]
        fn prop_index_letter_shape(s in any::<String>()) {
            let l = index_letter(&s);
            prop_assert!(l == "#" || (l.len() == 1 && l.as_bytes()[0].is_ascii_uppercase()), "{:?}", l);
        }
    }
}
