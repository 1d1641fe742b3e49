//! The semantics of the table, written once: number normalisation and comparison, condition
//! evaluation, update application and item size. The embedded adapter evaluates with these; the
//! shared validation uses them so both adapters refuse the same requests.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::model::{Change, CmpOp, Cond, Item, Key, StoreError, StoreResult, Value};

/// DynamoDB's maximum item size (400 KB).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// DynamoDB keeps 38 significant digits.
const MAX_DIGITS: usize = 38;

/// A number in canonical decimal form: sign, integer digits without leading zeros, fraction
/// digits without trailing zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    int: String,
    frac: String,
}

impl Decimal {
    fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], rest[at + 1..].parse::<i32>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Shift the decimal point by the exponent.
        let digits: String = format!("{int}{frac}");
        let point = i64::try_from(int.len()).ok()? + i64::from(exponent);
        let (int, frac) = if point <= 0 {
            let zeros = usize::try_from(-point).ok()?;
            if zeros > 200 {
                return None;
            }
            (String::new(), format!("{}{digits}", "0".repeat(zeros)))
        } else {
            let point = usize::try_from(point).ok()?;
            if point > digits.len() {
                if point - digits.len() > 200 {
                    return None;
                }
                (
                    format!("{digits}{}", "0".repeat(point - digits.len())),
                    String::new(),
                )
            } else {
                (digits[..point].to_owned(), digits[point..].to_owned())
            }
        };
        let int = int.trim_start_matches('0').to_owned();
        let frac = frac.trim_end_matches('0').to_owned();
        let zero = int.is_empty() && frac.is_empty();
        let significant = format!("{int}{frac}");
        let significant = significant.trim_start_matches('0').trim_end_matches('0');
        if significant.len() > MAX_DIGITS {
            return None;
        }
        Some(Decimal {
            negative: negative && !zero,
            int,
            frac,
        })
    }

    fn to_text(&self) -> String {
        let sign = if self.negative { "-" } else { "" };
        let int = if self.int.is_empty() { "0" } else { &self.int };
        if self.frac.is_empty() {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{}", self.frac)
        }
    }

    fn cmp_magnitude(&self, other: &Decimal) -> Ordering {
        self.int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(&other.int))
            .then_with(|| self.frac.cmp(&other.frac))
    }

    fn cmp(&self, other: &Decimal) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }

    /// As an integer scaled by 10^scale, if it fits.
    fn scaled(&self, scale: usize) -> Option<i128> {
        let frac = format!("{:0<scale$}", self.frac, scale = scale);
        let digits = format!("{}{}", self.int, frac);
        let magnitude: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        Some(if self.negative { -magnitude } else { magnitude })
    }
}

/// The canonical text of a DynamoDB number (`"007.50"` becomes `"7.5"`), or `None` when it is
/// not a number DynamoDB would accept.
pub fn normalize_number(text: &str) -> Option<String> {
    Decimal::parse(text).map(|d| d.to_text())
}

/// Whether `text` is already the canonical text of an integer (`"42"`, `"-7"`, `"0"`): most
/// numbers stored (times, amounts in minor units, counts), which a put then keeps as they are
/// without a parse.
pub fn is_canonical_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let zero = digits == "0";
    !digits.is_empty()
        && digits.len() <= MAX_DIGITS
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (!digits.starts_with('0') || (zero && digits.len() == text.len()))
}

/// Numeric comparison of two canonical number texts.
fn cmp_numbers(a: &str, b: &str) -> Option<Ordering> {
    Some(Decimal::parse(a)?.cmp(&Decimal::parse(b)?))
}

