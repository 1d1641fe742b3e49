//! Pricing an order on the server: every line from the menu as it is now, with the customer's
//! modifiers and combo choices checked; what the client says a price is never matters.

use std::collections::{BTreeMap, HashMap};

use fanorder_menus::model::{Combo, ComboId, ItemId, MenuItem, OptionId};
use fanorder_platform::FieldError;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::model::{ComboPart, Line};

/// The most lines one order may have.
pub const MAX_LINES: usize = 50;
/// The most of one line.
pub const MAX_QUANTITY: u32 = 99;

/// A requested line, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// An item with options.
    Item {
        /// The item.
        item: ItemId,
        /// How many.
        quantity: u32,
        /// Chosen modifier options.
        options: Vec<OptionId>,
    },
    /// A combo with one item per choice component.
    Combo {
        /// The combo.
        combo: ComboId,
        /// How many.
        quantity: u32,
        /// Chosen items, one per choice component, in order.
        choices: Vec<ItemId>,
    },
}

/// The menu entries an order needs.
#[derive(Debug, Default)]
pub struct MenuSnapshot {
    /// Items by id (for item lines and combo parts).
    pub items: HashMap<ItemId, MenuItem>,
    /// Combos by id.
    pub combos: HashMap<ComboId, Combo>,
}

/// A priced order.
#[derive(Debug, Clone, PartialEq)]
pub struct Priced {
    /// The lines as sold.
    pub lines: Vec<Line>,
    /// Their sum.
    pub subtotal: i64,
    /// Stock to take per tracked item.
    pub stock: Vec<(ItemId, i64)>,
}

fn unavailable(field: String) -> FieldError {
    FieldError::new(field, "is not on the menu now")
}

/// Prices the lines against the menu at `now` in the restaurant's time zone. Errors name the
/// line and field (`lines[2].modifiers`).
pub fn price(
    wanted: &[Wanted],
    menu: &MenuSnapshot,
    now: Timestamp,
    tz: &TimeZone,
) -> Result<Priced, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut lines = Vec::with_capacity(wanted.len());
    let mut stock: BTreeMap<ItemId, i64> = BTreeMap::new();
    let mut take = |item: &MenuItem, quantity: i64| {
        if item.stock.is_some() {
            *stock.entry(item.id).or_default() += quantity;
        }
    };
    for (i, line) in wanted.iter().enumerate() {
        match line {
            Wanted::Item {
                item,
                quantity,
                options,
            } => {
                let Some(found) = menu.items.get(item).filter(|it| it.available_at(now, tz)) else {
                    errors.push(unavailable(format!("lines[{i}].item_id")));
                    continue;
                };
                match found.price_with(options) {
                    Ok(priced) => {
                        let Some(total) = priced.unit_price.checked_mul(i64::from(*quantity))
                        else {
                            errors.push(FieldError::new(
                                format!("lines[{i}].quantity"),
                                "makes the price too large",
                            ));
                            continue;
                        };
                        take(found, i64::from(*quantity));
                        lines.push(Line {
                            item_id: Some(found.id),
                            combo_id: None,
                            name: found.name.clone(),
                            quantity: *quantity,
                            unit_price: priced.unit_price,
                            modifiers: priced.modifiers,
                            components: Vec::new(),
                            line_total: total,
                        });
                    }
                    Err(err) => errors.push(FieldError::new(
                        format!("lines[{i}].modifiers"),
                        err.to_string(),
                    )),
                }
            }
            Wanted::Combo {
                combo,
                quantity,
                choices,
            } => {
                let Some(found) = menu.combos.get(combo).filter(|c| c.available_at(now, tz)) else {
                    errors.push(unavailable(format!("lines[{i}].combo_id")));
                    continue;
                };
                let parts = match found.resolve(choices) {
                    Ok(parts) => parts,
                    Err(err) => {
                        errors.push(FieldError::new(
                            format!("lines[{i}].choices"),
                            err.to_string(),
                        ));
                        continue;
                    }
                };
                let mut components = Vec::with_capacity(parts.len());
                let mut ok = true;
                for (item_id, per_combo) in parts {
                    match menu
                        .items
                        .get(&item_id)
                        .filter(|it| it.available_at(now, tz))
                    {
                        Some(item) => {
                            take(item, i64::from(per_combo) * i64::from(*quantity));
                            components.push(ComboPart {
                                item_id,
                                name: item.name.clone(),
                                quantity: per_combo,
                            });
                        }
                        None => {
                            errors.push(FieldError::new(
                                format!("lines[{i}].choices"),
                                "a part of this combo is not on the menu now",
                            ));
                            ok = false;
                            break;
                        }
                    }
                }
                let Some(total) = found.price.checked_mul(i64::from(*quantity)).filter(|_| ok)
                else {
                    continue;
                };
                lines.push(Line {
                    item_id: None,
                    combo_id: Some(found.id),
                    name: found.name.clone(),
                    quantity: *quantity,
                    unit_price: found.price,
                    modifiers: Vec::new(),
                    components,
                    line_total: total,
                });
            }
        }
    }
    let subtotal = lines
        .iter()
        .try_fold(0i64, |acc, l| acc.checked_add(l.line_total));
    match subtotal {
        None => errors.push(FieldError::new("lines", "the total is too large")),
        Some(_) if !errors.is_empty() => {}
        Some(subtotal) => {
            return Ok(Priced {
                lines,
                subtotal,
                stock: stock.into_iter().collect(),
            });
        }
    }
    Err(errors)
}