/// `current + increment` for an atomic ADD; a missing attribute counts as zero.
pub fn add_number(current: Option<&str>, increment: i64) -> StoreResult<String> {
    let current = match current {
        Some(text) => {
            Decimal::parse(text).ok_or_else(|| StoreError::invalid("ADD on a malformed number"))?
        }
        None => Decimal {
            negative: false,
            int: String::new(),
            frac: String::new(),
        },
    };
    let scale = current.frac.len();
    let overflow = || StoreError::invalid("ADD result out of range");
    let base = current.scaled(scale).ok_or_else(overflow)?;
    let step = i128::from(increment)
        .checked_mul(
            10i128
                .checked_pow(u32::try_from(scale).map_err(|_| overflow())?)
                .ok_or_else(overflow)?,
        )
        .ok_or_else(overflow)?;
    let sum = base.checked_add(step).ok_or_else(overflow)?;
    let magnitude = sum.unsigned_abs().to_string();
    let text = if scale == 0 {
        magnitude
    } else {
        let padded = format!("{magnitude:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{int}.{frac}")
    };
    let signed = if sum < 0 { format!("-{text}") } else { text };
    normalize_number(&signed).ok_or_else(overflow)
}

/// Equality as DynamoDB sees it: same type and same value (numbers compared numerically).
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::N(x), Value::N(y)) => cmp_numbers(x, y) == Some(Ordering::Equal),
        (Value::M(x), Value::M(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        (Value::L(x), Value::L(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| values_equal(v, w))
        }
        (Value::Ss(x), Value::Ss(y)) => same_set(x, y),
        (Value::Bs(x), Value::Bs(y)) => same_set(x, y),
        (Value::Ns(x), Value::Ns(y)) => {
            let norm = |v: &Vec<String>| {
                v.iter()
                    .filter_map(|t| normalize_number(t))
                    .collect::<Vec<_>>()
            };
            same_set(&norm(x), &norm(y))
        }
        _ => a == b,
    }
}

fn same_set<T: Ord + Clone>(a: &[T], b: &[T]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    b.sort();
    a == b
}

/// The ordering of two values of the same ordered type (N, S, B); `None` otherwise.
pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::N(x), Value::N(y)) => cmp_numbers(x, y),
        (Value::S(x), Value::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::B(x), Value::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn compare(actual: &Value, op: CmpOp, expected: &Value) -> bool {
    if op == CmpOp::Eq {
        return values_equal(actual, expected);
    }
    match order(actual, expected) {
        Some(ordering) => match op {
            CmpOp::Lt => ordering == Ordering::Less,
            CmpOp::Le => ordering != Ordering::Greater,
            CmpOp::Gt => ordering == Ordering::Greater,
            CmpOp::Ge => ordering != Ordering::Less,
            CmpOp::Eq => ordering == Ordering::Equal,
        },
        None => false,
    }
}

/// Evaluates a condition on the visible item (`None` when absent or expired).
pub fn holds(cond: &Cond, item: Option<&Item>) -> bool {
    let attr = |name: &str| item.and_then(|i| i.get(name));
    match cond {
        Cond::Exists => item.is_some(),
        Cond::NotExists => item.is_none(),
        Cond::AttrExists(name) => attr(name).is_some(),
        Cond::AttrNotExists(name) => attr(name).is_none(),
        Cond::Cmp(name, op, value) => attr(name).is_some_and(|actual| compare(actual, *op, value)),
        Cond::BeginsWith(name, prefix) => {
            matches!(attr(name), Some(Value::S(text)) if text.starts_with(prefix.as_str()))
        }
        Cond::And(all) => all.iter().all(|c| holds(c, item)),
        Cond::Or(any) => any.iter().any(|c| holds(c, item)),
        Cond::Not(inner) => !holds(inner, item),
    }
}

/// The first whole epoch second at which an item counts as expired (its TTL rounded up, so
/// `expiry <= now` exactly when `ttl <= now`), if its TTL attribute is a number.
pub fn expiry(item: &Item, ttl_attribute: &str) -> Option<i64> {
    match item.get(ttl_attribute) {
        Some(Value::N(text)) => {
            let decimal = Decimal::parse(text)?;
            let round_up = !decimal.negative && !decimal.frac.is_empty();
            let whole = Decimal {
                frac: String::new(),
                ..decimal
            };
            let whole = whole.scaled(0).and_then(|v| i64::try_from(v).ok())?;
            Some(if round_up {
                whole.checked_add(1)?
            } else {
                whole
            })
        }
        _ => None,
    }
}

/// True when the item's TTL has passed at `now` (epoch seconds).
pub fn is_expired(item: &Item, ttl_attribute: &str, now: i64) -> bool {
    expiry(item, ttl_attribute).is_some_and(|at| at <= now)
}

/// Applies an update's changes to the visible item (or a fresh item with only the key).
pub fn apply_changes(
    current: Option<Item>,
    key: &Key,
    key_attrs: (&str, &str),
    changes: &[Change],
) -> StoreResult<Item> {
    let mut item = current.unwrap_or_else(|| {
        Item::from(HashMap::from([
            (key_attrs.0.to_owned(), Value::S(key.pk.clone())),
            (key_attrs.1.to_owned(), Value::S(key.sk.clone())),
        ]))
    });
    for change in changes {
        match change {
            Change::Set(name, value) => {
                item.insert(name.clone(), value.clone());
            }
            Change::Remove(name) => {
                item.remove(name);
            }
            Change::Add(name, increment) => {
                let current = match item.get(name) {
                    None => None,
                    Some(Value::N(text)) => Some(text.as_str()),
                    Some(_) => {
                        return Err(StoreError::invalid(format!(
                            "ADD on non-number attribute {name}"
                        )));
                    }
                };
                let sum = add_number(current, *increment)?;
                item.insert(name.clone(), Value::N(sum));
            }
        }
    }
    Ok(item)
}

/// The size of an item by DynamoDB's rules: names plus values, numbers about one byte per two
/// digits plus one, one byte for booleans and nulls, three bytes plus one per element for
/// documents.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::S(s) => s.len(),
        Value::N(n) => number_size(n),
        Value::B(b) => b.len(),
        Value::Bool(_) | Value::Null(_) => 1,
        Value::M(m) => {
            3 + m
                .iter()
                .map(|(k, v)| k.len() + value_size(v) + 1)
                .sum::<usize>()
        }
        Value::L(l) => 3 + l.iter().map(|v| value_size(v) + 1).sum::<usize>(),
        Value::Ss(v) => v.iter().map(String::len).sum(),
        Value::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        Value::Bs(v) => v.iter().map(Vec::len).sum(),
    }
}

fn number_size(text: &str) -> usize {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{n, s};
    use proptest::prelude::*;

    #[test]
    fn numbers_are_normalised_like_dynamodb_does() {
        for (input, canonical) in [
            ("0", "0"),
            ("-0", "0"),
            ("007", "7"),
            ("7.50", "7.5"),
            ("+3", "3"),
            ("-0.000", "0"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1e3", "1000"),
            ("1.5E-2", "0.015"),
            ("-12.3400e1", "-123.4"),
        ] {
            assert_eq!(
                normalize_number(input).as_deref(),
                Some(canonical),
                "{input}"
            );
        }
        for bad in [
            "", "-", ".", "1.2.3", "abc", "1e", "0x10", " 1", "1 ", "NaN", "Infinity",
        ] {
            assert_eq!(normalize_number(bad), None, "{bad:?}");
        }
        let too_precise = "1".repeat(39);
        assert_eq!(normalize_number(&too_precise), None);
        assert!(normalize_number(&"1".repeat(38)).is_some());
    }

    #[test]
    fn numbers_compare_by_value_not_by_text() {
        assert!(compare(&n(10), CmpOp::Gt, &n(9)));
        assert!(compare(&n(-10), CmpOp::Lt, &n(-9)));
        assert!(compare(&Value::N("2.5".into()), CmpOp::Lt, &n(3)));
        assert!(compare(
            &Value::N("2.50".into()),
            CmpOp::Eq,
            &Value::N("2.5".into())
        ));
        assert!(
            !compare(&n(1), CmpOp::Eq, &s("1")),
            "types never compare equal"
        );
        assert!(!compare(&n(1), CmpOp::Lt, &s("2")), "types never order");
        assert!(compare(&s("b"), CmpOp::Gt, &s("a")));
        assert!(
            compare(&s("é"), CmpOp::Gt, &s("z")),
            "strings order by UTF-8 bytes"
        );
    }

    #[test]
    fn conditions_on_a_missing_item() {
        let absent: Option<&Item> = None;
        for cond in [
            Cond::NotExists,
            Cond::AttrNotExists("x".into()),
            Cond::Not(Box::new(Cond::eq("v", n(1)))),
            Cond::Or(vec![Cond::Exists, Cond::NotExists]),
        ] {
            assert!(holds(&cond, absent), "{cond:?}");
            assert!(cond.holds_for_absent(), "{cond:?}");
        }
        for cond in [
            Cond::Exists,
            Cond::AttrExists("x".into()),
            Cond::eq("v", n(1)),
            Cond::BeginsWith("s".into(), "a".into()),
            Cond::And(vec![Cond::NotExists, Cond::Exists]),
        ] {
            assert!(!holds(&cond, absent), "{cond:?}");
            assert!(!cond.holds_for_absent(), "{cond:?}");
        }
    }

    #[test]
    fn adds_are_exact() {
        assert_eq!(add_number(None, 5).unwrap(), "5");
        assert_eq!(add_number(Some("5"), -7).unwrap(), "-2");
        assert_eq!(add_number(Some("1.25"), 1).unwrap(), "2.25");
        assert_eq!(add_number(Some("-0.5"), 1).unwrap(), "0.5");
        assert_eq!(add_number(Some("-1.5"), 1).unwrap(), "-0.5");
        // 38 significant digits plus a carry is 39: more precision than DynamoDB keeps.
        assert!(add_number(Some(&format!("{}.5", "9".repeat(37))), 1).is_err());
        assert_eq!(
            add_number(Some(&"9".repeat(38)), 1).unwrap(),
            format!("1{}", "0".repeat(38))
        );
    }

    #[test]
    fn expiry_reads_numbers_only() {
        let item = Item::from(HashMap::from([(
            "expires_at".to_owned(),
            Value::N("100.7".into()),
        )]));
        assert_eq!(expiry(&item, "expires_at"), Some(101));
        assert!(is_expired(&item, "expires_at", 101));
        assert!(
            !is_expired(&item, "expires_at", 100),
            "100.7 <= 100 is false, as on DynamoDB"
        );
        let negative = Item::from(HashMap::from([(
            "expires_at".to_owned(),
            Value::N("-1.5".into()),
        )]));
        assert_eq!(expiry(&negative, "expires_at"), Some(-1));
        let text = Item::from(HashMap::from([("expires_at".to_owned(), s("100"))]));
        assert_eq!(expiry(&text, "expires_at"), None);
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent_and_preserves_order(a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000, scale in 0u32..6) {
            let text = |v: i64| {
                let div = 10i64.pow(scale);
                let sign = if v < 0 { "-" } else { "" };
                format!("{sign}{}.{:0width$}", v.unsigned_abs() / div.unsigned_abs(), v.unsigned_abs() % div.unsigned_abs(), width = scale as usize)
            };
            let (ta, tb) = (text(a), text(b));
            let na = normalize_number(&ta).unwrap();
            prop_assert_eq!(normalize_number(&na).unwrap(), na.clone());
            prop_assert_eq!(cmp_numbers(&ta, &tb).unwrap(), a.cmp(&b));
        }

        #[test]
        fn add_matches_integer_arithmetic(a in any::<i64>().prop_map(|v| v / 4), b in any::<i64>().prop_map(|v| v / 4)) {
            let sum = add_number(Some(&a.to_string()), b).unwrap();
            prop_assert_eq!(sum, (i128::from(a) + i128::from(b)).to_string());
        }

        #[test]
        fn the_number_parser_never_panics(text in ".{0,50}") {
            let _ = normalize_number(&text);
        }

        /// The shortcut takes integers of up to 38 digits as they are, and only what the parse
        /// would give unchanged (not signs, leading zeros, or too many digits).
        #[test]
        fn canonical_integers_are_what_the_parse_gives(int in any::<i128>(), text in "[-+]?0{0,2}[0-9]{0,40}") {
            let int = int % 10i128.pow(38);
            prop_assert!(is_canonical_integer(&int.to_string()), "{}", int);
            for text in [int.to_string(), text] {
                let parsed = Decimal::parse(&text).map(|d| d.to_text());
                prop_assert!(!is_canonical_integer(&text) || parsed.as_deref() == Some(text.as_str()), "{}", text);
            }
        }
    }
}
